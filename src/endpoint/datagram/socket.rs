//! [`TransportSocket`]: the restricted view of a transport's socket
//! (asyncio's `TransportSocket`, `get_extra_info('socket')`).

use crate::error::{Result, StatusCode};
use crate::udp::Membership;
use crate::Udp;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

/// The transport's socket, restricted as asyncio's `TransportSocket` is:
/// addresses and options, but no sending, receiving or closing. Every call
/// is [`Error::ClosedHandle`](crate::Error::ClosedHandle) once the transport's socket is closing.
#[derive(Clone, Debug)]
pub struct TransportSocket {
    udp: Udp,
}

/// The socket's descriptor, or `-1` once the socket is closing or closed (see
/// [`DatagramTransport`](super::DatagramTransport)'s `AsRawFd`).
impl AsRawFd for TransportSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.udp.as_raw_fd()
    }
}

impl TransportSocket {
    pub(super) fn new(udp: Udp) -> TransportSocket {
        TransportSocket { udp }
    }

    /// The descriptor, for options this type does not offer (`getsockopt`
    /// / `setsockopt`). Do not close it, read from it or send on it.
    pub fn fileno(&self) -> Result<RawFd> {
        self.udp.fileno()
    }

    /// `AF_INET` or `AF_INET6`.
    pub fn family(&self) -> Result<i32> {
        self.udp.family()?.ok_or(StatusCode::EBADF.into())
    }

    /// The current local address (`getsockname`).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.udp.sockname()
    }

    /// The connected peer (`getpeername`); ENOTCONN when not connected.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        self.udp.peername()
    }

    /// `SO_SNDBUF` in bytes.
    pub fn send_buffer_size(&self) -> Result<usize> {
        self.udp.send_buffer_size()
    }

    /// Sets `SO_SNDBUF` (Linux doubles it); EINVAL for 0.
    pub fn set_send_buffer_size(&self, bytes: usize) -> Result<()> {
        self.udp.set_send_buffer_size(bytes)
    }

    /// `SO_RCVBUF` in bytes.
    pub fn recv_buffer_size(&self) -> Result<usize> {
        self.udp.recv_buffer_size()
    }

    /// Sets `SO_RCVBUF` (Linux doubles it); EINVAL for 0.
    pub fn set_recv_buffer_size(&self, bytes: usize) -> Result<()> {
        self.udp.set_recv_buffer_size(bytes)
    }

    /// `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> Result<()> {
        self.udp.set_broadcast(on)
    }

    /// Unicast TTL / hop limit, 1 to 255.
    pub fn set_ttl(&self, ttl: i32) -> Result<()> {
        self.udp.set_ttl(ttl)
    }

    /// Joins or leaves a multicast group (see [`Udp::set_membership`]).
    pub fn set_membership(
        &self,
        group: &str,
        interface: Option<&str>,
        membership: Membership,
    ) -> Result<()> {
        self.udp.set_membership(group, interface, membership)
    }

    /// Multicast loopback (see [`Udp::set_multicast_loop`]).
    pub fn set_multicast_loop(&self, on: bool) -> Result<()> {
        self.udp.set_multicast_loop(on)
    }

    /// Multicast TTL / hop limit, 0 to 255.
    pub fn set_multicast_ttl(&self, ttl: i32) -> Result<()> {
        self.udp.set_multicast_ttl(ttl)
    }

    /// The interface for outgoing multicast (see
    /// [`Udp::set_multicast_interface`]).
    pub fn set_multicast_interface(&self, interface: Option<&str>) -> Result<()> {
        self.udp.set_multicast_interface(interface)
    }
}
