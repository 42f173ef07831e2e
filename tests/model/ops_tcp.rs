//! TCP for the stream model: listeners on `127.0.0.1:0`, clients that
//! connect to them, connections accepted from the connection callback or
//! later (libuv's delayed accept), and `close_reset`. A connection's two
//! ends are entries linked as peers from the connect on; the accepted end
//! is a placeholder (no handle) until the listener accepts it, found by the
//! client's address. Once accepted, both ends are driven by `ops_stream`
//! like a pipe pair, with its byte accounting and callback order.

use super::ops;
use super::ops_handles::{close_cb, mark_closing};
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use crate::util::any_v4;
use ruv::{Error, StatusCode, Tcp, TcpFlags};

/// TCP entries a program makes at most (each connect makes two): keeps
/// every listener's backlog far from full.
const MAX_TCP: usize = 24;

fn tcp(g: &World, i: usize) -> Tcp {
    match &g.ents[i].obj {
        Some(Obj::Tcp(t)) => t.clone(),
        _ => unreachable!("ent {i} is not a usable TCP handle"),
    }
}

fn tcp_count(g: &World) -> usize {
    g.ents
        .iter()
        .filter(|e| matches!(e.kind, Kind::Tcp | Kind::Listener))
        .count()
}

pub fn op_listen(w: &W, g: &mut World) {
    if tcp_count(g) >= MAX_TCP {
        return;
    }
    let server = Tcp::new(&g.lp);
    if let Err(err) = server.bind(any_v4(), TcpFlags::empty()) {
        defect!("tcp bind on loopback failed: {err}");
    }
    let addr = match server.sockname() {
        Ok(addr) => addr,
        Err(err) => defect!("tcp sockname of a bound socket: {err}"),
    };
    let i = g.ents.len();
    let result = server.listen(128, connection_cb(w, g, i));
    let mut ent = Ent::new(Kind::Listener, Obj::Tcp(server));
    ent.listen_addr = Some(addr);
    g.push(ent);
    g.note(format!("listener {i} on {addr} -> {result:?}"));
    if let Err(err) = result {
        defect!("listener {i}: listen failed: {err}");
    }
}

fn connection_cb(w: &W, g: &World, i: usize) -> impl FnMut(&Tcp, ruv::Result<()>) + 'static {
    let w = w.clone();
    let guard = g.guard();
    move |server, status| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        if let Err(err) = status {
            // ruv, as libuv, reports no accept errors.
            defect!("listener {i}: connection callback with {err}");
        }
        let e = &mut g.ents[i];
        if e.closing || e.st_unaccepted != 0 {
            defect!(
                "listener {i}: connection callback (closing {}, {} not accepted)",
                e.closing,
                e.st_unaccepted
            );
        }
        e.st_unaccepted = 1;
        g.note(format!("  cb connection {i}"));
        if g.draining || g.rng.chance(70) {
            accept(&w, &mut g, i, server);
        }
        ops::nested(&w, &mut g, i);
    }
}

/// Accepts the connection listener `i` announced into a new handle, which
/// becomes the entry its client's placeholder kept.
fn accept(w: &W, g: &mut World, i: usize, server: &Tcp) {
    let conn = Tcp::new(&g.lp);
    if let Err(err) = server.accept(&conn) {
        defect!("listener {i}: accept failed: {err}");
    }
    g.ents[i].st_unaccepted = 0;
    let waiting = |g: &World, j: usize| {
        let e = &g.ents[j];
        e.kind == Kind::Tcp && e.obj.is_none() && !e.closing && e.st_listener == i
    };
    let j = match conn.peername() {
        Ok(from) => (0..g.ents.len()).find(|&j| waiting(g, j) && g.ents[j].st_addr == Some(from)),
        // Reset before it was accepted: its client closed. Any such
        // connection of this listener will do, the model treats them
        // alike (their peer is gone).
        Err(Error::Status(StatusCode::ENOTCONN)) => {
            (0..g.ents.len()).find(|&j| waiting(g, j) && g.ents[g.ents[j].st_peer].closing)
        }
        Err(err) => defect!("listener {i}: accepted connection without a peer: {err}"),
    };
    let Some(j) = j else {
        defect!("listener {i}: accepted a connection that no client made");
    };
    g.stats.tcp_accepted += 1;
    g.ents[j].id = conn.id();
    g.ents[j].obj = Some(Obj::Tcp(conn));
    g.note(format!(
        "listener {i}: accepted tcp {j} (client {})",
        g.ents[j].st_peer
    ));
    if g.draining {
        super::ops_stream::start_reading(w, g, j);
    }
}

/// A delayed accept: the connection callback ran without one.
pub fn op_accept(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Listener], |e| e.st_unaccepted > 0) else {
        return;
    };
    let server = tcp(g, i);
    accept(w, g, i, &server);
}

pub fn op_connect(w: &W, g: &mut World) {
    if tcp_count(g) + 2 > MAX_TCP {
        return;
    }
    let Some(l) = g.pick(&[Kind::Listener], |_| true) else {
        return;
    };
    let Some(addr) = g.ents[l].listen_addr else {
        unreachable!("a listener has an address");
    };
    let client = Tcp::new(&g.lp);
    let c = g.ents.len();
    let result = client.connect(addr, connect_cb(w, g, c, l));
    if let Err(err) = result {
        defect!("tcp {c}: connect to {addr} failed at once: {err}");
    }
    let local = match client.sockname() {
        Ok(local) => local,
        Err(err) => defect!("tcp {c}: no local address after connect: {err}"),
    };
    let mut ec = Ent::new(Kind::Tcp, Obj::Tcp(client));
    ec.st_peer = c + 1;
    ec.st_connecting = true;
    let mut es = Ent::placeholder(Kind::Tcp);
    es.st_peer = c;
    es.st_addr = Some(local);
    es.st_listener = l;
    g.push(ec);
    g.push(es);
    g.note(format!(
        "tcp {c} <-> {} = connect {local} to listener {l}",
        c + 1
    ));
}

fn connect_cb(
    w: &W,
    g: &World,
    c: usize,
    l: usize,
) -> impl FnOnce(&Tcp, ruv::Result<()>) + 'static {
    let w = w.clone();
    let guard = g.guard();
    move |_, status| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        let listener_gone = g.ents[l].closing;
        // The accepted end may have been closed (or reset) before this
        // callback learnt the outcome from the socket's error.
        let peer_gone = g.ents[g.ents[c].st_peer].closing;
        let e = &mut g.ents[c];
        // Called back by its close: the handle has left the loop (walk).
        e.finishing_close |= e.closing;
        if !e.st_connecting {
            defect!("tcp {c}: a second connect callback");
        }
        let ok = match status {
            Ok(()) => !e.closing,
            Err(Error::Status(StatusCode::ECANCELED)) => e.closing,
            Err(Error::Status(StatusCode::ECONNREFUSED | StatusCode::ECONNRESET)) => {
                (listener_gone || peer_gone) && !e.closing
            }
            Err(_) => false,
        };
        if !ok {
            defect!(
                "tcp {c}: connect completed with {status:?} (closing {}, listener gone {listener_gone}, peer gone {peer_gone})",
                e.closing
            );
        }
        e.st_connecting = false;
        if status.is_err() {
            // The writes queued behind it are cancelled.
            e.st_broken = true;
        }
        g.note(format!("  cb connect {c} {status:?}"));
        ops::nested(&w, &mut g, c);
    }
}

/// `close_reset`: EINVAL while a shutdown waits (the handle stays open);
/// otherwise a close after which the peer must see ECONNRESET rather than
/// an end of stream (unless it was sent the end before).
pub fn op_close_reset(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Tcp], |_| true) else {
        return;
    };
    let t = tcp(g, i);
    let shutdown_waits = g.ents[i].st_shut && !g.ents[i].st_shut_done;
    let result = t.close_reset(close_cb(w, g, i, true));
    g.note(format!("tcp {i}: close_reset -> {result:?}"));
    match result {
        Err(Error::Status(StatusCode::EINVAL)) if shutdown_waits => {}
        Ok(()) if !shutdown_waits => {
            mark_closing(g, i);
            g.ents[i].st_reset = true;
            g.stats.tcp_resets += 1;
        }
        other => {
            defect!("tcp {i}: close_reset gave {other:?} (shutdown waiting: {shutdown_waits})")
        }
    }
}

/// A listener's close resets the connections it had not handed over:
/// their placeholders are gone, with no handle to call back.
pub fn listener_closed(g: &mut World, l: usize) {
    for e in g.ents.iter_mut() {
        if e.kind == Kind::Tcp && e.obj.is_none() && e.st_listener == l && !e.closing {
            e.closing = true;
            e.close_cbs = 1;
        }
    }
}

/// What a TCP entry is still owed: a listener its delayed accept, an
/// accepted end its handle.
pub fn owes(g: &World, i: usize) -> bool {
    let e = &g.ents[i];
    match e.kind {
        Kind::Listener => !e.closing && e.st_unaccepted > 0,
        Kind::Tcp => e.obj.is_none() && !e.closing,
        _ => false,
    }
}

/// At the end: every delayed accept is made (the callback accepts by
/// itself while draining).
pub fn accept_waiting(w: &W, g: &mut World) {
    for i in 0..g.ents.len() {
        if g.ents[i].kind == Kind::Listener && g.ents[i].usable() && g.ents[i].st_unaccepted > 0 {
            let server = tcp(g, i);
            accept(w, g, i, &server);
        }
    }
}
