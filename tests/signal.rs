//! Signal handles: libuv's `test-signal.c`, `test-signal-multiple-loops.c`
//! and `test-signal-pending-on-close.c` behaviours, in our words.
//!
//! Signals go to the whole test process, whose tests run in parallel: each
//! test uses signals no other test uses, and sends one only while a handle
//! watches it (with nobody watching, the default action would end the
//! process). Real-time signals are queued by the kernel, never merged, so
//! tests that count catches use them.

use ruv::{kill, raise, Error, HandleType, Loop, RunMode, Signal, StatusCode};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;

fn rt(n: i32) -> i32 {
    libc::SIGRTMIN() + n
}

fn me() -> i32 {
    std::process::id() as i32
}

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

/// Runs `lp` once at a time until `done` says so (each run blocks until
/// the next event: a signal wakes it).
fn run_until(lp: &Loop, done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        lp.run(RunMode::Once).unwrap();
    }
    panic!("the loop never got there");
}

#[test]
fn a_caught_signal_runs_the_callback_on_the_loop() {
    let lp = Loop::new().unwrap();
    let signal = Signal::new(&lp);
    assert_eq!(signal.handle_type(), HandleType::Signal);
    assert_eq!(signal.type_name(), "signal");
    assert!(!signal.is_active());
    let got = log();
    let g = got.clone();
    signal
        .start(libc::SIGUSR1, move |s, signum| {
            assert!(s.is_active());
            assert_eq!(s.signum(), libc::SIGUSR1);
            g.borrow_mut().push(format!("caught {signum}"));
            s.stop().unwrap();
        })
        .unwrap();
    assert!(signal.is_active());
    assert_eq!(signal.signum(), libc::SIGUSR1);
    assert!(lp.alive(), "a started signal handle keeps the loop alive");
    kill(me(), libc::SIGUSR1).unwrap();
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*got.borrow(), [format!("caught {}", libc::SIGUSR1)]);
    assert!(!signal.is_active());
    assert_eq!(signal.signum(), 0);
    signal.close(|| {});
    lp.run(RunMode::Default).unwrap();
    lp.close().unwrap();
}

#[test]
fn every_handle_and_every_loop_watching_gets_each_catch() {
    let signum = rt(1);
    let (ready_tx, ready_rx) = mpsc::channel();
    let other = std::thread::spawn(move || {
        let lp = Loop::new().unwrap();
        let calls = Rc::new(RefCell::new(0));
        let c = calls.clone();
        let signal = Signal::new(&lp);
        signal
            .start(signum, move |s, _| {
                *c.borrow_mut() += 1;
                s.close(|| {});
            })
            .unwrap();
        ready_tx.send(()).unwrap();
        lp.run(RunMode::Default).unwrap();
        let n = *calls.borrow();
        n
    });
    let lp = Loop::new().unwrap();
    let got = log();
    let handles: Vec<Signal> = (0..2).map(|_| Signal::new(&lp)).collect();
    for (i, h) in handles.iter().enumerate() {
        let g = got.clone();
        h.start(signum, move |s, n| {
            g.borrow_mut().push(format!("handle {i} got {n}"));
            s.close(|| {});
        })
        .unwrap();
    }
    ready_rx.recv().unwrap();
    kill(me(), signum).unwrap();
    lp.run(RunMode::Default).unwrap();
    assert_eq!(
        *got.borrow(),
        [
            format!("handle 0 got {signum}"),
            format!("handle 1 got {signum}")
        ],
        "in start order"
    );
    assert_eq!(other.join().unwrap(), 1, "the other loop got it too");
}

#[test]
fn every_catch_is_one_callback_and_a_oneshot_handle_takes_one() {
    let repeating = rt(2);
    let once = rt(3);
    let lp = Loop::new().unwrap();
    let counts = Rc::new(RefCell::new((0, 0)));
    let keep = Signal::new(&lp);
    let c = counts.clone();
    keep.start(repeating, move |_, _| c.borrow_mut().0 += 1)
        .unwrap();
    let oneshot = Signal::new(&lp);
    // A second watcher keeps ruv's handler for `once` installed after the
    // one-shot handle stops (the default action would end the process).
    let guard = Signal::new(&lp);
    guard.start(once, |_, _| {}).unwrap();
    let c = counts.clone();
    oneshot
        .start_oneshot(once, move |s, _| {
            assert!(s.is_active(), "still active inside its callback");
            c.borrow_mut().1 += 1;
        })
        .unwrap();
    for _ in 0..3 {
        kill(me(), repeating).unwrap();
        kill(me(), once).unwrap();
    }
    run_until(&lp, || *counts.borrow() == (3, 1));
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*counts.borrow(), (3, 1));
    assert!(!oneshot.is_active());
    assert_eq!(oneshot.signum(), 0);
    for h in [&keep, &oneshot, &guard] {
        h.close(|| {});
    }
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn starting_again_replaces_the_callback_or_moves_to_the_new_signal() {
    let first = rt(4);
    let second = rt(5);
    let lp = Loop::new().unwrap();
    let got = log();
    let moved = Signal::new(&lp);
    let stays = Signal::new(&lp);
    let g = got.clone();
    stays
        .start(first, move |_, n| g.borrow_mut().push(format!("stays {n}")))
        .unwrap();
    let g = got.clone();
    moved
        .start(first, move |_, _| {
            g.borrow_mut().push("old callback".into())
        })
        .unwrap();
    let g = got.clone();
    moved
        .start(first, move |_, n| {
            g.borrow_mut().push(format!("new callback {n}"))
        })
        .unwrap();
    kill(me(), first).unwrap();
    run_until(&lp, || got.borrow().len() == 2);
    assert_eq!(
        *got.borrow(),
        [format!("stays {first}"), format!("new callback {first}")]
    );
    got.borrow_mut().clear();
    let g = got.clone();
    moved
        .start(second, move |_, n| {
            g.borrow_mut().push(format!("moved {n}"))
        })
        .unwrap();
    assert_eq!(moved.signum(), second);
    kill(me(), first).unwrap();
    kill(me(), second).unwrap();
    run_until(&lp, || got.borrow().len() == 2);
    lp.run(RunMode::NoWait).unwrap();
    // The two kills may be caught on different threads, in either order.
    let mut seen = got.borrow().clone();
    seen.sort();
    assert_eq!(
        seen,
        [format!("moved {second}"), format!("stays {first}")],
        "the moved handle no longer gets {first}"
    );
    moved.close(|| {});
    stays.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn numbers_no_handle_may_watch_are_einval() {
    let lp = Loop::new().unwrap();
    let signal = Signal::new(&lp);
    for signum in [0, -1, 65, libc::SIGKILL, libc::SIGSTOP, 32, 33] {
        assert_eq!(
            signal.start(signum, |_, _| {}),
            Err(Error::Status(StatusCode::EINVAL)),
            "{signum}"
        );
        assert!(!signal.is_active());
        assert_eq!(signal.signum(), 0);
    }
    assert!(!lp.alive());
    signal.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn a_handle_closed_before_its_catch_is_dispatched_is_not_called() {
    let signum = rt(6);
    let lp = Loop::new().unwrap();
    let signal = Signal::new(&lp);
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    signal
        .start(signum, move |_, _| *c.borrow_mut() += 1)
        .unwrap();
    // A second watcher shows when the catch was dispatched (and keeps
    // ruv's handler installed until then: the kill may reach another
    // thread of this process after `kill` returned).
    let witness = Signal::new(&lp);
    let seen = Rc::new(RefCell::new(0));
    let s = seen.clone();
    witness
        .start(signum, move |w, _| {
            *s.borrow_mut() += 1;
            w.close(|| {});
        })
        .unwrap();
    kill(me(), signum).unwrap();
    let closed = Rc::new(RefCell::new(0));
    let c = closed.clone();
    signal.close(move || *c.borrow_mut() += 1);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*seen.borrow(), 1);
    assert_eq!(*closed.borrow(), 1);
    assert_eq!(*calls.borrow(), 0, "the closed handle was not called");
    assert_eq!(signal.start(signum, |_, _| {}), Err(Error::ClosedHandle));
    lp.close().unwrap();
}

#[test]
fn an_unreferenced_signal_handle_does_not_keep_the_loop_alive() {
    let lp = Loop::new().unwrap();
    let signal = Signal::new(&lp);
    signal.start(rt(7), |_, _| {}).unwrap();
    signal.unref();
    assert!(!lp.alive());
    assert!(!lp.run(RunMode::Default).unwrap());
    let dump = format!("{}", lp.handles());
    assert!(dump.contains("signal"), "{dump}");
    signal.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn kill_reports_libuvs_codes() {
    assert_eq!(kill(me(), 0), Ok(()), "0 checks that the process exists");
    assert_eq!(kill(i32::MAX, 0), Err(Error::Status(StatusCode::ESRCH)));
    assert_eq!(kill(me(), 1000), Err(Error::Status(StatusCode::EINVAL)));
}

/// `raise` runs ruv's handler on this thread before it returns, so these
/// tests know exactly which handles were watching at the catch.
#[test]
fn a_catch_goes_to_the_handles_watching_when_it_was_caught() {
    let signum = rt(8);
    let lp = Loop::new().unwrap();
    let got = log();
    let early = Signal::new(&lp);
    let late = Signal::new(&lp);
    let g = got.clone();
    early
        .start(signum, move |_, _| g.borrow_mut().push("early".into()))
        .unwrap();
    raise(signum).unwrap();
    raise(signum).unwrap();
    let g = got.clone();
    late.start(signum, move |_, _| g.borrow_mut().push("late".into()))
        .unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*got.borrow(), ["early", "early"], "one callback per catch");
    raise(signum).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*got.borrow(), ["early", "early", "early", "late"]);
    early.close(|| {});
    late.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn a_handle_stopped_before_dispatch_loses_its_catches() {
    let signum = rt(9);
    let lp = Loop::new().unwrap();
    let counts = Rc::new(RefCell::new((0, 0)));
    let restarted = Signal::new(&lp);
    let steady = Signal::new(&lp);
    let c = counts.clone();
    steady
        .start(signum, move |_, _| c.borrow_mut().1 += 1)
        .unwrap();
    restarted.start(signum, |_, _| {}).unwrap();
    raise(signum).unwrap();
    restarted.stop().unwrap();
    let c = counts.clone();
    restarted
        .start(signum, move |_, _| c.borrow_mut().0 += 1)
        .unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*counts.borrow(), (0, 1));
    steady.close(|| {});
    restarted.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn a_callback_swapped_from_inside_takes_the_catches_left() {
    let signum = rt(10);
    let lp = Loop::new().unwrap();
    let got = log();
    let signal = Signal::new(&lp);
    let g = got.clone();
    signal
        .start(signum, move |s, _| {
            g.borrow_mut().push("first".into());
            let g = g.clone();
            s.start(signum, move |_, _| g.borrow_mut().push("second".into()))
                .unwrap();
        })
        .unwrap();
    for _ in 0..3 {
        raise(signum).unwrap();
    }
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*got.borrow(), ["first", "second", "second"]);
    assert!(signal.is_active());
    signal.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn a_callback_that_stops_its_handle_gets_no_more_catches() {
    let signum = rt(11);
    let lp = Loop::new().unwrap();
    let calls = Rc::new(RefCell::new(0));
    let signal = Signal::new(&lp);
    let keeper = Signal::new(&lp);
    keeper.start(signum, |_, _| {}).unwrap();
    let c = calls.clone();
    signal
        .start(signum, move |s, _| {
            *c.borrow_mut() += 1;
            s.stop().unwrap();
        })
        .unwrap();
    for _ in 0..3 {
        raise(signum).unwrap();
    }
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*calls.borrow(), 1);
    assert!(!signal.is_active());
    signal.close(|| {});
    keeper.close(|| {});
    lp.run(RunMode::Default).unwrap();
}
