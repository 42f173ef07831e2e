//! Loop metrics (`Loop::metrics`, `Loop::measure_idle_time`,
//! `Loop::idle_time`), as libuv's `uv_metrics_info` and
//! `uv_metrics_idle_time` count them.

use ruv::{Async, Idle, Loop, Metrics, Prepare, RunMode, Timer};
use std::time::Duration;

/// `(loop_count, events, events_waiting)`: compared as a tuple, so the
/// tests keep compiling if `Metrics` gains fields.
fn counts(m: Metrics) -> (u64, u64, u64) {
    (m.loop_count, m.events, m.events_waiting)
}

fn metrics(loop_count: u64, events: u64, events_waiting: u64) -> (u64, u64, u64) {
    (loop_count, events, events_waiting)
}

fn teardown(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    lp.close().unwrap();
}

#[test]
fn counters_count_iterations_and_wakeups() {
    let lp = Loop::new().unwrap();
    let idle = Idle::new(&lp);
    let wake = Async::new(&lp, |_| {});
    assert_eq!(counts(lp.metrics()), metrics(0, 0, 0));

    idle.start(|_| {}).unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(counts(lp.metrics()), metrics(3, 0, 0));
    idle.stop().unwrap();

    // One wakeup, one event; nothing is "waiting" while idle time is off.
    wake.send().unwrap();
    lp.run(RunMode::Once).unwrap();
    assert_eq!(counts(lp.metrics()), metrics(4, 1, 0));

    // Measured: the wakeup pending as the poll phase begins was waiting.
    lp.measure_idle_time();
    wake.send().unwrap();
    lp.run(RunMode::Once).unwrap();
    assert_eq!(counts(lp.metrics()), metrics(5, 2, 1));
    teardown(&lp);
}

/// Starts `timer` from a prepare callback, right before the poll phase:
/// the poll's timeout comes from the cached loop time, so the poll blocks
/// for the whole 5 ms however slowly the test runs.
fn wait_in_poll(lp: &Loop, timer: &Timer) {
    let prepare = Prepare::new(lp);
    let timer = timer.clone();
    prepare
        .start(move |p| {
            timer.start(5, 0, |_| {}).unwrap();
            p.close(|| {});
        })
        .unwrap();
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn idle_time_is_measured_only_once_asked_for() {
    let lp = Loop::new().unwrap();
    let timer = Timer::new(&lp);
    wait_in_poll(&lp, &timer);
    assert_eq!(lp.idle_time(), Duration::ZERO);

    lp.measure_idle_time();
    assert_eq!(lp.idle_time(), Duration::ZERO);
    // The poll phase blocks until the timer is due: that wait is idle.
    wait_in_poll(&lp, &timer);
    let idle = lp.idle_time();
    assert!(idle > Duration::ZERO);

    // A poll that does not block adds nothing.
    let watcher = Idle::new(&lp);
    watcher.start(|_| {}).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(lp.idle_time(), idle);
    teardown(&lp);
}

// ---- exact counts on a manual-clock loop ----------------------------------

mod util;

use ruv::Udp;
use std::cell::Cell;
use std::net::{SocketAddr, UdpSocket};
use std::rc::Rc;

/// A plain socket on loopback that sends to the test's handles.
fn sender() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}

/// A UDP handle receiving on loopback that counts its datagrams.
fn counting_receiver(lp: &Loop) -> (Udp, SocketAddr, Rc<Cell<usize>>) {
    let (udp, addr) = util::bound_udp(lp);
    let got = Rc::new(Cell::new(0));
    let g = got.clone();
    udp.receive_start(move |_, dgram| {
        dgram.unwrap();
        g.set(g.get() + 1);
    })
    .unwrap();
    (udp, addr, got)
}

#[test]
fn every_run_that_reaches_the_poll_phase_is_one_iteration() {
    let lp = Loop::with_manual_clock().unwrap();
    // Nothing alive: `run` returns before any iteration.
    for _ in 0..3 {
        assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    }
    assert_eq!(counts(lp.metrics()), metrics(0, 0, 0));

    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    for n in 1..=5 {
        lp.run(RunMode::NoWait).unwrap();
        assert_eq!(counts(lp.metrics()), metrics(n, 0, 0));
    }
    for n in 6..=10 {
        lp.run(RunMode::Once).unwrap();
        assert_eq!(counts(lp.metrics()), metrics(n, 0, 0));
    }
    idle.stop().unwrap();

    // `Once` with only a timer: one iteration whose poll phase sleeps
    // (virtually) until the timer, which then fires in the same run.
    let timer = Timer::new(&lp);
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    timer.start(250, 0, move |_| f.set(f.get() + 1)).unwrap();
    assert_eq!(lp.run(RunMode::Once), Ok(false));
    assert_eq!((fired.get(), lp.now()), (1, 250));
    assert_eq!(counts(lp.metrics()), metrics(11, 0, 0));
    teardown(&lp);
}

/// libuv's `metrics_info_check`: callbacks before the first poll phase
/// see no iteration yet; a poll-phase callback sees its own.
#[test]
fn the_count_moves_when_the_poll_phase_begins() {
    let lp = Loop::with_manual_clock().unwrap();
    let seen = Rc::new(Cell::new(None));
    let prepare = Prepare::new(&lp);
    let s = seen.clone();
    prepare
        .start(move |p| {
            s.set(Some(counts(p.get_loop().metrics())));
            p.stop().unwrap();
        })
        .unwrap();
    let (udp, addr) = util::bound_udp(&lp);
    let in_poll = Rc::new(Cell::new(None));
    let s = in_poll.clone();
    udp.receive_start(move |u, dgram| {
        dgram.unwrap();
        s.set(Some(counts(u.get_loop().metrics())));
    })
    .unwrap();
    sender().send_to(b"x", addr).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(seen.get(), Some(metrics(0, 0, 0)));
    // The event is counted as it is handed to the handle.
    assert_eq!(in_poll.get(), Some(metrics(1, 1, 0)));
    assert_eq!(counts(lp.metrics()), metrics(1, 1, 0));
    teardown(&lp);
}

/// libuv's `metrics_idle_time_zero`: a timer due at once, nothing else:
/// one iteration, one callback, and no idle time (the poll phase had no
/// reason to wait).
#[test]
fn a_loop_that_never_waits_is_never_idle() {
    let lp = Loop::with_manual_clock().unwrap();
    lp.measure_idle_time();
    let timer = Timer::new(&lp);
    let fired = Rc::new(Cell::new(0u64));
    let f = fired.clone();
    timer.start(0, 0, move |_| f.set(f.get() + 1)).unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), 1);
    assert_eq!(lp.metrics().loop_count, fired.get());
    assert_eq!(lp.idle_time(), Duration::ZERO);
    teardown(&lp);
}

/// libuv's `metrics_idle_time`, exact: on a manual clock the poll phase's
/// (virtual) sleep until the next timer is the idle time, to the
/// nanosecond; unmeasured sleeps are not counted.
#[test]
fn a_manual_clock_loop_is_idle_exactly_as_long_as_it_sleeps() {
    let lp = Loop::with_manual_clock().unwrap();
    let timer = Timer::new(&lp);
    timer.start(1000, 0, |_| {}).unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!((lp.now(), lp.idle_time()), (1000, Duration::ZERO));

    lp.measure_idle_time();
    timer.start(1000, 0, |_| {}).unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!((lp.now(), lp.idle_time()), (2000, Duration::from_secs(1)));

    // Time moved by hand is not idle time; a repeating timer sleeps 3
    // times 250 ms.
    lp.advance(Duration::from_millis(100)).unwrap();
    let left = Rc::new(Cell::new(3));
    let l = left.clone();
    timer
        .start(250, 250, move |t| {
            l.set(l.get() - 1);
            if l.get() == 0 {
                t.stop().unwrap();
            }
        })
        .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(lp.now(), 2850);
    assert_eq!(lp.idle_time(), Duration::from_millis(1750));
    // Each timer run is one iteration: 1 + 1 + 3.
    assert_eq!(lp.metrics().loop_count, 5);
    teardown(&lp);
}

/// One event per handle served in a poll phase, as libuv's one per
/// descriptor epoll reports: a handle left on the ready list (its read
/// budget of 32 datagrams ran out) that also gets a new datagram counts
/// once, as it is read once.
#[test]
fn a_handle_both_ready_and_signalled_is_one_event() {
    let lp = Loop::with_manual_clock().unwrap();
    let (udp, addr, got) = counting_receiver(&lp);
    let tx = sender();
    for _ in 0..70 {
        tx.send_to(b"d", addr).unwrap();
    }
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(got.get(), 32);
    assert_eq!(counts(lp.metrics()), metrics(1, 1, 0));
    // Served from the ready list, no new edge: one event.
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(got.get(), 64);
    assert_eq!(counts(lp.metrics()), metrics(2, 2, 0));
    // Still on the ready list, and a new datagram signals it again.
    tx.send_to(b"d", addr).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(got.get(), 71);
    assert_eq!(counts(lp.metrics()), metrics(3, 3, 0));
    // Drained: nothing more.
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(counts(lp.metrics()), metrics(4, 3, 0));
    udp.close(|| {});
    teardown(&lp);
}

/// libuv skips the events of a descriptor closed by an earlier callback of
/// the same poll phase: so does the count.
#[test]
fn an_event_for_a_handle_closed_in_the_same_poll_is_not_counted() {
    let lp = Loop::with_manual_clock().unwrap();
    let tx = sender();
    let (a, a_addr) = util::bound_udp(&lp);
    let (b, b_addr) = util::bound_udp(&lp);
    let calls = Rc::new(Cell::new(0));
    for (me, other) in [(&a, &b), (&b, &a)] {
        let other = other.clone();
        let c = calls.clone();
        me.receive_start(move |_, dgram| {
            dgram.unwrap();
            c.set(c.get() + 1);
            other.close(|| {});
        })
        .unwrap();
    }
    tx.send_to(b"a", a_addr).unwrap();
    tx.send_to(b"b", b_addr).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(calls.get(), 1);
    assert_eq!(counts(lp.metrics()), metrics(1, 1, 0));
    teardown(&lp);
}

/// With the idle time measured, what the poll phase finds without waiting
/// was already waiting (libuv's `metrics_pool_events`, for datagrams):
/// datagrams sent before the run, and a handle still on the ready list.
#[test]
fn events_found_without_waiting_were_waiting() {
    let lp = Loop::with_manual_clock().unwrap();
    lp.measure_idle_time();
    let (r1, addr1, got1) = counting_receiver(&lp);
    let (r2, addr2, got2) = counting_receiver(&lp);
    let tx = sender();
    tx.send_to(b"1", addr1).unwrap();
    for _ in 0..40 {
        tx.send_to(b"2", addr2).unwrap();
    }
    lp.run(RunMode::Once).unwrap();
    assert_eq!((got1.get(), got2.get()), (1, 32));
    assert_eq!(counts(lp.metrics()), metrics(1, 2, 2));
    lp.run(RunMode::Once).unwrap();
    assert_eq!(got2.get(), 40);
    assert_eq!(counts(lp.metrics()), metrics(2, 3, 3));
    // Nothing waiting: a run with only a timer sleeps, no event.
    let timer = Timer::new(&lp);
    r1.unref();
    r2.unref();
    timer.start(10, 0, |_| {}).unwrap();
    lp.run(RunMode::Once).unwrap();
    assert_eq!(counts(lp.metrics()), metrics(3, 3, 3));
    assert_eq!(lp.idle_time(), Duration::from_millis(10));
    teardown(&lp);
}
