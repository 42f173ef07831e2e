//! System calls of a program, counted by `perf stat` on the kernel's
//! syscall tracepoints (counting only: the program runs at nearly full
//! speed, so its batching is what it is without a tracer, unlike under
//! `strace`). Per-operation figures are differences of two runs of
//! different lengths, so start-up and teardown cancel out.

use super::per;
use crate::harness::env::Env;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

/// (tracepoint, short name) of every count.
const EVENTS: &[(&str, &str)] = &[
    ("raw_syscalls:sys_enter", "all"),
    ("syscalls:sys_enter_epoll_ctl", "epoll_ctl"),
    ("syscalls:sys_enter_epoll_wait", "epoll_wait"),
    ("syscalls:sys_enter_epoll_pwait", "epoll_pwait"),
    ("syscalls:sys_enter_read", "read"),
    ("syscalls:sys_enter_recvfrom", "recvfrom"),
    ("syscalls:sys_enter_write", "write"),
    ("syscalls:sys_enter_writev", "writev"),
    ("syscalls:sys_enter_sendto", "sendto"),
    ("syscalls:sys_enter_sendmsg", "sendmsg"),
];

/// The prefix that runs a program under `perf stat`, writing to `out`
/// (pinned to CPU 1 when the harness pins).
pub fn perf_wrapper(env: &Env, out: &Path) -> Vec<OsString> {
    let mut w: Vec<OsString> = Vec::new();
    if env.pin {
        w.extend(["taskset", "-c", "1"].map(OsString::from));
    }
    let events: Vec<&str> = EVENTS.iter().map(|(e, _)| *e).collect();
    w.extend(["perf", "stat", "-x", ","].map(OsString::from));
    w.push("-e".into());
    w.push(events.join(",").into());
    w.push("-o".into());
    w.push(out.into());
    w.push("--".into());
    w
}

/// Counts by short name from a `perf stat -x,` file.
pub fn read_counts(out: &Path) -> Result<Counts, String> {
    let text = std::fs::read_to_string(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut counts = BTreeMap::new();
    for (event, n) in super::flood::parse_perf_stat(&text) {
        if let Some((_, short)) = EVENTS.iter().find(|(e, _)| *e == event) {
            counts.insert(*short, n);
        }
    }
    if !counts.contains_key("all") {
        return Err(format!("{}: no syscall count", out.display()));
    }
    Ok(Counts(counts))
}

/// Syscall counts of one run.
#[derive(Clone, Debug, Default)]
pub struct Counts(BTreeMap<&'static str, u64>);

impl Counts {
    fn get(&self, name: &str) -> f64 {
        self.0.get(name).copied().unwrap_or(0) as f64
    }

    /// The sum of the named counts.
    pub fn sum(&self, names: &[&str]) -> f64 {
        names.iter().map(|n| self.get(n)).sum()
    }
}

/// Per operation: `(long - short) / ops` of the named counts (ops being
/// the difference of the operations the two runs did).
pub fn per_op(short: &Counts, long: &Counts, names: &[&str], ops: f64) -> f64 {
    per((long.sum(names) - short.sum(names)).max(0.0), ops)
}

/// The names that read, write and wait.
pub const READS: &[&str] = &["read", "recvfrom"];
/// See [`READS`].
pub const WRITES: &[&str] = &["write", "writev", "sendto", "sendmsg"];
/// See [`READS`].
pub const WAITS: &[&str] = &["epoll_wait", "epoll_pwait"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_per_operation() {
        let a = Counts(BTreeMap::from([("all", 100), ("write", 10)]));
        let b = Counts(BTreeMap::from([
            ("all", 300),
            ("write", 60),
            ("writev", 10),
        ]));
        assert_eq!(per_op(&a, &b, &["all"], 100.0), 2.0);
        assert_eq!(per_op(&a, &b, WRITES, 10.0), 6.0);
        assert_eq!(per_op(&b, &a, &["all"], 100.0), 0.0);
        assert_eq!(per_op(&a, &b, &["all"], 0.0), 0.0);
    }
}
