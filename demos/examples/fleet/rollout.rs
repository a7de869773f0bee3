//! One simulated fleet and its rollout, on one server flavour, and the figures it gives.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use eureka_double::{EurekaDouble, InstanceSpec, RecordedRequest, ServerFlavour};

use crate::cli::{
    AFTER_PROPAGATION, APP, APP_INSTANCES, CONSUMERS, DRAIN, DRAINING_AT_ONCE, FETCH, HOST, LB_TTL,
    OTHER_INSTANCES, PEERS, REQUEST_PERIOD, REQUEST_TIMEOUT, ROLLED, SERVER_CACHE,
};
use crate::discovery::RegistryCopy;
use crate::hook::{HookBinary, HookFlags};
use crate::load_balancer::LoadBalancer;
use crate::pods::Pod;
use crate::traffic::Traffic;

static STOPS: Mutex<Vec<(String, Instant)>> = Mutex::new(Vec::new());

/// After the last pod, how long traffic goes on before it is counted.
const SETTLE: Duration = Duration::from_secs(3);

/// What one rollout showed.
pub struct Figures {
    flavour: ServerFlavour,
    pub failed_requests: usize,
    requests: usize,
    first_failures: Vec<String>,
    /// Per peer: requests/s, body bytes/s, and the hooks' requests/s and body bytes/s.
    peers: Vec<(f64, f64, f64, f64)>,
    /// Each drained pod's hook run, sorted.
    holds: Vec<Duration>,
    hook_failures: usize,
    length: Duration,
}

/// Builds the fleet on `flavour`, rolls it, and returns the figures.
pub fn simulate(flavour: ServerFlavour, hook: &HookBinary) -> Result<Figures> {
    let peers: Vec<EurekaDouble> = (0..PEERS)
        .map(|_| {
            EurekaDouble::builder()
                .flavour(flavour)
                .response_cache_interval(SERVER_CACHE)
                .start()
        })
        .collect();
    let pods: Vec<Pod> = (0..APP_INSTANCES)
        .map(|_| Pod::start())
        .collect::<Result<_>>()?;
    for peer in &peers {
        for pod in &pods {
            peer.register(pod_spec(pod.port));
        }
        for (n, app) in ["orders", "billing", "search", "gateway"]
            .into_iter()
            .enumerate()
        {
            let count = OTHER_INSTANCES / 4;
            peer.register_many(app, u32::try_from(n)? * count, count);
        }
    }
    EurekaDouble::replicate_among(&peers.iter().collect::<Vec<_>>());
    for peer in &peers {
        peer.forget_recent_changes();
    }
    let origin = Instant::now();
    let mut consumers = Vec::new();
    for n in 0..CONSUMERS {
        let copy = RegistryCopy::start(&peers[n % PEERS].base_url(), FETCH)?;
        let balancer = Arc::new(LoadBalancer::new(copy.view(), APP, LB_TTL));
        let traffic = Traffic::start(balancer, origin, REQUEST_PERIOD, REQUEST_TIMEOUT, None)?;
        consumers.push((copy, traffic));
    }
    for peer in &peers {
        peer.clear_requests();
    }
    let started = Instant::now();
    let (holds, hook_failures, running_pods) = roll(&peers, pods, hook)?;
    let length = started.elapsed();
    let recorded: Vec<Vec<RecordedRequest>> = peers.iter().map(EurekaDouble::requests).collect();
    thread::sleep(SETTLE);
    let mut records = Vec::new();
    for (copy, traffic) in consumers {
        records.extend(traffic.stop()?);
        drop(copy);
    }
    // Only now: the consumers still route to the pods that stayed and the new ones.
    drop(running_pods);
    let stops = STOPS.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let failures: Vec<String> = records
        .iter()
        .filter_map(|record| record.failure.as_ref().map(|failure| (record.at, failure)))
        .map(|(at, failure)| {
            let stopped = failure.instance.as_ref().and_then(|id| {
                stops
                    .iter()
                    .find(|(known, _)| known == id)
                    .map(|(_, when)| when.duration_since(origin))
            });
            format!("{failure:?} at {at:?}, its pod stopped at {stopped:?}")
        })
        .collect();
    Ok(Figures {
        flavour,
        failed_requests: failures.len(),
        requests: records.len(),
        first_failures: failures.into_iter().take(5).collect(),
        peers: recorded.iter().map(|log| rates(log, length)).collect(),
        holds,
        hook_failures,
        length,
    })
}

fn pod_spec(port: u16) -> InstanceSpec {
    InstanceSpec::new(APP, HOST, port).ip_addr(HOST)
}

/// Replaces the first [`ROLLED`] pods, [`DRAINING_AT_ONCE`] at a time; returns each old pod's
/// hold (its hook's run) and how many hooks did not exit 0.
fn roll(
    peers: &[EurekaDouble],
    pods: Vec<Pod>,
    hook: &HookBinary,
) -> Result<(Vec<Duration>, usize, Vec<Pod>)> {
    let urls: Vec<String> = peers.iter().map(EurekaDouble::base_url).collect();
    let urls = urls.join(",");
    let mut pods = pods;
    let kept = pods.split_off(ROLLED);
    let queue = Mutex::new(pods);
    let results = Mutex::new(Vec::new());
    let started_pods = Mutex::new(kept);
    thread::scope(|scope| -> Result<()> {
        let mut workers = Vec::new();
        for worker in 0..DRAINING_AT_ONCE {
            let (queue, results, started_pods, urls) = (&queue, &results, &started_pods, &urls);
            workers.push(scope.spawn(move || -> Result<()> {
                loop {
                    let Some(old) = queue.lock().unwrap_or_else(PoisonError::into_inner).pop()
                    else {
                        return Ok(());
                    };
                    let new = Pod::start()?;
                    peers[worker % PEERS].register(pod_spec(new.port));
                    let hold = replace(&peers[worker % PEERS], urls, old, hook)?;
                    results
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(hold);
                    started_pods
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(new);
                }
            }));
        }
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow!("a rollout worker panicked"))??;
        }
        Ok(())
    })?;
    let results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    let failures = results.iter().filter(|(_, ok)| !ok).count();
    let mut holds: Vec<Duration> = results.into_iter().map(|(hold, _)| hold).collect();
    holds.sort();
    let running = started_pods
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    Ok((holds, failures, running))
}

/// Drains `old` with the real hook, then cancels it on `peer` and stops it, as the app does on
/// SIGTERM; returns the hook's run time and whether it exited 0.
fn replace(
    peer: &EurekaDouble,
    urls: &str,
    mut old: Pod,
    hook: &HookBinary,
) -> Result<(Duration, bool)> {
    let run = hook.prestop(
        urls,
        old.port,
        DRAIN,
        HookFlags {
            after_propagation: Some(AFTER_PROPAGATION),
            until_quiet: None,
        },
        SERVER_CACHE,
    )?;
    let id = pod_spec(old.port).id();
    let cancel = format!("{}apps/{}/{id}", peer.base_url(), APP.to_uppercase());
    ureq::delete(&cancel)
        .call()
        .with_context(|| format!("cancelling {id}"))?;
    old.stop();
    STOPS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id.clone(), Instant::now()));
    if run.exit_code != Some(0) {
        eprintln!(
            "fleet: the hook for {id} exited {:?}: {}",
            run.exit_code, run.log
        );
    } else if run.took >= DRAIN {
        let why = run
            .log
            .lines()
            .filter(|line| line.contains("held in full"))
            .collect::<Vec<_>>();
        eprintln!("fleet: {id} held the whole drain: {}", why.join(" | "));
    }
    Ok((run.took, run.exit_code == Some(0)))
}

/// Requests/s and body bytes/s of `log` over `length`, all and the hooks' alone.
fn rates(log: &[RecordedRequest], length: Duration) -> (f64, f64, f64, f64) {
    let seconds = length.as_secs_f64().max(0.001);
    let is_hook = |request: &&RecordedRequest| {
        request
            .header("User-Agent")
            .is_some_and(|agent| agent.starts_with("eureka-hook"))
    };
    let bytes = |requests: &[&RecordedRequest]| {
        requests
            .iter()
            .map(|request| request.response_body_bytes)
            .sum::<usize>() as f64
    };
    let all: Vec<&RecordedRequest> = log.iter().collect();
    let hooks: Vec<&RecordedRequest> = log.iter().filter(is_hook).collect();
    (
        all.len() as f64 / seconds,
        bytes(&all) / seconds,
        hooks.len() as f64 / seconds,
        bytes(&hooks) / seconds,
    )
}

impl Figures {
    pub fn print(&self) {
        let pick = |at: usize| {
            self.holds
                .get(at)
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
        };
        println!("== {} ==", self.flavour);
        println!(
            "rollout of {ROLLED} pods, {DRAINING_AT_ONCE} draining at once: {:.1} s; hooks not \
             exiting 0: {}",
            self.length.as_secs_f64(),
            self.hook_failures
        );
        println!(
            "requests: {} sent, {} failed{}",
            self.requests,
            self.failed_requests,
            if self.first_failures.is_empty() {
                String::new()
            } else {
                format!(" (first: {})", self.first_failures.join("; "))
            }
        );
        println!(
            "pod hold (hook run): min {:.1} s, median {:.1} s, max {:.1} s",
            pick(0),
            pick(self.holds.len() / 2),
            pick(self.holds.len().saturating_sub(1))
        );
        println!(
            "pods held the whole --drain ({}) or longer: {}",
            crate::cli::show(DRAIN),
            self.holds.iter().filter(|hold| **hold >= DRAIN).count()
        );
        for (n, (requests, bytes, hook_requests, hook_bytes)) in self.peers.iter().enumerate() {
            println!(
                "peer {n}: {requests:.0} requests/s, {:.1} KB/s of bodies; the hooks' part: \
                 {hook_requests:.0} requests/s, {:.1} KB/s",
                bytes / 1000.0,
                hook_bytes / 1000.0
            );
        }
    }
}
