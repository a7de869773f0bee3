//! The watch's requests during the drain: one thread per watched peer runs its [`PeerWatch`],
//! polls the app listing (the same request, headers and all, that primed the cache), reads the
//! live record when the watch asks, marks the peer again when the mark was lost, logs what it
//! learns and reports it to the drain.
//!
//! Every request is bounded by --request-timeout and by the drain's end. The threads stop when the
//! drain is over (or a signal ended it) and never hold the process: a poll that hangs is left
//! behind when prestop exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;
use std::time::{Duration, Instant};

use super::drain_end::Report;
use super::report::log_peer;
use super::requests::{listing, lookup, mark};
use super::watch::{LiveRecord, PeerWatch, Sighting, Step};
use crate::clock::Clock;
use crate::drain::Nudger;
use crate::eureka::{Answer, EurekaClient, InstanceStatus, shown};
use crate::log::{self, Level};
use crate::settings::Peer;
use crate::values::{AppName, InstanceId};

/// A peer to watch: its index among the peers, and its watch.
pub struct WatchedPeer {
    pub index: usize,
    pub peer: Peer,
    pub watch: PeerWatch,
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
        if let Err(err) = thread::Builder::new()
            .name("watch".into())
            .spawn(move || thread.run(watched))
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
            let (at, step) = match watched.watch.next_step() {
                Step::Done => return,
                step @ (Step::Poll { at } | Step::CheckLive { at }) => (at, step),
            };
            let clock = self.context.clock;
            clock.sleep(at.saturating_duration_since(clock.now()));
            let started = clock.now();
            let budget = self
                .context
                .request_timeout
                .min(self.context.drain_end.saturating_duration_since(started));
            if self.stop.load(Ordering::SeqCst) || budget.is_zero() {
                return;
            }
            match step {
                Step::Poll { .. } => self.poll(&mut watched, started, budget),
                Step::CheckLive { .. } => self.check_live(&mut watched, started, budget),
                Step::Done => return,
            }
        }
    }

    fn poll(&mut self, watched: &mut WatchedPeer, started: Instant, budget: Duration) {
        let context = &self.context;
        let listed = context
            .client
            .instances(&watched.peer, &listing(&context.app), budget);
        let answered = context.clock.now();
        let sighting = match listed {
            Ok(instances) => Some(Sighting::of(&instances, context.id.as_str())),
            Err(Answer::NotFound) => Some(Sighting::Absent),
            Err(answer) => {
                self.failed_polls += 1;
                let level = if self.failed_polls == 1 {
                    Level::Warn
                } else {
                    Level::Debug
                };
                let message = format!(
                    "peer {}: could not read the app listing to watch the mark ({answer}); \
                     trying again every second",
                    watched.peer
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
        if let Some(after) = watched.watch.polled(started, answered, sighting) {
            let tenths = tenths_of_seconds(after);
            let seconds = format!("{}.{}", tenths / 10, tenths % 10);
            log::emit_values(
                Level::Info,
                "propagated",
                &format!(
                    "consumers of {} can see OUT_OF_SERVICE after {seconds} s",
                    watched.peer
                ),
                &[
                    ("instance", context.id.as_str().into()),
                    ("peer", watched.peer.to_string().into()),
                    ("seconds", seconds_value(tenths)),
                ],
            );
            self.report(Report::Seen {
                peer: watched.index,
                at: answered,
            });
        }
    }

    fn check_live(&mut self, watched: &mut WatchedPeer, started: Instant, budget: Duration) {
        let context = &self.context;
        let since_mark = shown(started.saturating_duration_since(watched.watch.marked_at()));
        let request = lookup(&context.app, &context.id);
        let record = match context.client.instance(&watched.peer, &request, budget) {
            Ok(instance) if instance.overridden_status == Some(InstanceStatus::OutOfService) => {
                LiveRecord::MarkKept
            }
            Ok(_) => LiveRecord::MarkLost,
            Err(Answer::NotFound) => LiveRecord::Gone,
            Err(_) => LiveRecord::Unreadable,
        };
        let remark = watched.watch.live_record(started, record);
        let peer = &watched.peer;
        if !remark {
            log::info(
                "watch_waiting",
                &format!(
                    "peer {peer} still shows instance {} to consumers {since_mark} after the mark; \
                     its live record: {}; still watching",
                    context.id,
                    match record {
                        LiveRecord::MarkKept => "OUT_OF_SERVICE (its response cache is late)",
                        LiveRecord::MarkLost => "the mark is lost, but it was marked again already",
                        LiveRecord::Gone => "not registered any more",
                        LiveRecord::Unreadable => "could not be read",
                    }
                ),
            );
            return;
        }
        // After a signal the drain is over: no request may change the registry any more.
        if self.stop.load(Ordering::SeqCst) || context.nudger.signal_arrived() {
            return;
        }
        log::warn(
            "mark_lost",
            &format!(
                "PEER LOST THE MARK: {peer} accepted OUT_OF_SERVICE for instance {} {since_mark} \
                 ago, but still shows it to consumers and its live record has no override any more \
                 (a lost write, a restart or a replication race): marking it again once; the \
                 drain is held in full",
                context.id
            ),
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
        self.report(Report::Remarked {
            peer: watched.index,
        });
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
