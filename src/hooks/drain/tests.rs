//! The drain follows the registry, in-process: prestop runs against doubles whose read-only
//! response cache refreshes on the hook's own fake clock (every second, a real server's 30 s
//! scaled), so virtual time jumps whenever every thread of the hook waits and each case takes
//! milliseconds. It learns when consumers can see `OUT_OF_SERVICE`, marks again a peer that lost the
//! mark (before or after consumers saw it), watches the cheaper key (the delta or the app listing)
//! and ends the drain on that evidence when asked to. Each case runs on both server flavours
//! (Spring Cloud's server, which sends `apps/{APP}` uncompressed, and Netflix's war, which gzips
//! it). A case whose request hangs takes that request's real time (at most 100 ms), since
//! virtual time stands still while a thread is in a request. The binary's own drain, on real time,
//! runs in `tests/cases/` (held, cut short by a signal, in the kubelet's order) and in the
//! rolling-update demo, whose drains follow a double's real response cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eureka_double::{
    CountingProxy, EurekaDouble, FaultPeer, InstanceSpec, RecordedRequest, ScriptedReply,
    ServerFlavour,
};
use serde_json::Value;

use crate::clock::fake::FakeClock;
use crate::eureka::EurekaClient;
use crate::hooks::prestop;
use crate::hooks::test_support::settings_for;
use crate::log::captured;
use crate::settings::Hook;

const APP: &str = "demo-service";
const HOST: &str = "pod-0";
const ID: &str = "pod-0:demo-service:8080";
/// The doubles' response cache refresh interval, and the hook's `--server-cache`.
const CACHE: Duration = Duration::from_secs(1);
const SECOND: Duration = Duration::from_secs(1);
/// The path every listing GET (the prime and the polls) asks for.
const LISTING: &str = "/eureka/apps/DEMO-SERVICE";

/// Runs `case` on every flavour at once (`ServerFlavour::each`), and prints the real time taken.
fn on_both_flavours(case: fn(ServerFlavour)) {
    let real = Instant::now();
    ServerFlavour::each(case);
    // The figure docs/development.md gives (`-- --nocapture --test-threads 1`).
    println!("real time: {} ms", real.elapsed().as_millis());
}

/// A double of `flavour` on `clock` with 20 UP instances of [`APP`] (this pod's among them) and a
/// read-only cache refreshed every `interval` (`Duration::ZERO`: no read-only cache). At 20
/// instances the hook polls the delta on Spring Cloud's server (its listing goes out
/// uncompressed) and the listing on the war (compressed, and smaller than the delta's full
/// form): see [`polled`].
fn cached_registry(
    clock: &'static FakeClock,
    flavour: ServerFlavour,
    interval: Duration,
) -> EurekaDouble {
    let double = EurekaDouble::builder()
        .flavour(flavour)
        .response_cache_interval(interval)
        .clock(|| clock.epoch_ms())
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

/// What one prestop did.
struct Drained {
    result: anyhow::Result<()>,
    /// Virtual time from the start of prestop to its end.
    took: Duration,
    /// When it started, in the doubles' epoch milliseconds.
    started_ms: i64,
    /// The windows the drain waited for (the first is the whole drain).
    waits: Vec<Duration>,
}

impl Drained {
    /// Virtual time from prestop's start to `request`'s arrival.
    fn offset(&self, request: &RecordedRequest) -> Duration {
        Duration::from_millis(u64::try_from(request.epoch_ms - self.started_ms).unwrap())
    }
}

/// prestop in-process against `urls` on `clock`, with `extra` arguments.
fn prestop_on(clock: &'static FakeClock, urls: &str, extra: &[&str]) -> Drained {
    let args = [&["prestop", "--app", APP][..], extra].concat();
    let settings = settings_for(urls, &args);
    let Hook::Prestop { drain, watch } = settings.hook else {
        unreachable!("{args:?} is prestop")
    };
    let client = EurekaClient::new(None, clock);
    let (started, started_ms) = (clock.elapsed(), clock.epoch_ms());
    let result = prestop::prestop(&settings, &client, clock, drain, watch);
    Drained {
        result,
        took: clock.elapsed().checked_sub(started).unwrap(),
        started_ms,
        waits: clock.waits(),
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

/// The hook's PUTs the registry accepted (the other of Spring's two ids is a 404; a peer's
/// replication of its own PUT is not the hook's).
fn accepted_puts(double: &EurekaDouble) -> Vec<RecordedRequest> {
    double
        .requests()
        .into_iter()
        .filter(|request| {
            request.method == "PUT"
                && request.status == 200
                && request.header("x-netflix-discovery-replication").is_none()
        })
        .collect()
}

/// The lines of `event` about `double`.
fn events(event: &str, double: &EurekaDouble) -> Vec<Value> {
    captured::mentioning(event, &double.base_url())
        .into_iter()
        .filter(|line| line["peer"] == double.base_url().as_str())
        .collect()
}

/// The `seconds` of the one propagation line for `double`.
fn seconds_for(double: &EurekaDouble) -> f64 {
    let lines = events("propagated", double);
    assert_eq!(lines.len(), 1, "propagation lines: {lines:?}");
    assert_eq!(lines[0]["instance"], ID);
    lines[0]["seconds"].as_f64().unwrap()
}

/// The message of the one `drain_finished` line this thread logged.
fn drain_finished() -> String {
    let lines = captured::of_this_thread("drain_finished");
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines[0]["message"].as_str().unwrap().to_owned()
}

fn assert_instance(double: &EurekaDouble, status: &str, overridden: &str) {
    let state = double.instance(APP, ID).unwrap();
    assert_eq!(
        (state.status.as_str(), state.overridden_status.as_str()),
        (status, overridden)
    );
}

#[test]
fn a_peer_is_seen_on_the_first_poll_after_the_refresh_that_follows_the_put() {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let double = cached_registry(clock, flavour, CACHE);
        let drained = prestop_on(
            clock,
            &double.base_url(),
            &["--server-cache", "1s", "--drain", "3s"],
        );
        drained.result.as_ref().unwrap();
        assert_eq!(drained.took, 3 * SECOND);
        assert_eq!(drained.waits[0], 3 * SECOND);
        assert_eq!(drain_finished(), "drain of 3s held");
        // The PUT at once, the refresh on the 1 s grid a second later, and the poll then.
        let puts = accepted_puts(&double);
        assert_eq!(puts.len(), 1, "{puts:?}");
        assert_eq!(drained.offset(&puts[0]), Duration::ZERO);
        assert!((seconds_for(&double) - 1.0).abs() < 1e-9);
        // The prime, then a poll a second until the drain's end.
        let gets = polls(&double);
        let at: Vec<Duration> = gets.iter().map(|get| drained.offset(get)).collect();
        assert_eq!(at, [Duration::ZERO, SECOND, 2 * SECOND], "{gets:?}");
        // Every GET asks for the same cache key: the compact listing's, or the delta's that Spring
        // clients read (full form); the log names the key.
        let (form, source) = match flavour {
            ServerFlavour::SpringCloud => (None, "apps/delta"),
            ServerFlavour::NetflixWar => (Some("compact"), "apps/{APP}"),
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
        let sources = events("watch_source", &double);
        assert_eq!(sources.len(), 1, "{sources:?}");
        assert_eq!(sources[0]["source"], source);
    });
}

#[test]
fn after_propagation_ends_the_drain_that_long_after_the_last_peer_showed_the_change() {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let fast = cached_registry(clock, flavour, CACHE);
        let slow = cached_registry(clock, flavour, 2 * CACHE);
        let urls = format!("{},{}", fast.base_url(), slow.base_url());
        let drained = prestop_on(
            clock,
            &urls,
            &[
                "--server-cache",
                "2s",
                "--drain",
                "8s",
                "--after-propagation",
                "1s",
            ],
        );
        drained.result.as_ref().unwrap();
        assert!((seconds_for(&fast) - 1.0).abs() < 1e-9);
        assert!((seconds_for(&slow) - 2.0).abs() < 1e-9);
        assert_eq!(
            drained.took,
            3 * SECOND,
            "1 s after the slow peer's sighting"
        );
        assert!(
            drain_finished().starts_with("drain ended after 3s of 8s"),
            "{}",
            drain_finished()
        );
    });
}

#[test]
fn a_peer_that_accepts_the_put_but_drops_the_mark_is_marked_again_once_and_the_drain_held_in_full()
{
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let double = cached_registry(clock, flavour, CACHE);
        // A lost write: the peer answers 200 and changes nothing.
        double.script(
            ScriptedReply::on("PUT", &format!("/{ID}/status?value=OUT_OF_SERVICE"))
                .times(1)
                .status(200),
        );
        let drained = prestop_on(
            clock,
            &double.base_url(),
            &[
                "--server-cache",
                "1s",
                "--drain",
                "12s",
                "--after-propagation",
                "0s",
            ],
        );
        drained.result.as_ref().unwrap();
        assert_eq!(drained.took, 12 * SECOND);
        let finished = drain_finished();
        assert!(
            finished.starts_with("drain of 12s held in full")
                && finished.contains("had lost the mark"),
            "{finished}"
        );
        assert_eq!(events("mark_lost", &double).len(), 1);
        let puts = accepted_puts(&double);
        assert_eq!(puts.len(), 2, "the mark and one re-mark: {puts:?}");
        let live_reads: Vec<String> = double
            .requests()
            .into_iter()
            .filter(|request| request.method == "GET" && request.path.starts_with(LISTING))
            .map(|request| request.path)
            .filter(|path| path.starts_with(&format!("{LISTING}/")))
            .collect();
        assert_eq!(
            live_reads,
            [format!("{LISTING}/{ID}")],
            "the live record, read once"
        );
        // The check after the server cache and its margin (6 s), the re-mark, then a refresh.
        let logged = seconds_for(&double);
        let remarked = drained.offset(&puts[1]).as_secs_f64();
        assert!(
            (6.0..8.0).contains(&remarked) && logged > remarked && logged <= remarked + 1.0,
            "re-marked at {remarked} s, seen at {logged} s"
        );
        assert_instance(&double, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    });
}

/// A watch long enough for a mark to be lost and got back: a 15 s drain that ends 2 s after the
/// last sighting, on 1 s server caches.
const LONG_WATCH: &[&str] = &[
    "--server-cache",
    "1s",
    "--drain",
    "15s",
    "--after-propagation",
    "2s",
];

#[test]
fn a_peer_that_loses_the_mark_after_consumers_saw_it_is_marked_again_and_the_drain_counts_from_the_new_sighting()
 {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let double = Arc::new(cached_registry(clock, flavour, CACHE));
        // Seen at 1 s; then the override is removed, and the app's next heartbeat registers it
        // UP again.
        let losing = Arc::clone(&double);
        clock.at(SECOND + SECOND / 2, move || {
            assert_eq!(
                losing.lose_override(&InstanceSpec::new(APP, HOST, 8080)),
                404
            );
        });
        let drained = prestop_on(clock, &double.base_url(), LONG_WATCH);
        drained.result.as_ref().unwrap();

        assert!((seconds_for(&double) - 1.0).abs() < 1e-9);
        assert_eq!(events("mark_lost_after_sighting", &double).len(), 1);
        assert_eq!(events("mark_lost", &double).len(), 1);
        let again = events("propagated_again", &double);
        assert_eq!(again.len(), 1, "{again:?}");
        // The drain ended --after-propagation after the new sighting, not after the first one.
        let seen_again = Duration::from_secs_f64(again[0]["seconds"].as_f64().unwrap());
        assert!(seen_again > 2 * SECOND, "{seen_again:?}");
        assert_eq!(drained.took, seen_again + 2 * SECOND);
        assert!(drain_finished().starts_with("drain ended after"));
        assert_eq!(accepted_puts(&double).len(), 2, "the mark and one re-mark");
        assert_instance(&double, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    });
}

#[test]
fn replicated_peers_that_lose_the_mark_after_the_sighting_are_each_logged_remarked_or_given_it_back()
 {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let (a, b) = (
            Arc::new(cached_registry(clock, flavour, CACHE)),
            Arc::new(cached_registry(clock, flavour, CACHE)),
        );
        a.replicate_to(&[&b]);
        b.replicate_to(&[&a]);
        // The override is removed on one peer; the removal and the app's re-registration UP that
        // follows it replicate to the other (time stands still until they have), so both lose
        // the mark.
        let (on_a, on_b) = (Arc::clone(&a), Arc::clone(&b));
        clock.at(SECOND + SECOND / 2, move || {
            assert_eq!(on_a.lose_override(&InstanceSpec::new(APP, HOST, 8080)), 404);
            let replicated = Instant::now();
            while on_b.instance(APP, ID).unwrap().status != "UP" {
                assert!(
                    replicated.elapsed() < Duration::from_secs(5),
                    "no replication"
                );
                std::thread::yield_now();
            }
        });
        let urls = format!("{},{}", a.base_url(), b.base_url());
        let drained = prestop_on(clock, &urls, LONG_WATCH);
        drained.result.as_ref().unwrap();
        assert!(drain_finished().starts_with("drain ended after"));
        for peer in [&a, &b] {
            assert_eq!(events("mark_lost_after_sighting", peer).len(), 1);
            // Its live record showed the mark lost (it was marked again) or back by replication.
            assert_eq!(
                events("mark_lost", peer).len() + events("mark_back", peer).len(),
                1
            );
            assert_eq!(events("propagated_again", peer).len(), 1);
            assert_instance(peer, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
        }
        assert!(
            !events("mark_lost", &a).is_empty() || !events("mark_lost", &b).is_empty(),
            "somebody marked it again"
        );
    });
}

#[test]
fn an_unreachable_second_peer_forces_the_full_drain() {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let double = cached_registry(clock, flavour, CACHE);
        let down = FaultPeer::refused();
        let urls = format!("{},{}", double.base_url(), down.base_url());
        let drained = prestop_on(
            clock,
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
        );
        drained.result.as_ref().unwrap();
        assert_eq!(drained.waits[0], 4 * SECOND);
        let finished = drain_finished();
        assert!(
            finished.starts_with("drain of 4s held in full")
                && finished.contains(&format!(
                    "{} was not watched (it did not accept the mark)",
                    down.base_url()
                )),
            "{finished}"
        );
        assert!(seconds_for(&double) <= 1.0);
    });
}

#[test]
fn a_server_without_a_response_cache_counts_as_seen_on_the_first_poll() {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let double = cached_registry(clock, flavour, Duration::ZERO);
        let drained = prestop_on(
            clock,
            &double.base_url(),
            &[
                "--server-cache",
                "0s",
                "--drain",
                "5s",
                "--after-propagation",
                "500ms",
            ],
        );
        drained.result.as_ref().unwrap();
        assert!((seconds_for(&double) - 1.0).abs() < 1e-9);
        assert_eq!(drained.took, SECOND + SECOND / 2);
        assert_eq!(polls(&double).len(), 2, "the prime and one poll");
    });
}

/// Every peer showed the change (on the first poll, a second in), but a second plus
/// `--after-propagation` is past `--drain`: the drain is held in full, and the log says why (it
/// once said "held in full: " and nothing more).
#[test]
fn a_change_seen_too_late_for_after_propagation_holds_the_full_drain_and_says_why() {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let double = cached_registry(clock, flavour, Duration::ZERO);
        let drained = prestop_on(
            clock,
            &double.base_url(),
            &[
                "--server-cache",
                "0s",
                "--drain",
                "2500ms",
                "--after-propagation",
                "10s",
            ],
        );
        drained.result.as_ref().unwrap();
        assert_eq!(drained.took, 2 * SECOND + SECOND / 2);
        let finished = drain_finished();
        assert!(
            finished.contains(
                "held in full: every peer showed the change, but too late for --after-propagation"
            ),
            "{finished}"
        );
        seconds_for(&double);
    });
}

#[test]
fn a_spring_cloud_server_with_the_delta_disabled_is_watched_on_the_app_listing() {
    let real = Instant::now();
    let clock = FakeClock::leaked();
    let double = cached_registry(clock, ServerFlavour::SpringCloud, CACHE);
    // `eureka.server.disable-delta=true`: ApplicationsResource answers the delta 403.
    double.script(ScriptedReply::on("GET", "/eureka/apps/delta").status(403));
    let drained = prestop_on(
        clock,
        &double.base_url(),
        &[
            "--server-cache",
            "1s",
            "--drain",
            "6s",
            "--after-propagation",
            "500ms",
        ],
    );
    drained.result.as_ref().unwrap();
    assert_eq!(drained.took, SECOND + SECOND / 2);
    let sources = events("watch_source", &double);
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert_eq!(sources[0]["source"], "apps/{APP}");
    assert!((seconds_for(&double) - 1.0).abs() < 1e-9);
    let gets: Vec<RecordedRequest> = double
        .requests()
        .into_iter()
        .filter(|request| request.method == "GET")
        .collect();
    let deltas = gets
        .iter()
        .filter(|get| get.path.ends_with("/delta"))
        .count();
    assert_eq!(deltas, 1, "{gets:?}");
    let listings = gets.iter().filter(|get| get.path == LISTING).count();
    assert!(listings >= 2, "the prime and a poll: {gets:?}");
    drop(double);
    println!("real time: {} ms", real.elapsed().as_millis());
}

#[test]
fn sigterm_ends_the_drain_at_its_instant_and_no_peer_is_marked_again_after_it() {
    on_both_flavours(|flavour| {
        let clock: &'static FakeClock = Box::leak(Box::new(FakeClock::new().signal_at(4 * SECOND)));
        let double = cached_registry(clock, flavour, CACHE);
        // A lost write: without the signal the peer would be marked again at 6 s.
        double.script(
            ScriptedReply::on("PUT", &format!("/{ID}/status?value=OUT_OF_SERVICE"))
                .times(1)
                .status(200),
        );
        let drained = prestop_on(
            clock,
            &double.base_url(),
            &["--server-cache", "1s", "--drain", "30s"],
        );
        drained.result.as_ref().unwrap();
        assert_eq!(drained.took, 4 * SECOND);
        let cut_short = captured::of_this_thread("drain_cut_short");
        assert_eq!(cut_short.len(), 1, "{cut_short:?}");
        assert_eq!(
            cut_short[0]["message"],
            "drain cut short by SIGTERM after 4s of 30s"
        );
        // The watch threads stop with the drain; none marks the peer again.
        assert_eq!(accepted_puts(&double).len(), 1);
    });
}

/// A peer that never answers does not accept the mark and is not watched; the healthy peer is
/// watched as if it were alone, its propagation time counted from its own PUT. (What the silent
/// peer costs the marks in real time, one request timeout, is `prestop`'s own test.)
#[test]
fn a_hanging_peer_delays_neither_the_healthy_peers_mark_nor_its_propagation_time() {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let silent = FaultPeer::hang();
        let double = cached_registry(clock, flavour, CACHE);
        let urls = format!("{},{}", silent.base_url(), double.base_url());
        let drained = prestop_on(
            clock,
            &urls,
            &[
                "--server-cache",
                "1s",
                "--request-timeout",
                "50ms",
                "--drain",
                "2500ms",
            ],
        );
        drained.result.as_ref().unwrap();
        assert_eq!(drained.took, 2 * SECOND + SECOND / 2);
        assert_eq!(drain_finished(), "drain of 2s 500ms held");
        let not_watched = captured::mentioning("not_watched", &silent.base_url());
        assert_eq!(not_watched.len(), 1, "{not_watched:?}");
        assert_eq!(
            not_watched[0]["message"],
            format!(
                "peer {} is not watched during the drain: it did not accept the mark",
                silent.base_url()
            )
        );
        let puts = accepted_puts(&double);
        assert_eq!(puts.len(), 1, "{puts:?}");
        assert_eq!(drained.offset(&puts[0]), Duration::ZERO);
        assert!((seconds_for(&double) - 1.0).abs() < 1e-9);
    });
}

/// The first poll, a second in, gets what is left of a 1.1 s drain, and the peer is slower than
/// that: the drain's end cuts the poll short, which is no failure of the peer's (it once warned
/// "could not read … no answer within 0s" as the drain ended).
#[test]
fn a_poll_cut_short_by_the_drains_end_is_no_failure_to_warn_of() {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let double = cached_registry(clock, flavour, CACHE);
        let path = polled(flavour);
        // The prime's read of the watched key is answered at once, every poll after a second.
        double.script(ScriptedReply::on("GET", path).times(1));
        double.script(ScriptedReply::on("GET", path).delay(SECOND));
        let drained = prestop_on(
            clock,
            &double.base_url(),
            &["--server-cache", "1s", "--drain", "1100ms"],
        );
        drained.result.as_ref().unwrap();
        assert_eq!(drained.took, SECOND + SECOND / 10);
        assert!(
            drain_finished().starts_with("drain of 1s 100ms held"),
            "{}",
            drain_finished()
        );
        let failed = events("watch_failed", &double);
        assert!(
            failed.is_empty(),
            "a poll the drain's end cut short was warned of: {failed:?}"
        );
        assert_eq!(polls(&double).len(), 2, "the prime and the poll cut short");
    });
}

/// SIGTERM arrives (in real time) while the first poll hangs: the drain ends at once, without
/// waiting for the poll, whose request timeout is 10 s.
#[test]
fn sigterm_ends_the_drain_at_once_while_a_poll_hangs() {
    on_both_flavours(|flavour| {
        let clock = FakeClock::leaked();
        let double = cached_registry(clock, flavour, CACHE);
        let path = polled(flavour);
        // The prime is answered; every poll after it hangs.
        double.script(ScriptedReply::on("GET", path).times(1));
        double.script(ScriptedReply::on("GET", path).hang());
        let a_poll_hangs = || {
            let gets = polls(&double);
            gets.len() >= 2 && gets.iter().skip(1).any(|get| get.status == 0)
        };
        let (drained, signalled) = std::thread::scope(|scope| {
            let signaller = scope.spawn(|| {
                let deadline = Instant::now() + Duration::from_secs(10);
                while !a_poll_hangs() {
                    assert!(
                        Instant::now() < deadline,
                        "no poll came: {:?}",
                        double.requests()
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
                clock.signal_now();
                Instant::now()
            });
            let drained = prestop_on(
                clock,
                &double.base_url(),
                &[
                    "--server-cache",
                    "1s",
                    "--drain",
                    "30s",
                    "--request-timeout",
                    "10s",
                ],
            );
            (drained, signaller.join().unwrap())
        });
        let outlived = signalled.elapsed();
        assert!(
            outlived < Duration::from_secs(1),
            "the drain outlived the signal by {outlived:?}"
        );
        drained.result.as_ref().unwrap();
        assert_eq!(drained.took, SECOND, "the signal came with the first poll");
        let cut_short = captured::of_this_thread("drain_cut_short");
        assert_eq!(cut_short.len(), 1, "{cut_short:?}");
        assert_eq!(
            cut_short[0]["message"],
            "drain cut short by SIGTERM after 1s of 30s"
        );
    });
}

/// A registry of 1000 instances of `flavour`: [`APP`] with 200 (one of them this pod's, UP), and
/// 800 of four other apps; only the last 100 registered (all of other apps) are in the delta, as
/// if the others had changed more than three minutes ago. It runs on real time: instances that
/// all registered at one virtual instant would share their timestamps and compress better than
/// a real registry's.
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
/// (body bytes), then what the drain moves on the wire (both ways, headers included) when it
/// polls the key it chose, once a second (the most it polls). Prints the figures docs/fleet.md
/// gives (`cargo test bytes_per_poll -- --nocapture`).
#[test]
fn bytes_per_poll_of_the_app_listing_and_of_the_delta_on_each_flavour() {
    on_both_flavours(|flavour| {
        const LISTING_HEADERS: &[(&str, &str)] = &[
            ("Accept", "application/json"),
            ("X-Eureka-Accept", "compact"),
            ("Accept-Encoding", "gzip"),
        ];
        const DELTA_HEADERS: &[(&str, &str)] =
            &[("Accept", "application/json"), ("Accept-Encoding", "gzip")];
        let clock = FakeClock::leaked();
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
        // The drain through a counting proxy: the prime (both keys), the PUTs, one poll.
        double.clear_requests();
        let proxy = CountingProxy::start(double.addr()).unwrap();
        let drained = prestop_on(
            clock,
            &proxy.base_url(),
            &["--server-cache", "1s", "--drain", "1500ms"],
        );
        drained.result.as_ref().unwrap();
        let requests = double.requests();
        let puts = accepted_puts(&double);
        assert_eq!(puts.len(), 1, "{puts:?}");
        let body_total: usize = requests.iter().map(|r| r.response_body_bytes).sum();
        // What each exchange costs besides the answer's body: request line, headers, status line.
        let wire = usize::try_from(proxy.bytes()).unwrap();
        let overhead = (wire - body_total) / requests.len();
        let polled = polls(&double);
        assert_eq!(polled.len(), 2, "the prime and one poll: {polled:?}");
        let poll_wire = polled[1].response_body_bytes + overhead;
        let prime_wire: usize = requests
            .iter()
            .filter(|request| request.at < puts[0].at)
            .map(|request| request.response_body_bytes + overhead)
            .sum();
        println!(
            "poll-bytes | {flavour} | apps/{{APP}} compact, 200 instances: {} B {} | apps/delta, \
             100 changes in 1000: {} B {} | the hook polls {} at {poll_wire} B a poll on the \
             wire, so at most {poll_wire} B/s; its prime (both keys) took {prime_wire} B",
            listing.0, listing.1, delta.0, delta.1, polled[1].path,
        );
        assert!(
            poll_wire <= 20 * 1024,
            "{flavour}: a poll moved {poll_wire} B, over the 20 KB/s a poll a second may cost"
        );
    });
}
