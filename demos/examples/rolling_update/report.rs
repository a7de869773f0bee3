//! What the rollouts gave, for people and for docs/results.md: per mode the totals, a time series of
//! requests and failures, the rollout's steps and why requests failed; printed as a table and
//! written as JSON together with the settings used.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::cli::Settings;
use crate::rollout::{Event, Mode, ModeRun};
use crate::traffic::RequestRecord;

/// The width of one time-series bucket.
pub const BUCKET: Duration = Duration::from_millis(250);

/// Requests sent and failed in one bucket.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bucket {
    pub requests: usize,
    pub failed: usize,
}

/// Failed requests with the same instance and reason.
#[derive(Clone, Debug)]
pub struct FailureGroup {
    pub instance: String,
    pub reason: String,
    pub count: usize,
    pub first: Duration,
    pub last: Duration,
    /// When the instance got SIGTERM, if it did.
    pub sigterm_at: Option<Duration>,
}

/// One mode's results.
pub struct ModeSummary {
    pub mode: Mode,
    pub requests: usize,
    pub failed: usize,
    pub took: Duration,
    /// Bucket `i` covers `[i * BUCKET, (i + 1) * BUCKET)` since the traffic started.
    pub series: Vec<Bucket>,
    pub events: Vec<Event>,
    /// When old instances got SIGTERM, in order.
    pub sigterms: Vec<Duration>,
    pub failure_groups: Vec<FailureGroup>,
    /// How long each prestop run held its pod.
    pub holds: Vec<Duration>,
}

impl ModeSummary {
    pub fn new(run: ModeRun) -> ModeSummary {
        ModeSummary {
            mode: run.mode,
            requests: run.records.len(),
            failed: run
                .records
                .iter()
                .filter(|record| record.failure.is_some())
                .count(),
            took: run.took,
            series: series(&run.records),
            failure_groups: failure_groups(&run.records, &run.sigterm_at),
            sigterms: {
                let mut sigterms: Vec<Duration> = run.sigterm_at.values().copied().collect();
                sigterms.sort();
                sigterms
            },
            events: run.events,
            holds: run.holds,
        }
    }

    /// The mean time a pod was held by prestop, if prestop ran.
    pub fn mean_hold(&self) -> Option<Duration> {
        let count = u32::try_from(self.holds.len()).ok().filter(|n| *n > 0)?;
        Some(self.holds.iter().sum::<Duration>() / count)
    }

    pub fn failed_percent(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        100.0 * self.failed as f64 / self.requests as f64
    }
}

fn series(records: &[RequestRecord]) -> Vec<Bucket> {
    let mut buckets: Vec<Bucket> = Vec::new();
    for record in records {
        let index = (record.at.as_millis() / BUCKET.as_millis()) as usize;
        if buckets.len() <= index {
            buckets.resize(index + 1, Bucket::default());
        }
        buckets[index].requests += 1;
        buckets[index].failed += usize::from(record.failure.is_some());
    }
    buckets
}

fn failure_groups(
    records: &[RequestRecord],
    sigterm_at: &BTreeMap<String, Duration>,
) -> Vec<FailureGroup> {
    let mut groups: BTreeMap<(String, String), FailureGroup> = BTreeMap::new();
    for (at, failure) in records
        .iter()
        .filter_map(|record| Some((record.at, record.failure.as_ref()?)))
    {
        let instance = failure.instance.clone().unwrap_or_else(|| "none".into());
        groups
            .entry((instance.clone(), failure.reason.clone()))
            .and_modify(|group| {
                group.count += 1;
                group.last = at;
            })
            .or_insert(FailureGroup {
                reason: failure.reason.clone(),
                count: 1,
                first: at,
                last: at,
                sigterm_at: sigterm_at.get(&instance).copied(),
                instance,
            });
    }
    let mut groups: Vec<FailureGroup> = groups.into_values().collect();
    groups.sort_by_key(|group| group.first);
    groups
}

/// The results table: mode, requests sent, failed, failure %, time taken, mean hold per pod.
pub fn print_table(summaries: &[ModeSummary]) {
    println!(
        "\n{:<40} {:>9} {:>7} {:>9} {:>11} {:>14}",
        "mode", "requests", "failed", "failed %", "time taken", "held per pod"
    );
    for summary in summaries {
        let held = summary.mean_hold().map_or_else(
            || "-".to_owned(),
            |held| format!("{:.2} s", held.as_secs_f64()),
        );
        println!(
            "{:<40} {:>9} {:>7} {:>8.1}% {:>9.1} s {:>14}",
            summary.mode.label(),
            summary.requests,
            summary.failed,
            summary.failed_percent(),
            summary.took.as_secs_f64(),
            held
        );
    }
}

/// Why requests failed, one line per instance and reason.
pub fn failure_lines(summary: &ModeSummary) -> Vec<String> {
    summary
        .failure_groups
        .iter()
        .map(|group| {
            let sigterm = group.sigterm_at.map_or_else(String::new, |at| {
                format!(" (its SIGTERM: {:.2} s)", at.as_secs_f64())
            });
            format!(
                "{} request(s) to {} from {:.2} s to {:.2} s{sigterm}: {}",
                group.count,
                group.instance,
                group.first.as_secs_f64(),
                group.last.as_secs_f64(),
                group.reason
            )
        })
        .collect()
}

/// Writes the settings and every mode's results to `path`.
pub fn write_json(path: &Path, settings: &Settings, summaries: &[ModeSummary]) -> Result<()> {
    let document = json!({
        "command": "cargo run --release --example rolling_update",
        "arguments": std::env::args().skip(1).collect::<Vec<_>>(),
        "settings": settings_json(settings),
        "drain_arithmetic": settings.drain_arithmetic(),
        "after_propagation_arithmetic": settings.after_propagation_arithmetic(),
        "bucket_ms": BUCKET.as_millis() as u64,
        "modes": summaries.iter().map(mode_json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&document).context("rendering the results")?;
    fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

fn settings_json(settings: &Settings) -> Value {
    json!({
        "instances": settings.instances,
        "server_cache_s": seconds(settings.cache),
        "client_fetch_s": seconds(settings.fetch),
        "load_balancer_ttl_s": seconds(settings.lb_ttl),
        "heartbeat_s": seconds(settings.heartbeat),
        "startup_s": seconds(settings.startup),
        "margin_s": seconds(settings.margin),
        "drain_s": seconds(settings.drain()),
        "drain_given": settings.given_drain.is_some(),
        "after_propagation_s": seconds(settings.after_propagation()),
        "requests_per_s": settings.rate_per_second,
        "stale_load_balancer_ttl_s": seconds(settings.stale_lb_ttl),
        "stale_requests_per_s": settings.stale_rate_per_second,
        "until_quiet_s": seconds(settings.until_quiet),
        "request_timeout_s": seconds(settings.request_timeout),
    })
}

fn mode_json(summary: &ModeSummary) -> Value {
    json!({
        "mode": summary.mode.key(),
        "label": summary.mode.label(),
        "requests": summary.requests,
        "failed": summary.failed,
        "failed_percent": round(summary.failed_percent(), 2),
        "took_s": seconds(summary.took),
        "held_per_pod_s": summary.holds.iter().copied().map(seconds).collect::<Vec<_>>(),
        "mean_held_s": summary.mean_hold().map(seconds),
        "series": summary.series.iter().enumerate().map(|(index, bucket)| json!({
            "t_s": seconds(BUCKET * index as u32),
            "requests": bucket.requests,
            "failed": bucket.failed,
        })).collect::<Vec<_>>(),
        "events": summary.events.iter().map(|event| json!({
            "t_s": seconds(event.at),
            "event": event.what,
        })).collect::<Vec<_>>(),
        "failures": summary.failure_groups.iter().map(|group| json!({
            "instance": group.instance,
            "reason": group.reason,
            "count": group.count,
            "first_t_s": seconds(group.first),
            "last_t_s": seconds(group.last),
            "sigterm_t_s": group.sigterm_at.map(seconds),
        })).collect::<Vec<_>>(),
    })
}

/// Seconds, to the millisecond.
fn seconds(duration: Duration) -> f64 {
    round(duration.as_secs_f64(), 3)
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}
