//! The main job, on this machine: a local Eureka server double, an instance registered under this
//! machine's hostname, then `eureka-hook prestop` (short drain) and `eureka-hook poststart`, with
//! the registry's view before and after each step.
//!
//! Run: `cargo run --example demo`. It exits 1 when a step's hook does not exit 0.

use std::error::Error;
use std::path::PathBuf;
use std::process::Command;

use eureka_double::{EurekaDouble, InstanceSpec};

const APP: &str = "demo-service";
const PORT: u16 = 8080;

fn main() -> Result<(), Box<dyn Error>> {
    let hook_binary = build_hook()?;
    // No read-only response cache, so every listing below is current.
    let registry = EurekaDouble::builder()
        .response_cache_interval(std::time::Duration::ZERO)
        .start();
    let host = hostname::get()?.to_string_lossy().into_owned();
    let id = registry.register(InstanceSpec::new(APP, &host, PORT));
    println!("Eureka server double at {}", registry.base_url());
    // The app and the hook read the same spring.cloud.client.hostname, as in a pod that sets it;
    // without it the hook finds the host as Spring Cloud's InetUtils does, which on a machine
    // whose /etc/hosts does not name its address is the address, not the kernel hostname.
    println!("registered {id} (app {APP}, host from SPRING_CLOUD_CLIENT_HOSTNAME={host})\n");

    let hook = |args: &[&str]| -> Result<(), Box<dyn Error>> {
        println!("$ eureka-hook {}", args.join(" "));
        let status = Command::new(&hook_binary)
            .args(args)
            .env_clear()
            .env("EUREKA_URL", registry.base_url())
            .env("SPRING_APPLICATION_NAME", APP)
            .env("SERVER_PORT", PORT.to_string())
            .env("SPRING_CLOUD_CLIENT_HOSTNAME", &host)
            .status()?;
        println!("(exit code {})\n", status.code().unwrap_or(-1));
        // Every step of the tour is one that succeeds; a failure ends the demo with exit 1.
        if !status.success() {
            return Err(format!("eureka-hook {} failed ({status})", args.join(" ")).into());
        }
        Ok(())
    };

    println!("1. Before: the instance is UP.");
    hook(&["status"])?;

    println!("2. preStop: mark OUT_OF_SERVICE, hold a 2 s drain (a pod would use 30 s or more).");
    hook(&["prestop", "--drain", "2s"])?;
    hook(&["status"])?;

    println!("3. The app keeps heartbeating: the override keeps it OUT_OF_SERVICE.");
    println!("   heartbeat answered {}", registry.heartbeat(APP, &id));
    hook(&["status"])?;

    println!("4. postStart (e.g. a pod with the same name comes back): remove the override.");
    hook(&["poststart", "--wait", "5s"])?;
    hook(&["status"])?;

    println!("5. The app's next heartbeat is refused, so it registers again with its own status:");
    println!("   heartbeat answered {}", registry.heartbeat(APP, &id));
    registry.register(InstanceSpec::new(APP, &host, PORT));
    hook(&["status"])?;

    println!("Requests the registry received from eureka-hook:");
    for request in registry.requests() {
        let query = request.query.map(|q| format!("?{q}")).unwrap_or_default();
        println!(
            "  {} {}{} -> {}",
            request.method, request.path, query, request.status
        );
    }
    Ok(())
}

/// Builds the `eureka-hook` binary in this example's profile and returns its path.
fn build_hook() -> Result<PathBuf, Box<dyn Error>> {
    let (mut build, binary) = eureka_hook_demos::hook_build()?;
    if !build.status()?.success() {
        return Err("building eureka-hook failed".into());
    }
    Ok(binary)
}
