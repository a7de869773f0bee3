//! An in-process double of a Netflix Eureka server (the REST resources Spring Cloud Netflix
//! embeds, eureka-core 1.10.x) on 127.0.0.1, for eureka-hook's end-to-end tests, examples and
//! benchmark.
//!
//! [`EurekaDouble`] answers the Eureka REST API as the real server does: registration, heartbeats,
//! cancel, status overrides and their removal with the server's override rules, instance,
//! application, full-registry and delta reads in JSON or XML (full, or compact for
//! `X-Eureka-Accept: compact`; gzip-compressed for `Accept-Encoding: gzip` where the
//! [`ServerFlavour`] compresses), the read-only
//! response cache, lease expiry and eviction, HTTP Basic authentication, CSRF rejection and
//! replication of client writes to peer doubles. It
//! records every request with the size of the body it answered and can script faults
//! ([`ScriptedReply`]). [`FaultPeer`]s misbehave below HTTP, a [`TlsFront`]
//! serves a double over HTTPS with a self-signed certificate, and a [`CountingProxy`] counts
//! what a client's requests cost on the wire.
//!
//! ```no_run
//! use eureka_double::{EurekaDouble, InstanceSpec};
//!
//! let eureka = EurekaDouble::start();
//! let id = eureka.register(InstanceSpec::new("demo-service", "pod-0", 8080));
//! // ... run the hook against eureka.base_url() ...
//! let state = eureka.instance("demo-service", &id).expect("still registered");
//! assert_eq!(state.status, "OUT_OF_SERVICE");
//! ```

mod api;
mod clock;
mod faults;
mod flavour;
mod housekeeping;
mod instance;
mod lease;
mod pairs;
mod proxy;
mod recording;
mod registration;
mod registry;
mod render;
mod replication;
mod reply;
mod response_cache;
mod rules;
mod script;
mod security;
mod server;
mod spec;
mod status;
mod sync;
mod tls;
mod uri;

pub use clock::ManualClock;
pub use faults::FaultPeer;
pub use flavour::ServerFlavour;
pub use proxy::CountingProxy;
pub use recording::RecordedRequest;
pub use script::ScriptedReply;
pub use server::{DoubleBuilder, EurekaDouble};
pub use spec::{InstanceSpec, InstanceState};
pub use tls::TlsFront;
