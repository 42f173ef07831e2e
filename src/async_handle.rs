//! [`Async`]: wake the loop from any thread and run a callback on it
//! (libuv's `uv_async_t`).

use crate::core::kinds::Kind;
use crate::core::state::{Deferred, Key, LoopState};
use crate::error::{Error, Result};
use crate::handle::{typed_handle, Handle};
use crate::{HandleType, Loop};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

type AsyncCb = Box<dyn FnMut(&Async)>;

/// What the loop and the senders of one async handle share.
#[derive(Debug, Default)]
struct Shared {
    /// A send happened that the loop has not reported yet.
    pending: AtomicBool,
    /// The handle was closed; sends now fail.
    closed: AtomicBool,
}

/// Per-handle state in the loop's slab.
pub(crate) struct AsyncState {
    shared: Arc<Shared>,
    cb: Option<AsyncCb>,
}

/// An async handle (`uv_async_t`): [`AsyncSender::send`] from any thread
/// makes the loop run the callback in its poll phase.
///
/// Sends coalesce: several sends before the loop gets to the handle run the
/// callback once. An async handle is active from creation until closed, so
/// it keeps the loop alive unless [`unref`](Handle::unref)'d.
///
/// ```
/// use ruv::{Async, Loop, RunMode};
/// let lp = Loop::new()?;
/// let wakeup = Async::new(&lp, |a| a.close(|| {}));
/// let sender = wakeup.sender()?;
/// std::thread::spawn(move || sender.send().unwrap()).join().unwrap();
/// lp.run(RunMode::Default)?;
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Async {
    handle: Handle,
}

typed_handle!(Async);

/// The thread-safe side of an [`Async`] handle: `Send + Sync + Clone`.
#[derive(Clone)]
pub struct AsyncSender {
    shared: Arc<Shared>,
    waker: Arc<mio::Waker>,
}

impl fmt::Debug for AsyncSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSender")
            .field("pending", &self.shared.pending.load(Ordering::Relaxed))
            .field("closed", &self.shared.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl AsyncSender {
    /// Wakes the loop to run the handle's callback (`uv_async_send`).
    /// Safe to call from any thread, any number of times.
    ///
    /// The closed-handle error once the handle is closed.
    pub fn send(&self) -> Result<()> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::ClosedHandle);
        }
        if !self.shared.pending.swap(true, Ordering::AcqRel) {
            self.waker.wake()?;
        }
        Ok(())
    }
}

impl Async {
    /// Creates an active async handle whose callback is `cb`
    /// (`uv_async_init`).
    #[must_use = "dropping the token does not close the handle: it stays in the loop until closed"]
    pub fn new(lp: &Loop, cb: impl FnMut(&Async) + 'static) -> Async {
        Self::with_optional_callback(lp, Some(Box::new(cb)))
    }

    /// Creates an async handle whose sends only wake the loop (libuv allows a
    /// NULL callback).
    pub fn without_callback(lp: &Loop) -> Async {
        Self::with_optional_callback(lp, None)
    }

    fn with_optional_callback(lp: &Loop, cb: Option<AsyncCb>) -> Async {
        let kind = Kind::Async(AsyncState {
            shared: Arc::default(),
            cb,
        });
        let handle = Handle::insert(lp, HandleType::Async, kind);
        let mut st = lp.state();
        st.asyncs.push(handle.key());
        st.set_active(handle.key(), true);
        drop(st);
        Async { handle }
    }

    /// A sender for other threads.
    pub fn sender(&self) -> Result<AsyncSender> {
        let st = self.get_loop().state();
        match &st.live(self.key())?.kind {
            Kind::Async(a) => Ok(AsyncSender {
                shared: a.shared.clone(),
                waker: st.waker.clone(),
            }),
            _ => Err(Error::ClosedHandle),
        }
    }

    /// Sends from the loop's own thread (same as `self.sender()?.send()`).
    pub fn send(&self) -> Result<()> {
        self.sender()?.send()
    }
}

/// Part of `close`: later sends fail, pending ones are dropped.
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    if let Some(Kind::Async(a)) = st.slot_mut(key).map(|s| &mut s.kind) {
        a.shared.closed.store(true, Ordering::Release);
        if let Some(cb) = a.cb.take() {
            deferred.push(cb);
        }
    }
    st.asyncs.retain(|&k| k != key);
    st.set_active(key, false);
}

/// The loop's waker fired: run the callback of every handle with a send.
pub(crate) fn dispatch_wake(lp: &Loop) {
    // A snapshot in the loop's reusable scratch list: no allocation per
    // wakeup once it has grown.
    let keys = {
        let mut st = lp.state();
        let mut keys = std::mem::take(&mut st.scratch);
        keys.clear();
        keys.extend_from_slice(&st.asyncs);
        keys
    };
    for &key in &keys {
        let cb = {
            let mut st = lp.state();
            let Ok(slot) = st.live_mut(key) else {
                continue;
            };
            let Kind::Async(a) = &mut slot.kind else {
                continue;
            };
            if !a.shared.pending.swap(false, Ordering::AcqRel) {
                continue;
            }
            a.cb.take()
        };
        let Some(mut cb) = cb else {
            continue;
        };
        cb(&Async {
            handle: Handle::from_parts(lp.clone(), key, HandleType::Async),
        });
        let mut st = lp.state();
        if let Ok(slot) = st.live_mut(key) {
            if let Kind::Async(a) = &mut slot.kind {
                if a.cb.is_none() {
                    a.cb = Some(cb);
                    continue;
                }
            }
        }
        drop(st);
        drop(cb);
    }
    lp.give_back_scratch(keys);
}
