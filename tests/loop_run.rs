//! Run modes and their return values, liveness with ref/unref, the backend
//! timeout, the loop clock, `walk`, `Loop::close` and the default loop —
//! libuv 1.45+ `uv_run` semantics.

mod util;

use ruv::{
    Async, Check, Error, Handle, HandleType, Idle, Loop, Poll, PollEvents, Prepare, RunMode,
    StatusCode, Timer,
};
use std::cell::{Cell, RefCell};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

const EBUSY: Error = Error::Status(StatusCode::EBUSY);
const EINVAL: Error = Error::Status(StatusCode::EINVAL);

/// A far-away virtual watchdog for manual-clock loops: it only fires if the
/// loop would otherwise block forever.
const VIRTUAL_WATCHDOG_MS: u64 = 100 * 3_600_000;

fn counter() -> Rc<Cell<u32>> {
    Rc::new(Cell::new(0))
}

fn bump(c: &Rc<Cell<u32>>) {
    c.set(c.get() + 1);
}

/// Closes every handle of the loop, runs the close callbacks and closes the
/// loop.
fn teardown(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

#[test]
fn default_returns_false_when_nothing_is_left_alive() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let fired = counter();
    let t = Timer::new(&lp);
    let f = fired.clone();
    t.start(10, 0, move |_| bump(&f)).unwrap();
    assert!(lp.alive());
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), 1);
    assert_eq!(lp.now(), 10);
    assert!(!lp.alive());
    // The handles still exist (a stopped timer, the unreferenced watchdog).
    assert_eq!(lp.handle_count(), 2);
    teardown(&lp);
}

#[test]
fn run_with_nothing_alive_returns_false_at_once() {
    let lp = Loop::with_manual_clock().unwrap();
    for mode in [RunMode::Default, RunMode::Once, RunMode::NoWait] {
        assert_eq!(lp.run(mode), Ok(false), "{mode:?} on an empty loop");
    }

    // Inactive handles and active but unreferenced ones keep nothing alive:
    // run returns before any phase, so none of these callbacks runs.
    let calls = counter();
    let _never_started = Timer::new(&lp);
    let idle = Idle::new(&lp);
    let c = calls.clone();
    idle.start(move |_| bump(&c)).unwrap();
    idle.unref();
    let t = Timer::new(&lp);
    t.unref();
    let c = calls.clone();
    t.start(0, 0, move |_| bump(&c)).unwrap();
    let a = Async::new(&lp, |_| panic!("async never sent"));
    a.unref();
    assert!(!lp.alive());
    for mode in [RunMode::Default, RunMode::Once, RunMode::NoWait] {
        assert_eq!(
            lp.run(mode),
            Ok(false),
            "{mode:?} with only unref'd handles"
        );
    }
    assert_eq!(calls.get(), 0);
    assert!(t.is_active() && idle.is_active());
    teardown(&lp);
}

#[test]
fn stop_makes_default_return_true_and_the_next_run_starts_afresh() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let fired = counter();
    let t = Timer::new(&lp);
    let f = fired.clone();
    let l = lp.clone();
    t.start(10, 10, move |t| {
        bump(&f);
        match f.get() {
            3 => l.stop(),
            5 => t.close(|| {}),
            _ => {}
        }
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(true));
    assert_eq!(fired.get(), 3);
    assert_eq!(lp.now(), 30);
    assert!(t.is_active());
    // The stop request was consumed: this run goes on until nothing is alive.
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), 5);
    assert_eq!(lp.now(), 50);
    teardown(&lp);
}

/// Found by the model test (seed 2727): `Default` runs due timers once
/// before its first iteration; a timer there that stops the loop and leaves
/// nothing alive must not make `run` report the loop alive.
#[test]
fn stop_in_a_timer_default_runs_first_reports_whether_anything_is_left() {
    let lp = Loop::with_manual_clock().unwrap();
    let fired = counter();
    let t = Timer::new(&lp);
    let (f, l) = (fired.clone(), lp.clone());
    t.start(0, 0, move |_| {
        bump(&f);
        l.stop();
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), 1);
    assert!(!lp.alive());

    // Still alive after the stop: `true`, and the next run goes on.
    let (f, l) = (fired.clone(), lp.clone());
    t.start(0, 5, move |t| {
        bump(&f);
        if f.get() == 2 {
            l.stop();
        } else {
            t.stop().unwrap();
        }
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(true));
    assert_eq!(fired.get(), 2);
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), 3);
    teardown(&lp);
}

#[test]
fn stop_finishes_the_current_iteration_without_blocking() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let log: Rc<RefCell<Vec<&'static str>>> = Rc::default();
    let long = Timer::new(&lp);
    long.start(3_600_000, 0, |_| panic!("the loop slept after stop()"))
        .unwrap();
    let prepare = Prepare::new(&lp);
    let (l, lp2) = (log.clone(), lp.clone());
    prepare
        .start(move |_| {
            l.borrow_mut().push("prepare");
            if l.borrow().len() == 1 {
                lp2.stop();
            }
        })
        .unwrap();
    let check = Check::new(&lp);
    let l = log.clone();
    check.start(move |_| l.borrow_mut().push("check")).unwrap();

    // stop() in prepare: the poll does not block (the manual clock would
    // jump to the timer), check still runs, then run returns alive.
    assert_eq!(lp.run(RunMode::Default), Ok(true));
    assert_eq!(*log.borrow(), ["prepare", "check"]);
    assert_eq!(lp.now(), 0);
    // The stop flag is cleared when run returns.
    assert_eq!(lp.backend_timeout(), 3_600_000);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(*log.borrow(), ["prepare", "check", "prepare", "check"]);
    long.stop().unwrap();
    teardown(&lp);
}

#[test]
fn stop_before_run_returns_at_once_and_is_then_cleared() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let fired = counter();
    let t = Timer::new(&lp);
    let f = fired.clone();
    t.start(100, 0, move |_| bump(&f)).unwrap();
    assert_eq!(lp.backend_timeout(), 100);
    lp.stop();
    assert_eq!(lp.backend_timeout(), 0);
    assert_eq!(lp.run(RunMode::Default), Ok(true));
    assert_eq!(fired.get(), 0);
    assert_eq!(lp.now(), 0);
    assert_eq!(lp.backend_timeout(), 100);
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), 1);
    assert_eq!(lp.now(), 100);
    teardown(&lp);
}

#[test]
fn once_and_nowait_return_alive_after_one_iteration() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let fired = counter();
    let t = Timer::new(&lp);
    let f = fired.clone();
    t.start(10, 0, move |_| bump(&f)).unwrap();
    // NoWait never blocks: the timer is not due yet.
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!((fired.get(), lp.now()), (0, 0));
    // Once blocks until the timer is due, fires it and reports the loop dead.
    assert_eq!(lp.run(RunMode::Once), Ok(false));
    assert_eq!((fired.get(), lp.now()), (1, 10));

    // An idle that stops itself on its third call.
    let calls = counter();
    let idle = Idle::new(&lp);
    let c = calls.clone();
    idle.start(move |i| {
        bump(&c);
        if c.get() == 3 {
            i.stop().unwrap();
        }
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(calls.get(), 3);
    assert_eq!(lp.run(RunMode::Once), Ok(false));
    assert_eq!(calls.get(), 3);
    teardown(&lp);
}

#[test]
fn run_from_inside_a_callback_is_ebusy() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let results: Rc<RefCell<Vec<Result<bool, Error>>>> = Rc::default();
    let t = Timer::new(&lp);
    let (r, l) = (results.clone(), lp.clone());
    t.start(0, 0, move |_| {
        for mode in [RunMode::Default, RunMode::Once, RunMode::NoWait] {
            r.borrow_mut().push(l.run(mode));
        }
        r.borrow_mut().push(l.close().map(|()| true));
    })
    .unwrap();
    let idle = Idle::new(&lp);
    let (r, l) = (results.clone(), lp.clone());
    idle.start(move |i| {
        r.borrow_mut().push(l.run(RunMode::NoWait));
        i.stop().unwrap();
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(*results.borrow(), [Err(EBUSY); 5]);
    // The nested attempts left the loop usable.
    let f = counter();
    let f2 = f.clone();
    t.start(1, 0, move |_| bump(&f2)).unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(f.get(), 1);
    teardown(&lp);
}

#[test]
fn alive_counts_active_referenced_handles_and_closing_ones() {
    let lp = Loop::with_manual_clock().unwrap();
    assert!(!lp.alive());
    let t = Timer::new(&lp);
    assert!(!lp.alive(), "a timer that was never started");
    t.start(100, 0, |_| {}).unwrap();
    assert!(lp.alive());
    t.unref();
    assert!(!lp.alive());
    assert!(!t.has_ref());
    t.unref();
    assert!(!lp.alive(), "unref is idempotent");
    t.ref_();
    t.ref_();
    assert!(lp.alive() && t.has_ref());
    t.stop().unwrap();
    assert!(!lp.alive());
    t.start(100, 0, |_| {}).unwrap();
    assert!(lp.alive());
    t.unref();
    t.stop().unwrap();
    t.ref_();
    assert!(!lp.alive(), "ref on a stopped timer");

    let a = Async::new(&lp, |_| {});
    assert!(lp.alive(), "an async handle is active from creation");
    a.unref();
    assert!(!lp.alive());
    a.ref_();
    assert!(lp.alive());
    a.close(|| {});
    // A closing handle keeps the loop alive until its callback ran, even
    // when unreferenced.
    a.unref();
    assert!(lp.alive());
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert!(!lp.alive());
    assert!(a.is_closed());
    teardown(&lp);
}

#[test]
fn backend_timeout_follows_libuv_rules() {
    let lp = Loop::with_manual_clock().unwrap();
    // No active handle: the poll would not block at all.
    assert_eq!(lp.backend_timeout(), 0);

    // Only I/O alive (an async handle) and no timer: no limit.
    let a = Async::new(&lp, |_| {});
    assert_eq!(lp.backend_timeout(), -1);

    // The next timer's due time, in ms from the cached loop time.
    let t = Timer::new(&lp);
    t.start(100, 0, |_| panic!("never run")).unwrap();
    assert_eq!(lp.backend_timeout(), 100);
    lp.advance(Duration::from_millis(30)).unwrap();
    assert_eq!(lp.backend_timeout(), 70);
    lp.advance(Duration::from_millis(70)).unwrap();
    assert_eq!(lp.backend_timeout(), 0, "due now");
    lp.advance(Duration::from_millis(50)).unwrap();
    assert_eq!(lp.backend_timeout(), 0, "overdue");
    t.start(100, 0, |_| {}).unwrap();
    assert_eq!(lp.backend_timeout(), 100);
    // Unreferenced timers still bound the wait while something else is alive.
    t.unref();
    assert_eq!(lp.backend_timeout(), 100);
    t.ref_();

    // An active idle, even unreferenced: 0.
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    idle.unref();
    assert_eq!(lp.backend_timeout(), 0);
    idle.stop().unwrap();
    assert_eq!(lp.backend_timeout(), 100);

    // A closing handle: 0 until its close callback ran.
    let doomed = Timer::new(&lp);
    let closed = counter();
    let c = closed.clone();
    doomed.close(move || bump(&c));
    assert_eq!(lp.backend_timeout(), 0);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(closed.get(), 1);
    assert_eq!(lp.backend_timeout(), 100);

    // After stop(): 0, until a run consumed the stop.
    lp.stop();
    assert_eq!(lp.backend_timeout(), 0);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(lp.backend_timeout(), 100);

    // A huge timeout is capped at i32::MAX.
    t.start(u64::MAX, 0, |_| {}).unwrap();
    assert_eq!(lp.backend_timeout(), i32::MAX);

    // Nothing active and referenced any more: 0 again.
    t.stop().unwrap();
    assert_eq!(lp.backend_timeout(), -1);
    a.unref();
    assert_eq!(lp.backend_timeout(), 0);
    teardown(&lp);
}

#[test]
fn backend_timeout_is_unbounded_for_an_idle_poll_handle() {
    let lp = Loop::with_manual_clock().unwrap();
    let (a, _b) = UnixStream::pair().unwrap();
    let p = Poll::new(&lp, a.as_raw_fd()).unwrap();
    p.start(PollEvents::READABLE, |_, _| panic!("nothing was written"))
        .unwrap();
    // One iteration lets the handle find out that nothing is ready.
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(lp.backend_timeout(), -1);
    teardown(&lp);
}

#[test]
fn backend_timeout_is_unbounded_for_a_freshly_started_poll_handle() {
    // libuv: starting a poll handle only registers interest; with no timer
    // and nothing pending the poll may block without limit.
    let lp = Loop::with_manual_clock().unwrap();
    let (a, _b) = UnixStream::pair().unwrap();
    let p = Poll::new(&lp, a.as_raw_fd()).unwrap();
    p.start(PollEvents::READABLE, |_, _| panic!("nothing was written"))
        .unwrap();
    assert_eq!(lp.backend_timeout(), -1);
    teardown(&lp);
}

#[test]
fn a_poll_handle_started_and_stopped_leaves_the_backend_timeout_alone() {
    let lp = Loop::with_manual_clock().unwrap();
    let t = Timer::new(&lp);
    t.start(250, 0, |_| {}).unwrap();
    let (a, _b) = UnixStream::pair().unwrap();
    let p = Poll::new(&lp, a.as_raw_fd()).unwrap();
    p.start(PollEvents::READABLE, |_, _| panic!("stopped"))
        .unwrap();
    p.stop().unwrap();
    assert!(!p.is_active());
    assert_eq!(lp.backend_timeout(), 250);
    teardown(&lp);
}

#[test]
fn once_does_not_block_while_callbacks_are_pending() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let t = Timer::new(&lp);
    let fired = counter();
    let f = fired.clone();
    t.start(1_000, 0, move |_| bump(&f)).unwrap();
    let (udp, addr) = util::bound_udp(&lp);
    let sent = counter();
    let s = sent.clone();
    udp.send(&[b"x"], Some(addr), move |_, status| {
        status.unwrap();
        bump(&s);
    })
    .unwrap();
    // A send callback is pending when the iteration starts: the poll phase
    // must not sleep (the manual clock would jump to the timer).
    assert_eq!(lp.backend_timeout(), 0);
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    assert_eq!((sent.get(), fired.get(), lp.now()), (1, 0, 0));
    // Nothing pending any more: Once sleeps until the timer.
    assert_eq!(lp.backend_timeout(), 1_000);
    assert_eq!(lp.run(RunMode::Once), Ok(false));
    assert_eq!((sent.get(), fired.get(), lp.now()), (1, 1, 1_000));
    teardown(&lp);
}

#[test]
fn now_is_cached_until_update_time_and_hrtime_is_monotonic() {
    let lp = Loop::new().unwrap();
    assert!(!lp.is_manual_clock());
    assert_eq!(lp.advance(Duration::from_millis(1)), Err(EINVAL));
    let n1 = lp.now();
    let h1 = lp.hrtime();
    std::thread::sleep(Duration::from_millis(3));
    assert_eq!(lp.now(), n1, "now() is cached");
    let h2 = lp.hrtime();
    assert!(h2 >= h1 + 3_000_000, "hrtime moves with real time");
    lp.update_time();
    let n2 = lp.now();
    assert!(n2 >= n1 + 3, "update_time refreshes now(): {n1} -> {n2}");
    assert!(n2 <= lp.hrtime() / 1_000_000);
    let mut last = lp.hrtime();
    for _ in 0..10_000 {
        let h = lp.hrtime();
        assert!(h >= last, "hrtime went backwards: {last} -> {h}");
        last = h;
    }
    // run() on a dead loop refreshes the time too (uv_run's update_time).
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert!(lp.now() >= n2 + 2);
    lp.close().unwrap();
}

#[test]
fn manual_clock_moves_only_when_told() {
    let lp = Loop::with_manual_clock().unwrap();
    assert!(lp.is_manual_clock());
    assert_eq!((lp.now(), lp.hrtime()), (0, 0));
    lp.update_time();
    assert_eq!((lp.now(), lp.hrtime()), (0, 0));
    lp.advance(Duration::from_micros(1_500)).unwrap();
    assert_eq!((lp.now(), lp.hrtime()), (1, 1_500_000));
    lp.advance(Duration::from_nanos(600_000)).unwrap();
    assert_eq!((lp.now(), lp.hrtime()), (2, 2_100_000));
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(lp.now(), 2);

    // Sleeping until a timer is a jump straight to its due time.
    let seen = Rc::new(Cell::new(0));
    let t = Timer::new(&lp);
    let (s, l) = (seen.clone(), lp.clone());
    t.start(998, 0, move |_| s.set(l.now())).unwrap();
    assert_eq!(lp.run(RunMode::Once), Ok(false));
    assert_eq!(seen.get(), 1_000);
    assert_eq!((lp.now(), lp.hrtime()), (1_000, 1_000_000_000));
    teardown(&lp);
}

#[test]
fn walk_visits_every_handle_including_closing_ones() {
    let lp = Loop::with_manual_clock().unwrap();
    let timer = Timer::new(&lp);
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    let prepare = Prepare::new(&lp);
    let check = Check::new(&lp);
    let a = Async::new(&lp, |_| {});
    let (s, _peer) = UnixStream::pair().unwrap();
    let poll = Poll::new(&lp, s.as_raw_fd()).unwrap();
    let (udp, _) = util::bound_udp(&lp);
    idle.close(|| {});
    a.close(|| {});

    let mut seen: Vec<(&'static str, HandleType, bool)> = Vec::new();
    let mut handles: Vec<Handle> = Vec::new();
    lp.walk(|h| {
        seen.push((h.type_name(), h.handle_type(), h.is_closing()));
        handles.push(h.clone());
    });
    seen.sort_by_key(|&(name, _, _)| name);
    assert_eq!(
        seen,
        [
            ("async", HandleType::Async, true),
            ("check", HandleType::Check, false),
            ("idle", HandleType::Idle, true),
            ("poll", HandleType::Poll, false),
            ("prepare", HandleType::Prepare, false),
            ("timer", HandleType::Timer, false),
            ("udp", HandleType::Udp, false),
        ]
    );
    for own in [&*timer, &*idle, &*prepare, &*check, &*a, &*poll, &*udp] {
        assert_eq!(handles.iter().filter(|h| *h == own).count(), 1);
    }

    // Once the close callbacks ran, the closed handles are gone.
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    let mut names = Vec::new();
    lp.walk(|h| names.push(h.type_name()));
    names.sort();
    assert_eq!(names, ["check", "poll", "prepare", "timer", "udp"]);
    teardown(&lp);
}

#[test]
fn loop_close_is_ebusy_while_any_handle_exists() {
    let lp = Loop::with_manual_clock().unwrap();
    let t = Timer::new(&lp);
    assert_eq!(lp.close(), Err(EBUSY), "an inactive handle");
    t.start(5, 0, |_| {}).unwrap();
    assert_eq!(lp.close(), Err(EBUSY), "an active handle");
    let closed = counter();
    let c = closed.clone();
    t.close(move || bump(&c));
    assert_eq!(lp.close(), Err(EBUSY), "a closing handle");
    assert_eq!(lp.handle_count(), 1);
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(closed.get(), 1);
    assert_eq!(lp.handle_count(), 0);
    assert_eq!(lp.close(), Ok(()));

    let empty = Loop::new().unwrap();
    assert_eq!(empty.close(), Ok(()));
}

#[test]
fn default_loop_is_one_per_thread() {
    let a = Loop::default_loop().unwrap();
    let b = Loop::default_loop().unwrap();
    assert!(a.same_loop(&b));
    assert!(a.same_loop(&a.clone()));
    let fresh = Loop::new().unwrap();
    assert!(!a.same_loop(&fresh));
    assert!(!fresh.same_loop(&Loop::new().unwrap()));
    let fd = a.backend_fd();
    let (same_there, fd_there) = std::thread::spawn(|| {
        let c = Loop::default_loop().unwrap();
        let d = Loop::default_loop().unwrap();
        (c.same_loop(&d), c.backend_fd())
    })
    .join()
    .unwrap();
    assert!(same_there);
    // Both default loops were open at the same time: different epoll fds
    // mean different loops.
    assert_ne!(fd_there, fd);
    assert_eq!(Loop::default_loop().unwrap().backend_fd(), fd);
}

/// Reports what `Loop::default_loop()` returned when it was called from a
/// thread-local destructor.
struct AsksForDefaultLoopOnDrop(std::sync::mpsc::Sender<std::thread::Result<Result<(), Error>>>);

impl Drop for AsksForDefaultLoopOnDrop {
    fn drop(&mut self) {
        let outcome = std::panic::catch_unwind(|| Loop::default_loop().map(|_| ()));
        let _ = self.0.send(outcome);
    }
}

thread_local! {
    static ASKS_ON_EXIT: RefCell<Option<AsksForDefaultLoopOnDrop>> = const { RefCell::new(None) };
}

#[test]
fn default_loop_after_its_thread_local_is_gone_is_an_error() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Registered first, so destroyed after the default loop, which is
        // registered by the call below.
        ASKS_ON_EXIT.with(|slot| *slot.borrow_mut() = Some(AsksForDefaultLoopOnDrop(tx)));
        Loop::default_loop().unwrap();
    })
    .join()
    .expect("the thread exits without aborting");
    let outcome = rx.recv().expect("the destructor ran");
    let result = outcome.expect("default_loop does not panic in a destructor");
    assert_eq!(result, Err(Error::Status(StatusCode::EINVAL)));
}
