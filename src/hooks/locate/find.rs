//! After a 404: list the app's instances on the peers that answered it (or take the listings
//! prestop read before its PUT), and pick this pod's.

use super::eureka_check::EurekaCheck;
use super::matching::{explain, match_instance};
use crate::eureka::{Answer, Budget, EurekaClient, Instance};
use crate::hooks::fan_out::on_every_peer;
use crate::hooks::requests::listing;
use crate::settings::{Identity, Peer, Settings};
use crate::values::InstanceId;

/// This pod's instance, found in the app's listing by its host or address and port.
#[derive(Debug)]
pub struct Found {
    pub id: InstanceId,
    /// Why it is this pod's, for the log.
    pub why: String,
}

/// Why no instance in the app's listing is this pod's, with the advice first.
#[derive(Debug)]
pub struct NotFound {
    pub why: String,
}

pub type FindResult = Result<Found, NotFound>;

/// The one registered instance of the app with this pod's host and port, or why there is none.
pub fn find_this_pod(settings: &Settings, client: &EurekaClient, peers: &[Peer]) -> FindResult {
    let timeout = settings.registry.request_timeout;
    find_this_pod_within(
        settings,
        client,
        peers,
        timeout.into(),
        &EurekaCheck::default(),
    )
}

/// [`find_this_pod`] with each request limited to `budget`; when the app is listed nowhere,
/// `check` says whether the URL is a Eureka server at all (asked once per run).
pub fn find_this_pod_within(
    settings: &Settings,
    client: &EurekaClient,
    peers: &[Peer],
    budget: Budget,
    check: &EurekaCheck,
) -> FindResult {
    let listings = on_every_peer(peers, |peer| {
        client.instances(peer, &listing(&settings.identity.app), budget)
    });
    find_in_listings(settings, client, peers, &listings, budget, check)
}

/// This pod's instance in `listings`, the app's instances as each of `peers` listed them (prestop
/// reads them before its PUT); `check` and `budget` as for [`find_this_pod_within`].
pub fn find_in_listings(
    settings: &Settings,
    client: &EurekaClient,
    peers: &[Peer],
    listings: &[Result<Vec<Instance>, Answer>],
    budget: Budget,
    check: &EurekaCheck,
) -> FindResult {
    let identity = &settings.identity;
    let mut registered: Vec<Instance> = Vec::new();
    for instance in listings.iter().filter_map(|l| l.as_ref().ok()).flatten() {
        if !registered.iter().any(|known| known.id == instance.id) {
            registered.push(instance.clone());
        }
    }
    if registered.is_empty() {
        let not_listed = listings
            .iter()
            .all(|listing| matches!(listing, Err(Answer::NotFound)));
        if not_listed && let Some(why) = check.diagnosis(client, peers, budget) {
            return Err(NotFound { why });
        }
        return Err(NotFound {
            why: why_nothing_listed(identity, peers, listings),
        });
    }
    explain(match_instance(&registered, identity), &registered, identity)
}

fn why_nothing_listed(
    identity: &Identity,
    peers: &[Peer],
    listings: &[Result<Vec<Instance>, Answer>],
) -> String {
    let app = identity.app.registry_name();
    let failures: Vec<String> = peers
        .iter()
        .zip(listings)
        .filter_map(|(peer, listing)| match listing {
            Err(Answer::NotFound) | Ok(_) => None,
            Err(answer) => Some(format!("{peer}: {answer}")),
        })
        .collect();
    let some_not_found = listings
        .iter()
        .any(|listing| matches!(listing, Err(Answer::NotFound)));
    if failures.is_empty() || some_not_found {
        format!(
            "the app {app} has no registered instances (the registry's listing is cached \
             for up to 30 s, so it may lag)"
        )
    } else {
        format!(
            "the instances of {app} could not be listed: {}",
            failures.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, InstanceSpec, ScriptedReply};

    #[test]
    fn a_listing_that_cannot_be_read_is_explained_with_the_peers_answer() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "other-pod", 8080));
        double.script(ScriptedReply::on("GET", "/apps/DEMO").malformed_json());
        let settings = settings_for(&double.base_url(), &["prestop", "--app", "demo"]);
        let client = EurekaClient::new(None, &SystemClock);
        let Err(NotFound { why }) = find_this_pod(&settings, &client, &settings.registry.peers)
        else {
            panic!("another pod's instance was taken for this one");
        };
        assert!(
            why.starts_with("the instances of DEMO could not be listed: http://127.0.0.1:")
                && why.contains("not Eureka JSON"),
            "{why}"
        );
    }
}
