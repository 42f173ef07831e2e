//! The bridge between C handle structs and ruv handles: what the library
//! keeps in the structs' private fields, and the functions every handle
//! type shares (`uv_close`, `uv_ref`, `uv_walk`, …).

use crate::loops::{ctx, running_handle, LoopCtx};
use crate::types::*;
use libc::{c_int, c_uint, c_void};
use ruv::{Error, StatusCode};
use std::mem::ManuallyDrop;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};

/// Set in `ruv_flags_` by every `*_init`: the handle was initialized here.
const MAGIC: c_uint = 0x5275_0000;
const MAGIC_MASK: c_uint = 0xffff_0000;
/// `uv_close` was called.
pub(crate) const CLOSING: c_uint = 1;
/// The close callback ran; the ruv handle is gone.
pub(crate) const CLOSED: c_uint = 2;
/// `uv_udp_init_ex` was given `UV_UDP_RECVMMSG`.
pub(crate) const RECVMMSG: c_uint = 4;
/// The token is stored in `ruv_private_` (from init until the close
/// callback).
const LINKED: c_uint = 8;
/// Which field of [`Stored`] `ruv_private_` holds (a [`Kind`]).
const KIND_MASK: c_uint = 0xf0;
const KIND_SHIFT: u32 = 4;
/// Async handles only: how many `uv_async_send` calls on other threads are
/// using the sender box right now (one unit each, at most 255 at once). The
/// close callback's turn waits for none to be left before freeing the box,
/// as libuv's close waits for sends in flight.
const SENDERS_UNIT: c_uint = 0x100;
const SENDERS_MASK: c_uint = 0xff00;
/// Signal handles only (these bits are a sender count's for async
/// handles): started with `uv_signal_start_oneshot` and not called yet.
pub(crate) const ONESHOT: c_uint = 0x100;
/// Signal handles only: started anew or stopped since its callback began
/// (a start with the same number, which only swaps the callback, is not).
pub(crate) const RESTARTED: c_uint = 0x200;

/// A ruv handle being linked to its C handle by [`init`].
pub(crate) enum OwnedToken {
    Timer(ruv::Timer),
    Idle(ruv::Idle),
    Prepare(ruv::Prepare),
    Check(ruv::Check),
    Async(ruv::Async),
    Poll(ruv::Poll),
    Udp(ruv::Udp),
    Signal(ruv::Signal),
    Tcp(ruv::Tcp),
    Pipe(ruv::Pipe),
    // ---- processes (h/cproc) ----
    Process(ruv::Process),
    /// A process handle whose `uv_spawn` failed: libuv initializes it all
    /// the same and it must be closed; a never-started idle handle gives it
    /// the same life (inactive, closed in the closing phase).
    FailedProcess(ruv::Idle),
}

/// The ruv handle behind a live C handle, borrowed from the struct.
#[derive(Clone, Copy)]
pub(crate) enum Token<'a> {
    Timer(&'a ruv::Timer),
    Idle(&'a ruv::Idle),
    Prepare(&'a ruv::Prepare),
    Check(&'a ruv::Check),
    Async(&'a ruv::Async),
    Poll(&'a ruv::Poll),
    Udp(&'a ruv::Udp),
    Signal(&'a ruv::Signal),
    Tcp(&'a ruv::Tcp),
    Pipe(&'a ruv::Pipe),
    // ---- processes (h/cproc) ----
    Process(&'a ruv::Process),
    FailedProcess(&'a ruv::Idle),
}

impl<'a> Token<'a> {
    pub(crate) fn handle(self) -> &'a ruv::Handle {
        match self {
            Token::Timer(h) => h,
            Token::Idle(h) => h,
            Token::Prepare(h) => h,
            Token::Check(h) => h,
            Token::Async(h) => h,
            Token::Poll(h) => h,
            Token::Udp(h) => h,
            Token::Signal(h) => h,
            Token::Tcp(h) => h,
            Token::Pipe(h) => h,
            Token::Process(h) => h,
            Token::FailedProcess(h) => h,
        }
    }
}

/// The tag of a stored token, kept in `ruv_flags_` rather than next to the
/// value: an enum's tag would add a word to every handle struct.
#[derive(Clone, Copy)]
#[repr(u32)]
enum Kind {
    Timer = 1,
    Idle,
    Prepare,
    Check,
    Async,
    Poll,
    Udp,
    Signal,
    Tcp,
    Pipe,
    // ---- processes (h/cproc): numbered apart to leave room ----
    Process = 14,
    FailedProcess = 15,
}

impl Kind {
    fn from_flags(flags: c_uint) -> Option<Kind> {
        Some(match (flags & KIND_MASK) >> KIND_SHIFT {
            1 => Kind::Timer,
            2 => Kind::Idle,
            3 => Kind::Prepare,
            4 => Kind::Check,
            5 => Kind::Async,
            6 => Kind::Poll,
            7 => Kind::Udp,
            8 => Kind::Signal,
            9 => Kind::Tcp,
            10 => Kind::Pipe,
            14 => Kind::Process,
            15 => Kind::FailedProcess,
            _ => return None,
        })
    }

    fn flags(self) -> c_uint {
        (self as c_uint) << KIND_SHIFT
    }
}

/// What `ruv_private_` holds while a handle is linked: the ruv handle of
/// the type its [`Kind`] names, dropped only through [`take`].
union Stored {
    timer: ManuallyDrop<ruv::Timer>,
    idle: ManuallyDrop<ruv::Idle>,
    prepare: ManuallyDrop<ruv::Prepare>,
    check: ManuallyDrop<ruv::Check>,
    async_: ManuallyDrop<ruv::Async>,
    poll: ManuallyDrop<ruv::Poll>,
    udp: ManuallyDrop<ruv::Udp>,
    signal: ManuallyDrop<ruv::Signal>,
    tcp: ManuallyDrop<ruv::Tcp>,
    pipe: ManuallyDrop<ruv::Pipe>,
    process: ManuallyDrop<ruv::Process>,
    failed_process: ManuallyDrop<ruv::Idle>,
}

// The token lives in place in `ruv_private_`.
const _: () = assert!(
    std::mem::size_of::<Stored>() <= std::mem::size_of::<[*mut c_void; PRIVATE_WORDS]>()
        && std::mem::align_of::<Stored>() <= std::mem::align_of::<*mut c_void>()
);

impl OwnedToken {
    fn into_stored(self) -> (Kind, Stored) {
        match self {
            OwnedToken::Timer(h) => (
                Kind::Timer,
                Stored {
                    timer: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Idle(h) => (
                Kind::Idle,
                Stored {
                    idle: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Prepare(h) => (
                Kind::Prepare,
                Stored {
                    prepare: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Check(h) => (
                Kind::Check,
                Stored {
                    check: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Async(h) => (
                Kind::Async,
                Stored {
                    async_: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Poll(h) => (
                Kind::Poll,
                Stored {
                    poll: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Udp(h) => (
                Kind::Udp,
                Stored {
                    udp: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Signal(h) => (
                Kind::Signal,
                Stored {
                    signal: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Tcp(h) => (
                Kind::Tcp,
                Stored {
                    tcp: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Pipe(h) => (
                Kind::Pipe,
                Stored {
                    pipe: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::Process(h) => (
                Kind::Process,
                Stored {
                    process: ManuallyDrop::new(h),
                },
            ),
            OwnedToken::FailedProcess(h) => (
                Kind::FailedProcess,
                Stored {
                    failed_process: ManuallyDrop::new(h),
                },
            ),
        }
    }

    /// The id of the ruv handle.
    fn id(&self) -> u64 {
        match self {
            OwnedToken::Timer(h) => h.id(),
            OwnedToken::Idle(h) => h.id(),
            OwnedToken::Prepare(h) => h.id(),
            OwnedToken::Check(h) => h.id(),
            OwnedToken::Async(h) => h.id(),
            OwnedToken::Poll(h) => h.id(),
            OwnedToken::Udp(h) => h.id(),
            OwnedToken::Signal(h) => h.id(),
            OwnedToken::Tcp(h) => h.id(),
            OwnedToken::Pipe(h) => h.id(),
            OwnedToken::Process(h) => h.id(),
            OwnedToken::FailedProcess(h) => h.id(),
        }
    }
}

/// libuv's status for a ruv error (`Error::ClosedHandle` is UV_EINVAL).
pub(crate) fn status(err: Error) -> c_int {
    err.raw_code()
}

/// The status of the C library call that just failed: `-errno` (UV_EIO if
/// errno is unreadable).
pub(crate) fn last_os_status() -> c_int {
    -std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// 0 or the error's status.
pub(crate) fn to_status(result: ruv::Result<()>) -> c_int {
    match result {
        Ok(()) => 0,
        Err(err) => status(err),
    }
}

pub(crate) const EINVAL: c_int = StatusCode::EINVAL.code();
pub(crate) const EBADF: c_int = StatusCode::EBADF.code();

/// The token of an initialized, not yet closed handle.
///
/// # Safety
/// `h` is NULL or points to a handle struct the program owns.
pub(crate) unsafe fn token<'a>(h: *const uv_handle_t) -> Option<Token<'a>> {
    if h.is_null() {
        return None;
    }
    // SAFETY: non-NULL and owned by the program, per the caller.
    let handle = unsafe { &*h };
    let f = handle.ruv_flags_;
    if f & MAGIC_MASK != MAGIC || f & LINKED == 0 {
        return None;
    }
    let stored = handle.ruv_private_.as_ptr() as *const Stored;
    // SAFETY: while LINKED is set, `ruv_private_` holds the value written
    // by `init` (sized and aligned for it, asserted above) in the field its
    // kind bits name; it is read out and LINKED cleared only when the close
    // callback runs.
    Some(unsafe {
        match Kind::from_flags(f)? {
            Kind::Timer => Token::Timer(&(*stored).timer),
            Kind::Idle => Token::Idle(&(*stored).idle),
            Kind::Prepare => Token::Prepare(&(*stored).prepare),
            Kind::Check => Token::Check(&(*stored).check),
            Kind::Async => Token::Async(&(*stored).async_),
            Kind::Poll => Token::Poll(&(*stored).poll),
            Kind::Udp => Token::Udp(&(*stored).udp),
            Kind::Signal => Token::Signal(&(*stored).signal),
            Kind::Tcp => Token::Tcp(&(*stored).tcp),
            Kind::Pipe => Token::Pipe(&(*stored).pipe),
            Kind::Process => Token::Process(&(*stored).process),
            Kind::FailedProcess => Token::FailedProcess(&(*stored).failed_process),
        }
    })
}

/// The ruv UDP handle of a handle linked as UDP none of whose `unless`
/// flag bits are set: one load of the flags decides.
///
/// # Safety
/// `h` is NULL or points to a handle struct the program owns.
#[inline]
unsafe fn udp_unless<'a>(h: *const uv_handle_t, unless: c_uint) -> Option<&'a ruv::Udp> {
    const WANT: c_uint = MAGIC | LINKED | ((Kind::Udp as c_uint) << KIND_SHIFT);
    if h.is_null() {
        return None;
    }
    // SAFETY: non-NULL and owned by the program, per the caller.
    let handle = unsafe { &*h };
    if handle.ruv_flags_ & (MAGIC_MASK | LINKED | KIND_MASK | unless) != WANT {
        return None;
    }
    let stored = handle.ruv_private_.as_ptr() as *const Stored;
    // SAFETY: LINKED with the UDP kind: `ruv_private_` holds the `ruv::Udp`
    // written by `init` (see `token`).
    Some(unsafe { &(*stored).udp })
}

/// Whether `h` is linked as an async handle: the check `uv_async_send`
/// makes before it reads the sender, so that memory `uv_async_init` never
/// saw is UV_EINVAL rather than a wild pointer. One load of the flags,
/// atomic because sends come from any thread.
///
/// # Safety
/// `h` is non-NULL and points to a handle struct the program owns.
#[inline]
unsafe fn flags_atomic<'a>(h: *const uv_handle_t) -> &'a AtomicU32 {
    // SAFETY: per the caller `ruv_flags_` is a live, 4-byte aligned `c_uint`.
    unsafe { AtomicU32::from_ptr(std::ptr::addr_of!((*h).ruv_flags_) as *mut u32) }
}

/// Counts a sender in on a linked async handle whose close callback has not
/// begun: false (and nothing counted) otherwise. Every `true` must be
/// followed by [`async_sender_out`].
///
/// # Safety
/// `h` is non-NULL and points to a handle struct the program owns.
#[inline]
pub(crate) unsafe fn async_sender_in(h: *const uv_handle_t) -> bool {
    const WANT: c_uint = MAGIC | LINKED | ((Kind::Async as c_uint) << KIND_SHIFT);
    // SAFETY: per the caller.
    let flags = unsafe { flags_atomic(h) };
    let mut f = flags.load(Ordering::Relaxed);
    loop {
        if f & (MAGIC_MASK | LINKED | KIND_MASK | CLOSED) != WANT {
            return false;
        }
        if f & SENDERS_MASK == SENDERS_MASK {
            std::hint::spin_loop();
            f = flags.load(Ordering::Relaxed);
            continue;
        }
        match flags.compare_exchange_weak(f, f + SENDERS_UNIT, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => return true,
            Err(now) => f = now,
        }
    }
}

/// Counts a sender out again (see [`async_sender_in`]).
///
/// # Safety
/// `h` is the handle a `true` from [`async_sender_in`] counted in.
#[inline]
pub(crate) unsafe fn async_sender_out(h: *const uv_handle_t) {
    // SAFETY: per the caller; the handle lives until the close callback,
    // which waits for this.
    unsafe { flags_atomic(h) }.fetch_sub(SENDERS_UNIT, Ordering::Release);
}

/// The ruv UDP handle of a handle linked as UDP (closing or not).
///
/// # Safety
/// `h` is NULL or points to a handle struct the program owns.
#[inline]
pub(crate) unsafe fn linked_udp<'a>(h: *const uv_handle_t) -> Option<&'a ruv::Udp> {
    // SAFETY: forwarded contract.
    unsafe { udp_unless(h, 0) }
}

/// The ruv UDP handle of a live UDP handle (initialized here as UDP, not
/// closing): what [`live`] and a kind check decide — the check every
/// `uv_udp_send` makes.
///
/// # Safety
/// `h` is NULL or points to a handle struct the program owns.
#[inline]
pub(crate) unsafe fn live_udp<'a>(h: *const uv_handle_t) -> Option<&'a ruv::Udp> {
    // SAFETY: forwarded contract.
    unsafe { udp_unless(h, CLOSING | CLOSED) }
}

/// Moves the token out of a linked handle and unlinks it.
///
/// # Safety
/// `h` is a handle struct the program owns, LINKED by `init`.
unsafe fn take(h: *mut uv_handle_t) -> Option<OwnedToken> {
    // SAFETY: per the caller.
    let f = unsafe { (*h).ruv_flags_ };
    let kind = Kind::from_flags(f)?;
    // SAFETY: per the caller: LINKED is cleared here, so the value `init`
    // stored in the field its kind names is read out exactly once. The
    // store is atomic because a late `uv_async_send` on another thread may
    // read the word at the same time (and must see UV_EINVAL); on x86 and
    // aarch64 a relaxed store is the same instruction as a plain one.
    unsafe {
        flags_atomic(h).store(f & !(LINKED | KIND_MASK), Ordering::Relaxed);
        let stored = std::ptr::read((*h).ruv_private_.as_ptr() as *const Stored);
        Some(match kind {
            Kind::Timer => OwnedToken::Timer(ManuallyDrop::into_inner(stored.timer)),
            Kind::Idle => OwnedToken::Idle(ManuallyDrop::into_inner(stored.idle)),
            Kind::Prepare => OwnedToken::Prepare(ManuallyDrop::into_inner(stored.prepare)),
            Kind::Check => OwnedToken::Check(ManuallyDrop::into_inner(stored.check)),
            Kind::Async => OwnedToken::Async(ManuallyDrop::into_inner(stored.async_)),
            Kind::Poll => OwnedToken::Poll(ManuallyDrop::into_inner(stored.poll)),
            Kind::Udp => OwnedToken::Udp(ManuallyDrop::into_inner(stored.udp)),
            Kind::Signal => OwnedToken::Signal(ManuallyDrop::into_inner(stored.signal)),
            Kind::Tcp => OwnedToken::Tcp(ManuallyDrop::into_inner(stored.tcp)),
            Kind::Pipe => OwnedToken::Pipe(ManuallyDrop::into_inner(stored.pipe)),
            Kind::Process => OwnedToken::Process(ManuallyDrop::into_inner(stored.process)),
            Kind::FailedProcess => {
                OwnedToken::FailedProcess(ManuallyDrop::into_inner(stored.failed_process))
            }
        })
    }
}

/// The handle's flag bits, 0 for a handle never initialized here.
///
/// # Safety
/// `h` is NULL or points to a handle struct the program owns.
pub(crate) unsafe fn flags(h: *const uv_handle_t) -> c_uint {
    if h.is_null() {
        return 0;
    }
    // SAFETY: non-NULL and owned by the program, per the caller.
    let f = unsafe { (*h).ruv_flags_ };
    if f & MAGIC_MASK == MAGIC {
        f & !MAGIC_MASK
    } else {
        0
    }
}

/// Whether `uv_close` was called on the handle.
///
/// # Safety
/// As [`flags`].
pub(crate) unsafe fn is_closing(h: *const uv_handle_t) -> bool {
    // SAFETY: forwarded contract.
    (unsafe { flags(h) } & (CLOSING | CLOSED)) != 0
}

/// Fills the common fields of a handle being initialized and links it to
/// its ruv handle. `data` is left alone, as libuv does.
///
/// # Safety
/// `h` points to writable memory of the handle's full struct size; `ctx`
/// is the live context of `loop_`.
pub(crate) unsafe fn init(
    loop_: *mut uv_loop_t,
    ctx: &LoopCtx,
    h: *mut uv_handle_t,
    type_: c_int,
    token: OwnedToken,
    extra_flags: c_uint,
) {
    let id = token.id();
    let (kind, stored) = token.into_stored();
    // SAFETY: writable per the caller; we only write plain fields, and the
    // token where `token` finds it.
    unsafe {
        (*h).loop_ = loop_;
        (*h).type_ = type_;
        (*h).close_cb = None;
        std::ptr::write((*h).ruv_private_.as_mut_ptr() as *mut Stored, stored);
        (*h).ruv_flags_ = MAGIC | LINKED | kind.flags() | extra_flags;
    }
    if let Ok(mut handles) = ctx.handles.try_borrow_mut() {
        handles.insert(id, h);
    }
}

/// Reads a handle's loop context.
///
/// # Safety
/// `h` is an initialized handle.
pub(crate) unsafe fn handle_ctx<'a>(h: *const uv_handle_t) -> Option<&'a LoopCtx> {
    // SAFETY: an initialized handle's loop pointer is the loop it was
    // initialized on, which the program keeps alive while handles exist.
    unsafe { ctx((*h).loop_) }
}

/// Starts an operation that needs a live handle of one type: the token, or
/// UV_EINVAL for a closing, closed or uninitialized handle (libuv leaves
/// those undefined; ruv defines them).
///
/// # Safety
/// `h` is NULL or a handle struct the program owns.
pub(crate) unsafe fn live<'a>(h: *const uv_handle_t) -> Result<Token<'a>, c_int> {
    // SAFETY: forwarded contract.
    unsafe {
        if is_closing(h) {
            return Err(EINVAL);
        }
        token(h).ok_or(EINVAL)
    }
}

/// Records `uv_close`'s callback and marks the handle closing.
///
/// # Safety
/// `handle` is a live handle initialized here.
pub(crate) unsafe fn mark_closing(handle: *mut uv_handle_t, close_cb: Option<uv_close_cb>) {
    // SAFETY: per the contract above.
    unsafe {
        (*handle).close_cb = close_cb;
        if (*handle).type_ == handle_type::ASYNC {
            // Senders on other threads change the flags too.
            flags_atomic(handle).fetch_or(CLOSING, Ordering::Relaxed);
        } else {
            (*handle).ruv_flags_ |= CLOSING;
        }
    }
}

/// `uv_close`.
///
/// # Safety
/// `handle` is an initialized handle struct the program keeps alive until
/// `close_cb` runs.
#[no_mangle]
pub unsafe extern "C" fn uv_close(handle: *mut uv_handle_t, close_cb: Option<uv_close_cb>) {
    // SAFETY: per the contract above.
    let Some(ruv_handle) = (unsafe { live_handle(handle) }) else {
        return;
    };
    // SAFETY: initialized handle.
    unsafe { mark_closing(handle, close_cb) };
    // No callback of its own: the loop's close hook (`close_hook`, set by
    // `uv_loop_init`) finishes it, so ruv stores only the slot index.
    ruv_handle.close_to_hook();
}

/// The ruv handle of a live handle of any type (what [`live`] and
/// `Token::handle` give, from one load and one comparison of the flags).
///
/// # Safety
/// `h` is NULL or points to a handle struct the program owns.
#[inline]
unsafe fn live_handle<'a>(h: *const uv_handle_t) -> Option<&'a ruv::Handle> {
    if h.is_null() {
        return None;
    }
    // SAFETY: non-NULL and owned by the program, per the caller.
    let f = unsafe { (*h).ruv_flags_ };
    if f & (MAGIC_MASK | LINKED | CLOSING | CLOSED) != MAGIC | LINKED {
        return None;
    }
    // SAFETY: LINKED: `ruv_private_` holds the value written by `init` in
    // the field its kind bits name (see `token`).
    Some(unsafe {
        let stored = (*h).ruv_private_.as_ptr() as *const Stored;
        match Kind::from_flags(f)? {
            Kind::Timer => &(*stored).timer,
            Kind::Idle => &(*stored).idle,
            Kind::Prepare => &(*stored).prepare,
            Kind::Check => &(*stored).check,
            Kind::Async => &(*stored).async_,
            Kind::Poll => &(*stored).poll,
            Kind::Udp => &(*stored).udp,
            Kind::Signal => &(*stored).signal,
            Kind::Tcp => &(*stored).tcp,
            Kind::Pipe => &(*stored).pipe,
            Kind::Process => &(*stored).process,
            Kind::FailedProcess => &(*stored).failed_process,
        }
    })
}

/// The close hook of every uv-compat loop: finds the closed handle's C
/// handle in the running loop's table by its id and finishes the close.
/// The entry is still there: `finish_close` removes it.
pub(crate) fn close_hook(closed: &ruv::Handle) {
    let Some(h) = running_handle(closed.get_loop(), |handles| handles.get(closed.id())) else {
        return;
    };
    // SAFETY: a table entry is a linked handle, which the program keeps
    // alive until its close callback has run, which is now; its token is
    // ours to read out.
    unsafe { finish_close(h) };
}

/// The close callback's turn: unlink and free the ruv side, then tell C.
///
/// # Safety
/// `h` is a closing handle initialized here.
unsafe fn finish_close(h: *mut uv_handle_t) {
    // SAFETY: per the caller; the token written by `init` is read out once
    // (LINKED is cleared first) and the sender box is freed once.
    unsafe {
        if (*h).type_ == handle_type::ASYNC {
            // No sender gets in once CLOSED is set; wait for those already
            // in (each is a few instructions away from leaving) before the
            // sender box goes.
            let flags = flags_atomic(h);
            flags.fetch_or(CLOSED, Ordering::AcqRel);
            while flags.load(Ordering::Acquire) & SENDERS_MASK != 0 {
                std::hint::spin_loop();
            }
        } else {
            (*h).ruv_flags_ |= CLOSED;
        }
        let token = if (*h).ruv_flags_ & LINKED != 0 {
            take(h)
        } else {
            None
        };
        if let Some(token) = token {
            if let Some(ctx) = handle_ctx(h) {
                if let Ok(mut handles) = ctx.handles.try_borrow_mut() {
                    handles.remove(token.id(), h);
                }
            }
            if let OwnedToken::Async(_) = token {
                // An async token means `h` is the `uv_async_t` that
                // `uv_async_init` linked.
                let a = h as *mut uv_async_t;
                let sender = std::mem::replace(&mut (*a).ruv_private_sender_, std::ptr::null_mut());
                if !sender.is_null() {
                    // The sender box made by `uv_async_init`: CLOSED keeps
                    // new senders out and the ones that were in have left
                    // (above), so nothing uses it now.
                    drop(Box::from_raw(sender as *mut ruv::AsyncSender));
                }
            }
            // `token` is dropped here, at the end of its block, in place:
            // `drop(token)` would move it through the stack first.
        }
        if let Some(cb) = (*h).close_cb {
            cb(h);
        }
    }
}

/// `uv_is_active`.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_is_active(handle: *const uv_handle_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { token(handle) }.map_or(0, |t| t.handle().is_active() as c_int)
}

/// `uv_is_closing`: true from `uv_close` on, also after the close callback.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_is_closing(handle: *const uv_handle_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { is_closing(handle) as c_int }
}

/// `uv_ref`.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_ref(handle: *mut uv_handle_t) {
    // SAFETY: per the contract above.
    if let Some(t) = unsafe { token(handle) } {
        t.handle().ref_();
    }
}

/// `uv_unref`.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_unref(handle: *mut uv_handle_t) {
    // SAFETY: per the contract above.
    if let Some(t) = unsafe { token(handle) } {
        t.handle().unref();
    }
}

/// `uv_has_ref`.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_has_ref(handle: *const uv_handle_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { token(handle) }.map_or(0, |t| t.handle().has_ref() as c_int)
}

/// `uv_fileno`: UV_EBADF for a closing handle or one without a socket yet,
/// UV_EINVAL for handle types without a descriptor.
///
/// # Safety
/// `handle` is NULL or an initialized handle; `fd` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uv_fileno(handle: *const uv_handle_t, fd: *mut RawFd) -> c_int {
    if fd.is_null() || handle.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    if unsafe { is_closing(handle) } {
        return EBADF;
    }
    // SAFETY: per the contract above.
    let Some(t) = (unsafe { token(handle) }) else {
        return EINVAL;
    };
    match t.handle().fileno() {
        Ok(raw) => {
            // SAFETY: `fd` is writable per the contract above.
            unsafe { *fd = raw };
            0
        }
        Err(err) => status(err),
    }
}

/// `uv_handle_get_type`.
///
/// # Safety
/// `handle` points to a handle struct.
#[no_mangle]
pub unsafe extern "C" fn uv_handle_get_type(handle: *const uv_handle_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { (*handle).type_ }
}

/// `uv_handle_get_data`.
///
/// # Safety
/// `handle` points to a handle struct.
#[no_mangle]
pub unsafe extern "C" fn uv_handle_get_data(handle: *const uv_handle_t) -> *mut c_void {
    // SAFETY: per the contract above.
    unsafe { (*handle).data }
}

/// `uv_handle_set_data`.
///
/// # Safety
/// `handle` points to a handle struct.
#[no_mangle]
pub unsafe extern "C" fn uv_handle_set_data(handle: *mut uv_handle_t, data: *mut c_void) {
    // SAFETY: per the contract above.
    unsafe { (*handle).data = data };
}

/// `uv_handle_get_loop`.
///
/// # Safety
/// `handle` points to a handle struct.
#[no_mangle]
pub unsafe extern "C" fn uv_handle_get_loop(handle: *const uv_handle_t) -> *mut uv_loop_t {
    // SAFETY: per the contract above.
    unsafe { (*handle).loop_ }
}

/// `uv_req_get_data`.
///
/// # Safety
/// `req` points to a request struct.
#[no_mangle]
pub unsafe extern "C" fn uv_req_get_data(req: *const uv_req_t) -> *mut c_void {
    // SAFETY: per the contract above.
    unsafe { (*req).data }
}

/// `uv_req_set_data`.
///
/// # Safety
/// `req` points to a request struct.
#[no_mangle]
pub unsafe extern "C" fn uv_req_set_data(req: *mut uv_req_t, data: *mut c_void) {
    // SAFETY: per the contract above.
    unsafe { (*req).data = data };
}

/// `uv_req_get_type`.
///
/// # Safety
/// `req` points to a request struct.
#[no_mangle]
pub unsafe extern "C" fn uv_req_get_type(req: *const uv_req_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { (*req).type_ }
}

/// A socket buffer size's getter and setter, for a UDP handle (ruv's) and
/// for a stream's socket (`SO_SNDBUF` / `SO_RCVBUF` on its descriptor).
struct BufferSize {
    udp_get: fn(&ruv::Udp) -> ruv::Result<usize>,
    udp_set: fn(&ruv::Udp, usize) -> ruv::Result<()>,
    sock_get: fn(&socket2::SockRef<'_>) -> std::io::Result<usize>,
    sock_set: fn(&socket2::SockRef<'_>, usize) -> std::io::Result<()>,
}

/// Gets (`*value` 0) or sets a stream's socket buffer size through its
/// descriptor: UV_EBADF without one, UV_ENOTSOCK for a pipe end.
fn stream_buffer_size(h: &ruv::Handle, requested: c_int, ops: &BufferSize) -> Result<usize, c_int> {
    let fd = h.fileno().map_err(status)?;
    // SAFETY: the descriptor is the live handle's, open for this call.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let sock = socket2::SockRef::from(&fd);
    let done = if requested == 0 {
        (ops.sock_get)(&sock)
    } else {
        (ops.sock_set)(&sock, requested as u32 as usize).map(|()| 0)
    };
    done.map_err(|e| status(e.into()))
}

/// The buffer-size calls: a UDP handle's through ruv, a TCP or pipe
/// handle's on its socket, UV_ENOTSUP for other types.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
unsafe fn buffer_size(handle: *mut uv_handle_t, value: *mut c_int, ops: &BufferSize) -> c_int {
    if value.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    if unsafe { is_closing(handle) } {
        return EBADF;
    }
    // SAFETY: per the contract above.
    let token = match unsafe { live(handle) } {
        Ok(t) => t,
        Err(code) => return code,
    };
    // SAFETY: `value` is non-NULL and, per libuv's contract, writable.
    let requested = unsafe { *value };
    let udp = match token {
        Token::Udp(udp) => udp,
        Token::Tcp(_) | Token::Pipe(_) => {
            return match stream_buffer_size(token.handle(), requested, ops) {
                Ok(n) => {
                    if requested == 0 {
                        // SAFETY: as above.
                        unsafe { *value = c_int::try_from(n).unwrap_or(c_int::MAX) };
                    }
                    0
                }
                Err(code) => code,
            };
        }
        // libuv: handle types without a socket buffer are UV_ENOTSUP.
        _ => return StatusCode::ENOTSUP.code(),
    };
    if requested == 0 {
        match (ops.udp_get)(udp) {
            Ok(n) => {
                // SAFETY: as above.
                unsafe { *value = c_int::try_from(n).unwrap_or(c_int::MAX) };
                0
            }
            Err(err) => status(err),
        }
    } else {
        // As libuv, a negative size goes to setsockopt as it is (the kernel
        // clamps it): the cast round-trips to the same int there.
        to_status((ops.udp_set)(udp, requested as u32 as usize))
    }
}

/// `uv_send_buffer_size`: gets the size when `*value` is 0, else sets it.
///
/// # Safety
/// `handle` is NULL or an initialized handle; `value` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uv_send_buffer_size(handle: *mut uv_handle_t, value: *mut c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        buffer_size(
            handle,
            value,
            &BufferSize {
                udp_get: ruv::Udp::send_buffer_size,
                udp_set: ruv::Udp::set_send_buffer_size,
                sock_get: |s| s.send_buffer_size(),
                sock_set: |s, n| s.set_send_buffer_size(n),
            },
        )
    }
}

/// `uv_recv_buffer_size`: gets the size when `*value` is 0, else sets it.
///
/// # Safety
/// `handle` is NULL or an initialized handle; `value` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uv_recv_buffer_size(handle: *mut uv_handle_t, value: *mut c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        buffer_size(
            handle,
            value,
            &BufferSize {
                udp_get: ruv::Udp::recv_buffer_size,
                udp_set: ruv::Udp::set_recv_buffer_size,
                sock_get: |s| s.recv_buffer_size(),
                sock_set: |s, n| s.set_recv_buffer_size(n),
            },
        )
    }
}

/// `uv_walk`: every handle of the loop, closing ones included, in the
/// order of their ruv slots (libuv: the order they were initialized, which
/// is the same until closed handles' slots are reused). Handles whose close
/// callback ran meanwhile are skipped.
///
/// # Safety
/// `loop_` is an initialized loop.
#[no_mangle]
pub unsafe extern "C" fn uv_walk(
    loop_: *mut uv_loop_t,
    walk_cb: Option<uv_walk_cb>,
    arg: *mut c_void,
) {
    // SAFETY: per the contract above.
    let (Some(ctx), Some(cb)) = (unsafe { ctx(loop_) }, walk_cb) else {
        return;
    };
    let Ok(snapshot) = ctx.handles.try_borrow().map(|handles| handles.snapshot()) else {
        return;
    };
    for (id, h) in snapshot {
        if ctx
            .handles
            .try_borrow()
            .is_ok_and(|handles| handles.get(id) == Some(h))
        {
            // SAFETY: still linked, so still alive (the program keeps
            // handles alive until their close callback).
            unsafe { cb(h, arg) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags `uv_async_init` leaves on a linked async handle.
    const ASYNC_LINKED: c_uint = MAGIC | LINKED | ((Kind::Async as c_uint) << KIND_SHIFT);

    fn linked_async() -> Box<uv_handle_t> {
        // SAFETY: `uv_handle_t` is plain data (integers, raw pointers, an
        // `Option` of a function pointer), for which all zeroes is valid.
        let mut h: Box<uv_handle_t> = Box::new(unsafe { std::mem::zeroed() });
        h.ruv_flags_ = ASYNC_LINKED;
        h
    }

    fn flags(h: *const uv_handle_t) -> c_uint {
        // SAFETY: `h` is a live box of the test.
        unsafe { flags_atomic(h) }.load(Ordering::SeqCst)
    }

    /// The sender count's boundary: 255 senders in at once fill it; the
    /// 256th waits for one to leave instead of carrying into the magic
    /// bits (which would turn every later call on the handle into
    /// UV_EINVAL), and the count returns to 0 when all have left.
    #[test]
    fn the_256th_sender_waits_for_a_free_unit() {
        let h = linked_async();
        let p = &*h as *const uv_handle_t;
        for _ in 0..255 {
            // SAFETY: `p` is a live box of the test.
            assert!(unsafe { async_sender_in(p) });
        }
        assert_eq!(flags(p), ASYNC_LINKED | SENDERS_MASK);
        let addr = p as usize;
        // SAFETY: the box outlives the thread, joined below.
        let waiter =
            std::thread::spawn(move || unsafe { async_sender_in(addr as *const uv_handle_t) });
        // While the count is full the waiter must not get in, so the flags
        // stay as they are; the polls give it its chance (how long they
        // take has no bearing on what is asserted).
        let mut changed = None;
        for _ in 0..1000 {
            let now = flags(p);
            if now != ASYNC_LINKED | SENDERS_MASK {
                changed = Some(now);
                break;
            }
            std::thread::yield_now();
        }
        // SAFETY: one of the 255 counted in above.
        unsafe { async_sender_out(p) };
        assert!(waiter.join().unwrap());
        assert_eq!(changed, None);
        assert_eq!(flags(p), ASYNC_LINKED | SENDERS_MASK);
        for _ in 0..255 {
            // SAFETY: each counted in above.
            unsafe { async_sender_out(p) };
        }
        assert_eq!(flags(p), ASYNC_LINKED);
    }

    /// No sender gets in once the close callback's turn has set CLOSED,
    /// nor on a handle of another kind, and a refusal counts nothing.
    #[test]
    fn refused_senders_count_nothing() {
        let mut h = linked_async();
        h.ruv_flags_ |= CLOSED;
        let p = &*h as *const uv_handle_t;
        // SAFETY: `p` is a live box of the test.
        assert!(!unsafe { async_sender_in(p) });
        assert_eq!(flags(p), ASYNC_LINKED | CLOSED);

        let mut t = linked_async();
        t.ruv_flags_ = MAGIC | LINKED | ((Kind::Timer as c_uint) << KIND_SHIFT);
        let p = &*t as *const uv_handle_t;
        // SAFETY: as above.
        assert!(!unsafe { async_sender_in(p) });
        assert_eq!(flags(p) & SENDERS_MASK, 0);
    }
}
