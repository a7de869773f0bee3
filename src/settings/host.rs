//! The host part of Spring Cloud's instance id (`spring.cloud.client.hostname`), found as Spring
//! Cloud finds it: `InetUtils.findFirstNonLoopbackHostInfo()` takes this machine's first
//! non-loopback IPv4 address ([`spring_address`]) and asks `InetAddress.getHostName()` for its
//! name, which on Linux reads `/etc/hosts` first ([`name_in_hosts_file`]). Kubernetes writes the
//! pod's own line there (`10.1.2.3  web-0.web.ns.svc.cluster.local  web-0` for a pod with a
//! subdomain), which is how a `StatefulSet` pod behind a headless service gets its FQDN as host.
//!
//! Pure: the hosts file comes in as text and the interfaces as a list (`machine` reads the real
//! ones), so tests use fakes. No reverse DNS: musl's resolver could block past the hook's bound,
//! and the registered-instance fallback covers hosts named by a PTR record.

use std::net::{IpAddr, Ipv4Addr};

/// What `InetAddress.getHostName()` answers for an address, as far as the hosts file decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostsAnswer {
    /// The first name of the first line with the address, as written (case kept).
    Name(String),
    /// The address' first line has no name, or is an IPv4-mapped IPv6 line: glibc stops there
    /// and Java ends up with the address itself.
    NoUsableName,
    /// No line has the address: Java would ask reverse DNS, and without an answer use the
    /// address literal.
    NotListed,
}

/// The name Java's `InetAddress.getHostName()` gives `address` from the text of `/etc/hosts`.
///
/// glibc's rules (checked against JDK 17 on glibc): `#` starts a comment anywhere on a line;
/// blanks or tabs separate fields; the first line whose address equals `address` decides, even
/// when a later line also has it.
pub fn name_in_hosts_file(hosts: &str, address: Ipv4Addr) -> HostsAnswer {
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_ascii_whitespace();
        let Some(address_field) = fields.next() else {
            continue;
        };
        match address_field.parse::<IpAddr>() {
            Ok(IpAddr::V4(listed)) if listed == address => {
                return fields.next().map_or(HostsAnswer::NoUsableName, |name| {
                    HostsAnswer::Name(name.to_string())
                });
            }
            // glibc matches `::ffff:a.b.c.d` for an IPv4 query, but Java's forward check of
            // that name then fails and it falls back to the address literal.
            Ok(IpAddr::V6(listed)) if listed.to_ipv4_mapped() == Some(address) => {
                return HostsAnswer::NoUsableName;
            }
            _ => {}
        }
    }
    HostsAnswer::NotListed
}

/// The addresses `/etc/hosts` gives `name`, compared without regard to case as glibc does (musl's
/// own look-up compares case-sensitively, so a static binary must not rely on it).
pub fn addresses_in_hosts_file(hosts: &str, name: &str) -> Vec<IpAddr> {
    hosts
        .lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default();
            let mut fields = line.split_ascii_whitespace();
            let address = fields.next()?.parse::<IpAddr>().ok()?;
            fields
                .any(|listed| listed.eq_ignore_ascii_case(name))
                .then_some(address)
        })
        .collect()
}

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

    pub const KUBELET_HOSTS: &str = "# Kubernetes-managed hosts file.\n\
        127.0.0.1\tlocalhost\n\
        ::1\tlocalhost ip6-localhost ip6-loopback\n\
        fe00::0\tip6-localnet\n\
        10.244.1.17\tWeb-0.web.default.svc.cluster.local\tweb-0\n\
        \n\
        # Entries added by HostAliases.\n\
        10.244.1.17\talias-name\n\
        10.0.0.50\tEureka-0.Eureka eureka-0-alias\n";

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    #[test]
    fn the_first_name_of_the_first_line_wins_and_keeps_its_case() {
        assert_eq!(
            name_in_hosts_file(KUBELET_HOSTS, ip("10.244.1.17")),
            HostsAnswer::Name("Web-0.web.default.svc.cluster.local".into())
        );
    }

    #[test]
    fn comments_blanks_and_tabs_are_handled_like_glibc() {
        let hosts = "  # 10.0.0.1 commented\n\t10.0.0.1 \t first #trailing\n10.0.0.1 second\n";
        assert_eq!(
            name_in_hosts_file(hosts, ip("10.0.0.1")),
            HostsAnswer::Name("first".into())
        );
        // glibc cuts the line at `#`, so this line has the address and no name.
        assert_eq!(
            name_in_hosts_file("10.0.0.2#x name\n10.0.0.2 later\n", ip("10.0.0.2")),
            HostsAnswer::NoUsableName
        );
    }

    #[test]
    fn a_nameless_line_or_a_mapped_address_stops_the_search_without_a_name() {
        assert_eq!(
            name_in_hosts_file("10.0.0.3\n10.0.0.3 later\n", ip("10.0.0.3")),
            HostsAnswer::NoUsableName
        );
        assert_eq!(
            name_in_hosts_file("::ffff:10.0.0.4 mapped\n10.0.0.4 plain\n", ip("10.0.0.4")),
            HostsAnswer::NoUsableName
        );
    }

    #[test]
    fn an_address_not_in_the_file_is_not_listed() {
        assert_eq!(
            name_in_hosts_file(KUBELET_HOSTS, ip("10.244.1.18")),
            HostsAnswer::NotListed
        );
        assert_eq!(
            name_in_hosts_file("not-an-address name\n", ip("10.0.0.1")),
            HostsAnswer::NotListed
        );
    }

    #[test]
    fn names_are_looked_up_in_the_hosts_file_in_any_case() {
        let expected: Vec<IpAddr> = vec!["10.0.0.50".parse().unwrap()];
        assert_eq!(
            addresses_in_hosts_file(KUBELET_HOSTS, "eureka-0.eureka"),
            expected
        );
        assert_eq!(
            addresses_in_hosts_file(KUBELET_HOSTS, "EUREKA-0-ALIAS"),
            expected
        );
        assert_eq!(
            addresses_in_hosts_file(KUBELET_HOSTS, "web-0").len(),
            1,
            "only the line that names it"
        );
        assert!(addresses_in_hosts_file(KUBELET_HOSTS, "eureka").is_empty());
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
