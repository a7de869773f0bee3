//! The real `eureka-hook` binary: built in this example's profile (as examples/demo.rs builds it)
//! and run as kubelet runs a preStop exec hook, with a clean environment and everything on the
//! command line; kubelet sends SIGTERM only after it returns, whatever its exit code. It gets no
//! app name, as a generic pod spec gives none: it finds each instance in the registry by host and
//! port (issue 18).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::children::ChildProcess;
use crate::cli::{HOST, show};

/// How long building eureka-hook may take.
const BUILD_BOUND: Duration = Duration::from_secs(900);
/// Beyond the drain, what prestop may spend: three request timeouts of 5 s, plus slack.
const REGISTRY_BOUND: Duration = Duration::from_secs(20);

pub struct HookBinary {
    path: PathBuf,
}

/// How one prestop run ended.
pub struct HookRun {
    pub exit_code: Option<i32>,
    pub took: Duration,
    /// What it logged (stderr).
    pub log: String,
}

/// The flags a mode gives `eureka-hook prestop` besides the drain.
#[derive(Clone, Copy, Debug, Default)]
pub struct HookFlags {
    pub after_propagation: Option<Duration>,
    pub until_quiet: Option<Duration>,
}

impl HookBinary {
    /// Builds `eureka-hook` in this example's profile and returns it.
    pub fn build() -> Result<HookBinary> {
        let example = std::env::current_exe().context("locating this example's binary")?;
        // target/<profile>/examples/rolling_update -> target/<profile>/eureka-hook
        let profile_dir = example
            .parent()
            .and_then(|examples| examples.parent())
            .context("cannot locate the target directory")?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = eureka_hook_demos::nested_cargo(cargo);
        build
            .args(["build", "--quiet", "--bin", "eureka-hook"])
            .current_dir(eureka_hook_demos::repo_root());
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = ChildProcess::spawn(&mut build, "cargo build of eureka-hook")?
            .wait_exit(BUILD_BOUND)?;
        if !status.success() {
            bail!("building eureka-hook failed ({status})");
        }
        Ok(HookBinary {
            path: profile_dir.join("eureka-hook"),
        })
    }

    /// `eureka-hook prestop --drain DRAIN [--after-propagation AFTER] [--until-quiet QUIET]
    /// --server-cache CACHE` for the instance listening on `port`; waits for it.
    pub fn prestop(
        &self,
        eureka_url: &str,
        port: u16,
        drain: Duration,
        flags: HookFlags,
        server_cache: Duration,
    ) -> Result<HookRun> {
        let mut command = Command::new(&self.path);
        command
            .args(["prestop", "--drain", &show(drain)])
            .args(["--server-cache", &show(server_cache)]);
        if let Some(after) = flags.after_propagation {
            command.args(["--after-propagation", &show(after)]);
        }
        if let Some(quiet) = flags.until_quiet {
            command.args(["--until-quiet", &show(quiet)]);
        }
        command
            .args(["--eureka-url", eureka_url])
            .args(["--hostname", HOST])
            .args(["--port", &port.to_string()])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut hook =
            ChildProcess::spawn(&mut command, format!("eureka-hook prestop (port {port})"))?;
        let stderr = hook
            .child_mut()
            .stderr
            .take()
            .context("the hook's stderr was not captured")?;
        let log = thread::spawn(move || {
            let mut log = String::new();
            let _ = { stderr }.read_to_string(&mut log);
            log
        });
        let status = hook.wait_exit(drain + REGISTRY_BOUND)?;
        let took = started.elapsed();
        Ok(HookRun {
            exit_code: status.code(),
            took,
            log: log.join().unwrap_or_default(),
        })
    }
}
