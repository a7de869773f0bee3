//! The double's behaviour over real HTTP beyond the transcript: routing and encoding, XML,
//! caching, delta, lease expiry, Basic auth and CSRF, request recording, scripted faults, and the
//! byte-level fault peers, and the TLS front.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{eventually, get_json, send, try_send};
use eureka_double::{EurekaDouble, FaultPeer, InstanceSpec, ManualClock, ScriptedReply, TlsFront};

const JSON: (&str, &str) = ("Accept", "application/json");

fn demo(host: &str) -> InstanceSpec {
    InstanceSpec::new("demo-service", host, 8080)
}

#[test]
fn percent_encoded_ids_v2_prefix_and_lower_case_apps_reach_the_instance() {
    let eureka = EurekaDouble::start();
    let id = eureka.register(demo("pod-0"));
    assert_eq!(id, "pod-0:demo-service:8080");
    let base = eureka.base_url();
    let encoded =
        format!("{base}apps/demo-service/pod-0%3Ademo-service%3A8080/status?value=OUT_OF_SERVICE");
    assert_eq!(send("PUT", &encoded, &[], None).status, 200);
    let v2 = get_json(&format!("{base}v2/apps/DEMO-SERVICE/{id}"));
    assert_eq!(v2.json()["instance"]["status"], "OUT_OF_SERVICE");
    let state = eureka.instance("Demo-Service", &id).unwrap();
    assert_eq!(
        (state.status.as_str(), state.overridden_status.as_str()),
        ("OUT_OF_SERVICE", "OUT_OF_SERVICE")
    );
    assert_eq!(state.action_type, "MODIFIED");
}

#[test]
fn an_encoded_slash_is_rejected_like_tomcat_does() {
    let eureka = EurekaDouble::start();
    eureka.register(demo("pod-0").instance_id("a/b"));
    let url = format!(
        "{}apps/DEMO-SERVICE/a%2Fb/status?value=OUT_OF_SERVICE",
        eureka.base_url()
    );
    assert_eq!(send("PUT", &url, &[], None).status, 400);
    assert_eq!(eureka.instance("DEMO-SERVICE", "a/b").unwrap().status, "UP");
}

#[test]
fn unknown_routes_are_404_and_known_ones_with_other_methods_405() {
    let eureka = EurekaDouble::start();
    let base = eureka.base_url();
    assert_eq!(
        send("GET", &format!("{base}nothing"), &[], None).status,
        404
    );
    assert_eq!(
        send(
            "GET",
            &format!("{}/other/apps/", base.trim_end_matches("eureka/")),
            &[],
            None
        )
        .status,
        404
    );
    assert_eq!(
        send("DELETE", &format!("{base}apps/DEMO"), &[], None).status,
        405
    );
    assert_eq!(
        send("GET", &format!("{base}apps/DEMO/id/status"), &[], None).status,
        405
    );
    assert_eq!(
        send("POST", &format!("{base}apps/"), &[], Some("{}")).status,
        405
    );
}

#[test]
fn registration_over_http_validates_like_the_server() {
    let eureka = EurekaDouble::builder()
        .response_cache_interval(Duration::ZERO)
        .start();
    let url = format!("{}apps/DEMO-SERVICE", eureka.base_url());
    let body = demo("pod-0").to_json().to_string();
    let json_body = [JSON, ("Content-Type", "application/json")];
    assert_eq!(
        send("POST", &url, &[("Content-Type", "text/plain")], Some(&body)).status,
        415
    );
    assert_eq!(send("POST", &url, &json_body, Some(&body)).status, 204);

    let mut without_ip = demo("pod-1").to_json();
    without_ip["instance"]
        .as_object_mut()
        .unwrap()
        .remove("ipAddr");
    let rejected = send("POST", &url, &json_body, Some(&without_ip.to_string()));
    assert_eq!(
        (rejected.status, rejected.body.as_str()),
        (400, "Missing ip address")
    );
    let mismatched = send("POST", &format!("{url}-X"), &json_body, Some(&body));
    assert_eq!(
        mismatched.body,
        "Mismatched appName, expecting DEMO-SERVICE-X but was DEMO-SERVICE"
    );

    let charset = [("Content-Type", "application/json; charset=UTF-8")];
    let unparsable = send("POST", &url, &charset, Some("{"));
    assert_eq!(
        (unparsable.status, unparsable.body.as_str()),
        (
            400,
            "<error><message>cannot parse request body</message></error>"
        )
    );
    let listed = get_json(&url).json();
    assert_eq!(
        listed["application"]["instance"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn without_accept_json_the_documents_are_xstream_xml() {
    let eureka = EurekaDouble::builder()
        .response_cache_interval(Duration::ZERO)
        .start();
    let id = eureka.register(demo("pod-0"));
    let base = eureka.base_url();
    let all = send("GET", &format!("{base}apps/"), &[("Accept", "*/*")], None);
    assert_eq!(all.header("Content-Type"), Some("application/xml"));
    assert!(all.body.starts_with("<applications>\n  <versions__delta>1</versions__delta>\n  <apps__hashcode>UP_1_</apps__hashcode>\n  <application>\n    <name>DEMO-SERVICE</name>\n    <instance>\n"), "{}", all.body);
    for fragment in [
        "<port enabled=\"true\">8080</port>",
        "<securePort enabled=\"false\">443</securePort>",
        "<overriddenstatus>UNKNOWN</overriddenstatus>",
        "<dataCenterInfo class=\"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo\">\n        <name>MyOwn</name>\n      </dataCenterInfo>",
        "<metadata>\n        <management.port>8080</management.port>\n      </metadata>",
    ] {
        assert!(
            all.body.contains(fragment),
            "missing {fragment:?} in {}",
            all.body
        );
    }
    let instance = send("GET", &format!("{base}apps/DEMO-SERVICE/{id}"), &[], None);
    assert!(
        instance
            .body
            .starts_with("<instance>\n  <instanceId>pod-0:demo-service:8080</instanceId>"),
        "{}",
        instance.body
    );
    let by_id = send("GET", &format!("{base}instances/{id}"), &[], None);
    assert_eq!(by_id.body, instance.body);
}

#[test]
fn read_only_cache_freezes_application_reads_including_404_until_its_timer() {
    let interval = Duration::from_millis(500);
    // On a test's clock, just after a refresh (the timer is aligned to multiples of the interval).
    let clock = ManualClock::at(1_700_000_000_010);
    let eureka = EurekaDouble::builder()
        .response_cache_interval(interval)
        .clock(clock.source())
        .start();
    let app_url = format!("{}apps/DEMO-SERVICE", eureka.base_url());
    assert_eq!(get_json(&app_url).status, 404);
    let id = eureka.register(demo("pod-0"));
    clock.advance(Duration::from_millis(480));
    let frozen = get_json(&app_url).status;
    assert_eq!(frozen, 404, "a cached 404 stays until the timer runs");
    clock.advance(Duration::from_millis(20));
    assert_eq!(get_json(&app_url).status, 200, "the refresh came");

    assert_eq!(
        eureka.set_override("demo-service", &id, "OUT_OF_SERVICE"),
        200
    );
    let instance = get_json(&format!("{app_url}/{id}")).json();
    assert_eq!(
        instance["instance"]["status"], "OUT_OF_SERVICE",
        "instance reads are never cached"
    );
    let status_in_app =
        || get_json(&app_url).json()["application"]["instance"][0]["status"].clone();
    // The refresh came at …510; the next is at …1000.
    clock.advance(Duration::from_millis(489));
    assert_eq!(status_in_app(), "UP");
    clock.advance(Duration::from_millis(1));
    assert_eq!(status_in_app(), "OUT_OF_SERVICE");
    let arrivals: Vec<i64> = eureka
        .requests()
        .iter()
        .map(|request| request.epoch_ms)
        .collect();
    assert_eq!(arrivals.first(), Some(&1_700_000_000_010));
    assert_eq!(arrivals.last(), Some(&clock.now_ms()));
}

#[test]
fn delta_reports_changes_with_action_types_and_the_full_registry_hash() {
    let eureka = EurekaDouble::builder()
        .response_cache_interval(Duration::ZERO)
        .start();
    let first = eureka.register(demo("pod-0"));
    let second = eureka.register(demo("pod-1"));
    eureka.set_override("DEMO-SERVICE", &first, "OUT_OF_SERVICE");
    let cancel = format!("{}apps/DEMO-SERVICE/{second}", eureka.base_url());
    assert_eq!(send("DELETE", &cancel, &[], None).status, 200);
    let delta = get_json(&format!("{}apps/delta", eureka.base_url())).json();
    let applications = &delta["applications"];
    assert_eq!(applications["apps__hashcode"], "OUT_OF_SERVICE_1_");
    assert_eq!(applications["versions__delta"], "1");
    let actions: Vec<(String, String)> = applications["application"][0]["instance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|instance| {
            (
                instance["instanceId"].as_str().unwrap().to_owned(),
                instance["actionType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            (first, "MODIFIED".to_owned()),
            (second, "DELETED".to_owned())
        ]
    );
}

#[test]
fn delta_forgets_changes_after_the_retention_time() {
    let eureka = EurekaDouble::builder()
        .response_cache_interval(Duration::ZERO)
        .delta_retention(Duration::from_millis(200))
        .start();
    eureka.register(demo("pod-0"));
    let delta_url = format!("{}apps/delta", eureka.base_url());
    assert_eq!(
        get_json(&delta_url).json()["applications"]["application"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    thread::sleep(Duration::from_millis(500));
    eureka.register(demo("pod-1"));
    let delta = get_json(&delta_url).json();
    let instances = &delta["applications"]["application"][0]["instance"];
    assert_eq!(instances.as_array().unwrap().len(), 1);
    assert_eq!(instances[0]["hostName"], "pod-1");
    assert_eq!(delta["applications"]["versions__delta"], "2");
}

#[test]
fn expired_leases_answer_404_to_instance_reads_and_are_evicted() {
    let eureka = EurekaDouble::builder()
        .response_cache_interval(Duration::ZERO)
        .lease_expiry(true)
        .eviction_interval(Duration::from_millis(100))
        .start();
    let id = eureka.register(demo("pod-0").lease(1, 1));
    assert_eq!(eureka.heartbeat("demo-service", &id), 200);
    let instance_url = format!("{}apps/DEMO-SERVICE/{id}", eureka.base_url());
    assert_eq!(get_json(&instance_url).status, 200);
    // The renewal quirk: a lease renewed once expires two durations later.
    assert!(eventually(Duration::from_secs(4), || eureka
        .instance("demo-service", &id)
        .is_none()));
    assert_eq!(get_json(&instance_url).status, 404);
    assert_eq!(eureka.heartbeat("demo-service", &id), 404);
}

#[test]
fn basic_auth_rejects_every_route_without_the_right_credentials() {
    let eureka = EurekaDouble::builder()
        .basic_auth("eureka", "s3cret")
        .start();
    let base = eureka.base_url();
    for url in [format!("{base}apps/"), format!("{base}nothing")] {
        let rejected = send(
            "GET",
            &url,
            &[("Authorization", "Basic ZXVyZWthOndyb25n")],
            None,
        );
        assert_eq!(rejected.status, 401);
        assert_eq!(
            rejected.header("WWW-Authenticate"),
            Some("Basic realm=\"Realm\"")
        );
    }
    // base64("eureka:s3cret")
    let good = ("Authorization", "Basic ZXVyZWthOnMzY3JldA==");
    assert_eq!(
        send("GET", &format!("{base}apps/"), &[good], None).status,
        200
    );
    let statuses: Vec<u16> = eureka
        .requests()
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [401, 401, 200]);
}

#[test]
fn csrf_protection_forbids_writes_with_good_credentials_but_allows_reads() {
    let eureka = EurekaDouble::builder()
        .basic_auth("eureka", "s3cret")
        .csrf_protection(true)
        .start();
    let id = eureka.register(demo("pod-0"));
    let good = ("Authorization", "Basic ZXVyZWthOnMzY3JldA==");
    let url = format!(
        "{}apps/DEMO-SERVICE/{id}/status?value=OUT_OF_SERVICE",
        eureka.base_url()
    );
    let forbidden = send("PUT", &url, &[good], None);
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json()["error"], "Forbidden");
    assert_eq!(eureka.instance("DEMO-SERVICE", &id).unwrap().status, "UP");
    assert_eq!(
        send(
            "GET",
            &format!("{}apps/", eureka.base_url()),
            &[good, JSON],
            None
        )
        .status,
        200
    );
}

#[test]
fn requests_are_recorded_raw_and_in_order() {
    let eureka = EurekaDouble::start();
    let id = eureka.register(demo("pod-0"));
    assert!(
        eureka.requests().is_empty(),
        "direct registration is not a request"
    );
    let url = format!(
        "{}apps/demo-service/pod-0%3Ademo-service%3A8080/status?value=OUT_OF_SERVICE",
        eureka.base_url()
    );
    send(
        "PUT",
        &url,
        &[
            ("X-Netflix-Discovery-Replication", "false"),
            ("Content-Type", "text/plain"),
        ],
        Some("{}"),
    );
    let instance = send(
        "GET",
        &format!("{}apps/DEMO-SERVICE/{id}", eureka.base_url()),
        &[JSON],
        None,
    );
    let requests = eureka.requests();
    assert_eq!(requests.len(), 2);
    let put = &requests[0];
    assert_eq!(
        (put.method.as_str(), put.path.as_str()),
        (
            "PUT",
            "/eureka/apps/demo-service/pod-0%3Ademo-service%3A8080/status"
        )
    );
    assert_eq!(
        (put.query.as_deref(), put.body.as_str(), put.status),
        (Some("value=OUT_OF_SERVICE"), "{}", 200)
    );
    assert_eq!(put.header("x-netflix-discovery-replication"), Some("false"));
    // The size of each answer's body as sent: none for the PUT, the document for the GET.
    assert_eq!(
        (put.response_body_bytes, requests[1].response_body_bytes),
        (0, instance.bytes.len())
    );
    assert!(!instance.bytes.is_empty());
    eureka.clear_requests();
    assert!(eureka.requests().is_empty());
}

#[test]
fn scripted_replies_fire_in_order_and_then_the_server_answers() {
    let eureka = EurekaDouble::start();
    let id = eureka.register(demo("pod-0"));
    eureka.script(
        ScriptedReply::on("PUT", "/status")
            .times(1)
            .status(503)
            .header("Retry-After", "1")
            .body("busy"),
    );
    eureka.script(
        ScriptedReply::on("GET", "/apps/")
            .times(1)
            .redirect("http://127.0.0.1:9/eureka/"),
    );
    let url = format!(
        "{}apps/DEMO-SERVICE/{id}/status?value=OUT_OF_SERVICE",
        eureka.base_url()
    );
    let busy = send("PUT", &url, &[], None);
    assert_eq!(
        (busy.status, busy.header("Retry-After"), busy.body.as_str()),
        (503, Some("1"), "busy")
    );
    assert_eq!(send("PUT", &url, &[], None).status, 200);
    let redirect = send("GET", &format!("{}apps/", eureka.base_url()), &[], None);
    assert_eq!(
        (redirect.status, redirect.header("Location")),
        (302, Some("http://127.0.0.1:9/eureka/"))
    );
    let statuses: Vec<u16> = eureka
        .requests()
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [503, 200, 302]);
}

#[test]
fn scripted_bodies_are_huge_or_malformed_json() {
    let eureka = EurekaDouble::start();
    eureka.script(ScriptedReply::on("GET", "/huge").huge_body(3_000_000));
    eureka.script(ScriptedReply::on("GET", "/broken").malformed_json());
    let huge = send(
        "GET",
        &format!("{}apps/X/huge", eureka.base_url()),
        &[],
        None,
    );
    assert_eq!(
        (huge.status, huge.body.len(), huge.header("Content-Type")),
        (200, 3_000_000, Some("application/json"))
    );
    let broken = send(
        "GET",
        &format!("{}apps/X/broken", eureka.base_url()),
        &[],
        None,
    );
    assert_eq!(broken.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&broken.body).is_err());
}

#[test]
fn a_delayed_reply_answers_normally_after_the_delay() {
    let eureka = EurekaDouble::start();
    eureka.script(
        ScriptedReply::any()
            .times(1)
            .delay(Duration::from_millis(300)),
    );
    let started = Instant::now();
    assert_eq!(get_json(&format!("{}apps/", eureka.base_url())).status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn a_hanging_reply_blocks_only_its_request_and_ends_when_the_double_drops() {
    let eureka = EurekaDouble::start();
    eureka.script(ScriptedReply::on("PUT", "").hang());
    let url = format!("{}apps/DEMO-SERVICE/x/status?value=UP", eureka.base_url());
    let hanging = thread::spawn(move || send("PUT", &url, &[], None).status);
    assert!(eventually(Duration::from_secs(2), || eureka
        .requests()
        .len()
        == 1));
    assert_eq!(get_json(&format!("{}apps/", eureka.base_url())).status, 200);
    assert_eq!(
        eureka.requests()[0].status,
        0,
        "the hanging request is unanswered"
    );
    let dropping = Instant::now();
    drop(eureka);
    assert!(
        dropping.elapsed() < Duration::from_secs(1),
        "drop waited {:?}",
        dropping.elapsed()
    );
    assert_eq!(
        hanging.join().unwrap(),
        500,
        "tiny_http answers a dropped request with 500"
    );
}

fn raw_request(base_url: &str) -> (TcpStream, String) {
    let addr = base_url
        .trim_start_matches("http://")
        .trim_end_matches("/eureka/")
        .to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    let request = format!(
        "PUT /eureka/apps/A/a/status?value=OUT_OF_SERVICE HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    (stream, addr)
}

#[test]
fn refused_peer_refuses_connections() {
    let peer = FaultPeer::refused();
    let addr = peer
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches("/eureka/")
        .to_owned();
    assert_eq!(
        TcpStream::connect(addr).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
    assert!(try_send("GET", &format!("{}apps/", peer.base_url()), &[], None).is_err());
    assert_eq!(peer.connections(), 0);
}

#[test]
fn hanging_peer_reads_the_request_and_never_answers() {
    let peer = FaultPeer::hang();
    let (mut stream, _) = raw_request(&peer.base_url());
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let error = stream.read(&mut [0; 16]).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error:?}"
    );
    assert_eq!(peer.connections(), 1);
    let dropping = Instant::now();
    drop(peer);
    assert!(dropping.elapsed() < Duration::from_secs(1));
}

#[test]
fn slow_body_peer_sends_headers_then_one_byte_at_a_time() {
    let peer = FaultPeer::slow_body();
    let (mut stream, _) = raw_request(&peer.base_url());
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut received = Vec::new();
    let mut byte = [0; 1];
    while !received.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        received.push(byte[0]);
    }
    let head = String::from_utf8(received).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: application/json\r\n")
            && head.contains("Content-Length: 1048576\r\n"),
        "{head}"
    );
    let started = Instant::now();
    let mut body = [0; 3];
    stream.read_exact(&mut body).unwrap();
    assert_eq!(&body, b"{\"i");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "three bytes came in {:?}",
        started.elapsed()
    );
    assert_eq!(peer.connections(), 1);
}

#[test]
fn reset_peer_resets_the_connection_after_the_request() {
    let peer = FaultPeer::reset();
    let (mut stream, _) = raw_request(&peer.base_url());
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let error = stream.read(&mut [0; 16]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionReset);
    assert!(try_send("GET", &format!("{}apps/", peer.base_url()), &[], None).is_err());
    assert_eq!(peer.connections(), 2);
}

#[test]
fn tls_front_serves_the_double_to_a_client_that_trusts_its_certificate() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    let eureka = EurekaDouble::start();
    let id = eureka.register(demo("pod-0"));
    let front = TlsFront::new(&eureka);
    assert!(front.base_url().starts_with("https://127.0.0.1:"));
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(front.ca_pem().as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let address = front.base_url()["https://".len()..]
        .trim_end_matches("/eureka/")
        .to_owned();
    let connection = rustls::ClientConnection::new(
        std::sync::Arc::new(config),
        ServerName::try_from("127.0.0.1").unwrap(),
    )
    .unwrap();
    let mut tls = rustls::StreamOwned::new(connection, TcpStream::connect(&address).unwrap());
    write!(
        tls,
        "GET /eureka/apps/DEMO-SERVICE/{id} HTTP/1.1\r\nHost: {address}\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""instanceId":"pod-0:demo-service:8080""#));
    assert_eq!(front.handshakes(), 1);
    assert_eq!(eureka.requests().len(), 1);
}

#[test]
fn tls_front_forwards_nothing_when_the_handshake_fails() {
    let eureka = EurekaDouble::start();
    let front = TlsFront::new(&eureka);
    let address = front.base_url()["https://".len()..]
        .trim_end_matches("/eureka/")
        .to_owned();
    // Plain HTTP to a TLS port is not a handshake.
    let mut plain = TcpStream::connect(&address).unwrap();
    plain
        .write_all(b"GET /eureka/apps/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"));
    assert_eq!(front.handshakes(), 0);
    assert!(eureka.requests().is_empty());
}

#[test]
#[should_panic(expected = "scripted replies no request used: PUT requests containing \"/status\"")]
fn a_double_dropped_with_a_script_no_request_used_fails_the_test() {
    let eureka = EurekaDouble::start();
    eureka.script(ScriptedReply::on("PUT", "/status").status(503));
    eureka.script(ScriptedReply::on("GET", "/apps/").status(500));
    send("GET", &format!("{}apps/", eureka.base_url()), &[], None);
}

#[test]
fn replicated_peers_pass_client_writes_on_once_and_replicated_ones_not_again() {
    let (a, b) = (EurekaDouble::start(), EurekaDouble::start());
    a.replicate_to(&[&b]);
    b.replicate_to(&[&a]);
    let id = a.register(demo("pod-0"));
    assert!(
        eventually(Duration::from_secs(2), || b
            .instance("demo-service", &id)
            .is_some()),
        "the registration reached the other peer: {:?}",
        b.requests()
    );
    // A client's status PUT over HTTP to b reaches a, marked as replication.
    let mark = format!(
        "{}apps/DEMO-SERVICE/{id}/status?value=OUT_OF_SERVICE",
        b.base_url()
    );
    assert_eq!(send("PUT", &mark, &[], None).status, 200);
    let overridden = |peer: &EurekaDouble| {
        peer.instance("demo-service", &id)
            .unwrap()
            .overridden_status
    };
    assert!(
        eventually(Duration::from_secs(2), || overridden(&a)
            == "OUT_OF_SERVICE"),
        "the override reached the other peer"
    );
    // The override removal and the re-registration that follows it travel the same way.
    assert_eq!(a.lose_override(&demo("pod-0")), 404);
    assert!(
        eventually(Duration::from_secs(2), || overridden(&b) == "UNKNOWN"
            && b.instance("demo-service", &id).unwrap().status == "UP"),
        "{:?}",
        b.instance("demo-service", &id)
    );
    thread::sleep(Duration::from_millis(300));
    // What a received from b was replication, and it did not send it back.
    let replicated: Vec<String> = a
        .requests()
        .iter()
        .map(|request| {
            let flag = request
                .header("x-netflix-discovery-replication")
                .unwrap_or("-");
            format!("{} {} {flag}", request.method, request.path)
        })
        .collect();
    assert_eq!(
        replicated,
        [format!("PUT /eureka/apps/DEMO-SERVICE/{id}/status true")],
        "only b's client write, once"
    );
    let from_a = b.requests().len();
    assert_eq!(
        from_a,
        1 + 3,
        "the PUT, then a's registration, removal and registration (not the heartbeat it refused)"
    );
}

#[test]
fn forgotten_changes_leave_the_delta_to_what_changes_next() {
    let eureka = EurekaDouble::start();
    eureka.register(demo("pod-0"));
    eureka.forget_recent_changes();
    eureka.register(demo("pod-1"));
    let delta = get_json(&format!("{}apps/delta", eureka.base_url())).json();
    let instances = &delta["applications"]["application"][0]["instance"];
    assert_eq!(instances.as_array().map(Vec::len), Some(1), "{delta}");
    assert_eq!(instances[0]["hostName"], "pod-1");
}
