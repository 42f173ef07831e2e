//! `uv_signal_*` and `uv_kill`.

use crate::handles::{
    init, live, status, to_status, token, OwnedToken, Token, CLOSING, EINVAL, ONESHOT, RESTARTED,
};
use crate::loops::{ctx, running_handle};
use crate::types::*;
use libc::c_int;

/// The ruv signal handle of a live C signal handle.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
unsafe fn signal<'a>(handle: *const uv_signal_t) -> Result<&'a ruv::Signal, c_int> {
    // SAFETY: forwarded contract.
    match unsafe { live(handle as *const uv_handle_t) }? {
        Token::Signal(s) => Ok(s),
        _ => Err(EINVAL),
    }
}

/// `uv_signal_init`.
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// `sizeof(uv_signal_t)`.
#[no_mangle]
pub unsafe extern "C" fn uv_signal_init(loop_: *mut uv_loop_t, handle: *mut uv_signal_t) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() {
        return EINVAL;
    }
    let s = ruv::Signal::new(&ctx.lp);
    // SAFETY: writable per the contract above.
    unsafe {
        (*handle).signal_cb = None;
        (*handle).signum = 0;
        init(
            loop_,
            ctx,
            handle as *mut uv_handle_t,
            handle_type::SIGNAL,
            OwnedToken::Signal(s),
            0,
        );
    }
    0
}

/// Starts `handle` (one-shot or not) and keeps its public `signum` in step.
///
/// # Safety
/// `handle` is NULL or an initialized signal handle.
unsafe fn start(
    handle: *mut uv_signal_t,
    cb: Option<uv_signal_cb>,
    signum: c_int,
    oneshot: bool,
) -> c_int {
    // SAFETY: per the contract above.
    let s = match unsafe { signal(handle) } {
        Ok(s) => s,
        Err(code) => return code,
    };
    if cb.is_none() {
        return EINVAL;
    }
    // A function item, not a closure over `handle`: zero-sized, so ruv's
    // box for it allocates nothing. One-shot handles are started as plain
    // ones and stopped by `fire` after their callback: ruv's own one-shot
    // stop comes after `fire` returns, too late for the public `signum`.
    // SAFETY: initialized signal handle.
    let same = signum != 0 && unsafe { (*handle).signum } == signum;
    let result = s.start(signum, fire);
    if result.is_ok() {
        // SAFETY: initialized signal handle.
        unsafe {
            (*handle).signal_cb = cb;
            (*handle).signum = signum;
            // The same number again only swaps the callback: one-shot or
            // not stays as the handle was started (libuv too).
            if !same {
                let flags = &mut (*handle).handle.ruv_flags_;
                *flags |= RESTARTED;
                if oneshot {
                    *flags |= ONESHOT;
                } else {
                    *flags &= !ONESHOT;
                }
            }
        }
    }
    to_status(result)
}

/// `uv_signal_start`: UV_EINVAL for a NULL callback, a closing handle, 0,
/// a number past 64, SIGKILL, SIGSTOP and the C library's own signals.
/// Starting again with the same number only replaces the callback.
///
/// # Safety
/// `handle` is NULL or an initialized signal handle.
#[no_mangle]
pub unsafe extern "C" fn uv_signal_start(
    handle: *mut uv_signal_t,
    cb: Option<uv_signal_cb>,
    signum: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { start(handle, cb, signum, false) }
}

/// `uv_signal_start_oneshot`: as `uv_signal_start`; the handle stops after
/// its first callback.
///
/// # Safety
/// `handle` is NULL or an initialized signal handle.
#[no_mangle]
pub unsafe extern "C" fn uv_signal_start_oneshot(
    handle: *mut uv_signal_t,
    cb: Option<uv_signal_cb>,
    signum: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { start(handle, cb, signum, true) }
}

/// The ruv callback of every C signal handle: finds the C handle through
/// the running loop's handle table and calls its callback; a one-shot
/// handle is then stopped, with its public `signum` cleared, unless its
/// callback started it anew, stopped or closed it (a one-shot start made
/// inside the callback waits for the next catch).
fn fire(s: &ruv::Signal, signum: c_int) {
    let Some(h) = running_handle(s.get_loop(), |handles| handles.get(s.id())) else {
        return;
    };
    let h = h as *mut uv_signal_t;
    // SAFETY: a table entry is a linked handle, alive until its close
    // callback (closing it stops the handle), linked by `uv_signal_init`
    // as a signal handle since its token is this one's; the callback is
    // read now so C may change it.
    // SAFETY: as above.
    unsafe { (*h).handle.ruv_flags_ &= !RESTARTED };
    if let Some(cb) = unsafe { (*h).signal_cb } {
        // SAFETY: calling the program's callback with its own handle.
        unsafe { cb(h, signum) };
    }
    // SAFETY: as above: the struct lives until its close callback, which
    // runs in a later phase.
    unsafe {
        let flags = (*h).handle.ruv_flags_;
        if flags & (ONESHOT | RESTARTED | CLOSING) == ONESHOT {
            (*h).handle.ruv_flags_ &= !ONESHOT;
            let _ = s.stop();
            (*h).signum = 0;
        }
    }
}

/// `uv_signal_stop`: stopping a stopped handle does nothing.
///
/// # Safety
/// `handle` is NULL or an initialized signal handle.
#[no_mangle]
pub unsafe extern "C" fn uv_signal_stop(handle: *mut uv_signal_t) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { token(handle as *const uv_handle_t) } {
        Some(Token::Signal(s)) => {
            let result = s.stop();
            // SAFETY: an initialized signal handle (its token is linked).
            unsafe {
                (*handle).signum = 0;
                (*handle).handle.ruv_flags_ = ((*handle).handle.ruv_flags_ & !ONESHOT) | RESTARTED;
            }
            to_status(result)
        }
        _ => 0,
    }
}

/// `uv_kill`: sends `signum` to `pid`.
#[no_mangle]
pub extern "C" fn uv_kill(pid: c_int, signum: c_int) -> c_int {
    match ruv::kill(pid, signum) {
        Ok(()) => 0,
        Err(err) => status(err),
    }
}
