//! `uv_setup_args`, `uv_get_process_title` and `uv_set_process_title`.
//!
//! As in libuv, the title lives in the memory of the program's original
//! `argv` strings (what `ps` and `/proc/self/cmdline` show): `uv_setup_args`
//! takes that memory over, handing the program a copy of its arguments,
//! and a title longer than the room the original arguments had is cut to
//! it. The kernel's name of the calling thread (`PR_SET_NAME`, 15 bytes)
//! follows the title too. Without `uv_setup_args` both calls are
//! UV_ENOBUFS, as in libuv 1.45+.

use crate::allocator;
use crate::handles::EINVAL;
use libc::{c_char, c_int, size_t};
use std::sync::Mutex;

/// The original argument memory the title is written into.
struct Title {
    /// `argv[0]` as the program was started.
    start: *mut c_char,
    /// Bytes of `argv` strings adjacent to `argv[0]`, terminators included.
    cap: usize,
    /// The title's length now.
    len: usize,
}

/// The argument copies handed out, kept for the life of the process (the
/// program uses them until its end; libuv frees its copy at unload).
struct Copies(Vec<*mut *mut c_char>);

// SAFETY: the pointers are only stored, never used through.
unsafe impl Send for Copies {}

static COPIES: Mutex<Copies> = Mutex::new(Copies(Vec::new()));

// SAFETY: the pointer is only used under the mutex, and the memory it
// names (the process's argument strings) belongs to no thread.
unsafe impl Send for Title {}

static TITLE: Mutex<Option<Title>> = Mutex::new(None);

/// `uv_setup_args`: takes over the memory of `argv` for the process title
/// and returns a copy of the arguments to use instead (`argv` itself when
/// `argc <= 0` or out of memory).
///
/// # Safety
/// `argv` holds `argc` NUL-terminated strings and a NULL, as given to
/// `main`; the program uses the returned copy afterwards.
#[no_mangle]
pub unsafe extern "C" fn uv_setup_args(argc: c_int, argv: *mut *mut c_char) -> *mut *mut c_char {
    if argc <= 0 || argv.is_null() {
        return argv;
    }
    let argc = argc as usize;
    // SAFETY: `argc` valid strings per the contract above.
    let lens: Vec<usize> = (0..argc)
        .map(|i| unsafe { libc::strlen(*argv.add(i)) })
        .collect();
    // SAFETY: as above.
    let start = unsafe { *argv };
    let mut cap = lens[0] + 1;
    for (i, len) in lens.iter().enumerate().skip(1) {
        // SAFETY: as above.
        if unsafe { *argv.add(i) } as usize != start as usize + cap {
            break;
        }
        cap += len + 1;
    }
    let pointers = (argc + 1) * std::mem::size_of::<*mut c_char>();
    let strings: usize = lens.iter().map(|l| l + 1).sum();
    let copy = allocator::malloc(pointers + strings) as *mut *mut c_char;
    if copy.is_null() {
        return argv;
    }
    // SAFETY: `copy` has room for the pointer table followed by every
    // string with its terminator.
    unsafe {
        let mut at = copy.cast::<u8>().add(pointers).cast::<c_char>();
        for (i, len) in lens.iter().enumerate() {
            std::ptr::copy_nonoverlapping(*argv.add(i), at, len + 1);
            *copy.add(i) = at;
            at = at.add(len + 1);
        }
        *copy.add(argc) = std::ptr::null_mut();
    }
    COPIES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .0
        .push(copy);
    let mut title = TITLE.lock().unwrap_or_else(|e| e.into_inner());
    // Called again: the first copy stays (the program may still use it)
    // and the title keeps the original memory.
    if title.is_none() {
        *title = Some(Title {
            start,
            cap,
            len: lens[0],
        });
    }
    copy
}

/// `uv_set_process_title`: writes `title` (cut to the original arguments'
/// room) over them and names the calling thread after it. UV_EINVAL for
/// NULL; UV_ENOBUFS before `uv_setup_args`.
///
/// # Safety
/// `title` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn uv_set_process_title(title: *const c_char) -> c_int {
    if title.is_null() {
        return EINVAL;
    }
    let mut guard = TITLE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(t) = guard.as_mut() else {
        return -libc::ENOBUFS;
    };
    // SAFETY: a valid string per the contract above.
    let len = unsafe { libc::strlen(title) }.min(t.cap - 1);
    // SAFETY: `start` has `cap` bytes (the adjacent argument strings) and
    // `len < cap`; the rest is cleared so that no old argument shows.
    unsafe {
        std::ptr::copy_nonoverlapping(title, t.start, len);
        std::ptr::write_bytes(t.start.add(len), 0, t.cap - len);
        libc::prctl(libc::PR_SET_NAME, t.start);
    }
    t.len = len;
    0
}

/// `uv_get_process_title`: the title into `buffer` of `size` bytes.
/// UV_EINVAL for NULL or a zero size, UV_ENOBUFS when it does not fit or
/// before `uv_setup_args`.
///
/// # Safety
/// `buffer` is NULL or has `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn uv_get_process_title(buffer: *mut c_char, size: size_t) -> c_int {
    if buffer.is_null() || size == 0 {
        return EINVAL;
    }
    let guard = TITLE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(t) = guard.as_ref() else {
        return -libc::ENOBUFS;
    };
    if size <= t.len {
        return -libc::ENOBUFS;
    }
    // SAFETY: `start` has `len` title bytes; `buffer` has `size > len`.
    unsafe {
        std::ptr::copy_nonoverlapping(t.start, buffer, t.len);
        *buffer.add(t.len) = 0;
    }
    0
}
