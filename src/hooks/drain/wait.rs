//! The real clock of prestop: the machine's time, and a wait that SIGTERM or SIGINT ends at once
//! and another thread's news (the registry watch) ends early.
//!
//! The handlers are installed before prestop sends anything, so a signal that comes during the
//! registry step is not lost: the drain then ends at once. A signal does not stop the registry
//! step itself, which is bounded on its own.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::clock::{Clock, Nudger, Wake, WakeUp};

/// The machine's clock; waits end when the window passes, SIGTERM/SIGINT arrives or a nudger
/// writes to the wake-up socket.
pub struct SignalClock {
    wake_up: UnixStream,
    signals: Arc<Signals>,
}

/// What a nudger of a [`SignalClock`] reaches.
struct Signals {
    nudges: UnixStream,
    last_signal: Arc<AtomicUsize>,
}

impl WakeUp for Signals {
    fn nudge(&self) {
        // A nudge that cannot be written only delays news until the wait's own end.
        let _ = (&self.nudges).write(&[1]);
    }

    fn signal_arrived(&self) -> bool {
        self.last_signal.load(Ordering::SeqCst) != 0
    }
}

/// Signal handlers are process-wide: one clock per process.
static INSTALLED: OnceLock<SignalClock> = OnceLock::new();

impl SignalClock {
    /// Installs the SIGTERM and SIGINT handlers (once per process); from now on those signals no
    /// longer end the process.
    pub fn install() -> Result<&'static SignalClock> {
        if let Some(clock) = INSTALLED.get() {
            return Ok(clock);
        }
        let clock = SignalClock::with_handlers()?;
        Ok(INSTALLED.get_or_init(|| clock))
    }

    fn with_handlers() -> Result<SignalClock> {
        let (wake_up, wake_up_writer) =
            UnixStream::pair().context("creating the signal wake-up socket")?;
        let signals = Arc::new(Signals {
            nudges: wake_up_writer
                .try_clone()
                .context("creating the signal wake-up socket")?,
            last_signal: Arc::new(AtomicUsize::new(0)),
        });
        for signal in [SIGTERM, SIGINT] {
            // The flag is set before the wake-up byte is written, so the reader sees which signal.
            signal_hook::flag::register_usize(
                signal,
                Arc::clone(&signals.last_signal),
                signal_number(signal),
            )
            .context("installing a signal handler")?;
            let writer = wake_up_writer
                .try_clone()
                .context("creating the signal wake-up socket")?;
            signal_hook::low_level::pipe::register(signal, writer)
                .context("installing a signal handler")?;
        }
        Ok(SignalClock { wake_up, signals })
    }

    /// The signal that arrived, if any: the flag is set before the wake-up byte is written.
    fn signal_name(&self) -> Option<&'static str> {
        match self.signals.last_signal.load(Ordering::SeqCst) {
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

impl Clock for SignalClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, pause: Duration) {
        thread::sleep(pause);
    }

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
        Nudger::new(Arc::clone(&self.signals) as Arc<dyn WakeUp>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: signal handlers are process-wide, so a raised signal reaches every waiter.
    #[test]
    fn a_wait_ends_when_its_window_passes_when_nudged_and_for_good_on_a_signal() {
        let clock = SignalClock::install().unwrap();
        assert!(std::ptr::eq(clock, SignalClock::install().unwrap()));
        let started = Instant::now();
        assert_eq!(clock.wait(Duration::from_millis(30)), Wake::Elapsed);
        assert!(started.elapsed() >= Duration::from_millis(30));

        let nudger = clock.nudger();
        assert!(!nudger.signal_arrived());
        let from_thread = nudger.clone();
        thread::spawn(move || from_thread.nudge());
        let started = Instant::now();
        assert_eq!(clock.wait(Duration::from_secs(30)), Wake::Nudged);
        assert!(started.elapsed() < Duration::from_secs(5));

        signal_hook::low_level::raise(SIGINT).unwrap();
        assert!(nudger.signal_arrived());
        assert_eq!(clock.wait(Duration::from_secs(30)), Wake::Signal("SIGINT"));
        assert_eq!(clock.wait(Duration::from_secs(30)), Wake::Signal("SIGINT"));
    }
}
