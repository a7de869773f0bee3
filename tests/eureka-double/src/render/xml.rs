//! The XML documents as XStream's `Converters` and `PrettyPrintWriter` write them (the server's
//! full form), hand-written because they reproduce XStream's quirks: its name coder, empty-map
//! markers and indentation.

use super::{AppGroup, Detail, Document, EMPTY_MAP_CLASS, auto_fields, lease_info, sid};
use crate::instance::{DataCenter, Instance};
use crate::lease::Lease;

pub(super) fn render(document: &Document) -> String {
    let mut xml = XmlWriter::default();
    match *document {
        Document::Instance(lease) => instance_xml(&mut xml, lease),
        Document::Application(group, detail) => application_xml(&mut xml, group, detail),
        Document::Applications {
            version,
            hash_code,
            apps,
            detail,
        } => {
            xml.start("applications");
            xml.leaf("versions_delta", &version.to_string());
            xml.leaf("apps_hashcode", hash_code);
            for group in apps {
                application_xml(&mut xml, group, detail);
            }
            xml.end();
        }
    }
    xml.out
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
    ports_xml(xml, instance);
    xml.leaf("countryId", &instance.country_id.to_string());
    if let Some(data_center) = &instance.data_center {
        data_center_xml(xml, data_center);
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

fn application_xml(xml: &mut XmlWriter, group: &AppGroup, detail: Detail) {
    xml.start("application");
    xml.leaf("name", group.name);
    for lease in &group.leases {
        match detail {
            Detail::Full => instance_xml(xml, lease),
            Detail::Compact => compact_instance_xml(xml, lease),
        }
    }
    xml.end();
}

/// The compact form with the fields and order of the recorded compact JSON. (No real server's
/// compact XML was recorded; it comes from another codec there, so the layout may differ.)
fn compact_instance_xml(xml: &mut XmlWriter, lease: &Lease) {
    let instance = &lease.holder;
    xml.start("instance");
    if let Some(instance_id) = &instance.instance_id {
        xml.leaf("instanceId", instance_id);
    }
    xml.leaf("app", instance.app.as_deref().unwrap_or_default());
    xml.leaf("ipAddr", instance.ip_addr.as_deref().unwrap_or_default());
    if let Some(data_center) = &instance.data_center {
        data_center_xml(xml, data_center);
    }
    xml.leaf(
        "hostName",
        instance.host_name.as_deref().unwrap_or_default(),
    );
    xml.leaf("status", instance.status.name());
    xml.leaf(
        "lastUpdatedTimestamp",
        &instance.last_updated_timestamp.to_string(),
    );
    if let Some(action) = instance.action_type {
        xml.leaf("actionType", action.name());
    }
    ports_xml(xml, instance);
    xml.end();
}

fn ports_xml(xml: &mut XmlWriter, instance: &Instance) {
    for (name, port) in [
        ("port", instance.port),
        ("securePort", instance.secure_port),
    ] {
        xml.start(name);
        xml.attribute("enabled", &port.enabled.to_string());
        xml.text(&port.number.to_string());
        xml.end();
    }
}

fn data_center_xml(xml: &mut XmlWriter, data_center: &DataCenter) {
    xml.start("dataCenterInfo");
    xml.attribute("class", data_center.class_name());
    xml.leaf("name", data_center.name.as_deref().unwrap_or_default());
    if data_center.is_amazon() {
        string_map_xml(xml, "metadata", &data_center.amazon_metadata);
    }
    xml.end();
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
    use super::super::tests::{demo_group, drained_lease};
    use super::*;

    #[test]
    fn applications_xml_is_what_xstream_writes() {
        let lease = drained_lease();
        let group = demo_group(&lease);
        let xml = render(&Document::Applications {
            version: 1,
            hash_code: "OUT_OF_SERVICE_1_",
            apps: &[group],
            detail: Detail::Full,
        });
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
            render(&Document::Instance(&lease))
                .contains(r#"<metadata class="java.util.Collections$EmptyMap"/>"#)
        );
        assert_eq!(
            render(&Document::Applications {
                version: 1,
                hash_code: "",
                apps: &[],
                detail: Detail::Full
            }),
            "<applications>\n  <versions__delta>1</versions__delta>\n  <apps__hashcode></apps__hashcode>\n</applications>"
        );
    }
}
