//! Random durations, so that the miniature's timers are in no particular phase with each other.
//! With every interval at 1 s, they would otherwise stay in step run after run (the server cache
//! timer, the consumer's fetch, its load-balancer cache, the rollout's steps), and every step
//! would see the same cache phase, lucky or not, instead of the spread a real cluster sees.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Uniform in `[0, duration)`.
pub fn below(duration: Duration) -> Duration {
    duration.mul_f64(fraction())
}

/// Uniform in `[duration / 2, duration * 3 / 2)`.
pub fn around(duration: Duration) -> Duration {
    duration.mul_f64(0.5 + fraction())
}

/// Uniform in `[0, 1)`, from std's randomly keyed hasher (good enough for phases).
fn fraction() -> f64 {
    let random = RandomState::new().build_hasher().finish();
    (random >> 11) as f64 / (1u64 << 53) as f64
}
