//! Loop metrics (`Loop::metrics`, `Loop::measure_idle_time`,
//! `Loop::idle_time`), as libuv's `uv_metrics_info` and
//! `uv_metrics_idle_time` count them.

use ruv::{Async, Idle, Loop, Metrics, Prepare, RunMode, Timer};
use std::time::Duration;

fn metrics(loop_count: u64, events: u64, events_waiting: u64) -> Metrics {
    Metrics {
        loop_count,
        events,
        events_waiting,
    }
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
    assert_eq!(lp.metrics(), metrics(0, 0, 0));

    idle.start(|_| {}).unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(lp.metrics(), metrics(3, 0, 0));
    idle.stop().unwrap();

    // One wakeup, one event; nothing is "waiting" while idle time is off.
    wake.send().unwrap();
    lp.run(RunMode::Once).unwrap();
    assert_eq!(lp.metrics(), metrics(4, 1, 0));

    // Measured: the wakeup pending as the poll phase begins was waiting.
    lp.measure_idle_time();
    wake.send().unwrap();
    lp.run(RunMode::Once).unwrap();
    assert_eq!(lp.metrics(), metrics(5, 2, 1));
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
