//! Choosing operations: the weighted table, at top level and nested inside
//! callbacks.

use super::world::{World, W};
use super::{
    ops_async, ops_handles, ops_poll, ops_process, ops_signal, ops_stream, ops_tcp, ops_timers,
    ops_udp,
};

/// Nested operations per callback at most.
const NESTED_MAX: u64 = 2;
/// Chance (percent) that a callback runs nested operations.
const NESTED_CHANCE: u64 = 35;

type OpFn = fn(&W, &mut World, bool);

struct Op {
    weight: u64,
    /// Also in manual-clock (timers and watchers only) programs.
    manual: bool,
    run: OpFn,
}

macro_rules! op {
    ($weight:expr, $manual:expr, $f:path) => {
        Op {
            weight: $weight,
            manual: $manual,
            run: |w, g, _top| $f(w, g),
        }
    };
}

const OPS: &[Op] = &[
    op!(8, true, ops_timers::op_timer_start),
    op!(2, true, ops_timers::op_timer_stop),
    op!(2, true, ops_timers::op_timer_again),
    op!(1, true, ops_timers::op_timer_set_repeat),
    op!(2, true, ops_timers::op_advance),
    op!(4, true, ops_timers::op_watcher_start),
    op!(1, true, ops_timers::op_watchers_many),
    op!(3, true, ops_timers::op_watcher_stop),
    op!(1, false, ops_async::op_create),
    op!(2, false, ops_async::op_send),
    op!(1, false, ops_async::op_thread_send),
    op!(1, false, ops_async::op_join),
    op!(1, false, ops_poll::op_create),
    op!(1, false, ops_poll::op_start),
    op!(1, false, ops_poll::op_stop),
    op!(2, false, ops_poll::op_poke),
    op!(1, false, ops_poll::op_duplicate),
    op!(2, false, ops_udp::op_create),
    op!(1, false, ops_udp::op_bind),
    op!(2, false, ops_udp::op_connect),
    op!(3, false, ops_udp::op_recv_start),
    op!(2, false, ops_udp::op_recv_stop),
    op!(6, false, ops_udp::op_send),
    op!(3, false, ops_udp::op_try_send),
    op!(2, false, ops_udp::op_try_send_segments),
    op!(1, false, ops_udp::op_bad_send),
    op!(1, false, ops_udp::op_recvmmsg),
    op!(1, false, ops_udp::op_unchoke),
    op!(1, true, ops_signal::op_create),
    op!(2, true, ops_signal::op_start),
    op!(1, true, ops_signal::op_stop),
    op!(3, true, ops_signal::op_raise),
    op!(1, false, ops_process::op_spawn),
    op!(1, false, ops_process::op_kill),
    op!(1, false, ops_stream::op_create),
    op!(4, false, ops_stream::op_write),
    op!(2, false, ops_stream::op_read),
    op!(1, false, ops_stream::op_shutdown),
    op!(1, false, ops_tcp::op_listen),
    op!(2, false, ops_tcp::op_connect),
    op!(1, false, ops_tcp::op_accept),
    op!(1, false, ops_tcp::op_close_reset),
    op!(3, true, ops_handles::op_close),
    op!(1, true, ops_handles::op_walk_close),
    op!(1, true, ops_handles::op_walk),
    op!(1, true, ops_handles::op_drop),
    op!(1, true, ops_handles::op_ref),
    op!(1, true, ops_handles::op_closed),
    op!(2, false, ops_udp::op_gro),
    op!(1, true, ops_handles::op_measure_idle),
    Op {
        weight: 1,
        manual: true,
        run: ops_handles::op_stop,
    },
    Op {
        weight: 1,
        manual: true,
        run: ops_handles::op_reenter,
    },
];

/// Runs one random operation; `top`: outside any callback.
pub fn random_op(w: &W, g: &mut World, top: bool) {
    let manual = g.manual;
    let total: u64 = OPS
        .iter()
        .filter(|o| o.manual || !manual)
        .map(|o| o.weight)
        .sum();
    let mut roll = g.rng.below(total);
    for op in OPS.iter().filter(|o| o.manual || !manual) {
        if roll < op.weight {
            g.stats.ops += 1;
            (op.run)(w, g, top);
            return;
        }
        roll -= op.weight;
    }
}

/// Called by every model callback of handle `me`: sometimes runs a few
/// operations from inside it, often on `me` itself (a callback that stops,
/// restarts or closes its own handle is the classic re-entrancy case).
pub fn nested(w: &W, g: &mut World, me: usize) {
    g.stats.callbacks += 1;
    if g.draining || g.nested_budget == 0 || !g.rng.chance(NESTED_CHANCE) {
        return;
    }
    for _ in 0..=g.rng.below(NESTED_MAX) {
        if g.nested_budget == 0 {
            return;
        }
        g.nested_budget -= 1;
        g.focus = g.rng.chance(50).then_some(me);
        random_op(w, g, false);
        g.focus = None;
    }
}
