//! [`create_datagram_endpoint`]: validate the options, resolve the
//! addresses, try the candidate sockets, then hand the transport and
//! protocol back (CPython 3.13's `BaseEventLoop.create_datagram_endpoint`).

use super::{defer, DatagramProtocol, DatagramTransport, EndpointOptions};
use crate::dns::{self, AddrInfoHints, NumericHost};
use crate::error::{Error, Result, StatusCode};
use crate::owed::{OwedGuard, Slot};
use crate::udp::{AF_INET, AF_INET6, AF_UNSPEC};
use crate::{Loop, Udp};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// The socket an endpoint gets, before the protocol exists.
struct Opened {
    udp: Udp,
    /// The fixed destination (`remote_addr`, or a connected `sock`'s peer).
    remote: Option<SocketAddr>,
    /// The socket is connected to `remote`.
    connected: bool,
}

type Done = Box<dyn FnOnce(Result<Opened>)>;

/// The options that shape every candidate socket.
#[derive(Clone, Copy)]
struct Settings {
    family: i32,
    proto: i32,
    flags: i32,
    reuse_port: bool,
    allow_broadcast: bool,
}

/// One resolved address with the family and protocol to use it with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    family: i32,
    proto: i32,
    addr: SocketAddr,
}

/// A socket to try: family, protocol, and the addresses to bind and
/// connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candidate {
    family: i32,
    proto: i32,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
}

/// Creates a datagram endpoint (asyncio's `loop.create_datagram_endpoint`)
/// and calls `on_done` with the transport and the protocol — or the error.
///
/// `on_done` always runs from the loop (a timer, or the completion of a
/// name lookup), never from inside this function, so the loop must run.
/// It runs exactly once: if the handles the creation is waiting on (its
/// timer, a name lookup's async handle) are closed first — by
/// `lp.walk(|h| h.close(..))`, libuv's shutdown — it gets ECANCELED.
/// On success the protocol was made by `protocol_factory` and its
/// [`connection_made`](DatagramProtocol::connection_made) has run;
/// reading has started unless the protocol paused it or closed the
/// transport. On error `protocol_factory` is not called.
///
/// What happens, as in CPython 3.13:
///
/// 1. With `sock`: it must be an IPv4/IPv6 `SOCK_DGRAM` socket and every
///    other option must be unset; it is used as it is (bound, connected or
///    neither). A connected `sock` gives the transport its peer as fixed
///    destination.
/// 2. Without `sock`: with neither address, `family` must be given and one
///    unbound socket of that family is made. Otherwise `local_addr` and
///    `remote_addr` are resolved — IP literals directly, names by
///    [`dns::getaddrinfo`] on a helper thread — with `family`, `proto`,
///    `flags` and `SOCK_DGRAM` as hints, local first.
/// 3. The results are grouped by (family, protocol), each group pairing a
///    local and a remote address (the first of each that the resolver
///    ranked); a group lacking an address that was asked for is dropped.
///    CPython keeps the last address of each group; ruv keeps the first,
///    getaddrinfo's preferred one.
/// 4. Each candidate in turn: make the socket, set `SO_REUSEPORT` and
///    `SO_BROADCAST` if asked, bind to the local address, connect to the
///    remote one (not with `allow_broadcast`: the remote address is then
///    only the default destination). The first candidate that works is
///    used; if none does, the error of the first is reported.
///
/// `SO_REUSEADDR` is never set (see [`EndpointOptions`]).
///
/// | error | when |
/// | --- | --- |
/// | ENOTSOCK | `sock` is not a socket |
/// | EPROTOTYPE | `sock` is not a datagram socket |
/// | EAFNOSUPPORT | `sock` is not IPv4/IPv6; `family` is not 0, `AF_INET` or `AF_INET6` |
/// | EINVAL | `sock` together with any other option; neither address nor `family` |
/// | EAI_ADDRFAMILY | an IP literal of another family than `family`; no family has both a local and a remote address |
/// | EAI_NONAME | an IPv6 literal whose `%zone` names no interface |
/// | EAI_NODATA | the resolver returned no address |
/// | other `EAI_*` | the resolver failed (e.g. EAI_NONAME for an unknown name) |
/// | an OS error | every candidate failed: the first candidate's error, e.g. EADDRINUSE |
/// | ECANCELED | the creation's timer or lookup was closed by someone else (a [`Loop::walk`] closing every handle) |
///
/// ```
/// use ruv::endpoint::{create_datagram_endpoint, DatagramProtocol, DatagramTransport, EndpointOptions};
/// use ruv::{Loop, RunMode};
/// use std::cell::RefCell;
/// use std::net::SocketAddr;
/// use std::rc::Rc;
///
/// /// Echoes one datagram back to its sender, then closes.
/// struct Echo(Option<DatagramTransport>);
///
/// impl DatagramProtocol for Echo {
///     fn connection_made(&mut self, transport: &DatagramTransport) {
///         self.0 = Some(transport.clone());
///     }
///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
///         let transport = self.0.as_ref().unwrap();
///         transport.sendto(data, Some(addr)).unwrap();
///         transport.close(); // the echo still goes out first
///     }
/// }
///
/// /// Sends one datagram, keeps the answer, then closes.
/// struct Client {
///     transport: Option<DatagramTransport>,
///     answer: Rc<RefCell<Vec<u8>>>,
/// }
///
/// impl DatagramProtocol for Client {
///     fn connection_made(&mut self, transport: &DatagramTransport) {
///         transport.sendto(b"hello", None).unwrap();
///         self.transport = Some(transport.clone());
///     }
///     fn datagram_received(&mut self, data: &[u8], _addr: SocketAddr) {
///         *self.answer.borrow_mut() = data.to_vec();
///         self.transport.as_ref().unwrap().close();
///     }
/// }
///
/// let lp = Loop::new()?;
/// let answer = Rc::new(RefCell::new(Vec::new()));
/// let (lp2, answer2) = (lp.clone(), answer.clone());
/// let server = EndpointOptions::local("127.0.0.1", 0);
/// create_datagram_endpoint(&lp, || Echo(None), server, move |result| {
///     let (transport, _echo) = result.expect("server endpoint");
///     let port = transport.sockname().unwrap().port();
///     let client = EndpointOptions::remote("127.0.0.1", port);
///     let factory = move || Client { transport: None, answer: answer2 };
///     create_datagram_endpoint(&lp2, factory, client, |result| {
///         result.expect("client endpoint");
///     });
/// });
/// lp.run(RunMode::Default)?; // returns when both transports have closed
/// assert_eq!(*answer.borrow(), b"hello");
/// # Ok::<(), ruv::Error>(())
/// ```
pub fn create_datagram_endpoint<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    options: EndpointOptions,
    on_done: D,
) where
    P: DatagramProtocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(Result<(DatagramTransport, Rc<RefCell<P>>)>) + 'static,
{
    let done: Done = Box::new(move |opened: Result<Opened>| {
        let opened = match opened {
            Ok(opened) => opened,
            Err(err) => return on_done(Err(err)),
        };
        let protocol = Rc::new(RefCell::new(protocol_factory()));
        let shared: Rc<RefCell<dyn DatagramProtocol>> = protocol.clone();
        let transport = DatagramTransport::new(opened.udp, opened.remote, opened.connected, shared);
        transport.start();
        on_done(Ok((transport, protocol)));
    });
    // Until `open` has it, `done` waits in a slot guarded against a close
    // of the timer (a `Loop::walk` closing every handle): it then gets
    // ECANCELED. From `open` on, the resolver guarantees its callback.
    let slot: Slot<Result<Opened>> = Rc::new(RefCell::new(Some(done)));
    let guard = OwedGuard::new(lp, slot.clone(), || Err(StatusCode::ECANCELED.into()));
    let lp2 = lp.clone();
    defer(lp, move || {
        let done = slot.borrow_mut().take();
        drop(guard);
        if let Some(done) = done {
            open(&lp2, options, done);
        }
    });
}

/// Validates, resolves and opens; calls `done` exactly once (maybe later,
/// from a resolver completion).
fn open(lp: &Loop, mut options: EndpointOptions, done: Done) {
    if let Some(sock) = options.sock.take() {
        return done(adopt(lp, sock, &options));
    }
    let settings = Settings {
        family: options.family,
        proto: options.proto,
        flags: options.flags,
        reuse_port: options.reuse_port,
        allow_broadcast: options.allow_broadcast,
    };
    if ![AF_UNSPEC, AF_INET, AF_INET6].contains(&settings.family) {
        return done(Err(StatusCode::EAFNOSUPPORT.into()));
    }
    let (local, remote) = (options.local_addr, options.remote_addr);
    if local.is_none() && remote.is_none() {
        if settings.family == AF_UNSPEC {
            return done(Err(StatusCode::EINVAL.into()));
        }
        let only = Candidate {
            family: settings.family,
            proto: settings.proto,
            local: None,
            remote: None,
        };
        return done(try_candidates(lp, &[only], settings));
    }
    let lp2 = lp.clone();
    resolve(
        lp,
        local,
        settings,
        Box::new(move |local| {
            let local = match local {
                Ok(local) => local,
                Err(err) => return done(Err(err)),
            };
            let lp = lp2.clone();
            resolve(
                &lp2,
                remote,
                settings,
                Box::new(move |remote| {
                    let opened = remote
                        .and_then(|remote| candidates(local.as_deref(), remote.as_deref()))
                        .and_then(|found| try_candidates(&lp, &found, settings));
                    done(opened);
                }),
            );
        }),
    );
}

type Resolved = Box<dyn FnOnce(Result<Option<Vec<Entry>>>)>;

/// Resolves one `(host, port)`: `Ok(None)` when it was not given, the
/// literal itself for an IP literal, the resolver's answer for a name.
/// `then` may run at once (no address, a literal) or from the loop.
fn resolve(lp: &Loop, addr: Option<(String, u16)>, s: Settings, then: Resolved) {
    let Some((host, port)) = addr else {
        return then(Ok(None));
    };
    match dns::classify(&host, port) {
        NumericHost::Addr(addr) => {
            let family = family_of(&addr);
            if s.family != AF_UNSPEC && s.family != family {
                return then(Err(StatusCode::EAI_ADDRFAMILY.into()));
            }
            let proto = if s.proto == 0 {
                libc::IPPROTO_UDP
            } else {
                s.proto
            };
            then(Ok(Some(vec![Entry {
                family,
                proto,
                addr,
            }])))
        }
        NumericHost::BadZone => then(Err(StatusCode::EAI_NONAME.into())),
        NumericHost::Name => {
            let hints = AddrInfoHints {
                family: s.family,
                socktype: dns::SOCK_DGRAM,
                protocol: s.proto,
                flags: s.flags,
            };
            // `then` goes either to the request or, if the request cannot
            // start, is called here.
            let slot = Rc::new(RefCell::new(Some(then)));
            let in_cb = slot.clone();
            let started = dns::getaddrinfo(lp, Some(&host), port, hints, move |result| {
                let then = in_cb.borrow_mut().take();
                if let Some(then) = then {
                    then(result.map(|list| {
                        Some(
                            list.into_iter()
                                .map(|e| Entry {
                                    family: e.family,
                                    proto: e.protocol,
                                    addr: e.addr,
                                })
                                .collect(),
                        )
                    }));
                }
            });
            if let Err(err) = started {
                let then = slot.borrow_mut().take();
                if let Some(then) = then {
                    then(Err(err));
                }
            }
        }
    }
}

fn family_of(addr: &SocketAddr) -> i32 {
    if addr.is_ipv6() {
        AF_INET6
    } else {
        AF_INET
    }
}

/// Groups the resolved addresses by (family, protocol) in the order they
/// came (local ones first), pairing the first local and the first remote
/// address of each group; keeps the groups that have every address asked
/// for.
fn candidates(local: Option<&[Entry]>, remote: Option<&[Entry]>) -> Result<Vec<Candidate>> {
    let mut groups: Vec<Candidate> = Vec::new();
    for (is_local, list) in [(true, local), (false, remote)] {
        for e in list.unwrap_or_default() {
            let pos = groups
                .iter()
                .position(|c| (c.family, c.proto) == (e.family, e.proto));
            let group = match pos {
                Some(i) => &mut groups[i],
                None => {
                    groups.push(Candidate {
                        family: e.family,
                        proto: e.proto,
                        local: None,
                        remote: None,
                    });
                    let last = groups.len() - 1;
                    &mut groups[last]
                }
            };
            let slot = if is_local {
                &mut group.local
            } else {
                &mut group.remote
            };
            slot.get_or_insert(e.addr);
        }
    }
    groups.retain(|c| {
        (local.is_none() || c.local.is_some()) && (remote.is_none() || c.remote.is_some())
    });
    if groups.is_empty() {
        return Err(StatusCode::EAI_ADDRFAMILY.into());
    }
    Ok(groups)
}

/// Tries each candidate in turn; the first that works wins, otherwise the
/// first candidate's error is reported.
fn try_candidates(lp: &Loop, candidates: &[Candidate], s: Settings) -> Result<Opened> {
    let mut first_err: Option<Error> = None;
    for c in candidates {
        match try_candidate(lp, c, s) {
            Ok(opened) => return Ok(opened),
            Err(err) => {
                first_err.get_or_insert(err);
            }
        }
    }
    Err(first_err.unwrap_or(StatusCode::EAI_ADDRFAMILY.into()))
}

/// Makes, configures, binds and connects one socket, then hands it to a
/// new UDP handle. Done on the socket before it becomes a handle, so a
/// failed candidate leaves no handle behind (its socket is just dropped).
fn try_candidate(lp: &Loop, c: &Candidate, s: Settings) -> Result<Opened> {
    let domain = if c.family == AF_INET6 {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let protocol = (c.proto != 0).then(|| Protocol::from(c.proto));
    let sock = Socket::new(domain, Type::DGRAM, protocol)?;
    if s.reuse_port {
        sock.set_reuse_port(true)?;
    }
    if s.allow_broadcast {
        sock.set_broadcast(true)?;
    }
    if let Some(local) = c.local {
        sock.bind(&local.into())?;
    }
    let mut connected = false;
    if let Some(remote) = c.remote {
        if !s.allow_broadcast {
            sock.connect(&remote.into())?;
            connected = true;
        }
    }
    let udp = Udp::from_socket(lp, sock)?;
    Ok(Opened {
        udp,
        remote: c.remote,
        connected,
    })
}

/// Checks and adopts a caller's socket (`sock=`).
fn adopt(lp: &Loop, sock: OwnedFd, options: &EndpointOptions) -> Result<Opened> {
    let peer = {
        let sref = SockRef::from(&sock);
        if sref.r#type()? != Type::DGRAM {
            return Err(StatusCode::EPROTOTYPE.into());
        }
        let domain = sref.domain()?;
        if domain != Domain::IPV4 && domain != Domain::IPV6 {
            return Err(StatusCode::EAFNOSUPPORT.into());
        }
        if options.has_socket_modifiers() {
            return Err(StatusCode::EINVAL.into());
        }
        sref.peer_addr().ok().and_then(|a| a.as_socket())
    };
    let udp = Udp::from_socket(lp, sock)?;
    Ok(Opened {
        udp,
        remote: peer,
        connected: peer.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(family: i32, addr: &str) -> Entry {
        Entry {
            family,
            proto: libc::IPPROTO_UDP,
            addr: addr.parse().unwrap(),
        }
    }

    #[test]
    fn groups_pair_by_family_and_keep_the_first_address() {
        let local = [e(AF_INET6, "[::1]:1"), e(AF_INET, "127.0.0.1:1")];
        let remote = [
            e(AF_INET, "127.0.0.2:2"),
            e(AF_INET, "127.0.0.3:2"),
            e(AF_INET6, "[::2]:2"),
        ];
        let found = candidates(Some(&local), Some(&remote)).unwrap();
        assert_eq!(
            found,
            vec![
                Candidate {
                    family: AF_INET6,
                    proto: libc::IPPROTO_UDP,
                    local: Some("[::1]:1".parse().unwrap()),
                    remote: Some("[::2]:2".parse().unwrap()),
                },
                Candidate {
                    family: AF_INET,
                    proto: libc::IPPROTO_UDP,
                    local: Some("127.0.0.1:1".parse().unwrap()),
                    remote: Some("127.0.0.2:2".parse().unwrap()),
                },
            ]
        );
    }

    fn settings() -> Settings {
        Settings {
            family: AF_UNSPEC,
            proto: 0,
            flags: 0,
            reuse_port: false,
            allow_broadcast: false,
        }
    }

    fn bind_to(family: i32, addr: SocketAddr) -> Candidate {
        Candidate {
            family,
            proto: libc::IPPROTO_UDP,
            local: Some(addr),
            remote: None,
        }
    }

    #[test]
    fn the_first_candidate_error_is_reported_when_all_fail() {
        let lp = Loop::new().unwrap();
        let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let in_use = bind_to(AF_INET, taken.local_addr().unwrap());
        // Not an address of this host.
        let foreign = bind_to(AF_INET6, "[2001:db8::1]:0".parse().unwrap());
        let err = |cands: &[Candidate]| match try_candidates(&lp, cands, settings()) {
            Ok(opened) => panic!("opened {:?}", opened.udp),
            Err(err) => err,
        };
        assert_eq!(err(&[in_use, foreign]), StatusCode::EADDRINUSE);
        assert_eq!(err(&[foreign, in_use]), StatusCode::EADDRNOTAVAIL);
        // A later candidate that works wins.
        let free = bind_to(AF_INET, "127.0.0.1:0".parse().unwrap());
        let opened = try_candidates(&lp, &[in_use, foreign, free], settings()).unwrap();
        assert!(opened.udp.sockname().unwrap().ip().is_loopback());
        assert!(!opened.connected);
        opened.udp.close(|| {});
        lp.run(crate::RunMode::NoWait).unwrap();
        lp.close().unwrap();
    }

    #[test]
    fn groups_missing_an_address_are_dropped() {
        let local = [e(AF_INET6, "[::1]:1"), e(AF_INET, "127.0.0.1:1")];
        let remote = [e(AF_INET, "127.0.0.2:2")];
        let found = candidates(Some(&local), Some(&remote)).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].family, AF_INET);
        let only_v6 = [e(AF_INET6, "[::2]:2")];
        let local_v4 = [e(AF_INET, "127.0.0.1:1")];
        assert_eq!(
            candidates(Some(&local_v4), Some(&only_v6)),
            Err(StatusCode::EAI_ADDRFAMILY.into())
        );
        // Only a remote address: every remote group is a candidate.
        let found = candidates(None, Some(&local)).unwrap();
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|c| c.local.is_none()));
    }
}
