//! [`Timer`]: run a callback after a timeout, optionally repeating
//! (libuv's `uv_timer_t`).

use crate::core::state::{Deferred, Key, Kind, LoopState};
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle};
use crate::Loop;

type TimerCb = Box<dyn FnMut(&Timer)>;

/// Per-timer state in the loop's slab.
pub(crate) struct TimerState {
    cb: Option<TimerCb>,
    /// Whether a callback was ever installed (`again` needs one).
    started: bool,
    /// Taken off the heap as due and waiting to fire in this timer phase.
    due_now: bool,
    due_ms: u64,
    repeat_ms: u64,
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
    pub fn new(lp: &Loop) -> Timer {
        let kind = Kind::Timer(TimerState {
            cb: None,
            started: false,
            due_now: false,
            due_ms: 0,
            repeat_ms: 0,
        });
        Timer {
            handle: Handle::insert(lp, kind),
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
                deferred.push(old);
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
        let active = st.live(self.key())?.active;
        let due = timer_mut(&mut st, self.key())?.due_ms;
        Ok(if active { due.saturating_sub(now) } else { 0 })
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
    disarm(st, key);
    let due = st.now_ms.saturating_add(timeout_ms);
    st.timer_seq += 1;
    let seq = st.timer_seq;
    if let Ok(t) = timer_mut(st, key) {
        t.due_ms = due;
    }
    st.timers.push(key.index, due, seq);
    st.set_active(key, true);
}

/// Takes the timer off the heap and out of this phase's due list.
fn disarm(st: &mut LoopState, key: Key) {
    st.timers.remove(key.index);
    if let Some(crate::core::state::Slot {
        kind: Kind::Timer(t),
        ..
    }) = st.slot_mut(key)
    {
        t.due_now = false;
    }
    st.set_active(key, false);
}

/// Called by the timer phase for a timer it took off the heap as due.
pub(crate) fn mark_due(st: &mut LoopState, key: Key) {
    if let Ok(t) = timer_mut(st, key) {
        t.due_now = true;
    }
    st.set_active(key, false);
}

/// Fires a timer marked due, unless a callback earlier in this phase
/// stopped, restarted or closed it.
pub(crate) fn fire(lp: &Loop, key: Key) {
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
pub(crate) fn rearm_due(st: &mut LoopState, key: Key) {
    let Ok(t) = timer_mut(st, key) else {
        return;
    };
    if !t.due_now {
        return;
    }
    t.due_now = false;
    let due = t.due_ms;
    st.timer_seq += 1;
    let seq = st.timer_seq;
    st.timers.push(key.index, due, seq);
    st.set_active(key, true);
}

/// Part of `close`: disarm and release the callback.
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    disarm(st, key);
    if let Ok(t) = timer_mut(st, key) {
        if let Some(cb) = t.cb.take() {
            deferred.push(cb);
        }
    }
}
