//! One random program: its setup, the sequence of top-level operations and
//! runs, and the end (drain, close everything, check, release).

use super::invariants;
use super::ops;
use super::ops_async;
use super::ops_handles;
use super::ops_stream;
use super::ops_tcp;
use super::ops_timers;
use super::ops_udp;
use super::world::{Ent, Kind, Log, Obj, Stats, World, W};
use crate::defect;
use ruv::{Check, Loop, RunMode, Timer};
use std::cell::RefCell;
use std::rc::Rc;

/// Loop iterations the end of a program may take at most.
const END_ITERATIONS: usize = 2_000;

/// Runs program `seed`; returns what it exercised.
pub fn run(seed: u64, manual: bool, log: Log) -> Stats {
    let lp = if manual {
        Loop::with_manual_clock()
    } else {
        Loop::new()
    }
    .unwrap();
    let w: W = Rc::new(RefCell::new(World::new(seed, lp, manual, log)));
    setup(&w);
    ops_handles::install_close_hook(&w);
    let steps = {
        let mut g = w.borrow_mut();
        g.note(format!("program {seed} (manual clock: {manual})"));
        20 + g.rng.below(80)
    };
    for _ in 0..steps {
        let mode = {
            let mut g = w.borrow_mut();
            if g.rng.chance(30) {
                Some(g.rng.pick(&[
                    RunMode::NoWait,
                    RunMode::Once,
                    RunMode::Once,
                    RunMode::Default,
                ]))
            } else {
                ops::random_op(&w, &mut g, true);
                invariants::check_handles(&g);
                None
            }
        };
        if let Some(mode) = mode {
            run_loop(&w, mode);
        }
    }
    finish(&w);
    let mut stats = w.borrow().stats;
    stats.programs = 1;
    if Rc::strong_count(&w) != 1 {
        defect!("callbacks still hold the program after the loop closed");
    }
    stats
}

/// The model's own handles: a heartbeat timer that bounds every poll
/// (a program may arm timers for `u64::MAX` ms and wait for nothing else),
/// and a check watcher that marks each iteration's end and stops `Default`
/// runs after a few iterations. Both are unreferenced.
fn setup(w: &W) {
    let mut g = w.borrow_mut();
    let heartbeat = Timer::new(&g.lp);
    let period = if g.manual { 7 } else { 2 };
    let guard = g.guard();
    heartbeat
        .start(period, period, move |_| {
            let _ = &guard;
        })
        .unwrap();
    heartbeat.unref();
    let mut ent = Ent::new(Kind::Timer, Obj::Timer(heartbeat));
    ent.internal = true;
    g.push(ent);

    let marker = Check::new(&g.lp);
    let w2 = w.clone();
    let guard = g.guard();
    marker
        .start(move |_| {
            let _ = &guard;
            let mut g = w2.borrow_mut();
            g.phase = None;
            g.marker_ran = true;
            ops_timers::end_of_iteration(&mut g);
            g.seq_at_check = g.seq;
            g.advanced_since_check = false;
            if let Some((done, max)) = g.default_iterations.as_mut() {
                *done += 1;
                if *done >= *max {
                    g.lp.stop();
                }
            }
        })
        .unwrap();
    marker.unref();
    let mut ent = Ent::new(Kind::Check, Obj::Check(marker));
    ent.internal = true;
    ent.started = true;
    g.push(ent);
}

fn run_loop(w: &W, mode: RunMode) {
    let lp = {
        let mut g = w.borrow_mut();
        g.phase = None;
        g.marker_ran = false;
        if mode == RunMode::Default {
            let max = 1 + g.rng.below(4) as u32;
            g.default_iterations = Some((0, max));
        }
        g.note(format!("run({mode:?})"));
        g.lp.clone()
    };
    let result = lp.run(mode);
    let mut g = w.borrow_mut();
    g.default_iterations = None;
    g.stop_requested = false;
    g.phase = None;
    match result {
        Ok(alive) if alive == g.lp.alive() => {}
        r => defect!("run({mode:?}) gave {r:?}; alive is now {}", g.lp.alive()),
    }
    invariants::after_run(&g);
    invariants::check_handles(&g);
}

fn finish(w: &W) {
    let lp = {
        let mut g = w.borrow_mut();
        g.draining = true;
        g.note("finish: drain".into());
        ops_async::join_threads(&mut g);
        for i in 0..g.ents.len() {
            let e = &g.ents[i];
            if e.kind == Kind::Udp && e.usable() && e.udp.choked {
                ops_udp::unchoke(&mut g, i);
            }
            let e = &g.ents[i];
            if e.kind == Kind::Udp && e.usable() && !e.udp.receiving {
                if let Err(err) = ops_udp::start_receiving(w, &mut g, i, false) {
                    defect!("udp {i}: receive_start at the end: {err}");
                }
                g.ents[i].udp.receiving = true;
            }
        }
        ops_tcp::accept_waiting(w, &mut g);
        ops_stream::read_everything(w, &mut g);
        // An unreferenced handle alone does not make `run` poll.
        let lp = g.lp.clone();
        lp.walk(|h| {
            if g.ent_by_id(h.id()).is_some_and(|i| !g.ents[i].internal) {
                h.ref_();
            }
        });
        lp
    };
    let mut owed = Vec::new();
    for _ in 0..END_ITERATIONS {
        owed = invariants::owed(&w.borrow());
        if owed.is_empty() {
            break;
        }
        lp.run(RunMode::Once).unwrap();
        // A child exits in real time, whatever the loop does meanwhile (a
        // started idle watcher makes these runs return at once); so may
        // TCP bytes come (Nagle holds a small segment until the peer's
        // delayed acknowledgement, up to tens of milliseconds).
        if owed.iter().any(|o| {
            o.starts_with("exit callback of process") || o.starts_with("connect, writes or bytes")
        }) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    if !owed.is_empty() {
        defect!("still owed after {END_ITERATIONS} iterations: {owed:?}");
    }
    {
        let mut g = w.borrow_mut();
        invariants::check_handles(&g);
        if g.rng.chance(50) {
            g.note("finish: close all by walk".into());
            ops_handles::walk_close(w, &mut g, 100);
        } else {
            g.note("finish: close each".into());
            for i in 0..g.ents.len() {
                if g.ents[i].obj.is_some() && g.ents[i].close_cbs == 0 && !g.ents[i].closing {
                    ops_handles::close(w, &mut g, i);
                }
            }
            // Handles whose value was dropped are only reachable by walk.
            ops_handles::walk_close(w, &mut g, 100);
        }
    }
    let mut ended = false;
    for _ in 0..END_ITERATIONS {
        match lp.run(RunMode::Once) {
            Ok(true) => {}
            Ok(false) => {
                ended = true;
                break;
            }
            Err(err) => defect!("run at the end: {err}"),
        }
    }
    let mut g = w.borrow_mut();
    if !ended {
        defect!("the loop did not end within {END_ITERATIONS} iterations after closing everything");
    }
    invariants::at_end(&g);
    g.requests.clear();
    g.ents.clear();
}
