//! Empty loop iteration: a loop whose only handle is an active idle
//! watcher (so the poll never blocks) counts down a number of iterations;
//! `raw` is a bare `epoll_wait(0)` loop on an epoll instance with one
//! eventfd registered (the loops have their wakeup descriptor too).

use super::{per, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

/// The empty-iteration case.
pub fn cases(env: &Env) -> Vec<Case> {
    let iterations = env.sizes.idle_iterations;
    vec![Case {
        scenario: "idle",
        id: "idle".into(),
        title: "empty loop iteration with one idle handle".into(),
        setup: format!(
            "{} iterations on CPU 1; raw = bare epoll_wait(0) loop",
            super::short_count(iterations)
        ),
        metrics: vec![Metric::new(
            "ns_per_iter",
            "ns/iteration",
            Unit::Ns,
            Better::Lower,
        )],
        impls: vec![Impl::Ruv, Impl::Libuv, Impl::UvCompat, Impl::Raw],
        baselines: vec![Impl::Raw, Impl::Libuv],
        ratio_metrics: vec!["ns_per_iter"],
        once: false,
        run: Box::new(move |env, imp| run(env, imp, iterations)),
    }]
}

fn run(env: &Env, imp: Impl, iterations: u64) -> Result<Values, String> {
    let mut p = params_with_timeout(60);
    p.set("iterations", iterations);
    let got = env
        .spawn(imp, "idle", &p, Cpu::Main)?
        .result(Duration::from_secs(60))?;
    Ok(Values::from([(
        "ns_per_iter",
        per(got.require("ns")? as f64, got.require("iterations")? as f64),
    )]))
}
