//! From what the user typed to the checked settings a hook runs with.
//!
//! Each value comes from its flag, else from the first of its environment variables that is set,
//! else from its default. Every failure here is bad input (exit 2, nothing sent) and its message
//! names the flag or variable to fix. The environment and the machine's hostname are injected, so
//! tests never touch the process environment. The only I/O is reading the CA and credentials files
//! and asking for the hostname when it is needed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::{Cli, CommonArgs, HookCommand, LogFormat};
use crate::exit::BadInput;
use crate::redact::{Credentials, Secret};
use crate::values::{self, AppName, InstanceId, ServiceUrl};

/// Spring Cloud's default `defaultZone`.
pub const DEFAULT_EUREKA_URL: &str = "http://localhost:8761/eureka/";
const DEFAULT_PORT: u16 = 8080;
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_DRAIN: Duration = Duration::from_secs(30);
const DEFAULT_WAIT: Duration = Duration::from_secs(90);

const URL_VARS: &[&str] = &["EUREKA_URL", "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE"];
const APP_VARS: &[&str] = &["EUREKA_APP", "SPRING_APPLICATION_NAME"];
const PORT_VARS: &[&str] = &["EUREKA_PORT", "SERVER_PORT"];
const HOSTNAME_VARS: &[&str] = &["EUREKA_HOSTNAME"];
const INSTANCE_ID_VARS: &[&str] = &[
    "EUREKA_INSTANCE_ID",
    "EUREKA_INSTANCE_INSTANCEID",
    "EUREKA_INSTANCE_INSTANCE_ID",
];

/// Reads one environment variable; `None` when unset.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The machine's hostname, asked only when no flag or variable gives one.
pub type HostnameLookup<'a> = &'a dyn Fn() -> std::io::Result<String>;

/// One Eureka server to talk to.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The service URL as given; displays with `user:***@` when it carried credentials.
    pub url: ServiceUrl,
    /// What is sent as HTTP Basic auth to this peer.
    pub credentials: Option<Credentials>,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.url.fmt(f)
    }
}

/// What the chosen subcommand will do, with its own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hook {
    /// From --drain, EUREKA_HOOK_DRAIN, or 30 s.
    Prestop {
        drain: Duration,
    },
    /// From --wait, EUREKA_HOOK_WAIT, or 90 s; --strict or EUREKA_HOOK_STRICT.
    Poststart {
        wait: Duration,
        strict: bool,
    },
    Status,
}

/// How much to log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Where and how log lines go; resolved first, so that even a bad-input error reaches the log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    /// From -v/-q, EUREKA_HOOK_VERBOSE/EUREKA_HOOK_QUIET.
    pub verbosity: Verbosity,
    /// From --log-format, EUREKA_HOOK_LOG_FORMAT, or text.
    pub format: LogFormat,
    /// From --log-file or EUREKA_HOOK_LOG_FILE: a copy of every line goes there.
    pub file: Option<PathBuf>,
}

impl LogSettings {
    pub fn resolve(common: &CommonArgs, env: EnvLookup) -> Result<LogSettings> {
        let verbose = flag_or_env_bool(common.verbose, "EUREKA_HOOK_VERBOSE", env)?;
        let quiet = flag_or_env_bool(common.quiet, "EUREKA_HOOK_QUIET", env)?;
        let verbosity = match (verbose, quiet) {
            (true, true) => {
                return Err(BadInput::new(
                    "-v/EUREKA_HOOK_VERBOSE and -q/EUREKA_HOOK_QUIET are both on: choose one",
                )
                .into());
            }
            (true, false) => Verbosity::Verbose,
            (false, true) => Verbosity::Quiet,
            (false, false) => Verbosity::Normal,
        };
        let format = match (common.log_format, env("EUREKA_HOOK_LOG_FORMAT")) {
            (Some(format), _) => format,
            (None, Some(text)) => match text.trim().to_ascii_lowercase().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(BadInput::new(format!(
                        "EUREKA_HOOK_LOG_FORMAT: '{}' is not a log format: use text or json",
                        text.escape_debug()
                    ))
                    .into());
                }
            },
            (None, None) => LogFormat::Text,
        };
        let file = path_from(&common.log_file, "EUREKA_HOOK_LOG_FILE", env)?;
        Ok(LogSettings {
            verbosity,
            format,
            file,
        })
    }
}

/// Everything a hook needs, checked.
#[derive(Debug)]
pub struct Settings {
    /// From --eureka-url, EUREKA_URL, EUREKA_CLIENT_SERVICEURL_DEFAULTZONE, or Spring's default.
    pub peers: Vec<Peer>,
    /// From --app, EUREKA_APP, SPRING_APPLICATION_NAME; required.
    pub app: AppName,
    /// From --instance-id or EUREKA_INSTANCE_ID/…INSTANCEID/…INSTANCE_ID, else `{hostname}:{app}:{port}`.
    pub instance_id: InstanceId,
    /// True when `instance_id` was built from the hostname rather than given.
    pub instance_id_is_default: bool,
    /// From --hostname, EUREKA_HOSTNAME, or the machine; `None` only if an id was given and the
    /// machine could not say.
    pub hostname: Option<String>,
    /// From $POD_IP (the Downward API convention): matched against `ipAddr` after a 404.
    pub pod_ip: Option<String>,
    /// From --port, EUREKA_PORT, SERVER_PORT, or 8080.
    pub port: u16,
    /// From --request-timeout, EUREKA_HOOK_REQUEST_TIMEOUT, or 5 s; bounds each peer's request,
    /// retries included.
    pub request_timeout: Duration,
    /// From --cacert or EUREKA_HOOK_CACERT: certificates trusted instead of the built-in roots.
    pub ca_certificates: Option<Vec<ureq::tls::Certificate<'static>>>,
    /// From --dry-run or EUREKA_HOOK_DRY_RUN.
    pub dry_run: bool,
    /// The subcommand and its own settings.
    pub hook: Hook,
    /// Things worth a warning that do not stop the hook (e.g. credentials on the command line).
    pub warnings: Vec<String>,
}

impl Settings {
    pub fn resolve(
        cli: &Cli,
        env: EnvLookup,
        machine_hostname: HostnameLookup,
    ) -> Result<Settings> {
        let common = &cli.common;
        let mut warnings = Vec::new();

        let hook = match &cli.command {
            HookCommand::Prestop(args) => Hook::Prestop {
                drain: pick(args.drain, "EUREKA_HOOK_DRAIN", env, values::parse_hold)?
                    .unwrap_or(DEFAULT_DRAIN),
            },
            HookCommand::Poststart(args) => Hook::Poststart {
                wait: pick(args.wait, "EUREKA_HOOK_WAIT", env, values::parse_hold)?
                    .unwrap_or(DEFAULT_WAIT),
                strict: flag_or_env_bool(args.strict, "EUREKA_HOOK_STRICT", env)?,
            },
            HookCommand::Status => Hook::Status,
        };

        let urls = match &common.eureka_url {
            Some(text) => {
                let urls = values::parse_service_urls(text)
                    .map_err(|message| BadInput::new(format!("--eureka-url: {message}")))?;
                if urls.iter().any(|url| url.credentials.is_some()) {
                    warnings.push(
                        "credentials in --eureka-url are visible to `ps` in the container: \
                         use EUREKA_USERNAME/EUREKA_PASSWORD or --credentials-file instead"
                            .to_string(),
                    );
                }
                urls
            }
            None => first_env(URL_VARS, env, values::parse_service_urls)?
                .map_or_else(|| values::parse_service_urls(DEFAULT_EUREKA_URL), Ok)
                .map_err(BadInput::new)?,
        };

        let app = match common.app.clone() {
            Some(app) => app,
            None => first_env(APP_VARS, env, AppName::parse)?.ok_or_else(|| {
                BadInput::new(
                    "no application name: pass --app NAME or set EUREKA_APP or SPRING_APPLICATION_NAME",
                )
            })?,
        };
        let port = match common.port {
            Some(port) => port,
            None => first_env(PORT_VARS, env, values::parse_port)?.unwrap_or(DEFAULT_PORT),
        };
        let given_hostname = match &common.hostname {
            Some(hostname) => Some(hostname.clone()),
            None => first_env(HOSTNAME_VARS, env, values::parse_hostname)?,
        };
        let given_instance_id = match &common.instance_id {
            Some(id) => Some(id.clone()),
            None => first_env(INSTANCE_ID_VARS, env, InstanceId::parse)?,
        };
        let (hostname, instance_id, instance_id_is_default) = match (
            given_hostname,
            given_instance_id,
        ) {
            (hostname, Some(id)) => (hostname.or_else(|| machine_hostname().ok()), id, false),
            (Some(hostname), None) => {
                let id = InstanceId::spring_default(&hostname, &app, port);
                (Some(hostname), id, true)
            }
            (None, None) => {
                let hostname = machine_hostname()
                        .context("reading this machine's hostname")
                        .and_then(|name| values::parse_hostname(&name).map_err(anyhow::Error::msg))
                        .map_err(|err| {
                            BadInput::new(format!(
                                "cannot build the default instance id from this machine's hostname ({err:#}): \
                                 pass --hostname or --instance-id"
                            ))
                        })?;
                let id = InstanceId::spring_default(&hostname, &app, port);
                (Some(hostname), id, true)
            }
        };
        let pod_ip = env("POD_IP").filter(|ip| !ip.trim().is_empty());

        let request_timeout = pick(
            common.request_timeout,
            "EUREKA_HOOK_REQUEST_TIMEOUT",
            env,
            values::parse_request_timeout,
        )?
        .unwrap_or(DEFAULT_REQUEST_TIMEOUT);

        let peers = assign_credentials(urls, &common.credentials_file, env)?;
        let ca_certificates = match path_from(&common.cacert, "EUREKA_HOOK_CACERT", env)? {
            Some(path) => Some(read_ca_file(
                &path,
                source_name(&common.cacert, "--cacert", "EUREKA_HOOK_CACERT"),
            )?),
            None => None,
        };
        let dry_run = flag_or_env_bool(common.dry_run, "EUREKA_HOOK_DRY_RUN", env)?;

        Ok(Settings {
            peers,
            app,
            instance_id,
            instance_id_is_default,
            hostname,
            pod_ip,
            port,
            request_timeout,
            ca_certificates,
            dry_run,
            hook,
            warnings,
        })
    }

    /// Every secret these settings hold, for the logger to mask.
    pub fn secrets(&self) -> Vec<Secret> {
        self.peers
            .iter()
            .filter_map(|peer| peer.credentials.as_ref())
            .map(|credentials| credentials.password.clone())
            .collect()
    }
}

/// The flag's value, else the variable's value parsed, else `None`.
fn pick<T>(
    flag: Option<T>,
    var: &str,
    env: EnvLookup,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>> {
    match flag {
        Some(value) => Ok(Some(value)),
        None => first_env(&[var], env, parse),
    }
}

/// The first variable of `vars` that is set, parsed; a parse error names that variable.
fn first_env<T>(
    vars: &[&str],
    env: EnvLookup,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>> {
    for var in vars {
        if let Some(text) = env(var) {
            return parse(&text)
                .map(Some)
                .map_err(|message| BadInput::new(format!("{var}: {message}")).into());
        }
    }
    Ok(None)
}

fn flag_or_env_bool(flag: bool, var: &str, env: EnvLookup) -> Result<bool> {
    Ok(flag || first_env(&[var], env, values::parse_bool)?.unwrap_or(false))
}

fn path_from(flag: &Option<PathBuf>, var: &str, env: EnvLookup) -> Result<Option<PathBuf>> {
    let path = flag.clone().or_else(|| env(var).map(PathBuf::from));
    match path {
        Some(path) if path.as_os_str().is_empty() => {
            let name = source_name(flag, "the flag", var);
            Err(BadInput::new(format!(
                "{name}: the path is empty: give a file path or unset it"
            ))
            .into())
        }
        other => Ok(other),
    }
}

/// The name to quote in a message: the flag when it was given, else the variable.
fn source_name<'a, T>(flag: &Option<T>, flag_name: &'a str, var: &'a str) -> &'a str {
    if flag.is_some() { flag_name } else { var }
}

/// Gives every peer the credentials it will send, and rejects credentials given two ways at once.
fn assign_credentials(
    urls: Vec<ServiceUrl>,
    credentials_file: &Option<PathBuf>,
    env: EnvLookup,
) -> Result<Vec<Peer>> {
    let from_env = match (env("EUREKA_USERNAME"), env("EUREKA_PASSWORD")) {
        (Some(username), Some(password)) if !username.is_empty() && !password.is_empty() => {
            Some(Credentials {
                username,
                password: Secret::new(password),
            })
        }
        (None, None) => None,
        _ => {
            return Err(BadInput::new(
                "EUREKA_USERNAME and EUREKA_PASSWORD must be set together, both non-empty",
            )
            .into());
        }
    };
    let file_source = source_name(
        credentials_file,
        "--credentials-file",
        "EUREKA_HOOK_CREDENTIALS_FILE",
    );
    let from_file = match path_from(credentials_file, "EUREKA_HOOK_CREDENTIALS_FILE", env)? {
        Some(path) => Some(read_credentials_file(&path, file_source)?),
        None => None,
    };
    let from_url = urls.iter().find_map(|url| url.credentials.clone());

    let given: Vec<&str> = [
        from_url
            .as_ref()
            .map(|_| "user:password@ in the Eureka URL"),
        from_env.as_ref().map(|_| "EUREKA_USERNAME/EUREKA_PASSWORD"),
        from_file.as_ref().map(|_| file_source),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        return Err(BadInput::new(format!(
            "credentials are given more than one way ({}): keep exactly one",
            given.join(" and ")
        ))
        .into());
    }

    // As Spring does, the first credentials found serve every peer that has none of its own.
    let shared = from_url.or(from_env).or(from_file);
    Ok(urls
        .into_iter()
        .map(|url| Peer {
            credentials: url.credentials.clone().or_else(|| shared.clone()),
            url,
        })
        .collect())
}

fn read_credentials_file(path: &Path, source: &str) -> Result<Credentials> {
    let content = std::fs::read_to_string(path)
        .with_context(|| BadInput::new(format!("{source}: cannot read {}", path.display())))?;
    let line = content.trim_end_matches(['\r', '\n']);
    match line.split_once(':') {
        Some((username, password)) if !username.is_empty() && !password.is_empty() => {
            Ok(Credentials {
                username: username.to_string(),
                password: Secret::new(password),
            })
        }
        _ => Err(BadInput::new(format!(
            "{source}: {} must hold user:password on one line",
            path.display()
        ))
        .into()),
    }
}

fn read_ca_file(path: &Path, source: &str) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let pem = std::fs::read(path)
        .with_context(|| BadInput::new(format!("{source}: cannot read {}", path.display())))?;
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(certificate)) => certificates.push(certificate),
            Ok(_) => {}
            Err(err) => {
                return Err(BadInput::new(format!(
                    "{source}: {} is not a valid PEM file ({err})",
                    path.display()
                ))
                .into());
            }
        }
    }
    if certificates.is_empty() {
        return Err(BadInput::new(format!(
            "{source}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ))
        .into());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::collections::HashMap;

    fn resolve_with(args: &[&str], vars: &[(&str, &str)]) -> Result<Settings> {
        let cli = Cli::try_parse_from(std::iter::once("eureka-hook").chain(args.iter().copied()))?;
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(
            &cli,
            &|name| vars.get(name).cloned(),
            &|| Ok("pod-0".into()),
        )
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
        assert_eq!(settings.peers.len(), 1);
        assert_eq!(settings.peers[0].to_string(), DEFAULT_EUREKA_URL);
        assert_eq!(settings.port, 8080);
        assert_eq!(settings.instance_id.as_str(), "pod-0:demo:8080");
        assert!(settings.instance_id_is_default);
        assert_eq!(settings.request_timeout, Duration::from_secs(5));
        assert_eq!(
            settings.hook,
            Hook::Prestop {
                drain: Duration::from_secs(30)
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
        assert_eq!(settings.app.as_given(), "from-eureka-app");
        assert_eq!(settings.port, 9001);
        assert_eq!(settings.peers[0].to_string(), "http://first:8761/eureka/");

        let settings = resolve_with(&["status", "--app", "flag", "--port", "7000"], &vars).unwrap();
        assert_eq!(settings.app.as_given(), "flag");
        assert_eq!(settings.port, 7000);

        let settings = resolve_with(
            &["status"],
            &[
                ("SPRING_APPLICATION_NAME", "spring"),
                ("SERVER_PORT", "8081"),
            ],
        )
        .unwrap();
        assert_eq!(settings.instance_id.as_str(), "pod-0:spring:8081");
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
        assert_eq!(settings.instance_id.as_str(), "second");
        assert!(!settings.instance_id_is_default);
    }

    #[test]
    fn hostname_flag_and_env_build_the_default_id() {
        let settings = resolve_with(
            &["status", "--app", "demo"],
            &[("EUREKA_HOSTNAME", "web-1")],
        )
        .unwrap();
        assert_eq!(settings.instance_id.as_str(), "web-1:demo:8080");
        let settings = resolve_with(
            &["status", "--app", "demo", "--hostname", "web-2"],
            &[("EUREKA_HOSTNAME", "web-1")],
        )
        .unwrap();
        assert_eq!(settings.instance_id.as_str(), "web-2:demo:8080");
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
                strict: true
            }
        );
        let settings = resolve_with(
            &["prestop", "--app", "demo", "--drain", "1s"],
            &[("EUREKA_HOOK_DRAIN", "10s")],
        )
        .unwrap();
        assert_eq!(
            settings.hook,
            Hook::Prestop {
                drain: Duration::from_secs(1)
            }
        );
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        for (var, value) in [
            ("EUREKA_PORT", "0"),
            ("SERVER_PORT", "70000"),
            ("EUREKA_APP", ""),
            ("EUREKA_HOOK_DRAIN", "-3s"),
            ("EUREKA_HOOK_REQUEST_TIMEOUT", "forever"),
            ("EUREKA_URL", "ftp://eureka/"),
            ("EUREKA_HOSTNAME", "bad host"),
            ("EUREKA_INSTANCE_ID", ""),
            ("EUREKA_HOOK_DRY_RUN", "perhaps"),
        ] {
            let vars = [(var, value), ("SPRING_APPLICATION_NAME", "demo")];
            let message = bad_input_message(&["prestop"], &vars);
            assert!(message.starts_with(var), "{var}={value}: {message}");
        }
    }

    #[test]
    fn missing_app_says_how_to_give_one() {
        let message = bad_input_message(&["status"], &[]);
        assert!(message.contains("--app") && message.contains("SPRING_APPLICATION_NAME"));
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
            .peers
            .iter()
            .map(|peer| peer.credentials.as_ref().map(|c| c.username.as_str()))
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
        assert!(settings.peers.iter().all(|peer| peer.credentials.is_some()));
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
        let credentials = settings.peers[0].credentials.clone().unwrap();
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
            message.starts_with("--credentials-file: cannot read"),
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
        assert!(message.starts_with("--cacert: cannot read"), "{message}");
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
        let env = |name: &str| vars.get(name).map(|v| v.to_string());
        let log = LogSettings::resolve(&cli.common, &env).unwrap();
        assert_eq!(log.verbosity, Verbosity::Verbose);
        assert_eq!(log.format, LogFormat::Json);
        assert_eq!(log.file, Some(PathBuf::from("/tmp/x")));

        let bad = |name: &str| (name == "EUREKA_HOOK_LOG_FORMAT").then(|| "xml".to_string());
        let cli = Cli::try_parse_from(["eureka-hook", "status"]).unwrap();
        let err = LogSettings::resolve(&cli.common, &bad).unwrap_err();
        assert!(format!("{err:#}").starts_with("EUREKA_HOOK_LOG_FORMAT"));
    }
}
