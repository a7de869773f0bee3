//! Which status overrides poststart may remove: a stale one only, never one set after poststart
//! started (a drain begun meanwhile, e.g. `kubectl exec … eureka-hook prestop` on a pod that is
//! still starting; removing it would leave the instance UNKNOWN and routed to).
//!
//! The evidence is the registry's own record, re-read from each peer just before the DELETE: its
//! `lastUpdatedTimestamp` (the last status change) and `leaseInfo.registrationTimestamp`. Eureka's
//! `register` sets both at once; `statusUpdate` (a mark's PUT) sets only the first. An override is
//! stale, and removed, when
//! - the last status change was the registration itself (within [`SAME_CHANGE_MS`] of it): the
//!   override is older than this registration (a previous pod's drain, which Eureka re-applies to
//!   the new registration); or
//! - the last status change came before poststart started, by this machine's clock.
//!
//! Otherwise the override was set after both: it is left in place and a warning says so. A record
//! without these timestamps, or a re-read that fails, counts as stale (the DELETE then reports
//! the peer's trouble). A registry clock ahead of this machine's by more than the time between a
//! previous pod's drain and this poststart would make that drain's override look new: it is then
//! left, and said so, rather than a new drain undone.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::eureka::StatusChange;

/// How far apart `register` may write its two timestamps and still count as one change.
pub const SAME_CHANGE_MS: u64 = 100;

/// What the record says of an override.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Override {
    /// Older than this registration or than poststart: removed.
    Stale,
    /// Set at this epoch millisecond, after the registration and after poststart started.
    SetSince(u64),
}

/// The verdict on an override whose record (re-read now) says `change`, for a poststart that
/// started at `started`.
pub fn judge(change: Option<StatusChange>, started: SystemTime) -> Override {
    let Some(StatusChange {
        last_updated_ms: Some(changed),
        registered_ms,
    }) = change
    else {
        return Override::Stale;
    };
    let at_registration =
        registered_ms.is_some_and(|registered| changed.abs_diff(registered) <= SAME_CHANGE_MS);
    if at_registration || changed < epoch_ms(started) {
        Override::Stale
    } else {
        Override::SetSince(changed)
    }
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const STARTED_MS: u64 = 1_800_000_000_000;

    fn started() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(STARTED_MS)
    }

    fn change(last_updated_ms: u64, registered_ms: u64) -> StatusChange {
        StatusChange {
            last_updated_ms: Some(last_updated_ms),
            registered_ms: Some(registered_ms),
        }
    }

    #[test]
    fn an_override_set_after_the_registration_and_after_poststart_started_is_kept() {
        let marked = STARTED_MS + 5_000;
        assert_eq!(
            judge(Some(change(marked, STARTED_MS + 2_000)), started()),
            Override::SetSince(marked)
        );
    }

    #[test]
    fn an_override_older_than_poststart_or_than_the_registration_is_stale() {
        // A previous pod's drain, before this poststart.
        assert_eq!(
            judge(Some(change(STARTED_MS - 1, STARTED_MS - 60_000)), started()),
            Override::Stale
        );
        // Re-applied by Eureka when this pod registered: the last change is the registration.
        assert_eq!(
            judge(
                Some(change(STARTED_MS + 3_050, STARTED_MS + 3_000)),
                started()
            ),
            Override::Stale
        );
        // No evidence: as before.
        assert_eq!(judge(None, started()), Override::Stale);
        let undated = StatusChange {
            last_updated_ms: None,
            registered_ms: Some(STARTED_MS),
        };
        assert_eq!(judge(Some(undated), started()), Override::Stale);
    }
}
