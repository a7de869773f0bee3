//! The service's consumer, as a Spring Cloud app that calls it: a registry copy refreshed every
//! fetch interval, a load balancer with its cache in front of it, and a steady stream of requests.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cli::{APP, Settings};
use crate::discovery::RegistryCopy;
use crate::load_balancer::LoadBalancer;
use crate::traffic::Traffic;

/// How often a wait on the consumer looks again.
const POLL: Duration = Duration::from_millis(5);

pub struct Consumer {
    balancer: Arc<LoadBalancer>,
    /// Kept for its fetch thread, which stops when this is dropped.
    _registry_copy: RegistryCopy,
}

impl Consumer {
    /// Fetches the registry from `eureka_url` and keeps it fresh; sends nothing yet.
    pub fn start(eureka_url: &str, settings: &Settings) -> Result<Consumer> {
        let registry_copy = RegistryCopy::start(eureka_url, settings.fetch)?;
        let balancer = Arc::new(LoadBalancer::new(
            registry_copy.view(),
            APP,
            settings.lb_ttl,
        ));
        Ok(Consumer {
            balancer,
            _registry_copy: registry_copy,
        })
    }

    /// Starts the requests, timed from `origin`.
    pub fn send_traffic(&self, origin: Instant, settings: &Settings) -> Result<Traffic> {
        Traffic::start(
            Arc::clone(&self.balancer),
            origin,
            settings.request_period(),
            settings.request_timeout,
        )
    }

    /// Waits up to `bound` until requests go to exactly the instances `ids` (sorted).
    pub fn wait_until_routing_to(&self, ids: &[String], bound: Duration) -> Result<()> {
        let deadline = Instant::now() + bound;
        loop {
            let routed = self.balancer.routed_ids();
            if routed == ids {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "after {bound:?} the consumer still routes to [{}] instead of [{}]",
                    routed.join(", "),
                    ids.join(", ")
                );
            }
            thread::sleep(POLL);
        }
    }
}
