//! Time as the hooks and the transport see it: the current instant, the wall time, a pause, and a
//! wait that SIGTERM, SIGINT or another thread's news can cut short.
//!
//! Retry pauses, poststart's polling, the drain's watch and the drain itself all go through one
//! [`Clock`], so unit tests run them on [`fake::FakeClock`]'s virtual time instead of waiting real
//! seconds. The real clocks are [`SystemClock`] (no signal handling: poststart, status) and
//! `hooks::drain::wait::SignalClock` (prestop, which installs the handlers before sending
//! anything).

use std::io;
use std::sync::Arc;
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

/// What ended one [`Clock::wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// The whole window passed.
    Elapsed,
    /// Another thread has news.
    Nudged,
    /// SIGTERM or SIGINT arrived (now or earlier).
    Signal(&'static str),
}

pub trait Clock: Sync {
    /// The current instant.
    fn now(&self) -> Instant;
    /// The wall-clock time, to compare with the registry's timestamps.
    fn wall_now(&self) -> SystemTime {
        SystemTime::now()
    }
    /// Waits for `pause`, whatever arrives meanwhile.
    fn sleep(&self, pause: Duration);
    /// Waits for `window`, or less when a signal arrives or a [`Nudger`] of this clock nudges.
    fn wait(&self, window: Duration) -> Wake;
    /// A handle another thread uses to end a [`wait`](Clock::wait) early.
    fn nudger(&self) -> Nudger;
    /// Starts a thread named `name` that runs `work`, which may sleep on this clock (the fake
    /// counts it among the threads its virtual time waits for).
    fn spawn(&self, name: &str, work: Box<dyn FnOnce() + Send>) -> io::Result<()> {
        thread::Builder::new()
            .name(name.to_owned())
            .spawn(work)
            .map(drop)
    }
}

/// What a [`Nudger`] reaches: the clock's wake-up, and whether a signal has arrived.
pub trait WakeUp: Send + Sync {
    fn nudge(&self);
    fn signal_arrived(&self) -> bool;
}

/// Ends a [`Clock::wait`] early, from any thread, and tells whether a signal has arrived. The
/// default one reaches nothing: its clock's waits are never cut short.
#[derive(Clone, Default)]
pub struct Nudger {
    wake_up: Option<Arc<dyn WakeUp>>,
}

impl Nudger {
    pub fn new(wake_up: Arc<dyn WakeUp>) -> Nudger {
        Nudger {
            wake_up: Some(wake_up),
        }
    }

    pub fn nudge(&self) {
        if let Some(wake_up) = &self.wake_up {
            wake_up.nudge();
        }
    }

    /// Whether SIGTERM or SIGINT has arrived, even if the waiting thread has not woken yet.
    pub fn signal_arrived(&self) -> bool {
        self.wake_up
            .as_ref()
            .is_some_and(|wake_up| wake_up.signal_arrived())
    }
}

/// The machine's clocks and a real sleep; signals keep their default action (they end the
/// process), so a wait always runs its whole window.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, pause: Duration) {
        thread::sleep(pause);
    }

    fn wait(&self, window: Duration) -> Wake {
        thread::sleep(window);
        Wake::Elapsed
    }

    fn nudger(&self) -> Nudger {
        Nudger::default()
    }
}

#[cfg(test)]
pub mod fake {
    //! Virtual time for tests, shared by the threads that take part in it: it stands still while
    //! any of them runs (a request to a double included), and when all of them are sleeping or
    //! waiting it jumps to the earliest instant one of them waits for. A thread takes part from
    //! its first sleep or wait, from its start through [`Clock::spawn`], or from the moment it
    //! starts such a thread (so that the threads it started cannot run ahead of it), until it
    //! ends or [`FakeClock::leave`]s. A test can have SIGTERM arrive at a virtual instant; nudges
    //! end a wait as they do on the real clock.

    use super::*;
    use std::cell::RefCell;
    use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
    use std::time::UNIX_EPOCH;

    pub struct FakeClock {
        start: Instant,
        /// The wall time at the start: a whole minute (the last one), so the refresh grid of a
        /// double on this clock (aligned to epoch multiples of its interval) starts with the
        /// clock.
        wall_start: SystemTime,
        shared: Arc<Shared>,
    }

    struct Shared {
        state: Mutex<State>,
        changed: Condvar,
    }

    #[derive(Default)]
    struct State {
        elapsed: Duration,
        sleeps: Vec<Duration>,
        waits: Vec<Duration>,
        signal_at: Option<Duration>,
        nudged: bool,
        /// Threads virtual time waits for (see the module's comment).
        members: usize,
        blocked: Vec<Blocked>,
        last_id: u64,
    }

    struct Blocked {
        id: u64,
        until: Duration,
        /// A wait (news ends it), not a sleep.
        wait: bool,
    }

    impl State {
        /// What ends a wait now, if anything but its window.
        fn news(&mut self) -> Option<Wake> {
            if self.signal_at.is_some_and(|at| at <= self.elapsed) {
                return Some(Wake::Signal("SIGTERM"));
            }
            std::mem::take(&mut self.nudged).then_some(Wake::Nudged)
        }

        /// When every member is blocked and none can go on, moves time to the earliest instant
        /// one of them waits for; says whether it moved.
        fn advance(&mut self) -> bool {
            if self.blocked.len() < self.members {
                return false;
            }
            let signal_at = self.signal_at.unwrap_or(Duration::MAX);
            let wakes_at = |blocked: &Blocked| {
                if blocked.wait && self.nudged {
                    Duration::ZERO
                } else if blocked.wait {
                    blocked.until.min(signal_at)
                } else {
                    blocked.until
                }
            };
            let Some(next) = self.blocked.iter().map(wakes_at).min() else {
                return false;
            };
            if next <= self.elapsed {
                return false;
            }
            self.elapsed = next;
            true
        }
    }

    fn lock(shared: &Shared) -> MutexGuard<'_, State> {
        shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// This thread's part in one clock's virtual time; it ends with the thread.
    struct Membership(Arc<Shared>);

    impl Drop for Membership {
        fn drop(&mut self) {
            lock(&self.0).members -= 1;
            self.0.changed.notify_all();
        }
    }

    thread_local! {
        static MEMBERSHIPS: RefCell<Vec<Membership>> = const { RefCell::new(Vec::new()) };
    }

    /// Whether this thread counts for `shared`'s virtual time; `join` adds it (counted by the
    /// caller).
    fn member(shared: &Arc<Shared>, join: bool) -> bool {
        MEMBERSHIPS.with(|memberships| {
            let mut memberships = memberships.borrow_mut();
            let known = memberships
                .iter()
                .any(|membership| Arc::ptr_eq(&membership.0, shared));
            if !known && join {
                memberships.push(Membership(Arc::clone(shared)));
            }
            known
        })
    }

    impl FakeClock {
        pub fn new() -> Self {
            let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let whole_minutes = since_epoch.as_secs() / 60 * 60;
            FakeClock {
                start: Instant::now(),
                wall_start: UNIX_EPOCH + Duration::from_secs(whole_minutes),
                shared: Arc::new(Shared {
                    state: Mutex::default(),
                    changed: Condvar::new(),
                }),
            }
        }

        /// A clock that lives as long as the threads that may still read it.
        pub fn leaked() -> &'static FakeClock {
            Box::leak(Box::new(FakeClock::new()))
        }

        /// SIGTERM arrives `after` the start (`Duration::ZERO`: it has arrived already).
        pub fn signal_at(self, after: Duration) -> Self {
            lock(&self.shared).signal_at = Some(after);
            self.shared.changed.notify_all();
            self
        }

        /// SIGTERM arrives now: sent by a thread outside virtual time once it has seen, in real
        /// time, what it waited for (a request that hangs, which virtual time stands still for).
        pub fn signal_now(&self) {
            let mut state = lock(&self.shared);
            state.signal_at = Some(state.elapsed);
            drop(state);
            self.shared.changed.notify_all();
        }

        /// Runs `action` on a thread of its own `after` the start; time stands still until it
        /// returns, so what it does happens at that instant.
        pub fn at(&'static self, after: Duration, action: impl FnOnce() + Send + 'static) {
            let pause = after.saturating_sub(self.elapsed());
            let run = Box::new(move || {
                self.sleep(pause);
                action();
            });
            self.spawn("at", run).unwrap();
        }

        /// Virtual time since the start.
        pub fn elapsed(&self) -> Duration {
            lock(&self.shared).elapsed
        }

        /// This thread no longer takes part: time goes on while it does something else, such as
        /// waiting for what the threads it started report.
        pub fn leave(&self) {
            let membership = MEMBERSHIPS.with(|memberships| {
                let mut memberships = memberships.borrow_mut();
                let mine = memberships
                    .iter()
                    .position(|membership| Arc::ptr_eq(&membership.0, &self.shared));
                mine.map(|index| memberships.remove(index))
            });
            drop(membership);
        }

        /// How many threads are sleeping or waiting on it now.
        pub fn blocked(&self) -> usize {
            lock(&self.shared).blocked.len()
        }

        /// Every pause slept, in order.
        pub fn pauses(&self) -> Vec<Duration> {
            lock(&self.shared).sleeps.clone()
        }

        /// Every window waited for, in order.
        pub fn waits(&self) -> Vec<Duration> {
            lock(&self.shared).waits.clone()
        }

        /// The wall time in epoch milliseconds, as a double on this clock reads it.
        pub fn epoch_ms(&self) -> i64 {
            let since_epoch = self.wall_now().duration_since(UNIX_EPOCH).unwrap();
            i64::try_from(since_epoch.as_millis()).unwrap()
        }

        /// Blocks this thread until virtual time reaches `window` from now (or, for a `wait`,
        /// until news).
        fn block(&self, window: Duration, wait: bool) -> Wake {
            let shared = &self.shared;
            let mut state = lock(shared);
            if !member(shared, true) {
                state.members += 1;
            }
            if wait {
                state.waits.push(window);
                if let Some(news) = state.news() {
                    return news;
                }
            } else {
                state.sleeps.push(window);
            }
            if window.is_zero() {
                return Wake::Elapsed;
            }
            state.last_id += 1;
            let id = state.last_id;
            let until = state.elapsed.saturating_add(window);
            state.blocked.push(Blocked { id, until, wait });
            let wake = loop {
                if wait && let Some(news) = state.news() {
                    break news;
                }
                if state.elapsed >= until {
                    break Wake::Elapsed;
                }
                if state.advance() {
                    shared.changed.notify_all();
                    continue;
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            };
            state.blocked.retain(|blocked| blocked.id != id);
            wake
        }
    }

    struct FakeWakeUp(Arc<Shared>);

    impl WakeUp for FakeWakeUp {
        fn nudge(&self) {
            lock(&self.0).nudged = true;
            self.0.changed.notify_all();
        }

        fn signal_arrived(&self) -> bool {
            let state = lock(&self.0);
            state.signal_at.is_some_and(|at| at <= state.elapsed)
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            later(self.start, self.elapsed())
        }

        fn wall_now(&self) -> SystemTime {
            self.wall_start + self.elapsed()
        }

        fn sleep(&self, pause: Duration) {
            self.block(pause, false);
        }

        fn wait(&self, window: Duration) -> Wake {
            self.block(window, true)
        }

        fn nudger(&self) -> Nudger {
            Nudger::new(Arc::new(FakeWakeUp(Arc::clone(&self.shared))))
        }

        fn spawn(&self, name: &str, work: Box<dyn FnOnce() + Send>) -> io::Result<()> {
            let shared = Arc::clone(&self.shared);
            let mut state = lock(&shared);
            if !member(&shared, true) {
                state.members += 1;
            }
            state.members += 1;
            drop(state);
            let membership = Membership(Arc::clone(&shared));
            let started = thread::Builder::new().name(name.to_owned()).spawn(move || {
                MEMBERSHIPS.with(|memberships| memberships.borrow_mut().push(membership));
                work();
            });
            // Not started: the membership went with the closure and ended with it.
            started.map(drop)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::sync::mpsc::channel;

        #[test]
        fn one_thread_jumps_to_the_end_of_each_pause_and_each_wait() {
            let clock = FakeClock::new();
            let start = clock.now();
            clock.sleep(Duration::from_secs(3));
            assert_eq!(clock.wait(Duration::from_secs(5)), Wake::Elapsed);
            assert_eq!(clock.now() - start, Duration::from_secs(8));
            assert_eq!(clock.pauses(), [Duration::from_secs(3)]);
            assert_eq!(clock.waits(), [Duration::from_secs(5)]);
            assert_eq!(
                clock
                    .wall_now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
                    % 1000,
                0
            );
        }

        #[test]
        fn time_waits_for_every_spawned_thread_and_a_nudge_ends_a_wait_at_its_instant() {
            let clock = FakeClock::leaked();
            let (started, running) = channel();
            let (go, released) = channel::<()>();
            let nudger = clock.nudger();
            clock
                .spawn(
                    "worker",
                    Box::new(move || {
                        started.send(()).unwrap();
                        // Time stands still while this thread works, however long it takes.
                        released.recv().unwrap();
                        clock.sleep(Duration::from_secs(2));
                        nudger.nudge();
                    }),
                )
                .unwrap();
            clock.leave();
            running.recv().unwrap();
            let waiter = thread::spawn(move || clock.wait(Duration::from_secs(10)));
            while clock.blocked() == 0 {
                thread::yield_now();
            }
            // The waiter is blocked, the worker is not: time stands still.
            assert_eq!(clock.elapsed(), Duration::ZERO);
            go.send(()).unwrap();
            assert_eq!(waiter.join().unwrap(), Wake::Nudged);
            assert_eq!(clock.elapsed(), Duration::from_secs(2));
        }

        #[test]
        fn a_signal_ends_a_wait_at_its_instant_and_every_wait_after_it() {
            let clock = FakeClock::new().signal_at(Duration::from_secs(4));
            let nudger = clock.nudger();
            assert!(!nudger.signal_arrived());
            assert_eq!(clock.wait(Duration::from_secs(30)), Wake::Signal("SIGTERM"));
            assert_eq!(clock.elapsed(), Duration::from_secs(4));
            assert!(nudger.signal_arrived());
            assert_eq!(clock.wait(Duration::from_secs(30)), Wake::Signal("SIGTERM"));
            // A pause is not cut short.
            clock.sleep(Duration::from_secs(1));
            assert_eq!(clock.elapsed(), Duration::from_secs(5));
        }
    }
}
