//! Decoding the registry's JSON documents (`{"instance": …}`, `{"application": …}` and
//! `{"applications": …}`) into [`Instance`]s, accepting the shapes Eureka's codecs write.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;

use super::status::InstanceStatus;

/// One registered instance, as read from the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// `instanceId`, else `hostName`, as Eureka's `InstanceInfo.getId()`.
    pub id: String,
    pub host_name: String,
    pub ip_addr: String,
    pub port: Option<u16>,
    pub status: InstanceStatus,
    /// `None` when no override is set (Eureka writes `UNKNOWN` then).
    pub overridden_status: Option<InstanceStatus>,
    /// Epoch milliseconds of the last status change, when the registry says.
    pub last_updated_ms: Option<u64>,
    /// Epoch milliseconds of `leaseInfo.registrationTimestamp`, when the registry says (the
    /// compact listing does not).
    pub registered_ms: Option<u64>,
    /// `healthCheckUrl`, when the record has one.
    pub health_check_url: Option<String>,
}

impl Instance {
    /// The override as Eureka shows it: `UNKNOWN` when there is none.
    pub fn override_shown(&self) -> InstanceStatus {
        self.overridden_status.unwrap_or(InstanceStatus::Unknown)
    }
}

/// When an instance record last changed status, and when its lease began, in epoch milliseconds
/// as the registry wrote them (`lastUpdatedTimestamp`, `leaseInfo.registrationTimestamp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusChange {
    pub last_updated_ms: Option<u64>,
    pub registered_ms: Option<u64>,
}

pub fn parse_status_change(body: &str) -> Result<StatusChange, String> {
    let document: Value = serde_json::from_str(body).map_err(|err| err.to_string())?;
    let instance = document
        .get("instance")
        .filter(|instance| instance.is_object())
        .ok_or_else(|| "no instance object".to_string())?;
    Ok(StatusChange {
        last_updated_ms: instance
            .get("lastUpdatedTimestamp")
            .and_then(number_or_string),
        registered_ms: instance
            .pointer("/leaseInfo/registrationTimestamp")
            .and_then(number_or_string),
    })
}

pub fn parse_instance_document(body: &str) -> Result<Instance, String> {
    let document: Value = serde_json::from_str(body).map_err(|err| err.to_string())?;
    parse_instance(&document["instance"]).ok_or_else(|| "no instance object".into())
}

/// The instances of an application document; `instance` may be an array or a single object.
pub fn parse_application_document(body: &str) -> Result<Vec<Instance>, String> {
    let document: Value = serde_json::from_str(body).map_err(|err| err.to_string())?;
    let application = document
        .get("application")
        .ok_or_else(|| "no application object".to_string())?;
    let instances = match &application["instance"] {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    instances
        .into_iter()
        .map(|item| {
            parse_instance(item).ok_or_else(|| "an instance without instanceId or hostName".into())
        })
        .collect()
}

/// One instance of the whole registry, with the app it is registered under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The application's `name` (Eureka upper-cases it).
    pub app: String,
    pub instance: Instance,
}

/// The instances of a registry document (`GET apps/`, or `apps/delta`, whose cancelled instances
/// are left out) whose JSON text `wanted` accepts, in order, and how many instances it lists in
/// all. A 1000-instance registry is about 1 MB of JSON; only the instances `wanted` accepts are
/// decoded into a tree, one at a time, so the document's text is most of the memory used and
/// the text's scan most of the time.
pub fn parse_registry_document(
    body: &str,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Listed, String> {
    let document: BTreeMap<String, &RawValue> =
        serde_json::from_str(body).map_err(|err| err.to_string())?;
    let applications: BTreeMap<String, &RawValue> = document
        .get("applications")
        .ok_or_else(|| "no applications object".to_string())
        .and_then(|raw| serde_json::from_str(raw.get()).map_err(|err| err.to_string()))?;
    let mut registered = Vec::new();
    let mut listed: usize = 0;
    for application in one_or_many(applications.get("application").copied())? {
        let fields: BTreeMap<String, &RawValue> =
            serde_json::from_str(application.get()).map_err(|err| err.to_string())?;
        let name = fields
            .get("name")
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
            .ok_or_else(|| "an application without a name".to_string())?;
        for raw in one_or_many(fields.get("instance").copied())? {
            listed = listed.saturating_add(1);
            if !wanted(raw.get()) {
                continue;
            }
            let item: Value = serde_json::from_str(raw.get()).map_err(|err| err.to_string())?;
            if item.get("actionType").and_then(Value::as_str) == Some("DELETED") {
                continue;
            }
            let instance = parse_instance(&item)
                .ok_or_else(|| "an instance without instanceId or hostName".to_string())?;
            registered.push(Registered {
                app: name.clone(),
                instance,
            });
        }
    }
    Ok(Listed { registered, listed })
}

/// What [`parse_registry_document`] kept of a registry document.
#[derive(Debug, PartialEq, Eq)]
pub struct Listed {
    pub registered: Vec<Registered>,
    /// Every instance it listed, kept or not, cancelled ones included.
    pub listed: usize,
}

/// The items of a JSON array, or the one object Eureka's older codecs write for a single item;
/// none for `null` or a missing key.
fn one_or_many(raw: Option<&RawValue>) -> Result<Vec<&RawValue>, String> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    match raw.get().trim_start().as_bytes().first() {
        Some(b'[') => serde_json::from_str(raw.get()).map_err(|err| err.to_string()),
        Some(b'{') => Ok(vec![raw]),
        _ if raw.get().trim() == "null" => Ok(Vec::new()),
        _ => Err(format!(
            "an array of objects expected, not {}",
            raw.get().chars().take(20).collect::<String>()
        )),
    }
}

/// Whether `body` is a registry document (`{"applications": {…}}`), as `apps/` and
/// `apps/delta` answer.
pub fn is_applications_document(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .is_ok_and(|document| document.get("applications").is_some_and(Value::is_object))
}

fn parse_instance(value: &Value) -> Option<Instance> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let host_name = text("hostName").unwrap_or_default();
    // Eureka's InstanceInfo.getId(): the instanceId, else the hostName.
    let id = text("instanceId")
        .filter(|id| !id.is_empty())
        .or_else(|| Some(host_name.clone()).filter(|host| !host.is_empty()))?;
    let status = |text: Option<String>| {
        text.as_deref()
            .map_or(InstanceStatus::Unknown, InstanceStatus::from_wire)
    };
    Some(Instance {
        id,
        ip_addr: text("ipAddr").unwrap_or_default(),
        port: value.get("port").and_then(port_number),
        status: status(text("status")),
        // Older servers and the XML codec spell it `overriddenstatus`.
        overridden_status: Some(status(
            text("overriddenStatus").or_else(|| text("overriddenstatus")),
        ))
        .filter(|status| *status != InstanceStatus::Unknown),
        last_updated_ms: value.get("lastUpdatedTimestamp").and_then(number_or_string),
        registered_ms: value
            .pointer("/leaseInfo/registrationTimestamp")
            .and_then(number_or_string)
            .filter(|registered| *registered != 0),
        health_check_url: text("healthCheckUrl").filter(|url| !url.is_empty()),
        host_name,
    })
}

/// `{"$": 8080, "@enabled": "true"}`, or a bare number or string.
fn port_number(value: &Value) -> Option<u16> {
    let number = match value {
        Value::Object(port) => port.get("$").and_then(number_or_string),
        other => number_or_string(other),
    }?;
    u16::try_from(number).ok()
}

fn number_or_string(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCE: &str = r#"{"instance":{"instanceId":"pod-0:demo:8080","hostName":"pod-0","app":"DEMO",
        "ipAddr":"10.0.0.7","status":"OUT_OF_SERVICE","overriddenStatus":"OUT_OF_SERVICE",
        "port":{"$":8080,"@enabled":"true"},"lastUpdatedTimestamp":"1795585797983",
        "leaseInfo":{"registrationTimestamp":1795585790000},
        "healthCheckUrl":"http://10.0.0.7:8080/actuator/health"}}"#;

    #[test]
    fn instance_documents_are_read_as_the_server_writes_them() {
        let instance = parse_instance_document(INSTANCE).unwrap();
        assert_eq!(instance.id, "pod-0:demo:8080");
        assert_eq!(instance.port, Some(8080));
        assert_eq!(instance.status, InstanceStatus::OutOfService);
        assert_eq!(
            instance.overridden_status,
            Some(InstanceStatus::OutOfService)
        );
        assert_eq!(instance.last_updated_ms, Some(1_795_585_797_983));
        assert_eq!(instance.registered_ms, Some(1_795_585_790_000));
        assert_eq!(
            instance.health_check_url.as_deref(),
            Some("http://10.0.0.7:8080/actuator/health")
        );
    }

    #[test]
    fn a_status_change_is_read_from_the_record_and_its_lease() {
        let body = r#"{"instance":{"lastUpdatedTimestamp":"1795585797983",
            "leaseInfo":{"registrationTimestamp":1795585790000}}}"#;
        assert_eq!(
            parse_status_change(body).unwrap(),
            StatusChange {
                last_updated_ms: Some(1_795_585_797_983),
                registered_ms: Some(1_795_585_790_000),
            }
        );
        assert!(parse_status_change("<html>").is_err());
        assert!(parse_status_change(r#"{"instance":"x"}"#).is_err());
    }

    #[test]
    fn legacy_lowercase_override_and_missing_id_are_understood() {
        let instance = parse_instance_document(
            r#"{"instance":{"hostName":"pod-1","status":"UP","overriddenstatus":"UNKNOWN","port":8081}}"#,
        )
        .unwrap();
        assert_eq!(instance.id, "pod-1");
        assert_eq!(instance.port, Some(8081));
        assert_eq!(instance.overridden_status, None);
        assert_eq!(instance.override_shown().as_str(), "UNKNOWN");
    }

    #[test]
    fn application_documents_accept_an_array_or_a_single_instance() {
        let array = r#"{"application":{"name":"DEMO","instance":[{"instanceId":"a","hostName":"h"},{"instanceId":"b","hostName":"h"}]}}"#;
        assert_eq!(parse_application_document(array).unwrap().len(), 2);
        let single =
            r#"{"application":{"name":"DEMO","instance":{"instanceId":"a","hostName":"h"}}}"#;
        assert_eq!(parse_application_document(single).unwrap()[0].id, "a");
    }

    #[test]
    fn registry_documents_list_every_instance_with_its_app() {
        let body = r#"{"applications":{"versions__delta":"1","apps__hashcode":"UP_3_",
            "application":[
              {"name":"ORDERS","instance":[
                {"instanceId":"pod-0:orders:8080","hostName":"pod-0","ipAddr":"10.0.0.7","app":"ORDERS",
                 "status":"UP","port":{"$":8080,"@enabled":"true"},"metadata":{"a":"b"}},
                {"hostName":"pod-1","ipAddr":"10.0.0.8","port":{"$":"8081","@enabled":"true"}}]},
              {"name":"BILLING","instance":{"instanceId":"b-0","hostName":"b","ipAddr":"10.0.0.9",
                 "port":9090}},
              {"name":"GONE","instance":[{"instanceId":"g","hostName":"g","actionType":"DELETED"}]},
              {"name":"EMPTY","instance":null}]}}"#;
        let every = |_: &str| true;
        let Listed { registered, listed } = parse_registry_document(body, &every).unwrap();
        assert_eq!(listed, 4, "the cancelled one is counted too");
        let shown: Vec<(&str, &str, &str, Option<u16>)> = registered
            .iter()
            .map(|r| {
                (
                    r.app.as_str(),
                    r.instance.id.as_str(),
                    r.instance.ip_addr.as_str(),
                    r.instance.port,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("ORDERS", "pod-0:orders:8080", "10.0.0.7", Some(8080)),
                ("ORDERS", "pod-1", "10.0.0.8", Some(8081)),
                ("BILLING", "b-0", "10.0.0.9", Some(9090)),
            ]
        );
        let billing = |raw: &str| raw.contains("10.0.0.9");
        let only = parse_registry_document(body, &billing).unwrap();
        assert_eq!((only.registered.len(), only.listed), (1, 4));
        assert_eq!(only.registered[0].instance.id, "b-0");
        let single_app = r#"{"applications":{"application":{"name":"A","instance":[]}}}"#;
        assert_eq!(
            parse_registry_document(single_app, &every)
                .unwrap()
                .registered,
            []
        );
        for bad in [
            "",
            "[]",
            r#"{"application":{}}"#,
            r#"{"applications":{"application":"x"}}"#,
            r#"{"applications":{"application":[{"instance":[]}]}}"#,
            r#"{"applications":{"application":[{"name":"A","instance":[{"status":"UP"}]}]}}"#,
        ] {
            assert!(parse_registry_document(bad, &every).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_registry_document_is_told_from_other_json() {
        assert!(is_applications_document(
            r#"{"applications":{"versions__delta":"1","apps__hashcode":"","application":[]}}"#
        ));
        for body in [
            r#"{"timestamp":"2026-12-01","status":404,"error":"Not Found","path":"/apps/delta"}"#,
            "<html>Whitelabel Error Page</html>",
            r#"{"applications":"x"}"#,
            "",
        ] {
            assert!(!is_applications_document(body), "{body}");
        }
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for body in [
            "",
            "{",
            "[]",
            r#"{"instance":{}}"#,
            r#"{"instance":"x"}"#,
            "null",
        ] {
            assert!(parse_instance_document(body).is_err(), "{body}");
        }
        assert!(parse_application_document(r#"{"applications":{}}"#).is_err());
    }
}
