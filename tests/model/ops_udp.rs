//! UDP handles: bind, connect, receive, send, try_send, segments, offload
//! toggles. Datagrams go only to the model's own loopback sockets, and
//! every payload names itself (see `payload`), so every receive is checked
//! against what was sent.

use super::ops;
use super::payload;
use super::world::{Dgram, Ent, Kind, Obj, SendState, World, W};
use crate::defect;
use ruv::{Error, RecvMeta, StatusCode, Udp, UdpFlags};
use std::net::SocketAddr;

/// Datagrams in flight to one socket at most: far below what its receive
/// buffer holds, so none may be dropped.
const UNDELIVERED_MAX: usize = 24;
const UNDELIVERED_BYTES_MAX: usize = 40_000;
const MAX_LEN: u64 = 1400;

fn v4() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn v6() -> SocketAddr {
    "[::1]:0".parse().unwrap()
}

/// Records the loopback address the socket got (after an explicit or
/// implicit bind).
fn learn_addr(g: &mut World, i: usize) {
    if g.ents[i].udp.addr.is_some() {
        return;
    }
    if let Ok(mut addr) = g.udp(i).sockname().map_err(drop).and_then(|a| {
        // Port 0: the socket lost its port when disconnected (below) and
        // has not sent since.
        if a.port() == 0 {
            Err(())
        } else {
            Ok(a)
        }
    }) {
        let ip: std::net::IpAddr = if addr.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        addr.set_ip(ip);
        g.ents[i].udp.addr = Some(addr);
    }
}

pub fn op_create(_w: &W, g: &mut World) {
    let how = g.rng.below(12);
    let udp = match how {
        // Sends of a few KiB queue (see `util::choked_sender`).
        10 | 11 => crate::util::choked_sender(&g.lp),
        // `open`: a socket bound outside ruv, adopted by a new handle.
        0 | 1 => {
            let addr = if how == 0 { v4() } else { v6() };
            let socket = std::net::UdpSocket::bind(addr).expect("loopback bind");
            let udp = Udp::new(&g.lp);
            if let Err(err) = udp.open(socket) {
                defect!("open of a bound UDP socket: {err}");
            }
            udp
        }
        // A socket of a family, not bound yet.
        2 => {
            let family = if g.rng.chance(50) {
                libc::AF_INET
            } else {
                libc::AF_INET6
            };
            Udp::with_family(&g.lp, family).unwrap_or_else(|e| defect!("with_family: {e}"))
        }
        _ => Udp::new(&g.lp),
    };
    let i = g.push(Ent::new(Kind::Udp, Obj::Udp(udp)));
    g.ents[i].udp.choked = how >= 10;
    let bind = match how {
        3..=6 => Some(v4()),
        7 => Some(v6()),
        _ => None,
    };
    if let Some(addr) = bind {
        if let Err(err) = g.udp(i).bind(addr, UdpFlags::empty()) {
            defect!("udp {i}: bind {addr}: {err}");
        }
    }
    learn_addr(g, i);
    if g.rng.chance(30) {
        g.udp(i).set_recvmmsg(true).unwrap();
    }
    g.note(format!(
        "udp {i} = new ({how}), bound to {:?}",
        g.ents[i].udp.addr
    ));
}

pub fn op_bind(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Udp], |_| true) else {
        return;
    };
    let addr = if g.rng.chance(70) { v4() } else { v6() };
    // A socket without a port (none yet, or given up by a disconnect)
    // binds; one of the other family, or with a port, is EINVAL.
    // A queued send that left after a disconnect took a new port unseen
    // by the model: ask the socket.
    let has_port = g.udp(i).sockname().is_ok_and(|a| a.port() != 0);
    let fits = same_family(g, i, addr);
    let result = g.udp(i).bind(addr, UdpFlags::empty());
    g.note(format!("udp {i}.bind({addr}) -> {result:?}"));
    match (has_port, fits, result) {
        (false, true, Ok(())) => learn_addr(g, i),
        (true, _, Err(Error::Status(StatusCode::EINVAL))) => {}
        (_, false, Err(Error::Status(StatusCode::EINVAL))) => {}
        (p, f, r) => defect!("udp {i}: bind {addr} with a port: {p}, family fits: {f} gave {r:?}"),
    }
}

/// Whether `to` has the family of the socket of `from` (any, if it has
/// no socket yet).
fn same_family(g: &World, from: usize, to: SocketAddr) -> bool {
    match g.udp(from).family() {
        Ok(Some(f)) => (f == libc::AF_INET) == to.is_ipv4(),
        _ => true,
    }
}

/// A destination for a datagram from `from`: a bound socket of the same
/// family with room for one more datagram.
fn pick_target(g: &mut World, from: usize) -> Option<usize> {
    let fits: Vec<bool> = (0..g.ents.len())
        .map(|t| g.ents[t].udp.addr.is_some_and(|a| same_family(g, from, a)))
        .collect();
    let t = g.pick(&[Kind::Udp], |e| {
        e.udp.addr.is_some() && e.udp.undelivered < UNDELIVERED_MAX
    })?;
    fits[t].then_some(t)
}

pub fn op_connect(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Udp], |_| true) else {
        return;
    };
    if g.ents[i].udp.peer.is_some() || g.ents[i].udp.ever_connected && g.rng.chance(50) {
        let result = g.udp(i).connect(None);
        g.note(format!("udp {i}.connect(None) -> {result:?}"));
        match (g.ents[i].udp.peer.is_some(), result) {
            (true, Ok(())) => {
                // Linux gives up the port of a socket bound to port 0 when
                // it is disconnected (as for libuv): the next send binds a
                // new one.
                let u = &mut g.ents[i].udp;
                u.peer = None;
                u.connect_epoch += 1;
                u.addr = None;
                learn_addr(g, i);
            }
            (false, Err(Error::Status(StatusCode::ENOTCONN))) => {}
            (c, r) => defect!("udp {i}: disconnect when connected={c} gave {r:?}"),
        }
        return;
    }
    let Some(t) = pick_target(g, i) else {
        return;
    };
    let to = g.ents[t].udp.addr.unwrap();
    let result = g.udp(i).connect(Some(to));
    g.note(format!("udp {i}.connect(udp {t} {to}) -> {result:?}"));
    if let Err(err) = result {
        defect!("udp {i}: connect to udp {t}: {err}");
    }
    learn_addr(g, i);
    let u = &mut g.ents[i].udp;
    u.peer = Some(t);
    u.peer_addr = Some(to);
    u.ever_connected = true;
    u.connect_epoch += 1;
    // A second connect is EISCONN.
    let again = g.udp(i).connect(Some(to));
    if again != Err(Error::Status(StatusCode::EISCONN)) {
        defect!("udp {i}: connecting a connected handle gave {again:?}, not EISCONN");
    }
}

/// A send to the connected peer whose sender connected or disconnected
/// since.
fn sender_reconnected(g: &World, d: &Dgram) -> bool {
    d.sender_epoch
        .is_some_and(|e| e != g.ents[d.from].udp.connect_epoch)
}

/// Checks one received datagram against the model.
fn on_datagram(g: &mut World, i: usize, data: &[u8], from: SocketAddr, truncated: bool) {
    let e = &g.ents[i];
    if e.closing {
        defect!("udp {i} received after it was closed");
    }
    if !e.udp.receiving {
        defect!("udp {i} received while not receiving");
    }
    let id = match payload::decode(data, truncated) {
        Ok(id) => id,
        Err(msg) => defect!("udp {i}: {msg}"),
    };
    let Some(d) = g.dgrams.get(id as usize) else {
        defect!("udp {i}: datagram {id} was never sent");
    };
    // Another socket's datagram only if that one closed and this one got
    // its port, or if it waited in the queue of a sender that connected
    // elsewhere.
    if d.to != i && !g.ents[d.to].closing && !sender_reconnected(g, d) {
        defect!(
            "udp {i} got datagram {id} sent to udp {} at {}",
            d.to,
            d.to_addr
        );
    }
    let d = &mut g.dgrams[id as usize];
    if d.state == SendState::Failed {
        defect!("udp {i}: datagram {id} arrived though its send failed");
    }
    d.delivered += 1;
    if d.delivered > 1 {
        defect!("udp {i}: datagram {id} delivered twice");
    }
    let (sender, to, from_port, from_epoch) = (d.from, d.to, d.from_port, d.from_epoch);
    let same_port = from_epoch == g.ents[sender].udp.connect_epoch;
    if same_port && from_port.is_some_and(|p| p != from.port()) {
        defect!("udp {i}: datagram {id} from {from}, sent by udp {sender} from port {from_port:?}");
    }
    let len = g.dgrams[id as usize].len;
    g.ents[to].udp.undelivered -= 1;
    g.ents[to].udp.undelivered_bytes -= len;
    g.stats.datagrams_checked += 1;
    g.note(format!(
        "  cb udp {i} got datagram {id} ({} bytes)",
        data.len()
    ));
}

fn on_error(g: &World, i: usize, err: Error) {
    if err == StatusCode::ECONNREFUSED && g.ents[i].udp.ever_connected {
        return;
    }
    defect!("udp {i}: receive error {err}");
}

pub fn op_recv_start(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Udp], |_| true) else {
        return;
    };
    let with_alloc = g.rng.chance(35);
    let result = start_receiving(w, g, i, with_alloc);
    g.note(format!(
        "udp {i}.receive_start(alloc: {with_alloc}) -> {result:?}"
    ));
    match (g.ents[i].udp.receiving, result) {
        (false, Ok(())) => {
            g.ents[i].udp.receiving = true;
            learn_addr(g, i);
        }
        (true, Err(Error::Status(StatusCode::EALREADY))) => {}
        (r, res) => defect!("udp {i}: receive_start when receiving={r} gave {res:?}"),
    }
}

pub fn start_receiving(w: &W, g: &mut World, i: usize, with_alloc: bool) -> ruv::Result<()> {
    let guard = g.guard();
    let w2 = w.clone();
    if !with_alloc {
        return g.udp(i).receive_start(move |_u, result| {
            let _ = &guard;
            let mut g = w2.borrow_mut();
            match result {
                Ok(d) => on_datagram(
                    &mut g,
                    i,
                    d.data,
                    d.addr,
                    d.flags.contains(UdpFlags::PARTIAL),
                ),
                Err(err) => on_error(&g, i, err),
            }
            ops::nested(&w2, &mut g, i);
        });
    }
    // Caller buffers, sometimes too small for the datagram (truncated,
    // flagged PARTIAL), never smaller than the header.
    let size = g.rng.pick(&[payload::HEADER, 100, 700, 65_536]);
    let alloc_guard = g.guard();
    g.udp(i).receive_start_with(
        move |_u, _suggested| {
            let _ = &alloc_guard;
            vec![0u8; size]
        },
        move |_u, result: ruv::Result<RecvMeta>, buf: Vec<u8>| {
            let _ = &guard;
            let mut g = w2.borrow_mut();
            match result {
                Ok(RecvMeta {
                    len: 0, addr: None, ..
                }) => return,
                Ok(meta) => {
                    let Some(addr) = meta.addr else {
                        defect!("udp {i}: {} bytes without a sender", meta.len);
                    };
                    let partial = meta.flags.contains(UdpFlags::PARTIAL);
                    if partial && meta.len != size {
                        defect!(
                            "udp {i}: PARTIAL with {} bytes in a {size}-byte buffer",
                            meta.len
                        );
                    }
                    on_datagram(&mut g, i, &buf[..meta.len], addr, partial);
                }
                Err(err) => on_error(&g, i, err),
            }
            ops::nested(&w2, &mut g, i);
        },
    )
}

pub fn op_recv_stop(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Udp], |_| true) else {
        return;
    };
    if let Err(err) = g.udp(i).receive_stop() {
        defect!("udp {i}: receive_stop: {err}");
    }
    g.ents[i].udp.receiving = false;
    g.note(format!("udp {i}.receive_stop()"));
}

/// Whether a socket may be sent one more datagram without any risk of its
/// receive buffer overflowing.
fn has_room(e: &Ent) -> bool {
    e.udp.undelivered < UNDELIVERED_MAX && e.udp.undelivered_bytes < UNDELIVERED_BYTES_MAX
}

/// Sender and destination for one datagram: the connected peer, or a
/// random bound socket. `None` when no destination has room.
fn route(g: &mut World) -> Option<(usize, usize, Option<SocketAddr>)> {
    let i = g.pick(&[Kind::Udp], |_| true)?;
    match g.ents[i].udp.peer {
        Some(p) => has_room(&g.ents[p]).then_some((i, p, None)),
        None => {
            let t = pick_target(g, i)?;
            Some((i, t, g.ents[t].udp.addr))
        }
    }
}

/// Registers a new datagram; returns its id.
fn new_dgram(g: &mut World, from: usize, to: usize, len: usize) -> u64 {
    let to_addr = match g.ents[from].udp.peer {
        Some(_) => g.ents[from].udp.peer_addr.unwrap(),
        None => g.ents[to].udp.addr.unwrap(),
    };
    let r = &g.ents[to];
    // The receiver still has that address and takes datagrams from us (the
    // sender's port is checked once known, in `learn_sender`).
    let admissible =
        r.udp.addr == Some(to_addr) && r.udp.peer.map_or(true, |p| p == from) && !r.closing;
    g.dgrams.push(Dgram {
        from,
        to,
        to_addr,
        state: SendState::Waiting,
        epoch: r.udp.connect_epoch,
        admissible,
        delivered: 0,
        from_port: None,
        len,
        sender_epoch: g.ents[from]
            .udp
            .peer
            .map(|_| g.ents[from].udp.connect_epoch),
        from_epoch: g.ents[from].udp.connect_epoch,
    });
    g.ents[to].udp.undelivered += 1;
    g.ents[to].udp.undelivered_bytes += len;
    g.stats.datagrams_sent += 1;
    (g.dgrams.len() - 1) as u64
}

/// Records the port datagrams from `from` leave from, once it is known.
fn learn_sender(g: &mut World, from: usize, ids: &[u64]) {
    learn_addr(g, from);
    let port = g.ents[from].udp.addr.map(|a| a.port());
    for &id in ids {
        let d = &mut g.dgrams[id as usize];
        d.from_port = port;
        // A connected receiver takes only datagrams from the port it
        // connected to, which the sender may since have given up.
        let r = &g.ents[d.to].udp;
        if r.peer.is_some() && (port.is_none() || r.peer_addr.map(|a| a.port()) != port) {
            d.admissible = false;
        }
    }
}

/// The datagram will never arrive.
fn failed(g: &mut World, id: u64) {
    let d = &mut g.dgrams[id as usize];
    if d.delivered != 0 {
        defect!("datagram {id} arrived but its send failed");
    }
    d.state = SendState::Failed;
    let (to, len) = (d.to, d.len);
    g.ents[to].udp.undelivered -= 1;
    g.ents[to].udp.undelivered_bytes -= len;
}

fn random_len(g: &mut World, from: usize) -> usize {
    if g.ents[from].udp.choked && g.rng.chance(50) {
        return 2_000 + g.rng.below(7_000) as usize;
    }
    match g.rng.below(8) {
        0 => payload::HEADER,
        _ => payload::HEADER + g.rng.below(MAX_LEN) as usize,
    }
}

/// Splits `data` into 1 to 3 buffers.
fn split(g: &mut World, data: &[u8]) -> Vec<Vec<u8>> {
    let a = g.rng.index(data.len() + 1);
    let b = a + g.rng.index(data.len() - a + 1);
    let parts = [&data[..a], &data[a..b], &data[b..]];
    let keep = g.rng.below(3) as usize;
    match keep {
        0 => vec![data.to_vec()],
        1 => vec![parts[0].to_vec(), [parts[1], parts[2]].concat()],
        _ => parts.iter().map(|p| p.to_vec()).collect(),
    }
}

/// A new datagram from `i` to `t` of a random length, in random pieces:
/// `(id, length, pieces)`.
fn random_datagram(g: &mut World, i: usize, t: usize) -> (u64, usize, Vec<Vec<u8>>) {
    let len = random_len(g, i);
    let id = new_dgram(g, i, t, len);
    let mut data = Vec::with_capacity(len);
    payload::encode(id, len, &mut data);
    (id, len, split(g, &data))
}

pub fn op_send(w: &W, g: &mut World) {
    let Some((i, t, addr)) = route(g) else {
        return;
    };
    let (id, len, bufs) = random_datagram(g, i, t);
    let w2 = w.clone();
    let guard = g.guard();
    let result = g.udp(i).send(&bufs, addr, move |req, status| {
        let _ = &guard;
        let mut g = w2.borrow_mut();
        on_sent(&mut g, i, id, req, status);
        ops::nested(&w2, &mut g, i);
    });
    g.note(format!(
        "udp {i}.send(datagram {id}, {len} bytes in {} bufs, to udp {t}) -> {:?}",
        bufs.len(),
        result.as_ref().map(|r| r.id())
    ));
    match result {
        Ok(req) => {
            if req.handle().id() != g.ents[i].id {
                defect!("send request of udp {i} names another handle");
            }
            if g.rng.chance(20) {
                g.requests.push(req);
            }
        }
        Err(err) => defect!("udp {i}: send failed: {err}"),
    }
    learn_sender(g, i, &[id]);
    g.ents[i].udp.outstanding.insert(id, len);
}

fn on_sent(g: &mut World, i: usize, id: u64, req: &ruv::SendRequest, status: ruv::Result<()>) {
    if req.handle().id() != g.ents[i].id {
        defect!("send callback of udp {i} got another handle's request");
    }
    let Some(_) = g.ents[i].udp.outstanding.remove(&id) else {
        defect!("udp {i}: second callback for datagram {id}");
    };
    g.note(format!("  cb udp {i} sent datagram {id}: {status:?}"));
    if g.ents[i].closing {
        g.ents[i].finishing_close = true;
    }
    match status {
        Ok(()) => {
            g.dgrams[id as usize].state = SendState::Sent;
            // A send that waited and left after its sender was disconnected
            // left from a new port, which a connected receiver refuses.
            let d = &g.dgrams[id as usize];
            if d.from_epoch != g.ents[i].udp.connect_epoch && !g.ents[i].closing {
                if matches!(g.ents[i].obj, Some(Obj::Udp(_))) {
                    learn_sender(g, i, &[id]);
                } else if g.ents[d.to].udp.peer.is_some() {
                    // Its handle value was dropped: the port is unknown.
                    g.dgrams[id as usize].admissible = false;
                }
            }
        }
        Err(err) if err == StatusCode::ECANCELED && g.ents[i].closing => failed(g, id),
        Err(err) if err == StatusCode::ECONNREFUSED && g.ents[i].udp.ever_connected => {
            failed(g, id)
        }
        Err(err)
            if err == StatusCode::EDESTADDRREQ && sender_reconnected(g, &g.dgrams[id as usize]) =>
        {
            failed(g, id)
        }
        Err(err) => defect!("udp {i}: datagram {id} send callback with {err}"),
    }
}

pub fn op_try_send(_w: &W, g: &mut World) {
    let Some((i, t, addr)) = route(g) else {
        return;
    };
    let (id, len, bufs) = random_datagram(g, i, t);
    let result = g.udp(i).try_send(&bufs, addr);
    g.note(format!(
        "udp {i}.try_send(datagram {id}, {len} bytes, to udp {t}) -> {result:?}"
    ));
    let busy = !g.ents[i].udp.outstanding.is_empty();
    match result {
        Ok(n) if n == len && !busy => {
            g.dgrams[id as usize].state = SendState::Sent;
        }
        Err(Error::Status(StatusCode::EAGAIN)) => failed(g, id),
        Err(err) if err == StatusCode::ECONNREFUSED && g.ents[i].udp.ever_connected && !busy => {
            failed(g, id)
        }
        r => defect!(
            "udp {i}: try_send of {len} bytes with {} sends in flight gave {r:?}",
            g.ents[i].udp.outstanding.len()
        ),
    }
    learn_sender(g, i, &[id]);
}

pub fn op_try_send_segments(_w: &W, g: &mut World) {
    let Some((i, t, addr)) = route(g) else {
        return;
    };
    let room = UNDELIVERED_MAX - g.ents[t].udp.undelivered;
    let count = 1 + g.rng.index(room.min(6));
    let seg = payload::HEADER + g.rng.below(300) as usize;
    let last = payload::HEADER + g.rng.index(seg - payload::HEADER + 1);
    let mut data = Vec::new();
    let mut ids = Vec::new();
    for k in 0..count {
        let len = if k + 1 == count { last } else { seg };
        let id = new_dgram(g, i, t, len);
        payload::encode(id, len, &mut data);
        ids.push(id);
    }
    let result = g.udp(i).try_send_segments(&data, seg, addr);
    g.note(format!("udp {i}.try_send_segments(datagrams {ids:?}, segment {seg}, last {last}, to udp {t}) -> {result:?}"));
    let busy = !g.ents[i].udp.outstanding.is_empty();
    let sent = match result {
        Ok(n) if !busy && (n % seg == 0 || n == data.len()) && n > 0 => n.div_ceil(seg),
        Err(Error::Status(StatusCode::EAGAIN)) => 0,
        Err(err) if err == StatusCode::ECONNREFUSED && g.ents[i].udp.ever_connected && !busy => 0,
        r => defect!(
            "udp {i}: try_send_segments of {} bytes gave {r:?}",
            data.len()
        ),
    };
    learn_sender(g, i, &ids);
    for (k, id) in ids.into_iter().enumerate() {
        if k < sent {
            g.dgrams[id as usize].state = SendState::Sent;
        } else {
            failed(g, id);
        }
    }
}

/// Sends the model knows must be refused, and whose callbacks must be
/// dropped unrun.
pub fn op_bad_send(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Udp], |_| true) else {
        return;
    };
    let connected = g.ents[i].udp.peer.is_some();
    let to: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let empty: [&[u8]; 0] = [];
    let (result, want) = match g.rng.below(2) {
        0 => (
            g.udp(i).send(&empty, None, fail_cb(w, g)),
            StatusCode::EINVAL,
        ),
        _ if connected => (
            g.udp(i).send(&[b"x"], Some(to), fail_cb(w, g)),
            StatusCode::EISCONN,
        ),
        _ => (
            g.udp(i).send(&[b"x"], None, fail_cb(w, g)),
            StatusCode::EDESTADDRREQ,
        ),
    };
    let result = result.map(|r| r.id());
    g.note(format!("udp {i}: refused send -> {result:?}"));
    if result != Err(Error::Status(want)) {
        defect!("udp {i}: a send that must fail with {want} gave {result:?}");
    }
}

pub fn fail_cb(w: &W, g: &World) -> impl FnOnce(&ruv::SendRequest, ruv::Result<()>) + 'static {
    let _w = w.clone();
    let guard = g.guard();
    move |_, status| {
        let _ = &guard;
        defect!("callback of a refused send ran with {status:?}");
    }
}

/// Receive offload on or off, at top level or inside any callback (turning
/// it on inside a receive callback, or off with coalesced data queued, once
/// glued datagrams together).
pub fn op_gro(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Udp], |_| true) else {
        return;
    };
    let on = g.rng.chance(60);
    let result = g.udp(i).set_gro(on);
    g.note(format!("udp {i}.set_gro({on}) -> {result:?}"));
    match (g.udp(i).fileno().is_ok(), result) {
        (true, Ok(v)) => {
            g.ents[i].udp.gro = v;
        }
        (false, Err(Error::Status(StatusCode::EBADF))) => {}
        (bound, r) => defect!("udp {i}: set_gro({on}) when bound={bound} gave {r:?}"),
    }
}

/// Gives a choked socket a normal send buffer: its queue drains.
pub fn op_unchoke(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Udp], |e| e.udp.choked) else {
        return;
    };
    unchoke(g, i);
}

pub fn unchoke(g: &mut World, i: usize) {
    if let Err(err) = g.udp(i).set_send_buffer_size(1 << 20) {
        defect!("udp {i}: set_send_buffer_size: {err}");
    }
    g.ents[i].udp.choked = false;
    g.note(format!("udp {i}: unchoke"));
}

pub fn op_recvmmsg(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Udp], |_| true) else {
        return;
    };
    let on = g.rng.chance(50);
    g.udp(i)
        .set_recvmmsg(on)
        .unwrap_or_else(|e| defect!("set_recvmmsg: {e}"));
    if g.udp(i).using_recvmmsg() != Ok(on) {
        defect!("udp {i}: using_recvmmsg does not say {on}");
    }
    g.note(format!("udp {i}.set_recvmmsg({on})"));
}

/// Whether datagram `id` must still arrive: sent, its receiver open,
/// receiving, and connected the same way as when it was sent.
pub fn must_arrive(g: &World, id: usize) -> bool {
    let d = &g.dgrams[id];
    let r = &g.ents[d.to];
    d.state == SendState::Sent
        && d.delivered == 0
        && d.admissible
        && !sender_reconnected(g, d)
        && !r.closing
        && r.udp.receiving
        && r.udp.connect_epoch == d.epoch
}
