//! The fast return: whether poststart may send `DELETE …/status?value=UP` (the override removed
//! and the instance UP at once, as `AbstractInstanceRegistry.deleteStatusOverride` does) instead
//! of the plain `DELETE …/status`, which leaves it UNKNOWN until the app's next heartbeat is
//! refused and it re-registers (0–30 s, plus a cache refresh).
//!
//! It forces UP onto whatever the record is, so all of these must hold, checked in this order
//! (the cheap ones first), for every peer's live record (`GET apps/{APP}/{ID}`) that is sent the
//! DELETE:
//! 1. the record's `ipAddr` or `hostName` is one of this pod's addresses or names (a record with
//!    another address is a previous pod's);
//! 2. its `leaseInfo.registrationTimestamp` is later than the latest moment PID 1 may have started
//!    (`incarnation`): an older registration is a lease left by a previous incarnation;
//! 3. the app answers its own health check with a 2xx within the request timeout: `--health-url`,
//!    else the record's `healthCheckUrl` when its host is this pod's or a loopback address (a
//!    2xx from another host says nothing of this app). One GET, no credentials, no retry.
//!
//! Otherwise, or with `--no-fast-return`, the plain DELETE is sent, and one line names the guard
//! that refused. The stale-override rule (`stale`) decides first which peers get a DELETE at all.
//! Guard 2 compares the registry's clock with this machine's: a registry clock behind by more
//! than the seconds between PID 1's start and the app's registration refuses the fast return
//! (the safe side).

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use ureq::http::Uri;

use super::status::shown_timestamp;
use crate::eureka::{Budget, EurekaClient, Instance, Peer};
use crate::incarnation::epoch_ms;
use crate::log::escaped;
use crate::settings::FastReturn;

/// When PID 1 started, or why that is not known.
pub type PodStart = Result<SystemTime, String>;

/// Why the fast return was not taken: the guard that refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Disabled,
    /// Guard 1: neither address of the record is this pod's.
    ForeignAddress {
        peer: String,
        ip_addr: String,
        host_name: String,
    },
    /// Guard 2: the record carries no registration time.
    NoRegistrationTime {
        peer: String,
    },
    /// Guard 2: PID 1's start could not be read.
    PodStartUnknown(String),
    /// Guard 2: registered (epoch ms) no later than PID 1 started (epoch ms).
    RegisteredBeforePodStart {
        peer: String,
        registered_ms: u64,
        started_ms: u64,
    },
    /// Guard 3: no --health-url and no `healthCheckUrl` on the record.
    NoHealthUrl,
    /// Guard 3: the record's `healthCheckUrl` names another host.
    HealthUrlElsewhere(String),
    /// Guard 3: the health check answered this status.
    Unhealthy {
        url: String,
        status: u16,
    },
    /// Guard 3: the health check gave no answer (refused, timed out, …).
    HealthUnanswered {
        url: String,
        reason: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Disabled => {
                f.write_str("turned off (--no-fast-return or EUREKA_HOOK_FAST_RETURN=false)")
            }
            Refusal::ForeignAddress {
                peer,
                ip_addr,
                host_name,
            } => write!(
                f,
                "address guard: peer {peer}'s record has ipAddr '{}' and hostName '{}', neither \
                 of them this pod's (a previous pod's record?)",
                escaped(ip_addr),
                escaped(host_name)
            ),
            Refusal::NoRegistrationTime { peer } => write!(
                f,
                "registration guard: peer {peer}'s record has no leaseInfo.registrationTimestamp"
            ),
            Refusal::PodStartUnknown(why) => write!(
                f,
                "registration guard: this pod's start time is unknown ({why})"
            ),
            Refusal::RegisteredBeforePodStart {
                peer,
                registered_ms,
                started_ms,
            } => write!(
                f,
                "registration guard: peer {peer}'s record was registered at {} \
                 ({registered_ms} epoch ms), before this pod's PID 1 started at {} \
                 ({started_ms}): a previous incarnation's lease",
                shown_timestamp(*registered_ms),
                shown_timestamp(*started_ms)
            ),
            Refusal::NoHealthUrl => f.write_str(
                "health guard: the record has no healthCheckUrl and no --health-url is given",
            ),
            Refusal::HealthUrlElsewhere(url) => write!(
                f,
                "health guard: the record's healthCheckUrl '{}' is not on this pod (--health-url \
                 names the one to ask)",
                escaped(url)
            ),
            Refusal::Unhealthy { url, status } => write!(
                f,
                "health guard: GET {} answered {status}, not 2xx",
                escaped(url)
            ),
            Refusal::HealthUnanswered { url, reason } => write!(
                f,
                "health guard: GET {} got no answer: {reason} (said of the health URL here, \
                 which --health-url sets)",
                escaped(url)
            ),
        }
    }
}

/// Guards 1 and 2 on `peer`'s `record`, for a pod with `addresses` whose PID 1 started at
/// `pod_start`.
pub fn record_refusal(
    peer: &str,
    record: &Instance,
    addresses: &[&str],
    pod_start: &PodStart,
) -> Option<Refusal> {
    let ours = |text: &str| {
        !text.is_empty() && addresses.iter().any(|mine| mine.eq_ignore_ascii_case(text))
    };
    if !ours(&record.ip_addr) && !ours(&record.host_name) {
        return Some(Refusal::ForeignAddress {
            peer: peer.to_string(),
            ip_addr: record.ip_addr.clone(),
            host_name: record.host_name.clone(),
        });
    }
    let started_ms = match pod_start {
        Ok(started) => epoch_ms(*started),
        Err(why) => return Some(Refusal::PodStartUnknown(why.clone())),
    };
    match record.registered_ms {
        None => Some(Refusal::NoRegistrationTime {
            peer: peer.to_string(),
        }),
        Some(registered_ms) if registered_ms <= started_ms => {
            Some(Refusal::RegisteredBeforePodStart {
                peer: peer.to_string(),
                registered_ms,
                started_ms,
            })
        }
        Some(_) => None,
    }
}

/// The health check to ask (guard 3): `given`, else the record's when its host is this pod's.
pub fn health_url<'a>(
    given: Option<&'a str>,
    record: &'a Instance,
    addresses: &[&str],
) -> Result<&'a str, Refusal> {
    if let Some(url) = given {
        return Ok(url);
    }
    let url = record
        .health_check_url
        .as_deref()
        .ok_or(Refusal::NoHealthUrl)?;
    let host = url.parse::<Uri>().ok().and_then(|uri| {
        uri.host().map(|host| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        })
    });
    let on_this_pod = host.is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
            || addresses
                .iter()
                .any(|mine| mine.eq_ignore_ascii_case(&host))
    });
    if on_this_pod {
        Ok(url)
    } else {
        Err(Refusal::HealthUrlElsewhere(url.to_string()))
    }
}

/// Guard 3's verdict on what the health check at `url` answered: its 2xx status, or the refusal.
pub fn health_verdict(url: &str, answer: Result<u16, String>) -> Result<u16, Refusal> {
    match answer {
        Ok(status @ 200..=299) => Ok(status),
        Ok(status) => Err(Refusal::Unhealthy {
            url: url.to_string(),
            status,
        }),
        Err(reason) => Err(Refusal::HealthUnanswered {
            url: url.to_string(),
            reason,
        }),
    }
}

/// What the guards need besides the records: the settings, and when PID 1 started.
#[derive(Clone, Copy)]
pub struct Guards<'a> {
    pub settings: &'a FastReturn,
    pub pod_start: &'a PodStart,
}

/// What let the fast return through, for the log line.
pub struct Cleared {
    pub health_url: String,
    pub health_status: u16,
}

/// Every guard on `records` (each peer's live record to be sent the DELETE): `Ok` when the fast
/// return may be taken. The health check is asked only when the records pass.
pub fn judge(
    guards: Guards,
    records: &[(&Peer, &Instance)],
    addresses: &[&str],
    client: &EurekaClient,
    budget: Budget,
) -> Result<Cleared, Refusal> {
    let Guards {
        settings,
        pod_start,
    } = guards;
    if !settings.enabled {
        return Err(Refusal::Disabled);
    }
    let Some((_, first)) = records.first() else {
        return Err(Refusal::NoHealthUrl);
    };
    if let Some(refusal) = records
        .iter()
        .find_map(|(peer, record)| record_refusal(&peer.to_string(), record, addresses, pod_start))
    {
        return Err(refusal);
    }
    let url = health_url(settings.health_url.as_deref(), first, addresses)?;
    let health_status = health_verdict(url, client.health(url, budget))?;
    Ok(Cleared {
        health_url: url.to_string(),
        health_status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eureka::InstanceStatus;
    use std::time::{Duration, UNIX_EPOCH};

    const STARTED_MS: u64 = 1_800_000_000_000;
    const ADDRESSES: &[&str] = &["pod-0", "10.0.0.7"];

    fn start_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(STARTED_MS)
    }

    fn record(ip_addr: &str, host_name: &str, registered_ms: Option<u64>) -> Instance {
        Instance {
            id: "pod-0:demo:8080".into(),
            host_name: host_name.into(),
            ip_addr: ip_addr.into(),
            port: Some(8080),
            status: InstanceStatus::OutOfService,
            overridden_status: Some(InstanceStatus::OutOfService),
            last_updated_ms: registered_ms,
            registered_ms,
            health_check_url: Some(format!("http://{host_name}:8080/actuator/health")),
        }
    }

    #[test]
    fn a_record_of_this_pod_registered_after_pid_1_started_passes() {
        let newer = Some(STARTED_MS + 4_000);
        for (ip, host) in [
            ("10.0.0.7", "other"),
            ("10.9.9.9", "POD-0"),
            ("10.0.0.7", "pod-0"),
        ] {
            assert_eq!(
                record_refusal("p", &record(ip, host, newer), ADDRESSES, &Ok(start_time())),
                None
            );
        }
    }

    #[test]
    fn a_record_with_another_address_is_refused_by_the_address_guard() {
        let refusal = record_refusal(
            "p",
            &record("10.9.9.9", "pod-9", Some(STARTED_MS + 4_000)),
            ADDRESSES,
            &Ok(start_time()),
        );
        assert!(
            matches!(refusal, Some(Refusal::ForeignAddress { .. })),
            "{refusal:?}"
        );
        // An empty field is never this pod's, even with an empty address known.
        let refusal = record_refusal(
            "p",
            &record("", "", Some(STARTED_MS + 1)),
            &[""],
            &Ok(start_time()),
        );
        assert!(
            matches!(refusal, Some(Refusal::ForeignAddress { .. })),
            "{refusal:?}"
        );
    }

    #[test]
    fn a_registration_not_after_pid_1_started_or_unknown_is_refused() {
        for registered in [STARTED_MS, STARTED_MS - 1, 0] {
            assert_eq!(
                record_refusal(
                    "p",
                    &record("10.0.0.7", "pod-0", Some(registered)),
                    ADDRESSES,
                    &Ok(start_time())
                ),
                Some(Refusal::RegisteredBeforePodStart {
                    peer: "p".into(),
                    registered_ms: registered,
                    started_ms: STARTED_MS
                })
            );
        }
        assert_eq!(
            record_refusal(
                "p",
                &record("10.0.0.7", "pod-0", None),
                ADDRESSES,
                &Ok(start_time())
            ),
            Some(Refusal::NoRegistrationTime { peer: "p".into() })
        );
        let unknown: PodStart = Err("no /proc".into());
        assert_eq!(
            record_refusal(
                "p",
                &record("10.0.0.7", "pod-0", Some(STARTED_MS + 1)),
                ADDRESSES,
                &unknown
            ),
            Some(Refusal::PodStartUnknown("no /proc".into()))
        );
    }

    #[test]
    fn the_health_url_is_the_given_one_else_the_records_on_this_pod_only() {
        let mine = record("10.0.0.7", "pod-0", Some(STARTED_MS + 1));
        assert_eq!(
            health_url(Some("http://x/h"), &mine, ADDRESSES),
            Ok("http://x/h")
        );
        assert_eq!(
            health_url(None, &mine, ADDRESSES),
            Ok("http://pod-0:8080/actuator/health")
        );
        let mut elsewhere = mine.clone();
        elsewhere.health_check_url = Some("http://other:8080/actuator/health".into());
        assert!(matches!(
            health_url(None, &elsewhere, ADDRESSES),
            Err(Refusal::HealthUrlElsewhere(_))
        ));
        for loopback in [
            "http://127.0.0.1:8080/h",
            "http://[::1]:8080/h",
            "http://LOCALHOST/h",
        ] {
            elsewhere.health_check_url = Some(loopback.into());
            assert_eq!(health_url(None, &elsewhere, ADDRESSES), Ok(loopback));
        }
        elsewhere.health_check_url = None;
        assert_eq!(
            health_url(None, &elsewhere, ADDRESSES),
            Err(Refusal::NoHealthUrl)
        );
    }

    #[test]
    fn only_a_2xx_health_answer_passes() {
        assert_eq!(health_verdict("u", Ok(200)), Ok(200));
        assert_eq!(health_verdict("u", Ok(204)), Ok(204));
        assert_eq!(
            health_verdict("u", Ok(503)),
            Err(Refusal::Unhealthy {
                url: "u".into(),
                status: 503
            })
        );
        assert!(matches!(
            health_verdict("u", Ok(301)),
            Err(Refusal::Unhealthy { .. })
        ));
        assert!(matches!(
            health_verdict("u", Err("timed out".into())),
            Err(Refusal::HealthUnanswered { .. })
        ));
    }
}
