//! Write batch (issue 12 §5, libuv's `benchmark-tcp-write-batch.c`): N
//! writes of 13 bytes queued behind the connect, then a shutdown, to a raw
//! C sink on CPU 0; the loop's run is timed. A second case counts the
//! sender's system calls per write with `perf stat` (two batch sizes,
//! differenced). tokio has no write queue: each write is a `write_all`.

use super::syscount::{per_op, perf_wrapper, read_counts, Counts, WRITES};
use super::{per, short_count, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl, READY_TIMEOUT};
use crate::kv::Params;
use std::path::Path;
use std::time::Duration;

const IMPLS: [Impl; 4] = [Impl::Ruv, Impl::Libuv, Impl::UvCompat, Impl::TokioAwait];

/// The timing case and, with perf, the syscall case.
pub fn cases(env: &Env) -> Vec<Case> {
    let (short, long) = env.sizes.write_batch;
    let mut cases = vec![Case {
        scenario: "write-batch",
        id: "write-batch".into(),
        title: format!("write batch: {} writes of 13 B queued, then drained", short_count(long)),
        setup: "sender on CPU 1, raw C sink on CPU 0; the loop's run timed (connect to the last callback)".into(),
        metrics: vec![
            Metric::new("ns_total", "time", Unit::Ns, Better::Lower),
            Metric::new("ns_per_write", "ns/write", Unit::Ns, Better::Lower),
        ],
        impls: IMPLS.to_vec(),
        baselines: vec![Impl::Libuv],
        ratio_metrics: vec!["ns_total"],
        once: super::smoke_once(env),
        run: Box::new(move |env, imp| {
            let got = run(env, imp, long, None)?;
            let ns = got.require("ns")? as f64;
            Ok(Values::from([
                ("ns_total", ns),
                ("ns_per_write", per(ns, long as f64)),
            ]))
        }),
    }];
    if env.perf {
        cases.push(Case {
            scenario: "write-batch",
            id: "write-batch-syscalls".into(),
            title: "system calls of the write batch (perf stat)".into(),
            setup: format!(
                "the sender under perf stat; difference of a {} and a {} batch, per write",
                short_count(short),
                short_count(long)
            ),
            metrics: vec![
                Metric::new(
                    "syscalls_per_write",
                    "syscalls/write",
                    Unit::Count,
                    Better::Lower,
                ),
                Metric::new(
                    "writes_per_write",
                    "write calls/write",
                    Unit::Count,
                    Better::Neither,
                ),
                Metric::new(
                    "syscalls_long",
                    "syscalls (whole run)",
                    Unit::Count,
                    Better::Lower,
                ),
            ],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Libuv],
            ratio_metrics: vec!["syscalls_per_write"],
            once: true,
            run: Box::new(move |env, imp| syscalls(env, imp, short, long)),
        });
    }
    cases
}

fn run(env: &Env, imp: Impl, count: u64, perf_out: Option<&Path>) -> Result<Params, String> {
    env.runnable(imp, "write-batch")?;
    let secs = 60;
    let mut sink = env.spawn(
        Impl::Raw,
        "pump-sink",
        &params_with_timeout(secs),
        Cpu::Helper,
    )?;
    let port = sink.ready(READY_TIMEOUT)?;
    let mut p = params_with_timeout(secs);
    p.set("port", port).set("count", count);
    let sender = match perf_out {
        Some(out) => env.spawn_under(&perf_wrapper(env, out), imp, "write-batch", &p)?,
        None => env.spawn(imp, "write-batch", &p, Cpu::Main)?,
    };
    let got = sender.result(Duration::from_secs(secs))?;
    let received = sink.result(Duration::from_secs(10))?.require("bytes")?;
    if received != count * 13 {
        return Err(format!(
            "{}: the sink got {received} bytes of {}",
            imp.name(),
            count * 13
        ));
    }
    Ok(got)
}

fn syscalls(env: &Env, imp: Impl, short: u64, long: u64) -> Result<Values, String> {
    let mut runs: Vec<Counts> = Vec::new();
    for count in [short, long] {
        let out = env
            .work
            .join(format!("perf-batch-{}-{count}.txt", imp.name()));
        run(env, imp, count, Some(&out))?;
        runs.push(read_counts(&out)?);
    }
    let n = (long - short) as f64;
    Ok(Values::from([
        (
            "syscalls_per_write",
            per_op(&runs[0], &runs[1], &["all"], n),
        ),
        ("writes_per_write", per_op(&runs[0], &runs[1], WRITES, n)),
        ("syscalls_long", runs[1].sum(&["all"])),
    ]))
}
