//! When this pod's current incarnation began: the start time of PID 1 (in a container, the app
//! itself), from `/proc/1/stat` (field 22, `starttime`, in clock ticks since boot) and `btime`
//! (boot time, whole epoch seconds) in `/proc/stat`.
//!
//! The clock tick rate is what `sysconf(_SC_CLK_TCK)` answers in glibc: the kernel's `AT_CLKTCK`
//! entry of this process's auxiliary vector, read from `/proc/self/auxv` (nix's `sysconf`
//! would add 28 KB to the release binary; musl's `sysconf` just answers 100).
//!
//! `btime` is truncated to the second, so the start is taken as late as it may have been: one
//! second after `btime` plus `starttime`. A registration newer than that belongs to this
//! incarnation; one older may be a previous pod's lease. A Spring app registers seconds after its
//! JVM starts, so the margin never makes this pod's own registration look old.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};

use crate::bounded_read::read_regular_file;

/// `/proc/1/stat` is one line of a few hundred bytes.
const PID1_STAT_CAP: u64 = 64 * 1024;
/// `/proc/stat` grows with CPUs and interrupts; a few hundred KiB on large machines.
const PROC_STAT_CAP: u64 = 4 * 1024 * 1024;
/// `/proc/self/auxv` is a few dozen (type, value) pairs.
const AUXV_CAP: u64 = 64 * 1024;
/// The auxiliary vector's entry for the clock tick rate (`<elf.h>`).
const AT_CLKTCK: u64 = 17;
/// How much later than `btime` the boot may have been, `btime` being whole seconds.
const BTIME_TRUNCATION: Duration = Duration::from_secs(1);

/// The latest moment PID 1 may have started, read from the machine's `/proc`.
pub fn pid1_started() -> Result<SystemTime> {
    let read = |path: &str, cap| {
        read_regular_file(Path::new(path), cap).with_context(|| format!("reading {path}"))
    };
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    let pid1_stat = text(read("/proc/1/stat", PID1_STAT_CAP)?);
    let proc_stat = text(read("/proc/stat", PROC_STAT_CAP)?);
    let ticks_per_second = clock_ticks(&read("/proc/self/auxv", AUXV_CAP)?)
        .ok_or_else(|| anyhow!("/proc/self/auxv has no AT_CLKTCK entry"))?;
    started_at(&pid1_stat, &proc_stat, ticks_per_second).map_err(|why| anyhow!(why))
}

/// The `AT_CLKTCK` value of an auxiliary vector: (type, value) pairs of native words.
pub fn clock_ticks(auxv: &[u8]) -> Option<u64> {
    const WORD: usize = std::mem::size_of::<usize>();
    let word = |bytes: &[u8]| -> Option<u64> {
        let bytes: [u8; WORD] = bytes.try_into().ok()?;
        u64::try_from(usize::from_ne_bytes(bytes)).ok()
    };
    auxv.chunks_exact(WORD.saturating_mul(2))
        .find_map(|pair| {
            let (kind, value) = pair.split_at(WORD);
            (word(kind)? == AT_CLKTCK).then(|| word(value))?
        })
        .filter(|ticks| *ticks > 0)
}

/// The latest moment the process of `pid_stat` (a `/proc/PID/stat` line) may have started, on a
/// machine whose `/proc/stat` is `proc_stat`, with `ticks_per_second` clock ticks a second.
pub fn started_at(
    pid_stat: &str,
    proc_stat: &str,
    ticks_per_second: u64,
) -> Result<SystemTime, String> {
    // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
    let after_name = pid_stat
        .rfind(')')
        .and_then(|end| pid_stat.get(end.saturating_add(1)..))
        .ok_or("/proc/1/stat has no command name in parentheses")?;
    // Field 3 is the first after the name, so field 22 is the 20th.
    let ticks: u64 = after_name
        .split_whitespace()
        .nth(19)
        .and_then(|field| field.parse().ok())
        .ok_or("/proc/1/stat has no starttime (field 22)")?;
    let boot_seconds: u64 = proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
        .ok_or("/proc/stat has no btime line")?;
    let since_boot_ms = ticks
        .saturating_mul(1000)
        .checked_div(ticks_per_second)
        .ok_or("the clock tick rate is 0")?;
    UNIX_EPOCH
        .checked_add(Duration::from_secs(boot_seconds))
        .and_then(|boot| boot.checked_add(Duration::from_millis(since_boot_ms)))
        .and_then(|start| start.checked_add(BTIME_TRUNCATION))
        .ok_or_else(|| "PID 1's start time is past what this system can represent".into())
}

/// Epoch milliseconds of `at` (0 before the epoch).
pub fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROC_STAT: &str = "cpu  1 2 3 4\nintr 5 6\nctxt 7\nbtime 1800000000\nprocesses 9\n";

    fn stat_with(name: &str, starttime: u64) -> String {
        // Fields 3..=21, then starttime, then the rest.
        let middle = ["S"]
            .iter()
            .chain(["0"; 18].iter())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        format!("1 ({name}) {middle} {starttime} 123456 789 18446744073709551615")
    }

    #[test]
    fn the_start_is_boot_plus_starttime_plus_the_truncation_margin() {
        let started = started_at(&stat_with("java", 250), PROC_STAT, 100).unwrap();
        assert_eq!(epoch_ms(started), 1_800_000_000_000 + 2_500 + 1_000);
    }

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let started = started_at(&stat_with("a) (b c", 100), PROC_STAT, 100).unwrap();
        assert_eq!(epoch_ms(started), 1_800_000_000_000 + 1_000 + 1_000);
    }

    #[test]
    fn a_line_from_the_running_kernel_parses() {
        let started = pid1_started().unwrap();
        assert!(
            started <= SystemTime::now(),
            "PID 1 started in the future: {started:?}"
        );
    }

    fn auxv(pairs: &[(usize, usize)]) -> Vec<u8> {
        pairs
            .iter()
            .flat_map(|(kind, value)| [kind.to_ne_bytes(), value.to_ne_bytes()])
            .flatten()
            .collect()
    }

    #[test]
    fn the_tick_rate_is_the_auxiliary_vectors_at_clktck() {
        assert_eq!(
            clock_ticks(&auxv(&[(6, 4096), (17, 100), (0, 0)])),
            Some(100)
        );
        assert_eq!(clock_ticks(&auxv(&[(17, 1024)])), Some(1024));
        assert_eq!(clock_ticks(&auxv(&[(6, 4096), (0, 0)])), None);
        assert_eq!(clock_ticks(&auxv(&[(17, 0)])), None);
        assert_eq!(clock_ticks(&[17, 0, 0]), None);
        let this_process = read_regular_file(Path::new("/proc/self/auxv"), AUXV_CAP).unwrap();
        assert!(clock_ticks(&this_process).is_some_and(|ticks| ticks > 0));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for (pid_stat, proc_stat, ticks) in [
            ("", PROC_STAT, 100),
            ("1 (init S 0", PROC_STAT, 100),
            ("1 (init) S 0 0", PROC_STAT, 100),
            (stat_with("init", 1).as_str(), "cpu 1\n", 100),
            (stat_with("init", 1).as_str(), "btime x\n", 100),
            (stat_with("init", 1).as_str(), PROC_STAT, 0),
            (
                stat_with("init", u64::MAX).as_str(),
                "btime 18446744073709551615\n",
                1,
            ),
        ] {
            assert!(
                started_at(pid_stat, proc_stat, ticks).is_err(),
                "{pid_stat:?} {proc_stat:?}"
            );
        }
    }
}
