//! `Loop::liveness`: a reader of `Loop::alive` that needs no access to the
//! loop, checked against `alive()` through every change of what keeps a
//! loop alive: active referenced handles (start, stop, ref, unref), sends
//! in flight and send callbacks owed, closing handles, and the loop itself
//! being dropped. Debug builds also assert, in every `alive()` call (every
//! loop iteration), that the two agree.

mod util;

use ruv::{Idle, Liveness, Loop, RunMode, Timer, Udp, UdpFlags};
use std::cell::Cell;
use std::rc::Rc;

/// Both views, which must agree.
fn both(lp: &Loop, live: &Liveness) -> bool {
    assert_eq!(
        live.is_alive(),
        lp.alive(),
        "liveness disagrees with alive()"
    );
    live.is_alive()
}

#[test]
fn follows_handles_starting_stopping_and_unref() {
    let lp = Loop::with_manual_clock().unwrap();
    let live = lp.liveness();
    assert!(!both(&lp, &live), "an empty loop");
    let timer = Timer::new(&lp);
    assert!(!both(&lp, &live), "an inactive handle");
    timer.start(10, 0, |_| {}).unwrap();
    assert!(both(&lp, &live), "an active handle");
    timer.unref();
    assert!(!both(&lp, &live), "unreferenced");
    timer.ref_();
    assert!(both(&lp, &live), "referenced again");
    timer.stop().unwrap();
    assert!(!both(&lp, &live), "stopped");
    // A second reader sees the same.
    let other = lp.liveness();
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    assert!(other.is_alive() && both(&lp, &live));
    idle.stop().unwrap();
    assert!(!other.is_alive());
    idle.close(|| {});
    timer.close(|| {});
    assert!(both(&lp, &live), "closing handles: close callbacks owed");
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert!(!both(&lp, &live));
    lp.close().unwrap();
}

#[test]
fn follows_a_fired_timer_and_callbacks_inside_the_run() {
    let lp = Loop::with_manual_clock().unwrap();
    let live = lp.liveness();
    let seen = Rc::new(Cell::new(None));
    let timer = Timer::new(&lp);
    let (s, l) = (seen.clone(), live.clone());
    timer
        .start(5, 0, move |t| {
            // The one-shot timer is inactive while its callback runs.
            s.set(Some(l.is_alive()));
            t.close(|| {});
        })
        .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(seen.get(), Some(false));
    assert!(!both(&lp, &live));
    lp.close().unwrap();
}

#[test]
fn follows_sends_in_flight_and_their_callbacks() {
    let lp = Loop::with_manual_clock().unwrap();
    let live = lp.liveness();
    let (udp, addr) = util::bound_udp(&lp);
    assert!(!both(&lp, &live), "a bound, idle socket");
    let in_cb = Rc::new(Cell::new(None));
    let c = in_cb.clone();
    let l = live.clone();
    udp.send(&[b"x"], Some(addr), move |_, r| {
        r.unwrap();
        c.set(Some(l.is_alive()));
    })
    .unwrap();
    assert!(both(&lp, &live), "a send whose callback is owed");
    udp.unref();
    assert!(
        both(&lp, &live),
        "a send keeps an unreferenced handle's loop alive"
    );
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(
        in_cb.get(),
        Some(false),
        "nothing left once its callback runs"
    );
    assert!(!both(&lp, &live));
    udp.close(|| {});
    assert!(both(&lp, &live));
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert!(!both(&lp, &live));
    lp.close().unwrap();
}

/// A send from an unreferenced handle that is already active (receiving):
/// the send alone changes what keeps the loop alive.
#[test]
fn follows_a_send_from_an_unreferenced_receiving_handle() {
    let lp = Loop::with_manual_clock().unwrap();
    let live = lp.liveness();
    let (udp, addr) = util::bound_udp(&lp);
    udp.receive_start(|_, _| {}).unwrap();
    udp.unref();
    assert!(!both(&lp, &live), "receiving, unreferenced");
    let sent = Rc::new(Cell::new(false));
    let s = sent.clone();
    udp.send(&[b"x"], Some(addr), move |_, r| {
        r.unwrap();
        s.set(true);
    })
    .unwrap();
    assert!(both(&lp, &live), "a send whose callback is owed");
    while !sent.get() {
        assert_eq!(lp.run(RunMode::NoWait), Ok(!sent.get()));
    }
    assert!(!both(&lp, &live));
    udp.close(|| {});
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    lp.close().unwrap();
}

#[test]
fn reads_false_once_the_loop_is_dropped() {
    let lp = Loop::with_manual_clock().unwrap();
    let live = lp.liveness();
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    assert!(live.is_alive());
    drop(idle);
    drop(lp);
    assert!(!live.is_alive());
}

thread_local! {
    static REPORTS: std::cell::RefCell<Vec<(usize, bool)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn record(word: usize, alive: bool) {
    REPORTS.with(|r| r.borrow_mut().push((word, alive)));
}

fn reports() -> Vec<(usize, bool)> {
    REPORTS.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

/// The hook hears the current value when set, then every change (and only
/// changes), and `false` when the loop is dropped; a cleared hook hears
/// nothing more.
#[test]
fn a_hook_hears_every_change_and_only_changes() {
    let lp = Loop::with_manual_clock().unwrap();
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    lp.set_liveness_hook(Some((record, 7)));
    assert_eq!(reports(), [(7, true)], "the current value at once");
    let timer = Timer::new(&lp);
    timer.start(5, 0, |_| {}).unwrap();
    assert_eq!(reports(), [], "still alive: no change");
    idle.stop().unwrap();
    timer.stop().unwrap();
    assert_eq!(reports(), [(7, false)]);
    timer.close(|| {});
    assert_eq!(reports(), [(7, true)], "a close callback is owed");
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(reports(), [(7, false)]);
    idle.start(|_| {}).unwrap();
    assert_eq!(reports(), [(7, true)]);
    lp.set_liveness_hook(None);
    idle.stop().unwrap();
    assert_eq!(reports(), [], "cleared");
    lp.set_liveness_hook(Some((record, 9)));
    assert_eq!(reports(), [(9, false)]);
    idle.start(|_| {}).unwrap();
    drop((idle, timer));
    assert_eq!(reports(), [(9, true)]);
    // The last token goes: the loop state is dropped with its handles.
    drop(lp);
    assert_eq!(reports(), [(9, false)], "a dropped loop is not alive");
}

thread_local! {
    static COUNTS: std::cell::RefCell<Vec<(usize, usize, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
    static LAST_COUNTS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

fn record_counts(word: usize, before: (usize, usize), after: (usize, usize)) {
    // Each report starts where the previous one ended (a new hook: zero).
    let last = LAST_COUNTS.with(|l| l.replace(after));
    assert_eq!(before, last, "reported differences must add up");
    COUNTS.with(|c| c.borrow_mut().push((word, after.0, after.1)));
}

fn counts() -> Vec<(usize, usize, usize)> {
    COUNTS.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// The counts hook hears the counts when set, then each change of the
/// active, referenced handles or of the requests in flight (only changes),
/// and nothing once cleared.
#[test]
fn a_counts_hook_hears_each_change_of_active_handles_and_requests() {
    let lp = Loop::new().unwrap();
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    lp.set_counts_hook(Some((record_counts, 3)));
    assert_eq!(counts(), [(3, 1, 0)], "the current counts at once");
    let timer = Timer::new(&lp);
    assert_eq!(counts(), [], "a new handle is not active");
    timer.start(1000, 0, |_| {}).unwrap();
    assert_eq!(counts(), [(3, 2, 0)]);
    timer.unref();
    assert_eq!(counts(), [(3, 1, 0)], "unreferenced: not counted");
    timer.ref_();
    idle.stop().unwrap();
    assert_eq!(counts(), [(3, 2, 0), (3, 1, 0)]);
    // A send is a request from the call until its callback.
    let rx = Udp::new(&lp);
    rx.bind("127.0.0.1:0".parse().unwrap(), UdpFlags::empty())
        .unwrap();
    let to = rx.sockname().unwrap();
    let tx = Udp::new(&lp);
    tx.send(&[b"x".as_slice()], Some(to), |_, status| status.unwrap())
        .unwrap();
    // The sender is active while it has sends, as in libuv.
    assert_eq!(counts(), [(3, 1, 1), (3, 2, 1)]);
    timer.stop().unwrap();
    assert_eq!(counts(), [(3, 1, 1)]);
    lp.run(RunMode::Default).unwrap();
    let after = counts();
    // The request ends before its callback, then the sender goes idle.
    assert_eq!(after, [(3, 1, 0), (3, 0, 0)]);
    lp.set_counts_hook(None);
    idle.start(|_| {}).unwrap();
    assert_eq!(counts(), [], "cleared");
    lp.walk(|h| h.close(|| {}));
    lp.run(RunMode::Default).unwrap();
}
