//! `JsonProtocol` (cargo feature `serde`) through both clients: JSON
//! request/response against an echo peer, invalid JSON as a parse error
//! that does not stop the next receive, and a serializer failure.
#![cfg(feature = "serde")]

mod util;

use ruv::client::{
    ClientError, ClientOptions, JsonProtocol, LoopUdpClient, PacketProtocol, UdpClient,
};
use ruv::{Loop, RunMode};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::rc::Rc;
use std::thread;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(5);

/// A std echo peer on a thread; it echoes `count` datagrams, then returns.
fn echo_peer(count: usize) -> (std::net::SocketAddr, thread::JoinHandle<()>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(GUARD)).unwrap();
    let addr = sock.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut buf = vec![0; 65536];
        for _ in 0..count {
            let (n, from) = sock.recv_from(&mut buf).expect("echo peer got nothing");
            sock.send_to(&buf[..n], from).unwrap();
        }
    });
    (addr, handle)
}

#[test]
fn json_request_response_blocking() {
    let (addr, peer) = echo_peer(3);
    let client = UdpClient::connect(
        ("127.0.0.1", addr.port()),
        JsonProtocol::<Value>::new(),
        ClientOptions::default(),
    )
    .unwrap();
    for id in 0..3 {
        let request = json!({"id": id, "op": "echo", "args": ["a", 1, null]});
        client.send_packet(&request).unwrap();
        assert_eq!(client.recv_packet(Some(GUARD)).unwrap(), request);
    }
    client.close();
    peer.join().unwrap();
}

#[test]
fn invalid_json_is_a_parse_error_and_the_next_packet_parses() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = UdpClient::connect(
        ("127.0.0.1", peer.local_addr().unwrap().port()),
        JsonProtocol::<Value>::new(),
        ClientOptions::default(),
    )
    .unwrap();
    let me = client.local_address().unwrap();
    peer.send_to(b"{\"unterminated\": ", me).unwrap();
    peer.send_to(b"[1, 2, 3]", me).unwrap();
    match client.recv_packet(Some(GUARD)) {
        Err(ClientError::Parse {
            message,
            datagram_len,
        }) => {
            assert_eq!(datagram_len, 17);
            assert!(message.contains("EOF"), "{message}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert_eq!(client.recv_packet(Some(GUARD)).unwrap(), json!([1, 2, 3]));
}

#[test]
fn typed_packets_reject_the_wrong_shape() {
    // Packets are maps of string to integer.
    let protocol = JsonProtocol::<BTreeMap<String, i64>>::new();
    assert_eq!(
        protocol.deserialize(br#"{"a": 1}"#).unwrap(),
        BTreeMap::from([("a".to_string(), 1)])
    );
    let err = protocol.deserialize(br#"{"a": "one"}"#).unwrap_err();
    assert!(err.message().contains("invalid type"), "{err}");
}

#[test]
fn serializer_failure_is_a_serialize_error() {
    // JSON object keys must be strings; a tuple key cannot be written.
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(GUARD)).unwrap();
    let client = UdpClient::connect(
        ("127.0.0.1", peer.local_addr().unwrap().port()),
        JsonProtocol::<BTreeMap<(i32, i32), i32>>::new(),
        ClientOptions::default(),
    )
    .unwrap();
    let bad = BTreeMap::from([((1, 2), 3)]);
    match client.send_packet(&bad) {
        Err(ClientError::Serialize { message }) => {
            assert!(message.contains("key must be a string"), "{message}")
        }
        other => panic!("expected a serialize error, got {other:?}"),
    }
    // Nothing went out; an empty map does.
    client.send_packet(&BTreeMap::new()).unwrap();
    let mut buf = [0; 64];
    let n = peer.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"{}");
}

#[test]
fn json_request_response_on_the_loop() {
    let (addr, peer) = echo_peer(1);
    let lp = Loop::new().unwrap();
    let client = LoopUdpClient::connect(&lp, addr, JsonProtocol::<Value>::new()).unwrap();
    let got = Rc::new(RefCell::new(None));
    client.send_packet(&json!({"hello": "loop"}), |r| r.unwrap());
    let (g, c) = (got.clone(), client.clone());
    client.recv_packet(Some(GUARD), move |r| {
        *g.borrow_mut() = Some(r);
        c.close();
    });
    let dog = util::watchdog(&lp, 10_000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(got.borrow_mut().take(), Some(Ok(json!({"hello": "loop"}))));
    peer.join().unwrap();
}

#[test]
fn json_protocol_is_send_and_sync_for_any_packet_type() {
    fn assert_send_sync<T: Send + Sync>() {}
    // `Rc` is neither, but the protocol holds no packet.
    assert_send_sync::<JsonProtocol<Rc<Value>>>();
    assert_send_sync::<UdpClient<JsonProtocol<Value>>>();
}
