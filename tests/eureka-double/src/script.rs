//! Scripted faults: a matcher (method, and a substring of the request target), how many times it
//! fires, an optional delay, and what to answer instead of the registry (or to hang).

use std::time::Duration;

use crate::reply::Reply;

/// One scripted fault, built like
/// `ScriptedReply::on("PUT", "/status").times(1).status(503).header("Retry-After", "1")`.
///
/// A script fires for every matching request unless limited with [`times`](Self::times). Scripts
/// are tried in the order they were added; the first one that matches and is not used up wins.
/// Scripts run before authentication, like a proxy in front of the server would, and requests
/// they answer are recorded like any other. A script that never fired fails the test when the
/// double is dropped (it scripted a fault the test never exercised).
#[derive(Clone, Debug)]
pub struct ScriptedReply {
    method: Option<String>,
    target_contains: String,
    remaining: Option<usize>,
    delay: Duration,
    outcome: Outcome,
    fired: usize,
}

/// What happens after the delay.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// Answer as the server would.
    Normal,
    Respond(Reply),
    /// Never answer; the connection is released when the double is dropped.
    Hang,
}

impl ScriptedReply {
    /// Matches requests whose method is `method` (`"*"` or `""` for any) and whose target
    /// (path and query as sent, not decoded) contains `target_contains` (`""` for any).
    /// Until given a reply it only delays (or does nothing).
    pub fn on(method: &str, target_contains: &str) -> ScriptedReply {
        ScriptedReply {
            method: Some(method.to_ascii_uppercase())
                .filter(|method| !matches!(method.as_str(), "" | "*")),
            target_contains: target_contains.to_owned(),
            remaining: None,
            delay: Duration::ZERO,
            outcome: Outcome::Normal,
            fired: 0,
        }
    }

    /// Matches every request.
    pub fn any() -> ScriptedReply {
        ScriptedReply::on("*", "")
    }

    /// Fires for the first `count` matching requests only.
    pub fn times(mut self, count: usize) -> ScriptedReply {
        self.remaining = Some(count);
        self
    }

    /// Waits this long before answering (normally, unless a reply is also scripted).
    pub fn delay(mut self, delay: Duration) -> ScriptedReply {
        self.delay = delay;
        self
    }

    /// Answers with this status (200 if only headers or a body are scripted).
    pub fn status(self, code: u16) -> ScriptedReply {
        self.respond(|reply| Reply {
            status: code,
            ..reply
        })
    }

    pub fn header(self, name: &str, value: &str) -> ScriptedReply {
        self.respond(|reply| reply.header(name, value))
    }

    pub fn body(self, body: impl Into<String>) -> ScriptedReply {
        let body = body.into();
        self.respond(|reply| reply.body(body))
    }

    /// Reads the request and never answers it until the double is dropped.
    pub fn hang(mut self) -> ScriptedReply {
        self.outcome = Outcome::Hang;
        self
    }

    /// 200, `application/json`, and a body of exactly `bytes` bytes (at least the JSON frame)
    /// that looks like the start of an instance document.
    pub fn huge_body(self, bytes: usize) -> ScriptedReply {
        const HEAD: &str = r#"{"instance":{"instanceId":"padding","metadata":{"padding":""#;
        const TAIL: &str = r#""}}}"#;
        let padding = bytes.saturating_sub(HEAD.len() + TAIL.len());
        let body = format!("{HEAD}{}{TAIL}", "x".repeat(padding));
        self.respond(|_| Reply::with_body(200, "application/json", body))
    }

    /// 200, `application/json`, and a truncated JSON document.
    pub fn malformed_json(self) -> ScriptedReply {
        self.respond(|_| {
            Reply::with_body(
                200,
                "application/json",
                r#"{"instance":{"instanceId":"pod-0","status":"#,
            )
        })
    }

    /// 302 with `Location: location`.
    pub fn redirect(self, location: &str) -> ScriptedReply {
        self.respond(|_| Reply::empty(302).header("Location", location))
    }

    fn respond(mut self, change: impl FnOnce(Reply) -> Reply) -> ScriptedReply {
        let current = match self.outcome {
            Outcome::Respond(reply) => reply,
            Outcome::Normal | Outcome::Hang => Reply::empty(200),
        };
        self.outcome = Outcome::Respond(change(current));
        self
    }

    fn matches(&self, method: &str, target: &str) -> bool {
        self.remaining != Some(0)
            && self
                .method
                .as_deref()
                .is_none_or(|expected| expected.eq_ignore_ascii_case(method))
            && target.contains(&self.target_contains)
    }
}

/// The scripts of one double, in the order they were added.
#[derive(Default)]
pub(crate) struct Scripts(Vec<ScriptedReply>);

impl Scripts {
    pub(crate) fn add(&mut self, script: ScriptedReply) {
        self.0.push(script);
    }

    /// Uses up one firing of the first matching script: its delay and outcome.
    pub(crate) fn take(&mut self, method: &str, target: &str) -> Option<(Duration, Outcome)> {
        let script = self
            .0
            .iter_mut()
            .find(|script| script.matches(method, target))?;
        if let Some(remaining) = &mut script.remaining {
            *remaining -= 1;
        }
        script.fired += 1;
        Some((script.delay, script.outcome.clone()))
    }

    /// The scripts that no request ever matched, described for a failure message.
    pub(crate) fn never_fired(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|script| script.fired == 0)
            .map(|script| {
                format!(
                    "{} requests containing {:?}",
                    script.method.as_deref().unwrap_or("any"),
                    script.target_contains
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_script_fires_until_used_up() {
        let mut scripts = Scripts::default();
        scripts.add(
            ScriptedReply::on("put", "/status")
                .times(1)
                .status(503)
                .header("Retry-After", "1"),
        );
        scripts.add(ScriptedReply::any().delay(Duration::from_millis(5)));
        assert!(matches!(
            scripts.take("PUT", "/eureka/apps/A/a/status?value=UP"),
            Some((_, Outcome::Respond(Reply { status: 503, .. })))
        ));
        assert!(matches!(
            scripts.take("PUT", "/eureka/apps/A/a/status?value=UP"),
            Some((delay, Outcome::Normal)) if delay == Duration::from_millis(5)
        ));
    }

    #[test]
    fn method_and_target_must_both_match() {
        let mut scripts = Scripts::default();
        scripts.add(ScriptedReply::on("DELETE", "/status").status(500));
        assert!(scripts.take("PUT", "/eureka/apps/A/a/status").is_none());
        assert!(scripts.take("DELETE", "/eureka/apps/A/a").is_none());
        assert_eq!(
            scripts.never_fired(),
            ["DELETE requests containing \"/status\""]
        );
        assert!(scripts.take("DELETE", "/eureka/apps/A/a/status").is_some());
        assert!(scripts.never_fired().is_empty());
    }

    #[test]
    fn canned_bodies_have_the_promised_shape() {
        let Some((_, Outcome::Respond(huge))) =
            ScriptedReply::any().huge_body(10_000).outcome_for_test()
        else {
            panic!("huge body is a reply");
        };
        assert_eq!(huge.body.len(), 10_000);
        assert!(serde_json::from_slice::<serde_json::Value>(&huge.body).is_ok());
        let Some((_, Outcome::Respond(broken))) =
            ScriptedReply::any().malformed_json().outcome_for_test()
        else {
            panic!("malformed json is a reply");
        };
        assert!(serde_json::from_slice::<serde_json::Value>(&broken.body).is_err());
        let Some((_, Outcome::Respond(redirect))) = ScriptedReply::any()
            .redirect("http://elsewhere/")
            .outcome_for_test()
        else {
            panic!("redirect is a reply");
        };
        assert_eq!(
            (redirect.status, redirect.headers[0].1.as_str()),
            (302, "http://elsewhere/")
        );
    }

    impl ScriptedReply {
        fn outcome_for_test(self) -> Option<(Duration, Outcome)> {
            let mut scripts = Scripts::default();
            scripts.add(self);
            scripts.take("GET", "/")
        }
    }
}
