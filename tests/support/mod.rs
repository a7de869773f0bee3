//! Shared helpers for the end-to-end tests.

pub mod cmd;
pub mod matrix;
pub mod traffic;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use cmd::{Hook, KilledOnDrop, Outcome, binary_under_test, hook, run_all};
pub use eureka_double::{
    EurekaDouble, FaultPeer, InstanceSpec, RecordedRequest, ScriptedReply, TlsFront,
};

/// The app every test registers, in the case Spring would use.
pub const APP: &str = "demo-service";
/// The pod hostname every test pretends to have.
pub const HOST: &str = "pod-0";
/// Spring's default id for [`APP`] on [`HOST`] at port 8080.
pub const DEFAULT_ID: &str = "pod-0:demo-service:8080";

/// A double with one instance of [`APP`] on [`HOST`]:8080 registered and UP.
pub fn registry_with_instance() -> EurekaDouble {
    let double = EurekaDouble::start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    double
}

/// Requests of `method` the double received, as `path?query`.
pub fn sent(double: &EurekaDouble, method: &str) -> Vec<String> {
    double
        .requests()
        .iter()
        .filter(|request| request.method == method)
        .map(path_and_query)
        .collect()
}

/// `eureka-hook SUBCOMMAND --app APP --eureka-url URLS` and then `extra`: the one builder of hook
/// runs that test files shape further (`.env`, more flags in `extra`).
pub fn hook_against(subcommand: &str, urls: &str, extra: &[&str]) -> Hook {
    let mut args = vec![subcommand, "--app", APP, "--eureka-url", urls];
    args.extend_from_slice(extra);
    hook(&args)
}

/// [`hook_against`] for prestop.
pub fn prestop(urls: &str, extra: &[&str]) -> Hook {
    hook_against("prestop", urls, extra)
}

/// [`hook_against`] for poststart.
pub fn poststart(urls: &str, extra: &[&str]) -> Hook {
    hook_against("poststart", urls, extra)
}

/// The lines of a `--log-format json` run's stderr whose `event` is `event`; a line that is not
/// JSON fails the test.
pub fn events(outcome: &Outcome, event: &str) -> Vec<serde_json::Value> {
    outcome
        .stderr
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|err| panic!("not a JSON line ({err}): {line}"))
        })
        .filter(|line| line["event"] == event)
        .collect()
}

/// Waits (polling every 10 ms, at most 10 s) until `double` has answered `count` requests of
/// `method` with `status`: a test orders its next step after the hook's by the registry's answer
/// (decided, so a change made now cannot alter it), not by a guessed sleep.
pub fn wait_for_answers(double: &EurekaDouble, method: &str, status: u16, count: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answered = || {
        double
            .requests()
            .iter()
            .filter(|request| request.method == method && request.status == status)
            .count()
    };
    while answered() < count {
        assert!(
            std::time::Instant::now() < deadline,
            "the double did not answer {count} {method} request(s) with {status} within 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Waits (polling every 10 ms, at most 10 s) until `double` has instance `id` of `app`, as a
/// replicated registration reaches it.
pub fn wait_for_instance(double: &EurekaDouble, app: &str, id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while double.instance(app, id).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "{id} of {app} did not reach {} within 10 s",
            double.base_url()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

pub fn path_and_query(request: &RecordedRequest) -> String {
    match &request.query {
        Some(query) => format!("{}?{query}", request.path),
        None => request.path.clone(),
    }
}

/// Asserts the instance's status and override in the double's registry.
pub fn assert_instance(double: &EurekaDouble, id: &str, status: &str, overridden: &str) {
    let state = double
        .instance(APP, id)
        .unwrap_or_else(|| panic!("{id} is not registered"));
    assert_eq!(
        (state.status.as_str(), state.overridden_status.as_str()),
        (status, overridden),
        "status and override of {id}"
    );
}

/// The first `name` on the test's own PATH.
pub fn find_on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{name} is not on PATH"))
}

/// Whether the tests run as root (CI and the dev machines do; some cases need it).
pub fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|out| out.stdout == b"0\n")
        .unwrap_or(false)
}

/// A file in the temp directory, unique to this test run, removed when dropped.
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn new(name: &str, content: impl AsRef<[u8]>) -> TempFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "eureka-hook-e2e-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::write(&path, content).unwrap();
        TempFile(path)
    }

    pub fn path_str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
