//! `Handle::close_to_hook` and `Loop::set_close_hook`: the close uv-compat's
//! `uv_close` uses (nothing stored per handle but its slot). The hook runs
//! once per handle, in the reverse order of the close calls, interleaved
//! with `close_with` callbacks; handles it closes wait for the next closing
//! phase; the handle is closing and inactive at once; the loop's liveness
//! is exact throughout; a due timer closed before it fired never fires; a
//! panicking close callback leaves the rest of both kinds for the next run.
//! Boundaries: 0, 1, 2 and many handles.

use ruv::{Handle, Idle, Loop, RunMode, Timer};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

thread_local! {
    /// Ids of the handles the hook was called with, in call order.
    static HOOKED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    /// Handles the hook closes (to the hook) when it gets the handle of the
    /// paired id.
    static CLOSE_NEXT: RefCell<Vec<(u64, Handle)>> = const { RefCell::new(Vec::new()) };
    /// Set when the hook should panic for this id.
    static PANIC_FOR: Cell<u64> = const { Cell::new(u64::MAX) };
}

fn hook(h: &Handle) {
    assert!(h.is_closed(), "the hook runs once the slot is gone");
    HOOKED.with(|l| l.borrow_mut().push(h.id()));
    let next: Vec<Handle> = CLOSE_NEXT.with(|c| {
        let mut c = c.borrow_mut();
        let (now, later): (Vec<_>, Vec<_>) = c.drain(..).partition(|(id, _)| *id == h.id());
        *c = later;
        now.into_iter().map(|(_, h)| h).collect()
    });
    for other in next {
        other.close_to_hook();
        assert!(other.is_closing() && !other.is_closed());
    }
    if PANIC_FOR.with(Cell::get) == h.id() {
        panic!("user bug in a close hook");
    }
}

fn hooked() -> Vec<u64> {
    HOOKED.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

fn reset() {
    hooked();
    CLOSE_NEXT.with(|c| c.borrow_mut().clear());
    PANIC_FOR.with(|p| p.set(u64::MAX));
}

/// Timers in every state a close can find them in (never started, fired,
/// stopped, armed, armed and unreferenced) and, every seventh, an idle
/// handle (started or not): the closing list links timers through their
/// slots and other handles through a side list.
fn handles(lp: &Loop, n: usize) -> Vec<Handle> {
    let mut to_start = Vec::new();
    let all: Vec<Handle> = (0..n)
        .map(|i| {
            if i % 7 == 6 {
                let idle = Idle::new(lp);
                if i % 2 == 0 {
                    to_start.push(idle.clone());
                }
                return Handle::from(idle);
            }
            let t = Timer::new(lp);
            match i % 5 {
                0 => {}
                1 => t.start(0, 0, |_| {}).unwrap(),
                2 => {
                    t.start(5, 0, |_| panic!("stopped timer fired")).unwrap();
                    t.stop().unwrap();
                }
                3 => t.start(1_000, 0, |_| panic!("closed timer fired")).unwrap(),
                _ => {
                    t.start(1_000, 7, |_| panic!("closed timer fired")).unwrap();
                    t.unref();
                }
            }
            Handle::from(t)
        })
        .collect();
    // Fires the started timers; the idle handles start after.
    lp.run(RunMode::NoWait).unwrap();
    for idle in to_start {
        idle.start(|_| panic!("closed idle ran")).unwrap();
    }
    all
}

/// `n` handles, every third closed with a callback, the others to the hook:
/// each gets exactly one call, most recently closed first.
fn close_n_mixed(n: usize) {
    reset();
    let lp = Loop::with_manual_clock().unwrap();
    lp.set_close_hook(Some(hook));
    let timers = handles(&lp, n);
    let by_cb: Rc<RefCell<Vec<u64>>> = Rc::default();
    let order: Vec<u64> = timers.iter().map(|t| t.id()).collect();
    for (i, t) in timers.iter().enumerate() {
        if i % 3 == 2 {
            let log = by_cb.clone();
            t.close_with(move |h| {
                // Calls of both kinds go to one log, in call order.
                HOOKED.with(|l| l.borrow_mut().push(h.id()));
                log.borrow_mut().push(h.id());
            });
        } else {
            t.close_to_hook();
        }
        assert!(t.is_closing() && !t.is_closed() && !t.is_active());
        assert!(
            lp.alive() && lp.liveness().is_alive(),
            "a closing handle keeps the loop alive"
        );
        // Closing again does nothing.
        t.close_to_hook();
    }
    assert_eq!(lp.handle_count(), n);
    lp.run(RunMode::NoWait).unwrap();
    let mut expected = order.clone();
    expected.reverse();
    assert_eq!(
        hooked(),
        expected,
        "{n} handles: one call each, most recent first"
    );
    assert_eq!(by_cb.borrow().len(), n / 3);
    assert!(timers.iter().all(|t| t.is_closed()));
    assert_eq!(lp.handle_count(), 0);
    assert!(!lp.alive() && !lp.liveness().is_alive());
    lp.close().unwrap();
}

#[test]
fn closing_no_handle_to_the_hook() {
    close_n_mixed(0);
}

#[test]
fn closing_one_handle_to_the_hook() {
    close_n_mixed(1);
}

#[test]
fn closing_two_and_three_handles_to_the_hook_and_callbacks() {
    close_n_mixed(2);
    close_n_mixed(3);
}

#[test]
fn closing_many_handles_to_the_hook_and_callbacks() {
    close_n_mixed(1_000);
}

/// The loop's liveness is exact at every step: an idle loop becomes alive
/// by closing an unarmed timer; an armed timer's close moves the loop's
/// life from the timer to the closing list; the loop is dead once the
/// closing phase has run.
#[test]
fn liveness_is_exact_around_a_close_to_the_hook() {
    reset();
    let lp = Loop::with_manual_clock().unwrap();
    lp.set_close_hook(Some(hook));
    let alive = lp.liveness();
    let idle = Timer::new(&lp);
    assert!(!lp.alive() && !alive.is_alive());
    idle.close_to_hook();
    assert!(lp.alive() && alive.is_alive());
    assert!(!lp.run(RunMode::NoWait).unwrap());
    assert!(!lp.alive() && !alive.is_alive());
    assert_eq!(hooked(), vec![idle.id()]);

    let armed = Timer::new(&lp);
    armed
        .start(50, 0, |_| panic!("closed timer fired"))
        .unwrap();
    assert!(armed.is_active() && alive.is_alive());
    armed.close_to_hook();
    assert!(!armed.is_active() && armed.is_closing() && alive.is_alive());
    lp.advance(std::time::Duration::from_millis(100)).unwrap();
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(!lp.alive() && !alive.is_alive());
    assert_eq!(hooked(), vec![armed.id()]);
    lp.close().unwrap();
}

/// A timer due in the same timer phase as the one whose callback closes it
/// (taken off the heap, still active, not fired yet) never fires, and no
/// longer counts as active.
#[test]
fn a_due_timer_closed_to_the_hook_by_an_earlier_timer_callback_never_fires() {
    reset();
    let lp = Loop::with_manual_clock().unwrap();
    lp.set_close_hook(Some(hook));
    let first = Timer::new(&lp);
    let second = Timer::new(&lp);
    let seen = Rc::new(Cell::new(false));
    {
        let (second, seen) = (second.clone(), seen.clone());
        first
            .start(10, 0, move |me| {
                assert!(second.is_active(), "due, not fired yet");
                second.close_to_hook();
                assert!(!second.is_active() && second.is_closing());
                me.close_to_hook();
                seen.set(true);
            })
            .unwrap();
    }
    second
        .start(10, 0, |_| panic!("closed due timer fired"))
        .unwrap();
    lp.advance(std::time::Duration::from_millis(10)).unwrap();
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(seen.get());
    assert_eq!(hooked(), vec![first.id(), second.id()]);
    assert!(!lp.alive());
    lp.close().unwrap();
}

/// Handles the hook closes wait for the next closing phase (the next
/// iteration), then get their own call.
#[test]
fn handles_closed_by_the_hook_wait_for_the_next_closing_phase() {
    reset();
    let lp = Loop::with_manual_clock().unwrap();
    lp.set_close_hook(Some(hook));
    let [a, b, c] = [0; 3].map(|_| Timer::new(&lp));
    CLOSE_NEXT.with(|n| {
        n.borrow_mut().push((a.id(), Handle::from(b.clone())));
        n.borrow_mut().push((b.id(), Handle::from(c.clone())));
    });
    a.close_to_hook();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(hooked(), vec![a.id()]);
    assert!(a.is_closed() && b.is_closing() && !b.is_closed() && !c.is_closing());
    assert!(lp.alive());
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(hooked(), vec![b.id()]);
    assert!(b.is_closed() && c.is_closing());
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(hooked(), vec![c.id()]);
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// A close hook that panics leaves the handles after it (hooked and with
/// callbacks) to the next run, in the same order, as if closed before the
/// handles closed since the phase began (by its callbacks, or later).
#[test]
fn a_panicking_close_hook_leaves_the_rest_for_the_next_run_in_order() {
    panicking_close_hook_with(false);
    panicking_close_hook_with(true);
}

/// `idles`: the rest of the list ends in idle handles and the handle
/// closed since is one (linked through the side list), else all timers
/// (linked through their slots).
fn panicking_close_hook_with(idles: bool) {
    reset();
    let lp = Loop::new().unwrap();
    lp.set_close_hook(Some(hook));
    let [b, c, d, e] = [0; 4].map(|_| Handle::from(Timer::new(&lp)));
    let [a, f, g] = [0; 3].map(|_| match idles {
        true => Handle::from(Idle::new(&lp)),
        false => Handle::from(Timer::new(&lp)),
    });
    let log_cb = |t: &Handle| {
        t.close_with(|h| HOOKED.with(|l| l.borrow_mut().push(h.id())));
    };
    g.close_to_hook();
    log_cb(&a);
    b.close_to_hook();
    c.close_to_hook();
    {
        let f = f.clone();
        d.close_with(move |h| {
            HOOKED.with(|l| l.borrow_mut().push(h.id()));
            f.close_to_hook();
        });
    }
    PANIC_FOR.with(|p| p.set(c.id()));
    let panicked =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lp.run(RunMode::NoWait))).is_err();
    assert!(panicked);
    assert_eq!(hooked(), vec![d.id(), c.id()]);
    assert!(
        lp.alive() && lp.liveness().is_alive(),
        "b, a, g and f still closing"
    );
    assert!(b.is_closing() && !b.is_closed() && a.is_closing() && !a.is_closed());
    log_cb(&e);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(hooked(), vec![e.id(), b.id(), a.id(), g.id(), f.id()]);
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// Without a hook a close to the hook still finishes: the slot is freed,
/// nothing is called.
#[test]
fn closing_to_the_hook_of_a_loop_without_one_frees_the_handle() {
    reset();
    let lp = Loop::new().unwrap();
    let t = Timer::new(&lp);
    t.close_to_hook();
    assert!(t.is_closing() && lp.alive());
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(t.is_closed());
    assert!(hooked().is_empty());
    lp.set_close_hook(Some(hook));
    let u = Timer::new(&lp);
    u.close_to_hook();
    lp.set_close_hook(None);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(
        u.is_closed() && hooked().is_empty(),
        "the hook of the closing phase counts"
    );
    lp.close().unwrap();
}
