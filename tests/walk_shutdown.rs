//! libuv's usual shutdown — `lp.walk(|h| h.close(..))`, then run the loop —
//! also closes the handles that ruv's layers own inside: the resolver
//! request's async handle, `create_datagram_endpoint`'s timer and
//! `LoopUdpClient`'s UDP handle and timer. Every callback those layers
//! owe still runs exactly once, from the loop, with a clear error; then
//! the loop ends and closes.

mod endpoint_common;
mod util;

use endpoint_common::{choked_socket, set_int, Recorder, CHOKE};
use ruv::client::{BytesProtocol, LoopUdpClient};
use ruv::dns::{self, AddrInfoHints};
use ruv::endpoint::{create_datagram_endpoint, EndpointOptions};
use ruv::{Error, HandleType, Loop, RunMode, StatusCode, Timer};
use std::cell::{Cell, RefCell};
use std::net::UdpSocket;
use std::rc::Rc;
use std::time::Duration;
use util::record;

type Log = Rc<RefCell<Vec<String>>>;

fn entries(log: &Log) -> Vec<String> {
    log.borrow().clone()
}

/// Closes every handle of the loop, as libuv programs do to shut down.
fn close_every_handle(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
}

/// Runs the loop to its end under a watchdog; asserts that nothing is left
/// and that the loop closes.
fn run_to_close(lp: &Loop) {
    assert!(!util::run_guarded(lp), "the loop ended with work left");
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

// ------------------------------------------------------------ resolver

#[test]
fn a_lookup_whose_handle_is_closed_calls_back_once_with_ecanceled() {
    let lp = Loop::new().unwrap();
    let outcomes = Rc::new(RefCell::new(Vec::new()));
    let o = outcomes.clone();
    let hints = AddrInfoHints::default().with_socktype(dns::SOCK_DGRAM);
    let req = dns::getaddrinfo(&lp, Some("localhost"), 53, hints, move |r| {
        o.borrow_mut().push(r.map(|list| list.len()));
    })
    .unwrap();
    close_every_handle(&lp);
    assert!(outcomes.borrow().is_empty(), "never from inside close");
    // Its outcome is decided: cancelling can no longer change it.
    assert!(!req.cancel());
    run_to_close(&lp);
    assert_eq!(
        *outcomes.borrow(),
        [Err(Error::Status(StatusCode::ECANCELED))]
    );
    assert!(!req.is_active());
    assert!(!req.cancel());
}

// ------------------------------------------------------------ endpoint creation

type Done = Rc<RefCell<Vec<Result<(), Error>>>>;

/// Starts an endpoint creation that records its outcome; the factory must
/// not be called.
fn create(lp: &Loop, options: EndpointOptions) -> (Done, Rc<Cell<bool>>) {
    let done = Done::default();
    let made = Rc::new(Cell::new(false));
    let (d, m) = (done.clone(), made.clone());
    create_datagram_endpoint(
        lp,
        move || {
            m.set(true);
            Recorder::new(Default::default())
        },
        options,
        move |result| d.borrow_mut().push(result.map(drop)),
    );
    (done, made)
}

#[test]
fn an_endpoint_creation_closed_before_it_starts_reports_ecanceled_once() {
    let lp = Loop::new().unwrap();
    let (done, made) = create(&lp, EndpointOptions::local("127.0.0.1", 0));
    close_every_handle(&lp);
    assert!(done.borrow().is_empty(), "never from inside close");
    run_to_close(&lp);
    assert_eq!(*done.borrow(), [Err(Error::Status(StatusCode::ECANCELED))]);
    assert!(!made.get());
}

#[test]
fn an_endpoint_creation_closed_while_resolving_reports_ecanceled_once() {
    let lp = Loop::new().unwrap();
    let (done, made) = create(&lp, EndpointOptions::local("localhost", 0));
    // The creation starts from a 0 ms timer; this one, started after it,
    // fires right behind it in the same timer phase: the lookup has
    // started and its answer cannot have been delivered yet.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (lp2, s) = (lp.clone(), seen.clone());
    Timer::new(&lp)
        .start(0, 0, move |_| {
            lp2.walk(|h| {
                s.borrow_mut().push(h.handle_type());
                h.close(|| {});
            })
        })
        .unwrap();
    run_to_close(&lp);
    assert!(
        seen.borrow().contains(&HandleType::Async),
        "the lookup was in flight: {:?}",
        seen.borrow()
    );
    assert_eq!(*done.borrow(), [Err(Error::Status(StatusCode::ECANCELED))]);
    assert!(!made.get());
}

// ------------------------------------------------------------ loop client

#[test]
fn a_closed_loop_client_fails_waiting_and_later_calls_with_closed() {
    let lp = Loop::new().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = Log::default();
    client.recv_packet(None, record(&log, "forever"));
    client.recv_packet(Some(Duration::from_secs(60)), record(&log, "minute"));
    close_every_handle(&lp);
    assert!(entries(&log).is_empty(), "never from inside close");
    assert!(client.is_closed());
    client.send_packet(&b"late".to_vec(), record(&log, "late send"));
    client.recv_packet(None, record(&log, "late recv"));
    run_to_close(&lp);
    assert_eq!(
        entries(&log),
        [
            "forever:Err(Closed)",
            "minute:Err(Closed)",
            "late send:Err(Closed)",
            "late recv:Err(Closed)",
        ]
    );
    assert_eq!(client.waiting_receives(), 0);
}

#[test]
fn a_loop_client_closed_mid_receive_with_sends_queued() {
    let lp = Loop::new().unwrap();
    let peer = UdpSocket::bind("[::1]:0").unwrap();
    let sock = choked_socket();
    sock.connect(&peer.local_addr().unwrap().into()).unwrap();
    set_int(&sock, libc::SOL_SOCKET, libc::SO_SNDBUF, 1);
    let client = LoopUdpClient::from_socket(&lp, sock, BytesProtocol).unwrap();
    let log = Log::default();
    client.recv_packet(None, record(&log, "recv"));
    // Too big for the choked socket: both wait in the handle's queue.
    client.send_packet(&vec![b'a'; CHOKE], record(&log, "send a"));
    client.send_packet(&vec![b'b'; CHOKE], record(&log, "send b"));
    lp.run(RunMode::NoWait).unwrap();
    assert!(entries(&log).is_empty());
    close_every_handle(&lp);
    run_to_close(&lp);
    // As with `close`: the queued sends are cancelled (closing phase), then
    // the waiting receive learns the client is closed.
    assert_eq!(
        entries(&log),
        [
            "send a:Err(Os(ECANCELED))",
            "send b:Err(Os(ECANCELED))",
            "recv:Err(Closed)",
        ]
    );
    assert!(client.is_closed());
}

#[test]
fn a_closed_loop_client_still_delivers_what_was_decided() {
    // Results decided before the walk (a packet read, a sent datagram)
    // are delivered as decided, then the rest learns the client is closed.
    let lp = Loop::new().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let me = client.local_address().unwrap();
    peer.send_to(b"early", me).unwrap();
    let log = Log::default();
    // Read by the loop while nobody waits: queued in the client. (An idle
    // client does not keep the loop alive: a referenced timer does, so
    // that each iteration waits for I/O.)
    let guard = Timer::new(&lp);
    guard
        .start(10_000, 0, |_| panic!("the datagram never came"))
        .unwrap();
    while client.queued() == 0 {
        lp.run(RunMode::Once).unwrap();
    }
    guard.close(|| {});
    client.recv_packet(None, record(&log, "queued"));
    client.send_packet(&b"out".to_vec(), record(&log, "sent"));
    client.recv_packet(None, record(&log, "waiting"));
    close_every_handle(&lp);
    run_to_close(&lp);
    assert_eq!(
        entries(&log),
        [
            "queued:[101, 97, 114, 108, 121]",
            "sent:()",
            "waiting:Err(Closed)"
        ]
    );
}

#[test]
fn a_walk_from_inside_a_client_callback() {
    let lp = Loop::new().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = Log::default();
    let (l, lp2) = (log.clone(), lp.clone());
    client.recv_packet(None, move |result| {
        l.borrow_mut()
            .push(format!("first:{:?}", result.map(|p| p.len())));
        close_every_handle(&lp2);
    });
    client.recv_packet(None, record(&log, "second"));
    peer.send_to(b"one", client.local_address().unwrap())
        .unwrap();
    run_to_close(&lp);
    assert_eq!(entries(&log), ["first:Ok(3)", "second:Err(Closed)"]);
}

#[test]
fn a_second_walk_before_the_loop_runs_still_delivers_once() {
    // The first walk leaves timers that deliver what is owed; the second
    // closes them too, and what they carried moves to new ones.
    let lp = Loop::new().unwrap();
    let lookups = Rc::new(RefCell::new(Vec::new()));
    let o = lookups.clone();
    dns::getaddrinfo(
        &lp,
        Some("localhost"),
        53,
        AddrInfoHints::default(),
        move |r| {
            o.borrow_mut().push(r.map(drop));
        },
    )
    .unwrap();
    let (done, _) = create(&lp, EndpointOptions::local("127.0.0.1", 0));
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = LoopUdpClient::connect(&lp, peer.local_addr().unwrap(), BytesProtocol).unwrap();
    let log = Log::default();
    client.recv_packet(None, record(&log, "recv"));
    close_every_handle(&lp);
    close_every_handle(&lp);
    run_to_close(&lp);
    let canceled = Err(Error::Status(StatusCode::ECANCELED));
    assert_eq!(*lookups.borrow(), [canceled]);
    assert_eq!(*done.borrow(), [canceled]);
    assert_eq!(entries(&log), ["recv:Err(Closed)"]);
}

/// An owed callback that panics (a user bug) runs once all the same: the
/// panic reaches `run`, and the next run neither calls it again nor keeps
/// the loop from ending and closing.
#[test]
fn an_owed_callback_that_panics_is_not_called_again() {
    let lp = Loop::new().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let hints = AddrInfoHints::default().with_socktype(dns::SOCK_DGRAM);
    let _req = dns::getaddrinfo(&lp, Some("localhost"), 53, hints, move |r| {
        c.set(c.get() + 1);
        assert_eq!(r.map(drop), Err(Error::Status(StatusCode::ECANCELED)));
        panic!("user bug in an owed callback");
    })
    .unwrap();
    close_every_handle(&lp);
    close_every_handle(&lp);
    let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lp.run(RunMode::Default)));
    assert!(first.is_err(), "the callback's panic reaches run");
    assert_eq!(calls.get(), 1);
    run_to_close(&lp);
    assert_eq!(calls.get(), 1);
}

// ------------------------------------------------------------ transport

/// A transport closed after a walk closed its UDP handle delivers
/// `connection_lost` from a timer; a second walk that closes that timer
/// too must not lose it.
#[test]
fn a_transport_closed_between_two_walks_still_gets_connection_lost_once() {
    let lp = Loop::new().unwrap();
    let (t, _, log) = endpoint_common::open(&lp, EndpointOptions::local("127.0.0.1", 0)).unwrap();
    close_every_handle(&lp);
    t.close();
    close_every_handle(&lp);
    assert_eq!(
        endpoint_common::entries(&log),
        ["made"],
        "never from inside close"
    );
    run_to_close(&lp);
    assert_eq!(endpoint_common::entries(&log), ["made", "lost None"]);
}
