//! eureka-hook: takes a Spring Cloud (Netflix Eureka) instance out of the registry before Kubernetes
//! kills its pod, and clears stale status overrides when it starts. `main` only parses the command
//! line, hands it to [`run`], reports an error once and turns it into an exit code.

#![warn(clippy::pedantic)]
// Durations, instants, counts and offsets come from flags, variables, files and registry answers:
// the lint keeps every computation on them checked or saturating, so no input can panic a hook
// (src/bug.rs contains what a bug still does).
#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

mod bounded_read;
mod bug;
mod cli;
mod clock;
mod eureka;
mod exit;
mod hooks;
mod hosts_file;
mod inbound;
mod incarnation;
mod log;
mod log_file;
mod output;
mod redact;
mod run;
mod settings;
mod values;
mod vars;

use std::process::ExitCode;

use crate::vars::ProcessEnv;

fn main() -> ExitCode {
    bug::report_panics_as_error_lines();
    let env = ProcessEnv::of_this_process();
    let code = match cli::parse(std::env::args_os()) {
        Ok(cli) => match bug::contained("the hook", || run::run(&cli, &env))
            .map_err(anyhow::Error::from)
            .and_then(|result| result)
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                log::error("error", &format!("{err:#}"));
                exit::from_error(&err).into()
            }
        },
        Err(err) => run::usage_error(&err, &env),
    };
    log::finish();
    code
}
