//! A description of the machine and tools a result came from, for `docs/benchmark.json`.

use std::time::SystemTime;

use serde_json::{Value, json};

use crate::tools::{self, GNU_TIME};

pub fn describe() -> Value {
    let cpuinfo = read("/proc/cpuinfo");
    let cpu_model = field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".to_owned());
    let logical_cpus = cpuinfo
        .lines()
        .filter(|line| line.starts_with("processor"))
        .count();
    let memory = field(&read("/proc/meminfo"), "MemTotal").unwrap_or_else(|| "unknown".to_owned());
    let os = read("/etc/os-release")
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let sh = tools::find_in_path("sh")
        .and_then(|path| path.canonicalize().ok())
        .map(|path| path.display().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    json!({
        "date": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        "cpu_model": cpu_model,
        "logical_cpus": logical_cpus,
        "memory": memory,
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "os": os,
        "rustc": tools::first_line(&rustc, &["-V"]),
        "curl": tools::first_line("curl", &["--version"]),
        "sh": sh,
        "gnu_time": tools::first_line(GNU_TIME, &["--version"]),
    })
}

/// `/proc/loadavg`: other work on the machine while the benchmark ran skews it.
pub fn load_average() -> String {
    read("/proc/loadavg").trim().to_owned()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The value of the first `name : value` line.
fn field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_owned())
    })
}
