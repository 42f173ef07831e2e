//! Timer semantics (libuv's `uv_timer_t`): start/stop/again, repeat,
//! due_in, saturation, ordering, re-entrancy in the timer phase, liveness,
//! never firing early, many timers, and closed/stale tokens.

mod util;

use ruv::{Error, Idle, Loop, RunMode, StatusCode, Timer};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const EINVAL: Error = Error::Status(StatusCode::EINVAL);
const VIRTUAL_WATCHDOG_MS: u64 = 100 * 3_600_000;

fn counter() -> Rc<Cell<u32>> {
    Rc::new(Cell::new(0))
}

fn bump(c: &Rc<Cell<u32>>) {
    c.set(c.get() + 1);
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn manual() -> Loop {
    Loop::with_manual_clock().unwrap()
}

fn teardown(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// A timer whose callback counts its calls.
fn counting_timer(lp: &Loop, timeout: u64, repeat: u64) -> (Timer, Rc<Cell<u32>>) {
    let t = Timer::new(lp);
    let c = counter();
    let c2 = c.clone();
    t.start(timeout, repeat, move |_| bump(&c2)).unwrap();
    (t, c)
}

#[test]
fn start_and_stop() {
    let lp = manual();
    let t = Timer::new(&lp);
    assert!(!t.is_active());
    assert_eq!(t.due_in(), Ok(0));
    assert_eq!(t.repeat(), Ok(0));
    let fired = counter();
    let f = fired.clone();
    t.start(100, 0, move |_| bump(&f)).unwrap();
    assert!(t.is_active());
    assert_eq!(t.due_in(), Ok(100));
    lp.advance(ms(40)).unwrap();
    assert_eq!(t.due_in(), Ok(60));
    assert_eq!(t.stop(), Ok(()));
    assert!(!t.is_active());
    assert_eq!(t.due_in(), Ok(0));
    assert_eq!(t.stop(), Ok(()), "stopping a stopped timer");
    lp.advance(ms(1_000)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(fired.get(), 0);

    // Starting a running timer restarts it from the current loop time.
    t.start(50, 0, |_| panic!("replaced callback ran")).unwrap();
    lp.advance(ms(30)).unwrap();
    let f = fired.clone();
    t.start(50, 0, move |_| bump(&f)).unwrap();
    assert_eq!(t.due_in(), Ok(50));
    lp.advance(ms(30)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(fired.get(), 0);
    lp.advance(ms(20)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(fired.get(), 1);
    // A one-shot timer is inactive once it fired.
    assert!(!t.is_active());
    assert_eq!(t.due_in(), Ok(0));
    teardown(&lp);
}

#[test]
fn again_on_a_never_started_timer_is_einval() {
    let lp = manual();
    let t = Timer::new(&lp);
    assert_eq!(t.again(), Err(EINVAL));
    t.set_repeat(10).unwrap();
    assert_eq!(t.again(), Err(EINVAL), "a repeat alone is not a start");
    assert!(!t.is_active());
    teardown(&lp);
}

#[test]
fn again_rearms_a_repeating_timer_with_its_repeat() {
    let lp = manual();
    let (t, fired) = counting_timer(&lp, 100, 30);
    lp.advance(ms(50)).unwrap();
    assert_eq!(t.again(), Ok(()));
    assert_eq!(t.due_in(), Ok(30));
    lp.advance(ms(29)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(fired.get(), 0);
    lp.advance(ms(1)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(fired.get(), 1);
    assert_eq!(t.due_in(), Ok(30));

    // again on a stopped repeating timer starts it again.
    t.stop().unwrap();
    assert_eq!(t.again(), Ok(()));
    assert!(t.is_active());
    assert_eq!(t.due_in(), Ok(30));
    lp.advance(ms(30)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(fired.get(), 2);
    teardown(&lp);
}

#[test]
fn again_without_repeat_does_nothing() {
    let lp = manual();
    let (t, fired) = counting_timer(&lp, 100, 0);
    lp.advance(ms(40)).unwrap();
    assert_eq!(t.again(), Ok(()));
    assert_eq!(t.due_in(), Ok(60), "not restarted");
    t.stop().unwrap();
    assert_eq!(t.again(), Ok(()));
    assert!(!t.is_active(), "a stopped one-shot timer stays stopped");
    lp.advance(ms(1_000)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(fired.get(), 0);
    teardown(&lp);
}

#[test]
fn set_repeat_takes_effect_when_the_timer_fires() {
    let lp = manual();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let fired_at: Rc<RefCell<Vec<u64>>> = Rc::default();
    let t = Timer::new(&lp);
    let (f, l) = (fired_at.clone(), lp.clone());
    t.start(10, 0, move |t| {
        f.borrow_mut().push(l.now());
        // Inside the callback a repeating timer is already re-armed.
        let n = f.borrow().len();
        match n {
            1 => {
                // A one-shot timer is inactive in its callback; a repeat set
                // now is too late for this firing, again() applies it.
                assert!(!t.is_active());
                assert_eq!(t.due_in(), Ok(0));
                t.set_repeat(25).unwrap();
                t.again().unwrap();
            }
            2 | 3 => {
                // A repeating timer is re-armed before its callback runs.
                assert!(t.is_active());
                assert_eq!(t.due_in(), Ok(25));
            }
            _ => {
                assert!(!t.is_active());
                assert_eq!(t.due_in(), Ok(0));
            }
        }
        if n == 3 {
            t.set_repeat(0).unwrap();
        }
    })
    .unwrap();
    assert_eq!(t.repeat(), Ok(0));
    t.set_repeat(0).unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    // 10 (one-shot, then again() with repeat 25), 35, 60, then the repeat
    // set to 0 in the third call leaves the already re-armed timer due at 85,
    // after which it stops.
    assert_eq!(*fired_at.borrow(), [10, 35, 60, 85]);
    assert_eq!(t.repeat(), Ok(0));
    assert!(!t.is_active());
    teardown(&lp);
}

#[test]
fn huge_timeouts_saturate_and_never_fire() {
    let lp = manual();
    lp.advance(ms(1_000)).unwrap();
    let (t, fired) = counting_timer(&lp, u64::MAX, 0);
    assert_eq!(t.due_in(), Ok(u64::MAX - 1_000));
    assert_eq!(lp.backend_timeout(), i32::MAX);
    let (t2, fired2) = counting_timer(&lp, u64::MAX - 10, 0);
    assert_eq!(t2.due_in(), Ok(u64::MAX - 1_000), "saturated, not wrapped");
    // A repeat of u64::MAX: fires once, then never again.
    let (t3, fired3) = counting_timer(&lp, 0, u64::MAX);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(fired3.get(), 1);
    assert!(t3.is_active());
    assert_eq!(t3.due_in(), Ok(u64::MAX - 1_000));
    // The clock as far as it goes.
    lp.advance(Duration::MAX).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!((fired.get(), fired2.get(), fired3.get()), (0, 0, 1));
    assert!(t.is_active() && t2.is_active() && t3.is_active());
    teardown(&lp);
}

#[test]
fn timers_due_at_the_same_time_fire_in_start_order() {
    let lp = manual();
    let order: Rc<RefCell<Vec<u32>>> = Rc::default();
    let start = |t: &Timer, id: u32, timeout: u64| {
        let o = order.clone();
        t.start(timeout, 0, move |_| o.borrow_mut().push(id))
            .unwrap();
    };
    let timers: Vec<Timer> = (0..6).map(|_| Timer::new(&lp)).collect();
    // Started in the order 3, 1, 4, 0, 2 — all due at 10.
    for id in [3, 1, 4, 0, 2] {
        start(&timers[id as usize], id, 10);
    }
    // Due at 10 as well, started 5 ms later with a shorter timeout.
    lp.advance(ms(5)).unwrap();
    start(&timers[5], 5, 5);
    // Restarting timer 3 moves it behind the others.
    start(&timers[3], 3, 5);
    lp.advance(ms(5)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(*order.borrow(), [1, 4, 0, 2, 5, 3]);
    teardown(&lp);
}

#[test]
fn a_timer_can_restart_itself_from_its_callback() {
    let lp = manual();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let fired_at: Rc<RefCell<Vec<u64>>> = Rc::default();
    let t = Timer::new(&lp);
    let (f, l) = (fired_at.clone(), lp.clone());
    fn cb(f: Rc<RefCell<Vec<u64>>>, l: Loop) -> impl FnMut(&Timer) {
        move |t: &Timer| {
            f.borrow_mut().push(l.now());
            if f.borrow().len() < 3 {
                t.start(5, 0, cb(f.clone(), l.clone())).unwrap();
                assert_eq!(t.due_in(), Ok(5));
            }
        }
    }
    t.start(10, 0, cb(f, l)).unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(*fired_at.borrow(), [10, 15, 20]);

    // Restarted with 0 ms from its own callback: due again at once, but it
    // waits for the next timer phase.
    let calls = counter();
    let c = calls.clone();
    t.start(0, 0, move |t| {
        bump(&c);
        t.start(0, 0, {
            let c = c.clone();
            move |_| bump(&c)
        })
        .unwrap();
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(calls.get(), 1);
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(calls.get(), 2);
    teardown(&lp);
}

#[test]
fn a_due_timer_stays_active_until_its_own_callback() {
    // libuv: a started timer is active until its callback begins, also while
    // the callbacks of timers due before it in the same phase run.
    let lp = manual();
    let seen: Rc<RefCell<Vec<(bool, bool)>>> = Rc::default();
    let first = Timer::new(&lp);
    let once = Timer::new(&lp);
    let repeating = Timer::new(&lp);
    let s = seen.clone();
    let (o, r) = (once.clone(), repeating.clone());
    first
        .start(10, 0, move |_| {
            s.borrow_mut().push((o.is_active(), r.is_active()));
            assert_eq!(o.due_in(), Ok(0));
        })
        .unwrap();
    let (s, r) = (seen.clone(), repeating.clone());
    once.start(10, 0, move |o| {
        s.borrow_mut().push((o.is_active(), r.is_active()));
    })
    .unwrap();
    let (s, o) = (seen.clone(), once.clone());
    repeating
        .start(10, 1000, move |r| {
            s.borrow_mut().push((o.is_active(), r.is_active()));
            r.stop().unwrap();
        })
        .unwrap();
    lp.advance(ms(10)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(*seen.borrow(), [(true, true), (false, true), (false, true)]);
    teardown(&lp);
}

#[test]
fn a_timer_stopped_by_an_earlier_timer_does_not_fire_although_due() {
    let lp = manual();
    let log: Rc<RefCell<Vec<&'static str>>> = Rc::default();
    let first = Timer::new(&lp);
    let stopped = Timer::new(&lp);
    let closed = Timer::new(&lp);
    let restarted = Timer::new(&lp);
    stopped
        .start(10, 0, |_| panic!("stopped timer fired"))
        .unwrap();
    closed
        .start(10, 5, |_| panic!("closed timer fired"))
        .unwrap();
    let l = log.clone();
    restarted
        .start(10, 0, move |_| l.borrow_mut().push("restarted"))
        .unwrap();
    // Started last but due first.
    lp.advance(ms(1)).unwrap();
    let l = log.clone();
    let (s, c, r) = (stopped.clone(), closed.clone(), restarted.clone());
    first
        .start(8, 0, move |_| {
            l.borrow_mut().push("first");
            s.stop().unwrap();
            c.close(|| {});
            // Restarted as due at once: it waits for the next timer phase.
            let l2 = l.clone();
            r.start(0, 0, move |_| l2.borrow_mut().push("restarted"))
                .unwrap();
        })
        .unwrap();
    lp.advance(ms(9)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(*log.borrow(), ["first"]);
    assert!(!stopped.is_active());
    assert!(closed.is_closing() && !closed.is_closed());
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert!(closed.is_closed());
    assert_eq!(*log.borrow(), ["first", "restarted"]);
    teardown(&lp);
}

#[test]
fn an_overdue_repeating_timer_fires_once_per_iteration() {
    let lp = manual();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let (t, fired) = counting_timer(&lp, 10, 10);
    lp.advance(ms(100)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(fired.get(), 1, "no catching up on missed periods");
    // Re-armed `repeat` after the loop time at which it fired.
    assert_eq!(t.due_in(), Ok(10));
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(fired.get(), 1);
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    assert_eq!((fired.get(), lp.now()), (2, 110));
    lp.advance(ms(1_000)).unwrap();
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    assert_eq!((fired.get(), lp.now()), (3, 1_110));
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(fired.get(), 3);
    assert_eq!(t.due_in(), Ok(10));
    teardown(&lp);
}

#[test]
fn an_unreferenced_timer_alone_does_not_keep_the_loop_alive() {
    for lp in [Loop::new().unwrap(), manual()] {
        let (t, fired) = counting_timer(&lp, 0, 0);
        t.unref();
        assert!(!lp.alive());
        assert_eq!(lp.run(RunMode::Default), Ok(false));
        assert_eq!(fired.get(), 0);
        assert!(t.is_active());
        // With something referenced alive, the unreferenced timer fires.
        let (keep, kept) = counting_timer(&lp, 1, 0);
        assert_eq!(lp.run(RunMode::Default), Ok(false));
        assert_eq!((fired.get(), kept.get()), (1, 1));
        assert!(!keep.is_active());
        teardown(&lp);
    }
}

#[test]
fn a_timer_never_fires_early() {
    // libuv's timer_early_check, on the real clock with small timeouts.
    let lp = Loop::new().unwrap();
    let _wd = util::watchdog(&lp, 5_000);
    let fired = counter();
    for timeout in [1u64, 2, 3, 5, 7, 10, 13, 20] {
        for _ in 0..2 {
            let expected = lp.now() + timeout;
            let t = Timer::new(&lp);
            let (f, l) = (fired.clone(), lp.clone());
            t.start(timeout, 0, move |t| {
                let hrtime_ms = l.hrtime() / 1_000_000;
                assert!(
                    hrtime_ms >= expected,
                    "timer of {timeout} ms fired early: {hrtime_ms} < {expected}"
                );
                assert!(l.now() >= expected);
                bump(&f);
                t.close(|| {});
            })
            .unwrap();
        }
        lp.update_time();
    }
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), 16);
    teardown(&lp);
}

#[test]
fn a_thousand_timers_over_an_hour_fire_instantly_in_order() {
    const N: usize = 1_000;
    let lp = manual();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    // Every timeout is a multiple of 7.2 s below one hour, each used by
    // exactly two timers (i and i + 500) to exercise the start-order tie.
    let timeout = |i: usize| ((i * 7_919) % 500) as u64 * 7_200;
    let fired: Rc<RefCell<Vec<(usize, u64)>>> = Rc::default();
    let timers: Vec<Timer> = (0..N)
        .map(|i| {
            let t = Timer::new(&lp);
            let (f, l) = (fired.clone(), lp.clone());
            t.start(timeout(i), 0, move |_| f.borrow_mut().push((i, l.now())))
                .unwrap();
            t
        })
        .collect();
    let started = std::time::Instant::now();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    let mut expected: Vec<usize> = (0..N).collect();
    expected.sort_by_key(|&i| (timeout(i), i));
    let expected: Vec<(usize, u64)> = expected.into_iter().map(|i| (i, timeout(i))).collect();
    assert_eq!(*fired.borrow(), expected);
    assert_eq!(lp.now(), 499 * 7_200);
    assert!(timers.iter().all(|t| !t.is_active()));
    // Not a timing assertion on the loop: only a guard that no real hour
    // (or minute) was spent.
    assert!(started.elapsed() < Duration::from_secs(60));
    teardown(&lp);
}

#[test]
fn operations_on_a_closed_timer() {
    let lp = manual();
    let t = Timer::new(&lp);
    t.start(10, 10, |_| panic!("closed timer fired")).unwrap();
    let closed = counter();
    let c = closed.clone();
    t.close(move || bump(&c));
    // Closing: not closed yet, but unusable.
    assert!(t.is_closing() && !t.is_closed());
    assert_eq!(t.start(1, 0, |_| {}), Err(Error::ClosedHandle));
    assert_eq!(t.again(), Err(Error::ClosedHandle));
    assert_eq!(t.set_repeat(1), Err(Error::ClosedHandle));
    assert_eq!(t.repeat(), Err(Error::ClosedHandle));
    assert_eq!(t.due_in(), Err(Error::ClosedHandle));
    assert_eq!(t.stop(), Ok(()));
    assert_eq!(Error::ClosedHandle.code(), StatusCode::EINVAL);
    lp.advance(ms(100)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(closed.get(), 1);
    assert!(t.is_closed() && t.is_closing() && !t.is_active());
    assert_eq!(t.start(1, 0, |_| {}), Err(Error::ClosedHandle));
    assert_eq!(t.stop(), Ok(()));
    assert_eq!(t.fileno(), Err(Error::ClosedHandle));

    // The freed slot is reused by the next handle; the stale token still
    // reports ClosedHandle and cannot touch the new handle.
    assert_eq!(lp.handle_count(), 0);
    let fresh = Timer::new(&lp);
    assert_ne!(fresh, t);
    assert!(t.is_closed());
    assert!(!fresh.is_closed());
    assert_eq!(
        t.start(1, 0, |_| panic!("stale token")),
        Err(Error::ClosedHandle)
    );
    assert_eq!(t.again(), Err(Error::ClosedHandle));
    assert_eq!(t.due_in(), Err(Error::ClosedHandle));
    assert!(
        !fresh.is_active(),
        "stale start did not start the new timer"
    );
    let fired = counter();
    let f = fired.clone();
    fresh.start(5, 0, move |_| bump(&f)).unwrap();
    t.stop().unwrap();
    t.unref();
    t.close(|| panic!("stale close callback ran"));
    assert!(fresh.is_active() && fresh.has_ref() && !fresh.is_closing());
    assert_eq!(fresh.due_in(), Ok(5));
    lp.advance(ms(5)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(fired.get(), 1);
    assert_eq!(closed.get(), 1);
    teardown(&lp);
}

#[test]
fn a_timer_fires_while_an_idle_keeps_the_loop_busy() {
    // The manual-clock twin of the real-clock test in watchers_async_poll:
    // with an idle active, time must be advanced explicitly.
    let lp = manual();
    let idle = Idle::new(&lp);
    let spins = counter();
    let (s, l) = (spins.clone(), lp.clone());
    idle.start(move |_| {
        bump(&s);
        l.advance(ms(1)).unwrap();
    })
    .unwrap();
    let t = Timer::new(&lp);
    let i = idle.clone();
    t.start(5, 0, move |_| i.stop().unwrap()).unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(spins.get(), 5);
    assert_eq!(lp.now(), 5);
    teardown(&lp);
}

#[test]
fn a_repeating_timer_can_stop_itself_from_its_callback() {
    let lp = manual();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let fired_at: Rc<RefCell<Vec<u64>>> = Rc::default();
    let t = Timer::new(&lp);
    let (f, l) = (fired_at.clone(), lp.clone());
    t.start(5, 7, move |t| {
        f.borrow_mut().push(l.now());
        if f.borrow().len() == 3 {
            t.stop().unwrap();
            assert!(!t.is_active());
            assert_eq!(t.due_in(), Ok(0));
        }
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(*fired_at.borrow(), [5, 12, 19]);
    // Its callback and repeat survive the stop: again() resumes it.
    assert_eq!(t.repeat(), Ok(7));
    t.again().unwrap();
    assert_eq!(t.due_in(), Ok(7));
    let t2 = t.clone();
    let c = Timer::new(&lp);
    c.start(7, 0, move |_| t2.close(|| {})).unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(*fired_at.borrow(), [5, 12, 19, 26]);
    assert!(t.is_closed());
    teardown(&lp);
}
