//! One rolling update, from a fresh start: a new Eureka server double, N instances UP, and a
//! consumer (registry copy, load balancer, steady traffic) that sees all of them. Then, as a
//! Deployment rollout with maxSurge 1 and maxUnavailable 0 does, for each old instance: start a
//! new one, wait until it is UP in the registry, stop the old one the mode's way and wait for it
//! to exit. The traffic runs until the consumer routes to the new instances only.

use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use eureka_double::EurekaDouble;

use crate::cli::{Settings, show};
use crate::consumer::{Consumer, STALE_SOURCE};
use crate::fleet::{self, Instance};
use crate::hook::{HookBinary, HookFlags};
use crate::jitter;
use crate::traffic::RequestRecord;

/// Beyond the worst-case cache delay, how long the consumer may take to see a change.
const SETTLE_SLACK: Duration = Duration::from_secs(5);

/// How old instances are stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// (a) SIGTERM only: the instance cancels its registration and stops at once.
    SigtermOnly,
    /// (b) `eureka-hook prestop --drain D`, then SIGTERM.
    PrestopThenSigterm,
    /// (c) `eureka-hook prestop --drain D --after-propagation A`, then SIGTERM.
    PrestopAfterPropagation,
    /// (d) `eureka-hook prestop --drain D --after-propagation A --until-quiet Q`, then SIGTERM.
    PrestopUntilQuiet,
}

impl Mode {
    pub const ALL: [Mode; 4] = [
        Mode::SigtermOnly,
        Mode::PrestopThenSigterm,
        Mode::PrestopAfterPropagation,
        Mode::PrestopUntilQuiet,
    ];

    /// For files and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Mode::SigtermOnly => "sigterm-only",
            Mode::PrestopThenSigterm => "prestop-then-sigterm",
            Mode::PrestopAfterPropagation => "prestop-after-propagation-then-sigterm",
            Mode::PrestopUntilQuiet => "prestop-until-quiet-then-sigterm",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Mode::SigtermOnly => "(a) SIGTERM only",
            Mode::PrestopThenSigterm => "(b) eureka-hook prestop, then SIGTERM",
            Mode::PrestopAfterPropagation => "(c) prestop --after-propagation, SIGTERM",
            Mode::PrestopUntilQuiet => "(d) prestop --until-quiet, SIGTERM",
        }
    }

    /// The flags this mode gives the hook, if it runs the hook at all.
    fn hook_run(self, settings: &Settings) -> Option<HookFlags> {
        let after_propagation = Some(settings.after_propagation());
        match self {
            Mode::SigtermOnly => None,
            Mode::PrestopThenSigterm => Some(HookFlags::default()),
            Mode::PrestopAfterPropagation => Some(HookFlags {
                after_propagation,
                until_quiet: None,
            }),
            Mode::PrestopUntilQuiet => Some(HookFlags {
                after_propagation,
                until_quiet: Some(settings.until_quiet),
            }),
        }
    }
}

/// Something the rollout did, at a time since the traffic started.
#[derive(Clone, Debug)]
pub struct Event {
    pub at: Duration,
    pub what: String,
}

/// What one mode's rollout gave.
pub struct ModeRun {
    pub mode: Mode,
    pub records: Vec<RequestRecord>,
    /// From the first request to the last.
    pub took: Duration,
    pub events: Vec<Event>,
    /// When each old instance got SIGTERM, by instance id.
    pub sigterm_at: BTreeMap<String, Duration>,
    /// How long each prestop run held its pod, in rollout order (none in mode (a)).
    pub holds: Vec<Duration>,
}

/// Runs the rollout in `mode`, printing its steps as they happen.
pub fn run(mode: Mode, settings: &Settings, hook: &HookBinary) -> Result<ModeRun> {
    println!("\n{}", mode.label());
    let registry = EurekaDouble::builder()
        .response_cache_interval(settings.cache)
        .try_start()
        .context("starting the Eureka server double")?;
    let old_fleet = fleet::start_fleet(settings.instances, &registry, settings)?;
    let consumer = Consumer::start(&registry.base_url(), settings)?;
    let stale = Consumer::stale(&registry.base_url(), settings)?;
    // A real consumer has been running for a while: its load-balancer cache is in no particular
    // phase with its fetch timer (the first routing check below loads it).
    thread::sleep(jitter::below(settings.fetch));
    let settle_bound = settings.worst_case() + SETTLE_SLACK;
    consumer.wait_until_routing_to(&fleet_ids(&old_fleet), settle_bound)?;
    thread::sleep(jitter::below(settings.stale_lb_ttl));
    stale.wait_until_routing_to(&fleet_ids(&old_fleet), settle_bound)?;

    let origin = Instant::now();
    let traffic = consumer.send_traffic(origin, settings, settings.rate_per_second)?;
    let stale_traffic = stale.send_traffic(origin, settings, settings.stale_rate_per_second)?;
    let mut timeline = Timeline::new(origin);
    timeline.note(format!(
        "traffic started: {} requests/s over {} instances, and {} requests/s from the stale \
         consumer ({STALE_SOURCE})",
        settings.rate_per_second,
        old_fleet.len(),
        settings.stale_rate_per_second
    ));
    let mut new_fleet = Vec::with_capacity(old_fleet.len());
    let mut holds = Vec::new();
    for old in old_fleet {
        let (new, held) = replace(mode, old, &registry, settings, hook, &mut timeline)?;
        new_fleet.push(new);
        holds.extend(held);
    }
    consumer.wait_until_routing_to(&fleet_ids(&new_fleet), settle_bound)?;
    stale.wait_until_routing_to(&fleet_ids(&new_fleet), settle_bound)?;
    timeline.note("both consumers route to the new instances only".into());
    let mut records = traffic.stop()?;
    records.extend(stale_traffic.stop()?);
    records.sort_by_key(|record| record.at);
    let took = origin.elapsed();
    stop_fleet(new_fleet)?;
    Ok(ModeRun {
        mode,
        records,
        took,
        events: timeline.events,
        sigterm_at: timeline.sigterm_at,
        holds,
    })
}

/// One rollout step: start the new instance, wait until it is ready, then stop `old`. Returns the
/// new instance and how long the hook held the old one, if it ran.
fn replace(
    mode: Mode,
    mut old: Instance,
    registry: &EurekaDouble,
    settings: &Settings,
    hook: &HookBinary,
    timeline: &mut Timeline,
) -> Result<(Instance, Option<Duration>)> {
    let new = Instance::start(&registry.base_url(), settings)?;
    new.wait_until_up(registry)?;
    timeline.note(format!("new instance {} is UP in the registry", new.id));
    let mut held = None;
    if let Some(flags) = mode.hook_run(settings) {
        let after = flags
            .after_propagation
            .map(|after| format!(" --after-propagation {}", show(after)))
            .unwrap_or_default();
        let quiet = flags
            .until_quiet
            .map(|quiet| format!(" --until-quiet {}", show(quiet)))
            .unwrap_or_default();
        timeline.note(format!(
            "eureka-hook prestop --drain {}{after}{quiet} --port {} (no app name) for {}",
            show(settings.drain()),
            old.port,
            old.id
        ));
        let run = hook.prestop(
            &registry.base_url(),
            old.port,
            settings.drain(),
            flags,
            settings.cache,
        )?;
        // What the pod itself saw arrive after the mark, source by source.
        for line in run.log.lines().filter(|line| line.contains("inbound from")) {
            println!(
                "             | {}",
                line.trim_start_matches("eureka-hook: info: ")
            );
        }
        held = Some(run.took);
        let exit = run
            .exit_code
            .map_or_else(|| "by a signal".to_owned(), |code| code.to_string());
        timeline.note(format!(
            "eureka-hook exited {exit} after {:.2} s",
            run.took.as_secs_f64()
        ));
        if run.exit_code != Some(0) {
            for line in run.log.lines() {
                println!("             | {line}");
            }
        }
    }
    old.sigterm()?;
    timeline
        .sigterm_at
        .insert(old.id.clone(), timeline.origin.elapsed());
    timeline.note(format!("SIGTERM to {}", old.id));
    old.wait_exit()?;
    timeline.note(format!("{} exited", old.id));
    Ok((new, held))
}

/// Stops the instances left at the end, the Kubernetes way.
fn stop_fleet(fleet: Vec<Instance>) -> Result<()> {
    for instance in &fleet {
        instance.sigterm()?;
    }
    for mut instance in fleet {
        instance.wait_exit()?;
    }
    Ok(())
}

/// The instances' ids, sorted as the consumer reports them.
fn fleet_ids(fleet: &[Instance]) -> Vec<String> {
    let mut ids: Vec<String> = fleet.iter().map(|instance| instance.id.clone()).collect();
    ids.sort();
    ids
}

/// The rollout's steps, printed as they happen and kept for the results.
struct Timeline {
    origin: Instant,
    events: Vec<Event>,
    sigterm_at: BTreeMap<String, Duration>,
}

impl Timeline {
    fn new(origin: Instant) -> Timeline {
        Timeline {
            origin,
            events: Vec::new(),
            sigterm_at: BTreeMap::new(),
        }
    }

    fn note(&mut self, what: String) {
        let at = self.origin.elapsed();
        println!("  {:>6.2} s  {what}", at.as_secs_f64());
        self.events.push(Event { at, what });
    }
}
