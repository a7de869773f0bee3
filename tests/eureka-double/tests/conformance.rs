//! Replays the transcript of a real Eureka server (`eureka-conformance.json`, found through
//! `EUREKA_CONFORMANCE_DIR`, by default `../shared` beside the repository) against the
//! double over HTTP and checks every answer: status, content type, statuses, and for JSON the
//! same keys in the same order with the same values, timestamps compared as zero or not. The
//! timestamp relations the transcript shows are checked on both the transcript and the double.
#![allow(clippy::unwrap_used)]

mod support;

use std::fmt;

use eureka_double::EurekaDouble;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

const TIMESTAMP_FIELDS: [&str; 6] = [
    "registrationTimestamp",
    "lastRenewalTimestamp",
    "serviceUpTimestamp",
    "lastUpdatedTimestamp",
    "lastDirtyTimestamp",
    "evictionTimestamp",
];

#[test]
fn double_answers_the_transcript_like_the_real_server() {
    let text = support::transcript("eureka-conformance.json");
    let transcript: Json = serde_json::from_str(&text).expect("transcript is JSON");
    let steps = transcript
        .get("steps")
        .and_then(Json::as_array)
        .expect("transcript has steps");
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

fn replay(step: &Json, base: &str) -> support::Answer {
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
    support::send(method, &format!("{base}{path}"), &headers, body.as_deref())
}

/// Checks one answer against its step; returns the parsed JSON response, if any.
fn check_step(step: &Json, answer: &support::Answer) -> Result<Option<Json>, String> {
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

/// Same keys in the same order, same values, timestamps only zero or non-zero alike.
fn compare(expected: &Json, actual: &Json, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Json::Object(expected), Json::Object(actual)) => {
            let keys = |fields: &[(String, Json)]| {
                fields
                    .iter()
                    .map(|(key, _)| key.clone())
                    .collect::<Vec<_>>()
            };
            if keys(expected) != keys(actual) {
                return Err(format!(
                    "{at} keys {:?}, expected {:?}",
                    keys(actual),
                    keys(expected)
                ));
            }
            for ((key, expected), (_, actual)) in expected.iter().zip(actual) {
                let at = format!("{at}.{key}");
                if TIMESTAMP_FIELDS.contains(&key.as_str()) {
                    if expected.is_zero_timestamp() != actual.is_zero_timestamp() {
                        return Err(format!(
                            "{at} is {actual}, expected {expected} (zero or not must agree)"
                        ));
                    }
                } else {
                    compare(expected, actual, &at)?;
                }
            }
            Ok(())
        }
        (Json::Array(expected), Json::Array(actual)) if expected.len() == actual.len() => expected
            .iter()
            .zip(actual)
            .enumerate()
            .try_for_each(|(index, (expected, actual))| {
                compare(expected, actual, &format!("{at}[{index}]"))
            }),
        _ if expected == actual => Ok(()),
        _ => Err(format!("{at} is {actual}, expected {expected}")),
    }
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

/// A JSON value that keeps object keys in document order (serde_json's map sorts them here).
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(number) => number.as_u64(),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        *self == Json::Null
    }

    /// A timestamp field, written as a number or (the `@Auto` ones) as a string.
    fn timestamp(&self, key: &str) -> i64 {
        match self.get(key) {
            Some(Json::Number(number)) => number.as_i64().unwrap_or(-1),
            Some(Json::String(text)) => text.parse().unwrap_or(-1),
            _ => -1,
        }
    }

    fn is_zero_timestamp(&self) -> bool {
        matches!(self, Json::Number(number) if number.as_i64() == Some(0))
            || *self == Json::String("0".into())
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(flag) => write!(f, "{flag}"),
            Json::Number(number) => write!(f, "{number}"),
            Json::String(text) => write!(f, "{}", serde_json::Value::from(text.as_str())),
            Json::Array(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    write!(f, "{}{item}", if index == 0 { "" } else { "," })?;
                }
                f.write_str("]")
            }
            Json::Object(fields) => {
                f.write_str("{")?;
                for (index, (key, value)) in fields.iter().enumerate() {
                    let key = serde_json::Value::from(key.as_str());
                    write!(f, "{}{key}:{value}", if index == 0 { "" } else { "," })?;
                }
                f.write_str("}")
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Json, E> {
        Ok(Json::Bool(flag))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Json, E> {
        Ok(Json::Number(number.into()))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Json, E> {
        Ok(Json::Number(number.into()))
    }

    fn visit_f64<E>(self, number: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(number).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E>(self, text: &str) -> Result<Json, E> {
        Ok(Json::String(text.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Json, A::Error> {
        let mut array = Vec::new();
        while let Some(item) = items.next_element()? {
            array.push(item);
        }
        Ok(Json::Array(array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Json, A::Error> {
        let mut fields = Vec::new();
        while let Some(entry) = entries.next_entry()? {
            fields.push(entry);
        }
        Ok(Json::Object(fields))
    }
}
