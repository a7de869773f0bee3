//! What the server holds about one instance: the fields of Eureka's `InstanceInfo`, as read from a
//! registration body and then changed by the registry. No parsing, no rendering, no rules here.

use crate::pairs;
use crate::status::{ActionType, Status};

/// Default lease settings of `LeaseInfo` when the body has none.
pub(crate) const DEFAULT_RENEWAL_INTERVAL_SECS: i64 = 30;
pub(crate) const DEFAULT_LEASE_DURATION_SECS: i64 = 90;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Instance {
    pub(crate) instance_id: Option<String>,
    pub(crate) host_name: Option<String>,
    /// Upper case, as the codec stores it.
    pub(crate) app: Option<String>,
    pub(crate) app_group_name: Option<String>,
    pub(crate) ip_addr: Option<String>,
    /// Deprecated `sid`; "na" unless the body says otherwise, and then not rendered.
    pub(crate) sid: String,
    pub(crate) status: Status,
    pub(crate) overridden_status: Status,
    pub(crate) port: Port,
    pub(crate) secure_port: Port,
    pub(crate) country_id: i64,
    pub(crate) data_center: Option<DataCenter>,
    pub(crate) renewal_interval_secs: i64,
    pub(crate) lease_duration_secs: i64,
    /// In the order serde_json yields the body's keys; Eureka's own map order is a hash order.
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) home_page_url: Option<String>,
    pub(crate) status_page_url: Option<String>,
    pub(crate) health_check_url: Option<String>,
    pub(crate) secure_health_check_url: Option<String>,
    pub(crate) vip_address: Option<String>,
    pub(crate) secure_vip_address: Option<String>,
    pub(crate) last_updated_timestamp: i64,
    pub(crate) last_dirty_timestamp: i64,
    pub(crate) action_type: Option<ActionType>,
    pub(crate) asg_name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Port {
    pub(crate) number: i64,
    pub(crate) enabled: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DataCenter {
    /// `Netflix`, `Amazon` or `MyOwn`; `None` when the body's object has no name.
    pub(crate) name: Option<String>,
    /// Only kept (and rendered) for `Amazon`.
    pub(crate) amazon_metadata: Vec<(String, String)>,
}

impl DataCenter {
    pub(crate) fn is_amazon(&self) -> bool {
        self.name.as_deref() == Some("Amazon")
    }

    pub(crate) fn class_name(&self) -> &'static str {
        if self.is_amazon() {
            "com.netflix.appinfo.AmazonInfo"
        } else {
            "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"
        }
    }
}

impl Instance {
    /// A fresh `InstanceInfo` as its builder makes one: port 7001 enabled, secure port 7002
    /// disabled, status UP, and both timestamps "now" (so a body without `lastDirtyTimestamp`
    /// carries the time it was parsed).
    pub(crate) fn new(now: i64) -> Instance {
        Instance {
            instance_id: None,
            host_name: None,
            app: None,
            app_group_name: None,
            ip_addr: None,
            sid: "na".to_owned(),
            status: Status::Up,
            overridden_status: Status::Unknown,
            port: Port {
                number: 7001,
                enabled: true,
            },
            secure_port: Port {
                number: 7002,
                enabled: false,
            },
            country_id: 1,
            data_center: None,
            renewal_interval_secs: DEFAULT_RENEWAL_INTERVAL_SECS,
            lease_duration_secs: DEFAULT_LEASE_DURATION_SECS,
            metadata: Vec::new(),
            home_page_url: None,
            status_page_url: None,
            health_check_url: None,
            secure_health_check_url: None,
            vip_address: None,
            secure_vip_address: None,
            last_updated_timestamp: now,
            last_dirty_timestamp: now,
            action_type: None,
            asg_name: None,
        }
    }

    /// `InstanceInfo.getId()`: the instanceId, else the Amazon instance id, else the host name.
    pub(crate) fn id(&self) -> Option<&str> {
        let amazon_id = self.data_center.as_ref().and_then(|data_center| {
            data_center
                .is_amazon()
                .then(|| pairs::get(&data_center.amazon_metadata, "instance-id"))
                .flatten()
        });
        [self.instance_id.as_deref(), amazon_id]
            .into_iter()
            .flatten()
            .find(|id| !id.is_empty())
            .or(self.host_name.as_deref())
    }

    /// The lease duration the registry uses: the body's, unless it is not positive.
    pub(crate) fn lease_duration_ms(&self) -> i64 {
        let secs = if self.lease_duration_secs > 0 {
            self.lease_duration_secs
        } else {
            DEFAULT_LEASE_DURATION_SECS
        };
        secs * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_falls_back_from_instance_id_to_host_name() {
        let mut instance = Instance::new(0);
        instance.host_name = Some("pod-0".into());
        assert_eq!(instance.id(), Some("pod-0"));
        instance.instance_id = Some(String::new());
        assert_eq!(instance.id(), Some("pod-0"));
        instance.instance_id = Some("pod-0:demo:8080".into());
        assert_eq!(instance.id(), Some("pod-0:demo:8080"));
    }
}
