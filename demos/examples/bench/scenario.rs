//! The two ways to take an instance out of Eureka, run as fresh processes against one in-process
//! Eureka double on 127.0.0.1, and what the double saw of each run.
//!
//! Both get the same environment (PATH plus the variables either one reads, `EUREKA_HOSTNAME` set
//! to this machine's hostname as `$(hostname)` gives it to the recipe) and no stdin; stdout
//! goes to /dev/null and stderr is kept to explain a failure. Before each run the instance is set
//! back to UP and the request log cleared, so every run makes the same UP -> OUT_OF_SERVICE change.
//! A run succeeded when the process exited 0, the double answered its status PUT with 200, and the
//! instance is OUT_OF_SERVICE afterwards.
//!
//! The hook is also run zero-config: without `SERVER_PORT`, `PORT` and `EUREKA_HOSTNAME`, so that
//! it finds the host as Spring Cloud does (this machine's interfaces and `/etc/hosts`) and PUTs
//! both of Spring's candidate ids; its own instance is registered under the second,
//! `{host}:{app}` (Spring's id when no port is configured anywhere), so the first PUT is answered
//! 404 and the second 200.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use eureka_double::{EurekaDouble, InstanceSpec, RecordedRequest};

use crate::stats::Summary;
use crate::tools::GNU_TIME;

/// `spring.application.name` and `server.port` of the instance both take out.
pub const APP: &str = "bench-service";
pub const PORT: u16 = 8080;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// `eureka-hook prestop --drain 0s`
    Hook,
    /// The same without `SERVER_PORT`, `PORT` and `EUREKA_HOSTNAME` (the zero-config path).
    HookZeroConfig,
    /// `sh -c "curl -s -X PUT …; sleep 0"`
    Recipe,
    /// For the breakdown: `curl -s -X PUT …` without sh, hostname and sleep.
    CurlAlone,
    /// For the breakdown: `eureka-hook --version`, exec and exit without a request.
    HookVersion,
}

impl Subject {
    fn sends_put(self) -> bool {
        matches!(
            self,
            Subject::Hook | Subject::HookZeroConfig | Subject::Recipe | Subject::CurlAlone
        )
    }

    /// The status PUTs a successful run sends: one, or one per candidate id zero-config.
    fn status_puts(self) -> usize {
        match self {
            Subject::HookZeroConfig => 2,
            _ => 1,
        }
    }
}

/// One finished run.
#[derive(Debug)]
pub struct Run {
    /// From just before `spawn` to `wait` returning (the process was reaped).
    pub wall: Duration,
    /// `None` when the run succeeded, else what went wrong.
    pub failure: Option<String>,
    /// `ru_maxrss` in KiB, when run under GNU time.
    pub peak_rss_kib: Option<u64>,
    /// User plus system CPU time of the process and the children it waited for (not under GNU
    /// time).
    pub cpu: Option<Duration>,
}

/// The double with this machine's instance registered, and the binary under test.
pub struct Scenario {
    registry: EurekaDouble,
    hook: PathBuf,
    host: String,
    id: String,
    /// The instance the zero-config hook marks: `{host}:{app}` on the host it finds itself.
    zero_config_id: String,
}

impl Scenario {
    /// Starts a double without the read-only response cache and registers `APP` on this host, as
    /// Spring Cloud would: once on the hostname (`EUREKA_HOSTNAME`, the recipe's `$(hostname)`),
    /// once on the host the zero-config hook finds.
    pub fn start(hook: &Path) -> Result<Scenario> {
        let registry = EurekaDouble::builder()
            .response_cache_interval(Duration::ZERO)
            .try_start()
            .context("starting the Eureka double")?;
        let host = hostname::get()
            .context("reading this machine's hostname")?
            .to_string_lossy()
            .into_owned();
        let mut scenario = Scenario {
            registry,
            hook: hook.to_owned(),
            host,
            id: String::new(),
            zero_config_id: String::new(),
        };
        let zero_config_id = scenario.zero_config_candidate()?;
        let zero_config_host = zero_config_id
            .strip_suffix(&format!(":{APP}"))
            .with_context(|| format!("the zero-config id {zero_config_id} is not {{host}}:{APP}"))?
            .to_owned();
        scenario.zero_config_id = scenario
            .registry
            .register(InstanceSpec::new(APP, &zero_config_host, PORT).instance_id(&zero_config_id));
        scenario.id = scenario
            .registry
            .register(InstanceSpec::new(APP, &scenario.host, PORT));
        Ok(scenario)
    }

    /// The last candidate id the zero-config hook PUTs (`{host}:{app}`), from one run against the
    /// empty registry: the ids as the hook builds them, without reading its log.
    fn zero_config_candidate(&self) -> Result<String> {
        let argv = self.argv(Subject::HookZeroConfig);
        self.command(&argv, Subject::HookZeroConfig)
            .output()
            .context("running the zero-config hook once to learn its candidate ids")?;
        let puts: Vec<String> = self
            .registry
            .requests()
            .iter()
            .filter(|request| is_status_put(request))
            .filter_map(|request| {
                let id = request.path.strip_suffix("/status")?.rsplit('/').next()?;
                Some(percent_decoded(id))
            })
            .collect();
        self.registry.clear_requests();
        match puts.as_slice() {
            [_, last] => Ok(last.clone()),
            other => bail!(
                "the zero-config hook PUT {} candidate id(s) ({other:?}), not Spring's two",
                other.len()
            ),
        }
    }

    pub fn base_url(&self) -> String {
        self.registry.base_url()
    }

    pub fn instance_id(&self) -> &str {
        &self.id
    }

    pub fn zero_config_instance_id(&self) -> &str {
        &self.zero_config_id
    }

    /// The instance `subject` takes out.
    fn id_of(&self, subject: Subject) -> &str {
        match subject {
            Subject::HookZeroConfig => &self.zero_config_id,
            _ => &self.id,
        }
    }

    /// The recipe as teams paste it, with the double's URL for `http://eureka:8761/eureka/` and
    /// `sleep 0` for the drain.
    pub fn recipe_script(&self) -> String {
        format!(
            "curl -s -X PUT {}apps/$APP/$(hostname):$APP:$PORT/status?value=OUT_OF_SERVICE; sleep 0",
            self.base_url()
        )
    }

    /// Program and arguments of `subject`.
    pub fn argv(&self, subject: Subject) -> Vec<OsString> {
        let hook = || self.hook.clone().into();
        match subject {
            Subject::Hook | Subject::HookZeroConfig => {
                vec![hook(), "prestop".into(), "--drain".into(), "0s".into()]
            }
            Subject::Recipe => vec!["sh".into(), "-c".into(), self.recipe_script().into()],
            Subject::CurlAlone => vec![
                "curl".into(),
                "-s".into(),
                "-X".into(),
                "PUT".into(),
                format!(
                    "{}apps/{APP}/{}/status?value=OUT_OF_SERVICE",
                    self.base_url(),
                    self.id
                )
                .into(),
            ],
            Subject::HookVersion => vec![hook(), "--version".into()],
        }
    }

    /// A fresh process for `argv` with `subject`'s environment.
    fn command(&self, argv: &[OsString], subject: Subject) -> Command {
        // In a pod, /etc/hosts names the pod's address with its hostname, so Spring Cloud's host
        // and `$(hostname)` agree; a machine whose first non-loopback address is not in
        // /etc/hosts would give the hook the address instead, so the host is given, as in a pod.
        // Zero-config, the hook finds it itself.
        if subject == Subject::HookZeroConfig {
            let mut command = self.command_with_host(argv, None);
            command.env_remove("SERVER_PORT").env_remove("PORT");
            command
        } else {
            self.command_with_host(argv, Some(&self.host))
        }
    }

    /// A fresh process for `argv` with the shared environment; `hostname` sets `EUREKA_HOSTNAME`.
    fn command_with_host(&self, argv: &[OsString], hostname: Option<&str>) -> Command {
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            // The recipe's variables ...
            .env("APP", APP)
            .env("PORT", PORT.to_string())
            // ... and the ones eureka-hook reads (Spring's own, as in a pod).
            .env("EUREKA_URL", self.base_url())
            .env("SPRING_APPLICATION_NAME", APP)
            .env("SERVER_PORT", PORT.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(hostname) = hostname {
            command.env("EUREKA_HOSTNAME", hostname);
        }
        command
    }

    /// Runs `subject` once as a fresh process and checks what the double saw; with `rss`, under
    /// GNU time (then the wall time includes time's own fork and is not reported, nor is the CPU
    /// time, which would include time's own).
    pub fn run(&self, subject: Subject, rss: bool) -> Result<Run> {
        let id = self.id_of(subject);
        let status = self.registry.set_override(APP, id, "UP");
        if status != 200 {
            bail!("resetting {id} to UP answered {status}");
        }
        self.registry.clear_requests();
        let rss_file =
            std::env::temp_dir().join(format!("eureka-hook-bench-{}.rss", std::process::id()));
        let mut argv = self.argv(subject);
        if rss {
            let mut timed: Vec<OsString> =
                vec![GNU_TIME.into(), "-f".into(), "%M".into(), "-o".into()];
            timed.push(rss_file.clone().into());
            timed.append(&mut argv);
            argv = timed;
        }
        let mut command = self.command(&argv, subject);
        let cpu_before = children_cpu();
        let started = Instant::now();
        let output = command
            .spawn()
            .and_then(|child| child.wait_with_output())
            .with_context(|| format!("running {:?}", argv[0]))?;
        let wall = started.elapsed();
        let cpu = children_cpu()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before))
            .filter(|_| !rss);
        let peak_rss_kib = if rss {
            Some(read_rss(&rss_file)?)
        } else {
            None
        };
        let requests = self.registry.requests();
        let failure = if subject.sends_put() {
            let state = self.registry.instance(APP, id);
            judge(&output, &requests, subject.status_puts()).or_else(|| match state {
                Some(state) if state.status == "OUT_OF_SERVICE" => None,
                Some(state) => Some(format!("instance is {} afterwards", state.status)),
                None => Some("instance is gone afterwards".to_owned()),
            })
        } else if !output.status.success() {
            Some(format!("{}: {}", output.status, last_line(&output.stderr)))
        } else {
            None
        };
        Ok(Run {
            wall,
            failure,
            peak_rss_kib,
            cpu,
        })
    }

    /// The same PUT sent from this process with ureq over a new connection: the double's and
    /// loopback's share of every run, without starting a process.
    pub fn put_in_process(&self) -> Result<Run> {
        self.registry.set_override(APP, &self.id, "UP");
        self.registry.clear_requests();
        let url = format!(
            "{}apps/{APP}/{}/status?value=OUT_OF_SERVICE",
            self.base_url(),
            self.id
        );
        let agent = ureq::Agent::new_with_defaults();
        let started = Instant::now();
        let answer = agent.put(&url).send_empty();
        let wall = started.elapsed();
        let failure = match answer {
            Ok(response) if response.status() == 200 => None,
            Ok(response) => Some(format!("answered {}", response.status())),
            Err(error) => Some(error.to_string()),
        };
        Ok(Run {
            wall,
            failure,
            peak_rss_kib: None,
            cpu: None,
        })
    }

    /// Registers `count` instances `bench-pod-NNN` (one per pod), starts one hook per pod at the
    /// same moment (each from its own thread, released by one barrier), and waits for all.
    pub fn stampede(&self, count: usize, request_timeout: &str) -> Result<Stampede> {
        let hosts: Vec<String> = (0..count).map(|i| format!("bench-pod-{i:03}")).collect();
        let ids: Vec<String> = hosts
            .iter()
            .map(|host| self.registry.register(InstanceSpec::new(APP, host, PORT)))
            .collect();
        self.registry.clear_requests();
        let mut argv = self.argv(Subject::Hook);
        argv.extend(["--request-timeout".into(), request_timeout.into()]);
        let counters_before = TcpCounters::read();
        let barrier = Arc::new(Barrier::new(count + 1));
        let mut threads = Vec::with_capacity(count);
        for host in &hosts {
            let mut command = self.command_with_host(&argv, Some(host));
            let barrier = Arc::clone(&barrier);
            let thread = thread::Builder::new()
                .name(format!("spawn-{host}"))
                .stack_size(256 * 1024)
                .spawn(move || {
                    barrier.wait();
                    let started = Instant::now();
                    let output = command.spawn().and_then(|child| child.wait_with_output());
                    (started, Instant::now(), output)
                })
                .context("starting a spawner thread")?;
            threads.push(thread);
        }
        barrier.wait();
        let mut outcomes = Vec::with_capacity(count);
        for thread in threads {
            match thread.join() {
                Ok(outcome) => outcomes.push(outcome),
                Err(_) => bail!("a spawner thread panicked"),
            }
        }
        let tcp = TcpCounters::read()
            .zip(counters_before)
            .map(|(after, before)| after.minus(&before));
        let first_spawn = outcomes.iter().map(|(started, _, _)| *started).min();
        let last_spawn = outcomes.iter().map(|(started, _, _)| *started).max();
        let last_exit = outcomes.iter().map(|(_, exited, _)| *exited).max();
        let (total, spawn_spread) = match (first_spawn, last_spawn, last_exit) {
            (Some(first), Some(last), Some(exit)) => {
                (exit.duration_since(first), last.duration_since(first))
            }
            _ => (Duration::ZERO, Duration::ZERO),
        };

        let requests = self.registry.requests();
        let mut walls = Vec::with_capacity(count);
        let mut exit_zero = 0;
        let mut failures = Vec::new();
        for ((started, exited, output), host) in outcomes.iter().zip(&hosts) {
            walls.push(exited.duration_since(*started));
            match output {
                Ok(output) if output.status.success() => exit_zero += 1,
                Ok(output) => failures.push(format!(
                    "{host}: {} {}",
                    output.status,
                    last_line(&output.stderr)
                )),
                Err(error) => failures.push(format!("{host}: could not start: {error}")),
            }
        }
        let puts_200 = hosts
            .iter()
            .filter(|host| {
                requests.iter().any(|request| {
                    is_status_put(request) && request.status == 200 && request.path.contains(*host)
                })
            })
            .count();
        let unanswered = requests
            .iter()
            .filter(|request| request.status == 0)
            .count();
        let out_of_service = ids
            .iter()
            .filter(|id| {
                self.registry
                    .instance(APP, id)
                    .is_some_and(|state| state.status == "OUT_OF_SERVICE")
            })
            .count();
        Ok(Stampede {
            count,
            request_timeout: request_timeout.to_owned(),
            exit_zero,
            puts_200,
            out_of_service,
            requests: requests.len(),
            unanswered,
            slower_than_1s: walls
                .iter()
                .filter(|wall| **wall > Duration::from_secs(1))
                .count(),
            wall: Summary::of(&walls),
            tcp,
            total,
            spawn_spread,
            failures,
        })
    }

    /// Swaps the binary under test (for the size lab).
    pub fn set_hook(&mut self, hook: &Path) {
        self.hook = hook.to_owned();
    }

    pub fn hostname(&self) -> &str {
        &self.host
    }
}

/// The outcome of starting many hooks at once.
#[derive(Debug)]
pub struct Stampede {
    pub count: usize,
    pub request_timeout: String,
    /// Processes that exited 0.
    pub exit_zero: usize,
    /// Pods whose status PUT the double answered with 200.
    pub puts_200: usize,
    /// Instances OUT_OF_SERVICE in the registry afterwards.
    pub out_of_service: usize,
    /// Every request the double recorded, and those it never answered.
    pub requests: usize,
    pub unanswered: usize,
    /// Per process, spawn to exit.
    pub wall: Option<Summary>,
    /// Processes that took longer than the first SYN retransmission timeout (1 s).
    pub slower_than_1s: usize,
    /// What the kernel counted meanwhile (whole network namespace), if readable.
    pub tcp: Option<TcpCounters>,
    /// First spawn to the last exit.
    pub total: Duration,
    /// First spawn to last spawn.
    pub spawn_spread: Duration,
    pub failures: Vec<String>,
}

impl Stampede {
    pub fn all_succeeded(&self) -> bool {
        self.exit_zero == self.count
            && self.puts_200 == self.count
            && self.out_of_service == self.count
    }
}

/// TCP counters from `/proc/net/netstat`: a connection that finds the listener's accept queue
/// full is dropped (ListenOverflows, ListenDrops) and the client retries its SYN after 1 s
/// (TCPSynRetrans).
#[derive(Clone, Copy, Debug)]
pub struct TcpCounters {
    pub listen_overflows: u64,
    pub listen_drops: u64,
    pub syn_retransmits: u64,
}

impl TcpCounters {
    fn read() -> Option<TcpCounters> {
        let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
        let mut lines = text.lines().filter(|line| line.starts_with("TcpExt:"));
        let (names, values) = (lines.next()?, lines.next()?);
        let pairs: Vec<(&str, u64)> = names
            .split_whitespace()
            .zip(values.split_whitespace())
            .filter_map(|(name, value)| Some((name, value.parse().ok()?)))
            .collect();
        let get = |wanted: &str| {
            pairs
                .iter()
                .find(|(name, _)| *name == wanted)
                .map(|(_, value)| *value)
        };
        Some(TcpCounters {
            listen_overflows: get("ListenOverflows")?,
            listen_drops: get("ListenDrops")?,
            syn_retransmits: get("TCPSynRetrans")?,
        })
    }

    fn minus(&self, before: &TcpCounters) -> TcpCounters {
        TcpCounters {
            listen_overflows: self
                .listen_overflows
                .saturating_sub(before.listen_overflows),
            listen_drops: self.listen_drops.saturating_sub(before.listen_drops),
            syn_retransmits: self.syn_retransmits.saturating_sub(before.syn_retransmits),
        }
    }
}

fn is_status_put(request: &RecordedRequest) -> bool {
    request.method == "PUT"
        && request.path.ends_with("/status")
        && request
            .query
            .as_deref()
            .is_some_and(|query| query.split('&').any(|pair| pair == "value=OUT_OF_SERVICE"))
}

/// `None` when the process exited 0 and the double answered exactly `expected` status PUTs, one
/// with 200 and any others (for the candidate ids not registered) with 404.
fn judge(output: &Output, requests: &[RecordedRequest], expected: usize) -> Option<String> {
    judge_puts(output.status, &output.stderr, requests, expected)
}

fn judge_puts(
    status: ExitStatus,
    stderr: &[u8],
    requests: &[RecordedRequest],
    expected: usize,
) -> Option<String> {
    if !status.success() {
        return Some(format!("{status}: {}", last_line(stderr)));
    }
    let answers: Vec<u16> = requests
        .iter()
        .filter(|r| is_status_put(r))
        .map(|put| put.status)
        .collect();
    let accepted = answers.iter().filter(|status| **status == 200).count();
    let not_found = answers.iter().filter(|status| **status == 404).count();
    if answers.is_empty() {
        Some(format!(
            "no status PUT reached the double ({} other requests)",
            requests.len()
        ))
    } else if answers.len() != expected {
        Some(format!(
            "{} status PUTs instead of {expected} (answered {answers:?})",
            answers.len()
        ))
    } else if accepted != 1 || accepted + not_found != expected {
        Some(format!("the status PUTs were answered {answers:?}"))
    } else {
        None
    }
}

/// User plus system CPU time of this process' waited-for children so far (`RUSAGE_CHILDREN`);
/// `None` if the kernel does not say.
pub fn children_cpu() -> Option<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given, which points to one.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let time = |value: libc::timeval| {
        Duration::from_secs(u64::try_from(value.tv_sec).ok()?)
            .checked_add(Duration::from_micros(u64::try_from(value.tv_usec).ok()?))
    };
    time(usage.ru_utime)?.checked_add(time(usage.ru_stime)?)
}

/// `%3A` and the like decoded (ASCII only; an id is a host, an app and a port).
fn percent_decoded(text: &str) -> String {
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = rest.split_once('%') {
        decoded.push_str(before);
        match after
            .get(..2)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            Some(byte) if byte.is_ascii() => {
                decoded.push(char::from(byte));
                rest = &after[2..];
            }
            _ => {
                decoded.push('%');
                rest = after;
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

fn read_rss(file: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading GNU time's output {}", file.display()))?;
    // A failed command adds "Command exited with non-zero status N" before the format's line.
    text.lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .with_context(|| format!("GNU time wrote {text:?}, not a number of KiB"))
}

fn last_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .last()
        .unwrap_or("(no stderr)")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn status_put(id: &str, status: u16) -> RecordedRequest {
        RecordedRequest {
            method: "PUT".to_owned(),
            path: format!("/eureka/apps/{APP}/{id}/status"),
            query: Some("value=OUT_OF_SERVICE".to_owned()),
            headers: Vec::new(),
            body: String::new(),
            status,
            response_body_bytes: 0,
            at: Instant::now(),
            epoch_ms: 0,
            client: None,
        }
    }

    #[test]
    fn a_run_succeeds_with_one_put_accepted_and_the_other_candidates_not_found() {
        let exited = |code| ExitStatus::from_raw(code << 8);
        let one = [status_put("a", 200)];
        let both = [status_put("a:x:8080", 404), status_put("a:x", 200)];
        assert_eq!(judge_puts(exited(0), b"", &one, 1), None);
        assert_eq!(judge_puts(exited(0), b"", &both, 2), None);
        assert!(
            judge_puts(exited(0), b"", &both, 1).is_some(),
            "one too many"
        );
        assert!(judge_puts(exited(0), b"", &one, 2).is_some(), "one missing");
        let neither = [status_put("a:x:8080", 404), status_put("a:x", 404)];
        assert!(judge_puts(exited(0), b"", &neither, 2).is_some());
        let twice = [status_put("a:x:8080", 200), status_put("a:x", 200)];
        assert!(judge_puts(exited(0), b"", &twice, 2).is_some());
        let failed = judge_puts(exited(3), b"first\nlast line\n", &one, 1);
        assert!(failed.is_some_and(|why| why.ends_with("last line")));
    }

    #[test]
    fn percent_encoded_ids_are_decoded() {
        assert_eq!(percent_decoded("10.0.0.1%3Aapp"), "10.0.0.1:app");
        assert_eq!(percent_decoded("host:app:8080"), "host:app:8080");
        assert_eq!(percent_decoded("50%"), "50%");
        assert_eq!(percent_decoded("a%zzb"), "a%zzb");
    }

    #[test]
    fn children_cpu_time_is_known_and_does_not_go_back() {
        let before = children_cpu().unwrap();
        Command::new("true").status().unwrap();
        assert!(children_cpu().unwrap() >= before);
    }
}
