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
//! - the rollout replaces every instance three times over, from the same start: (a) SIGTERM only,
//!   (b) the real `eureka-hook prestop --drain D` and then SIGTERM, as kubelet runs a preStop hook,
//!   and (c) `eureka-hook prestop --drain D --after-propagation A`, which ends each drain A after
//!   the server's cache showed the change.
//!
//! It prints a table (mode, requests, failed, failure %, time taken, mean hold per pod) and
//! writes `results.json` and `failures.svg` into `target/demos/rolling-update/` (with
//! `--update-docs`, into the tracked `docs/rolling-update/` that docs/results.md shows; `--out DIR` anywhere
//! else). The exit code is 1 when mode (b) or (c) had a failed request, 2 when the demo could not
//! run.
//!
//! Run: `cargo run --release --example rolling_update [-- --help]`

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
        "run time {:.1} s (all three rollouts, without building eureka-hook)",
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
    let sent_per_bucket =
        (u128::from(settings.rate_per_second) * BUCKET.as_millis() / 1000) as usize;
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

/// Exit 1, saying why, when mode (b) had failures.
fn verdict(settings: &Settings, summaries: &[ModeSummary]) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for summary in summaries {
        match (summary.mode, summary.failed) {
            (Mode::SigtermOnly, 0) => println!(
                "note: (a) had no failed request; with intervals this short the consumer may have \
                 caught up before each instance stopped"
            ),
            (Mode::PrestopThenSigterm | Mode::PrestopAfterPropagation, failed) if failed > 0 => {
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
