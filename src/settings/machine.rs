//! What the hook asks the machine it runs on, behind the [`Machine`] trait so that settings can
//! be resolved in tests without the real hostname, `/etc/hosts` or network interfaces: the
//! kernel hostname, the text of `/etc/hosts`, and the IPv4 addresses of the interfaces
//! (`getifaddrs(3)`, through nix: about 1 KB in the release binary, and no `unsafe` of ours).
//! Reading only; the choices are made in `host`.

use std::io;
use std::path::Path;
use std::sync::Arc;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::{InterfaceFlags, if_nametoindex};

use super::host::InterfaceAddress;
use crate::bounded_read::{self, FileRefused, HOSTS_FILE_CAP};

use crate::hosts_file::HOSTS_FILE;

/// The machine the hook runs on.
pub trait Machine {
    /// The kernel hostname.
    fn hostname(&self) -> io::Result<String>;
    /// The text of `/etc/hosts`.
    fn hosts_file(&self) -> io::Result<String>;
    /// The IPv4 addresses of the network interfaces, in `getifaddrs` order.
    fn ipv4_addresses(&self) -> io::Result<Vec<InterfaceAddress>>;
}

/// A machine the settings can keep asking after they are resolved.
pub type SharedMachine = Arc<dyn Machine + Send + Sync>;

/// The machine this process runs on.
pub struct ThisMachine;

/// [`ThisMachine`], to keep.
pub fn this_machine() -> SharedMachine {
    Arc::new(ThisMachine)
}

impl Machine for ThisMachine {
    fn hostname(&self) -> io::Result<String> {
        hostname::get().map(|name| name.to_string_lossy().into_owned())
    }

    /// Read through the one bounded reader; text that is not UTF-8 is kept lossily, as the
    /// lines that matter are addresses and host names.
    fn hosts_file(&self) -> io::Result<String> {
        match bounded_read::read_regular_file(Path::new(HOSTS_FILE), HOSTS_FILE_CAP) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(FileRefused::Unreadable(err)) => Err(err),
            Err(refused) => Err(io::Error::new(io::ErrorKind::InvalidData, refused)),
        }
    }

    fn ipv4_addresses(&self) -> io::Result<Vec<InterfaceAddress>> {
        let up_and_running = InterfaceFlags::IFF_UP | InterfaceFlags::IFF_RUNNING;
        let found = getifaddrs()
            .map_err(io::Error::from)?
            .filter_map(|entry| {
                let address = entry.address.as_ref()?.as_sockaddr_in()?.ip();
                // An `eth0:1` label names the device before the colon.
                let device = entry.interface_name.split(':').next().unwrap_or_default();
                Some(InterfaceAddress {
                    index: if_nametoindex(device).unwrap_or(0),
                    up: entry.flags.contains(up_and_running),
                    name: entry.interface_name,
                    address,
                })
            })
            .collect();
        Ok(found)
    }
}

/// A machine made up for tests.
#[cfg(test)]
pub mod fake {
    use super::{InterfaceAddress, Machine, io};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Clone, Debug, Default)]
    pub struct FakeMachine {
        pub hostname: Option<String>,
        pub hosts_file: Option<String>,
        /// When set, reading the hosts file fails with this kind instead.
        pub hosts_file_error: Option<io::ErrorKind>,
        pub addresses: Vec<InterfaceAddress>,
        /// How often the interfaces were listed, by this machine and its clones.
        interface_reads: Arc<AtomicUsize>,
    }

    impl FakeMachine {
        /// A machine known only by its kernel hostname: no hosts file, no interface address.
        pub fn named(hostname: &str) -> FakeMachine {
            FakeMachine {
                hostname: Some(hostname.into()),
                ..FakeMachine::default()
            }
        }

        /// How often the interfaces were listed, by this machine and its clones.
        pub fn interface_reads(&self) -> usize {
            self.interface_reads.load(Ordering::SeqCst)
        }

        /// This machine, to keep.
        pub fn shared(&self) -> super::SharedMachine {
            std::sync::Arc::new(self.clone())
        }

        /// This machine, with `address` on `eth0` (index 2) and `hosts` as its hosts file.
        pub fn with_address(mut self, address: &str, hosts: &str) -> FakeMachine {
            self.addresses = vec![
                InterfaceAddress {
                    index: 1,
                    name: "lo".into(),
                    up: true,
                    address: "127.0.0.1".parse().unwrap(),
                },
                InterfaceAddress {
                    index: 2,
                    name: "eth0".into(),
                    up: true,
                    address: address.parse().unwrap(),
                },
            ];
            self.hosts_file = Some(hosts.into());
            self
        }
    }

    fn missing(what: &str) -> io::Error {
        io::Error::new(io::ErrorKind::NotFound, format!("no {what} on this fake"))
    }

    impl Machine for FakeMachine {
        fn hostname(&self) -> io::Result<String> {
            self.hostname.clone().ok_or_else(|| missing("hostname"))
        }

        fn hosts_file(&self) -> io::Result<String> {
            if let Some(kind) = self.hosts_file_error {
                return Err(io::Error::new(kind, "refused by this fake"));
            }
            self.hosts_file.clone().ok_or_else(|| missing("hosts file"))
        }

        fn ipv4_addresses(&self) -> io::Result<Vec<InterfaceAddress>> {
            self.interface_reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.addresses.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_lists_its_loopback_address_on_interface_one() {
        let addresses = ThisMachine.ipv4_addresses().unwrap();
        let loopback = addresses
            .iter()
            .find(|entry| entry.address.is_loopback())
            .expect("every Linux network namespace has lo with 127.0.0.1 (is lo up?)");
        assert_eq!(loopback.name, "lo");
        assert_eq!(loopback.index, 1);
    }
}
