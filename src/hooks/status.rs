//! status: this instance's status and override as every peer sees it, as a table on stdout, with
//! when each peer's record was registered and whether that registration belongs to this pod's
//! incarnation (later than PID 1's start, `incarnation`; the rule `fast_return` applies).

use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result};

use super::fast_return::PodStart;
use super::locate::{EurekaCheck, NotLocated, locate};
use super::plan::{Listing, Plan, PlannedRequest, fallback};
use super::report::{failure_exit, summary};
use super::requests::lookup;
use crate::eureka::{Answer, EurekaClient, Instance};
use crate::exit::{Exit, HookFailed};
use crate::incarnation::epoch_ms;
use crate::log;
use crate::settings::{IdSource, Settings};

/// Writes this instance's status and override on every peer to `out`, for a person.
pub fn status(
    settings: &Settings,
    client: &EurekaClient,
    pod_start: &PodStart,
    out: &mut dyn Write,
) -> Result<()> {
    let timeout = settings.registry.request_timeout;
    let identity = &settings.identity;
    let heading_for =
        |ids: &str| format!("instance {ids} of app {}\n", identity.app.registry_name());
    let (text, outcome) = match locate(
        settings,
        client,
        &|| timeout.into(),
        &EurekaCheck::default(),
    ) {
        Ok(located) => {
            let mut heading = heading_for(located.id.as_str());
            if let IdSource::Found(how) = &identity.id_source {
                // Writing to a String cannot fail.
                let _ = writeln!(
                    heading,
                    "(no app name: {how}; --app {} --instance-id {} name it outright)",
                    identity.app.as_given(),
                    located.id
                );
            }
            if let Some(why) = &located.matched_because {
                // Writing to a String cannot fail.
                let _ = writeln!(
                    heading,
                    "(not {}: {why}; --instance-id {} makes this the id)",
                    identity.shown_ids(),
                    located.id
                );
            }
            (
                table(heading, settings, pod_start, &located.lookups),
                Ok(()),
            )
        }
        Err(not_located) => {
            let heading = heading_for(&identity.shown_ids());
            let rows: Vec<Result<Instance, Answer>> =
                not_located.answers.iter().cloned().map(Err).collect();
            let failure = unknown_everywhere(settings, &not_located);
            (table(heading, settings, pod_start, &rows), Err(failure))
        }
    };
    out.write_all(log::escaped_lines(&text).as_bytes())
        .and_then(|()| out.flush())
        .context("writing the status table to stdout")?;
    Ok(outcome?)
}

/// What status asks each peer.
pub fn plan(settings: &Settings) -> Plan<'_> {
    let identity = &settings.identity;
    let reads = identity
        .candidates()
        .into_iter()
        .map(|id| PlannedRequest::always(lookup(&identity.app, id), ""));
    Plan {
        requests: reads
            .chain(fallback(identity, Listing::Needed, lookup))
            .collect(),
        afterwards: None,
    }
}

fn table(
    heading: String,
    settings: &Settings,
    pod_start: &PodStart,
    lookups: &[Result<Instance, Answer>],
) -> String {
    let mut table = heading;
    // Writing to a String cannot fail.
    let _ = writeln!(
        table,
        "{:<44} {:<16} {:<16} {:<20} {:<20} THIS INCARNATION",
        "PEER", "STATUS", "OVERRIDE", "LAST CHANGE", "REGISTERED"
    );
    let shown = |ms: Option<u64>| ms.map_or_else(|| "-".into(), shown_timestamp);
    for (peer, lookup) in settings.registry.peers.iter().zip(lookups) {
        let row = match lookup {
            Ok(instance) => format!(
                "{:<16} {:<16} {:<20} {:<20} {}",
                instance.status.as_str(),
                instance
                    .overridden_status
                    .map_or("none", |status| status.as_str()),
                shown(instance.last_updated_ms),
                shown(instance.registered_ms),
                this_incarnation(instance.registered_ms, pod_start)
            ),
            Err(Answer::NotFound) => "not registered".into(),
            Err(answer) => format!("unreachable: {answer}"),
        };
        // Writing to a String cannot fail.
        let _ = writeln!(table, "{:<44} {row}", peer.to_string());
    }
    if let Err(why) = pod_start {
        let _ = writeln!(table, "(this pod's start time is unknown: {why})");
    }
    table
}

/// Whether a registration at `registered_ms` belongs to this pod's incarnation: `yes` when it is
/// later than PID 1's start, `no` (a previous incarnation's lease) otherwise, `?` when unknown.
fn this_incarnation(registered_ms: Option<u64>, pod_start: &PodStart) -> &'static str {
    match (registered_ms, pod_start) {
        (Some(registered), Ok(started)) if registered > epoch_ms(*started) => "yes",
        (Some(_), Ok(_)) => "no (registered before PID 1 started)",
        _ => "?",
    }
}

/// The last instant RFC 3339 can write (9999-12-31T23:59:59.999Z), in epoch milliseconds.
const LAST_RFC3339_MS: u64 = 253_402_300_799_999;

/// A registry timestamp for a person: an RFC 3339 date when it is one in epoch milliseconds,
/// else the number as the registry sent it (one in microseconds is far past year 9999).
pub(super) fn shown_timestamp(ms: u64) -> String {
    let mut shown = String::new();
    let date = (ms <= LAST_RFC3339_MS)
        .then(|| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
        .flatten();
    match date {
        Some(at) if write!(shown, "{}", humantime::format_rfc3339_seconds(at)).is_ok() => shown,
        _ => format!("{ms} (not a date in epoch milliseconds)"),
    }
}

fn unknown_everywhere(settings: &Settings, not_located: &NotLocated) -> HookFailed {
    let ids = settings.identity.shown_ids();
    let exit = failure_exit(&not_located.answers);
    let message = match (exit, &not_located.explanation) {
        (Exit::NotRegistered, Some(why)) => {
            format!("instance {ids} is not registered on any peer: {why}")
        }
        (Exit::NotRegistered, None) => format!("instance {ids} is not registered on any peer"),
        _ => format!(
            "instance {ids} is not known to any peer: {}",
            summary(&settings.registry.peers, &not_located.answers)
        ),
    };
    HookFailed { exit, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_belongs_to_this_incarnation_only_when_later_than_pid_1s_start() {
        let started: PodStart = Ok(UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!(this_incarnation(Some(1_001), &started), "yes");
        assert!(this_incarnation(Some(1_000), &started).starts_with("no"));
        assert_eq!(this_incarnation(None, &started), "?");
        assert_eq!(this_incarnation(Some(5_000), &Err("no /proc".into())), "?");
    }

    #[test]
    fn a_timestamp_of_any_size_is_shown_without_a_panic() {
        assert_eq!(shown_timestamp(1_795_585_797_983), "2026-11-25T05:49:57Z");
        assert_eq!(shown_timestamp(LAST_RFC3339_MS), "9999-12-31T23:59:59Z");
        for ms in [LAST_RFC3339_MS + 1, 1_795_585_797_983_000, u64::MAX] {
            assert_eq!(
                shown_timestamp(ms),
                format!("{ms} (not a date in epoch milliseconds)")
            );
        }
    }
}
