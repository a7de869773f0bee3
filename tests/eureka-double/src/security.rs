//! What a Spring Security filter chain in front of the server does: HTTP Basic authentication on
//! every path (401 with `WWW-Authenticate: Basic realm="Realm"`), and optionally CSRF protection
//! left on, which rejects every POST, PUT, DELETE and PATCH with 403 even with good credentials.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::reply::Reply;

#[derive(Default)]
pub(crate) struct Security {
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) csrf_protection: bool,
}

impl Security {
    /// The rejection, if any. Credentials are checked first.
    pub(crate) fn reject(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        now: i64,
    ) -> Option<Reply> {
        if let Some(expected) = &self.credentials
            && basic_credentials(authorization).as_ref() != Some(expected)
        {
            return Some(Reply::empty(401).header("WWW-Authenticate", "Basic realm=\"Realm\""));
        }
        let changes_state = matches!(method, "POST" | "PUT" | "DELETE" | "PATCH");
        (self.csrf_protection && changes_state).then(|| forbidden(path, now))
    }
}

/// `BasicAuthenticationConverter`: scheme case-insensitive, split at the first `:`.
fn basic_credentials(authorization: Option<&str>) -> Option<(String, String)> {
    let (scheme, encoded) = authorization?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Spring Boot's error document for the rejected request.
fn forbidden(path: &str, now: i64) -> Reply {
    let body = serde_json::json!({
        "timestamp": iso_timestamp(now),
        "status": 403,
        "error": "Forbidden",
        "path": path,
    });
    Reply::with_body(403, "application/json", body.to_string())
}

/// `2025-11-25T06:23:00.000+00:00` (as Spring Boot writes it) from epoch milliseconds.
fn iso_timestamp(epoch_ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(epoch_ms).unwrap_or_default());
    let utc = humantime::format_rfc3339_millis(at).to_string();
    format!("{}+00:00", utc.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
    }

    fn secured(csrf_protection: bool) -> Security {
        Security {
            credentials: Some(("eureka".into(), "s3cr:et".into())),
            csrf_protection,
        }
    }

    #[test]
    fn missing_or_wrong_credentials_get_401_with_the_basic_challenge() {
        let security = secured(false);
        for authorization in [
            None,
            Some(basic("eureka", "wrong")),
            Some("Bearer x".to_owned()),
        ] {
            let reply = security
                .reject("GET", "/eureka/apps/", authorization.as_deref(), 0)
                .expect("rejected");
            assert_eq!(reply.status, 401);
            assert_eq!(
                reply.headers,
                [(
                    "WWW-Authenticate".to_owned(),
                    "Basic realm=\"Realm\"".to_owned()
                )]
            );
        }
    }

    #[test]
    fn good_credentials_pass_and_the_password_may_contain_a_colon() {
        let authorization = basic("eureka", "s3cr:et").replace("Basic", "basic");
        assert_eq!(
            secured(false).reject("PUT", "/eureka/apps/A/b/status", Some(&authorization), 0),
            None
        );
    }

    #[test]
    fn csrf_protection_forbids_state_changes_but_not_reads() {
        let security = secured(true);
        let authorization = basic("eureka", "s3cr:et");
        assert_eq!(
            security.reject("GET", "/eureka/apps/A", Some(&authorization), 0),
            None
        );
        let reply = security
            .reject(
                "PUT",
                "/eureka/apps/A/b/status",
                Some(&authorization),
                1_764_050_400_123,
            )
            .expect("forbidden");
        assert_eq!(reply.status, 403);
        let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(body["error"], "Forbidden");
        assert_eq!(body["timestamp"], "2025-11-25T06:00:00.123+00:00");
    }
}
