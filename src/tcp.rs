//! [`Tcp`]: the TCP handle (libuv's `uv_tcp_t`), a stream: the stream
//! operations themselves live in `src/stream/`; this file creates, binds,
//! opens, connects, listens and accepts, and sets TCP's options.

use crate::adopt::family_of;
use crate::core::kinds::Kind;
use crate::core::state::{Key, LoopState};
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle};
use crate::stream::{self, ReadResult, StreamHandle, StreamState};
use crate::udp::{AF_INET, AF_INET6, AF_UNSPEC};
use crate::{HandleType, Loop};
use bitflags::bitflags;
use socket2::{Domain, Socket, TcpKeepalive, Type};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

bitflags! {
    /// Flags for [`Tcp::bind`] (`uv_tcp_flags`, libuv's values).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct TcpFlags: u32 {
        /// Disable dual-stack support on an IPv6 socket (`IPV6_V6ONLY`).
        const IPV6ONLY = 1;
        /// Set `SO_REUSEPORT` before binding: the kernel spreads incoming
        /// connections over all listeners bound to the address (libuv
        /// 1.49's `UV_TCP_REUSEPORT`).
        const REUSEPORT = 2;
    }
}

/// Keepalive settings remembered until the socket exists.
#[derive(Clone, Copy, Debug)]
struct Keepalive {
    idle: u32,
    interval: u32,
    count: u32,
}

/// Per-handle state in the loop's slab.
pub(crate) struct TcpState {
    pub(crate) stream: StreamState<Tcp>,
    family: Option<i32>,
    /// `EADDRINUSE` from `bind`, reported by `listen`, `connect` and
    /// `sockname` (as libuv defers it).
    bind_error: Option<Error>,
    /// `TCP_NODELAY` asked for before the socket existed.
    nodelay: bool,
    /// Keepalive asked for before the socket existed.
    keepalive: Option<Keepalive>,
}

impl TcpState {
    pub(crate) fn fd(&self) -> Option<RawFd> {
        self.stream.fd()
    }
}

/// A TCP handle (`uv_tcp_t`): a connection or a listener.
///
/// The socket is created lazily — by [`bind`](Tcp::bind),
/// [`connect`](Tcp::connect), [`listen`](Tcp::listen) (which binds to
/// `0.0.0.0:0`), [`accept`](Tcp::accept) or [`open`](Tcp::open) — or at
/// once by [`Tcp::new_with_family`].
///
/// Callbacks never run inside the call that causes them: a connect's
/// outcome arrives in the poll phase (or the next pending phase when it
/// was known at once), write and shutdown callbacks in a pending phase.
///
/// ```
/// use ruv::{Loop, ReadResult, RunMode, Tcp, TcpFlags};
/// let lp = Loop::new()?;
/// let server = Tcp::new(&lp);
/// server.bind("127.0.0.1:0".parse().unwrap(), TcpFlags::empty())?;
/// server.listen(16, |server, status| {
///     status.unwrap();
///     let conn = Tcp::new(server.get_loop());
///     server.accept(&conn).unwrap();
///     conn.read_start(|conn, read| match read {
///         ReadResult::Data(data) => {
///             let echo = data.to_vec();
///             conn.write(&[&echo], |_, status| status.unwrap()).unwrap();
///         }
///         _ => conn.close(|| {}),
///     })
///     .unwrap();
///     server.close(|| {});
/// })?;
/// let client = Tcp::new(&lp);
/// client.connect(server.sockname()?, |client, status| {
///     status.unwrap();
///     client.write(&[b"ping"], |_, status| status.unwrap()).unwrap();
///     client
///         .read_start(|client, read| {
///             assert_eq!(read, ReadResult::Data(b"ping"));
///             client.close(|| {});
///         })
///         .unwrap();
/// })?;
/// lp.run(RunMode::Default)?;
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Tcp {
    handle: Handle,
}

typed_handle!(Tcp);

/// The socket's descriptor, or `-1` while there is none (not created yet,
/// closing, closed): see [`Handle`'s `AsRawFd`](Handle#impl-AsRawFd-for-Handle)
/// for why there is no `AsFd`.
impl AsRawFd for Tcp {
    fn as_raw_fd(&self) -> RawFd {
        self.handle.as_raw_fd()
    }
}

stream::stream_methods!(Tcp);

impl StreamHandle for Tcp {
    const TYPE: HandleType = HandleType::Tcp;
    // A TCP socket raises a writable edge only after a write found no room.
    const STEADY_WRITE_INTEREST: bool = true;

    fn from_key(lp: &Loop, key: Key) -> Tcp {
        Tcp {
            handle: Handle::from_parts(lp.clone(), key, HandleType::Tcp),
        }
    }

    fn stream_of(kind: &mut Kind) -> Option<&mut StreamState<Tcp>> {
        match kind {
            Kind::Tcp(t) => Some(&mut t.stream),
            _ => None,
        }
    }
}

fn tcp_mut(st: &mut LoopState, key: Key) -> Result<&mut TcpState> {
    match &mut st.live_mut(key)?.kind {
        Kind::Tcp(t) => Ok(t),
        _ => Err(Error::ClosedHandle),
    }
}

/// Applies the options asked for before the socket existed.
fn apply_options(t: &TcpState, sock: &Socket) -> Result<()> {
    if t.nodelay {
        sock.set_tcp_nodelay(true)?;
    }
    if let Some(k) = t.keepalive {
        set_keepalive(sock, k)?;
    }
    Ok(())
}

fn set_keepalive(sock: &Socket, k: Keepalive) -> Result<()> {
    let params = TcpKeepalive::new()
        .with_time(Duration::from_secs(k.idle.into()))
        .with_interval(Duration::from_secs(k.interval.into()))
        .with_retries(k.count);
    sock.set_tcp_keepalive(&params)?;
    Ok(())
}

/// Creates the handle's socket for `family` and registers it.
fn create_socket(st: &mut LoopState, key: Key, family: i32) -> Result<()> {
    let domain = if family == AF_INET6 {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::STREAM.nonblocking().cloexec(), None)?;
    apply_options(tcp_mut(st, key)?, &socket)?;
    stream::install_socket::<Tcp>(st, key, socket)?;
    tcp_mut(st, key)?.family = Some(family);
    Ok(())
}

impl Tcp {
    /// Creates a TCP handle without a socket (`uv_tcp_init`).
    #[must_use = "dropping the token does not close the handle: it stays in the loop until closed"]
    pub fn new(lp: &Loop) -> Tcp {
        let kind = Kind::Tcp(Box::new(TcpState {
            stream: StreamState::default(),
            family: None,
            bind_error: None,
            nodelay: false,
            keepalive: None,
        }));
        Tcp {
            handle: Handle::insert(lp, HandleType::Tcp, kind),
        }
    }

    /// Creates a TCP handle for an address family (`uv_tcp_init_ex`):
    /// [`AF_INET`] and [`AF_INET6`] create the socket at once, [`AF_UNSPEC`]
    /// is the same as [`Tcp::new`]; any other value is EINVAL.
    pub fn new_with_family(lp: &Loop, family: i32) -> Result<Tcp> {
        if ![AF_UNSPEC, AF_INET, AF_INET6].contains(&family) {
            return Err(StatusCode::EINVAL.into());
        }
        let tcp = Tcp::new(lp);
        if family != AF_UNSPEC {
            let created = lp.with_deferred(|st, _| create_socket(st, tcp.key(), family));
            if let Err(err) = created {
                lp.state().remove(tcp.key());
                return Err(err);
            }
        }
        Ok(tcp)
    }

    /// Wraps an existing TCP socket — a `std::net::TcpStream`, a
    /// `std::net::TcpListener`, a `socket2::Socket` or an `OwnedFd` — in a
    /// new handle (`uv_tcp_init` + `uv_tcp_open`); see [`Tcp::open`]. On
    /// error the socket is closed.
    pub fn from_socket<S: AsFd + Into<OwnedFd>>(lp: &Loop, socket: S) -> Result<Tcp> {
        let tcp = Tcp::new(lp);
        if let Err(err) = tcp.open(socket) {
            lp.state().remove(tcp.key());
            return Err(err);
        }
        Ok(tcp)
    }

    /// Adopts an existing IPv4 or IPv6 stream socket (`uv_tcp_open`). It
    /// is made non-blocking; the handle owns it from then on and closes it
    /// on close. A connected socket is readable and writable at once; a
    /// listening one may [`listen`](Tcp::listen) (with its callback).
    ///
    /// A Unix domain stream socket is adopted too, as libuv does (it then
    /// has no IP address: [`sockname`](Tcp::sockname) and
    /// [`peername`](Tcp::peername) are EINVAL).
    ///
    /// EBUSY if the handle already has a socket; EEXIST if this loop
    /// already watches the descriptor (it then stays open: whoever watches
    /// it owns it); ENOTSOCK for a non-socket; EINVAL for a socket that is
    /// not a stream socket. On other errors the socket is dropped (and so
    /// closed).
    pub fn open<S: AsFd + Into<OwnedFd>>(&self, socket: S) -> Result<()> {
        let key = self.key();
        let lp = self.get_loop();
        if tcp_mut(&mut lp.state(), key)?.stream.socket.is_some() {
            return Err(StatusCode::EBUSY.into());
        }
        // The caller's `as_fd` and `into` run while the loop state is not
        // borrowed, so they may use the loop themselves.
        // Any stream socket, a Unix one too, as libuv's `uv_tcp_open`
        // takes (its ping-pong test runs TCP handles over a socketpair).
        let family = crate::adopt::adoptable(&socket, Type::STREAM, true)?;
        let socket = Socket::from(socket.into());
        let connected = socket.peer_addr().is_ok();
        lp.with_deferred(|st, _| {
            let t = tcp_mut(st, key)?;
            if t.stream.socket.is_some() {
                // The caller's conversion filled the handle meanwhile.
                return Err(StatusCode::EBUSY.into());
            }
            apply_options(t, &socket)?;
            match stream::try_install::<Tcp>(st, key, socket) {
                Ok(()) => {}
                Err((err, socket)) if err == StatusCode::EEXIST => {
                    // Another handle of this loop watches this very
                    // descriptor and owns it: closing it here would pull
                    // it from under that handle.
                    let _ = socket.into_raw_fd();
                    return Err(err);
                }
                Err((err, _)) => return Err(err),
            }
            let t = tcp_mut(st, key)?;
            t.family = Some(family);
            t.stream.readable = connected;
            t.stream.writable = connected;
            Ok(())
        })
    }

    /// Binds the socket to `addr` (`uv_tcp_bind`), creating it first if
    /// needed. `SO_REUSEADDR` is always set (as libuv: a listener can
    /// rebind while old connections linger in `TIME_WAIT`); `flags` may
    /// hold [`TcpFlags::IPV6ONLY`] and [`TcpFlags::REUSEPORT`].
    ///
    /// As in libuv, an address in use is not reported here: `bind`
    /// returns `Ok` and [`listen`](Tcp::listen), [`sockname`](Tcp::sockname)
    /// return EADDRINUSE, and [`connect`](Tcp::connect) reports it to its
    /// callback. EINVAL for unknown flags, IPV6ONLY with an IPv4 address,
    /// an address of the other family than the socket, or a second bind.
    pub fn bind(&self, addr: SocketAddr, flags: TcpFlags) -> Result<()> {
        let key = self.key();
        self.get_loop().with_deferred(|st, _| {
            tcp_mut(st, key)?;
            if flags.bits() & !TcpFlags::all().bits() != 0 {
                return Err(StatusCode::EINVAL.into());
            }
            let v6 = addr.is_ipv6();
            if flags.contains(TcpFlags::IPV6ONLY) && !v6 {
                return Err(StatusCode::EINVAL.into());
            }
            if tcp_mut(st, key)?.stream.socket.is_none() {
                create_socket(st, key, family_of(&addr))?;
            }
            let t = tcp_mut(st, key)?;
            if t.family != Some(family_of(&addr)) {
                return Err(StatusCode::EINVAL.into());
            }
            let sock = t.stream.socket.as_ref().ok_or(StatusCode::EBADF)?;
            sock.set_reuse_address(true)?;
            if flags.contains(TcpFlags::REUSEPORT) {
                sock.set_reuse_port(true)?;
            }
            if v6 {
                sock.set_only_v6(flags.contains(TcpFlags::IPV6ONLY))?;
            }
            match sock.bind(&addr.into()) {
                Ok(()) => Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => {
                    t.bind_error = Some(StatusCode::EADDRINUSE.into());
                    Ok(())
                }
                Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
                    Err(StatusCode::EINVAL.into())
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    /// Listens for connections (`uv_listen`), binding to `0.0.0.0:0` first
    /// if the handle has no socket. `backlog` goes to `listen(2)` (the
    /// kernel caps it at `net.core.somaxconn`).
    ///
    /// `cb` runs, in the poll phase, once per waiting connection with
    /// `Ok(())`: take it with [`accept`](Tcp::accept). If the callback
    /// does not accept, the listener accepts nothing more until `accept`
    /// is called (libuv's delayed accept); the connections wait in the
    /// backlog. Up to `backlog` connections (at least 32) are accepted per
    /// readiness event, then the listener waits for the next iteration.
    /// Out of descriptors
    /// (EMFILE, ENFILE), the waiting connections are accepted and closed
    /// at once with a descriptor held in reserve (libuv's trick), and `cb`
    /// is not told; other accept failures but a connection that vanished
    /// (ENOBUFS, ENOMEM, …) come to `cb` as `Err` (as in libuv 1.44). A
    /// second `listen` replaces the callback.
    ///
    /// EADDRINUSE from a [`bind`](Tcp::bind) to an address in use.
    pub fn listen(&self, backlog: i32, cb: impl FnMut(&Tcp, Result<()>) + 'static) -> Result<()> {
        let key = self.key();
        let mut cb = Some(Box::new(cb) as stream::ConnectionCb<Tcp>);
        let result = self.get_loop().with_deferred(|st, deferred| {
            let t = tcp_mut(st, key)?;
            if let Some(err) = t.bind_error {
                return Err(err);
            }
            if t.stream.socket.is_none() {
                create_socket(st, key, AF_INET)?;
            }
            let cb = cb.take().ok_or(StatusCode::EINVAL)?;
            stream::start_listening::<Tcp>(st, deferred, key, backlog, cb)
        });
        drop(cb);
        result
    }

    /// Takes the connection a listener's callback was told about into
    /// `client`, a new handle of the same loop without a socket
    /// (`uv_accept`). Call it from the connection callback, or later
    /// (then the listener resumes accepting afterwards).
    ///
    /// EAGAIN when no connection waits (e.g. a second `accept` in one
    /// callback); EBUSY when `client` already has a socket; EINVAL when
    /// `client` belongs to another loop.
    pub fn accept(&self, client: &Tcp) -> Result<()> {
        if !self.get_loop().same_loop(client.get_loop()) {
            return Err(StatusCode::EINVAL.into());
        }
        let (server, ckey) = (self.key(), client.key());
        self.get_loop().with_deferred(|st, _| {
            if tcp_mut(st, ckey)?.stream.socket.is_some() {
                return Err(StatusCode::EBUSY.into());
            }
            let family = tcp_mut(st, server)?.family;
            let socket = Socket::from(stream::accept_into::<Tcp>(st, server)?);
            apply_options(tcp_mut(st, ckey)?, &socket)?;
            stream::install_socket::<Tcp>(st, ckey, socket)?;
            let t = tcp_mut(st, ckey)?;
            t.family = family;
            t.stream.readable = true;
            t.stream.writable = true;
            Ok(())
        })
    }

    /// Connects to `addr` (`uv_tcp_connect`), creating the socket for the
    /// address's family if needed. `cb` gets the outcome later, from the
    /// loop — never from inside `connect`: `Ok(())`, or e.g. ECONNREFUSED
    /// (from `SO_ERROR`), EADDRINUSE from an earlier `bind`, ECANCELED when
    /// the handle is closed first. A failed connect does not close the
    /// handle; writes queued behind it are cancelled (ECANCELED) after `cb`.
    ///
    /// Writes and [`read_start`](Tcp::read_start) are allowed while the
    /// connect is pending: writes wait for it.
    ///
    /// EALREADY while a connect is pending; errors `connect(2)` reports at
    /// once other than ECONNREFUSED (EISCONN, ENETUNREACH, …) are returned
    /// and `cb` is dropped.
    pub fn connect(
        &self,
        addr: SocketAddr,
        cb: impl FnOnce(&Tcp, Result<()>) + 'static,
    ) -> Result<()> {
        let key = self.key();
        let mut cb = Some(Box::new(cb) as stream::ReqCb<Tcp>);
        let result = self.get_loop().with_deferred(|st, _| {
            let t = tcp_mut(st, key)?;
            if t.stream.connect_pending() {
                return Err(StatusCode::EALREADY.into());
            }
            let known = match t.bind_error {
                Some(err) => Some(Err(err)),
                None => {
                    if t.stream.socket.is_none() {
                        create_socket(st, key, family_of(&addr))?;
                    }
                    let t = tcp_mut(st, key)?;
                    let sock = t.stream.socket.as_ref().ok_or(StatusCode::EBADF)?;
                    match sock.connect(&addr.into()) {
                        // Even a connect done at once is learnt from the
                        // writable event, as libuv does.
                        Ok(()) => None,
                        Err(e) => match e.raw_os_error() {
                            Some(libc::EINPROGRESS | libc::EINTR) => None,
                            Some(libc::ECONNREFUSED) => Some(Err(StatusCode::ECONNREFUSED.into())),
                            _ => return Err(e.into()),
                        },
                    }
                }
            };
            let cb = cb.take().ok_or(StatusCode::EINVAL)?;
            stream::begin_connect::<Tcp>(st, key, cb, known)
        });
        drop(cb);
        result
    }

    /// Turns Nagle's algorithm off (`true`) or on (`uv_tcp_nodelay`).
    /// Without a socket yet the setting is applied when it is created.
    pub fn nodelay(&self, on: bool) -> Result<()> {
        let key = self.key();
        self.get_loop().with_deferred(|st, _| {
            let t = tcp_mut(st, key)?;
            if let Some(sock) = t.stream.socket.as_ref() {
                sock.set_tcp_nodelay(on)?;
            }
            t.nodelay = on;
            Ok(())
        })
    }

    /// Turns TCP keepalive on, probing after `delay` seconds of silence,
    /// or off (`uv_tcp_keepalive`): as libuv, probes then go every second
    /// and 10 unanswered ones drop the connection; see
    /// [`Tcp::keepalive_ex`]. EINVAL for `delay` 0 when turning on.
    pub fn keepalive(&self, on: bool, delay: u32) -> Result<()> {
        self.keepalive_ex(on, delay, 1, 10)
    }

    /// Keepalive with every parameter (`uv_tcp_keepalive_ex`): the first
    /// probe after `idle` seconds of silence, then every `interval`
    /// seconds, `count` unanswered probes dropping the connection. Without
    /// a socket yet the setting is applied when it is created.
    ///
    /// EINVAL for a zero parameter when turning on.
    pub fn keepalive_ex(&self, on: bool, idle: u32, interval: u32, count: u32) -> Result<()> {
        if on && (idle == 0 || interval == 0 || count == 0) {
            return Err(StatusCode::EINVAL.into());
        }
        let key = self.key();
        let settings = on.then_some(Keepalive {
            idle,
            interval,
            count,
        });
        self.get_loop().with_deferred(|st, _| {
            let t = tcp_mut(st, key)?;
            if let Some(sock) = t.stream.socket.as_ref() {
                match settings {
                    Some(k) => set_keepalive(sock, k)?,
                    None => sock.set_keepalive(false)?,
                }
            }
            t.keepalive = settings;
            Ok(())
        })
    }

    /// Closes the handle with a reset (`uv_tcp_close_reset`): the socket
    /// lingers 0 s, so the peer's reads fail with ECONNRESET instead of
    /// seeing the end of the stream. Otherwise as [`Handle::close`].
    ///
    /// EINVAL while a [`shutdown`](Tcp::shutdown) is pending (the handle
    /// is then not closed).
    pub fn close_reset(&self, cb: impl FnOnce() + 'static) -> Result<()> {
        let key = self.key();
        let marked = self.get_loop().with_deferred(|st, _| {
            let t = tcp_mut(st, key)?;
            if t.stream.shutdown_pending() {
                return Err(StatusCode::EINVAL.into());
            }
            t.stream.reset_on_close = true;
            Ok(())
        });
        match marked {
            Ok(()) => {
                self.close(cb);
                Ok(())
            }
            Err(err) => {
                drop(cb);
                Err(err)
            }
        }
    }

    /// The socket's address family: `Some(AF_INET)`, `Some(AF_INET6)`,
    /// `Some(AF_UNIX)` for an adopted Unix socket, or `None` before the
    /// socket exists.
    pub fn family(&self) -> Result<Option<i32>> {
        self.with_state(|t| t.family)
    }

    /// The local address (`uv_tcp_getsockname`). EADDRINUSE after a
    /// [`bind`](Tcp::bind) to an address in use; EBADF before the socket
    /// exists.
    pub fn sockname(&self) -> Result<SocketAddr> {
        self.with_socket(true, |s| s.local_addr())
    }

    /// The connected peer's address (`uv_tcp_getpeername`). ENOTCONN when
    /// not connected; EBADF before the socket exists.
    pub fn peername(&self) -> Result<SocketAddr> {
        self.with_socket(false, |s| s.peer_addr())
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut TcpState) -> R) -> Result<R> {
        let mut st = self.get_loop().state();
        Ok(f(tcp_mut(&mut st, self.key())?))
    }

    fn with_socket(
        &self,
        bind_error_first: bool,
        f: impl FnOnce(&Socket) -> std::io::Result<socket2::SockAddr>,
    ) -> Result<SocketAddr> {
        let mut st = self.get_loop().state();
        let t = tcp_mut(&mut st, self.key())?;
        if let (true, Some(err)) = (bind_error_first, t.bind_error) {
            return Err(err);
        }
        let sock = t.stream.socket.as_ref().ok_or(StatusCode::EBADF)?;
        f(sock)?
            .as_socket()
            .ok_or(Error::Status(StatusCode::EINVAL))
    }
}
