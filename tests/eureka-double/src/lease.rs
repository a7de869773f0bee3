//! A lease: one registered instance plus the registry's timestamps for it
//! (`com.netflix.eureka.lease.Lease`), including the quirk that a renewal stores "now + duration".

use crate::instance::Instance;

#[derive(Clone, Debug)]
pub(crate) struct Lease {
    /// Identity of this lease, which the recently-changed queue refers to.
    pub(crate) serial: u64,
    pub(crate) holder: Instance,
    pub(crate) duration_ms: i64,
    pub(crate) registration_timestamp: i64,
    /// `lastUpdateTimestamp`, rendered as `lastRenewalTimestamp`.
    pub(crate) last_update_timestamp: i64,
    pub(crate) eviction_timestamp: i64,
    pub(crate) service_up_timestamp: i64,
}

impl Lease {
    pub(crate) fn new(serial: u64, holder: Instance, now: i64) -> Lease {
        Lease {
            serial,
            duration_ms: holder.lease_duration_ms(),
            holder,
            registration_timestamp: now,
            last_update_timestamp: now,
            eviction_timestamp: 0,
            service_up_timestamp: 0,
        }
    }

    /// `Lease.renew()` adds the duration here, and `isExpired` adds it again, so a lease that stops
    /// renewing expires two durations after its last renewal.
    pub(crate) fn renew(&mut self, now: i64) {
        self.last_update_timestamp = now + self.duration_ms;
    }

    pub(crate) fn cancel(&mut self, now: i64) {
        if self.eviction_timestamp <= 0 {
            self.eviction_timestamp = now;
        }
    }

    /// Only the first call counts.
    pub(crate) fn service_up(&mut self, now: i64) {
        if self.service_up_timestamp == 0 {
            self.service_up_timestamp = now;
        }
    }

    pub(crate) fn is_expired(&self, now: i64, additional_ms: i64) -> bool {
        self.eviction_timestamp > 0
            || now > self.last_update_timestamp + self.duration_ms + additional_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewed_lease_expires_two_durations_after_the_renewal() {
        let mut lease = Lease::new(1, Instance::new(0), 1_000);
        assert!(!lease.is_expired(91_000, 0));
        assert!(lease.is_expired(91_001, 0));
        lease.renew(2_000);
        assert_eq!(lease.last_update_timestamp, 92_000);
        assert!(!lease.is_expired(182_000, 0));
        assert!(lease.is_expired(182_001, 0));
    }
}
