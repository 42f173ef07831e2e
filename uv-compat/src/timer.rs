//! `uv_timer_*`.

use crate::handles::{init, live, to_status, token, OwnedToken, Token, EINVAL};
use crate::loops::{ctx, running_handle};
use crate::types::*;
use libc::c_int;

/// The ruv timer of a live C timer.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
unsafe fn timer<'a>(handle: *const uv_timer_t) -> Result<&'a ruv::Timer, c_int> {
    // SAFETY: forwarded contract.
    match unsafe { live(handle as *const uv_handle_t) }? {
        Token::Timer(t) => Ok(t),
        _ => Err(EINVAL),
    }
}

/// `uv_timer_init`.
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// `sizeof(uv_timer_t)`.
#[no_mangle]
pub unsafe extern "C" fn uv_timer_init(loop_: *mut uv_loop_t, handle: *mut uv_timer_t) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() {
        return EINVAL;
    }
    let t = ruv::Timer::new(&ctx.lp);
    // SAFETY: writable per the contract above.
    unsafe {
        (*handle).timer_cb = None;
        init(
            loop_,
            ctx,
            handle as *mut uv_handle_t,
            handle_type::TIMER,
            OwnedToken::Timer(t),
            0,
        );
    }
    0
}

/// `uv_timer_start`: UV_EINVAL for a NULL callback or a closing handle.
///
/// # Safety
/// `handle` is NULL or an initialized timer.
#[no_mangle]
pub unsafe extern "C" fn uv_timer_start(
    handle: *mut uv_timer_t,
    cb: Option<uv_timer_cb>,
    timeout: u64,
    repeat: u64,
) -> c_int {
    // SAFETY: per the contract above.
    let t = match unsafe { timer(handle) } {
        Ok(t) => t,
        Err(code) => return code,
    };
    if cb.is_none() {
        return EINVAL;
    }
    // SAFETY: initialized timer.
    unsafe { (*handle).timer_cb = cb };
    // A function item, not a closure over `handle`: zero-sized, so ruv's
    // box for it allocates nothing.
    to_status(t.start(timeout, repeat, fire))
}

/// The ruv callback of every C timer: finds the C handle through the
/// running loop's handle table by the timer's id, then calls its callback.
fn fire(t: &ruv::Timer) {
    let Some(h) = running_handle(t.get_loop(), |handles| handles.get(t.id())) else {
        return;
    };
    let h = h as *mut uv_timer_t;
    // SAFETY: a table entry is a linked handle, alive until its close
    // callback (closing it stops the timer), and linked by `uv_timer_init`
    // as a timer since its token is this timer's; the callback is read now
    // so C may change it.
    if let Some(cb) = unsafe { (*h).timer_cb } {
        // SAFETY: calling the program's callback with its own handle.
        unsafe { cb(h) };
    }
}

/// `uv_timer_stop`.
///
/// # Safety
/// `handle` is NULL or an initialized timer.
#[no_mangle]
pub unsafe extern "C" fn uv_timer_stop(handle: *mut uv_timer_t) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { token(handle as *const uv_handle_t) } {
        Some(Token::Timer(t)) => to_status(t.stop()),
        _ => 0,
    }
}

/// `uv_timer_again`: UV_EINVAL if never started.
///
/// # Safety
/// `handle` is NULL or an initialized timer.
#[no_mangle]
pub unsafe extern "C" fn uv_timer_again(handle: *mut uv_timer_t) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { timer(handle) } {
        Ok(t) => to_status(t.again()),
        Err(code) => code,
    }
}

/// `uv_timer_set_repeat`.
///
/// # Safety
/// `handle` is NULL or an initialized timer.
#[no_mangle]
pub unsafe extern "C" fn uv_timer_set_repeat(handle: *mut uv_timer_t, repeat: u64) {
    // SAFETY: per the contract above.
    if let Ok(t) = unsafe { timer(handle) } {
        let _ = t.set_repeat(repeat);
    }
}

/// `uv_timer_get_repeat`.
///
/// # Safety
/// `handle` is NULL or an initialized timer.
#[no_mangle]
pub unsafe extern "C" fn uv_timer_get_repeat(handle: *const uv_timer_t) -> u64 {
    // SAFETY: per the contract above.
    match unsafe { token(handle as *const uv_handle_t) } {
        Some(Token::Timer(t)) => t.repeat().unwrap_or(0),
        _ => 0,
    }
}

/// `uv_timer_get_due_in`: 0 when due or not running.
///
/// # Safety
/// `handle` is NULL or an initialized timer.
#[no_mangle]
pub unsafe extern "C" fn uv_timer_get_due_in(handle: *const uv_timer_t) -> u64 {
    // SAFETY: per the contract above.
    match unsafe { token(handle as *const uv_handle_t) } {
        Some(Token::Timer(t)) => t.due_in().unwrap_or(0),
        _ => 0,
    }
}
