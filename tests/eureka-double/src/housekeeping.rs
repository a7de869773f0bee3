//! The server's timers: the read-only response cache refresh (aligned to multiples of its
//! interval, as `ResponseCacheImpl` schedules it), lease eviction, and the cleanup of the delta's
//! recently-changed queue. On the wall clock they run on a thread of their own; on a test's
//! clock the double runs those due before each request and each direct call, which comes to the
//! same, since only those change the registry.

use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Time;
use crate::registry::Registry;
use crate::sync::{Shutdown, lock};

#[derive(Clone, Copy)]
pub(crate) struct Timers {
    /// `None` without a read-only cache.
    pub(crate) cache_refresh: Option<Duration>,
    /// `None` while leases never expire.
    pub(crate) eviction: Option<Duration>,
    pub(crate) delta_cleanup: Duration,
}

/// When each timer runs next, in epoch milliseconds.
pub(crate) struct Schedule {
    timers: Timers,
    next_refresh: Option<i64>,
    next_eviction: Option<i64>,
    next_cleanup: i64,
}

impl Schedule {
    pub(crate) fn new(timers: Timers, start: i64) -> Schedule {
        Schedule {
            timers,
            next_refresh: timers
                .cache_refresh
                .map(|interval| aligned_after(start, millis(interval))),
            next_eviction: timers.eviction.map(|interval| start + millis(interval)),
            next_cleanup: start + millis(timers.delta_cleanup),
        }
    }

    fn next_due(&self) -> i64 {
        [self.next_refresh, self.next_eviction]
            .into_iter()
            .flatten()
            .fold(self.next_cleanup, i64::min)
    }

    /// Runs the timers due at `now`.
    pub(crate) fn run_due(&mut self, registry: &mut Registry, now: i64) {
        if let Some(interval) = self.timers.cache_refresh
            && self.next_refresh.is_some_and(|due| due <= now)
        {
            registry.refresh_read_only_cache(now);
            self.next_refresh = Some(aligned_after(now, millis(interval)));
        }
        if let Some(interval) = self.timers.eviction
            && self.next_eviction.is_some_and(|due| due <= now)
        {
            registry.evict(now);
            self.next_eviction = Some(now + millis(interval));
        }
        if self.next_cleanup <= now {
            registry.prune_recent_changes(now);
            self.next_cleanup = now + millis(self.timers.delta_cleanup);
        }
    }
}

/// Runs the timers on the wall clock until `shutdown` is triggered.
pub(crate) fn run(registry: &Mutex<Registry>, shutdown: &Shutdown, timers: Timers) {
    let time = Time::Wall;
    let mut schedule = Schedule::new(timers, time.now_ms());
    loop {
        let wait = u64::try_from(schedule.next_due() - time.now_ms()).unwrap_or_default();
        if shutdown.wait(Duration::from_millis(wait)) {
            return;
        }
        schedule.run_due(&mut lock(registry), time.now_ms());
    }
}

/// Whole milliseconds, at least one, so a zero interval cannot spin.
pub(crate) fn millis(interval: Duration) -> i64 {
    i64::try_from(interval.as_millis())
        .unwrap_or(i64::MAX)
        .max(1)
}

/// The next multiple of `interval` after `now`, in epoch milliseconds.
fn aligned_after(now: i64, interval: i64) -> i64 {
    (now / interval + 1) * interval
}
