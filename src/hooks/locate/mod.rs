//! Which registered instance is this pod's, for all three hooks: the one place that answers it.
//!
//! - [`candidates`]: every candidate id (Spring Cloud's one or two) on every peer in one round: the
//!   GETs of poststart and status, the PUTs of prestop.
//! - [`find`]: when no candidate is registered anywhere (a 404 everywhere), the app's listing and
//!   the one instance in it with this pod's host or address and port, picked by the pure
//!   [`matching`]; [`eureka_check`] tells a URL without `/eureka/` from an app with no instances.
//! - [`locate`] (here): poststart's and status's whole search, candidates first, then the
//!   listing; prestop marks first and calls [`find`] itself after a 404, on the listings it read
//!   before the mark.
//!
//! - [`by_address`]: with no app name, the whole registry (`GET apps/`) and the one instance in
//!   it with this pod's address and port, which gives the app and id the hooks then act on.
//!
//! Results are typed ([`Located`], [`NotLocated`], [`find::Found`], [`find::NotFound`]); the
//! searches log what they found, the matching never does.

pub mod by_address;
pub mod candidates;
pub mod eureka_check;
pub mod find;
mod matching;

pub use eureka_check::EurekaCheck;

use crate::eureka::{Answer, Budget, EurekaClient, Instance};
use crate::hooks::fan_out::on_every_peer;
use crate::hooks::report::not_found_peers;
use crate::hooks::requests::lookup;
use crate::settings::Settings;
use crate::values::InstanceId;
use candidates::look_up_candidates;
use find::{Found, NotFound, find_this_pod_within};

/// This pod's instance, as every peer sees it.
pub struct Located {
    pub id: InstanceId,
    /// Each peer's copy of the instance, or what the peer answered.
    pub lookups: Vec<Result<Instance, Answer>>,
    /// Why this id, when it is none of the candidates but the instance with this pod's host and
    /// port.
    pub matched_because: Option<String>,
}

/// Why no instance was found: each peer's answer, and what the app's listing said.
pub struct NotLocated {
    pub answers: Vec<Answer>,
    pub explanation: Option<String>,
}

/// Finds this pod's instance; each request is limited by `budget()` at the time it starts.
pub fn locate(
    settings: &Settings,
    client: &EurekaClient,
    budget: &(dyn Fn() -> Budget + Sync),
    check: &EurekaCheck,
) -> Result<Located, NotLocated> {
    let answers = match look_up_candidates(settings, client, budget) {
        Ok((id, lookups)) => {
            return Ok(Located {
                id,
                lookups,
                matched_because: None,
            });
        }
        Err(answers) => answers,
    };
    let peers = &settings.registry.peers;
    if !answers.contains(&Answer::NotFound) {
        return Err(NotLocated {
            answers,
            explanation: None,
        });
    }
    let unknown_on = not_found_peers(peers, &answers);
    let Found { id, why } =
        match find_this_pod_within(settings, client, &unknown_on, budget(), check) {
            Ok(found) => found,
            Err(NotFound { why }) => {
                return Err(NotLocated {
                    answers,
                    explanation: Some(why),
                });
            }
        };
    if settings.identity.candidates().contains(&&id) {
        // Just read directly and not found: only the registry's cached listing still has it.
        return Err(NotLocated {
            answers,
            explanation: Some(format!(
                "{id} is not registered (the registry's cached listing may still show it)"
            )),
        });
    }
    let app = &settings.identity.app;
    let lookups = on_every_peer(peers, |peer| {
        client.instance(peer, &lookup(app, &id), budget())
    });
    if lookups.iter().any(Result::is_ok) {
        return Ok(Located {
            id,
            lookups,
            matched_because: Some(why),
        });
    }
    Err(NotLocated {
        answers: lookups.into_iter().filter_map(Result::err).collect(),
        explanation: Some(format!("{why}, but it was gone when read")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, InstanceSpec};
    use std::time::Duration;

    fn located(double: &EurekaDouble) -> Result<Located, NotLocated> {
        let settings = settings_for(&double.base_url(), &["status", "--app", "demo"]);
        let client = EurekaClient::new(None, &SystemClock);
        let budget = || Budget::from(Duration::from_secs(5));
        locate(&settings, &client, &budget, &EurekaCheck::default())
    }

    #[test]
    fn the_second_candidate_is_found_by_a_direct_look_up() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-0", 8080).instance_id("pod-0:demo"));
        let found = located(&double).ok().unwrap();
        assert_eq!(found.id.as_str(), "pod-0:demo");
        assert!(found.matched_because.is_none());
        assert!(
            double
                .requests()
                .iter()
                .all(|r| r.path != "/eureka/apps/DEMO"),
            "no listing needed"
        );
    }

    #[test]
    fn an_instance_with_this_host_and_port_is_found_when_no_candidate_is_registered() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-0", 8080).instance_id("custom-7"));
        let found = located(&double).ok().unwrap();
        assert_eq!(found.id.as_str(), "custom-7");
        assert!(
            found
                .matched_because
                .unwrap()
                .contains("host pod-0 and port 8080"),
        );
        assert!(found.lookups[0].is_ok());
    }

    #[test]
    fn nothing_found_says_why() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-9", 8080));
        let Err(not_located) = located(&double) else {
            panic!("found an instance of another pod");
        };
        assert_eq!(not_located.answers, [Answer::NotFound]);
        assert!(not_located.explanation.unwrap().contains("pod-9:demo:8080"));
    }
}
