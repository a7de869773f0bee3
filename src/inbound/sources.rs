//! The sources --ignore-source leaves out: a comma-separated list of IPv4 and IPv6 addresses and
//! CIDR blocks, parsed exactly (a block with host bits set is refused, as it is probably a typo),
//! and matched against a connection's remote address. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
//! as a JVM listening on `[::]` sees IPv4 clients) is the IPv4 address, in the list and in traffic.

use std::fmt;
use std::net::IpAddr;

/// One address block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    network: IpAddr,
    prefix: u8,
}

impl Block {
    /// `10.0.0.0/8`, `fd00::/8`, or one address (`10.1.2.3`, `::1`).
    pub fn parse(text: &str) -> Result<Block, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let given: IpAddr = address.parse().map_err(|_| {
            format!(
                "'{}' is not an IPv4 or IPv6 address",
                address.escape_debug()
            )
        })?;
        let mapped = matches!(given, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some());
        let network = given.to_canonical();
        let width = bit_width(network);
        let prefix = match prefix {
            None => width,
            Some(prefix) => {
                let bad = || {
                    format!(
                        "'{}' is not a prefix length from 0 to {}",
                        prefix.escape_debug(),
                        if mapped { 128 } else { width }
                    )
                };
                // Only digits: `u8::from_str` would take a `+`.
                if prefix.is_empty() || !prefix.bytes().all(|byte| byte.is_ascii_digit()) {
                    return Err(bad());
                }
                let prefix: u8 = prefix.parse().map_err(|_| bad())?;
                match (mapped, prefix.checked_sub(96)) {
                    (true, Some(v4_prefix)) if v4_prefix <= 32 => v4_prefix,
                    (true, _) => {
                        return Err(format!(
                            "{}: a block of IPv4-mapped addresses needs a prefix of 96 or more",
                            text.escape_debug()
                        ));
                    }
                    (false, _) if prefix <= width => prefix,
                    (false, _) => return Err(bad()),
                }
            }
        };
        let block = Block { network, prefix };
        if masked(network, prefix) != network {
            return Err(format!(
                "'{}' has bits set past its /{prefix} prefix: write {}/{prefix} for the block or \
                 {network} for the one address",
                text.escape_debug(),
                masked(network, prefix)
            ));
        }
        Ok(block)
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        address.is_ipv4() == self.network.is_ipv4() && masked(address, self.prefix) == self.network
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == bit_width(self.network) {
            write!(f, "{}", self.network)
        } else {
            write!(f, "{}/{}", self.network, self.prefix)
        }
    }
}

fn bit_width(address: IpAddr) -> u8 {
    if address.is_ipv4() { 32 } else { 128 }
}

/// `address` with every bit past `prefix` cleared.
fn masked(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX
                .checked_shl(32_u32.saturating_sub(u32::from(prefix)))
                .unwrap_or(0);
            IpAddr::from((u32::from(v4) & mask).to_be_bytes())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX
                .checked_shl(128_u32.saturating_sub(u32::from(prefix)))
                .unwrap_or(0);
            IpAddr::from((u128::from(v6) & mask).to_be_bytes())
        }
    }
}

/// The sources not counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoredSources {
    blocks: Vec<Block>,
}

impl IgnoredSources {
    /// A comma-separated list; spaces around an item are allowed, an empty item is not.
    pub fn parse(text: &str) -> Result<IgnoredSources, String> {
        let blocks = text
            .split(',')
            .map(|item| match item.trim() {
                "" => Err("an item of the list is empty: give addresses or CIDR blocks separated by commas".to_string()),
                item => Block::parse(item),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IgnoredSources { blocks })
    }

    pub fn ignores(&self, address: IpAddr) -> bool {
        self.blocks.iter().any(|block| block.contains(address))
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

impl fmt::Display for IgnoredSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, block) in self.blocks.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{block}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_blocks_of_both_families_match_what_they_cover() {
        let list = IgnoredSources::parse("10.0.0.0/8, 192.168.1.7,fd00::/8,::1").unwrap();
        for inside in [
            "10.255.0.1",
            "192.168.1.7",
            "fd12::1",
            "::1",
            "::ffff:10.1.1.1",
        ] {
            assert!(list.ignores(ip(inside)), "{inside}");
        }
        for outside in ["11.0.0.1", "192.168.1.8", "fe80::1", "::2", "127.0.0.1"] {
            assert!(!list.ignores(ip(outside)), "{outside}");
        }
        assert_eq!(list.to_string(), "10.0.0.0/8, 192.168.1.7, fd00::/8, ::1");
    }

    #[test]
    fn mapped_addresses_in_the_list_are_ipv4() {
        let list = IgnoredSources::parse("::ffff:10.0.0.0/104,::ffff:127.0.0.2").unwrap();
        assert_eq!(list.to_string(), "10.0.0.0/8, 127.0.0.2");
        assert!(list.ignores(ip("10.9.9.9")) && list.ignores(ip("127.0.0.2")));
    }

    #[test]
    fn zero_prefixes_cover_their_whole_family_only() {
        let list = IgnoredSources::parse("0.0.0.0/0").unwrap();
        assert!(list.ignores(ip("203.0.113.9")) && !list.ignores(ip("2001:db8::1")));
        let list = IgnoredSources::parse("::/0").unwrap();
        assert!(list.ignores(ip("2001:db8::1")) && !list.ignores(ip("203.0.113.9")));
    }

    #[test]
    fn bad_items_are_refused_with_what_to_fix() {
        for (text, says) in [
            ("", "empty"),
            ("10.0.0.1,", "empty"),
            ("10.0.0.256", "not an IPv4 or IPv6 address"),
            ("node", "not an IPv4 or IPv6 address"),
            ("10.0.0.0/33", "prefix length from 0 to 32"),
            ("10.0.0.0/+8", "prefix length"),
            ("10.0.0.0/", "prefix length"),
            ("fd00::/129", "from 0 to 128"),
            (
                "10.1.2.3/8",
                "write 10.0.0.0/8 for the block or 10.1.2.3 for the one address",
            ),
            ("::ffff:10.0.0.0/8", "prefix of 96 or more"),
        ] {
            let err = IgnoredSources::parse(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|bits| IpAddr::V4(Ipv4Addr::from(bits))),
            any::<u128>().prop_map(|bits| IpAddr::V6(Ipv6Addr::from(bits))),
        ]
    }

    proptest! {
        #[test]
        fn a_block_written_out_parses_back_and_contains_exactly_the_addresses_sharing_its_prefix(
            address in any_ip(), prefix in 0u8..=128, probe in any_ip()
        ) {
            let address = address.to_canonical();
            let prefix = prefix.min(bit_width(address));
            let block = Block { network: masked(address, prefix), prefix };
            prop_assert_eq!(Block::parse(&block.to_string()), Ok(block));
            prop_assert!(block.contains(address));
            let probe = probe.to_canonical();
            let shares_prefix = probe.is_ipv4() == address.is_ipv4()
                && masked(probe, prefix) == masked(address, prefix);
            prop_assert_eq!(block.contains(probe), shares_prefix);
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "[0-9a-f:./, ]{0,40}") {
            let _ = IgnoredSources::parse(&text);
        }
    }
}
