//! From what the user typed to the checked settings a hook runs with.
//!
//! Each value comes from its flag, else from the first of its environment variables that is set
//! (`vars` lists them), else from its default. Every failure here is bad input (exit 2, nothing
//! sent) and its message names the flag or variable to fix. The environment and the machine
//! ([`machine::Machine`]: hostname, `/etc/hosts`, interface addresses) are injected, so tests
//! never touch the process environment or the real machine. The only I/O is reading the CA and
//! credentials files (through `bounded_read`) and asking the machine what Spring Cloud would ask it (the interface
//! addresses, when the host is given, only once something asks for them).

pub mod host;
mod identity;
pub mod machine;
pub mod misspelled;
mod registry;
mod spring_id;

use std::time::Duration;

use anyhow::Result;

pub use identity::IdSource;
#[cfg(test)]
pub use identity::InterfaceAddressOnDemand;
pub use identity::{Identity, ThisPod, Unnamed, Whom};
pub use machine::SharedMachine;
pub use registry::Registry;
// The registry settings hand their peers to the client as the client's own type.
pub use crate::eureka::Peer;
pub use crate::vars::EnvLookup;
pub use spring_id::RegisteredPort;

use crate::cli::{Cli, CommonArgs, HookCommand};
use crate::exit::BadInput;
use crate::inbound::{IgnoredSources, InboundSettings};
use crate::log::{LogFormat, LogSettings, Verbosity};
use crate::redact::Secret;
use crate::values;
use crate::vars::{self, first_env, flag_or_env_bool, path_from, pick};

const DEFAULT_DRAIN: Duration = Duration::from_secs(30);
/// Eureka's `response-cache-update-interval-ms`.
const DEFAULT_SERVER_CACHE: Duration = Duration::from_secs(30);
const DEFAULT_WAIT: Duration = Duration::from_secs(90);

/// What the chosen subcommand will do, with its own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hook {
    /// From --drain or its variable, or 30 s.
    Prestop {
        drain: Duration,
        watch: WatchSettings,
    },
    /// From --wait or its variable, or 90 s; --strict or its variable.
    Poststart {
        wait: Duration,
        strict: bool,
        fast_return: FastReturn,
    },
    Status,
}

/// Settings with an app name, or without one.
pub enum Resolved {
    Named(Settings),
    Unnamed(Settings<Unnamed>),
}

impl Resolved {
    /// The named settings; panics when unnamed (tests only).
    #[cfg(test)]
    pub fn named(self) -> Settings {
        match self {
            Resolved::Named(settings) => settings,
            Resolved::Unnamed(_) => panic!("no app name"),
        }
    }
}

/// Whether and how poststart may bring a drained instance back UP at once (`hooks::fast_return`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FastReturn {
    /// Off with --no-fast-return or its variable set to false; on by default.
    pub enabled: bool,
    /// From --health-url or its variable; `None`: the record's `healthCheckUrl`.
    pub health_url: Option<String>,
}

/// How prestop follows the registry during the drain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchSettings {
    /// From --server-cache or its variable, or 30 s: how often the registry refreshes the
    /// response cache consumers read.
    pub server_cache: Duration,
    /// From --after-propagation or its variable; `None` (the default) holds the full drain.
    pub after_propagation: Option<Duration>,
}

/// Everything a hook needs, checked. `Who` is which instance the hook acts on: resolved as a
/// [`Whom`], named or not; the hooks take an [`Identity`], found in the registry when unnamed.
#[derive(Debug)]
pub struct Settings<Who = Identity> {
    /// Which instance the hook acts on.
    pub identity: Who,
    /// How to reach the registry.
    pub registry: Registry,
    /// The subcommand and its own settings.
    pub hook: Hook,
    /// prestop's watch of inbound traffic (the default for the other hooks).
    pub inbound: InboundSettings,
    /// From --dry-run or its variable: print the requests instead of sending them.
    pub dry_run: bool,
    /// Things worth a warning that do not stop the hook (e.g. credentials on the command line).
    pub warnings: Vec<String>,
}

impl Settings<Whom> {
    pub fn resolve(cli: &Cli, env: EnvLookup, machine: &SharedMachine) -> Result<Settings<Whom>> {
        let common = &cli.common;
        let mut warnings = Vec::new();
        let hook = resolve_hook(&cli.command, env)?;
        if let Hook::Prestop { drain, watch } = &hook {
            warnings.extend(after_propagation_warning(*drain, watch));
        }
        let inbound = resolve_inbound(&cli.command, env)?;
        warnings.extend(until_quiet_warning(&hook, &inbound));
        let urls = Registry::service_urls(common, env, &mut warnings)?;
        let identity = Whom::resolve(common, env, machine, &mut warnings)?;
        let registry = Registry::resolve(urls, common, env)?;
        let dry_run = flag_or_env_bool(common.dry_run, vars::DRY_RUN, env)?;
        Ok(Settings {
            identity,
            registry,
            hook,
            inbound,
            dry_run,
            warnings,
        })
    }

    /// Named settings, or unnamed ones.
    pub fn split(self) -> Resolved {
        // A small clone: the settings cannot be taken apart twice.
        match self.identity.clone() {
            Whom::Named(identity) => Resolved::Named(self.with(identity)),
            Whom::Unnamed(unnamed) => Resolved::Unnamed(self.with(unnamed)),
        }
    }
}

impl<Who> Settings<Who> {
    /// These settings for another instance.
    pub fn with<Other>(self, identity: Other) -> Settings<Other> {
        let Settings {
            registry,
            hook,
            inbound,
            dry_run,
            warnings,
            ..
        } = self;
        Settings {
            identity,
            registry,
            hook,
            inbound,
            dry_run,
            warnings,
        }
    }

    /// Every secret these settings hold, for the logger to mask.
    pub fn secrets(&self) -> Vec<Secret> {
        self.registry.secrets()
    }
}

fn resolve_hook(command: &HookCommand, env: EnvLookup) -> Result<Hook> {
    Ok(match command {
        HookCommand::Prestop(args) => Hook::Prestop {
            drain: pick(args.drain, vars::DRAIN, env, values::parse_hold)?.unwrap_or(DEFAULT_DRAIN),
            watch: WatchSettings {
                server_cache: pick(
                    args.server_cache,
                    vars::SERVER_CACHE,
                    env,
                    values::parse_hold,
                )?
                .unwrap_or(DEFAULT_SERVER_CACHE),
                after_propagation: pick(
                    args.after_propagation,
                    vars::AFTER_PROPAGATION,
                    env,
                    values::parse_hold,
                )?,
            },
        },
        HookCommand::Poststart(args) => Hook::Poststart {
            wait: pick(args.wait, vars::WAIT, env, values::parse_hold)?.unwrap_or(DEFAULT_WAIT),
            strict: flag_or_env_bool(args.strict, vars::STRICT, env)?,
            fast_return: FastReturn {
                enabled: !args.no_fast_return
                    && first_env(vars::FAST_RETURN, env, values::parse_bool)?.unwrap_or(true),
                health_url: pick(
                    args.health_url.clone(),
                    vars::HEALTH_URL,
                    env,
                    values::parse_health_url,
                )?,
            },
        },
        HookCommand::Status => Hook::Status,
    })
}

/// --until-quiet and --ignore-source, for prestop.
fn resolve_inbound(command: &HookCommand, env: EnvLookup) -> Result<InboundSettings> {
    let HookCommand::Prestop(args) = command else {
        return Ok(InboundSettings::default());
    };
    Ok(InboundSettings {
        until_quiet: pick(args.until_quiet, vars::UNTIL_QUIET, env, values::parse_hold)?,
        ignored: pick(
            args.ignore_source.clone(),
            vars::IGNORE_SOURCES,
            env,
            IgnoredSources::parse,
        )?
        .unwrap_or_default(),
    })
}

/// --until-quiet only extends an early end, which only --after-propagation gives.
fn until_quiet_warning(hook: &Hook, inbound: &InboundSettings) -> Option<String> {
    let Hook::Prestop { drain, watch } = hook else {
        return None;
    };
    (inbound.until_quiet.is_some() && watch.after_propagation.is_none() && !drain.is_zero()).then(|| {
        "--until-quiet changes nothing without --after-propagation: the whole --drain is held anyway"
            .to_string()
    })
}

/// An --after-propagation that cannot end the drain early is probably a sizing mistake.
fn after_propagation_warning(drain: Duration, watch: &WatchSettings) -> Option<String> {
    let after = watch.after_propagation?;
    (!drain.is_zero() && after >= drain).then(|| {
        format!(
            "--after-propagation {} is not shorter than --drain {}, so the drain is always held in full",
            humantime::format_duration(after),
            humantime::format_duration(drain)
        )
    })
}

/// Where and how log lines go; resolved first, so that even a bad-input error reaches the log file.
/// Each setting that is wrong falls back to its default, so the log works; the first such
/// problem comes back beside the settings, to be reported as bad input once the log is set up.
pub fn log_settings(common: &CommonArgs, env: EnvLookup) -> (LogSettings, Option<anyhow::Error>) {
    let mut problem = None;
    // A flag beats a variable, so -v beats EUREKA_HOOK_QUIET and -q beats EUREKA_HOOK_VERBOSE
    // (clap already refuses -v with -q).
    let verbosity = if common.verbose {
        Verbosity::Verbose
    } else if common.quiet {
        Verbosity::Quiet
    } else {
        let verbose = keep(
            &mut problem,
            first_env(vars::VERBOSE, env, values::parse_bool),
        )
        .unwrap_or(false);
        let quiet = keep(
            &mut problem,
            first_env(vars::QUIET, env, values::parse_bool),
        )
        .unwrap_or(false);
        match (verbose, quiet) {
            (true, true) => {
                keep::<()>(
                    &mut problem,
                    Err(BadInput::new(format!(
                        "{} and {} are both on: choose one",
                        vars::VERBOSE[0],
                        vars::QUIET[0]
                    ))
                    .into()),
                );
                Verbosity::Normal
            }
            (true, false) => Verbosity::Verbose,
            (false, true) => Verbosity::Quiet,
            (false, false) => Verbosity::Normal,
        }
    };
    let format = match common.log_format {
        Some(format) => format,
        None => keep(
            &mut problem,
            first_env(vars::LOG_FORMAT, env, parse_log_format),
        )
        .unwrap_or(LogFormat::Text),
    };
    let file = keep(
        &mut problem,
        path_from(common.log_file.as_ref(), "--log-file", vars::LOG_FILE, env),
    );
    let settings = LogSettings {
        verbosity,
        format,
        file,
    };
    (settings, problem)
}

/// The value, or `None` with the first problem kept in `problem`.
fn keep<T>(problem: &mut Option<anyhow::Error>, result: Result<Option<T>>) -> Option<T> {
    result.unwrap_or_else(|err| {
        problem.get_or_insert(err);
        None
    })
}

fn parse_log_format(text: &str) -> Result<LogFormat, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!(
            "'{}' is not a log format: use text or json",
            text.escape_debug()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use machine::fake::FakeMachine;
    use std::collections::HashMap;
    use std::path::PathBuf;

    fn resolve_with(args: &[&str], vars: &[(&str, &str)]) -> Result<Settings> {
        let cli = Cli::try_parse_from(std::iter::once("eureka-hook").chain(args.iter().copied()))?;
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(
            &cli,
            &|name| vars.get(name).cloned(),
            &FakeMachine::named("pod-0").shared(),
        )
        .map(|settings| settings.split().named())
    }

    fn bad_input_message(args: &[&str], vars: &[(&str, &str)]) -> String {
        let err = resolve_with(args, vars).unwrap_err();
        assert!(
            err.downcast_ref::<BadInput>().is_some(),
            "not bad input: {err:#}"
        );
        format!("{err:#}")
    }

    #[test]
    fn defaults_follow_spring_cloud() {
        let settings = resolve_with(&["prestop", "--app", "demo"], &[]).unwrap();
        assert_eq!(settings.registry.peers.len(), 1);
        assert_eq!(
            settings.registry.peers[0].to_string(),
            registry::DEFAULT_EUREKA_URL
        );
        assert_eq!(settings.identity.pod.port, RegisteredPort::Known(8080));
        let candidates: Vec<&str> = settings
            .identity
            .candidates()
            .into_iter()
            .map(values::InstanceId::as_str)
            .collect();
        assert_eq!(candidates, ["pod-0:demo:8080", "pod-0:demo"]);
        assert_eq!(
            settings.identity.id_source,
            IdSource::SpringWithOrWithoutPort
        );
        assert_eq!(settings.registry.request_timeout, Duration::from_secs(5));
        assert_eq!(
            settings.hook,
            Hook::Prestop {
                drain: Duration::from_secs(30),
                watch: WatchSettings {
                    server_cache: Duration::from_secs(30),
                    after_propagation: None
                }
            }
        );
        assert!(!settings.dry_run);
    }

    #[test]
    fn flag_beats_first_env_which_beats_second_env() {
        let vars = [
            ("EUREKA_APP", "from-eureka-app"),
            ("SPRING_APPLICATION_NAME", "from-spring"),
            ("EUREKA_PORT", "9001"),
            ("SERVER_PORT", "9002"),
            ("EUREKA_URL", "http://first:8761/eureka/"),
            (
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
                "http://second:8761/eureka/",
            ),
        ];
        let settings = resolve_with(&["status"], &vars).unwrap();
        assert_eq!(settings.identity.app.as_given(), "from-eureka-app");
        assert_eq!(settings.identity.pod.port, RegisteredPort::Known(9001));
        assert_eq!(
            settings.registry.peers[0].to_string(),
            "http://first:8761/eureka/"
        );

        let settings = resolve_with(&["status", "--app", "flag", "--port", "7000"], &vars).unwrap();
        assert_eq!(settings.identity.app.as_given(), "flag");
        assert_eq!(settings.identity.pod.port, RegisteredPort::Known(7000));

        let settings = resolve_with(
            &["status"],
            &[
                ("SPRING_APPLICATION_NAME", "spring"),
                ("SERVER_PORT", "8081"),
            ],
        )
        .unwrap();
        assert_eq!(settings.identity.instance_id.as_str(), "pod-0:spring:8081");
    }

    #[test]
    fn instance_id_env_vars_apply_in_order() {
        let settings = resolve_with(
            &["status", "--app", "demo"],
            &[
                ("EUREKA_INSTANCE_INSTANCEID", "second"),
                ("EUREKA_INSTANCE_INSTANCE_ID", "third"),
            ],
        )
        .unwrap();
        assert_eq!(settings.identity.instance_id.as_str(), "second");
        assert_eq!(
            settings.identity.id_source,
            IdSource::Given("EUREKA_INSTANCE_INSTANCEID")
        );
    }

    #[test]
    fn hostname_flag_and_env_build_the_default_id() {
        let settings = resolve_with(
            &["status", "--app", "demo"],
            &[("EUREKA_HOSTNAME", "web-1")],
        )
        .unwrap();
        assert_eq!(settings.identity.instance_id.as_str(), "web-1:demo:8080");
        let settings = resolve_with(
            &["status", "--app", "demo", "--hostname", "web-2"],
            &[("EUREKA_HOSTNAME", "web-1")],
        )
        .unwrap();
        assert_eq!(settings.identity.instance_id.as_str(), "web-2:demo:8080");
    }

    #[test]
    fn subcommand_settings_come_from_their_env_vars() {
        let settings = resolve_with(
            &["poststart", "--app", "demo"],
            &[("EUREKA_HOOK_WAIT", "10s"), ("EUREKA_HOOK_STRICT", "true")],
        )
        .unwrap();
        assert_eq!(
            settings.hook,
            Hook::Poststart {
                wait: Duration::from_secs(10),
                strict: true,
                fast_return: FastReturn {
                    enabled: true,
                    health_url: None
                }
            }
        );
        let settings = resolve_with(
            &["poststart", "--app", "demo"],
            &[
                ("EUREKA_HOOK_FAST_RETURN", "false"),
                (
                    "EUREKA_HOOK_HEALTH_URL",
                    "http://127.0.0.1:8080/actuator/health",
                ),
            ],
        )
        .unwrap();
        assert!(matches!(
            settings.hook,
            Hook::Poststart { fast_return: FastReturn { enabled: false, health_url: Some(url) }, .. }
                if url == "http://127.0.0.1:8080/actuator/health"
        ));
        let err = resolve_with(
            &["poststart", "--app", "demo"],
            &[(
                "EUREKA_HOOK_HEALTH_URL",
                "http://user:secret@127.0.0.1:8080/",
            )],
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("EUREKA_HOOK_HEALTH_URL:"), "{err}");
        assert!(
            err.contains("must not hold credentials") && !err.contains("secret"),
            "{err}"
        );
        let settings = resolve_with(
            &["prestop", "--app", "demo", "--drain", "1s"],
            &[("EUREKA_HOOK_DRAIN", "10s")],
        )
        .unwrap();
        assert_eq!(
            settings.hook,
            Hook::Prestop {
                drain: Duration::from_secs(1),
                watch: WatchSettings {
                    server_cache: Duration::from_secs(30),
                    after_propagation: None
                }
            }
        );
        let settings = resolve_with(
            &["prestop", "--app", "demo", "--drain", "100s"],
            &[
                ("EUREKA_HOOK_AFTER_PROPAGATION", "70s"),
                ("EUREKA_HOOK_SERVER_CACHE", "5s"),
            ],
        )
        .unwrap();
        let Hook::Prestop { watch, .. } = settings.hook else {
            panic!("not prestop")
        };
        assert_eq!(
            watch,
            WatchSettings {
                server_cache: Duration::from_secs(5),
                after_propagation: Some(Duration::from_secs(70))
            }
        );
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    }

    #[test]
    fn the_inbound_settings_come_from_their_flags_or_variables_and_only_for_prestop() {
        let settings = resolve_with(
            &["prestop", "--app", "demo", "--after-propagation", "20s"],
            &[
                ("EUREKA_HOOK_UNTIL_QUIET", "5s"),
                ("EUREKA_HOOK_IGNORE_SOURCES", "10.0.0.0/8"),
            ],
        )
        .unwrap();
        assert_eq!(settings.inbound.until_quiet, Some(Duration::from_secs(5)));
        assert_eq!(settings.inbound.ignored.to_string(), "10.0.0.0/8");
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
        let flags = resolve_with(
            &[
                "prestop",
                "--app",
                "demo",
                "--ignore-source",
                "::1",
                "--until-quiet",
                "1s",
            ],
            &[("EUREKA_HOOK_IGNORE_SOURCES", "10.0.0.0/8")],
        )
        .unwrap();
        assert_eq!(flags.inbound.ignored.to_string(), "::1");
        assert_eq!(
            flags.warnings,
            [
                "--until-quiet changes nothing without --after-propagation: the whole --drain is held anyway"
            ]
        );
        let status = resolve_with(
            &["status", "--app", "demo"],
            &[("EUREKA_HOOK_UNTIL_QUIET", "x")],
        );
        assert_eq!(
            status.unwrap().inbound,
            crate::inbound::InboundSettings::default()
        );
        assert!(
            bad_input_message(
                &["prestop", "--app", "demo"],
                &[("EUREKA_HOOK_IGNORE_SOURCES", "10.1.2.3/8")]
            )
            .starts_with("EUREKA_HOOK_IGNORE_SOURCES: '10.1.2.3/8' has bits set"),
        );
    }

    #[test]
    fn an_after_propagation_as_long_as_the_drain_is_warned_about() {
        let settings = resolve_with(
            &["prestop", "--app", "demo", "--drain", "60s"],
            &[("EUREKA_HOOK_AFTER_PROPAGATION", "70s")],
        )
        .unwrap();
        assert_eq!(
            settings.warnings,
            [
                "--after-propagation 1m 10s is not shorter than --drain 1m, so the drain is always held in full"
            ]
        );
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        for (var, value) in [
            ("EUREKA_PORT", "0"),
            ("SERVER_PORT", "70000"),
            ("EUREKA_HOOK_DRAIN", "-3s"),
            ("EUREKA_HOOK_AFTER_PROPAGATION", "soon"),
            ("EUREKA_HOOK_SERVER_CACHE", "-30s"),
            ("EUREKA_HOOK_REQUEST_TIMEOUT", "forever"),
            ("EUREKA_URL", "ftp://eureka/"),
            ("EUREKA_HOSTNAME", "bad host"),
            ("EUREKA_HOOK_DRY_RUN", "perhaps"),
        ] {
            let vars = [(var, value), ("SPRING_APPLICATION_NAME", "demo")];
            let message = bad_input_message(&["prestop"], &vars);
            assert!(message.starts_with(var), "{var}={value}: {message}");
        }
    }

    #[test]
    fn without_an_app_name_the_registry_is_left_to_say_which_instance() {
        let cli = Cli::try_parse_from(["eureka-hook", "prestop", "--port", "9000"]).unwrap();
        let resolved = Settings::resolve(
            &cli,
            &|name| (name == "POD_IP").then(|| "10.1.2.3".to_string()),
            &FakeMachine::named("pod-0").shared(),
        )
        .unwrap();
        let Resolved::Unnamed(settings) = resolved.split() else {
            panic!("an app name appeared");
        };
        let pod = &settings.identity.pod;
        assert_eq!(pod.addresses().collect::<Vec<_>>(), ["pod-0", "10.1.2.3"]);
        assert_eq!(
            (pod.stated_port(), pod.port_from),
            (Some(9000), Some("--port"))
        );
        assert!(settings.identity.given_id.is_none());
    }

    #[test]
    fn without_an_app_name_a_stated_port_comes_only_from_a_flag_or_variable() {
        let port_of = |vars: &[(&str, &str)]| {
            let cli = Cli::try_parse_from(["eureka-hook", "status"]).unwrap();
            let vars: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let resolved = Settings::resolve(
                &cli,
                &|name| vars.get(name).cloned(),
                &FakeMachine::named("pod-0").shared(),
            )
            .unwrap();
            let Resolved::Unnamed(settings) = resolved.split() else {
                panic!("an app name appeared");
            };
            settings.identity.pod.stated_port()
        };
        assert_eq!(port_of(&[]), None, "8080 is only Spring's default");
        assert_eq!(port_of(&[("SERVER_PORT", "8081")]), Some(8081));
        assert_eq!(port_of(&[("PORT", "7000")]), Some(7000));
        assert_eq!(port_of(&[("SERVER_PORT", "0")]), None, "a random port");
    }

    #[test]
    fn url_credentials_serve_peers_without_their_own_and_warn_on_the_command_line() {
        let settings = resolve_with(
            &[
                "status",
                "--app",
                "demo",
                "--eureka-url",
                "http://u:pw@a/eureka/,http://b/eureka/",
            ],
            &[],
        )
        .unwrap();
        let usernames: Vec<_> = settings
            .registry
            .peers
            .iter()
            .map(|peer| peer.credentials().map(|c| c.username.as_str()))
            .collect();
        assert_eq!(usernames, [Some("u"), Some("u")]);
        assert!(settings.warnings[0].contains("ps"));
        assert_eq!(
            settings.secrets(),
            vec![Secret::new("pw"), Secret::new("pw")]
        );

        let settings = resolve_with(
            &["status", "--app", "demo"],
            &[("EUREKA_URL", "http://u:pw@a/")],
        )
        .unwrap();
        assert!(
            settings.warnings.is_empty(),
            "env credentials are not on the command line"
        );
    }

    #[test]
    fn env_credentials_apply_to_every_peer() {
        let settings = resolve_with(
            &[
                "status",
                "--app",
                "demo",
                "--eureka-url",
                "http://a/,http://b/",
            ],
            &[("EUREKA_USERNAME", "eureka"), ("EUREKA_PASSWORD", "pw")],
        )
        .unwrap();
        assert!(
            settings
                .registry
                .peers
                .iter()
                .all(|peer| peer.credentials().is_some())
        );
    }

    #[test]
    fn half_given_or_doubly_given_credentials_are_bad_input() {
        let message = bad_input_message(&["status", "--app", "demo"], &[("EUREKA_USERNAME", "u")]);
        assert!(message.contains("EUREKA_PASSWORD"));
        let message = bad_input_message(
            &["status", "--app", "demo"],
            &[
                ("EUREKA_URL", "http://u:pw@a/"),
                ("EUREKA_USERNAME", "u"),
                ("EUREKA_PASSWORD", "pw"),
            ],
        );
        assert!(message.contains("more than one way"), "{message}");
        assert!(!message.contains("pw@"));
    }

    #[test]
    fn credentials_file_holds_user_colon_password() {
        let dir = std::env::temp_dir().join(format!("eureka-hook-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good");
        std::fs::write(&good, "eureka:s3cret\n").unwrap();
        let bad = dir.join("bad");
        std::fs::write(&bad, "only-a-user-s3cret").unwrap();

        let settings = resolve_with(
            &[
                "status",
                "--app",
                "demo",
                "--credentials-file",
                good.to_str().unwrap(),
            ],
            &[],
        )
        .unwrap();
        let credentials = settings.registry.peers[0].credentials().cloned().unwrap();
        assert_eq!(credentials.username, "eureka");
        assert_eq!(credentials.password.expose(), "s3cret");

        let message = bad_input_message(
            &["status", "--app", "demo"],
            &[("EUREKA_HOOK_CREDENTIALS_FILE", bad.to_str().unwrap())],
        );
        assert!(
            message.starts_with("EUREKA_HOOK_CREDENTIALS_FILE"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
        let message = bad_input_message(
            &[
                "status",
                "--app",
                "demo",
                "--credentials-file",
                "/nonexistent/creds",
            ],
            &[],
        );
        assert!(
            message.starts_with("--credentials-file: /nonexistent/creds: cannot read it"),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ca_file_must_hold_a_certificate() {
        let message = bad_input_message(
            &["status", "--app", "demo", "--cacert", "/nonexistent.pem"],
            &[],
        );
        assert!(
            message.starts_with("--cacert: /nonexistent.pem: cannot read it"),
            "{message}"
        );
        let message = bad_input_message(
            &["status", "--app", "demo"],
            &[("EUREKA_HOOK_CACERT", "/proc/self/cmdline")],
        );
        assert!(message.starts_with("EUREKA_HOOK_CACERT"), "{message}");
    }

    #[test]
    fn log_settings_resolve_from_flags_and_env() {
        let cli = Cli::try_parse_from(["eureka-hook", "status", "-v"]).unwrap();
        let vars: HashMap<&str, &str> = [
            ("EUREKA_HOOK_LOG_FORMAT", "JSON"),
            ("EUREKA_HOOK_LOG_FILE", "/tmp/x"),
        ]
        .into();
        let env = |name: &str| vars.get(name).map(ToString::to_string);
        let (log, problem) = log_settings(&cli.common, &env);
        assert!(problem.is_none());
        assert_eq!(log.verbosity, Verbosity::Verbose);
        assert_eq!(log.format, LogFormat::Json);
        assert_eq!(log.file, Some(PathBuf::from("/tmp/x")));

        let bad = |name: &str| (name == "EUREKA_HOOK_LOG_FORMAT").then(|| "xml".to_string());
        let cli = Cli::try_parse_from(["eureka-hook", "status"]).unwrap();
        let (log, problem) = log_settings(&cli.common, &bad);
        assert!(format!("{:#}", problem.unwrap()).starts_with("EUREKA_HOOK_LOG_FORMAT"));
        assert_eq!(
            log.format,
            LogFormat::Text,
            "a bad setting falls back to its default"
        );
    }

    #[test]
    fn a_verbosity_flag_beats_the_variables() {
        let both = |name: &str| {
            ["EUREKA_HOOK_VERBOSE", "EUREKA_HOOK_QUIET"]
                .contains(&name)
                .then(|| "true".to_string())
        };
        for (flag, expected) in [("-v", Verbosity::Verbose), ("-q", Verbosity::Quiet)] {
            let cli = Cli::try_parse_from(["eureka-hook", "status", flag]).unwrap();
            let (log, problem) = log_settings(&cli.common, &both);
            assert!(problem.is_none(), "{flag}");
            assert_eq!(log.verbosity, expected);
        }
        let cli = Cli::try_parse_from(["eureka-hook", "status"]).unwrap();
        assert!(log_settings(&cli.common, &both).1.is_some());
    }

    #[test]
    fn empty_variables_are_unset() {
        let settings = resolve_with(
            &["prestop"],
            &[
                ("EUREKA_URL", ""),
                (
                    "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
                    "http://zone:8761/eureka/",
                ),
                ("EUREKA_USERNAME", ""),
                ("EUREKA_PASSWORD", ""),
                ("EUREKA_APP", ""),
                ("SPRING_APPLICATION_NAME", "demo"),
                ("EUREKA_PORT", ""),
                ("EUREKA_HOOK_DRAIN", ""),
                ("EUREKA_HOOK_AFTER_PROPAGATION", ""),
                ("EUREKA_HOOK_SERVER_CACHE", ""),
                ("EUREKA_HOOK_REQUEST_TIMEOUT", ""),
                ("EUREKA_HOOK_CACERT", ""),
                ("EUREKA_HOOK_CREDENTIALS_FILE", ""),
                ("EUREKA_HOOK_DRY_RUN", ""),
                ("EUREKA_INSTANCE_ID", ""),
            ],
        )
        .unwrap();
        assert_eq!(
            settings.registry.peers[0].to_string(),
            "http://zone:8761/eureka/"
        );
        assert!(settings.registry.peers[0].credentials().is_none());
        assert_eq!(settings.identity.instance_id.as_str(), "pod-0:demo:8080");
        assert_eq!(
            settings.hook,
            Hook::Prestop {
                drain: DEFAULT_DRAIN,
                watch: WatchSettings {
                    server_cache: DEFAULT_SERVER_CACHE,
                    after_propagation: None
                }
            }
        );
        let cli = Cli::try_parse_from(["eureka-hook", "status"]).unwrap();
        let empty = |_: &str| Some(String::new());
        let (log, problem) = log_settings(&cli.common, &empty);
        assert!(problem.is_none());
        assert_eq!(
            log,
            LogSettings {
                verbosity: Verbosity::Normal,
                format: LogFormat::Text,
                file: None
            }
        );
    }
}
