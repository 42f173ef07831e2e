//! The exact order of the loop's phases and of callbacks inside a phase
//! (libuv 1.45+ `uv_run`): pending → idle → prepare → poll → pending (after
//! poll) → check → closing → timers, with due timers run once before the
//! first iteration in DEFAULT mode.

mod util;

use ruv::{Check, Handle, Idle, Loop, Prepare, RunMode, Timer, Udp, Watcher, WatcherPhase};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::ops::Deref;
use std::rc::Rc;

type Log = Rc<RefCell<Vec<&'static str>>>;

const VIRTUAL_WATCHDOG_MS: u64 = 100 * 3_600_000;

fn new_log() -> Log {
    Rc::default()
}

fn logger(log: &Log, entry: &'static str) -> impl Fn() + 'static {
    let log = log.clone();
    move || log.borrow_mut().push(entry)
}

fn take(log: &Log) -> Vec<&'static str> {
    std::mem::take(&mut *log.borrow_mut())
}

fn teardown(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// One handle per phase, each logging once:
/// - a UDP send to itself (its callback runs in the pending phase) and its
///   reception (poll phase);
/// - an idle, a prepare and a check that stop themselves;
/// - a timer due now (0 ms);
/// - a timer closed before the run (closing phase).
fn one_of_each_phase(lp: &Loop, log: &Log) -> Udp {
    let (udp, addr) = util::bound_udp(lp);
    let l = log.clone();
    udp.receive_start(move |u, res| {
        let dgram = res.unwrap();
        assert_eq!(dgram.data, b"ping");
        l.borrow_mut().push("poll: udp recv");
        u.receive_stop().unwrap();
    })
    .unwrap();
    let l = log.clone();
    udp.send(&[b"ping"], Some(addr), move |_, status| {
        status.unwrap();
        l.borrow_mut().push("pending: udp send cb");
    })
    .unwrap();

    let timer = Timer::new(lp);
    let l = logger(log, "timers: timer 0ms");
    timer.start(0, 0, move |_| l()).unwrap();

    let idle = Idle::new(lp);
    let l = logger(log, "idle");
    idle.start(move |w| {
        l();
        w.stop().unwrap();
    })
    .unwrap();
    let prepare = Prepare::new(lp);
    let l = logger(log, "prepare");
    prepare
        .start(move |w| {
            l();
            w.stop().unwrap();
        })
        .unwrap();
    let check = Check::new(lp);
    let l = logger(log, "check");
    check
        .start(move |w| {
            l();
            w.stop().unwrap();
        })
        .unwrap();

    let closed = Timer::new(lp);
    closed.close(logger(log, "closing: close cb"));
    udp
}

#[test]
fn one_iteration_runs_the_phases_in_libuv_order() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let log = new_log();
    let _udp = one_of_each_phase(&lp, &log);
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(
        take(&log),
        [
            "pending: udp send cb",
            "idle",
            "prepare",
            "poll: udp recv",
            "check",
            "closing: close cb",
            "timers: timer 0ms",
        ]
    );
    teardown(&lp);
}

#[test]
fn once_mode_has_the_same_order() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let log = new_log();
    let _udp = one_of_each_phase(&lp, &log);
    assert_eq!(lp.run(RunMode::Once), Ok(false));
    assert_eq!(
        take(&log),
        [
            "pending: udp send cb",
            "idle",
            "prepare",
            "poll: udp recv",
            "check",
            "closing: close cb",
            "timers: timer 0ms",
        ]
    );
    teardown(&lp);
}

#[test]
fn default_mode_runs_due_timers_before_the_first_iteration() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let log = new_log();
    let _udp = one_of_each_phase(&lp, &log);
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(
        take(&log),
        [
            "timers: timer 0ms",
            "pending: udp send cb",
            "idle",
            "prepare",
            "poll: udp recv",
            "check",
            "closing: close cb",
        ]
    );
    teardown(&lp);
}

#[test]
fn a_send_made_in_the_poll_phase_reports_before_check() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let log = new_log();
    let (udp, addr): (Udp, SocketAddr) = util::bound_udp(&lp);
    let l = log.clone();
    udp.receive_start(move |u, res| {
        assert_eq!(res.unwrap().data, b"x");
        l.borrow_mut().push("poll: recv");
        u.receive_stop().unwrap();
        let l2 = l.clone();
        u.send(&[b"y"], Some(addr), move |_, status| {
            status.unwrap();
            l2.borrow_mut().push("pending after poll: send cb");
        })
        .unwrap();
    })
    .unwrap();
    udp.send(
        &[b"x"],
        Some(addr),
        logger_send(&log, "pending: first send cb"),
    )
    .unwrap();
    let check = Check::new(&lp);
    let l = logger(&log, "check");
    check
        .start(move |w| {
            l();
            w.stop().unwrap();
        })
        .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(
        take(&log),
        [
            "pending: first send cb",
            "poll: recv",
            "pending after poll: send cb",
            "check",
        ]
    );
    teardown(&lp);
}

fn logger_send(
    log: &Log,
    entry: &'static str,
) -> impl FnOnce(&ruv::SendRequest, ruv::Result<()>) + 'static {
    let log = log.clone();
    move |_, status| {
        status.unwrap();
        log.borrow_mut().push(entry);
    }
}

#[test]
fn idle_prepare_and_check_run_most_recently_started_first() {
    let lp = Loop::with_manual_clock().unwrap();
    let log = new_log();
    for name in ["check a", "check b", "check c"] {
        let w = Check::new(&lp);
        let l = logger(&log, name);
        w.start(move |_| l()).unwrap();
    }
    for name in ["idle a", "idle b", "idle c"] {
        let w = Idle::new(&lp);
        let l = logger(&log, name);
        w.start(move |_| l()).unwrap();
    }
    for name in ["prepare a", "prepare b", "prepare c"] {
        let w = Prepare::new(&lp);
        let l = logger(&log, name);
        w.start(move |_| l()).unwrap();
    }
    let one_iteration = [
        "idle c",
        "idle b",
        "idle a",
        "prepare c",
        "prepare b",
        "prepare a",
        "check c",
        "check b",
        "check a",
    ];
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), one_iteration);
    // The order is kept from one iteration to the next.
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    assert_eq!(take(&log), one_iteration);
    teardown(&lp);
}

#[test]
fn close_callbacks_run_in_reverse_close_order() {
    let lp = Loop::with_manual_clock().unwrap();
    let log = new_log();
    let timer = Timer::new(&lp);
    timer
        .start(1_000, 0, |_| panic!("closed timer fired"))
        .unwrap();
    let idle = Idle::new(&lp);
    idle.start(|_| panic!("closed idle ran")).unwrap();
    let check = Check::new(&lp);
    let a = ruv::Async::new(&lp, |_| panic!("closed async ran"));
    let (udp, _) = util::bound_udp(&lp);
    let late = Prepare::new(&lp);

    let l = log.clone();
    let late2 = late.clone();
    timer.close(move || {
        l.borrow_mut().push("timer");
        // Closed by a close callback: waits for the next closing phase.
        late2.close(logger(&l, "prepare (closed in a close cb)"));
    });
    idle.close(logger(&log, "idle"));
    check.close(logger(&log, "check"));
    a.close(logger(&log, "async"));
    udp.close(logger(&log, "udp"));
    a.send().unwrap_err();

    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), ["udp", "async", "check", "idle", "timer"]);
    assert!(late.is_closing() && !late.is_closed());
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(take(&log), ["prepare (closed in a close cb)"]);
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// Watcher `a`'s first call starts `b` of the same phase: `b` first runs in
/// the next iteration, and then before `a` (most recently started first).
fn started_in_own_phase_runs_next_iteration<P: WatcherPhase>(a: &'static str, b: &'static str)
where
    Watcher<P>: Deref<Target = Handle>,
{
    let lp = Loop::with_manual_clock().unwrap();
    let log = new_log();
    let wa = Watcher::<P>::new(&lp);
    let wb = Watcher::<P>::new(&lp);
    let la = logger(&log, a);
    let lb = log.clone();
    wa.start(move |_| {
        la();
        if !wb.is_active() {
            let lb = logger(&lb, b);
            wb.start(move |_| lb()).unwrap();
        }
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), [a]);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), [b, a]);
    teardown(&lp);
}

#[test]
fn watchers_started_during_their_own_phase_first_run_next_iteration() {
    started_in_own_phase_runs_next_iteration::<ruv::IdlePhase>("idle a", "idle b");
    started_in_own_phase_runs_next_iteration::<ruv::PreparePhase>("prepare a", "prepare b");
    started_in_own_phase_runs_next_iteration::<ruv::CheckPhase>("check a", "check b");
}

#[test]
fn watchers_and_timers_started_in_an_earlier_phase_run_in_the_same_iteration() {
    let lp = Loop::with_manual_clock().unwrap();
    let log = new_log();
    let idle = Idle::new(&lp);
    let prepare = Prepare::new(&lp);
    let check = Check::new(&lp);
    let timer = Timer::new(&lp);
    let l = log.clone();
    let (p, c, t) = (prepare.clone(), check.clone(), timer.clone());
    idle.start(move |w| {
        l.borrow_mut().push("idle");
        w.stop().unwrap();
        let lp_ = logger(&l, "prepare");
        p.start(move |w| {
            lp_();
            w.stop().unwrap();
        })
        .unwrap();
        let lc = l.clone();
        let t = t.clone();
        c.start(move |w| {
            lc.borrow_mut().push("check");
            w.stop().unwrap();
            let lt = logger(&lc, "timer");
            t.start(0, 0, move |_| lt()).unwrap();
        })
        .unwrap();
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(take(&log), ["idle", "prepare", "check", "timer"]);
    teardown(&lp);
}

/// `a` then `b` are started; `b` runs first and stops (or restarts, or
/// closes) `a`, which then does not run in this phase.
fn stopped_by_an_earlier_watcher<P: WatcherPhase>(a: &'static str, b: &'static str)
where
    Watcher<P>: Deref<Target = Handle>,
{
    // Stopped.
    let lp = Loop::with_manual_clock().unwrap();
    let log = new_log();
    let wa = Watcher::<P>::new(&lp);
    let wb = Watcher::<P>::new(&lp);
    let la = logger(&log, a);
    wa.start(move |_| la()).unwrap();
    let lb = logger(&log, b);
    let wa2 = wa.clone();
    wb.start(move |_| {
        lb();
        wa2.stop().unwrap();
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), [b]);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), [b]);
    assert!(!wa.is_active());
    teardown(&lp);

    // Stopped and started again: it goes to the front for the next
    // iteration but does not run in this one.
    let lp = Loop::with_manual_clock().unwrap();
    let log = new_log();
    let wa = Watcher::<P>::new(&lp);
    let wb = Watcher::<P>::new(&lp);
    let la = logger(&log, a);
    wa.start(move |_| la()).unwrap();
    let lb = log.clone();
    let wa2 = wa.clone();
    let mut first = true;
    wb.start(move |_| {
        lb.borrow_mut().push(b);
        if std::mem::take(&mut first) {
            wa2.stop().unwrap();
            let la = logger(&lb, a);
            wa2.start(move |_| la()).unwrap();
        }
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), [b]);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), [a, b]);
    teardown(&lp);

    // Closed.
    let lp = Loop::with_manual_clock().unwrap();
    let log = new_log();
    let wa = Watcher::<P>::new(&lp);
    let wb = Watcher::<P>::new(&lp);
    wa.start(|_| panic!("a closed watcher ran")).unwrap();
    let lb = logger(&log, b);
    let wa2 = wa.clone();
    wb.start(move |_| {
        lb();
        wa2.close(|| {});
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&log), [b]);
    assert!(wa.is_closed());
    teardown(&lp);
}

#[test]
fn a_watcher_stopped_by_an_earlier_watcher_in_the_same_phase_does_not_run() {
    stopped_by_an_earlier_watcher::<ruv::IdlePhase>("idle a", "idle b");
    stopped_by_an_earlier_watcher::<ruv::PreparePhase>("prepare a", "prepare b");
    stopped_by_an_earlier_watcher::<ruv::CheckPhase>("check a", "check b");
}

#[test]
fn timers_due_together_fire_after_close_callbacks_in_start_order() {
    let lp = Loop::with_manual_clock().unwrap();
    let log = new_log();
    for name in ["timer 1", "timer 2", "timer 3"] {
        let t = Timer::new(&lp);
        let l = logger(&log, name);
        t.start(5, 0, move |_| l()).unwrap();
    }
    let h: Handle = Timer::new(&lp).into();
    h.close(logger(&log, "close"));
    let c = Check::new(&lp);
    let l = logger(&log, "check");
    c.start(move |w| {
        l();
        w.stop().unwrap();
    })
    .unwrap();
    lp.advance(std::time::Duration::from_millis(5)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(
        take(&log),
        ["check", "close", "timer 1", "timer 2", "timer 3"]
    );
    teardown(&lp);
}
