//! Stream calls for TCP and pipe handles: reads, gathered writes and
//! accepts, made straight through `syscall(2)` (never blocking, so glibc's
//! cancellation-point wrappers buy nothing; see `RecvBatch::recv`).

use std::io::{self, IoSlice};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Reads into `buf` without blocking: the bytes read, 0 at the end of the
/// stream, `WouldBlock` when nothing is there.
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; the kernel
    // writes no more.
    let n = unsafe {
        libc::syscall(
            libc::SYS_read,
            libc::c_long::from(fd),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    super::byte_count(n as i64)
}

/// Receives into `buf` from a connected socket without blocking, even when
/// the socket itself is blocking (`MSG_DONTWAIT`): the bytes read, 0 at the
/// end of the stream, `WouldBlock` when nothing is there.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; the kernel
    // writes no more; no address is asked for.
    let n = unsafe {
        libc::syscall(
            libc::SYS_recvfrom,
            libc::c_long::from(fd),
            buf.as_mut_ptr(),
            buf.len(),
            libc::c_long::from(libc::MSG_DONTWAIT),
            std::ptr::null_mut::<libc::sockaddr>(),
            std::ptr::null_mut::<libc::socklen_t>(),
        )
    };
    super::byte_count(n as i64)
}

/// Writes `slices` to a connected socket without blocking: the bytes
/// written. `MSG_NOSIGNAL`: a peer that is gone is `EPIPE`, never a
/// `SIGPIPE` that would kill a program that did not ignore it.
pub(crate) fn send_vectored(fd: RawFd, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    send_vectored_flags(fd, slices, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
}

/// [`send_vectored`] that waits for room when the socket is blocking
/// (`Tcp::set_blocking`): no `MSG_DONTWAIT`, still `MSG_NOSIGNAL`.
pub(crate) fn send_vectored_blocking(fd: RawFd, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    send_vectored_flags(fd, slices, libc::MSG_NOSIGNAL)
}

fn send_vectored_flags(fd: RawFd, slices: &[IoSlice<'_>], flags: libc::c_int) -> io::Result<usize> {
    sendmsg_raw(fd, &msghdr_for(slices), flags)
}

/// A `msghdr` gathering `slices`, without name or control data.
pub(super) fn msghdr_for(slices: &[IoSlice<'_>]) -> libc::msghdr {
    // SAFETY: all-zero is a valid msghdr (no name, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // IoSlice has iovec's layout on Unix (documented by std); the kernel
    // only reads through it.
    msg.msg_iov = slices.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = slices.len();
    msg
}

/// `sendmsg(2)` of `msg` on `fd`: the bytes written.
pub(super) fn sendmsg_raw(fd: RawFd, msg: &libc::msghdr, flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: the caller built `msg` from iovecs and control data that
    // outlive this call; the kernel only reads them.
    let n = unsafe {
        libc::syscall(
            libc::SYS_sendmsg,
            libc::c_long::from(fd),
            msg as *const libc::msghdr,
            libc::c_long::from(flags),
        )
    };
    super::byte_count(n as i64)
}

/// Writes `slices` to a descriptor that is not a socket (a pipe, a
/// terminal): `writev(2)`. The descriptor is non-blocking.
pub(crate) fn write_vectored(fd: RawFd, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: IoSlice has iovec's layout on Unix; `slices` outlives the
    // call and the kernel only reads through it.
    let n = unsafe {
        libc::syscall(
            libc::SYS_writev,
            libc::c_long::from(fd),
            slices.as_ptr() as *const libc::iovec,
            slices.len() as libc::c_long,
        )
    };
    super::byte_count(n as i64)
}

/// Accepts one pending connection of listening socket `fd`, non-blocking
/// and close-on-exec from the start (no window for a concurrent exec to
/// inherit it); `WouldBlock` when none is pending.
pub(crate) fn accept(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: NULL address and length are allowed (the peer is not
    // wanted); the flags are valid.
    let new = unsafe {
        libc::syscall(
            libc::SYS_accept4,
            libc::c_long::from(fd),
            std::ptr::null_mut::<libc::sockaddr>(),
            std::ptr::null_mut::<libc::socklen_t>(),
            libc::c_long::from(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC),
        )
    };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: accept4 returned a new descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new as RawFd) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn flags(fd: RawFd) -> (i32, i32) {
        // SAFETY: F_GETFL and F_GETFD only read the descriptor's flags.
        unsafe {
            (
                libc::fcntl(fd, libc::F_GETFL),
                libc::fcntl(fd, libc::F_GETFD),
            )
        }
    }

    #[test]
    fn reads_data_then_would_block_then_end_of_stream() {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 8];
        let err = read(a.as_raw_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        b.write_all(b"hello").unwrap();
        assert_eq!(read(a.as_raw_fd(), &mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        drop(b);
        // As below: a child spawned meanwhile may hold `b` for a moment.
        let mut eof = read(a.as_raw_fd(), &mut buf);
        for _ in 0..1000 {
            if !matches!(&eof, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
            eof = read(a.as_raw_fd(), &mut buf);
        }
        assert_eq!(eof.unwrap(), 0);
    }

    #[test]
    fn recv_never_blocks_even_on_a_blocking_socket() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 8];
        let err = recv(a.as_raw_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        b.write_all(b"hey").unwrap();
        assert_eq!(recv(a.as_raw_fd(), &mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"hey");
        drop(b);
        assert_eq!(recv(a.as_raw_fd(), &mut buf).unwrap(), 0);
    }

    #[test]
    fn gathered_writes_arrive_in_order() {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let slices = [IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")];
        assert_eq!(send_vectored(a.as_raw_fd(), &slices).unwrap(), 5);
        assert_eq!(write_vectored(a.as_raw_fd(), &slices[..1]).unwrap(), 2);
        let mut got = [0u8; 7];
        b.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"abcdeab");
    }

    #[test]
    fn a_full_socket_would_block_and_a_gone_peer_is_epipe() {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut total = 0;
        let err = loop {
            match send_vectored(a.as_raw_fd(), &[IoSlice::new(&chunk)]) {
                Ok(n) => total += n,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(total > 0);
        drop(b);
        // A child another test spawns at this moment holds a copy of every
        // descriptor until its exec closes them: the peer may be gone a
        // moment later than `drop`.
        let mut err = send_vectored(a.as_raw_fd(), &[IoSlice::new(b"x")]).unwrap_err();
        for _ in 0..1000 {
            if err.kind() != io::ErrorKind::WouldBlock {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
            err = send_vectored(a.as_raw_fd(), &[IoSlice::new(b"x")]).unwrap_err();
        }
        assert_eq!(err.raw_os_error(), Some(libc::EPIPE));
    }

    #[test]
    fn accepted_sockets_are_non_blocking_and_close_on_exec() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let err = accept(listener.as_raw_fd()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let accepted = accept(listener.as_raw_fd()).unwrap();
        let (status, fd_flags) = flags(accepted.as_raw_fd());
        assert_ne!(status & libc::O_NONBLOCK, 0);
        assert_ne!(fd_flags & libc::FD_CLOEXEC, 0);
        client.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        let mut n = 0;
        while n < 2 {
            match read(accepted.as_raw_fd(), &mut buf[n..]) {
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&buf, b"hi");
    }
}
