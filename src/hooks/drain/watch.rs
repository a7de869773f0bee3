//! One peer's watch during the drain, as a state machine: when to poll the app listing, when a poll
//! shows that consumers of the peer can see `OUT_OF_SERVICE`, when they stop seeing it, and when
//! to check the live record for a mark the peer lost. It does no I/O and reads no clock: the caller
//! passes every instant, so tests run it on made-up times.
//!
//! Why the listing: `GET apps/{APP}` is served from the same read-only response cache as the
//! `apps/delta` consumers fetch, and flips in the same refresh, provided its cache key was already
//! in the cache before the mark (a key not cached yet reads through to fresh data). The prime, the
//! listing fetched just before the PUT with the same headers, puts it there.
//!
//! Why the watch goes on after the sighting: the mark can still be lost (an override removed, then
//! the instance's next heartbeat registers it `UP` again), and consumers then route to the pod
//! again. So the peer is polled, more gently, until the drain ends; a poll that lists the instance
//! again takes the sighting back, and the live record is read once for that loss.

use std::time::{Duration, Instant};

use crate::eureka::{Instance, InstanceStatus};

/// Never two GETs to one peer closer together than this.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// After the sighting, polls come every server cache period (a loss shows in the listing at a
/// refresh), but at least this often and never more than once a [`POLL_INTERVAL`].
pub const WATCH_AFTER_SIGHTING: Duration = Duration::from_secs(5);
/// How long past one server cache period a peer may still show the instance listed before its live
/// record is checked.
pub const REMARK_MARGIN: Duration = Duration::from_secs(5);

/// This instance in one answer of the app listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sighting {
    /// Listed as `OUT_OF_SERVICE`.
    OutOfService,
    /// Not listed, or the app is unknown: consumers cannot route to it.
    Absent,
    /// Listed with another status: consumers may still route to it.
    Listed,
    /// Not mentioned in the delta: it did not change lately, so it shows what it showed before.
    Unmentioned,
}

impl Sighting {
    /// This instance in `listing`.
    pub fn of(listing: &[Instance], id: &str) -> Sighting {
        match listing.iter().find(|instance| instance.id == id) {
            None => Sighting::Absent,
            Some(instance) if instance.status == InstanceStatus::OutOfService => {
                Sighting::OutOfService
            }
            Some(_) => Sighting::Listed,
        }
    }

    fn shows_the_mark(self) -> bool {
        matches!(self, Sighting::OutOfService | Sighting::Absent)
    }
}

/// What the live record (`GET apps/{APP}/{ID}`, read from the registry itself) says of the mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveRecord {
    /// The `OUT_OF_SERVICE` override is there: the cache has just not caught up yet.
    MarkKept,
    /// The instance is registered without the override: the mark was lost.
    MarkLost,
    /// The instance is not registered any more; the listing will drop it.
    Gone,
    /// The record could not be read.
    Unreadable,
}

/// What the watch wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Poll the app listing at this instant.
    Poll { at: Instant },
    /// Read the live record at this instant.
    CheckLive { at: Instant },
}

/// What one poll taught.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollNews {
    /// Nothing that changes the evidence.
    Nothing,
    /// Consumers can see the mark, `after` the mark was sent; `again` when they had seen it
    /// before and then lost it.
    Seen { after: Duration, again: bool },
    /// Consumers had seen the mark and see the instance listed again: the sighting no longer
    /// counts.
    Lost,
}

/// One watched peer.
#[derive(Clone, Debug)]
pub struct PeerWatch {
    marked_at: Instant,
    /// A sighting counts from this instant on: the mark, or one cache period after it when the
    /// instance already showed `OUT_OF_SERVICE` before the mark (an earlier mark that may not have
    /// reached consumers yet looks the same).
    counts_from: Instant,
    /// A poll from this instant on that still lists the instance leads to the live record.
    check_live_from: Instant,
    /// When the last GET to this peer started (the prime, at first).
    last_get_at: Instant,
    /// The pause between polls once consumers see the mark.
    after_sighting: Duration,
    listed_late: bool,
    live_checked: bool,
    remarked: bool,
    shown: Shown,
}

/// Whether consumers of the peer see the mark, as of the last poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shown {
    /// Not seen yet.
    NotYet,
    /// They see it.
    Now,
    /// They saw it, then the instance listed again, and have not seen it since.
    Lost,
}

impl PeerWatch {
    /// A watch of a peer that was primed at `primed_at` (seeing `primed`) and accepted the mark
    /// sent at `marked_at`; `server_cache` is the registry's response cache refresh interval.
    pub fn new(
        primed: Sighting,
        primed_at: Instant,
        marked_at: Instant,
        server_cache: Duration,
    ) -> PeerWatch {
        PeerWatch {
            marked_at,
            counts_from: if primed == Sighting::OutOfService {
                marked_at + server_cache
            } else {
                marked_at
            },
            check_live_from: marked_at + server_cache + REMARK_MARGIN,
            last_get_at: primed_at,
            after_sighting: server_cache.clamp(POLL_INTERVAL, WATCH_AFTER_SIGHTING),
            listed_late: false,
            live_checked: false,
            remarked: false,
            shown: Shown::NotYet,
        }
    }

    pub fn next_step(&self) -> Step {
        if self.shown == Shown::Now {
            return Step::Poll {
                at: self.last_get_at + self.after_sighting,
            };
        }
        let slot = self.last_get_at + POLL_INTERVAL;
        if self.listed_late && !self.live_checked {
            Step::CheckLive { at: slot }
        } else {
            Step::Poll {
                at: slot.max(self.counts_from),
            }
        }
    }

    /// Takes in a poll that started at `started` and was answered at `answered` (`None`: it
    /// failed), and says what it changes.
    pub fn polled(
        &mut self,
        started: Instant,
        answered: Instant,
        sighting: Option<Sighting>,
    ) -> PollNews {
        self.last_get_at = started;
        match sighting {
            Some(sighting) if sighting.shows_the_mark() && started >= self.counts_from => {
                let before = std::mem::replace(&mut self.shown, Shown::Now);
                if before == Shown::Now {
                    return PollNews::Nothing;
                }
                // The answer time, not the start: the refresh may have come while it travelled.
                PollNews::Seen {
                    after: answered.saturating_duration_since(self.marked_at),
                    again: before == Shown::Lost,
                }
            }
            Some(Sighting::Listed) if self.shown == Shown::Now => {
                self.shown = Shown::Lost;
                // This loss gets its own look at the live record, at the next slot.
                self.listed_late = true;
                self.live_checked = false;
                PollNews::Lost
            }
            // A mark the peer took would be in its delta by now.
            Some(Sighting::Listed | Sighting::Unmentioned)
                if self.shown == Shown::NotYet && started >= self.check_live_from =>
            {
                self.listed_late = true;
                PollNews::Nothing
            }
            _ => PollNews::Nothing,
        }
    }

    /// Takes in the live record read at `started`. Returns whether to mark the peer again: only
    /// when the mark was lost, and only once per drain.
    pub fn live_record(&mut self, started: Instant, record: LiveRecord) -> bool {
        self.last_get_at = started;
        self.live_checked = true;
        let remark = record == LiveRecord::MarkLost && !self.remarked;
        self.remarked |= remark;
        remark
    }

    pub fn marked_at(&self) -> Instant {
        self.marked_at
    }

    /// Whether consumers had seen the mark and have not seen it again since they lost it.
    pub fn lost_after_sighting(&self) -> bool {
        self.shown == Shown::Lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CACHE: Duration = Duration::from_secs(30);

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// Primed at 0 s, marked at 0.1 s.
    fn watch(primed: Sighting) -> (Instant, PeerWatch) {
        let zero = Instant::now();
        (zero, PeerWatch::new(primed, zero, zero + ms(100), CACHE))
    }

    /// Runs polls that each take `latency` and answer what `sighting_at` says for the time the
    /// poll starts, until the watch is done or wants the live record; returns the seconds logged
    /// and the poll start times.
    fn poll_until_done(
        zero: Instant,
        watch: &mut PeerWatch,
        latency: Duration,
        sighting_at: impl Fn(Duration) -> Option<Sighting>,
    ) -> (Option<Duration>, Vec<Duration>) {
        let mut starts = Vec::new();
        while let Step::Poll { at } = watch.next_step() {
            starts.push(at - zero);
            if let PollNews::Seen { after, .. } =
                watch.polled(at, at + latency, sighting_at(at - zero))
            {
                return (Some(after), starts);
            }
            assert!(starts.len() < 100, "the watch never ended");
        }
        (None, starts)
    }

    #[test]
    fn polls_come_once_a_second_after_the_prime_and_stop_once_the_mark_shows() {
        let (zero, mut watch) = watch(Sighting::Listed);
        // The cache refreshes 12.5 s in.
        let (seen, starts) = poll_until_done(zero, &mut watch, ms(50), |at| {
            Some(if at >= ms(12500) {
                Sighting::OutOfService
            } else {
                Sighting::Listed
            })
        });
        let expected: Vec<Duration> = (1..=13).map(|n| ms(n * 1000)).collect();
        assert_eq!(starts, expected);
        // From the mark (0.1 s) to the answer of the 13 s poll (13.05 s): within a poll of 12.4 s.
        assert_eq!(seen, Some(ms(12950)));
        // From then on, every 5 s (the server cache is 30 s).
        assert_eq!(
            watch.next_step(),
            Step::Poll {
                at: zero + ms(18000)
            }
        );
    }

    #[test]
    fn a_slow_poll_is_followed_at_once_but_never_by_two_in_one_second() {
        let (zero, mut watch) = watch(Sighting::Listed);
        let Step::Poll { at } = watch.next_step() else {
            panic!("no poll")
        };
        // This poll took 3 s: the next one may start right after it, as it is 3 s after the last.
        assert_eq!(watch.polled(at, at + ms(3000), None), PollNews::Nothing);
        assert_eq!(watch.next_step(), Step::Poll { at: at + ms(1000) });
        assert_eq!(at - zero, ms(1000));
    }

    #[test]
    fn an_absent_instance_counts_as_seen() {
        let (_, mut watch) = watch(Sighting::Listed);
        let Step::Poll { at } = watch.next_step() else {
            panic!("no poll")
        };
        assert_eq!(
            watch.polled(at, at + ms(100), Some(Sighting::Absent)),
            PollNews::Seen {
                after: ms(1000),
                again: false
            }
        );
    }

    #[test]
    fn a_server_without_response_cache_shows_the_mark_on_the_first_poll() {
        let (zero, mut watch) = watch(Sighting::Listed);
        let (seen, starts) =
            poll_until_done(zero, &mut watch, ms(10), |_| Some(Sighting::OutOfService));
        assert_eq!(starts, [ms(1000)]);
        assert_eq!(seen, Some(ms(910)));
    }

    #[test]
    fn an_instance_already_out_of_service_before_the_mark_counts_one_cache_period_after_it() {
        let (zero, mut watch) = watch(Sighting::OutOfService);
        let (seen, starts) =
            poll_until_done(zero, &mut watch, ms(20), |_| Some(Sighting::OutOfService));
        // No polls in between: they could not tell anything.
        assert_eq!(starts, [ms(30100)]);
        assert_eq!(seen, Some(ms(30020)));
    }

    #[test]
    fn a_peer_still_listing_it_after_cache_plus_margin_has_its_live_record_checked_once() {
        let (zero, mut watch) = watch(Sighting::Listed);
        let (seen, starts) = poll_until_done(zero, &mut watch, ms(10), |_| Some(Sighting::Listed));
        assert_eq!(seen, None);
        // The first poll at or after 35.1 s (the 36 s one) still listed it.
        assert_eq!(starts.last(), Some(&ms(36000)));
        let Step::CheckLive { at } = watch.next_step() else {
            panic!("no live check: {:?}", watch.next_step())
        };
        assert_eq!(at - zero, ms(37000));
        assert!(watch.live_record(at, LiveRecord::MarkLost), "mark again");
        // Polling goes on, one GET a second, and the live record is not read again.
        assert_eq!(watch.next_step(), Step::Poll { at: at + ms(1000) });
        let (seen, _) = poll_until_done(zero, &mut watch, ms(10), |at| {
            Some(if at >= ms(60000) {
                Sighting::OutOfService
            } else {
                Sighting::Listed
            })
        });
        assert_eq!(seen, Some(ms(59910)), "counted from the first mark");
    }

    #[test]
    fn a_kept_mark_a_gone_instance_or_an_unreadable_record_is_not_marked_again() {
        for record in [
            LiveRecord::MarkKept,
            LiveRecord::Gone,
            LiveRecord::Unreadable,
        ] {
            let (zero, mut watch) = watch(Sighting::Listed);
            poll_until_done(zero, &mut watch, ms(10), |_| Some(Sighting::Listed));
            let Step::CheckLive { at } = watch.next_step() else {
                panic!("no live check")
            };
            assert!(!watch.live_record(at, record), "{record:?}");
            assert!(matches!(watch.next_step(), Step::Poll { .. }), "{record:?}");
        }
    }

    #[test]
    fn failed_polls_neither_count_as_seen_nor_lead_to_the_live_record() {
        let (zero, mut watch) = watch(Sighting::Listed);
        for _ in 0..60 {
            let Step::Poll { at } = watch.next_step() else {
                panic!("not polling")
            };
            assert_eq!(watch.polled(at, at + ms(500), None), PollNews::Nothing);
        }
        assert_eq!(
            watch.next_step(),
            Step::Poll {
                at: zero + ms(61000)
            }
        );
    }

    /// Polls the watch once at its next step, which must be a poll at `expected` (from `zero`).
    fn poll_at(
        zero: Instant,
        watch: &mut PeerWatch,
        expected: Duration,
        sighting: Sighting,
    ) -> PollNews {
        assert_eq!(
            watch.next_step(),
            Step::Poll {
                at: zero + expected
            }
        );
        let at = zero + expected;
        watch.polled(at, at + ms(50), Some(sighting))
    }

    #[test]
    fn after_the_sighting_a_listed_instance_takes_it_back_and_a_new_sighting_counts_again() {
        let (zero, mut watch) = watch(Sighting::Listed);
        let (seen, _) = poll_until_done(zero, &mut watch, ms(50), |_| Some(Sighting::OutOfService));
        assert_eq!(seen, Some(ms(950)));
        // Gently: every 5 s, and a poll that still shows the mark changes nothing.
        let news = poll_at(zero, &mut watch, ms(6000), Sighting::Absent);
        assert_eq!(news, PollNews::Nothing);
        assert!(!watch.lost_after_sighting());
        let news = poll_at(zero, &mut watch, ms(11000), Sighting::Listed);
        assert_eq!(news, PollNews::Lost);
        assert!(watch.lost_after_sighting());
        // The live record a second later, then polls once a second again.
        assert_eq!(
            watch.next_step(),
            Step::CheckLive {
                at: zero + ms(12000)
            }
        );
        assert!(
            watch.live_record(zero + ms(12000), LiveRecord::MarkLost),
            "mark again"
        );
        let news = poll_at(zero, &mut watch, ms(13000), Sighting::Listed);
        assert_eq!(news, PollNews::Nothing);
        let news = poll_at(zero, &mut watch, ms(14000), Sighting::OutOfService);
        assert_eq!(
            news,
            PollNews::Seen {
                after: ms(13950),
                again: true
            }
        );
        assert!(!watch.lost_after_sighting());
        assert_eq!(
            watch.next_step(),
            Step::Poll {
                at: zero + ms(19000)
            }
        );
    }

    #[test]
    fn a_second_loss_reads_the_live_record_again_but_never_marks_twice() {
        let (zero, mut watch) = watch(Sighting::Listed);
        poll_until_done(zero, &mut watch, ms(50), |_| Some(Sighting::OutOfService));
        let mut slot = ms(1000);
        for (round, marks_again) in [(1, true), (2, false)] {
            slot += ms(5000);
            assert_eq!(
                poll_at(zero, &mut watch, slot, Sighting::Listed),
                PollNews::Lost,
                "round {round}"
            );
            slot += ms(1000);
            assert_eq!(watch.next_step(), Step::CheckLive { at: zero + slot });
            assert_eq!(
                watch.live_record(zero + slot, LiveRecord::MarkLost),
                marks_again,
                "round {round}"
            );
            slot += ms(1000);
            let news = poll_at(zero, &mut watch, slot, Sighting::OutOfService);
            assert!(
                matches!(news, PollNews::Seen { again: true, .. }),
                "{news:?}"
            );
        }
    }

    #[test]
    fn after_the_sighting_polls_follow_a_short_server_cache_but_never_come_twice_a_second() {
        for (cache, pause) in [
            (Duration::ZERO, ms(1000)),
            (ms(2000), ms(2000)),
            (Duration::from_secs(120), ms(5000)),
        ] {
            let zero = Instant::now();
            let mut watch = PeerWatch::new(Sighting::Listed, zero, zero, cache);
            let Step::Poll { at } = watch.next_step() else {
                panic!("no poll")
            };
            let news = watch.polled(at, at, Some(Sighting::OutOfService));
            assert!(matches!(news, PollNews::Seen { .. }), "{news:?}");
            assert_eq!(
                watch.next_step(),
                Step::Poll { at: at + pause },
                "{cache:?}"
            );
        }
    }

    #[test]
    fn sightings_read_the_listing_by_instance_id() {
        let instance = |id: &str, status| Instance {
            id: id.into(),
            host_name: "h".into(),
            ip_addr: String::new(),
            port: Some(8080),
            status,
            overridden_status: None,
            last_updated_ms: None,
            registered_ms: None,
            health_check_url: None,
        };
        let listing = [
            instance("a", InstanceStatus::Up),
            instance("b", InstanceStatus::OutOfService),
        ];
        assert_eq!(Sighting::of(&listing, "a"), Sighting::Listed);
        assert_eq!(Sighting::of(&listing, "b"), Sighting::OutOfService);
        assert_eq!(Sighting::of(&listing, "c"), Sighting::Absent);
    }
}
