//! What the samples of the app's connections add up to: per remote address, the connections that
//! sent data after the mark, the bytes and when data last arrived. No I/O and no clock: every
//! sample comes with its instant, so tests feed made-up samples and times.
//!
//! A connection's bytes count from the first sample that sees it (the first sample of all takes
//! the baseline; one first seen later counts all it received). Its data last arrived when its byte
//! counter last grew, timed finer by `tcp_info`'s time since the last data, and never before the
//! previous sample (so within one sample). A connection that opened and closed between two samples
//! shows only as a new `TIME_WAIT` socket: it counts, bytes unknown, at the sample that saw it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::sock_diag::{Connection, Received};
use super::sources::IgnoredSources;

/// A connection unseen for this long is forgotten (a dump racing a state change may miss one).
const FORGET_AFTER: Duration = Duration::from_secs(5);

/// One inbound connection in one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observed {
    pub cookie: u64,
    pub source: IpAddr,
    pub closed: bool,
    pub received: Option<Received>,
}

/// The app's inbound connections among `connections` (whose local or remote port is `port`):
/// local port `port`, neither this process's own sockets (by inode) nor the far end of one of them.
/// Far ends are remembered in `own_ends`, so one stays left out after this process closed its side.
pub fn inbound_of(
    connections: &[Connection],
    port: u16,
    own_inodes: &HashSet<u32>,
    own_ends: &mut HashSet<SocketAddr>,
) -> Vec<Observed> {
    for connection in connections {
        if connection.inode != 0 && own_inodes.contains(&connection.inode) {
            own_ends.insert(connection.local);
        }
    }
    connections
        .iter()
        .filter(|connection| connection.local.port() == port)
        .filter(|connection| !(connection.inode != 0 && own_inodes.contains(&connection.inode)))
        .filter(|connection| !own_ends.contains(&connection.remote))
        .map(|connection| Observed {
            cookie: connection.cookie,
            source: connection.remote.ip().to_canonical(),
            closed: connection.closed,
            received: connection.received,
        })
        .collect()
}

/// One remote address's traffic after the mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceTotals {
    pub connections: usize,
    /// Bytes received after the mark; connections that lived between two samples add none.
    pub bytes: u64,
    pub last_at: Instant,
}

struct Tracked {
    bytes: Option<u64>,
    counted: bool,
    seen_at: Instant,
}

/// The running totals.
pub struct Accounting {
    mark: Instant,
    ignored: IgnoredSources,
    previous_sample: Option<Instant>,
    connections: HashMap<u64, Tracked>,
    sources: BTreeMap<IpAddr, SourceTotals>,
}

impl Accounting {
    /// Counts data after `mark` from every source `ignored` does not cover.
    pub fn new(mark: Instant, ignored: IgnoredSources) -> Accounting {
        Accounting {
            mark,
            ignored,
            previous_sample: None,
            connections: HashMap::new(),
            sources: BTreeMap::new(),
        }
    }

    pub fn mark(&self) -> Instant {
        self.mark
    }

    /// Takes in one sample, taken at `at`.
    pub fn sample(&mut self, at: Instant, observed: &[Observed]) {
        let previous = self.previous_sample;
        for connection in observed {
            if self.ignored.ignores(connection.source) {
                continue;
            }
            if let Some((when, bytes)) = self.activity(at, previous, connection) {
                self.count(connection, when, bytes);
            }
        }
        self.connections
            .retain(|_, tracked| at.saturating_duration_since(tracked.seen_at) < FORGET_AFTER);
        self.previous_sample = Some(at);
    }

    /// When `connection` last received data and how many bytes, if it did since the previous
    /// sample (and after the mark); remembers what it has received so far.
    fn activity(
        &mut self,
        at: Instant,
        previous: Option<Instant>,
        connection: &Observed,
    ) -> Option<(Instant, u64)> {
        let bytes = connection.received.and_then(|received| received.bytes);
        // When data last arrived, by tcp_info.
        let last_data = connection
            .received
            .map(|received| at.checked_sub(received.since_last).unwrap_or(at));
        let Some(previous) = previous else {
            self.track(connection, bytes, at);
            // The baseline: data between the mark and this first sample is timed but not sized.
            // Without data, the kernel's "last data" is when the connection was set up.
            return last_data
                .filter(|&last| last > self.mark && bytes != Some(0))
                .map(|last| (last, 0));
        };
        // Within one sample: not before the previous one.
        let arrived = last_data.map_or(at, |last| last.max(previous));
        let Some(tracked) = self.connections.get_mut(&connection.cookie) else {
            self.track(connection, bytes, at);
            return match (connection.received, bytes) {
                // Opened and closed since the previous sample.
                (None, _) => connection.closed.then_some((at, 0)),
                (Some(_), Some(0)) => None,
                (Some(_), bytes) => Some((arrived, bytes.unwrap_or(0))),
            };
        };
        tracked.seen_at = at;
        let grown = match (tracked.bytes, bytes) {
            (Some(before), Some(now)) => now.checked_sub(before).filter(|grew| *grew > 0),
            // No byte count (a kernel before 4.1): the time since the last data alone.
            (_, None) => last_data.filter(|&last| last > previous).map(|_| 0),
            (None, Some(_)) => None,
        };
        if bytes.is_some() {
            tracked.bytes = bytes;
        }
        grown.map(|added| (arrived, added))
    }

    fn track(&mut self, connection: &Observed, bytes: Option<u64>, at: Instant) {
        self.connections.insert(
            connection.cookie,
            Tracked {
                bytes,
                counted: false,
                seen_at: at,
            },
        );
    }

    /// Adds `bytes` that `connection` received, the last at `when`, to its source.
    fn count(&mut self, connection: &Observed, when: Instant, bytes: u64) {
        let newly_counted = self
            .connections
            .get_mut(&connection.cookie)
            .is_some_and(|tracked| !std::mem::replace(&mut tracked.counted, true));
        let totals = self
            .sources
            .entry(connection.source)
            .or_insert(SourceTotals {
                connections: 0,
                bytes: 0,
                last_at: when,
            });
        totals.connections = totals
            .connections
            .saturating_add(usize::from(newly_counted));
        totals.bytes = totals.bytes.saturating_add(bytes);
        totals.last_at = totals.last_at.max(when);
    }

    /// Each source that sent data after the mark.
    pub fn sources(&self) -> &BTreeMap<IpAddr, SourceTotals> {
        &self.sources
    }

    /// When data last arrived from a counted source, if any did after the mark.
    pub fn last_data(&self) -> Option<Instant> {
        self.sources.values().map(|totals| totals.last_at).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// A live connection from `source` that has received `bytes`, the last `idle` ago.
    fn open(cookie: u64, source: &str, bytes: u64, idle: Duration) -> Observed {
        Observed {
            cookie,
            source: ip(source),
            closed: false,
            received: Some(Received {
                bytes: Some(bytes),
                since_last: idle,
            }),
        }
    }

    fn closed(cookie: u64, source: &str) -> Observed {
        Observed {
            cookie,
            source: ip(source),
            closed: true,
            received: None,
        }
    }

    /// Samples every 250 ms from the mark on; `samples[n]` is taken at (n + 1) * 250 ms.
    fn run(ignored: &str, samples: &[Vec<Observed>]) -> (Instant, Accounting) {
        let mark = Instant::now();
        let ignored = if ignored.is_empty() {
            IgnoredSources::default()
        } else {
            IgnoredSources::parse(ignored).unwrap()
        };
        let mut accounting = Accounting::new(mark, ignored);
        for (index, sample) in samples.iter().enumerate() {
            let at = mark + ms(250 * (u64::try_from(index).unwrap() + 1));
            accounting.sample(at, sample);
        }
        (mark, accounting)
    }

    #[test]
    fn bytes_count_from_the_baseline_and_the_last_data_is_timed_within_one_sample() {
        let (mark, accounting) = run(
            "",
            &[
                vec![open(1, "10.0.0.2", 5000, ms(3000))],
                vec![open(1, "10.0.0.2", 5000, ms(3250))],
                // 300 bytes, the last 40 ms before this sample.
                vec![open(1, "10.0.0.2", 5300, ms(40))],
                vec![open(1, "10.0.0.2", 5300, ms(290))],
            ],
        );
        let totals = accounting.sources()[&ip("10.0.0.2")];
        assert_eq!(totals.connections, 1);
        assert_eq!(totals.bytes, 300);
        assert_eq!(totals.last_at - mark, ms(710));
        assert_eq!(accounting.last_data(), Some(mark + ms(710)));
    }

    #[test]
    fn no_data_after_the_mark_reports_nothing() {
        let (_, accounting) = run(
            "",
            &[
                vec![open(1, "10.0.0.2", 5000, ms(9000)), closed(2, "10.0.0.3")],
                vec![open(1, "10.0.0.2", 5000, ms(9250)), closed(2, "10.0.0.3")],
                vec![open(3, "10.0.0.4", 0, ms(0))],
            ],
        );
        assert!(
            accounting.sources().is_empty(),
            "{:?}",
            accounting.sources()
        );
        assert_eq!(accounting.last_data(), None);
    }

    #[test]
    fn a_connection_set_up_after_the_mark_that_sent_nothing_is_not_counted() {
        let (_, accounting) = run("", &[vec![open(1, "10.0.0.2", 0, ms(100))]]);
        assert!(
            accounting.sources().is_empty(),
            "{:?}",
            accounting.sources()
        );
    }

    #[test]
    fn a_new_connection_counts_all_it_received_and_a_short_lived_one_counts_once() {
        let (mark, accounting) = run(
            "",
            &[
                vec![],
                vec![open(7, "fd00::9", 800, ms(100)), closed(8, "fd00::9")],
                vec![open(7, "fd00::9", 900, ms(20)), closed(8, "fd00::9")],
            ],
        );
        let totals = accounting.sources()[&ip("fd00::9")];
        assert_eq!(totals.connections, 2, "the live one and the TIME_WAIT one");
        assert_eq!(totals.bytes, 900);
        assert_eq!(totals.last_at - mark, ms(730));
    }

    #[test]
    fn data_between_the_mark_and_the_first_sample_is_timed_but_not_sized() {
        let (mark, accounting) = run("", &[vec![open(1, "10.0.0.2", 700, ms(100))]]);
        let totals = accounting.sources()[&ip("10.0.0.2")];
        assert_eq!((totals.connections, totals.bytes), (1, 0));
        assert_eq!(totals.last_at - mark, ms(150));
    }

    #[test]
    fn ignored_sources_are_not_counted_and_sources_are_grouped_by_address() {
        let (_, accounting) = run(
            "10.0.0.0/24",
            &[
                vec![],
                vec![
                    open(1, "10.0.0.2", 10, ms(0)),
                    open(2, "10.0.1.2", 10, ms(0)),
                    open(3, "10.0.1.2", 20, ms(0)),
                ],
            ],
        );
        let sources: Vec<(IpAddr, usize, u64)> = accounting
            .sources()
            .iter()
            .map(|(source, totals)| (*source, totals.connections, totals.bytes))
            .collect();
        assert_eq!(sources, [(ip("10.0.1.2"), 2, 30)]);
    }

    #[test]
    fn without_a_byte_count_the_time_since_the_last_data_tells_activity() {
        let old_kernel = |idle| Observed {
            received: Some(Received {
                bytes: None,
                since_last: idle,
            }),
            ..open(1, "10.0.0.2", 0, idle)
        };
        let (mark, accounting) = run(
            "",
            &[
                vec![old_kernel(ms(5000))],
                vec![old_kernel(ms(5250))],
                vec![old_kernel(ms(100))],
            ],
        );
        let totals = accounting.sources()[&ip("10.0.0.2")];
        assert_eq!((totals.connections, totals.bytes), (1, 0));
        assert_eq!(totals.last_at - mark, ms(650));
    }

    #[test]
    fn own_sockets_and_their_far_ends_are_never_inbound() {
        let connection = |cookie, local: &str, remote: &str, inode| Connection {
            cookie,
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
            inode,
            closed: inode == 0,
            received: None,
        };
        let hooks_own = connection(1, "127.0.0.1:40000", "127.0.0.1:8080", 77);
        let its_far_end = connection(2, "127.0.0.1:8080", "127.0.0.1:40000", 78);
        let consumer = connection(3, "[::ffff:127.0.0.1]:8080", "[::ffff:127.0.0.2]:5555", 79);
        let other_port = connection(4, "127.0.0.1:9090", "127.0.0.3:5555", 80);
        let own = HashSet::from([77]);
        let mut own_ends = HashSet::new();
        let all = [hooks_own.clone(), its_far_end.clone(), consumer, other_port];
        let inbound = inbound_of(&all, 8080, &own, &mut own_ends);
        assert_eq!(inbound.len(), 1, "{inbound:?}");
        assert_eq!(inbound[0].source, ip("127.0.0.2"));
        // Once this process has closed its side, the far end (now in TIME_WAIT) stays left out.
        let later = [connection(2, "127.0.0.1:8080", "127.0.0.1:40000", 0)];
        assert!(inbound_of(&later, 8080, &HashSet::new(), &mut own_ends).is_empty());
    }
}
