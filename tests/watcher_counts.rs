//! Watcher phases with every interesting number of started watchers: none,
//! one, the phase snapshot's inline capacity (4), one past it, six and a
//! thousand — for idle, prepare and check alike. Five started idle watchers
//! once made every `Loop::run` panic while slicing the inline snapshot.
//!
//! Each case checks libuv's order (most recently started first), that a
//! watcher stopped by an earlier callback of the same phase does not run,
//! and that one started during the phase waits for the next iteration.

use ruv::{Loop, RunMode, Watcher, WatcherPhase};
use std::cell::RefCell;
use std::rc::Rc;

const COUNTS: [usize; 6] = [0, 1, 4, 5, 6, 1000];

type Log = Rc<RefCell<Vec<usize>>>;
/// Restarts every watcher; shared with the watchers' own callbacks.
type Restart = Rc<RefCell<Option<Box<dyn Fn()>>>>;

/// Starts a watcher that logs `id` on every run.
fn start_logging<P: WatcherPhase>(lp: &Loop, id: usize, log: &Log) -> Watcher<P> {
    let w = Watcher::<P>::new(lp);
    let log = log.clone();
    w.start(move |_| log.borrow_mut().push(id)).unwrap();
    w
}

fn run_plain_iterations<P: WatcherPhase>(n: usize) {
    let lp = Loop::new().unwrap();
    let log: Log = Rc::default();
    let watchers: Vec<Watcher<P>> = (0..n).map(|i| start_logging(&lp, i, &log)).collect();
    let newest_first: Vec<usize> = (0..n).rev().collect();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
        assert_eq!(*log.borrow(), newest_first, "{n} watchers");
        log.borrow_mut().clear();
    }
    for w in &watchers {
        w.close(|| {});
    }
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// The newest watcher, which runs first, stops every even-numbered watcher
/// and starts `n` fresh ones; the stopped ones must not run in this pass,
/// the fresh ones only from the next iteration on (newest first).
fn run_with_changes_from_callbacks<P: WatcherPhase>(n: usize) {
    let lp = Loop::new().unwrap();
    let log: Log = Rc::default();
    let all: Rc<RefCell<Vec<Watcher<P>>>> = Rc::default();
    for i in 0..n {
        let w = Watcher::<P>::new(&lp);
        let (log, all_in_cb, lp_in_cb) = (log.clone(), all.clone(), lp.clone());
        let newest = i + 1 == n;
        let mut first_run = true;
        w.start(move |_| {
            log.borrow_mut().push(i);
            if newest && first_run {
                first_run = false;
                let originals: Vec<Watcher<P>> = all_in_cb.borrow()[..n].to_vec();
                for (j, other) in originals.iter().enumerate() {
                    if j % 2 == 0 && j != i {
                        other.stop().unwrap();
                    }
                }
                for k in 0..n {
                    let fresh = start_logging::<P>(&lp_in_cb, n + k, &log);
                    all_in_cb.borrow_mut().push(fresh);
                }
            }
        })
        .unwrap();
        all.borrow_mut().push(w);
    }
    lp.run(RunMode::NoWait).unwrap();
    let survivors: Vec<usize> = (0..n).rev().filter(|&j| j % 2 == 1 || j + 1 == n).collect();
    assert_eq!(*log.borrow(), survivors, "first pass with {n} watchers");
    log.borrow_mut().clear();

    lp.run(RunMode::NoWait).unwrap();
    let mut second: Vec<usize> = (n..2 * n).rev().collect();
    second.extend(&survivors);
    assert_eq!(*log.borrow(), second, "second pass with {n} watchers");

    for w in all.borrow().iter() {
        w.close(|| {});
    }
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// Every watcher stops itself on its first run and the last one to run
/// starts them all again: the next iteration runs them all once more.
fn run_self_stopping<P: WatcherPhase>(n: usize) {
    let lp = Loop::new().unwrap();
    let log: Log = Rc::default();
    let all: Rc<RefCell<Vec<Watcher<P>>>> = Rc::default();
    let restart: Restart = Rc::default();
    for _ in 0..n {
        all.borrow_mut().push(Watcher::<P>::new(&lp));
    }
    {
        let (all, log) = (all.clone(), log.clone());
        let restart_ref = restart.clone();
        *restart.borrow_mut() = Some(Box::new(move || {
            for (i, w) in all.borrow().iter().enumerate() {
                let (log, restart_ref) = (log.clone(), restart_ref.clone());
                w.start(move |me| {
                    log.borrow_mut().push(i);
                    me.stop().unwrap();
                    if i == 0 && log.borrow().len() == n {
                        if let Some(again) = restart_ref.borrow().as_ref() {
                            again();
                        }
                    }
                })
                .unwrap();
            }
        }));
    }
    (restart.borrow().as_ref().unwrap())();
    lp.run(RunMode::NoWait).unwrap();
    let newest_first: Vec<usize> = (0..n).rev().collect();
    assert_eq!(*log.borrow(), newest_first);
    log.borrow_mut().clear();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*log.borrow(), newest_first);
    restart.borrow_mut().take();
    for w in all.borrow().iter() {
        w.close(|| {});
    }
    assert!(!lp.run(RunMode::Default).unwrap());
    lp.close().unwrap();
}

macro_rules! phase_tests {
    ($($name:ident: $phase:ty,)*) => {$(
        mod $name {
            use super::*;

            #[test]
            fn every_count_runs_newest_first() {
                for n in COUNTS {
                    run_plain_iterations::<$phase>(n);
                }
            }

            #[test]
            fn every_count_with_stops_and_starts_from_callbacks() {
                for n in COUNTS {
                    run_with_changes_from_callbacks::<$phase>(n);
                }
            }

            #[test]
            fn every_count_stopping_themselves() {
                for n in COUNTS {
                    run_self_stopping::<$phase>(n);
                }
            }
        }
    )*};
}

phase_tests! {
    idle: ruv::IdlePhase,
    prepare: ruv::PreparePhase,
    check: ruv::CheckPhase,
}
