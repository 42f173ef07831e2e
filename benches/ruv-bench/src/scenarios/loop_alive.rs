//! libuv's `loop_alive` benchmark (`test/benchmark-loop-count.c`): one
//! idle callback calls `uv_loop_alive` N times on its own loop, which
//! must say alive every time; the whole `uv_run` is timed. The C API
//! only: libuv against uv-compat on the same source.

use super::{per, short_count, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

/// The one case.
pub fn cases(env: &Env) -> Vec<Case> {
    let calls = env.sizes.alive_calls;
    vec![Case {
        scenario: "loop-alive",
        id: "loop-alive".into(),
        title: "uv_loop_alive from an idle callback (libuv's loop_alive)".into(),
        setup: format!(
            "{} calls in one idle callback, on CPU 1; the whole uv_run timed",
            short_count(calls)
        ),
        metrics: vec![
            Metric::new("ns_per_call", "ns/call", Unit::Ns, Better::Lower),
            Metric::new("calls_per_s", "calls/s", Unit::PerSec, Better::Higher),
        ],
        impls: vec![Impl::Libuv, Impl::UvCompat],
        baselines: vec![Impl::Libuv],
        ratio_metrics: vec!["ns_per_call"],
        once: false,
        run: Box::new(move |env, imp| run(env, imp, calls)),
    }]
}

fn run(env: &Env, imp: Impl, calls: u64) -> Result<Values, String> {
    let secs = 60;
    let mut p = params_with_timeout(secs);
    p.set("calls", calls);
    let got = env
        .spawn(imp, "loop-alive", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    let (ns, n) = (got.require("ns")? as f64, got.require("calls")? as f64);
    Ok(Values::from([
        ("ns_per_call", per(ns, n)),
        ("calls_per_s", per(n * 1e9, ns)),
    ]))
}
