//! poststart: wait until this instance is registered, then remove any stale status override left
//! on it (a previous pod with the same name may have been drained): with `DELETE …/status?value=UP`
//! when every guard of `fast_return` holds, else with the plain `DELETE …/status`. Registry trouble
//! is a warning unless --strict. Bound: --wait plus one request timeout (the health check included).
//! Polling goes through the injected [`Clock`].

use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;

use super::fan_out::on_every_peer;
use super::fast_return::{self, Guards};
use super::locate::{EurekaCheck, Located, NotLocated, locate};
use super::plan::{Listing, Plan, PlannedRequest, every_id, fallback};
use super::report::{failure_exit, log_answers, log_peer, log_target, summary};
use super::requests::{clear_override, lookup, return_to_up};
use super::stale::{Override, judge};
use crate::clock::{Clock, later};
use crate::eureka::{Answer, Budget, EurekaClient, Instance, InstanceStatus, Limit};
use crate::exit::{Exit, HookFailed};
use crate::log::{self, Level};
use crate::settings::{FastReturn, Peer, Settings};
use crate::values::InstanceId;

/// How often poststart asks whether the instance has registered.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// A check is not worth starting with less of --wait left than this.
const SHORTEST_CHECK: Duration = Duration::from_millis(200);

/// Waits up to `wait` for this instance to register, then removes any status override on it.
/// Registry trouble is a warning unless `strict`.
pub fn poststart(
    settings: &Settings,
    client: &EurekaClient,
    clock: &dyn Clock,
    wait: Duration,
    strict: bool,
    guards: Guards,
) -> Result<()> {
    log_target(settings);
    match wait_and_clear_override(settings, client, clock, wait, guards) {
        Ok(()) => Ok(()),
        Err(failure) if strict => Err(failure.into()),
        Err(failure) => {
            log::warn(
                "poststart_gave_up",
                &format!(
                    "{failure}; exiting 0 so the pod starts anyway (--strict makes this fatal)"
                ),
            );
            Ok(())
        }
    }
}

/// What poststart sends to each peer, and how long it waits.
pub fn plan<'a>(
    settings: &'a Settings,
    wait: Duration,
    strict: bool,
    fast_return: &FastReturn,
) -> Plan<'a> {
    let identity = &settings.identity;
    let app = &identity.app;
    let reads = identity.candidates().into_iter().map(|id| {
        PlannedRequest::always(
            lookup(app, id),
            format!("  (every {}s until registered)", POLL_INTERVAL.as_secs()),
        )
    });
    // The DELETE goes to whichever id is registered.
    let clears = every_id(identity).flat_map(|id| {
        let plain = PlannedRequest::on(
            if fast_return.enabled {
                "then, if registered with a stale status override and any guard refuses"
            } else {
                "then, if registered with a stale status override"
            },
            clear_override(app, id),
            "",
        );
        let fast = PlannedRequest::on(
            "then, if registered with a stale status override, the record is this pod's, \
             registered after PID 1 started, and the health check answers 2xx",
            return_to_up(app, id),
            "  (fast return: UP at once)",
        );
        fast_return
            .enabled
            .then_some(fast)
            .into_iter()
            .chain([plain])
    });
    let health = match (fast_return.enabled, &fast_return.health_url) {
        (false, _) => "fast return off: a stale override is removed with the plain DELETE".into(),
        (true, Some(url)) => format!(
            "health check for the fast return: GET {url} from this pod, once, no credentials, within the request timeout"
        ),
        (true, None) => "health check for the fast return: GET the record's healthCheckUrl (only if on this pod), once, no credentials, within the request timeout".into(),
    };
    Plan {
        requests: reads
            .chain(fallback(identity, Listing::Needed, lookup))
            .chain(clears)
            .collect(),
        afterwards: Some(format!(
            "{health}\nwaiting at most {} for the instance to register{}",
            humantime::format_duration(wait),
            if strict {
                " (strict: failures exit non-zero)"
            } else {
                ""
            }
        )),
    }
}

fn wait_and_clear_override(
    settings: &Settings,
    client: &EurekaClient,
    clock: &dyn Clock,
    wait: Duration,
    guards: Guards,
) -> Result<(), HookFailed> {
    let identity = &settings.identity;
    let started = clock.wall_now();
    let deadline = later(clock.now(), wait);
    let timeout = settings.registry.request_timeout;
    // Every request ends by then: the documented bound is --wait plus one request timeout.
    let hard_end = later(deadline, timeout);
    let left_until = |end: Instant| {
        Budget::within(
            timeout,
            end.saturating_duration_since(clock.now()),
            Limit::Wait,
        )
    };
    log::info(
        "waiting",
        &format!(
            "waiting up to {} for instance {} to register",
            humantime::format_duration(wait),
            identity.shown_ids()
        ),
    );
    let check = EurekaCheck::default();
    let mut said_not_yet = false;
    // The first round may take a whole request timeout (one check even with --wait 0); later
    // ones, and every request in them, end with --wait.
    let mut round_end = hard_end;
    loop {
        let not_located = match locate(settings, client, &|| left_until(round_end), &check) {
            Ok(located) => {
                let budget = || left_until(hard_end);
                return clear_overrides(settings, client, &located, (started, guards), budget);
            }
            Err(not_located) => not_located,
        };
        let remaining = deadline.saturating_duration_since(clock.now());
        if remaining.is_zero() {
            return Err(never_registered(settings, &not_located, wait));
        }
        if !said_not_yet {
            say_not_yet(settings, &not_located);
            said_not_yet = true;
        }
        clock.sleep(POLL_INTERVAL.min(remaining));
        // No check after the wait: one that could not finish before it is not started.
        if deadline.saturating_duration_since(clock.now()) < SHORTEST_CHECK {
            return Err(never_registered(settings, &not_located, wait));
        }
        round_end = deadline;
    }
}

fn say_not_yet(settings: &Settings, not_located: &NotLocated) {
    log::info(
        "not_registered_yet",
        &format!(
            "instance {} is not registered yet ({}); asking again every {}s",
            settings.identity.shown_ids(),
            not_located
                .explanation
                .clone()
                .unwrap_or_else(|| summary(&settings.registry.peers, &not_located.answers)),
            POLL_INTERVAL.as_secs()
        ),
    );
}

fn never_registered(settings: &Settings, not_located: &NotLocated, wait: Duration) -> HookFailed {
    let ids = settings.identity.shown_ids();
    let wait = humantime::format_duration(wait);
    let exit = failure_exit(&not_located.answers);
    let message = match (exit, &not_located.explanation) {
        (Exit::NotRegistered, Some(why)) => {
            format!("instance {ids} did not register within {wait}: {why}")
        }
        (Exit::NotRegistered, None) => format!(
            "instance {ids} did not register within {wait} (check the instance id with `eureka-hook status`)"
        ),
        _ => format!(
            "could not check instance {ids} within {wait}: {}",
            summary(&settings.registry.peers, &not_located.answers)
        ),
    };
    HookFailed { exit, message }
}

fn log_registered(peers: &[Peer], located: &Located) {
    for (peer, lookup) in peers.iter().zip(&located.lookups) {
        let (message, status) = match lookup {
            Ok(instance) => (
                format!(
                    "peer {peer}: status {}, override {}",
                    instance.status,
                    instance.override_shown()
                ),
                instance.status.to_string(),
            ),
            Err(answer) => (format!("peer {peer}: {answer}"), answer.status_label()),
        };
        log_peer(
            Level::Info,
            "registered",
            &message,
            &located.id,
            peer,
            &status,
        );
    }
}

/// No peer shows an override on instance `id`: says so, and whether the app itself reports
/// `OUT_OF_SERVICE` on a peer where it is `registered`.
fn log_no_override<'a>(mut registered: impl Iterator<Item = &'a Instance>, id: &InstanceId) {
    if registered.any(|instance| instance.status == InstanceStatus::OutOfService) {
        log::warn(
            "out_of_service_by_the_app",
            &format!(
                "instance {id} is OUT_OF_SERVICE by its own report, with no status override: \
                 no override is to blame and nothing was removed (the app, e.g. its health \
                 indicator or its own code, sets that status)"
            ),
        );
    } else {
        log::info(
            "no_override",
            &format!("instance {id} carries no status override: nothing to clear"),
        );
    }
}

fn clear_overrides(
    settings: &Settings,
    client: &EurekaClient,
    located: &Located,
    (started, guards): (SystemTime, Guards),
    budget: impl Fn() -> Budget + Sync,
) -> Result<(), HookFailed> {
    let identity = &settings.identity;
    let id = &located.id;
    if let Some(why) = &located.matched_because {
        log::info(
            "instance_matched",
            &format!(
                "instance {} is not registered, but {why}: using it",
                identity.shown_ids()
            ),
        );
    }
    log_registered(&settings.registry.peers, located);
    let registered = || {
        settings
            .registry
            .peers
            .iter()
            .zip(&located.lookups)
            .filter_map(|(peer, lookup)| Some((peer, lookup.as_ref().ok()?)))
    };
    let overridden: Vec<(&Peer, &Instance)> = registered()
        .filter(|(_, instance)| instance.overridden_status.is_some())
        .collect();
    if overridden.is_empty() {
        log_no_override(registered().map(|(_, instance)| instance), id);
        return Ok(());
    }
    let stale = stale_only(settings, client, &overridden, id, started, &budget);
    if stale.is_empty() {
        return Ok(());
    }
    let addresses: Vec<&str> = identity.addresses().collect();
    let fast = fast_return::judge(guards, &stale, &addresses, client, budget());
    send_removal(settings, client, &stale, id, &fast, &budget)
}

/// Removes the override on each of `stale`'s peers: with the fast return when `fast` cleared it.
fn send_removal(
    settings: &Settings,
    client: &EurekaClient,
    stale: &[(&Peer, &Instance)],
    id: &InstanceId,
    fast: &Result<fast_return::Cleared, fast_return::Refusal>,
    budget: &(impl Fn() -> Budget + Sync),
) -> Result<(), HookFailed> {
    let app = &settings.identity.app;
    let (request, done) = match fast {
        Ok(cleared) => {
            log::info(
                "fast_return",
                &format!(
                    "instance {id} is this pod's, registered after its PID 1 started, and GET {} \
                     answered {}: removing the override with DELETE .../status?value=UP, which \
                     sets it UP at once",
                    log::escaped(&cleared.health_url),
                    cleared.health_status
                ),
            );
            (
                return_to_up(app, id),
                " and set it UP at once (fast return)",
            )
        }
        Err(refusal) => {
            log::info(
                "no_fast_return",
                &format!(
                    "not setting instance {id} UP at once: {refusal}; removing the override \
                     with DELETE .../status instead"
                ),
            );
            (
                clear_override(app, id),
                "; its next heartbeat re-registers it with its own status",
            )
        }
    };
    let peers: Vec<Peer> = stale.iter().map(|(peer, _)| (*peer).clone()).collect();
    let answers = on_every_peer(&peers, |peer| client.answer(peer, &request, budget()));
    log_answers(&peers, &answers, id, "remove the status override");
    if answers.iter().all(Answer::is_accepted) {
        let shown = stale
            .first()
            .map_or(InstanceStatus::Unknown, |(_, first)| first.override_shown());
        log::info(
            "override_cleared",
            &format!("removed the {shown} override of instance {id}{done}"),
        );
        return Ok(());
    }
    Err(HookFailed {
        exit: failure_exit(&answers),
        message: format!(
            "could not remove the status override of instance {id}: {}; run `eureka-hook poststart` again",
            summary(&peers, &answers)
        ),
    })
}

/// The peers of `overridden` whose override is stale, re-read now (see `stale`), with their
/// records; warns of each override left in place.
fn stale_only<'a>(
    settings: &Settings,
    client: &EurekaClient,
    overridden: &[(&'a Peer, &'a Instance)],
    id: &InstanceId,
    started: SystemTime,
    budget: &(impl Fn() -> Budget + Sync),
) -> Vec<(&'a Peer, &'a Instance)> {
    let peers: Vec<Peer> = overridden.iter().map(|(peer, _)| (*peer).clone()).collect();
    let request = lookup(&settings.identity.app, id);
    let verdicts = on_every_peer(&peers, |peer| {
        judge(client.status_change(peer, &request, budget()).ok(), started)
    });
    let mut stale = Vec::new();
    for ((peer, instance), verdict) in overridden.iter().zip(verdicts) {
        match verdict {
            Override::Stale => stale.push((*peer, *instance)),
            Override::SetSince(at_ms) => log::warn(
                "override_kept",
                &format!(
                    "peer {peer}: the {} override of instance {id} was set at {} (epoch ms), \
                     after this instance registered and after poststart started: left in place \
                     (a drain in progress?)",
                    instance.override_shown(),
                    at_ms
                ),
            ),
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::fake::FakeClock;
    use crate::exit;
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, InstanceSpec, ScriptedReply};

    const OFF: FastReturn = FastReturn {
        enabled: false,
        health_url: None,
    };
    static UNREAD: fast_return::PodStart = Ok(std::time::UNIX_EPOCH);

    fn no_fast_return() -> Guards<'static> {
        Guards {
            settings: &OFF,
            pod_start: &UNREAD,
        }
    }

    #[test]
    fn polling_asks_every_second_until_the_wait_runs_out_on_a_fake_clock() {
        let double = EurekaDouble::start();
        let settings = settings_for(&double.base_url(), &["poststart", "--app", "demo"]);
        let clock = FakeClock::new();
        let client = EurekaClient::new(None, &clock);
        let wait = Duration::from_secs(5);
        let err = poststart(&settings, &client, &clock, wait, true, no_fast_return()).unwrap_err();
        assert_eq!(exit::from_error(&err), Exit::NotRegistered);
        assert_eq!(clock.pauses(), [POLL_INTERVAL; 5]);
        let lookups = double
            .requests()
            .iter()
            .filter(|request| request.path == "/eureka/apps/DEMO/pod-0:demo:8080")
            .count();
        assert_eq!(
            lookups, 5,
            "one lookup at the start and one after each pause but the last: none after --wait"
        );
    }

    #[test]
    fn polling_stops_once_the_instance_appears_and_clears_its_override() {
        let double = EurekaDouble::start();
        double
            .register(InstanceSpec::new("demo", "pod-0", 8080).overridden_status("OUT_OF_SERVICE"));
        // The first two lookups find nothing, as before the app registers.
        double.script(
            ScriptedReply::on("GET", "/apps/DEMO/pod-0:demo:8080")
                .status(404)
                .times(2),
        );
        let settings = settings_for(&double.base_url(), &["poststart", "--app", "demo"]);
        let clock = FakeClock::new();
        let client = EurekaClient::new(None, &clock);
        poststart(
            &settings,
            &client,
            &clock,
            Duration::from_secs(90),
            true,
            no_fast_return(),
        )
        .unwrap();
        assert_eq!(clock.pauses(), [POLL_INTERVAL; 2]);
        let state = double.instance("demo", "pod-0:demo:8080").unwrap();
        assert_eq!(state.overridden_status, "UNKNOWN");
    }
}
