//! The end-to-end cases, one module per subject.

/// prestop: marking OUT_OF_SERVICE, peers, the instanceId fallback, the drain, signals.
mod prestop;

/// poststart: waiting for registration and clearing stale overrides.
mod poststart;

/// status: what each peer says, for a person.
mod status;

/// Bad input is rejected with exit 2 before any request.
mod bad_input;

/// The static musl release binary in an empty root.
mod static_binary;
