//! Spring Cloud LoadBalancer in front of the consumer's registry copy: the instance list is cached
//! for a TTL and reloaded by the first request after it expired
//! (`CachingServiceInstanceListSupplier`, `spring.cloud.loadbalancer.cache.ttl`), and requests go
//! round robin over it (`RoundRobinLoadBalancer`).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::discovery::{Endpoint, RegistryView, sorted_ids};

pub struct LoadBalancer {
    registry: RegistryView,
    app: String,
    ttl: Duration,
    cache: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    /// When the list was loaded from the registry copy; `None` before the first use.
    loaded_at: Option<Instant>,
    instances: Vec<Endpoint>,
    /// Round-robin position.
    position: usize,
}

impl LoadBalancer {
    pub fn new(registry: RegistryView, app: &str, ttl: Duration) -> LoadBalancer {
        LoadBalancer {
            registry,
            app: app.to_owned(),
            ttl,
            cache: Mutex::default(),
        }
    }

    /// The instance for the next request; `None` when the list is empty (Spring Cloud answers 503).
    pub fn choose(&self) -> Option<Endpoint> {
        let mut cache = self.current();
        if cache.instances.is_empty() {
            return None;
        }
        cache.position = cache.position.wrapping_add(1);
        Some(cache.instances[cache.position % cache.instances.len()].clone())
    }

    /// The ids of the instances the next request can go to, sorted.
    pub fn routed_ids(&self) -> Vec<String> {
        sorted_ids(&self.current().instances)
    }

    /// The cached list, reloaded from the registry copy first if it is older than the TTL.
    fn current(&self) -> MutexGuard<'_, Cached> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if cache
            .loaded_at
            .is_none_or(|loaded| now.duration_since(loaded) >= self.ttl)
        {
            cache.instances = self.registry.up_instances(&self.app);
            cache.loaded_at = Some(now);
        }
        cache
    }
}
