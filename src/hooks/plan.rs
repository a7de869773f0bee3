//! A flow's requests as data: what `--dry-run` prints, built by the same functions the flow calls
//! when it sends them, each under the condition it is sent on.

use std::sync::LazyLock;

use super::requests::{eureka_check, listing};
use crate::eureka::RegistryRequest;
use crate::settings::Identity;
use crate::values::{AppName, InstanceId};

/// One request a flow may send to each peer.
pub struct PlannedRequest<'a> {
    /// The condition it is sent on (`None`: always).
    pub when: Option<&'static str>,
    pub request: RegistryRequest<'a>,
    /// What it is for, or how often it is sent; printed after it.
    pub note: String,
}

impl<'a> PlannedRequest<'a> {
    pub fn always(request: RegistryRequest<'a>, note: impl Into<String>) -> Self {
        PlannedRequest {
            when: None,
            request,
            note: note.into(),
        }
    }

    pub fn on(when: &'static str, request: RegistryRequest<'a>, note: impl Into<String>) -> Self {
        PlannedRequest {
            when: Some(when),
            request,
            note: note.into(),
        }
    }
}

/// What a flow would do: its requests to each peer, then what it does after them.
pub struct Plan<'a> {
    pub requests: Vec<PlannedRequest<'a>>,
    pub afterwards: Option<String>,
}

/// When the fallback's listing of the app is read.
#[derive(Clone, Copy)]
pub enum Listing {
    /// Only when no peer knows any candidate id.
    Needed,
    /// Already, just before the mark (prestop with a drain).
    ReadBeforeTheMark,
}

/// Stands in a plan for the id of the instance found by host or address and port, which only the
/// registry's listing tells.
static FOUND_ID: LazyLock<InstanceId> = LazyLock::new(InstanceId::placeholder_for_dry_run);

/// Every id a request after the first round may go to: each candidate, then the one found by host
/// or address and port (shown as `(found-id)`).
pub fn every_id(identity: &Identity) -> impl Iterator<Item = &InstanceId> {
    identity
        .candidates()
        .into_iter()
        .chain(std::iter::once(&*FOUND_ID))
}

/// What every flow sends when no peer knows any candidate id: the app's listing (unless it was
/// read already), `for_found` for the one instance listed with this pod's host or address and
/// port, and, when the listing answers 404, the check that the URL is a Eureka server's.
pub fn fallback<'a>(
    identity: &'a Identity,
    listing_read: Listing,
    for_found: impl FnOnce(&'a AppName, &'a InstanceId) -> RegistryRequest<'a>,
) -> Vec<PlannedRequest<'a>> {
    let app = &identity.app;
    let mut requests = Vec::new();
    if let Listing::Needed = listing_read {
        requests.push(PlannedRequest::on(
            "if no id is registered",
            listing(app),
            "  (to find the instance with this pod's host or address and port)",
        ));
    }
    requests.push(PlannedRequest::on(
        "if no id is registered and the listing has this pod's instance",
        for_found(app, &FOUND_ID),
        "",
    ));
    requests.push(PlannedRequest::on(
        "if no id is registered and every listing answers 404",
        eureka_check(),
        "  (once: whether the URL is a Eureka server's; without its /eureka/ path it is not)",
    ));
    requests
}
