//! The scenarios on tokio's current-thread runtime, in two styles:
//! [`Style::Await`] (`recv_from(..).await`, `send_to(..).await`) and
//! [`Style::Ready`] (`readable().await` then `try_recv_from` until it
//! would block; `try_send_to`, waiting for `writable()` only when it would
//! block).

use super::common::{loopback_socket, ready, wait_go, ReceiveWindow, PAYLOAD, STOP, STOP_LEN};
use super::{exit_with, Outcome};
use crate::kv::Params;
use crate::measure::status_kb;
use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::runtime::{Builder, Runtime};
use tokio::task::{self, LocalSet};

/// How the sockets are driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `recv_from(..).await` / `send_to(..).await`.
    Await,
    /// `readable().await` + `try_recv_from`; `try_send_to` (+ `writable()`).
    Ready,
}

/// Runs `scenario` (the same list as the ruv worker, without `idle`: tokio
/// has no idle handle).
pub fn run(style: Style, scenario: &str, p: &Params) -> Outcome {
    let rt = Builder::new_current_thread().enable_all().build()?;
    match scenario {
        "flood-recv" => flood_recv(&rt, style),
        "drain-recv" => drain_recv(&rt, style, p),
        "pingpong-client" => {
            let peer = SocketAddr::from(([127, 0, 0, 1], p.require("port")? as u16));
            pingpong(&rt, style, p, Some(peer))
        }
        "pingpong-loop" => pingpong(&rt, style, p, None),
        "pummel" => pummel(&rt, style, p),
        "timers" => timers(&rt, p),
        other => Err(format!("tokio: no scenario {other}").into()),
    }
}

fn socket(rcvbuf: Option<usize>) -> io::Result<UdpSocket> {
    UdpSocket::from_std(loopback_socket(rcvbuf)?)
}

/// Receives datagrams and hands each one's length to `on` until it returns
/// false.
async fn receive_loop(
    sock: &UdpSocket,
    style: Style,
    mut on: impl FnMut(usize) -> bool,
) -> io::Result<()> {
    let mut buf = vec![0u8; 65536];
    match style {
        Style::Await => loop {
            let (n, _) = sock.recv_from(&mut buf).await?;
            if !on(n) {
                return Ok(());
            }
        },
        Style::Ready => loop {
            sock.readable().await?;
            loop {
                match sock.try_recv_from(&mut buf) {
                    Ok((n, _)) => {
                        if !on(n) {
                            return Ok(());
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        },
    }
}

/// Receives one datagram into `buf`.
async fn recv_one(
    sock: &UdpSocket,
    style: Style,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr)> {
    match style {
        Style::Await => sock.recv_from(buf).await,
        Style::Ready => loop {
            match sock.try_recv_from(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => sock.readable().await?,
                other => return other,
            }
        },
    }
}

/// Sends one datagram.
async fn send_one(
    sock: &UdpSocket,
    style: Style,
    data: &[u8],
    to: SocketAddr,
) -> io::Result<usize> {
    match style {
        Style::Await => sock.send_to(data, to).await,
        Style::Ready => loop {
            match sock.try_send_to(data, to) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => sock.writable().await?,
                other => return other,
            }
        },
    }
}

fn flood_recv(rt: &Runtime, style: Style) -> Outcome {
    rt.block_on(async {
        let sock = socket(None)?;
        ready(sock.local_addr()?.port());
        let mut w = ReceiveWindow::default();
        receive_loop(&sock, style, |n| {
            if n == STOP_LEN {
                w.finish();
                return false;
            }
            w.count();
            true
        })
        .await?;
        Ok(w.result())
    })
}

fn drain_recv(rt: &Runtime, style: Style, p: &Params) -> Outcome {
    let std_sock = loopback_socket(Some(p.u64("rcvbuf", 0) as usize).filter(|&b| b > 0))?;
    ready(std_sock.local_addr()?.port());
    let expected = wait_go()?;
    rt.block_on(async {
        let sock = UdpSocket::from_std(std_sock)?;
        let mut w = ReceiveWindow::default();
        w.start();
        if expected > 0 {
            receive_loop(&sock, style, |_| w.count() < expected).await?;
        }
        w.finish();
        Ok(w.result())
    })
}

/// Echoes every datagram back to its sender.
async fn echo(sock: UdpSocket, style: Style) -> io::Result<()> {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = recv_one(&sock, style, &mut buf).await?;
        send_one(&sock, style, &buf[..n], from).await?;
    }
}

fn pingpong(rt: &Runtime, style: Style, p: &Params, peer: Option<SocketAddr>) -> Outcome {
    let limit = p.u64("count", 0);
    let duration = Duration::from_millis(p.u64("duration_ms", 1000));
    LocalSet::new().block_on(rt, async move {
        let ping = socket(None)?;
        let to = match peer {
            Some(addr) => addr,
            None => {
                let pong = socket(None)?;
                let addr = pong.local_addr()?;
                task::spawn_local(echo(pong, style));
                addr
            }
        };
        let time_up = Rc::new(Cell::new(false));
        if limit == 0 {
            let t = time_up.clone();
            task::spawn_local(async move {
                tokio::time::sleep(duration).await;
                t.set(true);
            });
        }
        let mut buf = vec![0u8; 65536];
        let mut trips = 0u64;
        let start = Instant::now();
        loop {
            send_one(&ping, style, PAYLOAD, to).await?;
            recv_one(&ping, style, &mut buf).await?;
            trips += 1;
            if if limit > 0 {
                trips >= limit
            } else {
                time_up.get()
            } {
                break;
            }
        }
        let ns = start.elapsed().as_nanos() as u64;
        if peer.is_some() {
            let _ = ping.try_send_to(STOP, to);
        }
        Ok(vec![("round_trips", trips), ("ns", ns)])
    })
}

/// Counters of a pummel run.
#[derive(Default)]
struct Pummel {
    time_up: Cell<bool>,
    sent: Cell<u64>,
    received: Cell<u64>,
}

fn pummel(rt: &Runtime, style: Style, p: &Params) -> Outcome {
    let (n, m) = (p.u64("senders", 1) as usize, p.u64("receivers", 1) as usize);
    let duration = Duration::from_millis(p.u64("duration_ms", 1000));
    LocalSet::new().block_on(rt, async move {
        let st = Rc::new(Pummel::default());
        let mut targets = Vec::with_capacity(m);
        for _ in 0..m {
            let rx = socket(None)?;
            targets.push(rx.local_addr()?);
            let s = st.clone();
            task::spawn_local(async move {
                receive_loop(&rx, style, |_| {
                    if !s.time_up.get() {
                        s.received.set(s.received.get() + 1);
                    }
                    true
                })
                .await
            });
        }
        for i in 0..n {
            let tx = socket(None)?;
            let (s, to) = (st.clone(), targets[i % m]);
            task::spawn_local(async move {
                while !s.time_up.get() {
                    send_one(&tx, style, PAYLOAD, to).await?;
                    if style == Style::Ready {
                        // try_send_to never yields: give the others a turn.
                        task::consume_budget().await;
                    }
                    if !s.time_up.get() {
                        s.sent.set(s.sent.get() + 1);
                    }
                }
                Ok::<(), io::Error>(())
            });
        }
        let start = Instant::now();
        tokio::time::sleep(duration).await;
        st.time_up.set(true);
        let ns = start.elapsed().as_nanos() as u64;
        Ok(vec![
            ("received", st.received.get()),
            ("sent", st.sent.get()),
            ("ns", ns),
        ])
    })
}

/// `count` tasks that each sleep for zero time: "start" is spawning them
/// (the sleep registers with the timer driver at its first poll, so that
/// cost lands in "fire"), "fire" runs them all to completion.
fn timers(rt: &Runtime, p: &Params) -> Outcome {
    let count = p.u64("count", 1_000_000);
    let base_kb = status_kb("VmRSS:");
    let fired = Rc::new(Cell::new(0u64));
    let local = LocalSet::new();
    let a = Instant::now();
    for _ in 0..count {
        let f = fired.clone();
        local.spawn_local(async move {
            tokio::time::sleep(Duration::ZERO).await;
            f.set(f.get() + 1);
        });
    }
    let b = Instant::now();
    let armed_kb = status_kb("VmRSS:"); // timed by neither half
    let b2 = Instant::now();
    rt.block_on(local);
    let c = Instant::now();
    if fired.get() != count {
        return Err("not every timer fired".into());
    }
    exit_with(&[
        ("count", count),
        ("start_ns", (b - a).as_nanos() as u64),
        ("fire_ns", (c - b2).as_nanos() as u64),
        ("hwm_kb", status_kb("VmHWM:")),
        ("armed_kb", armed_kb),
        ("base_kb", base_kb),
    ])
}
