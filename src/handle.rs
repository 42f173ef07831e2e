//! What every handle shares: its type, closing, ref counting and liveness.

use crate::core::kinds::{self, Kind};
use crate::core::state::{CloseCb, Deferred, Key};
use crate::error::Result;
use crate::trace::trace_event;
use crate::{timer, Loop};
use std::fmt;
use std::os::fd::{AsRawFd, RawFd};

/// The kind of a handle (libuv's `uv_handle_type`, with libuv's numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandleType {
    /// [`Async`](crate::Async): `UV_ASYNC`.
    Async = 1,
    /// [`Check`](crate::Check): `UV_CHECK`.
    Check = 2,
    /// [`Idle`](crate::Idle): `UV_IDLE`.
    Idle = 6,
    /// [`Pipe`](crate::Pipe): `UV_NAMED_PIPE`.
    NamedPipe = 7,
    /// [`Poll`](crate::Poll): `UV_POLL`.
    Poll = 8,
    /// [`Tcp`](crate::Tcp): `UV_TCP`.
    Tcp = 12,
    /// [`Prepare`](crate::Prepare): `UV_PREPARE`.
    Prepare = 9,
    /// [`Timer`](crate::Timer): `UV_TIMER`.
    Timer = 13,
    /// [`Udp`](crate::Udp): `UV_UDP`.
    Udp = 15,
    /// [`Signal`](crate::Signal): `UV_SIGNAL`.
    Signal = 16,
    /// [`Process`](crate::Process): `UV_PROCESS`.
    Process = 10,
}

impl HandleType {
    /// libuv's name for the type (`uv_handle_type_name`), e.g. `"udp"`.
    pub const fn name(self) -> &'static str {
        match self {
            HandleType::Async => "async",
            HandleType::Check => "check",
            HandleType::Idle => "idle",
            HandleType::NamedPipe => "pipe",
            HandleType::Poll => "poll",
            HandleType::Prepare => "prepare",
            HandleType::Tcp => "tcp",
            HandleType::Timer => "timer",
            HandleType::Udp => "udp",
            HandleType::Signal => "signal",
            HandleType::Process => "process",
        }
    }
}

impl fmt::Display for HandleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A token for a handle of any type: the operations all handles share.
///
/// Every typed handle ([`Udp`](crate::Udp), [`Timer`](crate::Timer), …)
/// dereferences to `Handle`. Tokens are cheap to clone; cloning does not
/// create a new handle. A handle lives until it is closed, not until its
/// tokens are dropped. Once closed, every operation on any of its tokens
/// reports [`Error::ClosedHandle`](crate::Error::ClosedHandle), even if the loop has reused its slot.
#[derive(Clone)]
pub struct Handle {
    lp: Loop,
    key: Key,
    ty: HandleType,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("type", &self.ty)
            .field("slot", &self.key.index)
            .field("generation", &self.key.gen)
            .finish()
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Handle) -> bool {
        self.key == other.key && self.lp.same_loop(&other.lp)
    }
}

impl Eq for Handle {}

impl Handle {
    pub(crate) fn from_parts(lp: Loop, key: Key, ty: HandleType) -> Handle {
        Handle { lp, key, ty }
    }

    /// Stores a new handle in `lp` and returns its token.
    pub(crate) fn insert(lp: &Loop, ty: HandleType, kind: Kind) -> Handle {
        let key = lp.state().insert(kind);
        trace_event!(
            DEBUG,
            "handle opened",
            handle = key.id(),
            handle_type = ty.name(),
        );
        Handle {
            lp: lp.clone(),
            key,
            ty,
        }
    }

    pub(crate) fn key(&self) -> Key {
        self.key
    }

    /// A number that identifies this handle within its loop and is never
    /// given to another handle of the loop, even after this one is closed
    /// (its slot and the slot's generation, which only goes up).
    pub fn id(&self) -> u64 {
        self.key.id()
    }

    /// The loop this handle belongs to (`uv_handle_get_loop`).
    pub fn get_loop(&self) -> &Loop {
        &self.lp
    }

    /// The handle's type (`uv_handle_get_type`).
    pub fn handle_type(&self) -> HandleType {
        self.ty
    }

    /// libuv's name for the handle's type (`uv_handle_type_name`).
    pub fn type_name(&self) -> &'static str {
        self.ty.name()
    }

    /// Whether the handle was closed or is closing (`uv_is_closing`).
    pub fn is_closing(&self) -> bool {
        self.lp.state().slot(self.key).map_or(true, |s| s.closing)
    }

    /// Whether the handle is closed: its slot was freed in the closing
    /// phase, just before the close callback runs (so already true inside
    /// that callback and the cancelled send callbacks before it).
    pub fn is_closed(&self) -> bool {
        self.lp.state().slot(self.key).is_none()
    }

    /// Whether the handle is active (`uv_is_active`): a started timer,
    /// watcher or poll handle, a receiving UDP handle or one with sends in
    /// flight, a TCP handle that reads, listens, connects, has writes
    /// waiting or a shutdown pending, any async handle. Closing and closed
    /// handles are inactive.
    pub fn is_active(&self) -> bool {
        self.lp
            .state()
            .slot(self.key)
            .is_some_and(|s| s.active && !s.closing)
    }

    /// Lets the handle keep the loop alive again (`uv_ref`). Idempotent.
    pub fn ref_(&self) {
        self.lp
            .state()
            .update_flags(self.key, |s| s.referenced = true);
    }

    /// Stops the handle from keeping the loop alive on its own
    /// (`uv_unref`). Idempotent.
    pub fn unref(&self) {
        self.lp
            .state()
            .update_flags(self.key, |s| s.referenced = false);
    }

    /// Whether the handle is referenced (`uv_has_ref`); false once closed.
    pub fn has_ref(&self) -> bool {
        self.lp.state().slot(self.key).is_some_and(|s| s.referenced)
    }

    /// The handle's descriptor (`uv_fileno`): the socket of a UDP or TCP
    /// handle, the watched descriptor of a poll handle.
    ///
    /// EBADF when a UDP or TCP handle has no socket yet; EINVAL for handle types
    /// without a descriptor; the closed-handle error once closed.
    ///
    /// A stream whose number was handed out may have been duplicated: its
    /// close then takes it out of the loop's epoll set explicitly (one
    /// `epoll_ctl` more), which closing the only descriptor does by itself.
    pub fn fileno(&self) -> Result<RawFd> {
        self.lp.state().live_mut(self.key)?.kind.hand_out_fd()
    }

    /// Closes the handle (`uv_close`). It stops at once; `cb` runs in the
    /// loop's closing phase, after any callbacks the close itself causes
    /// (queued UDP sends complete with ECANCELED first). Closing an already
    /// closing or closed handle does nothing and drops `cb`.
    pub fn close(&self, cb: impl FnOnce() + 'static) {
        self.close_with(move |_| cb());
    }

    /// [`Handle::close`] with a callback that gets the closed handle, as
    /// libuv's `uv_close_cb` gets its `uv_handle_t*`: a callback that
    /// captures nothing still knows which handle closed (by
    /// [`Handle::id`]), and storing it until the closing phase allocates
    /// nothing.
    // Never inlined: a close in a receive callback would crowd the
    // callback's hot loop (measured: 51 -> 66 instructions per datagram).
    #[inline(never)]
    pub fn close_with(&self, cb: impl FnOnce(&Handle) + 'static) {
        self.close_impl(Some(cb));
    }

    /// [`Handle::close`] with the loop's close hook
    /// ([`Loop::set_close_hook`]) in place of a callback: the closing
    /// phase calls the hook with this handle (nothing, if the loop has no
    /// hook then). Nothing is stored for the close but the handle's slot
    /// index (4 bytes), the cheapest close there is.
    #[inline(never)]
    pub fn close_to_hook(&self) {
        self.close_impl(None::<fn(&Handle)>);
    }

    /// Stops the handle, marks it closing and queues it for the closing
    /// phase with `cb` (`None`: the loop's close hook). The usual timer
    /// close (it fired or was stopped) is done here, with one slot lookup
    /// and no heap work; anything else by [`Handle::close_stopping`].
    #[inline(always)]
    fn close_impl<F: FnOnce(&Handle) + 'static>(&self, cb: Option<F>) {
        // `cb` (a parameter) is dropped after the borrow if unused.
        let mut st = self.lp.state();
        let closing_next = st.closing_head;
        let Ok(slot) = st.live_mut(self.key) else {
            return;
        };
        trace_event!(
            DEBUG,
            "handle closing",
            handle = self.key.id(),
            handle_type = self.ty.name(),
        );
        let Some(released_timer_cb) = timer::release_unarmed(slot, closing_next) else {
            drop(st);
            self.close_stopping(cb.map(|cb| Box::new(cb) as CloseCb));
            return;
        };
        // Active only if taken off the heap as due in this timer phase and
        // not fired yet: then it stops keeping the loop alive (the closing
        // entry keeps the loop alive anyway).
        let counted = slot.counts();
        slot.active = false;
        slot.closing = true;
        st.active_ref_handles -= usize::from(counted);
        st.push_closing_linked(self.key.index, cb.map(|cb| Box::new(cb) as CloseCb));
        drop(st);
        // The timer's callback (user code when dropped), after the borrow.
        drop(released_timer_cb);
    }

    /// The rest of [`Handle::close_impl`]: a handle that may be doing
    /// something (an armed timer, a started watcher, a UDP handle, …) is
    /// stopped first. The handle is live: nothing ran since the check.
    #[cold]
    #[inline(never)]
    fn close_stopping(&self, cb: Option<CloseCb>) {
        // Declared before the borrow, so dropped after it: what the close
        // releases (user closures).
        let mut deferred = Deferred::default();
        let mut st = self.lp.state();
        kinds::stop_for_close(&mut st, self.key, &mut deferred);
        st.update_flags(self.key, |s| s.closing = true);
        st.push_closing(self.key.index, cb);
    }
}

/// The closing phase for the handle in slot `index`: removes its slot,
/// then runs what the close owes (its kind's outstanding requests, e.g.
/// UDP send callbacks) and the close callback (`None`: the loop's close
/// hook).
pub(crate) fn finish_close(lp: &Loop, index: u32, close_cb: Option<CloseCb>) {
    let mut st = lp.state();
    let Some((key, mut slot)) = st.remove_at(index) else {
        return;
    };
    // A close callback follows: the loop reads the clock again after.
    st.callbacks_run += 1;
    let (ty, hook) = (slot.kind.handle_type(), st.close_hook);
    drop(st);
    // The slot (what is left of the handle's state) is dropped after the
    // close callback, outside the borrow.
    let Some(ty) = ty else {
        return;
    };
    trace_event!(
        DEBUG,
        "handle closed",
        handle = key.id(),
        handle_type = ty.name(),
    );
    kinds::finish_close(lp, key, &mut slot.kind);
    let handle = Handle::from_parts(lp.clone(), key, ty);
    match close_cb {
        Some(cb) => cb(&handle),
        None => {
            if let Some(hook) = hook {
                hook(&handle);
            }
        }
    }
}

/// `-1` where [`Handle::fileno`] is an error: a UDP handle whose socket is
/// not created yet, a closing or closed handle, a handle type without a
/// descriptor. Handles implement `AsRawFd` but not `AsFd`: a handle is a
/// token, its descriptor belongs to the loop, and [`Handle::close`] on any
/// clone closes it at once, so no borrow of a token can promise what a
/// `BorrowedFd` promises (that the descriptor stays open while borrowed).
/// Use the number only while the handle is open.
impl AsRawFd for Handle {
    fn as_raw_fd(&self) -> RawFd {
        self.fileno().unwrap_or(-1)
    }
}

/// Implements `Deref<Target = Handle>`, `Debug`, `PartialEq` and the
/// conversion to [`Handle`] for a typed handle.
macro_rules! typed_handle {
    ($name:ident) => {
        typed_handle!([] $name, stringify!($name));
    };
    // Generic tokens: `[generics] Type<..>, "debug name"`.
    ([$($generics:tt)*] $name:ty, $label:expr) => {
        impl<$($generics)*> std::ops::Deref for $name {
            type Target = $crate::handle::Handle;
            fn deref(&self) -> &$crate::handle::Handle {
                &self.handle
            }
        }

        impl<$($generics)*> std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple($label)
                    .field(&self.handle)
                    .finish()
            }
        }

        impl<$($generics)*> PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                self.handle == other.handle
            }
        }

        impl<$($generics)*> Eq for $name {}

        impl<$($generics)*> From<$name> for $crate::handle::Handle {
            fn from(h: $name) -> $crate::handle::Handle {
                h.handle
            }
        }

        impl<$($generics)*> AsRef<$crate::handle::Handle> for $name {
            fn as_ref(&self) -> &$crate::handle::Handle {
                &self.handle
            }
        }
    };
}
pub(crate) use typed_handle;
