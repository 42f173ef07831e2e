//! Re-entrancy: from inside timer, idle, prepare, check, async, poll and
//! close callbacks a user may close its own handle and others, create and
//! start handles, start and stop timers and stop the loop. Plus double
//! close and the ref/active/closing flags around close.

mod util;

use ruv::{Async, Check, Error, Handle, Idle, Loop, Poll, PollEvents, Prepare, RunMode, Timer};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

type Log = Rc<RefCell<Vec<&'static str>>>;

const VIRTUAL_WATCHDOG_MS: u64 = 100 * 3_600_000;

fn logger(log: &Log, entry: &'static str) -> impl FnOnce() + 'static {
    let log = log.clone();
    move || log.borrow_mut().push(entry)
}

fn teardown(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// What the callback under test works on.
struct Env {
    lp: Loop,
    log: Log,
    /// A started check handle the callback closes.
    other: Check,
    /// A referenced one-hour timer the callback stops.
    long: Timer,
    /// A stopped timer the callback starts.
    short: Timer,
    /// Set once the actions ran, so they run only once.
    done: Cell<bool>,
    watchdog: Timer,
}

impl Env {
    fn new(lp: &Loop) -> Rc<Env> {
        let watchdog = util::watchdog(lp, VIRTUAL_WATCHDOG_MS);
        let other = Check::new(lp);
        other.start(|_| {}).unwrap();
        let long = Timer::new(lp);
        long.start(3_600_000, 0, |_| panic!("the stopped one-hour timer fired"))
            .unwrap();
        Rc::new(Env {
            lp: lp.clone(),
            log: Rc::default(),
            other,
            long,
            short: Timer::new(lp),
            done: Cell::new(false),
            watchdog,
        })
    }

    /// The actions, run from inside the callback under test. `own` is the
    /// handle whose callback it is, when it may still be closed.
    fn act(&self, own: Option<&Handle>) {
        if self.done.replace(true) {
            return;
        }
        self.log.borrow_mut().push("callback");
        if let Some(own) = own {
            own.close(logger(&self.log, "own close cb"));
            assert!(own.is_closing() && !own.is_active());
            own.close(|| panic!("second close callback ran"));
        }
        self.other.close(logger(&self.log, "other close cb"));
        assert!(self.other.is_closing());

        let t = Timer::new(&self.lp);
        let l = self.log.clone();
        t.start(0, 0, move |t| {
            l.borrow_mut().push("new timer");
            t.close(|| {});
        })
        .unwrap();
        let i = Idle::new(&self.lp);
        let l = self.log.clone();
        i.start(move |i| {
            l.borrow_mut().push("new idle");
            i.close(|| {});
        })
        .unwrap();
        assert!(t.is_active() && i.is_active());

        self.long.stop().unwrap();
        assert!(!self.long.is_active());
        let l = self.log.clone();
        self.short
            .start(5, 0, move |t| {
                l.borrow_mut().push("short timer");
                t.close(|| {});
            })
            .unwrap();
        assert_eq!(self.short.due_in(), Ok(5));

        self.lp.stop();
    }

    /// Runs the loop: the first run ends through the stop() in the
    /// callback, the second one when nothing is left.
    fn run_and_check(&self, own_closed_by_callback: bool) {
        assert_eq!(self.lp.run(RunMode::Default), Ok(true), "stopped");
        assert!(self.done.get(), "the callback under test ran");
        assert_eq!(self.lp.run(RunMode::Default), Ok(false));
        let mut got = self.log.borrow().clone();
        got.sort_unstable();
        let mut expected = vec![
            "callback",
            "new idle",
            "new timer",
            "other close cb",
            "short timer",
        ];
        if own_closed_by_callback {
            expected.push("own close cb");
        }
        expected.sort_unstable();
        assert_eq!(got, expected);
        // Only the stopped one-hour timer and the watchdog are left.
        assert!(self.other.is_closed() && self.short.is_closed());
        let mut left = Vec::new();
        self.lp.walk(|h| left.push(h.clone()));
        assert_eq!(left.len(), 2);
        assert!(left.contains(&self.long) && left.contains(&self.watchdog));
    }
}

fn manual_loop() -> Loop {
    Loop::with_manual_clock().unwrap()
}

#[test]
fn from_a_timer_callback() {
    let lp = manual_loop();
    let env = Env::new(&lp);
    let t = Timer::new(&lp);
    let e = env.clone();
    t.start(1, 1, move |t| e.act(Some(t))).unwrap();
    env.run_and_check(true);
    assert!(t.is_closed());
    teardown(&lp);
}

#[test]
fn from_an_idle_callback() {
    let lp = manual_loop();
    let env = Env::new(&lp);
    let w = Idle::new(&lp);
    let e = env.clone();
    w.start(move |w| e.act(Some(w))).unwrap();
    env.run_and_check(true);
    assert!(w.is_closed());
    teardown(&lp);
}

#[test]
fn from_a_prepare_callback() {
    let lp = manual_loop();
    let env = Env::new(&lp);
    let w = Prepare::new(&lp);
    let e = env.clone();
    w.start(move |w| e.act(Some(w))).unwrap();
    env.run_and_check(true);
    assert!(w.is_closed());
    teardown(&lp);
}

#[test]
fn from_a_check_callback() {
    let lp = manual_loop();
    let env = Env::new(&lp);
    let w = Check::new(&lp);
    let e = env.clone();
    w.start(move |w| e.act(Some(w))).unwrap();
    env.run_and_check(true);
    assert!(w.is_closed());
    teardown(&lp);
}

#[test]
fn from_an_async_callback() {
    let lp = manual_loop();
    let env = Env::new(&lp);
    let e = env.clone();
    let a = Async::new(&lp, move |a| e.act(Some(a)));
    let sender = a.sender().unwrap();
    std::thread::spawn(move || sender.send().unwrap())
        .join()
        .unwrap();
    env.run_and_check(true);
    assert!(a.is_closed());
    assert_eq!(a.send(), Err(Error::ClosedHandle));
    teardown(&lp);
}

#[test]
fn from_a_poll_callback() {
    let lp = manual_loop();
    let env = Env::new(&lp);
    let (sock, mut peer) = UnixStream::pair().unwrap();
    peer.write_all(b"wake").unwrap();
    let p = Poll::new(&lp, sock.as_raw_fd()).unwrap();
    let e = env.clone();
    p.start(PollEvents::READABLE, move |p, ev| {
        assert_eq!(ev, Ok(PollEvents::READABLE));
        e.act(Some(p));
    })
    .unwrap();
    env.run_and_check(true);
    assert!(p.is_closed());
    teardown(&lp);
}

#[test]
fn from_a_close_callback() {
    let lp = manual_loop();
    let env = Env::new(&lp);
    let t = Timer::new(&lp);
    t.start(1_000, 0, |_| panic!("closed timer fired")).unwrap();
    let (e, own) = (env.clone(), t.clone());
    t.close(move || {
        // The handle is gone by the time its close callback runs: closing
        // it again does nothing.
        assert!(own.is_closing() && own.is_closed() && !own.is_active());
        own.close(|| panic!("close of a closed handle ran its callback"));
        e.act(None);
    });
    env.run_and_check(false);
    teardown(&lp);
}

#[test]
fn closing_a_handle_twice_is_a_no_op() {
    let lp = Loop::with_manual_clock().unwrap();
    let first = Rc::new(Cell::new(0));
    let t = Timer::new(&lp);
    t.start(10, 10, |_| panic!("closed timer fired")).unwrap();
    let f = first.clone();
    t.close(move || f.set(f.get() + 1));
    t.close(|| panic!("second close callback ran"));
    t.clone().close(|| panic!("close through a clone ran"));
    Handle::from(t.clone()).close(|| panic!("close through a Handle ran"));
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(first.get(), 1);
    // After the close callback ran.
    t.close(|| panic!("close after closed ran"));
    lp.advance(Duration::from_millis(100)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(first.get(), 1);

    // Every handle type.
    let log: Log = Rc::default();
    let (udp, _) = util::bound_udp(&lp);
    let (s, _peer) = UnixStream::pair().unwrap();
    let handles: Vec<Handle> = vec![
        Timer::new(&lp).into(),
        Idle::new(&lp).into(),
        Prepare::new(&lp).into(),
        Check::new(&lp).into(),
        Async::new(&lp, |_| {}).into(),
        Poll::new(&lp, s.as_raw_fd()).unwrap().into(),
        udp.into(),
    ];
    for h in &handles {
        h.close(logger(&log, h.type_name()));
        h.close(|| panic!("second close callback ran"));
    }
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(
        *log.borrow(),
        ["udp", "poll", "async", "check", "prepare", "idle", "timer"]
    );
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

#[test]
fn ref_unref_active_and_closing_around_close() {
    let lp = Loop::with_manual_clock().unwrap();
    let t = Timer::new(&lp);
    assert!(t.has_ref() && !t.is_active() && !t.is_closing() && !t.is_closed());
    t.unref();
    assert!(!t.has_ref());
    t.ref_();
    assert!(t.has_ref());
    t.start(10, 0, |_| {}).unwrap();
    assert!(t.is_active());

    t.close(|| {});
    // Closing: inactive, still referenced (libuv leaves the flag alone),
    // and the loop stays alive until the close callback ran.
    assert!(!t.is_active() && t.is_closing() && !t.is_closed());
    assert!(t.has_ref());
    t.unref();
    assert!(!t.has_ref());
    assert!(lp.alive());
    t.ref_();
    assert!(t.has_ref());
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));

    // Closed: nothing is active or referenced, and ref/unref are no-ops.
    assert!(!t.is_active() && t.is_closing() && t.is_closed());
    assert!(!t.has_ref());
    t.ref_();
    assert!(!t.has_ref());
    t.unref();
    assert!(!lp.alive());

    // The same for a handle that is active from creation.
    let a = Async::new(&lp, |_| {});
    assert!(a.is_active() && a.has_ref() && !a.is_closing());
    a.unref();
    assert!(a.is_active() && !a.has_ref() && !lp.alive());
    a.close(|| {});
    assert!(!a.is_active() && a.is_closing() && !a.has_ref());
    assert!(lp.alive());
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert!(a.is_closed() && !a.has_ref() && !a.is_active());
    lp.close().unwrap();
}

#[test]
fn a_callback_may_close_the_handle_whose_callback_runs_next() {
    // Two timers due together and two idles: the first of each pair closes
    // the second, which therefore never runs; the loop still ends.
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let log: Log = Rc::default();
    let t1 = Timer::new(&lp);
    let t2 = Timer::new(&lp);
    let (l, t2c) = (log.clone(), t2.clone());
    t1.start(5, 0, move |t| {
        l.borrow_mut().push("t1");
        t2c.close(|| {});
        t.close(|| {});
    })
    .unwrap();
    t2.start(5, 0, |_| panic!("t2 ran after being closed"))
        .unwrap();
    let i1 = Idle::new(&lp);
    let i2 = Idle::new(&lp);
    let (l, i1c) = (log.clone(), i1.clone());
    i1.start(|_| panic!("i1 ran after being closed")).unwrap();
    i2.start(move |i| {
        l.borrow_mut().push("i2");
        i1c.close(|| {});
        i.close(|| {});
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(*log.borrow(), ["i2", "t1"]);
    assert!(t1.is_closed() && t2.is_closed() && i1.is_closed() && i2.is_closed());
    teardown(&lp);
}
