//! Where one peer's watch reads its evidence, and reading it: the compact app listing
//! (`apps/{APP}`) or the registry's delta (`apps/delta`, fetched exactly as Spring Cloud's clients
//! fetch it). Both come from the same read-only response cache and flip in the same refresh; what
//! they cost differs by server. Spring Cloud's server sends the listing uncompressed (its size
//! grows with the app: about 75 KB for 200 instances) and the delta gzip-compressed (its size grows
//! with the registry's changes of the last three minutes); Netflix's war compresses both. So each
//! peer is polled on whichever of the two cost fewer bytes on the wire when primed, just before the
//! mark; a peer whose delta cannot be read (403 when the delta is disabled) is polled on the
//! listing.
//!
//! Why the delta prime: a key not in the read-only cache reads through to fresh data, so a first
//! delta read after the mark would show it before any consumer can see it. Spring clients keep the
//! delta key in the cache anyway; the prime makes sure of it.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::watch::Sighting;
use crate::clock::Clock;
use crate::eureka::{
    Answer, Budget, EurekaClient, Instance, InstanceStatus, Limit, parse_application_document,
    unreadable,
};
use crate::hooks::requests::{clients_delta, listing};
use crate::settings::Peer;
use crate::values::{AppName, InstanceId};

/// The key a peer's watch polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `GET apps/{APP}`, compact, gzip asked for.
    Listing,
    /// `GET apps/delta` as Spring Cloud's clients send it.
    Delta,
}

impl Source {
    /// The path below the service URL, for the log.
    pub fn shown(self) -> &'static str {
        match self {
            Source::Listing => "apps/{APP}",
            Source::Delta => "apps/delta",
        }
    }
}

/// What a peer answered before the mark.
pub struct Prime {
    /// The app listing, and when it was asked for.
    pub listing: (Instant, Result<Vec<Instance>, Answer>),
    /// The key to poll during the drain.
    pub source: Source,
}

/// Primes `peer` within `budget`: the app listing, then (in what the budget leaves) the delta, so
/// both keys are in its read-only cache before the mark; picks the cheaper one to poll.
pub fn prime(
    client: &EurekaClient,
    clock: &dyn Clock,
    peer: &Peer,
    app: &AppName,
    budget: Duration,
) -> Prime {
    let started = clock.now();
    let listed = client.sized_document(peer, &listing(app), within(budget));
    let left = budget.saturating_sub(clock.now().saturating_duration_since(started));
    let delta_bytes = match &listed {
        Ok(_) if !left.is_zero() => client
            .sized_document(peer, &clients_delta(), within(left))
            .ok()
            .filter(|(body, _)| is_delta(body))
            .map(|(_, bytes)| bytes),
        _ => None,
    };
    let source = match (&listed, delta_bytes) {
        (Ok((_, listing_bytes)), Some(delta_bytes)) if delta_bytes < *listing_bytes => {
            Source::Delta
        }
        _ => Source::Listing,
    };
    let instances = listed.and_then(|(body, _)| {
        parse_application_document(&body).map_err(|problem| unreadable(&problem))
    });
    Prime {
        listing: (started, instances),
        source,
    }
}

/// The prime's share of the request timeout, named as its own limit when it runs out.
fn within(left: Duration) -> Budget {
    Budget::of(left, Limit::ListingBeforeMark)
}

/// Polls `source` on `peer` for what it shows of instance `id`.
pub fn read(
    client: &EurekaClient,
    peer: &Peer,
    source: Source,
    app: &AppName,
    id: &InstanceId,
    budget: Budget,
) -> Result<Sighting, Answer> {
    match source {
        Source::Listing => match client.instances(peer, &listing(app), budget) {
            Ok(instances) => Ok(Sighting::of(&instances, id.as_str())),
            Err(Answer::NotFound) => Ok(Sighting::Absent),
            Err(answer) => Err(answer),
        },
        Source::Delta => {
            let (body, _) = client.sized_document(peer, &clients_delta(), budget)?;
            in_delta(&body, &app.registry_name(), id.as_str())
                .map_err(|problem| unreadable(&problem))
        }
    }
}

fn is_delta(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .is_ok_and(|document| document.get("applications").is_some_and(Value::is_object))
}

/// Instance `id` of `app` (its registry name) in a delta document; `Absent` when it was cancelled
/// (`actionType` `DELETED`).
fn in_delta(body: &str, app: &str, id: &str) -> Result<Sighting, String> {
    let document: Value = serde_json::from_str(body).map_err(|err| err.to_string())?;
    let applications = document
        .get("applications")
        .filter(|applications| applications.is_object())
        .ok_or("no applications object")?;
    let one_or_many = |value: &Value| -> Vec<Value> {
        match value {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            single => vec![single.clone()],
        }
    };
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let Some(application) = one_or_many(&applications["application"])
        .into_iter()
        .find(|application| text(application, "name").as_deref() == Some(app))
    else {
        return Ok(Sighting::Unmentioned);
    };
    // Eureka's InstanceInfo.getId(): the instanceId, else the hostName.
    let instance = one_or_many(&application["instance"])
        .into_iter()
        .find(|instance| {
            text(instance, "instanceId")
                .filter(|known| !known.is_empty())
                .or_else(|| text(instance, "hostName"))
                .as_deref()
                == Some(id)
        });
    let Some(instance) = instance else {
        return Ok(Sighting::Unmentioned);
    };
    if text(&instance, "actionType").as_deref() == Some("DELETED") {
        return Ok(Sighting::Absent);
    }
    let status = text(&instance, "status").map_or(InstanceStatus::Unknown, |status| {
        InstanceStatus::from_wire(&status)
    });
    Ok(if status == InstanceStatus::OutOfService {
        Sighting::OutOfService
    } else {
        Sighting::Listed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(instances: &str) -> String {
        format!(
            r#"{{"applications":{{"versions__delta":"3","apps__hashcode":"UP_2_",
            "application":[{{"name":"OTHER","instance":[{{"instanceId":"pod-0:demo:8080",
            "status":"UP","actionType":"ADDED"}}]}},{{"name":"DEMO","instance":{instances}}}]}}}}"#
        )
    }

    #[test]
    fn the_delta_shows_the_instance_of_the_app_by_id_or_says_nothing_of_it() {
        let id = "pod-0:demo:8080";
        let one = |status: &str, action: &str| {
            delta(&format!(
                r#"[{{"instanceId":"x"}},{{"instanceId":"{id}","status":"{status}","actionType":"{action}"}}]"#
            ))
        };
        assert_eq!(
            in_delta(&one("OUT_OF_SERVICE", "MODIFIED"), "DEMO", id),
            Ok(Sighting::OutOfService)
        );
        assert_eq!(
            in_delta(&one("UP", "ADDED"), "DEMO", id),
            Ok(Sighting::Listed)
        );
        assert_eq!(
            in_delta(&one("UP", "DELETED"), "DEMO", id),
            Ok(Sighting::Absent)
        );
        // Only in another app, or in no app: not mentioned.
        assert_eq!(
            in_delta(&delta("[]"), "DEMO", id),
            Ok(Sighting::Unmentioned)
        );
        assert_eq!(
            in_delta(r#"{"applications":{"application":[]}}"#, "DEMO", id),
            Ok(Sighting::Unmentioned)
        );
        // A single instance object, and the hostName standing in for a missing instanceId.
        let single = delta(r#"{"hostName":"pod-0","status":"OUT_OF_SERVICE"}"#);
        assert_eq!(
            in_delta(&single, "DEMO", "pod-0"),
            Ok(Sighting::OutOfService)
        );
    }

    #[test]
    fn what_is_not_a_delta_is_an_error_not_a_sighting() {
        for body in ["", "{}", r#"{"applications":[]}"#, "<applications/>"] {
            assert!(in_delta(body, "DEMO", "pod-0").is_err(), "{body:?}");
            assert!(!is_delta(body), "{body:?}");
        }
    }
}
