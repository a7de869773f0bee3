//! After a 404: pick this pod's instance from the app's instances as the peers that answered it
//! list them (read before the mark, or listed now).

use super::fan_out::on_every_peer;
use super::matching::{explain, match_instance};
use super::requests::listing;
use crate::eureka::{Answer, EurekaClient, Instance};
use crate::settings::{Identity, Peer, Settings};
use crate::values::InstanceId;

/// The app's instances as each of `peers` lists them (after a 404, when none were read before).
pub fn list_app_on(
    settings: &Settings,
    client: &EurekaClient,
    peers: &[Peer],
) -> Vec<Result<Vec<Instance>, Answer>> {
    on_every_peer(peers, |peer| {
        client.instances(
            peer,
            &listing(&settings.identity.app),
            settings.registry.request_timeout,
        )
    })
}

/// The one registered instance of the app with this pod's host and port in `listings` (one per
/// peer of `peers`), or why there is none.
pub fn find_this_pod(
    identity: &Identity,
    peers: &[Peer],
    listings: &[Result<Vec<Instance>, Answer>],
) -> (Option<InstanceId>, String) {
    let mut registered: Vec<Instance> = Vec::new();
    for instance in listings.iter().filter_map(|l| l.as_ref().ok()).flatten() {
        if !registered.iter().any(|known| known.id == instance.id) {
            registered.push(instance.clone());
        }
    }
    if registered.is_empty() {
        return (None, why_nothing_listed(identity, peers, listings));
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
        let peers = &settings.registry.peers;
        let listings = list_app_on(&settings, &client, peers);
        let (matched, why) = find_this_pod(&settings.identity, peers, &listings);
        assert_eq!(matched, None);
        assert!(
            why.starts_with("the instances of DEMO could not be listed: http://127.0.0.1:")
                && why.contains("not Eureka JSON"),
            "{why}"
        );
    }
}
