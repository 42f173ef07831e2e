//! `uv_async_init`, `uv_async_send`.

use crate::handles::{async_sender_in, async_sender_out, init, status, OwnedToken, EINVAL};
use crate::loops::ctx;
use crate::types::*;
use libc::{c_int, c_void};

/// `uv_async_init`; a NULL callback is allowed (sends only wake the loop).
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// `sizeof(uv_async_t)`.
#[no_mangle]
pub unsafe extern "C" fn uv_async_init(
    loop_: *mut uv_loop_t,
    handle: *mut uv_async_t,
    async_cb: Option<uv_async_cb>,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() {
        return EINVAL;
    }
    let h = handle as usize;
    let a = ruv::Async::new(&ctx.lp, move |_| {
        let h = h as *mut uv_async_t;
        // SAFETY: the handle is alive while its callback can run; the
        // callback is read now so C may change it.
        if let Some(cb) = unsafe { (*h).async_cb } {
            // SAFETY: calling the program's callback with its own handle.
            unsafe { cb(h) };
        }
    });
    let sender = match a.sender() {
        Ok(s) => Box::into_raw(Box::new(s)),
        Err(err) => return status(err),
    };
    // SAFETY: writable per the contract above. The sender pointer is set
    // before the program can hand the handle to another thread; it is freed
    // when the close callback runs, after which libuv forbids sends too.
    unsafe {
        (*handle).async_cb = async_cb;
        init(
            loop_,
            ctx,
            handle as *mut uv_handle_t,
            handle_type::ASYNC,
            OwnedToken::Async(a),
            0,
        );
        (*handle).ruv_private_sender_ = sender as *mut c_void;
    }
    0
}

/// `uv_async_send`: from any thread. 0 while the handle is closing (the
/// wakeup is dropped: no callback runs after `uv_close`), UV_EINVAL once
/// its close callback has begun, and for memory that `uv_async_init` never
/// initialized (or initialized as another handle type), as every other
/// function here. A send racing `uv_close` on the loop's thread is safe, as
/// in libuv: the close callback's turn waits until the send has left.
///
/// # Safety
/// `handle` is NULL or points to a `uv_async_t` the program owns.
#[no_mangle]
pub unsafe extern "C" fn uv_async_send(handle: *mut uv_async_t) -> c_int {
    let h = handle as *const uv_handle_t;
    // SAFETY: non-NULL and owned by the program, per the contract above.
    if handle.is_null() || !unsafe { async_sender_in(h) } {
        return EINVAL;
    }
    // SAFETY: linked as async by `uv_async_init`, which wrote the sender
    // pointer before the program could hand the handle to another thread;
    // the box is freed only after every sender counted in has left.
    let sender = unsafe { (*handle).ruv_private_sender_ } as *const ruv::AsyncSender;
    let result = if sender.is_null() {
        EINVAL
    } else {
        // SAFETY: as above; AsyncSender is Sync.
        match unsafe { &*sender }.send() {
            Ok(()) => 0,
            // Closing (uv_close called, its callback not begun): the wakeup
            // is dropped and 0 returned, as libuv does — a thread cannot
            // know that the loop's thread just closed the handle (libuv's
            // own async test sends in that window).
            Err(ruv::Error::ClosedHandle) => 0,
            Err(err) => status(err),
        }
    };
    // SAFETY: counted in above.
    unsafe { async_sender_out(h) };
    result
}
