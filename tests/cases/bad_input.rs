//! The bad input matrix: every wrong flag, variable or file is rejected with exit 2 and a message
//! that names it, before any request is sent and without a drain.

use std::time::Duration;

use crate::support::*;

/// One bad invocation: its arguments, its environment, and what the error must name.
struct BadCase {
    args: Vec<String>,
    vars: Vec<(&'static str, String)>,
    names: &'static str,
}

fn case(args: &[&str], vars: &[(&'static str, &str)], names: &'static str) -> BadCase {
    BadCase {
        args: args.iter().map(|arg| arg.to_string()).collect(),
        vars: vars
            .iter()
            .map(|(name, value)| (*name, value.to_string()))
            .collect(),
        names,
    }
}

#[test]
fn bad_input_is_rejected_with_exit_2_naming_the_culprit_before_any_request() {
    let double = registry_with_instance();
    let url = double.base_url();
    let not_pem = TempFile::new("not-pem", "-----BEGIN NOTHING-----\n");
    let no_colon = TempFile::new("credentials-without-colon", "just-a-user\n");
    let credentials = TempFile::new("credentials", "eureka:Bad-Input-Sentinel-3\n");
    let url_with_password = url.replace("http://", "http://eureka:Bad-Input-Sentinel-2@");
    let cases = [
        // flags that do not exist or belong to another subcommand
        case(&["prestop", "--app", APP, "--bogus"], &[], "--bogus"),
        case(&["status", "--app", APP, "--drain", "1s"], &[], "--drain"),
        // app
        // (no app name at all is not bad input: tests/cases/unnamed.rs)
        case(&["prestop", "--app", ""], &[], "--app"),
        case(&["prestop"], &[("EUREKA_APP", "a\tb")], "EUREKA_APP"),
        case(
            &["prestop"],
            &[("SPRING_APPLICATION_NAME", "demo service")],
            "SPRING_APPLICATION_NAME",
        ),
        // port
        case(&["prestop", "--app", APP, "--port", "0"], &[], "--port"),
        case(&["prestop", "--app", APP, "--port", "http"], &[], "--port"),
        case(
            &["prestop", "--app", APP],
            &[("SERVER_PORT", "65536")],
            "SERVER_PORT",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_PORT", "-1")],
            "EUREKA_PORT",
        ),
        // durations
        case(&["prestop", "--app", APP, "--drain", "-5s"], &[], "--drain"),
        case(&["prestop", "--app", APP, "--drain", "25h"], &[], "--drain"),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_HOOK_DRAIN", "soon")],
            "EUREKA_HOOK_DRAIN",
        ),
        case(&["poststart", "--app", APP, "--wait", "30"], &[], "--wait"),
        case(
            &["poststart", "--app", APP],
            &[("EUREKA_HOOK_WAIT", "1year")],
            "EUREKA_HOOK_WAIT",
        ),
        case(
            &["prestop", "--app", APP, "--request-timeout", "0s"],
            &[],
            "--request-timeout",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_HOOK_REQUEST_TIMEOUT", "forever")],
            "EUREKA_HOOK_REQUEST_TIMEOUT",
        ),
        // urls
        case(
            &["prestop", "--app", APP, "--eureka-url", "ftp://eureka/"],
            &[],
            "--eureka-url",
        ),
        case(
            &[
                "prestop",
                "--app",
                APP,
                "--eureka-url",
                &format!("{url},,{url}"),
            ],
            &[],
            "--eureka-url",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_URL", "http:///eureka/")],
            "EUREKA_URL",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_URL", "http://user@host/eureka/")],
            "EUREKA_URL: 'http://***@host/eureka/' has a username without a password",
        ),
        // instance id and hostname
        case(
            &["prestop", "--app", APP, "--instance-id", ""],
            &[],
            "--instance-id",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_INSTANCE_INSTANCEID", "a b")],
            "EUREKA_INSTANCE_INSTANCEID",
        ),
        case(
            &["prestop", "--app", APP, "--hostname", "bad host"],
            &[],
            "--hostname",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_HOSTNAME", "a/b")],
            "EUREKA_HOSTNAME",
        ),
        // CA file
        case(
            &["prestop", "--app", APP, "--cacert", "/nonexistent/ca.pem"],
            &[],
            "--cacert",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_HOOK_CACERT", not_pem.path_str())],
            "EUREKA_HOOK_CACERT",
        ),
        case(&["prestop", "--app", APP, "--cacert", ""], &[], "--cacert"),
        // credentials half given, given twice, or unreadable
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_USERNAME", "eureka")],
            "EUREKA_PASSWORD",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_PASSWORD", "Bad-Input-Sentinel-1")],
            "EUREKA_USERNAME",
        ),
        case(
            &["prestop", "--app", APP],
            &[
                ("EUREKA_URL", &url_with_password),
                ("EUREKA_USERNAME", "eureka"),
                ("EUREKA_PASSWORD", "Bad-Input-Sentinel-1"),
            ],
            "EUREKA_USERNAME/EUREKA_PASSWORD",
        ),
        case(
            &[
                "prestop",
                "--app",
                APP,
                "--credentials-file",
                credentials.path_str(),
            ],
            &[
                ("EUREKA_USERNAME", "eureka"),
                ("EUREKA_PASSWORD", "Bad-Input-Sentinel-1"),
            ],
            "--credentials-file",
        ),
        case(
            &[
                "prestop",
                "--app",
                APP,
                "--credentials-file",
                "/nonexistent/credentials",
            ],
            &[],
            "--credentials-file",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_HOOK_CREDENTIALS_FILE", no_colon.path_str())],
            "EUREKA_HOOK_CREDENTIALS_FILE",
        ),
        // conflicting or malformed switches
        case(&["prestop", "--app", APP, "-v", "-q"], &[], "--quiet"),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_HOOK_VERBOSE", "1"), ("EUREKA_HOOK_QUIET", "1")],
            "EUREKA_HOOK_QUIET",
        ),
        case(
            &["poststart", "--app", APP],
            &[("EUREKA_HOOK_STRICT", "perhaps")],
            "EUREKA_HOOK_STRICT",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_HOOK_DRY_RUN", "perhaps")],
            "EUREKA_HOOK_DRY_RUN",
        ),
        case(
            &["prestop", "--app", APP, "--log-format", "xml"],
            &[],
            "--log-format",
        ),
        case(
            &["prestop", "--app", APP],
            &[("EUREKA_HOOK_LOG_FORMAT", "xml")],
            "EUREKA_HOOK_LOG_FORMAT",
        ),
        // Spring Boot refuses to start with a SPRING_APPLICATION_JSON that is not a JSON object
        case(
            &["prestop"],
            &[("SPRING_APPLICATION_JSON", r#"{"spring":{"application":"#)],
            "SPRING_APPLICATION_JSON: is not valid JSON",
        ),
        case(
            &["prestop"],
            &[("spring.application.json", "[1,2]")],
            "spring.application.json: is not a JSON object",
        ),
        // a bad value under a name Spring binds: the error names the variable the hook asked
        // for, and a warning (shown even with -q) the name the value came from
        case(
            &["prestop", "-q"],
            &[("spring.application.name", "demo service")],
            "warning: SPRING_APPLICATION_NAME is read from spring.application.name",
        ),
    ];
    // Spring's variable, when it is the only URL given.
    let default_zone = hook(&["prestop", "--app", APP])
        .without_env("EUREKA_URL")
        .env(
            "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            "eureka:8761/eureka/",
        );

    let mut hooks: Vec<Hook> = cases
        .iter()
        .map(|BadCase { args, vars, .. }| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut command = hook(&args).env("EUREKA_URL", &url);
            for (name, value) in vars {
                command = command.env(name, value.as_str());
            }
            command
        })
        .collect();
    hooks.push(default_zone);
    let names = cases
        .iter()
        .map(|case| case.names)
        .chain(["EUREKA_CLIENT_SERVICEURL_DEFAULTZONE"]);
    let outcomes = run_all(&hooks);
    for (outcome, names) in outcomes.iter().zip(names) {
        outcome
            .assert_code(2)
            .assert_stderr_contains(names)
            .assert_took_less_than(Duration::from_secs(5));
    }
    assert!(
        double.requests().is_empty(),
        "bad input sent {:?}",
        double.requests()
    );
}

/// A named pipe with no writer, removed when dropped.
struct Fifo(TempFile);

impl Fifo {
    fn new(name: &str) -> Fifo {
        let file = TempFile::new(name, "");
        std::fs::remove_file(file.path_str()).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(file.path_str())
            .status()
            .expect("mkfifo (coreutils) is needed to make a FIFO for this test");
        assert!(status.success(), "mkfifo {} failed", file.path_str());
        Fifo(file)
    }
}

#[test]
fn a_file_that_is_a_device_a_fifo_a_directory_or_too_large_is_bad_input_at_once() {
    let double = registry_with_instance();
    let fifo = Fifo::new("credentials-fifo");
    let huge_credentials = TempFile::new("huge-credentials", vec![b'a'; 64 * 1024 + 1]);
    let huge_ca = TempFile::new("huge-ca", vec![b'-'; 4 * 1024 * 1024 + 1]);
    let dir = std::env::temp_dir();
    let dir = dir.to_str().unwrap();
    let fifo_path = fifo.0.path_str();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 9] = [
        (
            &["--credentials-file", "/dev/zero"],
            &[],
            "--credentials-file: /dev/zero: it is a character device",
        ),
        (
            &[],
            &[("EUREKA_HOOK_CREDENTIALS_FILE", "/dev/urandom")],
            "EUREKA_HOOK_CREDENTIALS_FILE: /dev/urandom: it is a character device",
        ),
        (
            &["--credentials-file", fifo_path],
            &[],
            "it is a FIFO (named pipe), not a regular file",
        ),
        (&["--credentials-file", dir], &[], "it is a directory"),
        (
            &["--credentials-file", huge_credentials.path_str()],
            &[],
            "it is larger than 65536 bytes",
        ),
        (
            &["--cacert", "/dev/zero"],
            &[],
            "--cacert: /dev/zero: it is a character device",
        ),
        (
            &[],
            &[("EUREKA_HOOK_CACERT", fifo_path)],
            "EUREKA_HOOK_CACERT",
        ),
        (&["--cacert", dir], &[], "--cacert"),
        (
            &["--cacert", huge_ca.path_str()],
            &[],
            "it is larger than 4194304 bytes",
        ),
    ];
    let hooks: Vec<Hook> = cases
        .iter()
        .map(|(args, vars, _)| {
            let mut line = vec!["prestop", "--app", APP, "--drain", "5s"];
            line.extend_from_slice(args);
            let mut command = hook(&line).env("EUREKA_URL", double.base_url());
            for (name, value) in *vars {
                command = command.env(name, *value);
            }
            command
        })
        .collect();
    for (outcome, (_, _, expected)) in run_all(&hooks).iter().zip(cases) {
        outcome
            .assert_code(2)
            .assert_stderr_contains(expected)
            .assert_took_less_than(Duration::from_secs(4));
    }
    assert!(
        double.requests().is_empty(),
        "bad input sent {:?}",
        double.requests()
    );
}

/// A URL list split by a stray space (`--eureka-url "a/, b/"` typed without the quotes), or an
/// extra word with userinfo: clap refuses the command line and quotes the word, but never the
/// password in it, whatever the password holds.
#[test]
fn a_password_in_a_stray_argument_is_never_printed_by_the_argument_parser() {
    let double = registry_with_instance();
    let url = double.base_url();
    let with = |password: &str| url.replacen("http://", &format!("http://eureka:{password}@"), 1);
    let long_password = format!("Long-{}", "x".repeat(120));
    let stray_lists: Vec<(Vec<String>, &str)> = vec![
        (
            vec![format!("{},", with("Stray-Pw-1234")), with("Stray-Pw-1234")],
            "Stray-Pw-1234",
        ),
        (vec![with("Quote'Pw-1234")], "Quote'Pw-1234"),
        (vec![with(&long_password)], "Long-xxxxxxxx"),
        (
            vec!["eureka:Bare-Pw-1234@eureka/eureka/".into()],
            "Bare-Pw-1234",
        ),
        (
            vec!["eureka:Comma,Pw-1234@eureka/eureka/".into()],
            "Comma,Pw-1234",
        ),
    ];
    for (words, password) in &stray_lists {
        let mut args = vec!["prestop", "--app", APP, "--eureka-url", &url];
        args.extend(words.iter().map(String::as_str));
        let outcome = hook(&args).run();
        outcome
            .assert_code(2)
            .assert_stderr_contains("unexpected argument")
            .assert_stderr_contains("eureka:***@")
            .assert_never_shows(password);
        // Before the subcommand, clap takes the word for an unknown subcommand.
        let mut args = vec!["--eureka-url", &url];
        args.extend(words.iter().map(String::as_str));
        args.extend(["prestop", "--app", APP]);
        hook(&args)
            .run()
            .assert_code(2)
            .assert_stderr_contains("eureka:***@")
            .assert_never_shows(password);
    }
    assert!(
        double.requests().is_empty(),
        "a refused command line sent {:?}",
        double.requests()
    );
}
