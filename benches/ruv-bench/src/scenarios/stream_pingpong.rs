//! Ping-pong over one stream connection, TCP and Unix socket (issue 12
//! §5): both ends in one process on CPU 1, 64 bytes, one message in
//! flight; `raw` writes and reads both ends with blocking calls in one
//! thread.

use super::{rate, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::time::Duration;

const IMPLS: [Impl; 5] = [
    Impl::Ruv,
    Impl::Libuv,
    Impl::UvCompat,
    Impl::TokioAwait,
    Impl::Raw,
];

/// One case per kind.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.stream_ms;
    ["tcp", "unix"]
        .into_iter()
        .map(|kind| Case {
            scenario: "pingpong-stream",
            id: format!("pingpong-{kind}"),
            title: format!("ping-pong over one {} connection", kind.to_uppercase()),
            setup: format!(
                "{ms} ms on CPU 1, both ends in one loop; 64 B, one message in flight; raw = one thread, blocking calls"
            ),
            metrics: vec![Metric::new(
                "rt_per_s",
                "round trips/s",
                Unit::PerSec,
                Better::Higher,
            )],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Libuv, Impl::Raw],
            ratio_metrics: vec!["rt_per_s"],
            once: super::smoke_once(env),
            run: Box::new(move |env, imp| run(env, imp, kind, ms)),
        })
        .collect()
}

fn run(env: &Env, imp: Impl, kind: &str, ms: u64) -> Result<Values, String> {
    let secs = ms / 1000 + 15;
    let mut p = params_with_timeout(secs);
    p.set("duration_ms", ms).set("kind", kind);
    if kind == "unix" {
        let path = env.socket_path(&format!("pingpong-{}", imp.name()));
        p.set("path", path.display());
    }
    let got = env
        .spawn(imp, "pingpong-stream", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    Ok(Values::from([(
        "rt_per_s",
        rate(got.require("round_trips")?, got.require("ns")?),
    )]))
}
