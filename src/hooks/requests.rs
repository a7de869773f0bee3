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

/// After a 404: every registered instance of the app.
pub fn listing(app: &AppName) -> RegistryRequest<'_> {
    RegistryRequest::Application { app }
}

/// poststart and status: this instance, read from the registry itself.
pub fn lookup(identity: &Identity) -> RegistryRequest<'_> {
    RegistryRequest::Instance {
        app: &identity.app,
        id: &identity.instance_id,
    }
}

/// poststart: remove this instance's status override.
pub fn clear_override(identity: &Identity) -> RegistryRequest<'_> {
    RegistryRequest::ClearOverride {
        app: &identity.app,
        id: &identity.instance_id,
    }
}
