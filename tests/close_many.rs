//! Closing many handles: `close` and `close_with` from inside callbacks
//! with 0, 1, 2 and many handles, close callbacks of every capture size
//! (nothing, one word, several words), their order (the reverse of the
//! `close` calls), what they capture dropped exactly once, handles closed
//! by close callbacks waiting for the next closing phase, and liveness
//! while handles are closing.

mod util;

use ruv::{Handle, HandleType, Idle, Loop, RunMode, Timer};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

type Log = Rc<RefCell<Vec<u64>>>;

thread_local! {
    /// Calls of the capture-free close callbacks on this test's thread.
    static CAPTURE_FREE_CALLS: Cell<usize> = const { Cell::new(0) };
}

/// The close callback of handle `i`: captures nothing, one word or
/// several words (`i % 3`); the capturing ones log `i`.
fn close_cb(i: usize, log: &Log, witness: &Rc<()>) -> Box<dyn FnOnce(&Handle)> {
    match i % 3 {
        0 => Box::new(|h: &Handle| {
            assert!(h.is_closed());
            CAPTURE_FREE_CALLS.with(|c| c.set(c.get() + 1));
        }),
        1 => {
            let log = log.clone();
            Box::new(move |_: &Handle| log.borrow_mut().push(i as u64))
        }
        _ => {
            let (log, witness) = (log.clone(), witness.clone());
            let padding = [i as u64; 4];
            Box::new(move |_: &Handle| {
                let _keep = &witness;
                log.borrow_mut().push(padding[3]);
            })
        }
    }
}

/// `n` fired timers closed by another timer's callback, which then closes
/// itself.
fn close_many_from_a_timer_callback(n: usize) {
    CAPTURE_FREE_CALLS.with(|c| c.set(0));
    let lp = Loop::with_manual_clock().unwrap();
    let log: Log = Rc::default();
    let witness = Rc::new(());
    let fired = Rc::new(Cell::new(0));
    let timers: Vec<Timer> = (0..n)
        .map(|i| {
            let t = Timer::new(&lp);
            let f = fired.clone();
            t.start((i % 3) as u64, 0, move |_| f.set(f.get() + 1))
                .unwrap();
            t
        })
        .collect();
    let closer = Timer::new(&lp);
    let order: Rc<RefCell<Vec<u64>>> = Rc::default();
    {
        let (log, witness, order, timers) =
            (log.clone(), witness.clone(), order.clone(), timers.clone());
        closer
            .start(5, 0, move |me| {
                for (i, t) in timers.iter().enumerate() {
                    assert!(!t.is_closing());
                    let cb = close_cb(i, &log, &witness);
                    let order = order.clone();
                    let id = t.id();
                    // Every callback also records which handle it got.
                    t.close_with(move |h| {
                        assert_eq!(h.id(), id);
                        order.borrow_mut().push(id);
                        cb(h);
                    });
                    assert!(t.is_closing() && !t.is_closed());
                }
                me.close(|| {});
                assert!(me.get_loop().alive(), "closing handles keep it alive");
            })
            .unwrap();
    }
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), n);
    // Last closed first.
    let expected: Vec<u64> = timers.iter().rev().map(|t| t.id()).collect();
    assert_eq!(*order.borrow(), expected);
    let logged: Vec<u64> = (0..n as u64).rev().filter(|i| i % 3 != 0).collect();
    assert_eq!(*log.borrow(), logged);
    assert_eq!(CAPTURE_FREE_CALLS.with(Cell::get), n.div_ceil(3));
    assert!(timers.iter().all(|t| t.is_closed()));
    assert!(!lp.alive());
    assert_eq!(Rc::strong_count(&witness), 1, "every capture dropped once");
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

#[test]
fn closing_no_timer_from_a_timer_callback() {
    close_many_from_a_timer_callback(0);
}

#[test]
fn closing_one_timer_from_a_timer_callback() {
    close_many_from_a_timer_callback(1);
}

#[test]
fn closing_two_and_three_timers_from_a_timer_callback() {
    close_many_from_a_timer_callback(2);
    close_many_from_a_timer_callback(3);
}

#[test]
fn closing_many_timers_from_a_timer_callback() {
    close_many_from_a_timer_callback(2000);
}

#[test]
fn close_with_gets_the_closed_handle() {
    let lp = Loop::with_manual_clock().unwrap();
    let timer = Timer::new(&lp);
    let idle = Idle::new(&lp);
    let (udp, _) = util::bound_udp(&lp);
    let got: Rc<RefCell<Vec<(Handle, HandleType, bool)>>> = Rc::default();
    for h in [&*timer, &*idle, &*udp] {
        let got = got.clone();
        h.close_with(move |closed| {
            got.borrow_mut()
                .push((closed.clone(), closed.handle_type(), closed.is_closed()));
        });
    }
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    let got = got.borrow();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], (udp.as_ref().clone(), HandleType::Udp, true));
    assert_eq!(got[1], (idle.as_ref().clone(), HandleType::Idle, true));
    assert_eq!(got[2], (timer.as_ref().clone(), HandleType::Timer, true));
    assert!(got[2].0.get_loop().same_loop(&lp));
    lp.close().unwrap();
}

#[test]
fn close_with_on_a_closing_handle_drops_its_callback_unrun() {
    let lp = Loop::with_manual_clock().unwrap();
    let timer = Timer::new(&lp);
    let witness = Rc::new(());
    let ran = Rc::new(Cell::new(0));
    let r = ran.clone();
    timer.close(move || r.set(r.get() + 1));
    let w = witness.clone();
    timer.close_with(move |_| {
        let _keep = &w;
        panic!("a second close callback ran");
    });
    assert_eq!(Rc::strong_count(&witness), 1, "dropped at once");
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(ran.get(), 1);
    lp.close().unwrap();
}

/// A chain of handles each closed by the previous one's close callback:
/// each waits for the next closing phase (one loop iteration later).
#[test]
fn handles_closed_by_close_callbacks_close_one_iteration_apart() {
    let lp = Loop::with_manual_clock().unwrap();
    let chain: Vec<Timer> = (0..4).map(|_| Timer::new(&lp)).collect();
    let at: Rc<RefCell<Vec<u64>>> = Rc::default();
    let iteration = Rc::new(Cell::new(0u64));
    let counter = ruv::Prepare::new(&lp);
    let it = iteration.clone();
    counter.start(move |_| it.set(it.get() + 1)).unwrap();

    fn close_next(chain: Rc<Vec<Timer>>, i: usize, at: Rc<RefCell<Vec<u64>>>, it: Rc<Cell<u64>>) {
        let next = chain.clone();
        chain[i].close(move || {
            at.borrow_mut().push(it.get());
            if i + 1 < next.len() {
                close_next(next, i + 1, at, it);
            }
        });
    }
    close_next(Rc::new(chain.clone()), 0, at.clone(), iteration.clone());
    for _ in 0..chain.len() {
        assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    }
    assert_eq!(*at.borrow(), [1, 2, 3, 4]);
    assert!(chain.iter().all(|t| t.is_closed()));
    counter.close(|| {});
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    lp.close().unwrap();
}
