//! The server's response caches in front of `GET apps/{APP}`, `apps/` and `apps/delta`
//! (`ResponseCacheImpl`): a read-write cache of rendered payloads that every registry change
//! invalidates (renewals do not) and that drops entries 180 s after writing them, and a read-only
//! copy that answers reads and is refreshed from it only by a timer. A miss in the read-only copy
//! is filled at once, so a first read is fresh and later reads can be up to one interval stale.
//! A key is the entity, the format and the form (full or compact), as the server's `Key` is; a
//! gzip answer is the same cached payload compressed, so it shares its key. As the server's
//! `Value` keeps its payload's gzip beside it, the last compression of each key is kept and
//! served again while the payload is the same (a 1000-instance `apps/` takes tens of ms to
//! compress, which a client would otherwise be charged for).

use std::collections::HashMap;

use crate::render::{Detail, Format};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Entity {
    /// An upper-case application name.
    App(String),
    AllApps,
    Delta,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub(crate) entity: Entity,
    pub(crate) format: Format,
    pub(crate) detail: Detail,
}

/// A rendered document, or `None` for the server's empty payload (an unknown app: 404).
pub(crate) type Payload = Option<String>;

/// `response-cache-auto-expiration-in-seconds`.
const READ_WRITE_EXPIRY_MS: i64 = 180_000;

pub(crate) struct ResponseCache {
    /// `None` when `use-read-only-response-cache` is false.
    read_only: Option<HashMap<CacheKey, Payload>>,
    /// Payload and the time it was generated.
    read_write: HashMap<CacheKey, (Payload, i64)>,
    /// The last payload compressed for each key, and its gzip.
    gzipped: HashMap<CacheKey, (String, Vec<u8>)>,
}

impl ResponseCache {
    pub(crate) fn new(use_read_only: bool) -> ResponseCache {
        ResponseCache {
            read_only: use_read_only.then(HashMap::new),
            read_write: HashMap::new(),
            gzipped: HashMap::new(),
        }
    }

    /// `payload` (the one cached under `key`) gzip-compressed by `compress`, once per payload.
    pub(crate) fn gzipped(
        &mut self,
        key: &CacheKey,
        payload: &str,
        compress: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Vec<u8> {
        match self.gzipped.get(key) {
            Some((known, gzip)) if known == payload => gzip.clone(),
            _ => {
                let gzip = compress(payload.as_bytes());
                self.gzipped
                    .insert(key.clone(), (payload.to_owned(), gzip.clone()));
                gzip
            }
        }
    }

    pub(crate) fn read_only_hit(&self, key: &CacheKey) -> Option<Payload> {
        self.read_only.as_ref()?.get(key).cloned()
    }

    pub(crate) fn store_read_only(&mut self, key: CacheKey, payload: Payload) {
        if let Some(read_only) = &mut self.read_only {
            read_only.insert(key, payload);
        }
    }

    pub(crate) fn read_only_keys(&self) -> Vec<CacheKey> {
        self.read_only
            .as_ref()
            .map(|read_only| read_only.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn read_write_hit(&self, key: &CacheKey, now: i64) -> Option<Payload> {
        self.read_write
            .get(key)
            .filter(|(_, written)| now - written < READ_WRITE_EXPIRY_MS)
            .map(|(payload, _)| payload.clone())
    }

    pub(crate) fn store_read_write(&mut self, key: CacheKey, payload: Payload, now: i64) {
        self.read_write.insert(key, (payload, now));
    }

    /// `ResponseCacheImpl.invalidate(appName, ...)`: the app, the full registry and the delta.
    pub(crate) fn invalidate(&mut self, app: &str) {
        self.read_write.retain(|key, _| match &key.entity {
            Entity::App(name) => name != app,
            Entity::AllApps | Entity::Delta => false,
        });
    }
}
