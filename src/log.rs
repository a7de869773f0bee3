//! Log lines: one per event, on stderr and (with --log-file) appended to a file too.
//!
//! Kubernetes keeps an exec hook's stderr only for the failure event, so a copy can go to
//! `/proc/1/fd/1` to show in `kubectl logs`. Logging never makes a hook fail or wait: the file is
//! opened and written by its own thread (`log_file`), a file that cannot be opened is reported
//! once on stderr and then ignored. Messages never hold a password (see `redact`); registered
//! secrets are masked as a last resort. Text lines read `eureka-hook: LEVEL: message`; JSON lines
//! carry `time`, `level`, `event`, `message` and any extra fields (a peer's answer adds
//! `instance`, `peer`, `status`).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::log_file::{self, LogFile};
use crate::redact::{Secret, mask};

/// How long the hook waits for the log file to open (a hung network file system).
const OPEN_BOUND: Duration = Duration::from_millis(500);
/// How long the hook waits at exit for queued lines to reach the log file.
const FINISH_BOUND: Duration = Duration::from_millis(200);
/// Lines queued for the log file at most; more are dropped (and counted) rather than waited for.
const QUEUE_CAPACITY: usize = 1024;

/// How log lines are written; also the values of --log-format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `eureka-hook: LEVEL: message`
    Text,
    /// One JSON object per line with time, level, event and message
    Json,
}

/// How much to log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Where and how log lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    /// From -v/-q or their variables.
    pub verbosity: Verbosity,
    /// From --log-format or its variable, or text.
    pub format: LogFormat,
    /// From --log-file or its variable: a copy of every line goes there.
    pub file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

struct Logger {
    lowest_level: Level,
    format: LogFormat,
    file: Option<LogFile>,
    secrets: Vec<Secret>,
}

static LOGGER: Mutex<Logger> = Mutex::new(Logger {
    lowest_level: Level::Info,
    format: LogFormat::Text,
    file: None,
    secrets: Vec::new(),
});

fn logger() -> MutexGuard<'static, Logger> {
    // A panic while logging cannot leave the logger half-written in a way that matters.
    LOGGER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Applies the log settings; reports (and otherwise ignores) a log file that cannot be opened.
pub fn init(settings: &LogSettings) {
    {
        let mut logger = logger();
        logger.lowest_level = match settings.verbosity {
            Verbosity::Quiet => Level::Warn,
            Verbosity::Normal => Level::Info,
            Verbosity::Verbose => Level::Debug,
        };
        logger.format = settings.format;
    }
    if let Some(path) = &settings.file {
        match log_file::open(path, OPEN_BOUND, QUEUE_CAPACITY) {
            Ok(file) => logger().file = Some(file),
            Err(problem) => warn(
                "log_file_unavailable",
                &format!(
                    "cannot open log file {} ({problem}); logging to stderr only",
                    path.display()
                ),
            ),
        }
    }
}

/// Gives the log file a bounded time to take the queued lines; says on stderr if some were lost.
pub fn finish() {
    let Some(file) = logger().file.take() else {
        return;
    };
    let report = file.finish(FINISH_BOUND);
    let lost = report.dropped_lines.saturating_add(report.failed_lines);
    if lost > 0 || report.unfinished {
        let why = report
            .first_error
            .as_deref()
            .unwrap_or("it did not keep up");
        warn(
            "log_file_incomplete",
            &format!(
                "{lost} log line(s) did not reach the log file{} ({why})",
                if report.unfinished {
                    ", and it was still being written at exit"
                } else {
                    ""
                }
            ),
        );
    }
}

/// A command-line error from clap: in text format stderr gets clap's own message (with its usage
/// and tips) and the log file its first line; in JSON both get one JSON line.
pub fn usage_error(full_text: &str) {
    let first_line = full_text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    let message = format!(
        "{} (see --help)",
        first_line.trim_start_matches("error: ").trim_end()
    );
    let mut logger = logger();
    let line = render(&logger, Level::Error, "bad_input", &message, &[]);
    let stderr_text = match logger.format {
        LogFormat::Text => full_text.to_string(),
        LogFormat::Json => line.clone(),
    };
    let _ = std::io::stderr().lock().write_all(stderr_text.as_bytes());
    if let Some(file) = logger.file.as_mut() {
        file.write_line(line);
    }
}

/// Masks these secrets in every line from now on.
pub fn add_secrets(secrets: Vec<Secret>) {
    logger().secrets.extend(secrets);
}

pub fn debug(event: &str, message: &str) {
    emit(Level::Debug, event, message, &[]);
}

pub fn info(event: &str, message: &str) {
    emit(Level::Info, event, message, &[]);
}

pub fn warn(event: &str, message: &str) {
    emit(Level::Warn, event, message, &[]);
}

pub fn error(event: &str, message: &str) {
    emit(Level::Error, event, message, &[]);
}

/// Writes one line if `level` is enabled; `fields` appear in JSON lines only (the text form has
/// them in the message).
pub fn emit(level: Level, event: &str, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(&str, serde_json::Value)> = fields
        .iter()
        .map(|(key, value)| (*key, (*value).into()))
        .collect();
    emit_values(level, event, message, &fields);
}

/// As [`emit`], with fields of any JSON type (a number stays a number).
pub fn emit_values(level: Level, event: &str, message: &str, fields: &[(&str, serde_json::Value)]) {
    let mut logger = logger();
    if level < logger.lowest_level {
        return;
    }
    let line = render(&logger, level, event, message, fields);
    #[cfg(test)]
    captured::keep(level, event, message, fields);
    // Nothing to do about a log line that cannot be written: the hook's work goes on.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(file) = logger.file.as_mut() {
        file.write_line(line);
    }
}

fn render(
    logger: &Logger,
    level: Level,
    event: &str,
    message: &str,
    fields: &[(&str, serde_json::Value)],
) -> String {
    let message = mask(message, &logger.secrets);
    match logger.format {
        LogFormat::Text => format!("eureka-hook: {}: {}\n", level.name(), escaped(&message)),
        LogFormat::Json => {
            let mut object = serde_json::Map::new();
            object.insert(
                "time".into(),
                humantime::format_rfc3339_millis(SystemTime::now())
                    .to_string()
                    .into(),
            );
            object.insert("level".into(), level.name().into());
            object.insert("event".into(), event.into());
            object.insert("message".into(), message.into());
            for (key, value) in fields {
                let value = match value {
                    serde_json::Value::String(text) => mask(text, &logger.secrets).into(),
                    other => other.clone(),
                };
                object.insert((*key).into(), value);
            }
            format!("{}\n", serde_json::Value::Object(object))
        }
    }
}

/// `text` with every character that could forge a line or drive a terminal written as a visible
/// escape: control characters (newline, carriage return, ESC, C1 controls…), line and paragraph
/// separators and bidirectional overrides. Registry and environment text reaches a log line or
/// stdout only through this (text log lines always; stdout through [`escaped_lines`]).
pub fn escaped(text: &str) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write as _;
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return text.into();
    }
    let mut shown = String::with_capacity(text.len().saturating_add(16));
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            c if unsafe_char(c) => {
                // Writing to a String cannot fail.
                let _ = write!(shown, "\\u{{{:x}}}", u32::from(c));
            }
            c => shown.push(c),
        }
    }
    shown.into()
}

/// `items` joined by commas, cut after about `most_chars` characters with how many were left
/// out, so that a message can put its advice first and still end with a list of any length.
pub fn listed(items: &[&str], most_chars: usize) -> String {
    let mut shown = String::new();
    for (index, item) in items.iter().enumerate() {
        let separator = if index == 0 { "" } else { ", " };
        if index > 0 && shown.len().saturating_add(item.len()) > most_chars {
            let left_out = items.len().saturating_sub(index);
            return format!("{shown}, … and {left_out} more");
        }
        shown.push_str(separator);
        shown.push_str(item);
    }
    shown
}

/// [`escaped`] line by line: the text's own line breaks stay, nothing inside a line can break it.
pub fn escaped_lines(text: &str) -> String {
    text.split('\n').map(escaped).collect::<Vec<_>>().join("\n")
}

/// Reports a panic as one error line, from the panic hook: it must not wait for a logger that the
/// panicking thread may hold, so when the logger is busy the line goes to stderr as plain text.
pub fn bug(message: &str) {
    let line = match LOGGER.try_lock() {
        Ok(logger) => {
            let line = render(&logger, Level::Error, "bug", message, &[]);
            drop(logger);
            line
        }
        Err(_) => format!("eureka-hook: error: {}\n", escaped(message)),
    };
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Every line tests log, kept for them to read: a test picks its own by what they mention (its
/// doubles' URLs) or by the thread that logged them, since tests share the process.
#[cfg(test)]
pub mod captured {
    use super::Level;
    use serde_json::{Map, Value};
    use std::sync::Mutex;

    static LINES: Mutex<Vec<Value>> = Mutex::new(Vec::new());

    pub(super) fn keep(level: Level, event: &str, message: &str, fields: &[(&str, Value)]) {
        let mut line = Map::new();
        line.insert("level".into(), level.name().into());
        line.insert("event".into(), event.into());
        line.insert("message".into(), message.into());
        line.insert(
            "thread".into(),
            std::thread::current().name().unwrap_or_default().into(),
        );
        for (key, value) in fields {
            line.insert((*key).into(), value.clone());
        }
        LINES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Value::Object(line));
    }

    /// The lines of `event` so far whose message or fields mention `text`.
    pub fn mentioning(event: &str, text: &str) -> Vec<Value> {
        LINES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|line| line["event"] == event && line.to_string().contains(text))
            .cloned()
            .collect()
    }

    /// The lines of `event` this thread logged so far.
    pub fn of_this_thread(event: &str) -> Vec<Value> {
        let thread = std::thread::current().name().unwrap_or_default().to_owned();
        LINES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|line| line["event"] == event && line["thread"] == thread.as_str())
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_cut_with_a_count_of_what_was_left_out() {
        assert_eq!(listed(&["a", "b"], 200), "a, b");
        let ids: Vec<String> = (0..500).map(|n| format!("pod-{n}:demo:8080")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let shown = listed(&ids, 200);
        assert!(shown.len() < 260, "{}", shown.len());
        assert!(
            shown.starts_with("pod-0:demo:8080, pod-1:demo:8080"),
            "{shown}"
        );
        assert!(shown.ends_with(" more"), "{shown}");
    }

    #[test]
    fn registry_text_cannot_forge_a_line_or_reach_the_terminal() {
        let forged = "pod-0\neureka-hook: info: all good\r\u{1b}[2J\u{9b}31m\u{202e}\t";
        let line = render(&test_logger(LogFormat::Text), Level::Info, "x", forged, &[]);
        assert_eq!(
            line,
            "eureka-hook: info: pod-0\\neureka-hook: info: all good\\r\\u{1b}[2J\\u{9b}31m\\u{202e}\\t\n"
        );
        assert!(matches!(
            escaped("plain text: ok"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(escaped_lines("a\u{7}\nb\n"), "a\\u{7}\nb\n");
    }

    fn test_logger(format: LogFormat) -> Logger {
        Logger {
            lowest_level: Level::Info,
            format,
            file: None,
            secrets: vec![Secret::new("pa\"ss-word")],
        }
    }

    #[test]
    fn text_lines_name_the_tool_and_level_and_mask_secrets() {
        let line = render(
            &test_logger(LogFormat::Text),
            Level::Warn,
            "x",
            "bad pa\"ss-word here",
            &[],
        );
        assert_eq!(line, "eureka-hook: warning: bad *** here\n");
    }

    #[test]
    fn json_lines_carry_time_level_event_and_fields() {
        let line = render(
            &test_logger(LogFormat::Json),
            Level::Info,
            "peer_answer",
            "peer said pa\"ss-word",
            &[
                ("peer", "http://a/".into()),
                ("status", "200".into()),
                ("instance", "pod-0:demo:8080".into()),
                ("seconds", 12.5.into()),
            ],
        );
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["level"], "info");
        assert_eq!(value["event"], "peer_answer");
        assert_eq!(value["message"], "peer said ***");
        assert_eq!(value["peer"], "http://a/");
        assert_eq!(value["status"], "200");
        assert_eq!(value["instance"], "pod-0:demo:8080");
        assert_eq!(value["seconds"], 12.5);
        assert!(value["time"].as_str().unwrap().ends_with('Z'));
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
    }
}
