//! Checks of the loop's state against the model, between operations, after
//! each run, and at the end of a program.

use super::ops_udp;
use super::world::{Kind, Obj, SendState, World};
use super::{ops_async, ops_poll, ops_process, ops_signal, ops_stream, ops_tcp};
use crate::defect;

/// Outside `run`: the loop's metrics. The marker check watcher runs in
/// every iteration, and every iteration that polls goes on to the check
/// phase, so the loop count is the marker's iteration count.
fn check_metrics(g: &World) {
    let m = g.lp.metrics();
    let idle = g.lp.idle_time();
    if m.loop_count != g.iteration
        || m.events_waiting > m.events
        || (!g.measuring_idle && (m.events_waiting != 0 || !idle.is_zero()))
    {
        defect!(
            "metrics {m:?}, idle {idle:?}; model: {} iterations, measuring idle time: {}",
            g.iteration,
            g.measuring_idle
        );
    }
}

/// After each top-level operation: every open handle's observable state.
pub fn check_handles(g: &World) {
    check_metrics(g);
    let now = g.lp.now();
    for (i, e) in g.ents.iter().enumerate() {
        let Some(obj) = e.obj.as_ref().filter(|_| !e.internal) else {
            continue;
        };
        let h = obj.handle();
        if e.closing {
            if !h.is_closing() {
                defect!("handle {i}: is_closing false after close");
            }
            if e.close_cbs == 1 && !h.is_closed() {
                defect!("handle {i}: is_closed false after its close callback");
            }
            continue;
        }
        let active = h.is_active();
        match obj {
            Obj::Timer(t) => {
                let due_in = e.armed.map_or(0, |(due, _)| due.saturating_sub(now));
                if active != e.armed.is_some() || t.due_in() != Ok(due_in) {
                    defect!(
                        "timer {i}: active {active}, due_in {:?}; model armed {:?} at now {now}",
                        t.due_in(),
                        e.armed
                    );
                }
                if t.repeat() != Ok(e.repeat) {
                    defect!("timer {i}: repeat {:?}, model {}", t.repeat(), e.repeat);
                }
            }
            Obj::Idle(_) | Obj::Prepare(_) | Obj::Check(_) => {
                if active != e.started {
                    defect!("watcher {i}: active {active}, model started {}", e.started);
                }
            }
            Obj::Poll(_) => {
                if active != (e.started && !e.events.is_empty()) {
                    defect!("poll {i}: active {active}, model started {}", e.started);
                }
            }
            Obj::Async(_) => {
                if !active {
                    defect!("async {i}: inactive while open");
                }
            }
            Obj::Tcp(_) if e.kind == Kind::Listener => {
                if !active {
                    defect!("listener {i}: inactive while open");
                }
            }
            Obj::Pipe(_) | Obj::Tcp(_) => {
                let s = ops_stream::stream_of(obj).expect("a stream");
                let want: usize = e.st_pending.iter().map(|(_, n)| n).sum();
                if s.write_queue_size() != Ok(want) || s.is_reading() != e.st_reading {
                    defect!(
                        "stream {i}: write_queue_size {:?}, reading {}; model {want}, {}",
                        s.write_queue_size(),
                        s.is_reading(),
                        e.st_reading
                    );
                }
            }
            Obj::Process(p) => {
                if active == e.proc_exited || p.pid().is_err() {
                    defect!(
                        "process {i}: active {active}, pid {:?}; model exited {}",
                        p.pid(),
                        e.proc_exited
                    );
                }
            }
            Obj::Signal(s) => {
                if active != (e.sig != 0) || s.signum() != e.sig {
                    defect!(
                        "signal {i}: active {active}, signum {}; model watching {}",
                        s.signum(),
                        e.sig
                    );
                }
            }
            Obj::Udp(u) => {
                let count = e.udp.outstanding.len();
                let size: usize = e.udp.outstanding.values().sum();
                if u.send_queue_count() != Ok(count) || u.send_queue_size() != Ok(size) {
                    defect!(
                        "udp {i}: send queue {:?} sends / {:?} bytes, model {count} / {size}",
                        u.send_queue_count(),
                        u.send_queue_size()
                    );
                }
                if u.is_receiving() != e.udp.receiving {
                    defect!(
                        "udp {i}: is_receiving {}, model {}",
                        u.is_receiving(),
                        e.udp.receiving
                    );
                }
            }
        }
    }
}

/// After a run: every timer armed before the last timer phase and due by
/// then has fired (the callbacks checked they fired in order).
pub fn after_run(g: &World) {
    if !g.marker_ran || g.advanced_since_check {
        return;
    }
    let now = g.lp.now();
    for (i, e) in g.ents.iter().enumerate() {
        if e.kind != Kind::Timer || e.internal || e.closing {
            continue;
        }
        if let Some((due, seq)) = e.armed {
            if due <= now && seq < g.seq_at_check {
                defect!("timer {i} (due {due}, started #{seq}) did not fire by {now}");
            }
        }
    }
}

/// What the loop still owes the program: datagrams, send callbacks, async
/// and poll callbacks. Empty when the program may be closed.
pub fn owed(g: &World) -> Vec<String> {
    let mut owed = Vec::new();
    for id in 0..g.dgrams.len() {
        if ops_udp::must_arrive(g, id) {
            owed.push(format!("datagram {id} to udp {}", g.dgrams[id].to));
        }
        if g.dgrams[id].state == SendState::Waiting {
            owed.push(format!("send callback of datagram {id}"));
        }
    }
    for i in 0..g.ents.len() {
        if ops_async::owes_callback(g, i) {
            owed.push(format!("callback of async {i}"));
        }
        if ops_poll::owes_callback(g, i) {
            owed.push(format!("readable callback of poll {i}"));
        }
        if ops_stream::owes(g, i) {
            owed.push(format!("connect, writes or bytes of stream {i}"));
        }
        if ops_tcp::owes(g, i) {
            owed.push(format!("accept of tcp {i}"));
        }
        if ops_process::owes_callback(g, i) {
            owed.push(format!("exit callback of process {i}"));
        }
        if ops_signal::owes_callback(g, i) {
            owed.push(format!("callback of signal {i}"));
        }
    }
    owed
}

/// After everything was closed and the loop ended.
pub fn at_end(g: &World) {
    for (i, e) in g.ents.iter().enumerate() {
        if e.close_cbs != 1 {
            defect!("handle {i} ({:?}): {} close callbacks", e.kind, e.close_cbs);
        }
    }
    for (id, d) in g.dgrams.iter().enumerate() {
        if d.state == SendState::Waiting {
            defect!("datagram {id}: its send callback never ran");
        }
    }
    let count = g.lp.handle_count();
    if count != 0 {
        defect!("{count} handles left after every close callback ran");
    }
    if let Err(err) = g.lp.close() {
        defect!("Loop::close failed at the end: {err}");
    }
    if g.live.get() != 0 {
        defect!("{} callbacks still alive after Loop::close", g.live.get());
    }
}
