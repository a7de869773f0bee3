//! What kubelet does when a pod is deleted, played against the double: the grace period starts,
//! the preStop hook runs (killed if it outlives the grace period), then the application gets
//! SIGTERM. The registry must show OUT_OF_SERVICE, then the drain must pass, then SIGTERM, all
//! within the grace period.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

const GRACE_PERIOD: Duration = Duration::from_secs(10);
const DRAIN: Duration = Duration::from_millis(800);

/// A long-running "application": it exits 0 on SIGTERM, as a Spring Boot app shuts down.
fn start_application() -> KilledOnDrop {
    KilledOnDrop(
        Command::new("sh")
            .args(["-c", "trap 'exit 0' TERM; while :; do sleep 0.02; done"])
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("sh starts the stand-in application"),
    )
}

/// Waits for `child` until `deadline`; kills it (SIGKILL) if it is still running then, as
/// kubelet does when the grace period runs out. Returns when it exited and whether it was killed.
fn wait_or_kill(child: &mut Child, deadline: Instant) -> (Instant, bool) {
    loop {
        if child.try_wait().unwrap().is_some() {
            return (Instant::now(), false);
        }
        if Instant::now() >= deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return (Instant::now(), true);
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Runs prestop as kubelet does, killed at `deadline`; returns when it ended and its exit code.
fn run_prestop(args: &[&str], eureka_url: String, deadline: Instant) -> (Instant, Option<i32>) {
    let mut prestop = KilledOnDrop(
        hook(args)
            .env("EUREKA_URL", eureka_url)
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let (finished, killed) = wait_or_kill(&mut prestop.0, deadline);
    assert!(!killed, "preStop outlived the grace period");
    (finished, prestop.0.wait().unwrap().code())
}

/// Sends SIGTERM to the application and waits for it until `deadline` (it must stop within the
/// grace period); returns its exit code (0: it stopped on SIGTERM).
fn terminate(application: &mut KilledOnDrop, deadline: Instant) -> Option<i32> {
    let pid = application.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let (_, killed) = wait_or_kill(&mut application.0, deadline);
    assert!(!killed, "the application had no time left to stop");
    application.0.wait().unwrap().code()
}

#[test]
fn kubelet_order_is_out_of_service_then_drain_then_sigterm_within_the_grace_period() {
    let double = registry_with_instance();
    let mut application = start_application();

    // kubelet: the grace period starts, then preStop runs with it as a hard limit.
    let grace_started = Instant::now();
    let deadline = grace_started + GRACE_PERIOD;
    let (hook_finished, code) = run_prestop(
        &["prestop", "--app", APP, "--drain", "800ms"],
        double.base_url(),
        deadline,
    );
    assert_eq!(code, Some(0));
    assert!(
        application.0.try_wait().unwrap().is_none(),
        "the app must still run during preStop"
    );
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");

    // Then SIGTERM to the application, which has what is left of the grace period.
    let application_code = terminate(&mut application, deadline);
    assert_eq!(
        application_code,
        Some(0),
        "the application stopped on SIGTERM"
    );

    let marked = double
        .requests()
        .iter()
        .find(|request| request.method == "PUT" && request.path.ends_with("/status"))
        .map(|request| request.at)
        .expect("the status PUT reached the registry");
    assert!(
        hook_finished.duration_since(marked) >= DRAIN,
        "the drain ({DRAIN:?}) passed between OUT_OF_SERVICE and the end of preStop"
    );
}

#[test]
fn kubelet_order_holds_when_eureka_is_down_the_drain_is_still_held() {
    let down = FaultPeer::refused();
    let mut application = start_application();
    let grace_started = Instant::now();
    let deadline = grace_started + GRACE_PERIOD;
    let (hook_finished, code) = run_prestop(
        &[
            "prestop",
            "--app",
            APP,
            "--drain",
            "800ms",
            "--request-timeout",
            "1s",
        ],
        down.base_url(),
        deadline,
    );
    assert_eq!(code, Some(1));
    assert!(
        hook_finished - grace_started >= DRAIN,
        "the drain is held even without a registry"
    );
    let application_code = terminate(&mut application, deadline);
    assert_eq!(
        application_code,
        Some(0),
        "the application stopped on SIGTERM"
    );
}
