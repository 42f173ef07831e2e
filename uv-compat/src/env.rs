//! The environment: `uv_os_getenv`, `uv_os_setenv`, `uv_os_unsetenv`,
//! `uv_os_environ` and `uv_os_free_environ`.
//!
//! These use the C library's `getenv`/`setenv`/`unsetenv` on `environ`, as
//! libuv does, so that the program's own calls and ours see one
//! environment. Like libuv (and the C library), they are not safe to call
//! while another thread changes the environment.

use crate::allocator;
use crate::handles::{last_os_status, EINVAL};
use crate::os::{buffer_ok, copy_out};
use libc::{c_char, c_int, size_t};
use std::ffi::CStr;

/// `uv_env_item_t`: one `NAME=value` entry of `uv_os_environ`.
#[repr(C)]
pub struct uv_env_item_t {
    /// The name; the start of the entry's one allocation.
    pub name: *mut c_char,
    /// The value, in the same allocation as the name.
    pub value: *mut c_char,
}

extern "C" {
    static environ: *const *mut c_char;
}

/// `uv_os_getenv`: the value of `name` into `buffer`; UV_ENOENT when it is
/// not set, UV_ENOBUFS (and the room needed in `*size`) when it does not
/// fit, UV_EINVAL for NULL or a zero `*size`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `buffer` is NULL or has
/// `*size` writable bytes; `size` is NULL or points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn uv_os_getenv(
    name: *const c_char,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: per the contract above.
    if name.is_null() || !unsafe { buffer_ok(buffer, size) } {
        return EINVAL;
    }
    // SAFETY: a valid string per the contract above.
    let value = unsafe { libc::getenv(name) };
    if value.is_null() {
        return -libc::ENOENT;
    }
    // SAFETY: getenv's result is a NUL-terminated string, copied at once;
    // the buffer per the contract above.
    unsafe { copy_out(CStr::from_ptr(value).to_bytes(), buffer, size) }
}

/// `uv_os_setenv`: sets `name` to `value` (overwriting); UV_EINVAL for
/// NULL or a name the C library refuses (empty, with `=`).
///
/// # Safety
/// `name` and `value` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn uv_os_setenv(name: *const c_char, value: *const c_char) -> c_int {
    if name.is_null() || value.is_null() {
        return EINVAL;
    }
    // SAFETY: valid strings per the contract above.
    if unsafe { libc::setenv(name, value, 1) } != 0 {
        return last_os_status();
    }
    0
}

/// `uv_os_unsetenv`: removes `name` (not set already is fine); UV_EINVAL
/// for NULL.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn uv_os_unsetenv(name: *const c_char) -> c_int {
    if name.is_null() {
        return EINVAL;
    }
    // SAFETY: a valid string per the contract above.
    if unsafe { libc::unsetenv(name) } != 0 {
        return last_os_status();
    }
    0
}

/// `uv_os_environ`: a copy of every `NAME=value` entry (entries without
/// `=` are left out), from the allocator in force; free it with
/// `uv_os_free_environ`. UV_EINVAL for NULL, UV_ENOMEM when out of
/// memory (nothing is left allocated then).
///
/// # Safety
/// `envitems` and `count` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uv_os_environ(
    envitems: *mut *mut uv_env_item_t,
    count: *mut c_int,
) -> c_int {
    if envitems.is_null() || count.is_null() {
        return EINVAL;
    }
    // SAFETY: `environ` is the C library's NULL-terminated array.
    let env = unsafe { environ };
    let mut total = 0usize;
    // SAFETY: reading up to the terminating NULL.
    while !env.is_null() && !unsafe { *env.add(total) }.is_null() {
        total += 1;
    }
    // At least one element, so that an empty environment is a valid,
    // freeable array too.
    let items =
        allocator::calloc(total.max(1), std::mem::size_of::<uv_env_item_t>()) as *mut uv_env_item_t;
    if items.is_null() {
        return -libc::ENOMEM;
    }
    let mut kept = 0usize;
    for i in 0..total {
        // SAFETY: `i < total`, a NUL-terminated entry.
        let copy = unsafe { allocator::strdup(*env.add(i)) };
        if copy.is_null() {
            // SAFETY: the `kept` items filled so far and the array.
            unsafe { uv_os_free_environ(items, kept as c_int) };
            return -libc::ENOMEM;
        }
        // SAFETY: `copy` is our NUL-terminated string.
        let eq = unsafe { libc::strchr(copy, c_int::from(b'=')) };
        if eq.is_null() {
            // SAFETY: ours, from `strdup`.
            unsafe { allocator::free(copy.cast()) };
            continue;
        }
        // SAFETY: `eq` points into `copy`; `kept <= i < total` items fit.
        unsafe {
            *eq = 0;
            *items.add(kept) = uv_env_item_t {
                name: copy,
                value: eq.add(1),
            };
        }
        kept += 1;
    }
    // SAFETY: writable per the contract above.
    unsafe {
        *envitems = items;
        *count = kept as c_int;
    }
    0
}

/// `uv_os_free_environ`: frees what `uv_os_environ` returned.
///
/// # Safety
/// `envitems` and `count` are what `uv_os_environ` returned, or NULL.
#[no_mangle]
pub unsafe extern "C" fn uv_os_free_environ(envitems: *mut uv_env_item_t, count: c_int) {
    if envitems.is_null() {
        return;
    }
    for i in 0..count.max(0) as usize {
        // SAFETY: each of the `count` items holds one allocation, whose
        // start is its name.
        unsafe { allocator::free((*envitems.add(i)).name.cast()) };
    }
    // SAFETY: the array from `uv_os_environ`.
    unsafe { allocator::free(envitems.cast()) };
}
