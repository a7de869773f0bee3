//! The documents the server sends: an instance, an application and the applications list (full
//! registry or delta), in JSON as the Spring Cloud server's Jackson codec writes them
//! ([`json`], field order included) and in XML as XStream writes them ([`xml`]), each in the full
//! form or, for `X-Eureka-Accept: compact`, the compact one. No registry logic here: callers pass
//! the leases to show.

mod json;
mod xml;

use crate::instance::Instance;
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

/// How much of each instance an application or applications document shows
/// (`X-Eureka-Accept`, `EurekaAccept` in the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Detail {
    Full,
    /// instanceId, app, ipAddr, dataCenterInfo, hostName, status, lastUpdatedTimestamp,
    /// actionType and the ports: no override, no lease, no metadata.
    Compact,
}

impl Detail {
    /// `EurekaAccept.fromString`: `compact` in any case; anything else, or none, is full.
    pub(crate) fn from_header(value: Option<&str>) -> Detail {
        if value.is_some_and(|value| value.trim().eq_ignore_ascii_case("compact")) {
            Detail::Compact
        } else {
            Detail::Full
        }
    }
}

/// One application of an applications document, with its leases in display order.
pub(crate) struct AppGroup<'a> {
    pub(crate) name: &'a str,
    pub(crate) leases: Vec<&'a Lease>,
}

/// A document the server sends.
pub(crate) enum Document<'a> {
    /// `GET apps/{APP}/{ID}` and `instances/{ID}`: always the full form.
    Instance(&'a Lease),
    Application(&'a AppGroup<'a>, Detail),
    /// `versions__delta` is "1" for the full registry and the delta counter for a delta;
    /// `apps__hashcode` is always the full registry's reconcile hash code.
    Applications {
        version: u64,
        hash_code: &'a str,
        apps: &'a [AppGroup<'a>],
        detail: Detail,
    },
}

impl Document<'_> {
    pub(crate) fn render(&self, format: Format) -> String {
        match format {
            Format::Json => json::render(self),
            Format::Xml => xml::render(self),
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::instance::{DataCenter, Port};
    use crate::status::{ActionType, Status};

    /// An instance marked OUT_OF_SERVICE, with metadata whose names need XStream's name coder.
    pub(crate) fn drained_lease() -> Lease {
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

    /// The app `DEMO` with `lease` as its one instance.
    pub(crate) fn demo_group(lease: &Lease) -> AppGroup<'_> {
        AppGroup {
            name: "DEMO",
            leases: vec![lease],
        }
    }

    #[test]
    fn accept_header_picks_json_only_when_it_mentions_json() {
        assert_eq!(Format::from_accept(Some("application/json")), Format::Json);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Xml);
        assert_eq!(Format::from_accept(None), Format::Xml);
    }

    #[test]
    fn only_compact_in_x_eureka_accept_selects_the_compact_form() {
        assert_eq!(Detail::from_header(Some("compact")), Detail::Compact);
        assert_eq!(Detail::from_header(Some("COMPACT")), Detail::Compact);
        assert_eq!(Detail::from_header(Some("full")), Detail::Full);
        assert_eq!(Detail::from_header(Some("mini")), Detail::Full);
        assert_eq!(Detail::from_header(None), Detail::Full);
    }
}
