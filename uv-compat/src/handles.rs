//! The bridge between C handle structs and ruv handles: what the library
//! keeps in the structs' private fields, and the functions every handle
//! type shares (`uv_close`, `uv_ref`, `uv_walk`, …).

use crate::loops::{ctx, LoopCtx};
use crate::types::*;
use libc::{c_int, c_uint, c_void};
use ruv::{Error, StatusCode};
use std::os::fd::RawFd;

/// Set in `ruv_flags_` by every `*_init`: the handle was initialized here.
const MAGIC: c_uint = 0x5275_0000;
const MAGIC_MASK: c_uint = 0xffff_0000;
/// `uv_close` was called.
pub(crate) const CLOSING: c_uint = 1;
/// The close callback ran; the ruv handle is gone.
pub(crate) const CLOSED: c_uint = 2;
/// The token is stored in `ruv_private_` (from init until the close
/// callback).
const LINKED: c_uint = 8;

// The token lives in place in `ruv_private_`.
const _: () = assert!(
    std::mem::size_of::<Token>() <= 4 * std::mem::size_of::<*mut c_void>()
        && std::mem::align_of::<Token>() <= std::mem::align_of::<*mut c_void>()
);
/// `uv_udp_init_ex` was given `UV_UDP_RECVMMSG`.
pub(crate) const RECVMMSG: c_uint = 4;

/// The ruv handle behind a C handle, stored in place in `ruv_private_`.
pub(crate) enum Token {
    Timer(ruv::Timer),
    Idle(ruv::Idle),
    Prepare(ruv::Prepare),
    Check(ruv::Check),
    Async(ruv::Async),
    Poll(ruv::Poll),
    Udp(ruv::Udp),
}

impl Token {
    pub(crate) fn handle(&self) -> &ruv::Handle {
        match self {
            Token::Timer(h) => h,
            Token::Idle(h) => h,
            Token::Prepare(h) => h,
            Token::Check(h) => h,
            Token::Async(h) => h,
            Token::Poll(h) => h,
            Token::Udp(h) => h,
        }
    }
}

/// libuv's status for a ruv error (`Error::ClosedHandle` is UV_EINVAL).
pub(crate) fn status(err: Error) -> c_int {
    err.raw_code()
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
pub(crate) unsafe fn token<'a>(h: *const uv_handle_t) -> Option<&'a Token> {
    if h.is_null() {
        return None;
    }
    // SAFETY: non-NULL and owned by the program, per the caller.
    let handle = unsafe { &*h };
    if handle.ruv_flags_ & MAGIC_MASK != MAGIC || handle.ruv_flags_ & LINKED == 0 {
        return None;
    }
    // SAFETY: while LINKED is set, `ruv_private_` holds the Token written
    // by `init` (sized and aligned for it, asserted above); it is read out
    // and LINKED cleared only when the close callback runs.
    Some(unsafe { &*(handle.ruv_private_.as_ptr() as *const Token) })
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
    token: Token,
    extra_flags: c_uint,
) {
    let id = token.handle().id();
    // SAFETY: writable per the caller; we only write plain fields.
    unsafe {
        (*h).loop_ = loop_;
        (*h).type_ = type_;
        (*h).close_cb = None;
        (*h).ruv_private_ = [std::ptr::null_mut(); 4];
        std::ptr::write((*h).ruv_private_.as_mut_ptr() as *mut Token, token);
        (*h).ruv_flags_ = MAGIC | LINKED | extra_flags;
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
pub(crate) unsafe fn live<'a>(h: *const uv_handle_t) -> Result<&'a Token, c_int> {
    // SAFETY: forwarded contract.
    unsafe {
        if is_closing(h) {
            return Err(EINVAL);
        }
        token(h).ok_or(EINVAL)
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
    let Ok(token) = (unsafe { live(handle) }) else {
        return;
    };
    // SAFETY: initialized handle.
    unsafe {
        (*handle).close_cb = close_cb;
        (*handle).ruv_flags_ |= CLOSING;
    }
    let h = handle as usize;
    token.handle().close(move || {
        let h = h as *mut uv_handle_t;
        // SAFETY: the program keeps the handle alive until its close
        // callback has run, which is now; the token is ours to read out.
        unsafe { finish_close(h) };
    });
}

/// The close callback's turn: unlink and free the ruv side, then tell C.
///
/// # Safety
/// `h` is a closing handle initialized here.
unsafe fn finish_close(h: *mut uv_handle_t) {
    // SAFETY: per the caller; the token written by `init` is read out once
    // (LINKED is cleared first) and the sender box is freed once.
    unsafe {
        (*h).ruv_flags_ |= CLOSED;
        if (*h).ruv_flags_ & LINKED != 0 {
            (*h).ruv_flags_ &= !LINKED;
            let token = std::ptr::read((*h).ruv_private_.as_ptr() as *const Token);
            if let Some(ctx) = handle_ctx(h) {
                if let Ok(mut handles) = ctx.handles.try_borrow_mut() {
                    handles.remove(token.handle().id(), h);
                }
            }
            if let Token::Async(_) = token {
                // An async token means `h` is the `uv_async_t` that
                // `uv_async_init` linked.
                let a = h as *mut uv_async_t;
                let sender = std::mem::replace(&mut (*a).ruv_private_sender_, std::ptr::null_mut());
                if !sender.is_null() {
                    // The sender box made by `uv_async_init`: libuv forbids
                    // sends once the close callback runs, so nothing uses
                    // it now.
                    drop(Box::from_raw(sender as *mut ruv::AsyncSender));
                }
            }
            drop(token);
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

/// The UDP token of a handle for the buffer-size calls.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
unsafe fn buffer_size(
    handle: *mut uv_handle_t,
    value: *mut c_int,
    get: fn(&ruv::Udp) -> ruv::Result<usize>,
    set: fn(&ruv::Udp, usize) -> ruv::Result<()>,
) -> c_int {
    if value.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    if unsafe { is_closing(handle) } {
        return EBADF;
    }
    // SAFETY: per the contract above.
    let udp = match unsafe { live(handle) } {
        Ok(Token::Udp(udp)) => udp,
        // libuv: handle types without a socket buffer are UV_ENOTSUP.
        Ok(_) => return StatusCode::ENOTSUP.code(),
        Err(code) => return code,
    };
    // SAFETY: `value` is non-NULL and, per libuv's contract, writable.
    let requested = unsafe { *value };
    if requested == 0 {
        match get(udp) {
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
        to_status(set(udp, requested as u32 as usize))
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
            ruv::Udp::send_buffer_size,
            ruv::Udp::set_send_buffer_size,
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
            ruv::Udp::recv_buffer_size,
            ruv::Udp::set_recv_buffer_size,
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
