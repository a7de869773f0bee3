//! prestop's drain, all in one place: how long the pod is held and why it ends.
//!
//! - [`wait`]: waiting out a window, woken at once by SIGTERM or SIGINT, or early by news.
//! - [`evidence`]: the prime before the mark (the app listing, and `apps/delta`), which puts the
//!   watched key in the registry's response cache, and the choice of key to watch per peer.
//! - [`watch`]: one peer's watch as a state machine on given instants (no I/O, no clock).
//! - [`polling`]: the watch's requests, one thread per watched peer, reporting what it sees.
//! - [`end`]: holding the drain and deciding its end: `--drain`, `--after-propagation` after the
//!   last sighting, `--until-quiet` (with the inbound watch), a signal.

pub mod end;
pub mod evidence;
// The watch adds flag-bounded durations (at most a day) to the clock's instants; it is kept by its
// own tests, not by the lint.
#[allow(clippy::arithmetic_side_effects)]
pub mod polling;
pub mod wait;
#[allow(clippy::arithmetic_side_effects)]
pub mod watch;

#[cfg(test)]
mod tests;
