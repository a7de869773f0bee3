//! poststart's fast return: `DELETE …/status?value=UP` only when the record is this pod's, was
//! registered after this pod's PID 1 started, and the app answers its health check; each guard
//! refusing in turn sends the plain DELETE. The health check is a tiny server in this file.
//!
//! The stale registration is a lease whose `registrationTimestamp` the double sets to 2001: the
//! binary reads the real `/proc` of this machine, whose PID 1 started long after, exactly as a
//! restarted StatefulSet pod finds its predecessor's lease (same hostName) still in the registry.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

/// 2001-09-09: before any PID 1 on a machine running these tests started.
const LONG_AGO_MS: i64 = 1_000_000_000_000;

/// Answers every request with `status` and records each request's head.
struct HealthCheck {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl HealthCheck {
    fn answering(status: u16) -> HealthCheck {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/actuator/health", listener.local_addr().unwrap());
        let heads = Arc::<Mutex<Vec<String>>>::default();
        let recorded = Arc::clone(&heads);
        thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                recorded.lock().unwrap().push(read_head(&mut stream));
                let body = r#"{"status":"UP"}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        HealthCheck { url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

fn read_head(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A double with this pod's instance registered and drained (`OUT_OF_SERVICE` override).
fn drained(double: EurekaDouble, spec: InstanceSpec) -> EurekaDouble {
    let id = double.register(spec);
    assert_eq!(double.set_override(APP, &id, "OUT_OF_SERVICE"), 200);
    double
}

fn poststart(double: &EurekaDouble, extra: &[&str]) -> Outcome {
    let mut args = vec!["poststart", "--app", APP, "--wait", "5s"];
    args.extend_from_slice(extra);
    hook(&args)
        .env("EUREKA_URL", double.base_url())
        .env("EUREKA_USERNAME", "eureka")
        .env("EUREKA_PASSWORD", "registry-secret")
        .run()
}

const PLAIN_DELETE: &str = "/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status";
const FAST_DELETE: &str = "/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status?value=UP";

/// The app listing as consumers read it, from the double's response cache.
fn cached_listing(double: &EurekaDouble) -> String {
    let mut stream = TcpStream::connect(double.addr()).unwrap();
    write!(
        stream,
        "GET /eureka/apps/DEMO-SERVICE HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn fast_return_sets_the_instance_up_at_once_and_the_cached_listing_follows() {
    let refresh = Duration::from_millis(400);
    let double = drained(
        EurekaDouble::builder()
            .response_cache_interval(refresh)
            .start(),
        InstanceSpec::new(APP, HOST, 8080),
    );
    assert!(cached_listing(&double).contains(r#""status":"OUT_OF_SERVICE""#));
    let health = HealthCheck::answering(200);
    let started = Instant::now();
    poststart(&double, &["--health-url", &health.url])
        .assert_code(0)
        .assert_stderr_contains("answered 200: removing the override with DELETE .../status?value=UP")
        .assert_stderr_contains("removed the OUT_OF_SERVICE override of instance pod-0:demo-service:8080 and set it UP at once (fast return)")
        .assert_never_shows("registry-secret");
    assert_eq!(sent(&double, "DELETE"), [FAST_DELETE]);
    // On the live record at once: no heartbeat, no re-registration needed.
    assert_instance(&double, DEFAULT_ID, "UP", "UNKNOWN");
    // One GET, without the registry's credentials.
    let heads = health.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("GET /actuator/health HTTP/1.1"),
        "{heads:?}"
    );
    assert!(
        !heads[0].to_ascii_lowercase().contains("authorization"),
        "{heads:?}"
    );
    // And in what consumers read at the cache's next refresh.
    let deadline = started + refresh * 3 + Duration::from_secs(1);
    loop {
        let listing = cached_listing(&double);
        if listing.contains(r#""status":"UP""#) && !listing.contains("OUT_OF_SERVICE") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still not UP in the cached listing: {listing}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_records_own_health_check_url_on_loopback_is_asked_without_health_url() {
    let health = HealthCheck::answering(204);
    let double = drained(
        EurekaDouble::start(),
        InstanceSpec::new(APP, HOST, 8080).health_check_url(&health.url),
    );
    poststart(&double, &[])
        .assert_code(0)
        .assert_stderr_contains("answered 204");
    assert_eq!(sent(&double, "DELETE"), [FAST_DELETE]);
    assert_instance(&double, DEFAULT_ID, "UP", "UNKNOWN");
    assert_eq!(health.heads().len(), 1);
}

/// Runs poststart on `double` with a healthy app, expects the plain DELETE and `guard` named.
fn assert_refused(double: &EurekaDouble, extra: &[&str], health: &HealthCheck, guard: &str) {
    let mut args = vec!["--health-url", health.url.as_str()];
    args.extend_from_slice(extra);
    poststart(double, &args)
        .assert_code(0)
        .assert_stderr_contains("not setting instance pod-0:demo-service:8080 UP at once: ")
        .assert_stderr_contains(guard)
        .assert_stderr_contains("removing the override with DELETE .../status instead")
        .assert_stderr_contains("its next heartbeat re-registers it");
    assert_eq!(sent(double, "DELETE"), [PLAIN_DELETE]);
    // As before the fast return existed: UNKNOWN until the next heartbeat.
    assert_instance(double, DEFAULT_ID, "UNKNOWN", "UNKNOWN");
}

#[test]
fn a_registration_older_than_this_pods_pid_1_is_not_forced_up() {
    let double = drained(EurekaDouble::start(), InstanceSpec::new(APP, HOST, 8080));
    assert!(double.set_registration_timestamp(APP, DEFAULT_ID, LONG_AGO_MS));
    let health = HealthCheck::answering(200);
    assert_refused(
        &double,
        &[],
        &health,
        "'s record was registered at 2001-09-09T01:46:40Z (1000000000000 epoch ms), before \
         this pod's PID 1 started at ",
    );
    assert!(
        health.heads().is_empty(),
        "asked the health check after a refusal"
    );
}

#[test]
fn a_record_with_another_address_is_not_forced_up() {
    let spec = InstanceSpec::new(APP, "pod-9", 8080)
        .instance_id(DEFAULT_ID)
        .ip_addr("192.0.2.9");
    let double = drained(EurekaDouble::start(), spec);
    let health = HealthCheck::answering(200);
    assert_refused(&double, &[], &health, "address guard: peer ");
    assert!(health.heads().is_empty());
}

#[test]
fn an_app_answering_503_is_not_forced_up() {
    let double = drained(EurekaDouble::start(), InstanceSpec::new(APP, HOST, 8080));
    let health = HealthCheck::answering(503);
    assert_refused(&double, &[], &health, "answered 503, not 2xx");
    assert_eq!(health.heads().len(), 1, "a 503 is not retried");
}

#[test]
fn a_hanging_health_check_is_bounded_by_the_request_timeout() {
    let double = drained(EurekaDouble::start(), InstanceSpec::new(APP, HOST, 8080));
    let hanging = FaultPeer::hang();
    let started = Instant::now();
    poststart(
        &double,
        &[
            "--health-url",
            &hanging.base_url(),
            "--request-timeout",
            "300ms",
        ],
    )
    .assert_code(0)
    .assert_stderr_contains("health guard: GET ")
    .assert_stderr_contains("no answer within 300ms");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(sent(&double, "DELETE"), [PLAIN_DELETE]);
    assert_instance(&double, DEFAULT_ID, "UNKNOWN", "UNKNOWN");
}

#[test]
fn no_fast_return_sends_the_plain_delete_without_asking_the_app() {
    let double = drained(EurekaDouble::start(), InstanceSpec::new(APP, HOST, 8080));
    let health = HealthCheck::answering(200);
    assert_refused(
        &double,
        &["--no-fast-return"],
        &health,
        "turned off (--no-fast-return",
    );
    assert!(health.heads().is_empty());
}

#[test]
fn every_peer_with_a_stale_override_gets_the_fast_return_after_one_health_check() {
    let first = drained(EurekaDouble::start(), InstanceSpec::new(APP, HOST, 8080));
    let second = drained(EurekaDouble::start(), InstanceSpec::new(APP, HOST, 8080));
    let health = HealthCheck::answering(200);
    let urls = format!("{},{}", first.base_url(), second.base_url());
    hook(&[
        "poststart",
        "--app",
        APP,
        "--eureka-url",
        &urls,
        "--health-url",
        &health.url,
    ])
    .run()
    .assert_code(0)
    .assert_stderr_contains("set it UP at once (fast return)");
    for double in [&first, &second] {
        assert_eq!(sent(double, "DELETE"), [FAST_DELETE]);
        assert_instance(double, DEFAULT_ID, "UP", "UNKNOWN");
    }
    assert_eq!(health.heads().len(), 1, "one health check for all peers");
}

#[test]
fn the_variable_turns_the_fast_return_off_too() {
    let double = drained(EurekaDouble::start(), InstanceSpec::new(APP, HOST, 8080));
    let health = HealthCheck::answering(200);
    hook(&["poststart", "--app", APP, "--health-url", &health.url])
        .env("EUREKA_URL", double.base_url())
        .env("EUREKA_HOOK_FAST_RETURN", "false")
        .run()
        .assert_code(0)
        .assert_stderr_contains("turned off");
    assert_eq!(sent(&double, "DELETE"), [PLAIN_DELETE]);
    assert!(health.heads().is_empty());
}

#[test]
fn a_health_url_with_credentials_is_bad_input_and_nothing_is_sent() {
    let double = drained(EurekaDouble::start(), InstanceSpec::new(APP, HOST, 8080));
    double.clear_requests();
    for (flag, env) in [
        (
            Some("http://app:hunter22@127.0.0.1:8080/actuator/health"),
            None,
        ),
        (
            None,
            Some("http://app:hunter22@127.0.0.1:8080/actuator/health"),
        ),
        (Some("ftp://127.0.0.1/health"), None),
    ] {
        let mut args = vec!["poststart", "--app", APP];
        args.extend(flag.iter().flat_map(|url| ["--health-url", url]));
        let mut command = hook(&args).env("EUREKA_URL", double.base_url());
        if let Some(url) = env {
            command = command.env("EUREKA_HOOK_HEALTH_URL", url);
        }
        let outcome = command.run();
        outcome
            .assert_code(2)
            .assert_never_shows("hunter22")
            .assert_stderr_contains(if env.is_some() {
                "EUREKA_HOOK_HEALTH_URL"
            } else {
                "--health-url"
            });
    }
    assert!(double.requests().is_empty(), "bad input sent requests");
}
