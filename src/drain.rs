//! Holding the drain window, and ending it early when SIGTERM or SIGINT arrives.
//!
//! The handlers are installed before prestop sends anything, so a signal that comes during the
//! registry step is not lost: the drain then ends at once. A signal does not stop the registry
//! step itself, which is bounded on its own. Hooks take a [`Sleeper`] so tests can check the
//! window they asked for without waiting it out.

use std::io::{ErrorKind, Read};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};

/// How a drain ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// The whole window passed.
    Full,
    /// A signal ended it after `after`.
    CutShort {
        after: Duration,
        signal: &'static str,
    },
}

pub trait Sleeper {
    /// Waits for `window`, or less if interrupted.
    fn hold(&self, window: Duration) -> Held;
}

/// Sleeps until the window passes or SIGTERM/SIGINT arrives.
pub struct SignalSleeper {
    wake_up: UnixStream,
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
            last_signal,
        })
    }

    fn signal_name(&self) -> &'static str {
        match self.last_signal.load(Ordering::SeqCst) {
            signal if signal == signal_number(SIGINT) => "SIGINT",
            _ => "SIGTERM",
        }
    }
}

/// A signal's number as the flag holds it; signal numbers are small and positive.
fn signal_number(signal: i32) -> usize {
    usize::try_from(signal).unwrap_or_default()
}

impl Sleeper for SignalSleeper {
    fn hold(&self, window: Duration) -> Held {
        let started = Instant::now();
        loop {
            let remaining = window.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                return Held::Full;
            }
            let mut byte = [0u8; 1];
            let read = self
                .wake_up
                .set_read_timeout(Some(remaining))
                .and_then(|()| (&self.wake_up).read(&mut byte));
            match read {
                Ok(1..) => {
                    return Held::CutShort {
                        after: started.elapsed(),
                        signal: self.signal_name(),
                    };
                }
                Err(err)
                    if matches!(
                        err.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                // The socket cannot fail us here in practice; if it does, still hold the pod.
                Ok(0) | Err(_) => {
                    thread::sleep(remaining);
                    return Held::Full;
                }
            }
        }
    }
}

#[cfg(test)]
pub mod fake {
    use super::*;
    use std::sync::Mutex;

    /// Records the windows asked for and returns at once.
    #[derive(Default)]
    pub struct RecordingSleeper {
        pub windows: Mutex<Vec<Duration>>,
    }

    impl Sleeper for RecordingSleeper {
        fn hold(&self, window: Duration) -> Held {
            self.windows.lock().unwrap().push(window);
            Held::Full
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: signal handlers are process-wide, so a raised signal reaches every sleeper.
    #[test]
    fn the_window_passes_unless_a_signal_cuts_it_short() {
        let sleeper = SignalSleeper::install().unwrap();
        let started = Instant::now();
        assert_eq!(sleeper.hold(Duration::from_millis(30)), Held::Full);
        assert!(started.elapsed() >= Duration::from_millis(30));

        signal_hook::low_level::raise(SIGINT).unwrap();
        match sleeper.hold(Duration::from_secs(30)) {
            Held::CutShort { after, signal } => {
                assert_eq!(signal, "SIGINT");
                assert!(after < Duration::from_secs(5));
            }
            Held::Full => panic!("the drain was not cut short"),
        }
    }
}
