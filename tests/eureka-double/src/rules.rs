//! The status override rule chain the Spring Cloud server applies on every register and renew:
//! `FirstMatchWinsCompositeRule(DownOrStartingRule, OverrideExistsRule, LeaseExistsRule)`, then
//! `AlwaysMatchInstanceStatusRule` (Netflix/eureka `registry/rule/*.java`).

use crate::status::Status;

/// `reported` is the instance's own status, `overridden` the override map's entry for its id,
/// `existing` the status held by the lease that already exists for the id.
pub(crate) fn resolve_status(
    reported: Status,
    overridden: Option<Status>,
    existing: Option<Status>,
    is_replication: bool,
) -> Status {
    if !matches!(reported, Status::Up | Status::OutOfService) {
        return reported;
    }
    if let Some(overridden) = overridden {
        return overridden;
    }
    match existing {
        Some(kept @ (Status::Up | Status::OutOfService)) if !is_replication => kept,
        _ => reported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn down_starting_and_unknown_beat_any_override() {
        for reported in [Down, Starting, Unknown] {
            assert_eq!(
                resolve_status(reported, Some(OutOfService), Some(Up), false),
                reported
            );
        }
    }

    #[test]
    fn an_override_beats_up_and_the_existing_lease() {
        assert_eq!(
            resolve_status(Up, Some(OutOfService), Some(Up), false),
            OutOfService
        );
        assert_eq!(resolve_status(OutOfService, Some(Up), None, true), Up);
    }

    #[test]
    fn an_existing_up_or_out_of_service_lease_wins_unless_replicated() {
        assert_eq!(
            resolve_status(Up, None, Some(OutOfService), false),
            OutOfService
        );
        assert_eq!(resolve_status(OutOfService, None, Some(Up), false), Up);
        assert_eq!(resolve_status(Up, None, Some(OutOfService), true), Up);
        assert_eq!(resolve_status(Up, None, Some(Unknown), false), Up);
        assert_eq!(
            resolve_status(OutOfService, None, None, false),
            OutOfService
        );
    }
}
