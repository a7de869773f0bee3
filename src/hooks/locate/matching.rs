//! Which registered instance is this pod's, when its instance id is unknown to the registry: the
//! one with this pod's port and one of its addresses (host, `$POD_IP` or the interface address)
//! as host name (in any case, as DNS compares them) or IP. Pure: the listing is fetched elsewhere.

use super::find::{FindResult, Found, NotFound};
use crate::eureka::Instance;
use crate::log;
use crate::settings::{Identity, RegisteredPort};
use crate::values::InstanceId;

/// About how much of a list of ids a message shows, after its advice.
const LISTED_CHARS: usize = 200;

/// What the registered instances say about this pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// Exactly one instance has this pod's host and port.
    One(InstanceId),
    /// None has.
    None,
    /// These several have.
    Several(Vec<String>),
    /// One has, but its id is not one we could send back (e.g. empty or with a control character).
    Unusable(String),
}

/// This pod's instance among `registered`.
pub fn match_instance(registered: &[Instance], identity: &Identity) -> Match {
    let matches: Vec<&Instance> = registered
        .iter()
        .filter(|instance| match identity.port {
            RegisteredPort::Known(port) => instance.port == Some(port),
            RegisteredPort::Random => true,
        })
        .filter(|instance| {
            identity.addresses().any(|address| {
                instance.host_name.eq_ignore_ascii_case(address) || instance.ip_addr == address
            })
        })
        .collect();
    match matches.as_slice() {
        [only] => match InstanceId::parse(&only.id) {
            Ok(id) => Match::One(id),
            Err(_) => Match::Unusable(only.id.clone()),
        },
        [] => Match::None,
        several => Match::Several(several.iter().map(|instance| instance.id.clone()).collect()),
    }
}

/// The id to use and why, or why there is none, in a sentence for a person.
pub fn explain(found: Match, registered: &[Instance], identity: &Identity) -> FindResult {
    let app = identity.app.registry_name();
    let port = match identity.port {
        RegisteredPort::Known(port) => format!("port {port}"),
        RegisteredPort::Random => "any port (server.port is 0)".into(),
    };
    let host = identity.addresses().collect::<Vec<_>>().join(" or ");
    match found {
        Match::One(id) => {
            let why =
                format!("{id} is the one instance of {app} registered with host {host} and {port}");
            Ok(Found { id, why })
        }
        Match::Unusable(id) => Err(NotFound {
            why: format!("the registered id '{}' is not usable", id.escape_debug()),
        }),
        Match::None => {
            let ids: Vec<&str> = registered
                .iter()
                .map(|instance| instance.id.as_str())
                .collect();
            // The advice first: kubelet's event message keeps only the start of a long line.
            let why = format!(
                "set --instance-id or {} to the app's id: none of the registered ids has host \
                 {host} and {port} (the listing is cached up to 30 s, it may lag); registered \
                 ids for {app}: {}",
                crate::vars::INSTANCE_ID[1],
                log::listed(&ids, LISTED_CHARS),
            );
            Err(NotFound { why })
        }
        Match::Several(ids) => Err(NotFound {
            why: format!(
                "set --instance-id: several instances of {app} have host {host} and {port}: {}",
                log::listed(
                    &ids.iter().map(String::as_str).collect::<Vec<_>>(),
                    LISTED_CHARS
                )
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eureka::InstanceStatus;
    use crate::settings::{IdSource, InterfaceAddressOnDemand};
    use crate::values::AppName;

    fn identity(hostname: &str, pod_ip: Option<&str>, port: u16) -> Identity {
        Identity {
            instance_id: InstanceId::parse(&format!("{hostname}:demo:{port}")).unwrap(),
            other_candidate: None,
            app: AppName::parse("demo").unwrap(),
            id_source: IdSource::Spring {
                index_from: Some("SERVER_PORT"),
            },
            hostname: Some(hostname.into()),
            host_source: None,
            pod_ip: pod_ip.map(str::to_string),
            interface_address: InterfaceAddressOnDemand::known(None),
            registered_as: Vec::new(),
            port: RegisteredPort::Known(port),
            warnings: Vec::new(),
        }
    }

    fn registered(id: &str, host_name: &str, ip_addr: &str, port: u16) -> Instance {
        Instance {
            id: id.into(),
            host_name: host_name.into(),
            ip_addr: ip_addr.into(),
            port: Some(port),
            status: InstanceStatus::Up,
            overridden_status: None,
            last_updated_ms: None,
            registered_ms: None,
            health_check_url: None,
        }
    }

    #[test]
    fn the_one_instance_with_this_host_and_port_is_this_pod() {
        let instances = [
            registered("a", "pod-0", "10.0.0.1", 9090),
            registered("b", "pod-0", "10.0.0.1", 8080),
            registered("c", "pod-1", "10.0.0.2", 8080),
        ];
        let found = match_instance(&instances, &identity("pod-0", None, 8080));
        assert_eq!(found, Match::One(InstanceId::parse("b").unwrap()));
        let Found { id, why } = explain(found, &instances, &identity("pod-0", None, 8080)).unwrap();
        assert_eq!(id.as_str(), "b");
        assert_eq!(
            why,
            "b is the one instance of DEMO registered with host pod-0 and port 8080"
        );
    }

    #[test]
    fn the_pod_ip_matches_an_instance_registered_by_ip_address() {
        let instances = [registered("by-ip", "10.0.0.7", "10.0.0.7", 8080)];
        assert_eq!(
            match_instance(&instances, &identity("pod-0", None, 8080)),
            Match::None
        );
        assert_eq!(
            match_instance(&instances, &identity("pod-0", Some("10.0.0.7"), 8080)),
            Match::One(InstanceId::parse("by-ip").unwrap())
        );
    }

    #[test]
    fn no_match_lists_the_registered_ids_and_names_the_variable() {
        let instances = [registered("x", "other", "10.0.0.9", 8080)];
        let me = identity("pod-0", Some("10.0.0.1"), 8080);
        let found = match_instance(&instances, &me);
        assert_eq!(found, Match::None);
        let NotFound { why } = explain(found, &instances, &me).unwrap_err();
        assert_eq!(
            why,
            "set --instance-id or EUREKA_INSTANCE_INSTANCEID to the app's id: none of the \
             registered ids has host pod-0 or 10.0.0.1 and port 8080 (the listing is cached up \
             to 30 s, it may lag); registered ids for DEMO: x"
        );
    }

    #[test]
    fn several_matches_are_named_and_none_is_chosen() {
        let instances = [
            registered("a", "pod-0", "", 8080),
            registered("b", "", "10.0.0.1", 8080),
        ];
        let me = identity("pod-0", Some("10.0.0.1"), 8080);
        let found = match_instance(&instances, &me);
        assert_eq!(found, Match::Several(vec!["a".into(), "b".into()]));
        let NotFound { why } = explain(found, &instances, &me).unwrap_err();
        assert!(
            why.starts_with("set --instance-id: several instances") && why.ends_with(": a, b"),
            "{why}"
        );
    }

    #[test]
    fn host_names_match_in_any_case_and_the_interface_address_counts() {
        let instances = [registered("fqdn", "WEB-0.web.shop.svc", "10.0.0.8", 8080)];
        let me = identity("web-0.web.shop.svc", None, 8080);
        assert_eq!(
            match_instance(&instances, &me),
            Match::One(InstanceId::parse("fqdn").unwrap())
        );
        let mut by_interface = identity("other-name", None, 8080);
        by_interface.interface_address =
            InterfaceAddressOnDemand::known(Some("10.0.0.8".parse().unwrap()));
        assert_eq!(
            match_instance(&instances, &by_interface),
            Match::One(InstanceId::parse("fqdn").unwrap())
        );
    }

    #[test]
    fn a_random_port_matches_on_the_host_alone() {
        let instances = [registered("r", "pod-0", "10.0.0.1", 41234)];
        let mut me = identity("pod-0", None, 8080);
        assert_eq!(match_instance(&instances, &me), Match::None);
        me.port = RegisteredPort::Random;
        let found = match_instance(&instances, &me);
        assert_eq!(found, Match::One(InstanceId::parse("r").unwrap()));
        let Found { why, .. } = explain(found, &instances, &me).unwrap();
        assert!(
            why.ends_with("host pod-0 and any port (server.port is 0)"),
            "{why}"
        );
    }

    #[test]
    fn an_id_that_cannot_be_sent_back_is_not_chosen() {
        let instances = [registered("bad\u{7}id", "pod-0", "", 8080)];
        let found = match_instance(&instances, &identity("pod-0", None, 8080));
        assert!(matches!(found, Match::Unusable(_)), "{found:?}");
    }
}
