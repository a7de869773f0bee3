//! Issue 18: no app name configured. Every hook finds this pod's instance in the whole registry
//! (`GET apps/`, gzipped) by its host name or address and port, then acts on it; ambiguity and
//! no match exit 3 and say what was looked for; prestop holds its drain regardless.
//!
//! The harness gives every run `EUREKA_HOSTNAME=pod-0`; the crowd registered here lives at
//! `10.0.x.y`, and this pod's instance at an address of its own.

use std::time::Duration;

use crate::support::{
    EurekaDouble, HOST, Hook, InstanceSpec, ScriptedReply, hook, sent, wait_for_answers,
};

/// The crowd: 999 instances of other apps, so the registry holds 1000 with this pod's.
const CROWD: u32 = 999;

fn unnamed(subcommand: &str, urls: &str, extra: &[&str]) -> Hook {
    let mut args = vec![subcommand, "--eureka-url", urls];
    args.extend_from_slice(extra);
    hook(&args)
}

/// The GETs of the whole registry a double answered.
fn registry_reads(double: &EurekaDouble) -> usize {
    double
        .requests()
        .iter()
        .filter(|request| request.method == "GET" && request.path == "/eureka/apps/")
        .count()
}

/// A registry of 1000 instances, one of them `orders` on this pod (host pod-0, another address).
fn crowded_registry() -> (EurekaDouble, String) {
    let double = EurekaDouble::start();
    double.register_many("crowd", 1, CROWD);
    let id = double.register(InstanceSpec::new("orders", HOST, 8080).ip_addr("10.200.0.1"));
    (double, id)
}

#[test]
fn prestop_finds_this_pods_instance_among_a_thousand_and_marks_it() {
    let (double, id) = crowded_registry();
    let outcome = unnamed("prestop", &double.base_url(), &["--drain", "0s"]).run();
    outcome
        .assert_code(0)
        .assert_stderr_contains(&format!(
            "instance id {id} of app ORDERS, found in the registry"
        ))
        .assert_stderr_contains("1000 instances listed");
    assert_eq!(
        sent(&double, "PUT"),
        [format!(
            "/eureka/apps/ORDERS/{id}/status?value=OUT_OF_SERVICE"
        )]
    );
    let read = double
        .requests()
        .into_iter()
        .find(|request| request.path == "/eureka/apps/")
        .expect("the registry was read");
    assert_eq!(read.header("Accept-Encoding"), Some("gzip"));
    assert_eq!(
        read.header("X-Eureka-Accept"),
        None,
        "the full form clients read"
    );
    let state = double.instance("ORDERS", &id).expect("still registered");
    assert_eq!(state.overridden_status, "OUT_OF_SERVICE");
}

#[test]
fn poststart_and_status_find_it_too() {
    let (double, id) = crowded_registry();
    double.set_override("ORDERS", &id, "OUT_OF_SERVICE");
    unnamed("status", &double.base_url(), &[])
        .run()
        .assert_code(0)
        .assert_stdout_contains(&format!("instance {id} of app ORDERS"))
        .assert_stdout_contains(&format!(
            "(no app name: the one instance in the registry of {} with this pod's hostName \
             pod-0 and port 8080; --app ORDERS --instance-id {id} name it outright)",
            double.base_url()
        ))
        .assert_stdout_contains("OUT_OF_SERVICE");
    unnamed("poststart", &double.base_url(), &["--no-fast-return"])
        .run()
        .assert_code(0)
        .assert_stderr_contains("found in the registry");
    assert_eq!(
        sent(&double, "DELETE"),
        [format!("/eureka/apps/ORDERS/{id}/status")]
    );
    assert_eq!(registry_reads(&double), 2, "one read per hook");
}

/// Two instances on this pod's host, on ports 8080 and 9090.
fn two_ports_on_this_host() -> EurekaDouble {
    let double = EurekaDouble::start();
    double.register_many("crowd", 1, 20);
    double.register(InstanceSpec::new("orders", HOST, 8080).ip_addr("10.200.0.1"));
    double.register(InstanceSpec::new("admin", HOST, 9090).ip_addr("10.200.0.1"));
    double
}

#[test]
fn two_ports_on_this_address_and_none_known_exit_3_listing_both_and_the_drain_is_held() {
    let double = two_ports_on_this_host();
    let outcome = unnamed("prestop", &double.base_url(), &["--drain", "200ms"]).run();
    outcome
        .assert_code(3)
        .assert_took_at_least(Duration::from_millis(200))
        .assert_stderr_contains("pass --port (or set SERVER_PORT) to the app's port, or --app")
        .assert_stderr_contains("ORDERS/pod-0:orders:8080 (pod-0, 10.200.0.1, port 8080)")
        .assert_stderr_contains("ADMIN/pod-0:admin:9090 (pod-0, 10.200.0.1, port 9090)")
        .assert_stderr_contains("the drain is held all the same");
    assert!(sent(&double, "PUT").is_empty(), "nothing guessed");
}

#[test]
fn the_port_decides_between_them() {
    let double = two_ports_on_this_host();
    unnamed("prestop", &double.base_url(), &["--drain", "0s"])
        .env("SERVER_PORT", "9090")
        .run()
        .assert_code(0)
        .assert_stderr_contains("port 9090 (as SERVER_PORT says)");
    assert_eq!(
        sent(&double, "PUT"),
        ["/eureka/apps/ADMIN/pod-0:admin:9090/status?value=OUT_OF_SERVICE"]
    );
}

#[test]
fn no_match_says_what_was_looked_for() {
    let double = EurekaDouble::start();
    double.register_many("crowd", 1, 20);
    let outcome = unnamed("status", &double.base_url(), &["--port", "8081"]).run();
    outcome
        .assert_code(3)
        .assert_stderr_contains("no registered instance is this pod's: looked for an instance with hostName or ipAddr pod-0")
        .assert_stderr_contains("and port 8081 (from --port)")
        .assert_stderr_contains("(20 instances listed)");
    assert!(outcome.stdout.is_empty(), "{}", outcome.stdout);
}

#[test]
fn a_host_name_match_counts_whatever_the_registered_address() {
    let double = EurekaDouble::start();
    double.register_many("crowd", 1, 20);
    double.register(InstanceSpec::new("orders", HOST, 8080).ip_addr("172.31.9.9"));
    unnamed("prestop", &double.base_url(), &["--drain", "0s"])
        .env("POD_IP", "10.99.0.5")
        .run()
        .assert_code(0)
        .assert_stderr_contains("with this pod's hostName pod-0");
    assert_eq!(
        sent(&double, "PUT"),
        ["/eureka/apps/ORDERS/pod-0:orders:8080/status?value=OUT_OF_SERVICE"]
    );
}

#[test]
fn an_address_match_counts_whatever_the_registered_host_name() {
    let double = EurekaDouble::start();
    double.register_many("crowd", 1, 20);
    let id =
        double.register(InstanceSpec::new("orders", "orders-5f7c9", 8080).ip_addr("10.99.0.5"));
    unnamed("prestop", &double.base_url(), &["--drain", "0s"])
        .env("POD_IP", "10.99.0.5")
        .run()
        .assert_code(0)
        .assert_stderr_contains("with this pod's ipAddr 10.99.0.5");
    assert_eq!(
        sent(&double, "PUT"),
        [format!(
            "/eureka/apps/ORDERS/{id}/status?value=OUT_OF_SERVICE"
        )]
    );
}

#[test]
fn with_three_replicated_peers_the_first_peer_names_it_and_every_peer_is_marked() {
    let peers = [
        EurekaDouble::start(),
        EurekaDouble::start(),
        EurekaDouble::start(),
    ];
    for peer in &peers {
        peer.register_many("crowd", 1, CROWD);
    }
    EurekaDouble::replicate_among(&peers.iter().collect::<Vec<_>>());
    let id = peers[0].register(InstanceSpec::new("orders", HOST, 8080).ip_addr("10.200.0.1"));
    for peer in &peers[1..] {
        crate::support::wait_for_instance(peer, "ORDERS", &id);
    }
    let urls = peers
        .iter()
        .map(EurekaDouble::base_url)
        .collect::<Vec<_>>()
        .join(",");
    unnamed("prestop", &urls, &["--drain", "0s"])
        .run()
        .assert_code(0);
    let reads: Vec<usize> = peers.iter().map(registry_reads).collect();
    assert_eq!(
        reads,
        [1, 0, 0],
        "the first peer that answers names the instance"
    );
    for peer in &peers {
        let from_the_hook: Vec<String> = peer
            .requests()
            .iter()
            .filter(|request| {
                request.method == "PUT"
                    && request.header("x-netflix-discovery-replication").is_none()
            })
            .map(crate::support::path_and_query)
            .collect();
        assert_eq!(
            from_the_hook,
            [format!(
                "/eureka/apps/ORDERS/{id}/status?value=OUT_OF_SERVICE"
            )],
            "each peer is marked by that id"
        );
    }
}

#[test]
fn poststart_reads_the_registry_again_until_the_app_registers() {
    let double = EurekaDouble::builder()
        .response_cache_interval(Duration::from_millis(100))
        .start();
    double.register_many("crowd", 1, 20);
    let running = unnamed("poststart", &double.base_url(), &["--wait", "20s"]).spawn();
    // The first read is answered without this pod's instance; it registers after.
    wait_for_answers(&double, "GET", 200, 1);
    let id = double.register(InstanceSpec::new("orders", HOST, 8080).ip_addr("10.200.0.1"));
    let outcome = running.wait();
    outcome
        .assert_code(0)
        .assert_stderr_contains("reading the registry again every 5s")
        .assert_stderr_contains("recently changed instances listed")
        .assert_stderr_contains(&format!(
            "instance id {id} of app ORDERS, found in the registry"
        ));
    assert_eq!(registry_reads(&double), 1, "then only its recent changes");
    let delta_reads = double
        .requests()
        .iter()
        .filter(|request| request.path == "/eureka/apps/delta")
        .count();
    assert_eq!(delta_reads, 1);
}

#[test]
fn poststart_reads_the_whole_registry_again_when_its_recent_changes_cannot_be_read() {
    let double = EurekaDouble::builder()
        .response_cache_interval(Duration::from_millis(100))
        .start();
    double.register_many("crowd", 1, 20);
    double.script(
        ScriptedReply::on("GET", "/apps/delta")
            .status(403)
            .times(100),
    );
    let running = unnamed("poststart", &double.base_url(), &["--wait", "20s"]).spawn();
    wait_for_answers(&double, "GET", 200, 1);
    double.register(InstanceSpec::new("orders", HOST, 8080).ip_addr("10.200.0.1"));
    let outcome = running.wait();
    outcome
        .assert_code(0)
        .assert_stderr_contains("found in the registry");
    assert_eq!(registry_reads(&double), 2, "{}", outcome.stderr);
}

#[test]
fn a_dry_run_shows_the_look_up_and_then_the_plan_for_what_it_finds() {
    let double = EurekaDouble::start();
    let outcome = unnamed("prestop", &double.base_url(), &["--dry-run"]).run();
    outcome
        .assert_code(0)
        .assert_stdout_contains("no app name: looking in the registry for an instance with hostName or ipAddr pod-0")
        .assert_stdout_contains(&format!(
            "GET {}apps/  [Accept-Encoding: gzip]  (one peer after another, until one lists this pod's instance)",
            double.base_url()
        ))
        .assert_stdout_contains("then, for the instance found:")
        .assert_stdout_contains("apps/(FOUND-APP)/(found-id)/status?value=OUT_OF_SERVICE");
    assert!(double.requests().is_empty(), "a dry run sends nothing");
}
