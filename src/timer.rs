//! [`Timer`]: run a callback after a timeout, optionally repeating
//! (libuv's `uv_timer_t`).

use crate::core::kinds::Kind;
use crate::core::state::{Deferred, Key, LoopState, Slot};
use crate::core::timer_heap::NOT_ARMED;
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle, HandleType};
use crate::Loop;
use slab::Slab;

pub(crate) type TimerCb = Box<dyn FnMut(&Timer)>;

/// Per-timer state in the loop's slab.
pub(crate) struct TimerState {
    cb: Option<TimerCb>,
    /// Whether a callback was ever installed (`again` needs one).
    started: bool,
    /// Taken off the heap as due and waiting to fire in this timer phase.
    due_now: bool,
    repeat_ms: u64,
    /// Where the timer's entry is in the loop's heap; `NOT_ARMED` if none.
    /// Once closing: the next slot of the closing list ([`closing_link`]).
    heap_pos: u32,
}

/// A timer handle (`uv_timer_t`).
///
/// Timers fire in the loop's timer phase once the cached loop time reaches
/// their due time; timers due at the same time fire in the order they were
/// started. A repeating timer is re-armed `repeat` ms after the loop time at
/// which it fired, so an overdue repeating timer fires once per iteration.
///
/// ```
/// use ruv::{Loop, RunMode, Timer};
/// use std::time::Duration;
///
/// let lp = Loop::with_manual_clock()?;
/// let timer = Timer::new(&lp);
/// timer.start(1000, 0, |t| t.close(|| {}))?;
/// assert_eq!(timer.due_in()?, 1000);
/// lp.advance(Duration::from_millis(1000))?;
/// lp.run(RunMode::NoWait)?;
/// assert!(timer.is_closing());
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Timer {
    handle: Handle,
}

typed_handle!(Timer);

impl Timer {
    /// Creates a stopped timer (`uv_timer_init`).
    #[must_use = "dropping the token does not close the handle: it stays in the loop until closed"]
    pub fn new(lp: &Loop) -> Timer {
        let kind = Kind::Timer(TimerState {
            cb: None,
            started: false,
            due_now: false,
            heap_pos: NOT_ARMED,
            repeat_ms: 0,
        });
        Timer {
            handle: Handle::insert(lp, HandleType::Timer, kind),
        }
    }

    fn from_handle(handle: Handle) -> Timer {
        Timer { handle }
    }

    /// Starts the timer: `cb` runs `timeout_ms` after the cached loop time,
    /// then every `repeat_ms` if that is not 0 (`uv_timer_start`). A running
    /// timer is restarted. A due time past `u64::MAX` ms saturates.
    pub fn start(
        &self,
        timeout_ms: u64,
        repeat_ms: u64,
        cb: impl FnMut(&Timer) + 'static,
    ) -> Result<()> {
        let key = self.key();
        // Held out here so that, on error, it is dropped after the borrow.
        let mut cb = Some(cb);
        self.get_loop().with_deferred(|st, deferred| {
            let state = timer_mut(st, key)?;
            let new: Option<TimerCb> = cb.take().map(|cb| Box::new(cb) as TimerCb);
            if let Some(old) = std::mem::replace(&mut state.cb, new) {
                deferred.push_timer_cb(old);
            }
            state.started = true;
            state.repeat_ms = repeat_ms;
            arm(st, key, timeout_ms);
            Ok(())
        })
    }

    /// Stops the timer (`uv_timer_stop`); its callback stays installed for
    /// [`Timer::again`]. Stopping a closed timer does nothing.
    pub fn stop(&self) -> Result<()> {
        let mut st = self.get_loop().state();
        if st.live(self.key()).is_ok() {
            disarm(&mut st, self.key());
        }
        Ok(())
    }

    /// Restarts a repeating timer with its repeat as the timeout
    /// (`uv_timer_again`); a timer without repeat is left as it is.
    ///
    /// EINVAL if the timer was never started.
    pub fn again(&self) -> Result<()> {
        let mut st = self.get_loop().state();
        let state = timer_mut(&mut st, self.key())?;
        if !state.started {
            return Err(StatusCode::EINVAL.into());
        }
        let repeat = state.repeat_ms;
        if repeat != 0 {
            arm(&mut st, self.key(), repeat);
        }
        Ok(())
    }

    /// Sets the repeat interval in ms (`uv_timer_set_repeat`); it takes
    /// effect the next time the timer fires or is restarted with `again`.
    pub fn set_repeat(&self, repeat_ms: u64) -> Result<()> {
        timer_mut(&mut self.get_loop().state(), self.key())?.repeat_ms = repeat_ms;
        Ok(())
    }

    /// The repeat interval in ms (`uv_timer_get_repeat`).
    pub fn repeat(&self) -> Result<u64> {
        Ok(timer_mut(&mut self.get_loop().state(), self.key())?.repeat_ms)
    }

    /// Milliseconds until the timer is due, 0 if it is due or not running
    /// (`uv_timer_get_due_in`).
    pub fn due_in(&self) -> Result<u64> {
        let mut st = self.get_loop().state();
        let now = st.now_ms;
        let at = timer_mut(&mut st, self.key())?.heap_pos;
        Ok(st
            .timers
            .due_at(at)
            .map_or(0, |due| due.saturating_sub(now)))
    }
}

fn timer_mut(st: &mut LoopState, key: Key) -> Result<&mut TimerState> {
    match &mut st.live_mut(key)?.kind {
        Kind::Timer(t) => Ok(t),
        _ => Err(Error::ClosedHandle),
    }
}

/// Puts the timer on the heap `timeout_ms` from the cached loop time.
fn arm(st: &mut LoopState, key: Key, timeout_ms: u64) {
    let due = st.now_ms.saturating_add(timeout_ms);
    arm_at(st, key, due);
}

/// Puts the timer on the heap to fire at loop time `due`.
fn arm_at(st: &mut LoopState, key: Key, due: u64) {
    // One slot lookup for the common case: a timer that is not armed.
    let armed = match st.slot_mut(key) {
        Some(Slot {
            kind: Kind::Timer(t),
            ..
        }) => {
            t.due_now = false;
            t.heap_pos != NOT_ARMED
        }
        _ => return,
    };
    if armed {
        disarm(st, key);
    }
    let LoopState { timers, slots, .. } = st;
    timers.push(key.index, due, &mut |slot, at| {
        record_position(slots, slot, at)
    });
    st.set_active(key, true);
}

/// The heap's report of where a timer's entry moved.
fn record_position(slots: &mut Slab<Slot>, slot: u32, at: u32) {
    if let Some(Slot {
        kind: Kind::Timer(t),
        ..
    }) = slots.get_mut(slot as usize)
    {
        t.heap_pos = at;
    }
}

/// Takes the earliest timer due at `now` off the heap: its key.
pub(crate) fn pop_due(st: &mut LoopState, now: u64) -> Option<Key> {
    let LoopState { timers, slots, .. } = st;
    let index = timers.pop_due(now, &mut |slot, at| record_position(slots, slot, at))?;
    let gen = slots.get(index as usize)?.gen;
    Some(Key { index, gen })
}

/// Takes the timer off the heap and out of this phase's due list.
fn disarm(st: &mut LoopState, key: Key) {
    if let Some(Slot {
        kind: Kind::Timer(t),
        ..
    }) = st.slot_mut(key)
    {
        t.due_now = false;
        let at = t.heap_pos;
        if at != NOT_ARMED {
            let LoopState { timers, slots, .. } = st;
            timers.remove(at, &mut |slot, at| record_position(slots, slot, at));
        }
    }
    st.set_active(key, false);
}

/// Called by the timer phase for a timer it took off the heap as due. It
/// stays active until its own callback runs, as in libuv: a callback earlier
/// in the phase still sees it started.
pub(crate) fn mark_due(st: &mut LoopState, key: Key) {
    if let Ok(t) = timer_mut(st, key) {
        t.due_now = true;
    }
}

/// The handle in slot `index` now.
fn key_at(st: &LoopState, index: u32) -> Option<Key> {
    let gen = st.slots.get(index as usize)?.gen;
    Some(Key { index, gen })
}

/// [`fire`] for the handle in slot `index`.
pub(crate) fn fire_slot(lp: &Loop, index: u32) {
    let key = key_at(&lp.state(), index);
    if let Some(key) = key {
        fire(lp, key);
    }
}

/// [`rearm_due`] for the handle in slot `index`.
pub(crate) fn rearm_due_slot(st: &mut LoopState, index: u32) {
    if let Some(key) = key_at(st, index) {
        rearm_due(st, key);
    }
}

/// Fires a timer marked due, unless a callback earlier in this phase
/// stopped, restarted or closed it.
fn fire(lp: &Loop, key: Key) {
    let cb = {
        let mut st = lp.state();
        let Ok(t) = timer_mut(&mut st, key) else {
            return;
        };
        if !t.due_now {
            return;
        }
        t.due_now = false;
        let repeat = t.repeat_ms;
        let cb = t.cb.take();
        if repeat != 0 {
            arm(&mut st, key, repeat);
        } else {
            st.set_active(key, false);
        }
        cb
    };
    let Some(mut cb) = cb else {
        // Its callback was lost to a panic: a timer that cannot fire must
        // not keep the loop alive.
        disarm(&mut lp.state(), key);
        return;
    };
    let timer = Timer::from_handle(Handle::from_parts(
        lp.clone(),
        key,
        crate::HandleType::Timer,
    ));
    cb(&timer);
    let mut st = lp.state();
    if let Ok(t) = timer_mut(&mut st, key) {
        if t.cb.is_none() {
            t.cb = Some(cb);
            return;
        }
    }
    drop(st);
    drop(cb);
}

/// A timer taken off the heap as due but not fired (a callback before it
/// panicked): back on the heap at its due time, to fire next timer phase.
fn rearm_due(st: &mut LoopState, key: Key) {
    let Ok(t) = timer_mut(st, key) else {
        return;
    };
    if !t.due_now {
        return;
    }
    t.due_now = false;
    // It was due already: due now, so it fires in the next timer phase.
    let now = st.now_ms;
    arm_at(st, key, now);
}

/// Part of `close` for a timer that is not armed (the usual case: it fired
/// or was stopped): takes out its callback, for the caller to drop after
/// the borrow, and links it to `closing_next` in the closing list; the
/// caller marks it closing and inactive. `None`, touching nothing, for any
/// other handle.
#[inline]
pub(crate) fn release_unarmed(slot: &mut Slot, closing_next: u32) -> Option<Option<TimerCb>> {
    let Kind::Timer(t) = &mut slot.kind else {
        return None;
    };
    if t.heap_pos != NOT_ARMED {
        return None;
    }
    t.due_now = false;
    t.heap_pos = closing_next;
    Some(t.cb.take())
}

/// Where a closing timer keeps the slot of the next handle in the loop's
/// closing list: its heap position, unused once it is closing (it left
/// the heap at the close, and nothing arms a closing timer). `None` for
/// other handles.
#[inline]
pub(crate) fn closing_link(slot: &mut Slot) -> Option<&mut u32> {
    match &mut slot.kind {
        Kind::Timer(t) => Some(&mut t.heap_pos),
        _ => None,
    }
}

/// Part of `close`: disarm and release the callback.
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    disarm(st, key);
    if let Ok(t) = timer_mut(st, key) {
        if let Some(cb) = t.cb.take() {
            deferred.push_timer_cb(cb);
        }
    }
}
