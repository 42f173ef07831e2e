//! The loop-driven UDP client (`ruv::client::LoopUdpClient`): sends and
//! receives with callbacks, timeouts on the loop's timer (the manual clock
//! makes them instant and exact), callback order, closing, parse errors,
//! the bounded queue and liveness.
//!
//! Watchdogs are hang guards only; no test asserts how fast anything is.

mod util;

use util::record;

use ruv::client::{
    BytesProtocol, ClientError, LoopClientOptions, LoopUdpClient, PacketProtocol, ProtocolError,
    TextProtocol,
};
use ruv::{Loop, RunMode, StatusCode, Timer, Udp, UdpFlags};
use std::borrow::Cow;
use std::cell::RefCell;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::rc::Rc;
use std::time::Duration;

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn entries(log: &Log) -> Vec<String> {
    log.borrow().clone()
}

fn peer_v4() -> UdpSocket {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    peer
}

/// Runs the loop until nothing keeps it alive (hang-guarded).
fn run_to_end(lp: &Loop) {
    let dog = util::watchdog(lp, 10_000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
}

/// Runs single iterations until `done()` (hang-guarded by a referenced
/// timer, so each iteration may block for I/O).
fn run_until(lp: &Loop, mut done: impl FnMut() -> bool) {
    let guard = Timer::new(lp);
    guard
        .start(10_000, 0, |_| {
            panic!("run_until: condition not met in 10 s")
        })
        .unwrap();
    while !done() {
        lp.run(RunMode::Once).unwrap();
    }
    guard.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
}

fn text(s: &str) -> String {
    s.to_string()
}

// ------------------------------------------------------------ echo

#[test]
fn echo_through_a_ruv_server_on_the_same_loop() {
    let lp = Loop::new().unwrap();
    let (server, addr) = util::bound_udp(&lp);
    server
        .receive_start(|udp, dgram| {
            let dgram = dgram.unwrap();
            udp.send(&[dgram.data], Some(dgram.addr), |_, s| s.unwrap())
                .unwrap();
        })
        .unwrap();
    let client = LoopUdpClient::connect(&lp, addr, TextProtocol).unwrap();
    assert_eq!(client.remote_address(), Ok(addr));
    let log = log();
    let l = log.clone();
    client.send_packet(&text("ping"), move |r| {
        l.borrow_mut().push(format!("sent:{r:?}"))
    });
    let (c, s) = (client.clone(), server.clone());
    let l = log.clone();
    client.recv_packet(Some(Duration::from_secs(5)), move |r| {
        l.borrow_mut().push(format!("recv:{:?}", r));
        c.close();
        s.close(|| {});
    });
    // Nothing runs from inside the calls.
    assert!(entries(&log).is_empty());
    run_to_end(&lp);
    assert_eq!(entries(&log), ["sent:Ok(())", "recv:Ok(\"ping\")"]);
    assert!(client.is_closed());
}

#[test]
fn echo_with_a_std_peer_on_ipv6() {
    let lp = Loop::new().unwrap();
    let peer = UdpSocket::bind("[::1]:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = log();
    client.send_packet(&b"six".to_vec(), record(&log, "sent"));
    run_to_end(&lp);
    let mut buf = [0; 16];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"six");
    assert_eq!(from, client.local_address().unwrap());
    peer.send_to(b"back", from).unwrap();
    client.recv_packet(None, record(&log, "recv"));
    run_to_end(&lp);
    assert_eq!(entries(&log), ["sent:()", "recv:[98, 97, 99, 107]"]);
    client.close();
    run_to_end(&lp);
}

// ------------------------------------------------------------ timeouts

#[test]
fn timeout_fires_on_the_loop_timer() {
    let lp = Loop::with_manual_clock().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = log();
    client.recv_packet(Some(Duration::from_millis(50)), record(&log, "short"));
    assert_eq!(client.waiting_receives(), 1);
    let start = lp.now();
    run_to_end(&lp);
    assert_eq!(entries(&log), ["short:Err(Timeout)"]);
    // The manual clock jumped exactly to the deadline.
    assert_eq!(lp.now() - start, 50);
    assert_eq!(client.waiting_receives(), 0);
    client.close();
    run_to_end(&lp);
}

#[test]
fn timeouts_fire_in_deadline_order_and_spare_the_others() {
    let lp = Loop::with_manual_clock().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = log();
    client.recv_packet(Some(Duration::from_millis(300)), record(&log, "300"));
    client.recv_packet(Some(Duration::from_millis(100)), record(&log, "100"));
    client.recv_packet(Some(Duration::from_micros(100_500)), record(&log, "100.5"));
    run_to_end(&lp);
    // 100.5 ms rounds up to 101 ms.
    assert_eq!(
        entries(&log),
        ["100:Err(Timeout)", "100.5:Err(Timeout)", "300:Err(Timeout)"]
    );
    assert_eq!(lp.now(), 300);
    client.close();
    run_to_end(&lp);
}

#[test]
fn zero_timeout_never_waits() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = log();
    client.recv_packet(Some(Duration::ZERO), record(&log, "zero"));
    assert!(
        entries(&log).is_empty(),
        "delivered from the loop, not the call"
    );
    run_to_end(&lp);
    assert_eq!(entries(&log), ["zero:Err(Timeout)"]);
    client.close();
    run_to_end(&lp);
}

#[test]
fn zero_timeout_gets_a_queued_packet() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), TextProtocol).unwrap();
    peer.send_to(b"early", client.local_address().unwrap())
        .unwrap();
    // Nobody waits: the loop reads the datagram into the queue.
    run_until(&lp, || client.queued() == 1);
    let log = log();
    client.recv_packet(Some(Duration::ZERO), record(&log, "zero"));
    client.recv_packet(Some(Duration::ZERO), record(&log, "again"));
    run_to_end(&lp);
    assert_eq!(entries(&log), ["zero:\"early\"", "again:Err(Timeout)"]);
    client.close();
    run_to_end(&lp);
}

/// As easynetwork's `recv_packet____ignore_other_socket_packets`: the
/// client's socket is connected, so a datagram from anyone but the peer is
/// never delivered (nor queued); the peer's, sent after it, comes first.
#[test]
fn datagrams_from_other_senders_are_not_received() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let stranger = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), TextProtocol).unwrap();
    let me = client.local_address().unwrap();
    stranger.send_to(b"not for you", me).unwrap();
    peer.send_to(b"for you", me).unwrap();
    run_until(&lp, || client.queued() == 1);
    let log = log();
    client.recv_packet(None, record(&log, "recv"));
    client.recv_packet(Some(Duration::ZERO), record(&log, "next"));
    run_to_end(&lp);
    assert_eq!(entries(&log), ["recv:\"for you\"", "next:Err(Timeout)"]);
    client.close();
    run_to_end(&lp);
}

#[test]
fn no_timeout_waits_for_a_sender_thread() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), TextProtocol).unwrap();
    let me = client.local_address().unwrap();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        peer.send_to(b"from a thread", me).unwrap();
    });
    let log = log();
    client.recv_packet(None, record(&log, "none"));
    // The waiting receive keeps the loop alive until the datagram comes.
    run_to_end(&lp);
    sender.join().unwrap();
    assert_eq!(entries(&log), ["none:\"from a thread\""]);
    client.close();
    run_to_end(&lp);
}

// ------------------------------------------------------------ order

#[test]
fn waiting_receives_get_datagrams_in_order() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), TextProtocol).unwrap();
    let me = client.local_address().unwrap();
    let log = log();
    client.recv_packet(None, record(&log, "r1"));
    client.recv_packet(Some(Duration::from_secs(5)), record(&log, "r2"));
    client.recv_packet(None, record(&log, "r3"));
    assert_eq!(client.waiting_receives(), 3);
    for t in ["one", "two", "three"] {
        peer.send_to(t.as_bytes(), me).unwrap();
    }
    run_to_end(&lp);
    assert_eq!(entries(&log), ["r1:\"one\"", "r2:\"two\"", "r3:\"three\""]);
    client.close();
    run_to_end(&lp);
}

#[test]
fn queued_then_waiting_receives_keep_request_order() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), TextProtocol).unwrap();
    let me = client.local_address().unwrap();
    peer.send_to(b"queued", me).unwrap();
    run_until(&lp, || client.queued() == 1);
    let log = log();
    // The first receive is decided at once (the queued packet, delivered
    // by the timer), the second only when "live" arrives: callbacks run in
    // the order their outcome was decided, whichever phase comes first.
    client.recv_packet(None, record(&log, "first"));
    client.recv_packet(None, record(&log, "second"));
    peer.send_to(b"live", me).unwrap();
    run_to_end(&lp);
    assert_eq!(entries(&log), ["first:\"queued\"", "second:\"live\""]);
    client.close();
    run_to_end(&lp);
}

#[test]
fn receive_from_inside_a_receive_callback() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), TextProtocol).unwrap();
    let me = client.local_address().unwrap();
    let log = log();
    let (c, l) = (client.clone(), log.clone());
    client.recv_packet(None, move |r| {
        l.borrow_mut().push(format!("outer:{r:?}"));
        let l2 = l.clone();
        let c2 = c.clone();
        c.recv_packet(None, move |r| {
            l2.borrow_mut().push(format!("inner:{r:?}"));
            c2.close();
        });
    });
    peer.send_to(b"a", me).unwrap();
    peer.send_to(b"b", me).unwrap();
    run_to_end(&lp);
    assert_eq!(entries(&log), ["outer:Ok(\"a\")", "inner:Ok(\"b\")"]);
}

// ------------------------------------------------------------ close

#[test]
fn close_fails_waiting_receives_from_the_closing_phase() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = log();
    client.recv_packet(None, record(&log, "a"));
    client.recv_packet(Some(Duration::from_secs(60)), record(&log, "b"));
    client.close();
    client.close(); // idempotent
    assert!(client.is_closed());
    assert!(entries(&log).is_empty(), "not from inside close()");
    run_to_end(&lp);
    assert_eq!(entries(&log), ["a:Err(Closed)", "b:Err(Closed)"]);
}

#[test]
fn closed_client_reports_closed_from_the_loop() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    client.close();
    run_to_end(&lp);
    let log = log();
    client.send_packet(&b"x".to_vec(), record(&log, "send"));
    client.recv_packet(None, record(&log, "recv"));
    client.recv_packet(Some(Duration::ZERO), record(&log, "zero"));
    assert!(entries(&log).is_empty());
    run_to_end(&lp);
    assert_eq!(
        entries(&log),
        ["send:Err(Closed)", "recv:Err(Closed)", "zero:Err(Closed)"]
    );
    assert_eq!(client.local_address(), Err(ClientError::Closed));
    assert_eq!(client.remote_address(), Err(ClientError::Closed));
    assert_eq!(client.fileno(), Err(ClientError::Closed));
}

#[test]
fn idle_client_does_not_keep_the_loop_alive() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    // Reading (into the queue) but with nobody waiting: run returns.
    assert!(!lp.alive());
    lp.run(RunMode::Default).unwrap();
    // A waiting receive makes it alive, a timeout ends that.
    client.recv_packet(Some(Duration::from_millis(10)), |_| {});
    assert!(lp.alive());
    run_to_end(&lp);
    assert!(!lp.alive());
    client.close();
    run_to_end(&lp);
    assert!(lp.close().is_ok(), "every handle of the client is gone");
}

// ------------------------------------------------------------ errors

#[test]
fn parse_error_then_good_packet() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), TextProtocol).unwrap();
    let me = client.local_address().unwrap();
    peer.send_to(&[0xff, 0xff], me).unwrap();
    peer.send_to(b"good", me).unwrap();
    let log = log();
    let l = log.clone();
    client.recv_packet(None, move |r| match r {
        Err(ClientError::Parse { datagram_len, .. }) => {
            l.borrow_mut().push(format!("bad:{datagram_len}"))
        }
        other => l.borrow_mut().push(format!("unexpected:{other:?}")),
    });
    client.recv_packet(None, record(&log, "next"));
    run_to_end(&lp);
    assert_eq!(entries(&log), ["bad:2", "next:\"good\""]);
    client.close();
    run_to_end(&lp);
}

/// Serializing `"boom"` fails.
struct NoBoom;

impl PacketProtocol for NoBoom {
    type Packet = String;
    fn serialize<'a>(&self, packet: &'a String) -> Result<Cow<'a, [u8]>, ProtocolError> {
        if packet == "boom" {
            Err(ProtocolError::new("refusing to send boom"))
        } else {
            Ok(Cow::Borrowed(packet.as_bytes()))
        }
    }
    fn deserialize(&self, datagram: &[u8]) -> Result<String, ProtocolError> {
        Ok(String::from_utf8_lossy(datagram).into_owned())
    }
}

#[test]
fn serialize_error_is_delivered_to_the_callback() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), NoBoom).unwrap();
    let log = log();
    client.send_packet(&text("boom"), record(&log, "boom"));
    client.send_packet(&text("fine"), record(&log, "fine"));
    assert!(entries(&log).is_empty());
    run_to_end(&lp);
    let got = entries(&log);
    assert_eq!(got.len(), 2);
    assert!(got.contains(&"fine:()".to_string()));
    assert!(got.contains(&"boom:Err(Serialize { message: \"refusing to send boom\" })".to_string()));
    let mut buf = [0; 16];
    let (n, _) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"fine", "nothing was sent for the failed packet");
    client.close();
    run_to_end(&lp);
}

/// A loopback address of `host` nobody listens on (bound, noted, released).
fn dead_addr(host: &str) -> SocketAddr {
    UdpSocket::bind((host, 0)).unwrap().local_addr().unwrap()
}

/// easynetwork reads `SO_ERROR` after every send: the send whose datagram
/// drew an ICMP port-unreachable (answered within the send on loopback)
/// reports ECONNREFUSED itself, and consumes it.
fn a_refused_send_reports_econnrefused(host: &str) {
    let lp = Loop::with_manual_clock().unwrap();
    let client = LoopUdpClient::connect(&lp, dead_addr(host), BytesProtocol).unwrap();
    let log = log();
    client.send_packet(&b"anyone?".to_vec(), record(&log, "send"));
    client.recv_packet(Some(Duration::from_secs(5)), record(&log, "recv"));
    run_to_end(&lp);
    // The error went to the send; the receive found nothing pending.
    assert_eq!(
        entries(&log),
        ["send:Err(Os(ECONNREFUSED))", "recv:Err(Timeout)"]
    );
    // Each refused datagram is reported by its own send; the client stays
    // usable.
    client.send_packet(&b"still?".to_vec(), record(&log, "again"));
    run_to_end(&lp);
    assert_eq!(entries(&log)[2], "again:Err(Os(ECONNREFUSED))");
    assert!(!client.is_closed());
    client.close();
    run_to_end(&lp);
    lp.close().unwrap();
}

#[test]
fn a_refused_send_reports_econnrefused_ipv4() {
    a_refused_send_reports_econnrefused("127.0.0.1");
}

#[test]
fn a_refused_send_reports_econnrefused_ipv6() {
    a_refused_send_reports_econnrefused("::1");
}

#[test]
fn a_send_after_the_peer_left_reports_econnrefused() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = log();
    client.send_packet(&b"ABC".to_vec(), record(&log, "first"));
    run_to_end(&lp);
    let mut buf = [0; 16];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(
        (&buf[..n], from),
        (&b"ABC"[..], client.local_address().unwrap())
    );
    drop(peer);
    client.send_packet(&b"DEF".to_vec(), record(&log, "second"));
    run_to_end(&lp);
    assert_eq!(entries(&log), ["first:()", "second:Err(Os(ECONNREFUSED))"]);
    client.close();
    run_to_end(&lp);
}

// ------------------------------------------------------------ construction

#[test]
fn connect_with_a_local_address() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let options = LoopClientOptions::default().with_local_address("127.0.0.1:0".parse().unwrap());
    let client =
        LoopUdpClient::connect_with(&lp, peer.local_addr().unwrap(), BytesProtocol, options)
            .unwrap();
    let local = client.local_address().unwrap();
    assert_eq!(local.ip().to_string(), "127.0.0.1");
    assert_ne!(local.port(), 0);
    client.close();
    run_to_end(&lp);
}

#[test]
fn connect_error_leaves_no_handle() {
    let lp = Loop::new().unwrap();
    // A local IPv6 address cannot connect to an IPv4 peer.
    let options = LoopClientOptions::default().with_local_address("[::1]:0".parse().unwrap());
    let err =
        LoopUdpClient::connect_with(&lp, "127.0.0.1:9".parse().unwrap(), BytesProtocol, options)
            .unwrap_err();
    assert!(matches!(err, ClientError::Os(_)), "{err:?}");
    run_to_end(&lp);
    assert!(lp.close().is_ok());
}

#[test]
fn from_socket_checks_the_socket() {
    let lp = Loop::new().unwrap();
    let unconnected = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        LoopUdpClient::from_socket(&lp, unconnected, BytesProtocol).unwrap_err(),
        ClientError::Os(StatusCode::ENOTCONN)
    );
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        LoopUdpClient::from_socket(&lp, tcp, BytesProtocol).unwrap_err(),
        ClientError::Os(StatusCode::EINVAL)
    );
    run_to_end(&lp);
    assert!(lp.close().is_ok());

    let peer = peer_v4();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(peer.local_addr().unwrap()).unwrap();
    let client = LoopUdpClient::from_socket(&lp, sock, BytesProtocol).unwrap();
    assert_eq!(client.remote_address(), Ok(peer.local_addr().unwrap()));
    client.close();
    run_to_end(&lp);
}

// ------------------------------------------------------------ queue

#[test]
fn queue_is_bounded_and_the_kernel_keeps_the_rest() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let options = LoopClientOptions::default().with_queue_limit(2);
    let client =
        LoopUdpClient::connect_with(&lp, peer.local_addr().unwrap(), BytesProtocol, options)
            .unwrap();
    let me = client.local_address().unwrap();
    for i in 0..5u8 {
        peer.send_to(&[i], me).unwrap();
    }
    run_until(&lp, || client.queued() == 2);
    // Full: the client stopped reading, so more iterations add nothing.
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(client.queued(), 2);
    let log = log();
    for _ in 0..5 {
        client.recv_packet(Some(Duration::from_secs(5)), record(&log, "r"));
    }
    run_to_end(&lp);
    assert_eq!(entries(&log), ["r:[0]", "r:[1]", "r:[2]", "r:[3]", "r:[4]"]);
    client.close();
    run_to_end(&lp);
}

#[test]
fn queue_limit_zero_reads_only_for_a_waiting_receive() {
    let lp = Loop::new().unwrap();
    let peer = peer_v4();
    let options = LoopClientOptions::default().with_queue_limit(0);
    let client =
        LoopUdpClient::connect_with(&lp, peer.local_addr().unwrap(), TextProtocol, options)
            .unwrap();
    let me = client.local_address().unwrap();
    peer.send_to(b"x", me).unwrap();
    peer.send_to(b"y", me).unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(client.queued(), 0);
    let log = log();
    client.recv_packet(None, record(&log, "r"));
    run_to_end(&lp);
    assert_eq!(entries(&log), ["r:\"x\""]);
    assert_eq!(client.queued(), 0, "y stays in the kernel");
    client.recv_packet(None, record(&log, "r"));
    run_to_end(&lp);
    assert_eq!(entries(&log), ["r:\"x\"", "r:\"y\""]);
    client.close();
    run_to_end(&lp);
}

#[test]
fn a_closed_peer_handle_does_not_disturb_the_client() {
    // The peer is a ruv handle on the same loop, closed before the client
    // waits: the client just times out.
    let lp = Loop::new().unwrap();
    let server = Udp::new(&lp);
    server
        .bind("127.0.0.1:0".parse().unwrap(), UdpFlags::empty())
        .unwrap();
    let client = LoopUdpClient::connect(&lp, server.sockname().unwrap(), BytesProtocol).unwrap();
    server.close(|| {});
    let log = log();
    client.recv_packet(Some(Duration::from_millis(20)), record(&log, "r"));
    run_to_end(&lp);
    assert_eq!(entries(&log), ["r:Err(Timeout)"]);
    client.close();
    run_to_end(&lp);
}
