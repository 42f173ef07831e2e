//! Signal handles, caught with `ruv::raise`: the handler runs on this
//! thread before `raise` returns, so the model knows which handles were
//! watching at each catch.
//!
//! Two real-time signals serve every program (the kernel queues them, one
//! catch per raise). A raise is made only while a handle of the program
//! watches the signal: with nobody watching, the previous disposition —
//! the default action, ending the process — is back. Each handle watching
//! at a raise is owed one callback for it (a one-shot handle one in all);
//! stopping, moving to another signal or closing takes its debt back. A
//! callback must be owed; at the end of a program none is owed.

use super::ops;
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use ruv::Signal;

/// The signals the programs use.
fn signums() -> [i32; 2] {
    [libc::SIGRTMIN() + 12, libc::SIGRTMIN() + 13]
}

fn signal(g: &World, i: usize) -> &Signal {
    match &g.ents[i].obj {
        Some(Obj::Signal(s)) => s,
        _ => unreachable!("ent {i} is not a usable signal handle"),
    }
}

pub fn op_create(_w: &W, g: &mut World) {
    let s = Signal::new(&g.lp);
    let i = g.push(Ent::new(Kind::Signal, Obj::Signal(s)));
    g.note(format!("signal {i} = new"));
}

pub fn op_start(w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Signal], |_| true) else {
        return;
    };
    let signum = g.rng.pick(&signums());
    let oneshot = g.rng.chance(30);
    let cb = {
        let w = w.clone();
        let guard = g.guard();
        move |s: &Signal, caught: i32| {
            let _ = &guard;
            let mut g = w.borrow_mut();
            let e = &mut g.ents[i];
            if e.closing {
                defect!("signal {i} called after it was closed");
            }
            if caught != e.sig || e.sig_owed == 0 {
                defect!(
                    "signal {i} called for {caught}; model: watching {}, owed {}",
                    e.sig,
                    e.sig_owed
                );
            }
            if !s.is_active() {
                defect!("signal {i} inactive inside its callback");
            }
            e.sig_owed -= 1;
            let (epoch, oneshot) = (e.sig_epoch, e.sig_oneshot);
            g.note(format!("  cb signal {i} ({caught})"));
            ops::nested(&w, &mut g, i);
            let e = &mut g.ents[i];
            // A one-shot handle stops after its callback, unless the
            // callback stopped, moved or closed it.
            if oneshot && e.sig_epoch == epoch && !e.closing {
                stop_model(e);
            }
        }
    };
    let result = if oneshot {
        signal(g, i).start_oneshot(signum, cb)
    } else {
        signal(g, i).start(signum, cb)
    };
    g.note(format!(
        "signal {i}.start{}({signum}) -> {result:?}",
        if oneshot { "_oneshot" } else { "" }
    ));
    if let Err(err) = result {
        defect!("signal {i}: start failed: {err}");
    }
    let e = &mut g.ents[i];
    // The same number again only swaps the callback (one-shot or not, as
    // it was started first).
    if e.sig != signum {
        e.sig = signum;
        e.sig_oneshot = oneshot;
        e.sig_owed = 0;
        e.sig_epoch += 1;
        e.started = true;
    }
}

fn stop_model(e: &mut Ent) {
    e.sig = 0;
    e.sig_owed = 0;
    e.sig_epoch += 1;
    e.started = false;
}

pub fn op_stop(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Signal], |_| true) else {
        return;
    };
    let result = signal(g, i).stop();
    g.note(format!("signal {i}.stop() -> {result:?}"));
    if let Err(err) = result {
        defect!("signal {i}: stop failed: {err}");
    }
    stop_model(&mut g.ents[i]);
}

pub fn op_raise(_w: &W, g: &mut World) {
    let watched: Vec<i32> = signums()
        .into_iter()
        .filter(|&n| watching(g, n).next().is_some())
        .collect();
    if watched.is_empty() {
        return;
    }
    let signum = g.rng.pick(&watched);
    let result = ruv::raise(signum);
    g.note(format!("raise({signum}) -> {result:?}"));
    if let Err(err) = result {
        defect!("raise({signum}) failed: {err}");
    }
    let owed: Vec<usize> = watching(g, signum).collect();
    for i in owed {
        let e = &mut g.ents[i];
        e.sig_owed = if e.sig_oneshot { 1 } else { e.sig_owed + 1 };
    }
}

/// The handles of the program watching `signum` (their values dropped or
/// not): the ones a catch goes to.
fn watching(g: &World, signum: i32) -> impl Iterator<Item = usize> + '_ {
    (0..g.ents.len()).filter(move |&i| {
        let e = &g.ents[i];
        e.kind == Kind::Signal && !e.closing && e.sig == signum
    })
}

/// Whether signal `i` is still owed a callback.
pub fn owes_callback(g: &World, i: usize) -> bool {
    let e = &g.ents[i];
    e.kind == Kind::Signal && !e.closing && e.sig != 0 && e.sig_owed > 0
}
