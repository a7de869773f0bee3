//! Which Eureka server the double plays, as far as compression goes. Both serve the same REST
//! resources (eureka-core's Jersey resources); they differ in what wraps them.
//!
//! Spring Cloud Netflix's server compresses only where the resources do it themselves:
//! `ApplicationsResource` answers `GET apps/` and `GET apps/delta` from `ResponseCache.getGZIP`
//! when the request accepts gzip, while `ApplicationResource` returns `apps/{APP}` as plain text,
//! and neither spring-cloud-netflix-eureka-server nor Spring Boot (compression off by default)
//! adds a gzip filter. Netflix's own eureka-server war runs Jersey with its gzip content-encoding
//! filter, so every answer that asks for gzip gets it.

use std::fmt;
use std::str::FromStr;

/// The server whose compression the double copies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ServerFlavour {
    /// Spring Cloud Netflix's embedded server, with Spring Boot's defaults: gzip only on
    /// `apps/` and `apps/delta`.
    #[default]
    SpringCloud,
    /// Netflix's eureka-server war: gzip on every answer that asks for it.
    NetflixWar,
}

/// The reads whose compression differs between the flavours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CachedRead {
    /// `GET apps/` or `GET apps/delta` (`ApplicationsResource`).
    Registry,
    /// `GET apps/{APP}` (`ApplicationResource`).
    App,
}

impl ServerFlavour {
    /// Whether `read` goes out gzip-compressed when the request accepts gzip.
    pub(crate) fn compresses(self, read: CachedRead) -> bool {
        match self {
            ServerFlavour::SpringCloud => read == CachedRead::Registry,
            ServerFlavour::NetflixWar => true,
        }
    }

    /// Both flavours, for tests that run on each.
    pub const ALL: [ServerFlavour; 2] = [ServerFlavour::SpringCloud, ServerFlavour::NetflixWar];

    /// Runs `case` on every flavour at once, each on a thread named after the calling thread (the
    /// test) and the flavour, so that a failure says which one failed, each thread can tell its
    /// own log lines, and the pair takes the wall time of one run. Panics naming the flavours
    /// that failed.
    pub fn each(case: fn(ServerFlavour)) {
        let test = std::thread::current().name().unwrap_or_default().to_owned();
        std::thread::scope(|scope| {
            let runs: Vec<_> = ServerFlavour::ALL
                .into_iter()
                .map(|flavour| {
                    let run = std::thread::Builder::new()
                        .name(format!("{test}::{flavour}"))
                        .spawn_scoped(scope, move || case(flavour))
                        .expect("a thread for the flavour");
                    (flavour, run)
                })
                .collect();
            let failed: Vec<String> = runs
                .into_iter()
                .filter_map(|(flavour, run)| run.join().is_err().then(|| flavour.to_string()))
                .collect();
            assert!(
                failed.is_empty(),
                "failed on {failed:?} (the panics above name the flavour's thread)"
            );
        });
    }
}

impl fmt::Display for ServerFlavour {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ServerFlavour::SpringCloud => "spring-cloud",
            ServerFlavour::NetflixWar => "netflix-war",
        })
    }
}

impl FromStr for ServerFlavour {
    type Err = String;

    fn from_str(text: &str) -> Result<ServerFlavour, String> {
        ServerFlavour::ALL
            .into_iter()
            .find(|flavour| flavour.to_string() == text)
            .ok_or_else(|| format!("unknown flavour {text:?} (use spring-cloud or netflix-war)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spring_cloud_compresses_the_registry_reads_only_and_the_war_everything() {
        assert!(ServerFlavour::SpringCloud.compresses(CachedRead::Registry));
        assert!(!ServerFlavour::SpringCloud.compresses(CachedRead::App));
        assert!(ServerFlavour::NetflixWar.compresses(CachedRead::Registry));
        assert!(ServerFlavour::NetflixWar.compresses(CachedRead::App));
    }

    #[test]
    fn flavours_parse_from_their_names() {
        for flavour in ServerFlavour::ALL {
            assert_eq!(flavour.to_string().parse(), Ok(flavour));
        }
        assert!("war".parse::<ServerFlavour>().is_err());
    }
}
