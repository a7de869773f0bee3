//! The consumer's steady stream of requests: one every request period, each to the instance the
//! load balancer chooses, with a short connect and read timeout. A request fails on a connection
//! error, a timeout, a non-2xx answer, or when the load balancer has no instance. Every request is
//! recorded with its time since the rollout's origin.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use ureq::Agent;

use crate::bound_client;
use crate::discovery::Endpoint;
use crate::load_balancer::LoadBalancer;

/// One request the consumer sent.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    /// When it was sent, since the rollout's origin.
    pub at: Duration,
    /// `None` when it succeeded; else the instance (if one was chosen) and why it failed.
    pub failure: Option<Failure>,
}

#[derive(Clone, Debug)]
pub struct Failure {
    pub instance: Option<String>,
    pub reason: String,
}

/// The running stream; [`Traffic::stop`] ends it and hands over the records.
pub struct Traffic {
    stop: Sender<()>,
    thread: JoinHandle<Vec<RequestRecord>>,
}

impl Traffic {
    /// Starts sending one request every `period`, timing them from `origin`; from `source` when
    /// given (else from 127.0.0.1, over ureq's pool).
    pub fn start(
        balancer: Arc<LoadBalancer>,
        origin: Instant,
        period: Duration,
        timeout: Duration,
        source: Option<IpAddr>,
    ) -> Result<Traffic> {
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout))
            .timeout_global(Some(timeout))
            .proxy(None)
            .build()
            .new_agent();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("traffic".into())
            .spawn(move || {
                let mut records = Vec::new();
                let mut next = Instant::now();
                loop {
                    let wait = next.saturating_duration_since(Instant::now());
                    if !matches!(stopped.recv_timeout(wait), Err(RecvTimeoutError::Timeout)) {
                        return records;
                    }
                    let at = origin.elapsed();
                    let failure = match source {
                        Some(source) => send_from(source, balancer.choose(), timeout).err(),
                        None => send(&agent, balancer.choose()).err(),
                    };
                    records.push(RequestRecord { at, failure });
                    // A steady pace: after a slow request, carry on from now rather than bursting.
                    next = (next + period).max(Instant::now());
                }
            })
            .context("starting the traffic thread")?;
        Ok(Traffic { stop, thread })
    }

    pub fn stop(self) -> Result<Vec<RequestRecord>> {
        drop(self.stop);
        self.thread
            .join()
            .map_err(|_| anyhow!("the traffic thread panicked"))
    }
}

fn send_from(source: IpAddr, endpoint: Option<Endpoint>, timeout: Duration) -> Result<(), Failure> {
    let Some(endpoint) = endpoint else {
        return Err(Failure {
            instance: None,
            reason: "no instance to send to".into(),
        });
    };
    let target = endpoint
        .host
        .parse::<IpAddr>()
        .map(|host| SocketAddr::new(host, endpoint.port))
        .map_err(|err| err.to_string());
    target
        .and_then(|target| bound_client::get_from(source, target, timeout))
        .map_err(|reason| Failure {
            instance: Some(endpoint.id.clone()),
            reason,
        })
}

fn send(agent: &Agent, endpoint: Option<Endpoint>) -> Result<(), Failure> {
    let Some(endpoint) = endpoint else {
        return Err(Failure {
            instance: None,
            reason: "no instance to send to".into(),
        });
    };
    let failed = |reason: String| Failure {
        instance: Some(endpoint.id.clone()),
        reason,
    };
    let url = format!("http://{}:{}/", endpoint.host, endpoint.port);
    let mut response = agent
        .get(&url)
        .call()
        .map_err(|err| failed(err.to_string()))?;
    let status = response.status();
    // Read the body so the connection goes back to the pool.
    response
        .body_mut()
        .read_to_string()
        .map_err(|err| failed(format!("reading the answer: {err}")))?;
    if !status.is_success() {
        return Err(failed(format!("HTTP {status}")));
    }
    Ok(())
}
