//! prestop: mark this instance `OUT_OF_SERVICE` on every peer (after a 404, the registered instance
//! with this pod's host and port instead), then hold the pod for the drain, whatever the registry
//! answered. Bound: at most three request timeouts on the registry (the parallel PUTs; after a
//! 404 the app listing; then the PUT for a matched id), then the drain.

use std::time::Duration;

use anyhow::Result;

use super::candidates::mark_candidates;
use super::fan_out::on_every_peer;
use super::find::find_this_pod;
use super::plan::{Plan, PlannedRequest};
use super::report::{failure_exit, log_answers, log_target, not_found_peers, summary};
use super::requests::{listing, mark};
use crate::drain::{Held, Sleeper};
use crate::eureka::{Answer, EurekaClient, shown};
use crate::exit::{Exit, HookFailed};
use crate::log;
use crate::settings::Settings;
use crate::values::InstanceId;

/// Marks this instance `OUT_OF_SERVICE` on every peer, then holds the pod for `drain`, whatever the
/// registry answered.
pub fn prestop(
    settings: &Settings,
    client: &EurekaClient,
    sleeper: &dyn Sleeper,
    drain: Duration,
) -> Result<()> {
    log_target(settings);
    let marked = mark_out_of_service(settings, client);
    hold_drain(sleeper, drain);
    marked
}

/// What prestop sends to each peer, and the drain after.
pub fn plan(settings: &Settings, drain: Duration) -> Plan<'_> {
    let identity = &settings.identity;
    let marks = identity.candidates().into_iter();
    let marks = marks.map(|id| PlannedRequest::always(mark(&identity.app, id), ""));
    Plan {
        requests: marks
            .chain([PlannedRequest::on(
                "on 404",
                listing(&identity.app),
                ", to find this pod's instance by host and port",
            )])
            .collect(),
        afterwards: Some(format!(
            "then hold the pod for {} (drain)",
            humantime::format_duration(drain)
        )),
    }
}

fn mark_out_of_service(settings: &Settings, client: &EurekaClient) -> Result<()> {
    let (identity, peers) = (&settings.identity, &settings.registry.peers);
    let mark_on_every_peer = |id: &InstanceId| {
        let answers = on_every_peer(peers, |peer| {
            let request = mark(&identity.app, id);
            client.answer(peer, &request, settings.registry.request_timeout)
        });
        log_answers(peers, &answers, id, "set OUT_OF_SERVICE");
        answers
    };
    let (marked_id, mut answers) = mark_candidates(settings, client);
    if accepted_anywhere(&answers, peers.len(), &marked_id) {
        return Ok(());
    }
    let mut explanation = None;
    if answers.contains(&Answer::NotFound) {
        match find_this_pod(settings, client, &not_found_peers(peers, &answers)) {
            (Some(id), why) => {
                log::info(
                    "instance_matched",
                    &format!(
                        "instance {} is not registered, but {why}: marking it instead",
                        identity.shown_ids()
                    ),
                );
                answers = mark_on_every_peer(&id);
                if accepted_anywhere(&answers, peers.len(), &id) {
                    return Ok(());
                }
            }
            (None, why) => explanation = Some(why),
        }
    }
    Err(not_marked(settings, &answers, explanation).into())
}

fn not_marked(settings: &Settings, answers: &[Answer], explanation: Option<String>) -> HookFailed {
    let id = settings.identity.shown_ids();
    let exit = failure_exit(answers);
    let message = match (exit, explanation) {
        (Exit::NotRegistered, Some(why)) => {
            format!("instance {id} is not registered on any peer, so nothing was marked: {why}")
        }
        _ => format!(
            "could not mark instance {id} OUT_OF_SERVICE: {}",
            summary(&settings.registry.peers, answers)
        ),
    };
    HookFailed { exit, message }
}

fn accepted_anywhere(answers: &[Answer], peer_count: usize, id: &InstanceId) -> bool {
    let accepted = answers.iter().filter(|answer| answer.is_accepted()).count();
    if accepted > 0 {
        log::info(
            "marked",
            &format!("instance {id} is OUT_OF_SERVICE on {accepted} of {peer_count} peer(s)"),
        );
    }
    accepted > 0
}

fn hold_drain(sleeper: &dyn Sleeper, drain: Duration) {
    let window = humantime::format_duration(drain);
    log::info(
        "drain_started",
        &format!(
            "holding the pod for {window} so consumers stop routing to it (SIGTERM or SIGINT ends this early)"
        ),
    );
    match sleeper.hold(drain) {
        Held::Full => log::info("drain_finished", &format!("drain of {window} held")),
        Held::CutShort { after, signal } => log::warn(
            "drain_cut_short",
            &format!(
                "drain cut short by {signal} after {} of {window}",
                shown(after)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::drain::fake::RecordingSleeper;
    use crate::exit;
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, FaultPeer, InstanceSpec};

    #[test]
    fn prestop_asks_for_the_whole_drain_after_marking() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-0", 8080));
        let settings = settings_for(&double.base_url(), &["prestop", "--app", "demo"]);
        let sleeper = RecordingSleeper::default();
        let drain = Duration::from_secs(95);
        let client = EurekaClient::new(None, &SystemClock);
        prestop(&settings, &client, &sleeper, drain).unwrap();
        assert_eq!(*sleeper.windows.lock().unwrap(), [drain]);
        let state = double.instance("demo", "pod-0:demo:8080").unwrap();
        assert_eq!(state.overridden_status, "OUT_OF_SERVICE");
    }

    #[test]
    fn prestop_asks_for_the_drain_even_when_no_peer_answers() {
        let down = FaultPeer::refused();
        let settings = settings_for(
            &down.base_url(),
            &["prestop", "--app", "demo", "--request-timeout", "300ms"],
        );
        let sleeper = RecordingSleeper::default();
        let client = EurekaClient::new(None, &SystemClock);
        let err = prestop(&settings, &client, &sleeper, Duration::from_secs(30)).unwrap_err();
        assert_eq!(exit::from_error(&err), Exit::RegistryFailed);
        assert_eq!(*sleeper.windows.lock().unwrap(), [Duration::from_secs(30)]);
    }
}
