//! The three hooks: `prestop`, `poststart` and `status`.
//!
//! Each takes the settings and a client, logs one line per event, and returns `Ok` when it did its
//! job or a [`HookFailed`] carrying the exit code and a message that makes sense on its own (kubelet
//! shows it in the FailedPreStopHook / FailedPostStartHook event). Bounds: prestop spends at most
//! three request timeouts on the registry (the parallel PUTs; after a 404 the app listing; then the
//! PUT for a matched id) and then holds the drain; poststart ends within `--wait` plus one request
//! timeout.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::drain::{Held, Sleeper};
use crate::eureka::{
    Answer, EurekaClient, Instance, application_url, instance_url, on_every_peer, status_url,
};
use crate::exit::{Exit, HookFailed};
use crate::log::{self, Level};
use crate::settings::{Peer, Settings};
use crate::values::InstanceId;

const OUT_OF_SERVICE: &str = "OUT_OF_SERVICE";
/// How often poststart asks whether the instance has registered.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Marks this instance OUT_OF_SERVICE on every peer, then holds the pod for `drain`, whatever the
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

/// Waits up to `wait` for this instance to register, then removes any status override on it.
/// Registry trouble is a warning unless `strict`.
pub fn poststart(
    settings: &Settings,
    client: &EurekaClient,
    wait: Duration,
    strict: bool,
) -> Result<()> {
    log_target(settings);
    match wait_and_clear_override(settings, client, wait) {
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

/// Writes this instance's status and override on every peer to `out`, for a person.
pub fn status(settings: &Settings, client: &EurekaClient, out: &mut dyn Write) -> Result<()> {
    let id = &settings.instance_id;
    let lookups = on_every_peer(&settings.peers, |peer| {
        client.instance(peer, &settings.app, id, settings.request_timeout)
    });
    let mut table = format!(
        "instance {id} of app {}\n{:<44} {:<16} {:<16} {}\n",
        settings.app.registry_name(),
        "PEER",
        "STATUS",
        "OVERRIDE",
        "LAST CHANGE"
    );
    for (peer, lookup) in settings.peers.iter().zip(&lookups) {
        let row = match lookup {
            Ok(instance) => format!(
                "{:<16} {:<16} {}",
                instance.status,
                if instance.has_override() {
                    &instance.overridden_status
                } else {
                    "none"
                },
                instance
                    .last_updated_ms
                    .map(|ms| {
                        humantime::format_rfc3339_seconds(
                            std::time::UNIX_EPOCH + Duration::from_millis(ms),
                        )
                        .to_string()
                    })
                    .unwrap_or_else(|| "-".into())
            ),
            Err(Answer::NotFound) => "not registered".into(),
            Err(answer) => format!("unreachable: {answer}"),
        };
        table.push_str(&format!("{:<44} {row}\n", peer.to_string()));
    }
    out.write_all(table.as_bytes())
        .and_then(|()| out.flush())
        .context("writing the status table to stdout")?;

    if lookups.iter().any(Result::is_ok) {
        return Ok(());
    }
    let answers: Vec<Answer> = lookups.into_iter().filter_map(Result::err).collect();
    let mut message = format!(
        "instance {id} is not known to any peer: {}",
        summary(&settings.peers, &answers)
    );
    let exit = failure_exit(&answers);
    if exit == Exit::NotRegistered {
        message = match find_this_pod(
            settings,
            client,
            &not_found_peers(&settings.peers, &answers),
        ) {
            (Some(matched), why) => {
                format!(
                    "instance {id} is not registered on any peer, but {why}: pass --instance-id {matched}"
                )
            }
            (None, why) => format!("instance {id} is not registered on any peer: {why}"),
        };
    }
    Err(HookFailed { exit, message }.into())
}

/// Prints what a hook would send, sends nothing and sleeps not at all.
pub fn dry_run(settings: &Settings, out: &mut dyn Write) -> Result<()> {
    use crate::settings::Hook;
    let (app, id) = (&settings.app, &settings.instance_id);
    let mut plan = String::from("dry run: nothing is sent\n");
    for peer in &settings.peers {
        let auth = peer
            .credentials
            .as_ref()
            .map(|credentials| format!("  [Authorization: Basic {}:***]", credentials.username))
            .unwrap_or_default();
        let instance_url = instance_url(peer, app, id);
        let lines = match &settings.hook {
            Hook::Prestop { .. } => vec![
                format!(
                    "PUT {}{auth}",
                    status_url(peer, app, id, Some(OUT_OF_SERVICE))
                ),
                format!(
                    "  on 404: GET {}{auth}, to find this pod's instance by host and port",
                    application_url(peer, app)
                ),
            ],
            Hook::Poststart { .. } => vec![
                format!(
                    "GET {instance_url}{auth}  (every {}s until registered)",
                    POLL_INTERVAL.as_secs()
                ),
                format!(
                    "  then, if it carries a status override: DELETE {}{auth}",
                    status_url(peer, app, id, None)
                ),
            ],
            Hook::Status => vec![format!("GET {instance_url}{auth}")],
        };
        for line in lines {
            plan.push_str(&line);
            plan.push('\n');
        }
    }
    match &settings.hook {
        Hook::Prestop { drain } => plan.push_str(&format!(
            "then hold the pod for {} (drain)\n",
            humantime::format_duration(*drain)
        )),
        Hook::Poststart { wait, strict } => plan.push_str(&format!(
            "waiting at most {} for the instance to register{}\n",
            humantime::format_duration(*wait),
            if *strict {
                " (strict: failures exit non-zero)"
            } else {
                ""
            }
        )),
        Hook::Status => {}
    }
    out.write_all(plan.as_bytes())
        .and_then(|()| out.flush())
        .context("writing the dry-run plan to stdout")
}

fn log_target(settings: &Settings) {
    let peers: Vec<String> = settings.peers.iter().map(Peer::to_string).collect();
    log::info(
        "resolved",
        &format!(
            "instance {} of app {} ({}), {} peer(s): {}",
            settings.instance_id,
            settings.app.registry_name(),
            if settings.instance_id_is_default {
                "default id {hostname}:{app}:{port}"
            } else {
                "id as given"
            },
            peers.len(),
            peers.join(", ")
        ),
    );
}

fn mark_out_of_service(settings: &Settings, client: &EurekaClient) -> Result<()> {
    let mark = |id: &InstanceId| {
        let answers = on_every_peer(&settings.peers, |peer| {
            client.set_status(
                peer,
                &settings.app,
                id,
                OUT_OF_SERVICE,
                settings.request_timeout,
            )
        });
        log_answers(&settings.peers, &answers, id, "set OUT_OF_SERVICE");
        answers
    };
    let answers = mark(&settings.instance_id);
    if accepted_anywhere(&answers, &settings.peers, &settings.instance_id) {
        return Ok(());
    }
    let mut answers = answers;
    let mut explanation = None;
    if answers.contains(&Answer::NotFound) {
        let (matched, why) = find_this_pod(
            settings,
            client,
            &not_found_peers(&settings.peers, &answers),
        );
        match matched {
            Some(id) => {
                log::info(
                    "instance_matched",
                    &format!(
                        "instance {} is not registered, but {why}: marking it instead",
                        settings.instance_id
                    ),
                );
                answers = mark(&id);
                if accepted_anywhere(&answers, &settings.peers, &id) {
                    return Ok(());
                }
            }
            None => explanation = Some(why),
        }
    }
    let exit = failure_exit(&answers);
    let message = match (exit, explanation) {
        (Exit::NotRegistered, Some(why)) => format!(
            "instance {} is not registered on any peer, so nothing was marked: {why}",
            settings.instance_id
        ),
        _ => format!(
            "could not mark instance {} OUT_OF_SERVICE: {}",
            settings.instance_id,
            summary(&settings.peers, &answers)
        ),
    };
    Err(HookFailed { exit, message }.into())
}

fn accepted_anywhere(answers: &[Answer], peers: &[Peer], id: &InstanceId) -> bool {
    let accepted = answers
        .iter()
        .filter(|answer| matches!(answer, Answer::Accepted { .. }))
        .count();
    if accepted > 0 {
        log::info(
            "marked",
            &format!(
                "instance {id} is OUT_OF_SERVICE on {accepted} of {} peer(s)",
                peers.len()
            ),
        );
    }
    accepted > 0
}

fn hold_drain(sleeper: &dyn Sleeper, drain: Duration) {
    let shown = humantime::format_duration(drain);
    log::info(
        "drain_started",
        &format!(
            "holding the pod for {shown} so consumers stop routing to it (SIGTERM or SIGINT ends this early)"
        ),
    );
    match sleeper.hold(drain) {
        Held::Full => log::info("drain_finished", &format!("drain of {shown} held")),
        Held::CutShort { after, signal } => log::warn(
            "drain_cut_short",
            &format!(
                "drain cut short by {signal} after {} of {shown}",
                humantime::format_duration(Duration::from_millis(after.as_millis() as u64))
            ),
        ),
    }
}

fn wait_and_clear_override(
    settings: &Settings,
    client: &EurekaClient,
    wait: Duration,
) -> Result<(), HookFailed> {
    let id = &settings.instance_id;
    let deadline = Instant::now() + wait;
    // Every request ends by then: the documented bound is --wait plus one request timeout.
    let hard_end = deadline + settings.request_timeout;
    let budget = || {
        settings
            .request_timeout
            .min(hard_end.saturating_duration_since(Instant::now()))
    };
    log::info(
        "waiting",
        &format!(
            "waiting up to {} for instance {id} to register",
            humantime::format_duration(wait)
        ),
    );
    let mut said_not_yet = false;
    loop {
        let lookups = on_every_peer(&settings.peers, |peer| {
            client.instance(peer, &settings.app, id, budget())
        });
        if lookups.iter().any(Result::is_ok) {
            return clear_overrides(settings, client, &lookups, budget);
        }
        let answers: Vec<Answer> = lookups.into_iter().filter_map(Result::err).collect();
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            let exit = failure_exit(&answers);
            let message = match exit {
                Exit::NotRegistered => format!(
                    "instance {id} did not register within {} (check the instance id with `eureka-hook status`)",
                    humantime::format_duration(wait)
                ),
                _ => format!(
                    "could not check instance {id} within {}: {}",
                    humantime::format_duration(wait),
                    summary(&settings.peers, &answers)
                ),
            };
            return Err(HookFailed { exit, message });
        }
        if !said_not_yet {
            log::info(
                "not_registered_yet",
                &format!(
                    "instance {id} is not registered yet ({}); asking again every {}s",
                    summary(&settings.peers, &answers),
                    POLL_INTERVAL.as_secs()
                ),
            );
            said_not_yet = true;
        }
        thread::sleep(POLL_INTERVAL.min(remaining));
    }
}

fn clear_overrides(
    settings: &Settings,
    client: &EurekaClient,
    lookups: &[Result<Instance, Answer>],
    budget: impl Fn() -> Duration + Sync,
) -> Result<(), HookFailed> {
    let id = &settings.instance_id;
    for (peer, lookup) in settings.peers.iter().zip(lookups) {
        let message = match lookup {
            Ok(instance) => format!(
                "peer {peer}: status {}, override {}",
                instance.status, instance.overridden_status
            ),
            Err(answer) => format!("peer {peer}: {answer}"),
        };
        let status = lookup
            .as_ref()
            .map_or_else(Answer::status_label, |instance| instance.status.clone());
        log_peer(Level::Info, "registered", &message, id, peer, &status);
    }
    let overridden: Vec<(&Peer, &Instance)> = settings
        .peers
        .iter()
        .zip(lookups)
        .filter_map(|(peer, lookup)| {
            lookup
                .as_ref()
                .ok()
                .filter(|i| i.has_override())
                .map(|i| (peer, i))
        })
        .collect();
    if overridden.is_empty() {
        log::info(
            "no_override",
            &format!("instance {id} carries no status override: nothing to clear"),
        );
        return Ok(());
    }
    let peers: Vec<Peer> = overridden.iter().map(|(peer, _)| (*peer).clone()).collect();
    let answers = on_every_peer(&peers, |peer| {
        client.clear_override(peer, &settings.app, id, budget())
    });
    log_answers(&peers, &answers, id, "remove the status override");
    if answers
        .iter()
        .all(|answer| matches!(answer, Answer::Accepted { .. }))
    {
        log::info(
            "override_cleared",
            &format!(
                "removed the {} override of instance {id}; its next heartbeat re-registers it with its own status",
                overridden[0].1.overridden_status
            ),
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

/// After a 404: the one registered instance of the app with this pod's host and port, or why
/// there is none.
fn find_this_pod(
    settings: &Settings,
    client: &EurekaClient,
    peers: &[Peer],
) -> (Option<InstanceId>, String) {
    let app = settings.app.registry_name();
    let listings = on_every_peer(peers, |peer| {
        client.application(peer, &settings.app, settings.request_timeout)
    });
    let mut registered: Vec<Instance> = Vec::new();
    for instance in listings
        .iter()
        .filter_map(|listing| listing.as_ref().ok())
        .flatten()
    {
        if !registered
            .iter()
            .any(|known| known.instance_id == instance.instance_id)
        {
            registered.push(instance.clone());
        }
    }
    if registered.is_empty() {
        let failures: Vec<String> = peers
            .iter()
            .zip(&listings)
            .filter_map(|(peer, listing)| match listing {
                Err(Answer::NotFound) | Ok(_) => None,
                Err(answer) => Some(format!("{peer}: {answer}")),
            })
            .collect();
        let reason = if failures.is_empty()
            || listings
                .iter()
                .any(|listing| matches!(listing, Err(Answer::NotFound)))
        {
            format!(
                "the app {app} has no registered instances (the registry's listing is cached \
                 for up to 30 s, so it may lag)"
            )
        } else {
            format!(
                "the instances of {app} could not be listed: {}",
                failures.join("; ")
            )
        };
        return (None, reason);
    }
    let ids: Vec<&str> = registered
        .iter()
        .map(|instance| instance.instance_id.as_str())
        .collect();
    let own_addresses: Vec<&str> = settings
        .hostname
        .iter()
        .chain(&settings.pod_ip)
        .map(String::as_str)
        .collect();
    let matches: Vec<&Instance> = registered
        .iter()
        .filter(|instance| instance.port == Some(settings.port))
        .filter(|instance| {
            own_addresses
                .iter()
                .any(|address| instance.host_name == *address || instance.ip_addr == *address)
        })
        .collect();
    let host = own_addresses.join(" or ");
    match matches.as_slice() {
        [only] => match InstanceId::parse(&only.instance_id) {
            Ok(id) => (
                Some(id.clone()),
                format!(
                    "{id} is the one instance of {app} registered with host {host} and port {}",
                    settings.port
                ),
            ),
            Err(_) => (
                None,
                format!(
                    "the registered id '{}' is not usable",
                    only.instance_id.escape_debug()
                ),
            ),
        },
        [] => (
            None,
            format!(
                "registered ids for {app}: {} (none has host {host} and port {}); set --instance-id or \
                 EUREKA_INSTANCE_INSTANCEID to the app's id (listing cached up to 30 s, it may lag)",
                ids.join(", "),
                settings.port
            ),
        ),
        several => (
            None,
            format!(
                "several instances of {app} have host {host} and port {}: {}; set --instance-id",
                settings.port,
                several
                    .iter()
                    .map(|i| i.instance_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

fn not_found_peers(peers: &[Peer], answers: &[Answer]) -> Vec<Peer> {
    peers
        .iter()
        .zip(answers)
        .filter(|(_, answer)| **answer == Answer::NotFound)
        .map(|(peer, _)| peer.clone())
        .collect()
}

/// The exit code when no peer accepted: refused credentials first, then "not registered".
fn failure_exit(answers: &[Answer]) -> Exit {
    if answers
        .iter()
        .any(|answer| matches!(answer, Answer::CredentialsRefused { .. }))
    {
        Exit::CredentialsRefused
    } else if answers.contains(&Answer::NotFound) {
        Exit::NotRegistered
    } else {
        Exit::RegistryFailed
    }
}

fn summary(peers: &[Peer], answers: &[Answer]) -> String {
    peers
        .iter()
        .zip(answers)
        .map(|(peer, answer)| format!("{peer}: {answer}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn log_answers(peers: &[Peer], answers: &[Answer], id: &InstanceId, action: &str) {
    for (peer, answer) in peers.iter().zip(answers) {
        let (level, verdict) = match answer {
            Answer::Accepted { .. } => (Level::Info, "done"),
            _ => (Level::Warn, "failed"),
        };
        let message = format!("peer {peer}: {action} {verdict}: {answer}");
        log_peer(
            level,
            "peer_answer",
            &message,
            id,
            peer,
            &answer.status_label(),
        );
    }
}

fn log_peer(level: Level, event: &str, message: &str, id: &InstanceId, peer: &Peer, status: &str) {
    log::emit(
        level,
        event,
        message,
        &[
            ("instance", id.as_str()),
            ("peer", &peer.to_string()),
            ("status", status),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use crate::drain::fake::RecordingSleeper;
    use crate::exit;
    use clap::Parser;
    use eureka_double::{EurekaDouble, FaultPeer, InstanceSpec, ScriptedReply};

    fn settings_for(url: &str, args: &[&str]) -> Settings {
        let argv = ["eureka-hook"].iter().chain(args).copied();
        let cli = Cli::try_parse_from(argv).unwrap();
        let url = url.to_string();
        let env = move |name: &str| (name == "EUREKA_URL").then(|| url.clone());
        Settings::resolve(&cli, &env, &|| Ok("pod-0".into())).unwrap()
    }

    #[test]
    fn prestop_asks_for_the_whole_drain_after_marking() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "pod-0", 8080));
        let settings = settings_for(&double.base_url(), &["prestop", "--app", "demo"]);
        let sleeper = RecordingSleeper::default();
        let drain = Duration::from_secs(95);
        prestop(&settings, &EurekaClient::new(None), &sleeper, drain).unwrap();
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
        let err = prestop(
            &settings,
            &EurekaClient::new(None),
            &sleeper,
            Duration::from_secs(30),
        )
        .unwrap_err();
        assert_eq!(exit::from_error(&err), Exit::RegistryFailed);
        assert_eq!(*sleeper.windows.lock().unwrap(), [Duration::from_secs(30)]);
    }

    #[test]
    fn a_listing_that_cannot_be_read_is_explained_with_the_peers_answer() {
        let double = EurekaDouble::start();
        double.register(InstanceSpec::new("demo", "other-pod", 8080));
        double.script(ScriptedReply::on("GET", "/apps/DEMO").malformed_json());
        let settings = settings_for(&double.base_url(), &["prestop", "--app", "demo"]);
        let (matched, why) = find_this_pod(&settings, &EurekaClient::new(None), &settings.peers);
        assert_eq!(matched, None);
        assert!(
            why.starts_with("the instances of DEMO could not be listed: http://127.0.0.1:")
                && why.contains("not Eureka JSON"),
            "{why}"
        );
    }

    #[test]
    fn failure_exit_prefers_refused_credentials_then_not_registered() {
        let unavailable = Answer::Unavailable {
            reason: "x".into(),
            status: None,
        };
        let refused = Answer::CredentialsRefused { status: 401 };
        assert_eq!(
            failure_exit(std::slice::from_ref(&unavailable)),
            Exit::RegistryFailed
        );
        assert_eq!(
            failure_exit(&[unavailable.clone(), Answer::NotFound]),
            Exit::NotRegistered
        );
        assert_eq!(
            failure_exit(&[Answer::NotFound, refused, unavailable]),
            Exit::CredentialsRefused
        );
    }
}
