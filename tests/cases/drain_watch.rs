//! The drain follows the registry: against doubles whose read-only response cache refreshes every
//! second (a real server's 30 s, scaled), prestop learns when consumers can see OUT_OF_SERVICE,
//! marks again a peer that lost the mark, and ends the drain on that evidence when asked to.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::*;

/// The doubles' response cache refresh interval, and the hook's `--server-cache`.
const CACHE: Duration = Duration::from_secs(1);
/// Process start and scheduling on a loaded two-core machine.
const SLACK: Duration = Duration::from_secs(2);
/// The path every listing GET (the prime and the polls) asks for.
const LISTING: &str = "/eureka/apps/DEMO-SERVICE";

/// A double with one UP instance of [`APP`] and a read-only cache refreshed every `interval`
/// (`Duration::ZERO`: no read-only cache).
fn cached_registry(interval: Duration) -> EurekaDouble {
    let double = EurekaDouble::builder()
        .response_cache_interval(interval)
        .start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    double
}

/// prestop against `urls`, JSON logs, and `extra` arguments.
fn watching_prestop(urls: &str, extra: &[&str]) -> Hook {
    let mut args = vec![
        "prestop",
        "--app",
        APP,
        "--eureka-url",
        urls,
        "--log-format",
        "json",
    ];
    args.extend(extra);
    hook(&args)
}

/// The JSON log lines of `event`.
fn events(outcome: &Outcome, event: &str) -> Vec<Value> {
    outcome
        .stderr
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|err| panic!("not a JSON line ({err}): {line}"))
        })
        .filter(|line| line["event"] == event)
        .collect()
}

/// A log line's `time` field.
fn logged_at(line: &Value) -> SystemTime {
    humantime::parse_rfc3339(line["time"].as_str().unwrap()).unwrap()
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

/// The PUT the registry accepted (the other of Spring's two ids is a 404).
fn the_put(double: &EurekaDouble) -> RecordedRequest {
    let puts: Vec<RecordedRequest> = double
        .requests()
        .into_iter()
        .filter(|request| request.method == "PUT" && request.status == 200)
        .collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    puts[0].clone()
}

#[test]
fn the_logged_propagation_time_matches_the_registrys_refresh_grid_within_a_poll() {
    let double = cached_registry(CACHE);
    let clock = EpochClock::now();
    let outcome = watching_prestop(
        &double.base_url(),
        &["--server-cache", "1s", "--drain", "3s"],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_secs(3))
        .assert_took_less_than(Duration::from_secs(3) + SLACK)
        .assert_stderr_contains("drain of 3s held");
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

    let gets = listing_gets(&double);
    assert!(gets.len() >= 2, "the prime and at least one poll: {gets:?}");
    assert!(gets[0].at < put_at, "the listing is read before the PUT");
    for pair in gets.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(990),
            "two GETs closer than a second: {pair:?}"
        );
    }
    // Polling stopped at the poll that saw the refresh: every earlier one came before it.
    let (last, earlier) = gets.split_last().unwrap();
    assert!(clock.epoch_ms(last.at) + 50 >= refresh, "{last:?}");
    for get in earlier {
        assert!(
            clock.epoch_ms(get.at) < refresh + 50,
            "a poll after the change was seen"
        );
    }
    // Every GET asks for the same cache key.
    for get in &gets {
        for (name, value) in [
            ("Accept", "application/json"),
            ("X-Eureka-Accept", "compact"),
            ("Accept-Encoding", "gzip"),
        ] {
            assert_eq!(get.header(name), Some(value), "{get:?}");
        }
    }
}

#[test]
fn after_propagation_ends_the_drain_that_long_after_the_last_peer_flipped() {
    let fast = cached_registry(CACHE);
    let slow = cached_registry(2 * CACHE);
    let urls = format!("{},{}", fast.base_url(), slow.base_url());
    let outcome = watching_prestop(
        &urls,
        &[
            "--server-cache",
            "2s",
            "--drain",
            "8s",
            "--after-propagation",
            "1s",
        ],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_less_than(Duration::from_secs(5) + SLACK)
        .assert_stderr_contains("drain ended after");
    seconds_for(&outcome, &fast.base_url());
    seconds_for(&outcome, &slow.base_url());
    let last_flip = events(&outcome, "propagated")
        .iter()
        .map(logged_at)
        .max()
        .unwrap();
    let finished = events(&outcome, "drain_finished");
    let held_after_last_flip = logged_at(&finished[0]).duration_since(last_flip).unwrap();
    assert!(
        held_after_last_flip >= Duration::from_millis(950)
            && held_after_last_flip < Duration::from_millis(1300),
        "the drain ended {held_after_last_flip:?} after the last flip"
    );
}

#[test]
fn a_peer_that_accepts_the_put_but_drops_the_mark_is_marked_again_once_and_the_drain_held_in_full()
{
    let double = cached_registry(CACHE);
    // A lost write: the peer answers 200 and changes nothing.
    double.script(
        ScriptedReply::on("PUT", &format!("/{DEFAULT_ID}/status?value=OUT_OF_SERVICE"))
            .times(1)
            .status(200),
    );
    let outcome = watching_prestop(
        &double.base_url(),
        &[
            "--server-cache",
            "1s",
            "--drain",
            "12s",
            "--after-propagation",
            "0s",
        ],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_secs(12))
        .assert_took_less_than(Duration::from_secs(12) + SLACK)
        .assert_stderr_contains("PEER LOST THE MARK")
        .assert_stderr_contains("set OUT_OF_SERVICE again done")
        .assert_stderr_contains("drain of 12s held in full")
        .assert_stderr_contains("had lost the mark");
    let puts: Vec<String> = sent(&double, "PUT")
        .into_iter()
        .filter(|put| put.contains(DEFAULT_ID))
        .collect();
    assert_eq!(puts.len(), 2, "the mark and one re-mark: {puts:?}");
    let live_reads: Vec<String> = sent(&double, "GET")
        .into_iter()
        .filter(|path| path.starts_with(&format!("{LISTING}/")))
        .collect();
    assert_eq!(
        live_reads,
        [format!("{LISTING}/{DEFAULT_ID}")],
        "the live record, read once"
    );
    // The watch went on after the re-mark and saw it arrive: 6 s for the check, then a refresh.
    let logged = seconds_for(&outcome, &double.base_url());
    assert!((6.0..11.0).contains(&logged), "{logged}");
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn an_unreachable_second_peer_forces_the_full_drain() {
    let double = cached_registry(CACHE);
    let down = FaultPeer::refused();
    let urls = format!("{},{}", double.base_url(), down.base_url());
    let outcome = watching_prestop(
        &urls,
        &[
            "--server-cache",
            "1s",
            "--request-timeout",
            "1s",
            "--drain",
            "4s",
            "--after-propagation",
            "0s",
        ],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_secs(4))
        .assert_stderr_contains("drain of 4s held in full")
        .assert_stderr_contains(&format!(
            "{} was not watched (it did not accept the mark)",
            down.base_url()
        ));
    let logged = seconds_for(&outcome, &double.base_url());
    assert!(logged <= 2.3, "{logged}");
}

#[test]
fn a_hanging_peer_delays_neither_the_healthy_peers_mark_nor_its_propagation_time() {
    let silent = FaultPeer::hang();
    let double = cached_registry(CACHE);
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
            "3s",
        ],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_at_least(Duration::from_secs(3))
        .assert_took_less_than(Duration::from_secs(3) + SLACK)
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

#[test]
fn a_server_without_a_response_cache_counts_as_seen_on_the_first_poll() {
    let double = cached_registry(Duration::ZERO);
    let outcome = watching_prestop(
        &double.base_url(),
        &[
            "--server-cache",
            "0s",
            "--drain",
            "5s",
            "--after-propagation",
            "500ms",
        ],
    )
    .run();
    outcome
        .assert_code(0)
        .assert_took_less_than(Duration::from_secs(2) + SLACK)
        .assert_stderr_contains("drain ended after");
    let logged = seconds_for(&outcome, &double.base_url());
    assert!(
        logged <= 1.3,
        "the first poll, a second after the prime: {logged}"
    );
    assert_eq!(listing_gets(&double).len(), 2, "the prime and one poll");
}

#[test]
fn sigterm_ends_the_drain_at_once_while_a_poll_hangs() {
    let double = cached_registry(CACHE);
    // The prime is answered; every poll after it hangs.
    double.script(ScriptedReply::on("GET", LISTING).times(1));
    double.script(ScriptedReply::on("GET", LISTING).hang());
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
    // The second GET of the listing is the first poll (the prime, answered, came before it).
    let a_poll_hangs = || {
        let listings: Vec<_> = double
            .requests()
            .into_iter()
            .filter(|request| request.method == "GET" && request.path.ends_with(LISTING))
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

/// The bytes one drain costs a peer of a 200-instance app, measured on the wire (both ways,
/// headers included) at a 1 s cache and scaled to a real server's 30 s: the prime and 30 polls.
/// Prints the figure the README gives (`cargo test -- --nocapture bytes_one_drain_costs`).
#[test]
fn bytes_one_drain_costs_a_peer_of_a_200_instance_app() {
    let double = EurekaDouble::builder()
        .response_cache_interval(CACHE)
        .start();
    for pod in 0..200 {
        let host = format!("pod-{pod}");
        let ip = format!("10.0.{}.{}", pod / 250, pod % 250 + 1);
        double.register(InstanceSpec::new(APP, &host, 8080).ip_addr(&ip));
    }
    let proxy = CountingProxy::start(double.addr());
    // The PUT alone, as a drain of 0 s sends it.
    watching_prestop(&proxy.base_url(), &["--drain", "0s"])
        .run()
        .assert_code(0);
    let put_bytes = proxy.bytes();
    double.clear_requests();
    // Undo the mark, so the next run marks an UP instance again.
    double.set_override(APP, DEFAULT_ID, "UP");
    std::thread::sleep(2 * CACHE);
    watching_prestop(
        &proxy.base_url(),
        &["--server-cache", "1s", "--drain", "3s"],
    )
    .run()
    .assert_code(0);
    let drain_bytes = proxy.bytes() - put_bytes;
    let gets = listing_gets(&double).len() as u64;
    assert!(gets >= 2, "the prime and a poll");
    let per_get = (drain_bytes - put_bytes) / gets;
    let per_drain = put_bytes + 31 * per_get;
    eprintln!(
        "drain-bytes | 200 instances | the PUTs {put_bytes} B | listing exchange {per_get} B \
         (prime + {} poll(s) measured: {drain_bytes} B with the PUT) | one 30 s cache period \
         (PUT + prime + 30 polls): {per_drain} B",
        gets - 1
    );
    assert!(
        per_get < 64 * 1024,
        "a poll of 200 instances moved {per_get} B"
    );
}
