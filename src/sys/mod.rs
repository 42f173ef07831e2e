//! Every operating-system call that needs `unsafe` lives here, behind safe
//! functions. Each `unsafe` block says why it holds.
//!
//! The rest of the crate only sees plain Rust types: `RawFd`/`BorrowedFd`,
//! `SocketAddr`, byte slices and `io::Result`.

mod epoll;
mod errqueue;
mod fdpass;
mod gso;
mod loop_fd;
mod mmsg;
mod pipe;
mod resolve;
mod signal;
mod sockaddr;
mod socket;
mod sockopt;
mod spawn;
mod stream;

pub(crate) use epoll::*;
pub(crate) use errqueue::*;
pub(crate) use fdpass::*;
pub(crate) use gso::*;
pub(crate) use mmsg::*;
pub(crate) use pipe::*;
pub(crate) use resolve::*;
pub(crate) use signal::*;
pub(crate) use socket::*;
pub(crate) use sockopt::*;
pub(crate) use spawn::*;
pub(crate) use stream::*;

use std::io;
use std::os::fd::RawFd;

/// The byte count a read or write system call returned, or the error it
/// reported through errno (a negative result).
#[inline]
pub(crate) fn byte_count(n: i64) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Monotonic clock reading in nanoseconds, the same clock as libuv's
/// `uv_hrtime` (`CLOCK_MONOTONIC`).
pub(crate) fn hrtime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists
    // on Linux, so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// Interface index for a name such as `lo`, or `None` when there is none.
pub(crate) fn if_nametoindex(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: `cname` is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    (index != 0).then_some(index)
}

/// What a descriptor refers to (`st_dev`, `st_ino` from `fstat(2)`), to
/// tell whether a descriptor number still names the same open file or was
/// closed and reused; `None` for a closed descriptor.
pub(crate) fn fd_identity(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: all-zero is a valid `stat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a writable `stat` that outlives the call; a bad `fd`
    // is reported as an error, not undefined behaviour.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return None;
    }
    Some((st.st_dev, st.st_ino))
}

/// Readiness bits reported by `poll(2)` for one descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FdReadiness {
    pub readable: bool,
    pub writable: bool,
    pub priority: bool,
    pub hangup: bool,
    /// `POLLHUP`: both directions are shut (a peer's half-close is only
    /// `hangup`).
    pub closed: bool,
    pub error: bool,
    pub invalid: bool,
}

/// Non-blocking `poll(2)` of one descriptor: what it is ready for right now.
pub(crate) fn poll_now(fd: RawFd, want_read: bool, want_write: bool) -> io::Result<FdReadiness> {
    let mut events = libc::POLLPRI | libc::POLLRDHUP;
    if want_read {
        events |= libc::POLLIN;
    }
    if want_write {
        events |= libc::POLLOUT;
    }
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    loop {
        // SAFETY: `pfd` is one valid pollfd and we pass a count of 1.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let r = pfd.revents;
    Ok(FdReadiness {
        readable: r & libc::POLLIN != 0,
        writable: r & libc::POLLOUT != 0,
        priority: r & libc::POLLPRI != 0,
        hangup: r & (libc::POLLHUP | libc::POLLRDHUP) != 0,
        closed: r & libc::POLLHUP != 0,
        error: r & libc::POLLERR != 0,
        invalid: r & libc::POLLNVAL != 0,
    })
}

/// The payload of the first control message of `msg` that `wanted` accepts
/// (by level and type): where it starts, possibly unaligned, and how many
/// bytes of it the header covers.
///
/// # Safety
/// `msg` was just filled by `recvmsg`/`recvmmsg`: its control pointer and
/// length describe the control buffer the kernel wrote.
#[inline]
pub(crate) unsafe fn find_cmsg(
    msg: &libc::msghdr,
    wanted: impl Fn(libc::c_int, libc::c_int) -> bool,
) -> Option<(*const u8, usize)> {
    if msg.msg_control.is_null() || msg.msg_controllen == 0 {
        return None;
    }
    // SAFETY: per the contract above, the CMSG macros walk only headers the
    // kernel wrote inside the control buffer.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        // SAFETY: a non-null header from CMSG_FIRSTHDR/CMSG_NXTHDR lies
        // inside the control buffer.
        let header = unsafe { &*cmsg };
        if wanted(header.cmsg_level, header.cmsg_type) {
            // SAFETY: CMSG_LEN only computes a size; CMSG_DATA only offsets
            // the header pointer to its payload.
            let (header_len, data) = unsafe { (libc::CMSG_LEN(0) as usize, libc::CMSG_DATA(cmsg)) };
            let len = (header.cmsg_len as usize).saturating_sub(header_len);
            return Some((data.cast_const(), len));
        }
        // SAFETY: as above.
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
    None
}
