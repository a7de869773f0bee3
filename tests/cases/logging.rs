//! --log-file copies every line; --log-format json gives one object per line; -q and -v.

use serde_json::Value;

use crate::support::*;

/// Runs a successful prestop with `--log-file` (and `extra` flags); returns its stderr, after
/// checking the file got exactly the same lines.
fn prestop_with_log_file(double: &EurekaDouble, name: &str, extra: &[&str]) -> String {
    let log_file =
        std::env::temp_dir().join(format!("eureka-hook-logging-{}-{name}", std::process::id()));
    let log_path = log_file.display().to_string();
    let mut args = vec![
        "prestop",
        "--app",
        APP,
        "--drain",
        "0s",
        "--log-file",
        &log_path,
    ];
    args.extend(extra);
    let outcome = hook(&args).env("EUREKA_URL", double.base_url()).run();
    outcome.assert_code(0);
    let copied = std::fs::read_to_string(&log_file).unwrap();
    std::fs::remove_file(&log_file).unwrap();
    assert_eq!(
        copied, outcome.stderr,
        "the log file holds exactly what stderr got"
    );
    outcome.stderr.clone()
}

#[test]
fn log_file_gets_every_line_that_stderr_gets() {
    let double = registry_with_instance();
    let stderr = prestop_with_log_file(&double, "copy", &[]);
    assert!(stderr.lines().count() >= 4, "{stderr}");
}

#[test]
fn log_file_that_cannot_be_opened_is_a_warning_not_a_failure() {
    let double = registry_with_instance();
    // A directory cannot be opened for appending (as /proc/1/fd/1 can be refused to non-root users).
    hook(&["prestop", "--app", APP, "--drain", "0s"])
        .env("EUREKA_URL", double.base_url())
        .env(
            "EUREKA_HOOK_LOG_FILE",
            std::env::temp_dir().display().to_string(),
        )
        .run()
        .assert_code(0)
        .assert_stderr_contains("eureka-hook: warning: cannot open log file")
        .assert_stderr_contains("logging to stderr only");
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn json_log_lines_carry_time_level_event_and_peer_fields() {
    let double = registry_with_instance();
    let stderr = prestop_with_log_file(&double, "json", &["--log-format", "json"]);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();
    for line in &lines {
        for key in ["time", "level", "event", "message"] {
            assert!(line[key].is_string(), "{key} missing in {line}");
        }
    }
    let peer_answer = lines
        .iter()
        .find(|line| line["event"] == "peer_answer")
        .expect("a peer_answer line");
    assert_eq!(peer_answer["instance"], DEFAULT_ID);
    assert_eq!(peer_answer["peer"], double.base_url());
    assert_eq!(peer_answer["status"], "200");
    let events: Vec<&str> = lines
        .iter()
        .map(|line| line["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "resolved",
            "peer_answer",
            "marked",
            "drain_started",
            "drain_finished"
        ]
    );
}

#[test]
fn env_selects_json_and_a_bad_format_is_bad_input() {
    let double = registry_with_instance();
    let outcome = hook(&["status", "--app", APP])
        .env("EUREKA_URL", double.base_url())
        .env("EUREKA_HOOK_LOG_FORMAT", "json")
        .env("EUREKA_HOOK_VERBOSE", "1")
        .run();
    outcome.assert_code(0);
    let first: Value = serde_json::from_str(outcome.stderr.lines().next().unwrap()).unwrap();
    assert_eq!(first["level"], "debug");
    let sent_by_the_first_run = double.requests().len();
    hook(&["status", "--app", APP, "--log-format", "xml"])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(2)
        .assert_stderr_contains("--log-format");
    assert_eq!(
        double.requests().len(),
        sent_by_the_first_run,
        "only the first run sent requests"
    );
}

#[test]
fn quiet_keeps_warnings_and_verbose_adds_each_request() {
    let double = registry_with_instance();
    let quiet = hook(&["prestop", "--app", APP, "--drain", "0s", "-q"])
        .env("EUREKA_URL", double.base_url())
        .run();
    quiet.assert_code(0);
    assert_eq!(quiet.stderr, "", "a successful quiet run prints nothing");

    let verbose = hook(&["prestop", "--app", APP, "--drain", "0s", "--verbose"])
        .env("EUREKA_URL", double.base_url())
        .run();
    verbose
        .assert_code(0)
        .assert_stderr_contains("eureka-hook: debug: PUT http://127.0.0.1")
        .assert_stderr_contains("-> 200 in");

    let down = FaultPeer::refused();
    hook(&[
        "prestop",
        "--app",
        APP,
        "--drain",
        "0s",
        "-q",
        "--request-timeout",
        "300ms",
    ])
    .env("EUREKA_URL", down.base_url())
    .run()
    .assert_code(1)
    .assert_stderr_contains("eureka-hook: warning: peer")
    .assert_stderr_contains("eureka-hook: error: could not mark");
}
