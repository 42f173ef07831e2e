//! Black-box tests of the UDP handle's synchronous API: creation, binding,
//! adopting sockets, connecting, argument checks, socket options, the
//! closed-handle error and the address helpers.

mod util;

use ruv::udp::{AF_INET, AF_INET6, AF_UNSPEC};
use ruv::{Error, HandleType, Loop, Membership, RunMode, StatusCode, Udp, UdpFlags};
use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, SocketAddrV6, TcpListener, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;

/// No buffers at all (an argument error for sends).
const NO_BUFS: &[&[u8]] = &[];

fn status<T>(code: StatusCode) -> ruv::Result<T> {
    Err(Error::Status(code))
}

fn sa(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// Runs the loop until nothing is left alive, with a watchdog.
fn run_to_end(lp: &Loop) {
    let dog = util::watchdog(lp, 10_000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
}

/// A fresh pipe; the read end (not a socket).
fn pipe_read_end() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2 failed");
    // SAFETY: pipe2 succeeded, so both descriptors are open and ours alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(write);
    read
}

// ---------------------------------------------------------------- creation

#[test]
fn new_handle_is_lazy() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(udp.family(), Ok(None));
    assert_eq!(udp.sockname(), status(StatusCode::EBADF));
    assert_eq!(udp.peername(), status(StatusCode::EBADF));
    assert_eq!(udp.fileno(), status(StatusCode::EBADF));
    assert_eq!(udp.send_buffer_size(), status(StatusCode::EBADF));
    assert_eq!(udp.recv_buffer_size(), status(StatusCode::EBADF));
    assert_eq!(udp.is_connected(), Ok(false));
    assert_eq!(udp.send_queue_count(), Ok(0));
    assert_eq!(udp.send_queue_size(), Ok(0));
    assert!(!udp.is_active());
    assert!(!udp.is_receiving());
    assert!(!udp.is_closing());
    assert!(!udp.is_closed());
    assert!(udp.has_ref());
    // A lazy handle that is not active does not keep the loop alive.
    assert!(!lp.alive());
    assert_eq!(lp.handle_count(), 1);
    udp.close(|| {});
    run_to_end(&lp);
    lp.close().unwrap();
}

#[test]
fn type_name_and_handle_type() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(udp.type_name(), "udp");
    assert_eq!(udp.handle_type(), HandleType::Udp);
    assert_eq!(HandleType::Udp as i32, 15);
    assert_eq!(HandleType::Udp.name(), "udp");
    assert_eq!(HandleType::Udp.to_string(), "udp");
    let generic: ruv::Handle = udp.clone().into();
    assert_eq!(generic.handle_type(), HandleType::Udp);
    assert_eq!(generic.type_name(), "udp");
    assert!(generic.get_loop().same_loop(&lp));
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn with_family_creates_socket_at_once() {
    let lp = Loop::new().unwrap();
    let v4 = Udp::with_family(&lp, AF_INET).unwrap();
    assert_eq!(v4.family(), Ok(Some(AF_INET)));
    assert!(v4.fileno().unwrap() >= 0);
    // The socket exists but is not bound yet.
    assert_eq!(v4.sockname(), Ok(sa("0.0.0.0:0")));
    assert_eq!(v4.peername(), status(StatusCode::ENOTCONN));

    let v6 = Udp::with_family(&lp, AF_INET6).unwrap();
    assert_eq!(v6.family(), Ok(Some(AF_INET6)));
    assert!(v6.fileno().unwrap() >= 0);
    assert_ne!(v6.fileno(), v4.fileno());
    assert_eq!(v6.sockname(), Ok(sa("[::]:0")));

    let lazy = Udp::with_family(&lp, AF_UNSPEC).unwrap();
    assert_eq!(lazy.family(), Ok(None));
    assert_eq!(lazy.fileno(), status(StatusCode::EBADF));
    assert_eq!(lazy.sockname(), status(StatusCode::EBADF));

    assert_eq!(lp.handle_count(), 3);
    for handle in [&v4, &v6, &lazy] {
        handle.close(|| {});
    }
    run_to_end(&lp);
    lp.close().unwrap();
}

#[test]
fn with_family_rejects_unsupported_families() {
    let lp = Loop::new().unwrap();
    for family in [12345, -1, libc::AF_UNIX, libc::AF_PACKET] {
        assert_eq!(
            Udp::with_family(&lp, family),
            status(StatusCode::EINVAL),
            "family {family}"
        );
    }
    // A failed creation leaves no handle behind.
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

#[test]
fn with_family_socket_binds_its_own_family_only() {
    let lp = Loop::new().unwrap();
    let v4 = Udp::with_family(&lp, AF_INET).unwrap();
    assert_eq!(
        v4.bind(util::any_v6(), UdpFlags::empty()),
        status(StatusCode::EINVAL)
    );
    v4.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    let addr = v4.sockname().unwrap();
    assert_eq!(addr.ip(), sa("127.0.0.1:0").ip());
    assert_ne!(addr.port(), 0);

    let v6 = Udp::with_family(&lp, AF_INET6).unwrap();
    assert_eq!(
        v6.bind(util::any_v4(), UdpFlags::empty()),
        status(StatusCode::EINVAL)
    );
    v6.bind(util::any_v6(), UdpFlags::empty()).unwrap();
    assert_eq!(v6.sockname().unwrap().ip(), sa("[::1]:0").ip());
    v4.close(|| {});
    v6.close(|| {});
    run_to_end(&lp);
}

// ------------------------------------------------------------------- bind

#[test]
fn bind_creates_socket_and_reports_address() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    udp.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    assert_eq!(udp.family(), Ok(Some(AF_INET)));
    let addr = udp.sockname().unwrap();
    assert_eq!(addr.ip(), sa("127.0.0.1:0").ip());
    assert_ne!(addr.port(), 0);
    assert!(udp.fileno().unwrap() >= 0);
    // Binding alone does not make the handle active.
    assert!(!udp.is_active());

    let udp6 = Udp::new(&lp);
    udp6.bind(util::any_v6(), UdpFlags::empty()).unwrap();
    assert_eq!(udp6.family(), Ok(Some(AF_INET6)));
    let addr6 = udp6.sockname().unwrap();
    assert_eq!(addr6.ip(), sa("[::1]:0").ip());
    assert_ne!(addr6.port(), 0);
    udp.close(|| {});
    udp6.close(|| {});
    run_to_end(&lp);
}

#[test]
fn bind_twice_is_einval() {
    let lp = Loop::new().unwrap();
    let (udp, addr) = util::bound_udp(&lp);
    assert_eq!(
        udp.bind(util::any_v4(), UdpFlags::empty()),
        status(StatusCode::EINVAL)
    );
    assert_eq!(
        udp.bind(addr, UdpFlags::empty()),
        status(StatusCode::EINVAL)
    );
    // The first binding is untouched.
    assert_eq!(udp.sockname(), Ok(addr));
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn bind_port_in_use_is_eaddrinuse() {
    let lp = Loop::new().unwrap();
    let (first, addr) = util::bound_udp(&lp);
    let second = Udp::new(&lp);
    assert_eq!(
        second.bind(addr, UdpFlags::empty()),
        status(StatusCode::EADDRINUSE)
    );
    // A port held by a plain std socket counts too.
    let std_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let third = Udp::new(&lp);
    assert_eq!(
        third.bind(std_sock.local_addr().unwrap(), UdpFlags::empty()),
        status(StatusCode::EADDRINUSE)
    );
    for h in [&first, &second, &third] {
        h.close(|| {});
    }
    run_to_end(&lp);
}

#[test]
fn bind_rejects_unknown_flags_before_creating_a_socket() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    for flags in [
        UdpFlags::from_bits_retain(1 << 20),
        UdpFlags::PARTIAL,
        UdpFlags::RECVMMSG,
        UdpFlags::REUSEADDR | UdpFlags::from_bits_retain(1 << 20),
    ] {
        assert_eq!(
            udp.bind(util::any_v4(), flags),
            status(StatusCode::EINVAL),
            "{flags:?}"
        );
    }
    assert_eq!(udp.family(), Ok(None));
    assert_eq!(udp.fileno(), status(StatusCode::EBADF));
    // The handle is still usable.
    udp.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn bind_ipv6only_with_ipv4_address_is_einval() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(
        udp.bind(util::any_v4(), UdpFlags::IPV6ONLY),
        status(StatusCode::EINVAL)
    );
    assert_eq!(udp.family(), Ok(None));
    // With an IPv6 address the flag is fine.
    udp.bind(util::any_v6(), UdpFlags::IPV6ONLY).unwrap();
    assert_eq!(udp.family(), Ok(Some(AF_INET6)));
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn bind_ipv6only_leaves_the_ipv4_port_free() {
    let lp = Loop::new().unwrap();
    // Dual stack: an IPv6 wildcard socket also holds the IPv4 port.
    let dual = Udp::new(&lp);
    dual.bind(sa("[::]:0"), UdpFlags::empty()).unwrap();
    let port = dual.sockname().unwrap().port();
    let v4 = Udp::new(&lp);
    assert_eq!(
        v4.bind(SocketAddr::from(([127, 0, 0, 1], port)), UdpFlags::empty()),
        status(StatusCode::EADDRINUSE)
    );

    // IPV6ONLY: the IPv4 port stays free.
    let only = Udp::new(&lp);
    only.bind(sa("[::]:0"), UdpFlags::IPV6ONLY).unwrap();
    let port = only.sockname().unwrap().port();
    let v4b = Udp::new(&lp);
    v4b.bind(SocketAddr::from(([127, 0, 0, 1], port)), UdpFlags::empty())
        .unwrap();
    assert_eq!(v4b.sockname().unwrap().port(), port);
    for h in [&dual, &v4, &only, &v4b] {
        h.close(|| {});
    }
    run_to_end(&lp);
}

#[test]
fn reuseaddr_lets_two_handles_share_a_port() {
    let lp = Loop::new().unwrap();
    let a = Udp::new(&lp);
    a.bind(util::any_v4(), UdpFlags::REUSEADDR).unwrap();
    let addr = a.sockname().unwrap();
    let b = Udp::new(&lp);
    b.bind(addr, UdpFlags::REUSEADDR).unwrap();
    assert_eq!(b.sockname(), Ok(addr));
    // A third handle without the flag may not join them.
    let c = Udp::new(&lp);
    assert_eq!(
        c.bind(addr, UdpFlags::empty()),
        status(StatusCode::EADDRINUSE)
    );
    for h in [&a, &b, &c] {
        h.close(|| {});
    }
    run_to_end(&lp);
}

#[test]
fn reuseport_lets_two_handles_share_a_port() {
    let lp = Loop::new().unwrap();
    let a = Udp::new(&lp);
    a.bind(util::any_v4(), UdpFlags::REUSEPORT).unwrap();
    let addr = a.sockname().unwrap();
    let b = Udp::new(&lp);
    b.bind(addr, UdpFlags::REUSEPORT).unwrap();
    assert_eq!(b.sockname(), Ok(addr));
    let c = Udp::new(&lp);
    assert_eq!(
        c.bind(addr, UdpFlags::empty()),
        status(StatusCode::EADDRINUSE)
    );
    // IPv6 as well.
    let d = Udp::new(&lp);
    d.bind(util::any_v6(), UdpFlags::REUSEPORT).unwrap();
    let addr6 = d.sockname().unwrap();
    let e = Udp::new(&lp);
    e.bind(addr6, UdpFlags::REUSEPORT).unwrap();
    assert_eq!(e.sockname(), Ok(addr6));
    for h in [&a, &b, &c, &d, &e] {
        h.close(|| {});
    }
    run_to_end(&lp);
}

#[test]
fn bind_accepts_linux_recverr() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    udp.bind(
        util::any_v4(),
        UdpFlags::LINUX_RECVERR | UdpFlags::REUSEADDR,
    )
    .unwrap();
    let udp6 = Udp::new(&lp);
    udp6.bind(util::any_v6(), UdpFlags::LINUX_RECVERR | UdpFlags::IPV6ONLY)
        .unwrap();
    udp.close(|| {});
    udp6.close(|| {});
    run_to_end(&lp);
}

// ------------------------------------------------------------------- open

#[test]
fn open_adopts_a_bound_std_socket() {
    let lp = Loop::new().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let fd = sock.as_raw_fd();
    let probe = sock.try_clone().unwrap();
    assert!(!socket2::SockRef::from(&probe).nonblocking().unwrap());
    let udp = Udp::new(&lp);
    udp.open(sock).unwrap();
    assert_eq!(udp.family(), Ok(Some(AF_INET)));
    assert_eq!(udp.sockname(), Ok(addr));
    assert_eq!(udp.fileno(), Ok(fd));
    assert_eq!(udp.is_connected(), Ok(false));
    assert_eq!(udp.peername(), status(StatusCode::ENOTCONN));
    // open makes the socket non-blocking (the flag is shared with the dup).
    assert!(socket2::SockRef::from(&probe).nonblocking().unwrap());
    // A bound socket cannot be bound again.
    assert_eq!(
        udp.bind(util::any_v4(), UdpFlags::empty()),
        status(StatusCode::EINVAL)
    );
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn from_socket_adopts_socket2_sockets_of_both_families() {
    let lp = Loop::new().unwrap();
    let s6 = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::DGRAM, None).unwrap();
    s6.bind(&util::any_v6().into()).unwrap();
    let addr6 = s6.local_addr().unwrap().as_socket().unwrap();
    let udp6 = Udp::from_socket(&lp, s6).unwrap();
    assert_eq!(udp6.family(), Ok(Some(AF_INET6)));
    assert_eq!(udp6.sockname(), Ok(addr6));
    assert_eq!(udp6.type_name(), "udp");

    // An unbound socket is adopted as it is.
    let s4 = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    let udp4 = Udp::from_socket(&lp, s4).unwrap();
    assert_eq!(udp4.family(), Ok(Some(AF_INET)));
    assert_eq!(udp4.sockname(), Ok(sa("0.0.0.0:0")));
    udp4.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    assert_eq!(udp4.sockname().unwrap().ip(), sa("127.0.0.1:0").ip());
    assert_eq!(lp.handle_count(), 2);
    udp6.close(|| {});
    udp4.close(|| {});
    run_to_end(&lp);
}

#[test]
fn open_keeps_a_connected_sockets_peer() {
    let lp = Loop::new().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(peer_addr).unwrap();
    let local = sock.local_addr().unwrap();
    let udp = Udp::from_socket(&lp, sock).unwrap();
    assert_eq!(udp.is_connected(), Ok(true));
    assert_eq!(udp.peername(), Ok(peer_addr));
    assert_eq!(udp.sockname(), Ok(local));
    // Connected: no address allowed, and connecting again is EISCONN.
    assert_eq!(
        udp.try_send(&[b"x"], Some(peer_addr)),
        status(StatusCode::EISCONN)
    );
    assert_eq!(udp.connect(Some(peer_addr)), status(StatusCode::EISCONN));
    assert_eq!(udp.try_send(&[b"hi"], None), Ok(2));
    let mut buf = [0u8; 8];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"hi"[..], local));
    udp.connect(None).unwrap();
    assert_eq!(udp.is_connected(), Ok(false));
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn open_on_a_handle_with_a_socket_is_ebusy() {
    let lp = Loop::new().unwrap();
    let (udp, addr) = util::bound_udp(&lp);
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(udp.open(other), status(StatusCode::EBUSY));
    assert_eq!(udp.sockname(), Ok(addr));

    let created = Udp::with_family(&lp, AF_INET6).unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(created.open(other), status(StatusCode::EBUSY));
    assert_eq!(created.family(), Ok(Some(AF_INET6)));

    let opened = Udp::from_socket(&lp, UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(opened.open(other), status(StatusCode::EBUSY));
    for h in [&udp, &created, &opened] {
        h.close(|| {});
    }
    run_to_end(&lp);
}

#[test]
fn open_rejects_a_tcp_socket() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(udp.open(tcp), status(StatusCode::EINVAL));
    assert_eq!(udp.family(), Ok(None));
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(Udp::from_socket(&lp, tcp), status(StatusCode::EINVAL));
    // The failed from_socket left no handle behind; the failed open left
    // the handle lazy and usable.
    assert_eq!(lp.handle_count(), 1);
    udp.open(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    assert_eq!(udp.family(), Ok(Some(AF_INET)));
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn open_rejects_a_unix_datagram_socket() {
    let lp = Loop::new().unwrap();
    let unix = std::os::unix::net::UnixDatagram::unbound().unwrap();
    assert_eq!(Udp::from_socket(&lp, unix), status(StatusCode::EINVAL));
    assert_eq!(lp.handle_count(), 0);
}

#[test]
fn open_rejects_a_non_socket() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(udp.open(pipe_read_end()), status(StatusCode::ENOTSOCK));
    let file = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(udp.open(file), status(StatusCode::ENOTSOCK));
    assert_eq!(
        Udp::from_socket(&lp, pipe_read_end()),
        status(StatusCode::ENOTSOCK)
    );
    assert_eq!(udp.family(), Ok(None));
    assert_eq!(lp.handle_count(), 1);
    udp.close(|| {});
    run_to_end(&lp);
}

// ---------------------------------------------------------------- connect

#[test]
fn connect_and_disconnect() {
    let lp = Loop::new().unwrap();
    let (peer, peer_addr) = util::bound_udp(&lp);
    let udp = Udp::new(&lp);
    assert_eq!(udp.connect(None), status(StatusCode::ENOTCONN));
    udp.connect(Some(peer_addr)).unwrap();
    // Connecting created and bound the socket.
    assert_eq!(udp.family(), Ok(Some(AF_INET)));
    assert_eq!(udp.is_connected(), Ok(true));
    assert_eq!(udp.peername(), Ok(peer_addr));
    let local = udp.sockname().unwrap();
    assert_eq!(local.ip(), peer_addr.ip());
    assert_ne!(local.port(), 0);

    assert_eq!(udp.connect(Some(peer_addr)), status(StatusCode::EISCONN));
    assert_eq!(udp.peername(), Ok(peer_addr));

    udp.connect(None).unwrap();
    assert_eq!(udp.is_connected(), Ok(false));
    assert_eq!(udp.peername(), status(StatusCode::ENOTCONN));
    assert_eq!(udp.connect(None), status(StatusCode::ENOTCONN));

    // It may connect again, elsewhere.
    let (other, other_addr) = util::bound_udp(&lp);
    udp.connect(Some(other_addr)).unwrap();
    assert_eq!(udp.peername(), Ok(other_addr));
    for h in [&peer, &udp, &other] {
        h.close(|| {});
    }
    run_to_end(&lp);
}

#[test]
fn connect_ipv6() {
    let lp = Loop::new().unwrap();
    let peer = Udp::new(&lp);
    peer.bind(util::any_v6(), UdpFlags::empty()).unwrap();
    let peer_addr = peer.sockname().unwrap();
    let udp = Udp::new(&lp);
    udp.connect(Some(peer_addr)).unwrap();
    assert_eq!(udp.family(), Ok(Some(AF_INET6)));
    assert_eq!(udp.peername(), Ok(peer_addr));
    assert_eq!(udp.try_send(&[b"six"], None), Ok(3));
    udp.connect(None).unwrap();
    assert_eq!(udp.peername(), status(StatusCode::ENOTCONN));
    peer.close(|| {});
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn send_destination_rules() {
    let lp = Loop::new().unwrap();
    let (peer, peer_addr) = util::bound_udp(&lp);
    let udp = Udp::new(&lp);
    let called = Rc::new(Cell::new(0));

    // Unconnected: an address is required.
    let c = called.clone();
    assert_eq!(
        udp.send(&[b"x"], None, move |_, _| c.set(c.get() + 1))
            .map(|_| ()),
        status(StatusCode::EDESTADDRREQ)
    );
    assert_eq!(
        udp.try_send(&[b"x"], None),
        status(StatusCode::EDESTADDRREQ)
    );

    // Connected: an address is refused.
    udp.connect(Some(peer_addr)).unwrap();
    let c = called.clone();
    assert_eq!(
        udp.send(&[b"x"], Some(peer_addr), move |_, _| c.set(c.get() + 1))
            .map(|_| ()),
        status(StatusCode::EISCONN)
    );
    assert_eq!(
        udp.try_send(&[b"x"], Some(peer_addr)),
        status(StatusCode::EISCONN)
    );
    // Failed sends are not counted and never call back.
    assert_eq!(udp.send_queue_count(), Ok(0));
    assert_eq!(udp.send_queue_size(), Ok(0));
    assert!(!lp.alive());
    run_to_end(&lp);
    assert_eq!(called.get(), 0);
    peer.close(|| {});
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn send_with_zero_buffers_is_einval() {
    let lp = Loop::new().unwrap();
    let (peer, peer_addr) = util::bound_udp(&lp);
    let udp = Udp::new(&lp);
    let called = Rc::new(Cell::new(false));
    let c = called.clone();
    assert_eq!(
        udp.send(NO_BUFS, Some(peer_addr), move |_, _| c.set(true))
            .map(|_| ()),
        status(StatusCode::EINVAL)
    );
    assert_eq!(
        udp.try_send(NO_BUFS, Some(peer_addr)),
        status(StatusCode::EINVAL)
    );
    assert_eq!(udp.send_queue_count(), Ok(0));
    run_to_end(&lp);
    assert!(!called.get());
    peer.close(|| {});
    udp.close(|| {});
    run_to_end(&lp);
}

// ---------------------------------------------------------------- try_send

#[test]
fn try_send_returns_bytes_and_auto_binds() {
    let lp = Loop::new().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(
        udp.try_send(&[&b"abc"[..], &b"de"[..]], Some(peer_addr)),
        Ok(5)
    );
    // The first send bound the handle to the IPv4 wildcard.
    assert_eq!(udp.family(), Ok(Some(AF_INET)));
    let local = udp.sockname().unwrap();
    assert_eq!(local.ip(), sa("0.0.0.0:0").ip());
    assert_ne!(local.port(), 0);
    assert_eq!(udp.try_send(&[b""], Some(peer_addr)), Ok(0));
    let mut buf = [0u8; 16];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"abcde");
    assert_eq!(from.port(), local.port());
    let (n, _) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(n, 0);
    // try_send never calls back and never counts.
    assert_eq!(udp.send_queue_count(), Ok(0));
    assert!(!lp.alive());
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn try_send_is_eagain_while_a_send_callback_is_pending() {
    let lp = Loop::new().unwrap();
    let (peer, peer_addr) = util::bound_udp(&lp);
    let udp = Udp::new(&lp);
    let done = Rc::new(RefCell::new(Vec::new()));
    let d = done.clone();
    udp.send(&[b"first"], Some(peer_addr), move |_, st| {
        d.borrow_mut().push(st)
    })
    .unwrap();
    assert_eq!(udp.send_queue_count(), Ok(1));
    assert_eq!(
        udp.try_send(&[b"second"], Some(peer_addr)),
        status(StatusCode::EAGAIN)
    );
    // Argument errors still win over EAGAIN.
    assert_eq!(
        udp.try_send(NO_BUFS, Some(peer_addr)),
        status(StatusCode::EINVAL)
    );
    assert_eq!(
        udp.try_send(&[b"x"], None),
        status(StatusCode::EDESTADDRREQ)
    );
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*done.borrow(), vec![Ok(())]);
    assert_eq!(udp.send_queue_count(), Ok(0));
    assert_eq!(udp.try_send(&[b"third"], Some(peer_addr)), Ok(5));
    peer.close(|| {});
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn try_send_of_70000_bytes_is_emsgsize() {
    let lp = Loop::new().unwrap();
    let (peer, peer_addr) = util::bound_udp(&lp);
    let udp = Udp::new(&lp);
    let big = vec![7u8; 70_000];
    assert_eq!(
        udp.try_send(&[&big], Some(peer_addr)),
        status(StatusCode::EMSGSIZE)
    );
    // Split over buffers it is still one datagram, still too big.
    assert_eq!(
        udp.try_send(&[&big[..35_000], &big[35_000..]], Some(peer_addr)),
        status(StatusCode::EMSGSIZE)
    );
    assert_eq!(udp.try_send(&[&big[..1000]], Some(peer_addr)), Ok(1000));
    peer.close(|| {});
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn send_of_70000_bytes_reports_emsgsize_through_the_callback() {
    let lp = Loop::new().unwrap();
    let (peer, peer_addr) = util::bound_udp(&lp);
    let udp = Udp::new(&lp);
    let big = vec![1u8; 70_000];
    let done = Rc::new(RefCell::new(Vec::new()));
    let d = done.clone();
    let req = udp
        .send(&[&big], Some(peer_addr), move |req, st| {
            d.borrow_mut().push((req.id(), st));
        })
        .unwrap();
    assert_eq!(req.handle(), &udp);
    // Not called from inside send.
    assert!(done.borrow().is_empty());
    assert_eq!(udp.send_queue_count(), Ok(1));
    assert_eq!(udp.send_queue_size(), Ok(70_000));
    run_to_end(&lp);
    assert_eq!(
        *done.borrow(),
        vec![(req.id(), status(StatusCode::EMSGSIZE))]
    );
    assert_eq!(udp.send_queue_count(), Ok(0));
    assert_eq!(udp.send_queue_size(), Ok(0));
    // The handle is still usable after the error.
    let d = done.clone();
    udp.send(&[b"ok"], Some(peer_addr), move |req, st| {
        d.borrow_mut().push((req.id(), st));
    })
    .unwrap();
    run_to_end(&lp);
    assert_eq!(done.borrow().len(), 2);
    assert_eq!(done.borrow()[1].1, Ok(()));
    peer.close(|| {});
    udp.close(|| {});
    run_to_end(&lp);
}

// ---------------------------------------------------------------- options

#[test]
fn set_ttl_range() {
    let lp = Loop::new().unwrap();
    for family in [AF_INET, AF_INET6] {
        let udp = Udp::with_family(&lp, family).unwrap();
        for bad in [0, 256, -1, i32::MIN, i32::MAX] {
            assert_eq!(udp.set_ttl(bad), status(StatusCode::EINVAL), "ttl {bad}");
        }
        for good in [1, 64, 255] {
            assert_eq!(udp.set_ttl(good), Ok(()), "ttl {good}");
        }
        udp.close(|| {});
    }
    run_to_end(&lp);
}

#[test]
fn set_multicast_ttl_range() {
    let lp = Loop::new().unwrap();
    for family in [AF_INET, AF_INET6] {
        let udp = Udp::with_family(&lp, family).unwrap();
        for bad in [-1, 256, 1000, i32::MIN] {
            assert_eq!(
                udp.set_multicast_ttl(bad),
                status(StatusCode::EINVAL),
                "ttl {bad}"
            );
        }
        for good in 0..=255 {
            assert_eq!(udp.set_multicast_ttl(good), Ok(()), "ttl {good}");
        }
        udp.close(|| {});
    }
    run_to_end(&lp);
}

#[test]
fn setters_before_a_socket_exists_are_ebadf() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(udp.set_ttl(1), status(StatusCode::EBADF));
    assert_eq!(udp.set_multicast_ttl(1), status(StatusCode::EBADF));
    assert_eq!(udp.set_multicast_loop(true), status(StatusCode::EBADF));
    assert_eq!(udp.set_broadcast(true), status(StatusCode::EBADF));
    assert_eq!(
        udp.set_multicast_interface(Some("127.0.0.1")),
        status(StatusCode::EBADF)
    );
    assert_eq!(udp.set_multicast_interface(None), status(StatusCode::EBADF));
    assert_eq!(udp.set_send_buffer_size(65536), status(StatusCode::EBADF));
    assert_eq!(udp.set_recv_buffer_size(65536), status(StatusCode::EBADF));
    assert_eq!(udp.send_buffer_size(), status(StatusCode::EBADF));
    assert_eq!(udp.recv_buffer_size(), status(StatusCode::EBADF));
    // None of them created a socket.
    assert_eq!(udp.family(), Ok(None));
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn set_broadcast_and_multicast_loop_toggle() {
    let lp = Loop::new().unwrap();
    for family in [AF_INET, AF_INET6] {
        let udp = Udp::with_family(&lp, family).unwrap();
        assert_eq!(udp.set_multicast_loop(false), Ok(()));
        assert_eq!(udp.set_multicast_loop(true), Ok(()));
        assert_eq!(udp.set_multicast_interface(None), Ok(()));
        udp.close(|| {});
    }
    let udp = Udp::with_family(&lp, AF_INET).unwrap();
    assert_eq!(udp.set_broadcast(true), Ok(()));
    assert_eq!(udp.set_broadcast(false), Ok(()));
    assert_eq!(udp.set_multicast_interface(Some("127.0.0.1")), Ok(()));
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn buffer_sizes() {
    let lp = Loop::new().unwrap();
    let (udp, _) = util::bound_udp(&lp);
    assert_eq!(udp.set_send_buffer_size(0), status(StatusCode::EINVAL));
    assert_eq!(udp.set_recv_buffer_size(0), status(StatusCode::EINVAL));
    assert!(udp.send_buffer_size().unwrap() > 0);
    assert!(udp.recv_buffer_size().unwrap() > 0);
    udp.set_send_buffer_size(65_536).unwrap();
    assert!(udp.send_buffer_size().unwrap() >= 65_536);
    udp.set_recv_buffer_size(100_000).unwrap();
    assert!(udp.recv_buffer_size().unwrap() >= 100_000);
    // Small values are raised to the kernel's minimum, never below what
    // was asked.
    udp.set_send_buffer_size(1).unwrap();
    assert!(udp.send_buffer_size().unwrap() >= 1);
    udp.close(|| {});
    run_to_end(&lp);
}

#[test]
fn unparseable_addresses_are_einval() {
    let lp = Loop::new().unwrap();
    let udp = Udp::with_family(&lp, AF_INET).unwrap();
    let join = Membership::JoinGroup;
    for bad in ["", "not-an-ip", "239.255.0.256", "239.255.0.1:80", "1.2.3"] {
        assert_eq!(
            udp.set_membership(bad, None, join),
            status(StatusCode::EINVAL),
            "group {bad:?}"
        );
        assert_eq!(
            udp.set_membership(bad, Some("127.0.0.1"), Membership::LeaveGroup),
            status(StatusCode::EINVAL),
            "group {bad:?}"
        );
        assert_eq!(
            udp.set_multicast_interface(Some(bad)),
            status(StatusCode::EINVAL),
            "interface {bad:?}"
        );
        assert_eq!(
            udp.set_source_membership(bad, None, "127.0.0.1", join),
            status(StatusCode::EINVAL),
            "ssm group {bad:?}"
        );
        assert_eq!(
            udp.set_source_membership("232.1.1.1", None, bad, join),
            status(StatusCode::EINVAL),
            "ssm source {bad:?}"
        );
    }
    assert_eq!(
        udp.set_membership("239.255.0.1", Some("bogus"), join),
        status(StatusCode::EINVAL)
    );
    assert_eq!(
        udp.set_source_membership("232.1.1.1", Some("bogus"), "127.0.0.1", join),
        status(StatusCode::EINVAL)
    );
    // Group and source of different families.
    assert_eq!(
        udp.set_source_membership("232.1.1.1", None, "::1", join),
        status(StatusCode::EINVAL)
    );
    assert_eq!(
        udp.set_source_membership("ff3e::1", None, "127.0.0.1", join),
        status(StatusCode::EINVAL)
    );
    udp.close(|| {});

    // Text is checked before a socket is needed.
    let lazy = Udp::new(&lp);
    assert_eq!(
        lazy.set_multicast_interface(Some("bogus")),
        status(StatusCode::EINVAL)
    );
    assert_eq!(
        lazy.set_membership("bogus", None, join),
        status(StatusCode::EINVAL)
    );
    assert_eq!(lazy.family(), Ok(None));
    lazy.close(|| {});
    run_to_end(&lp);
}

// ------------------------------------------------------------ closed handle

fn assert_closed_everywhere(udp: &Udp) {
    let closed = || Err::<(), Error>(Error::ClosedHandle);
    let peer = sa("127.0.0.1:9");
    assert_eq!(udp.family(), Err(Error::ClosedHandle));
    assert_eq!(udp.is_connected(), Err(Error::ClosedHandle));
    assert_eq!(udp.sockname(), Err(Error::ClosedHandle));
    assert_eq!(udp.peername(), Err(Error::ClosedHandle));
    assert_eq!(udp.fileno(), Err(Error::ClosedHandle));
    assert_eq!(udp.bind(util::any_v4(), UdpFlags::empty()), closed());
    assert_eq!(udp.connect(Some(peer)), closed());
    assert_eq!(udp.connect(None), closed());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(udp.open(sock), closed());
    assert_eq!(
        udp.send(&[b"x"], Some(peer), |_, _| panic!(
            "callback of a refused send"
        ))
        .map(|_| ()),
        closed()
    );
    assert_eq!(udp.try_send(&[b"x"], Some(peer)), Err(Error::ClosedHandle));
    assert_eq!(udp.send_queue_size(), Err(Error::ClosedHandle));
    assert_eq!(udp.send_queue_count(), Err(Error::ClosedHandle));
    assert_eq!(
        udp.receive_start(|_, _| panic!("receive on a closed handle")),
        closed()
    );
    assert_eq!(
        udp.receive_start_with(
            |_, _| -> Vec<u8> { panic!("alloc on a closed handle") },
            |_, _, _| panic!("receive on a closed handle")
        ),
        closed()
    );
    assert_eq!(udp.receive_stop(), Ok(()));
    assert!(!udp.is_receiving());
    let join = Membership::JoinGroup;
    assert_eq!(udp.set_membership("239.255.0.1", None, join), closed());
    assert_eq!(
        udp.set_source_membership("232.1.1.1", None, "127.0.0.1", join),
        closed()
    );
    assert_eq!(udp.set_multicast_loop(true), closed());
    assert_eq!(udp.set_multicast_ttl(1), closed());
    assert_eq!(udp.set_multicast_interface(Some("127.0.0.1")), closed());
    assert_eq!(udp.set_multicast_interface(None), closed());
    assert_eq!(udp.set_broadcast(true), closed());
    assert_eq!(udp.set_ttl(64), closed());
    assert_eq!(udp.send_buffer_size(), Err(Error::ClosedHandle));
    assert_eq!(udp.recv_buffer_size(), Err(Error::ClosedHandle));
    assert_eq!(udp.set_send_buffer_size(65536), closed());
    assert_eq!(udp.set_recv_buffer_size(65536), closed());
    assert!(udp.is_closing());
    assert!(!udp.is_active());
    // The closed-handle error carries python-uv's code.
    assert_eq!(Error::ClosedHandle.code(), StatusCode::EINVAL);
    assert!(Error::ClosedHandle.is_closed_handle());
}

#[test]
fn every_operation_on_a_closing_or_closed_handle_is_closed_handle() {
    let lp = Loop::new().unwrap();
    let (udp, _) = util::bound_udp(&lp);
    udp.receive_start(|_, _| panic!("no datagram was sent"))
        .unwrap();
    let closes = Rc::new(Cell::new(0));
    let c = closes.clone();
    udp.close(move || c.set(c.get() + 1));
    // Closing: the close callback has not run yet.
    assert!(!udp.is_closed());
    assert_closed_everywhere(&udp);
    // A second close is ignored: its callback never runs.
    udp.close(|| panic!("second close callback"));
    run_to_end(&lp);
    assert_eq!(closes.get(), 1);
    // Closed: the slot is gone.
    assert!(udp.is_closed());
    assert!(!udp.has_ref());
    assert_closed_everywhere(&udp);
    udp.close(|| panic!("close after closed"));
    run_to_end(&lp);
    lp.close().unwrap();
}

#[test]
fn lazy_handle_closes_cleanly() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    let closed = Rc::new(Cell::new(false));
    let c = closed.clone();
    udp.close(move || c.set(true));
    assert!(lp.alive());
    assert_eq!(lp.close(), status(StatusCode::EBUSY));
    assert_closed_everywhere(&udp);
    lp.run(RunMode::Default).unwrap();
    assert!(closed.get());
    lp.close().unwrap();
}

fn slot_of(h: &Udp) -> String {
    let text = format!("{h:?}");
    let start = text.find("slot: ").expect("Debug shows the slot");
    text[start..].split(',').next().unwrap().trim().to_string()
}

#[test]
fn stale_token_after_slot_reuse_is_closed_handle() {
    let lp = Loop::new().unwrap();
    let (old, _) = util::bound_udp(&lp);
    old.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    assert!(old.is_closed());

    let (new, new_addr) = util::bound_udp(&lp);
    // The new handle took the old one's slot (this is what the test is
    // about), yet the tokens differ.
    assert_eq!(slot_of(&old), slot_of(&new));
    assert_ne!(old, new);
    assert_eq!(old.sockname(), Err(Error::ClosedHandle));
    assert_eq!(old.fileno(), Err(Error::ClosedHandle));
    assert_eq!(old.send_queue_count(), Err(Error::ClosedHandle));
    assert_eq!(
        old.try_send(&[b"x"], Some(new_addr)),
        Err(Error::ClosedHandle)
    );
    assert!(old.is_closed());
    assert!(old.is_closing());
    assert!(!old.has_ref());
    // Nothing done through the stale token reaches the new handle.
    old.unref();
    old.receive_stop().unwrap();
    old.close(|| panic!("stale close callback"));
    assert!(!new.is_closing());
    assert!(new.has_ref());
    assert_eq!(new.sockname(), Ok(new_addr));
    new.receive_start(|_, _| {}).unwrap();
    old.receive_stop().unwrap();
    assert!(new.is_receiving());
    assert!(new.is_active());
    new.close(|| {});
    run_to_end(&lp);
    assert!(new.is_closed());
    lp.close().unwrap();
}

#[test]
fn clones_are_the_same_handle() {
    let lp = Loop::new().unwrap();
    let (udp, addr) = util::bound_udp(&lp);
    let clone = udp.clone();
    assert_eq!(udp, clone);
    assert_eq!(clone.sockname(), Ok(addr));
    clone.close(|| {});
    assert_eq!(udp.sockname(), Err(Error::ClosedHandle));
    let (other, _) = util::bound_udp(&lp);
    assert_ne!(udp, other);
    other.close(|| {});
    run_to_end(&lp);
}

// ------------------------------------------------------------ addr helpers

#[test]
fn ip4_addr_parses_dotted_quads() {
    assert_eq!(
        ruv::addr::ip4_addr("127.0.0.1", 8080),
        Ok(sa("127.0.0.1:8080"))
    );
    assert_eq!(ruv::addr::ip4_addr("0.0.0.0", 0), Ok(sa("0.0.0.0:0")));
    assert_eq!(
        ruv::addr::ip4_addr("255.255.255.255", 65535),
        Ok(sa("255.255.255.255:65535"))
    );
    for bad in [
        "300.1.1.1",
        "",
        "::1",
        "localhost",
        "1.2.3",
        "1.2.3.4.5",
        " 1.2.3.4",
    ] {
        assert_eq!(
            ruv::addr::ip4_addr(bad, 1),
            status(StatusCode::EINVAL),
            "{bad:?}"
        );
    }
}

#[test]
fn ip6_addr_parses_zones() {
    assert_eq!(ruv::addr::ip6_addr("::1", 53), Ok(sa("[::1]:53")));
    let lo_index = {
        let name = std::ffi::CString::new("lo").unwrap();
        // SAFETY: `name` is a valid NUL-terminated string.
        unsafe { libc::if_nametoindex(name.as_ptr()) }
    };
    assert_ne!(lo_index, 0);
    let with_name = ruv::addr::ip6_addr("fe80::1%lo", 9).unwrap();
    assert_eq!(
        with_name,
        SocketAddr::V6(SocketAddrV6::new(
            "fe80::1".parse().unwrap(),
            9,
            0,
            lo_index
        ))
    );
    let with_number = ruv::addr::ip6_addr("fe80::1%1", 9).unwrap();
    assert_eq!(
        with_number,
        SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 9, 0, 1))
    );
    let with = ruv::addr::ip6_addr_with("fe80::2", 7, 5, 3).unwrap();
    assert_eq!(
        with,
        SocketAddr::V6(SocketAddrV6::new("fe80::2".parse().unwrap(), 7, 5, 3))
    );
    for bad in [
        "127.0.0.1",
        "",
        "fe80::1%no-such-interface-xyz",
        "fe80::1%",
        "gggg::1",
        "[::1]",
        "localhost",
    ] {
        assert_eq!(
            ruv::addr::ip6_addr(bad, 1),
            status(StatusCode::EINVAL),
            "{bad:?}"
        );
    }
    assert_eq!(
        ruv::addr::ip6_addr_with("1.2.3.4", 1, 0, 0),
        status(StatusCode::EINVAL)
    );
}

#[test]
fn ip_addr_parses_either_family() {
    assert_eq!(ruv::addr::ip_addr("127.0.0.1", 1), Ok(sa("127.0.0.1:1")));
    assert_eq!(ruv::addr::ip_addr("::1", 2), Ok(sa("[::1]:2")));
    let zoned = ruv::addr::ip_addr("fe80::1%1", 3).unwrap();
    assert!(matches!(zoned, SocketAddr::V6(v6) if v6.scope_id() == 1 && v6.port() == 3));
    for bad in ["", "localhost", "1.2.3.4.5", "::g", "example.com"] {
        assert_eq!(
            ruv::addr::ip_addr(bad, 1),
            status(StatusCode::EINVAL),
            "{bad:?}"
        );
    }
    assert_eq!(
        ruv::addr::parse_ip("10.0.0.1"),
        Ok("10.0.0.1".parse().unwrap())
    );
    assert_eq!(ruv::addr::parse_ip("::1"), Ok("::1".parse().unwrap()));
    assert_eq!(ruv::addr::parse_ip("fe80::1%1"), status(StatusCode::EINVAL));
    assert_eq!(ruv::addr::parse_ip("nope"), status(StatusCode::EINVAL));
    assert_eq!(ruv::addr::ip_name(&sa("127.0.0.1:80")), "127.0.0.1");
    assert_eq!(ruv::addr::ip_name(&sa("[::1]:80")), "::1");
}
