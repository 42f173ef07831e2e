//! TCP echo (issue 12 §5): the server under test on CPU 1 echoes 64-byte
//! messages for a raw C epoll client on CPU 0 that keeps one message in
//! flight on each of N connections for a fixed time. The server measures
//! its own CPU time from its first read to the end of its last
//! connection. A second case per N counts the server's system calls per
//! echo with `perf stat` (two runs of different lengths, differenced).

use super::syscount::{per_op, perf_wrapper, read_counts, Counts, READS, WAITS, WRITES};
use super::{per, rate, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl, READY_TIMEOUT};
use crate::kv::Params;
use std::path::Path;
use std::time::Duration;

/// The servers compared.
pub const IMPLS: [Impl; 5] = [
    Impl::Ruv,
    Impl::Libuv,
    Impl::UvCompat,
    Impl::TokioAwait,
    Impl::Raw,
];

/// A throughput case and, with perf, a syscall case per connection count.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.stream_ms;
    let (short, long) = env.sizes.echo_syscall_ms;
    let mut cases = Vec::new();
    for &conns in env.sizes.echo_conns {
        cases.push(Case {
            scenario: "tcp-echo",
            id: format!("tcp-echo-{conns}"),
            title: format!("TCP echo, {conns} connection(s)"),
            setup: format!(
                "server on CPU 1, raw C epoll client on CPU 0 for {ms} ms; 64 B, one message in flight per connection; \
                 raw = level-triggered epoll, one read + one write per event"
            ),
            metrics: vec![
                Metric::new("cpu_ns_per_echo", "server CPU/echo", Unit::Ns, Better::Lower),
                Metric::new("echo_per_s", "echoes/s", Unit::PerSec, Better::Neither),
                Metric::new("busy_pct", "server busy", Unit::Percent, Better::Neither),
            ],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Libuv, Impl::Raw],
            ratio_metrics: vec!["cpu_ns_per_echo"],
            once: super::smoke_once(env),
            run: Box::new(move |env, imp| {
                let (server, _) = run(env, imp, conns, PAYLOAD_LEN, ms, None)?;
                figures(&server)
            }),
        });
        if env.perf {
            cases.push(Case {
                scenario: "tcp-echo",
                id: format!("tcp-echo-syscalls-{conns}"),
                title: format!("system calls per echo, {conns} connection(s) (perf stat)"),
                setup: format!(
                    "the server under perf stat (syscall tracepoints, counting only); difference of a {short} ms and a {long} ms run, \
                     divided by the difference of their echoes"
                ),
                metrics: vec![
                    Metric::new("syscalls_per_echo", "syscalls/echo", Unit::Count, Better::Lower),
                    Metric::new("epoll_ctl_per_echo", "epoll_ctl/echo", Unit::Count, Better::Lower),
                    Metric::new("waits_per_echo", "epoll_wait/echo", Unit::Count, Better::Neither),
                    Metric::new("reads_per_echo", "reads/echo", Unit::Count, Better::Neither),
                    Metric::new("writes_per_echo", "writes/echo", Unit::Count, Better::Neither),
                ],
                impls: IMPLS.to_vec(),
                baselines: vec![Impl::Libuv],
                ratio_metrics: vec![],
                once: true,
                run: Box::new(move |env, imp| syscalls(env, imp, conns, short, long)),
            });
        }
    }
    cases
}

/// The message size of this scenario (`c/bench.h`'s `PAYLOAD_LEN`).
const PAYLOAD_LEN: u64 = 64;

/// One echo run of `size`-byte messages: the server's and the client's
/// `RESULT`s. With `perf_out` the server runs under `perf stat`.
pub(super) fn run(
    env: &Env,
    imp: Impl,
    conns: u64,
    size: u64,
    ms: u64,
    perf_out: Option<&Path>,
) -> Result<(Params, Params), String> {
    let secs = ms / 1000 + 30;
    let mut p = params_with_timeout(secs);
    p.set("conns", conns);
    let mut server = match perf_out {
        Some(out) => env.spawn_under(&perf_wrapper(env, out), imp, "echo-server", &p)?,
        None => env.spawn(imp, "echo-server", &p, Cpu::Main)?,
    };
    let port = server.ready(READY_TIMEOUT)?;
    let mut cp = params_with_timeout(secs);
    cp.set("port", port)
        .set("conns", conns)
        .set("size", size)
        .set("duration_ms", ms);
    let client = env
        .spawn(Impl::Raw, "echo-client", &cp, Cpu::Helper)?
        .result(Duration::from_secs(secs))?;
    let server = server.result(Duration::from_secs(10))?;
    if server.require("echoes")? == 0 {
        return Err(format!("{}: no echo", imp.name()));
    }
    Ok((server, client))
}

fn figures(server: &Params) -> Result<Values, String> {
    let (echoes, cpu, ns) = (
        server.require("echoes")?,
        server.require("cpu_ns")? as f64,
        server.require("ns")?,
    );
    Ok(Values::from([
        ("cpu_ns_per_echo", per(cpu, echoes as f64)),
        ("echo_per_s", rate(echoes, ns)),
        ("busy_pct", 100.0 * per(cpu, ns as f64)),
        ("echoes", echoes as f64),
    ]))
}

fn syscalls(env: &Env, imp: Impl, conns: u64, short: u64, long: u64) -> Result<Values, String> {
    let mut runs: Vec<(Counts, u64)> = Vec::new();
    for ms in [short, long] {
        let out = env
            .work
            .join(format!("perf-echo-{}-{conns}-{ms}.txt", imp.name()));
        let (server, _) = run(env, imp, conns, PAYLOAD_LEN, ms, Some(&out))?;
        runs.push((read_counts(&out)?, server.require("echoes")?));
    }
    let (a, b) = (&runs[0], &runs[1]);
    let n = b.1.saturating_sub(a.1) as f64;
    if n == 0.0 {
        return Err("the longer run echoed no more than the shorter one".into());
    }
    Ok(Values::from([
        ("syscalls_per_echo", per_op(&a.0, &b.0, &["all"], n)),
        ("epoll_ctl_per_echo", per_op(&a.0, &b.0, &["epoll_ctl"], n)),
        ("waits_per_echo", per_op(&a.0, &b.0, WAITS, n)),
        ("reads_per_echo", per_op(&a.0, &b.0, READS, n)),
        ("writes_per_echo", per_op(&a.0, &b.0, WRITES, n)),
    ]))
}
