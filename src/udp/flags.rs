//! UDP flags and membership operations, with libuv's values.

use bitflags::bitflags;

bitflags! {
    /// UDP configuration and status flags (`uv_udp_flags`, libuv's values;
    /// python-uv's `UDPFlags`).
    ///
    /// [`Udp::bind`](crate::Udp::bind) takes `IPV6ONLY`, `REUSEADDR`,
    /// `REUSEPORT` and `LINUX_RECVERR`; received datagrams carry `PARTIAL`.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct UdpFlags: u32 {
        /// Disable dual-stack support on an IPv6 socket (`IPV6_V6ONLY`).
        const IPV6ONLY = 1;
        /// The datagram was truncated: the buffer was too small and the
        /// kernel dropped the rest.
        const PARTIAL = 2;
        /// Set `SO_REUSEADDR` before binding. On Linux this lets several
        /// sockets bind the same address; for unicast only the last one
        /// receives, in effect stealing the port.
        const REUSEADDR = 4;
        /// The datagram is one of a batch received with recvmmsg.
        const MMSG_CHUNK = 8;
        /// The batch buffer of a recvmmsg read may now be freed.
        const MMSG_FREE = 16;
        /// Ask the kernel to report ICMP errors (`IP_RECVERR`/`IPV6_RECVERR`),
        /// also on unconnected sockets: each one reaches the receive
        /// callback as a plain error and then, from the socket's error
        /// queue, as [`Error::Queued`](crate::Error::Queued), the address it
        /// concerns told by [`Udp::queued_error`](crate::Udp::queued_error). In libuv's `recv_cb` flags it marks an
        /// error-queue report.
        const LINUX_RECVERR = 32;
        /// Set `SO_REUSEPORT` before binding: the kernel spreads datagrams
        /// over all sockets bound to the address.
        const REUSEPORT = 64;
        /// Receive in batches with recvmmsg (libuv's `UV_UDP_RECVMMSG`).
        const RECVMMSG = 256;
    }
}

impl UdpFlags {
    /// The flags [`Udp::bind`](crate::Udp::bind) accepts.
    pub const BIND_FLAGS: UdpFlags = UdpFlags::IPV6ONLY
        .union(UdpFlags::REUSEADDR)
        .union(UdpFlags::REUSEPORT)
        .union(UdpFlags::LINUX_RECVERR);
}

/// Join or leave a multicast group (`uv_membership`, libuv's values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Membership {
    /// `UV_LEAVE_GROUP`.
    LeaveGroup = 0,
    /// `UV_JOIN_GROUP`.
    JoinGroup = 1,
}
