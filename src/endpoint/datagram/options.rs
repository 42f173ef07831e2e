//! [`EndpointOptions`]: the keyword arguments of asyncio's
//! `create_datagram_endpoint`.

use std::os::fd::OwnedFd;

/// How [`create_datagram_endpoint`](super::create_datagram_endpoint) makes
/// its socket. `Default` is "nothing given", which is an error on its own:
/// give an address, a family or a socket.
///
/// | field | asyncio | meaning |
/// | --- | --- | --- |
/// | `local_addr` | `local_addr=(host, port)` | resolve, then bind to it |
/// | `remote_addr` | `remote_addr=(host, port)` | resolve, then connect to it (the default destination of [`sendto`](super::DatagramTransport::sendto)) |
/// | `family` | `family=` | `AF_UNSPEC` (0), `AF_INET` or `AF_INET6`: restricts resolution; with no address, the family of an unbound socket |
/// | `proto` | `proto=` | `ai_protocol` for resolution and the socket's protocol (0: UDP) |
/// | `flags` | `flags=` | `ai_flags` for resolution (`AI_*`, see [`crate::dns`]) |
/// | `reuse_port` | `reuse_port=True` | `SO_REUSEPORT` before binding |
/// | `allow_broadcast` | `allow_broadcast=True` | `SO_BROADCAST`; the socket is then *not* connected to `remote_addr`, which stays the default destination (replies to a broadcast come from other addresses) |
/// | `sock` | `sock=` | an existing IPv4/IPv6 datagram socket to use as is; excludes every other option |
///
/// `SO_REUSEADDR` is never set: on Linux it lets any other socket (of any
/// process of the same user) bind the same address and port and steal the
/// datagrams meant for this one. CPython removed `reuse_address` for that
/// reason; use `reuse_port`, which the kernel restricts to sockets of the
/// same user that all ask for it.
///
/// Hosts that are IP literals (IPv6 with an optional `%zone`) never touch
/// the resolver; other hosts are resolved on a helper thread
/// ([`crate::dns::getaddrinfo`]).
///
/// The struct is `#[non_exhaustive]` (asyncio may grow keywords): start
/// from [`Default`], [`local`](Self::local), [`remote`](Self::remote) or
/// [`socket`](Self::socket) and chain the `with_*` setters:
///
/// ```
/// use ruv::endpoint::EndpointOptions;
/// let options = EndpointOptions::local("127.0.0.1", 0)
///     .with_reuse_port(true)
///     .with_family(ruv::udp::AF_INET);
/// assert!(options.reuse_port);
/// ```
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct EndpointOptions {
    /// Host and port to bind to.
    pub local_addr: Option<(String, u16)>,
    /// Host and port to connect to.
    pub remote_addr: Option<(String, u16)>,
    /// Address family: 0 (any), `AF_INET` or `AF_INET6`.
    pub family: i32,
    /// Protocol: 0 (UDP) or an `IPPROTO_*` value.
    pub proto: i32,
    /// getaddrinfo flags (`AI_*`).
    pub flags: i32,
    /// Set `SO_REUSEPORT` before binding.
    pub reuse_port: bool,
    /// Set `SO_BROADCAST`.
    pub allow_broadcast: bool,
    /// An existing datagram socket — any socket converted into an
    /// [`OwnedFd`], e.g. `std::net::UdpSocket` or `socket2::Socket` with
    /// `.into()`. The endpoint owns it from then on; on error it is closed.
    pub sock: Option<OwnedFd>,
}

impl EndpointOptions {
    /// Options that bind to `host` and `port`.
    pub fn local(host: impl Into<String>, port: u16) -> EndpointOptions {
        EndpointOptions {
            local_addr: Some((host.into(), port)),
            ..EndpointOptions::default()
        }
    }

    /// Options that connect to `host` and `port`.
    pub fn remote(host: impl Into<String>, port: u16) -> EndpointOptions {
        EndpointOptions {
            remote_addr: Some((host.into(), port)),
            ..EndpointOptions::default()
        }
    }

    /// Options that use an existing socket.
    pub fn socket(sock: impl Into<OwnedFd>) -> EndpointOptions {
        EndpointOptions {
            sock: Some(sock.into()),
            ..EndpointOptions::default()
        }
    }

    /// Sets `local_addr`: bind to `host` and `port`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_local_addr(mut self, host: impl Into<String>, port: u16) -> EndpointOptions {
        self.local_addr = Some((host.into(), port));
        self
    }

    /// Sets `remote_addr`: connect to `host` and `port`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_remote_addr(mut self, host: impl Into<String>, port: u16) -> EndpointOptions {
        self.remote_addr = Some((host.into(), port));
        self
    }

    /// Sets `family`: 0 (any), `AF_INET` or `AF_INET6`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_family(mut self, family: i32) -> EndpointOptions {
        self.family = family;
        self
    }

    /// Sets `proto`: 0 (UDP) or an `IPPROTO_*` value.
    #[must_use = "a setter returns the changed options"]
    pub fn with_proto(mut self, proto: i32) -> EndpointOptions {
        self.proto = proto;
        self
    }

    /// Sets `flags`: getaddrinfo's `AI_*` bits.
    #[must_use = "a setter returns the changed options"]
    pub fn with_flags(mut self, flags: i32) -> EndpointOptions {
        self.flags = flags;
        self
    }

    /// Sets `reuse_port` (`SO_REUSEPORT` before binding).
    #[must_use = "a setter returns the changed options"]
    pub fn with_reuse_port(mut self, reuse_port: bool) -> EndpointOptions {
        self.reuse_port = reuse_port;
        self
    }

    /// Sets `allow_broadcast` (`SO_BROADCAST`).
    #[must_use = "a setter returns the changed options"]
    pub fn with_allow_broadcast(mut self, allow_broadcast: bool) -> EndpointOptions {
        self.allow_broadcast = allow_broadcast;
        self
    }

    /// Sets `sock`: use this existing datagram socket.
    #[must_use = "a setter returns the changed options"]
    pub fn with_sock(mut self, sock: impl Into<OwnedFd>) -> EndpointOptions {
        self.sock = Some(sock.into());
        self
    }

    /// Whether any option other than `sock` is set ("sock excludes every
    /// other option").
    pub(super) fn has_socket_modifiers(&self) -> bool {
        self.local_addr.is_some()
            || self.remote_addr.is_some()
            || self.family != 0
            || self.proto != 0
            || self.flags != 0
            || self.reuse_port
            || self.allow_broadcast
    }
}
