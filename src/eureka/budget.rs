//! A request's time budget and the limit it came from, so that a request that runs out of time
//! names the limit that actually ran out (`--request-timeout`, what `--wait` left, the listing's
//! share before the mark), not always `--request-timeout`.

use std::time::Duration;

/// The limit a request's time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `--request-timeout`, retries included.
    RequestTimeout,
    /// What was left of poststart's `--wait`, when less than a request timeout.
    Wait,
    /// prestop's listing before the mark: at most 1 s, or half the request timeout.
    ListingBeforeMark,
    /// What was left of prestop's drain, when less than a request timeout: the watch's last
    /// request, which the drain's end cuts short.
    Drain,
}

impl Limit {
    /// How a failure message names this limit, in parentheses after the time.
    pub fn named(self) -> &'static str {
        match self {
            Limit::RequestTimeout => "--request-timeout",
            Limit::Wait => "what was left of --wait",
            Limit::ListingBeforeMark => {
                "the listing before the mark gets at most 1s, or half of --request-timeout"
            }
            Limit::Drain => "what was left of the drain",
        }
    }
}

/// The time one request may take, retries included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// What this request may still spend.
    pub left: Duration,
    /// The whole limit `left` is part of, as a failure message shows it.
    pub whole: Duration,
    pub limit: Limit,
}

impl Budget {
    /// All of `whole`, from `limit`.
    pub fn of(whole: Duration, limit: Limit) -> Budget {
        Budget {
            left: whole,
            whole,
            limit,
        }
    }

    /// A request timeout, or what is left before `phase_left` runs out (named `limit`) when
    /// that is less.
    pub fn within(request_timeout: Duration, phase_left: Duration, limit: Limit) -> Budget {
        if phase_left < request_timeout {
            Budget::of(phase_left, limit)
        } else {
            Budget::of(request_timeout, Limit::RequestTimeout)
        }
    }
}

/// A whole request timeout.
impl From<Duration> for Budget {
    fn from(timeout: Duration) -> Budget {
        Budget::of(timeout, Limit::RequestTimeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smaller_limit_is_the_one_named() {
        let second = Duration::from_secs(1);
        assert_eq!(
            Budget::within(5 * second, second, Limit::Wait),
            Budget::of(second, Limit::Wait)
        );
        assert_eq!(
            Budget::within(second, 5 * second, Limit::Wait),
            Budget::of(second, Limit::RequestTimeout)
        );
    }
}
