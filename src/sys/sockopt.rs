//! Raw `getsockopt`/`setsockopt` for the UDP client's socket proxy
//! (Python's `socket.getsockopt(level, name[, buflen])` and
//! `socket.setsockopt(level, name, bytes)`). The integer setter is
//! `set_int_option` in `socket.rs`.

use std::io;
use std::mem;
use std::os::fd::RawFd;

/// Reads an integer socket option.
pub(crate) fn get_int_option(fd: RawFd, level: i32, name: i32) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` is a live, writable c_int and `len` its exact size;
    // the kernel writes at most `len` bytes and updates `len`.
    let r = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // An option narrower than an int (rare) fills only the first `len`
    // bytes of the zeroed int; use `get_option_bytes` for those.
    Ok(value)
}

/// Reads a socket option of up to `max_len` bytes; returns what the kernel
/// wrote.
pub(crate) fn get_option_bytes(
    fd: RawFd,
    level: i32,
    name: i32,
    max_len: usize,
) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; max_len];
    let mut len = libc::socklen_t::try_from(max_len)
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `buf` is valid for writes of `len` bytes; the kernel writes at
    // most `len` bytes and stores the length it wrote in `len`.
    let r = unsafe { libc::getsockopt(fd, level, name, buf.as_mut_ptr().cast(), &mut len) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate((len as usize).min(max_len));
    Ok(buf)
}

/// Sets a socket option from raw bytes.
pub(crate) fn set_option_bytes(fd: RawFd, level: i32, name: i32, value: &[u8]) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `value` is valid for reads of `len` bytes for the whole call.
    let r = unsafe { libc::setsockopt(fd, level, name, value.as_ptr().cast(), len) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
