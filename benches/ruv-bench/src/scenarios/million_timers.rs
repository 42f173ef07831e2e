//! libuv's `million_timers` benchmark (`test/benchmark-million-timers.c`):
//! N timers in one array, the timeout growing by 1 ms every 1000 timers;
//! the loop runs until all fired (about N/1000 ms, mostly waiting), then
//! every timer is closed and the loop runs until all close callbacks ran.
//! Reported per timer: init (init + start), dispatch (the first run),
//! close (the `uv_close` calls plus the closing run, libuv's "cleanup"),
//! and the process's peak RSS (`VmHWM`, the close phase included). The
//! dispatch mostly waits for the last due time, fixed relative to the loop
//! time cached before the init, so init + dispatch is what compares. The C
//! API only: libuv against uv-compat on the same source.

use super::{per, short_count, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

/// The one case.
pub fn cases(env: &Env) -> Vec<Case> {
    let count = env.sizes.million_timers;
    vec![Case {
        scenario: "million-timers",
        id: "million-timers".into(),
        title: format!("{} timers, run, then all closed (libuv's million_timers)", short_count(count)),
        setup: "on CPU 1; init = uv_timer_init + uv_timer_start; dispatch = the run until all fired; close = the uv_close calls + the run until all close callbacks ran; peak RSS from VmHWM".into(),
        metrics: vec![
            Metric::new("init_ns", "init/timer", Unit::Ns, Better::Lower),
            // The last timer is due 10 s (N/1000 ms) after the loop time
            // cached before the init: a faster init leaves a longer
            // dispatch, so only their sum compares the libraries.
            Metric::new("run_ns", "dispatch/timer", Unit::Ns, Better::Neither),
            Metric::new("init_run_ns", "init+dispatch/timer", Unit::Ns, Better::Lower),
            Metric::new("close_ns", "close/timer", Unit::Ns, Better::Lower),
            Metric::new("close_calls_ns", "uv_close/timer", Unit::Ns, Better::Neither),
            Metric::new("peak_bytes", "peak RSS", Unit::Bytes, Better::Lower),
            Metric::new("bytes_per_timer", "peak bytes/timer", Unit::Bytes, Better::Lower),
        ],
        impls: vec![Impl::Libuv, Impl::UvCompat],
        baselines: vec![Impl::Libuv],
        ratio_metrics: vec!["init_ns", "init_run_ns", "close_ns", "peak_bytes"],
        once: false,
        run: Box::new(move |env, imp| run(env, imp, count)),
    }]
}

fn run(env: &Env, imp: Impl, count: u64) -> Result<Values, String> {
    // The dispatch alone waits count/1000 ms.
    let secs = 60 + count / 100_000;
    let mut p = params_with_timeout(secs);
    p.set("count", count);
    let got = env
        .spawn(imp, "million-timers", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    let n = got.require("count")? as f64;
    let (hwm, base) = (got.require("hwm_kb")?, got.require("base_kb")?);
    let ns = |key| -> Result<f64, String> { Ok(per(got.require(key)? as f64, n)) };
    Ok(Values::from([
        ("init_ns", ns("init_ns")?),
        ("run_ns", ns("run_ns")?),
        ("init_run_ns", ns("init_ns")? + ns("run_ns")?),
        ("close_ns", ns("close_ns")?),
        ("close_calls_ns", ns("close_calls_ns")?),
        ("peak_bytes", hwm as f64 * 1024.0),
        (
            "bytes_per_timer",
            per(hwm.saturating_sub(base) as f64 * 1024.0, n),
        ),
    ]))
}
