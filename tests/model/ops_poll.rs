//! Poll handles on one end of a Unix datagram socket pair the model owns;
//! "poking" writes a byte into the other end.

use super::ops;
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use ruv::{Error, Poll, PollEvents, StatusCode};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;

fn poll_obj(g: &World, i: usize) -> &Poll {
    match &g.ents[i].obj {
        Some(Obj::Poll(p)) => p,
        _ => unreachable!(),
    }
}

pub fn op_create(_w: &W, g: &mut World) {
    let (a, b) = UnixDatagram::pair().expect("socketpair");
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let p = match Poll::new(&g.lp, a.as_raw_fd()) {
        Ok(p) => p,
        Err(err) => defect!("Poll::new on a socket failed: {err}"),
    };
    let mut ent = Ent::new(Kind::Poll, Obj::Poll(p));
    ent.pair = Some((a, b));
    let i = g.push(ent);
    g.note(format!("poll {i} = new"));
}

fn poll_cb(w: &W, g: &World, i: usize) -> impl FnMut(&Poll, ruv::Result<PollEvents>) + 'static {
    let w = w.clone();
    let guard = g.guard();
    move |_p, result| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        let e = &mut g.ents[i];
        if e.closing {
            defect!("poll {i} ran after it was closed");
        }
        if !e.started {
            defect!("poll {i} ran while stopped");
        }
        let events = match result {
            Ok(ev) => ev,
            Err(err) => defect!("poll {i}: error {err} on a healthy socket"),
        };
        if !e.events.contains(events) || events.is_empty() {
            defect!("poll {i}: events {events:?}, watching {:?}", e.events);
        }
        if events.contains(PollEvents::READABLE) {
            let (a, _) = e.pair.as_ref().unwrap();
            let mut buf = [0u8; 8];
            while a.recv(&mut buf).is_ok() {}
            e.pokes = 0;
        }
        g.note(format!("  cb poll {i} {events:?}"));
        ops::nested(&w, &mut g, i);
    }
}

pub fn op_start(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Poll], |_| true) else {
        return;
    };
    let events = if g.rng.chance(80) {
        PollEvents::READABLE
    } else {
        PollEvents::READABLE | PollEvents::WRITABLE
    };
    let cb = poll_cb(w, g, i);
    let result = poll_obj(g, i).start(events, cb);
    g.note(format!("poll {i}.start({events:?}) -> {result:?}"));
    if let Err(err) = result {
        defect!("poll {i}: start failed: {err}");
    }
    g.ents[i].started = true;
    g.ents[i].events = events;
}

pub fn op_stop(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Poll], |_| true) else {
        return;
    };
    if let Err(err) = poll_obj(g, i).stop() {
        defect!("poll {i}: stop failed: {err}");
    }
    g.ents[i].started = false;
    g.note(format!("poll {i}.stop()"));
}

pub fn op_poke(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Poll], |e| e.pokes < 8) else {
        return;
    };
    let e = &mut g.ents[i];
    let (_, b) = e.pair.as_ref().unwrap();
    if b.send(&[1]).is_ok() {
        e.pokes += 1;
    }
    g.note(format!("poll {i}: poke"));
}

/// A second poll handle for a descriptor another poll handle watches: EEXIST,
/// as libuv (a descriptor no started handle watches may have several; the
/// poll tests cover that).
pub fn op_duplicate(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Poll], |e| e.started) else {
        return;
    };
    let fd = g.ents[i].pair.as_ref().unwrap().0.as_raw_fd();
    let result = Poll::new(&g.lp, fd).map(|_| ());
    g.note(format!("Poll::new(fd of poll {i}) -> {result:?}"));
    if result != Err(Error::Status(StatusCode::EEXIST)) {
        defect!("a second poll handle for one descriptor gave {result:?}, not EEXIST");
    }
}

/// Whether poll `i` still owes a readable callback for a poke.
pub fn owes_callback(g: &World, i: usize) -> bool {
    let e = &g.ents[i];
    e.kind == Kind::Poll
        && !e.closing
        && e.started
        && e.events.contains(PollEvents::READABLE)
        && e.pokes > 0
}
