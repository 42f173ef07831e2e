//! `uv_idle_*`, `uv_prepare_*`, `uv_check_*`: one implementation, three
//! sets of symbols.

use crate::handles::{init, live, to_status, token, OwnedToken, Token, EINVAL};
use crate::loops::ctx;
use crate::types::*;
use libc::c_int;
use ruv::{Watcher, WatcherPhase};

/// Builds the token of a new watcher of one phase.
type MakeToken = fn(&ruv::Loop) -> OwnedToken;

/// `uv_*_init`.
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// the watcher's struct size.
unsafe fn watcher_init(
    loop_: *mut uv_loop_t,
    handle: *mut uv_watcher_t,
    type_: c_int,
    make: MakeToken,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() {
        return EINVAL;
    }
    // SAFETY: writable per the contract above.
    unsafe {
        (*handle).cb = None;
        init(
            loop_,
            ctx,
            handle as *mut uv_handle_t,
            type_,
            make(&ctx.lp),
            0,
        );
    }
    0
}

/// `uv_*_start`: UV_EINVAL for a NULL callback; starting an active watcher
/// changes nothing, as in libuv.
///
/// # Safety
/// `handle` is NULL or an initialized watcher.
unsafe fn watcher_start(handle: *mut uv_watcher_t, cb: Option<uv_watcher_cb>) -> c_int {
    // SAFETY: per the contract above.
    let token = match unsafe { live(handle as *const uv_handle_t) } {
        Ok(t) => t,
        Err(code) => return code,
    };
    if cb.is_none() {
        return EINVAL;
    }
    if token.handle().is_active() {
        return 0;
    }
    // SAFETY: initialized watcher.
    unsafe { (*handle).cb = cb };
    let h = handle as usize;
    let call = move || {
        let h = h as *mut uv_watcher_t;
        // SAFETY: the watcher is alive while its callback can run; the
        // callback is read now so C may change it.
        if let Some(cb) = unsafe { (*h).cb } {
            // SAFETY: calling the program's callback with its own handle.
            unsafe { cb(h) };
        }
    };
    match token {
        Token::Idle(w) => start(w, call),
        Token::Prepare(w) => start(w, call),
        Token::Check(w) => start(w, call),
        _ => EINVAL,
    }
}

fn start<P: WatcherPhase>(w: &Watcher<P>, call: impl Fn() + 'static) -> c_int {
    to_status(w.start(move |_| call()))
}

/// `uv_*_stop`.
///
/// # Safety
/// `handle` is NULL or an initialized watcher.
unsafe fn watcher_stop(handle: *mut uv_watcher_t) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { token(handle as *const uv_handle_t) } {
        Some(Token::Idle(w)) => to_status(w.stop()),
        Some(Token::Prepare(w)) => to_status(w.stop()),
        Some(Token::Check(w)) => to_status(w.stop()),
        _ => 0,
    }
}

macro_rules! watcher_api {
    ($init:ident, $start:ident, $stop:ident, $ty:expr, $variant:ident, $ruv:ty) => {
        /// libuv's watcher init for this phase.
        ///
        /// # Safety
        /// `loop_` is an initialized loop; `handle` points to writable
        /// memory of the watcher's struct size.
        #[no_mangle]
        pub unsafe extern "C" fn $init(loop_: *mut uv_loop_t, handle: *mut uv_watcher_t) -> c_int {
            // SAFETY: forwarded contract.
            unsafe {
                watcher_init(loop_, handle, $ty, |lp| {
                    OwnedToken::$variant(<$ruv>::new(lp))
                })
            }
        }

        /// libuv's watcher start for this phase.
        ///
        /// # Safety
        /// `handle` is NULL or an initialized watcher.
        #[no_mangle]
        pub unsafe extern "C" fn $start(
            handle: *mut uv_watcher_t,
            cb: Option<uv_watcher_cb>,
        ) -> c_int {
            // SAFETY: forwarded contract.
            unsafe { watcher_start(handle, cb) }
        }

        /// libuv's watcher stop for this phase.
        ///
        /// # Safety
        /// `handle` is NULL or an initialized watcher.
        #[no_mangle]
        pub unsafe extern "C" fn $stop(handle: *mut uv_watcher_t) -> c_int {
            // SAFETY: forwarded contract.
            unsafe { watcher_stop(handle) }
        }
    };
}

watcher_api!(
    uv_idle_init,
    uv_idle_start,
    uv_idle_stop,
    handle_type::IDLE,
    Idle,
    ruv::Idle
);
watcher_api!(
    uv_prepare_init,
    uv_prepare_start,
    uv_prepare_stop,
    handle_type::PREPARE,
    Prepare,
    ruv::Prepare
);
watcher_api!(
    uv_check_init,
    uv_check_start,
    uv_check_stop,
    handle_type::CHECK,
    Check,
    ruv::Check
);
