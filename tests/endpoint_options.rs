//! `create_datagram_endpoint`: option validation (the CPython 3.13 matrix,
//! with ruv's exact status codes), resolution (literals never touch the
//! resolver, names do), candidates, and the socket options it sets.

mod endpoint_common;
mod util;

use endpoint_common::*;
use ruv::endpoint::{create_datagram_endpoint, EndpointOptions};
use ruv::udp::{AF_INET, AF_INET6};
use ruv::{Error, Loop, RunMode, StatusCode, Udp, UdpFlags};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// Opens an endpoint that must fail; checks the factory was not called.
fn fail(lp: &Loop, options: EndpointOptions) -> Error {
    let called = Rc::new(Cell::new(false));
    let c = called.clone();
    let opened = open_with(lp, options, move |log| {
        c.set(true);
        Recorder::new(log)
    });
    match opened {
        Ok((t, _, _)) => panic!("endpoint made unexpectedly: {t:?}"),
        Err(err) => {
            assert!(!called.get(), "factory called for a failed endpoint");
            err
        }
    }
}

fn udp_fd() -> OwnedFd {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().into()
}

type Got = Rc<RefCell<Vec<(Vec<u8>, SocketAddr)>>>;

/// A receiver on `127.0.0.1`: its address and what it got.
fn receiver(lp: &Loop) -> (Udp, SocketAddr, Got) {
    let (udp, addr) = util::bound_udp(lp);
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    udp.receive_start(move |_, r| {
        let d = r.unwrap();
        g.borrow_mut().push((d.data.to_vec(), d.addr));
    })
    .unwrap();
    (udp, addr, got)
}

fn finish(lp: &Loop, transports: &[&ruv::endpoint::DatagramTransport], handles: &[&Udp]) {
    for t in transports {
        t.close();
    }
    for h in handles {
        h.close(|| {});
    }
    run_to_end(lp);
    lp.close().unwrap();
}

// ------------------------------------------------------------------ sock

#[test]
fn sock_with_any_other_option_is_einval() {
    let lp = Loop::new().unwrap();
    type Modify = fn(&mut EndpointOptions);
    let modifiers: [(&str, Modify); 7] = [
        ("local_addr", |o| {
            o.local_addr = Some(("127.0.0.1".into(), 0))
        }),
        ("remote_addr", |o| {
            o.remote_addr = Some(("127.0.0.1".into(), 9))
        }),
        ("family", |o| o.family = AF_INET),
        ("proto", |o| o.proto = libc::IPPROTO_UDP),
        ("flags", |o| o.flags = ruv::dns::AI_PASSIVE),
        ("reuse_port", |o| o.reuse_port = true),
        ("allow_broadcast", |o| o.allow_broadcast = true),
    ];
    for (name, modify) in modifiers {
        let mut options = EndpointOptions::socket(udp_fd());
        modify(&mut options);
        assert_eq!(fail(&lp, options), st(StatusCode::EINVAL), "sock + {name}");
    }
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

#[test]
fn sock_of_the_wrong_kind_is_rejected() {
    let lp = Loop::new().unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        fail(&lp, EndpointOptions::socket(tcp)),
        st(StatusCode::EPROTOTYPE)
    );
    // The type is checked first, as in CPython.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let options = EndpointOptions::socket(tcp).with_local_addr("127.0.0.1", 0);
    assert_eq!(fail(&lp, options), st(StatusCode::EPROTOTYPE));
    let file = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(
        fail(&lp, EndpointOptions::socket(file)),
        st(StatusCode::ENOTSOCK)
    );
    let unix = std::os::unix::net::UnixDatagram::unbound().unwrap();
    assert_eq!(
        fail(&lp, EndpointOptions::socket(unix)),
        st(StatusCode::EAFNOSUPPORT)
    );
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

#[test]
fn a_bound_sock_is_used_as_it_is() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, got) = receiver(&lp);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let (t, _, log) = open(&lp, EndpointOptions::socket(sock)).unwrap();
    assert_eq!(t.sockname(), Some(addr));
    assert_eq!(t.peername(), None);
    assert_eq!(t.sendto(b"x", None), Err(st(StatusCode::EDESTADDRREQ)));
    t.sendto(b"from sock", Some(raddr)).unwrap();
    run_until(&lp, || !got.borrow().is_empty());
    assert_eq!(*got.borrow(), vec![(b"from sock".to_vec(), addr)]);
    assert_eq!(entries(&log), ["made"]);
    finish(&lp, &[&t], &[&rx]);
}

#[test]
fn a_connected_sock_fixes_the_destination() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, got) = receiver(&lp);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(raddr).unwrap();
    let addr = sock.local_addr().unwrap();
    let (t, _, _) = open(&lp, EndpointOptions::socket(sock)).unwrap();
    assert_eq!(t.peername(), Some(raddr));
    assert_eq!(
        t.sendto(b"elsewhere", Some(util::any_v4())),
        Err(st(StatusCode::EISCONN))
    );
    t.sendto(b"one", None).unwrap();
    t.sendto(b"two", Some(raddr)).unwrap();
    run_until(&lp, || got.borrow().len() == 2);
    assert_eq!(
        *got.borrow(),
        vec![(b"one".to_vec(), addr), (b"two".to_vec(), addr)]
    );
    finish(&lp, &[&t], &[&rx]);
}

// --------------------------------------------------------- family checks

#[test]
fn neither_address_nor_family_is_einval() {
    let lp = Loop::new().unwrap();
    assert_eq!(
        fail(&lp, EndpointOptions::default()),
        st(StatusCode::EINVAL)
    );
    // proto, flags and the socket options do not make up for it.
    let options = EndpointOptions::default()
        .with_proto(libc::IPPROTO_UDP)
        .with_flags(ruv::dns::AI_PASSIVE)
        .with_reuse_port(true)
        .with_allow_broadcast(true);
    assert_eq!(fail(&lp, options), st(StatusCode::EINVAL));
    lp.close().unwrap();
}

#[test]
fn families_other_than_inet_and_inet6_are_eafnosupport() {
    let lp = Loop::new().unwrap();
    for family in [libc::AF_UNIX, libc::AF_PACKET, 12345] {
        let options = EndpointOptions::default().with_family(family);
        assert_eq!(fail(&lp, options), st(StatusCode::EAFNOSUPPORT));
        let options = EndpointOptions::local("127.0.0.1", 0).with_family(family);
        assert_eq!(fail(&lp, options), st(StatusCode::EAFNOSUPPORT));
    }
    lp.close().unwrap();
}

#[test]
fn a_family_alone_makes_an_unbound_socket() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, got) = receiver(&lp);
    let options = EndpointOptions::default().with_family(AF_INET);
    let (t, _, _) = open(&lp, options).unwrap();
    assert_eq!(t.sockname(), Some("0.0.0.0:0".parse().unwrap()));
    assert_eq!(t.peername(), None);
    assert_eq!(t.socket().family(), Ok(AF_INET));
    assert_eq!(t.sendto(b"x", None), Err(st(StatusCode::EDESTADDRREQ)));
    // The first send binds it to a free port.
    t.sendto(b"autobind", Some(raddr)).unwrap();
    let bound = t.socket().local_addr().unwrap();
    assert_ne!(bound.port(), 0);
    run_until(&lp, || !got.borrow().is_empty());
    assert_eq!(got.borrow()[0].0, b"autobind");
    assert_eq!(got.borrow()[0].1.port(), bound.port());

    let options = EndpointOptions::default().with_family(AF_INET6);
    let (t6, _, _) = open(&lp, options).unwrap();
    assert_eq!(t6.sockname(), Some("[::]:0".parse().unwrap()));
    assert_eq!(t6.socket().family(), Ok(AF_INET6));
    finish(&lp, &[&t, &t6], &[&rx]);
}

#[test]
fn a_literal_of_another_family_is_eai_addrfamily() {
    let lp = Loop::new().unwrap();
    let options = EndpointOptions::local("127.0.0.1", 0).with_family(AF_INET6);
    assert_eq!(fail(&lp, options), st(StatusCode::EAI_ADDRFAMILY));
    let options = EndpointOptions::remote("::1", 9).with_family(AF_INET);
    assert_eq!(fail(&lp, options), st(StatusCode::EAI_ADDRFAMILY));
    // Local and remote with no family in common.
    let options = EndpointOptions::local("127.0.0.1", 0).with_remote_addr("::1", 9);
    assert_eq!(fail(&lp, options), st(StatusCode::EAI_ADDRFAMILY));
    lp.close().unwrap();
}

// ------------------------------------------------------------ resolution

/// Runs one `NoWait` iteration and tells whether the endpoint was done.
fn done_after_one_iteration(lp: &Loop, options: EndpointOptions) -> (bool, Opened) {
    let result = Rc::new(RefCell::new(None));
    let log = Log::default();
    let (r, l) = (result.clone(), log.clone());
    create_datagram_endpoint(
        lp,
        move || Recorder::new(l),
        options,
        move |res| {
            *r.borrow_mut() = Some(res);
        },
    );
    assert!(result.borrow().is_none(), "on_done ran synchronously");
    lp.run(RunMode::NoWait).unwrap();
    let first = result.borrow().is_some();
    run_until(lp, || result.borrow().is_some());
    let (t, p) = match result.borrow_mut().take().unwrap() {
        Ok(opened) => opened,
        Err(err) => panic!("endpoint failed: {err}"),
    };
    (first, (t, p, log))
}

#[test]
fn literals_complete_without_a_resolver_round_trip() {
    // A name can complete only in a poll phase after its resolver thread
    // woke the loop; a literal completes in the very timer callback that
    // started the work, so one NoWait iteration is enough.
    let lp = Loop::new().unwrap();
    let mut made = Vec::new();
    for host in ["127.0.0.1", "::1", "::1%1", "::1%lo"] {
        let (first, (t, _, log)) = done_after_one_iteration(&lp, local(host));
        assert!(first, "{host} needed more than one iteration");
        assert_eq!(entries(&log), ["made"]);
        let ip = t.sockname().unwrap().ip();
        assert!(ip.is_loopback(), "{host}: {ip}");
        made.push(t);
    }
    let refs: Vec<_> = made.iter().collect();
    finish(&lp, &refs, &[]);
}

#[test]
fn names_go_through_the_resolver() {
    let lp = Loop::new().unwrap();
    let (first, (t, _, log)) = done_after_one_iteration(&lp, local("localhost"));
    assert!(!first, "localhost completed without the resolver");
    assert_eq!(entries(&log), ["made"]);
    let addr = t.sockname().unwrap();
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_ne!(addr.port(), 0);
    finish(&lp, &[&t], &[]);
}

#[test]
fn remote_names_resolve_too() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, got) = receiver(&lp);
    let options = EndpointOptions::remote("localhost", raddr.port()).with_family(AF_INET);
    let (t, _, _) = open(&lp, options).unwrap();
    assert_eq!(t.peername(), Some(raddr));
    t.sendto(b"via name", None).unwrap();
    run_until(&lp, || !got.borrow().is_empty());
    assert_eq!(got.borrow()[0].0, b"via name");
    finish(&lp, &[&t], &[&rx]);
}

#[test]
fn an_unknown_name_is_a_resolver_error() {
    let lp = Loop::new().unwrap();
    // A space makes it an invalid host name: no DNS server is needed to
    // reject it.
    let err = fail(&lp, EndpointOptions::remote("no such host.invalid", 9));
    assert!(
        [
            StatusCode::EAI_NONAME,
            StatusCode::EAI_NODATA,
            StatusCode::EAI_AGAIN,
            StatusCode::EAI_FAIL
        ]
        .contains(&err.code()),
        "{err}"
    );
    let err = fail(&lp, EndpointOptions::local("bad\0name", 0));
    assert_eq!(err, st(StatusCode::EINVAL));
    lp.close().unwrap();
}

#[test]
fn an_ipv6_zone_naming_no_interface_is_eai_noname() {
    let lp = Loop::new().unwrap();
    assert_eq!(
        fail(&lp, local("fe80::1%no-such-if0")),
        st(StatusCode::EAI_NONAME)
    );
    lp.close().unwrap();
}

// ------------------------------------------------------------ candidates

#[test]
fn an_address_in_use_is_the_reported_error() {
    let lp = Loop::new().unwrap();
    let (taken, addr) = util::bound_udp(&lp);
    let options = EndpointOptions::local("127.0.0.1", addr.port());
    assert_eq!(fail(&lp, options), st(StatusCode::EADDRINUSE));
    finish(&lp, &[], &[&taken]);
}

#[test]
fn reuse_port_shares_a_port_and_reuseaddr_is_never_set() {
    let lp = Loop::new().unwrap();
    let shared = local("127.0.0.1").with_reuse_port(true);
    let (a, _, _) = open(&lp, shared).unwrap();
    let port = a.sockname().unwrap().port();
    let again = EndpointOptions::local("127.0.0.1", port).with_reuse_port(true);
    let (b, _, _) = open(&lp, again).unwrap();
    assert_eq!(b.sockname(), a.sockname());
    let (plain, _, _) = open(&lp, local("127.0.0.1")).unwrap();
    for (t, reuse_port) in [(&a, 1), (&b, 1), (&plain, 0)] {
        let fd = t.fileno().unwrap();
        assert_eq!(get_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR), 0);
        assert_eq!(
            get_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT),
            reuse_port
        );
        assert_eq!(get_int(fd, libc::SOL_SOCKET, libc::SO_BROADCAST), 0);
    }
    // Without the flag the port stays taken.
    let taken = EndpointOptions::local("127.0.0.1", port);
    assert_eq!(fail(&lp, taken), st(StatusCode::EADDRINUSE));
    finish(&lp, &[&a, &b, &plain], &[]);
}

#[test]
fn allow_broadcast_sets_so_broadcast_and_keeps_the_remote_as_default() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, got) = receiver(&lp);
    let options = EndpointOptions::remote("127.0.0.1", raddr.port()).with_allow_broadcast(true);
    let (t, _, _) = open(&lp, options).unwrap();
    let fd = t.fileno().unwrap();
    assert_eq!(get_int(fd, libc::SOL_SOCKET, libc::SO_BROADCAST), 1);
    assert_eq!(get_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR), 0);
    // Not connected (replies to a broadcast come from other addresses)...
    assert_eq!(t.peername(), None);
    assert_eq!(t.socket().peer_addr(), Err(st(StatusCode::ENOTCONN)));
    // ...but the remote address is the default and only destination.
    assert_eq!(
        t.sendto(b"x", Some(util::any_v4())),
        Err(st(StatusCode::EISCONN))
    );
    t.sendto(b"default", None).unwrap();
    t.sendto(b"explicit", Some(raddr)).unwrap();
    run_until(&lp, || got.borrow().len() == 2);
    let sent: Vec<_> = got.borrow().iter().map(|(d, _)| d.clone()).collect();
    assert_eq!(sent, [b"default".to_vec(), b"explicit".to_vec()]);
    finish(&lp, &[&t], &[&rx]);
}

#[test]
fn remote_addr_connects_and_local_addr_binds() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, _) = receiver(&lp);
    let options =
        EndpointOptions::remote("127.0.0.1", raddr.port()).with_local_addr("127.0.0.1", 0);
    let (t, _, _) = open(&lp, options).unwrap();
    assert_eq!(t.peername(), Some(raddr));
    assert_eq!(t.socket().peer_addr(), Ok(raddr));
    let local = t.sockname().unwrap();
    assert_eq!(local.ip(), raddr.ip());
    assert_ne!(local.port(), 0);
    assert_eq!(
        get_int(t.fileno().unwrap(), libc::SOL_SOCKET, libc::SO_REUSEADDR),
        0
    );
    finish(&lp, &[&t], &[&rx]);
}

#[test]
fn connection_made_runs_before_on_done_and_on_done_from_the_loop() {
    let lp = Loop::new().unwrap();
    let order = Rc::new(RefCell::new(Vec::new()));
    let returned = Rc::new(Cell::new(false));
    let (o, o2, ret) = (order.clone(), order.clone(), returned.clone());
    create_datagram_endpoint(
        &lp,
        move || {
            o.borrow_mut().push("factory");
            let log = Log::default();
            let mut r = Recorder::new(log);
            let o = o.clone();
            r.on_made = Some(Box::new(move |_, ()| o.borrow_mut().push("made")));
            r
        },
        local("127.0.0.1"),
        move |res| {
            assert!(ret.get());
            o2.borrow_mut().push("done");
            res.unwrap().0.close();
        },
    );
    returned.set(true);
    assert!(order.borrow().is_empty());
    run_to_end(&lp);
    assert_eq!(*order.borrow(), ["factory", "made", "done"]);
    lp.close().unwrap();
}

#[test]
fn udp_handles_of_the_loop_are_unaffected() {
    // The endpoint's handle is an ordinary UDP handle of the loop.
    let lp = Loop::new().unwrap();
    let (t, _, _) = open(&lp, local("127.0.0.1")).unwrap();
    let mut udps = 0;
    lp.walk(|h| {
        if h.handle_type() == ruv::HandleType::Udp {
            udps += 1;
        }
    });
    assert_eq!(udps, 1);
    let other = Udp::new(&lp);
    other.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    finish(&lp, &[&t], &[&other]);
}
