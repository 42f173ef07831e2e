//! The standard traits a Rust user reaches for: `AsFd`/`AsRawFd` on every
//! type with a descriptor (so ruv can be embedded in another loop without
//! `unsafe`), and the descriptor each one hands out is the right one.

mod endpoint_common;
mod util;

use ruv::client::{LoopUdpClient, TextProtocol, UdpClient};
use ruv::endpoint::EndpointOptions;
use ruv::{Handle, Loop, Poll, PollEvents, RunMode, Timer, Udp, UdpFlags};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;

/// The descriptor through the traits alone, as generic embedding code sees it.
fn raw_fd<T: AsRawFd>(t: &T) -> RawFd {
    t.as_raw_fd()
}

/// `AsFd` and `AsRawFd` agree.
fn borrowed_fd<T: AsFd + AsRawFd>(t: &T) -> RawFd {
    let fd = t.as_fd().as_raw_fd();
    assert_eq!(fd, t.as_raw_fd());
    fd
}

/// What `/proc/self/fd/<fd>` links to: `socket:[inode]`,
/// `anon_inode:[eventpoll]`, … (`None` for a closed descriptor).
fn fd_target(fd: RawFd) -> Option<String> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    Some(link.to_string_lossy().into_owned())
}

/// The kernel's name for the UDP socket bound to `addr` (`socket:[inode]`,
/// from /proc/net/udp and udp6, which print addresses as the bytes in
/// memory read as native-endian words): found without asking ruv for any
/// descriptor.
fn socket_bound_to(addr: SocketAddr) -> String {
    let (table, ip) = match addr.ip() {
        IpAddr::V4(ip) => ("/proc/net/udp", words(&ip.octets())),
        IpAddr::V6(ip) => ("/proc/net/udp6", words(&ip.octets())),
    };
    let local = format!("{ip}:{:04X}", addr.port());
    // The kernel prints the table a page at a time from a live hash table:
    // sockets other tests open and close between two pages can make one
    // read skip a line, so read again before giving up.
    for _ in 0..100 {
        let text = std::fs::read_to_string(table).unwrap();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols[1] == local {
                return format!("socket:[{}]", cols[9]);
            }
        }
    }
    panic!("no UDP socket bound to {addr}");
}

fn words(bytes: &[u8]) -> String {
    bytes
        .chunks(4)
        .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
        .collect()
}

#[test]
fn loop_hands_out_its_epoll_descriptor() {
    let lp = Loop::new().unwrap();
    let fd = borrowed_fd(&lp);
    assert_eq!(fd, lp.backend_fd());
    assert_eq!(fd_target(fd).as_deref(), Some("anon_inode:[eventpoll]"));
    // A safe duplicate through `AsFd` is the same epoll instance.
    let dup = lp.as_fd().try_clone_to_owned().unwrap();
    assert_ne!(dup.as_raw_fd(), fd);
    assert_eq!(fd_target(dup.as_raw_fd()), fd_target(fd));
    // A closed loop keeps its descriptor until the last clone is dropped.
    lp.close().unwrap();
    assert_eq!(lp.as_raw_fd(), fd);
    assert_eq!(fd_target(fd).as_deref(), Some("anon_inode:[eventpoll]"));
}

#[test]
fn loop_descriptor_embeds_in_another_event_loop() {
    // An outer mio loop watches ruv's epoll descriptor: it turns readable
    // when ruv has I/O to run, and ruv then runs it without blocking.
    let lp = Loop::new().unwrap();
    let mut outer = mio::Poll::new().unwrap();
    let raw = lp.as_raw_fd();
    outer
        .registry()
        .register(
            &mut mio::unix::SourceFd(&raw),
            mio::Token(7),
            mio::Interest::READABLE,
        )
        .unwrap();

    let (server, addr) = util::bound_udp(&lp);
    let got = util::shared(Vec::new());
    let g = got.clone();
    server
        .receive_start(move |udp, result| {
            g.borrow_mut().extend_from_slice(result.unwrap().data);
            udp.close(|| {});
        })
        .unwrap();
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"wake", addr).unwrap();

    let mut events = mio::Events::with_capacity(4);
    // The timeout only keeps a broken build from hanging the test.
    outer
        .poll(&mut events, Some(Duration::from_secs(10)))
        .unwrap();
    let tokens: Vec<mio::Token> = events.iter().map(|e| e.token()).collect();
    assert_eq!(tokens, [mio::Token(7)]);
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*got.borrow(), b"wake");
}

#[test]
fn udp_descriptor_is_its_socket_and_minus_one_without_one() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    // Lazy: no socket until bind, send or receive.
    assert_eq!(raw_fd(&udp), -1);
    udp.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    let fd = raw_fd(&udp);
    assert_eq!(Ok(fd), udp.fileno());
    assert_eq!(
        fd_target(fd),
        Some(socket_bound_to(udp.sockname().unwrap()))
    );
    // The untyped handle (as `Loop::walk` gives it) reports the same.
    let handle: &Handle = &udp;
    assert_eq!(raw_fd(handle), fd);
    udp.close(|| {});
    assert_eq!(raw_fd(&udp), -1, "closing: the socket is already closed");
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(raw_fd(&udp), -1);
}

#[test]
fn udp_adopts_a_std_socket_keeping_its_descriptor() {
    let lp = Loop::new().unwrap();
    let sock = std::net::UdpSocket::bind("[::1]:0").unwrap();
    let (fd, addr) = (sock.as_raw_fd(), sock.local_addr().unwrap());
    let udp = Udp::from_socket(&lp, sock).unwrap();
    assert_eq!(raw_fd(&udp), fd);
    assert_eq!(udp.sockname().unwrap(), addr);
    let socket = socket_bound_to(addr);
    assert_eq!(fd_target(fd), Some(socket.clone()));
    util::close_all(&lp, &[&udp]);
    // (Another test may reuse the number at once; not for this socket.)
    assert_ne!(fd_target(fd), Some(socket), "the handle closed the socket");
}

#[test]
fn poll_and_timer_handles() {
    let lp = Loop::new().unwrap();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let poll = Poll::new(&lp, sock.as_raw_fd()).unwrap();
    assert_eq!(raw_fd(&poll), sock.as_raw_fd());
    poll.start(PollEvents::READABLE, |_, _| {}).unwrap();
    assert_eq!(raw_fd(&poll), sock.as_raw_fd());
    poll.close(|| {});
    assert_eq!(raw_fd(&poll), -1);
    lp.run(RunMode::NoWait).unwrap();
    // The application's descriptor stays open: the handle never owned it.
    assert!(fd_target(sock.as_raw_fd()).is_some());

    let timer = Timer::new(&lp);
    let handle: &Handle = &timer;
    assert_eq!(raw_fd(handle), -1, "a timer has no descriptor");
    timer.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
}

#[test]
fn endpoint_transport_and_its_socket_view() {
    let lp = Loop::new().unwrap();
    let (transport, _, _) =
        endpoint_common::open(&lp, EndpointOptions::local("127.0.0.1", 0)).unwrap();
    let fd = raw_fd(&transport);
    assert_eq!(Ok(fd), transport.fileno());
    assert_eq!(raw_fd(&transport.socket()), fd);
    assert_eq!(
        fd_target(fd),
        Some(socket_bound_to(transport.sockname().unwrap()))
    );
    let view = transport.socket();
    transport.close();
    assert_eq!(raw_fd(&transport), -1);
    assert_eq!(raw_fd(&view), -1);
    endpoint_common::run_to_end(&lp);
}

#[test]
fn loop_client_descriptor() {
    let lp = Loop::new().unwrap();
    let (server, addr) = util::bound_udp(&lp);
    let client = LoopUdpClient::connect(&lp, addr, TextProtocol).unwrap();
    let fd = raw_fd(&client);
    assert_eq!(Ok(fd), client.fileno());
    assert_eq!(
        fd_target(fd),
        Some(socket_bound_to(client.local_address().unwrap()))
    );
    client.close();
    assert_eq!(raw_fd(&client), -1);
    util::close_all(&lp, &[&server]);
}

#[test]
fn blocking_client_descriptor() {
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let client = UdpClient::connect(("127.0.0.1", port), TextProtocol, Default::default()).unwrap();
    let fd = raw_fd(&client);
    assert_eq!(Ok(fd), client.fileno());
    let socket = socket_bound_to(client.local_address().unwrap());
    assert_eq!(fd_target(fd), Some(socket.clone()));
    client.close();
    assert_eq!(raw_fd(&client), -1);
    assert_ne!(fd_target(fd), Some(socket), "close closed the socket");
}

#[test]
fn option_setters_set_their_field_and_nothing_else() {
    use ruv::client::{ClientOptions, LoopClientOptions};
    use ruv::dns::AddrInfoHints;

    let e = EndpointOptions::default()
        .with_local_addr("127.0.0.1", 1)
        .with_remote_addr("::1", 2)
        .with_family(libc::AF_INET6)
        .with_proto(libc::IPPROTO_UDP)
        .with_flags(ruv::dns::AI_PASSIVE)
        .with_reuse_port(true)
        .with_allow_broadcast(true);
    assert_eq!(e.local_addr, Some(("127.0.0.1".to_string(), 1)));
    assert_eq!(e.remote_addr, Some(("::1".to_string(), 2)));
    assert_eq!(
        (e.family, e.proto, e.flags),
        (libc::AF_INET6, libc::IPPROTO_UDP, ruv::dns::AI_PASSIVE)
    );
    assert!(e.reuse_port && e.allow_broadcast && e.sock.is_none());
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let fd = sock.as_raw_fd();
    let e = EndpointOptions::default().with_sock(sock);
    assert_eq!(e.sock.as_ref().map(|s| s.as_raw_fd()), Some(fd));
    assert_eq!(e.local_addr, None);

    let c = ClientOptions::default()
        .with_local_address("::1", 3)
        .with_family(libc::AF_INET6);
    assert_eq!(c.local_address, Some(("::1".to_string(), 3)));
    assert_eq!(c.family, Some(libc::AF_INET6));

    let addr: SocketAddr = "127.0.0.1:4".parse().unwrap();
    let l = LoopClientOptions::default().with_local_address(addr);
    assert_eq!(l.local_address, Some(addr));
    assert_eq!(l.queue_limit, ruv::client::DEFAULT_QUEUE_LIMIT);
    assert_eq!(l.with_queue_limit(0).queue_limit, 0);

    let h = AddrInfoHints::default()
        .with_family(libc::AF_INET)
        .with_socktype(ruv::dns::SOCK_DGRAM)
        .with_protocol(ruv::dns::IPPROTO_UDP)
        .with_flags(ruv::dns::AI_PASSIVE);
    assert_eq!(
        (h.family, h.socktype, h.protocol, h.flags),
        (
            libc::AF_INET,
            ruv::dns::SOCK_DGRAM,
            ruv::dns::IPPROTO_UDP,
            ruv::dns::AI_PASSIVE
        )
    );
}
