//! What a peer's reply means in Eureka's terms: an [`Answer`] from the raw [`Exchange`]. This
//! module does not decide what an answer means for a hook.

use std::fmt;

use super::budget::Limit;
use super::transport::{Exchange, MOST_ATTEMPTS_PER_REQUEST};
use crate::vars;

/// What a peer answered to one operation, after any retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 2xx.
    Accepted { status: u16 },
    /// 404: unknown app or instanceId.
    NotFound,
    /// 401 or 403.
    CredentialsRefused { status: u16 },
    /// No usable answer: refused, reset, timed out, DNS, TLS, 5xx, a redirect, an unreadable body.
    Unavailable {
        reason: String,
        status: Option<u16>,
        /// The limit that ended the request, when it ran out of time.
        ran_out: Option<Limit>,
    },
}

impl Answer {
    /// A short value for the `status` field of a JSON log line: the HTTP status, or `error`.
    pub fn status_label(&self) -> String {
        match self {
            Answer::Accepted { status } | Answer::CredentialsRefused { status } => {
                status.to_string()
            }
            Answer::NotFound => "404".into(),
            Answer::Unavailable {
                status: Some(status),
                ..
            } => status.to_string(),
            Answer::Unavailable { status: None, .. } => "error".into(),
        }
    }

    pub fn is_accepted(&self) -> bool {
        matches!(self, Answer::Accepted { .. })
    }

    /// The limit that ended the request, when it ran out of time.
    pub fn ran_out(&self) -> Option<Limit> {
        match self {
            Answer::Unavailable { ran_out, .. } => *ran_out,
            _ => None,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Accepted { status } => write!(f, "{status} OK"),
            Answer::NotFound => write!(f, "404 not found"),
            Answer::CredentialsRefused { status: 403 } => write!(
                f,
                "403 Forbidden: the registry refused the request; if Spring Security protects it, \
                 check the user's role and exempt /eureka/** from CSRF protection on the server"
            ),
            Answer::CredentialsRefused { status } => write!(
                f,
                "{status} Unauthorized: the registry refused the credentials; check \
                 {}/{}, --credentials-file or the URL's user:password",
                vars::USERNAME,
                vars::PASSWORD
            ),
            Answer::Unavailable { reason, .. } => f.write_str(reason),
        }
    }
}

/// The answer an exchange amounts to.
pub fn answer_of(exchange: Exchange) -> Answer {
    match exchange {
        Exchange::Answered {
            status,
            location,
            retry_after,
            body,
            ..
        } => match status {
            // Eureka answers a status change with an empty 200 (`Response.ok().build()`).
            200..=299 if body.as_deref().is_none_or(str::is_empty) => Answer::Accepted { status },
            200..=299 => Answer::Unavailable {
                reason: not_eureka(status, body.as_deref().unwrap_or_default()),
                status: Some(status),
                ran_out: None,
            },
            404 => Answer::NotFound,
            401 | 403 => Answer::CredentialsRefused { status },
            300..=399 => Answer::Unavailable {
                reason: format!(
                    "{status} redirect to {}: not followed (it would carry the credentials \
                     elsewhere); point the Eureka URL at the server itself",
                    location
                        .as_deref()
                        .map_or_else(|| "an unnamed location".into(), redirect_target)
                ),
                status: Some(status),
                ran_out: None,
            },
            500..=599 => Answer::Unavailable {
                reason: match retry_after {
                    Some(wait) => format!(
                        "{status} server error (it asked to retry after {}; retried only while \
                         --request-timeout lasted, at most {MOST_ATTEMPTS_PER_REQUEST} attempts)",
                        humantime::format_duration(wait)
                    ),
                    None => format!("{status} server error"),
                },
                status: Some(status),
                ran_out: None,
            },
            _ => Answer::Unavailable {
                reason: format!("unexpected HTTP status {status}"),
                status: Some(status),
                ran_out: None,
            },
        },
        Exchange::Failed {
            reason, ran_out, ..
        } => Answer::Unavailable {
            reason,
            status: None,
            ran_out,
        },
    }
}

/// Why a 2xx with a body is not Eureka's answer to a status change, and what to check.
fn not_eureka(status: u16, body: &str) -> String {
    // Either the first bytes, or the announced `[Content-Type]` (see `transport`).
    let start = body.trim_start().to_ascii_lowercase();
    let what = if start.starts_with('<') || start.contains("html") || start.contains("xml") {
        "an HTML or XML page (a proxy's login page or another web app?)"
    } else if start.starts_with('{') || start.contains("json") {
        "a JSON document (another service?)"
    } else {
        "a body"
    };
    format!(
        "not Eureka: the URL is probably missing the /eureka/ path, or a proxy answers for it \
         ({status} with {what}; Eureka answers a status change with an empty 200)"
    )
}

/// The body of a 200, or the answer that stands in its place.
pub fn body_of(exchange: Exchange) -> Result<String, Answer> {
    sized_body_of(exchange).map(|(body, _)| body)
}

/// The body of a 200 and how many bytes it took on the wire, or the answer that stands in its
/// place.
pub fn sized_body_of(exchange: Exchange) -> Result<(String, usize), Answer> {
    match exchange {
        Exchange::Answered {
            status: 200,
            body: Some(body),
            body_bytes,
            ..
        } => Ok((body, body_bytes)),
        other => Err(match answer_of(other) {
            Answer::Accepted { status } => Answer::Unavailable {
                reason: format!("answered {status} without an instance document"),
                status: Some(status),
                ran_out: None,
            },
            answer => answer,
        }),
    }
}

/// A 200 whose body could not be decoded.
pub fn unreadable(problem: &str) -> Answer {
    Answer::Unavailable {
        reason: format!("answered 200 with a body that is not Eureka JSON ({problem})"),
        status: Some(200),
        ran_out: None,
    }
}

/// Where a redirect points: scheme and host only, since a Location may carry anything.
fn redirect_target(location: &str) -> String {
    match location.parse::<ureq::http::Uri>() {
        Ok(uri) => match (uri.scheme_str(), uri.host()) {
            (Some(scheme), Some(host)) => format!("{scheme}://{host}"),
            _ => "a relative location".into(),
        },
        Err(_) => "an invalid location".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn statuses_map_to_answers() {
        let answered = |status| Exchange::Answered {
            status,
            body: None,
            body_bytes: 0,
            retry_after: None,
            location: Some("https://other.example:8443/eureka/?token=abc".into()),
        };
        assert_eq!(answer_of(answered(200)), Answer::Accepted { status: 200 });
        assert_eq!(answer_of(answered(404)), Answer::NotFound);
        assert_eq!(
            answer_of(answered(403)),
            Answer::CredentialsRefused { status: 403 }
        );
        let redirect = answer_of(answered(302)).to_string();
        assert!(
            redirect.contains("https://other.example") && !redirect.contains("token"),
            "{redirect}"
        );
        assert!(answer_of(answered(403)).to_string().contains("CSRF"));
        assert_eq!(answer_of(answered(503)).status_label(), "503");
    }

    #[test]
    fn a_retry_after_that_did_not_fit_is_named_in_the_answer() {
        let answer = answer_of(Exchange::Answered {
            status: 503,
            body: None,
            body_bytes: 0,
            retry_after: Some(Duration::from_secs(120)),
            location: None,
        });
        assert_eq!(
            answer.to_string(),
            "503 server error (it asked to retry after 2m; retried only while --request-timeout lasted, at most 4 attempts)"
        );
    }

    #[test]
    fn only_an_empty_2xx_to_a_status_change_counts_as_eureka_accepting_it() {
        let put_answer = |status, body: Option<&str>| {
            answer_of(Exchange::Answered {
                status,
                body: body.map(str::to_string),
                body_bytes: body.map_or(0, str::len),
                retry_after: None,
                location: None,
            })
        };
        assert_eq!(put_answer(200, Some("")), Answer::Accepted { status: 200 });
        assert_eq!(put_answer(200, None), Answer::Accepted { status: 200 });
        let login = put_answer(200, Some("<!DOCTYPE html><html>Sign in</html>"));
        assert!(!login.is_accepted());
        assert!(
            login.to_string().starts_with(
                "not Eureka: the URL is probably missing the /eureka/ path, or a proxy answers"
            ),
            "{login}"
        );
        assert!(login.to_string().contains("HTML"), "{login}");
        let other = put_answer(202, Some(r#"{"status":"UP"}"#));
        assert!(
            !other.is_accepted() && other.to_string().contains("JSON"),
            "{other}"
        );
    }
}
