//! The double over real HTTP, in one test binary so that its cases run in parallel.
#![allow(clippy::unwrap_used)]

/// A blocking HTTP client, the cache timer, the recorded transcripts and an order-keeping JSON.
mod support;

/// Behaviour beyond the transcripts: routing, XML, caching, delta, leases, auth, recording,
/// scripted faults, fault peers, TLS.
mod http;

/// Replays a real server's transcript step by step.
mod conformance;

/// Replays a real server's compact and gzip answers; the cache keys they select.
mod compact;
