//! One service instance, run as its own process (`rolling_update serve-instance`) so that SIGTERM
//! is a real signal. It behaves as a Spring Boot app with Spring Cloud Netflix's Eureka client:
//! after `--startup` it listens on 127.0.0.1 (a free port, written as its only stdout line for the
//! demo), registers, heartbeats, and answers every request with 200. On SIGTERM or SIGINT it
//! cancels its registration, stops accepting connections, finishes the request in hand and exits
//! 0. It exits at once when its stdin closes, that is when the demo is gone.

use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use signal_hook::consts::{SIGINT, SIGTERM};
use tiny_http::{Response, Server};

use crate::cli::{HOST, InstanceArgs};
use crate::registration::Registration;

/// Starts the instance's only stdout line: `port=40123`.
pub const PORT_LINE_PREFIX: &str = "port=";

/// Runs the instance until SIGTERM or SIGINT.
pub fn serve(args: &InstanceArgs) -> Result<()> {
    let shutdown = ShutdownSignal::install()?;
    exit_when_stdin_closes()?;
    if shutdown.arrives_within(Some(args.startup)) {
        return Ok(());
    }
    let server =
        Arc::new(Server::http((HOST, 0)).map_err(|err| anyhow!("listening on {HOST}: {err}"))?);
    let port = server
        .server_addr()
        .to_ip()
        .map(|addr| addr.port())
        .context("tiny_http did not bind an IP address")?;
    let mut registration = Registration::new(&args.eureka_url, port, args.heartbeat);
    let id = registration.id();
    let answering = answer_requests(Arc::clone(&server), id.clone())?;
    announce_port(port)?;
    registration.register()?;
    let registration = Arc::new(Mutex::new(registration));
    let (stop_heartbeats, heartbeats) = heartbeat(Arc::clone(&registration), args.heartbeat)?;

    shutdown.arrives_within(None);
    drop(stop_heartbeats);
    let _ = heartbeats.join();
    if let Err(err) = lock(&registration).cancel() {
        eprintln!("instance {id}: {err:#}");
    }
    server.unblock();
    let _ = answering.join();
    drop(server);
    Ok(())
}

/// SIGTERM or SIGINT, caught from the start so that one sent while starting is not lost.
struct ShutdownSignal {
    wake_up: UnixStream,
}

impl ShutdownSignal {
    fn install() -> Result<ShutdownSignal> {
        let (wake_up, writer) = UnixStream::pair().context("creating the signal socket")?;
        for signal in [SIGTERM, SIGINT] {
            let writer = writer.try_clone().context("creating the signal socket")?;
            signal_hook::low_level::pipe::register(signal, writer)
                .context("installing a signal handler")?;
        }
        Ok(ShutdownSignal { wake_up })
    }

    /// Whether a signal arrives within `bound` (`None`: waits for one).
    fn arrives_within(&self, bound: Option<Duration>) -> bool {
        if bound.is_some_and(|bound| bound.is_zero()) {
            return false;
        }
        let mut byte = [0u8; 1];
        loop {
            let read = self
                .wake_up
                .set_read_timeout(bound)
                .and_then(|()| (&self.wake_up).read(&mut byte));
            match read {
                Ok(_) => return true,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }
}

fn exit_when_stdin_closes() -> Result<()> {
    thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(|| {
            let _ = io::copy(&mut io::stdin(), &mut io::sink());
            std::process::exit(1);
        })
        .context("starting the stdin watcher")?;
    Ok(())
}

fn announce_port(port: u16) -> Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{PORT_LINE_PREFIX}{port}")
        .and_then(|()| stdout.flush())
        .context("telling the demo the port")
}

/// Answers every request with 200 and the instance id, one at a time, until the server is
/// unblocked.
fn answer_requests(server: Arc<Server>, id: String) -> Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("answer".into())
        .spawn(move || {
            while let Ok(request) = server.recv() {
                let _ = request.respond(Response::from_string(format!("{id}\n")));
            }
        })
        .context("starting the request thread")
}

/// Renews the lease every `interval` until the returned sender is dropped.
fn heartbeat(
    registration: Arc<Mutex<Registration>>,
    interval: Duration,
) -> Result<(Sender<()>, JoinHandle<()>)> {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = thread::Builder::new()
        .name("heartbeat".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                let mut registration = lock(&registration);
                if let Err(err) = registration.renew() {
                    eprintln!("instance {}: {err:#}", registration.id());
                }
            }
        })
        .context("starting the heartbeat thread")?;
    Ok((stop, thread))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
