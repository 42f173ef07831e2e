//! Poll handles on one end of a Unix datagram socket pair the model owns;
//! "poking" writes a byte into the other end.

use super::ops;
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use ruv::{Error, Poll, PollEvents, StatusCode};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::rc::Rc;

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
    ent.pair = Some(Rc::new((a, b)));
    let i = g.push(ent);
    g.note(format!("poll {i} = new"));
}

fn poll_cb(w: &W, g: &World, i: usize) -> impl FnMut(&Poll, ruv::Result<PollEvents>) + 'static {
    let w = w.clone();
    let guard = g.guard();
    move |_p, result| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        let e = &g.ents[i];
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
            let (a, _) = &**e.pair.as_ref().unwrap();
            let mut buf = [0u8; 8];
            while a.recv(&mut buf).is_ok() {}
            set_pokes(&mut g, i, 0);
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
    let other = watcher_of(g, i).filter(|&j| j != i);
    match (other, result) {
        (None, Ok(())) => {}
        (Some(_), Err(Error::Status(StatusCode::EEXIST))) => return,
        (other, r) => defect!("poll {i}: start gave {r:?}; poll {other:?} watches its descriptor"),
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
    let e = &g.ents[i];
    let (_, b) = &**e.pair.as_ref().unwrap();
    if b.send(&[1]).is_ok() {
        let pokes = e.pokes + 1;
        set_pokes(g, i, pokes);
    }
    g.note(format!("poll {i}: poke"));
}

/// Ents sharing poll `i`'s descriptor, `i` among them.
fn sharing(g: &World, i: usize) -> impl Iterator<Item = usize> + '_ {
    let pair = g.ents[i].pair.as_ref().unwrap();
    (0..g.ents.len()).filter(move |&j| g.ents[j].pair.as_ref().is_some_and(|p| Rc::ptr_eq(p, pair)))
}

/// The poll handle watching `i`'s descriptor now, if any (a dropped handle
/// still watches until the end closes it).
fn watcher_of(g: &World, i: usize) -> Option<usize> {
    sharing(g, i).find(|&j| {
        let e = &g.ents[j];
        e.started && !e.closing && e.close_cbs == 0
    })
}

fn set_pokes(g: &mut World, i: usize, pokes: u32) {
    for j in sharing(g, i).collect::<Vec<_>>() {
        g.ents[j].pokes = pokes;
    }
}

/// Another poll handle for poll `i`'s descriptor: EEXIST while a handle
/// watches it (as libuv); otherwise a handle that may start once no other
/// watches (start then EEXIST).
pub fn op_duplicate(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Poll], |_| true) else {
        return;
    };
    let pair = Rc::clone(g.ents[i].pair.as_ref().unwrap());
    let result = Poll::new(&g.lp, pair.0.as_raw_fd());
    let watcher = watcher_of(g, i);
    g.note(format!(
        "Poll::new(fd of poll {i}) -> {:?}; watched by {watcher:?}",
        result.as_ref().map(|_| ())
    ));
    match (watcher, result) {
        (Some(_), Err(Error::Status(StatusCode::EEXIST))) => {}
        (None, Ok(p)) => {
            let mut ent = Ent::new(Kind::Poll, Obj::Poll(p));
            ent.pokes = g.ents[i].pokes;
            ent.pair = Some(pair);
            let j = g.push(ent);
            g.note(format!("poll {j} = new, sharing poll {i}'s descriptor"));
        }
        (watcher, r) => defect!(
            "a second poll handle for poll {i}'s descriptor gave {:?}; watched by {watcher:?}",
            r.map(|_| ())
        ),
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
