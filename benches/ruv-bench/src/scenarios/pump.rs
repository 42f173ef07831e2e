//! Pump (issue 12 §5, libuv's pump benchmarks): the sender under test on
//! CPU 1 writes 64 KiB buffers for a fixed time to a raw C sink on CPU 0
//! (blocking reads of 64 KiB), over TCP and over a Unix socket, then
//! shuts down. Throughput is what the sink received over its own window
//! (first byte to the end of the stream); the sender reports its CPU time.

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

/// One case per kind.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.stream_ms;
    ["tcp", "unix"]
        .into_iter()
        .map(|kind| Case {
            scenario: "pump",
            id: format!("pump-{kind}"),
            title: format!("pump, 64 KiB writes over {}", kind.to_uppercase()),
            setup: format!(
                "sender on CPU 1 for {ms} ms, raw C sink on CPU 0; the loops keep 4 writes in flight (each write callback issues the next), \
                 tokio write_all one after the other, raw blocking write()"
            ),
            metrics: vec![
                Metric::new("bytes_per_s", "throughput/s", Unit::Bytes, Better::Higher),
                Metric::new("cpu_ns_per_mib", "sender CPU/MiB", Unit::Ns, Better::Lower),
            ],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Libuv, Impl::Raw],
            ratio_metrics: vec!["bytes_per_s"],
            once: super::smoke_once(env),
            run: Box::new(move |env, imp| run(env, imp, kind, ms)),
        })
        .collect()
}

fn run(env: &Env, imp: Impl, kind: &str, ms: u64) -> Result<Values, String> {
    env.runnable(imp, "pump-send")?;
    let secs = ms / 1000 + 15;
    let mut p = params_with_timeout(secs);
    p.set("kind", kind);
    if kind == "unix" {
        p.set(
            "path",
            env.socket_path(&format!("pump-{}", imp.name())).display(),
        );
    }
    let mut sink = env.spawn(Impl::Raw, "pump-sink", &p, Cpu::Helper)?;
    let port = sink.ready(READY_TIMEOUT)?;
    p.set("port", port).set("duration_ms", ms);
    let sent = env
        .spawn(imp, "pump-send", &p, Cpu::Main)?
        .result(Duration::from_secs(secs))?;
    let got = sink.result(Duration::from_secs(10))?;
    let bytes = got.require("bytes")?;
    if bytes != sent.require("bytes")? {
        return Err(format!(
            "{}: the sink got {bytes} bytes of {}",
            imp.name(),
            sent.require("bytes")?
        ));
    }
    Ok(Values::from([
        (
            "bytes_per_s",
            per(bytes as f64 * 1e9, got.require("ns")? as f64),
        ),
        (
            "cpu_ns_per_mib",
            per(
                sent.require("cpu_ns")? as f64,
                bytes as f64 / (1 << 20) as f64,
            ),
        ),
    ]))
}
