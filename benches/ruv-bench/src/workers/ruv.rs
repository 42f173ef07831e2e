//! The scenarios on ruv's Rust API, written the way an application would:
//! handles, callbacks, the loop's own receive buffer.

use super::common::{
    fatal, loopback_any, loopback_socket, ready, wait_go, ReceiveWindow, PAYLOAD, STOP, STOP_LEN,
};
use super::{exit_with, Outcome};
use crate::kv::Params;
use crate::measure::status_kb;
use ruv::{Idle, Loop, RunMode, Timer, Udp, UdpFlags};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

/// Runs `scenario` (see `c/uvbench.c` for the list and parameters).
pub fn run(scenario: &str, p: &Params) -> Outcome {
    match scenario {
        "flood-recv" => flood_recv(p),
        "drain-recv" => drain_recv(p),
        "pingpong-client" => pingpong(
            p,
            Some(SocketAddr::from((
                [127, 0, 0, 1],
                p.require("port")? as u16,
            ))),
        ),
        "pingpong-loop" => pingpong(p, None),
        "pummel" => pummel(p),
        "timers" => timers(p),
        "idle" => idle(p),
        other => Err(format!("ruv: no scenario {other}").into()),
    }
}

fn bound(lp: &Loop) -> ruv::Result<Udp> {
    let udp = Udp::new(lp);
    udp.bind(loopback_any(), UdpFlags::empty())?;
    Ok(udp)
}

/// Receives until a stop marker; the window opens at the first datagram.
fn flood_recv(p: &Params) -> Outcome {
    let lp = Loop::new()?;
    let udp = bound(&lp)?;
    udp.set_recvmmsg(p.flag("mmsg"))?;
    ready(udp.sockname()?.port());
    let window = Rc::new(RefCell::new(ReceiveWindow::default()));
    let w = window.clone();
    udp.receive_start(move |udp, result| {
        let Ok(dgram) = result else { return };
        let mut w = w.borrow_mut();
        if w.finished() {
            return;
        }
        if dgram.data.len() == STOP_LEN {
            w.finish();
            udp.close(|| {});
        } else {
            w.count();
        }
    })?;
    lp.run(RunMode::Default)?;
    let result = window.borrow().result();
    Ok(result)
}

/// Drains the datagrams queued while it waited for "go".
fn drain_recv(p: &Params) -> Outcome {
    let lp = Loop::new()?;
    let sock = loopback_socket(Some(p.u64("rcvbuf", 0) as usize).filter(|&b| b > 0))?;
    let port = sock.local_addr()?.port();
    let udp = Udp::from_socket(&lp, sock)?;
    udp.set_recvmmsg(p.flag("mmsg"))?;
    ready(port);
    let expected = wait_go()?;
    let window = Rc::new(RefCell::new(ReceiveWindow::default()));
    window.borrow_mut().start();
    if expected == 0 {
        window.borrow_mut().finish();
        return Ok(window.borrow().result());
    }
    let w = window.clone();
    udp.receive_start(move |udp, result| {
        if let Err(e) = result {
            fatal("receive", e);
        }
        let mut w = w.borrow_mut();
        if w.count() == expected {
            w.finish();
            udp.close(|| {});
        }
    })?;
    lp.run(RunMode::Default)?;
    let result = window.borrow().result();
    Ok(result)
}

/// Ping-pong against a peer at `peer`, or with the echo side in this loop.
fn pingpong(p: &Params, peer: Option<SocketAddr>) -> Outcome {
    let lp = Loop::new()?;
    let ping = bound(&lp)?;
    let pong = match peer {
        Some(_) => None,
        None => {
            let pong = bound(&lp)?;
            pong.receive_start(|udp, result| match result {
                Ok(dgram) => {
                    if let Err(e) = udp.send(&[dgram.data], Some(dgram.addr), |_, _| {}) {
                        fatal("send", e);
                    }
                }
                Err(e) => fatal("receive", e),
            })?;
            Some(pong)
        }
    };
    let to = match (&pong, peer) {
        (Some(pong), _) => pong.sockname()?,
        (None, Some(addr)) => addr,
        (None, None) => unreachable!(),
    };
    let limit = p.u64("count", 0);
    let clock = Timer::new(&lp);
    let time_up = Rc::new(Cell::new(false));
    if limit == 0 {
        let t = time_up.clone();
        clock.start(p.u64("duration_ms", 1000), 0, move |_| t.set(true))?;
    }
    let trips = Rc::new(Cell::new(0u64));
    let end = Rc::new(Cell::new(None::<Instant>));
    let (n, e) = (trips.clone(), end.clone());
    ping.receive_start(move |udp, result| {
        if let Err(err) = result {
            fatal("receive", err);
        }
        n.set(n.get() + 1);
        if if limit > 0 {
            n.get() >= limit
        } else {
            time_up.get()
        } {
            e.set(Some(Instant::now()));
            if peer.is_some() {
                // Tell the peer to stop (the harness does too).
                let _ = udp.send(&[STOP], Some(to), |_, _| {});
            }
            udp.close(|| {});
            if let Some(pong) = &pong {
                pong.close(|| {});
            }
            clock.close(|| {});
            return;
        }
        if let Err(err) = udp.send(&[PAYLOAD], Some(to), |_, _| {}) {
            fatal("send", err);
        }
    })?;
    let start = Instant::now();
    ping.send(&[PAYLOAD], Some(to), |_, _| {})?;
    lp.run(RunMode::Default)?;
    let ns = end.get().map_or(0, |e| (e - start).as_nanos() as u64);
    Ok(vec![("round_trips", trips.get()), ("ns", ns)])
}

/// Counters of a pummel run.
#[derive(Default)]
struct Pummel {
    time_up: Cell<bool>,
    sent: Cell<u64>,
    received: Cell<u64>,
}

/// Sends the payload to `to`, and again from the callback until time is up.
fn send_next(udp: &Udp, to: SocketAddr, st: Rc<Pummel>) {
    let sent = udp.send(&[PAYLOAD], Some(to), move |req, status| {
        if status.is_err() || st.time_up.get() {
            return; // ECANCELED once closed
        }
        st.sent.set(st.sent.get() + 1);
        send_next(req.handle(), to, st);
    });
    if let Err(e) = sent {
        fatal("send", e);
    }
}

/// N senders x M receivers in one loop; sender i sends to receiver i % M.
fn pummel(p: &Params) -> Outcome {
    let (n, m) = (p.u64("senders", 1) as usize, p.u64("receivers", 1) as usize);
    let lp = Loop::new()?;
    let st = Rc::new(Pummel::default());
    let mut handles = Vec::with_capacity(n + m);
    let mut targets = Vec::with_capacity(m);
    for _ in 0..m {
        let rx = bound(&lp)?;
        let s = st.clone();
        rx.receive_start(move |_, result| {
            if result.is_ok() && !s.time_up.get() {
                s.received.set(s.received.get() + 1);
            }
        })?;
        targets.push(rx.sockname()?);
        handles.push(rx);
    }
    let senders: Vec<Udp> = (0..n).map(|_| bound(&lp)).collect::<ruv::Result<_>>()?;
    handles.extend(senders.iter().cloned());
    let end = Rc::new(Cell::new(None::<Instant>));
    let clock = Timer::new(&lp);
    let (s, e) = (st.clone(), end.clone());
    clock.start(p.u64("duration_ms", 1000), 0, move |t| {
        s.time_up.set(true);
        e.set(Some(Instant::now()));
        for h in &handles {
            h.close(|| {});
        }
        t.close(|| {});
    })?;
    let start = Instant::now();
    for (i, tx) in senders.iter().enumerate() {
        send_next(tx, targets[i % m], st.clone());
    }
    drop(senders);
    lp.run(RunMode::Default)?;
    let ns = end.get().map_or(0, |e| (e - start).as_nanos() as u64);
    Ok(vec![
        ("received", st.received.get()),
        ("sent", st.sent.get()),
        ("ns", ns),
    ])
}

thread_local! {
    static FIRED: Cell<u64> = const { Cell::new(0) };
}

/// `count` zero-timeout timers: the time to start them, to fire them all,
/// and the peak memory.
fn timers(p: &Params) -> Outcome {
    let count = p.u64("count", 1_000_000);
    let lp = Loop::new()?;
    let base_kb = status_kb("VmRSS:");
    let a = Instant::now();
    for _ in 0..count {
        Timer::new(&lp).start(0, 0, |_| FIRED.with(|f| f.set(f.get() + 1)))?;
    }
    let b = Instant::now();
    let armed_kb = status_kb("VmRSS:"); // timed by neither half
    let b2 = Instant::now();
    lp.run(RunMode::Default)?;
    let c = Instant::now();
    if FIRED.with(Cell::get) != count {
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

/// Loop iterations with one idle handle.
fn idle(p: &Params) -> Outcome {
    let iterations = p.u64("iterations", 1_000_000).max(1);
    let lp = Loop::new()?;
    let idle = Idle::new(&lp);
    let mut left = iterations;
    idle.start(move |h| {
        left -= 1;
        if left == 0 {
            let _ = h.stop();
        }
    })?;
    let a = Instant::now();
    lp.run(RunMode::Default)?;
    let ns = a.elapsed().as_nanos() as u64;
    Ok(vec![("iterations", iterations), ("ns", ns)])
}
