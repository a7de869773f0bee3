//! One run of the hook from its command line: a refused command line is reported as bad input; a
//! parsed one sets up logging, resolves the settings (warning of what they cannot use) and hands
//! them to the chosen hook, or to its dry run. Errors are returned, not printed: `main` reports
//! them once.

use std::process::ExitCode;

use anyhow::Result;
use clap::error::ErrorKind;

use crate::clock::{Clock, SystemClock};
use crate::settings::{self, Hook, Resolved, Settings, Whom};
use crate::vars::ProcessEnv;
use crate::{cli, eureka, exit, hooks, incarnation, log, output};

/// Runs the hook `cli` chose, with the settings `cli` and `env` resolve to.
pub fn run(cli: &cli::Cli, env: &ProcessEnv) -> Result<()> {
    let lookup = |name: &str| env.get(name);
    let (log_settings, log_problem) = settings::log_settings(&cli.common, &lookup);
    log::init(&log_settings);
    for warning in unread_variable_warnings(env) {
        log::warn("unread_variable", &warning);
    }
    let resolved = match log_problem {
        Some(problem) => Err(problem),
        None => Settings::resolve(cli, &lookup, &settings::machine::this_machine()),
    };
    // Where a value of Spring's came from; a warning when the settings were refused, so that
    // even with -q the error's variable can be traced to the name that gave it.
    for note in env.notes() {
        if resolved.is_ok() {
            log::info("spring_variable", &note);
        } else {
            log::warn("spring_variable", &note);
        }
    }
    env.check()?;
    let settings = resolved?;
    log::add_secrets(settings.secrets());
    for warning in &settings.warnings {
        log::warn("warning", warning);
    }
    run_hook(settings)
}

/// clap refused the command line: `--help` and `--version` print as clap does; an error goes to
/// the log (file and format included, as far as those flags parsed) with any URL password hidden.
pub fn usage_error(err: &clap::Error, env: &ProcessEnv) -> ExitCode {
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
    log::usage_error(&cli::refusal_without_userinfo(err, std::env::args_os()));
    exit::Exit::BadInput.into()
}

/// Set variables that look like misspellings of those the hook reads (their values unread), and
/// service URL lists of other zones, in the environment or in `SPRING_APPLICATION_JSON`.
fn unread_variable_warnings(env: &ProcessEnv) -> Vec<String> {
    let names = env.names();
    let mut warnings = settings::misspelled::warnings(names.iter().map(String::as_str));
    if let Some((variable, keys)) = env.spring_json_keys() {
        warnings.extend(settings::misspelled::json_zone_warnings(variable, &keys));
    }
    warnings
}

/// The chosen hook against the real registry, clock and signals, or its dry run; with no app
/// name, for the instance the registry lists with this pod's address.
fn run_hook(settings: Settings<Whom>) -> Result<()> {
    let mut stdout = output::ReaderMayLeave::new(std::io::stdout());
    let hook = settings.hook.clone();
    let settings = match settings.split() {
        Resolved::Named(named) if named.dry_run => return hooks::dry_run(&named, &mut stdout),
        Resolved::Unnamed(unnamed) if unnamed.dry_run => {
            return hooks::unnamed::dry_run(unnamed, &mut stdout);
        }
        resolved => resolved,
    };
    let registry = match &settings {
        Resolved::Named(named) => &named.registry,
        Resolved::Unnamed(unnamed) => &unnamed.registry,
    };
    // prestop's clock installs the signal handlers, before anything is sent.
    let clock: &'static dyn Clock = match hook {
        Hook::Prestop { .. } => hooks::drain::wait::SignalClock::install()?,
        _ => &SystemClock,
    };
    let client = eureka::EurekaClient::new(registry.ca_certificates.as_deref(), clock);
    match hook {
        Hook::Prestop { drain, watch } => match settings {
            Resolved::Named(named) => hooks::prestop(&named, &client, clock, drain, watch),
            Resolved::Unnamed(unnamed) => {
                hooks::unnamed::prestop(unnamed, &client, clock, drain, watch)
            }
        },
        Hook::Poststart {
            wait,
            strict,
            ref fast_return,
        } => {
            let pod_start = pod_start();
            let guards = hooks::Guards {
                settings: fast_return,
                pod_start: &pod_start,
            };
            match settings {
                Resolved::Named(named) => {
                    hooks::poststart(&named, &client, clock, wait, strict, guards)
                }
                Resolved::Unnamed(unnamed) => {
                    hooks::unnamed::poststart(unnamed, &client, clock, wait, strict, guards)
                }
            }
        }
        Hook::Status => match settings {
            Resolved::Named(named) => hooks::status(&named, &client, &pod_start(), &mut stdout),
            Resolved::Unnamed(unnamed) => {
                hooks::unnamed::status(unnamed, &client, &SystemClock, &pod_start(), &mut stdout)
            }
        },
    }
}

/// When PID 1 started, or why that is not known (a message, not a failure: only the fast return
/// and status's incarnation column need it).
fn pod_start() -> hooks::PodStart {
    incarnation::pid1_started().map_err(|err| format!("{err:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelling_warnings_come_from_the_injected_environment() {
        let env = ProcessEnv::new(
            |_| None,
            || {
                [
                    "EUREKA_CLIENT_SERVICE_URL_DEFAULTZONE",
                    "EUREKA_URL",
                    "PATH",
                ]
                .map(Into::into)
                .to_vec()
            },
        );
        let warnings = unread_variable_warnings(&env);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("EUREKA_CLIENT_SERVICE_URL_DEFAULTZONE"),
            "{warnings:?}"
        );
        let clean = ProcessEnv::new(|_| None, || vec!["EUREKA_URL".into(), "HOME".into()]);
        assert_eq!(unread_variable_warnings(&clean), Vec::<String>::new());
    }
}
