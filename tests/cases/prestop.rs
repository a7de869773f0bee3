use std::time::Duration;

use crate::support::*;

#[test]
fn prestop_marks_instance_out_of_service_and_holds_the_drain() {
    let double = registry_with_instance();
    let outcome = hook(&["prestop", "--app", APP, "--drain", "200ms"])
        .env("EUREKA_URL", double.base_url())
        .run();
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_millis(200))
        .assert_stderr_contains("OUT_OF_SERVICE on 1 of 1 peer")
        .assert_stderr_contains("drain of 200ms held");
    // Without SERVER_PORT, both of Spring's ids are marked at once; the other one is a 404.
    let mut puts = sent(&double, "PUT");
    puts.sort();
    assert_eq!(
        puts,
        [
            "/eureka/apps/DEMO-SERVICE/pod-0:demo-service/status?value=OUT_OF_SERVICE",
            "/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status?value=OUT_OF_SERVICE"
        ]
    );
    assert_eq!(
        sent(&double, "GET"),
        ["/eureka/apps/DEMO-SERVICE", "/eureka/apps/delta"],
        "the listing and the delta before the PUTs; a drain shorter than a poll interval polls \
         nothing"
    );
    assert_eq!(
        double.requests().len(),
        4,
        "the listing, the delta and the status PUTs"
    );
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn prestop_sends_json_accept_and_never_the_replication_header() {
    let double = registry_with_instance();
    hook(&["prestop", "--app", APP, "--drain", "0s"])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(0);
    let request = &double.requests()[0];
    assert_eq!(request.header("Accept"), Some("application/json"));
    assert_eq!(request.header("x-netflix-discovery-replication"), None);
    assert_eq!(request.header("Authorization"), None);
    // An empty PUT goes out with its length, not chunked.
    assert_eq!(request.header("Content-Length"), Some("0"));
    assert_eq!(request.header("Transfer-Encoding"), None);
}

#[test]
fn reads_send_no_body_length() {
    let double = registry_with_instance();
    hook(&["status", "--app", APP])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(0);
    let request = &double.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.header("Accept"), Some("application/json"));
    assert_eq!(request.header("Content-Length"), None);
}

#[test]
fn prestop_builds_the_id_from_spring_env_vars() {
    let double = EurekaDouble::start();
    double.register(InstanceSpec::new("orders", "web-7", 9090));
    hook(&["prestop", "--drain", "0s"])
        .env("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", double.base_url())
        .env("SPRING_APPLICATION_NAME", "orders")
        .env("SERVER_PORT", "9090")
        .env("EUREKA_HOSTNAME", "web-7")
        .run()
        .assert_code(0);
    assert_eq!(
        sent(&double, "PUT"),
        ["/eureka/apps/ORDERS/web-7:orders:9090/status?value=OUT_OF_SERVICE"]
    );
}

#[test]
fn prestop_percent_encodes_the_instance_id() {
    let double = EurekaDouble::start();
    let id = "custom?id#with%:chars";
    double.register(InstanceSpec::new(APP, HOST, 8080).instance_id(id));
    hook(&[
        "prestop",
        "--app",
        APP,
        "--drain",
        "0s",
        "--instance-id",
        id,
    ])
    .env("EUREKA_URL", double.base_url())
    .run()
    .assert_code(0);
    assert_eq!(
        sent(&double, "PUT"),
        ["/eureka/apps/DEMO-SERVICE/custom%3Fid%23with%25:chars/status?value=OUT_OF_SERVICE"]
    );
    assert_instance(&double, id, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn prestop_marks_every_peer() {
    let first = registry_with_instance();
    let second = registry_with_instance();
    let urls = format!(
        "{},{}",
        first.base_url(),
        second.base_url().trim_end_matches('/')
    );
    hook(&[
        "prestop",
        "--app",
        APP,
        "--drain",
        "0s",
        "--eureka-url",
        &urls,
    ])
    .run()
    .assert_code(0)
    .assert_stderr_contains("OUT_OF_SERVICE on 2 of 2 peer");
    for double in [&first, &second] {
        assert_instance(double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    }
}

#[test]
fn prestop_uses_the_one_instance_registered_with_this_host_and_port() {
    let double = EurekaDouble::start();
    // A custom id (eureka.instance.instance-id) that the default does not reproduce.
    let custom = "demo-service:5f2a9c";
    double.register(InstanceSpec::new(APP, HOST, 8080).instance_id(custom));
    double.register(InstanceSpec::new(APP, HOST, 9999).instance_id("same-host-other-port"));
    hook(&["prestop", "--app", APP, "--drain", "0s"])
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(0)
        .assert_stderr_contains(&format!("but {custom} is the one instance of DEMO-SERVICE"));
    assert_instance(&double, custom, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    assert_instance(&double, "same-host-other-port", "UP", "UNKNOWN");
}

#[test]
fn prestop_matches_the_pod_ip_for_ip_based_registrations() {
    let double = EurekaDouble::start();
    // prefer-ip-address: hostName is the pod IP.
    let id = "10.244.1.17:demo-service:8080";
    double.register(InstanceSpec::new(APP, "10.244.1.17", 8080).ip_addr("10.244.1.17"));
    hook(&["prestop", "--app", APP, "--drain", "0s"])
        .env("EUREKA_URL", double.base_url())
        .env("POD_IP", "10.244.1.17")
        .run()
        .assert_code(0);
    assert_instance(&double, id, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn prestop_sends_basic_auth_from_the_url_without_showing_the_password() {
    let double = EurekaDouble::builder()
        .basic_auth("eureka", "s3cr3t-pw")
        .start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    let url = double
        .base_url()
        .replace("http://", "http://eureka:s3cr3t-pw@");
    hook(&["prestop", "--app", APP, "--drain", "0s", "-v"])
        .env("EUREKA_URL", url)
        .run()
        .assert_code(0)
        .assert_stderr_contains("http://eureka:***@127.0.0.1")
        .assert_never_shows("s3cr3t-pw");
    let request = &double.requests()[0];
    // base64("eureka:s3cr3t-pw")
    assert_eq!(
        request.header("Authorization"),
        Some("Basic ZXVyZWthOnMzY3IzdC1wdw==")
    );
}

#[test]
fn prestop_dry_run_prints_the_plan_and_sends_nothing() {
    let double = registry_with_instance();
    let outcome = hook(&["prestop", "--app", APP, "--drain", "1h", "--dry-run"])
        .env(
            "EUREKA_URL",
            double.base_url().replace("http://", "http://u:hidden-pw@"),
        )
        .run();
    outcome
        .assert_code(0)
        .assert_took_less_than(Duration::from_secs(10))
        .assert_stdout_contains("PUT http://127.0.0.1")
        .assert_stdout_contains(
            "/apps/DEMO-SERVICE/pod-0:demo-service:8080/status?value=OUT_OF_SERVICE",
        )
        .assert_stdout_contains("[Authorization: Basic u:***]")
        .assert_stdout_contains(
            "  if no id is registered and the listing has this pod's instance: PUT http://127.0.0.1",
        )
        .assert_stdout_contains("/apps/DEMO-SERVICE/(found-id)/status?value=OUT_OF_SERVICE")
        .assert_stdout_contains(
            "  if no id is registered and every listing answers 404: GET http://127.0.0.1",
        )
        .assert_stdout_contains("/eureka/apps/delta  [Authorization: Basic u:***]")
        .assert_stdout_contains("  if marked and still listed: GET ")
        .assert_stdout_contains("hold the pod for 1h")
        .assert_never_shows("hidden-pw");
    assert!(double.requests().is_empty());
}
