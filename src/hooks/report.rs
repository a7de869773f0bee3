//! Saying what the peers answered: log lines per peer, one-line summaries for failure messages,
//! and the exit code a set of failed answers amounts to.

use crate::eureka::Answer;
use crate::exit::Exit;
use crate::log::{self, Level};
use crate::settings::{Peer, Settings};
use crate::values::InstanceId;

/// Logs which instance, app and peers this run acts on.
pub fn log_target(settings: &Settings) {
    let identity = &settings.identity;
    let peers: Vec<String> = settings
        .registry
        .peers
        .iter()
        .map(Peer::to_string)
        .collect();
    log::info(
        "resolved",
        &format!(
            "{}; app {}, {} peer(s): {}",
            identity.explain(),
            identity.app.registry_name(),
            peers.len(),
            peers.join(", ")
        ),
    );
}

/// The exit code when no peer accepted: refused credentials first, then "not registered".
pub fn failure_exit(answers: &[Answer]) -> Exit {
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

/// `peer: answer; peer: answer`.
pub fn summary(peers: &[Peer], answers: &[Answer]) -> String {
    peers
        .iter()
        .zip(answers)
        .map(|(peer, answer)| format!("{peer}: {answer}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The peers that answered 404.
pub fn not_found_peers(peers: &[Peer], answers: &[Answer]) -> Vec<Peer> {
    peers
        .iter()
        .zip(answers)
        .filter(|(_, answer)| **answer == Answer::NotFound)
        .map(|(peer, _)| peer.clone())
        .collect()
}

/// One line per peer: `action` done, or failed with the answer.
pub fn log_answers(peers: &[Peer], answers: &[Answer], id: &InstanceId, action: &str) {
    for (peer, answer) in peers.iter().zip(answers) {
        let (level, verdict) = if answer.is_accepted() {
            (Level::Info, "done")
        } else {
            (Level::Warn, "failed")
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

/// A line about one peer, with `instance`, `peer` and `status` fields in JSON.
pub fn log_peer(
    level: Level,
    event: &str,
    message: &str,
    id: &InstanceId,
    peer: &Peer,
    status: &str,
) {
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

    #[test]
    fn failure_exit_prefers_refused_credentials_then_not_registered() {
        let unavailable = Answer::Unavailable {
            reason: "x".into(),
            status: None,
            ran_out: None,
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
