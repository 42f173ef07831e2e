//! Flood receive: a raw C `sendmmsg` sender (CPU 0) blasts 64-byte
//! datagrams at one receiver (CPU 1) for a fixed time, then sends stop
//! markers until the receiver's port is closed. The receiver measures its
//! own CPU time from its first datagram to the marker.
//!
//! A second case, when perf's tracepoints work, runs each receiver once
//! more under `perf stat -e raw_syscalls:sys_enter,...` (counting only) to
//! show the system calls per datagram: what an event loop pays on top of a
//! blocking receiver.

use super::{per, rate, Better, Case, Metric, Unit, Values};
use crate::harness::child::Running;
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl, READY_TIMEOUT};
use crate::kv::Params;
use std::ffi::OsString;
use std::time::Duration;

/// The tracepoints counted in the syscall case.
const EVENTS: &str =
    "raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,\
syscalls:sys_enter_recvmmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmsg";

/// recv/s is set by the sender (the receivers keep up: loss stays under
/// 1%), so it is shown but has no better direction; the receiver's cost is
/// CPU/dgram.
const METRICS: [Metric; 4] = [
    Metric::new("recv_per_s", "recv/s", Unit::PerSec, Better::Neither),
    Metric::new("cpu_ns_per_dgram", "CPU/dgram", Unit::Ns, Better::Lower),
    Metric::new("loss_pct", "loss", Unit::Percent, Better::Neither),
    Metric::new("busy_pct", "rx busy", Unit::Percent, Better::Neither),
];

/// Whether `imp` receives in batches here: libuv and uv-compat with
/// `UV_UDP_RECVMMSG`, ruv with `set_recvmmsg` unless `--no-ruv-recvmmsg`.
pub fn batched(env: &Env, imp: Impl) -> bool {
    match imp {
        Impl::Libuv | Impl::UvCompat | Impl::RawMmsg => true,
        Impl::Ruv => env.opts.ruv_recvmmsg,
        _ => false,
    }
}

/// The flood case, and the syscall case if perf can count tracepoints.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.flood_ms;
    let mut cases = vec![Case {
        scenario: "flood",
        id: "flood".into(),
        title: "flood receive".into(),
        setup: format!(
            "raw C sendmmsg sender on CPU 0 for {ms} ms, receiver on CPU 1; 64 B datagrams; \
             batch receive: libuv/uv-compat UV_UDP_RECVMMSG (64 KiB x 20), ruv set_recvmmsg({}), raw-mmsg recvmmsg x32"
            ,
            env.opts.ruv_recvmmsg
        ),
        metrics: METRICS.to_vec(),
        impls: Impl::DATAGRAM.to_vec(),
        baselines: vec![Impl::Libuv, Impl::RawMmsg],
        ratio_metrics: vec!["cpu_ns_per_dgram", "recv_per_s"],
        once: false,
        run: Box::new(move |env, imp| run(env, imp, ms, None)),
    }];
    if env.perf {
        cases.push(Case {
            scenario: "flood",
            id: "flood-syscalls".into(),
            title: "system calls per datagram in the flood".into(),
            setup: format!(
                "one flood of {ms} ms per implementation, the receiver under perf stat -e {EVENTS}"
            ),
            metrics: vec![
                Metric::new(
                    "syscalls_per_dgram",
                    "syscalls/dgram",
                    Unit::Count,
                    Better::Lower,
                ),
                Metric::new(
                    "waits_per_dgram",
                    "epoll_wait/dgram",
                    Unit::Count,
                    Better::Neither,
                ),
                Metric::new(
                    "reads_per_dgram",
                    "reads/dgram",
                    Unit::Count,
                    Better::Neither,
                ),
                Metric::new(
                    "dgrams_per_read",
                    "dgrams/read",
                    Unit::Count,
                    Better::Neither,
                ),
            ],
            impls: Impl::DATAGRAM.to_vec(),
            baselines: vec![Impl::Libuv, Impl::RawMmsg],
            ratio_metrics: vec![],
            once: true,
            run: Box::new(move |env, imp| {
                let out = env.work.join(format!("perf-flood-{}.txt", imp.name()));
                run(env, imp, ms, Some(&out))
            }),
        });
    }
    cases
}

/// Starts the receiver, under `perf stat -o perf_out` if given.
fn receiver(
    env: &Env,
    imp: Impl,
    p: &Params,
    perf_out: Option<&std::path::Path>,
) -> Result<Running, String> {
    let Some(out) = perf_out else {
        return env.spawn(imp, "flood-recv", p, Cpu::Main);
    };
    let mut wrapper: Vec<OsString> = Vec::new();
    if env.pin {
        wrapper.extend(["taskset", "-c", "1"].map(OsString::from));
    }
    wrapper.extend(["perf", "stat", "-x", ",", "-e", EVENTS, "-o"].map(OsString::from));
    wrapper.push(out.into());
    wrapper.push("--".into());
    env.spawn_under(&wrapper, imp, "flood-recv", p)
}

/// Runs one flood; with `perf_out`, returns the syscall figures instead.
fn run(
    env: &Env,
    imp: Impl,
    ms: u64,
    perf_out: Option<&std::path::Path>,
) -> Result<Values, String> {
    let secs = ms / 1000 + 15;
    let mut p = params_with_timeout(secs);
    p.set("mmsg", u8::from(batched(env, imp)));
    let mut rx = receiver(env, imp, &p, perf_out)?;
    let port = rx.ready(READY_TIMEOUT)?;
    let mut sp = params_with_timeout(secs);
    sp.set("port", port).set("duration_ms", ms);
    let tx = env.spawn(Impl::Raw, "flood-send", &sp, Cpu::Helper)?;
    let sent = tx.result(Duration::from_secs(secs))?;
    let got = rx.result(Duration::from_secs(10))?;
    let (sent_n, send_ns) = (sent.require("sent")?, sent.require("ns")?);
    let received = got.require("received")?;
    if received == 0 {
        return Err(format!("{}: received nothing", imp.name()));
    }
    if let Some(out) = perf_out {
        return syscall_figures(out, received);
    }
    let cpu = got.require("cpu_ns")? as f64;
    Ok(Values::from([
        ("recv_per_s", rate(received, send_ns)),
        ("cpu_ns_per_dgram", per(cpu, received as f64)),
        (
            "loss_pct",
            100.0 * (1.0 - per(received as f64, sent_n as f64)).max(0.0),
        ),
        ("busy_pct", 100.0 * per(cpu, got.require("ns")? as f64)),
        ("received", received as f64),
        ("sent", sent_n as f64),
    ]))
}

/// Per-datagram figures from a `perf stat -x,` file.
fn syscall_figures(out: &std::path::Path, received: u64) -> Result<Values, String> {
    let text = std::fs::read_to_string(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let counts = parse_perf_stat(&text);
    let get = |name: &str| {
        counts
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c) as f64
    };
    let all = get("raw_syscalls:sys_enter");
    if all == 0.0 {
        return Err(format!("{}: no syscall count", out.display()));
    }
    let waits = get("syscalls:sys_enter_epoll_wait") + get("syscalls:sys_enter_epoll_pwait");
    let reads = get("syscalls:sys_enter_recvmmsg")
        + get("syscalls:sys_enter_recvfrom")
        + get("syscalls:sys_enter_recvmsg");
    let n = received as f64;
    Ok(Values::from([
        ("syscalls_per_dgram", per(all, n)),
        ("waits_per_dgram", per(waits, n)),
        ("reads_per_dgram", per(reads, n)),
        ("dgrams_per_read", per(n, reads)),
    ]))
}

/// `(event, count)` pairs of `perf stat -x,` output (`count,unit,event,...`).
pub fn parse_perf_stat(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|line| {
            let mut cols = line.split(',');
            let count = cols.next()?.trim().parse().ok()?;
            let event = cols.nth(1)?.trim().to_string();
            Some((event, count))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_perf_stat_csv() {
        let text = "# started on Sat Nov 21\n\n123456,,raw_syscalls:sys_enter,2000,100.00,,\n\
                    <not counted>,,syscalls:sys_enter_recvmsg,0,0.00,,\n\
                    42,,syscalls:sys_enter_recvmmsg,2000,100.00,,\n";
        assert_eq!(
            parse_perf_stat(text),
            vec![
                ("raw_syscalls:sys_enter".to_string(), 123456),
                ("syscalls:sys_enter_recvmmsg".to_string(), 42)
            ]
        );
    }
}
