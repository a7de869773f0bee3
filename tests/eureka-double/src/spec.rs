//! How tests describe an instance to register (`InstanceSpec`, shaped like the body a Spring Cloud
//! client posts) and what they read back from the registry (`InstanceState`).

use serde_json::{Value, json};

use crate::clock::now_ms;
use crate::lease::Lease;

/// An instance as a Spring Cloud Netflix client would register it.
#[derive(Clone, Debug)]
pub struct InstanceSpec {
    /// `spring.application.name`, in the case given (the body's `app` is upper-cased).
    pub app: String,
    /// `eureka.instance.instance-id`; `None` means Spring's default `{host}:{app}:{port}`.
    pub instance_id: Option<String>,
    pub host_name: String,
    pub ip_addr: String,
    pub port: u16,
    /// The status the client reports, normally `UP`.
    pub status: String,
    /// An override carried in the body, as a peer's replicated registration has.
    pub overridden_status: Option<String>,
    pub lease_duration_secs: u32,
    pub renewal_interval_secs: u32,
    pub metadata: Vec<(String, String)>,
    /// `healthCheckUrl`; `None` means Spring's default `http://{host}:{port}/actuator/health`.
    pub health_check_url: Option<String>,
}

impl InstanceSpec {
    /// IP 10.0.0.7, status UP, lease 90 s renewed every 30 s, metadata `management.port`.
    pub fn new(app: &str, host_name: &str, port: u16) -> InstanceSpec {
        InstanceSpec {
            app: app.to_owned(),
            instance_id: None,
            host_name: host_name.to_owned(),
            ip_addr: "10.0.0.7".to_owned(),
            port,
            status: "UP".to_owned(),
            overridden_status: None,
            lease_duration_secs: 90,
            renewal_interval_secs: 30,
            metadata: vec![("management.port".to_owned(), port.to_string())],
            health_check_url: None,
        }
    }

    /// The instanceId the client sends: the explicit one, else Spring's default.
    pub fn id(&self) -> String {
        self.instance_id
            .clone()
            .unwrap_or_else(|| format!("{}:{}:{}", self.host_name, self.app, self.port))
    }

    pub fn instance_id(mut self, instance_id: &str) -> InstanceSpec {
        self.instance_id = Some(instance_id.to_owned());
        self
    }

    pub fn ip_addr(mut self, ip_addr: &str) -> InstanceSpec {
        self.ip_addr = ip_addr.to_owned();
        self
    }

    pub fn status(mut self, status: &str) -> InstanceSpec {
        self.status = status.to_owned();
        self
    }

    pub fn overridden_status(mut self, status: &str) -> InstanceSpec {
        self.overridden_status = Some(status.to_owned());
        self
    }

    /// Lease duration and renewal interval, in seconds.
    pub fn lease(mut self, duration_secs: u32, renewal_interval_secs: u32) -> InstanceSpec {
        self.lease_duration_secs = duration_secs;
        self.renewal_interval_secs = renewal_interval_secs;
        self
    }

    pub fn health_check_url(mut self, url: &str) -> InstanceSpec {
        self.health_check_url = Some(url.to_owned());
        self
    }

    /// Adds or replaces one metadata entry.
    pub fn metadata(mut self, key: &str, value: &str) -> InstanceSpec {
        crate::pairs::put(&mut self.metadata, key, value);
        self
    }

    /// The `POST apps/{APP}` body a Spring Cloud client sends for this instance.
    pub fn to_json(&self) -> Value {
        self.to_json_at(now_ms())
    }

    /// As [`to_json`](Self::to_json), dirty at `dirty_ms` (epoch milliseconds).
    pub(crate) fn to_json_at(&self, dirty_ms: i64) -> Value {
        let base_url = format!("http://{}:{}", self.host_name, self.port);
        let metadata: serde_json::Map<String, Value> = if self.metadata.is_empty() {
            [(
                "@class".to_owned(),
                Value::from("java.util.Collections$EmptyMap"),
            )]
            .into_iter()
            .collect()
        } else {
            self.metadata
                .iter()
                .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
                .collect()
        };
        let dirty = dirty_ms.to_string();
        json!({"instance": {
            "instanceId": self.id(),
            "hostName": self.host_name,
            "app": self.app.to_uppercase(),
            "ipAddr": self.ip_addr,
            "status": self.status,
            "overriddenStatus": self.overridden_status.as_deref().unwrap_or("UNKNOWN"),
            "port": {"$": self.port, "@enabled": "true"},
            "securePort": {"$": 443, "@enabled": "false"},
            "countryId": 1,
            "dataCenterInfo": {
                "@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
                "name": "MyOwn"
            },
            "leaseInfo": {
                "renewalIntervalInSecs": self.renewal_interval_secs,
                "durationInSecs": self.lease_duration_secs,
                "registrationTimestamp": 0,
                "lastRenewalTimestamp": 0,
                "evictionTimestamp": 0,
                "serviceUpTimestamp": 0
            },
            "metadata": metadata,
            "homePageUrl": format!("{base_url}/"),
            "statusPageUrl": format!("{base_url}/actuator/info"),
            "healthCheckUrl": self
                .health_check_url
                .clone()
                .unwrap_or_else(|| format!("{base_url}/actuator/health")),
            "vipAddress": self.app,
            "secureVipAddress": self.app,
            "isCoordinatingDiscoveryServer": "false",
            "lastUpdatedTimestamp": dirty,
            "lastDirtyTimestamp": dirty
        }})
    }
}

/// An instance as the registry holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceState {
    pub status: String,
    pub overridden_status: String,
    pub host_name: String,
    pub ip_addr: String,
    pub port: u16,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub action_type: String,
    pub last_updated_timestamp: u64,
}

impl From<&Lease> for InstanceState {
    fn from(lease: &Lease) -> InstanceState {
        let instance = &lease.holder;
        InstanceState {
            status: instance.status.name().to_owned(),
            overridden_status: instance.overridden_status.name().to_owned(),
            host_name: instance.host_name.clone().unwrap_or_default(),
            ip_addr: instance.ip_addr.clone().unwrap_or_default(),
            port: u16::try_from(instance.port.number).unwrap_or_default(),
            action_type: instance
                .action_type
                .map(|action| action.name().to_owned())
                .unwrap_or_default(),
            last_updated_timestamp: u64::try_from(instance.last_updated_timestamp)
                .unwrap_or_default(),
        }
    }
}
