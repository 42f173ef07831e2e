//! Datagram socket calls that socket2 does not offer in the shape the loop
//! needs: receive into a caller's buffer with truncation detection, gathered
//! sends, IPv6 source-specific multicast and raw integer options.

use super::sockaddr::{from_sockaddr_storage, to_raw, to_sockaddr};
use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// What one `recvfrom` produced.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Received {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// The datagram was longer than the buffer; the rest was dropped.
    pub truncated: bool,
    /// The sender, when the kernel reported an IP address.
    pub addr: Option<SocketAddr>,
}

/// Receives one datagram into `buf` without blocking.
pub(crate) fn recv_from(fd: RawFd, buf: &mut [u8]) -> io::Result<Received> {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut addr_len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes and `storage` for
    // `addr_len` bytes; the kernel writes no more than those lengths.
    // MSG_TRUNC makes the kernel return the datagram's real length. Made
    // directly, not through glibc's wrapper: see `RecvBatch::recv`.
    let n = unsafe {
        libc::syscall(
            libc::SYS_recvfrom,
            libc::c_long::from(fd),
            buf.as_mut_ptr(),
            buf.len(),
            libc::c_long::from(libc::MSG_TRUNC | libc::MSG_DONTWAIT),
            &mut storage as *mut libc::sockaddr_storage,
            &mut addr_len as *mut libc::socklen_t,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let real = n as usize;
    Ok(Received {
        len: real.min(buf.len()),
        truncated: real > buf.len(),
        addr: from_sockaddr_storage(&storage, addr_len),
    })
}

/// Most buffers a single gathered send takes without a heap allocation.
const INLINE_IOVECS: usize = 8;

/// Most buffers one datagram can gather: the kernel's `UIO_MAXIOV`
/// (`IOV_MAX`); `sendmsg(2)` refuses more with EMSGSIZE.
pub(crate) const IOV_MAX: usize = 1024;

/// Sends `bufs` as one datagram to `addr` (or the connected peer).
pub(crate) fn send_msg<B: AsRef<[u8]>>(
    fd: RawFd,
    bufs: &[B],
    addr: Option<&SocketAddr>,
) -> io::Result<usize> {
    if let [buf] = bufs {
        return send_to(fd, buf.as_ref(), addr);
    }
    let empty = libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    };
    let mut inline = [empty; INLINE_IOVECS];
    let mut heap = Vec::new();
    let iovecs: &mut [libc::iovec] = if bufs.len() <= INLINE_IOVECS {
        &mut inline[..bufs.len()]
    } else {
        heap.resize(bufs.len(), empty);
        &mut heap
    };
    for (iov, buf) in iovecs.iter_mut().zip(bufs) {
        let buf = buf.as_ref();
        iov.iov_base = buf.as_ptr() as *mut libc::c_void;
        iov.iov_len = buf.len();
    }
    let dest = addr.map(to_raw);
    // SAFETY: all-zero is a valid msghdr (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    if let Some((raw, len)) = dest.as_ref() {
        msg.msg_name = raw.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = *len;
    }
    msg.msg_iov = iovecs.as_mut_ptr();
    msg.msg_iovlen = iovecs.len() as _;
    // SAFETY: `msg` points at `iovecs` and `dest`, which live until the call
    // returns; each iovec describes a live, readable slice from `bufs`.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    super::byte_count(n as i64)
}

/// One buffer as one datagram: `sendto(2)` needs no message header, which
/// makes it the cheaper call for the common send.
fn send_to(fd: RawFd, buf: &[u8], addr: Option<&SocketAddr>) -> io::Result<usize> {
    let dest = addr.map(to_raw);
    let (name, len) = match dest.as_ref() {
        Some((raw, len)) => (raw.as_ptr(), *len),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: `buf` is a live, readable slice of `buf.len()` bytes; `name`
    // is NULL with length 0 or points at `dest`, alive until the call returns.
    // Made directly, not through glibc's wrapper: see `RecvBatch::recv`.
    let n = unsafe {
        libc::syscall(
            libc::SYS_sendto,
            libc::c_long::from(fd),
            buf.as_ptr(),
            buf.len(),
            libc::c_long::from(libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL),
            name,
            libc::c_long::from(len),
        )
    };
    super::byte_count(n as i64)
}

/// Sets an integer socket option.
pub(crate) fn set_int_option(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: we pass a pointer to a live c_int and its exact size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Joins or leaves an IPv6 source-specific multicast group
/// (`MCAST_JOIN_SOURCE_GROUP` / `MCAST_LEAVE_SOURCE_GROUP`).
pub(crate) fn source_membership_v6(
    fd: RawFd,
    group: &SocketAddr,
    source: &SocketAddr,
    interface: u32,
    join: bool,
) -> io::Result<()> {
    // SAFETY: group_source_req is plain old data; all-zero is valid.
    let mut req: libc::group_source_req = unsafe { mem::zeroed() };
    req.gsr_interface = interface;
    req.gsr_group = to_sockaddr(group).0;
    req.gsr_source = to_sockaddr(source).0;
    let name = if join {
        libc::MCAST_JOIN_SOURCE_GROUP
    } else {
        libc::MCAST_LEAVE_SOURCE_GROUP
    };
    // SAFETY: we pass a pointer to a live group_source_req and its exact size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            name,
            (&req as *const libc::group_source_req).cast(),
            mem::size_of::<libc::group_source_req>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Dissolves a UDP association (`connect` with `AF_UNSPEC`).
pub(crate) fn disconnect(fd: RawFd) -> io::Result<()> {
    // SAFETY: all-zero is a valid sockaddr; AF_UNSPEC is 0.
    let mut addr: libc::sockaddr = unsafe { mem::zeroed() };
    addr.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    // SAFETY: `addr` is a live sockaddr and we pass its exact size.
    let r = unsafe {
        libc::connect(
            fd,
            &addr,
            mem::size_of::<libc::sockaddr>() as libc::socklen_t,
        )
    };
    if r < 0 {
        let err = io::Error::last_os_error();
        // Linux reports EAFNOSUPPORT on some kernels even though it dissolved
        // the association; libuv ignores it for the same reason.
        if err.raw_os_error() != Some(libc::EAFNOSUPPORT) {
            return Err(err);
        }
    }
    Ok(())
}
