//! Sending one request to one peer: the attempt, bounded by a time budget, and the retry policy.
//!
//! Credentials go only in the `Authorization` header the client builds; no redirect is followed,
//! proxy variables are ignored (Eureka is in-cluster) and at most the call's `body_cap` of an
//! answer is read. Refused or reset connections and 5xx answers are retried after 100 ms, 200 ms, 400 ms…
//! (or the server's `Retry-After`, when longer) while the budget lasts, and at most
//! [`MOST_ATTEMPTS_PER_REQUEST`] times in all. Pauses go through the injected [`Clock`].
//!
//! Every duration computed here from an answer is checked or saturating: a `Retry-After` of any
//! size only ends the retries.

use std::io::ErrorKind;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use ureq::http::{Method, Request, Response};
use ureq::tls::Certificate;
use ureq::{Agent, Body, RequestExt};

use super::body::{decoded, read_body};
use super::budget::{Budget, Limit};
use super::describe::{describe_body_failure, describe_failure, ran_out_of_time};
use super::lookup::NamingResolver;
use super::tls;
use crate::clock::Clock;
use crate::log;

/// The first pause before retrying a transient failure; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// A retry is not worth starting with less time than this left in the budget.
const SHORTEST_ATTEMPT: Duration = Duration::from_millis(50);
/// The most attempts one request makes, its retries included, however short the pauses a
/// server asks for: a peer that answers every request with `503` and `Retry-After: 0` gets this
/// many requests per request of a phase, not a storm.
pub const MOST_ATTEMPTS_PER_REQUEST: u32 = 4;
/// The most of a body read after a PUT's or DELETE's 2xx: enough to tell a page from nothing.
const MOST_STATUS_BODY_BYTES: u64 = 16 * 1024;
/// How much sooner than the whole attempt the name lookup must end.
const LOOKUP_MARGIN: Duration = Duration::from_millis(1);
/// Each connection's buffers. ureq fills both with zeros when a connection first sends (128 KiB
/// each by default: a quarter of a hook's peak RSS). The output buffer holds a request's head
/// (the hook sends no body), and Tomcat, which Spring's Eureka server runs on, refuses a head
/// over 8 KiB; the input buffer holds an answer's head, which Tomcat keeps under 8 KiB, with
/// room for a proxy's headers. Bodies stream through it in as many reads as they take.
const OUTPUT_BUFFER_BYTES: usize = 8 * 1024;
const INPUT_BUFFER_BYTES: usize = 16 * 1024;
/// Below the input buffer, so that a longer head fails as too large rather than as a stall.
const MOST_RESPONSE_HEAD_BYTES: usize = 15 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Put,
    Delete,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Put => Method::PUT,
            Verb::Delete => Method::DELETE,
        }
    }
}

/// One whole HTTP request, as the client built it.
pub struct Call {
    pub verb: Verb,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// The most of a 200's body to read, on the wire and once decoded.
    pub body_cap: u64,
}

/// The raw outcome of one attempt.
pub enum Exchange {
    Answered {
        status: u16,
        /// The body of a GET's 200. For a PUT's or DELETE's 2xx, what came with it (Eureka sends
        /// nothing): the first [`MOST_STATUS_BODY_BYTES`] as lossy text, or, when the headers
        /// announce a body, its `Content-Type` in brackets, unread. Any other body is left unread.
        body: Option<String>,
        /// How many body bytes came over the wire (compressed, if they were).
        body_bytes: usize,
        retry_after: Option<Duration>,
        location: Option<String>,
    },
    Failed {
        reason: String,
        transient: bool,
        /// The limit of the budget, when the attempt ran out of time.
        ran_out: Option<Limit>,
    },
}

impl Exchange {
    fn summary(&self) -> String {
        match self {
            Exchange::Answered { status, .. } => status.to_string(),
            Exchange::Failed { reason, .. } => reason.clone(),
        }
    }

    /// How long to pause before retrying, or `None` if this outcome is final. A `Retry-After`
    /// shorter than the backoff is lengthened to it.
    fn retry_pause(&self, backoff: Duration) -> Option<Duration> {
        match self {
            Exchange::Answered {
                status: 500..=599,
                retry_after,
                ..
            } => Some(retry_after.map_or(backoff, |asked| asked.max(backoff))),
            Exchange::Failed {
                transient: true, ..
            } => Some(backoff),
            _ => None,
        }
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

/// Sends requests over one connection-pooling agent.
#[derive(Clone)]
pub struct Transport<'clock> {
    agent: Agent,
    clock: &'clock dyn Clock,
}

impl<'clock> Transport<'clock> {
    /// `ca_certificates` replace the built-in Mozilla roots when given.
    pub fn new(ca_certificates: Option<&[Certificate<'static>]>, clock: &'clock dyn Clock) -> Self {
        let given: Option<Vec<CertificateDer<'static>>> = ca_certificates.map(|certificates| {
            certificates
                .iter()
                .map(|certificate| CertificateDer::from(certificate.der().to_vec()))
                .collect()
        });
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(None)
            .user_agent(concat!("eureka-hook/", env!("CARGO_PKG_VERSION")))
            .input_buffer_size(INPUT_BUFFER_BYTES)
            .output_buffer_size(OUTPUT_BUFFER_BYTES)
            .max_response_header_size(MOST_RESPONSE_HEAD_BYTES)
            .build();
        let agent = Agent::with_parts(
            config,
            tls::connector(given.as_deref()),
            NamingResolver::default(),
        );
        Transport { agent, clock }
    }

    /// `call`, retried after a transient failure while `budget` lasts; a failure is described
    /// against its whole limit.
    pub fn exchange(&self, call: &Call, budget: impl Into<Budget>) -> Exchange {
        let budget = budget.into();
        with_retries(self.clock, budget.left, &call.url, |timeout| {
            let started = self.clock.now();
            let exchange = self.attempt(call, timeout, budget);
            log::debug(
                "request",
                &format!(
                    "{} {} -> {} in {} ms",
                    call.verb.method(),
                    call.url,
                    exchange.summary(),
                    self.clock.now().duration_since(started).as_millis()
                ),
            );
            exchange
        })
    }

    /// `call` once, with no retry, within `budget`: for a URL that is not a registry's.
    pub fn exchange_once(&self, call: &Call, budget: impl Into<Budget>) -> Exchange {
        let budget = budget.into();
        let exchange = self.attempt(call, budget.left, budget);
        log::debug(
            "request",
            &format!(
                "{} {} -> {}",
                call.verb.method(),
                call.url,
                exchange.summary()
            ),
        );
        exchange
    }

    /// `call`, retried while `left` lasts, the part of the request timeout `whole` that an
    /// earlier request to the same peer left; a failure is described against `whole`.
    pub fn exchange_within(&self, call: &Call, left: Duration, whole: Duration) -> Exchange {
        let budget = Budget {
            left,
            whole,
            limit: Limit::RequestTimeout,
        };
        self.exchange(call, budget)
    }

    /// One attempt limited to `timeout`; a failure is described against the whole `budget`.
    fn attempt(&self, call: &Call, timeout: Duration, budget: Budget) -> Exchange {
        match self.send(call, timeout) {
            Ok(exchange) => exchange,
            Err(Failure::Request(err)) => Exchange::Failed {
                reason: describe_failure(&err, budget),
                transient: is_transient(&err),
                ran_out: ran_out_of_time(&err).then_some(budget.limit),
            },
            Err(Failure::Body { status, err }) => Exchange::Failed {
                reason: format!(
                    "answered {status} but {}",
                    describe_body_failure(&err, budget)
                ),
                transient: false,
                ran_out: ran_out_of_time(&err).then_some(budget.limit),
            },
        }
    }

    fn send(&self, call: &Call, timeout: Duration) -> Result<Exchange, Failure> {
        let mut request = Request::builder().method(call.verb.method()).uri(&call.url);
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        let mut response = match call.verb {
            // An empty slice, not `()`: ureq then sends `Content-Length: 0` in one write, not
            // chunked. GET and DELETE carry no length at all (RFC 9110 §8.6).
            Verb::Put => self.run(request.body(&[][..]), timeout)?,
            Verb::Get | Verb::Delete => self.run(request.body(()), timeout)?,
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
        let gzipped = header("Content-Encoding")
            .is_some_and(|encoding| encoding.trim().eq_ignore_ascii_case("gzip"));
        let mut body_bytes = 0;
        let body = match call.verb {
            Verb::Get if status == 200 => Some(
                read_body(response.body_mut().as_reader(), call.body_cap)
                    .and_then(|bytes| {
                        body_bytes = bytes.len();
                        decoded(bytes, gzipped, call.body_cap)
                    })
                    .map_err(|err| Failure::Body { status, err })?,
            ),
            Verb::Put | Verb::Delete if (200..300).contains(&status) => {
                match announced_body(&header) {
                    Some(described) => Some(described),
                    None => Some(
                        status_body(response.body_mut())
                            .map_err(|err| Failure::Body { status, err })?,
                    ),
                }
            }
            _ => None,
        };
        Ok(Exchange::Answered {
            status,
            body,
            body_bytes,
            retry_after: retry_after.map(Duration::from_secs),
            location,
        })
    }

    fn run(
        &self,
        request: Result<Request<impl ureq::AsSendBody>, ureq::http::Error>,
        timeout: Duration,
    ) -> Result<Response<Body>, ureq::Error> {
        // `timeout_global` bounds everything from the name lookup to the last body byte (ureq
        // resolves in a thread when a timeout is set, so a stuck DNS server cannot hold us). The
        // lookup's own limit ends just before, so that a lookup that never ends is reported as
        // one: ureq names the limit that ran out first.
        let lookup_limit = Some(timeout.saturating_sub(LOOKUP_MARGIN)).filter(|l| !l.is_zero());
        request
            .map_err(ureq::Error::from)?
            .with_agent(&self.agent)
            .configure()
            .timeout_global(Some(timeout))
            .timeout_resolve(lookup_limit)
            .build()
            .run()
    }
}

/// A body the headers of a PUT's or DELETE's 2xx announce (a length above zero, or chunks),
/// described by its `Content-Type` and left unread: a slow one cannot hold the mark. `None` when
/// the headers announce none, or leave it to the end of the connection.
fn announced_body(header: &impl Fn(&str) -> Option<String>) -> Option<String> {
    let length = header("Content-Length").map(|length| length.trim().parse::<u64>());
    let announced = match length {
        Some(Ok(0)) => false,
        Some(_) => true,
        None => header("Transfer-Encoding").is_some(),
    };
    announced.then(|| {
        format!(
            "[{}]",
            header("Content-Type").unwrap_or_else(|| "a body".into())
        )
    })
}

/// What came with a PUT's or DELETE's 2xx, as text; a body past the limit is not read further.
fn status_body(body: &mut Body) -> Result<String, ureq::Error> {
    match read_body(body.as_reader(), MOST_STATUS_BODY_BYTES) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(ureq::Error::BodyExceedsLimit(limit)) => Ok(format!("(more than {limit} bytes)")),
        Err(err) => Err(err),
    }
}

/// Runs `attempt` (given the time left) until its outcome is final, no retry fits in `budget`
/// or [`MOST_ATTEMPTS_PER_REQUEST`] were made.
fn with_retries(
    clock: &dyn Clock,
    budget: Duration,
    url: &str,
    mut attempt: impl FnMut(Duration) -> Exchange,
) -> Exchange {
    let started = clock.now();
    let left = || budget.saturating_sub(clock.now().saturating_duration_since(started));
    let mut backoff = FIRST_BACKOFF;
    let mut attempts: u32 = 1;
    loop {
        let exchange = attempt(left());
        let Some(pause) = exchange.retry_pause(backoff) else {
            return exchange;
        };
        if attempts >= MOST_ATTEMPTS_PER_REQUEST || pause.saturating_add(SHORTEST_ATTEMPT) > left()
        {
            return exchange;
        }
        log::debug(
            "retry",
            &format!("{url}: retrying in {} ms", pause.as_millis()),
        );
        clock.sleep(pause);
        backoff = backoff.saturating_mul(2);
        attempts = attempts.saturating_add(1);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::fake::FakeClock;

    fn answered(status: u16, retry_after: Option<Duration>) -> Exchange {
        Exchange::Answered {
            status,
            body: None,
            body_bytes: 0,
            retry_after,
            location: None,
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let backoff = Duration::from_millis(100);
        assert_eq!(answered(503, None).retry_pause(backoff), Some(backoff));
        assert_eq!(
            answered(503, Some(Duration::from_secs(1))).retry_pause(backoff),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            answered(503, Some(Duration::ZERO)).retry_pause(backoff),
            Some(backoff),
            "a Retry-After shorter than the backoff is lengthened to it"
        );
        assert_eq!(answered(404, None).retry_pause(backoff), None);
        assert_eq!(answered(401, None).retry_pause(backoff), None);
        let failed = |transient| Exchange::Failed {
            reason: String::new(),
            transient,
            ran_out: None,
        };
        assert_eq!(failed(true).retry_pause(backoff), Some(backoff));
        assert_eq!(failed(false).retry_pause(backoff), None);
        let refused = ureq::Error::Io(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert!(is_transient(&refused));
        assert!(!is_transient(&ureq::Error::Timeout(ureq::Timeout::Global)));
    }

    #[test]
    fn retries_back_off_doubling_until_the_budget_has_no_room_left() {
        let clock = FakeClock::new();
        let mut time_left = Vec::new();
        let outcome = with_retries(&clock, Duration::from_millis(800), "u", |remaining| {
            time_left.push(remaining);
            answered(503, None)
        });
        assert!(matches!(outcome, Exchange::Answered { status: 503, .. }));
        let ms = |values: &[Duration]| values.iter().map(Duration::as_millis).collect::<Vec<_>>();
        // 100 + 200 + 400 ms fit in 800 ms; a further 800 ms pause would not.
        assert_eq!(ms(&clock.pauses()), [100, 200, 400]);
        assert_eq!(ms(&time_left), [800, 700, 500, 100]);
    }

    #[test]
    fn the_transport_pauses_between_retries_on_its_clock_not_the_wall() {
        let double = eureka_double::EurekaDouble::start();
        double.script(
            eureka_double::ScriptedReply::on("GET", "/apps/DEMO")
                .status(503)
                .times(2),
        );
        let clock = FakeClock::new();
        let transport = Transport::new(None, &clock);
        let call = Call {
            verb: Verb::Get,
            url: format!("{}apps/DEMO", double.base_url()),
            headers: vec![("Accept", "application/json".into())],
            body_cap: crate::eureka::body::MAX_BODY_BYTES,
        };
        let started = std::time::Instant::now();
        let outcome = transport.exchange(&call, Duration::from_secs(5));
        assert!(
            matches!(outcome, Exchange::Answered { status: 404, .. }),
            "the third attempt reaches the registry, which has no DEMO"
        );
        assert_eq!(
            clock.pauses(),
            [Duration::from_millis(100), Duration::from_millis(200)]
        );
        assert!(
            started.elapsed() < Duration::from_millis(300),
            "it slept for real"
        );
    }

    /// The drain's watch tells a request its end cut short from a peer's failure by this, not by
    /// the time on a clock.
    #[test]
    fn a_failure_says_which_limit_ran_out_only_when_time_ran_out() {
        let hanging = eureka_double::FaultPeer::hang();
        let refused = eureka_double::FaultPeer::refused();
        let clock = FakeClock::new();
        let transport = Transport::new(None, &clock);
        let get = |base: String| Call {
            verb: Verb::Get,
            url: format!("{base}apps/DEMO"),
            headers: vec![("Accept", "application/json".into())],
            body_cap: crate::eureka::body::MAX_BODY_BYTES,
        };
        let budget = Budget::of(Duration::from_millis(50), Limit::Drain);
        let ran_out = |exchange| match exchange {
            Exchange::Failed { ran_out, .. } => ran_out,
            Exchange::Answered { status, .. } => panic!("answered {status}"),
        };
        assert_eq!(
            ran_out(transport.exchange(&get(hanging.base_url()), budget)),
            Some(Limit::Drain)
        );
        assert_eq!(
            ran_out(transport.exchange(&get(refused.base_url()), budget)),
            None
        );
    }

    #[test]
    fn a_retry_after_that_fits_is_honoured_and_success_ends_the_retries() {
        let clock = FakeClock::new();
        let mut replies = vec![
            answered(200, None),
            answered(503, Some(Duration::from_secs(2))),
        ];
        let outcome = with_retries(&clock, Duration::from_secs(5), "u", |_| {
            replies.pop().unwrap()
        });
        assert!(matches!(outcome, Exchange::Answered { status: 200, .. }));
        assert_eq!(clock.pauses(), [Duration::from_secs(2)]);
        assert!(replies.is_empty());
    }

    #[test]
    fn a_retry_after_of_any_size_never_overflows_and_never_outlasts_the_budget() {
        for asked in [
            Duration::MAX,
            Duration::from_secs(u64::MAX),
            Duration::from_secs(120),
        ] {
            let clock = FakeClock::new();
            let mut attempts = 0;
            let outcome = with_retries(&clock, Duration::from_secs(5), "u", |_| {
                attempts += 1;
                answered(503, Some(asked))
            });
            assert!(matches!(outcome, Exchange::Answered { status: 503, .. }));
            assert_eq!(attempts, 1, "{asked:?} does not fit: no retry");
            assert!(clock.pauses().is_empty());
        }
    }

    #[test]
    fn a_peer_asking_for_no_pause_gets_a_fixed_number_of_attempts() {
        let clock = FakeClock::new();
        let mut attempts = 0;
        with_retries(&clock, Duration::from_secs(3600), "u", |_| {
            attempts += 1;
            answered(503, Some(Duration::ZERO))
        });
        assert_eq!(attempts, MOST_ATTEMPTS_PER_REQUEST);
        let ms: Vec<u128> = clock.pauses().iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 200, 400], "the backoff, not the zero asked for");
    }
}
