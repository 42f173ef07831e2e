//! Passing descriptors over a Unix stream socket (`SCM_RIGHTS`), for IPC
//! pipes: sending one with a write, receiving those that come with a read,
//! and telling what a received descriptor is (libuv's `uv_guess_handle`).

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Descriptors one message may carry at most (Linux's `SCM_MAX_FD`): the
/// receive buffer holds that many, so no descriptor is ever cut off.
const MAX_FDS: usize = 253;

/// Room for one `SCM_RIGHTS` message of [`MAX_FDS`] descriptors, in
/// `u64`s for `cmsghdr`'s alignment: `CMSG_SPACE(253 * 4)`, 1032 bytes on
/// 64-bit Linux.
const CMSG_WORDS: usize =
    (std::mem::size_of::<libc::cmsghdr>() + MAX_FDS * std::mem::size_of::<RawFd>()).div_ceil(8);

/// Sends `slices` on socket `fd` with descriptor `pass` attached to their
/// first byte: the bytes written. `MSG_NOSIGNAL`, and `MSG_DONTWAIT` unless
/// `blocking`. The kernel takes the descriptor only with bytes, so the
/// caller offers at least one.
pub(crate) fn send_with_fd(
    fd: RawFd,
    slices: &[IoSlice<'_>],
    pass: RawFd,
    blocking: bool,
) -> io::Result<usize> {
    let mut space = [0u64; CMSG_WORDS];
    let mut msg = super::msghdr_for(slices);
    msg.msg_control = space.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    // SAFETY: `msg_control` points at `space`, aligned for cmsghdr and
    // larger than `msg_controllen`, so the first header is inside it and
    // its data has room for one descriptor.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), pass);
    }
    let mut flags = libc::MSG_NOSIGNAL;
    if !blocking {
        flags |= libc::MSG_DONTWAIT;
    }
    // `space` lives to the end of this function, past the call.
    super::sendmsg_raw(fd, &msg, flags)
}

/// Bytes waiting to be read on a stream socket (`FIONREAD`): after a read
/// that a passed descriptor cut short, whether more is there already.
pub(crate) fn bytes_waiting(fd: RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, which points to
    // a live local.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Receives into `buf` from socket `fd` without blocking, handing every
/// descriptor that came with the bytes to `on_fd` (close-on-exec from the
/// start, `MSG_CMSG_CLOEXEC`): the bytes read (0 at the end of the stream)
/// and whether descriptors came. Control messages of other kinds are
/// ignored.
pub(crate) fn recv_with_fds(
    fd: RawFd,
    buf: &mut [u8],
    on_fd: &mut dyn FnMut(OwnedFd),
) -> io::Result<(usize, bool)> {
    let mut space = [0u64; CMSG_WORDS];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&space);
    // SAFETY: `iov` describes `buf`, writable for its length; the control
    // buffer is writable for `msg_controllen` bytes; both outlive the call.
    let n = unsafe {
        libc::syscall(
            libc::SYS_recvmsg,
            libc::c_long::from(fd),
            &mut msg as *mut libc::msghdr,
            libc::c_long::from(libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC),
        )
    };
    let n = super::byte_count(n as i64)?;
    let mut got = false;
    // SAFETY: the kernel filled `msg_controllen` bytes of the control
    // buffer with well-formed headers; CMSG_FIRSTHDR/NXTHDR stay inside it.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: `cmsg` is a header inside the control buffer (above).
        let (level, ty, len) = unsafe { ((*cmsg).cmsg_level, (*cmsg).cmsg_type, (*cmsg).cmsg_len) };
        if level == libc::SOL_SOCKET && ty == libc::SCM_RIGHTS {
            // SAFETY: CMSG_LEN only computes a size.
            let header = unsafe { libc::CMSG_LEN(0) } as usize;
            let count = len.saturating_sub(header) / std::mem::size_of::<RawFd>();
            // SAFETY: the header's data holds `count` descriptors.
            let data = unsafe { libc::CMSG_DATA(cmsg) }.cast::<RawFd>();
            for i in 0..count {
                // SAFETY: `i < count`, inside the data; unaligned reads
                // because CMSG_DATA promises no alignment for `int`.
                let raw = unsafe { std::ptr::read_unaligned(data.add(i)) };
                // SAFETY: SCM_RIGHTS installed a new descriptor in this
                // process that nobody else owns.
                on_fd(unsafe { OwnedFd::from_raw_fd(raw) });
                got = true;
            }
        }
        // SAFETY: as above, NXTHDR returns the next header inside the
        // buffer or null.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    Ok((n, got))
}

/// What a descriptor is, for passing handles (libuv's `uv_guess_handle`
/// for sockets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FdKind {
    /// An IPv4 or IPv6 stream socket.
    Tcp,
    /// An IPv4 or IPv6 datagram socket.
    Udp,
    /// A Unix stream socket, or a pipe (FIFO).
    Pipe,
    /// Anything else.
    Other,
}

/// What `fd` is: its file type, and for a socket its type and family.
pub(crate) fn fd_kind(fd: BorrowedFd<'_>) -> FdKind {
    let raw = fd.as_raw_fd();
    // SAFETY: all-zero is a valid `stat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a writable `stat` that outlives the call.
    if unsafe { libc::fstat(raw, &mut st) } != 0 {
        return FdKind::Other;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFIFO => return FdKind::Pipe,
        libc::S_IFSOCK => {}
        _ => return FdKind::Other,
    }
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `ty` and `len` are writable and describe an int.
    let r = unsafe {
        libc::getsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return FdKind::Other;
    }
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `addr` is writable for `len` bytes.
    let r = unsafe {
        libc::getsockname(
            raw,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return FdKind::Other;
    }
    let family = libc::c_int::from(addr.ss_family);
    let inet = family == libc::AF_INET || family == libc::AF_INET6;
    match ty {
        libc::SOCK_STREAM if inet => FdKind::Tcp,
        libc::SOCK_STREAM if family == libc::AF_UNIX => FdKind::Pipe,
        libc::SOCK_DGRAM if inet => FdKind::Udp,
        _ => FdKind::Other,
    }
}

/// A close-on-exec duplicate of `fd`, owned by the caller.
pub(crate) fn dup_cloexec(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor or reports an error.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the new descriptor is this process's, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    fn flags(fd: RawFd) -> i32 {
        // SAFETY (test): F_GETFD only reads the descriptor flags.
        unsafe { libc::fcntl(fd, libc::F_GETFD) }
    }

    #[test]
    fn a_descriptor_goes_with_the_first_byte_and_arrives_close_on_exec() {
        let (a, b) = UnixStream::pair().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let n = send_with_fd(
            a.as_raw_fd(),
            &[IoSlice::new(b"ab")],
            listener.as_raw_fd(),
            false,
        )
        .unwrap();
        assert_eq!(n, 2);
        let mut buf = [0u8; 8];
        let mut fds = Vec::new();
        let (n, got) = recv_with_fds(b.as_raw_fd(), &mut buf, &mut |fd| fds.push(fd)).unwrap();
        assert_eq!((n, got, &buf[..2]), (2, true, &b"ab"[..]));
        assert_eq!(fds.len(), 1);
        assert_ne!(flags(fds[0].as_raw_fd()) & libc::FD_CLOEXEC, 0);
        assert_eq!(fd_kind(fds[0].as_fd()), FdKind::Tcp);
        // Plain bytes bring none.
        a.set_nonblocking(true).unwrap();
        send_with_fd(a.as_raw_fd(), &[IoSlice::new(b"c")], a.as_raw_fd(), false).unwrap();
        crate::sys::send_vectored(a.as_raw_fd(), &[IoSlice::new(b"d")]).unwrap();
        let (n, got) = recv_with_fds(b.as_raw_fd(), &mut buf, &mut |fd| fds.push(fd)).unwrap();
        assert_eq!(
            (n, got, buf[0]),
            (1, true, b'c'),
            "stops after the descriptor"
        );
        let (n, got) = recv_with_fds(b.as_raw_fd(), &mut buf, &mut |fd| fds.push(fd)).unwrap();
        assert_eq!((n, got, buf[0]), (1, false, b'd'));
        let err = recv_with_fds(b.as_raw_fd(), &mut buf, &mut |fd| fds.push(fd)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn kinds_of_descriptors() {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(fd_kind(udp.as_fd()), FdKind::Udp);
        let (a, _b) = UnixStream::pair().unwrap();
        assert_eq!(fd_kind(a.as_fd()), FdKind::Pipe);
        let (r, _w) = crate::sys::pipe_cloexec().unwrap();
        assert_eq!(fd_kind(r.as_fd()), FdKind::Pipe);
        let file = std::fs::File::open("/").unwrap();
        assert_eq!(fd_kind(file.as_fd()), FdKind::Other);
        let dup = dup_cloexec(udp.as_raw_fd()).unwrap();
        assert_ne!(flags(dup.as_raw_fd()) & libc::FD_CLOEXEC, 0);
        assert_eq!(fd_kind(dup.as_fd()), FdKind::Udp);
    }
}
