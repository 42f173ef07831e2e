//! [`SocketProxy`]: socket options and names of a [`UdpClient`]'s socket,
//! without the power to send or close (easynetwork's `SocketProxy`).
//!
//! [`UdpClient`]: super::UdpClient

use super::blocking::Shared;
use super::error::{ClientError, ClientResult};
use crate::error::StatusCode;
use crate::udp::AF_INET;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

/// A view of a [`UdpClient`](super::UdpClient)'s socket, from
/// [`UdpClient::socket`](super::UdpClient::socket).
///
/// It reads and sets options and reads names; it cannot send, receive or
/// close. Each call holds the client's send lock, as in easynetwork (so it
/// never runs in the middle of a send), and fails with
/// [`ClientError::Closed`] once the client is closed.
///
/// ```
/// use ruv::client::{BytesProtocol, ClientOptions, UdpClient};
///
/// let peer = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let client = UdpClient::connect(("127.0.0.1", peer.local_addr()?.port()), BytesProtocol, ClientOptions::default())?;
/// let socket = client.socket();
/// socket.set_ttl(7)?;
/// assert_eq!(socket.ttl()?, 7);
/// assert_eq!(socket.get_int_option(libc::IPPROTO_IP, libc::IP_TTL)?, 7);
/// socket.set_broadcast(true)?;
/// assert!(socket.broadcast()?);
/// assert_eq!(socket.peer_addr()?, peer.local_addr()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct SocketProxy<'a> {
    shared: &'a Shared,
}

impl fmt::Debug for SocketProxy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketProxy")
            .field("family", &self.shared.family())
            .field("closed", &self.shared.is_closed())
            .finish()
    }
}

fn inet(addr: socket2::SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EAFNOSUPPORT))
}

impl<'a> SocketProxy<'a> {
    pub(super) fn new(shared: &'a Shared) -> SocketProxy<'a> {
        SocketProxy { shared }
    }

    /// The descriptor (`fileno()`); [`ClientError::Closed`] once closed.
    pub fn fileno(&self) -> ClientResult<RawFd> {
        self.shared.with_socket(|s| Ok(s.as_raw_fd()))
    }

    /// The address family: `AF_INET` or `AF_INET6` (`family`). Known even
    /// after close.
    pub fn family(&self) -> i32 {
        self.shared.family()
    }

    /// The socket type: always `SOCK_DGRAM` (`type`).
    pub fn socket_type(&self) -> i32 {
        libc::SOCK_DGRAM
    }

    /// The protocol number, `IPPROTO_UDP` for a UDP socket (`proto`).
    pub fn protocol(&self) -> ClientResult<i32> {
        self.get_int_option(libc::SOL_SOCKET, libc::SO_PROTOCOL)
    }

    /// The local address (`getsockname()`).
    pub fn local_addr(&self) -> ClientResult<SocketAddr> {
        self.shared.with_socket(|s| inet(s.local_addr()?))
    }

    /// The connected peer's address (`getpeername()`).
    pub fn peer_addr(&self) -> ClientResult<SocketAddr> {
        self.shared.with_socket(|s| inet(s.peer_addr()?))
    }

    /// Reads an integer option (`getsockopt(level, name)`), e.g.
    /// `(libc::SOL_SOCKET, libc::SO_RCVBUF)`.
    pub fn get_int_option(&self, level: i32, name: i32) -> ClientResult<i32> {
        self.shared
            .with_socket(|s| crate::sys::get_int_option(s.as_raw_fd(), level, name))
    }

    /// Sets an integer option (`setsockopt(level, name, value)`).
    pub fn set_int_option(&self, level: i32, name: i32, value: i32) -> ClientResult<()> {
        self.shared
            .with_socket(|s| crate::sys::set_int_option(s.as_raw_fd(), level, name, value))
    }

    /// Reads an option of up to `max_len` bytes
    /// (`getsockopt(level, name, buflen)`); returns the bytes the kernel
    /// wrote.
    pub fn get_option_bytes(&self, level: i32, name: i32, max_len: usize) -> ClientResult<Vec<u8>> {
        self.shared
            .with_socket(|s| crate::sys::get_option_bytes(s.as_raw_fd(), level, name, max_len))
    }

    /// Sets an option from raw bytes (`setsockopt(level, name, bytes)`).
    pub fn set_option_bytes(&self, level: i32, name: i32, value: &[u8]) -> ClientResult<()> {
        self.shared
            .with_socket(|s| crate::sys::set_option_bytes(s.as_raw_fd(), level, name, value))
    }

    /// The unicast TTL: `IP_TTL` on IPv4, `IPV6_UNICAST_HOPS` on IPv6.
    pub fn ttl(&self) -> ClientResult<u32> {
        let v4 = self.family() == AF_INET;
        self.shared
            .with_socket(|s| if v4 { s.ttl_v4() } else { s.unicast_hops_v6() })
    }

    /// Sets the unicast TTL (1 to 255): `IP_TTL` on IPv4,
    /// `IPV6_UNICAST_HOPS` on IPv6.
    pub fn set_ttl(&self, ttl: u32) -> ClientResult<()> {
        if !(1..=255).contains(&ttl) {
            return Err(ClientError::Os(StatusCode::EINVAL));
        }
        let v4 = self.family() == AF_INET;
        self.shared.with_socket(|s| {
            if v4 {
                s.set_ttl_v4(ttl)
            } else {
                s.set_unicast_hops_v6(ttl)
            }
        })
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> ClientResult<bool> {
        self.shared.with_socket(|s| s.broadcast())
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> ClientResult<()> {
        self.shared.with_socket(|s| s.set_broadcast(on))
    }

    /// `SO_RCVBUF` (Linux reports twice the value set, for its bookkeeping).
    pub fn recv_buffer_size(&self) -> ClientResult<usize> {
        self.shared.with_socket(|s| s.recv_buffer_size())
    }

    /// Sets `SO_RCVBUF`.
    pub fn set_recv_buffer_size(&self, bytes: usize) -> ClientResult<()> {
        self.shared.with_socket(|s| s.set_recv_buffer_size(bytes))
    }

    /// `SO_SNDBUF` (Linux reports twice the value set).
    pub fn send_buffer_size(&self) -> ClientResult<usize> {
        self.shared.with_socket(|s| s.send_buffer_size())
    }

    /// Sets `SO_SNDBUF`.
    pub fn set_send_buffer_size(&self, bytes: usize) -> ClientResult<()> {
        self.shared.with_socket(|s| s.set_send_buffer_size(bytes))
    }

    /// Takes the socket's pending error (`SO_ERROR`), e.g. ECONNREFUSED
    /// after an ICMP port-unreachable; `Ok(None)` when there is none.
    pub fn take_error(&self) -> ClientResult<Option<ClientError>> {
        self.shared
            .with_socket(|s| s.take_error())
            .map(|e| e.map(ClientError::from))
    }
}
