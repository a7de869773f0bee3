//! The watch's requests during the drain: one thread per watched peer runs its [`PeerWatch`],
//! polls the key chosen for that peer (the app listing or the delta: the same request, headers
//! and all, that primed the cache; see [`evidence`](super::evidence)) until the drain ends, reads the live record when the watch asks, marks the peer again when the mark was
//! lost, logs what it learns (which peer lost the mark, which got it back by replication) and
//! reports it to the drain.
//!
//! Every request is bounded by --request-timeout and by the drain's end. The threads stop when the
//! drain is over (or a signal ended it) and never hold the process: a poll that hangs is left
//! behind when prestop exits.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use super::end::Report;
use super::evidence::{self, Source};
use super::watch::{LiveRecord, PeerWatch, PollNews, Step};
use crate::clock::{Clock, Nudger};
use crate::eureka::{Answer, Budget, EurekaClient, InstanceStatus, Limit, shown};
use crate::hooks::report::log_peer;
use crate::hooks::requests::{lookup, mark};
use crate::log::{self, Level};
use crate::settings::Peer;
use crate::values::{AppName, InstanceId};

/// A peer to watch: its index among the peers, its watch and the key it is polled on.
pub struct WatchedPeer {
    pub index: usize,
    pub peer: Peer,
    pub watch: PeerWatch,
    pub source: Source,
}

/// What every watching thread shares.
#[derive(Clone)]
pub struct WatchContext {
    pub client: EurekaClient<'static>,
    pub clock: &'static dyn Clock,
    pub app: AppName,
    pub id: InstanceId,
    pub request_timeout: Duration,
    /// No request runs past this instant.
    pub drain_end: Instant,
    /// Wakes the drain when there is news.
    pub nudger: Nudger,
}

/// The running watch; dropping it stops the threads at their next step.
pub struct Polling {
    stop: Arc<AtomicBool>,
    pub reports: Receiver<Report>,
}

impl Polling {
    /// From now on no thread sends another request, and none marks a peer again.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts one thread per peer in `peers`.
pub fn start(context: &WatchContext, peers: Vec<WatchedPeer>) -> Polling {
    let stop = Arc::new(AtomicBool::new(false));
    let (sender, reports) = channel();
    for watched in peers {
        let thread = Watcher {
            context: context.clone(),
            stop: Arc::clone(&stop),
            reports: sender.clone(),
            failed_polls: 0,
        };
        let name = watched.peer.to_string();
        log::emit_values(
            Level::Info,
            "watch_source",
            &format!(
                "peer {name}: polling {} (it cost fewer bytes than the other key when primed)",
                watched.source.shown()
            ),
            &[
                ("peer", name.clone().into()),
                ("source", watched.source.shown().into()),
            ],
        );
        if let Err(err) = context
            .clock
            .spawn("watch", Box::new(move || thread.run(watched)))
        {
            // The peer then never shows the change, so the drain is held in full.
            log::warn(
                "watch_not_started",
                &format!("peer {name}: cannot start its watch ({err})"),
            );
        }
    }
    Polling { stop, reports }
}

struct Watcher {
    context: WatchContext,
    stop: Arc<AtomicBool>,
    reports: Sender<Report>,
    failed_polls: u32,
}

impl Watcher {
    fn run(mut self, mut watched: WatchedPeer) {
        loop {
            let step = watched.watch.next_step();
            let (Step::Poll { at } | Step::CheckLive { at }) = step;
            let clock = self.context.clock;
            clock.sleep(at.saturating_duration_since(clock.now()));
            let started = clock.now();
            let budget = Budget::within(
                self.context.request_timeout,
                self.context.drain_end.saturating_duration_since(started),
                Limit::Drain,
            );
            if self.stop.load(Ordering::SeqCst) || budget.left.is_zero() {
                return;
            }
            let next = match step {
                Step::Poll { .. } => self.poll(&mut watched, started, budget),
                Step::CheckLive { .. } => self.check_live(&mut watched, started, budget),
            };
            if next.is_break() {
                return;
            }
        }
    }

    /// Whether a request that failed at `answered` failed because the drain was over: it ran
    /// out of what was left of the drain, came back after the drain's end, or the drain was
    /// stopped meanwhile. No failure of the peer's, and nothing the drain can use any more.
    fn drain_over(&self, answer: &Answer, answered: Instant) -> bool {
        answer.ran_out() == Some(Limit::Drain)
            || answered >= self.context.drain_end
            || self.stop.load(Ordering::SeqCst)
    }

    fn poll(
        &mut self,
        watched: &mut WatchedPeer,
        started: Instant,
        budget: Budget,
    ) -> ControlFlow<()> {
        let context = &self.context;
        let read = evidence::read(
            &context.client,
            &watched.peer,
            watched.source,
            &context.app,
            &context.id,
            budget,
        );
        let answered = context.clock.now();
        let sighting = match read {
            Ok(sighting) => Some(sighting),
            Err(answer) if self.drain_over(&answer, answered) => return ControlFlow::Break(()),
            Err(answer) => {
                self.failed_polls += 1;
                let level = if self.failed_polls == 1 {
                    Level::Warn
                } else {
                    Level::Debug
                };
                let message = format!(
                    "peer {}: could not read {} to watch the mark ({answer}); trying again",
                    watched.peer,
                    watched.source.shown()
                );
                log_peer(
                    level,
                    "watch_failed",
                    &message,
                    &context.id,
                    &watched.peer,
                    &answer.status_label(),
                );
                None
            }
        };
        match watched.watch.polled(started, answered, sighting) {
            PollNews::Nothing => {}
            PollNews::Seen { after, again } => self.seen(watched, answered, after, again),
            PollNews::Lost => self.lost(watched, started),
        }
        ControlFlow::Continue(())
    }

    /// Consumers of the peer can see the mark (`again`: after they had lost it).
    fn seen(&self, watched: &WatchedPeer, answered: Instant, after: Duration, again: bool) {
        let tenths = tenths_of_seconds(after);
        let seconds = format!("{}.{}", tenths / 10, tenths % 10);
        let (event, message) = if again {
            (
                "propagated_again",
                format!(
                    "consumers of {} can see OUT_OF_SERVICE again, {seconds} s after the first \
                     mark; --after-propagation counts from now",
                    watched.peer
                ),
            )
        } else {
            (
                "propagated",
                format!(
                    "consumers of {} can see OUT_OF_SERVICE after {seconds} s",
                    watched.peer
                ),
            )
        };
        log::emit_values(
            Level::Info,
            event,
            &message,
            &[
                ("instance", self.context.id.as_str().into()),
                ("peer", watched.peer.to_string().into()),
                ("seconds", seconds_value(tenths)),
            ],
        );
        self.report(Report::Seen {
            peer: watched.index,
            at: answered,
        });
    }

    /// Consumers of the peer had seen the mark and now see the instance listed again.
    fn lost(&self, watched: &WatchedPeer, started: Instant) {
        let since_mark = shown(started.saturating_duration_since(watched.watch.marked_at()));
        log::emit_values(
            Level::Warn,
            "mark_lost_after_sighting",
            &format!(
                "PEER LOST THE MARK: consumers of {} see instance {} listed again {since_mark} \
                 after the mark, after they had seen OUT_OF_SERVICE; the earlier sighting no \
                 longer counts; reading its live record",
                watched.peer, self.context.id
            ),
            &[
                ("instance", self.context.id.as_str().into()),
                ("peer", watched.peer.to_string().into()),
            ],
        );
        self.report(Report::Lost {
            peer: watched.index,
        });
    }

    fn check_live(
        &mut self,
        watched: &mut WatchedPeer,
        started: Instant,
        budget: Budget,
    ) -> ControlFlow<()> {
        let context = &self.context;
        let since_mark = shown(started.saturating_duration_since(watched.watch.marked_at()));
        let request = lookup(&context.app, &context.id);
        let record = match context.client.instance(&watched.peer, &request, budget) {
            Ok(instance) if instance.overridden_status == Some(InstanceStatus::OutOfService) => {
                LiveRecord::MarkKept
            }
            Ok(_) => LiveRecord::MarkLost,
            Err(Answer::NotFound) => LiveRecord::Gone,
            Err(answer) if self.drain_over(&answer, context.clock.now()) => {
                return ControlFlow::Break(());
            }
            Err(_) => LiveRecord::Unreadable,
        };
        let after_sighting = watched.watch.lost_after_sighting();
        if !watched.watch.live_record(started, record) {
            if after_sighting {
                self.log_loss_record(watched, record);
                return ControlFlow::Continue(());
            }
            log::info(
                "watch_waiting",
                &format!(
                    "peer {} still shows instance {} to consumers {since_mark} after the mark; \
                     its live record: {}; still watching",
                    watched.peer,
                    context.id,
                    match record {
                        LiveRecord::MarkKept => "OUT_OF_SERVICE (its response cache is late)",
                        LiveRecord::MarkLost => "the mark is lost, but it was marked again already",
                        LiveRecord::Gone => "not registered any more",
                        LiveRecord::Unreadable => "could not be read",
                    }
                ),
            );
            return ControlFlow::Continue(());
        }
        // After a signal the drain is over: no request may change the registry any more.
        if self.stop.load(Ordering::SeqCst) || context.nudger.signal_arrived() {
            return ControlFlow::Break(());
        }
        self.mark_again(watched, &since_mark.to_string(), after_sighting);
        ControlFlow::Continue(())
    }

    /// What the live record of a peer that lost the sighting says, when it is not marked again.
    fn log_loss_record(&self, watched: &WatchedPeer, record: LiveRecord) {
        let (peer, id) = (&watched.peer, &self.context.id);
        let (level, event, message) = match record {
            LiveRecord::MarkKept => (
                Level::Warn,
                "mark_back",
                format!(
                    "peer {peer} has OUT_OF_SERVICE for instance {id} in its live record again \
                     (it got the mark back by replication, or its response cache is late): \
                     waiting for its consumers to see it"
                ),
            ),
            LiveRecord::MarkLost => (
                Level::Warn,
                "mark_lost_again",
                format!(
                    "peer {peer} lost the mark for instance {id} again; it was marked again once \
                     already, so it is left as it is: the drain ends only if its consumers see \
                     OUT_OF_SERVICE again"
                ),
            ),
            LiveRecord::Gone => (
                Level::Info,
                "watch_waiting",
                format!("peer {peer} does not register instance {id} any more; still watching"),
            ),
            LiveRecord::Unreadable => (
                Level::Info,
                "watch_waiting",
                format!(
                    "peer {peer}: the live record of instance {id} could not be read; still watching"
                ),
            ),
        };
        log::emit_values(
            level,
            event,
            &message,
            &[
                ("instance", id.as_str().into()),
                ("peer", peer.to_string().into()),
            ],
        );
    }

    /// The one re-mark of a peer whose live record lost the override, said loudly. Before the
    /// first sighting that holds the drain in full; after it, the next sighting counts again.
    fn mark_again(&self, watched: &WatchedPeer, since_mark: &str, after_sighting: bool) {
        let (context, peer) = (&self.context, &watched.peer);
        let (shown_how, drain) = if after_sighting {
            (
                "showed it to consumers as OUT_OF_SERVICE and then listed again",
                "the drain ends only once its consumers see OUT_OF_SERVICE again",
            )
        } else {
            ("still shows it to consumers", "the drain is held in full")
        };
        log::emit_values(
            Level::Warn,
            "mark_lost",
            &format!(
                "PEER LOST THE MARK: {peer} accepted OUT_OF_SERVICE for instance {} {since_mark} \
                 ago, {shown_how}, and its live record has no override any more (an override \
                 removal, a lost write, a restart or a replication race): marking it again once; \
                 {drain}",
                context.id
            ),
            &[
                ("instance", context.id.as_str().into()),
                ("peer", peer.to_string().into()),
            ],
        );
        let answer = context.client.answer(
            peer,
            &mark(&context.app, &context.id),
            context.request_timeout.min(
                context
                    .drain_end
                    .saturating_duration_since(context.clock.now()),
            ),
        );
        let verdict = if answer.is_accepted() {
            "done"
        } else {
            "failed"
        };
        log_peer(
            Level::Warn,
            "peer_answer",
            &format!("peer {peer}: set OUT_OF_SERVICE again {verdict}: {answer}"),
            &context.id,
            peer,
            &answer.status_label(),
        );
        if !after_sighting {
            self.report(Report::Remarked {
                peer: watched.index,
            });
        }
    }

    fn report(&self, report: Report) {
        // The drain may be over and the receiver gone; then nobody needs the news.
        if self.reports.send(report).is_ok() {
            self.context.nudger.nudge();
        }
    }
}

/// `after` in tenths of a second, rounded.
fn tenths_of_seconds(after: Duration) -> u32 {
    u32::try_from((after.as_millis() + 50) / 100).unwrap_or(u32::MAX)
}

/// Tenths of a second as a JSON number of seconds.
fn seconds_value(tenths: u32) -> serde_json::Value {
    serde_json::Number::from_f64(f64::from(tenths) / 10.0)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::fake::FakeClock;
    use crate::hooks::drain::watch::{REMARK_MARGIN, Sighting, WATCH_AFTER_SIGHTING};
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, InstanceSpec, RecordedRequest};
    use std::sync::mpsc::RecvTimeoutError;

    const ID: &str = "pod-0:demo:8080";
    const LISTING_PATH: &str = "/eureka/apps/DEMO";
    const LOOKUP_PATH: &str = "/eureka/apps/DEMO/pod-0:demo:8080";
    const MARK_PATH: &str = "/eureka/apps/DEMO/pod-0:demo:8080/status";
    /// The server cache the watch is told of; the double's own read-only cache keeps its 30 s.
    const SERVER_CACHE: Duration = Duration::from_secs(10);
    const SECOND: Duration = Duration::from_secs(1);

    /// Instance `ID` registered UP on a fresh double, and its app listing read once (the prime),
    /// so a double with a read-only cache keeps serving that listing.
    fn registered(double: &EurekaDouble, context: &WatchContext) -> Peer {
        double.register(InstanceSpec::new("demo", "pod-0", 8080));
        let settings = settings_for(&double.base_url(), &["prestop", "--app", "demo"]);
        let peer = settings.registry.peers[0].clone();
        let primed = context.client.instances(
            &peer,
            &crate::hooks::requests::listing(&context.app),
            SECOND,
        );
        assert!(primed.is_ok(), "the prime failed: {primed:?}");
        double.clear_requests();
        peer
    }

    /// What the watch threads share, on `clock`, with the drain ending `drain` from now.
    fn context(clock: &'static dyn Clock, drain: Duration) -> WatchContext {
        WatchContext {
            client: EurekaClient::new(None, clock),
            clock,
            app: AppName::parse("demo").unwrap(),
            id: InstanceId::parse(ID).unwrap(),
            request_timeout: Duration::from_secs(5),
            drain_end: clock.now() + drain,
            nudger: clock.nudger(),
        }
    }

    /// Peer 0, primed (showing the instance listed) and marked just now.
    fn watched(peer: Peer, clock: &dyn Clock) -> Vec<WatchedPeer> {
        let now = clock.now();
        vec![WatchedPeer {
            index: 0,
            peer,
            watch: PeerWatch::new(Sighting::Listed, now, now, SERVER_CACHE),
            source: Source::Listing,
        }]
    }

    /// Every report, once all watch threads have ended (within a few real seconds at most).
    fn reports_until_ended(polling: &Polling) -> Vec<Report> {
        let mut reports = Vec::new();
        loop {
            match polling.reports.recv_timeout(Duration::from_secs(10)) {
                Ok(report) => reports.push(report),
                Err(RecvTimeoutError::Disconnected) => return reports,
                Err(RecvTimeoutError::Timeout) => panic!("the watch never ended: {reports:?}"),
            }
        }
    }

    fn sent(requests: &[RecordedRequest]) -> Vec<String> {
        requests
            .iter()
            .map(|request| format!("{} {}", request.method, request.path))
            .collect()
    }

    fn count(sent: &[String], request: &str) -> usize {
        sent.iter().filter(|known| *known == request).count()
    }

    #[test]
    fn a_peer_that_lists_the_instance_out_of_service_is_seen_after_the_first_poll_then_polled_gently()
     {
        let clock = FakeClock::leaked();
        let double = EurekaDouble::builder()
            .response_cache_interval(Duration::ZERO)
            .start();
        let context = context(clock, Duration::from_secs(60));
        let peer = registered(&double, &context);
        assert_eq!(double.set_override("demo", ID, "OUT_OF_SERVICE"), 200);
        let marked_at = clock.now();

        let polling = start(&context, watched(peer, clock));
        // This thread only reads the reports from now on.
        clock.leave();
        let reports = reports_until_ended(&polling);

        assert_eq!(
            reports,
            [Report::Seen {
                peer: 0,
                at: marked_at + SECOND
            }]
        );
        // Polls at 1 s, then every 5 s up to the drain's end (60 s): 1, 6, …, 56.
        let sent = sent(&double.requests());
        assert_eq!(sent, vec![format!("GET {LISTING_PATH}"); 12]);
        let mut pauses = vec![SECOND];
        pauses.extend([WATCH_AFTER_SIGHTING; 12]);
        assert_eq!(
            clock.pauses(),
            pauses,
            "the last pause reaches past the drain's end"
        );
    }

    #[test]
    fn a_peer_that_loses_the_mark_after_the_sighting_is_marked_again_and_seen_again() {
        // Held just before the first gentle poll (6 s), while the test drops the override.
        let clock = FakeClock::leaked();
        let at_gate = gate(clock, SECOND / 2 + WATCH_AFTER_SIGHTING);
        let double = EurekaDouble::builder()
            .response_cache_interval(Duration::ZERO)
            .start();
        let context = context(clock, Duration::from_secs(20));
        let peer = registered(&double, &context);
        assert_eq!(double.set_override("demo", ID, "OUT_OF_SERVICE"), 200);
        let marked_at = clock.now();

        let polling = start(&context, watched(peer, clock));
        // This thread only reads the reports from now on.
        clock.leave();
        at_gate
            .arrived
            .recv_timeout(Duration::from_secs(10))
            .expect("the watch never reached its first gentle poll");
        // The override removed, and the instance's next heartbeat registers it UP again.
        assert_eq!(
            double.lose_override(&InstanceSpec::new("demo", "pod-0", 8080)),
            404
        );
        at_gate.release.send(()).unwrap();
        let reports = reports_until_ended(&polling);

        assert_eq!(
            reports,
            [
                Report::Seen {
                    peer: 0,
                    at: marked_at + SECOND
                },
                Report::Lost { peer: 0 },
                // The live record at 7 s, the PUT, and the poll at 8 s sees it again.
                Report::Seen {
                    peer: 0,
                    at: marked_at + 8 * SECOND
                },
            ]
        );
        let sent = sent(&double.requests());
        assert_eq!(count(&sent, &format!("PUT {MARK_PATH}")), 1, "{sent:?}");
        assert_eq!(count(&sent, &format!("GET {LOOKUP_PATH}")), 1, "{sent:?}");
        assert_eq!(
            double.instance("demo", ID).unwrap().overridden_status,
            "OUT_OF_SERVICE"
        );
    }

    #[test]
    fn a_peer_that_lost_the_mark_is_marked_again_once_and_nothing_is_sent_past_the_drain() {
        let clock = FakeClock::leaked();
        // The double's read-only cache refreshes every 30 real seconds: the listing stays UP.
        let double = EurekaDouble::start();
        let drain = Duration::from_secs(25);
        let context = context(clock, drain);
        let peer = registered(&double, &context);
        let marked_at = clock.now();

        let polling = start(&context, watched(peer, clock));
        // This thread only reads the reports from now on.
        clock.leave();
        let reports = reports_until_ended(&polling);

        assert_eq!(reports, [Report::Remarked { peer: 0 }]);
        let sent = sent(&double.requests());
        let gets = sent.iter().filter(|line| line.starts_with("GET ")).count();
        assert_eq!(count(&sent, &format!("PUT {MARK_PATH}")), 1, "{sent:?}");
        assert_eq!(count(&sent, &format!("GET {LOOKUP_PATH}")), 1, "{sent:?}");
        assert_eq!(gets + 1, sent.len(), "only GETs and the one PUT: {sent:?}");
        assert!(gets as u64 <= drain.as_secs() + 2, "{gets} GETs: {sent:?}");
        // Each GET waited a whole fake second after the one before (the clock moves only when the
        // thread sleeps), so the n-th GET went out n seconds after the mark.
        let pauses = clock.pauses();
        assert!(pauses.iter().all(|pause| *pause == SECOND), "{pauses:?}");
        // One pause before each GET and a last one to the drain's end, where the thread stopped.
        assert_eq!(pauses.len(), gets + 1, "{pauses:?}");
        assert_eq!(clock.now(), context.drain_end);
        // The first poll at or after cache + margin (15 s) still listed it: the live record was
        // read at the next slot, and the PUT went out right after it.
        let lookup = sent
            .iter()
            .position(|line| *line == format!("GET {LOOKUP_PATH}"))
            .unwrap();
        let lookup_at = SECOND * u32::try_from(lookup + 1).unwrap();
        assert_eq!(lookup_at, SERVER_CACHE + REMARK_MARGIN + SECOND, "{sent:?}");
        assert_eq!(sent[lookup + 1], format!("PUT {MARK_PATH}"));
        assert!(marked_at + lookup_at < context.drain_end);
        assert_eq!(
            double.instance("demo", ID).unwrap().overridden_status,
            "OUT_OF_SERVICE"
        );
    }

    /// Time held at a virtual instant: `arrived` says it got there, and it goes on once the test
    /// sends on (or drops) `release`.
    struct Gate {
        arrived: Receiver<()>,
        release: Sender<()>,
    }

    fn gate(clock: &'static FakeClock, at: Duration) -> Gate {
        let (arrived, at_gate) = channel();
        let (release, released) = channel::<()>();
        clock.at(at, move || {
            let _ = arrived.send(());
            let _ = released.recv();
        });
        Gate {
            arrived: at_gate,
            release,
        }
    }

    #[test]
    fn after_stop_the_live_record_is_not_read_and_the_peer_not_marked_again() {
        // Held on the way to the live record's slot, 16 s after the mark.
        let slot = SERVER_CACHE + REMARK_MARGIN + SECOND;
        let clock = FakeClock::leaked();
        let at_gate = gate(clock, SERVER_CACHE + REMARK_MARGIN + SECOND / 2);
        let double = EurekaDouble::start();
        let context = context(clock, Duration::from_secs(60));
        let peer = registered(&double, &context);

        let polling = start(&context, watched(peer, clock));
        // This thread only reads the reports from now on.
        clock.leave();
        at_gate
            .arrived
            .recv_timeout(Duration::from_secs(10))
            .expect("the watch never reached the live record's slot");
        polling.stop();
        at_gate.release.send(()).unwrap();
        let reports = reports_until_ended(&polling);

        assert_eq!(reports, []);
        let sent = sent(&double.requests());
        let polls = (SERVER_CACHE + REMARK_MARGIN).as_secs();
        assert_eq!(
            sent,
            vec![format!("GET {LISTING_PATH}"); usize::try_from(polls).unwrap()],
            "the polls up to the live record's slot, and nothing after the stop"
        );
        assert_eq!(
            clock.elapsed(),
            slot,
            "the watch ended where it was stopped"
        );
    }

    #[test]
    fn after_a_signal_a_lost_mark_is_read_but_the_peer_not_marked_again() {
        let clock: &'static FakeClock =
            Box::leak(Box::new(FakeClock::new().signal_at(Duration::ZERO)));
        let double = EurekaDouble::start();
        let drain = Duration::from_secs(25);
        let context = context(clock, drain);
        let peer = registered(&double, &context);

        let polling = start(&context, watched(peer, clock));
        // This thread only reads the reports from now on.
        clock.leave();
        let reports = reports_until_ended(&polling);

        assert_eq!(reports, []);
        let sent = sent(&double.requests());
        assert_eq!(count(&sent, &format!("GET {LOOKUP_PATH}")), 1, "{sent:?}");
        assert!(
            sent.iter().all(|line| line.starts_with("GET ")),
            "no PUT after the signal: {sent:?}"
        );
        assert_eq!(
            double.instance("demo", ID).unwrap().overridden_status,
            "UNKNOWN"
        );
    }
}
