//! Timers: start N zero-timeout timers (create + start), then run the loop
//! until all have fired. Reports ns per timer for each half and the
//! memory per timer from `/proc/self/status`: bytes/timer is (peak RSS −
//! RSS before) / N (`VmHWM`, the figure the targets use: it includes the
//! transient copies of vectors that grow), armed bytes/timer is (RSS once
//! all are started − RSS before) / N. libuv's handles live in one array the program
//! allocates; ruv's live in its slab. tokio spawns N tasks that each
//! `sleep(0)`: its "start" is the spawn, the sleep registers in "fire".

use super::{per, short_count, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

/// One case per timer count.
pub fn cases(env: &Env) -> Vec<Case> {
    env.sizes
        .timers
        .iter()
        .map(|&count| Case {
            scenario: "timers",
            id: format!("timers-{}", short_count(count)),
            title: format!("{} zero-timeout timers", short_count(count)),
            setup: "on CPU 1; start = create + start each; fire = run until all fired; memory from VmHWM".into(),
            metrics: vec![
                Metric::new("start_ns", "start/timer", Unit::Ns, Better::Lower),
                Metric::new("fire_ns", "fire/timer", Unit::Ns, Better::Lower),
                Metric::new("bytes_per_timer", "bytes/timer", Unit::Bytes, Better::Lower),
                Metric::new("armed_bytes", "armed bytes/timer", Unit::Bytes, Better::Neither),
                Metric::new("peak_bytes", "peak RSS", Unit::Bytes, Better::Neither),
            ],
            impls: vec![Impl::Ruv, Impl::Libuv, Impl::UvCompat, Impl::TokioAwait],
            baselines: vec![Impl::Libuv],
            ratio_metrics: vec!["start_ns", "fire_ns", "bytes_per_timer"],
            once: false,
            run: Box::new(move |env, imp| run(env, imp, count)),
        })
        .collect()
}

fn run(env: &Env, imp: Impl, count: u64) -> Result<Values, String> {
    let secs = 60 + count / 100_000;
    let mut p = params_with_timeout(secs);
    p.set("count", count);
    let got = env
        .spawn(imp, "timers", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    let n = got.require("count")? as f64;
    let (hwm, base) = (got.require("hwm_kb")?, got.require("base_kb")?);
    Ok(Values::from([
        ("start_ns", per(got.require("start_ns")? as f64, n)),
        ("fire_ns", per(got.require("fire_ns")? as f64, n)),
        (
            "bytes_per_timer",
            per(hwm.saturating_sub(base) as f64 * 1024.0, n),
        ),
        (
            "armed_bytes",
            per(
                got.require("armed_kb")?.saturating_sub(base) as f64 * 1024.0,
                n,
            ),
        ),
        ("peak_bytes", hwm as f64 * 1024.0),
    ]))
}
