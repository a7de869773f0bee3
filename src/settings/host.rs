//! The host part of Spring Cloud's instance id (`spring.cloud.client.hostname`), found as Spring
//! Cloud finds it: `InetUtils.findFirstNonLoopbackHostInfo()` takes this machine's first
//! non-loopback IPv4 address ([`spring_address`]) and asks `InetAddress.getHostName()` for its
//! name, which on Linux reads `/etc/hosts` first (`hosts_file`). Kubernetes writes the
//! pod's own line there (`10.1.2.3  web-0.web.ns.svc.cluster.local  web-0` for a pod with a
//! subdomain), which is how a `StatefulSet` pod behind a headless service gets its FQDN as host.
//!
//! Pure: the hosts file comes in as text and the interfaces as a list (`machine` reads the real
//! ones), so tests use fakes. No reverse DNS: musl's resolver could block past the hook's bound,
//! and the registered-instance fallback covers hosts named by a PTR record.

use std::net::Ipv4Addr;

use crate::hosts_file::{HostsAnswer, name_in_hosts_file};

/// One IPv4 address of one network interface, as `getifaddrs(3)` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceAddress {
    /// The interface index, which `InetUtils` ranks by.
    pub index: u32,
    /// The interface name (`eth0`, or a label such as `eth0:1`).
    pub name: String,
    /// `IFF_UP` and `IFF_RUNNING` both set: what Java's `NetworkInterface.isUp()` checks (an
    /// interface that is up without carrier is not up for Java).
    pub up: bool,
    pub address: Ipv4Addr,
}

/// The address `InetUtils` picks (without `spring.cloud.inetutils.*` settings): among up
/// interfaces, the one with the lowest index that has a non-loopback IPv4 address, and on it the
/// first such address in `getifaddrs` order (Java lists them reversed and keeps the last).
pub fn spring_address(addresses: &[InterfaceAddress]) -> Option<Ipv4Addr> {
    // `min_by_key` keeps the first of equal keys: the first address in list order.
    addresses
        .iter()
        .filter(|candidate| candidate.up && !candidate.address.is_loopback())
        .min_by_key(|candidate| candidate.index)
        .map(|candidate| candidate.address)
}

/// Where the id's host part came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostSource {
    /// A flag or variable, named here: `--hostname`, `EUREKA_HOSTNAME` or
    /// `SPRING_CLOUD_CLIENT_HOSTNAME` (which Spring puts above its own look-up).
    Given(&'static str),
    /// `/etc/hosts`' name for this address, the machine's first non-loopback IPv4 address.
    HostsFile(Ipv4Addr),
    /// The address has no usable name in `/etc/hosts`: Java uses the address itself.
    AddressLiteral(Ipv4Addr),
    /// No non-loopback IPv4 address: the kernel hostname (Java's `InetAddress.getLocalHost()`).
    KernelHostname,
}

impl HostSource {
    /// Why the host is what it is, for a person.
    pub fn describe(&self) -> String {
        match self {
            HostSource::Given(name) => format!("from {name}"),
            HostSource::HostsFile(address) => format!(
                "the /etc/hosts name of {address}, this machine's first non-loopback IPv4 \
                 address, as Spring Cloud's InetUtils finds it"
            ),
            HostSource::AddressLiteral(address) => format!(
                "{address}, this machine's first non-loopback IPv4 address, which /etc/hosts \
                 does not name (Spring Cloud then uses the address)"
            ),
            HostSource::KernelHostname => {
                "the kernel hostname (this machine has no non-loopback IPv4 address)".into()
            }
        }
    }
}

/// Spring's `spring.cloud.client.hostname` when no flag or variable gives it: the hosts-file name
/// of `address`, else the address itself; the kernel hostname only when there is no address.
pub fn looked_up_host(
    hosts_file: Option<&str>,
    address: Option<Ipv4Addr>,
    kernel_hostname: impl FnOnce() -> Option<String>,
) -> Option<(String, HostSource)> {
    let Some(address) = address else {
        return kernel_hostname().map(|name| (name, HostSource::KernelHostname));
    };
    let answer = hosts_file.map_or(HostsAnswer::NotListed, |text| {
        name_in_hosts_file(text, address)
    });
    Some(match answer {
        HostsAnswer::Name(name) => (name, HostSource::HostsFile(address)),
        HostsAnswer::NoUsableName | HostsAnswer::NotListed => {
            (address.to_string(), HostSource::AddressLiteral(address))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts_file::tests::KUBELET_HOSTS;

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    fn nic(index: u32, name: &str, up: bool, address: &str) -> InterfaceAddress {
        InterfaceAddress {
            index,
            name: name.into(),
            up,
            address: ip(address),
        }
    }

    #[test]
    fn the_lowest_index_up_interface_with_a_non_loopback_ipv4_address_wins() {
        let machine = [
            nic(1, "lo", true, "127.0.0.1"),
            nic(3, "v0", false, "10.5.5.5"),
            nic(5, "w0", true, "10.7.7.1"),
            nic(4, "w1", true, "10.9.0.1"),
        ];
        assert_eq!(spring_address(&machine), Some(ip("10.9.0.1")));
    }

    #[test]
    fn on_one_interface_the_first_address_in_kernel_order_wins() {
        let machine = [
            nic(3, "w0", true, "10.7.7.1"),
            nic(3, "w0", true, "10.8.8.8"),
            nic(3, "w0", true, "10.7.7.2"),
        ];
        assert_eq!(spring_address(&machine), Some(ip("10.7.7.1")));
    }

    #[test]
    fn only_loopback_or_down_interfaces_give_no_address() {
        assert_eq!(
            spring_address(&[
                nic(1, "lo", true, "127.0.0.1"),
                nic(2, "eth0", false, "10.0.0.9")
            ]),
            None
        );
    }

    #[test]
    fn the_host_is_the_hosts_file_name_else_the_address_else_the_kernel_hostname() {
        let kernel = || Some("kernel".to_string());
        assert_eq!(
            looked_up_host(Some(KUBELET_HOSTS), Some(ip("10.244.1.17")), kernel),
            Some((
                "Web-0.web.default.svc.cluster.local".into(),
                HostSource::HostsFile(ip("10.244.1.17"))
            ))
        );
        assert_eq!(
            looked_up_host(Some(KUBELET_HOSTS), Some(ip("10.9.9.9")), kernel),
            Some((
                "10.9.9.9".into(),
                HostSource::AddressLiteral(ip("10.9.9.9"))
            ))
        );
        assert_eq!(
            looked_up_host(None, Some(ip("10.9.9.9")), kernel).map(|(host, _)| host),
            Some("10.9.9.9".into()),
            "an unreadable hosts file names nothing"
        );
        assert_eq!(
            looked_up_host(Some(KUBELET_HOSTS), None, kernel),
            Some(("kernel".into(), HostSource::KernelHostname))
        );
        assert_eq!(looked_up_host(None, None, || None), None);
    }
}
