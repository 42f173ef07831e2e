//! [`Idle`], [`Prepare`] and [`Check`]: callbacks that run once per loop
//! iteration in their phase (libuv's `uv_idle_t`, `uv_prepare_t`,
//! `uv_check_t`).
//!
//! In one phase, watchers run most recently started first, as in libuv. A
//! watcher started during its own phase first runs in the next iteration.

use crate::core::kinds::Kind;
use crate::core::state::{Deferred, Key, LoopState, Phase};
use crate::error::{Error, Result};
use crate::handle::{typed_handle, Handle};
use crate::Loop;
use std::marker::PhantomData;

/// Takes the handle by value so the typed token is built without a clone.
type WatcherCb = Box<dyn FnMut(Handle)>;

/// Per-watcher state in the loop's slab.
pub(crate) struct WatcherState {
    pub phase: Phase,
    cb: Option<WatcherCb>,
    /// Start sequence while started; tells a restart from the original start.
    seq: Option<u64>,
}

mod sealed {
    /// Keeps the set of phases closed and the phase value crate-private.
    pub trait PhaseOf {
        const PHASE: super::Phase;
    }
}

/// Which phase a [`Watcher`] runs in; implemented by [`IdlePhase`],
/// [`PreparePhase`] and [`CheckPhase`] only.
pub trait WatcherPhase: sealed::PhaseOf + 'static {}

/// Marker for [`Idle`]: runs before prepare; while any idle watcher is
/// active the poll phase does not block.
#[derive(Debug)]
pub enum IdlePhase {}
/// Marker for [`Prepare`]: runs right before the poll phase.
#[derive(Debug)]
pub enum PreparePhase {}
/// Marker for [`Check`]: runs right after the poll phase.
#[derive(Debug)]
pub enum CheckPhase {}

impl sealed::PhaseOf for IdlePhase {
    const PHASE: Phase = Phase::Idle;
}
impl WatcherPhase for IdlePhase {}
impl sealed::PhaseOf for PreparePhase {
    const PHASE: Phase = Phase::Prepare;
}
impl WatcherPhase for PreparePhase {}
impl sealed::PhaseOf for CheckPhase {
    const PHASE: Phase = Phase::Check;
}
impl WatcherPhase for CheckPhase {}

/// A handle whose callback runs once per iteration in phase `P`.
pub struct Watcher<P: WatcherPhase> {
    handle: Handle,
    phase: PhantomData<P>,
}

impl<P: WatcherPhase> Clone for Watcher<P> {
    fn clone(&self) -> Self {
        Watcher {
            handle: self.handle.clone(),
            phase: PhantomData,
        }
    }
}

/// Runs every iteration before prepare; keeps the poll phase from blocking
/// (`uv_idle_t`).
///
/// ```
/// use ruv::{Idle, Loop, RunMode};
/// let lp = Loop::new()?;
/// let idle = Idle::new(&lp);
/// idle.start(|i| i.close(|| {}))?;
/// lp.run(RunMode::Default)?;
/// # Ok::<(), ruv::Error>(())
/// ```
pub type Idle = Watcher<IdlePhase>;
/// Runs every iteration right before polling for I/O (`uv_prepare_t`).
pub type Prepare = Watcher<PreparePhase>;
/// Runs every iteration right after polling for I/O (`uv_check_t`).
pub type Check = Watcher<CheckPhase>;

typed_handle!([P: WatcherPhase] Watcher<P>, P::PHASE.handle_type().name());

impl<P: WatcherPhase> Watcher<P> {
    /// Creates a stopped watcher (`uv_idle_init` and friends).
    #[must_use = "dropping the token does not close the handle: it stays in the loop until closed"]
    pub fn new(lp: &Loop) -> Self {
        let kind = Kind::Watcher(Box::new(WatcherState {
            phase: P::PHASE,
            cb: None,
            seq: None,
        }));
        Watcher {
            handle: Handle::insert(lp, P::PHASE.handle_type(), kind),
            phase: PhantomData,
        }
    }

    /// Starts the watcher with `cb` (`uv_idle_start` and friends). Starting
    /// a started watcher replaces nothing and does nothing, as in libuv.
    pub fn start(&self, cb: impl FnMut(&Self) + 'static) -> Result<()> {
        let key = self.handle.key();
        let mut st = self.handle.get_loop().state();
        let w = watcher_mut(&mut st, key)?;
        if w.seq.is_some() {
            return Ok(());
        }
        let mut cb = cb;
        w.cb = Some(Box::new(move |handle: Handle| {
            cb(&Watcher {
                handle,
                phase: PhantomData,
            })
        }));
        st.watcher_seq += 1;
        let seq = st.watcher_seq;
        if let Ok(w) = watcher_mut(&mut st, key) {
            w.seq = Some(seq);
        }
        st.watchers[P::PHASE as usize].push((key, seq));
        if P::PHASE == Phase::Idle {
            st.active_idles += 1;
        }
        st.set_active(key, true);
        Ok(())
    }

    /// Stops the watcher (`uv_idle_stop` and friends); stopping a stopped
    /// or closed watcher does nothing.
    pub fn stop(&self) -> Result<()> {
        self.handle.get_loop().with_deferred(|st, deferred| {
            if st.live(self.handle.key()).is_ok() {
                stop(st, self.handle.key(), deferred);
            }
        });
        Ok(())
    }
}

fn watcher_mut(st: &mut LoopState, key: Key) -> Result<&mut WatcherState> {
    match &mut st.live_mut(key)?.kind {
        Kind::Watcher(w) => Ok(w),
        _ => Err(Error::ClosedHandle),
    }
}

fn stop(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    let Ok(w) = watcher_mut(st, key) else {
        return;
    };
    let Some(seq) = w.seq.take() else {
        return;
    };
    if let Some(cb) = w.cb.take() {
        deferred.push(cb);
    }
    let phase = w.phase;
    let list = &mut st.watchers[phase as usize];
    if let Some(at) = list.iter().position(|&(k, s)| k == key && s == seq) {
        list.remove(at);
    }
    if phase == Phase::Idle {
        st.active_idles -= 1;
    }
    st.set_active(key, false);
}

/// Part of `close`.
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    stop(st, key, deferred);
}

/// Runs one watcher's callback if it is still started with sequence `seq`.
pub(crate) fn dispatch(lp: &Loop, key: Key, seq: u64) {
    let (cb, ty) = {
        let mut st = lp.state();
        let Ok(w) = watcher_mut(&mut st, key) else {
            return;
        };
        if w.seq != Some(seq) {
            return;
        }
        let taken = (w.cb.take(), w.phase.handle_type());
        st.callbacks_run += 1;
        taken
    };
    let Some(mut cb) = cb else {
        // Its callback was lost to a panic: stop rather than spin.
        lp.with_deferred(|st, deferred| stop(st, key, deferred));
        return;
    };
    cb(Handle::from_parts(lp.clone(), key, ty));
    let mut st = lp.state();
    if let Ok(w) = watcher_mut(&mut st, key) {
        if w.seq == Some(seq) && w.cb.is_none() {
            w.cb = Some(cb);
            return;
        }
    }
    drop(st);
    drop(cb);
}
