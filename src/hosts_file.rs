//! The hosts file (`/etc/hosts`) read as glibc reads it: the name Java's
//! `InetAddress.getHostName()` gets for an address, and the addresses a name has, compared in any
//! case. Pure text in, answers out; a leaf that both the settings (the instance id's host) and the
//! client's name lookups use.

use std::net::{IpAddr, Ipv4Addr};

/// Where the system keeps its host names; the same file Java's name service reads.
pub const HOSTS_FILE: &str = "/etc/hosts";

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

#[cfg(test)]
pub mod tests {
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
}
