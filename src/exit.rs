//! The exit codes users script against, and the only place that turns an error into one.
//!
//! Two error kinds carry their meaning up to `main`: [`BadInput`] (exit 2: nothing was sent) and
//! [`HookFailed`] (a registry outcome with its code). Anything else is an unexpected failure (1).

use std::fmt;

/// The documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// The hook did its job.
    Done = 0,
    /// The registry could not be updated: every peer refused, timed out or answered 5xx.
    RegistryFailed = 1,
    /// Bad input, rejected before any request.
    BadInput = 2,
    /// This instance is not registered on any peer.
    NotRegistered = 3,
    /// The registry refused the credentials (401/403).
    CredentialsRefused = 4,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

/// A flag, variable or file is wrong; the message names it and says what to fix.
#[derive(Debug)]
pub struct BadInput(String);

impl BadInput {
    pub fn new(message: impl Into<String>) -> Self {
        BadInput(message.into())
    }
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// The registry step did not succeed; `message` says what happened and what to do.
#[derive(Debug)]
pub struct HookFailed {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for HookFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HookFailed {}

/// The exit code for an error that reached `main`.
pub fn from_error(err: &anyhow::Error) -> Exit {
    if let Some(failed) = err.downcast_ref::<HookFailed>() {
        failed.exit
    } else if err.downcast_ref::<BadInput>().is_some() {
        Exit::BadInput
    } else {
        Exit::RegistryFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn errors_map_to_their_documented_codes() {
        let bad: anyhow::Error = BadInput::new("--port: out of range").into();
        assert_eq!(from_error(&bad), Exit::BadInput);

        let io_with_bad_input_context = std::fs::read("/nonexistent/file")
            .context(BadInput::new("--cacert: cannot read"))
            .unwrap_err();
        assert_eq!(from_error(&io_with_bad_input_context), Exit::BadInput);

        let failed: anyhow::Error = HookFailed {
            exit: Exit::NotRegistered,
            message: "not registered".into(),
        }
        .into();
        assert_eq!(from_error(&failed), Exit::NotRegistered);

        assert_eq!(
            from_error(&anyhow::anyhow!("unexpected")),
            Exit::RegistryFailed
        );
    }

    #[test]
    fn exit_codes_have_their_documented_numbers() {
        let codes = [
            Exit::Done,
            Exit::RegistryFailed,
            Exit::BadInput,
            Exit::NotRegistered,
            Exit::CredentialsRefused,
        ]
        .map(|exit| exit as u8);
        assert_eq!(codes, [0, 1, 2, 3, 4]);
    }
}
