//! Callbacks the layers above the handles owe exactly once, even when the
//! handle that was to run them is closed by someone else.
//!
//! `dns`, `endpoint` and `client` run their callbacks from handles they
//! own (a timer, an async handle). A `Loop::walk` that closes every handle
//! — libuv's usual shutdown — closes those too, and the loop then drops
//! their callbacks unrun. The loop drops a closed handle's callback after
//! its own borrow is released (see "Values dropped outside the borrow" in
//! docs/ARCHITECTURE.md), so a value captured by the callback may act in
//! `Drop`: an [`OwedGuard`] does, and gets the owed callback run from a
//! fresh 0 ms timer ([`defer`]) with the layer's cancellation value. That
//! is how [`DatagramTransport`](crate::endpoint::DatagramTransport)
//! ends when its handle was closed behind it too: it notices, then
//! delivers `connection_lost` through [`defer_owed`].

use crate::{Loop, Timer};
use std::cell::RefCell;
use std::rc::Rc;

/// Runs `f` from the loop, in its next timer phase, through a 0 ms timer
/// (the timer keeps the loop alive until then). If that timer is closed by
/// someone else first, `f` is dropped unrun: wrap what `f` owes in an
/// [`OwedGuard`], or use [`defer_owed`].
pub(crate) fn defer(lp: &Loop, f: impl FnOnce() + 'static) {
    let mut f = Some(f);
    let timer = Timer::new(lp);
    // Starting a timer that was just made cannot fail (only a closed timer
    // refuses to start).
    let _ = timer.start(0, 0, move |t| {
        t.close(|| {});
        if let Some(f) = f.take() {
            f();
        }
    });
}

/// [`defer`] for a callback that is owed: `f` runs exactly once even if
/// its timer is closed by someone else before it fires (it then moves to
/// a new timer).
pub(crate) fn defer_owed(lp: &Loop, f: impl FnOnce() + 'static) {
    let slot: Slot<()> = Rc::new(RefCell::new(Some(Box::new(move |()| f()))));
    defer_call(OwedGuard::new(lp, slot, || ()));
}

/// Runs the callback `guard` watches from a new 0 ms timer, with
/// `abandoned()`; the timer's callback holds the guard, so a close of the
/// timer moves the call to another one.
fn defer_call<T: 'static>(guard: OwedGuard<T>) {
    let timer = Timer::new(&guard.lp);
    // Starting a timer that was just made cannot fail (only a closed timer
    // refuses to start).
    let _ = timer.start(0, 0, move |t| {
        t.close(|| {});
        call(&guard.slot, (guard.abandoned)());
    });
}

/// Where an owed callback waits until it runs; empty once it has run (or
/// was withdrawn).
pub(crate) type Slot<T> = Rc<RefCell<Option<Box<dyn FnOnce(T)>>>>;

/// Takes the callback out of `slot` (so it may use whatever holds the
/// slot) and runs it with `value`; does nothing if the slot is empty.
pub(crate) fn call<T>(slot: &Slot<T>, value: T) {
    let cb = slot.try_borrow_mut().ok().and_then(|mut s| s.take());
    if let Some(cb) = cb {
        cb(value);
    }
}

/// Captured by the callback of the handle that is to run the owed
/// callback in `slot`. If it is dropped while the slot still holds the
/// callback — the handle was closed, so its callback will never run — the
/// owed callback runs from a 0 ms timer with `abandoned()`. If that timer
/// is closed before it fires, the same happens again: the callback runs
/// exactly once, whatever closes what.
pub(crate) struct OwedGuard<T: 'static> {
    lp: Loop,
    slot: Slot<T>,
    abandoned: fn() -> T,
}

impl<T: 'static> OwedGuard<T> {
    /// Guards `slot`, on `lp`.
    pub(crate) fn new(lp: &Loop, slot: Slot<T>, abandoned: fn() -> T) -> OwedGuard<T> {
        OwedGuard {
            lp: lp.clone(),
            slot,
            abandoned,
        }
    }
}

impl<T: 'static> Drop for OwedGuard<T> {
    fn drop(&mut self) {
        let owed = self.slot.try_borrow().is_ok_and(|s| s.is_some());
        if owed {
            defer_call(OwedGuard {
                lp: self.lp.clone(),
                slot: self.slot.clone(),
                abandoned: self.abandoned,
            });
        }
    }
}
