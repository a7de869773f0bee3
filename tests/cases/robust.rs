//! Issue 14's answers, races and drain, each as a user hits it: an answer header or a registry
//! field that used to panic a hook, a peer asking for a retry storm, a login page taken for a
//! mark, and registry text that forged log lines or reached the terminal.

use std::time::Duration;

use crate::support::*;

/// `--drain` of the prestop runs.
const DRAIN: Duration = Duration::from_millis(200);

/// prestop with a short drain and a 1 s request timeout, one instance id (the port is known).
fn quick_prestop(url: &str) -> Hook {
    prestop_within(url, "1s")
}

/// [`prestop`] with this `--request-timeout`.
fn prestop_within(url: &str, request_timeout: &str) -> Hook {
    prestop(
        url,
        &["--drain", "200ms", "--request-timeout", request_timeout],
    )
    .env("SERVER_PORT", "8080")
}

/// No line of the hook's output holds a raw control character.
fn assert_no_control_characters(outcome: &Outcome) {
    for line in outcome.stdout.lines().chain(outcome.stderr.lines()) {
        assert!(
            !line.chars().any(char::is_control),
            "a raw control character in {line:?}\n--- stdout\n{}--- stderr\n{}",
            outcome.stdout,
            outcome.stderr
        );
    }
}

#[test]
fn a_huge_retry_after_on_the_put_neither_panics_nor_skips_the_drain() {
    let double = registry_with_instance();
    double.script(
        ScriptedReply::on("PUT", "/status")
            .status(503)
            .header("Retry-After", "18446744073709551615"),
    );
    let outcome = quick_prestop(&double.base_url()).run();
    outcome
        .assert_code(1)
        .assert_took_at_least(DRAIN)
        .assert_stderr_contains("drain of 200ms held")
        .assert_stderr_contains("503 server error (it asked to retry after");
    assert_eq!(
        sent(&double, "PUT").len(),
        1,
        "a pause longer than the request timeout is not waited for: no retry"
    );
    assert_instance(&double, DEFAULT_ID, "UP", "UNKNOWN");
}

#[test]
fn a_peer_that_asks_for_no_pause_gets_a_few_requests_not_a_storm() {
    let double = registry_with_instance();
    double.script(
        ScriptedReply::on("PUT", "/status")
            .status(503)
            .header("Retry-After", "0"),
    );
    // A request timeout long enough for many more attempts than are made.
    let outcome = prestop_within(&double.base_url(), "10s").run();
    outcome
        .assert_code(1)
        .assert_took_at_least(DRAIN + Duration::from_millis(700))
        .assert_took_less_than(Duration::from_secs(5))
        .assert_stderr_contains("drain of 200ms held");
    // MOST_ATTEMPTS_PER_REQUEST in src/eureka/transport.rs; each after the backoff, not at once.
    assert_eq!(sent(&double, "PUT").len(), 4, "{}", outcome.stderr);
}

#[test]
fn status_shows_a_timestamp_in_microseconds_as_the_number_it_is() {
    let double = registry_with_instance();
    double.script(
        ScriptedReply::on("GET", &format!("/apps/DEMO-SERVICE/{DEFAULT_ID}"))
            .header("Content-Type", "application/json")
            .body(format!(
                r#"{{"instance":{{"instanceId":"{DEFAULT_ID}","hostName":"pod-0","app":"DEMO-SERVICE",
                "status":"UP","overriddenStatus":"UNKNOWN","port":{{"$":8080,"@enabled":"true"}},
                "lastUpdatedTimestamp":"1795585797983000"}}}}"#
            )),
    );
    hook(&["status", "--app", APP, "--eureka-url", &double.base_url()])
        .env("SERVER_PORT", "8080")
        .run()
        .assert_code(0)
        .assert_stdout_contains("1795585797983000 (not a date in epoch milliseconds)");
}

#[test]
fn a_login_page_answering_the_put_is_not_taken_for_a_mark() {
    let double = registry_with_instance();
    double.script(
        ScriptedReply::on("PUT", "/status")
            .status(200)
            .header("Content-Type", "text/html")
            .body(
                "<!DOCTYPE html><html><body><form action=\"/login\">Sign in</form></body></html>",
            ),
    );
    let outcome = quick_prestop(&double.base_url()).run();
    outcome
        .assert_code(1)
        .assert_took_at_least(DRAIN)
        .assert_stderr_contains("drain of 200ms held")
        .assert_stderr_contains("not Eureka: the URL is probably missing the /eureka/ path")
        .assert_stderr_contains("200 with an HTML or XML page");
    assert!(
        !outcome.stderr.contains("OUT_OF_SERVICE on 1 of 1 peer(s)"),
        "success claimed:\n{}",
        outcome.stderr
    );
    assert_instance(&double, DEFAULT_ID, "UP", "UNKNOWN");
}

#[test]
fn a_newline_in_a_registered_instance_id_forges_no_log_line_and_no_escape_reaches_the_terminal() {
    let double = EurekaDouble::start();
    let forged = "forged\neureka-hook: info: instance drained\u{1b}[2J";
    double.register(InstanceSpec::new(APP, HOST, 8080).instance_id(forged));
    let shown = r"forged\neureka-hook: info: instance drained\u{1b}[2J";
    let status = hook(&["status", "--app", APP, "--eureka-url", &double.base_url()])
        .env("SERVER_PORT", "8080")
        .run();
    // Such an id cannot be sent in a path, so it is not this pod's: said once, escaped.
    status
        .assert_code(3)
        .assert_stderr_contains(&format!("the registered id '{shown}' is not usable"));
    assert_no_control_characters(&status);
    // Such an id cannot be sent in a path: prestop says so, escaped, and holds the drain.
    let drained = quick_prestop(&double.base_url()).run();
    drained
        .assert_code(3)
        .assert_took_at_least(DRAIN)
        .assert_stderr_contains(&format!("the registered id '{shown}' is not usable"));
    assert_no_control_characters(&drained);
    assert!(
        !drained
            .stderr
            .lines()
            .any(|line| line.starts_with("eureka-hook: info: instance drained")),
        "a forged line:\n{}",
        drained.stderr
    );
    assert_instance(&double, forged, "UP", "UNKNOWN");
}

/// poststart with a 5 s wait, against `url`.
fn waiting_poststart(url: &str) -> Hook {
    poststart(url, &["--wait", "5s", "--request-timeout", "1s"]).env("SERVER_PORT", "8080")
}

#[test]
fn a_drain_begun_while_poststart_waits_for_registration_is_not_undone() {
    let double = EurekaDouble::start();
    // poststart asks at once (404: the app is still starting), then once a second.
    let waiting = waiting_poststart(&double.base_url()).spawn();
    wait_for_answers(&double, "GET", 404, 1);
    double.register(InstanceSpec::new(APP, HOST, 8080));
    // A manual drain of the pod that just registered, while poststart still waits: the registry's
    // clock must pass stale::SAME_CHANGE_MS (100 ms) between the two, or the mark would look like
    // the registration's own status (an elapsed time the rule needs, not an order of events).
    std::thread::sleep(Duration::from_millis(200));
    quick_prestop(&double.base_url()).run().assert_code(0);
    let outcome = waiting.wait();
    outcome.assert_code(0).assert_stderr_contains(
        "after this instance registered and after poststart started: left in place",
    );
    let requests = double.requests();
    let marked_at = requests
        .iter()
        .find(|request| request.method == "PUT" && request.status == 200)
        .map(|request| request.at)
        .unwrap();
    let found_at = requests
        .iter()
        .find(|request| {
            request.method == "GET" && request.status == 200 && request.path.ends_with(DEFAULT_ID)
        })
        .map(|request| request.at)
        .unwrap();
    assert!(
        marked_at < found_at,
        "the machine was too slow for this race: poststart found the instance before the mark"
    );
    assert!(sent(&double, "DELETE").is_empty(), "{}", outcome.stderr);
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn a_drain_that_ended_before_poststart_started_is_cleared() {
    let double = registry_with_instance();
    quick_prestop(&double.base_url()).run().assert_code(0);
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    // Eureka's timestamps are in milliseconds: the next poststart starts in a later one.
    std::thread::sleep(Duration::from_millis(5));
    waiting_poststart(&double.base_url())
        .run()
        .assert_code(0)
        .assert_stderr_contains("removed the OUT_OF_SERVICE override");
    assert_eq!(sent(&double, "DELETE").len(), 1);
    let state = double.instance(APP, DEFAULT_ID).unwrap();
    assert_eq!(state.overridden_status, "UNKNOWN");
}

#[test]
fn the_listing_before_the_mark_names_its_own_limit_when_it_runs_out() {
    let double = registry_with_instance();
    double.script(
        ScriptedReply::on("GET", "/apps/DEMO-SERVICE")
            .times(1)
            .hang(),
    );
    let outcome = quick_prestop(&double.base_url()).run();
    outcome
        .assert_code(0)
        .assert_stderr_contains(
            "its app listing could not be read before the mark: no answer within 500ms (the \
             listing before the mark gets at most 1s, or half of --request-timeout)",
        )
        .assert_stderr_contains("OUT_OF_SERVICE on 1 of 1 peer(s)");
}

#[test]
fn poststart_checks_after_the_first_end_with_the_wait_and_say_so() {
    let double = EurekaDouble::start();
    // The first round (the id, the listing, apps/delta) is answered; every later request hangs.
    double.script(ScriptedReply::on("GET", "").times(3));
    double.script(ScriptedReply::on("GET", "").hang());
    let wait = Duration::from_millis(1500);
    let outcome = hook(&[
        "poststart",
        "--app",
        APP,
        "--wait",
        "1500ms",
        "--request-timeout",
        "5s",
        "--strict",
        "--eureka-url",
        &double.base_url(),
    ])
    .env("SERVER_PORT", "8080")
    .run();
    outcome
        .assert_code(1)
        .assert_took_at_least(wait)
        .assert_took_less_than(wait + Duration::from_millis(1500))
        .assert_stderr_contains("(what was left of --wait)");
}

#[test]
fn a_long_list_of_registered_ids_comes_after_the_advice_and_is_cut() {
    let double = EurekaDouble::start();
    for pod in 0..300 {
        double.register(InstanceSpec::new(APP, &format!("other-pod-{pod}"), 8080));
    }
    let outcome = quick_prestop(&double.base_url()).run();
    outcome.assert_code(3).assert_took_at_least(DRAIN);
    let error_line = outcome
        .stderr
        .lines()
        .find(|line| line.starts_with("eureka-hook: error:"))
        .unwrap();
    let start: String = error_line.chars().take(250).collect();
    assert!(
        start.contains("set --instance-id or EUREKA_INSTANCE_INSTANCEID to the app's id"),
        "the advice is not in the first 250 characters:\n{error_line}"
    );
    assert!(
        error_line.len() < 1000 && error_line.ends_with(" more"),
        "{} characters:\n{error_line}",
        error_line.len()
    );
}

/// `command` run to the end with its stdout on `stdout`; its exit code and stderr.
fn run_with_stdout(mut command: std::process::Command, stdout: std::fs::File) -> (i32, String) {
    let output = command
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn status_into_a_full_disk_says_stdout_failed_not_the_registry() {
    let double = registry_with_instance();
    let status = hook(&["status", "--app", APP, "--eureka-url", &double.base_url()])
        .env("SERVER_PORT", "8080");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let (code, stderr) = run_with_stdout(status.command(), full);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("writing the status table to stdout")
            && stderr.contains("No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("no peer could be asked"), "{stderr}");
    assert!(!sent(&double, "GET").is_empty(), "the registry was asked");
}

#[test]
fn a_log_file_on_a_terminal_that_is_not_there_is_not_called_a_fifo() {
    use std::os::unix::process::CommandExt;
    let double = registry_with_instance();
    let status = hook(&[
        "status",
        "--app",
        APP,
        "--eureka-url",
        &double.base_url(),
        "--log-file",
        "/dev/tty",
    ])
    .env("SERVER_PORT", "8080");
    let mut command = status.command();
    // A session of its own has no controlling terminal, as a hook run by the kubelet: opening
    // /dev/tty then fails with ENXIO, the same error a FIFO without a reader gives.
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (code, stderr) = run_with_stdout(command, tempfile_for_stdout());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("cannot open log file /dev/tty") && stderr.contains("logging to stderr"),
        "{stderr}"
    );
    assert!(!stderr.contains("FIFO"), "{stderr}");
}

/// A scratch file to take a hook's stdout.
fn tempfile_for_stdout() -> std::fs::File {
    let path = std::env::temp_dir().join(format!("robust-stdout-{}", std::process::id()));
    std::fs::File::create(path).unwrap()
}
