//! uvloop's echo benchmark for issue 14: a protocol echo server, 10
//! concurrent clients, 1 KiB, 10 KiB and 100 KiB messages. ruv's asyncio
//! transports (`ruv-transport`) against the same echo on a plain ruv `Tcp`
//! (`ruv`), libuv C and tokio. The server under test runs on CPU 1, the
//! raw C epoll client (`echo-client size=`) on CPU 0 with one message in
//! flight per connection; the figure is the server's CPU time from its
//! first read to its last connection's end, divided by the echoes the
//! client counted (whole messages back).

use super::tcp_echo;
use super::{per, rate, Better, Case, Metric, Unit, Values};
use crate::harness::env::{Env, Impl};
use crate::kv::Params;

/// The servers compared.
pub const IMPLS: [Impl; 4] = [Impl::RuvTransport, Impl::Ruv, Impl::Libuv, Impl::TokioAwait];

/// Message sizes, one case each.
pub const SIZES: [u64; 3] = [1024, 10 * 1024, 100 * 1024];

/// Concurrent clients (uvloop's benchmark).
pub const CLIENTS: u64 = 10;

/// One case per message size.
pub fn cases(env: &Env) -> Vec<Case> {
    let ms = env.sizes.stream_ms;
    SIZES
        .iter()
        .map(|&size| Case {
            scenario: "transport-echo",
            id: format!("transport-echo-{}k", size / 1024),
            title: format!("protocol echo, {} KiB messages, {CLIENTS} clients", size / 1024),
            setup: format!(
                "server on CPU 1, raw C epoll client on CPU 0 for {ms} ms; one {size} B message in flight per connection; \
                 ruv-transport = a Protocol on ruv::endpoint's StreamTransport (create_server), ruv = the same echo on a plain Tcp"
            ),
            metrics: vec![
                Metric::new("cpu_ns_per_echo", "server CPU/echo", Unit::Ns, Better::Lower),
                Metric::new("echo_per_s", "echoes/s", Unit::PerSec, Better::Neither),
                Metric::new("busy_pct", "server busy", Unit::Percent, Better::Neither),
            ],
            impls: IMPLS.to_vec(),
            baselines: vec![Impl::Ruv, Impl::Libuv],
            ratio_metrics: vec!["cpu_ns_per_echo"],
            once: super::smoke_once(env),
            run: Box::new(move |env, imp| {
                let (server, client) = tcp_echo::run(env, imp, CLIENTS, size, ms, None)?;
                figures(&server, &client)
            }),
        })
        .collect()
}

/// The server's CPU over the echoes the client counted.
fn figures(server: &Params, client: &Params) -> Result<Values, String> {
    let echoes = client.require("echoes")?;
    let (cpu, ns) = (server.require("cpu_ns")? as f64, server.require("ns")?);
    Ok(Values::from([
        ("cpu_ns_per_echo", per(cpu, echoes as f64)),
        ("echo_per_s", rate(echoes, ns)),
        ("busy_pct", 100.0 * per(cpu, ns as f64)),
        ("echoes", echoes as f64),
    ]))
}
