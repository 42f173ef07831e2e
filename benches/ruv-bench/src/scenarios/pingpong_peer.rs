//! Ping-pong against a blocking peer: a raw C echo server (blocking
//! `recvfrom`/`sendto`) and the client under test, both pinned to the same
//! CPU, one 64-byte datagram in flight. `raw` is a blocking C client: the
//! physical limit.

use super::{rate, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl, READY_TIMEOUT};
use crate::workers::common::STOP;
use std::net::UdpSocket;
use std::time::Duration;

/// The ping-pong-against-a-peer case.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.pingpong_ms;
    vec![Case {
        scenario: "pingpong-peer",
        id: "pingpong-peer".into(),
        title: "ping-pong against a blocking C peer".into(),
        setup: format!(
            "{ms} ms; client and raw C echo peer both on CPU 1; 64 B, one datagram in flight"
        ),
        metrics: vec![Metric::new(
            "rt_per_s",
            "round trips/s",
            Unit::PerSec,
            Better::Higher,
        )],
        impls: vec![
            Impl::Ruv,
            Impl::Libuv,
            Impl::UvCompat,
            Impl::TokioAwait,
            Impl::TokioReady,
            Impl::Raw,
        ],
        baselines: vec![Impl::Libuv, Impl::Raw],
        ratio_metrics: vec!["rt_per_s"],
        once: false,
        run: Box::new(move |env, imp| run(env, imp, ms)),
    }]
}

fn run(env: &Env, imp: Impl, ms: u64) -> Result<Values, String> {
    let secs = ms / 1000 + 15;
    let mut peer = env.spawn(
        Impl::Raw,
        "echo-peer",
        &params_with_timeout(secs),
        Cpu::Main,
    )?;
    let port = peer.ready(READY_TIMEOUT)?;
    let mut p = params_with_timeout(secs);
    p.set("port", port).set("duration_ms", ms);
    let got = env
        .spawn(imp, "pingpong-client", &p, Cpu::Main)?
        .result(Duration::from_secs(secs));
    // The client sends a stop marker too; this one covers a client that
    // failed or whose marker was lost.
    if let Ok(sock) = UdpSocket::bind("127.0.0.1:0") {
        let _ = sock.send_to(STOP, ("127.0.0.1", port));
    }
    let got = got?;
    peer.result(Duration::from_secs(5))?;
    let trips = got.require("round_trips")?;
    Ok(Values::from([
        ("rt_per_s", rate(trips, got.require("ns")?)),
        ("round_trips", trips as f64),
    ]))
}
