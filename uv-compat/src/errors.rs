//! Error codes: `uv_strerror`, `uv_err_name` (and their `_r` variants) and
//! `uv_translate_sys_error`.
//!
//! The names and messages come from [`ruv::StatusCode`], which carries
//! libuv's texts. The strings handed back as `const char*` live for the
//! whole process: the known codes in a table built once, the unknown ones
//! ("Unknown system error %d") in a cache keyed by code. libuv allocates a
//! fresh string for every unknown code and never frees it; the cache gives
//! back the same pointer each time, so nothing leaks.
//!
//! Both maps are `BTreeMap`s on purpose: a `HashMap` keeps only a pointer
//! into the middle of its allocation, which valgrind reports as "possibly
//! lost" at exit (an error under `--leak-check=full`); B-tree nodes are
//! held by pointers to their start and show as "still reachable".

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::{Mutex, OnceLock};

use libc::{c_char, c_int, size_t};
use ruv::StatusCode;

/// The NUL-terminated name and message of one known code.
struct Texts {
    name: CString,
    message: CString,
}

/// Returned if a string for an unknown code could not be built at all.
const UNKNOWN_FALLBACK: &[u8] = b"Unknown system error\0";

/// The texts of every code libuv names, keyed by code; built on first use.
fn known_texts() -> &'static BTreeMap<i32, Texts> {
    static TABLE: OnceLock<BTreeMap<i32, Texts>> = OnceLock::new();
    TABLE.get_or_init(|| {
        StatusCode::ALL
            .iter()
            .filter_map(|code| {
                let name = CString::new(code.name()).ok()?;
                let message = CString::new(code.message()).ok()?;
                Some((code.code(), Texts { name, message }))
            })
            .collect()
    })
}

/// libuv's text for a code it has no name for.
fn unknown_text(err: c_int) -> String {
    format!("Unknown system error {err}")
}

/// A process-lifetime copy of [`unknown_text`]: the same pointer for the
/// same code, every time.
fn unknown_cstr(err: c_int) -> *const c_char {
    static CACHE: OnceLock<Mutex<BTreeMap<i32, CString>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(BTreeMap::new()));
    // A panic cannot happen while the lock is held (no user code runs under
    // it), but a poisoned map is still a valid map: keep using it.
    let mut map = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(text) = map.get(&err) {
        return text.as_ptr();
    }
    match CString::new(unknown_text(err)) {
        Ok(text) => {
            // The CString's heap buffer does not move when the map grows,
            // and entries are never removed: the pointer stays valid.
            let ptr = text.as_ptr();
            map.insert(err, text);
            ptr
        }
        Err(_) => UNKNOWN_FALLBACK.as_ptr().cast(),
    }
}

/// Copies `text` into `buf` like `snprintf(buf, buflen, "%s", text)`: at
/// most `buflen - 1` bytes and a NUL; nothing at all when `buflen` is 0.
///
/// # Safety
/// `buf` must be NULL or valid for writes of `buflen` bytes.
unsafe fn copy_truncated(text: &[u8], buf: *mut c_char, buflen: size_t) {
    if buf.is_null() || buflen == 0 {
        return;
    }
    let n = text.len().min(buflen - 1);
    // SAFETY: `text` holds `n` readable bytes; the caller guarantees `buf`
    // has room for `buflen > n` bytes, and the two cannot overlap because
    // `text` is our own Rust data.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
        *buf.add(n) = 0;
    }
}

/// `uv_translate_sys_error`: a positive OS `errno` becomes `-errno`; zero
/// and negative values (already libuv codes) are returned unchanged.
#[no_mangle]
pub extern "C" fn uv_translate_sys_error(sys_errno: c_int) -> c_int {
    if sys_errno <= 0 {
        sys_errno
    } else {
        -sys_errno
    }
}

/// `uv_strerror`: libuv's message for `err`, or "Unknown system error N".
#[no_mangle]
pub extern "C" fn uv_strerror(err: c_int) -> *const c_char {
    match known_texts().get(&err) {
        Some(texts) => texts.message.as_ptr(),
        None => unknown_cstr(err),
    }
}

/// `uv_strerror_r`: [`uv_strerror`] copied into `buf` (truncated to
/// `buflen - 1` bytes plus NUL); returns `buf`.
///
/// # Safety
/// `buf` must be valid for writes of `buflen` bytes (libuv's contract).
#[no_mangle]
pub unsafe extern "C" fn uv_strerror_r(
    err: c_int,
    buf: *mut c_char,
    buflen: size_t,
) -> *mut c_char {
    match known_texts().get(&err) {
        // SAFETY: the caller guarantees `buf` holds `buflen` bytes.
        Some(texts) => unsafe { copy_truncated(texts.message.as_bytes(), buf, buflen) },
        // SAFETY: as above.
        None => unsafe { copy_truncated(unknown_text(err).as_bytes(), buf, buflen) },
    }
    buf
}

/// `uv_err_name`: libuv's name for `err` (e.g. "EINVAL"), or "Unknown
/// system error N".
#[no_mangle]
pub extern "C" fn uv_err_name(err: c_int) -> *const c_char {
    match known_texts().get(&err) {
        Some(texts) => texts.name.as_ptr(),
        None => unknown_cstr(err),
    }
}

/// `uv_err_name_r`: [`uv_err_name`] copied into `buf` (truncated to
/// `buflen - 1` bytes plus NUL); returns `buf`.
///
/// # Safety
/// `buf` must be valid for writes of `buflen` bytes (libuv's contract).
#[no_mangle]
pub unsafe extern "C" fn uv_err_name_r(
    err: c_int,
    buf: *mut c_char,
    buflen: size_t,
) -> *mut c_char {
    match known_texts().get(&err) {
        // SAFETY: the caller guarantees `buf` holds `buflen` bytes.
        Some(texts) => unsafe { copy_truncated(texts.name.as_bytes(), buf, buflen) },
        // SAFETY: as above.
        None => unsafe { copy_truncated(unknown_text(err).as_bytes(), buf, buflen) },
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn text(ptr: *const c_char) -> String {
        // SAFETY: the functions under test return NUL-terminated strings
        // that live for the whole process.
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn known_and_unknown_texts() {
        assert_eq!(text(uv_err_name(-libc::EINVAL)), "EINVAL");
        assert_eq!(text(uv_strerror(-libc::EINVAL)), "invalid argument");
        assert_eq!(text(uv_err_name(-4095)), "EOF");
        assert_eq!(text(uv_strerror(0)), "Unknown system error 0");
        assert_eq!(text(uv_err_name(7)), "Unknown system error 7");
        assert_eq!(uv_strerror(-9999), uv_strerror(-9999));
        assert_eq!(uv_strerror(-9999), uv_err_name(-9999));
    }

    #[test]
    fn reentrant_variants_truncate() {
        let mut buf = [b'X' as c_char; 16];
        // SAFETY: `buf` holds 16 bytes and we pass at most 16.
        unsafe {
            uv_strerror_r(-libc::EINVAL, buf.as_mut_ptr(), 6);
            assert_eq!(text(buf.as_ptr()), "inval");
            uv_err_name_r(0, buf.as_mut_ptr(), 16);
            assert_eq!(text(buf.as_ptr()), "Unknown system ");
            buf[0] = b'Q' as c_char;
            uv_err_name_r(-libc::EINVAL, buf.as_mut_ptr(), 0);
        }
        assert_eq!(buf[0], b'Q' as c_char);
    }

    #[test]
    fn translate() {
        assert_eq!(uv_translate_sys_error(libc::EAGAIN), -libc::EAGAIN);
        assert_eq!(uv_translate_sys_error(0), 0);
        assert_eq!(uv_translate_sys_error(-4095), -4095);
    }
}
