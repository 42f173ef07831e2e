//! UDP generic segmentation (`UDP_SEGMENT`, GSO) and receive offload
//! (`UDP_GRO`): many datagrams in one system call. Support is probed once;
//! callers fall back to one datagram per message when it is missing.

use super::sockaddr::to_raw;
use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::OnceLock;

/// Most segments the kernel accepts in one GSO send (`UDP_MAX_SEGMENTS`).
pub(crate) const GSO_MAX_SEGMENTS: usize = 64;

/// Whether the kernel takes `UDP_SEGMENT` (Linux 4.18+), probed once.
pub(crate) fn gso_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let Ok(sock) = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
        else {
            return false;
        };
        use std::os::fd::AsRawFd;
        super::set_int_option(sock.as_raw_fd(), libc::SOL_UDP, libc::UDP_SEGMENT, 1200).is_ok()
    })
}

/// Turns receive offload on or off; Err(ENOPROTOOPT) on kernels without it.
pub(crate) fn set_gro(fd: RawFd, on: bool) -> io::Result<()> {
    super::set_int_option(fd, libc::SOL_UDP, libc::UDP_GRO, i32::from(on))
}

/// Whether receive offload is on for the socket (set before ruv had it);
/// false on kernels without `UDP_GRO`.
pub(crate) fn gro_enabled(fd: RawFd) -> bool {
    super::get_int_option(fd, libc::SOL_UDP, libc::UDP_GRO).is_ok_and(|on| on != 0)
}

/// Room for one `UDP_SEGMENT` control message.
#[repr(C, align(8))]
struct SegmentCmsg([u8; 32]);

/// Sends `data` as datagrams of `segment` bytes (the last may be shorter)
/// in one `sendmsg` with a `UDP_SEGMENT` control message.
pub(crate) fn send_segments(
    fd: RawFd,
    data: &[u8],
    segment: u16,
    addr: Option<&SocketAddr>,
) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let dest = addr.map(to_raw);
    let mut control = SegmentCmsg([0; 32]);
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    if let Some((raw, len)) = dest.as_ref() {
        msg.msg_name = raw.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = *len;
    }
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(mem::size_of::<u16>() as u32) } as _;
    // SAFETY: msg_control points at 32 aligned bytes, enough for one cmsg
    // with a u16 payload (CMSG_SPACE(2) is 24 on Linux), so the first header
    // and its data lie inside `control`.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_UDP;
        (*cmsg).cmsg_type = libc::UDP_SEGMENT;
        (*cmsg).cmsg_len = libc::CMSG_LEN(mem::size_of::<u16>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<u16>(), segment);
    }
    // SAFETY: `msg` points at `iov` (the caller's slice), `dest` and
    // `control`, all alive for the call.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    super::byte_count(n as i64)
}

/// The `UDP_GRO` segment size in a received message's control data, if any.
///
/// # Safety
/// `msg` was just filled by `recvmsg`/`recvmmsg`: its control pointer and
/// length describe the control buffer the kernel wrote.
pub(crate) unsafe fn gro_segment(msg: &libc::msghdr) -> Option<usize> {
    // SAFETY: per the contract above.
    let (data, len) = unsafe {
        super::find_cmsg(msg, |level, ty| {
            level == libc::SOL_UDP && ty == libc::UDP_GRO
        })
    }?;
    if len < mem::size_of::<libc::c_int>() {
        return None;
    }
    // SAFETY: the header covers a c_int of payload, read unaligned.
    let size = unsafe { std::ptr::read_unaligned(data.cast::<libc::c_int>()) };
    usize::try_from(size).ok().filter(|&s| s > 0)
}
