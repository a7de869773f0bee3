//! The command line: clap's derive `Cli` and its subcommands, and the `--help` text.
//!
//! Only what the user typed lives here, checked by the parsers in `values`. Environment variables
//! and defaults are resolved in `settings` (so they can be tested without touching the process
//! environment); the help text names them. Service URLs stay plain strings here because clap quotes
//! an invalid value in its error, and a URL may carry a password; for the same reason a refused
//! command line is worded again from its words with their userinfo hidden. A subcommand's own
//! flags may come before it: they are moved after it before clap reads the line. No I/O.

// The `///` comments below are the --help text, where Markdown backticks would print as they are.
#![allow(clippy::doc_markdown)]

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::log::LogFormat;
use crate::{redact, values, vars};

/// The top-level `--help` epilogue: usage examples, then the exit codes.
const AFTER_HELP: &str = concat!(
    "Examples:\n",
    "  # preStop hook: leave the registry, then hold the pod for 60 s\n",
    "  eureka-hook prestop --drain 60s --log-file /proc/1/fd/1\n",
    "  # postStart hook: clear an override a previous pod with the same name left behind\n",
    "  eureka-hook poststart --log-file /proc/1/fd/1\n",
    "  # manual drain of a running pod, and undoing it\n",
    "  kubectl exec POD -- eureka-hook prestop --drain 0s\n",
    "  kubectl exec POD -- eureka-hook poststart\n",
    "  kubectl exec POD -- eureka-hook status\n",
    "  # no app name set: find this pod's instance by its address (and SERVER_PORT, if set)\n",
    "  eureka-hook prestop --eureka-url http://eureka:8761/eureka/ --drain 60s\n\n",
    "Exit codes:\n",
    "  0  done (prestop: a peer accepted OUT_OF_SERVICE and the drain was held)\n",
    "  1  failed: every peer refused, timed out, answered 5xx or was not Eureka; or stdout could\n",
    "     not be written, or a bug (the error line says which)\n",
    "  2  bad input: a flag or environment variable is wrong; nothing was sent\n",
    "  3  this instance is not registered on any peer (with no app name: no instance, or\n",
    "     several, with this pod's address and port; prestop still holds the drain)\n",
    "  4  the registry refused the credentials (401/403)"
);

/// Takes a Spring Cloud (Netflix Eureka) instance out of the registry before Kubernetes kills its
/// pod, and clears stale status overrides when it starts.
///
/// Each value comes from its flag, else from the first environment variable listed for it, else
/// from the default. Logs go to stderr (and to --log-file); only `status` writes to stdout.
#[derive(Debug, Parser)]
#[command(
    name = "eureka-hook",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("EUREKA_HOOK_TARGET"), ")"),
    after_help = AFTER_HELP,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: HookCommand,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Mark this instance OUT_OF_SERVICE on every Eureka peer, then hold the pod for the drain window.
    ///
    /// Each peer is asked for the app's instances (compact, gzip) and its delta, then at once sent
    /// the PUT for each id Spring Cloud may have used, all within one request timeout; all peers at
    /// once, none waiting for another. If every peer answers 404, the one instance in those
    /// listings with this pod's host or address and port is marked instead. During the drain the
    /// hook polls, on each peer that accepted, whichever of the two cost fewer bytes: once a second
    /// until consumers of the peer can see OUT_OF_SERVICE (it logs when), then every 5 s until the
    /// drain ends; a peer that lost the mark is marked again once. The drain is held
    /// whatever the registry answered (only bad input returns at once); --after-propagation may end
    /// it early, SIGTERM or SIGINT cut it short. Time bound: at most two request timeouts for the
    /// registry (retries included; three with --drain 0), then at most --drain.
    #[command(after_help = concat!(
        "Examples:\n",
        "  eureka-hook prestop --drain 60s --log-file /proc/1/fd/1\n",
        "  # hold at most 100 s, but only 70 s after every peer shows the change to consumers\n",
        "  eureka-hook prestop --drain 100s --after-propagation 70s\n",
        "  kubectl exec POD -- eureka-hook prestop --drain 0s   # manual drain, pod keeps running\n\n",
        "Exit codes (after the drain):\n",
        "  0  a peer accepted OUT_OF_SERVICE\n",
        "  1  every peer refused the connection, timed out or answered 5xx\n",
        "  2  bad input; nothing was sent and no drain was held\n",
        "  3  this instance is not registered on any peer\n",
        "  4  the registry refused the credentials (401/403)"
    ))]
    Prestop(PrestopArgs),

    /// Wait until this instance is registered, then remove any status override left on it.
    ///
    /// Polls GET apps/{APP}/{ID} on every peer (for each id Spring Cloud may have used, then the
    /// instance with this pod's host or address and port) until the instance appears or --wait
    /// runs out; then sends DELETE .../status to each peer that shows a stale override: with
    /// ?value=UP (UP at once) when the record is this pod's, registered after its PID 1 started, and
    /// the app answers its health check with a 2xx; else without a value, as Eureka's own clients
    /// do, so the app's next heartbeat re-registers it with its own status.
    /// Registry trouble is a warning and exit 0 unless --strict. Time bound: --wait plus one request
    /// timeout.
    #[command(after_help = concat!(
        "Examples:\n",
        "  eureka-hook poststart --log-file /proc/1/fd/1\n",
        "  kubectl exec POD -- eureka-hook poststart --wait 10s   # undo a manual drain\n\n",
        "Exit codes:\n",
        "  0  done, or (without --strict) the registry was unreachable or the instance never appeared\n",
        "  1  --strict: the registry was unreachable\n",
        "  2  bad input; nothing was sent\n",
        "  3  --strict: the instance was not registered within --wait\n",
        "  4  --strict: the registry refused the credentials (401/403)"
    ))]
    Poststart(PoststartArgs),

    /// Show this instance's status and status override as every Eureka peer sees it (on stdout).
    #[command(after_help = concat!(
        "Examples:\n",
        "  kubectl exec POD -- eureka-hook status\n\n",
        "Exit codes:\n",
        "  0  at least one peer knows this instance\n",
        "  1  no peer could be asked (refused, timed out, 5xx)\n",
        "  2  bad input; nothing was sent\n",
        "  3  this instance is not registered on any peer\n",
        "  4  the registry refused the credentials (401/403)"
    ))]
    Status,
}

#[derive(Debug, Args)]
pub struct PrestopArgs {
    /// How long to hold the pod after marking it, so consumers' caches drop it (e.g. 30s, 1m30s);
    /// the most the drain lasts [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_hold, allow_hyphen_values = true)]
    pub drain: Option<Duration>,

    /// End the drain this long after the last peer showed OUT_OF_SERVICE to consumers: enough for
    /// their registry fetch and load-balancer cache (70s for Spring Cloud's defaults: 30 + 35 +
    /// 5). Never later than --drain; the full --drain when a peer could not be watched or had to
    /// be marked again [default: unset, hold the full --drain]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_hold, allow_hyphen_values = true)]
    pub after_propagation: Option<Duration>,

    /// How often the Eureka servers refresh the response cache consumers read
    /// (response-cache-update-interval-ms); a peer still showing this instance UP this long plus 5 s
    /// after the mark has its live record checked, and is marked again if the mark was lost
    /// [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_hold, allow_hyphen_values = true)]
    pub server_cache: Option<Duration>,

    /// Do not end the drain until this long has passed without inbound data to --port from a
    /// counted source (read from the kernel's sock_diag, about twice a second); it only ever extends
    /// the end --after-propagation gives, never past --drain [default: unset]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_hold, allow_hyphen_values = true)]
    pub until_quiet: Option<Duration>,

    /// Inbound sources not counted, comma-separated addresses or CIDR blocks, IPv4 or IPv6 (e.g.
    /// the node's address, from which kubelet probes come); loopback counts, as sidecars use it
    /// [default: none]
    #[arg(long, value_name = "LIST", value_parser = crate::inbound::parse_ignored)]
    pub ignore_source: Option<crate::inbound::IgnoredSources>,
}

#[derive(Debug, Args)]
pub struct PoststartArgs {
    /// How long to wait for this instance to register (e.g. 90s) [default: 90s]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_hold, allow_hyphen_values = true)]
    pub wait: Option<Duration>,

    /// Fail (exit 1, 3 or 4) when the registry is unreachable, the instance never registers or the
    /// credentials are refused, instead of warning and exiting 0
    #[arg(long)]
    pub strict: bool,

    /// Never bring a drained instance back UP at once: remove a stale override with DELETE
    /// .../status (UNKNOWN until the next heartbeat) even when the record is this pod's, newer
    /// than its start and the app is healthy; the variable set to false does the same
    #[arg(long)]
    pub no_fast_return: bool,

    /// The app's health check for the fast return, asked from inside the pod with no credentials
    /// (e.g. http://127.0.0.1:8080/actuator/health) [default: the record's healthCheckUrl]
    #[arg(long, value_name = "URL", value_parser = values::parse_health_url)]
    pub health_url: Option<String>,
}

/// Flags every subcommand takes; they may come before or after the subcommand.
#[derive(Debug, Default, Args)]
pub struct CommonArgs {
    /// Eureka service URLs, comma-separated as Spring's defaultZone
    /// [default: http://localhost:8761/eureka/]
    #[arg(long, value_name = "URL[,URL...]", global = true)]
    pub eureka_url: Option<String>,

    /// Application name the instance is registered under; the instance id keeps
    /// SPRING_APPLICATION_NAME's spelling when it is set
    /// [default: none: the registry (GET apps/) is asked which instance has this pod's host name
    /// or address and port, and its app and id are used]
    #[arg(long, value_name = "NAME", global = true, value_parser = app_name)]
    pub app: Option<values::AppName>,

    /// The port the instance registered with, as Spring Cloud takes it (SERVER_PORT=0: any port)
    /// [default: 8080]
    #[arg(long, value_name = "N", global = true, value_parser = values::parse_port, allow_hyphen_values = true)]
    pub port: Option<u16>,

    /// The host part of the instance id
    /// [default: as Spring Cloud finds it: the /etc/hosts name of this machine's first
    /// non-loopback IPv4 address, else that address, else the kernel hostname]
    #[arg(long, value_name = "NAME", global = true, value_parser = values::parse_hostname)]
    pub hostname: Option<String>,

    /// Eureka instanceId [default: Spring Cloud's {host}:{app}:{index}, the index
    /// from SPRING_APPLICATION_INSTANCE_ID or SERVER_PORT; without either, {host}:{app}:{port}
    /// and {host}:{app} are both tried]
    #[arg(long, value_name = "ID", global = true, value_parser = instance_id)]
    pub instance_id: Option<values::InstanceId>,

    /// Time limit for each request to a peer, retries included: a refused connection, a reset or a
    /// 5xx is retried after 100 ms, then 200 ms, 400 ms… (or the server's Retry-After) while time
    /// is left; the rest is never retried [default: 5s]
    #[arg(long, value_name = "DURATION", global = true, value_parser = values::parse_request_timeout, allow_hyphen_values = true)]
    pub request_timeout: Option<Duration>,

    /// PEM file of CA certificates to trust instead of the built-in Mozilla roots; a self-signed
    /// server certificate in it is trusted even if marked CA:TRUE
    #[arg(long, value_name = "FILE", global = true)]
    pub cacert: Option<PathBuf>,

    /// File holding exactly one line `user:password` for HTTP Basic auth, e.g. a mounted Secret;
    /// or set EUREKA_USERNAME and EUREKA_PASSWORD
    #[arg(long, value_name = "FILE", global = true)]
    pub credentials_file: Option<PathBuf>,

    /// Also append every log line to this file, e.g. /proc/1/fd/1 to show in `kubectl logs`
    #[arg(long, value_name = "PATH", global = true)]
    pub log_file: Option<PathBuf>,

    /// Log line format [default: text]
    #[arg(long, value_name = "FORMAT", global = true)]
    pub log_format: Option<LogFormat>,

    /// Resolve and check everything, print the requests that would be sent, send nothing and do
    /// not sleep
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Log more: every request with its timing
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Log only warnings and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// clap's `Command` for [`Cli`], each flag's help ending in the variables it is also read from
/// (`[env: A, B]`), taken from `vars::BY_FLAG` so that every variable name is written once. clap's
/// own `env` attribute cannot serve: it reads one variable per flag from the process environment
/// itself, while a flag here has up to three, empty means unset, and tests inject the environment.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
        .mut_args(with_variable_names)
        .mut_subcommands(|subcommand| subcommand.mut_args(with_variable_names))
}

/// `arg` with its help ending in the variables `vars::BY_FLAG` lists for it.
fn with_variable_names(arg: clap::Arg) -> clap::Arg {
    let names = arg
        .get_long()
        .and_then(|long| vars::BY_FLAG.iter().find(|(flag, _)| *flag == long))
        .map(|(_, names)| names.join(", "));
    match (names, arg.get_help().map(ToString::to_string)) {
        (Some(names), Some(help)) => arg.help(format!("{help} [env: {names}]")),
        _ => arg,
    }
}

/// `args` (the program name first) parsed against [`command`], a subcommand's own flags accepted
/// before it too.
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let mut command = command();
    let args = hook_flags_after_subcommand(&command, args.into_iter().map(Into::into).collect());
    let mut matches = command.try_get_matches_from_mut(args)?;
    // As clap's own `try_parse_from`, which formats this error against a fresh `Command`.
    Cli::from_arg_matches_mut(&mut matches).map_err(|err| err.format(&mut command))
}

/// `args` with the flags of a subcommand that come before it moved to just after it, so that
/// `eureka-hook --drain 5s prestop` parses as `eureka-hook prestop --drain 5s`: clap takes a
/// subcommand's own flags only after it, and declaring them `global` would list them in every
/// subcommand's --help. The words are walked as clap reads them (a flag's value is skipped, `--`
/// ends the walk); without a subcommand, or with nothing to move, `args` comes back unchanged.
fn hook_flags_after_subcommand(command: &clap::Command, args: Vec<OsString>) -> Vec<OsString> {
    let mut kept: Vec<OsString> = Vec::with_capacity(args.len());
    let mut moved: Vec<OsString> = Vec::new();
    let mut words = args.iter().cloned();
    kept.extend(words.next());
    while let Some(word) = words.next() {
        let text = word.to_str().unwrap_or_default();
        if text == "--" {
            break;
        }
        if command.find_subcommand(text).is_some() {
            if moved.is_empty() {
                return args;
            }
            kept.push(word);
            kept.append(&mut moved);
            kept.extend(words);
            return kept;
        }
        let (to, value_follows) = match long_flag(command, text) {
            Some(LongFlag {
                of_subcommand,
                value_follows,
            }) => (
                if of_subcommand { &mut moved } else { &mut kept },
                value_follows,
            ),
            None => (&mut kept, false),
        };
        to.push(word);
        if value_follows {
            to.extend(words.next());
        }
    }
    args
}

/// A known long flag, as it stands on a command line.
struct LongFlag {
    /// It belongs to a subcommand, not to the top level.
    of_subcommand: bool,
    /// Its value is the next word (not given as `--flag=value`).
    value_follows: bool,
}

fn long_flag(command: &clap::Command, word: &str) -> Option<LongFlag> {
    let name = word.strip_prefix("--")?;
    let (long, inline_value) = name
        .split_once('=')
        .map_or((name, false), |(long, _)| (long, true));
    let named = |arg: &&clap::Arg| arg.get_long() == Some(long);
    let (arg, of_subcommand) = match command.get_arguments().find(named) {
        Some(arg) => (arg, false),
        None => (
            command
                .get_subcommands()
                .flat_map(clap::Command::get_arguments)
                .find(named)?,
            true,
        ),
    };
    Some(LongFlag {
        of_subcommand,
        value_follows: arg.get_action().takes_values() && !inline_value,
    })
}

/// The error clap gives for `args`, worded from the same command line with the userinfo of every
/// word hidden ([`redact::argv_word`]), so that clap never quotes a password; a word's userinfo
/// does not change how the line parses, so the error is the same one. Should the hidden line parse
/// differently, `err` is worded as it is, and [`redact::redact_url_text`] has the last word.
pub fn refusal_without_userinfo(
    err: &clap::Error,
    args: impl IntoIterator<Item = OsString>,
) -> String {
    let hidden: Vec<OsString> = args
        .into_iter()
        .map(|word| redact::argv_word(&word))
        .collect();
    let text = match parse(hidden) {
        Err(again) if again.kind() == err.kind() => again.render().to_string(),
        _ => err.render().to_string(),
    };
    redact::redact_url_text(&text)
}

/// The log flags (`--log-file`, `--log-format`, `-v`, `-q`) of a command line that clap refused,
/// so that its error still reaches --log-file in --log-format. clap stops at the first error, even
/// with `ignore_errors`, and would miss a `--log-file` that follows a bad value; so these four are
/// picked out of the arguments by hand, in the forms clap accepts for them (`--flag VALUE`,
/// `--flag=VALUE`, up to a `--`). A value that is not valid here is left out.
pub fn log_args_despite_errors(args: impl IntoIterator<Item = std::ffi::OsString>) -> CommonArgs {
    use clap::ValueEnum;
    let mut common = CommonArgs::default();
    let mut args = args.into_iter().skip(1);
    while let Some(arg) = args.next() {
        let Some(arg) = arg.to_str().map(str::to_string) else {
            continue;
        };
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.into())),
            _ => (arg, None),
        };
        match flag.as_str() {
            "--" => break,
            "-v" | "--verbose" => common.verbose = true,
            "-q" | "--quiet" => common.quiet = true,
            "--log-file" => {
                common.log_file = inline_value
                    .map(PathBuf::from)
                    .or_else(|| args.next().map(PathBuf::from));
            }
            "--log-format" => {
                let value = inline_value.or_else(|| args.next().and_then(|v| v.into_string().ok()));
                // The last valid one: clap refuses a repeated flag anyway.
                if let Some(format) = value.and_then(|v| LogFormat::from_str(&v, true).ok()) {
                    common.log_format = Some(format);
                }
            }
            _ => {}
        }
    }
    if common.verbose && common.quiet {
        (common.verbose, common.quiet) = (false, false);
    }
    common
}

fn app_name(text: &str) -> Result<values::AppName, String> {
    values::AppName::parse(text)
}

fn instance_id(text: &str) -> Result<values::InstanceId, String> {
    values::InstanceId::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        crate::cli::command().debug_assert();
    }

    #[test]
    fn parsing_gives_what_clap_gives() {
        for args in [
            vec!["prestop", "--app", "demo", "--drain", "1m"],
            vec!["status", "-v", "--eureka-url", "http://eureka:8761/eureka/"],
            vec!["prestop", "--port", "0"],
            vec!["poststart", "--no-such-flag"],
            vec!["--version"],
            vec![],
        ] {
            let line = || std::iter::once("eureka-hook").chain(args.iter().copied());
            let plain = command()
                .try_get_matches_from(line())
                .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches));
            match (parse(line()), plain) {
                (Ok(kept), Ok(plain)) => assert_eq!(format!("{kept:?}"), format!("{plain:?}")),
                (Err(kept), Err(plain)) => {
                    assert_eq!(kept.kind(), plain.kind(), "{args:?}");
                    assert_eq!(kept.to_string(), plain.to_string(), "{args:?}");
                }
                (kept, plain) => panic!("{args:?}: {kept:?} against {plain:?}"),
            }
        }
    }

    #[test]
    fn common_flags_may_follow_the_subcommand() {
        let cli = Cli::try_parse_from(["eureka-hook", "prestop", "--app", "demo", "--drain", "1m"])
            .unwrap();
        assert_eq!(cli.common.app.unwrap().as_given(), "demo");
        let HookCommand::Prestop(args) = cli.command else {
            panic!("not prestop")
        };
        assert_eq!(args.drain, Some(Duration::from_secs(60)));
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, flag) in [
            (vec!["prestop", "--port", "0"], "--port"),
            (vec!["prestop", "--port", "-1"], "--port"),
            (vec!["prestop", "--drain", "soon"], "--drain"),
            (vec!["poststart", "--wait", "-1s"], "--wait"),
            (vec!["status", "--app", ""], "--app"),
            (
                vec!["status", "--request-timeout", "0s"],
                "--request-timeout",
            ),
        ] {
            let err = Cli::try_parse_from(std::iter::once("eureka-hook").chain(args.clone()))
                .unwrap_err()
                .to_string();
            assert!(err.contains(flag), "{args:?}: {err}");
        }
    }

    #[test]
    fn log_flags_are_found_in_a_command_line_clap_refused() {
        let args = |list: &[&str]| {
            log_args_despite_errors(
                std::iter::once("eureka-hook")
                    .chain(list.iter().copied())
                    .map(std::ffi::OsString::from),
            )
        };
        let common = args(&[
            "prestop",
            "--drain",
            "soon",
            "--log-file",
            "/l",
            "--log-format=json",
            "-v",
        ]);
        assert_eq!(common.log_file, Some(PathBuf::from("/l")));
        assert_eq!(common.log_format, Some(LogFormat::Json));
        assert!(common.verbose && !common.quiet);
        let common = args(&[
            "--log-file=/m",
            "--log-format",
            "xml",
            "-q",
            "--",
            "--log-file",
            "/n",
        ]);
        assert_eq!(common.log_file, Some(PathBuf::from("/m")));
        assert_eq!(common.log_format, None);
        assert!(common.quiet);
        let common = args(&["--log-format", "json", "--log-format", "xml"]);
        assert_eq!(common.log_format, Some(LogFormat::Json));
    }

    #[test]
    fn drain_belongs_to_prestop_only() {
        assert!(Cli::try_parse_from(["eureka-hook", "status", "--drain", "1s"]).is_err());
    }

    #[test]
    fn every_subcommand_help_has_examples_and_its_exit_codes() {
        let mut command = crate::cli::command();
        for name in ["prestop", "poststart", "status"] {
            let help = command
                .find_subcommand_mut(name)
                .unwrap()
                .render_long_help()
                .to_string();
            assert!(help.contains("Examples:"), "{name}: {help}");
            assert!(help.contains("Exit codes"), "{name}: {help}");
            for code in ["0  ", "1  ", "2  ", "3  ", "4  "] {
                assert!(help.contains(code), "{name} lacks exit code {code}");
            }
        }
    }

    #[test]
    fn help_lists_examples_and_exit_codes() {
        let help = crate::cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"));
        assert!(help.contains("kubectl exec POD -- eureka-hook prestop --drain 0s"));
        for code in [
            "0  done",
            "1  failed: every peer",
            "2  bad input",
            "3  this instance",
            "4  the registry",
        ] {
            assert!(help.contains(code), "exit code line '{code}' missing");
        }
    }
}

/// Property test: the flags of a command line may come before or after the subcommand, in any
/// order, and parse the same.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn flags_parse_the_same_before_or_after_the_subcommand(
            before in proptest::collection::vec(any::<bool>(), 5),
            order in Just(vec![0usize, 1, 2, 3, 4]).prop_shuffle(),
        ) {
            let flags: [&[&str]; 5] = [
                &["--drain", "5s"],
                &["--app", "prestop"],
                &["-v"],
                &["--after-propagation=2s"],
                &["--eureka-url", "http://u:p@a/eureka/"],
            ];
            let mut line = vec!["eureka-hook"];
            let mut after: Vec<&str> = Vec::new();
            for index in order {
                if before[index] { line.extend(flags[index]); } else { after.extend(flags[index]); }
            }
            line.push("prestop");
            line.extend(after);
            let parsed = parse(line.clone());
            prop_assert!(parsed.is_ok(), "{:?}: {:?}", line, parsed.err());
            let canonical = Cli::try_parse_from([
                "eureka-hook", "prestop", "--drain", "5s", "--app", "prestop", "-v",
                "--after-propagation=2s", "--eureka-url", "http://u:p@a/eureka/",
            ]).unwrap();
            prop_assert_eq!(format!("{:?}", parsed.unwrap()), format!("{canonical:?}"));
        }
    }

    proptest! {
        #[test]
        fn clap_never_quotes_a_password_from_a_stray_word(
            tail in "[a-zA-Z0-9/?#@:%, '\"!$&()*+;=~.-]{0,24}",
            before_subcommand in any::<bool>(),
            bare in any::<bool>(),
        ) {
            let password = format!("Pw9{tail}");
            let stray = if bare {
                format!("eureka:{password}@b/eureka/")
            } else {
                format!("http://eureka:{password}@b/eureka/")
            };
            let mut line = vec!["eureka-hook".to_string()];
            let words = ["--eureka-url".to_string(), "http://a/eureka/,".to_string(), stray];
            if before_subcommand {
                line.extend(words);
                line.push("prestop".into());
            } else {
                line.push("prestop".into());
                line.extend(words);
            }
            let args: Vec<OsString> = line.iter().map(OsString::from).collect();
            let err = parse(args.clone()).unwrap_err();
            let shown = refusal_without_userinfo(&err, args);
            prop_assert!(!shown.contains(&password) && !shown.contains("Pw9"), "{}", shown);
            prop_assert!(shown.contains("eureka:***@b/eureka/"), "{}", shown);
        }
    }
}
