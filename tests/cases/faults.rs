//! The fault matrix of issue 3: one test per row (or row part), each with the real binary.
//!
//! Every fault test checks the hook's promises: the exit code, the time taken (prestop: at least
//! the drain, and at most three request timeouts plus the drain plus [`SLACK`]; a hang one request
//! timeout plus the drain plus [`SLACK`]), the message a person needs, that the registry was not
//! changed beyond what was asked, and (in `support::cmd`, for every run) that no password shows
//! and nothing panicked. Each run prints one row of the
//! table for the issue: `cargo test -- --nocapture faults 2>&1 | grep fault-matrix`.

use std::time::{Duration, Instant};

use crate::support::*;

/// `--request-timeout` of the matrix runs.
const TIMEOUT: Duration = Duration::from_secs(1);
/// `--drain` of the matrix runs.
const DRAIN: Duration = Duration::from_millis(100);
/// Process start and scheduling on a loaded two-core CI machine.
const SLACK: Duration = Duration::from_secs(2);
/// The user and the sentinel password of every run that sends credentials.
const USER: &str = "eureka";
const PASSWORD: &str = "Sentinel-Pw-5f3e9c";

/// The documented prestop bound: three request timeouts, then the drain.
fn prestop_bound() -> Duration {
    3 * TIMEOUT + DRAIN + SLACK
}

/// prestop with the matrix's timeout and drain, credentials in the environment.
fn prestop_with_credentials(urls: &str) -> Hook {
    prestop_without_credentials(urls, &[])
        .env("EUREKA_USERNAME", USER)
        .env("EUREKA_PASSWORD", PASSWORD)
}

/// prestop with the matrix's timeout and drain, and `extra` arguments.
fn prestop_without_credentials(urls: &str, extra: &[&str]) -> Hook {
    let args = [&["--drain", "100ms", "--request-timeout", "1s"], extra].concat();
    // The app's port is in the environment, as in the example manifests: one instance id.
    prestop(urls, &args).env("SERVER_PORT", "8080")
}

/// `url` with the matrix's credentials as its userinfo.
fn with_userinfo(url: &str) -> String {
    url.replace("://", &format!("://{USER}:{PASSWORD}@"))
}

/// poststart or status with the matrix's timeout (and a 1 s wait), credentials in the environment.
fn reader(subcommand: &str, urls: &str, extra: &[&str]) -> Hook {
    let mut args = vec![
        subcommand,
        "--app",
        APP,
        "--request-timeout",
        "1s",
        "--eureka-url",
        urls,
    ];
    if subcommand == "poststart" {
        args.extend(["--wait", "1s"]);
    }
    args.extend(extra);
    hook(&args)
        .env("SERVER_PORT", "8080")
        .env("EUREKA_USERNAME", USER)
        .env("EUREKA_PASSWORD", PASSWORD)
}

/// A double that wants the matrix's credentials, with [`DEFAULT_ID`] registered UP.
fn secured_registry() -> EurekaDouble {
    let double = EurekaDouble::builder().basic_auth(USER, PASSWORD).start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    double
}

/// Prints one row of the fault table.
fn report(row: &str, fault: &str, outcome: &Outcome) {
    eprintln!(
        "fault-matrix | {row:<4} | {fault:<58} | exit {} | {:>5} ms | {}",
        outcome
            .code
            .map_or_else(|| "signal".into(), |code| code.to_string()),
        outcome.elapsed.as_millis(),
        outcome.final_line()
    );
}

/// prestop's promises after a fault: the code, the drain held, the bound kept.
fn assert_prestop_kept_its_promises(outcome: &Outcome, code: i32) {
    outcome
        .assert_code(code)
        .assert_took_at_least(DRAIN)
        .assert_took_less_than(prestop_bound())
        .assert_stderr_contains("drain of 100ms held");
}

fn assert_untouched(double: &EurekaDouble) {
    assert_instance(double, DEFAULT_ID, "UP", "UNKNOWN");
}

// Row 1 ------------------------------------------------------------------------------------------

#[test]
fn row_01_refused_connection_on_the_only_peer_exits_1_after_the_drain() {
    let down = FaultPeer::refused();
    // Credentials on the command line this time: warned about, never shown.
    let outcome = prestop_without_credentials(&with_userinfo(&down.base_url()), &[]).run();
    report("1", "connection refused on the only peer", &outcome);
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_stderr_contains("visible to `ps` in the container")
        .assert_stderr_contains("connection refused")
        .assert_stderr_contains(
            "eureka-hook: error: could not mark instance pod-0:demo-service:8080 OUT_OF_SERVICE",
        );
}

// Row 2 ------------------------------------------------------------------------------------------

#[test]
fn row_02_a_host_name_that_does_not_resolve_fails_fast_and_says_so() {
    let outcome = prestop_with_credentials("http://eureka.invalid:8761/eureka/").run();
    report("2", "host name does not resolve (eureka.invalid)", &outcome);
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_took_less_than(TIMEOUT + DRAIN + SLACK)
        .assert_stderr_contains("does not resolve")
        .assert_stderr_contains("check the Eureka URL");
}

#[test]
#[ignore = "needs root and unshare(1) for a private mount namespace; scripts/test.sh runs it"]
fn row_02b_a_dns_server_that_never_answers_costs_one_request_timeout() {
    assert!(
        running_as_root(),
        "this test needs root for a private mount namespace (CI and the dev machines run as root)"
    );
    // A name server that takes every query and never answers, on a loopback address of its own.
    let silent_dns = std::net::UdpSocket::bind("127.53.53.53:53").unwrap();
    let resolv_conf = TempFile::new(
        "resolv.conf",
        "nameserver 127.53.53.53\noptions timeout:30 attempts:2\n",
    );
    // The hook sees that resolv.conf in place of the machine's, in a mount namespace of its own.
    let script = format!(
        "mount --bind {} /etc/resolv.conf && exec \"$0\" \"$@\"",
        resolv_conf.path_str()
    );
    let binary = binary_under_test();
    let outcome = hook(&[
        "--mount",
        "/bin/sh",
        "-c",
        &script,
        binary.to_str().unwrap(),
        "prestop",
        "--app",
        APP,
        "--drain",
        "100ms",
        "--request-timeout",
        "1s",
        "--eureka-url",
        "http://eureka.invalid:8761/eureka/",
    ])
    .binary(find_on_path("unshare"))
    .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    .env("EUREKA_USERNAME", USER)
    .env("EUREKA_PASSWORD", PASSWORD)
    .run();
    drop(silent_dns);
    report(
        "2b",
        "host name lookup never answered (silent DNS server)",
        &outcome,
    );
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_took_at_least(TIMEOUT)
        .assert_took_less_than(TIMEOUT + DRAIN + SLACK)
        .assert_stderr_contains("the host name did not resolve within 1s");
}

// Row 3 ------------------------------------------------------------------------------------------

#[test]
fn row_03_a_peer_that_never_answers_costs_one_request_timeout() {
    let silent = FaultPeer::hang();
    // Credentials from a file this time, as a mounted Secret gives them.
    let credentials = TempFile::new("credentials", format!("{USER}:{PASSWORD}\n"));
    let outcome = prestop_without_credentials(
        &silent.base_url(),
        &["--credentials-file", credentials.path_str()],
    )
    .run();
    report(
        "3",
        "accepts, never answers (hang before status line)",
        &outcome,
    );
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_took_at_least(TIMEOUT)
        .assert_took_less_than(TIMEOUT + DRAIN + SLACK)
        .assert_stderr_contains("no answer within 1s (--request-timeout)");
    assert_eq!(
        silent.connections(),
        2,
        "the listing given up at its half of the request timeout, the PUT at the rest, \
         neither retried"
    );
}

// Row 4 ------------------------------------------------------------------------------------------

#[test]
fn row_04a_prestop_never_waits_for_a_slow_body_and_takes_no_body_for_eurekas_answer() {
    let slow = FaultPeer::slow_body();
    let outcome = prestop_with_credentials(&slow.base_url()).run();
    report(
        "4a",
        "prestop PUT: 200 headers, then a body that trickles",
        &outcome,
    );
    // Eureka answers a status change with an empty 200: a 200 announcing a 1 MiB JSON body is
    // another service's, decided from the headers without reading the body.
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_took_less_than(TIMEOUT + DRAIN + SLACK)
        .assert_stderr_contains("not Eureka: the URL is probably missing the /eureka/ path")
        .assert_stderr_contains("200 with a JSON document");
}

#[test]
fn row_04b_a_slow_body_on_get_is_cut_off_by_the_request_timeout() {
    let slow = FaultPeer::slow_body();
    let url = slow.base_url();
    let hooks = [
        reader("poststart", &url, &[]),
        reader("poststart", &url, &["--strict"]),
        reader("status", &url, &[]),
    ];
    let [poststart, strict, status] = run_all(&hooks).try_into().ok().unwrap();
    report("4b", "poststart GET: body trickles forever", &poststart);
    report(
        "4b",
        "poststart --strict GET: body trickles forever",
        &strict,
    );
    report("4b", "status GET: body trickles forever", &status);
    for outcome in [&poststart, &strict, &status] {
        outcome
            .assert_took_at_least(TIMEOUT)
            .assert_took_less_than(TIMEOUT + TIMEOUT + SLACK)
            .assert_stderr_contains("body did not arrive in full within 1s");
    }
    poststart
        .assert_code(0)
        .assert_stderr_contains("exiting 0 so the pod starts anyway");
    strict.assert_code(1);
    status
        .assert_code(1)
        .assert_stdout_contains("unreachable: answered 200 but its body did not arrive");
}

// Row 5 ------------------------------------------------------------------------------------------

#[test]
fn row_05a_500_and_503_are_retried_within_the_request_timeout_then_exit_1() {
    let failing: Vec<(u16, EurekaDouble)> = [500, 503]
        .into_iter()
        .map(|code| {
            let double = secured_registry();
            double.script(ScriptedReply::on("PUT", "/status").status(code));
            (code, double)
        })
        .collect();
    let hooks: Vec<Hook> = failing
        .iter()
        .map(|(_, double)| prestop_with_credentials(&double.base_url()))
        .collect();
    for ((code, double), outcome) in failing.iter().zip(run_all(&hooks)) {
        report("5a", &format!("every PUT answers {code}"), &outcome);
        assert_prestop_kept_its_promises(&outcome, 1);
        outcome.assert_stderr_contains(&format!("{code} server error"));
        let puts = sent(double, "PUT");
        assert!(puts.len() >= 3, "{code} is retried with backoff: {puts:?}");
        let requests = double.requests();
        let spread = requests[requests.len() - 1].at - requests[0].at;
        assert!(
            spread < TIMEOUT,
            "retries stay inside the budget: {spread:?}"
        );
        assert_untouched(double);
    }
}

#[test]
fn row_05b_503_with_retry_after_is_honoured_when_it_fits_the_budget() {
    let double = secured_registry();
    double.script(
        ScriptedReply::on("PUT", "/status")
            .times(1)
            .status(503)
            .header("Retry-After", "1"),
    );
    let outcome = hook(&[
        "prestop",
        "--app",
        APP,
        "--drain",
        "100ms",
        "--request-timeout",
        "2s",
        "--eureka-url",
        &double.base_url(),
    ])
    .env("EUREKA_USERNAME", USER)
    .env("EUREKA_PASSWORD", PASSWORD)
    .env("SERVER_PORT", "8080")
    .run();
    report("5b", "503 + Retry-After: 1, then OK (timeout 2s)", &outcome);
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_secs(1) + DRAIN)
        .assert_took_less_than(3 * Duration::from_secs(2) + DRAIN + SLACK);
    let puts: Vec<_> = double
        .requests()
        .into_iter()
        .filter(|request| request.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert!(puts[1].at - puts[0].at >= Duration::from_secs(1));
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn row_05c_503_with_a_retry_after_beyond_the_budget_is_not_waited_for() {
    let double = secured_registry();
    double.script(
        ScriptedReply::on("PUT", "/status")
            .status(503)
            .header("Retry-After", "120"),
    );
    let outcome = prestop_with_credentials(&double.base_url()).run();
    report("5c", "503 + Retry-After: 120 (beyond the budget)", &outcome);
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_took_less_than(TIMEOUT + DRAIN + SLACK)
        .assert_stderr_contains("503 server error (it asked to retry after 2m");
    assert_eq!(sent(&double, "PUT").len(), 1);
    assert_untouched(&double);
}

// Row 6 ------------------------------------------------------------------------------------------

#[test]
fn row_06a_missing_or_wrong_credentials_exit_4_and_say_which_settings_to_check() {
    let double = secured_registry();
    let url = double.base_url();
    let missing = prestop_without_credentials(&url, &[]);
    let wrong = prestop_with_credentials(&url).env("EUREKA_PASSWORD", "Wrong-Sentinel-Pw-77");
    let [missing, wrong] = run_all(&[missing, wrong]).try_into().ok().unwrap();
    report("6a", "401: no credentials", &missing);
    report("6a", "401: wrong password", &wrong);
    for outcome in [&missing, &wrong] {
        assert_prestop_kept_its_promises(outcome, 4);
        outcome
            .assert_stderr_contains("401 Unauthorized")
            .assert_stderr_contains("EUREKA_USERNAME/EUREKA_PASSWORD");
    }
    assert_eq!(sent(&double, "PUT").len(), 2, "a 401 is not retried");
    assert_untouched(&double);
}

#[test]
fn row_06b_a_csrf_rejection_says_to_exempt_eureka_from_csrf() {
    let double = EurekaDouble::builder()
        .basic_auth(USER, PASSWORD)
        .csrf_protection(true)
        .start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    let outcome = prestop_with_credentials(&double.base_url()).run();
    report("6b", "403: Spring Security CSRF rejects the PUT", &outcome);
    assert_prestop_kept_its_promises(&outcome, 4);
    outcome
        .assert_stderr_contains("403 Forbidden")
        .assert_stderr_contains("exempt /eureka/** from CSRF");
    assert_untouched(&double);
}

// Row 7 ------------------------------------------------------------------------------------------

#[test]
fn row_07a_a_wrong_instance_id_exits_3_and_lists_the_registered_ids() {
    let double = EurekaDouble::builder().basic_auth(USER, PASSWORD).start();
    double.register(InstanceSpec::new(APP, "other-pod", 8080));
    double.register(InstanceSpec::new(APP, "third-pod", 8080));
    let outcome = prestop_with_credentials(&double.base_url()).run();
    report("7a", "404 for the instance (wrong instanceId)", &outcome);
    assert_prestop_kept_its_promises(&outcome, 3);
    outcome
        .assert_stderr_contains("registered ids for DEMO-SERVICE")
        .assert_stderr_contains("other-pod:demo-service:8080")
        .assert_stderr_contains("third-pod:demo-service:8080")
        .assert_stderr_contains("--instance-id")
        .assert_stderr_contains("may lag");
    assert_eq!(
        sent(&double, "GET"),
        ["/eureka/apps/DEMO-SERVICE", "/eureka/apps/delta"],
        "the watch's two keys, primed before the PUTs"
    );
    assert_instance(&double, "other-pod:demo-service:8080", "UP", "UNKNOWN");
    assert_instance(&double, "third-pod:demo-service:8080", "UP", "UNKNOWN");
}

#[test]
fn row_07b_an_unknown_app_exits_3_and_says_it_has_no_instances() {
    let double = EurekaDouble::builder().basic_auth(USER, PASSWORD).start();
    double.register(InstanceSpec::new("other-service", HOST, 8080));
    let outcome = prestop_with_credentials(&double.base_url()).run();
    report("7b", "404 for the app", &outcome);
    assert_prestop_kept_its_promises(&outcome, 3);
    outcome.assert_stderr_contains("the app DEMO-SERVICE has no registered instances");
    let other = double.instance("other-service", "pod-0:other-service:8080");
    assert_eq!(other.unwrap().overridden_status, "UNKNOWN");
}

// Row 8 ------------------------------------------------------------------------------------------

/// 4 MiB and one byte: just over what the hook reads.
const OVER_THE_CAP: usize = 4 * 1024 * 1024 + 1;

#[test]
fn row_08a_a_huge_or_malformed_instance_document_is_a_clear_error() {
    let huge = secured_registry();
    huge.script(ScriptedReply::on("GET", DEFAULT_ID).huge_body(OVER_THE_CAP));
    let malformed = secured_registry();
    malformed.script(ScriptedReply::on("GET", DEFAULT_ID).malformed_json());
    let hooks = [
        reader("status", &huge.base_url(), &[]),
        reader("poststart", &huge.base_url(), &["--strict"]),
        reader("status", &malformed.base_url(), &[]),
        reader("poststart", &malformed.base_url(), &["--strict"]),
    ];
    let outcomes = run_all(&hooks);
    let faults = [
        "status: GET instance answers 4 MiB + 1 byte",
        "poststart --strict: GET instance answers 4 MiB + 1 byte",
        "status: GET instance answers truncated JSON",
        "poststart --strict: GET instance answers truncated JSON",
    ];
    for (fault, outcome) in faults.iter().zip(&outcomes) {
        report("8a", fault, outcome);
        outcome
            .assert_code(1)
            .assert_took_less_than(TIMEOUT + TIMEOUT + SLACK);
    }
    for outcome in &outcomes[..2] {
        outcome.assert_stderr_contains("larger than 4194304 bytes");
    }
    for outcome in &outcomes[2..] {
        outcome.assert_stderr_contains("not Eureka JSON");
    }
    for double in [&huge, &malformed] {
        assert!(sent(double, "DELETE").is_empty() && sent(double, "PUT").is_empty());
        assert_untouched(double);
    }
}

#[test]
fn row_08b_a_huge_or_malformed_app_listing_after_a_404_is_a_clear_error() {
    let doubles: Vec<EurekaDouble> = (0..2)
        .map(|_| {
            let double = EurekaDouble::builder().basic_auth(USER, PASSWORD).start();
            double.register(InstanceSpec::new(APP, "other-pod", 8080));
            double
        })
        .collect();
    doubles[0].script(ScriptedReply::on("GET", "/apps/DEMO-SERVICE").huge_body(OVER_THE_CAP));
    doubles[1].script(ScriptedReply::on("GET", "/apps/DEMO-SERVICE").malformed_json());
    let hooks: Vec<Hook> = doubles
        .iter()
        .map(|d| prestop_with_credentials(&d.base_url()))
        .collect();
    let outcomes = run_all(&hooks);
    report(
        "8b",
        "prestop: 404, then GET app answers 4 MiB + 1 byte",
        &outcomes[0],
    );
    report(
        "8b",
        "prestop: 404, then GET app answers truncated JSON",
        &outcomes[1],
    );
    for outcome in &outcomes {
        assert_prestop_kept_its_promises(outcome, 3);
        outcome.assert_stderr_contains("could not be listed");
    }
    outcomes[0].assert_stderr_contains("larger than 4194304 bytes");
    outcomes[1].assert_stderr_contains("not Eureka JSON");
    for double in &doubles {
        assert_eq!(sent(double, "PUT").len(), 1, "nothing marked after the 404");
        assert_instance(double, "other-pod:demo-service:8080", "UP", "UNKNOWN");
    }
}

// Row 9 ------------------------------------------------------------------------------------------

#[test]
fn row_09_a_redirect_to_another_host_is_not_followed_with_the_credentials() {
    let elsewhere = secured_registry();
    let double = secured_registry();
    double.script(ScriptedReply::on("PUT", "/status").redirect(&format!(
        "{}apps/DEMO-SERVICE/{DEFAULT_ID}/status?value=OUT_OF_SERVICE",
        elsewhere.base_url().replace("127.0.0.1", "localhost")
    )));
    // Credentials in the URL this time: its userinfo must not show either.
    let url = with_userinfo(&double.base_url());
    let outcome = hook(&[
        "prestop",
        "--app",
        APP,
        "--drain",
        "100ms",
        "--request-timeout",
        "1s",
    ])
    .env("EUREKA_URL", url)
    .env("SERVER_PORT", "8080")
    .run();
    report("9", "302 redirect to another host", &outcome);
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_stderr_contains("302 redirect to http://localhost: not followed")
        .assert_stderr_contains("point the Eureka URL at the server itself");
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect was followed: {:?}",
        elsewhere.requests()
    );
    assert_eq!(sent(&double, "PUT").len(), 1, "a redirect is not retried");
    assert_untouched(&double);
    assert_untouched(&elsewhere);
}

// Row 10 -----------------------------------------------------------------------------------------

#[test]
fn row_10_a_healthy_second_peer_is_enough_and_the_log_names_it() {
    let refused = FaultPeer::refused();
    let silent = FaultPeer::hang();
    let healthy = [secured_registry(), secured_registry()];
    let hooks = [
        prestop_with_credentials(&format!("{},{}", refused.base_url(), healthy[0].base_url())),
        prestop_with_credentials(&format!("{},{}", silent.base_url(), healthy[1].base_url())),
    ];
    let outcomes = run_all(&hooks);
    report("10", "first peer refused, second healthy", &outcomes[0]);
    report("10", "first peer hangs, second healthy", &outcomes[1]);
    for (outcome, double) in outcomes.iter().zip(&healthy) {
        assert_prestop_kept_its_promises(outcome, 0);
        outcome
            .assert_stderr_contains(&format!(
                "peer {}: set OUT_OF_SERVICE done",
                double.base_url()
            ))
            .assert_stderr_contains("OUT_OF_SERVICE on 1 of 2 peer(s)");
        assert_instance(double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    }
    outcomes[0].assert_stderr_contains(&format!(
        "peer {}: set OUT_OF_SERVICE failed: connection refused",
        refused.base_url()
    ));
    // The PUTs run in parallel: the silent peer costs one request timeout, no more.
    outcomes[1]
        .assert_took_at_least(TIMEOUT)
        .assert_took_less_than(TIMEOUT + DRAIN + SLACK)
        .assert_stderr_contains("within 1s");
}

// Row 11 -----------------------------------------------------------------------------------------

#[test]
fn row_11_three_peers_failing_three_ways_cost_one_request_timeout_and_exit_1() {
    let refused = FaultPeer::refused();
    let silent = FaultPeer::hang();
    let failing = secured_registry();
    failing.script(ScriptedReply::on("PUT", "/status").status(500));
    let urls = format!(
        "{},{},{}",
        refused.base_url(),
        silent.base_url(),
        failing.base_url()
    );
    let outcome = prestop_with_credentials(&urls).run();
    report("11", "three peers: refused, hanging, 500", &outcome);
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_took_less_than(TIMEOUT + DRAIN + SLACK)
        .assert_stderr_contains(&format!("{}: connection refused", refused.base_url()))
        .assert_stderr_contains(&format!("{}: no answer within 1s", silent.base_url()))
        .assert_stderr_contains(&format!("{}: 500 server error", failing.base_url()));
    assert_untouched(&failing);
}

// Row 12 -----------------------------------------------------------------------------------------

#[test]
fn row_12a_a_self_signed_certificate_fails_by_default_and_points_at_cacert() {
    let double = secured_registry();
    let front = TlsFront::new(&double);
    let outcome = prestop_with_credentials(&front.base_url()).run();
    report(
        "12a",
        "HTTPS, self-signed certificate, built-in roots",
        &outcome,
    );
    assert_prestop_kept_its_promises(&outcome, 1);
    outcome
        .assert_stderr_contains("certificate is not trusted")
        .assert_stderr_contains("--cacert (EUREKA_HOOK_CACERT)");
    assert_eq!(front.handshakes(), 0);
    assert!(double.requests().is_empty());
    assert_untouched(&double);
}

#[test]
fn row_12b_cacert_from_the_flag_or_the_env_trusts_the_certificate() {
    let doubles = [secured_registry(), secured_registry()];
    let fronts: Vec<TlsFront> = doubles.iter().map(TlsFront::new).collect();
    let ca_files: Vec<TempFile> = fronts
        .iter()
        .map(|front| TempFile::new("ca.pem", front.ca_pem()))
        .collect();
    let env_run = prestop_with_credentials(&fronts[0].base_url())
        .env("EUREKA_HOOK_CACERT", ca_files[0].path_str());
    let flag_run =
        prestop_without_credentials(&fronts[1].base_url(), &["--cacert", ca_files[1].path_str()])
            .env("EUREKA_USERNAME", USER)
            .env("EUREKA_PASSWORD", PASSWORD);
    let outcomes = run_all(&[env_run, flag_run]);
    report(
        "12b",
        "HTTPS, self-signed, EUREKA_HOOK_CACERT=its PEM",
        &outcomes[0],
    );
    report("12b", "HTTPS, self-signed, --cacert its PEM", &outcomes[1]);
    for ((outcome, double), front) in outcomes.iter().zip(&doubles).zip(&fronts) {
        assert_prestop_kept_its_promises(outcome, 0);
        outcome.assert_stderr_contains(&format!(
            "peer {}: set OUT_OF_SERVICE done",
            front.base_url()
        ));
        assert_eq!(front.handshakes(), 1);
        assert_instance(double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    }
}

#[test]
fn row_12c_a_cacert_that_is_not_pem_is_bad_input_and_nothing_is_sent() {
    let double = secured_registry();
    let front = TlsFront::new(&double);
    let not_pem = TempFile::new("not-a-ca.pem", "this is not a certificate\n");
    let outcome = prestop_with_credentials(&front.base_url())
        .env("EUREKA_HOOK_CACERT", not_pem.path_str())
        .run();
    report(
        "12c",
        "EUREKA_HOOK_CACERT names a file that is not PEM",
        &outcome,
    );
    outcome
        .assert_code(2)
        .assert_took_less_than(SLACK)
        .assert_stderr_contains("EUREKA_HOOK_CACERT")
        .assert_stderr_contains("holds no PEM certificate");
    assert_eq!(front.handshakes(), 0);
    assert!(double.requests().is_empty());
}

#[test]
fn row_12d_the_built_in_roots_are_compiled_into_the_binary() {
    assert_carries_the_built_in_roots(&binary_under_test());
}

#[test]
#[ignore = "needs the static release binary (EUREKA_HOOK_STATIC_BIN); scripts/test.sh builds it and runs this"]
fn row_12d_the_static_release_binary_carries_the_built_in_roots_too() {
    let static_binary = std::env::var_os("EUREKA_HOOK_STATIC_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/x86_64-unknown-linux-musl/release/eureka-hook")
        });
    assert!(
        static_binary.is_file(),
        "no static release binary at {}: build it with scripts/build-static.sh (scripts/test.sh does)",
        static_binary.display()
    );
    assert_carries_the_built_in_roots(&static_binary);
}

/// webpki-roots keeps each root's subject as DER, so its common name is in the binary as is.
fn assert_carries_the_built_in_roots(path: &std::path::Path) {
    let binary = std::fs::read(path).unwrap();
    for root in ["ISRG Root X1", "DigiCert Global Root G2"] {
        assert!(
            binary
                .windows(root.len())
                .any(|window| window == root.as_bytes()),
            "{} does not carry the {root} root",
            path.display()
        );
    }
}

// Row 13 -----------------------------------------------------------------------------------------

/// Sends `signal` to the hook once the double has answered its PUT, and returns what the hook did.
/// The hook may still be starting its drain or already waiting in it: a signal that came first is
/// kept (prestop installs its handlers before it sends anything), so either way the drain ends at
/// once, and the test needs no pause to order the two.
fn interrupt_the_drain(signal: &str) -> (Outcome, EurekaDouble) {
    let double = secured_registry();
    let running = hook(&["prestop", "--app", APP, "--drain", "30s"])
        .env("EUREKA_URL", double.base_url())
        .env("EUREKA_USERNAME", USER)
        .env("EUREKA_PASSWORD", PASSWORD)
        .spawn();
    wait_for_answers(&double, "PUT", 200, 1);
    let killed = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &running.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    (running.wait(), double)
}

#[test]
fn row_13_sigterm_or_sigint_during_the_drain_ends_it_promptly_with_a_log_line() {
    for signal in ["TERM", "INT"] {
        let (outcome, double) = interrupt_the_drain(signal);
        report("13", &format!("SIG{signal} during a 30s drain"), &outcome);
        outcome
            .assert_code(0)
            .assert_took_less_than(Duration::from_secs(10))
            .assert_stderr_contains(&format!("drain cut short by SIG{signal} after"))
            .assert_no_panic();
        assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    }
}

#[test]
fn row_13b_a_signal_during_the_registry_step_is_not_lost() {
    let silent = FaultPeer::hang();
    let running = hook(&[
        "prestop",
        "--app",
        APP,
        "--drain",
        "30s",
        "--request-timeout",
        "1s",
        "--eureka-url",
        &silent.base_url(),
    ])
    .spawn();
    let started = Instant::now();
    while silent.connections() == 0 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &running.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let outcome = running.wait();
    report("13", "SIGTERM while a peer hangs, 30s drain", &outcome);
    outcome
        .assert_code(1)
        .assert_took_less_than(TIMEOUT + SLACK)
        .assert_stderr_contains("drain cut short by SIGTERM");
}

// Row 14 -----------------------------------------------------------------------------------------

#[test]
fn row_14_poststart_while_the_registry_is_down_warns_and_exits_0_unless_strict() {
    let down = FaultPeer::refused();
    let url = down.base_url();
    let hooks = [
        reader("poststart", &url, &[]),
        reader("poststart", &url, &[]).env("EUREKA_HOOK_STRICT", "true"),
    ];
    let [lenient, strict] = run_all(&hooks).try_into().ok().unwrap();
    report("14", "poststart, registry down (--wait 1s)", &lenient);
    report(
        "14",
        "poststart --strict, registry down (--wait 1s)",
        &strict,
    );
    // The documented bound: --wait plus one request timeout.
    for outcome in [&lenient, &strict] {
        outcome
            .assert_took_at_least(Duration::from_secs(1))
            .assert_took_less_than(Duration::from_secs(1) + TIMEOUT + SLACK)
            .assert_stderr_contains("connection refused");
    }
    lenient
        .assert_code(0)
        .assert_stderr_contains("eureka-hook: warning: could not check instance")
        .assert_stderr_contains("exiting 0 so the pod starts anyway");
    strict
        .assert_code(1)
        .assert_stderr_contains("eureka-hook: error: could not check instance");
}
