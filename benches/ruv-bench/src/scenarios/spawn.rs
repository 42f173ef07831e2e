//! Spawn rate (issue 13, libuv's `benchmark-spawn.c`): `/bin/true` with
//! its stdout piped and read to the end; the next child starts once the
//! exit and the end of its output were both seen. Spawns per second, on
//! CPU 1 (the children too: taskset's affinity is inherited).

use super::{rate, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

const IMPLS: [Impl; 4] = [Impl::Ruv, Impl::Libuv, Impl::UvCompat, Impl::TokioAwait];

/// The spawn case.
pub fn cases(env: &Env) -> Vec<Case> {
    let count = env.sizes.spawns;
    vec![Case {
        scenario: "spawn",
        id: "spawn".into(),
        title: "spawn /bin/true, stdout piped and read to EOF".into(),
        setup: format!("{count} spawns one after the other on CPU 1; tokio = tokio::process"),
        metrics: vec![Metric::new(
            "spawn_per_s",
            "spawns/s",
            Unit::PerSec,
            Better::Higher,
        )],
        impls: IMPLS.to_vec(),
        baselines: vec![Impl::Libuv],
        ratio_metrics: vec!["spawn_per_s"],
        once: super::smoke_once(env),
        run: Box::new(move |env, imp| run(env, imp, count)),
    }]
}

fn run(env: &Env, imp: Impl, count: u64) -> Result<Values, String> {
    let secs = 120;
    let mut p = params_with_timeout(secs);
    p.set("count", count);
    let got = env
        .spawn(imp, "spawn", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    Ok(Values::from([(
        "spawn_per_s",
        rate(got.require("spawns")?, got.require("ns")?),
    )]))
}
