//! Which registered instance is this pod's, when its instance id is unknown to the registry (in
//! the app's listing), or when no app name is known (in the whole registry): the one with this
//! pod's port and one of its addresses (host, `$POD_IP` or the interface address) as host name
//! (in any case, as DNS compares them) or IP. Pure: the listings are fetched elsewhere.

use super::find::{FindResult, Found, NotFound};
use crate::eureka::{Instance, Registered};
use crate::log;
use crate::settings::{Identity, RegisteredPort, ThisPod, Unnamed};
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

/// The address of `pod`'s that `instance` was registered with, as `hostName …` or `ipAddr …`,
/// when its port is `port` (any port for `None`).
fn this_pods_address(instance: &Instance, pod: &ThisPod, port: Option<u16>) -> Option<String> {
    if port.is_some_and(|port| instance.port != Some(port)) {
        return None;
    }
    pod.addresses().find_map(|address| {
        if instance.ip_addr == address {
            Some(format!("ipAddr {address}"))
        } else if instance.host_name.eq_ignore_ascii_case(address) {
            Some(format!("hostName {}", instance.host_name))
        } else {
            None
        }
    })
}

/// This pod's instance among `registered`.
pub fn match_instance(registered: &[Instance], identity: &Identity) -> Match {
    let pod = &identity.pod;
    let matches: Vec<&Instance> = registered
        .iter()
        .filter(|instance| this_pods_address(instance, pod, pod.port.known()).is_some())
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
    let port = match identity.pod.port {
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

/// What the whole registry says about an unnamed pod.
#[derive(Debug, PartialEq, Eq)]
pub enum RegistryMatch<'a> {
    /// Exactly one instance is this pod's, with why, for the log.
    One(&'a Registered, String),
    /// None is: what was looked for.
    None(String),
    /// These several could be, and nothing here decides between them.
    Several(Vec<&'a Registered>),
}

/// This pod's instance in the whole `registry`: the one with the given id, else the one with
/// one of this pod's addresses and the stated port (any port when none is stated). The same
/// instance listed twice counts once.
pub fn match_registered<'a>(registry: &'a [Registered], unnamed: &Unnamed) -> RegistryMatch<'a> {
    let pod = &unnamed.pod;
    let port = pod.stated_port();
    let mut matches: Vec<(&Registered, String)> = Vec::new();
    for entry in registry {
        let why = match &unnamed.given_id {
            Some((id, from)) => {
                (entry.instance.id == id.as_str()).then(|| format!("its id is {from}'s"))
            }
            None => this_pods_address(&entry.instance, pod, port),
        };
        let known = |(seen, _): &(&Registered, String)| {
            seen.app == entry.app && seen.instance.id == entry.instance.id
        };
        if let Some(why) = why
            && !matches.iter().any(known)
        {
            matches.push((entry, why));
        }
    }
    match matches.as_slice() {
        [(only, why)] => RegistryMatch::One(only, why.clone()),
        [] => RegistryMatch::None(sought(unnamed)),
        several => RegistryMatch::Several(several.iter().map(|(entry, _)| *entry).collect()),
    }
}

/// Whether an instance's JSON text may be this pod's: it names one of this pod's addresses (in
/// any case, as host names compare), or, with an id given, anything (ids may be escaped). Only
/// these are decoded, a few of a registry's thousand.
/// The test is built once (this pod's addresses gathered once) and applied to every instance.
pub fn may_be_this_pods(unnamed: &Unnamed) -> impl Fn(&str) -> bool + '_ {
    let any_instance = unnamed.given_id.is_some();
    let addresses: Vec<&str> = unnamed
        .pod
        .addresses()
        .filter(|address| !address.is_empty())
        .collect();
    move |raw| {
        any_instance
            || addresses.iter().any(|address| {
                raw.as_bytes()
                    .windows(address.len())
                    .any(|window| window.eq_ignore_ascii_case(address.as_bytes()))
            })
    }
}

/// What [`match_registered`] looks for, in words.
pub fn sought(unnamed: &Unnamed) -> String {
    if let Some((id, from)) = &unnamed.given_id {
        return format!("instance id {id} (from {from})");
    }
    let pod = &unnamed.pod;
    let addresses = pod.addresses().collect::<Vec<_>>().join(" or ");
    let port = match (pod.stated_port(), pod.port_from) {
        (Some(port), Some(from)) => format!("port {port} (from {from})"),
        (None, Some(from)) => format!("any port ({from} is 0, a random port)"),
        _ => "any port (no --port or SERVER_PORT given)".to_string(),
    };
    format!("an instance with hostName or ipAddr {addresses} and {port}")
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
            pod: pod(hostname, pod_ip, port),
        }
    }

    fn pod(hostname: &str, pod_ip: Option<&str>, port: u16) -> ThisPod {
        ThisPod {
            hostname: Some(hostname.into()),
            host_source: None,
            pod_ip: pod_ip.map(str::to_string),
            interface_address: InterfaceAddressOnDemand::known(None),
            registered_as: Vec::new(),
            port: RegisteredPort::Known(port),
            port_from: Some("SERVER_PORT"),
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
        by_interface.pod.interface_address =
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
        me.pod.port = RegisteredPort::Random;
        let found = match_instance(&instances, &me);
        assert_eq!(found, Match::One(InstanceId::parse("r").unwrap()));
        let Found { why, .. } = explain(found, &instances, &me).unwrap();
        assert!(
            why.ends_with("host pod-0 and any port (server.port is 0)"),
            "{why}"
        );
    }

    fn in_registry(app: &str, instance: Instance) -> Registered {
        Registered {
            app: app.into(),
            instance,
        }
    }

    fn unnamed(pod: ThisPod) -> Unnamed {
        Unnamed {
            pod,
            given_id: None,
        }
    }

    #[test]
    fn the_whole_registry_is_searched_by_address_and_the_stated_port() {
        let registry = [
            in_registry("ORDERS", registered("o-1", "pod-9", "10.0.0.9", 8080)),
            in_registry("ORDERS", registered("o-0", "pod-0", "10.0.0.1", 8080)),
            in_registry("ADMIN", registered("a-0", "other", "10.0.0.1", 9090)),
            in_registry("ORDERS", registered("o-0", "pod-0", "10.0.0.1", 8080)),
        ];
        let mut me = pod("pod-0", Some("10.0.0.1"), 8080);
        let RegistryMatch::One(found, why) = match_registered(&registry, &unnamed(me.clone()))
        else {
            panic!("the stated port decides");
        };
        assert_eq!(
            (found.app.as_str(), found.instance.id.as_str()),
            ("ORDERS", "o-0")
        );
        assert_eq!(why, "hostName pod-0");
        me.port_from = None;
        let RegistryMatch::Several(several) = match_registered(&registry, &unnamed(me.clone()))
        else {
            panic!("no port stated: two ports on this address are two candidates");
        };
        let ids: Vec<&str> = several.iter().map(|r| r.instance.id.as_str()).collect();
        assert_eq!(
            ids,
            ["o-0", "a-0"],
            "the same instance listed twice counts once"
        );
        me.pod_ip = Some("10.0.0.2".into());
        me.hostname = Some("nobody".into());
        let RegistryMatch::None(sought) = match_registered(&registry, &unnamed(me)) else {
            panic!("nothing has this address");
        };
        assert_eq!(
            sought,
            "an instance with hostName or ipAddr nobody or 10.0.0.2 and any port (no --port or \
             SERVER_PORT given)"
        );
    }

    #[test]
    fn only_instances_naming_an_address_of_this_pod_are_worth_decoding() {
        let me = unnamed(pod("pod-0.orders.svc", Some("10.0.0.1"), 8080));
        assert!(may_be_this_pods(&me)(r#"{"hostName":"POD-0.orders.svc"}"#));
        assert!(may_be_this_pods(&me)(r#"{"ipAddr":"10.0.0.1"}"#));
        assert!(!may_be_this_pods(&me)(
            r#"{"hostName":"pod-1","ipAddr":"10.0.0.2"}"#
        ));
        let mut by_id = me;
        by_id.given_id = Some((InstanceId::parse("x").unwrap(), "--instance-id"));
        assert!(may_be_this_pods(&by_id)("{}"));
    }

    #[test]
    fn a_host_name_matches_whatever_the_registered_address() {
        let registry = [in_registry(
            "ORDERS",
            registered("o-0", "pod-0.orders.shop.svc", "192.168.9.9", 8080),
        )];
        let me = unnamed(pod("pod-0.orders.shop.svc", Some("10.0.0.1"), 8080));
        assert!(matches!(
            match_registered(&registry, &me),
            RegistryMatch::One(_, why) if why == "hostName pod-0.orders.shop.svc"
        ));
    }

    #[test]
    fn a_given_id_decides_in_the_whole_registry() {
        let registry = [
            in_registry("ORDERS", registered("o-0", "pod-0", "10.0.0.1", 8080)),
            in_registry("ADMIN", registered("a-0", "pod-0", "10.0.0.1", 9090)),
        ];
        let mut me = unnamed(pod("pod-0", None, 8080));
        me.pod.port_from = None;
        me.given_id = Some((InstanceId::parse("a-0").unwrap(), "--instance-id"));
        assert!(matches!(
            match_registered(&registry, &me),
            RegistryMatch::One(found, _) if found.app == "ADMIN"
        ));
    }

    #[test]
    fn an_id_that_cannot_be_sent_back_is_not_chosen() {
        let instances = [registered("bad\u{7}id", "pod-0", "", 8080)];
        let found = match_instance(&instances, &identity("pod-0", None, 8080));
        assert!(matches!(found, Match::Unusable(_)), "{found:?}");
    }
}
