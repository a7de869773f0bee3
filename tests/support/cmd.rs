//! Runs the real binary with a clean environment and reports everything when an assertion fails.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// No test run may take longer than this; a hung hook fails the test instead of the suite.
const HARD_LIMIT: Duration = Duration::from_secs(60);

/// A command line for the binary under test, with `--hostname pod-0` unless a test says otherwise.
pub fn hook(args: &[&str]) -> Hook {
    Hook {
        binary: PathBuf::from(env!("CARGO_BIN_EXE_eureka-hook")),
        args: args.iter().map(|arg| arg.to_string()).collect(),
        env: vec![("EUREKA_HOSTNAME".into(), super::HOST.into())],
    }
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

    /// The command, with an environment holding only what the test set.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().cloned());
        command
    }

    pub fn spawn(&self) -> Running {
        let child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", self.binary.display()));
        Running {
            child,
            started: Instant::now(),
            description: self.describe(),
        }
    }

    pub fn run(&self) -> Outcome {
        self.spawn().wait()
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

/// A started hook.
pub struct Running {
    child: Child,
    started: Instant,
    description: String,
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
                let _ = self.child.kill();
                panic!("`{}` ran past {HARD_LIMIT:?}", self.description);
            }
            thread::sleep(Duration::from_millis(5));
        };
        Outcome {
            elapsed: self.started.elapsed(),
            code: status.code(),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
            description: self.description,
        }
    }
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
