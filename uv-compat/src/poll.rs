//! `uv_poll_*`.

use crate::handles::{
    init, last_os_status, live, status, to_status, token, OwnedToken, Token, EINVAL,
};
use crate::loops::ctx;
use crate::types::*;
use libc::c_int;
use ruv::PollEvents;

/// `uv_poll_init`: UV_EEXIST if a started handle of the loop watches `fd`
/// (other, stopped poll handles on it are fine, as in libuv; so is the
/// socket of a TCP or pipe handle that does not read, listen, connect or
/// wait to write, as in libuv); a second handle's `uv_poll_start` is
/// UV_EEXIST while the first one is started.
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// `sizeof(uv_poll_t)`.
#[no_mangle]
pub unsafe extern "C" fn uv_poll_init(
    loop_: *mut uv_loop_t,
    handle: *mut uv_poll_t,
    fd: c_int,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() {
        return EINVAL;
    }
    // As libuv, the descriptor is switched to non-blocking mode.
    // SAFETY: fcntl on a descriptor number only reads and sets its flags;
    // an invalid number fails with EBADF.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if fl < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } < 0 {
        return last_os_status();
    }
    let p = match ruv::Poll::new(&ctx.lp, fd) {
        Ok(p) => p,
        Err(err) => return status(err),
    };
    // SAFETY: writable per the contract above.
    unsafe {
        (*handle).poll_cb = None;
        init(
            loop_,
            ctx,
            handle as *mut uv_handle_t,
            handle_type::POLL,
            OwnedToken::Poll(p),
            0,
        );
    }
    0
}

/// `uv_poll_init_socket`: the same as `uv_poll_init` on Unix.
///
/// # Safety
/// As `uv_poll_init`.
#[no_mangle]
pub unsafe extern "C" fn uv_poll_init_socket(
    loop_: *mut uv_loop_t,
    handle: *mut uv_poll_t,
    socket: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { uv_poll_init(loop_, handle, socket) }
}

/// `uv_poll_start`: UV_EINVAL for unknown event bits or a NULL callback.
///
/// # Safety
/// `handle` is NULL or an initialized poll handle.
#[no_mangle]
pub unsafe extern "C" fn uv_poll_start(
    handle: *mut uv_poll_t,
    events: c_int,
    cb: Option<uv_poll_cb>,
) -> c_int {
    // SAFETY: per the contract above.
    let p = match unsafe { live(handle as *const uv_handle_t) } {
        Ok(Token::Poll(p)) => p,
        Ok(_) => return EINVAL,
        Err(code) => return code,
    };
    let Some(events) = u32::try_from(events).ok().and_then(PollEvents::from_bits) else {
        return EINVAL;
    };
    if cb.is_none() {
        return EINVAL;
    }
    // SAFETY: initialized poll handle.
    unsafe { (*handle).poll_cb = cb };
    let h = handle as usize;
    to_status(p.start(events, move |_, result| {
        let h = h as *mut uv_poll_t;
        let (code, bits) = match result {
            Ok(ready) => (0, ready.bits() as c_int),
            Err(err) => (status(err), 0),
        };
        // SAFETY: the handle is alive while its callback can run; the
        // callback is read now so C may change it.
        if let Some(cb) = unsafe { (*h).poll_cb } {
            // SAFETY: calling the program's callback with its own handle.
            unsafe { cb(h, code, bits) };
        }
    }))
}

/// `uv_poll_stop`.
///
/// # Safety
/// `handle` is NULL or an initialized poll handle.
#[no_mangle]
pub unsafe extern "C" fn uv_poll_stop(handle: *mut uv_poll_t) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { token(handle as *const uv_handle_t) } {
        Some(Token::Poll(p)) => to_status(p.stop()),
        _ => 0,
    }
}
