//! What the Rust workers share: the payload, sockets, the start protocol
//! and the measuring window of a receiver.

use crate::measure::cpu_ns;
use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, BufRead, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Instant;

/// Every benchmark datagram: 64 bytes, as in `c/bench.h`.
pub const PAYLOAD: &[u8; 64] = b"ruv-bench payload: sixty-four bytes of datagram, all the same...";

/// Bytes per pump write (`c/uvstream.c`'s `PUMP_CHUNK`).
pub const PUMP_CHUNK: usize = 64 * 1024;

/// Pump writes in flight (issued, callback not run yet): each write's
/// completion issues the next, in every implementation.
pub const PUMP_INFLIGHT: usize = 4;

/// What each write of the write batch carries (libuv's
/// `benchmark-tcp-write-batch.c`).
pub const BATCH_DATA: &[u8] = b"Hello, world.";

/// Whether the parameters ask for a Unix socket (`kind=unix`), not TCP.
pub fn unix_kind(p: &crate::kv::Params) -> bool {
    p.str("kind") == Some("unix")
}

/// `127.0.0.1:port` of the `port=` parameter.
pub fn port_addr(p: &crate::kv::Params) -> Result<SocketAddr, String> {
    Ok(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        p.require("port")? as u16,
    )))
}

/// A datagram of this length tells a receiver the run is over.
pub const STOP_LEN: usize = 1;

/// The stop marker.
pub const STOP: &[u8] = b"!";

/// `127.0.0.1:0`.
pub fn loopback_any() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// A non-blocking UDP socket bound to `127.0.0.1:0`, with `rcvbuf` bytes
/// of receive buffer if given: `SO_RCVBUFFORCE` (root) or else
/// `SO_RCVBUF`, which `net.core.rmem_max` caps.
pub fn loopback_socket(rcvbuf: Option<usize>) -> io::Result<UdpSocket> {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    if let Some(bytes) = rcvbuf {
        if setsockopt(&sock, sockopt::RcvBufForce, &bytes).is_err() {
            sock.set_recv_buffer_size(bytes)?;
        }
    }
    sock.bind(&loopback_any().into())?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// Raises the soft limit on descriptors to the hard one, as the C programs
/// do (10,000 idle connections need more than the usual 1024).
pub fn raise_nofile() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
}

/// Tells the harness the port we listen on.
pub fn ready(port: u16) {
    println!("READY port={port}");
    let _ = io::stdout().flush();
}

/// Waits for `go N` on stdin and returns N.
pub fn wait_go() -> io::Result<u64> {
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    line.trim()
        .strip_prefix("go ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| io::Error::other(format!("expected 'go N', got {line:?}")))
}

/// Prints why a callback cannot go on and ends the worker.
pub fn fatal(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {err}");
    std::process::exit(2)
}

/// A receiver's measuring window: from the first datagram (or an explicit
/// start) to `finish`, in wall time and in CPU time.
#[derive(Debug, Default)]
pub struct ReceiveWindow {
    received: u64,
    start: Option<(Instant, u64)>,
    end: Option<(Instant, u64)>,
}

impl ReceiveWindow {
    /// Starts the window now (drain starts at "go", not at a datagram).
    pub fn start(&mut self) {
        self.start = Some((Instant::now(), cpu_ns()));
    }

    /// Counts one datagram; the first one opens the window if `start` was
    /// not called.
    pub fn count(&mut self) -> u64 {
        if self.start.is_none() {
            self.start();
        }
        self.received += 1;
        self.received
    }

    /// Closes the window (the first call counts).
    pub fn finish(&mut self) {
        if self.end.is_none() {
            self.end = Some((Instant::now(), cpu_ns()));
        }
    }

    /// Whether `finish` was called.
    pub fn finished(&self) -> bool {
        self.end.is_some()
    }

    /// `received`, `cpu_ns` and `ns` of the window.
    pub fn result(&self) -> Vec<(&'static str, u64)> {
        let (ns, cpu) = match (self.start, self.end) {
            (Some((t0, c0)), Some((t1, c1))) => {
                ((t1 - t0).as_nanos() as u64, c1.saturating_sub(c0))
            }
            _ => (0, 0),
        };
        vec![("received", self.received), ("cpu_ns", cpu), ("ns", ns)]
    }
}
