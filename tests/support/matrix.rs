//! A table-driven runner for inputs as real pods give them.
//!
//! Each [`Row`] starts a fresh world (a registry double, files) for every run, and runs on each
//! hook it names, in text and in JSON, always with `--log-file`. Every run checks that the row's
//! password appears nowhere: not in stdout, stderr or the log file. A password of fewer than
//! [`STRONG_PASSWORD`] characters (`eureka`, `x`) also occurs in innocent text, so for it the
//! same run is repeated with [`SENTINEL`] as the password and the password must occur exactly as
//! often in both: any occurrence the password itself caused is a leak. Every run also checks the
//! row's [`Expect`]: the exit code, that prestop held its drain unless the input was bad, and that
//! bad input sent nothing and reached the log file in the chosen format.

use std::any::Any;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::EurekaDouble;

/// The drain every prestop run asks for.
pub const DRAIN: &str = "300ms";
const DRAIN_TIME: Duration = Duration::from_millis(300);
/// No run may take longer; a hung hook fails its row instead of the suite.
const HARD_LIMIT: Duration = Duration::from_secs(30);
/// Passwords at least this long are looked for as they are.
pub const STRONG_PASSWORD: usize = 8;
/// The password a weak password's run is compared against.
pub const SENTINEL: &str = "Sentinel-Pw-Qz7";
/// Rows run at once.
const PARALLEL_ROWS: usize = 24;

pub const HOOKS: [&str; 3] = ["prestop", "poststart", "status"];

/// What a row must do on each hook.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// Every hook exits 0; prestop held its drain.
    Works,
    /// Exit 2 at once naming this text, on stderr and in the log file; nothing sent, no drain.
    BadInput(&'static str),
    /// A registry outcome: these exit codes, and stderr says `says`; prestop held its drain.
    Codes {
        prestop: i32,
        poststart: i32,
        status: i32,
        says: &'static str,
    },
    /// prestop's drain is ended by a signal: exit 0 long before the 30 s drain.
    DrainCutBySignal,
}

/// One run's world and command line.
pub struct Started {
    /// Extra arguments after the hook's own.
    pub args: Vec<String>,
    /// The environment (beside the harness's `EUREKA_HOSTNAME` and `SPRING_APPLICATION_NAME`).
    pub env: Vec<(String, OsString)>,
    /// The double the hook talks to, to check that bad input sent nothing.
    pub double: Option<Arc<EurekaDouble>>,
    /// Whatever must live as long as the run (fault peers, TLS fronts, files).
    pub keep: Vec<Box<dyn Any + Send>>,
    /// The row sets the log settings itself; the harness adds no --log-file or --log-format.
    pub own_log: bool,
    /// Sends this signal to prestop after this long.
    pub signal: Option<(&'static str, Duration)>,
    /// The reader of stdout goes away at once (`status | head -0`).
    pub close_stdout: bool,
}

impl Started {
    pub fn new(double: Option<Arc<EurekaDouble>>) -> Started {
        Started {
            args: Vec::new(),
            env: Vec::new(),
            double,
            keep: Vec::new(),
            own_log: false,
            signal: None,
            close_stdout: false,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Started {
        self.args.push(arg.into());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Started {
        self.args.extend(args.iter().map(|arg| (*arg).to_string()));
        self
    }

    pub fn env(mut self, name: &str, value: impl Into<OsString>) -> Started {
        self.env.retain(|(known, _)| known != name);
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn keep(mut self, thing: impl Any + Send) -> Started {
        self.keep.push(Box::new(thing));
        self
    }

    /// The row sets the log settings itself.
    pub fn own_log(mut self) -> Started {
        self.own_log = true;
        self
    }

    /// Sends `signal` (`TERM`, `INT`) to prestop `after` this long.
    pub fn signal(mut self, signal: &'static str, after: Duration) -> Started {
        self.signal = Some((signal, after));
        self
    }

    /// The reader of stdout goes away at once.
    pub fn close_stdout(mut self) -> Started {
        self.close_stdout = true;
        self
    }
}

/// One real-world input.
pub struct Row {
    pub name: String,
    pub hooks: Vec<&'static str>,
    pub expect: Expect,
    /// The password this row hands the hook, if any.
    pub password: Option<String>,
    /// A fresh world for one run, handing the hook this password (the row's, or [`SENTINEL`]).
    pub start: Box<dyn Fn(&str) -> Started + Send + Sync>,
}

impl Row {
    pub fn new(
        name: impl Into<String>,
        expect: Expect,
        start: impl Fn(&str) -> Started + Send + Sync + 'static,
    ) -> Row {
        Row {
            name: name.into(),
            hooks: HOOKS.to_vec(),
            expect,
            password: None,
            start: Box::new(start),
        }
    }

    pub fn password(mut self, password: &str) -> Row {
        self.password = Some(password.into());
        self
    }

    pub fn only(mut self, hooks: &[&'static str]) -> Row {
        self.hooks = hooks.to_vec();
        self
    }
}

/// What one run printed.
struct Ran {
    description: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    log: String,
    elapsed: Duration,
    requests: usize,
    own_log: bool,
    quiet: bool,
}

impl Ran {
    fn report(&self) -> String {
        format!(
            "command: {}\nexit: {:?} after {:?}, {} request(s) seen\n--- stdout\n{}--- stderr\n{}--- log file\n{}---",
            self.description,
            self.code,
            self.elapsed,
            self.requests,
            self.stdout,
            self.stderr,
            self.log
        )
    }

    fn everything(&self) -> String {
        format!("{}\n{}\n{}", self.stdout, self.stderr, self.log)
    }
}

/// Runs every row on each of its hooks in both formats; panics with every failure found.
/// Returns how many runs there were.
pub fn run_matrix(rows: Vec<Row>) -> usize {
    // A pool of workers that each take the next row as soon as they are free: most of a run is
    // waiting (the drain, a timeout), so a row never waits for a slower one beside it.
    let next_row = AtomicUsize::new(0);
    let results: Vec<(usize, Vec<String>)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL_ROWS)
            .map(|_| {
                scope.spawn(|| {
                    let mut runs = 0;
                    let mut failures = Vec::new();
                    while let Some(row) = rows.get(next_row.fetch_add(1, Ordering::SeqCst)) {
                        let (row_runs, row_failures) = check_row(row);
                        runs += row_runs;
                        failures.extend(row_failures);
                    }
                    (runs, failures)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let runs = results.iter().map(|(runs, _)| runs).sum();
    let failures: Vec<String> = results.into_iter().flat_map(|(_, f)| f).collect();
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    runs
}

fn check_row(row: &Row) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut runs = 0;
    for hook in &row.hooks {
        for format in ["text", "json"] {
            let password = row.password.as_deref().unwrap_or(SENTINEL);
            let started = (row.start)(password);
            if started.own_log && format == "json" {
                continue;
            }
            runs += 1;
            let ran = run_once(hook, format, started);
            let mut problems = check_expectation(row.expect, hook, format, &ran);
            if let Some(password) = &row.password {
                problems.extend(check_password(row, hook, format, password, &ran));
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "row '{}' on {hook} ({format}): {}\n{}",
                    row.name,
                    problems.join("; "),
                    ran.report()
                ));
            }
        }
    }
    (runs, failures)
}

fn check_password(row: &Row, hook: &str, format: &str, password: &str, ran: &Ran) -> Vec<String> {
    if password.chars().count() >= STRONG_PASSWORD {
        return if ran.everything().contains(password) {
            vec![format!("the password {password:?} was printed")]
        } else {
            Vec::new()
        };
    }
    let control = run_once(hook, format, (row.start)(SENTINEL));
    let with_password = ran.everything().matches(password).count();
    let without = control.everything().matches(password).count();
    if with_password == without {
        Vec::new()
    } else {
        vec![format!(
            "{password:?} occurs {with_password} times, but {without} times when the password is \
             {SENTINEL:?}: the password shows\n--- the run with {SENTINEL:?}\n{}",
            control.report()
        )]
    }
}

fn check_expectation(expect: Expect, hook: &str, format: &str, ran: &Ran) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect_code = |code: i32| {
        if ran.code != Some(code) {
            problems.push(format!("exit {:?}, expected {code}", ran.code));
        }
    };
    match expect {
        Expect::Works => expect_code(0),
        Expect::BadInput(_) => expect_code(2),
        Expect::Codes {
            prestop,
            poststart,
            status,
            ..
        } => expect_code(match hook {
            "prestop" => prestop,
            "poststart" => poststart,
            _ => status,
        }),
        Expect::DrainCutBySignal => expect_code(0),
    }
    // -q leaves out the info line that says so.
    let says_held = ran.stderr.contains(&format!("drain of {DRAIN} held")) || ran.quiet;
    let held = says_held && ran.elapsed >= DRAIN_TIME;
    match expect {
        Expect::Works | Expect::Codes { .. } if hook == "prestop" && !held => {
            problems.push("prestop did not hold its drain".into());
        }
        Expect::BadInput(names) => {
            if ran.stderr.contains("drain of") || ran.elapsed >= DRAIN_TIME * 3 {
                problems.push("bad input held a drain".into());
            }
            if ran.requests > 0 {
                problems.push(format!("bad input sent {} request(s)", ran.requests));
            }
            if !ran.stderr.contains(names) {
                problems.push(format!("stderr does not name {names:?}"));
            }
            if !ran.own_log && !ran.log.contains(names) {
                problems.push(format!("the log file does not name {names:?}"));
            }
        }
        Expect::Codes { says, .. } if !ran.stderr.contains(says) => {
            problems.push(format!("stderr does not say {says:?}"));
        }
        Expect::DrainCutBySignal if ran.elapsed > Duration::from_secs(10) => {
            problems.push("the signal did not end the drain".into());
        }
        _ => {}
    }
    if ran.stderr.contains("panicked") {
        problems.push("the hook panicked".into());
    }
    if format == "json" {
        for line in ran.stderr.lines().chain(ran.log.lines()) {
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
            if !parsed.is_ok_and(|value| value["level"].is_string() && value["message"].is_string())
            {
                problems.push(format!("not a JSON log line: {line:?}"));
            }
        }
    }
    problems
}

fn log_path() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "eureka-hook-matrix-{}-{}.log",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ))
}

fn run_once(hook: &str, format: &str, started: Started) -> Ran {
    let log = log_path();
    let mut args: Vec<String> = vec![hook.into()];
    match hook {
        "prestop" if started.signal.is_some() => args.extend(["--drain".into(), "30s".into()]),
        "prestop" => args.extend(["--drain".into(), DRAIN.into()]),
        "poststart" => args.extend(["--wait".into(), "1s".into()]),
        _ => {}
    }
    if !started.own_log {
        args.extend([
            "--log-file".into(),
            log.display().to_string(),
            "--log-format".into(),
            format.into(),
        ]);
    }
    args.extend(started.args.iter().cloned());
    let mut command = Command::new(env!("CARGO_BIN_EXE_eureka-hook"));
    command
        .args(&args)
        .env_clear()
        .env("EUREKA_HOSTNAME", super::HOST)
        .env("SPRING_APPLICATION_NAME", super::APP);
    for (name, value) in &started.env {
        command.env(name, value);
    }
    let description = format!(
        "{} eureka-hook {}",
        started
            .env
            .iter()
            .map(|(name, value)| format!("{name}={value:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        args.join(" ")
    );
    let began = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout_pipe = child.stdout.take();
    let stdout = if started.close_stdout {
        drop(stdout_pipe);
        thread::spawn(String::new)
    } else {
        read_all(stdout_pipe)
    };
    let stderr = read_all(child.stderr.take());
    let mut signalled = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Some((signal, after)) = started.signal
            && !signalled
            && began.elapsed() >= after
        {
            let sent = Command::new("kill")
                .args([format!("-{signal}"), child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success(), "kill -{signal} failed");
            signalled = true;
        }
        if began.elapsed() > HARD_LIMIT {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        thread::sleep(Duration::from_millis(5));
    };
    let elapsed = began.elapsed();
    let log_text = if started.own_log {
        String::new()
    } else {
        read_log(&log)
    };
    Ran {
        description,
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        log: log_text,
        elapsed,
        own_log: started.own_log,
        quiet: started.args.iter().any(|arg| arg == "-q"),
        requests: started
            .double
            .as_ref()
            .map_or(0, |double| double.requests().len()),
    }
}

fn read_log(path: &Path) -> String {
    let text = std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let _ = std::fs::remove_file(path);
    text
}

fn read_all(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
