//! Keeping credentials out of every line we print.
//!
//! A password lives in a [`Secret`], whose `Debug` and `Display` print `(redacted)`. Service URLs are
//! shown with their password replaced by `***` ([`redact_url_text`] does this even for text that is not
//! a valid URL, because invalid input is exactly what error messages quote). The logger also masks
//! every registered secret in every line it writes ([`mask`]), as a last line of defence against an
//! error message from a library that quotes something it was given.

use std::fmt;

/// A value that must never be printed: a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that needs it: the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// HTTP Basic credentials for a Eureka peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

/// `text` with the password of anything that looks like `scheme://user:password@host` replaced by
/// `***`, so that a URL can be quoted in an error message before (or because) it failed to parse.
pub fn redact_url_text(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        redacted.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(|c: char| c == '/' || c == ',' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                redacted.push_str(user);
                if userinfo.contains(':') {
                    redacted.push_str(":***");
                }
                redacted.push_str(&authority[at..]);
            }
            None => redacted.push_str(authority),
        }
        rest = &rest[authority_end..];
    }
    redacted.push_str(rest);
    redacted
}

/// `line` with every occurrence of each secret replaced by `***`.
pub fn mask(line: &str, secrets: &[Secret]) -> String {
    secrets
        .iter()
        .filter(|secret| !secret.expose().is_empty())
        .fold(line.to_string(), |masked, secret| {
            masked.replace(secret.expose(), "***")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret} {secret:?}"), "(redacted) (redacted)");
        let credentials = Credentials {
            username: "eureka".into(),
            password: secret,
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }

    #[test]
    fn url_text_loses_its_password_but_keeps_the_user() {
        assert_eq!(
            redact_url_text("http://user:s3cret@eureka:8761/eureka/"),
            "http://user:***@eureka:8761/eureka/"
        );
        assert_eq!(
            redact_url_text("ftp://u:p@a/,http://v:q@b:1"),
            "ftp://u:***@a/,http://v:***@b:1"
        );
        assert_eq!(redact_url_text("http://user@host/"), "http://user@host/");
        assert_eq!(redact_url_text("no url here"), "no url here");
    }

    #[test]
    fn url_text_with_at_sign_in_password_is_redacted_up_to_the_last_at() {
        assert_eq!(
            redact_url_text("http://user:p@ss@host/"),
            "http://user:***@host/"
        );
    }

    #[test]
    fn mask_replaces_every_secret() {
        let secrets = [Secret::new("pw1"), Secret::new("")];
        assert_eq!(mask("a pw1 b pw1", &secrets), "a *** b ***");
    }
}
