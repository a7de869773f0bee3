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
mod redact;
mod settings;
mod values;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::clock::SystemClock;
use crate::settings::{Hook, Settings};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log::error("error", &format!("{err:#}"));
            exit::from_error(&err).into()
        }
    }
}

fn run(cli: &cli::Cli) -> Result<()> {
    let env = |name: &str| std::env::var_os(name).map(|value| value.to_string_lossy().into_owned());
    log::init(&settings::log_settings(&cli.common, &env)?);
    let names: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    for warning in settings::misspelled::warnings(names.iter().map(String::as_str)) {
        log::warn("unread_variable", &warning);
    }
    let settings = Settings::resolve(cli, &env, &settings::machine::ThisMachine)?;
    log::add_secrets(settings.secrets());
    for warning in &settings.warnings {
        log::warn("warning", warning);
    }
    if settings.dry_run {
        return hooks::dry_run(&settings, &mut std::io::stdout());
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
        Hook::Status => hooks::status(&settings, &client, &mut std::io::stdout()),
    }
}
