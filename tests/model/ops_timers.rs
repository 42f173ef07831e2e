//! Timers and the idle / prepare / check watchers, and the manual clock:
//! the operations and what their callbacks check.
//!
//! Timer model (libuv's): `start(timeout, repeat)` arms the timer at
//! `now + timeout` (saturating) with a new start sequence number. A timer
//! phase takes every timer due at the loop time off the heap and fires them
//! in (due, sequence) order; a timer a callback stops or restarts in the
//! phase does not fire in it. A repeating timer is re-armed at
//! `now + repeat` (new sequence) just before its callback runs.

use super::ops;
use super::world::{Ent, Kind, Obj, World, W};
use crate::defect;
use ruv::{Error, StatusCode, Timer, Watcher, WatcherPhase};
use std::time::Duration;

pub fn timer_cb(w: &W, g: &World, i: usize) -> impl FnMut(&Timer) + 'static {
    let w = w.clone();
    let guard = g.guard();
    move |_t: &Timer| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        on_timer(&mut g, i);
        ops::nested(&w, &mut g, i);
    }
}

fn on_timer(g: &mut World, i: usize) {
    let now = g.lp.now();
    let e = &g.ents[i];
    if e.closing {
        defect!("timer {i} fired after it was closed");
    }
    let Some((due, seq)) = e.armed else {
        defect!("timer {i} fired while stopped");
    };
    let next_seq = g.seq + 1;
    let (phase_seq, phase_now) = *g.phase.get_or_insert((next_seq, now));
    if due > phase_now {
        defect!("timer {i} fired at loop time {phase_now}, before its due time {due}");
    }
    let expected = g
        .ents
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == Kind::Timer && !e.internal && !e.closing)
        .filter_map(|(j, e)| e.armed.map(|(d, s)| (d, s, j)))
        .filter(|&(d, s, _)| d <= phase_now && s < phase_seq)
        .min();
    if expected.map(|(_, _, j)| j) != Some(i) {
        defect!(
            "timer {i} (due {due}, started #{seq}) fired at {phase_now}; expected {expected:?} (due, start, timer) first"
        );
    }
    g.note(format!("  cb timer {i} at {phase_now}"));
    g.stats.timer_fires += 1;
    let repeat = g.ents[i].repeat;
    g.ents[i].armed = if repeat != 0 {
        let seq = g.next_seq();
        Some((g.lp.now().saturating_add(repeat), seq))
    } else {
        None
    };
}

pub fn create_timer(g: &mut World) -> usize {
    let t = Timer::new(&g.lp);
    let i = g.push(Ent::new(Kind::Timer, Obj::Timer(t)));
    g.note(format!("timer {i} = new"));
    i
}

pub fn op_timer_start(w: &W, g: &mut World) {
    let i = match g.pick(&[Kind::Timer], |_| true) {
        Some(i) if !g.rng.chance(15) => i,
        _ => create_timer(g),
    };
    // Small timeouts often, so that timers share due times and their start
    // order matters.
    let timeout = match g.rng.below(20) {
        0 | 1 => u64::MAX,
        2 => u64::MAX - 1,
        3..=7 => 0,
        8..=10 => 1,
        _ => g.rng.below(8),
    };
    let repeat = g.rng.pick(&[0, 0, 0, 1, 3, 10, u64::MAX]);
    let cb = timer_cb(w, g, i);
    let now = g.lp.now();
    if let Err(err) = g.timer(i).start(timeout, repeat, cb) {
        defect!("timer {i}: start failed: {err}");
    }
    let seq = g.next_seq();
    let e = &mut g.ents[i];
    e.armed = Some((now.saturating_add(timeout), seq));
    e.repeat = repeat;
    e.started = true;
    g.note(format!(
        "timer {i}.start({timeout}, {repeat}) at {now} #{seq}"
    ));
}

pub fn op_timer_stop(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Timer], |_| true) else {
        return;
    };
    g.timer(i)
        .stop()
        .unwrap_or_else(|e| defect!("timer {i}: stop: {e}"));
    g.ents[i].armed = None;
    g.note(format!("timer {i}.stop()"));
}

pub fn op_timer_again(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Timer], |_| true) else {
        return;
    };
    let result = g.timer(i).again();
    let e = &g.ents[i];
    g.note(format!("timer {i}.again() -> {result:?}"));
    if !e.started {
        if result != Err(Error::Status(StatusCode::EINVAL)) {
            defect!("timer {i}: again on a never started timer gave {result:?}, not EINVAL");
        }
        return;
    }
    if let Err(err) = result {
        defect!("timer {i}: again failed: {err}");
    }
    let repeat = e.repeat;
    if repeat != 0 {
        let seq = g.next_seq();
        let now = g.lp.now();
        g.ents[i].armed = Some((now.saturating_add(repeat), seq));
    }
}

pub fn op_timer_set_repeat(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Timer], |_| true) else {
        return;
    };
    let repeat = g.rng.pick(&[0, 1, 2, 7, u64::MAX]);
    g.timer(i)
        .set_repeat(repeat)
        .unwrap_or_else(|e| defect!("set_repeat: {e}"));
    g.ents[i].repeat = repeat;
    g.note(format!("timer {i}.set_repeat({repeat})"));
}

pub fn op_advance(_w: &W, g: &mut World) {
    let ms = match g.rng.below(20) {
        0 => u64::MAX,
        1..=5 => 0,
        6..=9 => 1,
        _ => g.rng.below(40),
    };
    let result = g.lp.advance(Duration::from_millis(ms));
    g.note(format!("advance({ms} ms) -> {result:?} now {}", g.lp.now()));
    match (g.manual, result) {
        (true, Ok(())) => g.advanced_since_check = true,
        (false, Err(e)) if e == StatusCode::EINVAL => {}
        (_, r) => defect!("advance on a manual={} clock gave {r:?}", g.manual),
    }
}

fn watcher_cb<P: WatcherPhase>(w: &W, g: &World, i: usize) -> impl FnMut(&Watcher<P>) + 'static {
    let w = w.clone();
    let guard = g.guard();
    move |_h: &Watcher<P>| {
        let _ = &guard;
        let mut g = w.borrow_mut();
        on_watcher(&mut g, i);
        ops::nested(&w, &mut g, i);
    }
}

/// Watchers of a phase run most recently started first, each once, and
/// not the ones started while the phase runs.
fn on_watcher(g: &mut World, i: usize) {
    let e = &g.ents[i];
    if e.closing {
        defect!("{:?} watcher {i} ran after it was closed", e.kind);
    }
    if !e.started {
        defect!("{:?} watcher {i} ran while stopped", e.kind);
    }
    let (kind, seq) = (e.kind, e.start_seq);
    let phase = phase_index(kind);
    if let Some(last) = g.last_ran[phase] {
        if seq >= last {
            defect!(
                "{kind:?} watcher {i} (started #{seq}) ran after the one started #{last} in the same phase"
            );
        }
    }
    g.last_ran[phase] = Some(seq);
    g.ents[i].ran_in = g.iteration;
}

pub fn phase_index(kind: Kind) -> usize {
    match kind {
        Kind::Idle => 0,
        Kind::Prepare => 1,
        _ => 2,
    }
}

/// At the end of each iteration's check phase (the marker, the oldest
/// check watcher, runs last): every watcher started before the previous
/// iteration ended and still started ran in this iteration.
pub fn end_of_iteration(g: &mut World) {
    for (i, e) in g.ents.iter().enumerate() {
        let watcher = matches!(e.kind, Kind::Idle | Kind::Prepare | Kind::Check);
        if watcher
            && !e.internal
            && e.started
            && e.start_seq < g.seq_at_check
            && e.ran_in != g.iteration
        {
            defect!(
                "{:?} watcher {i} (started #{}) did not run in iteration {}",
                e.kind,
                e.start_seq,
                g.iteration
            );
        }
    }
    g.iteration += 1;
    g.last_ran = [None; 3];
}

pub fn create_watcher(g: &mut World, kind: Kind) -> usize {
    let obj = match kind {
        Kind::Idle => Obj::Idle(ruv::Idle::new(&g.lp)),
        Kind::Prepare => Obj::Prepare(ruv::Prepare::new(&g.lp)),
        _ => Obj::Check(ruv::Check::new(&g.lp)),
    };
    let i = g.push(Ent::new(kind, obj));
    g.note(format!("{kind:?} {i} = new"));
    i
}

fn start_watcher(w: &W, g: &mut World, i: usize) {
    let kind = g.ents[i].kind;
    let result = match &g.ents[i].obj {
        Some(Obj::Idle(h)) => h.start(watcher_cb(w, g, i)),
        Some(Obj::Prepare(h)) => h.start(watcher_cb(w, g, i)),
        Some(Obj::Check(h)) => h.start(watcher_cb(w, g, i)),
        _ => unreachable!(),
    };
    g.note(format!("{kind:?} {i}.start() -> {result:?}"));
    if let Err(err) = result {
        defect!("{kind:?} {i}: start failed: {err}");
    }
    if !g.ents[i].started {
        g.ents[i].started = true;
        g.ents[i].start_seq = g.next_seq();
    }
}

pub fn op_watcher_start(w: &W, g: &mut World) {
    let kind = g.rng.pick(&[Kind::Idle, Kind::Prepare, Kind::Check]);
    let i = match g.pick(&[kind], |_| true) {
        Some(i) if !g.rng.chance(20) => i,
        _ => create_watcher(g, kind),
    };
    start_watcher(w, g, i);
}

/// Starts a batch of new watchers of one phase: 0, 1, 4, 5, 6 or many.
pub fn op_watchers_many(w: &W, g: &mut World) {
    let kind = g.rng.pick(&[Kind::Idle, Kind::Prepare, Kind::Check]);
    let count = g.rng.pick(&[0, 1, 4, 5, 6, 17]);
    g.note(format!("start {count} new {kind:?} watchers"));
    for _ in 0..count {
        let i = create_watcher(g, kind);
        start_watcher(w, g, i);
    }
}

pub fn op_watcher_stop(_w: &W, g: &mut World) {
    let Some(i) = g.pick(&[Kind::Idle, Kind::Prepare, Kind::Check], |_| true) else {
        return;
    };
    let result = match &g.ents[i].obj {
        Some(Obj::Idle(h)) => h.stop(),
        Some(Obj::Prepare(h)) => h.stop(),
        Some(Obj::Check(h)) => h.stop(),
        _ => unreachable!(),
    };
    g.note(format!("{:?} {i}.stop() -> {result:?}", g.ents[i].kind));
    if let Err(err) = result {
        defect!("watcher {i}: stop failed: {err}");
    }
    g.ents[i].started = false;
}
