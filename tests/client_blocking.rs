//! The blocking UDP client (`ruv::client::UdpClient`): construction,
//! send/receive against a plain `std::net::UdpSocket` peer on loopback,
//! timeouts, closing from another thread, parse errors, the iterator and
//! the socket proxy.
//!
//! Time bounds below are hang guards only (a broken test fails instead of
//! hanging); no test asserts how fast anything is.

use ruv::client::{
    BytesProtocol, ClientError, ClientOptions, PacketProtocol, ProtocolError, TextProtocol,
    UdpClient,
};
use ruv::udp::{AF_INET, AF_INET6};
use ruv::StatusCode;
use std::borrow::Cow;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

/// Generous bound for anything that must happen "soon" (hang guard).
const GUARD: Duration = Duration::from_secs(5);

fn peer_v4() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}

fn peer_v6() -> UdpSocket {
    UdpSocket::bind("[::1]:0").unwrap()
}

fn client_for<P: PacketProtocol>(peer: &UdpSocket, protocol: P) -> UdpClient<P> {
    let addr = peer.local_addr().unwrap();
    let host = addr.ip().to_string();
    UdpClient::connect((&host, addr.port()), protocol, ClientOptions::default()).unwrap()
}

/// What `/proc/self/fd/N` points to (e.g. `socket:[1234]`), if open.
fn fd_target(fd: RawFd) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()
}

/// Receives one datagram on the peer (hang-guarded).
fn peer_recv(peer: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    peer.set_read_timeout(Some(GUARD)).unwrap();
    let mut buf = vec![0; 65536];
    let (n, from) = peer.recv_from(&mut buf).expect("peer got nothing");
    buf.truncate(n);
    (buf, from)
}

/// A zero-timeout receive, repeated until the datagram the peer sent has
/// reached the socket (loopback delivery is asynchronous in principle).
fn recv_when_queued<P: PacketProtocol>(client: &UdpClient<P>) -> Result<P::Packet, ClientError> {
    let start = std::time::Instant::now();
    loop {
        match client.recv_packet(Some(Duration::ZERO)) {
            Err(ClientError::Timeout) if start.elapsed() < GUARD => {
                thread::sleep(Duration::from_millis(1))
            }
            other => return other,
        }
    }
}

#[test]
fn client_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<UdpClient<BytesProtocol>>();
    assert_send_sync::<UdpClient<TextProtocol>>();
    assert_send_sync::<ClientError>();
}

// ------------------------------------------------------------ echo

fn echo_roundtrip(peer: UdpSocket) {
    let client = client_for(&peer, BytesProtocol);
    assert_eq!(client.remote_address(), Ok(peer.local_addr().unwrap()));
    client.send_packet(&b"hello".to_vec()).unwrap();
    let (data, from) = peer_recv(&peer);
    assert_eq!(data, b"hello");
    assert_eq!(from, client.local_address().unwrap());
    peer.send_to(b"world", from).unwrap();
    assert_eq!(client.recv_packet(Some(GUARD)).unwrap(), b"world");
    client.close();
}

#[test]
fn echo_ipv4() {
    echo_roundtrip(peer_v4());
}

#[test]
fn echo_ipv6() {
    echo_roundtrip(peer_v6());
}

#[test]
fn empty_packet_is_an_empty_datagram() {
    let peer = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    client.send_packet(&Vec::new()).unwrap();
    let (data, from) = peer_recv(&peer);
    assert!(data.is_empty());
    peer.send_to(b"", from).unwrap();
    assert_eq!(client.recv_packet(Some(GUARD)).unwrap(), Vec::<u8>::new());
}

#[test]
fn datagrams_from_other_senders_are_not_received() {
    let peer = peer_v4();
    let stranger = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    let me = client.local_address().unwrap();
    stranger.send_to(b"not for you", me).unwrap();
    peer.send_to(b"for you", me).unwrap();
    assert_eq!(client.recv_packet(Some(GUARD)).unwrap(), b"for you");
}

// ------------------------------------------------------------ construction

#[test]
fn connect_respects_family_and_local_address() {
    let peer = peer_v4();
    let port = peer.local_addr().unwrap().port();
    let opts = ClientOptions::default()
        .with_family(AF_INET)
        .with_local_address("127.0.0.1", 0);
    let client = UdpClient::connect(("127.0.0.1", port), BytesProtocol, opts).unwrap();
    assert_eq!(client.socket().family(), AF_INET);
    let local = client.local_address().unwrap();
    assert_eq!(local.ip().to_string(), "127.0.0.1");
    assert_ne!(local.port(), 0);

    // Only IPv6 wanted, but the host is an IPv4 address.
    let v6_only = ClientOptions::default().with_family(AF_INET6);
    assert_eq!(
        UdpClient::connect(("127.0.0.1", port), BytesProtocol, v6_only).unwrap_err(),
        ClientError::Os(StatusCode::EAI_ADDRFAMILY)
    );
    // Not a family at all.
    let bogus = ClientOptions::default().with_family(libc::AF_UNIX);
    assert_eq!(
        UdpClient::connect(("127.0.0.1", port), BytesProtocol, bogus).unwrap_err(),
        ClientError::Os(StatusCode::EINVAL)
    );
}

#[test]
fn connect_resolves_localhost() {
    let peer = peer_v4();
    let port = peer.local_addr().unwrap().port();
    let opts = ClientOptions::default().with_family(AF_INET);
    let client = UdpClient::connect(("localhost", port), TextProtocol, opts).unwrap();
    assert_eq!(client.remote_address(), Ok(peer.local_addr().unwrap()));
}

#[test]
fn from_connected_std_socket() {
    let peer = peer_v6();
    let sock = UdpSocket::bind("[::1]:0").unwrap();
    sock.connect(peer.local_addr().unwrap()).unwrap();
    let local = sock.local_addr().unwrap();
    let client = UdpClient::from_socket(sock, TextProtocol).unwrap();
    assert_eq!(client.local_address(), Ok(local));
    assert_eq!(client.remote_address(), Ok(peer.local_addr().unwrap()));
    assert_eq!(client.socket().family(), AF_INET6);
    client
        .send_packet(&"via adopted socket".to_string())
        .unwrap();
    assert_eq!(peer_recv(&peer).0, b"via adopted socket");
}

#[test]
fn from_socket2_socket() {
    let peer = peer_v4();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    sock.connect(&peer.local_addr().unwrap().into()).unwrap();
    // Non-blocking sockets are accepted and made blocking.
    sock.set_nonblocking(true).unwrap();
    let client = UdpClient::from_socket(sock, BytesProtocol).unwrap();
    client.send_packet(&b"x".to_vec()).unwrap();
    assert_eq!(peer_recv(&peer).0, b"x");
}

#[test]
fn from_unconnected_socket_is_enotconn_and_closes_it() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let fd = sock.as_raw_fd();
    let before = fd_target(fd).unwrap();
    assert!(before.to_string_lossy().starts_with("socket:"));
    let err = UdpClient::from_socket(sock, BytesProtocol).unwrap_err();
    assert_eq!(err, ClientError::Os(StatusCode::ENOTCONN));
    assert_eq!(err.status_code(), Some(StatusCode::ENOTCONN));
    // The descriptor is closed: gone, or reused for some other file by a
    // test running in parallel — never still our socket.
    assert_ne!(fd_target(fd), Some(before));
}

#[test]
fn from_tcp_socket_is_einval_and_closes_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let fd = listener.as_raw_fd();
    let before = fd_target(fd).unwrap();
    let err = UdpClient::from_socket(listener, BytesProtocol).unwrap_err();
    assert_eq!(err, ClientError::Os(StatusCode::EINVAL));
    assert_ne!(fd_target(fd), Some(before));
}

#[test]
fn from_unix_datagram_socket_is_einval() {
    let (a, _b) = std::os::unix::net::UnixDatagram::pair().unwrap();
    let sock = socket2::Socket::from(std::os::fd::OwnedFd::from(a));
    assert_eq!(
        UdpClient::from_socket(sock, BytesProtocol).unwrap_err(),
        ClientError::Os(StatusCode::EINVAL)
    );
}

// ------------------------------------------------------------ timeouts

#[test]
fn zero_timeout_is_one_try() {
    let peer = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    assert_eq!(
        client.recv_packet(Some(Duration::ZERO)),
        Err(ClientError::Timeout)
    );
    peer.send_to(b"queued", client.local_address().unwrap())
        .unwrap();
    assert_eq!(recv_when_queued(&client).unwrap(), b"queued");
    assert_eq!(
        client.recv_packet(Some(Duration::ZERO)),
        Err(ClientError::Timeout)
    );
}

#[test]
fn short_timeout_expires() {
    let peer = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    let err = client
        .recv_packet(Some(Duration::from_millis(50)))
        .unwrap_err();
    assert_eq!(err, ClientError::Timeout);
    assert!(err.is_timeout());
    assert_eq!(err.status_code(), Some(StatusCode::ETIMEDOUT));
    // The client is still usable.
    peer.send_to(b"after", client.local_address().unwrap())
        .unwrap();
    assert_eq!(client.recv_packet(Some(GUARD)).unwrap(), b"after");
}

#[test]
fn no_timeout_waits_for_a_sender_thread() {
    let peer = peer_v4();
    let client = client_for(&peer, TextProtocol);
    let me = client.local_address().unwrap();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        peer.send_to(b"late but here", me).unwrap();
        peer
    });
    assert_eq!(client.recv_packet(None).unwrap(), "late but here");
    sender.join().unwrap();
}

#[test]
fn zero_timeout_does_not_wait_behind_a_blocked_receiver() {
    let peer = peer_v4();
    let client = Arc::new(client_for(&peer, BytesProtocol));
    let (tx, rx) = mpsc::channel();
    let blocked = {
        let client = client.clone();
        thread::spawn(move || tx.send(client.recv_packet(None)).unwrap())
    };
    // Whether or not the other thread is inside its receive yet, a zero
    // timeout never blocks.
    thread::sleep(Duration::from_millis(20));
    assert_eq!(
        client.recv_packet(Some(Duration::ZERO)),
        Err(ClientError::Timeout)
    );
    assert_eq!(
        client.recv_packet(Some(Duration::from_millis(20))),
        Err(ClientError::Timeout)
    );
    // Release the blocked receiver with a datagram.
    peer.send_to(b"go", client.local_address().unwrap())
        .unwrap();
    assert_eq!(rx.recv_timeout(GUARD).unwrap().unwrap(), b"go");
    blocked.join().unwrap();
}

// ------------------------------------------------------------ close

#[test]
fn close_from_another_thread_ends_a_blocked_receive() {
    let peer = peer_v4();
    let client = Arc::new(client_for(&peer, BytesProtocol));
    let (tx, rx) = mpsc::channel();
    let receiver = {
        let client = client.clone();
        thread::spawn(move || tx.send(client.recv_packet(None)).unwrap())
    };
    thread::sleep(Duration::from_millis(50));
    client.close();
    // Hang guard only: the receive must have returned, with Closed.
    let got = rx.recv_timeout(GUARD).expect("receive did not return");
    assert_eq!(got, Err(ClientError::Closed));
    receiver.join().unwrap();
    assert!(client.is_closed());
}

#[test]
fn close_ends_every_waiting_receiver() {
    let peer = peer_v4();
    let client = Arc::new(client_for(&peer, BytesProtocol));
    let (tx, rx) = mpsc::channel();
    let receivers: Vec<_> = (0..3)
        .map(|i| {
            let client = client.clone();
            let tx = tx.clone();
            // One waits forever, one with a long timeout, one iterates.
            thread::spawn(move || {
                let got = match i {
                    0 => client.recv_packet(None).map(|_| ()),
                    1 => client
                        .recv_packet(Some(Duration::from_secs(60)))
                        .map(|_| ()),
                    _ => client
                        .iter_received_packets(None)
                        .next()
                        .expect("the iterator yields the close")
                        .map(|_| ()),
                };
                tx.send(got).unwrap();
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    client.close();
    for _ in 0..3 {
        let got = rx.recv_timeout(GUARD).expect("a receive did not return");
        assert_eq!(got, Err(ClientError::Closed));
    }
    for r in receivers {
        r.join().unwrap();
    }
}

#[test]
fn closed_client_rejects_everything() {
    let peer = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    let fd = client.fileno().unwrap();
    assert_eq!(client.socket().fileno(), Ok(fd));
    let before = fd_target(fd).unwrap();
    assert!(!client.is_closed());
    client.close();
    client.close(); // idempotent
    assert!(client.is_closed());
    assert_ne!(fd_target(fd), Some(before), "close() closes the socket");
    assert_eq!(client.send_packet(&b"x".to_vec()), Err(ClientError::Closed));
    assert_eq!(client.recv_packet(None), Err(ClientError::Closed));
    assert_eq!(
        client.recv_packet(Some(Duration::ZERO)),
        Err(ClientError::Closed)
    );
    assert_eq!(client.local_address(), Err(ClientError::Closed));
    assert_eq!(client.remote_address(), Err(ClientError::Closed));
    assert_eq!(client.fileno(), Err(ClientError::Closed));
    assert_eq!(client.socket().ttl(), Err(ClientError::Closed));
    assert_eq!(client.socket().fileno(), Err(ClientError::Closed));
    let mut it = client.iter_received_packets(None);
    assert_eq!(it.next(), Some(Err(ClientError::Closed)));
    assert_eq!(it.next(), None);
}

#[test]
fn drop_closes_the_socket() {
    let peer = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    let fd = client.fileno().unwrap();
    let before = fd_target(fd).unwrap();
    drop(client);
    assert_ne!(fd_target(fd), Some(before));
}

// ------------------------------------------------------------ errors

#[test]
fn parse_error_then_good_packet() {
    let peer = peer_v4();
    let client = client_for(&peer, TextProtocol);
    let me = client.local_address().unwrap();
    peer.send_to(&[b'o', 0xff, 0xfe], me).unwrap();
    peer.send_to("ok".as_bytes(), me).unwrap();
    match client.recv_packet(Some(GUARD)) {
        Err(ClientError::Parse {
            message,
            datagram_len,
        }) => {
            assert_eq!(datagram_len, 3);
            assert!(message.contains("UTF-8"), "{message}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert_eq!(client.recv_packet(Some(GUARD)).unwrap(), "ok");
}

/// Packets are single bytes; 0 cannot be serialized, 0xff does not parse.
struct Picky;

impl PacketProtocol for Picky {
    type Packet = u8;
    fn serialize<'a>(&self, packet: &'a u8) -> Result<Cow<'a, [u8]>, ProtocolError> {
        match packet {
            0 => Err(ProtocolError::new("zero is not allowed")),
            n => Ok(Cow::Owned(vec![*n])),
        }
    }
    fn deserialize(&self, datagram: &[u8]) -> Result<u8, ProtocolError> {
        match datagram {
            [0xff] => Err(ProtocolError::new("0xff is reserved")),
            [n] => Ok(*n),
            _ => Err(ProtocolError::new("one byte expected")),
        }
    }
}

#[test]
fn serialize_error_sends_nothing() {
    let peer = peer_v4();
    let client = client_for(&peer, Picky);
    assert_eq!(
        client.send_packet(&0),
        Err(ClientError::Serialize {
            message: "zero is not allowed".into()
        })
    );
    client.send_packet(&7).unwrap();
    // The first datagram the peer sees is the good one.
    assert_eq!(peer_recv(&peer).0, [7]);
}

/// easynetwork reads `SO_ERROR` after every send: the send whose datagram
/// drew an ICMP port-unreachable (answered within the send on loopback)
/// fails with ECONNREFUSED itself, and consumes it.
fn a_refused_send_fails_with_econnrefused(host: &str) {
    let dead = UdpSocket::bind((host, 0)).unwrap().local_addr().unwrap();
    let client =
        UdpClient::connect((host, dead.port()), BytesProtocol, ClientOptions::default()).unwrap();
    assert_eq!(
        client.send_packet(&b"anyone?".to_vec()),
        Err(ClientError::Os(StatusCode::ECONNREFUSED))
    );
    // Consumed: nothing is pending for the next call.
    assert_eq!(client.socket().take_error(), Ok(None));
    assert_eq!(
        client.recv_packet(Some(Duration::ZERO)),
        Err(ClientError::Timeout)
    );
    // Each refused datagram is reported by its own send; the client stays
    // open.
    assert_eq!(
        client.send_packet(&b"still?".to_vec()),
        Err(ClientError::Os(StatusCode::ECONNREFUSED))
    );
    assert!(!client.is_closed());
}

#[test]
fn a_refused_send_fails_with_econnrefused_ipv4() {
    a_refused_send_fails_with_econnrefused("127.0.0.1");
}

#[test]
fn a_refused_send_fails_with_econnrefused_ipv6() {
    a_refused_send_fails_with_econnrefused("::1");
}

#[test]
fn a_send_after_the_peer_left_fails_with_econnrefused() {
    let peer = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    client.send_packet(&b"ABC".to_vec()).unwrap();
    assert_eq!(peer_recv(&peer).0, b"ABC");
    drop(peer);
    assert_eq!(
        client.send_packet(&b"DEF".to_vec()),
        Err(ClientError::Os(StatusCode::ECONNREFUSED))
    );
}

/// A protocol whose parser panics on `!`.
struct Panicky;

impl PacketProtocol for Panicky {
    type Packet = Vec<u8>;
    fn serialize<'a>(&self, packet: &'a Vec<u8>) -> Result<Cow<'a, [u8]>, ProtocolError> {
        Ok(Cow::Borrowed(packet))
    }
    fn deserialize(&self, datagram: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        assert!(datagram != b"!", "parser bug");
        Ok(datagram.to_vec())
    }
}

#[test]
fn a_panicking_parser_does_not_break_the_client() {
    let peer = peer_v4();
    let client = Arc::new(client_for(&peer, Panicky));
    let me = client.local_address().unwrap();
    peer.send_to(b"!", me).unwrap();
    peer.send_to(b"fine", me).unwrap();
    let c = client.clone();
    let panicked = thread::spawn(move || c.recv_packet(Some(GUARD))).join();
    assert!(panicked.is_err(), "the parser panicked in that thread");
    // The locks are not poisoned for good: the next datagram is received.
    assert_eq!(client.recv_packet(Some(GUARD)).unwrap(), b"fine");
    client.send_packet(&b"still sending".to_vec()).unwrap();
    assert_eq!(peer_recv(&peer).0, b"still sending");
}

// ------------------------------------------------------------ iterator

#[test]
fn iter_yields_what_is_queued_then_stops() {
    let peer = peer_v4();
    let client = client_for(&peer, TextProtocol);
    let me = client.local_address().unwrap();
    // Nothing queued: the zero budget yields nothing.
    assert_eq!(
        client.iter_received_packets(Some(Duration::ZERO)).count(),
        0
    );

    for text in ["a", "b", "c"] {
        peer.send_to(text.as_bytes(), me).unwrap();
    }
    let first: Vec<String> = client
        .iter_received_packets(Some(GUARD))
        .take(3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first, ["a", "b", "c"]);

    // A budget that runs out ends the iteration without an error item.
    let mut it = client.iter_received_packets(Some(Duration::from_millis(30)));
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);
}

#[test]
fn iter_yields_parse_errors_and_goes_on() {
    let peer = peer_v4();
    let client = client_for(&peer, TextProtocol);
    let me = client.local_address().unwrap();
    peer.send_to(b"one", me).unwrap();
    peer.send_to(&[0xc3], me).unwrap();
    peer.send_to(b"two", me).unwrap();
    let items: Vec<_> = client.iter_received_packets(Some(GUARD)).take(3).collect();
    assert_eq!(items[0], Ok("one".to_string()));
    assert!(matches!(
        &items[1],
        Err(ClientError::Parse {
            datagram_len: 1,
            ..
        })
    ));
    assert_eq!(items[2], Ok("two".to_string()));
}

#[test]
fn iter_with_zero_budget_drains_the_socket() {
    let peer = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    let me = client.local_address().unwrap();
    for i in 0..5u8 {
        peer.send_to(&[i], me).unwrap();
    }
    // Wait until the first one is there, then the rest are drained with
    // the default budget of zero (loopback keeps their order).
    let mut got = vec![recv_when_queued(&client).unwrap()];
    while got.len() < 5 {
        let more: Vec<Vec<u8>> = client
            .iter_received_packets(Some(Duration::ZERO))
            .collect::<Result<_, _>>()
            .unwrap();
        if more.is_empty() {
            got.push(recv_when_queued(&client).unwrap());
        }
        got.extend(more);
    }
    assert_eq!(got, [[0], [1], [2], [3], [4]]);
}

// ------------------------------------------------------------ socket proxy

#[test]
fn socket_proxy_options_v4() {
    let peer = peer_v4();
    let client = client_for(&peer, BytesProtocol);
    let socket = client.socket();
    assert_eq!(socket.family(), AF_INET);
    assert_eq!(socket.socket_type(), libc::SOCK_DGRAM);
    assert_eq!(socket.protocol(), Ok(libc::IPPROTO_UDP));
    assert_eq!(socket.local_addr(), client.local_address());
    assert_eq!(socket.peer_addr(), Ok(peer.local_addr().unwrap()));
    assert_eq!(socket.fileno(), client.fileno());

    socket.set_ttl(9).unwrap();
    assert_eq!(socket.ttl(), Ok(9));
    assert_eq!(socket.get_int_option(libc::IPPROTO_IP, libc::IP_TTL), Ok(9));
    assert_eq!(socket.set_ttl(0), Err(ClientError::Os(StatusCode::EINVAL)));

    assert_eq!(socket.broadcast(), Ok(false));
    socket.set_broadcast(true).unwrap();
    assert_eq!(socket.broadcast(), Ok(true));
    assert_eq!(
        socket.get_int_option(libc::SOL_SOCKET, libc::SO_BROADCAST),
        Ok(1)
    );

    socket.set_recv_buffer_size(65536).unwrap();
    assert!(socket.recv_buffer_size().unwrap() >= 65536);
    socket.set_send_buffer_size(65536).unwrap();
    assert!(socket.send_buffer_size().unwrap() >= 65536);

    socket
        .set_int_option(libc::SOL_SOCKET, libc::SO_PRIORITY, 3)
        .unwrap();
    assert_eq!(
        socket.get_int_option(libc::SOL_SOCKET, libc::SO_PRIORITY),
        Ok(3)
    );
    socket
        .set_option_bytes(libc::SOL_SOCKET, libc::SO_PRIORITY, &4i32.to_ne_bytes())
        .unwrap();
    assert_eq!(
        socket.get_option_bytes(libc::SOL_SOCKET, libc::SO_PRIORITY, 4),
        Ok(4i32.to_ne_bytes().to_vec())
    );
    assert_eq!(socket.take_error(), Ok(None));
    // An unknown option is the kernel's error, not a panic.
    assert_eq!(
        socket.get_int_option(libc::SOL_SOCKET, 0x7fff),
        Err(ClientError::Os(StatusCode::ENOPROTOOPT))
    );
}

#[test]
fn socket_proxy_ttl_v6_uses_unicast_hops() {
    let peer = peer_v6();
    let client = client_for(&peer, BytesProtocol);
    let socket = client.socket();
    assert_eq!(socket.family(), AF_INET6);
    socket.set_ttl(33).unwrap();
    assert_eq!(socket.ttl(), Ok(33));
    assert_eq!(
        socket.get_int_option(libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS),
        Ok(33)
    );
}

#[test]
fn sends_and_receives_from_two_threads_at_once() {
    let peer = peer_v4();
    let client = Arc::new(client_for(&peer, BytesProtocol));
    let me = client.local_address().unwrap();
    let receiver = {
        let client = client.clone();
        thread::spawn(move || {
            (0..20)
                .map(|_| client.recv_packet(Some(GUARD)).unwrap()[0])
                .collect::<Vec<u8>>()
        })
    };
    // The receiver is blocked (or about to be); sends go through anyway.
    for i in 0..20u8 {
        client.send_packet(&vec![i]).unwrap();
        let (data, _) = peer_recv(&peer);
        peer.send_to(&data, me).unwrap();
    }
    assert_eq!(receiver.join().unwrap(), (0..20).collect::<Vec<u8>>());
}
