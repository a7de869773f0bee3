//! The Eureka REST client: typed requests, the retrying transport, answers, failure wording and
//! the registry's documents. It does not decide what an answer means for a hook.

mod answer;
mod body;
mod budget;
mod client;
mod describe;
mod document;
mod lookup;
mod peer;
mod status;
pub mod tls;
mod transport;

pub use answer::{Answer, unreadable};
pub use budget::{Budget, Limit};
pub use client::{EurekaClient, RegistryRequest};
pub use describe::shown;
pub use document::{Instance, Listed, Registered, StatusChange, parse_application_document};
pub use peer::Peer;
pub use status::InstanceStatus;
