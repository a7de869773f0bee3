//! Replays the transcript of a real Eureka server (`tests/fixtures/eureka/eureka-conformance.json`)
//! against the double over HTTP and checks every answer: status, content type, statuses, and for JSON the
//! same keys in the same order with the same values, timestamps compared as zero or not. The
//! timestamp relations the transcript shows are checked on both the transcript and the double.

use crate::support::ordered_json::{Json, compare};
use eureka_double::EurekaDouble;

#[test]
fn double_answers_the_transcript_like_the_real_server() {
    let text = crate::support::transcript("eureka-conformance.json");
    let transcript: Json = serde_json::from_str(&text).expect("transcript is JSON");
    let steps = transcript
        .get("steps")
        .and_then(Json::as_array)
        .expect("transcript has steps");
    assert!(
        steps.len() > 33,
        "the transcript lost steps: {}",
        steps.len()
    );
    let eureka = EurekaDouble::start();
    let base = eureka.base_url().trim_end_matches('/').to_owned();

    let mut recorded = Vec::new();
    let mut replayed = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let why = step.get("why").and_then(Json::as_str).unwrap_or("?");
        let context = format!("step {index} ({why})");
        let answer = replay(step, &base);
        let response =
            check_step(step, &answer).unwrap_or_else(|problem| panic!("{context}: {problem}"));
        recorded.push(
            step.get("response")
                .filter(|response| !response.is_null())
                .cloned(),
        );
        replayed.push(response);
    }
    for (source, responses) in [("transcript", &recorded), ("double", &replayed)] {
        if let Err(problem) = check_timestamp_relations(responses, steps) {
            panic!("{source}: {problem}");
        }
    }
}

fn replay(step: &Json, base: &str) -> crate::support::Answer {
    let method = step
        .get("method")
        .and_then(Json::as_str)
        .expect("step has a method");
    let path = step
        .get("path")
        .and_then(Json::as_str)
        .expect("step has a path");
    let body = match step.get("body") {
        None | Some(Json::Null) => None,
        Some(Json::String(raw)) => Some(raw.clone()),
        Some(document) => Some(document.to_string()),
    };
    let headers = [
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    ];
    crate::support::send(method, &format!("{base}{path}"), &headers, body.as_deref())
}

/// Checks one answer against its step; returns the parsed JSON response, if any.
fn check_step(step: &Json, answer: &crate::support::Answer) -> Result<Option<Json>, String> {
    let expected_status = step
        .get("status_code")
        .and_then(Json::as_u64)
        .ok_or("step has no status_code")?;
    if u64::from(answer.status) != expected_status {
        return Err(format!(
            "status {} instead of {expected_status}; body {:?}",
            answer.status, answer.body
        ));
    }
    let content_type = answer.header("Content-Type");
    match step.get("content_type").and_then(Json::as_str) {
        None if content_type.is_some() || !answer.body.is_empty() => {
            return Err(format!(
                "expected no body, got {content_type:?} {:?}",
                answer.body
            ));
        }
        None => return Ok(None),
        Some(expected) if content_type != Some(expected) => {
            return Err(format!(
                "content type {content_type:?} instead of {expected:?}"
            ));
        }
        Some(_) => {}
    }
    let actual: Json = serde_json::from_str(&answer.body)
        .map_err(|error| format!("body is not JSON ({error}): {}", answer.body))?;
    for (field, expected_field) in [
        ("status", "instance_status"),
        ("overriddenStatus", "instance_overriddenStatus"),
    ] {
        if let Some(expected) = step.get(expected_field).and_then(Json::as_str) {
            let found = actual
                .get("instance")
                .and_then(|instance| instance.get(field))
                .and_then(Json::as_str);
            if found != Some(expected) {
                return Err(format!("instance.{field} is {found:?}, not {expected:?}"));
            }
        }
    }
    let expected = step.get("response").ok_or("step has no response")?;
    compare(expected, &actual, "response")?;
    Ok(Some(actual))
}

/// The lease timestamps of an instance answer.
#[derive(Clone, Copy, Debug)]
struct Stamps {
    registration: i64,
    renewal: i64,
    service_up: i64,
    updated: i64,
    dirty: i64,
}

const LEASE_DURATION_MS: i64 = 90_000;

/// A step, what it shows, and whether the timestamps show it.
type Relation<'a> = (usize, &'a str, &'a dyn Fn() -> Result<bool, String>);

/// Relations between timestamps that hold in any run of the transcript's sequence.
fn check_timestamp_relations(responses: &[Option<Json>], steps: &[Json]) -> Result<(), String> {
    let stamps = |index: usize| -> Result<Stamps, String> {
        let instance = responses[index]
            .as_ref()
            .and_then(|response| response.get("instance"))
            .ok_or_else(|| format!("step {index} has no instance answer"))?;
        let lease = instance
            .get("leaseInfo")
            .ok_or(format!("step {index} has no leaseInfo"))?;
        Ok(Stamps {
            registration: lease.timestamp("registrationTimestamp"),
            renewal: lease.timestamp("lastRenewalTimestamp"),
            service_up: lease.timestamp("serviceUpTimestamp"),
            updated: instance.timestamp("lastUpdatedTimestamp"),
            dirty: instance.timestamp("lastDirtyTimestamp"),
        })
    };
    let relations: [Relation; 12] = [
        (
            2,
            "a fresh lease was registered, renewed, updated and put up at once",
            &|| {
                let s = stamps(2)?;
                Ok(s.renewal == s.registration
                    && s.service_up == s.registration
                    && s.updated == s.registration
                    && s.dirty <= s.registration)
            },
        ),
        (
            6,
            "the status change renewed the lease (renewal + 90 s) when it modified the instance",
            &|| {
                let (s, registered) = (stamps(6)?, stamps(2)?);
                Ok(s.renewal - LEASE_DURATION_MS == s.updated
                    && s.registration == registered.registration
                    && s.service_up == registered.service_up)
            },
        ),
        (10, "the heartbeat renewed without modifying", &|| {
            let (s, before) = (stamps(10)?, stamps(6)?);
            Ok(s.renewal >= before.renewal && s.updated == before.updated)
        }),
        (
            12,
            "deleting the override renewed and modified at once",
            &|| {
                let (s, before) = (stamps(12)?, stamps(10)?);
                Ok(s.renewal - LEASE_DURATION_MS == s.updated && s.renewal >= before.renewal)
            },
        ),
        (
            15,
            "the re-registration is a fresh lease that keeps serviceUpTimestamp",
            &|| {
                let (s, first) = (stamps(15)?, stamps(2)?);
                Ok(s.renewal == s.registration
                    && s.updated == s.registration
                    && s.service_up == first.service_up
                    && s.registration >= first.registration)
            },
        ),
        (
            18,
            "deleting the override with value=UP renewed and modified at once",
            &|| {
                let (s, lease) = (stamps(18)?, stamps(15)?);
                Ok(s.renewal - LEASE_DURATION_MS == s.updated
                    && s.registration == lease.registration)
            },
        ),
        (
            20,
            "deleting a missing override renewed without modifying",
            &|| {
                let (s, before) = (stamps(20)?, stamps(18)?);
                Ok(s.updated == before.updated && s.renewal >= before.renewal)
            },
        ),
        (
            27,
            "a registration after cancel starts a new service-up time",
            &|| {
                let s = stamps(27)?;
                Ok(s.renewal == s.registration && s.service_up == s.registration)
            },
        ),
        (
            30,
            "registering over a live lease keeps its serviceUpTimestamp",
            &|| {
                let (s, old) = (stamps(30)?, stamps(27)?);
                Ok(s.renewal == s.registration
                    && s.service_up == old.service_up
                    && s.registration >= old.registration)
            },
        ),
        (31, "the lookup by id shows the same lease", &|| {
            let (s, same) = (stamps(31)?, stamps(30)?);
            Ok(
                (s.registration, s.renewal, s.service_up, s.updated, s.dirty)
                    == (
                        same.registration,
                        same.renewal,
                        same.service_up,
                        same.updated,
                        same.dirty,
                    ),
            )
        }),
        (
            33,
            "an instance registered OUT_OF_SERVICE was never up",
            &|| {
                let s = stamps(33)?;
                Ok(s.service_up == 0 && s.renewal == s.registration)
            },
        ),
        (
            33,
            "every instance answer shows eviction 0 while live",
            &|| {
                Ok(responses
                    .iter()
                    .flatten()
                    .filter_map(|response| response.get("instance"))
                    .all(|instance| {
                        instance
                            .get("leaseInfo")
                            .is_some_and(|lease| lease.timestamp("evictionTimestamp") == 0)
                    }))
            },
        ),
    ];
    for (index, relation, holds) in relations {
        let why = steps[index]
            .get("why")
            .and_then(Json::as_str)
            .unwrap_or("?");
        if !holds()? {
            return Err(format!(
                "step {index} ({why}): timestamps break \"{relation}\""
            ));
        }
    }
    Ok(())
}
