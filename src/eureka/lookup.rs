//! Name lookups that say they failed by type, and that find `/etc/hosts` names in any case.
//!
//! ureq's default resolver hands std's `getaddrinfo` failure up as a bare `io::Error` whose kind
//! (`Uncategorized`) cannot be matched outside std, so nothing but its text would tell it from
//! any other I/O error. [`NamingResolver`] wraps that error in [`NameLookupFailed`], which
//! `describe` finds by downcasting.
//!
//! Host names are case-insensitive, and glibc's `/etc/hosts` look-up treats them so; musl's (the
//! static binary's) compares them byte for byte, so `http://Eureka-0.eureka:8761/` would miss a
//! `eureka-0.eureka` line. [`NamingResolver`] therefore reads the hosts file itself first.
//!
//! An IP address is answered as it is: ureq's resolver would start a lookup thread for it.

use std::error::Error;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use crate::hosts_file::{HOSTS_FILE, addresses_in_hosts_file};

/// The system resolver could not look the host name up; holds its error.
#[derive(Debug)]
pub struct NameLookupFailed(io::Error);

impl fmt::Display for NameLookupFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Error for NameLookupFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

/// The hosts file in any case, then ureq's default resolver, with its I/O failures marked as
/// [`NameLookupFailed`].
#[derive(Debug)]
pub struct NamingResolver {
    system: DefaultResolver,
    hosts_file: PathBuf,
}

impl Default for NamingResolver {
    fn default() -> Self {
        NamingResolver::with_hosts_file(HOSTS_FILE.into())
    }
}

impl NamingResolver {
    pub fn with_hosts_file(hosts_file: PathBuf) -> Self {
        NamingResolver {
            system: DefaultResolver::default(),
            hosts_file,
        }
    }

    /// The addresses the hosts file gives the URI's host name, in any case; `None` for an IP
    /// address, an unreadable file or a name it does not have.
    fn look_up_in_hosts_file(&self, uri: &Uri) -> Option<ResolvedSocketAddrs> {
        let host = uri.host()?;
        if host.starts_with('[') || host.parse::<IpAddr>().is_ok() {
            return None;
        }
        let port = port_of(uri);
        let text = crate::bounded_read::read_regular_file(
            &self.hosts_file,
            crate::bounded_read::HOSTS_FILE_CAP,
        )
        .ok()?;
        let text = String::from_utf8_lossy(&text);
        let mut found = self.empty();
        for address in addresses_in_hosts_file(&text, host) {
            if found.try_push(SocketAddr::new(address, port)).is_err() {
                break;
            }
        }
        (!found.is_empty()).then_some(found)
    }
}

/// The URI's port, or its scheme's default.
fn port_of(uri: &Uri) -> u16 {
    uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    })
}

/// The socket address of an `http://` or `https://` URI whose host is an IP address (an IPv6 one
/// in brackets): there is nothing to look up, so no lookup thread is needed.
fn ip_literal(uri: &Uri) -> Option<SocketAddr> {
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return None;
    }
    let host = uri.host()?;
    let bare = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    let address = bare.parse::<IpAddr>().ok()?;
    Some(SocketAddr::new(address, port_of(uri)))
}

impl Resolver for NamingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        // ureq's resolver would hand even an IP address to a new thread when a timeout is set.
        if let Some(address) = ip_literal(uri) {
            let mut found = self.empty();
            for wanted in config.ip_family().keep_wanted(std::iter::once(address)) {
                found.push(wanted);
            }
            return if found.is_empty() {
                Err(ureq::Error::HostNotFound)
            } else {
                Ok(found)
            };
        }
        if let Some(found) = self.look_up_in_hosts_file(uri) {
            return Ok(found);
        }
        self.system
            .resolve(uri, config, timeout)
            .map_err(|err| match err {
                ureq::Error::Io(io) => {
                    ureq::Error::Io(io::Error::new(io.kind(), NameLookupFailed(io)))
                }
                other => other,
            })
    }
}

/// The lookup failure inside `io`, if that is what it is.
pub fn name_lookup_failure(io: &io::Error) -> Option<&NameLookupFailed> {
    io.get_ref()?.downcast_ref::<NameLookupFailed>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_names_are_found_in_any_case() {
        let file = std::env::temp_dir().join(format!("eureka-hook-hosts-{}", std::process::id()));
        std::fs::write(
            &file,
            "127.0.0.1 localhost\n10.1.2.3\teureka-0.eureka.ns eureka-0\n",
        )
        .unwrap();
        let resolver = NamingResolver::with_hosts_file(file.clone());
        let resolve = |url: &str| {
            let uri: Uri = url.parse().unwrap();
            resolver
                .resolve(&uri, &Config::default(), NextTimeout::default())
                .map(|found| found.iter().copied().collect::<Vec<_>>())
        };
        let expected: Vec<SocketAddr> = vec!["10.1.2.3:8761".parse().unwrap()];
        assert_eq!(
            resolve("http://Eureka-0.EUREKA.ns:8761/eureka/").unwrap(),
            expected
        );
        assert_eq!(resolve("http://eureka-0:8761/eureka/").unwrap(), expected);
        let https: Vec<SocketAddr> = vec!["10.1.2.3:443".parse().unwrap()];
        assert_eq!(resolve("https://EUREKA-0/eureka/").unwrap(), https);
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn an_ip_address_is_its_own_answer_within_the_wanted_family() {
        let resolver = NamingResolver::with_hosts_file("/nonexistent/hosts".into());
        let resolve = |url: &str, config: &Config| {
            let uri: Uri = url.parse().unwrap();
            resolver
                .resolve(&uri, config, NextTimeout::default())
                .map(|found| found.iter().copied().collect::<Vec<_>>())
        };
        let any = Config::default();
        let v4: SocketAddr = "127.0.0.1:8761".parse().unwrap();
        assert_eq!(
            resolve("http://127.0.0.1:8761/eureka/", &any).unwrap(),
            [v4]
        );
        let v6: SocketAddr = "[::1]:443".parse().unwrap();
        assert_eq!(resolve("https://[::1]/eureka/", &any).unwrap(), [v6]);
        let only_v4 = Config::builder()
            .ip_family(ureq::config::IpFamily::Ipv4Only)
            .build();
        assert!(matches!(
            resolve("http://[::1]:8761/eureka/", &only_v4),
            Err(ureq::Error::HostNotFound)
        ));
    }

    #[test]
    fn a_host_that_does_not_resolve_is_marked_as_a_lookup_failure() {
        let uri: Uri = "http://no-such-host.invalid:8761/eureka/".parse().unwrap();
        let config = Config::default();
        match NamingResolver::default().resolve(&uri, &config, NextTimeout::default()) {
            Err(ureq::Error::Io(io)) => assert!(name_lookup_failure(&io).is_some(), "{io:?}"),
            Err(ureq::Error::HostNotFound) => {}
            other => panic!("a .invalid host resolved or failed otherwise: {other:?}"),
        }
    }
}
