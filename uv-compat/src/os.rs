//! The process's surroundings: `uv_exepath`, `uv_cwd`, `uv_chdir`,
//! `uv_os_homedir`, `uv_os_tmpdir`, `uv_os_getppid`, `uv_os_uname`,
//! `uv_resident_set_memory`, `uv_uptime` and
//! `uv_disable_stdio_inheritance`.
//!
//! The functions that fill a caller's buffer share libuv's contract: NULL
//! or a zero `*size` is UV_EINVAL; a text that does not fit is UV_ENOBUFS
//! with `*size` set to the room it needs, terminator included; on success
//! `*size` is its length without the terminator.

use crate::handles::{last_os_status, EINVAL};
use libc::{c_char, c_double, c_int, pid_t, size_t};
use std::ffi::CStr;

/// libuv's `UV_ENOBUFS`.
const ENOBUFS: c_int = -libc::ENOBUFS;

/// Whether a caller's `(buffer, size)` pair is usable (not NULL, room for
/// at least the terminator).
///
/// # Safety
/// `size` is NULL or points to a readable `size_t`.
pub(crate) unsafe fn buffer_ok(buffer: *const c_char, size: *const size_t) -> bool {
    // SAFETY: `size` is non-NULL here and readable per the contract above.
    !buffer.is_null() && !size.is_null() && unsafe { *size } != 0
}

/// Copies `text` and a terminator into the caller's buffer of `*size`
/// bytes and sets `*size` to its length; UV_ENOBUFS with `*size` set to
/// the room needed when it does not fit (the buffer is left alone).
///
/// # Safety
/// `buffer` has `*size` writable bytes; `size` points to a writable
/// `size_t`.
pub(crate) unsafe fn copy_out(text: &[u8], buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe {
        if text.len() >= *size {
            *size = text.len() + 1;
            return ENOBUFS;
        }
        std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), text.len());
        *buffer.add(text.len()) = 0;
        *size = text.len();
    }
    0
}

/// A directory without its trailing `/`, unless it is `/` itself (the
/// rule of `uv_cwd` and `uv_os_tmpdir`).
fn without_trailing_slash(dir: &[u8]) -> &[u8] {
    match dir {
        [rest @ .., b'/'] if !rest.is_empty() => rest,
        _ => dir,
    }
}

/// `uv_exepath`: the path of the running executable, cut to fit `*size`
/// bytes with its terminator (as libuv does: no UV_ENOBUFS here).
///
/// # Safety
/// `buffer` is NULL or has `*size` writable bytes; `size` is NULL or
/// points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn uv_exepath(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: per the contract above.
    if !unsafe { buffer_ok(buffer, size) } {
        return EINVAL;
    }
    let path = match std::fs::read_link("/proc/self/exe") {
        Ok(path) => path,
        Err(err) => return -err.raw_os_error().unwrap_or(libc::EIO),
    };
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    // SAFETY: `size` is valid per the contract above.
    let room = unsafe { *size } - 1;
    let n = bytes.len().min(room);
    // SAFETY: `buffer` has `*size` = `room + 1` bytes and `n <= room`.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.cast::<u8>(), n);
        *buffer.add(n) = 0;
        *size = n;
    }
    0
}

/// `uv_cwd`: the working directory without a trailing `/` (but `/`
/// itself).
///
/// # Safety
/// As [`uv_exepath`].
#[no_mangle]
pub unsafe extern "C" fn uv_cwd(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: per the contract above.
    if !unsafe { buffer_ok(buffer, size) } {
        return EINVAL;
    }
    match std::env::current_dir() {
        // SAFETY: per the contract above.
        Ok(dir) => unsafe {
            copy_out(
                without_trailing_slash(std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str())),
                buffer,
                size,
            )
        },
        Err(err) => -err.raw_os_error().unwrap_or(libc::EIO),
    }
}

/// `uv_chdir`: changes the working directory; UV_EINVAL for NULL.
///
/// # Safety
/// `dir` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn uv_chdir(dir: *const c_char) -> c_int {
    if dir.is_null() {
        return EINVAL;
    }
    // SAFETY: a valid string per the contract above.
    if unsafe { libc::chdir(dir) } != 0 {
        return last_os_status();
    }
    0
}

/// `uv_os_homedir`: `$HOME` when set (as it is), else the home directory
/// of the user in the password database.
///
/// # Safety
/// As [`uv_exepath`].
#[no_mangle]
pub unsafe extern "C" fn uv_os_homedir(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: per the contract above.
    let r = unsafe { crate::env::uv_os_getenv(c"HOME".as_ptr(), buffer, size) };
    if r != -libc::ENOENT {
        return r;
    }
    match password_home() {
        // SAFETY: per the contract above.
        Ok(home) => unsafe { copy_out(&home, buffer, size) },
        Err(code) => code,
    }
}

/// The calling user's home directory from the password database.
fn password_home() -> Result<Vec<u8>, c_int> {
    // SAFETY: all-zero is a valid `passwd` to be filled in.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let mut scratch = vec![0u8; 1024];
    loop {
        // SAFETY: every pointer is valid for the call; `scratch` has the
        // length given.
        let r = unsafe {
            libc::getpwuid_r(
                libc::geteuid(),
                &mut entry,
                scratch.as_mut_ptr().cast(),
                scratch.len(),
                &mut result,
            )
        };
        if r == libc::ERANGE && scratch.len() < 1 << 20 {
            scratch.resize(scratch.len() * 2, 0);
            continue;
        }
        if r != 0 {
            return Err(-r);
        }
        if result.is_null() || entry.pw_dir.is_null() {
            return Err(-libc::ENOENT);
        }
        // SAFETY: a NUL-terminated string inside `scratch`.
        return Ok(unsafe { CStr::from_ptr(entry.pw_dir) }.to_bytes().to_vec());
    }
}

/// `uv_os_tmpdir`: the first of `$TMPDIR`, `$TMP`, `$TEMP`, `$TEMPDIR`
/// that is set, else `/tmp`; without a trailing `/` (but `/` itself). As
/// in libuv, the room asked for with UV_ENOBUFS counts that slash.
///
/// # Safety
/// As [`uv_exepath`].
#[no_mangle]
pub unsafe extern "C" fn uv_os_tmpdir(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: per the contract above.
    if !unsafe { buffer_ok(buffer, size) } {
        return EINVAL;
    }
    let dir = ["TMPDIR", "TMP", "TEMP", "TEMPDIR"]
        .iter()
        .find_map(std::env::var_os)
        .unwrap_or_else(|| "/tmp".into());
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str());
    // SAFETY: `size` is valid per the contract above.
    unsafe {
        if bytes.len() >= *size {
            *size = bytes.len() + 1;
            return ENOBUFS;
        }
        copy_out(without_trailing_slash(bytes), buffer, size)
    }
}

/// `uv_os_getppid`: the parent's process id.
#[no_mangle]
pub extern "C" fn uv_os_getppid() -> pid_t {
    // SAFETY: getppid has no preconditions and cannot fail.
    unsafe { libc::getppid() }
}

/// `uv_utsname_t`.
#[repr(C)]
pub struct uv_utsname_t {
    /// The kernel's name (`Linux`).
    pub sysname: [c_char; 256],
    /// Its release.
    pub release: [c_char; 256],
    /// Its version.
    pub version: [c_char; 256],
    /// The hardware (`x86_64`).
    pub machine: [c_char; 256],
}

/// `uv_os_uname`: the kernel's name, release and version and the machine;
/// UV_EINVAL for NULL. On failure every field is the empty string.
///
/// # Safety
/// `buffer` is NULL or points to a writable `uv_utsname_t`.
#[no_mangle]
pub unsafe extern "C" fn uv_os_uname(buffer: *mut uv_utsname_t) -> c_int {
    if buffer.is_null() {
        return EINVAL;
    }
    // SAFETY: all-zero is a valid `utsname` to be filled in.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is writable.
    let r = if unsafe { libc::uname(&mut u) } != 0 {
        last_os_status()
    } else {
        0
    };
    // SAFETY: writable per the contract above.
    let out = unsafe { &mut *buffer };
    let pairs: [(&mut [c_char; 256], &[c_char]); 4] = [
        (&mut out.sysname, &u.sysname),
        (&mut out.release, &u.release),
        (&mut out.version, &u.version),
        (&mut out.machine, &u.machine),
    ];
    for (to, from) in pairs {
        to.fill(0);
        if r == 0 {
            // The kernel's fields (65 bytes) always fit with their NUL.
            let n = from.iter().position(|&c| c == 0).unwrap_or(from.len());
            let n = n.min(to.len() - 1);
            to[..n].copy_from_slice(&from[..n]);
        }
    }
    r
}

/// `uv_resident_set_memory`: the process's resident set in bytes (field
/// 24 of `/proc/self/stat`, in pages).
///
/// # Safety
/// `rss` is NULL or points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn uv_resident_set_memory(rss: *mut size_t) -> c_int {
    if rss.is_null() {
        return EINVAL;
    }
    let stat = match std::fs::read("/proc/self/stat") {
        Ok(stat) => stat,
        Err(err) => return -err.raw_os_error().unwrap_or(libc::EIO),
    };
    // The command name (field 2) may hold spaces and parentheses: count
    // fields from the last ')'. Field 3 is the first after it.
    let Some(close) = stat.iter().rposition(|&b| b == b')') else {
        return EINVAL;
    };
    let pages = std::str::from_utf8(&stat[close + 1..])
        .ok()
        .and_then(|rest| rest.split_ascii_whitespace().nth(24 - 3))
        .and_then(|field| field.parse::<size_t>().ok());
    let Some(pages) = pages else {
        return EINVAL;
    };
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as size_t;
    // SAFETY: writable per the contract above.
    unsafe { *rss = pages * page };
    0
}

/// `uv_uptime`: seconds since boot (`/proc/uptime`, else
/// `CLOCK_BOOTTIME`).
///
/// # Safety
/// `uptime` is NULL or points to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn uv_uptime(uptime: *mut c_double) -> c_int {
    if uptime.is_null() {
        return EINVAL;
    }
    let from_proc = std::fs::read_to_string("/proc/uptime").ok().and_then(|s| {
        s.split_ascii_whitespace()
            .next()
            .and_then(|f| f.parse::<f64>().ok())
    });
    let seconds = match from_proc {
        Some(seconds) => seconds,
        None => {
            // SAFETY: all-zero is a valid timespec to be filled in.
            let mut now: libc::timespec = unsafe { std::mem::zeroed() };
            // SAFETY: `now` is writable.
            if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) } != 0 {
                return last_os_status();
            }
            now.tv_sec as f64
        }
    };
    // SAFETY: writable per the contract above.
    unsafe { *uptime = seconds };
    0
}

/// `uv_disable_stdio_inheritance`: marks every descriptor close-on-exec so
/// that children started later (by any means) inherit none of them: the
/// first 16 unconditionally, then up to the first that is not open (as
/// libuv does).
#[no_mangle]
pub extern "C" fn uv_disable_stdio_inheritance() {
    let mut fd: c_int = 0;
    loop {
        // SAFETY: fcntl on any number; a closed one is EBADF.
        let ok = unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            flags >= 0 && libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) == 0
        };
        if !ok && fd > 15 {
            break;
        }
        fd += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes() {
        assert_eq!(without_trailing_slash(b"/"), b"/");
        assert_eq!(without_trailing_slash(b"/tmp/"), b"/tmp");
        assert_eq!(without_trailing_slash(b"/tmp"), b"/tmp");
        assert_eq!(without_trailing_slash(b""), b"");
    }
}
