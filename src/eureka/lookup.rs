//! Name lookups that say they failed by type.
//!
//! ureq's default resolver hands std's `getaddrinfo` failure up as a bare `io::Error` whose kind
//! (`Uncategorized`) cannot be matched outside std, so nothing but its text would tell it from
//! any other I/O error. [`NamingResolver`] wraps that error in [`NameLookupFailed`], which
//! `describe` finds by downcasting.

use std::error::Error;
use std::fmt;
use std::io;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

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

/// ureq's default resolver, with its I/O failures marked as [`NameLookupFailed`].
#[derive(Debug, Default)]
pub struct NamingResolver(DefaultResolver);

impl Resolver for NamingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.0
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
