//! The service's instances as the rollout sees them, like pods: processes started from this
//! example in its `serve-instance` role, whose port is learnt from their first stdout line, that
//! are ready once the registry holds them UP, and that are stopped with SIGTERM.

use std::io::{self, BufRead, BufReader};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use eureka_double::EurekaDouble;

use crate::children::ChildProcess;
use crate::cli::{APP, Settings, show};
use crate::jitter;
use crate::registration::instance_id;
use crate::service::PORT_LINE_PREFIX;

/// How long an instance may take beyond its startup delay to listen, and to register.
const START_SLACK: Duration = Duration::from_secs(10);
/// How long an instance may take to exit after SIGTERM (cancel, then close).
const EXIT_BOUND: Duration = Duration::from_secs(10);
/// How often readiness is checked.
const POLL: Duration = Duration::from_millis(5);

/// An instance process that was started and has not yet said which port it listens on.
pub struct Launch {
    process: ChildProcess,
    port_line: Receiver<Result<u16>>,
}

/// A running instance.
pub struct Instance {
    /// Its Eureka instance id, `127.0.0.1:rolling-demo:PORT`.
    pub id: String,
    pub port: u16,
    process: ChildProcess,
}

impl Launch {
    /// Starts an instance registering at `eureka_url`.
    pub fn spawn(eureka_url: &str, settings: &Settings) -> Result<Launch> {
        let example = std::env::current_exe().context("locating this example's binary")?;
        let mut command = Command::new(example);
        command
            .arg("serve-instance")
            .args(["--eureka-url", eureka_url])
            .args(["--heartbeat", &show(settings.heartbeat)])
            .args(["--startup", &show(jitter::around(settings.startup))])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut process = ChildProcess::spawn(&mut command, "a new instance")?;
        let stdout = process
            .child_mut()
            .stdout
            .take()
            .context("the instance's stdout was not captured")?;
        Ok(Launch {
            process,
            port_line: read_port_line(stdout)?,
        })
    }

    /// Waits up to twice `startup` plus some slack for the instance to say its port.
    pub fn listening(self, startup: Duration) -> Result<Instance> {
        let bound = startup * 2 + START_SLACK;
        let port = self
            .port_line
            .recv_timeout(bound)
            .map_err(|_| anyhow!("a new instance did not say its port within {bound:?}"))??;
        let id = instance_id(port);
        let mut process = self.process;
        process.rename(format!("instance {id}"));
        Ok(Instance { id, port, process })
    }
}

impl Instance {
    /// Starts an instance and waits until it listens.
    pub fn start(eureka_url: &str, settings: &Settings) -> Result<Instance> {
        Launch::spawn(eureka_url, settings)?.listening(settings.startup)
    }

    /// Waits until the registry itself (not its response cache) holds the instance UP, as a
    /// readiness gate would.
    pub fn wait_until_up(&self, registry: &EurekaDouble) -> Result<()> {
        let started = Instant::now();
        loop {
            let status = registry.instance(APP, &self.id).map(|state| state.status);
            if status.as_deref() == Some("UP") {
                return Ok(());
            }
            if started.elapsed() > START_SLACK {
                bail!(
                    "instance {} is not UP in the registry after {START_SLACK:?} (status: {})",
                    self.id,
                    status.as_deref().unwrap_or("not registered")
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Sends SIGTERM, as kubelet does when the preStop hook (if any) has returned.
    pub fn sigterm(&self) -> Result<()> {
        self.process.signal("TERM")
    }

    /// Waits for the instance to exit after SIGTERM; a clean stop exits 0.
    pub fn wait_exit(&mut self) -> Result<()> {
        let status = self.process.wait_exit(EXIT_BOUND)?;
        if !status.success() {
            bail!("{} exited with {status}", self.process.name());
        }
        Ok(())
    }
}

/// Starts `count` instances at once and waits until each listens and is UP in the registry.
pub fn start_fleet(
    count: usize,
    registry: &EurekaDouble,
    settings: &Settings,
) -> Result<Vec<Instance>> {
    let launches = (0..count)
        .map(|_| Launch::spawn(&registry.base_url(), settings))
        .collect::<Result<Vec<_>>>()?;
    let fleet = launches
        .into_iter()
        .map(|launch| launch.listening(settings.startup))
        .collect::<Result<Vec<_>>>()?;
    for instance in &fleet {
        instance.wait_until_up(registry)?;
    }
    Ok(fleet)
}

/// Reads the port from the instance's first stdout line on a thread of its own (so the wait
/// can be bounded), then drains the rest.
fn read_port_line(stdout: ChildStdout) -> Result<Receiver<Result<u16>>> {
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name("port-line".into())
        .spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let port = reader
                .read_line(&mut line)
                .context("reading the instance's port")
                .and_then(|_| parse_port_line(&line));
            let _ = sender.send(port);
            let _ = io::copy(&mut reader, &mut io::sink());
        })
        .context("starting the port reader")?;
    Ok(receiver)
}

fn parse_port_line(line: &str) -> Result<u16> {
    line.trim()
        .strip_prefix(PORT_LINE_PREFIX)
        .and_then(|port| port.parse().ok())
        .with_context(|| format!("the instance wrote {line:?} instead of {PORT_LINE_PREFIX}PORT"))
}
