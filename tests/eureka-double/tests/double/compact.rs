//! Replays a real server's answers to `GET apps/{APP}` in the compact form, compact with gzip, and
//! full (`tests/fixtures/eureka/eureka-compact.json`), and checks which read-only cache key each
//! combination of headers selects. The transcript was recorded on Netflix's eureka-server war
//! (Jersey 1 on Jetty), which compresses `apps/{APP}`; so the replay runs on the double's war
//! flavour, and a last test checks that Spring Cloud's flavour answers the same key uncompressed.

use std::io::Read;
use std::time::Duration;

use crate::support::ordered_json::{Json, compare};
use crate::support::{Answer, eventually, just_after_cache_refresh, send};
use eureka_double::{EurekaDouble, ServerFlavour};
use flate2::read::GzDecoder;

/// The instance the transcript shows, as its client registered it.
const REGISTRATION: &str = r#"{"instance":{"instanceId":"pod-0:compact-demo:8080",
    "hostName":"pod-0","app":"COMPACT-DEMO","ipAddr":"10.1.2.3","status":"UP",
    "port":{"$":8080,"@enabled":"true"},"securePort":{"$":7002,"@enabled":"false"},
    "dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
    "name":"MyOwn"},"metadata":{"management.port":"8080"}}}"#;

const JSON: (&str, &str) = ("Accept", "application/json");
const COMPACT: (&str, &str) = ("X-Eureka-Accept", "compact");
const GZIP: (&str, &str) = ("Accept-Encoding", "gzip");

#[test]
fn compact_and_gzip_answers_are_the_real_servers() {
    let text = crate::support::transcript("eureka-compact.json");
    let transcript: Json = serde_json::from_str(&text).expect("transcript is JSON");
    let steps = transcript
        .get("steps")
        .and_then(Json::as_array)
        .expect("transcript has steps");
    assert_eq!(steps.len(), 3, "compact, compact + gzip, full");
    let eureka = EurekaDouble::builder()
        .flavour(ServerFlavour::NetflixWar)
        .start();
    let base = eureka.base_url();
    let app = format!("{base}apps/COMPACT-DEMO");
    let json_body = [JSON, ("Content-Type", "application/json")];
    assert_eq!(
        send("POST", &app, &json_body, Some(REGISTRATION)).status,
        204
    );
    let mark = format!("{app}/pod-0:compact-demo:8080/status?value=OUT_OF_SERVICE");
    assert_eq!(send("PUT", &mark, &[], None).status, 200);
    eureka.clear_requests();

    let mut sizes = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let request = step.get("request").expect("step has a request");
        let expected = step.get("response").expect("step has a response");
        let path = request.get("path").and_then(Json::as_str).unwrap();
        let Some(Json::Object(headers)) = request.get("headers") else {
            panic!("step {index} has no headers");
        };
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str().unwrap()))
            .collect();
        let url = format!("{}{path}", base.trim_end_matches("/eureka/"));
        let answer = send("GET", &url, &headers, None);
        let context = format!("step {index} ({headers:?})");
        let field = |name: &str| expected.get(name).and_then(Json::as_str);
        assert_eq!(
            u64::from(answer.status),
            expected.get("status").and_then(Json::as_u64).unwrap(),
            "{context}"
        );
        assert_eq!(
            answer.header("Content-Type"),
            field("content_type"),
            "{context}"
        );
        assert_eq!(
            answer.header("Content-Encoding"),
            field("content_encoding"),
            "{context}"
        );
        let body: Json = serde_json::from_slice(&decoded(&answer)).unwrap();
        compare(expected.get("body").unwrap(), &body, "body")
            .unwrap_or_else(|problem| panic!("{context}: {problem}"));
        let recorded_size = expected.get("body_bytes_on_wire").and_then(Json::as_u64);
        sizes.push((recorded_size.unwrap(), answer.bytes.len() as u64));
    }

    // Same documents, so the same lengths; Java's deflate and flate2's differ by a few bytes.
    let [
        (compact, ours_compact),
        (gzip, ours_gzip),
        (full, ours_full),
    ] = sizes[..]
    else {
        unreachable!("three steps");
    };
    assert_eq!((ours_compact, ours_full), (compact, full), "{sizes:?}");
    assert!(ours_gzip.abs_diff(gzip) * 10 < gzip, "{sizes:?}");
    // The recording holds what went out, byte for byte.
    let recorded: Vec<u64> = eureka
        .requests()
        .iter()
        .map(|request| request.response_body_bytes as u64)
        .collect();
    assert_eq!(recorded, [ours_compact, ours_gzip, ours_full]);
}

/// The body, gunzipped when the answer says it is gzip.
fn decoded(answer: &Answer) -> Vec<u8> {
    match answer.header("Content-Encoding") {
        Some("gzip") => {
            let mut plain = Vec::new();
            GzDecoder::new(answer.bytes.as_slice())
                .read_to_end(&mut plain)
                .unwrap();
            plain
        }
        None => answer.bytes.clone(),
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
}

/// The status the first instance of `document` shows (an application or applications document).
fn status_in(answer: &Answer) -> String {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let plain = String::from_utf8(decoded(answer)).unwrap();
    if answer.header("Content-Type") == Some("application/xml") {
        let start = plain.find("<status>").expect("an instance") + "<status>".len();
        return plain[start..start + plain[start..].find('<').unwrap()].to_owned();
    }
    let document: serde_json::Value = serde_json::from_str(&plain).unwrap();
    let application = match &document["applications"] {
        serde_json::Value::Null => &document["application"],
        applications => &applications["application"][0],
    };
    application["instance"][0]["status"]
        .as_str()
        .expect("an instance")
        .to_owned()
}

#[test]
fn each_form_is_its_own_cache_key_gzip_shares_it_and_all_flip_in_one_refresh() {
    let interval = Duration::from_millis(600);
    let eureka = EurekaDouble::builder()
        .response_cache_interval(interval)
        .start();
    let id = eureka.register(eureka_double::InstanceSpec::new("demo", "pod-0", 8080));
    let base = eureka.base_url();
    let app = format!("{base}apps/DEMO");
    let read = |url: &str, headers: &[(&str, &str)]| status_in(&send("GET", url, headers, None));
    let compact_gzip = [JSON, COMPACT, GZIP];

    just_after_cache_refresh(interval);
    // Primed before the change: the compact + gzip key a watcher polls, and what consumers read.
    let delta = format!("{base}apps/delta");
    let all = format!("{base}apps/");
    assert_eq!(read(&app, &compact_gzip), "UP");
    assert_eq!(read(&delta, &[JSON]), "UP");
    assert_eq!(read(&all, &[JSON]), "UP");
    assert_eq!(eureka.set_override("demo", &id, "OUT_OF_SERVICE"), 200);

    // Frozen: the primed key, and the same key without gzip (the server compresses the cached
    // payload, it does not cache a second one).
    assert_eq!(read(&app, &compact_gzip), "UP");
    assert_eq!(read(&app, &[JSON, COMPACT]), "UP");
    assert_eq!(read(&delta, &[JSON]), "UP");
    // Keys never read before read through to the live registry, and are frozen from then on.
    assert_eq!(read(&app, &[JSON]), "OUT_OF_SERVICE");
    assert_eq!(read(&app, &[COMPACT]), "OUT_OF_SERVICE");
    assert_eq!(
        read(&app, &[JSON, ("X-Eureka-Accept", "full"), GZIP]),
        "OUT_OF_SERVICE"
    );
    // The primed key is the full form's sibling, not the same key.
    assert_eq!(read(&app, &compact_gzip), "UP");

    assert!(
        eventually(interval * 3, || read(&app, &compact_gzip)
            == "OUT_OF_SERVICE"),
        "the compact key flips at the next refresh"
    );
    assert_eq!(
        read(&delta, &[JSON]),
        "OUT_OF_SERVICE",
        "apps/delta flips in the same refresh"
    );
    assert_eq!(read(&all, &[JSON]), "OUT_OF_SERVICE");
}

#[test]
fn spring_clouds_flavour_compresses_the_registry_reads_but_not_the_app() {
    let eureka = EurekaDouble::start();
    assert_eq!(eureka.flavour(), ServerFlavour::SpringCloud, "the default");
    eureka.register(eureka_double::InstanceSpec::new("demo", "pod-0", 8080));
    let base = eureka.base_url();
    let encoding = |path: &str| {
        let answer = send(
            "GET",
            &format!("{base}{path}"),
            &[JSON, COMPACT, GZIP],
            None,
        );
        assert_eq!(status_in(&answer), "UP", "{path}");
        answer.header("Content-Encoding").map(str::to_owned)
    };
    assert_eq!(encoding("apps/DEMO"), None);
    assert_eq!(encoding("apps/").as_deref(), Some("gzip"));
    assert_eq!(encoding("apps/delta").as_deref(), Some("gzip"));
    // Without Accept-Encoding nothing is compressed.
    let plain = send("GET", &format!("{base}apps/delta"), &[JSON], None);
    assert_eq!(plain.header("Content-Encoding"), None);
}
