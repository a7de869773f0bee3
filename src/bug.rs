//! What survives a bug. Every panic, in any thread, is reported as one error line (no backtrace),
//! and [`contained`] turns a panic in the work it runs into a [`HookFailed`] (exit 1), so that the
//! main thread goes on: prestop still holds its drain whatever its registry step or a watch thread
//! did. This relies on the release profile's `panic = "unwind"`: with `abort`, a panic in any
//! thread would end the process before the drain.

use std::panic::{self, AssertUnwindSafe};

use crate::exit::{Exit, HookFailed};
use crate::log;

/// From now on a panic is reported as one error line naming the thread and the place.
pub fn report_panics_as_error_lines() {
    panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info
            .location()
            .map_or_else(String::new, |at| format!(" at {}:{}", at.file(), at.line()));
        let current = std::thread::current();
        let thread = current.name().unwrap_or("unnamed");
        log::bug(&format!(
            "bug: the {thread} thread panicked{place}: {what} (please report this)"
        ));
    }));
}

/// `work`'s result, or, when it panicked (already reported as a line), a failure that says what
/// was lost.
pub fn contained<T>(lost: &str, work: impl FnOnce() -> T) -> Result<T, HookFailed> {
    panic::catch_unwind(AssertUnwindSafe(work)).map_err(|_| HookFailed {
        exit: Exit::RegistryFailed,
        message: format!("a bug stopped {lost} (see the error line above)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_contained_work_becomes_a_failure_and_the_caller_goes_on() {
        let result: Result<u8, HookFailed> = contained("the registry step", || panic!("boom"));
        let failure = result.unwrap_err();
        assert_eq!(failure.exit, Exit::RegistryFailed);
        assert_eq!(
            failure.message,
            "a bug stopped the registry step (see the error line above)"
        );
        assert_eq!(contained("x", || 7).unwrap(), 7);
    }
}
