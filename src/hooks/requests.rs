//! The registry requests the flows send, each built by one function here, which both the flow
//! (to send it) and its plan (for `--dry-run`) call.

use crate::eureka::{InstanceStatus, RegistryRequest};
use crate::values::{AppName, InstanceId};

/// prestop: mark `id` `OUT_OF_SERVICE`.
pub fn mark<'a>(app: &'a AppName, id: &'a InstanceId) -> RegistryRequest<'a> {
    RegistryRequest::SetStatus {
        app,
        id,
        status: InstanceStatus::OutOfService,
    }
}

/// prestop: every registered instance of the app, compact; before the mark it primes the
/// response cache for the watch and serves the 404 fallback, during the drain it is the poll.
pub fn listing(app: &AppName) -> RegistryRequest<'_> {
    RegistryRequest::CompactApplication { app }
}

/// poststart and status: instance `id`, read from the registry itself.
pub fn lookup<'a>(app: &'a AppName, id: &'a InstanceId) -> RegistryRequest<'a> {
    RegistryRequest::Instance { app, id }
}

/// poststart: remove the status override of instance `id`.
pub fn clear_override<'a>(app: &'a AppName, id: &'a InstanceId) -> RegistryRequest<'a> {
    RegistryRequest::ClearOverride { app, id }
}

/// poststart's fast return: remove the status override of instance `id` and set it UP at once.
pub fn return_to_up<'a>(app: &'a AppName, id: &'a InstanceId) -> RegistryRequest<'a> {
    RegistryRequest::ReturnToUp { app, id }
}

/// After an app listing of 404: whether the peer is a Eureka server at all (its registry's
/// recent changes, a small document).
pub fn eureka_check<'a>() -> RegistryRequest<'a> {
    RegistryRequest::Delta
}

/// prestop's watch: the registry's recent changes, asked for exactly as Spring Cloud's clients
/// ask (so it reads the cache key they keep warm).
pub fn clients_delta<'a>() -> RegistryRequest<'a> {
    RegistryRequest::ClientsDelta
}

/// With no app name: the whole registry, asked for exactly as Spring Cloud's clients ask for
/// their full fetch (so it reads the cache key they keep warm).
pub fn clients_registry<'a>() -> RegistryRequest<'a> {
    RegistryRequest::ClientsRegistry
}
