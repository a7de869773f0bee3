//! Rolling-update demo: what `eureka-hook prestop` changes for the consumers of a service that
//! Kubernetes replaces one pod at a time. All on 127.0.0.1, without a container runtime:
//!
//! - the registry is the Eureka server double, with its read-only response cache (`--cache`);
//! - each service instance is a process of its own (this example in its hidden `serve-instance`
//!   role) that registers, heartbeats and, on SIGTERM, cancels and stops, as a Spring Boot app with
//!   Spring Cloud Netflix does;
//! - a consumer keeps a registry copy as Eureka's client does (full fetch, then deltas every
//!   `--fetch`, UP instances only), puts Spring Cloud LoadBalancer's cache in front of it
//!   (`--lb-ttl`), and sends a steady stream of requests round robin (`--rate`);
//! - a stale consumer does the same from 127.0.0.2 (a new connection each request,
//!   `--stale-rate`), but its load-balancer cache lasts `--stale-lb-ttl`, longer than
//!   `--after-propagation` assumes (a Ribbon or gateway cache, or one that never expires under
//!   steady traffic);
//! - the rollout replaces every instance four times over, from the same start: (a) SIGTERM only,
//!   (b) the real `eureka-hook prestop --drain D` and then SIGTERM, as kubelet runs a preStop hook,
//!   (c) `eureka-hook prestop --drain D --after-propagation A`, which ends each drain A after the
//!   server's cache showed the change (the stale consumer loses requests), and (d) the same with
//!   `--until-quiet Q`, which holds the drain until the pod has had no inbound data for Q (never
//!   past D); the hook's report names the stale consumer's address.
//!
//! It prints a table (mode, requests, failed, failure %, time taken, mean hold per pod) and
//! writes `results.json` and `failures.svg` into `target/demos/rolling-update/` (with
//! `--update-docs`, into the tracked `docs/rolling-update/` that docs/results.md shows; `--out DIR` anywhere
//! else). The exit code is 1 when mode (b) or (d) had a failed request, 2 when the demo could not
//! run.
//!
//! Run: `cargo run --release --example rolling_update [-- --help]`

mod bound_client;
mod chart;
mod children;
mod cli;
mod consumer;
mod discovery;
mod fleet;
mod hook;
mod jitter;
mod load_balancer;
mod registration;
mod report;
mod rollout;
mod service;
mod traffic;

use std::fs;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;

use crate::cli::{Cli, DemoArgs, Role, Settings, show};
use crate::hook::HookBinary;
use crate::report::{BUCKET, ModeSummary};
use crate::rollout::Mode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.role {
        Some(Role::ServeInstance(args)) => service::serve(args).map(|()| ExitCode::SUCCESS),
        None => demo(&cli.demo),
    };
    outcome.unwrap_or_else(|err| {
        eprintln!("rolling_update: error: {err:#}");
        ExitCode::from(2)
    })
}

fn demo(args: &DemoArgs) -> Result<ExitCode> {
    children::install_cleanup()?;
    let settings = Settings::resolve(args);
    print_settings(&settings);
    let hook = HookBinary::build()?;
    let started = Instant::now();
    let summaries = Mode::ALL
        .into_iter()
        .map(|mode| rollout::run(mode, &settings, &hook).map(ModeSummary::new))
        .collect::<Result<Vec<_>>>()?;

    report::print_table(&summaries);
    write_outputs(&settings, &summaries)?;
    println!(
        "run time {:.1} s (all four rollouts, without building eureka-hook)",
        started.elapsed().as_secs_f64()
    );
    Ok(verdict(&settings, &summaries))
}

fn print_settings(settings: &Settings) {
    println!(
        "{} instances, {} requests/s; intervals scaled down: server cache {}, client fetch {}, \
         load-balancer cache {}, heartbeat {}, startup {}",
        settings.instances,
        settings.rate_per_second,
        show(settings.cache),
        show(settings.fetch),
        show(settings.lb_ttl),
        show(settings.heartbeat),
        show(settings.startup)
    );
    println!("{}", settings.drain_arithmetic());
    println!("{}", settings.after_propagation_arithmetic());
    println!(
        "stale consumer from {}: load-balancer cache {}, {} requests/s; (d) --until-quiet {}",
        crate::consumer::STALE_SOURCE,
        show(settings.stale_lb_ttl),
        settings.stale_rate_per_second,
        show(settings.until_quiet)
    );
    println!("(with the production defaults: 30s + 30s + 35s = 95s, plus a margin)");
    if settings.drain() < settings.worst_case() {
        println!(
            "note: the drain is shorter than the worst case {}: (b) may fail",
            show(settings.worst_case())
        );
    }
}

fn write_outputs(settings: &Settings, summaries: &[ModeSummary]) -> Result<()> {
    fs::create_dir_all(&settings.out_dir)
        .with_context(|| format!("creating {}", settings.out_dir.display()))?;
    let json_path = settings.out_dir.join("results.json");
    report::write_json(&json_path, settings, summaries)?;
    let chart_path = settings.out_dir.join("failures.svg");
    let rate = settings.rate_per_second + settings.stale_rate_per_second;
    let sent_per_bucket = (u128::from(rate) * BUCKET.as_millis() / 1000) as usize;
    chart::write_svg(&chart_path, summaries, sent_per_bucket)?;
    println!(
        "\nwrote {} and {}",
        json_path.display(),
        chart_path.display()
    );
    Ok(())
}

/// The likeliest cause of failures in (b), for the verdict.
fn failure_cause(settings: &Settings) -> String {
    if settings.drain() < settings.worst_case() {
        format!(
            "the drain {} is shorter than server cache + client fetch + load-balancer cache = {}: \
             the consumer can still route to an instance when it stops; raise --drain",
            show(settings.drain()),
            show(settings.worst_case())
        )
    } else {
        format!(
            "the drain {} covers server cache + client fetch + load-balancer cache = {}: compare \
             the failure times with the steps of (b) above (the hook's exit code, the order)",
            show(settings.drain()),
            show(settings.worst_case())
        )
    }
}

/// Exit 1, saying why, when mode (b) or (d) had failures; (c)'s are the stale consumer's, shown.
fn verdict(settings: &Settings, summaries: &[ModeSummary]) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for summary in summaries {
        match (summary.mode, summary.failed) {
            (Mode::SigtermOnly, 0) => println!(
                "note: (a) had no failed request; with intervals this short the consumer may have \
                 caught up before each instance stopped"
            ),
            (Mode::PrestopAfterPropagation, failed) if failed > 0 => {
                println!(
                    "as expected, {} lost {failed} request(s): --after-propagation {} does not \
                     cover the stale consumer's load-balancer cache {}:",
                    summary.mode.label(),
                    show(settings.after_propagation()),
                    show(settings.stale_lb_ttl)
                );
                for line in report::failure_lines(summary) {
                    println!("  {line}");
                }
            }
            (Mode::PrestopAfterPropagation, 0) => println!(
                "note: (c) had no failed request; the stale consumer's cache happened to expire \
                 in time"
            ),
            (Mode::PrestopThenSigterm | Mode::PrestopUntilQuiet, failed) if failed > 0 => {
                println!(
                    "FAILED: {} had {failed} failed request(s) with a drain of {}:",
                    summary.mode.label(),
                    show(settings.drain())
                );
                for line in report::failure_lines(summary) {
                    println!("  {line}");
                }
                println!("  {}", failure_cause(settings));
                code = ExitCode::from(1);
            }
            _ => {}
        }
    }
    code
}
