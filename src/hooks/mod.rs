//! The three hooks, one flow per file, and what they share.
//!
//! Each flow takes the settings and a client, logs one line per event, and returns `Ok` when it
//! did its job or a [`HookFailed`](crate::exit::HookFailed) carrying the exit code and a message
//! that makes sense on its own (kubelet shows it in the `FailedPreStopHook` / `FailedPostStartHook`
//! event). Each flow also exposes its requests as a [`plan::Plan`], which `--dry-run` prints.

pub mod drain;
mod dry_run;
mod fan_out;
mod fast_return;
mod locate;
mod plan;
mod poststart;
mod prestop;
mod report;
mod requests;
mod stale;
mod status;
pub mod unnamed;

pub use dry_run::dry_run;
pub use fast_return::{Guards, PodStart};
pub use poststart::poststart;
pub use prestop::prestop;
pub use status::status;

/// What the flows' unit tests share.
#[cfg(test)]
pub mod test_support {
    use crate::cli::Cli;
    use crate::settings::Settings;
    use crate::settings::machine::fake::FakeMachine;
    use clap::Parser;

    /// Settings for `args`, with `url` as `EUREKA_URL` and `pod-0` as the machine's hostname.
    pub fn settings_for(url: &str, args: &[&str]) -> Settings {
        let cli = Cli::try_parse_from(["eureka-hook"].iter().chain(args)).unwrap();
        let url = url.to_string();
        let env = move |name: &str| (name == "EUREKA_URL").then(|| url.clone());
        Settings::resolve(&cli, &env, &FakeMachine::named("pod-0").shared())
            .unwrap()
            .split()
            .named()
    }
}
