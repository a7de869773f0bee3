//! The pod's own inbound traffic during prestop's drain: which consumers still send requests to the
//! app's port after the mark, logged at the drain's end, and (with --until-quiet) a drain that does
//! not end while they do.
//!
//! `sock_diag` reads the connections from the kernel, `accounting` adds the samples up (no I/O, no
//! clock), `sources` parses --ignore-source, `watch` runs the sampling thread and writes the
//! report. Where `sock_diag` is missing or refused, the watch says so once and the drain goes on as
//! without it. It never ends a drain early and only --until-quiet ever makes one longer.

mod accounting;
mod sock_diag;
pub mod sources;
mod watch;

use std::time::Duration;

pub use sources::IgnoredSources;
pub use watch::{InboundWatch, planned, start};

/// How prestop watches inbound traffic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboundSettings {
    /// From --until-quiet or its variable: the drain does not end until this long has passed
    /// without inbound data from a counted source (never past --drain).
    pub until_quiet: Option<Duration>,
    /// From --ignore-source or its variable: sources not counted (none by default).
    pub ignored: IgnoredSources,
}

/// --ignore-source's parser, for clap and the variable.
pub fn parse_ignored(text: &str) -> Result<IgnoredSources, String> {
    IgnoredSources::parse(text)
}
