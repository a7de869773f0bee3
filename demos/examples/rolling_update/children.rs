//! The child processes the demo starts (service instances and eureka-hook), tracked so that none
//! outlives it: a [`ChildProcess`] is killed when dropped, and [`install_cleanup`] kills every
//! live one when the demo panics or gets SIGINT, SIGTERM or SIGHUP. (The release profile aborts
//! on panic, so drops alone would not run.) Signals to children go through kill(1), as std can
//! only send SIGKILL.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Pids of the children that have not been reaped yet.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// How often a bounded wait looks at a child again.
const POLL: Duration = Duration::from_millis(5);

/// A started child process, killed and reaped when dropped unless it already exited.
pub struct ChildProcess {
    child: Child,
    /// Says which child this is in messages, e.g. `instance 127.0.0.1:rolling-demo:40123`.
    name: String,
    exited: Option<ExitStatus>,
}

impl ChildProcess {
    pub fn spawn(command: &mut Command, name: impl Into<String>) -> Result<ChildProcess> {
        let name = name.into();
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;
        live().push(child.id());
        Ok(ChildProcess {
            child,
            name,
            exited: None,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Names the child better once more is known about it.
    pub fn rename(&mut self, name: String) {
        self.name = name;
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Sends `signal` (a name kill(1) knows, e.g. `TERM`).
    pub fn signal(&self, signal: &str) -> Result<()> {
        send_signal(signal, &[self.child.id()])
            .with_context(|| format!("sending SIG{signal} to {}", self.name))
    }

    /// Waits up to `bound` for the child to exit.
    pub fn wait_exit(&mut self, bound: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!("{} did not exit within {bound:?}", self.name);
            }
            thread::sleep(POLL);
        }
    }

    fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if self.exited.is_none() {
            self.exited = self
                .child
                .try_wait()
                .with_context(|| format!("waiting for {}", self.name))?;
            if self.exited.is_some() {
                forget(self.child.id());
            }
        }
        Ok(self.exited)
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if matches!(self.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            forget(self.child.id());
        }
    }
}

/// Kills every live child when the demo panics or is interrupted; the demo then exits with 130.
pub fn install_cleanup() -> Result<()> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        kill_all_live();
        previous_hook(info);
    }));
    let (mut wake_up, wake_up_writer) =
        UnixStream::pair().context("creating the signal wake-up socket")?;
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        let writer = wake_up_writer
            .try_clone()
            .context("creating the signal wake-up socket")?;
        signal_hook::low_level::pipe::register(signal, writer)
            .context("installing a signal handler")?;
    }
    thread::Builder::new()
        .name("signal-cleanup".into())
        .spawn(move || {
            let mut byte = [0u8; 1];
            if wake_up.read(&mut byte).is_ok() {
                let killed = kill_all_live();
                eprintln!("rolling_update: interrupted; killed {killed} child process(es)");
                std::process::exit(130);
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// SIGKILLs every live child; returns how many there were. Never blocks on the list's lock, so
/// it is safe in a panic hook.
fn kill_all_live() -> usize {
    let pids = match LIVE.try_lock() {
        Ok(pids) => pids.clone(),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner().clone(),
        Err(std::sync::TryLockError::WouldBlock) => return 0,
    };
    if !pids.is_empty() {
        let _ = send_signal("KILL", &pids);
    }
    pids.len()
}

fn send_signal(signal: &str, pids: &[u32]) -> Result<()> {
    let status = Command::new("kill")
        .arg("-s")
        .arg(signal)
        .args(pids.iter().map(u32::to_string))
        .stdin(Stdio::null())
        .status()
        .context("running kill(1)")?;
    if !status.success() {
        bail!("kill -s {signal} exited with {status}");
    }
    Ok(())
}

fn forget(pid: u32) {
    live().retain(|live_pid| *live_pid != pid);
}

fn live() -> std::sync::MutexGuard<'static, Vec<u32>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}
