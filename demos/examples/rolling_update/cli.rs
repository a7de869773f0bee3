//! The example's command line: the demo's flags (every interval of the miniature is one), the
//! hidden `serve-instance` role the demo starts its service instances with, and the [`Settings`]
//! resolved from the flags, including the drain and the arithmetic behind it. No I/O.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The service's name, as `spring.application.name`.
pub const APP: &str = "rolling-demo";
/// The host every instance registers with (`hostName` and `ipAddr`), and the hook is told.
pub const HOST: &str = "127.0.0.1";

/// A rolling update of a Eureka-registered service, four times: old instances stopped by SIGTERM
/// only, by `eureka-hook prestop` (a fixed drain) followed by SIGTERM, by `eureka-hook prestop
/// --after-propagation` followed by SIGTERM, and by `eureka-hook prestop --after-propagation
/// --until-quiet` followed by SIGTERM. Two consumers call the service: one with Spring Cloud's
/// default caches, and a stale one (from 127.0.0.2) whose load-balancer cache lasts longer than
/// --after-propagation assumes. Prints the failed requests of each mode and how long each pod was
/// held, and writes them as JSON and as an SVG chart.
///
/// Every production interval is scaled down (30 s becomes 1 s by default) so that the whole run
/// takes well under a minute; the proportions are kept.
#[derive(Debug, Parser)]
#[command(name = "rolling_update", max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub role: Option<Role>,

    #[command(flatten)]
    pub demo: DemoArgs,
}

#[derive(Debug, Subcommand)]
pub enum Role {
    /// Runs one service instance (the demo starts these itself).
    #[command(hide = true)]
    ServeInstance(InstanceArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many instances the service runs; they are replaced one at a time
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u16).range(1..=16))]
    pub instances: u16,

    /// Eureka server's read-only response cache refresh (response-cache-update-interval-ms; 30s in production)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = interval)]
    pub cache: Duration,

    /// Consumer's registry fetch interval (eureka.client.registry-fetch-interval-seconds; 30s)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = interval)]
    pub fetch: Duration,

    /// Spring Cloud LoadBalancer's instance cache TTL (spring.cloud.loadbalancer.cache.ttl; 35s)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = interval)]
    pub lb_ttl: Duration,

    /// Instances' heartbeat (eureka.instance.lease-renewal-interval-in-seconds; 30s); the lease
    /// lasts three heartbeats, as 90s does
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = interval)]
    pub heartbeat: Duration,

    /// How long a new instance takes to start before it listens and registers (a Spring Boot app:
    /// 10-30s); each start takes 50-150% of this, at random
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = duration)]
    pub startup: Duration,

    /// Added to cache + fetch + lb-ttl to make the default drain
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = duration)]
    pub margin: Duration,

    /// The drain `eureka-hook prestop` holds in mode (b), and at most in (c) [default: cache +
    /// fetch + lb-ttl + margin]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub drain: Option<Duration>,

    /// `--after-propagation` of mode (c): what consumers need once the server's cache shows the
    /// change [default: fetch + lb-ttl + margin, as 30 + 35 + 5 = 70s in production]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub after_propagation: Option<Duration>,

    /// The stale consumer's load-balancer cache TTL: longer than --after-propagation assumes (a
    /// Ribbon or gateway cache, or one that never expires under steady traffic)
    #[arg(long, value_name = "DURATION", default_value = "6s", value_parser = interval)]
    pub stale_lb_ttl: Duration,

    /// Requests the stale consumer sends per second (from 127.0.0.2, a new connection each)
    #[arg(long, value_name = "N/s", default_value = "20/s", value_parser = rate)]
    pub stale_rate: u32,

    /// `--until-quiet` of mode (d): the drain ends only once the pod has had no inbound data for
    /// this long (never past the drain)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = interval)]
    pub until_quiet: Duration,

    /// Requests the consumer sends per second, at a steady pace, e.g. 200/s
    #[arg(long, value_name = "N/s", default_value = "200/s", value_parser = rate)]
    pub rate: u32,

    /// Connect and read timeout of each consumer request
    #[arg(long, value_name = "DURATION", default_value = "250ms", value_parser = interval)]
    pub request_timeout: Duration,

    /// Directory for results.json and failures.svg [default: target/demos/rolling-update, or
    /// docs/rolling-update with --update-docs]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Write the results into docs/rolling-update (tracked, shown in docs/results.md)
    #[arg(long, conflicts_with = "out")]
    pub update_docs: bool,
}

/// What one service instance needs to know; the demo passes all of it.
#[derive(Debug, Args)]
pub struct InstanceArgs {
    /// The Eureka server's service URL, with the trailing slash
    #[arg(long, value_name = "URL")]
    pub eureka_url: String,

    /// Heartbeat interval
    #[arg(long, value_name = "DURATION", value_parser = interval)]
    pub heartbeat: Duration,

    /// How long to wait before listening and registering
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub startup: Duration,
}

/// The demo's settings, resolved from [`DemoArgs`].
#[derive(Clone, Debug)]
pub struct Settings {
    /// How many instances run, before and after the rollout.
    pub instances: usize,
    /// The server's read-only response cache refresh interval.
    pub cache: Duration,
    /// The consumer's registry fetch interval.
    pub fetch: Duration,
    /// The consumer's load-balancer cache TTL.
    pub lb_ttl: Duration,
    /// The instances' lease renewal interval.
    pub heartbeat: Duration,
    /// The typical time from starting an instance to its registration.
    pub startup: Duration,
    /// What the default drain adds to the worst case.
    pub margin: Duration,
    /// From --drain; `None` for the default, see [`Settings::drain`].
    pub given_drain: Option<Duration>,
    /// From --after-propagation; `None` for the default, see [`Settings::after_propagation`].
    pub given_after_propagation: Option<Duration>,
    pub rate_per_second: u32,
    /// The stale consumer's load-balancer cache TTL.
    pub stale_lb_ttl: Duration,
    pub stale_rate_per_second: u32,
    /// Mode (d)'s `--until-quiet`.
    pub until_quiet: Duration,
    /// Connect and read timeout of each consumer request.
    pub request_timeout: Duration,
    /// From --out, else `target/demos/rolling-update`, or `docs/rolling-update` with
    /// --update-docs.
    pub out_dir: PathBuf,
}

impl Settings {
    pub fn resolve(args: &DemoArgs) -> Settings {
        Settings {
            instances: usize::from(args.instances),
            cache: args.cache,
            fetch: args.fetch,
            lb_ttl: args.lb_ttl,
            heartbeat: args.heartbeat,
            startup: args.startup,
            margin: args.margin,
            given_drain: args.drain,
            given_after_propagation: args.after_propagation,
            rate_per_second: args.rate,
            stale_lb_ttl: args.stale_lb_ttl,
            stale_rate_per_second: args.stale_rate,
            until_quiet: args.until_quiet,
            request_timeout: args.request_timeout,
            out_dir: args.out.clone().unwrap_or_else(|| {
                eureka_hook_demos::results_path("rolling-update", args.update_docs)
            }),
        }
    }

    /// The drain prestop holds in mode (b): --drain, else the worst case plus the margin.
    pub fn drain(&self) -> Duration {
        self.given_drain.unwrap_or(self.worst_case() + self.margin)
    }

    /// What mode (c) holds after the server's cache shows the change: --after-propagation, else
    /// the client fetch, the load-balancer cache and the margin.
    pub fn after_propagation(&self) -> Duration {
        self.given_after_propagation
            .unwrap_or(self.fetch + self.lb_ttl + self.margin)
    }

    /// How mode (c)'s `--after-propagation` was sized.
    pub fn after_propagation_arithmetic(&self) -> String {
        match self.given_after_propagation {
            Some(given) => format!("(c) --after-propagation {} (given)", show(given)),
            None => format!(
                "(c) --after-propagation = client fetch {} + load-balancer cache {} + margin {} = \
                 {} (at most the drain)",
                show(self.fetch),
                show(self.lb_ttl),
                show(self.margin),
                show(self.after_propagation())
            ),
        }
    }

    /// The longest a consumer can keep routing to an instance after the registry changed: each
    /// cache stage can be one full interval behind the one before it (the stale consumer's cache
    /// is the longer one).
    pub fn worst_case(&self) -> Duration {
        self.cache + self.fetch + self.lb_ttl.max(self.stale_lb_ttl)
    }

    /// How the drain was sized, for a person: the same sum the README gives for production.
    pub fn drain_arithmetic(&self) -> String {
        let sum = format!(
            "server cache {} + client fetch {} + longest load-balancer cache {}",
            show(self.cache),
            show(self.fetch),
            show(self.lb_ttl.max(self.stale_lb_ttl))
        );
        if self.given_drain.is_some() {
            format!(
                "drain {} (given with --drain; worst case: {sum} = {})",
                show(self.drain()),
                show(self.worst_case())
            )
        } else {
            format!(
                "drain = {sum} + margin {} = {}",
                show(self.margin),
                show(self.drain())
            )
        }
    }
}

/// A duration as humantime writes it (`1s`, `250ms`).
pub fn show(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|err| format!("'{text}' is not a duration ({err}): use e.g. 1s or 500ms"))
}

/// A duration above zero: it paces a loop.
fn interval(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        zero if zero.is_zero() => Err("must be greater than zero, e.g. 1s".into()),
        interval => Ok(interval),
    }
}

/// `200/s` or `200`: requests per second, from 1 to 10 000.
fn rate(text: &str) -> Result<u32, String> {
    let number = text.trim().strip_suffix("/s").unwrap_or(text.trim());
    match number.parse::<u32>() {
        Ok(rate @ 1..=10_000) => Ok(rate),
        _ => Err(format!(
            "'{text}' is not a rate: use requests per second from 1/s to 10000/s, e.g. 200/s"
        )),
    }
}
