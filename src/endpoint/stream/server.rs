//! [`create_server`], [`create_unix_server`] and [`Server`]: listening
//! sockets whose connections each get a transport and a new protocol
//! (CPython 3.13's `BaseEventLoop.create_server`,
//! `create_unix_server` and `base_events.Server`).

use super::resolve::{self, Hints};
use super::socket_file::{bind_unix, SocketFile};
use super::transport::Kind;
use super::{AnyProtocol, Protocol, ServerOptions, SocketName, StreamTransport};
use crate::dns::AI_PASSIVE;
use crate::endpoint::defer;
use crate::error::{Error, Result, StatusCode};
use crate::udp::{AF_INET, AF_INET6, AF_UNSPEC};
use crate::{Loop, Pipe, Tcp};
use socket2::{Domain, SockRef, Socket, Type};
use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// A listening handle of a server.
#[derive(Clone)]
enum Listener {
    Tcp(Tcp),
    /// With the socket file to remove on close, if the server made it.
    Pipe(Pipe, Option<SocketFile>),
}

impl Listener {
    /// Removes the socket file the server made (also when someone else
    /// closed the handle), then closes the handle unless it is closing.
    fn close(&self) {
        match self {
            Listener::Tcp(t) if !t.is_closing() => t.close(|| {}),
            Listener::Tcp(_) => {}
            Listener::Pipe(p, file) => {
                // Before the descriptor closes: after, another server may
                // bind the name (as libuv orders it).
                if let Some(file) = file {
                    file.remove_if_ours();
                }
                if !p.is_closing() {
                    p.close(|| {});
                }
            }
        }
    }

    fn name(&self) -> Option<SocketName> {
        match self {
            Listener::Tcp(t) => t.sockname().ok().map(SocketName::Inet),
            Listener::Pipe(p, _) => p.sockname().ok().map(SocketName::Unix),
        }
    }
}

type Waiter = Box<dyn FnOnce()>;

struct State {
    listeners: Vec<Listener>,
    serving: bool,
    closed: bool,
    /// Transports of accepted connections not yet lost.
    clients: Vec<StreamTransport>,
    /// `wait_closed` callbacks.
    waiters: Vec<Waiter>,
}

struct Inner {
    lp: Loop,
    make: Box<dyn Fn() -> AnyProtocol>,
    backlog: i32,
    state: RefCell<State>,
}

/// A server made by [`create_server`] or [`create_unix_server`]
/// (asyncio's `Server`). A cheap `Clone` handle.
///
/// Each accepted connection gets a new protocol from the factory and a
/// [`StreamTransport`]; its `connection_made` runs before any data.
/// Closing the server stops listening but leaves those connections open
/// (asyncio 3.12.1+); [`wait_closed`](Self::wait_closed) waits for both.
#[derive(Clone)]
pub struct Server {
    inner: Rc<Inner>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Server");
        if let Ok(st) = self.inner.state.try_borrow() {
            d.field("serving", &st.serving)
                .field("closed", &st.closed)
                .field("clients", &st.clients.len());
        }
        d.finish()
    }
}

/// Creates a TCP server (asyncio's `loop.create_server`) and calls
/// `on_done` with it, or the error, from the loop (never inside this
/// call).
///
/// Every host of `options` is resolved (with `AI_PASSIVE`); no host, or
/// the one host `""` (as asyncio), means `0.0.0.0` and `::`. One socket
/// per address, with `SO_REUSEADDR` unless `reuse_address` is off, `SO_REUSEPORT` if asked, `IPV6_V6ONLY` on IPv6,
/// bound, then listening with `backlog` if `start_serving`. As asyncio,
/// an address that cannot be bound with EADDRNOTAVAIL, or whose family
/// has no socket (EAFNOSUPPORT), is skipped; any other error fails the
/// whole call (the sockets made are closed), and so does binding none
/// (EADDRNOTAVAIL). EINVAL for a `backlog` below 0 or a family other than
/// 0, `AF_INET`, `AF_INET6`.
///
/// With `sock` (a bound TCP or Unix stream socket) no socket is made:
/// that one listens. EINVAL if an option that shapes a new socket is set
/// too, EPROTOTYPE for a socket that is not a stream socket.
pub fn create_server<P, F, D>(lp: &Loop, protocol_factory: F, options: ServerOptions, on_done: D)
where
    P: Protocol + 'static,
    F: Fn() -> P + 'static,
    D: FnOnce(Result<Server>) + 'static,
{
    let make = move || AnyProtocol::plain(Rc::new(RefCell::new(protocol_factory())));
    create_server_with(lp, make, options, on_done);
}

/// [`create_server`] with a factory of either kind of protocol, e.g.
/// `|| AnyProtocol::buffered(Rc::new(RefCell::new(MyBuffered::new())))`.
pub fn create_server_with<M, D>(lp: &Loop, make: M, options: ServerOptions, on_done: D)
where
    M: Fn() -> AnyProtocol + 'static,
    D: FnOnce(Result<Server>) + 'static,
{
    let lp2 = lp.clone();
    let make: Box<dyn Fn() -> AnyProtocol> = Box::new(make);
    defer(lp, move || {
        let mut options = options;
        if options.backlog < 0 || ![AF_UNSPEC, AF_INET, AF_INET6].contains(&options.family) {
            return on_done(Err(StatusCode::EINVAL.into()));
        }
        if let Some(sock) = options.sock.take() {
            if options.has_socket_modifiers() {
                return on_done(Err(StatusCode::EINVAL.into()));
            }
            let server = adopt_listener(&lp2, sock).and_then(|listener| {
                Server::new(
                    &lp2,
                    vec![listener],
                    make,
                    options.backlog,
                    options.start_serving,
                )
            });
            return on_done(server);
        }
        // As asyncio: a host of `""` means every interface, as none does.
        if options.hosts.len() == 1 && options.hosts[0].is_empty() {
            options.hosts.clear();
        }
        let hints = Hints {
            family: options.family,
            proto: 0,
            flags: options.flags | AI_PASSIVE,
        };
        let hosts = options.hosts.clone();
        let lp3 = lp2.clone();
        resolve_all(&lp2, hosts, options.port, hints, Vec::new(), move |addrs| {
            let server = addrs.and_then(|addrs| bind_all(&lp3, &addrs, &options, make));
            on_done(server);
        });
    });
}

/// Resolves each host in turn, collecting the addresses.
fn resolve_all(
    lp: &Loop,
    mut hosts: Vec<String>,
    port: u16,
    hints: Hints,
    mut found: Vec<SocketAddr>,
    then: impl FnOnce(Result<Vec<SocketAddr>>) + 'static,
) {
    if found.is_empty() && hosts.is_empty() {
        // No host: every interface, of each family allowed.
        let v4 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
        let all = [v4, v6]
            .into_iter()
            .filter(|a| hints.family == AF_UNSPEC || resolve::family_of(a) == hints.family)
            .collect();
        return then(Ok(all));
    }
    if hosts.is_empty() {
        return then(Ok(found));
    }
    let host = hosts.remove(0);
    let lp2 = lp.clone();
    resolve::resolve(
        lp,
        &host,
        port,
        hints,
        Box::new(move |addrs| match addrs {
            Ok(addrs) => {
                for a in addrs {
                    if !found.contains(&a) {
                        found.push(a);
                    }
                }
                resolve_all(&lp2, hosts, port, hints, found, then);
            }
            Err(err) => then(Err(err)),
        }),
    );
}

/// Makes, binds and (if serving) starts every listening socket.
fn bind_all(
    lp: &Loop,
    addrs: &[SocketAddr],
    options: &ServerOptions,
    make: Box<dyn Fn() -> AnyProtocol>,
) -> Result<Server> {
    let mut sockets = Vec::new();
    for addr in addrs {
        match listening_socket(addr, options) {
            Ok(sock) => sockets.push(sock),
            Err(err) if err == StatusCode::EADDRNOTAVAIL || err == StatusCode::EAFNOSUPPORT => {}
            Err(err) => return Err(err),
        }
    }
    if sockets.is_empty() {
        return Err(StatusCode::EADDRNOTAVAIL.into());
    }
    let mut listeners = Vec::new();
    for sock in sockets {
        match Tcp::from_socket(lp, sock) {
            Ok(tcp) => listeners.push(Listener::Tcp(tcp)),
            Err(err) => {
                for l in &listeners {
                    l.close();
                }
                return Err(err);
            }
        }
    }
    Server::new(lp, listeners, make, options.backlog, options.start_serving)
}

/// Adopts a caller's bound stream socket: TCP or Unix.
fn adopt_listener(lp: &Loop, sock: OwnedFd) -> Result<Listener> {
    let domain = {
        let sref = SockRef::from(&sock);
        if sref.r#type()? != Type::STREAM {
            return Err(StatusCode::EPROTOTYPE.into());
        }
        sref.domain()?
    };
    if domain == Domain::UNIX {
        return Ok(Listener::Pipe(Pipe::from_fd(lp, sock)?, None));
    }
    if domain == Domain::IPV4 || domain == Domain::IPV6 {
        return Ok(Listener::Tcp(Tcp::from_socket(lp, sock)?));
    }
    Err(StatusCode::EAFNOSUPPORT.into())
}

fn listening_socket(addr: &SocketAddr, options: &ServerOptions) -> Result<Socket> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let sock = Socket::new(domain, Type::STREAM, None)?;
    sock.set_reuse_address(options.reuse_address)?;
    if options.reuse_port {
        sock.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.bind(&(*addr).into())?;
    Ok(sock)
}

/// Creates a Unix socket server at `path` (asyncio's
/// `loop.create_unix_server`) and calls `on_done` from the loop. Only
/// `backlog` and `start_serving` of `options` apply.
///
/// A socket file left at `path` (by a server that did not clean up) is
/// removed first, as asyncio does; any other file there is EADDRINUSE.
/// When the server closes, the socket file is removed if it is still the
/// one it bound (CPython 3.13): one already removed, or replaced by
/// another server's, is left alone. A name starting with a NUL byte is a
/// Linux abstract name (no file). ENAMETOOLONG for a name longer than a
/// socket address holds, EINVAL for an empty one or a NUL inside a path.
pub fn create_unix_server<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    path: impl AsRef<OsStr>,
    options: ServerOptions,
    on_done: D,
) where
    P: Protocol + 'static,
    F: Fn() -> P + 'static,
    D: FnOnce(Result<Server>) + 'static,
{
    let make: Box<dyn Fn() -> AnyProtocol> =
        Box::new(move || AnyProtocol::plain(Rc::new(RefCell::new(protocol_factory()))));
    let path: OsString = path.as_ref().to_os_string();
    let lp2 = lp.clone();
    defer(lp, move || {
        let made = (|| {
            if options.backlog < 0 {
                return Err(StatusCode::EINVAL.into());
            }
            let (sock, file) = bind_unix(&path)?;
            let pipe = Pipe::from_fd(&lp2, sock)?;
            Server::new(
                &lp2,
                vec![Listener::Pipe(pipe, file)],
                make,
                options.backlog,
                options.start_serving,
            )
        })();
        on_done(made);
    });
}

/// Held by a listener's callback, which the loop drops when the listener
/// closes: if the server did not close it (a `Loop::walk` closing every
/// handle), the server closes, so that `is_serving` and `wait_closed`
/// tell the truth.
struct ListenWatch(Server);

impl Drop for ListenWatch {
    fn drop(&mut self) {
        let server = &self.0;
        let open = server.inner.state.try_borrow().is_ok_and(|st| !st.closed);
        if open {
            server.close();
        }
    }
}

impl Server {
    fn new(
        lp: &Loop,
        listeners: Vec<Listener>,
        make: Box<dyn Fn() -> AnyProtocol>,
        backlog: i32,
        start_serving: bool,
    ) -> Result<Server> {
        let server = Server {
            inner: Rc::new(Inner {
                lp: lp.clone(),
                make,
                backlog,
                state: RefCell::new(State {
                    listeners,
                    serving: false,
                    closed: false,
                    clients: Vec::new(),
                    waiters: Vec::new(),
                }),
            }),
        };
        if start_serving {
            if let Err(err) = server.start_serving() {
                server.close();
                return Err(err);
            }
        }
        Ok(server)
    }

    /// Starts listening (asyncio's `start_serving`); does nothing when
    /// already serving. [`Error::ClosedHandle`] once closed.
    pub fn start_serving(&self) -> Result<()> {
        let listeners = {
            let mut st = self.inner.state.borrow_mut();
            if st.closed {
                return Err(Error::ClosedHandle);
            }
            if st.serving {
                return Ok(());
            }
            st.serving = true;
            st.listeners.clone()
        };
        for l in &listeners {
            // The listen callback holds a `ListenWatch`, which notices a
            // listener closed by someone else.
            let watch = ListenWatch(self.clone());
            let listening = match l {
                Listener::Tcp(t) => t.listen(self.inner.backlog, move |t, status| {
                    if status.is_ok() {
                        watch.0.accept_tcp(t);
                    }
                }),
                Listener::Pipe(p, _) => p.listen(self.inner.backlog, move |p, status| {
                    if status.is_ok() {
                        watch.0.accept_pipe(p);
                    }
                }),
            };
            listening?;
        }
        Ok(())
    }

    fn accept_tcp(&self, listener: &Tcp) {
        let conn = Tcp::new(&self.inner.lp);
        if listener.accept(&conn).is_err() {
            conn.close(|| {});
            return;
        }
        let transport = StreamTransport::over_tcp(conn, (self.inner.make)());
        self.attach(transport);
    }

    fn accept_pipe(&self, listener: &Pipe) {
        let conn = Pipe::new(&self.inner.lp, false);
        if listener.accept(&conn).is_err() {
            conn.close(|| {});
            return;
        }
        let transport = StreamTransport::over_pipe(conn, Kind::Socket, (self.inner.make)());
        self.attach(transport);
    }

    /// Counts the client until its `connection_lost`, then starts it.
    fn attach(&self, transport: StreamTransport) {
        self.inner
            .state
            .borrow_mut()
            .clients
            .push(transport.clone());
        let this = self.clone();
        let t = transport.clone();
        transport.set_on_lost(move || this.detach(&t));
        transport.start();
    }

    fn detach(&self, transport: &StreamTransport) {
        let wake = {
            let mut st = self.inner.state.borrow_mut();
            st.clients.retain(|c| c != transport);
            st.closed && st.clients.is_empty()
        };
        if wake {
            self.wake();
        }
    }

    /// Runs the `wait_closed` callbacks, from the loop.
    fn wake(&self) {
        let waiters = std::mem::take(&mut self.inner.state.borrow_mut().waiters);
        for w in waiters {
            defer(&self.inner.lp, w);
        }
    }

    /// Stops listening and closes the listening sockets (asyncio's
    /// `close`); the accepted connections stay open. A Unix server's
    /// socket file is removed. Later calls do nothing.
    pub fn close(&self) {
        let (listeners, wake) = {
            let mut st = self.inner.state.borrow_mut();
            if st.closed {
                return;
            }
            st.closed = true;
            st.serving = false;
            (std::mem::take(&mut st.listeners), st.clients.is_empty())
        };
        for l in &listeners {
            l.close();
        }
        if wake {
            self.wake();
        }
    }

    /// Calls `cb` from the loop once the server is closed and every
    /// connection it accepted is lost (asyncio's `wait_closed`, as fixed
    /// in 3.12.1): at once (from the loop) if that is already so.
    pub fn wait_closed(&self, cb: impl FnOnce() + 'static) {
        let now = {
            let mut st = self.inner.state.borrow_mut();
            if st.closed && st.clients.is_empty() {
                true
            } else {
                st.waiters.push(Box::new(cb));
                return;
            }
        };
        if now {
            defer(&self.inner.lp, cb);
        }
    }

    /// Whether the server listens (asyncio's `is_serving`).
    pub fn is_serving(&self) -> bool {
        let st = self.inner.state.borrow();
        st.serving && !st.closed
    }

    /// The listening sockets' addresses (what asyncio's `sockets` are
    /// used for); empty once closed.
    pub fn sockets(&self) -> Vec<SocketName> {
        let st = self.inner.state.borrow();
        st.listeners.iter().filter_map(Listener::name).collect()
    }

    /// [`close`](StreamTransport::close)s every accepted connection
    /// (asyncio's `close_clients`).
    pub fn close_clients(&self) {
        let clients = self.inner.state.borrow().clients.clone();
        for c in clients {
            c.close();
        }
    }

    /// [`abort`](StreamTransport::abort)s every accepted connection
    /// (asyncio's `abort_clients`).
    pub fn abort_clients(&self) {
        let clients = self.inner.state.borrow().clients.clone();
        for c in clients {
            c.abort();
        }
    }

    /// The number of accepted connections not yet lost.
    pub fn client_count(&self) -> usize {
        self.inner.state.borrow().clients.len()
    }
}
