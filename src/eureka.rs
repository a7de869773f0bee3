//! The Eureka REST client: the four calls the hooks make, against one peer at a time, each bounded
//! by a time budget that includes its retries.
//!
//! Every request sends `Accept: application/json` (Eureka answers XML otherwise), percent-encodes
//! the app and instanceId path segments, carries credentials only as an `Authorization` header,
//! never sends `x-netflix-discovery-replication`, never follows a redirect, ignores proxy
//! variables (Eureka is in-cluster) and reads at most [`MAX_BODY_BYTES`] of an answer. HTTP outcomes
//! become an [`Answer`]; this module does not decide what an answer means for a hook.

use std::fmt;
use std::io::ErrorKind;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::Value;
use ureq::http::{Method, Request};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::{Agent, RequestExt};

use crate::log;
use crate::settings::Peer;
use crate::values::{AppName, InstanceId};

/// The most of an answer we read; an application document with hundreds of instances fits.
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
/// The first pause before retrying a transient failure; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// A retry is not worth starting with less time than this left in the budget.
const SHORTEST_ATTEMPT: Duration = Duration::from_millis(50);
/// How much sooner than the whole attempt the name lookup must end.
const LOOKUP_MARGIN: Duration = Duration::from_millis(1);

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
    Unavailable { reason: String, status: Option<u16> },
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
                 EUREKA_USERNAME/EUREKA_PASSWORD, --credentials-file or the URL's user:password"
            ),
            Answer::Unavailable { reason, .. } => f.write_str(reason),
        }
    }
}

/// One registered instance, as read from the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub instance_id: String,
    pub host_name: String,
    pub ip_addr: String,
    pub port: Option<u16>,
    pub status: String,
    /// `UNKNOWN` when no override is set.
    pub overridden_status: String,
    /// Epoch milliseconds of the last status change, when the registry says.
    pub last_updated_ms: Option<u64>,
}

impl Instance {
    pub fn has_override(&self) -> bool {
        self.overridden_status != "UNKNOWN"
    }
}

#[derive(Clone, Copy)]
enum Verb {
    Get,
    Put,
    Delete,
}

impl Verb {
    fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Put => Method::PUT,
            Verb::Delete => Method::DELETE,
        }
    }
}

/// `apps/{APP}/{ID}/status`, with `?value={value}` when setting a status.
pub fn status_url(peer: &Peer, app: &AppName, id: &InstanceId, value: Option<&str>) -> String {
    let query = value.map(|value| format!("value={value}"));
    peer.url.endpoint(
        &["apps", &app.registry_name(), id.as_str(), "status"],
        query.as_deref(),
    )
}

/// `apps/{APP}/{ID}`.
pub fn instance_url(peer: &Peer, app: &AppName, id: &InstanceId) -> String {
    peer.url
        .endpoint(&["apps", &app.registry_name(), id.as_str()], None)
}

/// `apps/{APP}`.
pub fn application_url(peer: &Peer, app: &AppName) -> String {
    peer.url.endpoint(&["apps", &app.registry_name()], None)
}

/// Talks to Eureka peers over one connection-pooling agent.
pub struct EurekaClient {
    agent: Agent,
}

impl EurekaClient {
    /// `ca_certificates` replace the built-in Mozilla roots when given.
    pub fn new(ca_certificates: Option<&[Certificate<'static>]>) -> Self {
        let roots = match ca_certificates {
            Some(certificates) => RootCerts::new_with_certs(certificates),
            None => RootCerts::WebPki,
        };
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(None)
            .user_agent(concat!("eureka-hook/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build()
            .new_agent();
        EurekaClient { agent }
    }

    /// `PUT apps/{APP}/{ID}/status?value={status}`.
    pub fn set_status(
        &self,
        peer: &Peer,
        app: &AppName,
        id: &InstanceId,
        status: &str,
        budget: Duration,
    ) -> Answer {
        let url = status_url(peer, app, id, Some(status));
        answer_of(self.exchange(Verb::Put, peer, &url, budget))
    }

    /// `DELETE apps/{APP}/{ID}/status` without `value`, as Eureka's own clients send it.
    pub fn clear_override(
        &self,
        peer: &Peer,
        app: &AppName,
        id: &InstanceId,
        budget: Duration,
    ) -> Answer {
        let url = status_url(peer, app, id, None);
        answer_of(self.exchange(Verb::Delete, peer, &url, budget))
    }

    /// `GET apps/{APP}/{ID}`: read from the registry itself, not the 30 s response cache.
    pub fn instance(
        &self,
        peer: &Peer,
        app: &AppName,
        id: &InstanceId,
        budget: Duration,
    ) -> Result<Instance, Answer> {
        let url = instance_url(peer, app, id);
        let body = body_of(self.exchange(Verb::Get, peer, &url, budget))?;
        parse_instance_document(&body).map_err(unreadable)
    }

    /// `GET apps/{APP}`: every instance of the app (served from the registry's response cache).
    pub fn application(
        &self,
        peer: &Peer,
        app: &AppName,
        budget: Duration,
    ) -> Result<Vec<Instance>, Answer> {
        let url = application_url(peer, app);
        let body = body_of(self.exchange(Verb::Get, peer, &url, budget))?;
        parse_application_document(&body).map_err(unreadable)
    }

    /// One request, retried after a transient failure (refused, reset, 5xx) while `budget` lasts.
    fn exchange(&self, verb: Verb, peer: &Peer, url: &str, budget: Duration) -> Exchange {
        let deadline = Instant::now() + budget;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let started = Instant::now();
            let remaining = deadline.saturating_duration_since(started);
            let exchange = self.attempt(verb, peer, url, remaining, budget);
            log::debug(
                "request",
                &format!(
                    "{} {url} -> {} in {} ms",
                    verb.method(),
                    exchange.summary(),
                    started.elapsed().as_millis()
                ),
            );
            let Some(pause) = exchange.retry_pause(backoff) else {
                return exchange;
            };
            if Instant::now() + pause + SHORTEST_ATTEMPT > deadline {
                return exchange;
            }
            log::debug(
                "retry",
                &format!("{url}: retrying in {} ms", pause.as_millis()),
            );
            thread::sleep(pause);
            backoff *= 2;
        }
    }

    /// One attempt limited to `timeout`; a failure is described against the whole `budget`.
    fn attempt(
        &self,
        verb: Verb,
        peer: &Peer,
        url: &str,
        timeout: Duration,
        budget: Duration,
    ) -> Exchange {
        match self.send(verb, peer, url, timeout) {
            Ok(exchange) => exchange,
            Err(Failure::Request(err)) => Exchange::Failed {
                reason: describe_failure(&err, budget),
                transient: is_transient(&err),
            },
            Err(Failure::Body { status, err }) => Exchange::Failed {
                reason: format!(
                    "answered {status} but {}",
                    describe_body_failure(&err, budget)
                ),
                transient: false,
            },
        }
    }

    fn run(
        &self,
        request: Result<Request<impl ureq::AsSendBody>, ureq::http::Error>,
        timeout: Duration,
        lookup_limit: Option<Duration>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        request
            .map_err(ureq::Error::from)?
            .with_agent(&self.agent)
            .configure()
            .timeout_global(Some(timeout))
            .timeout_resolve(lookup_limit)
            .build()
            .run()
    }

    fn send(
        &self,
        verb: Verb,
        peer: &Peer,
        url: &str,
        timeout: Duration,
    ) -> Result<Exchange, Failure> {
        let mut request = Request::builder()
            .method(verb.method())
            .uri(url)
            .header("Accept", "application/json");
        if let Some(credentials) = &peer.credentials {
            let token = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                credentials.username,
                credentials.password.expose()
            ));
            request = request.header("Authorization", format!("Basic {token}"));
        }
        // `timeout_global` bounds everything from the name lookup to the last body byte (ureq
        // resolves in a thread when a timeout is set, so a stuck DNS server cannot hold us). The
        // lookup's own limit ends just before, so that a lookup that never ends is reported as
        // one: ureq names the limit that ran out first.
        let lookup_limit = Some(timeout.saturating_sub(LOOKUP_MARGIN)).filter(|l| !l.is_zero());
        let mut response = match verb {
            // An empty slice, not `()`: ureq then sends `Content-Length: 0` in one write, not
            // chunked. GET and DELETE carry no length at all (RFC 9110 §8.6).
            Verb::Put => self.run(request.body(&[][..]), timeout, lookup_limit)?,
            Verb::Get | Verb::Delete => self.run(request.body(()), timeout, lookup_limit)?,
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("Retry-After").and_then(|text| text.trim().parse().ok());
        let location = header("Location");
        // Only a GET's 200 carries something we need; any other body is left unread.
        let body = match verb {
            Verb::Get if status == 200 => Some(
                response
                    .body_mut()
                    .with_config()
                    .limit(MAX_BODY_BYTES)
                    .read_to_string()
                    .map_err(|err| Failure::Body { status, err })?,
            ),
            _ => None,
        };
        Ok(Exchange::Answered {
            status,
            body,
            retry_after: retry_after.map(Duration::from_secs),
            location,
        })
    }
}

/// Why an attempt got no usable answer.
enum Failure {
    /// Before or while the status line and headers came.
    Request(ureq::Error),
    /// The headers came with `status`, the body did not.
    Body { status: u16, err: ureq::Error },
}

impl From<ureq::Error> for Failure {
    fn from(err: ureq::Error) -> Self {
        Failure::Request(err)
    }
}

/// The raw outcome of one attempt.
enum Exchange {
    Answered {
        status: u16,
        body: Option<String>,
        retry_after: Option<Duration>,
        location: Option<String>,
    },
    Failed {
        reason: String,
        transient: bool,
    },
}

impl Exchange {
    fn summary(&self) -> String {
        match self {
            Exchange::Answered { status, .. } => status.to_string(),
            Exchange::Failed { reason, .. } => reason.clone(),
        }
    }

    /// How long to pause before retrying, or `None` if this outcome is final.
    fn retry_pause(&self, backoff: Duration) -> Option<Duration> {
        match self {
            Exchange::Answered {
                status: 500..=599,
                retry_after,
                ..
            } => Some(retry_after.unwrap_or(backoff)),
            Exchange::Failed {
                transient: true, ..
            } => Some(backoff),
            _ => None,
        }
    }
}

fn answer_of(exchange: Exchange) -> Answer {
    match exchange {
        Exchange::Answered {
            status,
            location,
            retry_after,
            ..
        } => match status {
            200..=299 => Answer::Accepted { status },
            404 => Answer::NotFound,
            401 | 403 => Answer::CredentialsRefused { status },
            300..=399 => Answer::Unavailable {
                reason: format!(
                    "{status} redirect to {}: not followed (it would carry the credentials \
                     elsewhere); point the Eureka URL at the server itself",
                    location
                        .as_deref()
                        .map(redirect_target)
                        .unwrap_or_else(|| "an unnamed location".into())
                ),
                status: Some(status),
            },
            500..=599 => Answer::Unavailable {
                reason: match retry_after {
                    // `exchange` only gives up on a Retry-After that does not fit the budget.
                    Some(wait) => format!(
                        "{status} server error (it asked to retry after {}, more than \
                         --request-timeout leaves)",
                        humantime::format_duration(wait)
                    ),
                    None => format!("{status} server error"),
                },
                status: Some(status),
            },
            _ => Answer::Unavailable {
                reason: format!("unexpected HTTP status {status}"),
                status: Some(status),
            },
        },
        Exchange::Failed { reason, .. } => Answer::Unavailable {
            reason,
            status: None,
        },
    }
}

fn body_of(exchange: Exchange) -> Result<String, Answer> {
    match exchange {
        Exchange::Answered {
            status: 200,
            body: Some(body),
            ..
        } => Ok(body),
        other => Err(match answer_of(other) {
            Answer::Accepted { status } => Answer::Unavailable {
                reason: format!("answered {status} without an instance document"),
                status: Some(status),
            },
            answer => answer,
        }),
    }
}

fn unreadable(problem: String) -> Answer {
    Answer::Unavailable {
        reason: format!("answered 200 with a body that is not Eureka JSON ({problem})"),
        status: Some(200),
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

fn is_transient(err: &ureq::Error) -> bool {
    match err {
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
        ),
        ureq::Error::ConnectionFailed => true,
        _ => false,
    }
}

/// A sentence about a failed request, for a person; never contains the URL. `budget` is the
/// request timeout the attempt belonged to.
fn describe_failure(err: &ureq::Error, budget: Duration) -> String {
    let waited = shown(budget);
    match err {
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused".into(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                "connection reset by the server".into()
            }
            ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                format!("no answer within {waited} (--request-timeout)")
            }
            ErrorKind::UnexpectedEof => "the server closed the connection without answering".into(),
            // std reports getaddrinfo failures with no ErrorKind of their own.
            _ if io.to_string().contains("lookup address") => {
                format!("the host name does not resolve ({io}): check the Eureka URL")
            }
            // ureq hands rustls' errors over as I/O errors: a distrusted certificate, or a
            // plain-HTTP port answering a TLS handshake.
            _ if ["certificate", "corrupt message"]
                .iter()
                .any(|word| io.to_string().contains(word)) =>
            {
                describe_tls_failure(&io.to_string())
            }
            _ => format!("network error: {io}"),
        },
        ureq::Error::Timeout(ureq::Timeout::Resolve) => format!(
            "the host name did not resolve within {waited}: check the Eureka URL and the cluster DNS"
        ),
        ureq::Error::Timeout(ureq::Timeout::Connect) => {
            format!("could not connect within {waited} (--request-timeout)")
        }
        ureq::Error::Timeout(_) => format!("no answer within {waited} (--request-timeout)"),
        ureq::Error::HostNotFound => "the host name does not resolve: check the Eureka URL".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Rustls(tls) => describe_tls_failure(&tls.to_string()),
        ureq::Error::Protocol(protocol) => format!("not a valid HTTP answer ({protocol})"),
        other => format!("request failed ({other})"),
    }
}

/// What went wrong while reading the body of an answer whose headers came.
fn body_timed_out(budget: Duration) -> String {
    format!(
        "its body did not arrive in full within {} (--request-timeout)",
        shown(budget)
    )
}

fn describe_body_failure(err: &ureq::Error, budget: Duration) -> String {
    match err {
        ureq::Error::BodyExceedsLimit(limit) => {
            format!("the answer is larger than {limit} bytes; not read")
        }
        ureq::Error::Timeout(_) => body_timed_out(budget),
        ureq::Error::Io(io) if matches!(io.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
            body_timed_out(budget)
        }
        other => format!(
            "its body could not be read ({})",
            describe_failure(other, budget)
        ),
    }
}

/// rustls' message about a failed handshake, with what to do about it.
fn describe_tls_failure(text: &str) -> String {
    let hint = if text.contains("UnknownIssuer") {
        "the server's certificate is not trusted (its issuer is not a known CA); give its CA with \
         --cacert (EUREKA_HOOK_CACERT)"
    } else if text.contains("not valid for name") || text.contains("NotValidForName") {
        "the server's certificate does not name this host: put a name it holds in the Eureka URL"
    } else if text.contains("xpired") || text.contains("NotValidYet") {
        "the server's certificate is outside its validity period"
    } else if text.contains("certificate") {
        "the server's certificate is not trusted; give its CA with --cacert (EUREKA_HOOK_CACERT)"
    } else {
        "check that the Eureka URL's port speaks HTTPS, or use http://"
    };
    format!("TLS failed ({text}): {hint}")
}

/// A duration for a message, to the millisecond.
fn shown(duration: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_millis(duration.as_millis() as u64))
}

/// Runs `operation` against every peer at once, one thread each; answers come back in peer order.
pub fn on_every_peer<T: Send>(peers: &[Peer], operation: impl Fn(&Peer) -> T + Sync) -> Vec<T> {
    // One peer (the common case) needs no thread: starting one is a measurable part of a hook's run.
    if let [only] = peers {
        return vec![operation(only)];
    }
    thread::scope(|scope| {
        let operation = &operation;
        let handles: Vec<_> = peers
            .iter()
            .map(|peer| {
                thread::Builder::new()
                    .name("peer".into())
                    .spawn_scoped(scope, move || operation(peer))
                    .context("starting a thread for a peer")
            })
            .collect();
        handles
            .into_iter()
            .zip(peers)
            .map(|(handle, peer)| match handle {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // Out of threads: ask this peer from here instead.
                Err(_) => operation(peer),
            })
            .collect()
    })
}

fn parse_instance_document(body: &str) -> Result<Instance, String> {
    let document: Value = serde_json::from_str(body).map_err(|err| err.to_string())?;
    parse_instance(&document["instance"]).ok_or_else(|| "no instance object".into())
}

/// The instances of an application document; `instance` may be an array or a single object.
fn parse_application_document(body: &str) -> Result<Vec<Instance>, String> {
    let document: Value = serde_json::from_str(body).map_err(|err| err.to_string())?;
    let application = document
        .get("application")
        .ok_or_else(|| "no application object".to_string())?;
    let instances = match &application["instance"] {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    instances
        .into_iter()
        .map(|item| {
            parse_instance(item).ok_or_else(|| "an instance without instanceId or hostName".into())
        })
        .collect()
}

fn parse_instance(value: &Value) -> Option<Instance> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let host_name = text("hostName").unwrap_or_default();
    // Eureka's InstanceInfo.getId(): the instanceId, else the hostName.
    let instance_id = text("instanceId")
        .filter(|id| !id.is_empty())
        .or_else(|| Some(host_name.clone()).filter(|host| !host.is_empty()))?;
    Some(Instance {
        instance_id,
        ip_addr: text("ipAddr").unwrap_or_default(),
        port: value.get("port").and_then(port_number),
        status: text("status").unwrap_or_else(|| "UNKNOWN".into()),
        // Older servers and the XML codec spell it `overriddenstatus`.
        overridden_status: text("overriddenStatus")
            .or_else(|| text("overriddenstatus"))
            .unwrap_or_else(|| "UNKNOWN".into()),
        last_updated_ms: value.get("lastUpdatedTimestamp").and_then(number_or_string),
        host_name,
    })
}

/// `{"$": 8080, "@enabled": "true"}`, or a bare number or string.
fn port_number(value: &Value) -> Option<u16> {
    let number = match value {
        Value::Object(port) => port.get("$").and_then(number_or_string),
        other => number_or_string(other),
    }?;
    u16::try_from(number).ok()
}

fn number_or_string(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCE: &str = r#"{"instance":{"instanceId":"pod-0:demo:8080","hostName":"pod-0","app":"DEMO",
        "ipAddr":"10.0.0.7","status":"OUT_OF_SERVICE","overriddenStatus":"OUT_OF_SERVICE",
        "port":{"$":8080,"@enabled":"true"},"lastUpdatedTimestamp":"1795585797983"}}"#;

    #[test]
    fn instance_documents_are_read_as_the_server_writes_them() {
        let instance = parse_instance_document(INSTANCE).unwrap();
        assert_eq!(instance.instance_id, "pod-0:demo:8080");
        assert_eq!(instance.port, Some(8080));
        assert!(instance.has_override());
        assert_eq!(instance.last_updated_ms, Some(1_795_585_797_983));
    }

    #[test]
    fn legacy_lowercase_override_and_missing_id_are_understood() {
        let instance = parse_instance_document(
            r#"{"instance":{"hostName":"pod-1","status":"UP","overriddenstatus":"UNKNOWN","port":8081}}"#,
        )
        .unwrap();
        assert_eq!(instance.instance_id, "pod-1");
        assert_eq!(instance.port, Some(8081));
        assert!(!instance.has_override());
    }

    #[test]
    fn application_documents_accept_an_array_or_a_single_instance() {
        let array = r#"{"application":{"name":"DEMO","instance":[{"instanceId":"a","hostName":"h"},{"instanceId":"b","hostName":"h"}]}}"#;
        assert_eq!(parse_application_document(array).unwrap().len(), 2);
        let single =
            r#"{"application":{"name":"DEMO","instance":{"instanceId":"a","hostName":"h"}}}"#;
        assert_eq!(
            parse_application_document(single).unwrap()[0].instance_id,
            "a"
        );
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for body in [
            "",
            "{",
            "[]",
            r#"{"instance":{}}"#,
            r#"{"instance":"x"}"#,
            "null",
        ] {
            assert!(parse_instance_document(body).is_err(), "{body}");
        }
        assert!(parse_application_document(r#"{"applications":{}}"#).is_err());
    }

    #[test]
    fn statuses_map_to_answers() {
        let answered = |status| Exchange::Answered {
            status,
            body: None,
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
            retry_after: Some(Duration::from_secs(120)),
            location: None,
        });
        assert_eq!(
            answer.to_string(),
            "503 server error (it asked to retry after 2m, more than --request-timeout leaves)"
        );
    }

    #[test]
    fn failures_are_described_against_the_whole_request_timeout() {
        let budget = Duration::from_millis(1500);
        assert_eq!(
            describe_failure(&ureq::Error::Timeout(ureq::Timeout::Resolve), budget),
            "the host name did not resolve within 1s 500ms: check the Eureka URL and the cluster DNS"
        );
        assert_eq!(
            describe_failure(&ureq::Error::Timeout(ureq::Timeout::Global), budget),
            "no answer within 1s 500ms (--request-timeout)"
        );
        assert_eq!(
            describe_body_failure(&ureq::Error::Timeout(ureq::Timeout::Global), budget),
            "its body did not arrive in full within 1s 500ms (--request-timeout)"
        );
        assert_eq!(
            describe_body_failure(&ureq::Error::BodyExceedsLimit(MAX_BODY_BYTES), budget),
            "the answer is larger than 4194304 bytes; not read"
        );
        let refused = ureq::Error::Io(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(describe_failure(&refused, budget), "connection refused");
        assert!(is_transient(&refused));
    }

    #[test]
    fn tls_failures_say_what_to_change() {
        let unknown = describe_tls_failure("invalid peer certificate: UnknownIssuer");
        assert!(
            unknown.contains("--cacert (EUREKA_HOOK_CACERT)"),
            "{unknown}"
        );
        let wrong_name = describe_tls_failure(
            "invalid peer certificate: certificate not valid for name \"eureka\"",
        );
        assert!(
            wrong_name.contains("does not name this host"),
            "{wrong_name}"
        );
        let expired = describe_tls_failure("invalid peer certificate: certificate expired");
        assert!(expired.contains("validity period"), "{expired}");
        let not_tls = describe_tls_failure("received corrupt message of type InvalidContentType");
        assert!(not_tls.contains("speaks HTTPS"), "{not_tls}");
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let backoff = Duration::from_millis(100);
        let answered = |status, retry_after| Exchange::Answered {
            status,
            body: None,
            retry_after,
            location: None,
        };
        assert_eq!(answered(503, None).retry_pause(backoff), Some(backoff));
        assert_eq!(
            answered(503, Some(Duration::from_secs(1))).retry_pause(backoff),
            Some(Duration::from_secs(1))
        );
        assert_eq!(answered(404, None).retry_pause(backoff), None);
        assert_eq!(answered(401, None).retry_pause(backoff), None);
        let failed = |transient| Exchange::Failed {
            reason: String::new(),
            transient,
        };
        assert_eq!(failed(true).retry_pause(backoff), Some(backoff));
        assert_eq!(failed(false).retry_pause(backoff), None);
    }
}
