//! The registry requests the flows send, each built by one function here, which both the flow
//! (to send it) and its plan (for `--dry-run`) call.

use crate::eureka::{InstanceStatus, RegistryRequest};
use crate::settings::Identity;
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

/// poststart and status: this instance, read from the registry itself.
pub fn lookup(identity: &Identity) -> RegistryRequest<'_> {
    RegistryRequest::Instance {
        app: &identity.app,
        id: &identity.instance_id,
    }
}

/// prestop's watch: the live record of the marked instance `id`, to tell whether it lost the mark.
pub fn live_record<'a>(app: &'a AppName, id: &'a InstanceId) -> RegistryRequest<'a> {
    RegistryRequest::Instance { app, id }
}

/// poststart: remove this instance's status override.
pub fn clear_override(identity: &Identity) -> RegistryRequest<'_> {
    RegistryRequest::ClearOverride {
        app: &identity.app,
        id: &identity.instance_id,
    }
}
