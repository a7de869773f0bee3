//! prestop: mark this instance `OUT_OF_SERVICE` on every peer (after a 404 everywhere, the registered
//! instance with this pod's host and port instead), then hold the pod for the drain, whatever the
//! registry answered, while watching when consumers of each peer can see the change.
//!
//! With a drain, each peer's app listing is read just before its PUT, with the headers the watch
//! polls with: that puts its key in the registry's response cache (see `watch`), and it is the
//! listing the 404 fallback looks in, so the fallback costs no extra request. Every peer does this
//! on its own, all at once: its listing gets [`LISTING_BUDGET`] at most (a healthy peer answers in
//! milliseconds), its PUTs what is left of one request timeout, so a peer that hangs costs one
//! request timeout and delays no other peer's mark. Bound: with a drain, at most two request
//! timeouts on the registry (each peer's listing and PUTs; after a 404 everywhere, the PUT of a
//! matched id or one `GET apps/delta`); with `--drain 0` three (the PUTs, then the listing, then
//! that PUT or `GET apps/delta`); then at most the drain.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::drain::end::{Evidence, PeerEvidence, hold_drain};
use super::drain::evidence::{self, Prime, Source};
use super::drain::polling::{self, WatchContext, WatchedPeer};
use super::drain::watch::{
    POLL_INTERVAL, PeerWatch, REMARK_MARGIN, Sighting, WATCH_AFTER_SIGHTING,
};
use super::fan_out::on_every_peer;
use super::locate::EurekaCheck;
use super::locate::candidates::{mark_every_candidate, marked_candidate};
use super::locate::find::{FindResult, Found, NotFound, find_in_listings, find_this_pod};
use super::plan::{Listing, Plan, PlannedRequest, every_id, fallback};
use super::report::{failure_exit, log_answers, log_target, not_found_peers, summary};
use super::requests::{clients_delta, listing, lookup, mark};
use crate::bug;
use crate::clock::{Clock, later};
use crate::eureka::{Answer, EurekaClient, Instance};
use crate::exit::{Exit, HookFailed};
use crate::inbound;
use crate::log;
use crate::settings::{Peer, Settings, WatchSettings};
use crate::values::InstanceId;

/// The longest the listing before the PUT may take (and at most half the request timeout; the PUT
/// gets the rest). Without it a peer is not watched, which only costs the early end of the drain.
pub const LISTING_BUDGET: Duration = Duration::from_secs(1);

/// Marks this instance `OUT_OF_SERVICE` on every peer, then holds the pod for `drain` (or less, as
/// `watch` allows), whatever the registry answered.
pub fn prestop(
    settings: &Settings,
    client: &EurekaClient<'static>,
    clock: &'static dyn Clock,
    drain: Duration,
    watch: WatchSettings,
) -> Result<()> {
    log_target(settings);
    // Without a drain there is nothing to watch, and a manual drain stays one request per peer.
    let primes = !drain.is_zero();
    // A bug in the registry step or the watch costs the mark or the watch, never the drain.
    let (marks, marked) = bug::contained("the registry step", || {
        mark_out_of_service(settings, client, clock, primes)
    })
    .unwrap_or_else(|failure| (Vec::new(), Err(failure.into())));
    let polling_context = WatchContext {
        client: client.clone(),
        clock,
        app: settings.identity.app.clone(),
        id: marked
            .as_ref()
            .map_or_else(|_| settings.identity.instance_id.clone(), Clone::clone),
        request_timeout: settings.registry.request_timeout,
        drain_end: later(clock.now(), drain),
        nudger: clock.nudger(),
    };
    let (mut evidence, watched) = watch_plan(settings, &marks, &polling_context.id, watch);
    let polling = bug::contained("the watch", || polling::start(&polling_context, watched)).ok();
    let no_reports = std::sync::mpsc::channel().1;
    let inbound = if drain.is_zero() {
        None
    } else {
        let mark = first_accepted(&marks).unwrap_or_else(|| clock.now());
        bug::contained("the inbound watch", || {
            inbound::start(
                settings.identity.pod.port.known(),
                &settings.inbound,
                mark,
                clock,
            )
        })
        .ok()
        .flatten()
    };
    hold_drain(
        clock,
        drain,
        watch.after_propagation,
        &mut evidence,
        polling
            .as_ref()
            .map_or(&no_reports, |polling| &polling.reports),
        inbound.as_ref(),
    );
    if let Some(polling) = polling {
        polling.stop();
    }
    if let Some(inbound) = inbound {
        inbound.finish(clock.now());
    }
    marked.map(|_| ())
}

/// When the first PUT a peer accepted was sent: inbound data counts from then on (from the
/// drain's start when none was accepted).
fn first_accepted(marks: &[PeerMark]) -> Option<Instant> {
    marks
        .iter()
        .filter(|mark| mark.answer.is_accepted())
        .map(|mark| mark.marked_at)
        .min()
}

/// What prestop sends to each peer, and the drain after.
pub fn plan(settings: &Settings, drain: Duration, watch: WatchSettings) -> Plan<'_> {
    let identity = &settings.identity;
    let app = &identity.app;
    let puts = identity
        .candidates()
        .into_iter()
        .map(|id| PlannedRequest::always(mark(app, id), ""));
    let window = humantime::format_duration(drain);
    if drain.is_zero() {
        return Plan {
            requests: puts
                .chain(fallback(identity, Listing::Needed, mark))
                .collect(),
            afterwards: Some(format!("then hold the pod for {window} (drain)")),
        };
    }
    let primed = PlannedRequest::always(
        listing(app),
        "  (before the mark: puts the listing in the response cache; if no id is registered, \
         this pod's instance is looked for in it)",
    );
    let primed_delta = PlannedRequest::always(
        clients_delta(),
        "  (before the mark: puts the delta, as Spring clients read it, in the response cache; \
         the drain watches whichever of the two cost fewer bytes)",
    );
    let gently = humantime::format_duration(
        watch
            .server_cache
            .clamp(POLL_INTERVAL, WATCH_AFTER_SIGHTING),
    );
    let every = format!(
        "  (every {}s until the instance shows OUT_OF_SERVICE or is gone, then every {gently} \
         until the drain ends)",
        POLL_INTERVAL.as_secs()
    );
    let polls = [
        PlannedRequest::on(
            "during the drain, where the listing is watched",
            listing(app),
            &every,
        ),
        PlannedRequest::on(
            "during the drain, where the delta is watched",
            clients_delta(),
            &every,
        ),
    ];
    let remark_after = humantime::format_duration(watch.server_cache.saturating_add(REMARK_MARGIN));
    let live_reads = every_id(identity).map(|id| {
        PlannedRequest::on(
            "if marked and still listed",
            lookup(app, id),
            format!(
                "  ({remark_after} after the mark: its live record; if the override is gone, \
                 its PUT once more)"
            ),
        )
    });
    let ending = match watch.after_propagation {
        Some(after) => format!(
            "then hold the pod for at most {window} (drain), ending {} after the last peer shows \
             OUT_OF_SERVICE (--after-propagation); the full {window} if a peer cannot be watched \
             or is marked again",
            humantime::format_duration(after)
        ),
        None => format!("then hold the pod for {window} (drain)"),
    };
    Plan {
        requests: [primed, primed_delta]
            .into_iter()
            .chain(puts)
            .chain(fallback(identity, Listing::ReadBeforeTheMark, mark))
            .chain(polls)
            .chain(live_reads)
            .collect(),
        afterwards: Some(ending),
    }
}

/// The app listing a peer gave just before its PUT, and when it was asked for.
type PrimedListing = (Instant, Result<Vec<Instance>, Answer>);

/// One peer's part in marking.
struct PeerMark {
    /// The app listing read just before the PUT (with a drain).
    primed: Option<PrimedListing>,
    /// The key the watch polls on this peer (chosen when primed).
    source: Source,
    /// The answer to the last PUT, sent at `marked_at`.
    answer: Answer,
    marked_at: Instant,
}

/// Marks on every peer; returns each peer's part, and the id marked or why none was.
fn mark_out_of_service(
    settings: &Settings,
    client: &EurekaClient,
    clock: &dyn Clock,
    primes: bool,
) -> (Vec<PeerMark>, Result<InstanceId>) {
    let peers = &settings.registry.peers;
    // Each peer its listing and then at once its PUTs, within one request timeout; a peer that
    // hangs delays no other peer's mark.
    let (parts, sent): (Vec<_>, Vec<_>) = on_every_peer(peers, |peer| {
        let (prime, marked_at, answers) = prime_and_mark(settings, client, clock, peer, primes);
        ((prime, marked_at), answers)
    })
    .into_iter()
    .unzip();
    let (marked_id, first_answers) = marked_candidate(settings, &sent);
    let mut marks: Vec<PeerMark> = parts
        .into_iter()
        .zip(first_answers)
        .map(|((prime, marked_at), answer)| PeerMark {
            source: prime.as_ref().map_or(Source::Listing, |prime| prime.source),
            primed: prime.map(|prime| prime.listing),
            answer,
            marked_at,
        })
        .collect();
    if log_marked(&answers_of(&marks), peers.len(), &marked_id) > 0 {
        return (marks, Ok(marked_id));
    }
    let mut explanation = None;
    if marks.iter().any(|mark| mark.answer == Answer::NotFound) {
        match find_after_404(settings, client, &marks, primes) {
            Ok(Found { id, why }) => {
                log::info(
                    "instance_matched",
                    &format!(
                        "instance {} is not registered, but {why}: marking it instead",
                        settings.identity.shown_ids()
                    ),
                );
                let again = on_every_peer(peers, |peer| {
                    (clock.now(), mark_on_peer(settings, client, peer, &id))
                });
                for (mark, (marked_at, answer)) in marks.iter_mut().zip(again) {
                    mark.marked_at = marked_at;
                    mark.answer = answer;
                }
                log_answers(peers, &answers_of(&marks), &id, "set OUT_OF_SERVICE");
                if log_marked(&answers_of(&marks), peers.len(), &id) > 0 {
                    return (marks, Ok(id));
                }
            }
            Err(NotFound { why }) => explanation = Some(why),
        }
    }
    let failure = not_marked(settings, &answers_of(&marks), explanation);
    (marks, Err(failure.into()))
}

/// One peer's part of the first round: with a drain, the app listing (within
/// [`LISTING_BUDGET`], or half the request timeout), then at once the PUT of every candidate id
/// within what is left of one request timeout, one after the other. Returns the listing and when it was asked for,
/// when the PUTs were sent, and their answers in candidate order.
fn prime_and_mark(
    settings: &Settings,
    client: &EurekaClient,
    clock: &dyn Clock,
    peer: &Peer,
    primes: bool,
) -> (Option<Prime>, Instant, Vec<Answer>) {
    let timeout = settings.registry.request_timeout;
    let listing_budget = LISTING_BUDGET.min(timeout.checked_div(2).unwrap_or_default());
    let started = clock.now();
    let listed = primes
        .then(|| evidence::prime(client, clock, peer, &settings.identity.app, listing_budget));
    let marked_at = clock.now();
    // The listing gave up at its budget, so at least half a request timeout is left.
    let listing_took = marked_at
        .saturating_duration_since(started)
        .min(listing_budget);
    let left = timeout.saturating_sub(listing_took);
    let answers = mark_every_candidate(settings, client, clock, peer, left);
    (listed, marked_at, answers)
}

/// After a 404 everywhere: this pod's instance, looked for in the listings read before the PUT
/// (with a drain) or listed now on the peers that answered 404.
fn find_after_404(
    settings: &Settings,
    client: &EurekaClient,
    marks: &[PeerMark],
    primes: bool,
) -> FindResult {
    let not_found = not_found_peers(&settings.registry.peers, &answers_of(marks));
    if !primes {
        return find_this_pod(settings, client, &not_found);
    }
    let listings: Vec<_> = marks
        .iter()
        .filter(|mark| mark.answer == Answer::NotFound)
        .filter_map(|mark| mark.primed.as_ref().map(|(_, listing)| listing.clone()))
        .collect();
    let timeout = settings.registry.request_timeout;
    let check = EurekaCheck::default();
    find_in_listings(
        settings,
        client,
        &not_found,
        &listings,
        timeout.into(),
        &check,
    )
}

/// Each peer's answer to its last PUT, in peer order.
fn answers_of(marks: &[PeerMark]) -> Vec<Answer> {
    marks.iter().map(|mark| mark.answer.clone()).collect()
}

/// The mark itself: one PUT of `id` to one peer.
fn mark_on_peer(
    settings: &Settings,
    client: &EurekaClient,
    peer: &Peer,
    id: &InstanceId,
) -> Answer {
    let request = mark(&settings.identity.app, id);
    client.answer(peer, &request, settings.registry.request_timeout)
}

/// Which peers the drain watches, and what is known of each before it starts.
fn watch_plan(
    settings: &Settings,
    marks: &[PeerMark],
    id: &InstanceId,
    watch: WatchSettings,
) -> (Evidence, Vec<WatchedPeer>) {
    let mut evidence = Vec::new();
    let mut watched = Vec::new();
    for (index, (peer, peer_mark)) in settings.registry.peers.iter().zip(marks).enumerate() {
        let primed = match &peer_mark.primed {
            Some((at, Ok(instances))) => Ok((*at, Sighting::of(instances, id.as_str()))),
            Some((at, Err(Answer::NotFound))) => Ok((*at, Sighting::Absent)),
            Some((_, Err(answer))) => Err(format!(
                "its app listing could not be read before the mark: {answer}"
            )),
            None => Err("there is no drain".into()),
        };
        let known = match primed {
            _ if !peer_mark.answer.is_accepted() => {
                PeerEvidence::NotWatched("it did not accept the mark".into())
            }
            Err(why) => PeerEvidence::NotWatched(why),
            Ok((primed_at, sighting)) => {
                watched.push(WatchedPeer {
                    index,
                    peer: peer.clone(),
                    watch: PeerWatch::new(
                        sighting,
                        primed_at,
                        peer_mark.marked_at,
                        watch.server_cache,
                    ),
                    source: peer_mark.source,
                });
                PeerEvidence::Watching
            }
        };
        if peer_mark.primed.is_some()
            && let PeerEvidence::NotWatched(why) = &known
        {
            log::info(
                "not_watched",
                &format!("peer {peer} is not watched during the drain: {why}"),
            );
        }
        evidence.push((peer.to_string(), known));
    }
    if !watched.is_empty() {
        log::info(
            "watch_started",
            &format!(
                "watching {} of {} peer(s) for when consumers can see OUT_OF_SERVICE \
                 (the app listing or the delta, once a second until each shows it, then every 5 s \
                 or server cache period until the drain ends)",
                watched.len(),
                settings.registry.peers.len()
            ),
        );
    }
    (Evidence::new(evidence), watched)
}

fn not_marked(settings: &Settings, answers: &[Answer], explanation: Option<String>) -> HookFailed {
    let id = settings.identity.shown_ids();
    let exit = failure_exit(answers);
    let message = match (exit, explanation) {
        (Exit::NotRegistered, Some(why)) => {
            format!("instance {id} is not registered on any peer, so nothing was marked: {why}")
        }
        _ => format!(
            "could not mark instance {id} OUT_OF_SERVICE: {}",
            summary(&settings.registry.peers, answers)
        ),
    };
    HookFailed { exit, message }
}

/// How many peers accepted the mark of `id`; says so when any did (a count, not a test: the
/// caller decides).
fn log_marked(answers: &[Answer], peer_count: usize, id: &InstanceId) -> usize {
    let accepted = answers.iter().filter(|answer| answer.is_accepted()).count();
    if accepted > 0 {
        log::info(
            "marked",
            &format!("instance {id} is OUT_OF_SERVICE on {accepted} of {peer_count} peer(s)"),
        );
    }
    accepted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::clock::fake::FakeClock;
    use crate::exit;
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, FaultPeer, InstanceSpec, ScriptedReply};

    const WATCH: WatchSettings = WatchSettings {
        server_cache: Duration::from_secs(30),
        after_propagation: None,
    };

    /// A fake clock on which SIGTERM has arrived: it ends the drain at once.
    fn signalled() -> &'static FakeClock {
        Box::leak(Box::new(FakeClock::new().signal_at(Duration::ZERO)))
    }

    /// The drain asked for first.
    fn first_window(clock: &FakeClock) -> Duration {
        clock.waits()[0]
    }

    #[test]
    fn prestop_reads_the_listing_marks_and_asks_for_the_whole_drain() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-0", 8080));
        let settings = settings_for(&double.base_url(), &["prestop", "--app", "demo"]);
        let clock = signalled();
        let drain = Duration::from_secs(95);
        let client = EurekaClient::new(None, clock);
        prestop(&settings, &client, clock, drain, WATCH).unwrap();
        let window = first_window(clock);
        assert!(
            window <= drain && window + Duration::from_secs(1) > drain,
            "{window:?}"
        );
        let state = double.instance("demo", "pod-0:demo:8080").unwrap();
        assert_eq!(state.overridden_status, "OUT_OF_SERVICE");
        let sent: Vec<String> = double
            .requests()
            .iter()
            .map(|request| format!("{} {}", request.method, request.path))
            .collect();
        let mut puts = sent[2..4].to_vec();
        puts.sort();
        assert_eq!(
            sent[..2],
            ["GET /eureka/apps/DEMO", "GET /eureka/apps/delta"],
            "the listing and the delta (the watch's two keys) first: {sent:?}"
        );
        assert_eq!(
            puts,
            [
                "PUT /eureka/apps/DEMO/pod-0:demo/status",
                "PUT /eureka/apps/DEMO/pod-0:demo:8080/status"
            ]
        );
        let listing = &double.requests()[0];
        for (name, value) in [
            ("X-Eureka-Accept", "compact"),
            ("Accept-Encoding", "gzip"),
            ("Accept", "application/json"),
        ] {
            assert!(
                listing
                    .headers
                    .iter()
                    .any(|(known, sent)| known.eq_ignore_ascii_case(name) && sent == value),
                "{name}: {:?}",
                listing.headers
            );
        }
    }

    /// When `double` received the PUT it accepted.
    fn accepted_put_at(double: &EurekaDouble) -> Instant {
        let puts: Vec<_> = double
            .requests()
            .into_iter()
            .filter(|request| request.method == "PUT" && request.status == 200)
            .collect();
        assert_eq!(puts.len(), 1, "{puts:?}");
        puts[0].at
    }

    #[test]
    fn a_hanging_peer_delays_no_other_peers_mark_and_costs_one_request_timeout() {
        let silent = FaultPeer::hang();
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-0", 8080));
        let urls = format!("{},{}", silent.base_url(), double.base_url());
        let timeout = Duration::from_secs(1);
        let settings = settings_for(
            &urls,
            &["prestop", "--app", "demo", "--request-timeout", "1s"],
        );
        let client = EurekaClient::new(None, &SystemClock);
        let start = Instant::now();
        let (marks, marked) = mark_out_of_service(&settings, &client, &SystemClock, true);
        let took = start.elapsed();
        assert_eq!(marked.unwrap().as_str(), "pod-0:demo:8080");
        // Before, every PUT waited for every listing: the silent peer's half second at least.
        let put_at = accepted_put_at(&double);
        assert!(
            put_at - start < Duration::from_millis(400),
            "the healthy peer's PUT came {:?} after the start",
            put_at - start
        );
        assert!(marks[1].marked_at >= start && marks[1].marked_at <= put_at);
        assert!(
            marks[0].marked_at - start >= timeout / 2,
            "the silent peer's mark is timed after its own listing gave up"
        );
        assert!(marks[1].answer.is_accepted() && !marks[0].answer.is_accepted());
        // The listing and the PUT together: one request timeout, not a listing budget more.
        assert!(
            took >= timeout && took < timeout + Duration::from_millis(300),
            "{took:?}"
        );
        assert_eq!(
            silent.connections(),
            3,
            "the listing, then the PUT of each of Spring's two ids in turn, each within its equal \
             share of what was left"
        );
    }

    #[test]
    fn each_peer_times_its_mark_from_its_own_put() {
        let slow = EurekaDouble::start();
        let quick = EurekaDouble::start();
        for double in [&slow, &quick] {
            double.register(InstanceSpec::new("demo", "pod-0", 8080));
        }
        let listing_delay = Duration::from_millis(300);
        slow.script(
            ScriptedReply::on("GET", "/apps/DEMO")
                .times(1)
                .delay(listing_delay),
        );
        let urls = format!("{},{}", slow.base_url(), quick.base_url());
        let settings = settings_for(&urls, &["prestop", "--app", "demo"]);
        let client = EurekaClient::new(None, &SystemClock);
        let (marks, marked) = mark_out_of_service(&settings, &client, &SystemClock, true);
        assert!(marked.is_ok());
        for (mark, double) in marks.iter().zip([&slow, &quick]) {
            let put_at = accepted_put_at(double);
            assert!(mark.answer.is_accepted());
            assert!(
                mark.marked_at <= put_at && put_at - mark.marked_at < Duration::from_millis(100),
                "marked at {:?}, the PUT arrived {:?} later",
                mark.marked_at,
                put_at - mark.marked_at
            );
        }
        assert!(
            marks[0].marked_at - marks[1].marked_at >= Duration::from_millis(250),
            "the slow peer's PUT waited for its own listing only"
        );
    }

    #[test]
    fn without_a_drain_prestop_sends_only_the_puts() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-0", 8080));
        let settings = settings_for(&double.base_url(), &["prestop", "--app", "demo"]);
        let clock = signalled();
        let client = EurekaClient::new(None, clock);
        prestop(&settings, &client, clock, Duration::ZERO, WATCH).unwrap();
        let methods: Vec<String> = double
            .requests()
            .iter()
            .map(|request| request.method.clone())
            .collect();
        assert_eq!(methods, ["PUT", "PUT"], "one for each of Spring's ids");
    }

    #[test]
    fn prestop_asks_for_the_drain_even_when_no_peer_answers() {
        let down = FaultPeer::refused();
        let settings = settings_for(
            &down.base_url(),
            &["prestop", "--app", "demo", "--request-timeout", "300ms"],
        );
        let clock = signalled();
        let client = EurekaClient::new(None, clock);
        let drain = Duration::from_secs(30);
        let err = prestop(&settings, &client, clock, drain, WATCH).unwrap_err();
        assert_eq!(exit::from_error(&err), Exit::RegistryFailed);
        let window = first_window(clock);
        assert!(
            window <= drain && window + Duration::from_secs(1) > drain,
            "{window:?}"
        );
    }

    /// A fake clock on which SIGTERM has arrived, except that it panics when a peer's worker
    /// thread reads it.
    struct PanicsInWorkers(&'static FakeClock);

    impl Clock for PanicsInWorkers {
        fn now(&self) -> Instant {
            assert_ne!(
                std::thread::current().name(),
                Some("peer"),
                "a bug in a worker"
            );
            self.0.now()
        }

        fn sleep(&self, pause: Duration) {
            self.0.sleep(pause);
        }

        fn wait(&self, window: Duration) -> crate::clock::Wake {
            self.0.wait(window)
        }

        fn nudger(&self) -> crate::clock::Nudger {
            self.0.nudger()
        }

        fn spawn(&self, name: &str, work: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
            self.0.spawn(name, work)
        }
    }

    #[test]
    fn a_panic_in_a_worker_costs_the_mark_but_not_the_drain() {
        let (double, other) = (EurekaDouble::start(), EurekaDouble::start());
        double.register(InstanceSpec::new("demo", "pod-0", 8080));
        other.register(InstanceSpec::new("demo", "pod-0", 8080));
        // Two peers: each peer's listing and PUTs run in a worker thread of its own.
        let urls = format!("{},{}", double.base_url(), other.base_url());
        let settings = settings_for(&urls, &["prestop", "--app", "demo"]);
        let fake = signalled();
        let clock: &'static PanicsInWorkers = Box::leak(Box::new(PanicsInWorkers(fake)));
        let client = EurekaClient::new(None, clock);
        let drain = Duration::from_secs(30);
        let err = prestop(&settings, &client, clock, drain, WATCH).unwrap_err();
        assert_eq!(exit::from_error(&err), Exit::RegistryFailed);
        assert_eq!(
            err.to_string(),
            "a bug stopped the registry step (see the error line above)"
        );
        let window = first_window(fake);
        assert!(
            window <= drain && window + Duration::from_secs(1) > drain,
            "the whole drain is still asked for: {window:?}"
        );
    }
}
