//! Stream handles: connected pairs of `Pipe`s (a Unix socket pair), with
//! writes of random sizes (copied or owned), `try_write`, reads started
//! and stopped, shutdowns and closes. Every byte a side writes must reach
//! the other side in order, exactly once, before its EOF; write callbacks
//! come once each, in order, before the shutdown callback and before the
//! close callback; the queue size is the bytes of the writes whose
//! callback has not run. When the peer closes, what it had not written yet
//! may be lost (a prefix still arrives, in order) and the end may be EOF or
//! ECONNRESET; writes to a closed peer may fail with EPIPE or ECONNRESET.

use super::ops;
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use ruv::{Error, Pipe, ReadResult, StatusCode};

fn pipe(g: &World, i: usize) -> &Pipe {
    match &g.ents[i].obj {
        Some(Obj::Pipe(p)) => p,
        _ => unreachable!("ent {i} is not a usable pipe"),
    }
}

/// Deterministic bytes for write number `id`.
fn payload(id: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|k| (id as usize * 131 + k * 7) as u8)
        .collect()
}

fn peer_gone(g: &World, i: usize) -> bool {
    let p = g.ents[i].st_peer;
    g.ents[p].closing
}

pub fn op_create(_w: &W, g: &mut World) {
    let (a, b) = match Pipe::pair(&g.lp) {
        Ok(pair) => pair,
        Err(err) => defect!("Pipe::pair failed: {err}"),
    };
    let i = g.ents.len();
    let mut ea = Ent::new(Kind::Pipe, Obj::Pipe(a));
    ea.st_peer = i + 1;
    let mut eb = Ent::new(Kind::Pipe, Obj::Pipe(b));
    eb.st_peer = i;
    g.push(ea);
    g.push(eb);
    g.note(format!("pipes {i} <-> {} = pair", i + 1));
}

fn write_cb(w: &W, g: &World, i: usize, id: u64) -> impl FnOnce(&Pipe, ruv::Result<()>) + 'static {
    let w = w.clone();
    let guard = g.guard();
    move |_p, status| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        let gone = peer_gone(&g, i);
        let e = &mut g.ents[i];
        match e.st_pending.pop_front() {
            Some((first, _)) if first == id => {}
            other => defect!("pipe {i}: write {id} called back, oldest pending {other:?}"),
        }
        let ok = match status {
            Ok(()) => true,
            Err(Error::Status(StatusCode::ECANCELED)) => e.closing,
            Err(Error::Status(StatusCode::EPIPE | StatusCode::ECONNRESET)) => gone || e.st_broken,
            Err(_) => false,
        };
        if !ok {
            defect!(
                "pipe {i}: write {id} completed with {status:?} (closing {}, peer gone {gone})",
                e.closing
            );
        }
        if status.is_err() {
            e.st_broken = true;
        }
        g.note(format!("  cb write {i} #{id} {status:?}"));
        ops::nested(&w, &mut g, i);
    }
}

pub fn op_write(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Pipe], |e| !e.st_shut) else {
        return;
    };
    g.stream_writes += 1;
    let id = g.stream_writes;
    let len = if g.rng.chance(10) {
        0
    } else {
        1 + g.rng.below(4096) as usize
    };
    let data = payload(id, len);
    let how = g.rng.below(3);
    let result = match how {
        0 => pipe(g, i)
            .write(&[&data], write_cb(w, g, i, id))
            .map(|()| len),
        1 => pipe(g, i)
            .write_owned(vec![data.clone()], write_cb(w, g, i, id))
            .map(|()| len),
        _ => pipe(g, i).try_write(&[&data]),
    };
    g.note(format!(
        "pipe {i}: write #{id} of {len} (how {how}) -> {result:?}"
    ));
    let gone = peer_gone(g, i);
    match result {
        Ok(n) => {
            if how < 2 {
                g.ents[i].st_pending.push_back((id, len));
            } else if g.ents[i].st_pending.iter().any(|&(_, n)| n > 0) {
                // As libuv: EAGAIN while the write queue holds bytes (empty
                // writes waiting for their callback count nothing).
                defect!("pipe {i}: try_write wrote with bytes in the write queue");
            }
            let sent = if how < 2 { len } else { n };
            let p = g.ents[i].st_peer;
            if !gone {
                g.ents[p].st_inbound.extend(&data[..sent]);
            }
        }
        Err(Error::Status(StatusCode::EAGAIN)) if how == 2 => {}
        Err(Error::Status(StatusCode::EPIPE | StatusCode::ECONNRESET))
            if gone || g.ents[i].st_broken => {}
        Err(err) => defect!("pipe {i}: write failed: {err}"),
    }
    let want: usize = g.ents[i].st_pending.iter().map(|(_, n)| n).sum();
    match pipe(g, i).write_queue_size() {
        Ok(size) if size == want => {}
        other => defect!("pipe {i}: write_queue_size {other:?}, model {want}"),
    }
}

fn read_cb(w: &W, g: &World, i: usize) -> impl FnMut(&Pipe, ReadResult<'_>) + 'static {
    let w = w.clone();
    let guard = g.guard();
    move |_p, result| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        let p = g.ents[i].st_peer;
        let lenient = g.ents[p].closing;
        let peer_shut = g.ents[p].st_shut;
        let e = &mut g.ents[i];
        if e.closing || !e.st_reading {
            defect!("pipe {i}: read callback while closing or not reading");
        }
        match result {
            ReadResult::Data(data) => {
                if data.len() > e.st_inbound.len()
                    || !data.iter().zip(e.st_inbound.iter()).all(|(a, b)| a == b)
                {
                    defect!(
                        "pipe {i}: read {} bytes that are not the next ones expected",
                        data.len()
                    );
                }
                e.st_inbound.drain(..data.len());
            }
            ReadResult::Eof => {
                if !(lenient || (peer_shut && e.st_inbound.is_empty())) {
                    defect!(
                        "pipe {i}: EOF with {} bytes still due (peer shut {peer_shut})",
                        e.st_inbound.len()
                    );
                }
                e.st_reading = false;
                e.st_inbound.clear();
            }
            ReadResult::Error(err) => {
                if !(lenient && err == Error::Status(StatusCode::ECONNRESET)) {
                    defect!("pipe {i}: read error {err}");
                }
                e.st_reading = false;
                e.st_broken = true;
                e.st_inbound.clear();
            }
        }
        g.note(format!("  cb read {i}"));
        ops::nested(&w, &mut g, i);
    }
}

pub fn start_reading(w: &W, g: &mut World, i: usize) {
    let result = pipe(g, i).read_start(read_cb(w, g, i));
    g.note(format!("pipe {i}: read_start -> {result:?}"));
    match result {
        Ok(()) => g.ents[i].st_reading = true,
        // After a read error the stream is not readable any more.
        Err(Error::Status(StatusCode::ENOTCONN)) if g.ents[i].st_broken => {}
        Err(err) => defect!("pipe {i}: read_start failed: {err}"),
    }
}

pub fn op_read(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Pipe], |_| true) else {
        return;
    };
    if g.ents[i].st_reading {
        pipe(g, i).read_stop();
        g.note(format!("pipe {i}: read_stop"));
        g.ents[i].st_reading = false;
    } else {
        start_reading(w, g, i);
    }
}

pub fn op_shutdown(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Pipe], |e| !e.st_shut) else {
        return;
    };
    let w2 = w.clone();
    let guard = g.guard();
    let result = pipe(g, i).shutdown(move |_p, status| {
        let _ = &guard;
        let mut g = w2.borrow_mut();
        let gone = peer_gone(&g, i);
        let e = &mut g.ents[i];
        if !e.st_pending.is_empty() {
            defect!(
                "pipe {i}: shutdown callback before {} write callbacks",
                e.st_pending.len()
            );
        }
        let ok = match status {
            Ok(()) => true,
            Err(Error::Status(StatusCode::ECANCELED)) => e.closing,
            Err(_) => gone || e.st_broken,
        };
        if !ok {
            defect!("pipe {i}: shutdown completed with {status:?}");
        }
        g.note(format!("  cb shutdown {i} {status:?}"));
        ops::nested(&w2, &mut g, i);
    });
    g.note(format!("pipe {i}: shutdown -> {result:?}"));
    match result {
        Ok(()) => g.ents[i].st_shut = true,
        Err(Error::Status(StatusCode::ENOTCONN)) if g.ents[i].st_broken => {}
        Err(err) => defect!("pipe {i}: shutdown failed: {err}"),
    }
    // A write after the shutdown is EPIPE at once.
    if g.ents[i].st_shut {
        let r = pipe(g, i).write(&[b"x"], |_, _| defect!("a refused write was called back"));
        if r != Err(Error::Status(StatusCode::EPIPE)) {
            defect!("pipe {i}: write after shutdown gave {r:?}");
        }
    }
}

/// What pipe `i` is still owed: write callbacks, bytes its open peer
/// wrote (when it reads).
pub fn owes(g: &World, i: usize) -> bool {
    let e = &g.ents[i];
    if e.kind != Kind::Pipe || e.closing {
        return false;
    }
    !e.st_pending.is_empty() || (e.st_reading && !e.st_inbound.is_empty())
}

/// At the end: every open pipe reads, so that every write can complete.
pub fn read_everything(w: &W, g: &mut World) {
    for i in 0..g.ents.len() {
        let e = &g.ents[i];
        if e.kind == Kind::Pipe && e.usable() && !e.st_reading && !e.st_broken {
            start_reading(w, g, i);
        }
    }
}
