//! Signal delivery (issue 13): SIGUSR1 sent by the process to itself.
//! Latency: one signal at a time, the next sent from the callback of the
//! previous, so each takes a kill, the handler's wake-up and one loop
//! iteration to the callback. Burst: N signals sent at once (each kill to
//! itself runs the handler before it returns, so all N are caught), then
//! the loop runs until no more callbacks come: how many callbacks, and how
//! long until the last.

use super::{per, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

const IMPLS: [Impl; 4] = [Impl::Ruv, Impl::Libuv, Impl::UvCompat, Impl::TokioAwait];

/// The latency case and the burst case.
pub fn cases(env: &Env) -> Vec<Case> {
    let (count, burst) = (env.sizes.signals, env.sizes.signal_burst);
    vec![
        Case {
            scenario: "signal",
            id: "signal-latency".into(),
            title: "signal delivery: kill to callback, one at a time".into(),
            setup: format!(
                "{} SIGUSR1 to itself on CPU 1, the next from the callback",
                super::short_count(count)
            ),
            metrics: vec![Metric::new(
                "ns_per_signal",
                "ns/signal",
                Unit::Ns,
                Better::Lower,
            )],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Libuv],
            ratio_metrics: vec!["ns_per_signal"],
            once: super::smoke_once(env),
            run: Box::new(move |env, imp| {
                let got = run(env, imp, "signal-latency", count)?;
                Ok(Values::from([(
                    "ns_per_signal",
                    per(got.require("ns")? as f64, got.require("signals")? as f64),
                )]))
            }),
        },
        Case {
            scenario: "signal",
            id: "signal-burst".into(),
            title: format!("signal burst: {burst} SIGUSR1 sent at once"),
            setup:
                "callbacks that followed (libuv: one per caught signal) and the time to the last"
                    .into(),
            metrics: vec![
                Metric::new("callbacks", "callbacks", Unit::Count, Better::Neither),
                Metric::new("ns_total", "time to last", Unit::Ns, Better::Lower),
            ],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Libuv],
            ratio_metrics: vec![],
            once: super::smoke_once(env),
            run: Box::new(move |env, imp| {
                let got = run(env, imp, "signal-burst", burst)?;
                Ok(Values::from([
                    ("callbacks", got.require("signals")? as f64),
                    ("ns_total", got.require("ns")? as f64),
                ]))
            }),
        },
    ]
}

fn run(env: &Env, imp: Impl, scenario: &str, count: u64) -> Result<crate::kv::Params, String> {
    let secs = 60;
    let mut p = params_with_timeout(secs);
    p.set("count", count);
    env.spawn(imp, scenario, &p, Cpu::Main)?
        .result(Duration::from_secs(secs))
}
