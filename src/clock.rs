//! Time as the hooks and the transport see it: the current instant and a pause.
//!
//! Retry pauses and poststart's polling go through a [`Clock`], so unit tests run them on a fake
//! clock that advances when asked to sleep instead of waiting real seconds. (The drain, which a
//! signal may cut short, has its own `hooks::drain::wait::Sleeper`.)

use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// Far enough ahead to stand for "never" in a deadline, near enough to fit in any [`Instant`].
const FAR_AHEAD: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `at` plus `by`, saturating: a deadline that does not fit is far ahead instead of a panic.
pub fn later(at: Instant, by: Duration) -> Instant {
    at.checked_add(by)
        .or_else(|| at.checked_add(FAR_AHEAD))
        .unwrap_or(at)
}

pub trait Clock: Sync {
    /// The current instant.
    fn now(&self) -> Instant;
    /// Waits for `pause`.
    fn sleep(&self, pause: Duration);
    /// The wall-clock time, to compare with the registry's timestamps.
    fn wall_now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The machine's monotonic clock and a real sleep.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, pause: Duration) {
        thread::sleep(pause);
    }
}

#[cfg(test)]
pub mod fake {
    use super::*;
    use std::sync::Mutex;

    /// A clock that stands still until asked to sleep, then jumps ahead by the pause, and records
    /// every pause.
    pub struct FakeClock {
        start: Instant,
        elapsed: Mutex<Duration>,
        pub pauses: Mutex<Vec<Duration>>,
    }

    impl FakeClock {
        pub fn new() -> Self {
            FakeClock {
                start: Instant::now(),
                elapsed: Mutex::new(Duration::ZERO),
                pauses: Mutex::new(Vec::new()),
            }
        }

        pub fn pauses(&self) -> Vec<Duration> {
            self.pauses.lock().unwrap().clone()
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            later(self.start, *self.elapsed.lock().unwrap())
        }

        fn sleep(&self, pause: Duration) {
            let mut elapsed = self.elapsed.lock().unwrap();
            *elapsed = elapsed.saturating_add(pause);
            drop(elapsed);
            self.pauses.lock().unwrap().push(pause);
        }
    }
}
