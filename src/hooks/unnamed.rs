//! The three hooks when no app name is known: find this pod's instance in the registry first
//! (`locate::by_address`), then run the hook as if its app and id had been given. What each does
//! when none can be taken:
//! - prestop still holds its drain, then exits with the look-up's code (3 when several
//!   instances could be this pod's, or none is);
//! - poststart asks again every [`POLL_INTERVAL`] within --wait (the app may not have registered
//!   yet), in the registry's recent changes (`apps/delta`, a few KB, where a new registration
//!   shows) rather than the whole registry again (the whole registry when the delta cannot be
//!   read), except when several could be this pod's, which waiting does not change; then gives
//!   up as poststart does (a warning and exit 0 unless --strict);
//! - status exits with the look-up's code.
//!
//! The look-up takes at most one request timeout (poststart: each round), on top of the hook's
//! own bound.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Result;

use super::drain::end::{Evidence, hold_drain};
use super::fast_return::{Guards, PodStart};
use super::locate::by_address::{Read, Unidentified, identify};
use crate::bug;
use crate::clock::{Clock, later};
use crate::eureka::EurekaClient;
use crate::exit::HookFailed;
use crate::log;
use crate::settings::{Settings, Unnamed, WatchSettings};

/// How often poststart reads the registry again while this pod's instance is not in it: the
/// registry serves `apps/` from a cache refreshed every 30 s, so reading more often shows nothing
/// sooner.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// prestop with no app name: the look-up, then prestop for the instance found; without one, the
/// drain is held all the same.
pub fn prestop(
    settings: Settings<Unnamed>,
    client: &EurekaClient<'static>,
    clock: &'static dyn Clock,
    drain: Duration,
    watch: WatchSettings,
) -> Result<()> {
    let timeout = settings.registry.request_timeout;
    let found = bug::contained("the registry look-up", || {
        identify(&settings, client, clock, timeout, Read::Registry).map_err(HookFailed::from)
    })
    .and_then(|found| found);
    match found {
        Ok(identity) => super::prestop(&settings.with(identity), client, clock, drain, watch),
        Err(failure) => {
            // A warning now, for whoever watches the drain; the error line comes at its end.
            log::warn(
                "not_identified",
                &format!("{failure}; nothing was marked, the drain is held all the same"),
            );
            let (_, no_reports) = mpsc::channel();
            hold_drain(
                clock,
                drain,
                None,
                &mut Evidence::new(Vec::new()),
                &no_reports,
                None,
            );
            Err(failure.into())
        }
    }
}

/// poststart with no app name: the look-up, again every [`POLL_INTERVAL`] within `wait`, then
/// poststart for the instance found with what is left of `wait`.
pub fn poststart(
    settings: Settings<Unnamed>,
    client: &EurekaClient,
    clock: &dyn Clock,
    wait: Duration,
    strict: bool,
    guards: Guards,
) -> Result<()> {
    let timeout = settings.registry.request_timeout;
    let deadline = later(clock.now(), wait);
    let mut said_not_yet = false;
    let mut read = Read::Registry;
    let unidentified = loop {
        let left = deadline.saturating_duration_since(clock.now());
        // The first round may take a whole request timeout, as poststart's own first check.
        let within = if said_not_yet {
            timeout.min(left)
        } else {
            timeout
        };
        let unidentified = match identify(&settings, client, clock, within, read) {
            Ok(identity) => {
                let left = deadline.saturating_duration_since(clock.now());
                return super::poststart(
                    &settings.with(identity),
                    client,
                    clock,
                    left,
                    strict,
                    guards,
                );
            }
            Err(unidentified) => unidentified,
        };
        let left = deadline.saturating_duration_since(clock.now());
        if matches!(unidentified, Unidentified::Ambiguous(_)) || left <= POLL_INTERVAL {
            break unidentified;
        }
        if !said_not_yet {
            log::info(
                "not_registered_yet",
                &format!(
                    "{}; reading the registry again every {}s",
                    unidentified.why(),
                    POLL_INTERVAL.as_secs()
                ),
            );
            said_not_yet = true;
        }
        read = match unidentified {
            Unidentified::Unreadable { .. } => Read::Registry,
            _ => Read::RecentChanges,
        };
        clock.sleep(POLL_INTERVAL);
    };
    let failure = HookFailed::from(unidentified);
    if strict {
        return Err(failure.into());
    }
    log::warn(
        "poststart_gave_up",
        &format!("{failure}; exiting 0 so the pod starts anyway (--strict makes this fatal)"),
    );
    Ok(())
}

/// --dry-run with no app name.
pub use super::dry_run::dry_run_unnamed as dry_run;

/// status with no app name: the look-up, then status for the instance found.
pub fn status(
    settings: Settings<Unnamed>,
    client: &EurekaClient,
    clock: &dyn Clock,
    pod_start: &PodStart,
    out: &mut dyn Write,
) -> Result<()> {
    let timeout = settings.registry.request_timeout;
    let identity =
        identify(&settings, client, clock, timeout, Read::Registry).map_err(HookFailed::from)?;
    super::status(&settings.with(identity), client, pod_start, out)
}
