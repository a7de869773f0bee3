//! Fleet simulation: the drain's watch at the size Spring users run it, for figures (not a timed
//! test). On each server flavour (Spring Cloud's server, Netflix's war):
//!
//! - a 1000-instance registry on three replicated Eureka server doubles: one app of 200 pods
//!   (in-process endpoints, see `pods.rs`) and 800 instances of four other apps;
//! - Spring-like consumers, spread over the peers, each with a registry copy refreshed from
//!   `apps/delta`, a load-balancer cache in front of it, and steady traffic to the app (the
//!   rolling-update demo's `discovery`, `load_balancer` and `traffic` modules);
//! - a rolling update of 100 pods, 25 draining at once: each old pod gets a new one registered,
//!   then the real `eureka-hook prestop --after-propagation` against the three peers (the
//!   rolling-update demo's `hook` module), then its cancel and stop, as after SIGTERM;
//! - caches scaled to 1 s (server, consumer fetch, load balancer).
//!
//! It prints, per flavour, the failed requests, each peer's requests/s and body bytes/s during the
//! rollout (and the hooks' part of them), the pods' hold times and the rollout's length. The exit
//! code is 1 when a request failed, 2 when the simulation could not run.
//!
//! Run: `cargo run --release --example fleet`

// Shared with the rolling-update demo, which uses what this example leaves unused.
#[allow(dead_code)]
#[path = "../rolling_update/bound_client.rs"]
mod bound_client;
#[allow(dead_code)]
#[path = "../rolling_update/children.rs"]
mod children;
mod cli;
#[allow(dead_code)]
#[path = "../rolling_update/discovery.rs"]
mod discovery;
#[allow(dead_code)]
#[path = "../rolling_update/hook.rs"]
mod hook;
#[allow(dead_code)]
#[path = "../rolling_update/load_balancer.rs"]
mod load_balancer;
mod pods;
mod rollout;
#[allow(dead_code)]
#[path = "../rolling_update/traffic.rs"]
mod traffic;

use std::process::ExitCode;

use anyhow::Result;
use eureka_double::ServerFlavour;

use crate::hook::HookBinary;

fn main() -> ExitCode {
    run().unwrap_or_else(|err| {
        eprintln!("fleet: error: {err:#}");
        ExitCode::from(2)
    })
}

fn run() -> Result<ExitCode> {
    children::install_cleanup()?;
    let hook = HookBinary::build()?;
    let mut failed = 0;
    for flavour in ServerFlavour::ALL {
        let figures = rollout::simulate(flavour, &hook)?;
        figures.print();
        failed += figures.failed_requests;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
