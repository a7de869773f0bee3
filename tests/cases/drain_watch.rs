//! The drain as the binary runs it, on real time, against doubles whose read-only response cache
//! refreshes every second (a real server's 30 s, scaled): the propagation time it logs, a peer
//! that hangs, a poll the drain's end cuts short, SIGTERM, and what a poll costs on the wire. The
//! drain's other behaviours (re-marks, --after-propagation, replicated peers, the key choice) run
//! in-process on virtual time, in src/hooks/drain/tests.rs. Each case runs on both server flavours
//! (Spring Cloud's server, which sends `apps/{APP}` uncompressed, and Netflix's war, which gzips
//! it), side by side, as the test `CASE::on_both_flavours`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use eureka_double::ServerFlavour;
use serde_json::Value;

use crate::support::*;

/// Makes each case, a function of the server flavour, the test `CASE::on_both_flavours`.
macro_rules! on_both_flavours {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[test]
            fn on_both_flavours() {
                eureka_double::ServerFlavour::each(super::$case);
            }
        }
    )*};
}

on_both_flavours!(
    the_logged_propagation_time_matches_the_registrys_refresh_grid_within_a_poll,
    a_hanging_peer_delays_neither_the_healthy_peers_mark_nor_its_propagation_time,
    a_poll_cut_short_by_the_drains_end_is_no_failure_to_warn_of,
    sigterm_ends_the_drain_at_once_while_a_poll_hangs,
);

/// The doubles' response cache refresh interval, and the hook's `--server-cache`.
const CACHE: Duration = Duration::from_secs(1);
/// Process start and scheduling on a loaded two-core machine.
const SLACK: Duration = Duration::from_secs(2);
/// The path every listing GET (the prime and the polls) asks for.
const LISTING: &str = "/eureka/apps/DEMO-SERVICE";

/// A double of `flavour` with 20 UP instances of [`APP`] (this pod's among them) and a read-only
/// cache refreshed every `interval` (`Duration::ZERO`: no read-only cache). At 20 instances the
/// hook polls the delta on Spring Cloud's server (its listing goes out uncompressed) and the
/// listing on the war (compressed, and smaller than the delta's full form): see [`polled`].
fn cached_registry(flavour: ServerFlavour, interval: Duration) -> EurekaDouble {
    let double = EurekaDouble::builder()
        .flavour(flavour)
        .response_cache_interval(interval)
        .start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    double.register_many(APP, 1, 19);
    double
}

/// The path the hook polls on a [`cached_registry`] of `flavour`.
fn polled(flavour: ServerFlavour) -> &'static str {
    match flavour {
        ServerFlavour::SpringCloud => "/eureka/apps/delta",
        ServerFlavour::NetflixWar => LISTING,
    }
}

/// The GETs of the key the hook polls on `double`: its prime, then the polls.
fn polls(double: &EurekaDouble) -> Vec<RecordedRequest> {
    let path = polled(double.flavour());
    double
        .requests()
        .into_iter()
        .filter(|request| request.method == "GET" && request.path == path)
        .collect()
}

/// prestop against `urls`, JSON logs, and `extra` arguments.
fn watching_prestop(urls: &str, extra: &[&str]) -> Hook {
    prestop(urls, &[&["--log-format", "json"], extra].concat())
}

/// The `seconds` of the one propagation line for `peer`.
fn seconds_for(outcome: &Outcome, peer: &str) -> f64 {
    let lines: Vec<Value> = events(outcome, "propagated")
        .into_iter()
        .filter(|line| line["peer"] == peer)
        .collect();
    assert_eq!(lines.len(), 1, "propagation lines for {peer}: {lines:?}");
    assert_eq!(lines[0]["instance"], DEFAULT_ID);
    lines[0]["seconds"].as_f64().unwrap()
}

/// Converts the double's `Instant`s to epoch milliseconds, the clock its refresh grid is aligned to.
struct EpochClock {
    wall: SystemTime,
    monotonic: Instant,
}

impl EpochClock {
    fn now() -> EpochClock {
        EpochClock {
            wall: SystemTime::now(),
            monotonic: Instant::now(),
        }
    }

    fn epoch_ms(&self, at: Instant) -> u128 {
        (self.wall + (at - self.monotonic))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
    }
}

fn listing_gets(double: &EurekaDouble) -> Vec<RecordedRequest> {
    double
        .requests()
        .into_iter()
        .filter(|request| request.method == "GET" && request.path == LISTING)
        .collect()
}

/// The hook's PUT the registry accepted (the other of Spring's two ids is a 404; a peer's
/// replication of its own PUT is not the hook's).
fn the_put(double: &EurekaDouble) -> RecordedRequest {
    let puts: Vec<RecordedRequest> = double
        .requests()
        .into_iter()
        .filter(|request| {
            request.method == "PUT"
                && request.status == 200
                && request.header("x-netflix-discovery-replication").is_none()
        })
        .collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    puts[0].clone()
}

fn the_logged_propagation_time_matches_the_registrys_refresh_grid_within_a_poll(
    flavour: ServerFlavour,
) {
    let double = cached_registry(flavour, CACHE);
    let clock = EpochClock::now();
    // Long enough for the second poll, should the refresh come just after the first.
    let outcome = watching_prestop(
        &double.base_url(),
        &["--server-cache", "1s", "--drain", "2500ms"],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_millis(2500))
        .assert_took_less_than(Duration::from_millis(2500) + SLACK)
        .assert_stderr_contains("drain of 2s 500ms held");
    let logged = seconds_for(&outcome, &double.base_url());

    // The refresh that flips the listing is the first one on the 1 s grid after the PUT.
    let put_at = the_put(&double).at;
    let put = clock.epoch_ms(put_at);
    let refresh = (put / 1000 + 1) * 1000;
    let expected = (refresh - put) as f64 / 1000.0;
    assert!(
        logged >= expected - 0.1 && logged <= expected + 1.0 + 0.2,
        "logged {logged} s, the refresh came {expected} s after the PUT"
    );

    let gets = polls(&double);
    assert!(gets.len() >= 2, "the prime and at least one poll: {gets:?}");
    assert!(gets[0].at < put_at, "the polled key is read before the PUT");
    // No two polls closer than a second, counted from the first prime (the listing's). The times
    // are arrivals at the double: the prime's include the connection's setup, which later GETs
    // on the same connection skip, hence the 50 ms between polls; on a loaded machine the
    // prime's arrival alone has come 130 ms late, hence the 200 ms before the first poll.
    let mut spaced = vec![listing_gets(&double)[0].clone()];
    spaced.extend(gets.iter().filter(|get| get.at > put_at).cloned());
    for (index, pair) in spaced.windows(2).enumerate() {
        let slack = if index == 0 { 200 } else { 50 };
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(1000 - slack),
            "two GETs closer than a second: {pair:?}"
        );
    }
    // The logged time is the answer of a poll sent after the refresh (the polls go on after it).
    let sent_after_put =
        |get: &RecordedRequest| (clock.epoch_ms(get.at) as f64 - put as f64) / 1000.0;
    assert!(
        gets.iter().any(|get| {
            let sent = sent_after_put(get);
            clock.epoch_ms(get.at) + 50 >= refresh && logged >= sent - 0.05 && logged <= sent + 0.3
        }),
        "logged {logged} s, no poll after the refresh went out just before that: {:?}",
        gets.iter().map(sent_after_put).collect::<Vec<f64>>()
    );
    // Every GET asks for the same cache key: the compact listing's, or the delta's that Spring
    // clients read (full form).
    let form = match flavour {
        ServerFlavour::SpringCloud => None,
        ServerFlavour::NetflixWar => Some("compact"),
    };
    for get in &gets {
        for (name, value) in [
            ("Accept", Some("application/json")),
            ("X-Eureka-Accept", form),
            ("Accept-Encoding", Some("gzip")),
        ] {
            assert_eq!(get.header(name), value, "{get:?}");
        }
    }
}

fn a_hanging_peer_delays_neither_the_healthy_peers_mark_nor_its_propagation_time(
    flavour: ServerFlavour,
) {
    let silent = FaultPeer::hang();
    let double = cached_registry(flavour, CACHE);
    let clock = EpochClock::now();
    let urls = format!("{},{}", silent.base_url(), double.base_url());
    let outcome = watching_prestop(
        &urls,
        &[
            "--server-cache",
            "1s",
            "--request-timeout",
            "1s",
            "--drain",
            "2500ms",
        ],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_millis(2500))
        .assert_took_less_than(Duration::from_millis(2500) + SLACK)
        .assert_stderr_contains("it did not accept the mark");
    // The healthy peer's PUT follows its own listing, not the silent peer's half second.
    let put_at = the_put(&double).at;
    let primed_at = listing_gets(&double)[0].at;
    assert!(
        put_at - primed_at < Duration::from_millis(400),
        "the PUT came {:?} after the listing",
        put_at - primed_at
    );
    // Its propagation time counts from its own PUT.
    let put = clock.epoch_ms(put_at);
    let refresh = (put / 1000 + 1) * 1000;
    let expected = (refresh - put) as f64 / 1000.0;
    let logged = seconds_for(&outcome, &double.base_url());
    assert!(
        logged >= expected - 0.1 && logged <= expected + 1.0 + 0.2,
        "logged {logged} s, the refresh came {expected} s after the PUT"
    );
}

/// The first poll, a second in, gets what is left of a 1.5 s drain and the peer is slower than
/// that: the drain's end cuts the poll short, which is no failure of the peer's (it once warned
/// "could not read … no answer within 0s" as the drain ended).
fn a_poll_cut_short_by_the_drains_end_is_no_failure_to_warn_of(flavour: ServerFlavour) {
    let double = cached_registry(flavour, CACHE);
    let path = polled(flavour);
    // The prime's read of the watched key is answered at once, every poll after a second.
    double.script(ScriptedReply::on("GET", path).times(1));
    double.script(ScriptedReply::on("GET", path).delay(Duration::from_secs(1)));
    let outcome = watching_prestop(
        &double.base_url(),
        &["--server-cache", "1s", "--drain", "1500ms"],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_millis(1500))
        .assert_stderr_contains("drain of 1s 500ms held");
    assert!(
        events(&outcome, "watch_failed").is_empty(),
        "a poll the drain's end cut short was warned of:\n{}",
        outcome.stderr
    );
    assert!(polls(&double).len() >= 2, "the prime and at least one poll");
}

fn sigterm_ends_the_drain_at_once_while_a_poll_hangs(flavour: ServerFlavour) {
    let double = cached_registry(flavour, CACHE);
    // The prime is answered; every poll after it hangs.
    double.script(ScriptedReply::on("GET", polled(flavour)).times(1));
    double.script(ScriptedReply::on("GET", polled(flavour)).hang());
    let running = watching_prestop(
        &double.base_url(),
        &[
            "--server-cache",
            "1s",
            "--drain",
            "30s",
            "--request-timeout",
            "10s",
        ],
    )
    .spawn();
    let started = Instant::now();
    // The second GET of the polled key is the first poll (the prime, answered, came before it).
    let a_poll_hangs = || {
        let listings: Vec<_> = double
            .requests()
            .into_iter()
            .filter(|request| request.method == "GET" && request.path == polled(flavour))
            .collect();
        listings.len() >= 2 && listings.iter().skip(1).any(|request| request.status == 0)
    };
    while !a_poll_hangs() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no poll came: {:?}",
            double.requests()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &running.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let outcome = running.wait();
    assert!(
        signalled.elapsed() < Duration::from_secs(1),
        "the drain outlived the signal by {:?}",
        signalled.elapsed()
    );
    outcome
        .assert_code(0)
        .assert_stderr_contains("drain cut short by SIGTERM");
}

/// Forwards TCP connections to `target` and counts the bytes both ways.
struct CountingProxy {
    addr: std::net::SocketAddr,
    bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CountingProxy {
    fn start(target: std::net::SocketAddr) -> CountingProxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let bytes = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&bytes);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = std::net::TcpStream::connect(target) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let counter = Arc::clone(&counter);
                    std::thread::spawn(move || {
                        let mut buffer = [0u8; 16 * 1024];
                        while let Ok(read @ 1..) = std::io::Read::read(&mut from, &mut buffer) {
                            counter.fetch_add(read as u64, Ordering::SeqCst);
                            if std::io::Write::write_all(&mut to, &buffer[..read]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        CountingProxy { addr, bytes }
    }

    fn base_url(&self) -> String {
        format!("http://{}/eureka/", self.addr)
    }

    fn bytes(&self) -> u64 {
        self.bytes.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A registry of 1000 instances on `flavour`: [`APP`] with 200 (one of them this pod's, UP), and
/// 800 of four other apps; only the last 100 registered (all of other apps) are in the delta, as
/// if the others had changed more than three minutes ago.
fn fleet_registry(flavour: ServerFlavour) -> EurekaDouble {
    let double = EurekaDouble::builder()
        .flavour(flavour)
        .response_cache_interval(CACHE)
        .start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    double.register_many(APP, 1, 199);
    for (app, first) in [("orders", 200), ("billing", 400), ("search", 600)] {
        double.register_many(app, first, 200);
    }
    double.register_many("gateway", 800, 100);
    double.forget_recent_changes();
    double.register_many("gateway", 900, 100);
    double
}

/// The body bytes one GET of `path` with `headers` costs on `double`, and its encoding.
fn body_bytes(double: &EurekaDouble, path: &str, headers: &[(&str, &str)]) -> (usize, String) {
    double.clear_requests();
    let mut request = ureq::get(format!("{}{path}", double.base_url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.call().unwrap();
    let encoding = response
        .headers()
        .get("Content-Encoding")
        .map_or("identity", |value| value.to_str().unwrap())
        .to_owned();
    let recorded = double.requests();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    (recorded[0].response_body_bytes, encoding)
}

/// What one poll costs a peer of a 200-instance app in a 1000-instance registry with 100 recent
/// changes, on each flavour: the compact app listing and the delta as Spring clients fetch it
/// (body bytes), then what the hook's drain moves on the wire (both ways, headers included) when
/// it polls the key it chose, once a second (the most it polls). Prints the figures docs/fleet.md
/// gives (`cargo test --test e2e bytes_per_poll -- --nocapture`).
#[test]
fn bytes_per_poll_of_the_app_listing_and_of_the_delta_on_each_flavour() {
    ServerFlavour::each(bytes_per_poll_on);
}

fn bytes_per_poll_on(flavour: ServerFlavour) {
    const LISTING_HEADERS: &[(&str, &str)] = &[
        ("Accept", "application/json"),
        ("X-Eureka-Accept", "compact"),
        ("Accept-Encoding", "gzip"),
    ];
    const DELTA_HEADERS: &[(&str, &str)] =
        &[("Accept", "application/json"), ("Accept-Encoding", "gzip")];
    let double = fleet_registry(flavour);
    let listing = body_bytes(&double, "apps/DEMO-SERVICE", LISTING_HEADERS);
    let delta = body_bytes(&double, "apps/delta", DELTA_HEADERS);
    let (expected_listing, plain_listing_at_least) = match flavour {
        ServerFlavour::SpringCloud => ("identity", 64 * 1024),
        ServerFlavour::NetflixWar => ("gzip", 0),
    };
    assert_eq!(listing.1, expected_listing, "{flavour}");
    assert!(
        listing.0 >= plain_listing_at_least,
        "{flavour}: {listing:?}"
    );
    assert_eq!(delta.1, "gzip", "{flavour}");

    // The hook's drain through a counting proxy: the prime (both keys), the PUTs, the polls.
    double.clear_requests();
    let proxy = CountingProxy::start(double.addr());
    // One poll, a second after the prime.
    let drain = Duration::from_millis(1500);
    let outcome = watching_prestop(
        &proxy.base_url(),
        &["--server-cache", "1s", "--drain", "1500ms"],
    )
    .run();
    outcome.assert_code(0);
    let requests = double.requests();
    let put_at = the_put(&double).at;
    let body_total: usize = requests.iter().map(|r| r.response_body_bytes).sum();
    // What each exchange costs besides the answer's body: request line, headers, status line.
    let overhead = (proxy.bytes() as usize - body_total) / requests.len();
    let polls: Vec<&RecordedRequest> = requests
        .iter()
        .filter(|request| request.method == "GET" && request.at > put_at)
        .collect();
    assert!(!polls.is_empty(), "no poll in {drain:?}: {requests:?}");
    let poll_wire = polls
        .iter()
        .map(|poll| poll.response_body_bytes + overhead)
        .max()
        .unwrap();
    let prime_wire: usize = requests
        .iter()
        .filter(|request| request.at < put_at)
        .map(|request| request.response_body_bytes + overhead)
        .sum();
    eprintln!(
        "poll-bytes | {flavour} | apps/{{APP}} compact, 200 instances: {} B {} | apps/delta, \
         100 changes in 1000: {} B {} | the hook polls {} at {poll_wire} B a poll on the wire, \
         so at most {poll_wire} B/s; its prime (both keys) took {prime_wire} B",
        listing.0, listing.1, delta.0, delta.1, polls[0].path,
    );
    assert!(
        poll_wire <= 20 * 1024,
        "{flavour}: a poll moved {poll_wire} B, over the 20 KB/s a poll a second may cost"
    );
}
