//! eureka-hook: takes a Spring Cloud (Netflix Eureka) instance out of the registry before Kubernetes
//! kills its pod, and clears stale status overrides when it starts. `main` only parses the command
//! line, hands it to [`run`], reports an error once and turns it into an exit code.

#![warn(clippy::pedantic)]

mod cli;
mod clock;
mod drain;
mod eureka;
mod exit;
mod hooks;
mod inbound;
mod log;
mod log_file;
mod output;
mod redact;
mod run;
mod settings;
mod values;

use std::process::ExitCode;

use crate::settings::vars::ProcessEnv;

fn main() -> ExitCode {
    let env = ProcessEnv::of_this_process();
    let code = match cli::parse_keeping_command(std::env::args_os()) {
        Ok(cli) => match run::run(&cli, &env) {
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
