//! The registry as a state machine, without threads, sockets or clocks: the caller passes `now`.
//! It follows `AbstractInstanceRegistry` and `PeerAwareInstanceRegistryImpl` of eureka-core
//! (register, renew, cancel, status override and its removal, eviction, the recently-changed
//! queue behind the delta) and owns the response cache that those operations invalidate.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::instance::Instance;
use crate::lease::Lease;
use crate::pairs;
use crate::render::{AppGroup, Document};
use crate::response_cache::{CacheKey, Entity, Payload, ResponseCache};
use crate::rules::resolve_status;
use crate::status::{ActionType, Status};

/// `eureka.server.renewal-percent-threshold`: one eviction run removes at most 15 % of the leases.
const RENEWAL_PERCENT_THRESHOLD: f64 = 0.85;

pub(crate) struct RegistryConfig {
    /// `use-read-only-response-cache`.
    pub(crate) use_read_only_cache: bool,
    /// Whether expired leases count as gone and get evicted (that is, self-preservation is not
    /// holding them).
    pub(crate) lease_expiration_enabled: bool,
    /// `eviction-interval-timer-in-ms`, used to compensate late eviction runs.
    pub(crate) eviction_interval_ms: i64,
    /// `retention-time-in-m-s-in-delta-queue`.
    pub(crate) delta_retention_ms: i64,
}

/// Outcome of a status PUT or DELETE on the registry.
#[derive(Debug, PartialEq)]
pub(crate) enum StatusChange {
    NotFound,
    Applied,
    /// `lastDirtyTimestamp` was not a number; the change made before parsing it stays.
    BadDirtyTimestamp,
}

struct RecentChange {
    at: i64,
    app: String,
    id: String,
    serial: u64,
}

pub(crate) struct Registry {
    config: RegistryConfig,
    /// Upper-case app name, then instance id. An app whose leases are all gone stays as an empty
    /// map, as in the server.
    apps: BTreeMap<String, BTreeMap<String, Lease>>,
    /// `overriddenInstanceStatusMap`, keyed by instance id only.
    overrides: HashMap<String, Status>,
    recently_changed: VecDeque<RecentChange>,
    /// Cancelled leases that the recently-changed queue still names, by serial.
    cancelled: HashMap<u64, Lease>,
    last_serial: u64,
    cache: ResponseCache,
    /// The delta's `versions__delta`: how many times a delta payload was generated.
    delta_version: u64,
    last_eviction_at: Option<i64>,
}

impl Registry {
    pub(crate) fn new(config: RegistryConfig) -> Registry {
        Registry {
            cache: ResponseCache::new(config.use_read_only_cache),
            config,
            apps: BTreeMap::new(),
            overrides: HashMap::new(),
            recently_changed: VecDeque::new(),
            cancelled: HashMap::new(),
            last_serial: 0,
            delta_version: 0,
            last_eviction_at: None,
        }
    }

    /// `register(registrant, leaseDuration, isReplication)` for an instance that passed validation.
    pub(crate) fn register(&mut self, mut registrant: Instance, is_replication: bool, now: i64) {
        let app = registrant.app.clone().unwrap_or_default();
        let id = registrant.id().unwrap_or_default().to_owned();
        let existing = self.apps.get(&app).and_then(|leases| leases.get(&id));
        let existing_status = existing.map(|lease| lease.holder.status);
        if let Some(existing) = existing {
            // A strictly newer copy on the server wins over the body.
            if existing.holder.last_dirty_timestamp > registrant.last_dirty_timestamp {
                registrant = existing.holder.clone();
            }
        }
        self.last_serial += 1;
        let mut lease = Lease::new(self.last_serial, registrant, now);
        if let Some(existing) = existing {
            lease.service_up_timestamp = existing.service_up_timestamp;
        }
        // How peers hand an override over: the body's override fills an empty slot in the map.
        if lease.holder.overridden_status != Status::Unknown {
            self.overrides
                .entry(id.clone())
                .or_insert(lease.holder.overridden_status);
        }
        let overridden = self.overrides.get(&id).copied();
        if let Some(overridden) = overridden {
            lease.holder.overridden_status = overridden;
        }
        let status = resolve_status(
            lease.holder.status,
            overridden,
            existing_status,
            is_replication,
        );
        lease.holder.status = status;
        if status == Status::Up {
            lease.service_up(now);
        }
        lease.holder.action_type = Some(ActionType::Added);
        lease.holder.last_updated_timestamp = now;
        self.record_change(&app, &id, lease.serial, now);
        self.apps.entry(app.clone()).or_default().insert(id, lease);
        self.cache.invalidate(&app);
    }

    /// `renew`: false when there is no lease or the rules say UNKNOWN (re-register required).
    pub(crate) fn renew(&mut self, app: &str, id: &str, is_replication: bool, now: i64) -> bool {
        let Some(lease) = self.apps.get_mut(app).and_then(|leases| leases.get_mut(id)) else {
            return false;
        };
        let status = resolve_status(
            lease.holder.status,
            self.overrides.get(id).copied(),
            Some(lease.holder.status),
            is_replication,
        );
        if status == Status::Unknown {
            return false;
        }
        lease.holder.status = status;
        lease.renew(now);
        true
    }

    /// `internalCancel`: the override goes even when there is no lease to cancel.
    pub(crate) fn cancel(&mut self, app: &str, id: &str, now: i64) -> bool {
        let removed = self.apps.get_mut(app).and_then(|leases| leases.remove(id));
        self.overrides.remove(id);
        let Some(mut lease) = removed else {
            return false;
        };
        lease.cancel(now);
        lease.holder.action_type = Some(ActionType::Deleted);
        lease.holder.last_updated_timestamp = now;
        self.record_change(app, id, lease.serial, now);
        self.cancelled.insert(lease.serial, lease);
        self.cache.invalidate(app);
        true
    }

    /// `statusUpdate`: renews, and when the status differs stores the override and applies it.
    pub(crate) fn update_status(
        &mut self,
        app: &str,
        id: &str,
        new_status: Status,
        last_dirty_timestamp: Option<&str>,
        now: i64,
    ) -> StatusChange {
        let Some(lease) = self.apps.get_mut(app).and_then(|leases| leases.get_mut(id)) else {
            return StatusChange::NotFound;
        };
        lease.renew(now);
        if lease.holder.status == new_status {
            return StatusChange::Applied;
        }
        if new_status == Status::Up {
            lease.service_up(now);
        }
        self.overrides.insert(id.to_owned(), new_status);
        lease.holder.overridden_status = new_status;
        lease.holder.status = new_status;
        let serial = lease.serial;
        self.finish_modification(app, id, serial, last_dirty_timestamp, now)
    }

    /// `deleteStatusOverride`: renews, and if an override existed removes it and sets
    /// `new_status` (UNKNOWN when the request named none).
    pub(crate) fn delete_status_override(
        &mut self,
        app: &str,
        id: &str,
        new_status: Status,
        last_dirty_timestamp: Option<&str>,
        now: i64,
    ) -> StatusChange {
        let Some(lease) = self.apps.get_mut(app).and_then(|leases| leases.get_mut(id)) else {
            return StatusChange::NotFound;
        };
        lease.renew(now);
        if self.overrides.remove(id).is_none() {
            return StatusChange::Applied;
        }
        lease.holder.overridden_status = Status::Unknown;
        lease.holder.status = new_status;
        let serial = lease.serial;
        self.finish_modification(app, id, serial, last_dirty_timestamp, now)
    }

    /// The common tail of a status change: raise the dirty timestamp to the caller's, mark the
    /// instance MODIFIED and tell the delta and the caches.
    fn finish_modification(
        &mut self,
        app: &str,
        id: &str,
        serial: u64,
        last_dirty_timestamp: Option<&str>,
        now: i64,
    ) -> StatusChange {
        let replica_dirty_timestamp = match last_dirty_timestamp.map(str::parse::<i64>) {
            None => 0,
            Some(Ok(timestamp)) => timestamp,
            Some(Err(_)) => return StatusChange::BadDirtyTimestamp,
        };
        if let Some(lease) = self.apps.get_mut(app).and_then(|leases| leases.get_mut(id)) {
            let instance = &mut lease.holder;
            instance.last_dirty_timestamp =
                instance.last_dirty_timestamp.max(replica_dirty_timestamp);
            instance.action_type = Some(ActionType::Modified);
            instance.last_updated_timestamp = now;
        }
        self.record_change(app, id, serial, now);
        self.cache.invalidate(app);
        StatusChange::Applied
    }

    /// `storeOverriddenStatusIfRequired`, which replicated heartbeats use; false where the
    /// server would throw (the instance is gone).
    pub(crate) fn store_override_if_required(
        &mut self,
        app: &str,
        id: &str,
        status: Status,
        now: i64,
    ) -> bool {
        if self.overrides.get(id) == Some(&status) {
            return true;
        }
        self.overrides.insert(id.to_owned(), status);
        if self.live_lease(app, id, now).is_none() {
            return false;
        }
        if let Some(lease) = self.apps.get_mut(app).and_then(|leases| leases.get_mut(id)) {
            lease.holder.overridden_status = status;
        }
        true
    }

    /// `PUT …/metadata`: merges and re-registers the instance; false when it is not found.
    pub(crate) fn update_metadata(
        &mut self,
        app: &str,
        id: &str,
        entries: &[(String, String)],
        now: i64,
    ) -> bool {
        let Some(lease) = self.live_lease(app, id, now) else {
            return false;
        };
        let mut instance = lease.holder.clone();
        for (key, value) in entries {
            pairs::put(&mut instance.metadata, key, value);
        }
        self.register(instance, false, now);
        true
    }

    /// `getInstanceByAppAndId`: an expired lease counts as absent while expiration is enabled.
    pub(crate) fn live_lease(&self, app: &str, id: &str, now: i64) -> Option<&Lease> {
        self.apps
            .get(app)?
            .get(id)
            .filter(|lease| !self.config.lease_expiration_enabled || !lease.is_expired(now, 0))
    }

    /// `getInstancesById(id).get(0)`: the first live lease with this id in any app.
    pub(crate) fn first_live_lease_by_id(&self, id: &str, now: i64) -> Option<&Lease> {
        self.apps
            .keys()
            .find_map(|app| self.live_lease(app, id, now))
    }

    /// The lease as stored, expired or not (for tests that look inside).
    pub(crate) fn lease(&self, app: &str, id: &str) -> Option<&Lease> {
        self.apps.get(app)?.get(id)
    }

    pub(crate) fn lease_mut(&mut self, app: &str, id: &str) -> Option<&mut Lease> {
        self.apps.get_mut(app)?.get_mut(id)
    }

    /// A cached GET: the read-only copy when enabled, else (or on a miss) the read-write cache.
    pub(crate) fn cached_payload(&mut self, key: CacheKey, now: i64) -> Payload {
        if let Some(payload) = self.cache.read_only_hit(&key) {
            return payload;
        }
        let payload = self.read_write_payload(&key, now);
        self.cache.store_read_only(key, payload.clone());
        payload
    }

    /// `payload`, cached under `key`, gzip-compressed by `compress` (once per payload).
    pub(crate) fn gzipped_payload(
        &mut self,
        key: &CacheKey,
        payload: &str,
        compress: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Vec<u8> {
        self.cache.gzipped(key, payload, compress)
    }

    /// The cache timer's work: copy the read-write payload of every read-only key.
    pub(crate) fn refresh_read_only_cache(&mut self, now: i64) {
        for key in self.cache.read_only_keys() {
            let payload = self.read_write_payload(&key, now);
            self.cache.store_read_only(key, payload);
        }
    }

    /// The eviction timer's work (`evict(compensationTimeMs)`).
    pub(crate) fn evict(&mut self, now: i64) {
        if !self.config.lease_expiration_enabled {
            return;
        }
        let late_by = self.last_eviction_at.map_or(0, |last| {
            (now - last - self.config.eviction_interval_ms).max(0)
        });
        self.last_eviction_at = Some(now);
        let mut expired: Vec<(i64, String, String)> = self
            .apps
            .iter()
            .flat_map(|(app, leases)| leases.iter().map(move |(id, lease)| (app, id, lease)))
            .filter(|(_, _, lease)| lease.is_expired(now, late_by))
            .map(|(app, id, lease)| (lease.last_update_timestamp, app.clone(), id.clone()))
            .collect();
        let size = self.apps.values().map(BTreeMap::len).sum::<usize>();
        let limit = size - (size as f64 * RENEWAL_PERCENT_THRESHOLD) as usize;
        // The server evicts a random choice; the double evicts the longest-silent leases first so
        // that runs repeat.
        expired.sort();
        for (_, app, id) in expired.into_iter().take(limit) {
            self.cancel(&app, &id, now);
        }
    }

    /// The delta retention timer's work: forget changes older than the retention time.
    pub(crate) fn prune_recent_changes(&mut self, now: i64) {
        let oldest_kept = now - self.config.delta_retention_ms;
        while self
            .recently_changed
            .front()
            .is_some_and(|change| change.at < oldest_kept)
        {
            self.recently_changed.pop_front();
        }
        let named: Vec<u64> = self
            .recently_changed
            .iter()
            .map(|change| change.serial)
            .collect();
        self.cancelled.retain(|serial, _| named.contains(serial));
    }

    fn record_change(&mut self, app: &str, id: &str, serial: u64, now: i64) {
        self.recently_changed.push_back(RecentChange {
            at: now,
            app: app.to_owned(),
            id: id.to_owned(),
            serial,
        });
    }

    fn read_write_payload(&mut self, key: &CacheKey, now: i64) -> Payload {
        if let Some(payload) = self.cache.read_write_hit(key, now) {
            return payload;
        }
        let payload = self.generate_payload(key);
        self.cache
            .store_read_write(key.clone(), payload.clone(), now);
        payload
    }

    fn generate_payload(&mut self, key: &CacheKey) -> Payload {
        match &key.entity {
            Entity::App(name) => {
                let leases: Vec<&Lease> = self.apps.get(name)?.values().collect();
                if leases.is_empty() {
                    return None;
                }
                Some(
                    Document::Application(&AppGroup { name, leases }, key.detail)
                        .render(key.format),
                )
            }
            Entity::AllApps => {
                let groups = self.all_app_groups();
                let hash_code = reconcile_hash_code(&groups);
                let document = Document::Applications {
                    version: 1,
                    hash_code: &hash_code,
                    apps: &groups,
                    detail: key.detail,
                };
                Some(document.render(key.format))
            }
            Entity::Delta => {
                self.delta_version += 1;
                let hash_code = reconcile_hash_code(&self.all_app_groups());
                let groups = self.delta_groups();
                let document = Document::Applications {
                    version: self.delta_version,
                    hash_code: &hash_code,
                    apps: &groups,
                    detail: key.detail,
                };
                Some(document.render(key.format))
            }
        }
    }

    /// The full registry: every app that still has leases.
    fn all_app_groups(&self) -> Vec<AppGroup<'_>> {
        self.apps
            .iter()
            .filter(|(_, leases)| !leases.is_empty())
            .map(|(name, leases)| AppGroup {
                name,
                leases: leases.values().collect(),
            })
            .collect()
    }

    /// `getApplicationDeltas`: apps in the order they first appear in the queue, and per app each
    /// instance once, where it last appears, showing the state of the lease named there now.
    fn delta_groups(&self) -> Vec<AppGroup<'_>> {
        let mut named: Vec<(&str, Vec<(&str, u64)>)> = Vec::new();
        for change in &self.recently_changed {
            let position = match named.iter().position(|(app, _)| *app == change.app) {
                Some(position) => position,
                None => {
                    named.push((&change.app, Vec::new()));
                    named.len() - 1
                }
            };
            let instances = &mut named[position].1;
            instances.retain(|(id, _)| *id != change.id);
            instances.push((&change.id, change.serial));
        }
        named
            .into_iter()
            .map(|(app, instances)| AppGroup {
                name: app,
                leases: instances
                    .into_iter()
                    .filter_map(|(id, serial)| self.lease_by_serial(app, id, serial))
                    .collect(),
            })
            .collect()
    }

    fn lease_by_serial(&self, app: &str, id: &str, serial: u64) -> Option<&Lease> {
        self.lease(app, id)
            .filter(|lease| lease.serial == serial)
            .or_else(|| self.cancelled.get(&serial))
    }
}

/// `Applications.getReconcileHashCode`: `STATUS_count_` for each status present, sorted by name.
fn reconcile_hash_code(groups: &[AppGroup]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for lease in groups.iter().flat_map(|group| &group.leases) {
        *counts.entry(lease.holder.status.name()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(status, count)| format!("{status}_{count}_"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::DataCenter;
    use crate::render::{Detail, Format};

    fn registry(lease_expiration_enabled: bool) -> Registry {
        Registry::new(RegistryConfig {
            use_read_only_cache: true,
            lease_expiration_enabled,
            eviction_interval_ms: 60_000,
            delta_retention_ms: 180_000,
        })
    }

    fn instance(host: &str, status: Status, dirty: i64) -> Instance {
        let mut instance = Instance::new(dirty);
        instance.instance_id = Some(format!("{host}:demo:8080"));
        instance.host_name = Some(host.into());
        instance.app = Some("DEMO".into());
        instance.ip_addr = Some("10.0.0.7".into());
        instance.status = status;
        instance.data_center = Some(DataCenter {
            name: Some("MyOwn".into()),
            amazon_metadata: Vec::new(),
        });
        instance
    }

    fn status_of(registry: &Registry, id: &str) -> (Status, Status) {
        let lease = registry.lease("DEMO", id).expect("registered");
        (lease.holder.status, lease.holder.overridden_status)
    }

    const POD0: &str = "pod-0:demo:8080";

    #[test]
    fn override_survives_heartbeats_and_a_re_registration_with_the_same_id() {
        let mut registry = registry(false);
        registry.register(instance("pod-0", Status::Up, 1), false, 10);
        let first_service_up = registry
            .lease("DEMO", POD0)
            .expect("registered")
            .service_up_timestamp;
        assert_eq!(
            registry.update_status("DEMO", POD0, Status::OutOfService, None, 20),
            StatusChange::Applied
        );
        assert!(registry.renew("DEMO", POD0, false, 30));
        assert_eq!(
            status_of(&registry, POD0),
            (Status::OutOfService, Status::OutOfService)
        );
        registry.register(instance("pod-0", Status::Up, 40), false, 40);
        assert_eq!(
            status_of(&registry, POD0),
            (Status::OutOfService, Status::OutOfService)
        );
        let lease = registry.lease("DEMO", POD0).expect("registered");
        assert_eq!(
            (lease.registration_timestamp, lease.service_up_timestamp),
            (40, first_service_up)
        );
    }

    #[test]
    fn deleting_the_override_without_value_makes_the_next_heartbeat_404() {
        let mut registry = registry(false);
        registry.register(instance("pod-0", Status::Up, 1), false, 10);
        registry.update_status("DEMO", POD0, Status::OutOfService, None, 20);
        assert_eq!(
            registry.delete_status_override("DEMO", POD0, Status::Unknown, None, 30),
            StatusChange::Applied
        );
        assert_eq!(
            status_of(&registry, POD0),
            (Status::Unknown, Status::Unknown)
        );
        assert!(!registry.renew("DEMO", POD0, false, 40));
    }

    #[test]
    fn deleting_when_no_override_exists_only_renews() {
        let mut registry = registry(false);
        registry.register(instance("pod-0", Status::Up, 1), false, 10);
        registry.delete_status_override("DEMO", POD0, Status::Unknown, None, 30);
        let lease = registry.lease("DEMO", POD0).expect("registered");
        assert_eq!(status_of(&registry, POD0), (Status::Up, Status::Unknown));
        assert_eq!(
            (
                lease.holder.last_updated_timestamp,
                lease.last_update_timestamp
            ),
            (10, 90_030)
        );
    }

    #[test]
    fn status_put_with_the_current_status_stores_no_override() {
        let mut registry = registry(false);
        registry.register(instance("pod-0", Status::Up, 1), false, 10);
        registry.update_status("DEMO", POD0, Status::Up, None, 20);
        assert!(registry.overrides.is_empty());
    }

    #[test]
    fn bad_dirty_timestamp_fails_after_the_override_is_stored() {
        let mut registry = registry(false);
        registry.register(instance("pod-0", Status::Up, 1), false, 10);
        let change = registry.update_status("DEMO", POD0, Status::OutOfService, Some("soon"), 20);
        assert_eq!(change, StatusChange::BadDirtyTimestamp);
        assert_eq!(
            status_of(&registry, POD0),
            (Status::OutOfService, Status::OutOfService)
        );
        assert_eq!(
            registry
                .lease("DEMO", POD0)
                .expect("registered")
                .holder
                .action_type,
            Some(ActionType::Added)
        );
    }

    #[test]
    fn cancel_removes_the_override_even_without_a_lease() {
        let mut registry = registry(false);
        registry.overrides.insert(POD0.into(), Status::OutOfService);
        assert!(!registry.cancel("DEMO", POD0, 10));
        assert!(registry.overrides.is_empty());
    }

    #[test]
    fn registration_body_override_fills_an_empty_map_slot_only() {
        let mut registry = registry(false);
        let mut carrying = instance("pod-1", Status::Up, 1);
        carrying.overridden_status = Status::OutOfService;
        registry.register(carrying, false, 10);
        let lease = registry
            .lease("DEMO", "pod-1:demo:8080")
            .expect("registered");
        assert_eq!(
            (lease.holder.status, lease.service_up_timestamp),
            (Status::OutOfService, 0)
        );
    }

    #[test]
    fn existing_newer_copy_wins_over_an_older_body() {
        let mut registry = registry(false);
        let mut newer = instance("pod-0", Status::Up, 100);
        newer.ip_addr = Some("10.0.0.8".into());
        registry.register(newer, false, 10);
        registry.register(instance("pod-0", Status::Up, 50), false, 20);
        let lease = registry.lease("DEMO", POD0).expect("registered");
        assert_eq!(lease.holder.ip_addr.as_deref(), Some("10.0.0.8"));
        assert_eq!(lease.registration_timestamp, 20);
    }

    #[test]
    fn expired_leases_are_hidden_from_instance_reads_but_listed_until_evicted() {
        let mut registry = registry(true);
        registry.register(instance("pod-0", Status::Up, 1), false, 0);
        assert!(registry.live_lease("DEMO", POD0, 90_001).is_none());
        let app = CacheKey {
            entity: Entity::App("DEMO".into()),
            format: Format::Json,
            detail: Detail::Full,
        };
        assert!(registry.cached_payload(app, 90_001).is_some());
        registry.evict(90_001);
        assert!(registry.lease("DEMO", POD0).is_none());
    }

    #[test]
    fn eviction_takes_at_most_fifteen_percent_per_run() {
        let mut registry = registry(true);
        for pod in 0..10 {
            registry.register(instance(&format!("pod-{pod}"), Status::Up, 1), false, 0);
        }
        registry.evict(100_000);
        assert_eq!(registry.apps["DEMO"].len(), 8);
    }

    #[test]
    fn read_only_cache_freezes_answers_including_404_until_refreshed() {
        let mut registry = registry(false);
        let app = CacheKey {
            entity: Entity::App("DEMO".into()),
            format: Format::Json,
            detail: Detail::Full,
        };
        assert_eq!(registry.cached_payload(app.clone(), 0), None);
        registry.register(instance("pod-0", Status::Up, 1), false, 1);
        assert_eq!(registry.cached_payload(app.clone(), 2), None);
        registry.refresh_read_only_cache(3);
        let payload = registry.cached_payload(app.clone(), 4).expect("refreshed");
        registry.update_status("DEMO", POD0, Status::OutOfService, None, 5);
        assert_eq!(
            registry.cached_payload(app.clone(), 6).as_ref(),
            Some(&payload)
        );
        registry.refresh_read_only_cache(7);
        assert!(
            registry
                .cached_payload(app, 8)
                .expect("listed")
                .contains("OUT_OF_SERVICE")
        );
    }

    #[test]
    fn without_read_only_cache_changes_show_at_once_but_renewals_do_not() {
        let mut registry = Registry::new(RegistryConfig {
            use_read_only_cache: false,
            lease_expiration_enabled: false,
            eviction_interval_ms: 60_000,
            delta_retention_ms: 180_000,
        });
        let app = CacheKey {
            entity: Entity::App("DEMO".into()),
            format: Format::Json,
            detail: Detail::Full,
        };
        registry.register(instance("pod-0", Status::Up, 1), false, 1);
        let registered = registry.cached_payload(app.clone(), 2).expect("listed");
        registry.renew("DEMO", POD0, false, 3);
        assert_eq!(
            registry.cached_payload(app.clone(), 4).as_ref(),
            Some(&registered)
        );
        registry.update_status("DEMO", POD0, Status::OutOfService, None, 5);
        assert!(
            registry
                .cached_payload(app, 6)
                .expect("listed")
                .contains("OUT_OF_SERVICE")
        );
    }

    #[test]
    fn delta_lists_recent_changes_with_action_types_and_the_full_hash_code() {
        let mut registry = registry(false);
        registry.register(instance("pod-0", Status::Up, 1), false, 1);
        registry.register(instance("pod-1", Status::Up, 1), false, 2);
        registry.prune_recent_changes(200_000);
        registry.update_status("DEMO", POD0, Status::OutOfService, None, 190_000);
        registry.cancel("DEMO", "pod-1:demo:8080", 190_001);
        registry.register(instance("pod-2", Status::Up, 1), false, 190_002);
        let delta = CacheKey {
            entity: Entity::Delta,
            format: Format::Json,
            detail: Detail::Full,
        };
        let payload = registry.cached_payload(delta, 190_003).expect("delta");
        let document: serde_json::Value = serde_json::from_str(&payload).expect("json");
        let applications = &document["applications"];
        assert_eq!(applications["versions__delta"], "1");
        assert_eq!(applications["apps__hashcode"], "OUT_OF_SERVICE_1_UP_1_");
        let actions: Vec<(&str, &str)> = applications["application"][0]["instance"]
            .as_array()
            .expect("instances")
            .iter()
            .map(|i| {
                (
                    i["hostName"].as_str().unwrap_or(""),
                    i["actionType"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            actions,
            [
                ("pod-0", "MODIFIED"),
                ("pod-1", "DELETED"),
                ("pod-2", "ADDED")
            ]
        );
    }

    #[test]
    fn hash_code_counts_statuses_in_name_order() {
        let mut registry = registry(false);
        for (host, status) in [
            ("a", Status::Up),
            ("b", Status::OutOfService),
            ("c", Status::Up),
            ("d", Status::Down),
        ] {
            registry.register(instance(host, status, 1), false, 1);
        }
        assert_eq!(
            reconcile_hash_code(&registry.all_app_groups()),
            "DOWN_1_OUT_OF_SERVICE_1_UP_2_"
        );
    }
}
