//! Process handles: children that sleep a few milliseconds and exit with a
//! chosen status, sometimes killed first. Each child's exit callback comes
//! exactly once, with the status it exited with (or SIGTERM's if a kill
//! reached it in time), unless its handle was closed first; `kill` after
//! the exit callback is `ESRCH`. At the end every open handle's child has
//! reported.

use super::ops;
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use ruv::{Error, Process, ProcessOptions, StatusCode};

/// Children a program may have running at once (each is a real process).
const MAX_CHILDREN: usize = 4;

pub fn op_spawn(w: &W, g: &mut World) {
    let running = g
        .ents
        .iter()
        .filter(|e| e.kind == Kind::Process && !e.proc_exited && !e.closing)
        .count();
    if running >= MAX_CHILDREN {
        return;
    }
    let i = g.ents.len();
    let status = g.rng.below(4) as i64;
    let script = format!("sleep 0.0{}; exit {status}", g.rng.below(5));
    let options = ProcessOptions::new("sh").with_args(["sh", "-c", script.as_str()]);
    let w2 = w.clone();
    let guard = g.guard();
    let result = Process::spawn(&g.lp, &options, move |p, got_status, signal| {
        let _ = &guard;
        let mut g = w2.borrow_mut();
        let e = &mut g.ents[i];
        if e.closing || e.proc_exited {
            defect!("process {i}: exit callback after close or twice");
        }
        let exited = (got_status, signal) == (e.proc_status, 0);
        let killed = e.proc_killed && (got_status, signal) == (0, libc::SIGTERM);
        if !exited && !killed {
            defect!(
                "process {i}: exited with ({got_status}, {signal}); model: status {}, killed {}",
                e.proc_status,
                e.proc_killed
            );
        }
        if p.is_active() {
            defect!("process {i}: active in its exit callback");
        }
        e.proc_exited = true;
        e.started = false;
        g.note(format!("  cb process {i} ({got_status}, {signal})"));
        ops::nested(&w2, &mut g, i);
    });
    let p = match result {
        Ok(p) => p,
        Err(err) => defect!("spawn failed: {err}"),
    };
    let mut ent = Ent::new(Kind::Process, Obj::Process(p));
    ent.proc_status = status;
    ent.started = true;
    g.push(ent);
    g.note(format!("process {i} = spawn({script:?})"));
}

pub fn op_kill(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Process], |_| true) else {
        return;
    };
    let Some(Obj::Process(p)) = &g.ents[i].obj else {
        return;
    };
    let result = p.kill(libc::SIGTERM);
    g.note(format!("process {i}.kill(SIGTERM) -> {result:?}"));
    let e = &mut g.ents[i];
    if e.proc_exited {
        if result != Err(Error::Status(StatusCode::ESRCH)) {
            defect!("process {i}: kill after its exit callback gave {result:?}");
        }
        return;
    }
    // Before the exit callback the child runs or waits to be reaped: the
    // signal is taken either way (a zombie ignores it).
    if let Err(err) = result {
        defect!("process {i}: kill before its exit callback: {err}");
    }
    e.proc_killed = true;
}

/// Whether process `i` still owes its exit callback.
pub fn owes_callback(g: &World, i: usize) -> bool {
    let e = &g.ents[i];
    e.kind == Kind::Process && !e.closing && !e.proc_exited
}
