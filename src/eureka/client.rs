//! The Eureka REST calls the hooks make, against one peer at a time, each bounded by a time
//! budget that includes its retries.
//!
//! A [`RegistryRequest`] names one call; [`RegistryRequest::call`] is the one place that turns it
//! into method, URL and headers. Every request sends `Accept: application/json` (Eureka answers
//! XML otherwise), percent-encodes the app and instanceId path segments, carries credentials only
//! as an `Authorization` header and never sends `x-netflix-discovery-replication`. Only the app
//! listing asks for the compact form and gzip (ureq decodes it).

use std::time::Duration;

use base64::Engine;
use ureq::tls::Certificate;

use super::Peer;
use super::answer::{Answer, answer_of, body_of, sized_body_of, unreadable};
use super::body::{MAX_BODY_BYTES, MAX_REGISTRY_BYTES};
use super::budget::Budget;
use super::document::{
    Instance, Listed, StatusChange, is_applications_document, parse_application_document,
    parse_instance_document, parse_registry_document, parse_status_change,
};
use super::status::InstanceStatus;
use super::transport::{Call, Exchange, Transport, Verb};
use crate::clock::Clock;
use crate::values::{AppName, InstanceId, ServiceUrl};

/// One call to the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryRequest<'a> {
    /// `PUT apps/{APP}/{ID}/status?value={status}`.
    SetStatus {
        app: &'a AppName,
        id: &'a InstanceId,
        status: InstanceStatus,
    },
    /// `DELETE apps/{APP}/{ID}/status` without `value`, as Eureka's own clients send it.
    ClearOverride {
        app: &'a AppName,
        id: &'a InstanceId,
    },
    /// `DELETE apps/{APP}/{ID}/status?value=UP`: removes the override and, where there was one,
    /// sets the status UP at once (`AbstractInstanceRegistry.deleteStatusOverride`).
    ReturnToUp {
        app: &'a AppName,
        id: &'a InstanceId,
    },
    /// `GET apps/{APP}/{ID}`: read from the registry itself, not the 30 s response cache.
    Instance {
        app: &'a AppName,
        id: &'a InstanceId,
    },
    /// `GET apps/{APP}` in Eureka's compact form (id, status, host, address, ports; no override),
    /// gzip-compressed: every instance of the app, served from the registry's response cache. The
    /// headers select the cache key, so every such request sends exactly the same ones.
    CompactApplication { app: &'a AppName },
    /// `GET apps/delta`: the registry's recent changes; only read to tell a Eureka server from
    /// something else at the service URL.
    Delta,
    /// `GET apps/delta` with the headers Spring Cloud's clients send (JSON, full form, gzip), so
    /// it reads the very cache key they keep warm: the watch's cheaper evidence.
    ClientsDelta,
    /// `GET apps/` with the headers Spring Cloud's clients send for their full fetch (JSON, full
    /// form, gzip): the whole registry, from the cache key they keep warm, to find this pod's
    /// instance when no app name is known.
    ClientsRegistry,
}

impl RegistryRequest<'_> {
    pub fn verb(&self) -> Verb {
        match self {
            RegistryRequest::SetStatus { .. } => Verb::Put,
            RegistryRequest::ClearOverride { .. } | RegistryRequest::ReturnToUp { .. } => {
                Verb::Delete
            }
            RegistryRequest::Instance { .. }
            | RegistryRequest::CompactApplication { .. }
            | RegistryRequest::Delta
            | RegistryRequest::ClientsDelta
            | RegistryRequest::ClientsRegistry => Verb::Get,
        }
    }

    /// The headers this request sends besides `Accept` and `Authorization`.
    pub fn extra_headers(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            RegistryRequest::CompactApplication { .. } => {
                &[("X-Eureka-Accept", "compact"), ("Accept-Encoding", "gzip")]
            }
            RegistryRequest::ClientsDelta | RegistryRequest::ClientsRegistry => {
                &[("Accept-Encoding", "gzip")]
            }
            _ => &[],
        }
    }

    /// The URL of this request below `base`.
    pub fn url(&self, base: &ServiceUrl) -> String {
        match self {
            RegistryRequest::SetStatus { app, id, status } => base.endpoint(
                &["apps", &app.registry_name(), id.as_str(), "status"],
                Some(&format!("value={status}")),
            ),
            RegistryRequest::ClearOverride { app, id } => {
                base.endpoint(&["apps", &app.registry_name(), id.as_str(), "status"], None)
            }
            RegistryRequest::ReturnToUp { app, id } => base.endpoint(
                &["apps", &app.registry_name(), id.as_str(), "status"],
                Some("value=UP"),
            ),
            RegistryRequest::Instance { app, id } => {
                base.endpoint(&["apps", &app.registry_name(), id.as_str()], None)
            }
            RegistryRequest::CompactApplication { app } => {
                base.endpoint(&["apps", &app.registry_name()], None)
            }
            RegistryRequest::Delta | RegistryRequest::ClientsDelta => {
                base.endpoint(&["apps", "delta"], None)
            }
            RegistryRequest::ClientsRegistry => base.endpoint(&["apps", ""], None),
        }
    }

    /// The most of its answer's body to read.
    fn body_cap(&self) -> u64 {
        match self {
            RegistryRequest::ClientsRegistry => MAX_REGISTRY_BYTES,
            _ => MAX_BODY_BYTES,
        }
    }

    /// The whole request to `peer`: method, URL and headers.
    fn call(&self, peer: &Peer) -> Call {
        let mut headers = vec![("Accept", "application/json".to_string())];
        headers.extend(
            self.extra_headers()
                .iter()
                .map(|(name, value)| (*name, (*value).to_string())),
        );
        if let Some(credentials) = peer.credentials() {
            let token = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                credentials.username,
                credentials.password.expose()
            ));
            headers.push(("Authorization", format!("Basic {token}")));
        }
        Call {
            verb: self.verb(),
            url: self.url(&peer.url),
            headers,
            body_cap: self.body_cap(),
        }
    }
}

/// Talks to Eureka peers; clones share the connection pool.
#[derive(Clone)]
pub struct EurekaClient<'clock> {
    transport: Transport<'clock>,
}

impl<'clock> EurekaClient<'clock> {
    /// `ca_certificates` replace the built-in Mozilla roots when given; retry pauses go through
    /// `clock`.
    pub fn new(ca_certificates: Option<&[Certificate<'static>]>, clock: &'clock dyn Clock) -> Self {
        EurekaClient {
            transport: Transport::new(ca_certificates, clock),
        }
    }

    /// Sends `request` for its answer alone; any body is left unread.
    pub fn answer(
        &self,
        peer: &Peer,
        request: &RegistryRequest,
        budget: impl Into<Budget>,
    ) -> Answer {
        answer_of(self.transport.exchange(&request.call(peer), budget))
    }

    /// [`Self::answer`] within `left`, what an earlier request to the same peer left of the
    /// request timeout `whole`; a failure is described against `whole`.
    pub fn answer_within(
        &self,
        peer: &Peer,
        request: &RegistryRequest,
        left: Duration,
        whole: Duration,
    ) -> Answer {
        answer_of(
            self.transport
                .exchange_within(&request.call(peer), left, whole),
        )
    }

    /// Sends `request` and reads the instance document it returns.
    pub fn instance(
        &self,
        peer: &Peer,
        request: &RegistryRequest,
        budget: impl Into<Budget>,
    ) -> Result<Instance, Answer> {
        let body = body_of(self.transport.exchange(&request.call(peer), budget))?;
        parse_instance_document(&body).map_err(|problem| unreadable(&problem))
    }

    /// Sends `request` and reads when the instance it returns last changed status.
    pub fn status_change(
        &self,
        peer: &Peer,
        request: &RegistryRequest,
        budget: impl Into<Budget>,
    ) -> Result<StatusChange, Answer> {
        let body = body_of(self.transport.exchange(&request.call(peer), budget))?;
        parse_status_change(&body).map_err(|problem| unreadable(&problem))
    }

    /// Sends `request` and says whether the answer is a Eureka registry document
    /// (`{"applications": …}`): `Some(false)` for a 404 or any other 200, `None` when the peer
    /// gave no usable answer.
    pub fn serves_eureka(
        &self,
        peer: &Peer,
        request: &RegistryRequest,
        budget: impl Into<Budget>,
    ) -> Option<bool> {
        match body_of(self.transport.exchange(&request.call(peer), budget)) {
            Ok(body) => Some(is_applications_document(&body)),
            Err(Answer::NotFound) => Some(false),
            Err(_) => None,
        }
    }

    /// Sends `request` and returns the document it answers, with the bytes it took on the wire.
    pub fn sized_document(
        &self,
        peer: &Peer,
        request: &RegistryRequest,
        budget: impl Into<Budget>,
    ) -> Result<(String, usize), Answer> {
        sized_body_of(self.transport.exchange(&request.call(peer), budget))
    }

    /// Sends `request` and reads the application document it returns.
    pub fn instances(
        &self,
        peer: &Peer,
        request: &RegistryRequest,
        budget: impl Into<Budget>,
    ) -> Result<Vec<Instance>, Answer> {
        let body = body_of(self.transport.exchange(&request.call(peer), budget))?;
        parse_application_document(&body).map_err(|problem| unreadable(&problem))
    }

    /// Sends `request` and reads the instances of the registry document it returns that
    /// `wanted` accepts (by their JSON text), with the bytes it took on the wire.
    pub fn registry(
        &self,
        peer: &Peer,
        request: &RegistryRequest,
        budget: impl Into<Budget>,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Result<(Listed, usize), Answer> {
        let (body, bytes) = sized_body_of(self.transport.exchange(&request.call(peer), budget))?;
        let listed =
            parse_registry_document(&body, wanted).map_err(|problem| unreadable(&problem))?;
        Ok((listed, bytes))
    }

    /// The app's own health check: one GET of `url` (not a registry URL) within `budget`, with no
    /// credentials and no retry. The status it answered, or why it did not answer.
    pub fn health(&self, url: &str, budget: impl Into<Budget>) -> Result<u16, String> {
        let call = Call {
            verb: Verb::Get,
            url: url.to_string(),
            headers: vec![("Accept", "application/json".to_string())],
            body_cap: MAX_BODY_BYTES,
        };
        match self.transport.exchange_once(&call, budget) {
            Exchange::Answered { status, .. } => Ok(status),
            Exchange::Failed { reason, .. } => Err(reason),
        }
    }
}
