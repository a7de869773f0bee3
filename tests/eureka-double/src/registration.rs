//! Reading a registration body (`POST apps/{APP}`) as the server's JSON codec does
//! (`EurekaJacksonCodec.InstanceInfoDeserializer` wrapped by Spring Cloud's `CloudJacksonJson`), and
//! the checks `ApplicationResource.addInstance` makes before it registers anything.

use serde_json::{Map, Value};

use crate::instance::{DataCenter, Instance, Port};
use crate::pairs;
use crate::status::Status;

/// The body cannot be read; the server answers 400 "cannot parse request body".
#[derive(Debug, PartialEq)]
pub(crate) struct Unparsable;

/// Parses `{"instance": {...}}`. `now` is the parse time, which becomes the `lastDirtyTimestamp`
/// of a body that has none.
pub(crate) fn parse_json(body: &str, now: i64) -> Result<Instance, Unparsable> {
    let root: Value = serde_json::from_str(body).map_err(|_| Unparsable)?;
    let fields = match root {
        Value::Object(mut root) if root.len() == 1 => match root.remove("instance") {
            Some(Value::Object(fields)) => fields,
            _ => return Err(Unparsable),
        },
        _ => return Err(Unparsable),
    };
    let mut instance = Instance::new(now);
    for (name, value) in fields.iter().filter(|(_, value)| !value.is_null()) {
        read_field(&mut instance, name, value)?;
    }
    adopt_metadata_instance_id(&mut instance);
    // `InstanceInfo.Builder.build()` throws "name is required!" inside the codec.
    if instance.app.is_none() {
        return Err(Unparsable);
    }
    Ok(instance)
}

/// The 400 texts of `ApplicationResource.addInstance`, checked in its order.
pub(crate) fn validate(instance: &Instance, path_app: &str) -> Result<(), String> {
    let blank = |value: Option<&str>| value.is_none_or(str::is_empty);
    let body_app = instance.app.as_deref().unwrap_or_default();
    if blank(instance.id()) {
        Err("Missing instanceId".into())
    } else if blank(instance.host_name.as_deref()) {
        Err("Missing hostname".into())
    } else if blank(instance.ip_addr.as_deref()) {
        Err("Missing ip address".into())
    } else if body_app.is_empty() {
        Err("Missing appName".into())
    } else if path_app != body_app {
        Err(format!(
            "Mismatched appName, expecting {path_app} but was {body_app}"
        ))
    } else {
        match &instance.data_center {
            None => Err("Missing dataCenterInfo".into()),
            Some(DataCenter { name: None, .. }) => Err("Missing dataCenterInfo Name".into()),
            Some(_) => Ok(()),
        }
    }
}

fn read_field(instance: &mut Instance, name: &str, value: &Value) -> Result<(), Unparsable> {
    match name {
        // `Builder.setHostName` ignores a blank name.
        "hostName" => instance.host_name = Some(text(value)?).filter(|host| !host.is_empty()),
        "instanceId" => instance.instance_id = Some(text(value)?),
        "app" => instance.app = Some(text(value)?.to_uppercase()),
        "appGroupName" => instance.app_group_name = Some(text(value)?.to_uppercase()),
        "ipAddr" => instance.ip_addr = Some(text(value)?),
        "sid" => instance.sid = text(value)?,
        "status" => instance.status = Status::from_codec(&text(value)?),
        // The codec writes `overriddenStatus`; older servers and the XML codec say `overriddenstatus`.
        "overriddenStatus" | "overriddenstatus" => {
            instance.overridden_status = Status::from_codec(&text(value)?);
        }
        "port" => instance.port = port(value, instance.port)?,
        "securePort" => instance.secure_port = port(value, instance.secure_port)?,
        "countryId" => instance.country_id = as_long(value)?,
        "dataCenterInfo" => instance.data_center = Some(data_center(value)?),
        "leaseInfo" => {
            for (field, setting) in object(value)? {
                match field.as_str() {
                    "renewalIntervalInSecs" => instance.renewal_interval_secs = as_long(setting)?,
                    "durationInSecs" => instance.lease_duration_secs = as_long(setting)?,
                    _ => {}
                }
            }
        }
        "metadata" => instance.metadata = string_map(value)?,
        "homePageUrl" => instance.home_page_url = Some(text(value)?),
        "statusPageUrl" => instance.status_page_url = Some(text(value)?),
        "healthCheckUrl" => instance.health_check_url = Some(text(value)?),
        "secureHealthCheckUrl" => instance.secure_health_check_url = Some(text(value)?),
        "vipAddress" => instance.vip_address = Some(text(value)?),
        "secureVipAddress" => instance.secure_vip_address = Some(text(value)?),
        "lastUpdatedTimestamp" => instance.last_updated_timestamp = as_long(value)?,
        "lastDirtyTimestamp" => instance.last_dirty_timestamp = as_long(value)?,
        "asgName" => instance.asg_name = Some(text(value)?),
        // `isCoordinatingDiscoveryServer` and `actionType` are overwritten by the server, and
        // unknown names are ignored.
        _ => {}
    }
    Ok(())
}

/// Spring Cloud's `CloudJacksonJson.updateIfNeeded`: with no instanceId, `metadata.instanceId`
/// is used, prefixed with `hostName:` unless it already starts with the host name.
fn adopt_metadata_instance_id(instance: &mut Instance) {
    let has_text = |value: &str| value.chars().any(|c| !c.is_whitespace());
    if instance.instance_id.is_some() {
        return;
    }
    let Some(from_metadata) =
        pairs::get(&instance.metadata, "instanceId").filter(|id| has_text(id))
    else {
        return;
    };
    let instance_id = match instance.host_name.as_deref().filter(|host| has_text(host)) {
        Some(host) if !from_metadata.starts_with(host) => format!("{host}:{from_metadata}"),
        _ => from_metadata.to_owned(),
    };
    instance.instance_id = Some(instance_id);
}

/// `{"$": 8080, "@enabled": "true"}`; any other key fails the codec's field switch.
fn port(value: &Value, mut port: Port) -> Result<Port, Unparsable> {
    for (field, setting) in object(value)? {
        match field.as_str() {
            "$" => port.number = as_long(setting)?,
            "@enabled" => port.enabled = as_bool(setting),
            _ => return Err(Unparsable),
        }
    }
    Ok(port)
}

fn data_center(value: &Value) -> Result<DataCenter, Unparsable> {
    let fields = object(value)?;
    let name = match fields.get("name").filter(|name| !name.is_null()) {
        None => None,
        // `DataCenterInfo.Name.valueOf`
        Some(name) => match text(name)?.as_str() {
            known @ ("Netflix" | "Amazon" | "MyOwn") => Some(known.to_owned()),
            _ => return Err(Unparsable),
        },
    };
    let amazon_metadata = match fields.get("metadata") {
        Some(metadata) if name.as_deref() == Some("Amazon") => string_map(metadata)?,
        _ => Vec::new(),
    };
    Ok(DataCenter {
        name,
        amazon_metadata,
    })
}

/// A metadata map; the `"@class"` marker of an empty map is skipped.
fn string_map(value: &Value) -> Result<Vec<(String, String)>, Unparsable> {
    let mut entries = Vec::new();
    for (key, entry) in object(value)? {
        if key != "@class" && !entry.is_null() {
            pairs::put(&mut entries, key, &text(entry)?);
        }
    }
    Ok(entries)
}

fn object(value: &Value) -> Result<&Map<String, Value>, Unparsable> {
    value.as_object().ok_or(Unparsable)
}

/// `JsonParser.getText()` of a scalar.
fn text(value: &Value) -> Result<String, Unparsable> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(Unparsable),
    }
}

/// `JsonParser.getValueAsLong()`: numbers, numeric strings, booleans; anything else is 0.
fn as_long(value: &Value) -> Result<i64, Unparsable> {
    Ok(match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float as i64))
            .unwrap_or_default(),
        Value::String(text) => {
            let text = text.trim();
            text.parse::<i64>()
                .or_else(|_| text.parse::<f64>().map(|float| float as i64))
                .unwrap_or_default()
        }
        Value::Bool(flag) => i64::from(*flag),
        Value::Null => 0,
        Value::Array(_) | Value::Object(_) => return Err(Unparsable),
    })
}

/// `JsonParser.getValueAsBoolean()`.
fn as_bool(value: &Value) -> bool {
    match value {
        Value::Bool(flag) => *flag,
        Value::String(text) => text.trim() == "true",
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"instance":{"instanceId":"pod-0:demo:8080","hostName":"pod-0",
        "app":"demo","ipAddr":"10.0.0.7","status":"UP","port":{"$":8080,"@enabled":"true"},
        "dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"}}}"#;

    #[test]
    fn minimal_body_gets_codec_defaults() {
        let instance = parse_json(MINIMAL, 42).expect("minimal body parses");
        assert_eq!(instance.app.as_deref(), Some("DEMO"));
        assert_eq!(
            instance.port,
            Port {
                number: 8080,
                enabled: true
            }
        );
        assert_eq!(
            instance.secure_port,
            Port {
                number: 7002,
                enabled: false
            }
        );
        assert_eq!(instance.last_dirty_timestamp, 42);
        assert_eq!(
            (instance.renewal_interval_secs, instance.lease_duration_secs),
            (30, 90)
        );
        assert_eq!(validate(&instance, "DEMO"), Ok(()));
    }

    #[test]
    fn legacy_overridden_status_spelling_is_read() {
        let body = MINIMAL.replace(
            r#""status":"UP""#,
            r#""status":"UP","overriddenstatus":"OUT_OF_SERVICE""#,
        );
        let instance = parse_json(&body, 0).expect("parses");
        assert_eq!(instance.overridden_status, Status::OutOfService);
    }

    #[test]
    fn unparsable_bodies_are_rejected() {
        for body in [
            "not json",
            r#"{"application":{}}"#,
            r#"{"instance":{"hostName":"h"}}"#,
            &MINIMAL.replace(r#"{"$":8080,"@enabled":"true"}"#, "8080"),
        ] {
            assert_eq!(parse_json(body, 0), Err(Unparsable), "{body}");
        }
    }

    #[test]
    fn validation_texts_follow_application_resource() {
        let instance = parse_json(MINIMAL, 0).expect("parses");
        assert_eq!(
            validate(&instance, "OTHER"),
            Err("Mismatched appName, expecting OTHER but was DEMO".into())
        );
        let mut no_ip = instance.clone();
        no_ip.ip_addr = None;
        assert_eq!(validate(&no_ip, "DEMO"), Err("Missing ip address".into()));
        let mut no_data_center = instance;
        no_data_center.data_center = None;
        assert_eq!(
            validate(&no_data_center, "DEMO"),
            Err("Missing dataCenterInfo".into())
        );
    }

    #[test]
    fn spring_metadata_instance_id_is_prefixed_with_the_host() {
        let body = MINIMAL
            .replace(r#""instanceId":"pod-0:demo:8080","#, "")
            .replace(
                r#""status":"UP""#,
                r#""status":"UP","metadata":{"instanceId":"demo:8080"}"#,
            );
        let instance = parse_json(&body, 0).expect("parses");
        assert_eq!(instance.id(), Some("pod-0:demo:8080"));
    }
}
