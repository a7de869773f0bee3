//! The inbound watch while the drain runs: a thread samples the app's connections 4 times a
//! second, the drain asks it how long --until-quiet holds, and at the drain's end it logs who sent
//! data after the mark. The first sample is taken before the drain starts, so a namespace where
//! `sock_diag` is missing or refused is reported at once; a later failure stops the watch with one
//! warning. The thread never holds the drain or the process: each read waits at most
//! [`READ_BOUND`], the drain reads what the thread has so far, and the report does not wait for
//! the thread to stop.

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use super::InboundSettings;
use super::accounting::{Accounting, Observed, inbound_of};
use super::sock_diag::SockDiag;
use crate::clock::Clock;
use crate::log::{self, Level};

/// 2 samples a second at most. A consumer that opens a new connection for each request still
/// shows: the app's side of each lingers in `TIME_WAIT` after the app closed it, and the time since
/// the last data of an open connection is the kernel's, to the millisecond.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(500);
/// The wait after a sample is at least this many times the CPU time the sample took: a sample is
/// one walk of the kernel's TCP tables (the host's, about 4 ms for 2^18 buckets), so on a host
/// with larger tables the watch samples less often rather than cost more than 1 % of a core.
const CPU_SHARE_DIVISOR: u32 = 100;
/// The longest one netlink read may wait.
const READ_BOUND: Duration = Duration::from_millis(100);
/// Data this close to the drain's end means requests were still arriving.
const LATE: Duration = Duration::from_secs(5);

struct Shared {
    accounting: Accounting,
    /// The watch stopped on an error: what it saw stands, but quiet can no longer be told.
    failed: bool,
}

/// The running watch.
pub struct InboundWatch {
    shared: Arc<Mutex<Shared>>,
    until_quiet: Option<Duration>,
    stop: Sender<()>,
}

/// Starts watching inbound connections to `port` for data after `mark`; `None` (said in the log)
/// when the port is not known or `sock_diag` cannot be used.
pub fn start(
    port: Option<u16>,
    settings: &InboundSettings,
    mark: Instant,
    clock: &'static dyn Clock,
) -> Option<InboundWatch> {
    let Some(port) = port else {
        log::info(
            "inbound_not_watched",
            "inbound traffic is not watched: the app's port is not known (server.port is 0); \
             give --port",
        );
        return None;
    };
    let mut accounting = Accounting::new(mark, settings.ignored.clone());
    let sampler = Sampler::open(port)
        .and_then(|mut sampler| {
            sampler.sample(&mut accounting, clock)?;
            Ok(sampler)
        })
        .map_err(|err| io::Error::new(err.kind(), format!("sock_diag: {err}")));
    let shared = Arc::new(Mutex::new(Shared {
        accounting,
        failed: false,
    }));
    let stop = sampler.and_then(|sampler| sample_on(sampler, Arc::clone(&shared), clock));
    match stop {
        Ok(stop) => {
            log_started(port, settings);
            Some(InboundWatch {
                shared,
                until_quiet: settings.until_quiet,
                stop,
            })
        }
        Err(err) => {
            let quiet = if settings.until_quiet.is_some() {
                ", and --until-quiet has no effect"
            } else {
                ""
            };
            log::warn(
                "inbound_not_watched",
                &format!(
                    "inbound traffic cannot be watched here ({err}); the drain goes on without \
                     it{quiet}"
                ),
            );
            None
        }
    }
}

/// Runs the samples after the first in a thread of their own, until the returned sender is used
/// or dropped; a failed sample stops them with one warning.
fn sample_on(
    mut sampler: Sampler,
    shared: Arc<Mutex<Shared>>,
    clock: &'static dyn Clock,
) -> io::Result<Sender<()>> {
    let (stop, stopped) = channel::<()>();
    thread::Builder::new()
        .name("inbound".into())
        .spawn(move || {
            let mut wait = SAMPLE_INTERVAL;
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                let cpu_before = thread_cpu_time();
                let outcome = sampler.sample_into(&shared, clock);
                let cost = thread_cpu_time().saturating_sub(cpu_before);
                wait = SAMPLE_INTERVAL.max(cost.saturating_mul(CPU_SHARE_DIVISOR));
                if let Err(err) = outcome {
                    lock(&shared).failed = true;
                    log::warn(
                        "inbound_watch_failed",
                        &format!("inbound traffic is no longer watched (sock_diag: {err})"),
                    );
                    return;
                }
            }
        })?;
    Ok(stop)
}

/// The CPU time this thread has used; zero if it cannot be read (the wait then stays the same).
fn thread_cpu_time() -> Duration {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which outlives the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut time) } != 0 {
        return Duration::ZERO;
    }
    let seconds = u64::try_from(time.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(time.tv_nsec).unwrap_or(0);
    Duration::new(seconds, nanos)
}

fn log_started(port: u16, settings: &InboundSettings) {
    let ignored = if settings.ignored.is_empty() {
        String::new()
    } else {
        format!(", not counting {}", settings.ignored)
    };
    let quiet = settings.until_quiet.map_or(String::new(), |quiet| {
        format!(
            "; --until-quiet: the drain ends only after {} without inbound data, never past --drain",
            humantime::format_duration(quiet)
        )
    });
    log::info(
        "inbound_watch_started",
        &format!(
            "watching inbound TCP traffic to port {port} (IPv4 and IPv6, about 2 samples a second){ignored}{quiet}"
        ),
    );
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // The thread only adds numbers under the lock; a panic there leaves them usable.
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The netlink socket and what is remembered between samples.
struct Sampler {
    diag: SockDiag,
    port: u16,
    own_ends: HashSet<SocketAddr>,
}

impl Sampler {
    fn open(port: u16) -> io::Result<Sampler> {
        Ok(Sampler {
            diag: SockDiag::open(READ_BOUND)?,
            port,
            own_ends: HashSet::new(),
        })
    }

    /// The app's inbound connections now.
    fn observe(&mut self) -> io::Result<Vec<Observed>> {
        let connections = self.diag.connections(self.port)?;
        let own = if connections.is_empty() {
            HashSet::new()
        } else {
            own_socket_inodes()
        };
        Ok(inbound_of(
            &connections,
            self.port,
            &own,
            &mut self.own_ends,
        ))
    }

    // The instant is read after the dump: read before, a thread held up in between would make
    // data look older than it is, and --until-quiet end early.
    fn sample(&mut self, accounting: &mut Accounting, clock: &dyn Clock) -> io::Result<()> {
        let observed = self.observe()?;
        accounting.sample(clock.now(), &observed);
        Ok(())
    }

    /// As [`Sampler::sample`], holding the lock only to add the numbers up.
    fn sample_into(&mut self, shared: &Mutex<Shared>, clock: &dyn Clock) -> io::Result<()> {
        let observed = self.observe()?;
        let at = clock.now();
        lock(shared).accounting.sample(at, &observed);
        Ok(())
    }
}

/// The inodes of this process's sockets (its connections to the registry), from `/proc/self/fd`;
/// none when it cannot be read.
fn own_socket_inodes() -> HashSet<u32> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return HashSet::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

impl InboundWatch {
    /// `end` (the drain's end by --drain and --after-propagation), held until --until-quiet has
    /// passed without inbound data since the mark, never past `drain_end`.
    pub fn end(&self, end: Instant, drain_end: Instant) -> Instant {
        let Some(quiet) = self.until_quiet else {
            return end;
        };
        let shared = lock(&self.shared);
        if shared.failed {
            return end;
        }
        let last = shared
            .accounting
            .last_data()
            .unwrap_or_else(|| shared.accounting.mark());
        end.max(crate::clock::later(last, quiet).min(drain_end))
    }

    /// Stops the sampling and logs who sent data after the mark, the drain having ended at
    /// `ended_at`.
    pub fn finish(self, ended_at: Instant) {
        let _ = self.stop.send(());
        let shared = lock(&self.shared);
        report(&shared.accounting, ended_at);
    }
}

/// One line per source, the summary, and a warning if data was still arriving near the end.
fn report(accounting: &Accounting, ended_at: Instant) {
    let mark = accounting.mark();
    let mut late = Vec::new();
    for (source, totals) in accounting.sources() {
        let last = tenths(totals.last_at.saturating_duration_since(mark));
        log::emit_values(
            Level::Info,
            "inbound",
            &format!(
                "inbound from {source}: {} connection(s), {} bytes after the mark, last at +{} s",
                totals.connections,
                totals.bytes,
                shown(last)
            ),
            &[
                ("source", source.to_string().into()),
                ("connections", totals.connections.into()),
                ("bytes", totals.bytes.into()),
                ("last_seconds", seconds_value(last)),
            ],
        );
        if ended_at.saturating_duration_since(totals.last_at) < LATE {
            late.push(source.to_string());
        }
    }
    let last = accounting
        .last_data()
        .map(|last| tenths(last.saturating_duration_since(mark)));
    let message = match last {
        Some(last) => format!("last inbound data at +{} s after the mark", shown(last)),
        None => "no inbound data after the mark".to_string(),
    };
    log::emit_values(
        Level::Info,
        "inbound_summary",
        &message,
        &[(
            "last_seconds",
            last.map_or(serde_json::Value::Null, seconds_value),
        )],
    );
    if !late.is_empty() {
        log::emit(
            Level::Warn,
            "inbound_late",
            &format!(
                "inbound data was still arriving in the last {} s of the drain, from {}: their \
                 consumers still route to this pod; raise --after-propagation, use --until-quiet, \
                 or check those consumers' load-balancer caches",
                LATE.as_secs(),
                late.join(", ")
            ),
            &[("sources", &late.join(","))],
        );
    }
}

fn tenths(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis().saturating_add(50) / 100).unwrap_or(u64::MAX)
}

fn shown(tenths: u64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Tenths of a second as a JSON number of seconds.
fn seconds_value(tenths: u64) -> serde_json::Value {
    #[allow(clippy::cast_precision_loss)] // tenths of a drain: far below 2^52
    let seconds = tenths as f64 / 10.0;
    serde_json::Number::from_f64(seconds).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// What the watch would do, for --dry-run.
pub fn planned(port: Option<u16>, settings: &InboundSettings) -> String {
    let Some(port) = port else {
        return "  during the drain: inbound traffic is not watched (the app's port is not known)\n"
            .to_string();
    };
    let counted = if settings.ignored.is_empty() {
        "every source counted".to_string()
    } else {
        format!("not counting {}", settings.ignored)
    };
    let quiet = settings.until_quiet.map_or(String::new(), |quiet| {
        format!(
            "; the drain ends only after {} without it (--until-quiet), never past --drain",
            humantime::format_duration(quiet)
        )
    });
    format!(
        "  during the drain: inbound TCP traffic to port {port} watched (sock_diag, every {}ms or \
         less often where a sample is slow), \
         {counted}; who sent data after the mark is logged at the end{quiet}\n",
        SAMPLE_INTERVAL.as_millis()
    )
}
