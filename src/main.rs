//! eureka-hook: takes a Spring Cloud (Netflix Eureka) instance out of the registry before Kubernetes
//! kills its pod, and clears stale status overrides when it starts. `main` only wires the modules
//! together, reports an error once and turns it into an exit code.

#![warn(clippy::pedantic)]

mod cli;
mod clock;
mod drain;
mod eureka;
mod exit;
mod hooks;
mod log;
mod log_file;
mod output;
mod redact;
mod settings;
mod values;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use clap::error::ErrorKind;

use crate::clock::SystemClock;
use crate::settings::vars::ProcessEnv;
use crate::settings::{Hook, Settings};

fn main() -> ExitCode {
    let env = ProcessEnv::new(|name| std::env::var_os(name));
    let code = match cli::Cli::try_parse() {
        Ok(cli) => match run(&cli, &env) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                log::error("error", &format!("{err:#}"));
                exit::from_error(&err).into()
            }
        },
        Err(err) => usage_error(&err, &env),
    };
    log::finish();
    code
}

/// clap refused the command line: `--help` and `--version` print as clap does; an error goes to
/// the log (file and format included, as far as those flags parsed) with any URL password hidden.
fn usage_error(err: &clap::Error, env: &ProcessEnv) -> ExitCode {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
    }
    let common = cli::log_args_despite_errors(std::env::args_os());
    let (log_settings, _) = settings::log_settings(&common, &|name| env.get(name));
    log::init(&log_settings);
    log::usage_error(&redact::redact_url_text(&err.render().to_string()));
    exit::Exit::BadInput.into()
}

fn run(cli: &cli::Cli, env: &ProcessEnv) -> Result<()> {
    let lookup = |name: &str| env.get(name);
    let (log_settings, log_problem) = settings::log_settings(&cli.common, &lookup);
    log::init(&log_settings);
    let names: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    for warning in settings::misspelled::warnings(names.iter().map(String::as_str)) {
        log::warn("unread_variable", &warning);
    }
    let resolved = match log_problem {
        Some(problem) => Err(problem),
        None => Settings::resolve(cli, &lookup, &settings::machine::ThisMachine),
    };
    env.check()?;
    let settings = resolved?;
    log::add_secrets(settings.secrets());
    for warning in &settings.warnings {
        log::warn("warning", warning);
    }
    let mut stdout = output::ReaderMayLeave::new(std::io::stdout());
    if settings.dry_run {
        return hooks::dry_run(&settings, &mut stdout);
    }
    let client =
        eureka::EurekaClient::new(settings.registry.ca_certificates.as_deref(), &SystemClock);
    match settings.hook {
        Hook::Prestop { drain, watch } => {
            let sleeper = drain::SignalSleeper::install()?;
            hooks::prestop(&settings, &client, &SystemClock, &sleeper, drain, watch)
        }
        Hook::Poststart { wait, strict } => {
            hooks::poststart(&settings, &client, &SystemClock, wait, strict)
        }
        Hook::Status => hooks::status(&settings, &client, &mut stdout),
    }
}
