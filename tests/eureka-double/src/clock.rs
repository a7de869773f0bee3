//! Wall-clock time in epoch milliseconds, the unit every Eureka timestamp uses.

use std::time::{SystemTime, UNIX_EPOCH};

/// `System.currentTimeMillis()`.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since_epoch| since_epoch.as_millis() as i64)
}
