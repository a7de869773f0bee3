//! Proof that the double speaks real Eureka: py-eureka-client, a client library we did not write,
//! registers, heartbeats and discovers through the double while the hook drains and restores its
//! instance. The Python side is `tests/support/py_eureka_client_roundtrip.py`; this side checks its
//! verdict and every request the double recorded.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::*;

/// py-eureka-client 0.13.3, installed by `scripts/test.sh` (env `EUREKA_HOOK_PY_CLIENT_DIR`).
fn py_client_dir() -> PathBuf {
    let dir = std::env::var_os("EUREKA_HOOK_PY_CLIENT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py-eureka-client")
        });
    assert!(
        dir.join("py_eureka_client").is_dir(),
        "py-eureka-client is not installed in {}: run scripts/test.sh, which installs it there \
         (or set EUREKA_HOOK_PY_CLIENT_DIR)",
        dir.display()
    );
    dir
}

const APP: &str = "py-demo";
const HOST: &str = "py-pod-0";
const IP: &str = "10.1.2.3";
const PORT: &str = "8181";
/// py-eureka-client's default instanceId: `{ip}:{app lower case}:{port}`.
const LIBRARY_ID: &str = "10.1.2.3:py-demo:8181";

#[test]
#[ignore = "needs python3 and py-eureka-client in target/; scripts/test.sh installs and runs it"]
fn py_eureka_client_sees_prestop_take_its_instance_out_and_poststart_bring_it_back() {
    let double = EurekaDouble::builder()
        .response_cache_interval(Duration::from_millis(500))
        .start();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support/py_eureka_client_roundtrip.py");
    let outcome = hook(&[
        script.to_str().unwrap(),
        &double.base_url(),
        env!("CARGO_BIN_EXE_eureka-hook"),
        APP,
        HOST,
        IP,
        PORT,
    ])
    .binary(find_on_path("python3"))
    .env("PYTHONPATH", py_client_dir().to_str().unwrap())
    .env("PYTHONDONTWRITEBYTECODE", "1")
    .run();
    outcome
        .assert_code(0)
        .assert_took_less_than(Duration::from_secs(50))
        .assert_stderr_contains("the library no longer discovers it UP")
        .assert_stderr_contains("the library discovers it UP again");
    for line in outcome
        .stderr
        .lines()
        .filter(|line| line.starts_with("roundtrip:"))
    {
        eprintln!("{line}");
    }

    let requests = double.requests();
    let by_hook = |request: &&RecordedRequest| {
        request
            .header("User-Agent")
            .is_some_and(|agent| agent.starts_with("eureka-hook/"))
    };
    // py-eureka-client sends no User-Agent of its own; everything else came from it.
    let by_library = |request: &&RecordedRequest| !by_hook(request);
    let position = |wanted: &dyn Fn(&RecordedRequest) -> bool| {
        requests
            .iter()
            .position(wanted)
            .unwrap_or_else(|| panic!("not recorded; requests:\n{}", listing(&requests)))
    };
    let app_path = "/eureka/apps/PY-DEMO";
    let library_instance = format!("{app_path}/10.1.2.3%3Apy-demo%3A8181");

    // The library: a JSON registration, heartbeats, XML registry reads (full, then deltas).
    let registrations: Vec<&RecordedRequest> = requests
        .iter()
        .filter(by_library)
        .filter(|r| r.method == "POST" && r.path == app_path)
        .collect();
    assert!(
        registrations.len() >= 2,
        "registered, and re-registered after poststart:\n{}",
        listing(&requests)
    );
    assert!(registrations.iter().all(|r| r.status == 204
        && r.header("Content-Type") == Some("application/json")
        && r.body.contains(LIBRARY_ID)));
    let heartbeats = requests
        .iter()
        .filter(by_library)
        .filter(|r| r.method == "PUT" && r.path == library_instance)
        .count();
    assert!(heartbeats >= 2, "heartbeats:\n{}", listing(&requests));
    for path in ["/eureka/apps/", "/eureka/apps/delta"] {
        let read = requests
            .iter()
            .filter(by_library)
            .find(|r| r.method == "GET" && r.path == path)
            .unwrap_or_else(|| panic!("no GET {path}:\n{}", listing(&requests)));
        assert!(
            !read.header("Accept").unwrap_or_default().contains("json"),
            "the library reads XML"
        );
        assert_eq!(read.status, 200);
    }

    // The hook: its default id misses, it finds the library's instance by host and port.
    let missed = position(&|r| {
        by_hook(&r)
            && r.method == "PUT"
            && r.path == format!("{app_path}/py-pod-0:py-demo:8181/status")
            && r.status == 404
    });
    let listed = position(&|r| by_hook(&r) && r.method == "GET" && r.path == app_path);
    let marked = position(&|r| {
        by_hook(&r)
            && r.method == "PUT"
            && r.path == format!("{app_path}/{LIBRARY_ID}/status")
            && r.query.as_deref() == Some("value=OUT_OF_SERVICE")
            && r.status == 200
    });
    let cleared = position(&|r| {
        by_hook(&r)
            && r.method == "DELETE"
            && r.path == format!("{app_path}/{LIBRARY_ID}/status")
            && r.query.is_none()
            && r.status == 200
    });
    assert!(missed < listed && listed < marked && marked < cleared);

    // After the override went, the library's heartbeat got 404 and it registered again, UP.
    let refused_heartbeat = position(&|r| {
        by_library(&r) && r.method == "PUT" && r.path == library_instance && r.status == 404
    });
    let registered_up_again = requests.iter().skip(refused_heartbeat).any(|r| {
        by_library(&r)
            && r.method == "POST"
            && r.status == 204
            && r.body.contains(r#""status": "UP""#)
    });
    assert!(
        cleared < refused_heartbeat && registered_up_again,
        "after the DELETE: a refused heartbeat, then a registration UP:\n{}",
        listing(&requests)
    );
}

fn listing(requests: &[RecordedRequest]) -> String {
    requests
        .iter()
        .map(|r| {
            format!(
                "{} {} {} -> {} ({})\n",
                r.method,
                path_and_query(r),
                r.header("Accept").unwrap_or("-"),
                r.status,
                r.header("User-Agent").unwrap_or("-")
            )
        })
        .collect()
}
