//! The double's time in epoch milliseconds, the unit every Eureka timestamp uses: the wall clock,
//! or a test's (see [`DoubleBuilder::clock`](crate::DoubleBuilder::clock)), on which the server's
//! timers run when a request or a direct call comes rather than on a thread of their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Epoch milliseconds from a test's clock.
pub(crate) type EpochMillis = Arc<dyn Fn() -> i64 + Send + Sync>;

/// `System.currentTimeMillis()`.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since_epoch| since_epoch.as_millis() as i64)
}

/// Where a double reads the time.
#[derive(Clone)]
pub(crate) enum Time {
    Wall,
    Test(EpochMillis),
}

impl Time {
    pub(crate) fn now_ms(&self) -> i64 {
        match self {
            Time::Wall => now_ms(),
            Time::Test(now) => now(),
        }
    }
}

/// A clock a test moves by hand, for a double built with [`DoubleBuilder::clock`]
/// (`.clock(clock.source())`); clones share the time.
///
/// [`DoubleBuilder::clock`]: crate::DoubleBuilder::clock
#[derive(Clone, Debug)]
pub struct ManualClock {
    epoch_ms: Arc<AtomicI64>,
}

impl ManualClock {
    /// Stands at `epoch_ms` until moved.
    pub fn at(epoch_ms: i64) -> ManualClock {
        ManualClock {
            epoch_ms: Arc::new(AtomicI64::new(epoch_ms)),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.epoch_ms.load(Ordering::SeqCst)
    }

    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.epoch_ms.fetch_add(millis, Ordering::SeqCst);
    }

    /// What [`DoubleBuilder::clock`](crate::DoubleBuilder::clock) takes.
    pub fn source(&self) -> impl Fn() -> i64 + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now_ms()
    }
}
