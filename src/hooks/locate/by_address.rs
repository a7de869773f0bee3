//! No app name: this pod's instance found in the whole registry, by its address and port.
//!
//! No Eureka endpoint looks an instance up by address (`instances/{id}` needs the id, `vips/` the
//! VIP), so this reads `GET apps/`, gzipped, with the headers Spring Cloud's clients send for
//! their full fetch (the cache key they keep warm), from one peer at a time in the order given,
//! and stops at the first that lists a match: the other peers are then marked by that id. A peer
//! that cannot be read, or lists no match (it may not have the replica yet), passes the question
//! to the next. Each read gets an equal share of what is left of the time given, so a peer that
//! hangs leaves the others theirs.

use std::time::Duration;

use super::matching::{RegistryMatch, match_registered, may_be_this_pods};
use crate::clock::Clock;
use crate::eureka::{Answer, Budget, EurekaClient, Limit, Listed, Registered, RegistryRequest};
use crate::exit::{Exit, HookFailed};
use crate::hooks::requests::{clients_delta, clients_registry};
use crate::log;
use crate::settings::{Identity, Settings, Unnamed};
use crate::values::{AppName, InstanceId};

/// About how much of a list of candidates a message shows, after its advice.
const LISTED_CHARS: usize = 300;

pub use super::matching::sought;

/// Why no instance could be taken for this pod's, each with a message that gives the advice first.
#[derive(Debug)]
pub enum Unidentified {
    /// Several instances could be this pod's (exit 3).
    Ambiguous(String),
    /// The registry was read, and no instance is this pod's (exit 3).
    NotListed(String),
    /// No peer's registry could be read (exit 1, or 4 when credentials were refused).
    Unreadable {
        why: String,
        credentials_refused: bool,
    },
}

impl Unidentified {
    pub fn exit(&self) -> Exit {
        match self {
            Unidentified::Ambiguous(_) | Unidentified::NotListed(_) => Exit::NotRegistered,
            Unidentified::Unreadable {
                credentials_refused: true,
                ..
            } => Exit::CredentialsRefused,
            Unidentified::Unreadable { .. } => Exit::RegistryFailed,
        }
    }

    pub fn why(&self) -> &str {
        match self {
            Unidentified::Ambiguous(why)
            | Unidentified::NotListed(why)
            | Unidentified::Unreadable { why, .. } => why,
        }
    }
}

impl From<Unidentified> for HookFailed {
    fn from(unidentified: Unidentified) -> Self {
        HookFailed {
            exit: unidentified.exit(),
            message: unidentified.why().to_string(),
        }
    }
}

/// What is read to find this pod's instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The whole registry, `GET apps/`.
    Registry,
    /// The registry's changes of the last three minutes, `GET apps/delta` as Spring clients send
    /// it (gzipped, a few KB): where a registration made since a read of the whole registry
    /// shows, for a fraction of its bytes.
    RecentChanges,
}

impl Read {
    fn request(self) -> RegistryRequest<'static> {
        match self {
            Read::Registry => clients_registry(),
            Read::RecentChanges => clients_delta(),
        }
    }

    fn counted(self) -> &'static str {
        match self {
            Read::Registry => "instances listed",
            Read::RecentChanges => "recently changed instances listed",
        }
    }
}

/// This pod's instance, found in the registry of the first peer that lists it, as the identity
/// the hooks act on; every read ends within `within` of the start.
pub fn identify(
    settings: &Settings<Unnamed>,
    client: &EurekaClient,
    clock: &dyn Clock,
    within: Duration,
    read: Read,
) -> Result<Identity, Unidentified> {
    let peers = &settings.registry.peers;
    let unnamed = &settings.identity;
    if read == Read::Registry {
        log::info(
            "looking_up",
            &format!(
                "no app name: looking in the registry (GET apps/) for {}",
                sought(unnamed)
            ),
        );
    }
    let started = clock.now();
    let wanted = may_be_this_pods(unnamed);
    let mut failures: Vec<(String, Answer)> = Vec::new();
    let mut listed_without_match: Vec<String> = Vec::new();
    for (index, peer) in peers.iter().enumerate() {
        let left = within.saturating_sub(clock.now().saturating_duration_since(started));
        let peers_left = u32::try_from(peers.len().saturating_sub(index))
            .unwrap_or(u32::MAX)
            .max(1);
        let share = left.checked_div(peers_left).unwrap_or(left);
        let read_started = clock.now();
        let (Listed { registered, listed }, bytes) = match client.registry(
            peer,
            &read.request(),
            Budget::of(share, Limit::RequestTimeout),
            &wanted,
        ) {
            Ok(read) => read,
            Err(answer) => {
                log::warn(
                    "registry_unread",
                    &format!("peer {peer}: the registry could not be read: {answer}"),
                );
                failures.push((peer.to_string(), answer));
                continue;
            }
        };
        let took = clock.now().saturating_duration_since(read_started);
        log::info(
            "registry_read",
            &format!(
                "peer {peer}: {listed} {} ({bytes} bytes on the wire, {} ms)",
                read.counted(),
                took.as_millis()
            ),
        );
        match match_registered(&registered, unnamed) {
            RegistryMatch::One(found, why) => {
                return found_identity(unnamed, found, &why, &peer.to_string());
            }
            RegistryMatch::Several(several) => return Err(ambiguous(unnamed, &several)),
            RegistryMatch::None(_) => {
                listed_without_match.push(format!("{peer} ({listed} {})", read.counted()));
            }
        }
    }
    Err(nothing_found(unnamed, &listed_without_match, &failures))
}

fn found_identity(
    unnamed: &Unnamed,
    found: &Registered,
    why: &str,
    peer: &str,
) -> Result<Identity, Unidentified> {
    let unusable = |what: &str, text: &str, problem: String| {
        Unidentified::NotListed(format!(
            "pass --app and --instance-id: the instance with this pod's address has {what} '{}', \
             which cannot be sent back: {problem}",
            text.escape_debug()
        ))
    };
    let app = AppName::parse(&found.app).map_err(|problem| unusable("app", &found.app, problem))?;
    let id = InstanceId::parse(&found.instance.id)
        .map_err(|problem| unusable("id", &found.instance.id, problem))?;
    let port = found
        .instance
        .port
        .map_or_else(|| "no port".to_string(), |port| format!("port {port}"));
    let how = format!(
        "the one instance in the registry of {peer} with this pod's {why} and {port}{}",
        match (unnamed.pod.stated_port(), unnamed.pod.port_from) {
            (Some(_), Some(from)) => format!(" (as {from} says)"),
            _ => String::new(),
        }
    );
    Ok(unnamed.clone().found(app, id, how))
}

fn ambiguous(unnamed: &Unnamed, several: &[&Registered]) -> Unidentified {
    let listed: Vec<String> = several
        .iter()
        .map(|entry| {
            let instance = &entry.instance;
            let port = instance
                .port
                .map_or_else(|| "no port".to_string(), |port| format!("port {port}"));
            format!(
                "{}/{} ({}, {}, {port})",
                entry.app, instance.id, instance.host_name, instance.ip_addr
            )
        })
        .collect();
    let advice = if unnamed.pod.stated_port().is_some() {
        "pass --app (and --instance-id) to choose"
    } else {
        "pass --port (or set SERVER_PORT) to the app's port, or --app, to choose"
    };
    Unidentified::Ambiguous(format!(
        "{advice}: several registered instances could be this pod's, {}: {}",
        sought(unnamed),
        log::listed(
            &listed.iter().map(String::as_str).collect::<Vec<_>>(),
            LISTED_CHARS
        )
    ))
}

fn nothing_found(
    unnamed: &Unnamed,
    listed_without_match: &[String],
    failures: &[(String, Answer)],
) -> Unidentified {
    let unread = failures
        .iter()
        .map(|(peer, answer)| {
            let hint = if *answer == Answer::NotFound {
                " (is the URL's path, such as /eureka/, right?)"
            } else {
                ""
            };
            format!("{peer}: {answer}{hint}")
        })
        .collect::<Vec<_>>()
        .join("; ");
    if listed_without_match.is_empty() {
        let refused = failures
            .iter()
            .any(|(_, answer)| matches!(answer, Answer::CredentialsRefused { .. }));
        return Unidentified::Unreadable {
            why: format!(
                "could not read the registry to find this pod's instance (no app name is set): \
                 {unread}"
            ),
            credentials_refused: refused,
        };
    }
    let mut why = format!(
        "pass --app NAME (or set SPRING_APPLICATION_NAME) if the app is registered: no \
         registered instance is this pod's: looked for {} in the registry of {} (the registry \
         serves a listing up to 30 s old, so a new registration may not show yet)",
        sought(unnamed),
        listed_without_match.join(", ")
    );
    if !unread.is_empty() {
        why.push_str("; not read: ");
        why.push_str(&unread);
    }
    Unidentified::NotListed(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use crate::clock::SystemClock;
    use crate::settings::Resolved;
    use crate::settings::machine::fake::FakeMachine;
    use clap::Parser;
    use eureka_double::{EurekaDouble, InstanceSpec};

    fn unnamed_settings(urls: &str, vars: &[(&str, &str)]) -> Settings<Unnamed> {
        let cli = Cli::try_parse_from(["eureka-hook", "status"]).unwrap();
        let mut vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.push(("EUREKA_URL".into(), urls.into()));
        let env = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let Resolved::Unnamed(unnamed) =
            Settings::resolve(&cli, &env, &FakeMachine::named("pod-0").shared())
                .unwrap()
                .split()
        else {
            panic!("an app name was found");
        };
        unnamed
    }

    fn identified(urls: &str, vars: &[(&str, &str)]) -> Result<Identity, Unidentified> {
        let settings = unnamed_settings(urls, vars);
        let client = EurekaClient::new(None, &SystemClock);
        identify(
            &settings,
            &client,
            &SystemClock,
            Duration::from_secs(5),
            Read::Registry,
        )
    }

    #[test]
    fn the_instance_with_this_pods_address_gives_the_app_and_id() {
        let double = EurekaDouble::start();
        double.register_many("crowd", 1, 50);
        double.register(InstanceSpec::new("orders", "orders-7", 8080).ip_addr("10.9.9.9"));
        let identity = identified(&double.base_url(), &[("POD_IP", "10.9.9.9")]).unwrap();
        assert_eq!(identity.app.registry_name(), "ORDERS");
        assert_eq!(identity.instance_id.as_str(), "orders-7:orders:8080");
        assert!(identity.other_candidate.is_none());
        let explained = identity.explain();
        assert!(
            explained.contains("found in the registry")
                && explained.contains("ipAddr 10.9.9.9 and port 8080"),
            "{explained}"
        );
        let reads: Vec<_> = double
            .requests()
            .into_iter()
            .filter(|request| request.method == "GET")
            .collect();
        assert_eq!(reads.len(), 1, "one read of the registry");
        assert_eq!(reads[0].path, "/eureka/apps/");
    }

    #[test]
    fn an_unreadable_first_peer_passes_the_question_to_the_next() {
        let down = eureka_double::FaultPeer::refused();
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("orders", "pod-0", 8080));
        let urls = format!("{},{}", down.base_url(), double.base_url());
        let identity = identified(&urls, &[]).unwrap();
        assert_eq!(identity.instance_id.as_str(), "pod-0:orders:8080");
    }

    #[test]
    fn no_readable_registry_is_a_registry_failure_naming_each_peer() {
        let down = eureka_double::FaultPeer::refused();
        let Err(unidentified) = identified(&down.base_url(), &[]) else {
            panic!("identified without a registry");
        };
        assert_eq!(unidentified.exit(), Exit::RegistryFailed);
        assert!(
            unidentified
                .why()
                .starts_with("could not read the registry to find this pod's instance"),
            "{}",
            unidentified.why()
        );
    }
}
