//! Pummel (libuv's `udp_pummel` benchmark): N senders and M receivers in
//! one loop on CPU 1; sender i sends to receiver i mod M, one datagram in
//! flight each, sending again from the send callback, for a fixed time.

use super::{rate, short_count, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

/// One case per (senders, receivers) configuration.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.pummel_ms;
    env.sizes
        .pummel
        .iter()
        .map(|&(n, m)| Case {
            scenario: "pummel",
            id: format!("pummel-{}x{}", short_count(n), short_count(m)),
            title: format!("pummel {n} senders x {m} receivers in one loop"),
            setup: format!("{ms} ms on CPU 1; 64 B; sender i -> receiver i mod {m}; one send in flight per sender"),
            metrics: vec![
                Metric::new("recv_per_s", "recv/s", Unit::PerSec, Better::Higher),
                Metric::new("sent_per_s", "sent/s", Unit::PerSec, Better::Neither),
            ],
            impls: vec![
                Impl::Ruv,
                Impl::Libuv,
                Impl::UvCompat,
                Impl::TokioAwait,
                Impl::TokioReady,
            ],
            baselines: vec![Impl::Libuv],
            ratio_metrics: vec!["recv_per_s"],
            once: false,
            run: Box::new(move |env, imp| run(env, imp, n, m, ms)),
        })
        .collect()
}

fn run(env: &Env, imp: Impl, n: u64, m: u64, ms: u64) -> Result<Values, String> {
    let secs = ms / 1000 + 30;
    let mut p = params_with_timeout(secs);
    p.set("senders", n)
        .set("receivers", m)
        .set("duration_ms", ms);
    let got = env
        .spawn(imp, "pummel", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    let (received, ns) = (got.require("received")?, got.require("ns")?);
    if received == 0 {
        return Err(format!("{}: received nothing", imp.name()));
    }
    Ok(Values::from([
        ("recv_per_s", rate(received, ns)),
        ("sent_per_s", rate(got.require("sent")?, ns)),
    ]))
}
