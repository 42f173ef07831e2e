//! [`create_connection`] and its relatives: resolve, race the candidate
//! addresses (asyncio's staggered race, happy eyeballs), then hand the
//! transport and protocol back (CPython 3.13's
//! `BaseEventLoop.create_connection`, `create_unix_connection`,
//! `connect_accepted_socket`).

use super::resolve::{self, family_of, Hints};
use super::transport::Kind;
use super::{AnyProtocol, BufferedProtocol, ConnectionOptions, Protocol, StreamTransport};
use crate::endpoint::defer;
use crate::error::{Error, Result, StatusCode};
use crate::owed::{OwedGuard, Slot};
use crate::{Loop, Pipe, Tcp, TcpFlags, Timer};
use socket2::{Domain, SockRef, Type};
use std::cell::RefCell;
use std::ffi::OsStr;
use std::fmt;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::time::Duration;

/// Why [`create_connection`] failed: the error reported, and every
/// candidate address's own error (asyncio keeps them all with
/// `all_errors=True`).
///
/// `error` is the error when there was one attempt, or when every attempt
/// failed with the same error; otherwise the first attempt's error
/// (asyncio then raises `OSError('Multiple exceptions: …')`, which has no
/// errno). Converts into [`Error`] (its `error`) for `?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectError {
    /// The error reported.
    pub error: Error,
    /// Each attempted address with its error, in the order tried.
    pub attempts: Vec<(SocketAddr, Error)>,
}

impl ConnectError {
    fn plain(error: Error) -> ConnectError {
        ConnectError {
            error,
            attempts: Vec::new(),
        }
    }

    /// The error to report for these attempts.
    fn from_attempts(attempts: Vec<(SocketAddr, Error)>) -> ConnectError {
        let error = attempts
            .first()
            .map_or(StatusCode::EAI_NODATA.into(), |(_, e)| *e);
        ConnectError { error, attempts }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let distinct = self.attempts.iter().any(|(_, e)| *e != self.error);
        if !distinct {
            return write!(f, "{}", self.error);
        }
        write!(f, "Multiple exceptions: ")?;
        for (i, (addr, err)) in self.attempts.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{addr}: {err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {}

impl From<ConnectError> for Error {
    fn from(e: ConnectError) -> Error {
        e.error
    }
}

impl From<Error> for ConnectError {
    fn from(e: Error) -> ConnectError {
        ConnectError::plain(e)
    }
}

/// A connected handle, before the protocol exists.
pub(super) enum Connected {
    Tcp(Tcp),
    Pipe(Pipe),
}

pub(super) type Done = Box<dyn FnOnce(std::result::Result<Connected, ConnectError>)>;

/// Opens a stream connection (asyncio's `loop.create_connection`) and
/// calls `on_done` with the transport and the protocol, or the error.
///
/// `on_done` always runs from the loop, never inside this call, exactly
/// once (ECANCELED if a [`Loop::walk`] closes the handles it waits on).
/// On success the protocol was made by `protocol_factory` and its
/// [`connection_made`](Protocol::connection_made) has run; reading has
/// started unless it paused reading or closed the transport. On error the
/// factory is not called.
///
/// As in CPython 3.13:
///
/// 1. With `sock` (every other option unset, else EINVAL): a stream
///    socket, TCP or Unix (a `socketpair` end), already connected.
///    EPROTOTYPE for a socket that is not a stream socket, ENOTSOCK for no
///    socket.
/// 2. Otherwise `host` (EINVAL without it) and `port` are resolved, and
///    `local_addr` if given. Each address in turn gets a new socket, bound
///    to the first local address of its family (EAI_ADDRFAMILY as that
///    attempt's error when there is none), then connected.
/// 3. Without `happy_eyeballs_delay` one attempt runs at a time, the next
///    after a failure. With it, the next also starts when the delay passes;
///    `interleave` (1 by default then) reorders the addresses first. The
///    first connection made wins; the others are closed.
/// 4. When every attempt fails, [`ConnectError`] has each one's error.
///
/// The socket gets `TCP_NODELAY`, as asyncio sets it.
pub fn create_connection<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    options: ConnectionOptions,
    on_done: D,
) where
    P: Protocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(std::result::Result<(StreamTransport, Rc<RefCell<P>>), ConnectError>) + 'static,
{
    let make = move || {
        let p = Rc::new(RefCell::new(protocol_factory()));
        (AnyProtocol::plain(p.clone()), p)
    };
    start(lp, make, Kind::Socket, on_done, move |lp, done| {
        open(lp, options, done)
    });
}

/// [`create_connection`] with a [`BufferedProtocol`].
pub fn create_buffered_connection<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    options: ConnectionOptions,
    on_done: D,
) where
    P: BufferedProtocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(std::result::Result<(StreamTransport, Rc<RefCell<P>>), ConnectError>) + 'static,
{
    let make = move || {
        let p = Rc::new(RefCell::new(protocol_factory()));
        (AnyProtocol::buffered(p.clone()), p)
    };
    start(lp, make, Kind::Socket, on_done, move |lp, done| {
        open(lp, options, done)
    });
}

/// Connects to the Unix socket at `path` (asyncio's
/// `create_unix_connection`; an abstract name starts with a NUL byte) and
/// calls `on_done` as [`create_connection`] does. ENOENT or ECONNREFUSED
/// when nobody listens there.
pub fn create_unix_connection<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    path: impl AsRef<OsStr>,
    on_done: D,
) where
    P: Protocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(Result<(StreamTransport, Rc<RefCell<P>>)>) + 'static,
{
    let make = move || {
        let p = Rc::new(RefCell::new(protocol_factory()));
        (AnyProtocol::plain(p.clone()), p)
    };
    let path = path.as_ref().to_os_string();
    let on_done = move |r: std::result::Result<_, ConnectError>| on_done(r.map_err(Error::from));
    start(lp, make, Kind::Socket, on_done, move |lp, done| {
        let pipe = Pipe::new(lp, false);
        let slot = RefCell::new(Some(done));
        let slot = Rc::new(slot);
        let in_cb = slot.clone();
        let started = pipe.connect(&path, move |pipe, status| {
            let Some(done) = in_cb.borrow_mut().take() else {
                return;
            };
            match status {
                Ok(()) => done(Ok(Connected::Pipe(pipe.clone()))),
                Err(err) => {
                    pipe.close(|| {});
                    done(Err(err.into()));
                }
            }
        });
        if let Err(err) = started {
            pipe.close(|| {});
            // Taken first: an `if let` on the `borrow_mut` would hold it
            // while `done` runs the application's callback.
            let done = slot.borrow_mut().take();
            if let Some(done) = done {
                done(Err(err.into()));
            }
        }
    });
}

/// Wraps a socket accepted elsewhere (asyncio's
/// `connect_accepted_socket`): a connected TCP or Unix stream socket, as
/// with `sock` in [`create_connection`]. `on_done` runs from the loop.
pub fn connect_accepted_socket<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    sock: impl Into<OwnedFd>,
    on_done: D,
) where
    P: Protocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(Result<(StreamTransport, Rc<RefCell<P>>)>) + 'static,
{
    let options = ConnectionOptions::socket(sock);
    create_connection(lp, protocol_factory, options, move |r| {
        on_done(r.map_err(Error::from))
    });
}

/// Runs `open` from the loop (guarded: ECANCELED if its timer is closed
/// first), then makes the protocol and the transport of `kind`.
pub(crate) fn start<T, M, D, O>(lp: &Loop, make: M, kind: Kind, on_done: D, open: O)
where
    T: 'static,
    M: FnOnce() -> (AnyProtocol, T) + 'static,
    D: FnOnce(std::result::Result<(StreamTransport, T), ConnectError>) + 'static,
    O: FnOnce(&Loop, Done) + 'static,
{
    let done: Done = Box::new(move |connected| {
        let connected = match connected {
            Ok(c) => c,
            Err(err) => return on_done(Err(err)),
        };
        let (protocol, typed) = make();
        let transport = match connected {
            Connected::Tcp(tcp) => StreamTransport::over_tcp(tcp, protocol),
            Connected::Pipe(pipe) => StreamTransport::over_pipe(pipe, kind, protocol),
        };
        transport.start();
        on_done(Ok((transport, typed)));
    });
    let slot: Slot<std::result::Result<Connected, ConnectError>> =
        Rc::new(RefCell::new(Some(done)));
    let guard = OwedGuard::new(lp, slot.clone(), || {
        Err(ConnectError::plain(StatusCode::ECANCELED.into()))
    });
    let lp2 = lp.clone();
    defer(lp, move || {
        let done = slot.borrow_mut().take();
        drop(guard);
        if let Some(done) = done {
            open(&lp2, done);
        }
    });
}

/// Adopts an already connected stream socket.
fn adopt(lp: &Loop, sock: OwnedFd) -> Result<Connected> {
    let domain = {
        let sref = SockRef::from(&sock);
        if sref.r#type()? != Type::STREAM {
            return Err(StatusCode::EPROTOTYPE.into());
        }
        sref.domain()?
    };
    if domain == Domain::UNIX {
        return Ok(Connected::Pipe(Pipe::from_fd(lp, sock)?));
    }
    if domain == Domain::IPV4 || domain == Domain::IPV6 {
        return Ok(Connected::Tcp(Tcp::from_socket(lp, sock)?));
    }
    Err(StatusCode::EAFNOSUPPORT.into())
}

fn open(lp: &Loop, mut options: ConnectionOptions, done: Done) {
    if let Some(sock) = options.sock.take() {
        if options.has_socket_modifiers() {
            return done(Err(ConnectError::plain(StatusCode::EINVAL.into())));
        }
        return done(adopt(lp, sock).map_err(ConnectError::plain));
    }
    let Some(host) = options.host.take() else {
        return done(Err(ConnectError::plain(StatusCode::EINVAL.into())));
    };
    let hints = Hints {
        family: options.family,
        proto: options.proto,
        flags: options.flags,
    };
    let delay = options.happy_eyeballs_delay;
    let interleave = options.interleave.or(delay.map(|_| 1));
    let local = options.local_addr.take();
    let lp2 = lp.clone();
    resolve::resolve(
        lp,
        &host,
        options.port,
        hints,
        Box::new(move |remote| {
            let remote = match remote {
                Ok(r) => r,
                Err(err) => return done(Err(ConnectError::plain(err))),
            };
            let remote = match interleave {
                Some(n) if n > 0 => resolve::interleave(&remote, n),
                _ => remote,
            };
            let Some((lhost, lport)) = local else {
                return race(&lp2, remote, None, delay, done);
            };
            let lp3 = lp2.clone();
            resolve::resolve(
                &lp2,
                &lhost,
                lport,
                hints,
                Box::new(move |locals| match locals {
                    Ok(locals) => race(&lp3, remote, Some(locals), delay, done),
                    Err(err) => done(Err(ConnectError::plain(err))),
                }),
            );
        }),
    );
}

/// The attempts of one `create_connection`.
struct Race {
    lp: Loop,
    addrs: Vec<SocketAddr>,
    locals: Option<Vec<SocketAddr>>,
    next: usize,
    delay: Option<Duration>,
    /// Attempts whose connect is in flight.
    running: Vec<Tcp>,
    /// The attempt started last: only its failure starts the next one
    /// early (an older attempt's failure does not, as in asyncio's
    /// `staggered_race`, where each attempt waits on its predecessor).
    latest: Option<Tcp>,
    errors: Vec<(SocketAddr, Error)>,
    timer: Option<Timer>,
    done: Option<Done>,
}

type SharedRace = Rc<RefCell<Race>>;

/// Tries `addrs` as asyncio's `staggered_race` does; calls `done` once.
fn race(
    lp: &Loop,
    addrs: Vec<SocketAddr>,
    locals: Option<Vec<SocketAddr>>,
    delay: Option<Duration>,
    done: Done,
) {
    let race = Rc::new(RefCell::new(Race {
        lp: lp.clone(),
        addrs,
        locals,
        next: 0,
        delay,
        running: Vec::new(),
        latest: None,
        errors: Vec::new(),
        timer: None,
        done: Some(done),
    }));
    start_next(&race);
}

/// Starts the next attempt that gets as far as connecting; reports the
/// failure when none is left and none is running.
fn start_next(race: &SharedRace) {
    loop {
        let (lp, addr, local) = {
            let mut r = race.borrow_mut();
            if r.done.is_none() {
                return;
            }
            if r.next >= r.addrs.len() {
                break;
            }
            let addr = r.addrs[r.next];
            r.next += 1;
            let local = r.locals.as_ref().map(|locals| {
                locals
                    .iter()
                    .copied()
                    .find(|l| family_of(l) == family_of(&addr))
            });
            (r.lp.clone(), addr, local)
        };
        match attempt(&lp, race, addr, local) {
            Ok(tcp) => {
                let mut r = race.borrow_mut();
                r.latest = Some(tcp.clone());
                r.running.push(tcp);
                drop(r);
                arm_delay(race);
                return;
            }
            Err(err) => race.borrow_mut().errors.push((addr, err)),
        }
    }
    let failed = {
        let mut r = race.borrow_mut();
        if r.running.is_empty() {
            r.done
                .take()
                .map(|done| (done, std::mem::take(&mut r.errors)))
        } else {
            None
        }
    };
    if let Some((done, errors)) = failed {
        close_timer(race);
        done(Err(ConnectError::from_attempts(errors)));
    }
}

/// With a delay, starts the next attempt when it passes.
fn arm_delay(race: &SharedRace) {
    let (lp, delay, more) = {
        let r = race.borrow();
        (r.lp.clone(), r.delay, r.next < r.addrs.len())
    };
    let Some(delay) = delay else {
        return;
    };
    if !more {
        return;
    }
    let timer = race
        .borrow_mut()
        .timer
        .take()
        .unwrap_or_else(|| Timer::new(&lp));
    let weak = Rc::downgrade(race);
    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    let started = timer.start(ms, 0, move |_| {
        if let Some(race) = weak.upgrade() {
            start_next(&race);
        }
    });
    if started.is_ok() {
        race.borrow_mut().timer = Some(timer);
    } else {
        timer.close(|| {});
    }
}

fn close_timer(race: &SharedRace) {
    let timer = race.borrow_mut().timer.take();
    if let Some(timer) = timer {
        timer.close(|| {});
    }
}

/// One attempt: a socket of `addr`'s family, bound to `local` if asked,
/// connecting to `addr`. The error if it fails before connecting.
fn attempt(
    lp: &Loop,
    race: &SharedRace,
    addr: SocketAddr,
    local: Option<Option<SocketAddr>>,
) -> Result<Tcp> {
    let tcp = Tcp::new_with_family(lp, family_of(&addr))?;
    let result = (|| {
        match local {
            Some(Some(local)) => tcp.bind(local, TcpFlags::empty())?,
            Some(None) => return Err(StatusCode::EAI_ADDRFAMILY.into()),
            None => {}
        }
        let race = race.clone();
        tcp.connect(addr, move |tcp, status| {
            on_connect(&race, tcp, addr, status)
        })
    })();
    if let Err(err) = result {
        tcp.close(|| {});
        return Err(err);
    }
    Ok(tcp)
}

fn on_connect(race: &SharedRace, tcp: &Tcp, addr: SocketAddr, status: Result<()>) {
    let (done, losers) = {
        let mut r = race.borrow_mut();
        r.running.retain(|t| t != tcp);
        if r.done.is_none() {
            // Another attempt won; this one was closed (ECANCELED).
            return;
        }
        if let Err(err) = status {
            r.errors.push((addr, err));
            // Only the latest attempt's failure starts the next one early
            // (or the last one running: then none is left to wait for).
            let next_now = r.latest.as_ref() == Some(tcp) || r.running.is_empty();
            drop(r);
            tcp.close(|| {});
            if next_now {
                start_next(race);
            }
            return;
        }
        (r.done.take(), std::mem::take(&mut r.running))
    };
    close_timer(race);
    for t in losers {
        t.close(|| {});
    }
    if let Some(done) = done {
        done(Ok(Connected::Tcp(tcp.clone())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunMode;

    /// A port nobody listens on: bound, never listening.
    fn closed_port(addr: &str) -> (std::net::TcpListener, SocketAddr) {
        let sock = socket2::Socket::new(
            if addr.starts_with('[') {
                Domain::IPV6
            } else {
                Domain::IPV4
            },
            Type::STREAM,
            None,
        )
        .unwrap();
        let a: SocketAddr = addr.parse().unwrap();
        sock.bind(&a.into()).unwrap();
        let bound = sock.local_addr().unwrap().as_socket().unwrap();
        (sock.into(), bound)
    }

    fn run_race(
        addrs: Vec<SocketAddr>,
        delay: Option<Duration>,
    ) -> std::result::Result<SocketAddr, ConnectError> {
        let lp = Loop::new().unwrap();
        let out = Rc::new(RefCell::new(None));
        let o = out.clone();
        race(
            &lp,
            addrs,
            None,
            delay,
            Box::new(move |r| {
                let r = r.map(|c| match c {
                    Connected::Tcp(t) => {
                        let peer = t.peername().unwrap();
                        t.close(|| {});
                        peer
                    }
                    Connected::Pipe(_) => unreachable!(),
                });
                *o.borrow_mut() = Some(r);
            }),
        );
        lp.run(RunMode::Default).unwrap();
        lp.close().unwrap();
        let r = out.borrow_mut().take().expect("done ran");
        r
    }

    #[test]
    fn every_failure_is_kept_and_the_first_reported() {
        let (_a, refused_v4) = closed_port("127.0.0.1:0");
        let (_b, refused_v4b) = closed_port("127.0.0.1:0");
        for delay in [None, Some(Duration::from_millis(1))] {
            let err = run_race(vec![refused_v4, refused_v4b], delay).unwrap_err();
            assert_eq!(err.error, StatusCode::ECONNREFUSED);
            assert_eq!(err.attempts.len(), 2);
            let mut tried: Vec<SocketAddr> = err.attempts.iter().map(|(a, _)| *a).collect();
            tried.sort();
            let mut want = vec![refused_v4, refused_v4b];
            want.sort();
            assert_eq!(tried, want);
            assert!(err
                .attempts
                .iter()
                .all(|(_, e)| *e == StatusCode::ECONNREFUSED));
        }
    }

    #[test]
    fn a_later_candidate_that_works_wins() {
        let (_a, refused) = closed_port("127.0.0.1:0");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let good = listener.local_addr().unwrap();
        for delay in [None, Some(Duration::from_millis(1))] {
            assert_eq!(run_race(vec![refused, good], delay).unwrap(), good);
        }
    }

    #[test]
    fn the_delay_starts_the_next_attempt_while_one_hangs() {
        // A listener whose accept queue is full: the kernel drops further
        // SYNs, so a connect to it stays pending (retrying for seconds).
        let full = socket2::Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        full.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        full.listen(0).unwrap();
        let full_addr = full.local_addr().unwrap().as_socket().unwrap();
        let mut fillers = Vec::new();
        for _ in 0..2 {
            let s = socket2::Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            s.set_nonblocking(true).unwrap();
            let _ = s.connect(&full_addr.into());
            fillers.push(s);
        }
        let good = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let good_addr = good.local_addr().unwrap();
        let won = run_race(vec![full_addr, good_addr], Some(Duration::from_millis(5)));
        assert_eq!(won.unwrap(), good_addr);
    }

    #[test]
    fn distinct_errors_display_every_attempt() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "[::1]:1".parse().unwrap();
        let e = ConnectError::from_attempts(vec![
            (a, StatusCode::ECONNREFUSED.into()),
            (b, StatusCode::ENETUNREACH.into()),
        ]);
        assert_eq!(e.error, StatusCode::ECONNREFUSED);
        assert!(e
            .to_string()
            .starts_with("Multiple exceptions: 127.0.0.1:1: "));
        let same = ConnectError::from_attempts(vec![(a, StatusCode::ECONNREFUSED.into())]);
        assert_eq!(
            same.to_string(),
            Error::from(StatusCode::ECONNREFUSED).to_string()
        );
    }
}
