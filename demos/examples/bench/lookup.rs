//! Issue 18's cost of finding this pod's instance with no app name, per peer: `eureka-hook
//! status` with no app name against a double that holds 1000 instances (this pod's among 999 of
//! other apps), beside the same `status` given `--app`. Per run: the bytes of `GET apps/` on the
//! wire (gzipped) and decoded, and the read's time as the hook logs it; the whole run's wall time,
//! CPU time (user+sys) and, under GNU time, its peak RSS. A figure, not a target.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use eureka_double::{EurekaDouble, InstanceSpec};
use serde_json::{Value, json};

use crate::scenario::children_cpu;
use crate::stats::{Summary, median_u64, show};
use crate::tools::GNU_TIME;

/// Instances in the registry, this pod's included.
pub const INSTANCES: u32 = 1000;
/// This pod's instance: an app and host of its own, on an address no crowd instance has.
const APP: &str = "lookup-service";
const HOST: &str = "lookup-pod-0";
const ADDRESS: &str = "10.255.0.1";
const PORT: u16 = 8080;

/// What the look-up cost, over every run.
pub struct LookupCost {
    pub runs: usize,
    /// `GET apps/`'s body on the wire (gzipped) and as JSON text.
    pub wire_bytes: u64,
    pub text_bytes: u64,
    /// The read's time as the hook logged it (request and decoding).
    pub read: Summary,
    /// The whole `status` run, with no app name and with `--app`.
    pub wall_unnamed: Summary,
    pub wall_named: Summary,
    pub cpu_unnamed: Summary,
    pub cpu_named: Summary,
    pub rss_unnamed_kib: u64,
    pub rss_named_kib: u64,
    pub failures: Vec<String>,
}

/// Runs `hook` `runs` times each way (and `rss_runs` times each under GNU time).
pub fn measure(hook: &Path, runs: usize, rss_runs: usize) -> Result<LookupCost> {
    let registry = EurekaDouble::start();
    let others = INSTANCES.saturating_sub(1);
    let per_app = others / 10;
    for app in 0..10 {
        registry.register_many(&format!("crowd-{app}"), app * per_app, per_app);
    }
    let id = registry.register(InstanceSpec::new(APP, HOST, PORT).ip_addr(ADDRESS));
    let wire_bytes = u64::try_from(read_size(&registry, true)?)?;
    let text_bytes = u64::try_from(read_size(&registry, false)?)?;
    let mut reads = Vec::new();
    let (mut unnamed, mut named) = (Vec::new(), Vec::new());
    let (mut cpu_unnamed, mut cpu_named) = (Vec::new(), Vec::new());
    let (mut rss_unnamed, mut rss_named) = (Vec::new(), Vec::new());
    let mut failures = Vec::new();
    for round in 0..runs + rss_runs {
        let rss = round >= runs;
        for with_app in [false, true] {
            let cpu_before = children_cpu();
            let (output, wall, peak) = run(hook, &registry, with_app, rss)?;
            let cpu = children_cpu()
                .zip(cpu_before)
                .map(|(after, before)| after.saturating_sub(before));
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() || !stdout.contains(&id) {
                failures.push(format!(
                    "status{}: {}: {}",
                    if with_app { " --app" } else { "" },
                    output.status,
                    stderr.lines().last().unwrap_or_default()
                ));
                continue;
            }
            match (with_app, rss) {
                (false, false) => {
                    unnamed.push(wall);
                    cpu_unnamed.extend(cpu);
                    reads.push(
                        logged_read_time(&stderr).with_context(|| {
                            format!("the hook logged no registry read:\n{stderr}")
                        })?,
                    );
                }
                (true, false) => {
                    named.push(wall);
                    cpu_named.extend(cpu);
                }
                (false, true) => rss_unnamed.extend(peak),
                (true, true) => rss_named.extend(peak),
            }
        }
    }
    Ok(LookupCost {
        runs,
        wire_bytes,
        text_bytes,
        read: Summary::of(&reads).context("no look-up ran")?,
        wall_unnamed: Summary::of(&unnamed).context("no run with no app name succeeded")?,
        wall_named: Summary::of(&named).context("no run with --app succeeded")?,
        cpu_unnamed: Summary::of(&cpu_unnamed).context("no CPU time (getrusage failed)")?,
        cpu_named: Summary::of(&cpu_named).context("no CPU time (getrusage failed)")?,
        rss_unnamed_kib: median_u64(&rss_unnamed).context("no RSS run with no app name")?,
        rss_named_kib: median_u64(&rss_named).context("no RSS run with --app")?,
        failures,
    })
}

/// The size of `GET apps/`'s body as the double sends it, gzipped or not.
fn read_size(registry: &EurekaDouble, gzip: bool) -> Result<usize> {
    let mut request =
        ureq::get(format!("{}apps/", registry.base_url())).header("Accept", "application/json");
    if gzip {
        request = request.header("Accept-Encoding", "gzip");
    }
    let mut response = request.call().context("reading the double's apps/")?;
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .context("reading the double's apps/ body")?;
    Ok(body.len())
}

/// One `status` run; its output, wall time, and peak RSS in KiB under GNU time.
fn run(
    hook: &Path,
    registry: &EurekaDouble,
    with_app: bool,
    rss: bool,
) -> Result<(Output, Duration, Option<u64>)> {
    let rss_file = std::env::temp_dir().join(format!(
        "eureka-hook-bench-lookup-{}.rss",
        std::process::id()
    ));
    let mut argv: Vec<OsString> = Vec::new();
    if rss {
        argv.extend(["-f", "%M", "-o"].map(OsString::from));
        argv.push(rss_file.clone().into());
        argv.push(hook.into());
    }
    argv.extend(["status", "--hostname", HOST, "--eureka-url"].map(OsString::from));
    argv.push(registry.base_url().into());
    if with_app {
        argv.extend(["--app", APP].map(OsString::from));
    }
    let program: OsString = if rss { GNU_TIME.into() } else { hook.into() };
    let started = Instant::now();
    let output = Command::new(&program)
        .args(&argv)
        .env_clear()
        .env("SERVER_PORT", PORT.to_string())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", hook.display()))?;
    let wall = started.elapsed();
    let peak = if rss {
        let text = std::fs::read_to_string(&rss_file).context("reading GNU time's output")?;
        let kib = text
            .lines()
            .last()
            .and_then(|line| line.trim().parse().ok());
        if kib.is_none() {
            bail!("GNU time wrote no peak RSS: {text}");
        }
        kib
    } else {
        None
    };
    Ok((output, wall, peak))
}

/// The `N ms` of the hook's `… instances listed (B bytes on the wire, N ms)` line.
fn logged_read_time(stderr: &str) -> Option<Duration> {
    let line = stderr
        .lines()
        .find(|line| line.contains("instances listed"))?;
    let millis = line.rsplit(", ").next()?.strip_suffix(" ms)")?;
    millis.trim().parse().ok().map(Duration::from_millis)
}

impl LookupCost {
    /// The figures, for a person.
    pub fn print(&self) {
        println!(
            "no app name: the look-up in a {INSTANCES}-instance registry, per peer ({} runs):",
            self.runs
        );
        println!(
            "  GET apps/: {} bytes on the wire (gzipped), {} bytes of JSON; read and decoded in \
             {} median, {} p90 (the hook's log)",
            self.wire_bytes,
            self.text_bytes,
            show(self.read.median),
            show(self.read.p90)
        );
        println!(
            "  eureka-hook status, no app name against --app (medians): wall {} against {}, CPU \
             user+sys {} against {}, peak RSS {} KiB against {} KiB",
            show(self.wall_unnamed.median),
            show(self.wall_named.median),
            show(self.cpu_unnamed.median),
            show(self.cpu_named.median),
            self.rss_unnamed_kib,
            self.rss_named_kib
        );
        for failure in &self.failures {
            println!("- FAILED {failure}");
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "registry_instances": INSTANCES,
            "runs": self.runs,
            "apps_wire_bytes": self.wire_bytes,
            "apps_json_bytes": self.text_bytes,
            "read_ms": self.read.to_json(),
            "status_wall_ms_no_app_name": self.wall_unnamed.to_json(),
            "status_wall_ms_with_app": self.wall_named.to_json(),
            "status_cpu_ms_no_app_name": self.cpu_unnamed.to_json(),
            "status_cpu_ms_with_app": self.cpu_named.to_json(),
            "status_peak_rss_kib_no_app_name": self.rss_unnamed_kib,
            "status_peak_rss_kib_with_app": self.rss_named_kib,
            "failures": self.failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_time_comes_from_the_hooks_log_line() {
        let log = "eureka-hook: info: no app name: looking\n\
            eureka-hook: info: peer http://127.0.0.1:1/eureka/: 1000 instances listed (39162 bytes on the wire, 12 ms)\n";
        assert_eq!(logged_read_time(log), Some(Duration::from_millis(12)));
        assert_eq!(logged_read_time("nothing"), None);
    }
}
