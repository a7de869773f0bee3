//! The fleet simulation's fixed shape (the figures docs/fleet.md reports were made with these),
//! and the names the rolling-update demo's shared modules expect here (`APP`, `HOST`, `show`).

use std::time::Duration;

/// The app that rolls; its instances are this process's in-process endpoints.
pub const APP: &str = "fleet-demo";
/// Every endpoint listens on loopback, so its Eureka host is the address.
pub const HOST: &str = "127.0.0.1";
/// Peers, replicated to each other.
pub const PEERS: usize = 3;
/// Instances of the app, and of the four other apps together (1000 in all).
pub const APP_INSTANCES: u16 = 200;
pub const OTHER_INSTANCES: u32 = 800;
/// Pods the rollout replaces, and how many drain at once.
pub const ROLLED: usize = 100;
pub const DRAINING_AT_ONCE: usize = 25;
/// The servers' response cache, the consumers' delta fetch and their load-balancer cache, scaled
/// from 30 s, 30 s and 35 s.
pub const SERVER_CACHE: Duration = Duration::from_secs(1);
pub const FETCH: Duration = Duration::from_secs(1);
pub const LB_TTL: Duration = Duration::from_secs(1);
/// The hook's drain bound, and its --after-propagation: a fetch and a load-balancer TTL, plus a
/// margin.
pub const DRAIN: Duration = Duration::from_secs(20);
pub const AFTER_PROPAGATION: Duration = Duration::from_secs(3);
/// Consumers (spread over the peers) and the pause between each one's requests.
pub const CONSUMERS: usize = 6;
pub const REQUEST_PERIOD: Duration = Duration::from_millis(20);
pub const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);

/// A duration as humantime writes it (`1s`, `250ms`).
pub fn show(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}
