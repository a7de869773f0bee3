use crate::support::*;

#[test]
fn status_shows_each_peers_view_on_stdout() {
    let drained = registry_with_instance();
    drained.set_override(APP, DEFAULT_ID, "OUT_OF_SERVICE");
    let empty = EurekaDouble::start();
    let down = FaultPeer::refused();
    let urls = format!(
        "{},{},{}",
        drained.base_url(),
        empty.base_url(),
        down.base_url()
    );
    let outcome = hook(&[
        "status",
        "--app",
        APP,
        "--eureka-url",
        &urls,
        "--request-timeout",
        "1s",
    ])
    .run();
    outcome
        .assert_code(0)
        .assert_stdout_contains("instance pod-0:demo-service:8080 of app DEMO-SERVICE")
        .assert_stdout_contains("OUT_OF_SERVICE   OUT_OF_SERVICE")
        .assert_stdout_contains("not registered")
        .assert_stdout_contains("unreachable: connection refused");
    let rows: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(
        rows.len(),
        5,
        "title, header and one row per peer:\n{}",
        outcome.stdout
    );
    assert!(rows[2].starts_with(&drained.base_url()));
    assert!(sent(&drained, "PUT").is_empty() && sent(&drained, "DELETE").is_empty());
}

#[test]
fn status_of_an_unregistered_id_shows_the_instance_with_this_host_and_port() {
    let double = EurekaDouble::start();
    double.register(InstanceSpec::new(APP, HOST, 8080).instance_id("custom-id"));
    hook(&["status", "--app", APP])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(0)
        .assert_stdout_contains("instance custom-id of app DEMO-SERVICE")
        .assert_stdout_contains(
            "custom-id is the one instance of DEMO-SERVICE registered with host pod-0",
        )
        .assert_stdout_contains("--instance-id custom-id makes this the id");
}

#[test]
fn status_of_an_instance_nobody_has_exits_3_and_names_the_registered_ids() {
    let double = EurekaDouble::start();
    double.register(InstanceSpec::new(APP, "pod-9", 8080));
    hook(&["status", "--app", APP])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(3)
        .assert_stderr_contains("registered ids for DEMO-SERVICE: pod-9:demo-service:8080");
}

#[test]
fn status_shows_when_each_peer_registered_the_instance_and_whether_this_pod_did() {
    let current = registry_with_instance();
    let previous = registry_with_instance();
    // 2001-09-09: a lease from before this machine's PID 1 started (a previous incarnation's).
    assert!(previous.set_registration_timestamp(APP, DEFAULT_ID, 1_000_000_000_000));
    let urls = format!("{},{}", current.base_url(), previous.base_url());
    let outcome = hook(&["status", "--app", APP, "--eureka-url", &urls]).run();
    outcome.assert_code(0);
    let rows: Vec<&str> = outcome.stdout.lines().collect();
    assert!(
        rows[1].contains("REGISTERED") && rows[1].ends_with("THIS INCARNATION"),
        "{}",
        outcome.stdout
    );
    assert!(rows[2].ends_with(" yes"), "{}", outcome.stdout);
    assert!(
        rows[3].contains(" 2001-09-09T01:46:40Z ")
            && rows[3].ends_with(" no (registered before PID 1 started)"),
        "{}",
        outcome.stdout
    );
}
