//! A JSON value that keeps object keys in document order, and a comparison of an answer with a
//! recorded one: same keys in the same order, same values, timestamps of the same JSON type and
//! only zero or not alike.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

pub const TIMESTAMP_FIELDS: [&str; 6] = [
    "registrationTimestamp",
    "lastRenewalTimestamp",
    "serviceUpTimestamp",
    "lastUpdatedTimestamp",
    "lastDirtyTimestamp",
    "evictionTimestamp",
];

/// Same keys in the same order, same values, timestamps only zero or non-zero alike.
pub fn compare(expected: &Json, actual: &Json, at: &str) -> Result<(), String> {
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
                    if std::mem::discriminant(expected) != std::mem::discriminant(actual) {
                        return Err(format!(
                            "{at} is {actual}, expected {expected} (a number or a string alike)"
                        ));
                    }
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

/// A JSON value that keeps object keys in document order (serde_json's map sorts them here).
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(number) => number.as_u64(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        *self == Json::Null
    }

    /// A timestamp field, written as a number or (the `@Auto` ones) as a string.
    pub fn timestamp(&self, key: &str) -> i64 {
        match self.get(key) {
            Some(Json::Number(number)) => number.as_i64().unwrap_or(-1),
            Some(Json::String(text)) => text.parse().unwrap_or(-1),
            _ => -1,
        }
    }

    pub fn is_zero_timestamp(&self) -> bool {
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
