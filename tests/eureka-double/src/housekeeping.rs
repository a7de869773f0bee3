//! The server's timers, on one thread: the read-only response cache refresh (aligned to multiples
//! of its interval, as `ResponseCacheImpl` schedules it), lease eviction, and the cleanup of the
//! delta's recently-changed queue.

use std::sync::Mutex;
use std::time::Duration;

use crate::clock::now_ms;
use crate::registry::Registry;
use crate::sync::{Shutdown, lock};

pub(crate) struct Timers {
    /// `None` without a read-only cache.
    pub(crate) cache_refresh: Option<Duration>,
    /// `None` while leases never expire.
    pub(crate) eviction: Option<Duration>,
    pub(crate) delta_cleanup: Duration,
}

/// Runs until `shutdown` is triggered.
pub(crate) fn run(registry: &Mutex<Registry>, shutdown: &Shutdown, timers: &Timers) {
    let start = now_ms();
    let mut next_refresh = timers
        .cache_refresh
        .map(|interval| aligned_after(start, millis(interval)));
    let mut next_eviction = timers.eviction.map(|interval| start + millis(interval));
    let mut next_cleanup = start + millis(timers.delta_cleanup);
    loop {
        let next = [next_refresh, next_eviction]
            .into_iter()
            .flatten()
            .fold(next_cleanup, i64::min);
        let wait = u64::try_from(next - now_ms()).unwrap_or_default();
        if shutdown.wait(Duration::from_millis(wait)) {
            return;
        }
        let now = now_ms();
        let mut registry = lock(registry);
        if let Some(interval) = timers.cache_refresh
            && next_refresh.is_some_and(|due| due <= now)
        {
            registry.refresh_read_only_cache(now);
            next_refresh = Some(aligned_after(now, millis(interval)));
        }
        if let Some(interval) = timers.eviction
            && next_eviction.is_some_and(|due| due <= now)
        {
            registry.evict(now);
            next_eviction = Some(now + millis(interval));
        }
        if next_cleanup <= now {
            registry.prune_recent_changes(now);
            next_cleanup = now + millis(timers.delta_cleanup);
        }
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
