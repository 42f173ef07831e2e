//! `uv_print_all_handles` and `uv_print_active_handles`: one line per
//! handle of the loop in libuv's format, `[RAI] type address`, where each
//! of R (referenced), A (active) and I (internal to the library) is that
//! letter or `-`, and the type is padded to 8 columns. ruv keeps no
//! internal handles in the loop, so the I column is always `-` (libuv also
//! lists its own, flagged I).

use libc::{c_char, c_int, FILE};

use crate::handles::{uv_handle_get_type, uv_has_ref, uv_is_active};
use crate::loops::ctx;
use crate::misc::uv_handle_type_name;
use crate::types::uv_loop_t;

extern "C" {
    /// The C library's standard error stream.
    static mut stderr: *mut FILE;
}

/// Prints the handles of `loop_` (the default loop if NULL) to `stream`
/// (standard error if NULL), only the active ones if `only_active`.
///
/// # Safety
/// `loop_` is NULL or a loop the program owns; `stream` is NULL or an open
/// stream.
unsafe fn print_handles(loop_: *mut uv_loop_t, only_active: bool, stream: *mut FILE) {
    let loop_ = if loop_.is_null() {
        crate::loops::uv_default_loop()
    } else {
        loop_
    };
    let stream = if stream.is_null() {
        // SAFETY: glibc's `stderr` is initialized before main runs.
        unsafe { stderr }
    } else {
        stream
    };
    // SAFETY: per the contract above (an uninitialized loop has no context).
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return;
    };
    let Ok(snapshot) = ctx.handles.try_borrow().map(|handles| handles.snapshot()) else {
        return;
    };
    for (_, h) in snapshot {
        // SAFETY: every entry of the table is a linked handle, which the
        // program keeps alive; printing runs no callback that could close it.
        let (active, referenced, kind) = unsafe {
            (
                uv_is_active(h) != 0,
                uv_has_ref(h) != 0,
                uv_handle_get_type(h),
            )
        };
        if only_active && !active {
            continue;
        }
        let name = uv_handle_type_name(kind);
        let name = if name.is_null() {
            c"<unknown>".as_ptr()
        } else {
            name
        };
        // SAFETY: `stream` is an open stream; the format takes three chars
        // (promoted to int), a NUL-terminated string and a pointer.
        unsafe {
            libc::fprintf(
                stream,
                c"[%c%c%c] %-8s %p\n".as_ptr(),
                c_int::from(if referenced { b'R' } else { b'-' }),
                c_int::from(if active { b'A' } else { b'-' }),
                c_int::from(b'-'),
                name as *const c_char,
                h as *const libc::c_void,
            );
        }
    }
}

/// `uv_print_all_handles`: every handle, closing ones included.
///
/// # Safety
/// `loop_` is NULL or a loop the program owns; `stream` is NULL or an open
/// stream.
#[no_mangle]
pub unsafe extern "C" fn uv_print_all_handles(loop_: *mut uv_loop_t, stream: *mut FILE) {
    // SAFETY: per the contract above.
    unsafe { print_handles(loop_, false, stream) }
}

/// `uv_print_active_handles`: the active handles only.
///
/// # Safety
/// `loop_` is NULL or a loop the program owns; `stream` is NULL or an open
/// stream.
#[no_mangle]
pub unsafe extern "C" fn uv_print_active_handles(loop_: *mut uv_loop_t, stream: *mut FILE) {
    // SAFETY: per the contract above.
    unsafe { print_handles(loop_, true, stream) }
}
