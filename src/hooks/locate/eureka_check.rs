//! When the app's listing answers 404 on every peer asked: is the service URL a Eureka server at
//! all? A URL without its `/eureka/` path reaches the server's web app instead, which answers
//! 404 to everything, so the hook would otherwise report "not registered" for a wrong URL. Asked
//! at most once per run.

use std::sync::OnceLock;

use crate::eureka::{Budget, EurekaClient};
use crate::hooks::fan_out::on_every_peer;
use crate::hooks::requests::eureka_check;
use crate::settings::Peer;

/// The answer, once asked.
#[derive(Default)]
pub struct EurekaCheck(OnceLock<Option<String>>);

impl EurekaCheck {
    /// A sentence naming the peers whose `apps/delta` is not Eureka's, or `None` when every peer
    /// answered as Eureka does or could not say. Asks `peers` the first time only.
    pub fn diagnosis(
        &self,
        client: &EurekaClient,
        peers: &[Peer],
        budget: impl Into<Budget>,
    ) -> Option<String> {
        let budget = budget.into();
        self.0
            .get_or_init(|| {
                let verdicts = on_every_peer(peers, |peer| {
                    client.serves_eureka(peer, &eureka_check(), budget)
                });
                let not_eureka: Vec<String> = peers
                    .iter()
                    .zip(verdicts)
                    .filter(|(_, verdict)| *verdict == Some(false))
                    .map(|(peer, _)| format!("{peer} (try {peer}eureka/)"))
                    .collect();
                (!not_eureka.is_empty()).then(|| {
                    format!(
                        "{} does not answer GET apps/delta as a Eureka server does: the URL is \
                         probably missing the /eureka/ path",
                        not_eureka.join(", ")
                    )
                })
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, ScriptedReply};
    use std::time::Duration;

    #[test]
    fn a_url_without_the_eureka_path_is_named_once() {
        let double = EurekaDouble::start();
        let root = double.base_url().replace("/eureka/", "/");
        let settings = settings_for(&root, &["status", "--app", "demo"]);
        let client = EurekaClient::new(None, &SystemClock);
        let check = EurekaCheck::default();
        let timeout = Duration::from_secs(5);
        let why = check
            .diagnosis(&client, &settings.registry.peers, timeout)
            .unwrap();
        assert!(why.contains("probably missing the /eureka/ path"), "{why}");
        assert!(why.contains(&format!("(try {root}eureka/)")), "{why}");
        assert_eq!(
            check.diagnosis(&client, &settings.registry.peers, timeout),
            Some(why)
        );
        assert_eq!(double.requests().len(), 1, "asked once");
    }

    #[test]
    fn a_eureka_server_or_a_failing_peer_gives_no_diagnosis() {
        let double = EurekaDouble::start();
        let settings = settings_for(&double.base_url(), &["status", "--app", "demo"]);
        let client = EurekaClient::new(None, &SystemClock);
        let peers = &settings.registry.peers;
        let timeout = Duration::from_secs(5);
        assert_eq!(
            EurekaCheck::default().diagnosis(&client, peers, timeout),
            None
        );
        double.script(ScriptedReply::on("GET", "/apps/delta").status(500));
        assert_eq!(
            EurekaCheck::default().diagnosis(&client, peers, Duration::from_millis(300)),
            None
        );
    }
}
