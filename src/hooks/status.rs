//! status: this instance's status and override as every peer sees it, as a table on stdout.

use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result};

use super::fan_out::on_every_peer;
use super::find::{find_this_pod, list_app_on};
use super::plan::{Plan, PlannedRequest};
use super::report::{failure_exit, not_found_peers, summary};
use super::requests::lookup;
use crate::eureka::{Answer, EurekaClient, Instance};
use crate::exit::{Exit, HookFailed};
use crate::settings::Settings;

/// Writes this instance's status and override on every peer to `out`, for a person.
pub fn status(settings: &Settings, client: &EurekaClient, out: &mut dyn Write) -> Result<()> {
    let peers = &settings.registry.peers;
    let lookups = on_every_peer(peers, |peer| {
        client.instance(
            peer,
            &lookup(&settings.identity),
            settings.registry.request_timeout,
        )
    });
    out.write_all(table(settings, &lookups).as_bytes())
        .and_then(|()| out.flush())
        .context("writing the status table to stdout")?;
    if lookups.iter().any(Result::is_ok) {
        return Ok(());
    }
    let answers: Vec<Answer> = lookups.into_iter().filter_map(Result::err).collect();
    Err(unknown_everywhere(settings, client, &answers).into())
}

/// What status asks each peer.
pub fn plan(settings: &Settings) -> Plan<'_> {
    Plan {
        requests: vec![PlannedRequest::always(lookup(&settings.identity), "")],
        afterwards: None,
    }
}

fn table(settings: &Settings, lookups: &[Result<Instance, Answer>]) -> String {
    let mut table = format!(
        "instance {} of app {}\n{:<44} {:<16} {:<16} {}\n",
        settings.identity.instance_id,
        settings.identity.app.registry_name(),
        "PEER",
        "STATUS",
        "OVERRIDE",
        "LAST CHANGE"
    );
    for (peer, lookup) in settings.registry.peers.iter().zip(lookups) {
        let row = match lookup {
            Ok(instance) => format!(
                "{:<16} {:<16} {}",
                instance.status.as_str(),
                instance
                    .overridden_status
                    .map_or("none", |status| status.as_str()),
                instance.last_updated_ms.map_or_else(
                    || "-".into(),
                    |ms| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms))
                        .to_string()
                )
            ),
            Err(Answer::NotFound) => "not registered".into(),
            Err(answer) => format!("unreachable: {answer}"),
        };
        // Writing to a String cannot fail.
        let _ = writeln!(table, "{:<44} {row}", peer.to_string());
    }
    table
}

fn unknown_everywhere(
    settings: &Settings,
    client: &EurekaClient,
    answers: &[Answer],
) -> HookFailed {
    let id = &settings.identity.instance_id;
    let peers = &settings.registry.peers;
    let exit = failure_exit(answers);
    let message = if exit == Exit::NotRegistered {
        let not_found = not_found_peers(peers, answers);
        let listings = list_app_on(settings, client, &not_found);
        match find_this_pod(&settings.identity, &not_found, &listings) {
            (Some(matched), why) => format!(
                "instance {id} is not registered on any peer, but {why}: pass --instance-id {matched}"
            ),
            (None, why) => format!("instance {id} is not registered on any peer: {why}"),
        }
    } else {
        format!(
            "instance {id} is not known to any peer: {}",
            summary(peers, answers)
        )
    };
    HookFailed { exit, message }
}
