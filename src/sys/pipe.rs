//! Descriptor calls for pipe handles: a descriptor's access mode and type,
//! non-blocking mode, and `pipe2`.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// What a descriptor handed to a pipe handle is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FdMode {
    /// Opened for reading (`O_RDONLY` or `O_RDWR`).
    pub readable: bool,
    /// Opened for writing (`O_WRONLY` or `O_RDWR`).
    pub writable: bool,
    /// A socket (`S_ISSOCK`), written with `sendmsg`, not `writev`.
    pub socket: bool,
}

/// The access mode and type of `fd`.
pub(crate) fn fd_mode(fd: RawFd) -> io::Result<FdMode> {
    // SAFETY: F_GETFL only reads the descriptor's status flags; a bad
    // descriptor is reported as an error.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: all-zero is a valid `stat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a writable `stat` that outlives the call.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let access = flags & libc::O_ACCMODE;
    Ok(FdMode {
        readable: access != libc::O_WRONLY,
        writable: access != libc::O_RDONLY,
        socket: st.st_mode & libc::S_IFMT == libc::S_IFSOCK,
    })
}

/// Sets or clears `O_NONBLOCK` on `fd` (the open file description, shared
/// with every duplicate of the descriptor).
pub(crate) fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFL only reads the status flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let new = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: F_SETFL with flags read from the same descriptor, only
    // O_NONBLOCK changed.
    if new != flags && unsafe { libc::fcntl(fd, libc::F_SETFL, new) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A new pipe, close-on-exec at once: (read end, write end).
pub(crate) fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both are new descriptors nobody else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn pipe_ends_have_one_direction_each_and_sockets_both() {
        let (r, w) = pipe_cloexec().unwrap();
        let rm = fd_mode(r.as_raw_fd()).unwrap();
        let wm = fd_mode(w.as_raw_fd()).unwrap();
        assert_eq!((rm.readable, rm.writable, rm.socket), (true, false, false));
        assert_eq!((wm.readable, wm.writable, wm.socket), (false, true, false));
        let (a, _b) = UnixStream::pair().unwrap();
        let am = fd_mode(a.as_raw_fd()).unwrap();
        assert_eq!((am.readable, am.writable, am.socket), (true, true, true));
        assert!(fd_mode(-1).is_err());
    }

    #[test]
    fn nonblocking_is_set_and_cleared() {
        let (r, _w) = pipe_cloexec().unwrap();
        // SAFETY (test): F_GETFL/F_GETFD only read flags.
        let get = |fd| unsafe { libc::fcntl(fd, libc::F_GETFL) };
        // SAFETY (test): F_GETFD only reads the descriptor flags.
        let cloexec = unsafe { libc::fcntl(r.as_raw_fd(), libc::F_GETFD) };
        assert_ne!(cloexec & libc::FD_CLOEXEC, 0);
        set_nonblocking(r.as_raw_fd(), true).unwrap();
        assert_ne!(get(r.as_raw_fd()) & libc::O_NONBLOCK, 0);
        set_nonblocking(r.as_raw_fd(), false).unwrap();
        assert_eq!(get(r.as_raw_fd()) & libc::O_NONBLOCK, 0);
    }
}
