//! Miscellany: `uv_buf_init`, time and sleep, process and version queries,
//! the names of handle and request types, and the sizes of the structs a C
//! program allocates (`uv_handle_size`, `uv_req_size`, `uv_loop_size`).

use std::time::Duration;

use libc::{c_char, c_int, c_uint, pid_t, size_t};

use crate::types::uv_buf_t;

/// `UV_VERSION_MAJOR` of our uv.h.
const VERSION_MAJOR: c_uint = 1;
/// `UV_VERSION_MINOR` of our uv.h.
const VERSION_MINOR: c_uint = 52;
/// `UV_VERSION_PATCH` of our uv.h.
const VERSION_PATCH: c_uint = 0;
/// `UV_VERSION_HEX` of our uv.h.
const VERSION_HEX: c_uint = (VERSION_MAJOR << 16) | (VERSION_MINOR << 8) | VERSION_PATCH;
/// `"1.52.0"`, NUL-terminated (release build, empty suffix).
const VERSION_STRING: &[u8] = b"1.52.0\0";

/// `(size_t)-1`: libuv's size for a type it does not know.
const NO_SIZE: size_t = size_t::MAX;

/// Handle and request type numbers of uv.h (`uv_handle_type`, `uv_req_type`).
mod kind {
    use libc::c_int;

    pub(super) const UV_ASYNC: c_int = 1;
    pub(super) const UV_CHECK: c_int = 2;
    pub(super) const UV_FS_EVENT: c_int = 3;
    pub(super) const UV_FS_POLL: c_int = 4;
    pub(super) const UV_HANDLE: c_int = 5;
    pub(super) const UV_IDLE: c_int = 6;
    pub(super) const UV_NAMED_PIPE: c_int = 7;
    pub(super) const UV_POLL: c_int = 8;
    pub(super) const UV_PREPARE: c_int = 9;
    pub(super) const UV_PROCESS: c_int = 10;
    pub(super) const UV_STREAM: c_int = 11;
    pub(super) const UV_TCP: c_int = 12;
    pub(super) const UV_TIMER: c_int = 13;
    pub(super) const UV_TTY: c_int = 14;
    pub(super) const UV_UDP: c_int = 15;
    pub(super) const UV_SIGNAL: c_int = 16;
    pub(super) const UV_FILE: c_int = 17;

    pub(super) const UV_REQ: c_int = 1;
    pub(super) const UV_CONNECT: c_int = 2;
    pub(super) const UV_WRITE: c_int = 3;
    pub(super) const UV_SHUTDOWN: c_int = 4;
    pub(super) const UV_UDP_SEND: c_int = 5;
    pub(super) const UV_FS: c_int = 6;
    pub(super) const UV_WORK: c_int = 7;
    pub(super) const UV_GETADDRINFO: c_int = 8;
    pub(super) const UV_GETNAMEINFO: c_int = 9;
    pub(super) const UV_RANDOM: c_int = 10;
}

/// The structs of uv.h, whose sizes the size functions report.
mod layout {
    pub(super) use crate::types::{
        uv_async_t, uv_connect_t, uv_handle_t, uv_loop_t, uv_pipe_t, uv_poll_t, uv_req_t,
        uv_shutdown_t, uv_signal_t, uv_stream_t, uv_tcp_t, uv_timer_t, uv_udp_send_t, uv_udp_t,
        uv_watcher_t as uv_prepare_t, uv_watcher_t as uv_check_t, uv_watcher_t as uv_idle_t,
        uv_write_t,
    };
    // processes (h/cproc)
    pub(super) use crate::types::uv_process_t;
}

/// `uv_buf_init`: a `uv_buf_t` over `len` bytes at `base`.
#[no_mangle]
pub extern "C" fn uv_buf_init(base: *mut c_char, len: c_uint) -> uv_buf_t {
    uv_buf_t {
        base,
        // A c_uint always fits in size_t on the platforms we build for.
        len: len as size_t,
    }
}

/// `uv_hrtime`: nanoseconds of `CLOCK_MONOTONIC` (0 if the clock fails,
/// as libuv).
#[no_mangle]
pub extern "C" fn uv_hrtime() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call's duration.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
        return 0;
    }
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(now.tv_nsec).unwrap_or(0);
    secs.wrapping_mul(1_000_000_000).wrapping_add(nanos)
}

/// `uv_sleep`: blocks the calling thread for `msec` milliseconds (resuming
/// after signals until the whole time has passed).
#[no_mangle]
pub extern "C" fn uv_sleep(msec: c_uint) {
    std::thread::sleep(Duration::from_millis(u64::from(msec)));
}

/// `uv_os_getpid`: the id of the calling process.
#[no_mangle]
pub extern "C" fn uv_os_getpid() -> pid_t {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() }
}

/// `uv_version`: `UV_VERSION_HEX` (0x013400, version 1.52.0).
#[no_mangle]
pub extern "C" fn uv_version() -> c_uint {
    VERSION_HEX
}

/// `uv_version_string`: `"1.52.0"`.
#[no_mangle]
pub extern "C" fn uv_version_string() -> *const c_char {
    VERSION_STRING.as_ptr().cast()
}

/// `uv_available_parallelism`: how many threads can run at once (CPU
/// affinity and cgroup quota considered), at least 1.
#[no_mangle]
pub extern "C" fn uv_available_parallelism() -> c_uint {
    std::thread::available_parallelism()
        .map_or(1, |n| c_uint::try_from(n.get()).unwrap_or(c_uint::MAX))
        .max(1)
}

/// `uv_library_shutdown`: releases global resources; we hold none that need
/// it, so this does nothing (and may be called any number of times).
#[no_mangle]
pub extern "C" fn uv_library_shutdown() {}

/// A NUL-terminated static string as a C pointer.
macro_rules! c_str {
    ($text:literal) => {
        concat!($text, "\0").as_ptr().cast::<c_char>()
    };
}

/// `uv_handle_type_name`: libuv's name of a handle type ("udp", "pipe"
/// for UV_NAMED_PIPE, "file" for UV_FILE, ...); NULL for
/// UV_UNKNOWN_HANDLE and anything out of range.
#[no_mangle]
pub extern "C" fn uv_handle_type_name(type_: c_int) -> *const c_char {
    use kind::*;
    match type_ {
        UV_ASYNC => c_str!("async"),
        UV_CHECK => c_str!("check"),
        UV_FS_EVENT => c_str!("fs_event"),
        UV_FS_POLL => c_str!("fs_poll"),
        UV_HANDLE => c_str!("handle"),
        UV_IDLE => c_str!("idle"),
        UV_NAMED_PIPE => c_str!("pipe"),
        UV_POLL => c_str!("poll"),
        UV_PREPARE => c_str!("prepare"),
        UV_PROCESS => c_str!("process"),
        UV_STREAM => c_str!("stream"),
        UV_TCP => c_str!("tcp"),
        UV_TIMER => c_str!("timer"),
        UV_TTY => c_str!("tty"),
        UV_UDP => c_str!("udp"),
        UV_SIGNAL => c_str!("signal"),
        UV_FILE => c_str!("file"),
        _ => std::ptr::null(),
    }
}

/// `uv_req_type_name`: libuv's name of a request type ("udp_send", ...);
/// NULL for UV_UNKNOWN_REQ and anything out of range.
#[no_mangle]
pub extern "C" fn uv_req_type_name(type_: c_int) -> *const c_char {
    use kind::*;
    match type_ {
        UV_REQ => c_str!("req"),
        UV_CONNECT => c_str!("connect"),
        UV_WRITE => c_str!("write"),
        UV_SHUTDOWN => c_str!("shutdown"),
        UV_UDP_SEND => c_str!("udp_send"),
        UV_FS => c_str!("fs"),
        UV_WORK => c_str!("work"),
        UV_GETADDRINFO => c_str!("getaddrinfo"),
        UV_GETNAMEINFO => c_str!("getnameinfo"),
        UV_RANDOM => c_str!("random"),
        _ => std::ptr::null(),
    }
}

/// `uv_handle_size`: `sizeof` the struct of a handle type uv.h defines;
/// `(size_t)-1` for the types it does not (tty, process, ...) and for
/// anything out of range.
#[no_mangle]
pub extern "C" fn uv_handle_size(type_: c_int) -> size_t {
    use kind::*;
    use std::mem::size_of;
    match type_ {
        UV_ASYNC => size_of::<layout::uv_async_t>(),
        UV_CHECK => size_of::<layout::uv_check_t>(),
        UV_HANDLE => size_of::<layout::uv_handle_t>(),
        UV_IDLE => size_of::<layout::uv_idle_t>(),
        UV_POLL => size_of::<layout::uv_poll_t>(),
        UV_PREPARE => size_of::<layout::uv_prepare_t>(),
        UV_TIMER => size_of::<layout::uv_timer_t>(),
        UV_UDP => size_of::<layout::uv_udp_t>(),
        UV_SIGNAL => size_of::<layout::uv_signal_t>(),
        UV_STREAM => size_of::<layout::uv_stream_t>(),
        UV_TCP => size_of::<layout::uv_tcp_t>(),
        UV_NAMED_PIPE => size_of::<layout::uv_pipe_t>(),
        UV_PROCESS => size_of::<layout::uv_process_t>(),
        _ => NO_SIZE,
    }
}

/// `uv_req_size`: `sizeof` the struct of a request type uv.h defines
/// (`uv_req_t`, `uv_udp_send_t`, `uv_connect_t`, `uv_write_t`,
/// `uv_shutdown_t`); `(size_t)-1` for the others.
#[no_mangle]
pub extern "C" fn uv_req_size(type_: c_int) -> size_t {
    use kind::*;
    use std::mem::size_of;
    match type_ {
        UV_REQ => size_of::<layout::uv_req_t>(),
        UV_UDP_SEND => size_of::<layout::uv_udp_send_t>(),
        UV_CONNECT => size_of::<layout::uv_connect_t>(),
        UV_WRITE => size_of::<layout::uv_write_t>(),
        UV_SHUTDOWN => size_of::<layout::uv_shutdown_t>(),
        _ => NO_SIZE,
    }
}

/// `uv_loop_size`: `sizeof(uv_loop_t)`.
#[no_mangle]
pub extern "C" fn uv_loop_size() -> size_t {
    std::mem::size_of::<layout::uv_loop_t>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn name(ptr: *const c_char) -> Option<String> {
        if ptr.is_null() {
            return None;
        }
        // SAFETY: the functions under test return NULL (handled above) or
        // a static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(ptr) };
        Some(text.to_string_lossy().into_owned())
    }

    #[test]
    fn names() {
        assert_eq!(
            name(uv_handle_type_name(kind::UV_UDP)).as_deref(),
            Some("udp")
        );
        assert_eq!(
            name(uv_handle_type_name(kind::UV_NAMED_PIPE)).as_deref(),
            Some("pipe")
        );
        assert_eq!(name(uv_handle_type_name(0)), None);
        assert_eq!(name(uv_handle_type_name(18)), None);
        assert_eq!(
            name(uv_req_type_name(kind::UV_UDP_SEND)).as_deref(),
            Some("udp_send")
        );
        assert_eq!(name(uv_req_type_name(11)), None);
        assert_eq!(name(uv_version_string()).as_deref(), Some("1.52.0"));
        assert_eq!(uv_version(), 0x013400);
    }

    /// libuv 1.x's sizes on LP64 Linux (`tests/layout.rs` checks every
    /// field against the system's header).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn sizes_on_lp64() {
        assert_eq!(uv_handle_size(kind::UV_HANDLE), 96);
        assert_eq!(uv_handle_size(kind::UV_TIMER), 152);
        assert_eq!(uv_handle_size(kind::UV_IDLE), 120);
        assert_eq!(uv_handle_size(kind::UV_PREPARE), 120);
        assert_eq!(uv_handle_size(kind::UV_CHECK), 120);
        assert_eq!(uv_handle_size(kind::UV_ASYNC), 128);
        assert_eq!(uv_handle_size(kind::UV_POLL), 160);
        assert_eq!(uv_handle_size(kind::UV_UDP), 216);
        assert_eq!(uv_handle_size(kind::UV_STREAM), 248);
        assert_eq!(uv_handle_size(kind::UV_TCP), 248);
        assert_eq!(uv_handle_size(kind::UV_NAMED_PIPE), 264);
        assert_eq!(uv_handle_size(kind::UV_TTY), usize::MAX);
        assert_eq!(uv_req_size(kind::UV_CONNECT), 96);
        assert_eq!(uv_req_size(kind::UV_WRITE), 192);
        assert_eq!(uv_req_size(kind::UV_SHUTDOWN), 80);
        assert_eq!(uv_handle_size(kind::UV_PROCESS), 136);
        assert_eq!(uv_req_size(kind::UV_REQ), 64);
        assert_eq!(uv_req_size(kind::UV_UDP_SEND), 320);
        // The loop holds a pthread mutex and rwlock, whose sizes vary by
        // architecture.
        #[cfg(target_arch = "x86_64")]
        assert_eq!(uv_loop_size(), 848);
    }

    #[test]
    fn clocks() {
        let a = uv_hrtime();
        uv_sleep(2);
        assert!(uv_hrtime() - a >= 2_000_000);
        assert!(uv_available_parallelism() >= 1);
    }
}
