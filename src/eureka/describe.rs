//! Wording a failed request for a person: what happened and what to change. A sentence never
//! contains the URL (the caller names the peer). Failures are told apart by their type: ureq's
//! error enum, the `io::ErrorKind`, a [`NameLookupFailed`] or a `rustls::Error` inside an I/O error.

use std::io::{self, ErrorKind};
use std::time::Duration;

use rustls::CertificateError;

use super::budget::Budget;
use super::lookup::name_lookup_failure;
use crate::vars;

/// A sentence about a failed request. `budget` is the limit the attempt belonged to.
pub fn describe_failure(err: &ureq::Error, budget: impl Into<Budget>) -> String {
    let budget = budget.into();
    let waited = shown(budget.whole);
    let limit = budget.limit.named();
    match err {
        ureq::Error::Io(io) => describe_io_failure(io, budget),
        ureq::Error::Timeout(ureq::Timeout::Resolve) => format!(
            "the host name did not resolve within {waited}: check the Eureka URL and the cluster DNS"
        ),
        ureq::Error::Timeout(ureq::Timeout::Connect) => {
            format!("could not connect within {waited} ({limit})")
        }
        ureq::Error::Timeout(_) => format!("no answer within {waited} ({limit})"),
        ureq::Error::HostNotFound => "the host name does not resolve: check the Eureka URL".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Rustls(tls) => describe_tls_failure(tls),
        ureq::Error::Protocol(protocol) => format!("not a valid HTTP answer ({protocol})"),
        other => format!("request failed ({other})"),
    }
}

/// Whether the request failed because its time ran out (so the budget's limit is what ended it).
pub fn ran_out_of_time(err: &ureq::Error) -> bool {
    match err {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(io) => matches!(io.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock),
        _ => false,
    }
}

fn describe_io_failure(io: &io::Error, budget: Budget) -> String {
    if let Some(lookup) = name_lookup_failure(io) {
        return format!("the host name does not resolve ({lookup}): check the Eureka URL");
    }
    // ureq hands rustls' errors over inside I/O errors: a distrusted certificate, or a
    // plain-HTTP port answering a TLS handshake.
    let tls = io
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    if let Some(tls @ (rustls::Error::InvalidCertificate(_) | rustls::Error::InvalidMessage(_))) =
        tls
    {
        return describe_tls_failure(tls);
    }
    match io.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            "connection reset by the server".into()
        }
        ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            format!(
                "no answer within {} ({})",
                shown(budget.whole),
                budget.limit.named()
            )
        }
        ErrorKind::UnexpectedEof => "the server closed the connection without answering".into(),
        _ => format!("network error: {io}"),
    }
}

/// What went wrong while reading the body of an answer whose headers came.
pub fn describe_body_failure(err: &ureq::Error, budget: impl Into<Budget>) -> String {
    let budget = budget.into();
    match err {
        ureq::Error::BodyExceedsLimit(limit) => {
            format!("the answer is larger than {limit} bytes; not read")
        }
        timed_out if ran_out_of_time(timed_out) => body_timed_out(budget),
        other => format!(
            "its body could not be read ({})",
            describe_failure(other, budget)
        ),
    }
}

fn body_timed_out(budget: Budget) -> String {
    format!(
        "its body did not arrive in full within {} ({})",
        shown(budget.whole),
        budget.limit.named()
    )
}

/// rustls' message about a failed handshake, with what to do about it.
fn describe_tls_failure(err: &rustls::Error) -> String {
    let give_ca = format!("give its CA with --cacert ({})", vars::CACERT[0]);
    let hint = match err {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => &format!(
            "the server's certificate is not trusted (its issuer is not a known CA); {give_ca}"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => {
            "the server's certificate does not name this host: put a name it holds in the Eureka URL"
        }
        rustls::Error::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => "the server's certificate is outside its validity period",
        rustls::Error::InvalidCertificate(CertificateError::Other(other))
            if matches!(
                other.0.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ) =>
        {
            &format!(
                "the server presents a CA certificate as its own; give exactly that certificate \
                 with --cacert ({})",
                vars::CACERT[0]
            )
        }
        rustls::Error::InvalidCertificate(_) => {
            &format!("the server's certificate is not trusted; {give_ca}")
        }
        _ => "check that the Eureka URL's port speaks HTTPS, or use http://",
    };
    format!("TLS failed ({err}): {hint}")
}

/// A duration for a message, to the millisecond.
pub fn shown(duration: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_millis(
        u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eureka::body::MAX_BODY_BYTES;

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
        let refused = ureq::Error::Io(io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(describe_failure(&refused, budget), "connection refused");
    }

    fn inside_io(tls: rustls::Error) -> ureq::Error {
        ureq::Error::Io(io::Error::new(ErrorKind::InvalidData, tls))
    }

    #[test]
    fn tls_failures_say_what_to_change() {
        let budget = Duration::from_secs(1);
        let unknown = describe_failure(
            &inside_io(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
            budget,
        );
        assert!(
            unknown.starts_with("TLS failed (invalid peer certificate: UnknownIssuer)")
                && unknown.contains("--cacert (EUREKA_HOOK_CACERT)"),
            "{unknown}"
        );
        let wrong_name = describe_failure(
            &inside_io(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName,
            )),
            budget,
        );
        assert!(
            wrong_name.contains("does not name this host"),
            "{wrong_name}"
        );
        let expired = describe_failure(
            &inside_io(rustls::Error::InvalidCertificate(CertificateError::Expired)),
            budget,
        );
        assert!(expired.contains("validity period"), "{expired}");
        let not_tls = describe_failure(
            &inside_io(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType,
            )),
            budget,
        );
        assert!(
            not_tls.starts_with("TLS failed (received corrupt message")
                && not_tls.contains("speaks HTTPS"),
            "{not_tls}"
        );
        let other_io = describe_failure(&inside_io(rustls::Error::General("x".into())), budget);
        assert!(other_io.starts_with("network error:"), "{other_io}");
    }
}
