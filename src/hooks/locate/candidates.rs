//! Asking about every candidate id at once: when the environment does not say which of Spring
//! Cloud's two ids the app has, every request goes to both, on every peer, in one round (a PUT or
//! GET for an id that is not registered is a harmless 404), so the time bounds stay as they are.
//! prestop sends each peer's PUTs on that peer's thread ([`mark_every_candidate`], after that
//! peer's listing: one after the other on the peer's kept-alive connection, with no thread of
//! their own) and then picks the candidate from all the answers ([`marked_candidate`]).

use std::time::Duration;

use crate::clock::Clock;
use crate::eureka::{Answer, Budget, EurekaClient, Instance};
use crate::hooks::fan_out::on_each;
use crate::hooks::report::log_answers;
use crate::hooks::requests::{lookup, mark};
use crate::log;
use crate::settings::{Peer, Settings};
use crate::values::InstanceId;

/// Each peer's copy of an instance, or what the peer answered, in peer order.
pub type Lookups = Vec<Result<Instance, Answer>>;

/// `operation` for every candidate id on every peer at once: one row per candidate (in order),
/// one entry per peer (in order).
fn on_every_candidate<T: Send>(
    settings: &Settings,
    operation: impl Fn(&InstanceId, &Peer) -> T + Sync,
) -> Vec<(InstanceId, Vec<T>)> {
    let peers = &settings.registry.peers;
    let ids = settings.identity.candidates();
    let pairs: Vec<(&InstanceId, &Peer)> = ids
        .iter()
        .flat_map(|id| peers.iter().map(move |peer| (*id, peer)))
        .collect();
    let mut results = on_each(&pairs, |(id, peer)| operation(id, peer)).into_iter();
    ids.into_iter()
        .map(|id| (id.clone(), results.by_ref().take(peers.len()).collect()))
        .collect()
}

/// prestop's PUT to one peer: `OUT_OF_SERVICE` for every candidate id, one after the other over
/// the peer's one connection, all within `left`, what the peer's listing left of the request
/// timeout, each within an equal share of what is still left (a failure is described against the
/// whole timeout); the answers in candidate order,
/// for [`marked_candidate`]. A thread per PUT cost more memory and CPU than the PUT itself, and a
/// 404 for the id that is not registered comes back in about a millisecond.
pub fn mark_every_candidate(
    settings: &Settings,
    client: &EurekaClient,
    clock: &dyn Clock,
    peer: &Peer,
    left: Duration,
) -> Vec<Answer> {
    let identity = &settings.identity;
    let timeout = settings.registry.request_timeout;
    let started = clock.now();
    let candidates = identity.candidates();
    let count = candidates.len();
    candidates
        .into_iter()
        .enumerate()
        .map(|(sent, id)| {
            let still_left = left.saturating_sub(clock.now().saturating_duration_since(started));
            // An equal share of what is left, so a PUT that stalls leaves the next its time.
            let share = u32::try_from(count.saturating_sub(sent))
                .unwrap_or(u32::MAX)
                .max(1);
            let budget = still_left.checked_div(share).unwrap_or(still_left);
            client.answer_within(peer, &mark(&identity.app, id), budget, timeout)
        })
        .collect()
}

/// Which candidate prestop marked, from each peer's [`mark_every_candidate`] answers (in peer
/// order): the id a peer accepted (else the first candidate) and each peer's answer for it.
/// Logs them.
pub fn marked_candidate(settings: &Settings, answers: &[Vec<Answer>]) -> (InstanceId, Vec<Answer>) {
    let identity = &settings.identity;
    let rows: Vec<(InstanceId, Vec<Answer>)> = identity
        .candidates()
        .into_iter()
        .enumerate()
        .map(|(candidate, id)| {
            let column = answers.iter().map(|peer| peer[candidate].clone());
            (id.clone(), column.collect())
        })
        .collect();
    let peers = &settings.registry.peers;
    if let Some((id, answers)) = rows
        .iter()
        .find(|(_, answers)| answers.iter().any(Answer::is_accepted))
    {
        log_answers(peers, answers, id, "set OUT_OF_SERVICE");
        say_which_candidate(settings, id);
        return (id.clone(), answers.clone());
    }
    let answers = per_peer(&rows);
    let action = match rows.len() {
        1 => "set OUT_OF_SERVICE".to_string(),
        _ => format!("set OUT_OF_SERVICE on {}", identity.shown_ids()),
    };
    log_answers(peers, &answers, &identity.instance_id, &action);
    (identity.instance_id.clone(), answers)
}

/// The first round of poststart and status: every candidate read from every peer. Returns the
/// first candidate some peer knows, with each peer's answer for it; else each peer's answer.
pub fn look_up_candidates(
    settings: &Settings,
    client: &EurekaClient,
    budget: &(dyn Fn() -> Budget + Sync),
) -> Result<(InstanceId, Lookups), Vec<Answer>> {
    let identity = &settings.identity;
    let mut rows = on_every_candidate(settings, |id, peer| {
        client.instance(peer, &lookup(&identity.app, id), budget())
    });
    if let Some(found) = rows
        .iter()
        .position(|(_, lookups)| lookups.iter().any(Result::is_ok))
    {
        let (id, lookups) = rows.swap_remove(found);
        say_which_candidate(settings, &id);
        return Ok((id, lookups));
    }
    let answers: Vec<(InstanceId, Vec<Answer>)> = rows
        .into_iter()
        .map(|(id, lookups)| (id, lookups.into_iter().filter_map(Result::err).collect()))
        .collect();
    Err(per_peer(&answers))
}

/// With two candidates, which one this pod's instance has.
fn say_which_candidate(settings: &Settings, id: &InstanceId) {
    let identity = &settings.identity;
    if let Some(other) = identity.candidates().into_iter().find(|other| *other != id) {
        log::debug(
            "candidate_found",
            &format!("instance {id} is registered ({other} is not): using it"),
        );
    }
}

/// Each peer's answer when no candidate was accepted anywhere: 404 if it knows none of them,
/// else its first other answer (a failure says more than a 404 for the wrong candidate).
fn per_peer(rows: &[(InstanceId, Vec<Answer>)]) -> Vec<Answer> {
    let peer_count = rows.first().map_or(0, |(_, answers)| answers.len());
    (0..peer_count)
        .map(|peer| {
            rows.iter()
                .map(|(_, answers)| &answers[peer])
                .find(|answer| **answer != Answer::NotFound)
                .cloned()
                .unwrap_or(Answer::NotFound)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, InstanceSpec};

    #[test]
    fn the_candidate_the_registry_knows_is_marked_in_the_same_round() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-0", 8080).instance_id("pod-0:demo"));
        let settings = settings_for(&double.base_url(), &["prestop", "--app", "demo"]);
        let client = EurekaClient::new(None, &SystemClock);
        let peer = &settings.registry.peers[0];
        let sent = mark_every_candidate(
            &settings,
            &client,
            &SystemClock,
            peer,
            Duration::from_secs(5),
        );
        let (id, answers) = marked_candidate(&settings, &[sent]);
        assert_eq!(id.as_str(), "pod-0:demo");
        assert!(answers[0].is_accepted());
        let puts: Vec<_> = double
            .requests()
            .into_iter()
            .filter(|request| request.method == "PUT")
            .collect();
        assert!(puts[0].client.is_some());
        assert!(
            puts.iter().all(|put| put.client == puts[0].client),
            "over one connection"
        );
        let paths: Vec<&str> = puts.iter().map(|request| request.path.as_str()).collect();
        let expected: Vec<String> = settings
            .identity
            .candidates()
            .iter()
            .map(|id| format!("/eureka/apps/DEMO/{id}/status"))
            .collect();
        assert_eq!(paths, expected, "both candidates, one after the other");
        let state = double.instance("demo", "pod-0:demo").unwrap();
        assert_eq!(state.overridden_status, "OUT_OF_SERVICE");
    }

    #[test]
    fn a_failure_on_a_peer_outweighs_a_404_for_the_other_candidate() {
        let failed = Answer::Unavailable {
            reason: "refused".into(),
            status: None,
            ran_out: None,
        };
        let id = |text| InstanceId::parse(text).unwrap();
        let rows = [
            (id("a"), vec![Answer::NotFound, Answer::NotFound]),
            (id("b"), vec![failed.clone(), Answer::NotFound]),
        ];
        assert_eq!(per_peer(&rows), [failed, Answer::NotFound]);
    }
}
