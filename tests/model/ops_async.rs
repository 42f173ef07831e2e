//! Async handles, woken from the loop's thread and from spawned threads.
//!
//! Every send is counted (in an atomic shared with the threads) before it
//! is made, and every callback records the count it saw. A callback always
//! comes after a send whose count no callback saw yet; a handle no thread
//! ever sent to has no callback without such a send.

use super::ops;
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use ruv::{Async, Error};
use std::sync::atomic::Ordering;

fn async_obj(g: &World, i: usize) -> &Async {
    match &g.ents[i].obj {
        Some(Obj::Async(a)) => a,
        _ => unreachable!(),
    }
}

pub fn op_create(w: &W, g: &mut World) {
    let i = g.ents.len();
    let with_cb = g.rng.chance(75);
    let a = if with_cb {
        let w = w.clone();
        let guard = g.guard();
        Async::new(&g.lp, move |_a| {
            let _ = &guard;
            let mut g = w.borrow_mut();
            let e = &mut g.ents[i];
            if e.closing {
                defect!("async {i} ran after it was closed");
            }
            let sends = e.async_sends.load(Ordering::SeqCst);
            if sends == e.async_seen && !e.async_threads {
                defect!("async {i} ran with no send since its last callback");
            }
            e.async_seen = sends;
            g.note(format!("  cb async {i}"));
            ops::nested(&w, &mut g, i);
        })
    } else {
        Async::without_callback(&g.lp)
    };
    let mut ent = Ent::new(Kind::Async, Obj::Async(a));
    ent.async_has_cb = with_cb;
    g.push(ent);
    g.note(format!("async {i} = new (callback: {with_cb})"));
}

pub fn op_send(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Async], |_| true) else {
        return;
    };
    g.ents[i].async_sends.fetch_add(1, Ordering::SeqCst);
    let result = async_obj(g, i).send();
    g.note(format!("async {i}.send() -> {result:?}"));
    if let Err(err) = result {
        defect!("async {i}: send failed: {err}");
    }
}

/// A thread that sends a few times while the loop may be running.
pub fn op_thread_send(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Async], |_| true) else {
        return;
    };
    let sender = match async_obj(g, i).sender() {
        Ok(s) => s,
        Err(err) => defect!("async {i}: sender failed: {err}"),
    };
    let count = 1 + g.rng.below(4);
    let sends = g.ents[i].async_sends.clone();
    g.ents[i].async_threads = true;
    let thread = std::thread::spawn(move || {
        (0..count)
            .map(|_| {
                sends.fetch_add(1, Ordering::SeqCst);
                sender.send()
            })
            .collect()
    });
    g.threads.push((i, thread));
    g.note(format!("async {i}: thread sends {count} times"));
}

/// Joins every thread: each send succeeded, or failed because the handle
/// was closed meanwhile.
pub fn join_threads(g: &mut World) {
    for (i, thread) in std::mem::take(&mut g.threads) {
        let results = thread.join().expect("async sender thread panicked");
        for r in results {
            match r {
                Ok(()) => {}
                Err(Error::ClosedHandle) if g.ents[i].closing => {}
                Err(err) => defect!("async {i}: send from a thread failed: {err}"),
            }
        }
    }
}

pub fn op_join(_w: &W, g: &mut World) {
    g.note("join async threads".into());
    join_threads(g);
}

/// Whether async `i` still owes a callback for a send.
pub fn owes_callback(g: &World, i: usize) -> bool {
    let e = &g.ents[i];
    e.kind == Kind::Async
        && e.async_has_cb
        && !e.closing
        && e.async_sends.load(Ordering::SeqCst) > e.async_seen
}
