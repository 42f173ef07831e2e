//! Pound (issue 12 §5, libuv's `benchmark-pound.c` with both sides in one
//! loop): N clients connect to a listener of the same loop; the listener
//! accepts and closes, each client closes once connected and starts over.
//! Connections per second, on CPU 1.

use super::{rate, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

const IMPLS: [Impl; 4] = [Impl::Ruv, Impl::Libuv, Impl::UvCompat, Impl::TokioAwait];

/// The pound case.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.stream_ms;
    let conns = env.sizes.pound_conns;
    vec![Case {
        scenario: "pound",
        id: format!("pound-{conns}"),
        title: format!("pound: connect, accept, close; {conns} concurrent"),
        setup: format!("{ms} ms on CPU 1, clients and listener in one loop; TCP over 127.0.0.1"),
        metrics: vec![Metric::new(
            "conn_per_s",
            "connections/s",
            Unit::PerSec,
            Better::Higher,
        )],
        impls: IMPLS.to_vec(),
        baselines: vec![Impl::Libuv],
        ratio_metrics: vec!["conn_per_s"],
        once: super::smoke_once(env),
        run: Box::new(move |env, imp| run(env, imp, conns, ms)),
    }]
}

fn run(env: &Env, imp: Impl, conns: u64, ms: u64) -> Result<Values, String> {
    let secs = ms / 1000 + 15;
    let mut p = params_with_timeout(secs);
    p.set("conns", conns).set("duration_ms", ms);
    let got = env
        .spawn(imp, "pound", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    Ok(Values::from([(
        "conn_per_s",
        rate(got.require("connections")?, got.require("ns")?),
    )]))
}
