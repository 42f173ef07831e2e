//! The socket error queue (`IP_RECVERR` / `IPV6_RECVERR`): one
//! `recvmsg(MSG_ERRQUEUE)` and the decoding of the extended error the
//! kernel attaches to it as a control message.
//!
//! Read only after the kernel flagged the socket in error (`EPOLLERR`), so
//! the normal receive path never pays for it.

use super::sockaddr::from_sockaddr_storage;
use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// One entry of the error queue, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QueuedEntry {
    /// Bytes of the failed datagram's payload copied into the buffer.
    pub len: usize,
    /// The extended error, `None` for an entry that carried none.
    pub error: Option<ExtendedError>,
    /// Where the failed datagram was going (the message's name).
    pub destination: Option<SocketAddr>,
}

/// `struct sock_extended_err` and the offender address after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExtendedError {
    /// `ee_errno`: a positive errno.
    pub errno: i32,
    /// `ee_origin`: `SO_EE_ORIGIN_*`.
    pub origin: u8,
    /// `ee_type`: the ICMP type for ICMP origins.
    pub icmp_type: u8,
    /// `ee_code`: the ICMP code for ICMP origins.
    pub icmp_code: u8,
    /// `SO_EE_OFFENDER`: the node that reported the error, when known.
    pub offender: Option<SocketAddr>,
}

/// Room for the control messages of one error-queue entry: the extended
/// error (16 bytes) and its offender (up to a `sockaddr_in6`) behind a
/// header, with room to spare for anything else the kernel adds.
#[repr(C, align(8))]
struct Control([u8; 256]);

/// Takes the oldest entry of the socket's error queue without blocking,
/// copying what the kernel kept of the failed datagram into `buf`.
/// WouldBlock when the queue is empty.
pub(crate) fn recv_errqueue(fd: RawFd, buf: &mut [u8]) -> io::Result<QueuedEntry> {
    // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
    let mut name: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut control = Control([0; 256]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = mem::size_of::<Control>() as _;
    // SAFETY: `msg` points at `name`, `iov` (describing the caller's
    // writable `buf`) and `control`, all alive through the call; the kernel
    // writes no more than the lengths given.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just filled `msg`'s control buffer.
    let error = unsafe { extended_error(&msg) };
    Ok(QueuedEntry {
        len: (n as usize).min(buf.len()),
        error,
        destination: from_sockaddr_storage(&name, msg.msg_namelen),
    })
}

/// The `IP_RECVERR` / `IPV6_RECVERR` control message of an error-queue
/// entry, if it has one.
///
/// # Safety
/// `msg` was just filled by `recvmsg`: its control pointer and length
/// describe the control buffer the kernel wrote.
unsafe fn extended_error(msg: &libc::msghdr) -> Option<ExtendedError> {
    // SAFETY: per the contract above.
    let (data, len) = unsafe {
        super::find_cmsg(msg, |level, ty| {
            (level == libc::SOL_IP && ty == libc::IP_RECVERR)
                || (level == libc::SOL_IPV6 && ty == libc::IPV6_RECVERR)
        })
    }?;
    let serr_len = mem::size_of::<libc::sock_extended_err>();
    if len < serr_len {
        return None;
    }
    // SAFETY: the header covers a sock_extended_err of payload; it may be
    // unaligned, so it is read unaligned.
    let serr = unsafe { std::ptr::read_unaligned(data.cast::<libc::sock_extended_err>()) };
    // SAFETY: the offender (SO_EE_OFFENDER) follows the extended error, and
    // the `len - serr_len` bytes there are still inside the payload.
    let offender = unsafe { read_offender(data.add(serr_len), len - serr_len) };
    Some(ExtendedError {
        errno: serr.ee_errno as i32,
        origin: serr.ee_origin,
        icmp_type: serr.ee_type,
        icmp_code: serr.ee_code,
        offender,
    })
}

/// The offender address: `room` bytes at `at`, copied into an aligned
/// `sockaddr_storage` before decoding. `None` when the kernel gave none
/// (`AF_UNSPEC`, e.g. for local errors).
///
/// # Safety
/// `at` is readable for `room` bytes.
unsafe fn read_offender(at: *const u8, room: usize) -> Option<SocketAddr> {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = room.min(mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `at` is readable for `len <= room` bytes (per the contract
    // above), `storage` is writable for `len` bytes, and they do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            at,
            (&mut storage as *mut libc::sockaddr_storage).cast::<u8>(),
            len,
        )
    };
    from_sockaddr_storage(&storage, len as libc::socklen_t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn an_empty_queue_would_block() {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = recv_errqueue(sock.as_raw_fd(), &mut []).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}
