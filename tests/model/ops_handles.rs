//! Operations common to every handle kind and to the loop: close (directly
//! or through `walk`), dropping the program's handle value, ref/unref,
//! operations on closed handles, stop, and re-entering the loop.

use super::ops;
use super::world::{Kind, Obj, World, W};
use crate::defect;
use ruv::{Error, Handle, PollEvents, RunMode, StatusCode, UdpFlags};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// What closing does to the model at once (the close callback comes later).
pub fn mark_closing(g: &mut World, i: usize) {
    let e = &mut g.ents[i];
    e.closing = true;
    e.armed = None;
    e.started = false;
    e.udp.receiving = false;
    if e.kind == Kind::Listener {
        super::ops_tcp::listener_closed(g, i);
    }
}

/// A close callback. `owed`: the close is the handle's first, so its
/// callback must run exactly once; a later close's callback never runs.
pub fn close_cb(w: &W, g: &World, i: usize, owed: bool) -> impl FnOnce() + 'static {
    let w = w.clone();
    let guard = g.guard();
    move || {
        let _ = &guard;
        let mut g = w.borrow_mut();
        if !owed {
            defect!("handle {i}: the callback of a second close ran");
        }
        g.stats.closes += 1;
        let e = &mut g.ents[i];
        e.close_cbs += 1;
        if let Some(obj) = &e.obj {
            if !obj.handle().is_closed() {
                defect!("handle {i}: close callback ran before it was closed");
            }
        }
        if let Some((due, _)) = e.armed {
            defect!("handle {i}: timer still armed at {due} when closed");
        }
        if !e.st_pending.is_empty() {
            defect!(
                "handle {i}: close callback before {} write callbacks",
                e.st_pending.len()
            );
        }
        let leftover = e.udp.outstanding.len();
        if leftover != 0 {
            defect!("handle {i}: close callback ran with {leftover} send callbacks still owed");
        }
        g.note(format!("  cb close {i}"));
        ops::nested(&w, &mut g, i);
    }
}

thread_local! {
    /// The program the close hook reports to: a `CloseHook` is a plain
    /// `fn` and captures nothing.
    static HOOKED: RefCell<Weak<RefCell<World>>> = RefCell::default();
}

/// Makes the loop's close hook run the model's close callback.
pub fn install_close_hook(w: &W) {
    HOOKED.with(|h| *h.borrow_mut() = Rc::downgrade(w));
    w.borrow().lp.set_close_hook(Some(close_hook));
}

/// The loop's close hook: only for a handle whose first close was
/// `close_to_hook`, once.
fn close_hook(h: &Handle) {
    let Some(w) = HOOKED.with(|c| c.borrow().upgrade()) else {
        defect!("close hook ran with no program");
    };
    let cb = {
        let g = w.borrow();
        let Some(i) = g.ent_by_id(h.id()).filter(|&i| g.ents[i].to_hook) else {
            defect!("close hook ran for {:#x}, not closed to the hook", h.id());
        };
        close_cb(&w, &g, i, true)
    };
    cb();
}

/// Closes handle `i` by one of the three ways (callback, callback given the
/// handle, the loop's hook): each must call back exactly once, for the first
/// close only.
pub fn close(w: &W, g: &mut World, i: usize) {
    let owed = !g.ents[i].closing;
    let cb = close_cb(w, g, i, owed);
    let id = g.ents[i].id;
    let how = g.rng.below(3);
    let Some(obj) = &g.ents[i].obj else {
        unreachable!("close of a dropped handle goes through walk");
    };
    match how {
        0 => obj.handle().close(cb),
        1 => obj.handle().close_with(move |h| {
            if h.id() != id || !h.is_closed() {
                defect!(
                    "close_with gave {:#x} (closed: {}), not {id:#x}",
                    h.id(),
                    h.is_closed()
                );
            }
            cb();
        }),
        _ => {
            obj.handle().close_to_hook();
            g.ents[i].to_hook |= owed;
        }
    }
    g.note(format!(
        "close {i} ({:?}, first: {owed}, how: {how})",
        g.ents[i].kind
    ));
    mark_closing(g, i);
}

pub fn op_close(w: &W, g: &mut World) {
    let candidates: Vec<usize> = (0..g.ents.len())
        .filter(|&i| g.ents[i].obj.is_some() && !g.ents[i].internal && g.ents[i].close_cbs == 0)
        .collect();
    if candidates.is_empty() {
        return;
    }
    let i = match g.focus {
        Some(f) if candidates.contains(&f) => f,
        _ => candidates[g.rng.index(candidates.len())],
    };
    close(w, g, i);
}

/// Walks the loop, checking it holds exactly the handles the model says
/// are not closed yet; closes each with probability `percent`.
pub fn walk_close(w: &W, g: &mut World, percent: u64) {
    let lp = g.lp.clone();
    let mut seen = Vec::new();
    lp.walk(|h: &Handle| {
        let Some(i) = g.ent_by_id(h.id()) else {
            defect!("walk visited handle {:#x}, unknown to the model", h.id());
        };
        seen.push(i);
        let internal_spared = g.ents[i].internal && percent < 100;
        if internal_spared || !g.rng.chance(percent) {
            return;
        }
        let owed = !g.ents[i].closing;
        h.close(close_cb(w, g, i, owed));
        g.note(format!(
            "walk: close {i} ({:?}, first: {owed})",
            g.ents[i].kind
        ));
        mark_closing(g, i);
    });
    seen.sort_unstable();
    // ruv takes a closing UDP handle out of the loop before it runs the
    // send callbacks its close owes (libuv only before the close
    // callback): from then on walk may or may not visit it.
    let open = |i: &usize| g.ents[*i].close_cbs == 0 && g.ents[*i].has_handle();
    let must: Vec<usize> = (0..g.ents.len())
        .filter(|i| open(i) && !g.ents[*i].finishing_close)
        .collect();
    let may: Vec<usize> = (0..g.ents.len()).filter(open).collect();
    if !must.iter().all(|i| seen.contains(i)) || !seen.iter().all(|i| may.contains(i)) {
        defect!(
            "walk visited {seen:?}; handles not closed yet: {must:?} (and maybe {may:?}); handle_count {}",
            g.lp.handle_count()
        );
    }
}

pub fn op_walk_close(w: &W, g: &mut World) {
    g.note("walk, closing some".into());
    walk_close(w, g, 20);
}

pub fn op_walk(w: &W, g: &mut World) {
    walk_close(w, g, 0);
    let count = g.lp.handle_count();
    let max = g
        .ents
        .iter()
        .filter(|e| e.close_cbs == 0 && e.has_handle())
        .count();
    let min = g
        .ents
        .iter()
        .filter(|e| e.close_cbs == 0 && e.has_handle() && !e.finishing_close)
        .count();
    if count < min || count > max {
        defect!("handle_count {count}, model {min}..={max}");
    }
}

/// Drops the program's value of a handle: the loop keeps the handle and its
/// callbacks; the final walk closes it.
pub fn op_drop(_w: &W, g: &mut World) {
    // A choked socket stays reachable: the end unchokes it.
    let candidates: Vec<usize> = (0..g.ents.len())
        // A stream stays reachable too: the end makes it read what is due
        // (and a listener accept what waits).
        .filter(|&i| {
            let e = &g.ents[i];
            e.obj.is_some()
                && !e.internal
                && !e.udp.choked
                && !matches!(e.kind, Kind::Pipe | Kind::Tcp | Kind::Listener)
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    let i = candidates[g.rng.index(candidates.len())];
    g.ents[i].obj = None;
    g.note(format!("drop handle value {i}"));
    if g.rng.chance(50) {
        g.requests.clear();
    }
}

pub fn op_ref(_w: &W, g: &mut World) {
    let Some(i) = g.pick(
        &[
            Kind::Timer,
            Kind::Idle,
            Kind::Prepare,
            Kind::Check,
            Kind::Async,
            Kind::Poll,
            Kind::Udp,
            Kind::Signal,
            Kind::Process,
            Kind::Pipe,
            Kind::Tcp,
            Kind::Listener,
        ],
        |_| true,
    ) else {
        return;
    };
    let h = g.ents[i].obj.as_ref().unwrap().handle().clone();
    let on = g.rng.chance(50);
    if on {
        h.ref_();
    } else {
        h.unref();
    }
    if h.has_ref() != on {
        defect!("handle {i}: has_ref is not {on} after ref/unref");
    }
    g.note(format!("handle {i}: ref {on}"));
}

/// Every operation on a closed handle is the closed-handle error; stops
/// succeed and do nothing.
pub fn op_closed(w: &W, g: &mut World) {
    let Some(i) = (0..g.ents.len()).find(|&i| {
        let e = &g.ents[i];
        e.closing && e.obj.is_some() && !e.internal && g.rng.chance(30)
    }) else {
        return;
    };
    let closed = Err(Error::ClosedHandle);
    let obj = g.ents[i].obj.as_ref().unwrap();
    if !obj.handle().is_closing() {
        defect!("handle {i}: is_closing false after close");
    }
    let guard = g.guard();
    let failures: Vec<(&str, ruv::Result<()>)> = match obj {
        Obj::Timer(t) => vec![
            (
                "start",
                t.start(1, 0, move |_| {
                    let _ = &guard;
                }),
            ),
            ("again", t.again()),
            ("set_repeat", t.set_repeat(1)),
            ("due_in", t.due_in().map(drop)),
        ],
        Obj::Idle(h) => vec![(
            "start",
            h.start(move |_| {
                let _ = &guard;
            }),
        )],
        Obj::Prepare(h) => vec![(
            "start",
            h.start(move |_| {
                let _ = &guard;
            }),
        )],
        Obj::Check(h) => vec![(
            "start",
            h.start(move |_| {
                let _ = &guard;
            }),
        )],
        Obj::Async(a) => vec![("send", a.send()), ("sender", a.sender().map(drop))],
        Obj::Process(p) => vec![("kill", p.kill(0)), ("pid", p.pid().map(drop))],
        Obj::Pipe(_) | Obj::Tcp(_) => {
            let s = super::ops_stream::stream_of(obj).expect("a stream");
            vec![
                ("write", s.write(b"x", Box::new(|_| {}))),
                (
                    "read_start",
                    s.read_start(Box::new(move |_| {
                        let _ = &guard;
                    })),
                ),
                ("shutdown", s.shutdown(Box::new(|_| {}))),
            ]
        }
        Obj::Signal(s) => vec![(
            "start",
            s.start(libc::SIGUSR1, move |_, _| {
                let _ = &guard;
            }),
        )],
        Obj::Poll(p) => vec![(
            "start",
            p.start(PollEvents::READABLE, move |_, _| {
                let _ = &guard;
            }),
        )],
        Obj::Udp(u) => {
            let to = "127.0.0.1:9".parse().unwrap();
            vec![
                (
                    "send",
                    u.send(&[b"x"], Some(to), super::ops_udp::fail_cb(w, g))
                        .map(drop),
                ),
                ("try_send", u.try_send(&[b"x"], Some(to)).map(drop)),
                (
                    "receive_start",
                    u.receive_start(move |_, _| {
                        let _ = &guard;
                    }),
                ),
                ("bind", u.bind(to, UdpFlags::empty())),
                ("connect", u.connect(Some(to))),
                ("send_queue_size", u.send_queue_size().map(drop)),
                ("set_gro", u.set_gro(true).map(drop)),
                ("set_recvmmsg", u.set_recvmmsg(true)),
            ]
        }
    };
    for (name, result) in failures {
        if result != closed {
            defect!("handle {i}: {name} on a closed handle gave {result:?}");
        }
    }
    g.note(format!("operations on closed handle {i}"));
}

pub fn op_stop(_w: &W, g: &mut World, top: bool) {
    g.lp.stop();
    if top {
        g.stop_requested = true;
    }
    g.note("loop.stop()".into());
}

/// `run` from inside a callback is EBUSY; so is `Loop::close` while
/// handles exist.
pub fn op_reenter(_w: &W, g: &mut World, top: bool) {
    if !top {
        let r = g.lp.run(RunMode::NoWait);
        if r != Err(Error::Status(StatusCode::EBUSY)) {
            defect!("run inside a callback gave {r:?}, not EBUSY");
        }
    }
    let r = g.lp.close();
    if r != Err(Error::Status(StatusCode::EBUSY)) {
        defect!("Loop::close with handles gave {r:?}, not EBUSY");
    }
}

/// Starts measuring the idle time (it cannot be stopped); the metrics
/// check follows it.
pub fn op_measure_idle(_w: &W, g: &mut World) {
    g.lp.measure_idle_time();
    g.measuring_idle = true;
    g.note("measure_idle_time".into());
}
