//! Idle connections (issue 12 §5): the server under test on CPU 1 accepts
//! N connections a raw C client on CPU 0 opens and holds, and reads on
//! each; then it reports its resident memory. Bytes per connection are the
//! growth of the resident set from before the first accept, divided by N
//! (user-space memory only: the kernel's socket buffers are not counted).

use super::{per, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl, READY_TIMEOUT};
use std::time::Duration;

const IMPLS: [Impl; 5] = [
    Impl::Ruv,
    Impl::Libuv,
    Impl::UvCompat,
    Impl::TokioAwait,
    Impl::Raw,
];

/// The idle-connections case.
pub fn cases(env: &Env) -> Vec<Case> {
    let conns = env.sizes.idle_conns;
    vec![Case {
        scenario: "idle-conns",
        id: format!("idle-conns-{conns}"),
        title: format!(
            "{} idle connections: memory per connection",
            super::short_count(conns)
        ),
        setup: "server on CPU 1 accepts and reads on each, raw C client on CPU 0 holds them; \
                VmRSS growth from before the first accept; raw = epoll, descriptors only"
            .into(),
        metrics: vec![
            Metric::new("bytes_per_conn", "bytes/conn", Unit::Bytes, Better::Lower),
            Metric::new("hwm_bytes", "peak RSS", Unit::Bytes, Better::Lower),
        ],
        impls: IMPLS.to_vec(),
        baselines: vec![Impl::Libuv],
        ratio_metrics: vec!["bytes_per_conn"],
        once: super::smoke_once(env),
        run: Box::new(move |env, imp| run(env, imp, conns)),
    }]
}

fn run(env: &Env, imp: Impl, conns: u64) -> Result<Values, String> {
    let secs = 60;
    let mut p = params_with_timeout(secs);
    p.set("conns", conns);
    let mut server = env.spawn(imp, "idle-server", &p, Cpu::Main)?;
    let port = server.ready(READY_TIMEOUT)?;
    let mut cp = params_with_timeout(secs);
    cp.set("port", port).set("conns", conns);
    // Holds its connections until it is dropped (killed) below.
    let _client = env.spawn(Impl::Raw, "idle-client", &cp, Cpu::Helper)?;
    let got = server.result(Duration::from_secs(secs))?;
    let grown_kb = got
        .require("rss_kb")?
        .saturating_sub(got.require("base_kb")?);
    Ok(Values::from([
        (
            "bytes_per_conn",
            per(grown_kb as f64 * 1024.0, conns as f64),
        ),
        ("hwm_bytes", got.require("hwm_kb")? as f64 * 1024.0),
    ]))
}
