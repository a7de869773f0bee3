//! Runs the real binary with a clean environment and reports everything when an assertion fails.
//!
//! Every run checks on its own that no password the test handed the hook (`EUREKA_PASSWORD`, the
//! userinfo of a URL in an argument or variable, a credentials file's content) shows in stdout or
//! stderr.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// No test run may take longer than this; a hung hook fails the test instead of the suite.
const HARD_LIMIT: Duration = Duration::from_secs(60);
/// Passwords shorter than this are not looked for: they would match innocent text.
const SHORTEST_CHECKED_PASSWORD: usize = 4;

/// A command line for the binary under test, with `--hostname pod-0` unless a test says otherwise.
pub fn hook(args: &[&str]) -> Hook {
    Hook {
        binary: binary_under_test(),
        args: args.iter().map(|arg| arg.to_string()).collect(),
        env: vec![("EUREKA_HOSTNAME".into(), super::HOST.into())],
    }
}

/// `EUREKA_HOOK_BIN` when set (the test command points it at the aarch64 release binary, which
/// runs under qemu), else the binary cargo built for these tests.
pub fn binary_under_test() -> PathBuf {
    std::env::var_os("EUREKA_HOOK_BIN")
        .filter(|path| !path.is_empty())
        .map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_eureka-hook")),
            PathBuf::from,
        )
}

pub struct Hook {
    binary: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Hook {
    pub fn binary(mut self, binary: PathBuf) -> Self {
        self.binary = binary;
        self
    }

    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.retain(|(known, _)| known != name);
        self.env.push((name.into(), value.into()));
        self
    }

    /// Leaves `name` out of the environment (for one the harness sets by default).
    pub fn without_env(mut self, name: &str) -> Self {
        self.env.retain(|(known, _)| known != name);
        self
    }

    /// The command, with an environment holding only what the test set.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().cloned());
        command
    }

    /// Starts the command in a process group of its own, so that whatever it starts in turn is
    /// killed with it when the test fails (see [`Running`]'s `Drop`).
    pub fn spawn(&self) -> Running {
        // Before the spawn: the child may run a while before `spawn` returns here, and a lower
        // bound on its time must not miss that.
        let started = Instant::now();
        let child = self
            .command()
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", self.binary.display()));
        Running {
            child,
            started,
            description: self.describe(),
            passwords: self.passwords(),
        }
    }

    pub fn run(&self) -> Outcome {
        self.spawn().wait()
    }

    /// The passwords this command hands the hook, as far as the test harness can tell.
    fn passwords(&self) -> Vec<String> {
        let mut passwords = Vec::new();
        let mut credentials_files = Vec::new();
        for (name, value) in &self.env {
            passwords.extend(url_passwords(value));
            match name.as_str() {
                "EUREKA_PASSWORD" => passwords.push(value.clone()),
                "EUREKA_HOOK_CREDENTIALS_FILE" => credentials_files.push(PathBuf::from(value)),
                _ => {}
            }
        }
        for (index, arg) in self.args.iter().enumerate() {
            passwords.extend(url_passwords(arg));
            if let Some(path) = arg.strip_prefix("--credentials-file=") {
                credentials_files.push(PathBuf::from(path));
            } else if arg == "--credentials-file" {
                credentials_files.extend(self.args.get(index + 1).map(PathBuf::from));
            }
        }
        for path in credentials_files {
            // Only a regular file, and only its start: a test may hand the hook a device or a
            // FIFO, which must not hang or flood the harness either.
            if let Ok(content) = read_regular_file_start(&path) {
                passwords.extend(
                    content
                        .trim_end_matches(['\r', '\n'])
                        .split_once(':')
                        .map(|(_, password)| password.to_string()),
                );
            }
        }
        passwords.retain(|password| password.len() >= SHORTEST_CHECKED_PASSWORD);
        passwords
    }

    fn describe(&self) -> String {
        let env: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(
            "{} {} {}",
            env.join(" "),
            self.binary.display(),
            self.args.join(" ")
        )
    }
}

/// The first 64 KiB of the file at `path`, if it is a regular file.
fn read_regular_file_start(path: &std::path::Path) -> std::io::Result<String> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    let mut content = String::new();
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_string(&mut content)?;
    Ok(content)
}

/// Starts every hook at once and waits for all of them, each in a thread of its own so that its
/// time is its own; outcomes come back in the same order.
pub fn run_all(hooks: &[Hook]) -> Vec<Outcome> {
    let waiting: Vec<thread::JoinHandle<Outcome>> = hooks
        .iter()
        .map(Hook::spawn)
        .map(|running| thread::spawn(move || running.wait()))
        .collect();
    waiting
        .into_iter()
        .map(|waiter| {
            waiter
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
        .collect()
}

/// The password of every `scheme://user:password@host` in `text`.
fn url_passwords(text: &str) -> Vec<String> {
    text.split("://")
        .skip(1)
        .filter_map(|rest| {
            let authority = rest.split(['/', ',', '?', '#']).next()?;
            let (userinfo, _) = authority.rsplit_once('@')?;
            let (_, password) = userinfo.split_once(':')?;
            Some(password.to_string())
        })
        .collect()
}

/// A started hook (or wrapper); dropped before it was waited for (a test that failed meanwhile),
/// it kills its whole process group and reaps it, so no test leaves a process behind.
pub struct Running {
    child: Child,
    started: Instant,
    description: String,
    passwords: Vec<String>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn wait(mut self) -> Outcome {
        let stdout = drain(self.child.stdout.take());
        let stderr = drain(self.child.stderr.take());
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.started.elapsed() > HARD_LIMIT {
                // Drop kills the process group.
                panic!("`{}` ran past {HARD_LIMIT:?}", self.description);
            }
            thread::sleep(Duration::from_millis(5));
        };
        let outcome = Outcome {
            elapsed: self.started.elapsed(),
            code: status.code(),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
            description: std::mem::take(&mut self.description),
        };
        for password in &self.passwords {
            outcome.assert_never_shows(password);
        }
        outcome.assert_no_panic();
        outcome
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        kill_process_group(&mut self.child);
    }
}

/// A child process a test started itself (spawn it with `process_group(0)`): its process group is
/// killed and the child reaped when the guard is dropped, whether the test passed or not.
pub struct KilledOnDrop(pub Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        kill_process_group(&mut self.0);
    }
}

/// Kills `child`'s process group (the child leads it: spawned with `process_group(0)`) and the
/// child, and reaps it, unless it exited and was reaped already. The group is signalled while its
/// leader is unreaped, so the group id cannot have been reused by someone else.
pub fn kill_process_group(child: &mut Child) {
    if !matches!(child.try_wait(), Ok(None)) {
        return;
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// What a finished run did.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    description: String,
}

impl Outcome {
    fn report(&self) -> String {
        format!(
            "command: {}\nexit: {:?} after {:?}\n--- stdout\n{}--- stderr\n{}---",
            self.description, self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "unexpected exit code\n{}",
            self.report()
        );
        self
    }

    pub fn assert_stderr_contains(&self, expected: &str) -> &Self {
        assert!(
            self.stderr.contains(expected),
            "stderr lacks {expected:?}\n{}",
            self.report()
        );
        self
    }

    pub fn assert_stdout_contains(&self, expected: &str) -> &Self {
        assert!(
            self.stdout.contains(expected),
            "stdout lacks {expected:?}\n{}",
            self.report()
        );
        self
    }

    /// The secret appears nowhere in what the hook printed.
    pub fn assert_never_shows(&self, secret: &str) -> &Self {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "the secret {secret:?} was printed\n{}",
            self.report()
        );
        self
    }

    /// A hook fails with a message, never with a panic or a backtrace.
    pub fn assert_no_panic(&self) -> &Self {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.to_lowercase().contains("backtrace"),
            "the hook panicked\n{}",
            self.report()
        );
        self
    }

    /// The line a person reads last: the final error line, else the final warning, else the
    /// final line of stderr, without the `eureka-hook: ` prefix.
    pub fn final_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let last_with = |prefix: &str| lines.iter().rev().find(|line| line.starts_with(prefix));
        last_with("eureka-hook: error:")
            .or_else(|| last_with("eureka-hook: warning:"))
            .or(lines.last())
            .map(|line| line.trim_start_matches("eureka-hook: "))
            .unwrap_or("")
    }

    pub fn assert_took_at_least(&self, least: Duration) -> &Self {
        assert!(
            self.elapsed >= least,
            "finished before {least:?}\n{}",
            self.report()
        );
        self
    }

    pub fn assert_took_less_than(&self, most: Duration) -> &Self {
        assert!(
            self.elapsed < most,
            "took {:?}, bound {most:?}\n{}",
            self.elapsed,
            self.report()
        );
        self
    }
}

#[test]
fn the_harness_finds_every_password_a_test_hands_the_hook() {
    let file = super::TempFile::new("credentials", "eureka:from-the-file\n");
    let command = hook(&[
        "prestop",
        "--eureka-url",
        "http://a:from-the-flag@a/eureka/,http://b/",
        "--credentials-file",
        file.path_str(),
    ])
    .env("EUREKA_PASSWORD", "from-the-env")
    .env("EUREKA_URL", "https://u:from-the-url@c:8761/eureka/")
    .env("EUREKA_USERNAME", "pw");
    let mut found = command.passwords();
    found.sort();
    assert_eq!(
        found,
        [
            "from-the-env",
            "from-the-file",
            "from-the-flag",
            "from-the-url"
        ]
    );
}

#[test]
fn a_run_dropped_before_it_ended_leaves_no_process_behind() {
    // A child that starts a grandchild of its own, as the Python client starts hooks.
    let running = hook(&["-c", "sleep 30 & sleep 30"])
        .binary(PathBuf::from("/bin/sh"))
        .spawn();
    let group = format!("-{}", running.pid());
    let group_alive = || {
        Command::new("kill")
            .args(["-0", "--", &group])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    let started = Instant::now();
    while !group_alive() && started.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(5));
    }
    assert!(group_alive(), "the child's process group never showed up");
    drop(running);
    // The grandchild is killed too; its new parent (init) reaps it a moment later.
    let dropped = Instant::now();
    while group_alive() && dropped.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !group_alive(),
        "a process of the dropped run is still there"
    );
}
