//! `uv_replace_allocator`: the functions that allocate the memory libuv's
//! API hands to the program or takes back from it — the loop of
//! `uv_loop_new`/`uv_loop_delete` and the array and names of
//! `uv_interface_addresses`/`uv_free_interface_addresses` — as in libuv,
//! where every internal allocation goes through them. ruv's own state is
//! Rust memory and does not use them.
//!
//! As in libuv, replace the allocator before allocating anything through
//! it: memory is freed by the `free` in force at that time.

use libc::{c_int, c_void, size_t};
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::handles::EINVAL;

/// `uv_malloc_func`.
pub type uv_malloc_func = Option<unsafe extern "C" fn(size: size_t) -> *mut c_void>;
/// `uv_realloc_func`.
pub type uv_realloc_func =
    Option<unsafe extern "C" fn(ptr: *mut c_void, size: size_t) -> *mut c_void>;
/// `uv_calloc_func`.
pub type uv_calloc_func = Option<unsafe extern "C" fn(count: size_t, size: size_t) -> *mut c_void>;
/// `uv_free_func`.
pub type uv_free_func = Option<unsafe extern "C" fn(ptr: *mut c_void)>;

type MallocFn = unsafe extern "C" fn(size_t) -> *mut c_void;
type CallocFn = unsafe extern "C" fn(size_t, size_t) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);

/// The functions in force; NULL means the C library's. Each is one atomic
/// word, so reading them needs no lock (libuv's are plain globals). There
/// is no `realloc` slot: nothing here grows a block the program sees.
static MALLOC: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static CALLOC: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static FREE: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// `uv_replace_allocator`: UV_EINVAL if any function is NULL (nothing is
/// replaced then), else 0. `realloc_func` is required, as in libuv, but
/// never called (see `MALLOC`).
#[no_mangle]
pub extern "C" fn uv_replace_allocator(
    malloc_func: uv_malloc_func,
    realloc_func: uv_realloc_func,
    calloc_func: uv_calloc_func,
    free_func: uv_free_func,
) -> c_int {
    let (Some(m), Some(_), Some(c), Some(f)) = (malloc_func, realloc_func, calloc_func, free_func)
    else {
        return EINVAL;
    };
    MALLOC.store(m as *mut c_void, Ordering::Release);
    CALLOC.store(c as *mut c_void, Ordering::Release);
    FREE.store(f as *mut c_void, Ordering::Release);
    0
}

/// `size` bytes from the allocator in force.
pub(crate) fn malloc(size: size_t) -> *mut c_void {
    let f = MALLOC.load(Ordering::Acquire);
    if f.is_null() {
        // SAFETY: malloc has no preconditions.
        return unsafe { libc::malloc(size) };
    }
    // SAFETY: a non-NULL entry was stored from a `MallocFn` above; calling
    // it is the program's promise that it behaves like malloc.
    unsafe { std::mem::transmute::<*mut c_void, MallocFn>(f)(size) }
}

/// `count * size` zeroed bytes from the allocator in force.
pub(crate) fn calloc(count: size_t, size: size_t) -> *mut c_void {
    let f = CALLOC.load(Ordering::Acquire);
    if f.is_null() {
        // SAFETY: calloc has no preconditions.
        return unsafe { libc::calloc(count, size) };
    }
    // SAFETY: as in `malloc`, for a `CallocFn`.
    unsafe { std::mem::transmute::<*mut c_void, CallocFn>(f)(count, size) }
}

/// Frees `ptr` with the allocator in force.
///
/// # Safety
/// `ptr` is NULL or came from [`malloc`]/[`calloc`] and is not used
/// afterwards.
pub(crate) unsafe fn free(ptr: *mut c_void) {
    let f = FREE.load(Ordering::Acquire);
    if f.is_null() {
        // SAFETY: per the contract above.
        return unsafe { libc::free(ptr) };
    }
    // SAFETY: as in `malloc`, for a `FreeFn`; `ptr` per the contract.
    unsafe { std::mem::transmute::<*mut c_void, FreeFn>(f)(ptr) }
}

/// A copy of the NUL-terminated `s` from the allocator in force (libuv's
/// `uv__strdup`); NULL when out of memory.
///
/// # Safety
/// `s` points to a NUL-terminated string.
pub(crate) unsafe fn strdup(s: *const libc::c_char) -> *mut libc::c_char {
    // SAFETY: per the contract above.
    let len = unsafe { libc::strlen(s) } + 1;
    let copy = malloc(len);
    if !copy.is_null() {
        // SAFETY: `copy` has room for `len` bytes, `s` has `len` bytes.
        unsafe { std::ptr::copy_nonoverlapping(s.cast::<u8>(), copy.cast::<u8>(), len) };
    }
    copy.cast()
}
