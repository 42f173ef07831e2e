//! [`ConnectionOptions`] and [`ServerOptions`]: the keyword arguments of
//! asyncio's `create_connection` and `create_server`.

use std::os::fd::OwnedFd;
use std::time::Duration;

/// How [`create_connection`](super::create_connection) makes its
/// connection. Start from [`remote`](Self::remote) or
/// [`socket`](Self::socket) and chain the `with_*` setters.
///
/// | field | asyncio | meaning |
/// | --- | --- | --- |
/// | `host`, `port` | `host=`, `port=` | resolve (literals at once, names on a helper thread), then connect to the results in turn |
/// | `family`, `proto`, `flags` | the same | restrict resolution (`AF_*`, `IPPROTO_*`, `AI_*`) |
/// | `local_addr` | `local_addr=(host, port)` | resolve, bind each attempt to the first local address of its family |
/// | `happy_eyeballs_delay` | `happy_eyeballs_delay=` | start the next attempt after this delay if the current one has not finished (RFC 8305 suggests 250 ms); `None`: one at a time |
/// | `interleave` | `interleave=` | reorder the addresses, alternating families after the first `interleave` of the first family; `None` is 1 when a delay is given, else no reordering |
/// | `sock` | `sock=` | an already connected stream socket (TCP or Unix); excludes every other option |
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// The host to connect to.
    pub host: Option<String>,
    /// The port to connect to.
    pub port: u16,
    /// Address family: 0 (any), `AF_INET` or `AF_INET6`.
    pub family: i32,
    /// `ai_protocol` for resolution.
    pub proto: i32,
    /// getaddrinfo flags (`AI_*`).
    pub flags: i32,
    /// Host and port to bind to before connecting.
    pub local_addr: Option<(String, u16)>,
    /// Happy eyeballs' delay between attempts.
    pub happy_eyeballs_delay: Option<Duration>,
    /// Happy eyeballs' first-family count.
    pub interleave: Option<usize>,
    /// An already connected stream socket.
    pub sock: Option<OwnedFd>,
}

impl ConnectionOptions {
    /// Options that connect to `host` and `port`.
    pub fn remote(host: impl Into<String>, port: u16) -> ConnectionOptions {
        ConnectionOptions {
            host: Some(host.into()),
            port,
            ..ConnectionOptions::default()
        }
    }

    /// Options that use an already connected socket.
    pub fn socket(sock: impl Into<OwnedFd>) -> ConnectionOptions {
        ConnectionOptions {
            sock: Some(sock.into()),
            ..ConnectionOptions::default()
        }
    }

    /// Sets `family`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_family(mut self, family: i32) -> ConnectionOptions {
        self.family = family;
        self
    }

    /// Sets `proto`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_proto(mut self, proto: i32) -> ConnectionOptions {
        self.proto = proto;
        self
    }

    /// Sets `flags`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_flags(mut self, flags: i32) -> ConnectionOptions {
        self.flags = flags;
        self
    }

    /// Sets `local_addr`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_local_addr(mut self, host: impl Into<String>, port: u16) -> ConnectionOptions {
        self.local_addr = Some((host.into(), port));
        self
    }

    /// Sets `happy_eyeballs_delay`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_happy_eyeballs_delay(mut self, delay: Duration) -> ConnectionOptions {
        self.happy_eyeballs_delay = Some(delay);
        self
    }

    /// Sets `interleave`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_interleave(mut self, interleave: usize) -> ConnectionOptions {
        self.interleave = Some(interleave);
        self
    }

    pub(super) fn has_socket_modifiers(&self) -> bool {
        self.host.is_some()
            || self.port != 0
            || self.family != 0
            || self.proto != 0
            || self.flags != 0
            || self.local_addr.is_some()
            || self.happy_eyeballs_delay.is_some()
            || self.interleave.is_some()
    }
}

/// How [`create_server`](super::create_server) makes its listening
/// sockets. Start from [`Default`] (every interface, port 0) or
/// [`ServerOptions::new`].
///
/// | field | asyncio | meaning |
/// | --- | --- | --- |
/// | `hosts` | `host=` (one or a sequence) | addresses to listen on; empty: every interface, one socket per family (`0.0.0.0` and `::`) |
/// | `port` | `port=` | 0 picks a free port (per socket) |
/// | `family`, `flags` | the same | restrict resolution |
/// | `backlog` | `backlog=100` | `listen(2)`'s backlog |
/// | `reuse_address` | `reuse_address=` (on by default on Unix) | `SO_REUSEADDR` |
/// | `reuse_port` | `reuse_port=` | `SO_REUSEPORT` |
/// | `start_serving` | `start_serving=True` | listen at once; otherwise at [`Server::start_serving`](super::Server::start_serving) |
/// | `sock` | `sock=` | an existing bound (or listening) stream socket, TCP or Unix, used as it is; excludes `hosts`, `port`, `family`, `flags`, `reuse_address` off and `reuse_port` |
///
/// IPv6 sockets get `IPV6_V6ONLY`, as in asyncio, so `::` and `0.0.0.0`
/// can both listen on one port.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Hosts to listen on (empty: every interface).
    pub hosts: Vec<String>,
    /// The port.
    pub port: u16,
    /// Address family: 0 (any), `AF_INET` or `AF_INET6`.
    pub family: i32,
    /// getaddrinfo flags (`AI_*`); `AI_PASSIVE` is always added.
    pub flags: i32,
    /// `listen(2)` backlog.
    pub backlog: i32,
    /// `SO_REUSEADDR`.
    pub reuse_address: bool,
    /// `SO_REUSEPORT`.
    pub reuse_port: bool,
    /// Listen at once.
    pub start_serving: bool,
    /// An existing bound stream socket.
    pub sock: Option<OwnedFd>,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            hosts: Vec::new(),
            port: 0,
            family: 0,
            flags: 0,
            backlog: 100,
            reuse_address: true,
            reuse_port: false,
            start_serving: true,
            sock: None,
        }
    }
}

impl ServerOptions {
    /// Options that listen on `host` and `port`.
    pub fn new(host: impl Into<String>, port: u16) -> ServerOptions {
        ServerOptions {
            hosts: vec![host.into()],
            port,
            ..ServerOptions::default()
        }
    }

    /// Adds a host to listen on.
    #[must_use = "a setter returns the changed options"]
    pub fn with_host(mut self, host: impl Into<String>) -> ServerOptions {
        self.hosts.push(host.into());
        self
    }

    /// Sets `port`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_port(mut self, port: u16) -> ServerOptions {
        self.port = port;
        self
    }

    /// Sets `family`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_family(mut self, family: i32) -> ServerOptions {
        self.family = family;
        self
    }

    /// Sets `flags`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_flags(mut self, flags: i32) -> ServerOptions {
        self.flags = flags;
        self
    }

    /// Sets `backlog`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_backlog(mut self, backlog: i32) -> ServerOptions {
        self.backlog = backlog;
        self
    }

    /// Sets `reuse_address`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_reuse_address(mut self, on: bool) -> ServerOptions {
        self.reuse_address = on;
        self
    }

    /// Sets `reuse_port`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_reuse_port(mut self, on: bool) -> ServerOptions {
        self.reuse_port = on;
        self
    }

    /// Options that serve on an existing bound stream socket.
    pub fn socket(sock: impl Into<OwnedFd>) -> ServerOptions {
        ServerOptions {
            sock: Some(sock.into()),
            ..ServerOptions::default()
        }
    }

    /// Whether an option that shapes a new socket is set ("sock excludes
    /// them").
    pub(super) fn has_socket_modifiers(&self) -> bool {
        !self.hosts.is_empty()
            || self.port != 0
            || self.family != 0
            || self.flags != 0
            || !self.reuse_address
            || self.reuse_port
    }

    /// Sets `start_serving`.
    #[must_use = "a setter returns the changed options"]
    pub fn with_start_serving(mut self, on: bool) -> ServerOptions {
        self.start_serving = on;
        self
    }
}
