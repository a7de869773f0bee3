//! The service's consumer, as a Spring Cloud app that calls it: a registry copy refreshed every
//! fetch interval, a load balancer with its cache in front of it, and a steady stream of requests.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cli::{APP, Settings};
use crate::discovery::RegistryCopy;
use crate::load_balancer::LoadBalancer;
use crate::traffic::Traffic;

/// Where the stale consumer's requests come from, as from a pod of its own.
pub const STALE_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// How often a wait on the consumer looks again.
const POLL: Duration = Duration::from_millis(5);

pub struct Consumer {
    balancer: Arc<LoadBalancer>,
    /// Where its requests come from: `None` is 127.0.0.1.
    source: Option<IpAddr>,
    /// Kept for its fetch thread, which stops when this is dropped.
    _registry_copy: RegistryCopy,
}

impl Consumer {
    /// Fetches the registry from `eureka_url` and keeps it fresh; sends nothing yet.
    pub fn start(eureka_url: &str, settings: &Settings) -> Result<Consumer> {
        Consumer::with(eureka_url, settings, settings.lb_ttl, None)
    }

    /// The stale consumer: its load-balancer cache lasts --stale-lb-ttl, and it sends from
    /// [`STALE_SOURCE`].
    pub fn stale(eureka_url: &str, settings: &Settings) -> Result<Consumer> {
        Consumer::with(
            eureka_url,
            settings,
            settings.stale_lb_ttl,
            Some(IpAddr::from(STALE_SOURCE)),
        )
    }

    fn with(
        eureka_url: &str,
        settings: &Settings,
        lb_ttl: Duration,
        source: Option<IpAddr>,
    ) -> Result<Consumer> {
        let registry_copy = RegistryCopy::start(eureka_url, settings.fetch)?;
        let balancer = Arc::new(LoadBalancer::new(registry_copy.view(), APP, lb_ttl));
        Ok(Consumer {
            balancer,
            source,
            _registry_copy: registry_copy,
        })
    }

    /// Starts the requests, timed from `origin`, `rate_per_second` of them.
    pub fn send_traffic(
        &self,
        origin: Instant,
        settings: &Settings,
        rate_per_second: u32,
    ) -> Result<Traffic> {
        Traffic::start(
            Arc::clone(&self.balancer),
            origin,
            Duration::from_secs(1) / rate_per_second.max(1),
            settings.request_timeout,
            self.source,
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
