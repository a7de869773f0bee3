//! The documents the server sends: an instance, an application and the applications list (full
//! registry or delta), in JSON as the Spring Cloud server's Jackson codec writes them
//! (`EurekaJacksonCodec`, field order included) and in XML as XStream's `Converters` and
//! `PrettyPrintWriter` write them. No registry logic here: callers pass the leases to show.

use crate::instance::{DataCenter, Instance};
use crate::lease::Lease;

/// The representation of a GET answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    /// JSON only when `Accept` contains "json"; no header, `*/*` or anything else gives XML.
    pub(crate) fn from_accept(accept: Option<&str>) -> Format {
        if accept.is_some_and(|accept| accept.contains("json")) {
            Format::Json
        } else {
            Format::Xml
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "application/xml",
        }
    }
}

/// One application of an applications document, with its leases in display order.
pub(crate) struct AppGroup<'a> {
    pub(crate) name: &'a str,
    pub(crate) leases: Vec<&'a Lease>,
}

pub(crate) fn instance(lease: &Lease, format: Format) -> String {
    match format {
        Format::Json => {
            let mut out = String::from("{\"instance\":");
            instance_json(&mut out, lease);
            out.push('}');
            out
        }
        Format::Xml => {
            let mut xml = XmlWriter::default();
            instance_xml(&mut xml, lease);
            xml.out
        }
    }
}

pub(crate) fn application(group: &AppGroup, format: Format) -> String {
    match format {
        Format::Json => {
            let mut out = String::from("{\"application\":");
            application_json(&mut out, group);
            out.push('}');
            out
        }
        Format::Xml => {
            let mut xml = XmlWriter::default();
            application_xml(&mut xml, group);
            xml.out
        }
    }
}

/// `versions__delta` is "1" for the full registry and the delta counter for a delta;
/// `apps__hashcode` is always the full registry's reconcile hash code.
pub(crate) fn applications(
    version: u64,
    hash_code: &str,
    apps: &[AppGroup],
    format: Format,
) -> String {
    match format {
        Format::Json => {
            let mut out = String::from("{\"applications\":");
            let mut document = JsonObject::open(&mut out);
            document.string("versions__delta", &version.to_string());
            document.string("apps__hashcode", hash_code);
            let list = document.field("application");
            list.push('[');
            for (index, group) in apps.iter().enumerate() {
                if index > 0 {
                    list.push(',');
                }
                application_json(list, group);
            }
            list.push(']');
            document.close();
            out.push('}');
            out
        }
        Format::Xml => {
            let mut xml = XmlWriter::default();
            xml.start("applications");
            xml.leaf("versions_delta", &version.to_string());
            xml.leaf("apps_hashcode", hash_code);
            for group in apps {
                application_xml(&mut xml, group);
            }
            xml.end();
            xml.out
        }
    }
}

/// The `@Auto` fields of `InstanceInfo`, in declaration order, written as strings when set.
fn auto_fields(lease: &Lease) -> Vec<(&'static str, String)> {
    let instance = &lease.holder;
    let optional =
        |name: &'static str, value: &Option<String>| value.clone().map(|value| (name, value));
    [
        optional("appGroupName", &instance.app_group_name),
        optional("homePageUrl", &instance.home_page_url),
        optional("statusPageUrl", &instance.status_page_url),
        optional("healthCheckUrl", &instance.health_check_url),
        optional("secureHealthCheckUrl", &instance.secure_health_check_url),
        optional("vipAddress", &instance.vip_address),
        optional("secureVipAddress", &instance.secure_vip_address),
        // The server decorates every instance it returns; only its own instance would say true.
        Some(("isCoordinatingDiscoveryServer", "false".to_owned())),
        Some((
            "lastUpdatedTimestamp",
            instance.last_updated_timestamp.to_string(),
        )),
        Some((
            "lastDirtyTimestamp",
            instance.last_dirty_timestamp.to_string(),
        )),
        instance
            .action_type
            .map(|action| ("actionType", action.name().to_owned())),
        optional("asgName", &instance.asg_name),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `leaseInfo` as `decorateInstanceInfo` builds it from the lease.
fn lease_info(lease: &Lease) -> [(&'static str, i64); 6] {
    [
        ("renewalIntervalInSecs", lease.holder.renewal_interval_secs),
        ("durationInSecs", lease.holder.lease_duration_secs),
        ("registrationTimestamp", lease.registration_timestamp),
        ("lastRenewalTimestamp", lease.last_update_timestamp),
        ("evictionTimestamp", lease.eviction_timestamp),
        ("serviceUpTimestamp", lease.service_up_timestamp),
    ]
}

/// Rendered only when the deprecated `sid` is neither "na" nor "unknown".
fn sid(instance: &Instance) -> Option<&str> {
    Some(instance.sid.as_str()).filter(|sid| !matches!(*sid, "na" | "unknown"))
}

const EMPTY_MAP_CLASS: &str = "java.util.Collections$EmptyMap";

fn instance_json(out: &mut String, lease: &Lease) {
    let instance = &lease.holder;
    let mut object = JsonObject::open(out);
    if let Some(instance_id) = &instance.instance_id {
        object.string("instanceId", instance_id);
    }
    object.string(
        "hostName",
        instance.host_name.as_deref().unwrap_or_default(),
    );
    object.string("app", instance.app.as_deref().unwrap_or_default());
    object.string("ipAddr", instance.ip_addr.as_deref().unwrap_or_default());
    if let Some(sid) = sid(instance) {
        object.string("sid", sid);
    }
    object.string("status", instance.status.name());
    object.string("overriddenStatus", instance.overridden_status.name());
    for (name, port) in [
        ("port", instance.port),
        ("securePort", instance.secure_port),
    ] {
        let mut port_object = JsonObject::open(object.field(name));
        port_object.number("$", port.number);
        port_object.string("@enabled", &port.enabled.to_string());
        port_object.close();
    }
    object.number("countryId", instance.country_id);
    if let Some(data_center) = &instance.data_center {
        data_center_json(object.field("dataCenterInfo"), data_center);
    }
    let mut lease_object = JsonObject::open(object.field("leaseInfo"));
    for (name, value) in lease_info(lease) {
        lease_object.number(name, value);
    }
    lease_object.close();
    if instance.metadata.is_empty() {
        let mut empty = JsonObject::open(object.field("metadata"));
        empty.string("@class", EMPTY_MAP_CLASS);
        empty.close();
    } else {
        string_map_json(object.field("metadata"), &instance.metadata);
    }
    for (name, value) in auto_fields(lease) {
        object.string(name, &value);
    }
    object.close();
}

fn data_center_json(out: &mut String, data_center: &DataCenter) {
    let mut object = JsonObject::open(out);
    object.string("@class", data_center.class_name());
    object.string("name", data_center.name.as_deref().unwrap_or_default());
    if data_center.is_amazon() {
        string_map_json(object.field("metadata"), &data_center.amazon_metadata);
    }
    object.close();
}

fn string_map_json(out: &mut String, pairs: &[(String, String)]) {
    let mut object = JsonObject::open(out);
    for (key, value) in pairs {
        object.string(key, value);
    }
    object.close();
}

/// In an application document `instance` is always an array.
fn application_json(out: &mut String, group: &AppGroup) {
    let mut object = JsonObject::open(out);
    object.string("name", group.name);
    let list = object.field("instance");
    list.push('[');
    for (index, lease) in group.leases.iter().enumerate() {
        if index > 0 {
            list.push(',');
        }
        instance_json(list, lease);
    }
    list.push(']');
    object.close();
}

fn instance_xml(xml: &mut XmlWriter, lease: &Lease) {
    let instance = &lease.holder;
    xml.start("instance");
    if let Some(instance_id) = &instance.instance_id {
        xml.leaf("instanceId", instance_id);
    }
    xml.leaf(
        "hostName",
        instance.host_name.as_deref().unwrap_or_default(),
    );
    xml.leaf("app", instance.app.as_deref().unwrap_or_default());
    xml.leaf("ipAddr", instance.ip_addr.as_deref().unwrap_or_default());
    if let Some(sid) = sid(instance) {
        xml.leaf("sid", sid);
    }
    xml.leaf("status", instance.status.name());
    // The XML codec kept the old lower-case spelling.
    xml.leaf("overriddenstatus", instance.overridden_status.name());
    for (name, port) in [
        ("port", instance.port),
        ("securePort", instance.secure_port),
    ] {
        xml.start(name);
        xml.attribute("enabled", &port.enabled.to_string());
        xml.text(&port.number.to_string());
        xml.end();
    }
    xml.leaf("countryId", &instance.country_id.to_string());
    if let Some(data_center) = &instance.data_center {
        xml.start("dataCenterInfo");
        xml.attribute("class", data_center.class_name());
        xml.leaf("name", data_center.name.as_deref().unwrap_or_default());
        if data_center.is_amazon() {
            string_map_xml(xml, "metadata", &data_center.amazon_metadata);
        }
        xml.end();
    }
    xml.start("leaseInfo");
    for (name, value) in lease_info(lease) {
        xml.leaf(name, &value.to_string());
    }
    xml.end();
    string_map_xml(xml, "metadata", &instance.metadata);
    for (name, value) in auto_fields(lease) {
        xml.leaf(name, &value);
    }
    xml.end();
}

/// An empty map is marked with a `class` attribute; entries become child elements.
fn string_map_xml(xml: &mut XmlWriter, name: &str, pairs: &[(String, String)]) {
    xml.start(name);
    if pairs.is_empty() {
        xml.attribute("class", EMPTY_MAP_CLASS);
    }
    for (key, value) in pairs {
        xml.leaf(key, value);
    }
    xml.end();
}

fn application_xml(xml: &mut XmlWriter, group: &AppGroup) {
    xml.start("application");
    xml.leaf("name", group.name);
    for lease in &group.leases {
        instance_xml(xml, lease);
    }
    xml.end();
}

/// Writes one JSON object's fields in the order given, compact, as Jackson does.
struct JsonObject<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    fn open(out: &'a mut String) -> JsonObject<'a> {
        out.push('{');
        JsonObject { out, empty: true }
    }

    /// Writes the key and returns the output for the caller to write the value.
    fn field(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_json_string(self.out, key);
        self.out.push(':');
        self.out
    }

    fn string(&mut self, key: &str, value: &str) {
        push_json_string(self.field(key), value);
    }

    fn number(&mut self, key: &str, value: i64) {
        let number = value.to_string();
        self.field(key).push_str(&number);
    }

    fn close(self) {
        self.out.push('}');
    }
}

fn push_json_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::Value::from(text).to_string());
}

/// XStream's `PrettyPrintWriter` (two-space indent, `<empty/>` elements, no declaration) with the
/// Eureka name coder, which writes `_` as `__` and `$` as `_-` in element and attribute names.
#[derive(Default)]
struct XmlWriter {
    out: String,
    open_elements: Vec<String>,
    tag_in_progress: bool,
    tag_is_empty: bool,
    ready_for_new_line: bool,
}

impl XmlWriter {
    fn start(&mut self, name: &str) {
        self.tag_is_empty = false;
        self.finish_tag();
        let name = encode_name(name);
        self.out.push('<');
        self.out.push_str(&name);
        self.open_elements.push(name);
        self.tag_in_progress = true;
        self.ready_for_new_line = true;
        self.tag_is_empty = true;
    }

    fn attribute(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(&encode_name(name));
        self.out.push_str("=\"");
        push_xml_text(&mut self.out, value);
        self.out.push('"');
    }

    fn text(&mut self, text: &str) {
        self.ready_for_new_line = false;
        self.tag_is_empty = false;
        self.finish_tag();
        push_xml_text(&mut self.out, text);
    }

    fn end(&mut self) {
        let name = self.open_elements.pop().unwrap_or_default();
        if self.tag_is_empty {
            self.out.push('/');
            self.ready_for_new_line = false;
            self.finish_tag();
        } else {
            self.finish_tag();
            self.out.push_str("</");
            self.out.push_str(&name);
            self.out.push('>');
        }
        self.ready_for_new_line = true;
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.start(name);
        self.text(text);
        self.end();
    }

    fn finish_tag(&mut self) {
        if self.tag_in_progress {
            self.out.push('>');
        }
        self.tag_in_progress = false;
        if self.ready_for_new_line {
            self.out.push('\n');
            for _ in 0..self.open_elements.len() {
                self.out.push_str("  ");
            }
        }
        self.ready_for_new_line = false;
        self.tag_is_empty = false;
    }
}

fn encode_name(name: &str) -> String {
    name.replace('_', "__").replace('$', "_-")
}

/// `PrettyPrintWriter.writeText` in its default (XML 1.0 quirks) mode.
fn push_xml_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xd;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push_str(&format!("&#x{:x};", u32::from(c))),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::Port;
    use crate::status::{ActionType, Status};

    fn drained_lease() -> Lease {
        let mut instance = Instance::new(1_000);
        instance.instance_id = Some("pod-0:demo:8080".into());
        instance.host_name = Some("pod-0".into());
        instance.app = Some("DEMO".into());
        instance.ip_addr = Some("10.0.0.7".into());
        instance.status = Status::OutOfService;
        instance.overridden_status = Status::OutOfService;
        instance.port = Port {
            number: 8080,
            enabled: true,
        };
        instance.data_center = Some(DataCenter {
            name: Some("MyOwn".into()),
            amazon_metadata: Vec::new(),
        });
        instance.metadata = vec![
            ("management.port".into(), "8080".into()),
            ("a_b$c".into(), "x&y".into()),
        ];
        instance.action_type = Some(ActionType::Modified);
        let mut lease = Lease::new(1, instance, 2_000);
        lease.service_up(2_000);
        lease.renew(3_000);
        lease
    }

    #[test]
    fn instance_json_keeps_the_codec_field_order() {
        let json = instance(&drained_lease(), Format::Json);
        assert_eq!(
            json,
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
    fn applications_xml_is_what_xstream_writes() {
        let lease = drained_lease();
        let group = AppGroup {
            name: "DEMO",
            leases: vec![&lease],
        };
        let xml = applications(1, "OUT_OF_SERVICE_1_", &[group], Format::Xml);
        let expected = r#"<applications>
  <versions__delta>1</versions__delta>
  <apps__hashcode>OUT_OF_SERVICE_1_</apps__hashcode>
  <application>
    <name>DEMO</name>
    <instance>
      <instanceId>pod-0:demo:8080</instanceId>
      <hostName>pod-0</hostName>
      <app>DEMO</app>
      <ipAddr>10.0.0.7</ipAddr>
      <status>OUT_OF_SERVICE</status>
      <overriddenstatus>OUT_OF_SERVICE</overriddenstatus>
      <port enabled="true">8080</port>
      <securePort enabled="false">7002</securePort>
      <countryId>1</countryId>
      <dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo">
        <name>MyOwn</name>
      </dataCenterInfo>
      <leaseInfo>
        <renewalIntervalInSecs>30</renewalIntervalInSecs>
        <durationInSecs>90</durationInSecs>
        <registrationTimestamp>2000</registrationTimestamp>
        <lastRenewalTimestamp>93000</lastRenewalTimestamp>
        <evictionTimestamp>0</evictionTimestamp>
        <serviceUpTimestamp>2000</serviceUpTimestamp>
      </leaseInfo>
      <metadata>
        <management.port>8080</management.port>
        <a__b_-c>x&amp;y</a__b_-c>
      </metadata>
      <isCoordinatingDiscoveryServer>false</isCoordinatingDiscoveryServer>
      <lastUpdatedTimestamp>1000</lastUpdatedTimestamp>
      <lastDirtyTimestamp>1000</lastDirtyTimestamp>
      <actionType>MODIFIED</actionType>
    </instance>
  </application>
</applications>"#;
        assert_eq!(xml, expected);
    }

    #[test]
    fn empty_metadata_and_empty_registry_render_like_the_server() {
        let mut lease = drained_lease();
        lease.holder.metadata.clear();
        assert!(
            instance(&lease, Format::Json)
                .contains(r#""metadata":{"@class":"java.util.Collections$EmptyMap"}"#)
        );
        assert!(
            instance(&lease, Format::Xml)
                .contains(r#"<metadata class="java.util.Collections$EmptyMap"/>"#)
        );
        assert_eq!(
            applications(1, "", &[], Format::Json),
            r#"{"applications":{"versions__delta":"1","apps__hashcode":"","application":[]}}"#
        );
        assert_eq!(
            applications(1, "", &[], Format::Xml),
            "<applications>\n  <versions__delta>1</versions__delta>\n  <apps__hashcode></apps__hashcode>\n</applications>"
        );
    }

    #[test]
    fn accept_header_picks_json_only_when_it_mentions_json() {
        assert_eq!(Format::from_accept(Some("application/json")), Format::Json);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Xml);
        assert_eq!(Format::from_accept(None), Format::Xml);
    }
}
