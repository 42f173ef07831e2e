//! [`Udp`]: the UDP handle (libuv's `uv_udp_t`, python-uv's `uv.UDP`).
//!
//! The API is split by concern: this file creates, binds, opens and
//! connects; `send.rs` sends; `recv.rs` receives; `options.rs` holds the
//! multicast, broadcast, TTL and buffer-size setters.

mod batch;
mod errqueue;
mod flags;
mod offload;
mod options;
mod recv;
mod send;
mod sink;

pub use errqueue::{ErrorOrigin, QueuedError};
pub use flags::{Membership, UdpFlags};
pub use offload::gso_supported;
pub use recv::{Datagram, RecvMeta};
pub use send::SendRequest;

pub(crate) use recv::dispatch_read;
pub(crate) use send::{finish_close, requeue_completions, run_completions};

use crate::adopt::family_of;
use crate::core::kinds::Kind;
use crate::core::run::IoEvent;
use crate::core::state::{Deferred, Key, LoopState};
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle};
use crate::{HandleType, Loop};
use mio::unix::SourceFd;
use mio::Interest;
use socket2::{Domain, Socket, Type};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

/// `AF_UNSPEC`: no address family yet (the socket is created lazily).
pub const AF_UNSPEC: i32 = libc::AF_UNSPEC;
/// `AF_INET`: IPv4.
pub const AF_INET: i32 = libc::AF_INET;
/// `AF_INET6`: IPv6.
pub const AF_INET6: i32 = libc::AF_INET6;

/// What UDP keeps once per loop.
#[derive(Default)]
pub(crate) struct PerLoop {
    /// The receive batch handles share when they did not ask for batching
    /// of their own: one hot buffer for the whole loop. A handle left with
    /// undelivered datagrams keeps the batch and the loop makes a new one.
    shared_batch: Option<Box<batch::Batch>>,
}

/// Per-handle state in the loop's slab.
pub(crate) struct UdpState {
    socket: Option<Socket>,
    family: Option<i32>,
    connected: bool,
    recv: recv::RecvState,
    send: send::SendState,
    /// Write interest is registered (only while sends wait in the queue).
    write_interest: bool,
}

impl UdpState {
    pub(crate) fn fd(&self) -> Option<RawFd> {
        self.socket.as_ref().map(|s| s.as_raw_fd())
    }

    /// Whether the handle already read in poll phase `iteration` (an event
    /// served it before its turn on the ready list).
    pub(crate) fn read_in(&self, iteration: u64) -> bool {
        self.recv.read_in(iteration)
    }
}

/// A UDP handle (`uv_udp_t`).
///
/// The socket is created lazily: by [`bind`](Udp::bind),
/// [`open`](Udp::open), [`connect`](Udp::connect), the first send or
/// [`receive_start`](Udp::receive_start) (which bind to `0.0.0.0:0` first),
/// or at once by [`Udp::with_family`].
///
/// ```
/// use ruv::{Loop, RunMode, Udp, UdpFlags};
/// let lp = Loop::new()?;
/// let server = Udp::new(&lp);
/// server.bind("127.0.0.1:0".parse().unwrap(), UdpFlags::empty())?;
/// let addr = server.sockname()?;
/// server.receive_start(|udp, result| {
///     let datagram = result.unwrap();
///     assert_eq!(datagram.data, b"ping");
///     udp.close(|| {});
/// })?;
/// let client = Udp::new(&lp);
/// client.send(&[b"ping"], Some(addr), |req, status| {
///     status.unwrap();
///     req.handle().close(|| {});
/// })?;
/// lp.run(RunMode::Default)?;
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Udp {
    handle: Handle,
}

typed_handle!(Udp);

/// The socket's descriptor, or `-1` while there is none (not created yet,
/// closing, closed): see [`Handle`'s `AsRawFd`](Handle#impl-AsRawFd-for-Handle)
/// for why there is no `AsFd`.
impl AsRawFd for Udp {
    fn as_raw_fd(&self) -> RawFd {
        self.handle.as_raw_fd()
    }
}

impl Udp {
    /// Creates a UDP handle without a socket (`uv_udp_init`).
    #[must_use = "dropping the token does not close the handle: it stays in the loop until closed"]
    pub fn new(lp: &Loop) -> Udp {
        let kind = Kind::Udp(Box::new(UdpState {
            socket: None,
            family: None,
            connected: false,
            recv: recv::RecvState::default(),
            send: send::SendState::default(),
            write_interest: false,
        }));
        Udp {
            handle: Handle::insert(lp, HandleType::Udp, kind),
        }
    }

    /// Creates a UDP handle for an address family (`uv_udp_init_ex`):
    /// [`AF_INET`] and [`AF_INET6`] create the socket at once, [`AF_UNSPEC`]
    /// is the same as [`Udp::new`]; any other value is EINVAL.
    pub fn with_family(lp: &Loop, family: i32) -> Result<Udp> {
        if ![AF_UNSPEC, AF_INET, AF_INET6].contains(&family) {
            return Err(StatusCode::EINVAL.into());
        }
        let udp = Udp::new(lp);
        if family != AF_UNSPEC {
            let created = lp.with_deferred(|st, _| create_socket(st, udp.key(), family));
            if let Err(err) = created {
                lp.state().remove(udp.key());
                return Err(err);
            }
        }
        Ok(udp)
    }

    /// Wraps an existing datagram socket in a new handle (`uv_udp_init` +
    /// `uv_udp_open`); see [`Udp::open`]. On error the socket is closed.
    pub fn from_socket<S: AsFd + Into<OwnedFd>>(lp: &Loop, socket: S) -> Result<Udp> {
        let udp = Udp::new(lp);
        if let Err(err) = udp.open(socket) {
            lp.state().remove(udp.key());
            return Err(err);
        }
        Ok(udp)
    }

    pub(crate) fn from_key(lp: &Loop, key: Key) -> Udp {
        Udp {
            handle: Handle::from_parts(lp.clone(), key, HandleType::Udp),
        }
    }

    /// Adopts an existing IPv4 or IPv6 datagram socket — a
    /// `std::net::UdpSocket`, a `socket2::Socket` or an `OwnedFd`
    /// (`uv_udp_open`). It may be bound or connected already; it is made
    /// non-blocking. The handle owns it from then on and closes it on close.
    ///
    /// EBUSY if the handle already has a socket; EEXIST if this loop
    /// already watches the descriptor; ENOTSOCK for a non-socket; EINVAL for
    /// a socket that is not an IPv4/IPv6 datagram socket. On error the
    /// socket is dropped (and so closed).
    pub fn open<S: AsFd + Into<OwnedFd>>(&self, socket: S) -> Result<()> {
        let key = self.key();
        let lp = self.get_loop();
        if udp_mut(&mut lp.state(), key)?.socket.is_some() {
            return Err(StatusCode::EBUSY.into());
        }
        // The caller's `as_fd` and `into` run while the loop state is not
        // borrowed, so they may use the loop themselves.
        let family = crate::adopt::adoptable(&socket, Type::DGRAM)?;
        let fd = socket.as_fd().as_raw_fd();
        lp.state()
            .poll
            .registry()
            .register(&mut SourceFd(&fd), key.token(), Interest::READABLE)?;
        // Registered, so the descriptor is ours now: only then take it over
        // (a failure above leaves the caller's socket as it was).
        let socket = Socket::from(socket.into());
        let connected = socket.peer_addr().is_ok();
        // Offload its owner turned on may have coalesced datagrams already.
        let gro = crate::sys::gro_enabled(fd);
        let mut st = lp.state();
        let adopted = match udp_mut(&mut st, key) {
            Ok(u) if u.socket.is_none() => {
                u.socket = Some(socket);
                u.family = Some(family);
                u.connected = connected;
                u.recv.gro = gro;
                return Ok(());
            }
            Ok(_) => Err(StatusCode::EBUSY.into()),
            Err(err) => Err(err),
        };
        // The caller's conversion closed or filled the handle meanwhile.
        let _ = st.poll.registry().deregister(&mut SourceFd(&fd));
        drop(st);
        drop(socket);
        adopted
    }

    /// Binds the socket to `addr` (`uv_udp_bind`), creating it first if
    /// needed. `flags` may hold [`UdpFlags::IPV6ONLY`],
    /// [`UdpFlags::REUSEADDR`], [`UdpFlags::REUSEPORT`] and
    /// [`UdpFlags::LINUX_RECVERR`].
    ///
    /// EINVAL for other flags, IPV6ONLY with an IPv4 address, an address of
    /// the other family than the socket, or a second bind; EADDRINUSE when
    /// the address is taken.
    pub fn bind(&self, addr: SocketAddr, flags: UdpFlags) -> Result<()> {
        let key = self.key();
        self.get_loop()
            .with_deferred(|st, _| bind_socket(st, key, addr, flags))
    }

    /// Connects the handle to `Some(addr)` so that sends need no address
    /// and only that peer's datagrams arrive, or dissolves the association
    /// with `None` (`uv_udp_connect`). Binds to the wildcard address first
    /// if needed.
    ///
    /// EISCONN when already connected; ENOTCONN for `None` when not.
    pub fn connect(&self, addr: Option<SocketAddr>) -> Result<()> {
        let key = self.key();
        self.get_loop().with_deferred(|st, _| {
            let u = udp_mut(st, key)?;
            match addr {
                None => {
                    if !u.connected {
                        return Err(StatusCode::ENOTCONN.into());
                    }
                    crate::sys::disconnect(u.fd().ok_or(StatusCode::EBADF)?)?;
                    u.connected = false;
                    Ok(())
                }
                Some(addr) => {
                    if u.connected {
                        return Err(StatusCode::EISCONN.into());
                    }
                    bind_if_needed(st, key, family_of(&addr), UdpFlags::empty())?;
                    let u = udp_mut(st, key)?;
                    let sock = u.socket.as_ref().ok_or(StatusCode::EBADF)?;
                    sock.connect(&addr.into())?;
                    u.connected = true;
                    Ok(())
                }
            }
        })
    }

    /// The socket's address family: `Some(AF_INET)`, `Some(AF_INET6)`, or
    /// `None` before the socket exists (python-uv's `family`).
    pub fn family(&self) -> Result<Option<i32>> {
        let mut st = self.get_loop().state();
        Ok(udp_mut(&mut st, self.key())?.family)
    }

    /// Whether the handle is connected to a peer.
    pub fn is_connected(&self) -> Result<bool> {
        let mut st = self.get_loop().state();
        Ok(udp_mut(&mut st, self.key())?.connected)
    }

    /// The local address (`uv_udp_getsockname`, python-uv's `sockname`).
    /// EBADF before the socket exists.
    pub fn sockname(&self) -> Result<SocketAddr> {
        self.with_socket(|s| s.local_addr())
            .and_then(|a| a.as_socket().ok_or(StatusCode::EINVAL.into()))
    }

    /// The connected peer's address (`uv_udp_getpeername`). ENOTCONN when
    /// not connected; EBADF before the socket exists.
    pub fn peername(&self) -> Result<SocketAddr> {
        self.with_socket(|s| s.peer_addr())
            .and_then(|a| a.as_socket().ok_or(StatusCode::EINVAL.into()))
    }

    /// Runs a socket call; EBADF when there is no socket yet.
    fn with_socket<T>(&self, f: impl FnOnce(&Socket) -> std::io::Result<T>) -> Result<T> {
        let mut st = self.get_loop().state();
        let u = udp_mut(&mut st, self.key())?;
        let sock = u.socket.as_ref().ok_or(StatusCode::EBADF)?;
        Ok(f(sock)?)
    }
}

pub(crate) fn udp_mut(st: &mut LoopState, key: Key) -> Result<&mut UdpState> {
    match &mut st.live_mut(key)?.kind {
        Kind::Udp(u) => Ok(u),
        _ => Err(Error::ClosedHandle),
    }
}

/// Creates the handle's socket and registers it for reading.
fn create_socket(st: &mut LoopState, key: Key, family: i32) -> Result<()> {
    let domain = if family == AF_INET6 {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM.nonblocking().cloexec(), None)?;
    let fd = socket.as_raw_fd();
    st.poll
        .registry()
        .register(&mut SourceFd(&fd), key.token(), Interest::READABLE)?;
    let u = udp_mut(st, key)?;
    u.socket = Some(socket);
    u.family = Some(family);
    Ok(())
}

fn bind_socket(st: &mut LoopState, key: Key, addr: SocketAddr, flags: UdpFlags) -> Result<()> {
    udp_mut(st, key)?;
    if !UdpFlags::BIND_FLAGS.contains(flags) {
        return Err(StatusCode::EINVAL.into());
    }
    let v6 = addr.is_ipv6();
    if flags.contains(UdpFlags::IPV6ONLY) && !v6 {
        return Err(StatusCode::EINVAL.into());
    }
    if udp_mut(st, key)?.socket.is_none() {
        create_socket(st, key, family_of(&addr))?;
    }
    let u = udp_mut(st, key)?;
    let sock = u.socket.as_ref().ok_or(StatusCode::EBADF)?;
    if u.family != Some(family_of(&addr)) {
        return Err(StatusCode::EINVAL.into());
    }
    if flags.contains(UdpFlags::REUSEADDR) {
        sock.set_reuse_address(true)?;
    }
    if flags.contains(UdpFlags::REUSEPORT) {
        sock.set_reuse_port(true)?;
    }
    if flags.contains(UdpFlags::LINUX_RECVERR) {
        let (level, name) = if v6 {
            (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
        } else {
            (libc::IPPROTO_IP, libc::IP_RECVERR)
        };
        crate::sys::set_int_option(sock.as_raw_fd(), level, name, 1)?;
    }
    if flags.contains(UdpFlags::IPV6ONLY) {
        sock.set_only_v6(true)?;
    }
    match sock.bind(&addr.into()) {
        Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => Err(StatusCode::EINVAL.into()),
        other => Ok(other?),
    }
}

/// Binds to the wildcard address of `family` when the handle has no socket
/// yet (libuv's deferred bind before send, receive, connect, membership).
fn bind_if_needed(st: &mut LoopState, key: Key, family: i32, flags: UdpFlags) -> Result<RawFd> {
    if let Some(fd) = udp_mut(st, key)?.fd() {
        return Ok(fd);
    }
    let any = if family == AF_INET6 {
        SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))
    } else {
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
    };
    bind_socket(st, key, any, flags)?;
    udp_mut(st, key)?.fd().ok_or(StatusCode::EBADF.into())
}

/// Turns write interest on or off to match whether sends are queued.
fn sync_write_interest(st: &mut LoopState, key: Key) {
    let Ok(u) = udp_mut(st, key) else {
        return;
    };
    if u.send.has_queued() != u.write_interest {
        register_interest(st, key);
    }
}

/// Re-registers the socket with the interest it needs now. epoll reports a
/// re-registered descriptor again if it is ready, so this also recovers an
/// edge that went by while nobody was listening.
fn rearm(st: &mut LoopState, key: Key) {
    register_interest(st, key);
}

fn register_interest(st: &mut LoopState, key: Key) {
    let Ok(u) = udp_mut(st, key) else {
        return;
    };
    let want = u.send.has_queued();
    let Some(fd) = u.fd() else {
        return;
    };
    let interest = if want {
        Interest::READABLE.add(Interest::WRITABLE)
    } else {
        Interest::READABLE
    };
    if st
        .poll
        .registry()
        .reregister(&mut SourceFd(&fd), key.token(), interest)
        .is_ok()
    {
        if let Ok(u) = udp_mut(st, key) {
            u.write_interest = want;
        }
    }
}

/// A UDP handle is active while it receives or has sends in flight.
fn refresh_active(st: &mut LoopState, key: Key) {
    if let Ok(u) = udp_mut(st, key) {
        let active = u.recv.is_receiving() || u.send.in_flight() > 0;
        st.set_active(key, active);
    }
}

/// Readiness for a UDP socket: read, then drain the send queue.
pub(crate) fn dispatch_io(lp: &Loop, ev: IoEvent, iteration: u64) {
    if ev.readable {
        dispatch_read(lp, ev.key, iteration, ev.error);
    }
    if ev.writable {
        send::flush_queue(lp, ev.key);
    }
}

/// Part of `close`: stop receiving, stop watching, close the socket. Sends
/// still queued are reported in the closing phase.
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    let Ok(u) = udp_mut(st, key) else {
        return;
    };
    u.recv.stop(deferred);
    // Its completions are reported by the closing phase, not the pending
    // one: a closed handle must not keep the loop alive through `pending`.
    if std::mem::take(&mut u.send.in_pending) {
        st.remove_pending(key);
    }
    let Ok(u) = udp_mut(st, key) else {
        return;
    };
    let socket = u.socket.take();
    if let Some(socket) = socket {
        let fd = socket.as_raw_fd();
        let _ = st.poll.registry().deregister(&mut SourceFd(&fd));
        drop(socket);
    }
    st.set_active(key, false);
}
