//! The JSON documents as the Spring Cloud server's Jackson codec (`EurekaJacksonCodec`) writes
//! them, compact, with its field order: the order of the fields of the structs below.

use serde::Serialize;
use serde::ser::Serializer;

use super::{AppGroup, Detail, Document, EMPTY_MAP_CLASS, auto_fields, lease_info, sid};
use crate::instance::{DataCenter, Port};
use crate::lease::Lease;

pub(super) fn render(document: &Document) -> String {
    #[derive(Serialize)]
    struct InstanceDocument<'a> {
        instance: FullInstance<'a>,
    }
    #[derive(Serialize)]
    struct ApplicationDocument<'a> {
        application: Application<'a>,
    }
    #[derive(Serialize)]
    struct ApplicationsDocument<'a> {
        applications: Applications<'a>,
    }
    #[derive(Serialize)]
    struct Applications<'a> {
        #[serde(rename = "versions__delta")]
        versions_delta: String,
        #[serde(rename = "apps__hashcode")]
        apps_hashcode: &'a str,
        application: Vec<Application<'a>>,
    }
    match *document {
        Document::Instance(lease) => to_string(&InstanceDocument {
            instance: FullInstance::of(lease),
        }),
        Document::Application(group, detail) => to_string(&ApplicationDocument {
            application: Application::of(group, detail),
        }),
        Document::Applications {
            version,
            hash_code,
            apps,
            detail,
        } => to_string(&ApplicationsDocument {
            applications: Applications {
                versions_delta: version.to_string(),
                apps_hashcode: hash_code,
                application: apps
                    .iter()
                    .map(|group| Application::of(group, detail))
                    .collect(),
            },
        }),
    }
}

fn to_string(document: &impl Serialize) -> String {
    serde_json::to_string(document).expect("the documents hold only strings, numbers and maps")
}

/// In an application document `instance` is always an array.
#[derive(Serialize)]
struct Application<'a> {
    name: &'a str,
    instance: Vec<InstanceForm<'a>>,
}

impl<'a> Application<'a> {
    fn of(group: &AppGroup<'a>, detail: Detail) -> Application<'a> {
        let form = |lease: &&'a Lease| match detail {
            Detail::Full => InstanceForm::Full(FullInstance::of(lease)),
            Detail::Compact => InstanceForm::Compact(CompactInstance::of(lease)),
        };
        Application {
            name: group.name,
            instance: group.leases.iter().map(form).collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum InstanceForm<'a> {
    Full(FullInstance<'a>),
    Compact(CompactInstance<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FullInstance<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_id: Option<&'a str>,
    host_name: &'a str,
    app: &'a str,
    ip_addr: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    status: &'static str,
    overridden_status: &'static str,
    port: PortJson,
    secure_port: PortJson,
    country_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_center_info: Option<DataCenterJson<'a>>,
    lease_info: Ordered<&'static str, i64>,
    metadata: Ordered<&'a str, &'a str>,
    /// The `@Auto` fields, in place.
    #[serde(flatten)]
    auto: Ordered<&'static str, String>,
}

impl<'a> FullInstance<'a> {
    fn of(lease: &'a Lease) -> FullInstance<'a> {
        let instance = &lease.holder;
        let metadata = if instance.metadata.is_empty() {
            Ordered(vec![("@class", EMPTY_MAP_CLASS)])
        } else {
            Ordered::of(&instance.metadata)
        };
        FullInstance {
            instance_id: instance.instance_id.as_deref(),
            host_name: instance.host_name.as_deref().unwrap_or_default(),
            app: instance.app.as_deref().unwrap_or_default(),
            ip_addr: instance.ip_addr.as_deref().unwrap_or_default(),
            sid: sid(instance),
            status: instance.status.name(),
            overridden_status: instance.overridden_status.name(),
            port: PortJson::of(instance.port),
            secure_port: PortJson::of(instance.secure_port),
            country_id: instance.country_id,
            data_center_info: instance.data_center.as_ref().map(DataCenterJson::of),
            lease_info: Ordered(lease_info(lease).to_vec()),
            metadata,
            auto: Ordered(auto_fields(lease)),
        }
    }
}

/// The compact form (`X-Eureka-Accept: compact`), in the order a real server writes it; here
/// `lastUpdatedTimestamp` is a number, not a string.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompactInstance<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_id: Option<&'a str>,
    app: &'a str,
    ip_addr: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_center_info: Option<DataCenterJson<'a>>,
    host_name: &'a str,
    status: &'static str,
    last_updated_timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_type: Option<&'static str>,
    port: PortJson,
    secure_port: PortJson,
}

impl<'a> CompactInstance<'a> {
    fn of(lease: &'a Lease) -> CompactInstance<'a> {
        let instance = &lease.holder;
        CompactInstance {
            instance_id: instance.instance_id.as_deref(),
            app: instance.app.as_deref().unwrap_or_default(),
            ip_addr: instance.ip_addr.as_deref().unwrap_or_default(),
            data_center_info: instance.data_center.as_ref().map(DataCenterJson::of),
            host_name: instance.host_name.as_deref().unwrap_or_default(),
            status: instance.status.name(),
            last_updated_timestamp: instance.last_updated_timestamp,
            action_type: instance.action_type.map(|action| action.name()),
            port: PortJson::of(instance.port),
            secure_port: PortJson::of(instance.secure_port),
        }
    }
}

#[derive(Serialize)]
struct PortJson {
    #[serde(rename = "$")]
    number: i64,
    #[serde(rename = "@enabled")]
    enabled: &'static str,
}

impl PortJson {
    fn of(port: Port) -> PortJson {
        PortJson {
            number: port.number,
            enabled: if port.enabled { "true" } else { "false" },
        }
    }
}

#[derive(Serialize)]
struct DataCenterJson<'a> {
    #[serde(rename = "@class")]
    class: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Ordered<&'a str, &'a str>>,
}

impl<'a> DataCenterJson<'a> {
    fn of(data_center: &'a DataCenter) -> DataCenterJson<'a> {
        DataCenterJson {
            class: data_center.class_name(),
            name: data_center.name.as_deref().unwrap_or_default(),
            metadata: data_center
                .is_amazon()
                .then(|| Ordered::of(&data_center.amazon_metadata)),
        }
    }
}

/// A JSON object whose keys keep the order given (Eureka's maps are written in their own order).
struct Ordered<K, V>(Vec<(K, V)>);

impl<'a> Ordered<&'a str, &'a str> {
    fn of(pairs: &'a [(String, String)]) -> Self {
        Ordered(
            pairs
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect(),
        )
    }
}

impl<K: Serialize, V: Serialize> Serialize for Ordered<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{demo_group, drained_lease};
    use super::*;

    #[test]
    fn instance_json_keeps_the_codec_field_order() {
        assert_eq!(
            render(&Document::Instance(&drained_lease())),
            concat!(
                r#"{"instance":{"instanceId":"pod-0:demo:8080","hostName":"pod-0","app":"DEMO","#,
                r#""ipAddr":"10.0.0.7","status":"OUT_OF_SERVICE","overriddenStatus":"OUT_OF_SERVICE","#,
                r#""port":{"$":8080,"@enabled":"true"},"securePort":{"$":7002,"@enabled":"false"},"#,
                r#""countryId":1,"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","#,
                r#""name":"MyOwn"},"leaseInfo":{"renewalIntervalInSecs":30,"durationInSecs":90,"#,
                r#""registrationTimestamp":2000,"lastRenewalTimestamp":93000,"evictionTimestamp":0,"#,
                r#""serviceUpTimestamp":2000},"metadata":{"management.port":"8080","a_b$c":"x&y"},"#,
                r#""isCoordinatingDiscoveryServer":"false","lastUpdatedTimestamp":"1000","#,
                r#""lastDirtyTimestamp":"1000","actionType":"MODIFIED"}}"#
            )
        );
    }

    #[test]
    fn compact_application_json_keeps_the_recorded_field_order() {
        let lease = drained_lease();
        let group = demo_group(&lease);
        assert_eq!(
            render(&Document::Application(&group, Detail::Compact)),
            concat!(
                r#"{"application":{"name":"DEMO","instance":[{"instanceId":"pod-0:demo:8080","#,
                r#""app":"DEMO","ipAddr":"10.0.0.7","dataCenterInfo":{"#,
                r#""@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},"#,
                r#""hostName":"pod-0","status":"OUT_OF_SERVICE","lastUpdatedTimestamp":1000,"#,
                r#""actionType":"MODIFIED","port":{"$":8080,"@enabled":"true"},"#,
                r#""securePort":{"$":7002,"@enabled":"false"}}]}}"#
            )
        );
    }

    #[test]
    fn empty_metadata_and_an_empty_registry_render_like_the_server() {
        let mut lease = drained_lease();
        lease.holder.metadata.clear();
        assert!(
            render(&Document::Instance(&lease))
                .contains(r#""metadata":{"@class":"java.util.Collections$EmptyMap"}"#)
        );
        assert_eq!(
            render(&Document::Applications {
                version: 1,
                hash_code: "",
                apps: &[],
                detail: Detail::Full
            }),
            r#"{"applications":{"versions__delta":"1","apps__hashcode":"","application":[]}}"#
        );
    }
}
