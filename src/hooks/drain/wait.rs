//! Waiting during the drain, woken early when SIGTERM or SIGINT arrives or when another thread has
//! news (the registry watch).
//!
//! The handlers are installed before prestop sends anything, so a signal that comes during the
//! registry step is not lost: the drain then ends at once. A signal does not stop the registry
//! step itself, which is bounded on its own. Hooks take a [`Sleeper`] so tests can check the
//! windows they asked for without waiting them out.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};

/// What ended one wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// The whole window passed.
    Elapsed,
    /// Another thread has news.
    Nudged,
    /// SIGTERM or SIGINT arrived (now or earlier).
    Signal(&'static str),
}

pub trait Sleeper {
    /// Waits for `window`, or less when a signal arrives or a [`Nudger`] nudges.
    fn wait(&self, window: Duration) -> Wake;
    /// A handle another thread uses to end a `wait` early.
    fn nudger(&self) -> Nudger;
}

/// Ends a [`Sleeper`]'s wait early, from any thread, and tells whether a signal has arrived.
#[derive(Clone, Default)]
pub struct Nudger {
    socket: Option<Arc<UnixStream>>,
    last_signal: Option<Arc<AtomicUsize>>,
}

impl Nudger {
    pub fn nudge(&self) {
        if let Some(socket) = &self.socket {
            // A nudge that cannot be written only delays news until the wait's own end.
            let _ = (&**socket).write(&[1]);
        }
    }

    /// Whether SIGTERM or SIGINT has arrived, even if the waiting thread has not woken yet.
    pub fn signal_arrived(&self) -> bool {
        self.last_signal
            .as_ref()
            .is_some_and(|signal| signal.load(Ordering::SeqCst) != 0)
    }
}

/// Sleeps until the window passes, SIGTERM/SIGINT arrives or a nudger writes to the wake-up socket.
pub struct SignalSleeper {
    wake_up: UnixStream,
    nudges: Arc<UnixStream>,
    last_signal: Arc<AtomicUsize>,
}

impl SignalSleeper {
    /// Installs the SIGTERM and SIGINT handlers; from now on those signals no longer end the process.
    pub fn install() -> Result<SignalSleeper> {
        let (wake_up, wake_up_writer) =
            UnixStream::pair().context("creating the signal wake-up socket")?;
        let last_signal = Arc::new(AtomicUsize::new(0));
        for signal in [SIGTERM, SIGINT] {
            // The flag is set before the wake-up byte is written, so the reader sees which signal.
            signal_hook::flag::register_usize(
                signal,
                Arc::clone(&last_signal),
                signal_number(signal),
            )
            .context("installing a signal handler")?;
            let writer = wake_up_writer
                .try_clone()
                .context("creating the signal wake-up socket")?;
            signal_hook::low_level::pipe::register(signal, writer)
                .context("installing a signal handler")?;
        }
        Ok(SignalSleeper {
            wake_up,
            nudges: Arc::new(wake_up_writer),
            last_signal,
        })
    }

    /// The signal that arrived, if any: the flag is set before the wake-up byte is written.
    fn signal_name(&self) -> Option<&'static str> {
        match self.last_signal.load(Ordering::SeqCst) {
            0 => None,
            signal if signal == signal_number(SIGINT) => Some("SIGINT"),
            _ => Some("SIGTERM"),
        }
    }
}

/// A signal's number as the flag holds it; signal numbers are small and positive.
fn signal_number(signal: i32) -> usize {
    usize::try_from(signal).unwrap_or_default()
}

impl Sleeper for SignalSleeper {
    fn wait(&self, window: Duration) -> Wake {
        if let Some(signal) = self.signal_name() {
            return Wake::Signal(signal);
        }
        if window.is_zero() {
            return Wake::Elapsed;
        }
        let mut byte = [0u8; 1];
        let read = self
            .wake_up
            .set_read_timeout(Some(window))
            .and_then(|()| (&self.wake_up).read(&mut byte));
        match read {
            Ok(1..) => self.signal_name().map_or(Wake::Nudged, Wake::Signal),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Wake::Elapsed
            }
            // The caller looks again and waits for what is left.
            Err(err) if err.kind() == ErrorKind::Interrupted => Wake::Nudged,
            // The socket cannot fail us here in practice; if it does, still hold the pod.
            Ok(0) | Err(_) => {
                thread::sleep(window);
                Wake::Elapsed
            }
        }
    }

    fn nudger(&self) -> Nudger {
        Nudger {
            socket: Some(Arc::clone(&self.nudges)),
            last_signal: Some(Arc::clone(&self.last_signal)),
        }
    }
}

#[cfg(test)]
pub mod fake {
    use super::*;
    use crate::clock::fake::FakeClock;
    use std::sync::Mutex;

    /// Records the windows asked for and ends the first wait with SIGTERM at once.
    #[derive(Default)]
    pub struct SignalledSleeper {
        pub windows: Mutex<Vec<Duration>>,
    }

    impl Sleeper for SignalledSleeper {
        fn wait(&self, window: Duration) -> Wake {
            self.windows.lock().unwrap().push(window);
            Wake::Signal("SIGTERM")
        }

        fn nudger(&self) -> Nudger {
            Nudger::default()
        }
    }

    /// A nudger for which SIGTERM has already arrived, as a watch thread sees it after a signal.
    pub fn signalled_nudger() -> Nudger {
        Nudger {
            socket: None,
            last_signal: Some(Arc::new(AtomicUsize::new(signal_number(SIGTERM)))),
        }
    }

    /// Waits on a fake clock: each wait moves it on by the whole window.
    pub struct FakeSleeper<'clock> {
        pub clock: &'clock FakeClock,
        pub windows: Mutex<Vec<Duration>>,
    }

    impl Sleeper for FakeSleeper<'_> {
        fn wait(&self, window: Duration) -> Wake {
            self.windows.lock().unwrap().push(window);
            crate::clock::Clock::sleep(self.clock, window);
            Wake::Elapsed
        }

        fn nudger(&self) -> Nudger {
            Nudger::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    // One test: signal handlers are process-wide, so a raised signal reaches every sleeper.
    #[test]
    fn a_wait_ends_when_its_window_passes_when_nudged_and_for_good_on_a_signal() {
        let sleeper = SignalSleeper::install().unwrap();
        let started = Instant::now();
        assert_eq!(sleeper.wait(Duration::from_millis(30)), Wake::Elapsed);
        assert!(started.elapsed() >= Duration::from_millis(30));

        let nudger = sleeper.nudger();
        assert!(!nudger.signal_arrived());
        let from_thread = nudger.clone();
        thread::spawn(move || from_thread.nudge());
        let started = Instant::now();
        assert_eq!(sleeper.wait(Duration::from_secs(30)), Wake::Nudged);
        assert!(started.elapsed() < Duration::from_secs(5));

        signal_hook::low_level::raise(SIGINT).unwrap();
        assert!(nudger.signal_arrived());
        assert_eq!(
            sleeper.wait(Duration::from_secs(30)),
            Wake::Signal("SIGINT")
        );
        assert_eq!(
            sleeper.wait(Duration::from_secs(30)),
            Wake::Signal("SIGINT")
        );
    }
}
