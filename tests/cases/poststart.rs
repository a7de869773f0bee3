use std::time::Duration;

use crate::support::*;

#[test]
fn poststart_removes_a_stale_override_with_delete_without_value() {
    let double = registry_with_instance();
    assert_eq!(double.set_override(APP, DEFAULT_ID, "OUT_OF_SERVICE"), 200);
    hook(&["poststart", "--app", APP, "--wait", "5s"])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(0)
        .assert_stderr_contains("removed the OUT_OF_SERVICE override");
    assert_eq!(
        sent(&double, "DELETE"),
        ["/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status"]
    );
    assert!(
        sent(&double, "PUT").is_empty(),
        "poststart must never PUT a status"
    );
    // As on a real server: UNKNOWN until the app's next heartbeat is refused and it re-registers UP.
    assert_instance(&double, DEFAULT_ID, "UNKNOWN", "UNKNOWN");
    assert_eq!(double.heartbeat(APP, DEFAULT_ID), 404);
    double.register(InstanceSpec::new(APP, HOST, 8080));
    assert_instance(&double, DEFAULT_ID, "UP", "UNKNOWN");
}

#[test]
fn poststart_leaves_an_instance_without_override_alone() {
    let double = registry_with_instance();
    hook(&["poststart", "--app", APP, "--wait", "5s"])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(0)
        .assert_stderr_contains("no status override: nothing to clear");
    // Without SERVER_PORT, both of Spring's ids are looked up at once.
    let mut lookups = sent(&double, "GET");
    lookups.sort();
    assert_eq!(
        lookups,
        [
            "/eureka/apps/DEMO-SERVICE/pod-0:demo-service",
            "/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080"
        ]
    );
    assert!(sent(&double, "DELETE").is_empty());
    assert_instance(&double, DEFAULT_ID, "UP", "UNKNOWN");
}

#[test]
fn poststart_waits_for_a_registration_that_inherits_an_old_override() {
    let double = EurekaDouble::start();
    let running = hook(&["poststart", "--app", APP, "--wait", "20s"])
        .env("EUREKA_URL", double.base_url())
        .spawn();
    // Once poststart has been told 404 for both of Spring's ids:
    wait_for_answers(&double, "GET", 404, 2);
    // The predecessor with the same name was killed after a drain; its lease and override survive,
    // and the new pod's registration inherits OUT_OF_SERVICE.
    double.register(InstanceSpec::new(APP, HOST, 8080));
    double.set_override(APP, DEFAULT_ID, "OUT_OF_SERVICE");
    double.register(InstanceSpec::new(APP, HOST, 8080));
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    running
        .wait()
        .assert_code(0)
        .assert_stderr_contains("not registered yet")
        .assert_stderr_contains("removed the OUT_OF_SERVICE override");
    assert_instance(&double, DEFAULT_ID, "UNKNOWN", "UNKNOWN");
}

#[test]
fn poststart_clears_the_override_on_every_peer_that_has_one() {
    let first = registry_with_instance();
    let second = registry_with_instance();
    first.set_override(APP, DEFAULT_ID, "OUT_OF_SERVICE");
    let urls = format!("{},{}", first.base_url(), second.base_url());
    hook(&["poststart", "--app", APP, "--eureka-url", &urls])
        .run()
        .assert_code(0);
    assert_eq!(sent(&first, "DELETE").len(), 1);
    assert!(sent(&second, "DELETE").is_empty());
}

#[test]
fn poststart_warns_and_exits_0_when_the_instance_never_registers() {
    let double = EurekaDouble::start();
    hook(&["poststart", "--app", APP, "--wait", "1s"])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(0)
        .assert_took_at_least(Duration::from_secs(1))
        .assert_stderr_contains("did not register within 1s")
        .assert_stderr_contains("exiting 0 so the pod starts");
}

#[test]
fn poststart_strict_exits_3_when_the_instance_never_registers() {
    let double = EurekaDouble::start();
    hook(&["poststart", "--app", APP, "--wait", "1s", "--strict"])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(3)
        .assert_stderr_contains(
            "eureka-hook: error: instance pod-0:demo-service:8080 (or pod-0:demo-service) did not register within 1s",
        );
}

#[test]
fn poststart_strict_exits_4_when_credentials_are_refused() {
    let double = EurekaDouble::builder()
        .basic_auth("eureka", "right")
        .start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    hook(&["poststart", "--app", APP, "--wait", "0s", "--strict"])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(4)
        .assert_stderr_contains("401");
}
