//! Ping-pong with both sockets in one loop (one process, CPU 1): A sends
//! to B, B echoes from its receive callback, A sends again from its own.
//! `raw` does the same with blocking calls in one thread. A second case
//! counts the system calls per round trip with `strace -c -f`: two runs of
//! different lengths, and the difference of their counts, so start-up and
//! teardown cancel out.

use super::{per, rate, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::time::Duration;

const IMPLS: [Impl; 6] = [
    Impl::Ruv,
    Impl::Libuv,
    Impl::UvCompat,
    Impl::TokioAwait,
    Impl::TokioReady,
    Impl::Raw,
];

/// The throughput case and the syscall case.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.pingpong_ms;
    let (short, long) = env.sizes.strace_trips;
    vec![
        Case {
            scenario: "pingpong-loop",
            id: "pingpong-loop".into(),
            title: "ping-pong, both sockets in one loop".into(),
            setup: format!(
                "{ms} ms on CPU 1; 64 B, one datagram in flight; raw = one thread, blocking calls"
            ),
            metrics: vec![Metric::new(
                "rt_per_s",
                "round trips/s",
                Unit::PerSec,
                Better::Higher,
            )],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Libuv, Impl::Raw],
            ratio_metrics: vec!["rt_per_s"],
            once: false,
            run: Box::new(move |env, imp| run(env, imp, ms)),
        },
        Case {
            scenario: "pingpong-loop",
            id: "syscalls".into(),
            title: "system calls per in-loop round trip (strace -c -f)".into(),
            setup: format!(
                "difference of {short} and {long} round trips, divided by {}",
                long - short
            ),
            metrics: vec![
                Metric::new("syscalls_per_rt", "syscalls/rt", Unit::Count, Better::Lower),
                Metric::new(
                    "epoll_ctl_per_rt",
                    "epoll_ctl/rt",
                    Unit::Count,
                    Better::Lower,
                ),
                Metric::new(
                    "epoll_wait_per_rt",
                    "epoll_wait/rt",
                    Unit::Count,
                    Better::Neither,
                ),
                Metric::new("send_per_rt", "sends/rt", Unit::Count, Better::Neither),
                Metric::new("recv_per_rt", "reads/rt", Unit::Count, Better::Neither),
            ],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Libuv],
            ratio_metrics: vec![],
            once: true,
            run: Box::new(move |env, imp| syscalls(env, imp, short, long)),
        },
    ]
}

fn run(env: &Env, imp: Impl, ms: u64) -> Result<Values, String> {
    let secs = ms / 1000 + 15;
    let mut p = params_with_timeout(secs);
    p.set("duration_ms", ms);
    let got = env
        .spawn(imp, "pingpong-loop", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    let trips = got.require("round_trips")?;
    Ok(Values::from([
        ("rt_per_s", rate(trips, got.require("ns")?)),
        ("round_trips", trips as f64),
    ]))
}

/// Syscall counts of `trips` round trips under `strace -c -f`.
fn strace_counts(env: &Env, imp: Impl, trips: u64) -> Result<BTreeMap<String, u64>, String> {
    if !env.strace {
        return Err("strace is not installed (apt-get install strace)".into());
    }
    let out = env.work.join(format!("strace-{}-{trips}.txt", imp.name()));
    let wrapper: Vec<OsString> = vec![
        "strace".into(),
        "-f".into(),
        "-c".into(),
        "-o".into(),
        out.clone().into(),
    ];
    let mut p = params_with_timeout(300);
    p.set("count", trips);
    env.spawn_under(&wrapper, imp, "pingpong-loop", &p)?
        .result(Duration::from_secs(300))?;
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(parse_strace_summary(&text))
}

fn syscalls(env: &Env, imp: Impl, short: u64, long: u64) -> Result<Values, String> {
    let a = strace_counts(env, imp, short)?;
    let b = strace_counts(env, imp, long)?;
    let n = (long - short) as f64;
    let diff = |name: &str| {
        let get = |m: &BTreeMap<String, u64>| m.get(name).copied().unwrap_or(0) as f64;
        per((get(&b) - get(&a)).max(0.0), n)
    };
    Ok(Values::from([
        ("syscalls_per_rt", diff("total")),
        ("epoll_ctl_per_rt", diff("epoll_ctl")),
        (
            "epoll_wait_per_rt",
            diff("epoll_wait") + diff("epoll_pwait") + diff("epoll_pwait2"),
        ),
        (
            "send_per_rt",
            diff("sendto") + diff("sendmsg") + diff("sendmmsg"),
        ),
        (
            "recv_per_rt",
            diff("recvfrom") + diff("recvmsg") + diff("recvmmsg"),
        ),
    ]))
}

/// Calls per syscall name (and `total`) from the table `strace -c` prints.
pub fn parse_strace_summary(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // % time, seconds, usecs/call, calls, [errors,] name
        if cols.len() < 5 || cols[0].parse::<f64>().is_err() {
            continue;
        }
        if let (Ok(calls), Some(name)) = (cols[3].parse::<u64>(), cols.last()) {
            counts.insert(name.to_string(), calls);
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strace_summary() {
        let text = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 45.00    0.000450           2      2000           sendmsg
 30.00    0.000300           1      4000      2000 recvfrom
  0.00    0.000000           0         3           epoll_ctl
------ ----------- ----------- --------- --------- ----------------
100.00    0.001000           3      6003      2000 total
";
        let c = parse_strace_summary(text);
        assert_eq!(c["sendmsg"], 2000);
        assert_eq!(c["recvfrom"], 4000);
        assert_eq!(c["epoll_ctl"], 3);
        assert_eq!(c["total"], 6003);
        assert_eq!(c.len(), 4);
    }
}
