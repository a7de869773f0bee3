//! Holding the drain, and when it ends: the whole --drain; or, with --after-propagation, that long
//! after the last watched peer showed the change to consumers, never later than --drain, and only
//! when every peer was watched to the end and none had to be marked again before it first showed
//! the change. A peer that loses the change after showing it counts again only from its next
//! sighting. SIGTERM or SIGINT end it at once. The watch's news arrives as [`Report`]s; what it amounts to is [`Evidence`].

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use crate::clock::{Clock, Wake, later};
use crate::eureka::shown;
use crate::inbound::InboundWatch;
use crate::log;

/// News from a peer's watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// Consumers of peer `peer` (its index) can see `OUT_OF_SERVICE` since `at`.
    Seen { peer: usize, at: Instant },
    /// Peer `peer` had lost the mark and was marked again.
    Remarked { peer: usize },
    /// Consumers of peer `peer` had seen `OUT_OF_SERVICE` and see the instance listed again.
    Lost { peer: usize },
}

/// What is known of one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerEvidence {
    /// Not watched, and why.
    NotWatched(String),
    /// Watched; consumers may not see the change yet.
    Watching,
    /// Consumers can see `OUT_OF_SERVICE` since then.
    Seen(Instant),
    /// It lost the mark and was marked again: its consumers saw the instance UP for longer.
    Remarked,
    /// Consumers saw the change, then the instance listed again, and not the change since.
    Lost,
}

/// What the watch has shown so far, peer by peer (named for the log).
#[derive(Clone, Debug)]
pub struct Evidence {
    peers: Vec<(String, PeerEvidence)>,
}

impl Evidence {
    pub fn new(peers: Vec<(String, PeerEvidence)>) -> Evidence {
        Evidence { peers }
    }

    pub fn record(&mut self, report: Report) {
        let (peer, evidence) = match report {
            Report::Seen { peer, at } => (peer, PeerEvidence::Seen(at)),
            Report::Remarked { peer } => (peer, PeerEvidence::Remarked),
            Report::Lost { peer } => (peer, PeerEvidence::Lost),
        };
        if let Some((_, known)) = self.peers.get_mut(peer) {
            // A re-marked peer stays re-marked when it shows the change later.
            if *known != PeerEvidence::Remarked {
                *known = evidence;
            }
        }
    }

    /// When consumers of every peer could see the change, if they all can.
    fn last_seen(&self) -> Option<Instant> {
        self.peers
            .iter()
            .map(|(_, evidence)| match evidence {
                PeerEvidence::Seen(at) => Some(*at),
                _ => None,
            })
            .try_fold(None, |latest: Option<Instant>, seen| {
                seen.map(|at| Some(latest.map_or(at, |latest| latest.max(at))))
            })
            .flatten()
    }

    /// When the drain ends with what is known now.
    pub fn end(&self, drain_end: Instant, after_propagation: Option<Duration>) -> Instant {
        match (after_propagation, self.last_seen()) {
            (Some(after), Some(last_seen)) => drain_end.min(later(last_seen, after)),
            _ => drain_end,
        }
    }

    /// Why the drain cannot end before --drain, peer by peer.
    pub fn why_held_in_full(&self) -> String {
        let reasons: Vec<String> = self
            .peers
            .iter()
            .filter_map(|(peer, evidence)| match evidence {
                PeerEvidence::NotWatched(why) => Some(format!("{peer} was not watched ({why})")),
                PeerEvidence::Watching => Some(format!("{peer} never showed the change")),
                PeerEvidence::Remarked => Some(format!("{peer} had lost the mark")),
                PeerEvidence::Lost => Some(format!(
                    "{peer} lost the change after showing it and did not show it again"
                )),
                PeerEvidence::Seen(_) => None,
            })
            .collect();
        match (reasons.is_empty(), self.peers.is_empty()) {
            (false, _) => reasons.join("; "),
            (true, true) => "no peer could be watched".into(),
            (true, false) => "every peer showed the change, but too late for --after-propagation \
                              to end the drain sooner"
                .into(),
        }
    }
}

/// How the drain ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The whole --drain passed.
    Full,
    /// --after-propagation after the last peer showed the change, `after` into the drain.
    Early {
        after: Duration,
        last_seen: Duration,
    },
    /// A signal ended it after `after`.
    CutShort {
        after: Duration,
        signal: &'static str,
    },
}

/// Holds the pod for `drain`, or less as the evidence that `reports` bring allows (but not while
/// `inbound` traffic keeps --until-quiet from being met), and logs it.
pub fn hold_drain(
    clock: &dyn Clock,
    drain: Duration,
    after_propagation: Option<Duration>,
    evidence: &mut Evidence,
    reports: &Receiver<Report>,
    inbound: Option<&InboundWatch>,
) -> Ended {
    let window = humantime::format_duration(drain);
    let how = match after_propagation {
        Some(after) => format!(
            "at most {window}, until {} after every peer shows the change to consumers",
            humantime::format_duration(after)
        ),
        None => window.to_string(),
    };
    log::info(
        "drain_started",
        &format!(
            "holding the pod for {how} so consumers stop routing to it (SIGTERM or SIGINT ends this early)"
        ),
    );
    let started = clock.now();
    let ended = hold(
        clock,
        later(started, drain),
        after_propagation,
        evidence,
        reports,
        inbound,
    );
    match ended {
        Ended::Full if after_propagation.is_some() => log::info(
            "drain_finished",
            &format!(
                "drain of {window} held in full: {}",
                evidence.why_held_in_full()
            ),
        ),
        Ended::Full => log::info("drain_finished", &format!("drain of {window} held")),
        Ended::Early { after, last_seen } => log::info(
            "drain_finished",
            &format!(
                "drain ended after {} of {window}: every peer showed the change by {} into it, \
                 and --after-propagation has passed since",
                shown(after),
                shown(last_seen),
            ),
        ),
        Ended::CutShort { after, signal } => log::warn(
            "drain_cut_short",
            &format!(
                "drain cut short by {signal} after {} of {window}",
                shown(after)
            ),
        ),
    }
    ended
}

fn hold(
    clock: &dyn Clock,
    drain_end: Instant,
    after_propagation: Option<Duration>,
    evidence: &mut Evidence,
    reports: &Receiver<Report>,
    inbound: Option<&InboundWatch>,
) -> Ended {
    let started = clock.now();
    loop {
        for report in reports.try_iter() {
            evidence.record(report);
        }
        let end = evidence.end(drain_end, after_propagation);
        let end = inbound.map_or(end, |inbound| inbound.end(end, drain_end));
        let now = clock.now();
        if now >= end {
            return if end < drain_end {
                Ended::Early {
                    after: now.duration_since(started),
                    last_seen: evidence.last_seen().map_or(Duration::ZERO, |seen| {
                        seen.saturating_duration_since(started)
                    }),
                }
            } else {
                Ended::Full
            };
        }
        if let Wake::Signal(signal) = clock.wait(end.saturating_duration_since(now)) {
            return Ended::CutShort {
                after: clock.now().duration_since(started),
                signal,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::fake::FakeClock;
    use std::sync::mpsc::channel;

    const DRAIN: Duration = Duration::from_secs(100);
    const AFTER: Duration = Duration::from_secs(70);

    fn evidence(peers: &[PeerEvidence]) -> Evidence {
        Evidence::new(
            peers
                .iter()
                .enumerate()
                .map(|(n, evidence)| (format!("http://peer-{n}/eureka/"), evidence.clone()))
                .collect(),
        )
    }

    /// Holds a drain on a fake clock, with `reports` already sent.
    fn held(
        mut evidence: Evidence,
        after: Option<Duration>,
        reports: impl Fn(Instant) -> Vec<Report>,
    ) -> (Ended, Vec<Duration>, Evidence) {
        let clock = FakeClock::new();
        let (sender, receiver) = channel();
        for report in reports(clock.now()) {
            sender.send(report).unwrap();
        }
        let ended = hold_drain(&clock, DRAIN, after, &mut evidence, &receiver, None);
        (ended, clock.waits(), evidence)
    }

    fn seen(peer: usize, start: Instant, seconds: u64) -> Report {
        Report::Seen {
            peer,
            at: start + Duration::from_secs(seconds),
        }
    }

    #[test]
    fn without_after_propagation_the_whole_drain_is_held_whatever_the_watch_saw() {
        let (ended, windows, _) = held(
            evidence(&[PeerEvidence::Watching, PeerEvidence::Watching]),
            None,
            |start| vec![seen(0, start, 3), seen(1, start, 5)],
        );
        assert_eq!(ended, Ended::Full);
        assert_eq!(windows, [DRAIN]);
    }

    #[test]
    fn after_propagation_ends_the_drain_that_long_after_the_last_peer_showed_the_change() {
        let (ended, windows, _) = held(
            evidence(&[PeerEvidence::Watching, PeerEvidence::Watching]),
            Some(AFTER),
            |start| vec![seen(1, start, 12), seen(0, start, 3)],
        );
        assert_eq!(
            ended,
            Ended::Early {
                after: Duration::from_secs(82),
                last_seen: Duration::from_secs(12)
            }
        );
        assert_eq!(windows, [Duration::from_secs(82)]);
    }

    #[test]
    fn after_propagation_never_holds_longer_than_the_drain() {
        let (ended, windows, _) = held(evidence(&[PeerEvidence::Watching]), Some(AFTER), |start| {
            vec![seen(0, start, 40)]
        });
        assert_eq!(ended, Ended::Full);
        assert_eq!(windows, [DRAIN]);
    }

    #[test]
    fn a_peer_not_watched_not_seen_or_marked_again_holds_the_whole_drain() {
        for other in [
            PeerEvidence::NotWatched("it did not accept the mark".into()),
            PeerEvidence::Watching,
        ] {
            let (ended, _, evidence) = held(
                evidence(&[PeerEvidence::Watching, other.clone()]),
                Some(AFTER),
                |start| vec![seen(0, start, 2)],
            );
            assert_eq!(ended, Ended::Full, "{other:?}");
            assert!(
                evidence
                    .why_held_in_full()
                    .starts_with("http://peer-1/eureka/ "),
                "{}",
                evidence.why_held_in_full()
            );
        }
        let (ended, _, evidence) =
            held(evidence(&[PeerEvidence::Watching]), Some(AFTER), |start| {
                vec![Report::Remarked { peer: 0 }, seen(0, start, 45)]
            });
        assert_eq!(ended, Ended::Full);
        assert_eq!(
            evidence.why_held_in_full(),
            "http://peer-0/eureka/ had lost the mark"
        );
    }

    #[test]
    fn a_drain_held_in_full_always_says_why() {
        assert_eq!(
            Evidence::new(Vec::new()).why_held_in_full(),
            "no peer could be watched"
        );
        let seen = Evidence::new(vec![("a".into(), PeerEvidence::Seen(Instant::now()))]);
        assert!(
            seen.why_held_in_full()
                .starts_with("every peer showed the change")
        );
    }

    #[test]
    fn a_peer_that_loses_the_change_counts_again_from_its_next_sighting() {
        let (ended, windows, _) = held(
            evidence(&[PeerEvidence::Watching, PeerEvidence::Watching]),
            Some(Duration::from_secs(20)),
            |start| {
                vec![
                    seen(0, start, 2),
                    seen(1, start, 3),
                    Report::Lost { peer: 0 },
                    seen(0, start, 30),
                ]
            },
        );
        assert_eq!(
            ended,
            Ended::Early {
                after: Duration::from_secs(50),
                last_seen: Duration::from_secs(30)
            }
        );
        assert_eq!(windows, [Duration::from_secs(50)]);
        let (ended, _, evidence) = held(
            evidence(&[PeerEvidence::Watching]),
            Some(Duration::from_secs(20)),
            |start| vec![seen(0, start, 2), Report::Lost { peer: 0 }],
        );
        assert_eq!(ended, Ended::Full);
        assert_eq!(
            evidence.why_held_in_full(),
            "http://peer-0/eureka/ lost the change after showing it and did not show it again"
        );
    }

    #[test]
    fn a_signal_ends_the_drain_at_once() {
        let signal_after = Duration::from_secs(7);
        let clock = FakeClock::new().signal_at(signal_after);
        let (_sender, receiver) = channel();
        let mut evidence = evidence(&[PeerEvidence::Watching]);
        let ended = hold_drain(&clock, DRAIN, Some(AFTER), &mut evidence, &receiver, None);
        assert_eq!(
            ended,
            Ended::CutShort {
                after: signal_after,
                signal: "SIGTERM"
            }
        );
        assert_eq!(clock.waits(), [DRAIN]);
    }
}
