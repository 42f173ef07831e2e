//! Stream handles: connected pairs of `Pipe`s (a Unix socket pair) and of
//! `Tcp` handles (connected through a listener, `ops_tcp`), driven alike
//! through [`ModelStream`], with writes of random sizes (copied or owned),
//! `try_write`, reads started and stopped, shutdowns and closes. Every byte a side writes must reach
//! the other side in order, exactly once, before its EOF; write callbacks
//! come once each, in order, before the shutdown callback and before the
//! close callback; the queue size is the bytes of the writes whose
//! callback has not run. When the peer closes, what it had not written yet
//! may be lost (a prefix still arrives, in order) and the end may be EOF or
//! ECONNRESET; writes to a closed peer may fail with EPIPE or ECONNRESET.

use super::ops;
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use ruv::{Error, Pipe, ReadResult, StatusCode, Tcp};

/// The kinds of connected stream the model drives.
pub const STREAMS: &[Kind] = &[Kind::Pipe, Kind::Tcp];

/// A write, shutdown or connect callback, without the handle.
pub type StatusCb = Box<dyn FnOnce(ruv::Result<()>)>;
/// A read callback, without the handle.
pub type ReadCb = Box<dyn FnMut(ReadResult<'_>)>;

/// The stream operations the model drives, the same for every stream
/// handle type (their methods share names and meaning).
pub trait ModelStream {
    fn write(&self, data: &[u8], cb: StatusCb) -> ruv::Result<()>;
    fn write_owned(&self, data: Vec<u8>, cb: StatusCb) -> ruv::Result<()>;
    fn try_write(&self, data: &[u8]) -> ruv::Result<usize>;
    fn read_start(&self, cb: ReadCb) -> ruv::Result<()>;
    fn read_stop(&self);
    fn shutdown(&self, cb: StatusCb) -> ruv::Result<()>;
    fn write_queue_size(&self) -> ruv::Result<usize>;
    fn is_reading(&self) -> bool;
}

macro_rules! model_stream {
    ($ty:ty) => {
        impl ModelStream for $ty {
            fn write(&self, data: &[u8], cb: StatusCb) -> ruv::Result<()> {
                <$ty>::write(self, &[data], move |_, status| cb(status))
            }
            fn write_owned(&self, data: Vec<u8>, cb: StatusCb) -> ruv::Result<()> {
                <$ty>::write_owned(self, vec![data], move |_, status| cb(status))
            }
            fn try_write(&self, data: &[u8]) -> ruv::Result<usize> {
                <$ty>::try_write(self, &[data])
            }
            fn read_start(&self, mut cb: ReadCb) -> ruv::Result<()> {
                <$ty>::read_start(self, move |_, read| cb(read))
            }
            fn read_stop(&self) {
                <$ty>::read_stop(self)
            }
            fn shutdown(&self, cb: StatusCb) -> ruv::Result<()> {
                <$ty>::shutdown(self, move |_, status| cb(status))
            }
            fn write_queue_size(&self) -> ruv::Result<usize> {
                <$ty>::write_queue_size(self)
            }
            fn is_reading(&self) -> bool {
                <$ty>::is_reading(self)
            }
        }
    };
}

model_stream!(Pipe);
model_stream!(Tcp);

/// The stream operations of a program's handle value, if it is a stream.
pub fn stream_of(obj: &Obj) -> Option<&dyn ModelStream> {
    match obj {
        Obj::Pipe(p) => Some(p),
        Obj::Tcp(t) => Some(t),
        _ => None,
    }
}

fn stream(g: &World, i: usize) -> &dyn ModelStream {
    match g.ents[i].obj.as_ref().and_then(stream_of) {
        Some(s) if STREAMS.contains(&g.ents[i].kind) => s,
        _ => unreachable!("ent {i} is not a usable stream"),
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

fn write_cb(w: &W, g: &World, i: usize, id: u64) -> StatusCb {
    let w = w.clone();
    let guard = g.guard();
    Box::new(move |status| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        let gone = peer_gone(&g, i);
        let e = &mut g.ents[i];
        // Called back by its close: the handle has left the loop (walk).
        e.finishing_close |= e.closing;
        if e.st_connecting {
            defect!("stream {i}: write {id} called back before the connect");
        }
        match e.st_pending.pop_front() {
            Some((first, _)) if first == id => {}
            other => defect!("stream {i}: write {id} called back, oldest pending {other:?}"),
        }
        let ok = match status {
            Ok(()) => true,
            // Closed, or behind a connect that failed.
            Err(Error::Status(StatusCode::ECANCELED)) => e.closing || e.st_broken,
            Err(Error::Status(StatusCode::EPIPE | StatusCode::ECONNRESET)) => gone || e.st_broken,
            Err(_) => false,
        };
        if !ok {
            defect!(
                "stream {i}: write {id} completed with {status:?} (closing {}, peer gone {gone})",
                e.closing
            );
        }
        if status.is_err() {
            e.st_broken = true;
        }
        g.note(format!("  cb write {i} #{id} {status:?}"));
        ops::nested(&w, &mut g, i);
    })
}

pub fn op_write(w: &W, g: &mut World) {
    let Some(i) = g.pick(STREAMS, |e| !e.st_shut) else {
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
        0 => stream(g, i)
            .write(&data, write_cb(w, g, i, id))
            .map(|()| len),
        1 => stream(g, i)
            .write_owned(data.clone(), write_cb(w, g, i, id))
            .map(|()| len),
        _ => stream(g, i).try_write(&data),
    };
    g.note(format!(
        "stream {i}: write #{id} of {len} (how {how}) -> {result:?}"
    ));
    let gone = peer_gone(g, i);
    match result {
        Ok(n) => {
            if how < 2 {
                g.ents[i].st_pending.push_back((id, len));
            } else if g.ents[i].st_pending.iter().any(|&(_, n)| n > 0) {
                // As libuv: EAGAIN while the write queue holds bytes (empty
                // writes waiting for their callback count nothing).
                defect!("stream {i}: try_write wrote with bytes in the write queue");
            }
            let sent = if how < 2 { len } else { n };
            let p = g.ents[i].st_peer;
            if !gone {
                g.ents[p].st_inbound.extend(&data[..sent]);
            }
        }
        Err(Error::Status(StatusCode::EAGAIN)) if how == 2 => {}
        Err(Error::Status(StatusCode::EPIPE | StatusCode::ECONNRESET))
            if gone || g.ents[i].st_broken =>
        {
            // The failure may have consumed the socket's pending error
            // (a reset): a later read may then see only the end.
            g.ents[i].st_broken = true;
        }
        Err(err) => defect!("stream {i}: write failed: {err}"),
    }
    let want: usize = g.ents[i].st_pending.iter().map(|(_, n)| n).sum();
    match stream(g, i).write_queue_size() {
        Ok(size) if size == want => {}
        other => defect!("stream {i}: write_queue_size {other:?}, model {want}"),
    }
}

fn read_cb(w: &W, g: &World, i: usize) -> ReadCb {
    let w = w.clone();
    let guard = g.guard();
    Box::new(move |result| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        let p = g.ents[i].st_peer;
        let lenient = g.ents[p].closing;
        let peer_shut = g.ents[p].st_shut;
        // A peer that reset the connection before sending its end: the
        // data that arrived comes first, then ECONNRESET, never an end
        // that would pass the lost bytes off as a clean close — unless a
        // write of ours failed (and took the reset's error with it).
        let reset = g.ents[p].st_reset && !g.ents[p].st_fin;
        let e = &mut g.ents[i];
        let error_taken = e.st_broken || !e.st_pending.is_empty();
        if e.closing || !e.st_reading {
            defect!("stream {i}: read callback while closing or not reading");
        }
        match result {
            ReadResult::Data(data) => {
                if data.len() > e.st_inbound.len()
                    || !data.iter().zip(e.st_inbound.iter()).all(|(a, b)| a == b)
                {
                    defect!(
                        "stream {i}: read {} bytes that are not the next ones expected",
                        data.len()
                    );
                }
                e.st_inbound.drain(..data.len());
                g.stats.stream_bytes_checked += data.len() as u64;
            }
            ReadResult::Eof => {
                if reset && !error_taken {
                    defect!("stream {i}: EOF after its peer reset the connection");
                }
                if !(lenient || (peer_shut && e.st_inbound.is_empty())) {
                    defect!(
                        "stream {i}: EOF with {} bytes still due (peer shut {peer_shut})",
                        e.st_inbound.len()
                    );
                }
                e.st_reading = false;
                e.st_inbound.clear();
            }
            ReadResult::Error(err) => {
                if !(lenient && err == Error::Status(StatusCode::ECONNRESET)) {
                    defect!("stream {i}: read error {err}");
                }
                // Still reading during the callback (a `read_start` in it
                // is EALREADY, as libuv's); stopped after it.
                e.st_broken = true;
                e.st_inbound.clear();
            }
        }
        let failed = matches!(result, ReadResult::Error(_));
        g.note(format!("  cb read {i}"));
        ops::nested(&w, &mut g, i);
        if failed {
            g.ents[i].st_reading = false;
        }
    })
}

pub fn start_reading(w: &W, g: &mut World, i: usize) {
    let result = stream(g, i).read_start(read_cb(w, g, i));
    g.note(format!("stream {i}: read_start -> {result:?}"));
    match result {
        Ok(()) => g.ents[i].st_reading = true,
        // After a read error the stream is not readable any more.
        Err(Error::Status(StatusCode::ENOTCONN)) if g.ents[i].st_broken => {}
        Err(err) => defect!("stream {i}: read_start failed: {err}"),
    }
}

pub fn op_read(w: &W, g: &mut World) {
    let Some(i) = g.pick(STREAMS, |_| true) else {
        return;
    };
    if g.ents[i].st_reading {
        stream(g, i).read_stop();
        g.note(format!("stream {i}: read_stop"));
        g.ents[i].st_reading = false;
    } else {
        start_reading(w, g, i);
    }
}

pub fn op_shutdown(w: &W, g: &mut World) {
    let Some(i) = g.pick(STREAMS, |e| !e.st_shut) else {
        return;
    };
    let w2 = w.clone();
    let guard = g.guard();
    let result = stream(g, i).shutdown(Box::new(move |status| {
        let _ = &guard;
        let mut g = w2.borrow_mut();
        let gone = peer_gone(&g, i);
        let e = &mut g.ents[i];
        // Called back by its close: the handle has left the loop (walk).
        e.finishing_close |= e.closing;
        if !e.st_pending.is_empty() {
            defect!(
                "stream {i}: shutdown callback before {} write callbacks",
                e.st_pending.len()
            );
        }
        let ok = match status {
            Ok(()) => true,
            Err(Error::Status(StatusCode::ECANCELED)) => e.closing,
            Err(_) => gone || e.st_broken,
        };
        if !ok {
            defect!("stream {i}: shutdown completed with {status:?}");
        }
        e.st_shut_done = true;
        e.st_fin = status.is_ok();
        g.note(format!("  cb shutdown {i} {status:?}"));
        ops::nested(&w2, &mut g, i);
    }));
    g.note(format!("stream {i}: shutdown -> {result:?}"));
    match result {
        Ok(()) => g.ents[i].st_shut = true,
        Err(Error::Status(StatusCode::ENOTCONN)) if g.ents[i].st_broken => {}
        Err(err) => defect!("stream {i}: shutdown failed: {err}"),
    }
    // A write after the shutdown is EPIPE at once.
    if g.ents[i].st_shut {
        let r = stream(g, i).write(
            b"x",
            Box::new(|_| defect!("a refused write was called back")),
        );
        if r != Err(Error::Status(StatusCode::EPIPE)) {
            defect!("stream {i}: write after shutdown gave {r:?}");
        }
    }
}

/// What stream `i` is still owed: its connect callback, write callbacks,
/// bytes its open peer wrote (when it reads).
pub fn owes(g: &World, i: usize) -> bool {
    let e = &g.ents[i];
    if !STREAMS.contains(&e.kind) || e.closing || e.obj.is_none() {
        return false;
    }
    e.st_connecting || !e.st_pending.is_empty() || (e.st_reading && !e.st_inbound.is_empty())
}

/// At the end: every open pipe reads, so that every write can complete.
pub fn read_everything(w: &W, g: &mut World) {
    for i in 0..g.ents.len() {
        let e = &g.ents[i];
        if STREAMS.contains(&e.kind) && e.usable() && !e.st_reading && !e.st_broken {
            start_reading(w, g, i);
        }
    }
}
