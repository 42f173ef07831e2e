//! The scenarios of issue 5, and the stream, process and signal ones of
//! issues 12 and 13. Each module turns its scenario into one or
//! more [`Case`]s: what is measured (metrics), for which implementations,
//! against which baselines, and a function that runs one implementation
//! once and returns its figures.

pub mod drain;
pub mod flood;
pub mod idle;
pub mod idle_conns;
pub mod instructions;
pub mod loop_alive;
pub mod million_timers;
pub mod pingpong_loop;
pub mod pingpong_peer;
pub mod pound;
pub mod pummel;
pub mod pump;
pub mod signals;
pub mod spawn;
pub mod stream_pingpong;
pub mod syscount;
pub mod tcp_echo;
pub mod timers;
pub mod transport_echo;
pub mod write_batch;

use crate::harness::env::{Env, Impl};
use std::collections::BTreeMap;

/// How a figure is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Events per second.
    PerSec,
    /// Nanoseconds.
    Ns,
    /// Percent.
    Percent,
    /// Bytes.
    Bytes,
    /// A plain count (syscalls, instructions, clock reads).
    Count,
}

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Throughput.
    Higher,
    /// Cost.
    Lower,
    /// Informational.
    Neither,
}

/// One measured figure.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Metric {
    /// Key in the JSON.
    pub key: &'static str,
    /// Column title.
    pub label: &'static str,
    /// Display unit.
    pub unit: Unit,
    /// Which way is better.
    pub better: Better,
}

impl Metric {
    /// A metric.
    pub const fn new(key: &'static str, label: &'static str, unit: Unit, better: Better) -> Metric {
        Metric {
            key,
            label,
            unit,
            better,
        }
    }
}

/// The figures of one run, by metric key.
pub type Values = BTreeMap<&'static str, f64>;

/// Runs one implementation once.
pub type RunFn = Box<dyn Fn(&Env, Impl) -> Result<Values, String>>;

/// One table of the report.
pub struct Case {
    /// The scenario it belongs to (`--scenario` selects by this or by `id`).
    pub scenario: &'static str,
    /// Unique id, e.g. `pummel-10x10`.
    pub id: String,
    /// Title line.
    pub title: String,
    /// How it is run (sizes, modes).
    pub setup: String,
    /// The figures; the first one is shown in the progress lines.
    pub metrics: Vec<Metric>,
    /// Implementations, in order.
    pub impls: Vec<Impl>,
    /// Ratios are taken against these (those that are in `impls`).
    pub baselines: Vec<Impl>,
    /// Metrics whose ratios get a column in the table (all are in the JSON).
    pub ratio_metrics: Vec<&'static str>,
    /// Deterministic (callgrind, strace): one run per implementation.
    pub once: bool,
    /// The runner.
    pub run: RunFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case").field("id", &self.id).finish()
    }
}

/// The scenarios, with one line each for `--list`.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("flood", "flood receive: a raw C sendmmsg sender blasts one receiver; received/s, loss, receiver CPU ns per datagram"),
    ("drain", "drain capacity: datagrams queued in a large receive buffer, then drained alone; datagrams/s"),
    ("pingpong-peer", "ping-pong against a blocking raw C echo peer on the same core; round trips/s"),
    ("pingpong-loop", "ping-pong with both sockets in one loop; round trips/s, and syscalls per round trip (strace -c -f)"),
    ("pummel", "N senders x M receivers in one loop; received/s"),
    ("timers", "zero-timeout timers: ns to start and to fire each, bytes per timer (VmHWM)"),
    ("idle", "empty loop iteration with one idle handle vs a bare epoll_wait(0) loop; ns per iteration"),
    ("loop-alive", "libuv's loop_alive benchmark: uv_loop_alive called in a loop from one idle callback (C API only); ns per call"),
    ("million-timers", "libuv's million_timers benchmark: N timers due over N/1000 ms, run, then all closed (C API only); init, dispatch, close times, peak RSS"),
    ("instructions", "user-space instructions (valgrind --tool=callgrind) per received datagram, per in-loop round trip, per idle iteration; clock reads per iteration"),
    ("tcp-echo", "TCP echo, 64 B, 1/100/1000 connections against a raw C epoll client; server CPU per echo, and syscalls per echo (perf stat)"),
    ("transport-echo", "uvloop's protocol echo: 1/10/100 KiB messages, 10 clients; ruv's asyncio transports vs plain Tcp, libuv, tokio; server CPU per echo"),
    ("pingpong-stream", "ping-pong over one TCP and one Unix-socket connection, both ends in one loop; round trips/s"),
    ("pump", "64 KiB writes to a raw C sink over TCP and a Unix socket; throughput"),
    ("write-batch", "libuv's tcp_write_batch: 1M writes of 13 B queued behind the connect; time, and syscalls per write (perf stat)"),
    ("pound", "connect, accept, close with 100 concurrent clients in one loop; connections/s"),
    ("idle-conns", "10,000 idle connections held by a raw C client; server memory per connection"),
    ("spawn", "libuv's benchmark-spawn: /bin/true with stdout piped and read to EOF; spawns/s"),
    ("signal", "SIGUSR1 to itself: kill-to-callback latency, and a burst of 1000"),
];

/// Every case of every scenario, in report order.
pub fn all_cases(env: &Env) -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(flood::cases(env));
    cases.extend(drain::cases(env));
    cases.extend(pingpong_peer::cases(env));
    cases.extend(pingpong_loop::cases(env));
    cases.extend(pummel::cases(env));
    cases.extend(timers::cases(env));
    cases.extend(idle::cases(env));
    cases.extend(loop_alive::cases(env));
    cases.extend(million_timers::cases(env));
    cases.extend(instructions::cases(env));
    cases.extend(tcp_echo::cases(env));
    cases.extend(transport_echo::cases(env));
    cases.extend(stream_pingpong::cases(env));
    cases.extend(pump::cases(env));
    cases.extend(write_batch::cases(env));
    cases.extend(pound::cases(env));
    cases.extend(idle_conns::cases(env));
    cases.extend(spawn::cases(env));
    cases.extend(signals::cases(env));
    cases
}

/// Whether a timed case of issues 12 and 13 runs one round only: in
/// `--quick`, the CI smoke test, which checks that each runs, never how
/// fast, so that they add seconds, not tens of seconds, to CI.
pub fn smoke_once(env: &Env) -> bool {
    env.opts.quick
}

/// `a / b` as f64, 0 when `b` is 0.
pub fn per(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Events per second from a count and nanoseconds.
pub fn rate(count: u64, ns: u64) -> f64 {
    per(count as f64 * 1e9, ns as f64)
}

/// Short human form of a count: 1.5M, 100k, 10.
pub fn short_count(n: u64) -> String {
    if n >= 1_000_000 && n % 100_000 == 0 {
        format!("{}M", n as f64 / 1e6)
    } else if n >= 1000 && n % 100 == 0 {
        format!("{}k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(per(1.0, 0.0), 0.0);
        assert_eq!(rate(500, 1_000_000_000), 500.0);
        assert_eq!(short_count(1_000_000), "1M");
        assert_eq!(short_count(10_000_000), "10M");
        assert_eq!(short_count(100_000), "100k");
        assert_eq!(short_count(1500), "1.5k");
        assert_eq!(short_count(10), "10");
    }
}
