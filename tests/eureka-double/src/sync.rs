//! Coordination between the double's threads: a lock that survives a panicked holder, and a stop
//! signal that sleeping threads (timers, delayed or hanging replies, fault peers) wait on, so that
//! dropping a double or a fault peer wakes and ends them at once.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Locks, ignoring poisoning: a panic in one request must not take the others down.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Default)]
pub(crate) struct Shutdown {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Shutdown {
    pub(crate) fn trigger(&self) {
        *lock(&self.stopped) = true;
        self.wake.notify_all();
    }

    pub(crate) fn is_triggered(&self) -> bool {
        *lock(&self.stopped)
    }

    /// Sleeps for `timeout` or until triggered; returns whether it was triggered.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut stopped = lock(&self.stopped);
        while !*stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            stopped = self
                .wake
                .wait_timeout(stopped, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Sleeps until triggered.
    pub(crate) fn wait_forever(&self) {
        while !self.wait(Duration::from_secs(3600)) {}
    }
}
