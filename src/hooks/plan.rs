//! A flow's requests as data: what `--dry-run` prints, built by the same functions the flow calls
//! when it sends them.

use crate::eureka::RegistryRequest;

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
