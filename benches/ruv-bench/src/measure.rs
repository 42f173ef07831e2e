//! Clocks and memory figures a benchmark program reads about itself.

use nix::time::{clock_gettime, ClockId};

/// CPU time of this process (user + system) in ns. It is the scheduler's
/// accounting that `/proc/<pid>/stat` reports in 10 ms ticks, read at ns
/// resolution, and unlike `getrusage` it does not over-count a program
/// that mostly sleeps.
pub fn cpu_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// A field of `/proc/self/status` in kB (`"VmHWM:"` is the peak resident
/// set, `"VmRSS:"` the current one); 0 if it cannot be read.
pub fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_figures() {
        assert!(status_kb("VmHWM:") > 0);
        let a = cpu_ns();
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = x.wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(x);
        assert!(cpu_ns() > a);
    }
}
