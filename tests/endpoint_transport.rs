//! `DatagramTransport` and `DatagramProtocol`: datagrams in and out,
//! destination checks, closing (`connection_lost` exactly once, never
//! synchronously), flow control with exact sizes, errors, reading pauses
//! and re-entrant calls from protocol callbacks.

mod endpoint_common;
mod util;

use endpoint_common::*;
use ruv::endpoint::{
    create_datagram_endpoint, DatagramTransport, EndpointOptions, DATAGRAM_OVERHEAD,
    DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER,
};
use ruv::{Error, Loop, RunMode, StatusCode, Udp, UdpFlags};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

type Got = Rc<RefCell<Vec<(Vec<u8>, SocketAddr)>>>;

/// A plain UDP receiver bound to `bind`.
fn receiver(lp: &Loop, bind: SocketAddr) -> (Udp, SocketAddr, Got) {
    let udp = Udp::new(lp);
    udp.bind(bind, UdpFlags::empty()).unwrap();
    let addr = udp.sockname().unwrap();
    let got = Got::default();
    let g = got.clone();
    udp.receive_start(move |_, r| {
        let d = r.unwrap();
        g.borrow_mut().push((d.data.to_vec(), d.addr));
    })
    .unwrap();
    (udp, addr, got)
}

/// A choked endpoint (see `choked_socket`) and an IPv6 receiver.
fn choked(lp: &Loop) -> (Opened, Udp, SocketAddr, Got) {
    let (rx, raddr, got) = receiver(lp, util::any_v6());
    let opened = open(lp, EndpointOptions::socket(choked_socket())).unwrap();
    choke(&opened.0);
    (opened, rx, raddr, got)
}

fn lost_count(log: &Log) -> usize {
    log.borrow()
        .iter()
        .filter(|e| e.starts_with("lost"))
        .count()
}

fn finish(lp: &Loop, transports: &[&DatagramTransport], handles: &[&Udp]) {
    for t in transports {
        t.close();
    }
    for h in handles {
        h.close(|| {});
    }
    run_to_end(lp);
    lp.close().unwrap();
}

// ------------------------------------------------------------- datagrams

fn datagrams_arrive_with_their_sender(host: &str) {
    let lp = Loop::new().unwrap();
    let (server, _, slog) = open(&lp, local(host)).unwrap();
    let saddr = server.sockname().unwrap();
    let remote = EndpointOptions::remote(host, saddr.port());
    let (client, _, clog) = open(&lp, remote).unwrap();
    let caddr = client.sockname().unwrap();
    assert_eq!(client.peername(), Some(saddr));
    client.sendto(b"hello", None).unwrap();
    client.sendto(b"", None).unwrap();
    client.sendto(b"world", Some(saddr)).unwrap();
    run_until(&lp, || slog.borrow().len() == 4);
    assert_eq!(
        entries(&slog),
        [
            "made".to_string(),
            format!("data \"hello\" from {caddr}"),
            format!("data \"\" from {caddr}"),
            format!("data \"world\" from {caddr}"),
        ]
    );
    assert_eq!(entries(&clog), ["made"]);
    finish(&lp, &[&client, &server], &[]);
    assert_eq!(lost_count(&slog), 1);
    assert_eq!(lost_count(&clog), 1);
}

#[test]
fn datagrams_arrive_with_their_sender_ipv4() {
    datagrams_arrive_with_their_sender("127.0.0.1");
}

#[test]
fn datagrams_arrive_with_their_sender_ipv6() {
    datagrams_arrive_with_their_sender("::1");
}

#[test]
fn an_echo_server_answers_from_its_callback() {
    let lp = Loop::new().unwrap();
    let (server, _, _) = open_with(&lp, local("127.0.0.1"), |log| {
        let mut r = Recorder::new(log);
        r.on_datagram = Some(Box::new(|t, (data, addr)| {
            t.sendto(&data, Some(addr)).unwrap();
        }));
        r
    })
    .unwrap();
    let port = server.sockname().unwrap().port();
    let (client, _, clog) = open_with(&lp, EndpointOptions::remote("127.0.0.1", port), |log| {
        let mut r = Recorder::new(log);
        r.on_made = Some(Box::new(|t, ()| t.sendto(b"Hello World!", None).unwrap()));
        r.on_datagram = Some(Box::new(|t, _| t.close()));
        r
    })
    .unwrap();
    let saddr = server.sockname().unwrap();
    run_until(&lp, || lost_count(&clog) == 1);
    assert_eq!(
        entries(&clog),
        [
            "made".to_string(),
            format!("data \"Hello World!\" from {saddr}"),
            "lost None".to_string(),
        ]
    );
    assert!(client.is_closing());
    finish(&lp, &[&server], &[]);
}

#[test]
fn sendto_checks_the_destination() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, got) = receiver(&lp, util::any_v4());
    let (connected, _, _) = open(&lp, EndpointOptions::remote("127.0.0.1", raddr.port())).unwrap();
    let other: SocketAddr = "127.0.0.1:9".parse().unwrap();
    assert_eq!(
        connected.sendto(b"no", Some(other)),
        Err(Error::Status(StatusCode::EISCONN))
    );
    connected.sendto(b"none", None).unwrap();
    connected.sendto(b"peer", Some(raddr)).unwrap();
    let (unconnected, _, _) = open(&lp, local("127.0.0.1")).unwrap();
    assert_eq!(
        unconnected.sendto(b"nowhere", None),
        Err(Error::Status(StatusCode::EDESTADDRREQ))
    );
    unconnected.sendto(b"addressed", Some(raddr)).unwrap();
    run_until(&lp, || got.borrow().len() == 3);
    let data: Vec<_> = got.borrow().iter().map(|(d, _)| d.clone()).collect();
    assert_eq!(
        data,
        [b"none".to_vec(), b"peer".to_vec(), b"addressed".to_vec()]
    );
    finish(&lp, &[&connected, &unconnected], &[&rx]);
}

#[test]
fn sendto_after_close_or_abort_is_the_closed_error() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, _) = receiver(&lp, util::any_v4());
    for abort in [false, true] {
        let (t, _, log) = open(&lp, local("127.0.0.1")).unwrap();
        if abort {
            t.abort();
        } else {
            t.close();
        }
        assert_eq!(t.sendto(b"late", Some(raddr)), Err(Error::ClosedHandle));
        run_until(&lp, || lost_count(&log) == 1);
        assert_eq!(t.sendto(b"later", Some(raddr)), Err(Error::ClosedHandle));
        assert_eq!(entries(&log), ["made", "lost None"]);
    }
    finish(&lp, &[], &[&rx]);
}

// --------------------------------------------------------------- closing

#[test]
fn connection_lost_exactly_once_and_never_synchronously() {
    let scenarios: [&[&str]; 7] = [
        &["close"],
        &["close", "close"],
        &["abort"],
        &["abort", "abort"],
        &["abort", "close"],
        &["close", "abort"],
        &["close", "abort", "close", "abort"],
    ];
    for ops in scenarios {
        let lp = Loop::new().unwrap();
        let (t, p, log) = open(&lp, local("127.0.0.1")).unwrap();
        assert!(!t.is_closing());
        assert!(t.is_reading());
        for op in ops {
            match *op {
                "close" => t.close(),
                _ => t.abort(),
            }
            assert!(t.is_closing(), "{ops:?}");
            assert!(!t.is_reading(), "{ops:?}");
            assert_eq!(entries(&log), ["made"], "{ops:?}: lost ran synchronously");
        }
        run_to_end(&lp);
        assert_eq!(entries(&log), ["made", "lost None"], "{ops:?}");
        // The closed socket is gone; cached names stay.
        assert_eq!(t.fileno(), Err(Error::ClosedHandle));
        assert!(t.sockname().is_some());
        // Closing again later still does nothing.
        t.close();
        t.abort();
        run_to_end(&lp);
        assert_eq!(lost_count(&log), 1);
        // After connection_lost the transport lets go of its protocol, so
        // a protocol that keeps its transport is no cycle.
        assert_eq!(Rc::strong_count(&p), 1);
        lp.close().unwrap();
    }
}

#[test]
fn close_sends_the_buffer_before_connection_lost() {
    let lp = Loop::new().unwrap();
    let ((t, _, log), rx, raddr, got) = choked(&lp);
    let big = vec![b'B'; CHOKE];
    t.sendto(&big, Some(raddr)).unwrap();
    t.sendto(b"tail", Some(raddr)).unwrap();
    let size = CHOKE + 4 + 2 * DATAGRAM_OVERHEAD;
    assert_eq!(t.get_write_buffer_size(), size);
    t.close();
    assert!(t.is_closing());
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    // Still choked: nothing went out, connection_lost waits.
    assert_eq!(entries(&log), ["made"]);
    assert_eq!(t.get_write_buffer_size(), size);
    assert_eq!(t.sendto(b"more", Some(raddr)), Err(Error::ClosedHandle));
    // The socket is still open and can be given room.
    unchoke(&t);
    run_until(&lp, || lost_count(&log) == 1);
    assert_eq!(entries(&log), ["made", "lost None"]);
    assert_eq!(t.get_write_buffer_size(), 0);
    run_until(&lp, || got.borrow().len() == 2);
    let data: Vec<_> = got.borrow().iter().map(|(d, _)| d.len()).collect();
    assert_eq!(data, [CHOKE, 4]);
    finish(&lp, &[], &[&rx]);
}

#[test]
fn abort_drops_the_buffer_and_resets_its_size() {
    for close_first in [false, true] {
        let lp = Loop::new().unwrap();
        let ((t, _, log), rx, raddr, _) = choked(&lp);
        t.set_write_buffer_limits(Some(CHOKE), None).unwrap();
        let big = vec![b'A'; CHOKE];
        t.sendto(&big, Some(raddr)).unwrap();
        t.sendto(&big, Some(raddr)).unwrap();
        let size = 2 * (CHOKE + DATAGRAM_OVERHEAD);
        assert_eq!(t.get_write_buffer_size(), size);
        if close_first {
            t.close();
            assert_eq!(t.get_write_buffer_size(), size);
        }
        t.abort();
        assert_eq!(t.get_write_buffer_size(), 0);
        assert!(t.is_closing());
        let pause = format!("pause {}", CHOKE + DATAGRAM_OVERHEAD);
        assert_eq!(entries(&log), ["made", pause.as_str()]);
        run_until(&lp, || lost_count(&log) == 1);
        lp.run(RunMode::NoWait).unwrap();
        // The dropped datagrams report nothing (no ECANCELED), and there is
        // no resume_writing after an abort.
        assert_eq!(entries(&log), ["made", pause.as_str(), "lost None"]);
        assert_eq!(t.get_write_buffer_size(), 0);
        finish(&lp, &[], &[&rx]);
    }
}

// ---------------------------------------------------------- flow control

#[test]
fn write_buffer_limits_follow_asyncio() {
    let lp = Loop::new().unwrap();
    let (t, _, _) = open(&lp, local("127.0.0.1")).unwrap();
    assert_eq!(DEFAULT_HIGH_WATER, 65536);
    assert_eq!(DEFAULT_LOW_WATER, 16384);
    assert_eq!(t.get_write_buffer_limits(), (16384, 65536));
    t.set_write_buffer_limits(Some(1000), None).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (250, 1000));
    t.set_write_buffer_limits(None, Some(100)).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (100, 400));
    t.set_write_buffer_limits(Some(50), Some(50)).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (50, 50));
    t.set_write_buffer_limits(Some(0), None).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (0, 0));
    t.set_write_buffer_limits(None, None).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (16384, 65536));
    assert_eq!(
        t.set_write_buffer_limits(Some(10), Some(11)),
        Err(Error::Status(StatusCode::EINVAL))
    );
    assert_eq!(t.get_write_buffer_limits(), (16384, 65536));
    t.set_write_buffer_limits(None, Some(usize::MAX)).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (usize::MAX, usize::MAX));
    assert_eq!(t.get_write_buffer_size(), 0);
    finish(&lp, &[&t], &[]);
}

#[test]
fn pause_strictly_over_high_and_resume_at_or_below_low() {
    let lp = Loop::new().unwrap();
    let ((t, _, log), rx, raddr, got) = choked(&lp);
    let one = CHOKE + DATAGRAM_OVERHEAD;
    // high is exactly two big datagrams minus one byte; low exactly one.
    t.set_write_buffer_limits(Some(2 * one - 1), Some(one))
        .unwrap();
    let big = vec![b'F'; CHOKE];
    t.sendto(&big, Some(raddr)).unwrap();
    assert_eq!(t.get_write_buffer_size(), one);
    assert_eq!(entries(&log), ["made"]);
    t.sendto(&big, Some(raddr)).unwrap();
    assert_eq!(t.get_write_buffer_size(), 2 * one);
    // Called from inside sendto, once.
    assert_eq!(
        entries(&log),
        ["made".to_string(), format!("pause {}", 2 * one)]
    );
    // An empty datagram counts its overhead; no second pause.
    t.sendto(b"", Some(raddr)).unwrap();
    assert_eq!(t.get_write_buffer_size(), 2 * one + DATAGRAM_OVERHEAD);
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(log.borrow().len(), 2);
    unchoke(&t);
    run_until(&lp, || t.get_write_buffer_size() == 0);
    // The first completion leaves one + 8 bytes (> low); the second leaves
    // 8 (<= low): resume then, once.
    assert_eq!(
        entries(&log),
        [
            "made".to_string(),
            format!("pause {}", 2 * one),
            format!("resume {DATAGRAM_OVERHEAD}"),
        ]
    );
    run_until(&lp, || got.borrow().len() == 3);
    let sizes: Vec<_> = got.borrow().iter().map(|(d, _)| d.len()).collect();
    assert_eq!(sizes, [CHOKE, CHOKE, 0]);
    finish(&lp, &[&t], &[&rx]);
}

#[test]
fn equal_to_high_does_not_pause() {
    let lp = Loop::new().unwrap();
    let ((t, _, log), rx, raddr, _) = choked(&lp);
    let one = CHOKE + DATAGRAM_OVERHEAD;
    t.set_write_buffer_limits(Some(one), Some(0)).unwrap();
    t.sendto(&vec![b'E'; CHOKE], Some(raddr)).unwrap();
    assert_eq!(t.get_write_buffer_size(), one);
    assert_eq!(entries(&log), ["made"]);
    t.sendto(b"", Some(raddr)).unwrap();
    assert_eq!(
        entries(&log),
        ["made".to_string(), format!("pause {}", one + 8)]
    );
    unchoke(&t);
    run_until(&lp, || t.get_write_buffer_size() == 0);
    // low == 0: resume only once the buffer is empty.
    assert_eq!(
        entries(&log),
        [
            "made".to_string(),
            format!("pause {}", one + 8),
            "resume 0".to_string()
        ]
    );
    finish(&lp, &[&t], &[&rx]);
}

#[test]
fn lowering_the_limits_pauses_at_once_and_zero_high_pauses_on_anything() {
    let lp = Loop::new().unwrap();
    let ((t, _, log), rx, raddr, _) = choked(&lp);
    let one = CHOKE + DATAGRAM_OVERHEAD;
    t.sendto(&vec![b'L'; CHOKE], Some(raddr)).unwrap();
    assert_eq!(entries(&log), ["made"]);
    t.set_write_buffer_limits(Some(0), None).unwrap();
    assert_eq!(entries(&log), ["made".to_string(), format!("pause {one}")]);
    // Raising them again does not resume (as in asyncio); draining does.
    t.set_write_buffer_limits(None, None).unwrap();
    assert_eq!(log.borrow().len(), 2);
    unchoke(&t);
    run_until(&lp, || log.borrow().len() == 3);
    assert_eq!(log.borrow()[2], "resume 0");
    finish(&lp, &[&t], &[&rx]);
}

// ---------------------------------------------------------------- errors

/// Larger than any UDP datagram: EMSGSIZE at once.
const TOO_BIG: usize = 70_000;

#[test]
fn os_errors_go_to_error_received_and_the_transport_stays_open() {
    let lp = Loop::new().unwrap();
    let (rx, raddr, got) = receiver(&lp, util::any_v4());
    let (t, _, log) = open(&lp, local("127.0.0.1")).unwrap();
    // Outside any protocol callback: delivered inside sendto.
    t.sendto(&vec![0; TOO_BIG], Some(raddr)).unwrap();
    assert_eq!(entries(&log), ["made", "error EMSGSIZE"]);
    assert!(!t.is_closing());
    assert_eq!(t.get_write_buffer_size(), 0);
    t.sendto(b"still open", Some(raddr)).unwrap();
    run_until(&lp, || !got.borrow().is_empty());
    assert_eq!(got.borrow()[0].0, b"still open");
    finish(&lp, &[&t], &[&rx]);
}

#[test]
fn a_buffered_send_that_fails_goes_to_error_received() {
    let lp = Loop::new().unwrap();
    let ((t, _, log), rx, raddr, got) = choked(&lp);
    // High enough for the oversized datagram: no pause in this test.
    t.set_write_buffer_limits(Some(1 << 20), None).unwrap();
    t.sendto(&vec![b'Q'; CHOKE], Some(raddr)).unwrap();
    // Queued behind the first one, so it fails only when flushed.
    t.sendto(&vec![0; TOO_BIG], Some(raddr)).unwrap();
    t.sendto(b"after", Some(raddr)).unwrap();
    assert_eq!(entries(&log), ["made"]);
    unchoke(&t);
    run_until(&lp, || t.get_write_buffer_size() == 0);
    assert_eq!(entries(&log), ["made", "error EMSGSIZE"]);
    run_until(&lp, || got.borrow().len() == 2);
    let sizes: Vec<_> = got.borrow().iter().map(|(d, _)| d.len()).collect();
    assert_eq!(sizes, [CHOKE, 5]);
    finish(&lp, &[&t], &[&rx]);
}

#[test]
fn callbacks_caused_inside_a_callback_run_after_it() {
    let lp = Loop::new().unwrap();
    let order = Log::default();
    let o = order.clone();
    let (server, _, slog) = open_with(&lp, local("127.0.0.1"), move |log| {
        let mut r = Recorder::new(log.clone());
        r.on_datagram = Some(Box::new(move |t, (_, addr)| {
            t.sendto(&vec![0; TOO_BIG], Some(addr)).unwrap();
            // error_received has not run yet: callbacks never nest.
            log.borrow_mut().push("hook done".into());
            o.borrow_mut().push("sent".into());
        }));
        r
    })
    .unwrap();
    let saddr = server.sockname().unwrap();
    let (client, _, _) = open(&lp, EndpointOptions::remote("127.0.0.1", saddr.port())).unwrap();
    let caddr = client.sockname().unwrap();
    client.sendto(b"go", None).unwrap();
    run_until(&lp, || slog.borrow().len() == 4);
    assert_eq!(
        entries(&slog),
        [
            "made".to_string(),
            format!("data \"go\" from {caddr}"),
            "hook done".to_string(),
            "error EMSGSIZE".to_string(),
        ]
    );
    finish(&lp, &[&server, &client], &[]);
}

#[test]
fn a_protocol_borrowed_by_the_application_gets_its_callback_from_the_loop() {
    let lp = Loop::new().unwrap();
    let (t, p, log) = open(&lp, local("127.0.0.1")).unwrap();
    let dest: SocketAddr = "127.0.0.1:9".parse().unwrap();
    {
        let _held = p.borrow_mut();
        // No panic: error_received cannot run now, it runs from the loop.
        t.sendto(&vec![0; TOO_BIG], Some(dest)).unwrap();
        assert_eq!(entries(&log), ["made"]);
    }
    run_until(&lp, || log.borrow().len() == 2);
    assert_eq!(entries(&log), ["made", "error EMSGSIZE"]);
    finish(&lp, &[&t], &[]);
}

#[test]
fn icmp_port_unreachable_is_econnrefused_and_the_transport_stays_usable() {
    let lp = Loop::new().unwrap();
    let dead = dead_port_v4();
    let (t, _, log) = open_with(
        &lp,
        EndpointOptions::remote("127.0.0.1", dead.port()),
        |log| {
            let mut r = Recorder::new(log);
            r.on_made = Some(Box::new(|t, ()| t.sendto(b"knock", None).unwrap()));
            r
        },
    )
    .unwrap();
    run_until(&lp, || log.borrow().len() == 2);
    assert_eq!(entries(&log), ["made", "error ECONNREFUSED"]);
    assert!(!t.is_closing());
    assert!(t.is_reading());
    // Someone listens there now: the same transport reaches it.
    let (rx, _, got) = receiver(&lp, dead);
    t.sendto(b"again", None).unwrap();
    run_until(&lp, || !got.borrow().is_empty());
    assert_eq!(got.borrow()[0], (b"again".to_vec(), t.sockname().unwrap()));
    assert_eq!(entries(&log), ["made", "error ECONNREFUSED"]);
    finish(&lp, &[&t], &[&rx]);
}

// --------------------------------------------------------------- reading

#[test]
fn pause_reading_holds_datagrams_until_resume() {
    let lp = Loop::new().unwrap();
    let (server, _, slog) = open(&lp, local("127.0.0.1")).unwrap();
    let saddr = server.sockname().unwrap();
    let (client, _, _) = open(&lp, EndpointOptions::remote("127.0.0.1", saddr.port())).unwrap();
    server.pause_reading();
    assert!(!server.is_reading());
    server.pause_reading();
    client.sendto(b"held", None).unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(entries(&slog), ["made"]);
    server.resume_reading();
    assert!(server.is_reading());
    server.resume_reading();
    run_until(&lp, || slog.borrow().len() == 2);
    assert!(slog.borrow()[1].starts_with("data \"held\""));
    // Closing ends reading for good.
    server.close();
    assert!(!server.is_reading());
    server.resume_reading();
    assert!(!server.is_reading());
    finish(&lp, &[&client], &[]);
    assert_eq!(lost_count(&slog), 1);
}

#[test]
fn connection_made_may_pause_reading_or_close() {
    let lp = Loop::new().unwrap();
    let (paused, _, plog) = open_with(&lp, local("127.0.0.1"), |log| {
        let mut r = Recorder::new(log);
        r.on_made = Some(Box::new(|t, ()| t.pause_reading()));
        r
    })
    .unwrap();
    assert!(!paused.is_reading());
    let (client, _, _) = open(
        &lp,
        EndpointOptions::remote("127.0.0.1", paused.sockname().unwrap().port()),
    )
    .unwrap();
    client.sendto(b"waiting", None).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(entries(&plog), ["made"]);
    paused.resume_reading();
    run_until(&lp, || plog.borrow().len() == 2);

    let clog = Log::default();
    let (l, l2) = (clog.clone(), clog.clone());
    create_datagram_endpoint(
        &lp,
        move || {
            let mut r = Recorder::new(l);
            r.on_made = Some(Box::new(|t, ()| t.close()));
            r
        },
        local("127.0.0.1"),
        move |result| {
            // on_done still gets the endpoint; connection_lost follows.
            let (t, _) = result.unwrap();
            assert!(t.is_closing());
            l2.borrow_mut().push("done".into());
        },
    );
    run_until(&lp, || lost_count(&clog) == 1);
    assert_eq!(entries(&clog), ["made", "done", "lost None"]);
    finish(&lp, &[&paused, &client], &[]);
}

#[test]
fn abort_from_datagram_received_stops_delivery() {
    let lp = Loop::new().unwrap();
    let (server, _, slog) = open_with(&lp, local("127.0.0.1"), |log| {
        let mut r = Recorder::new(log);
        r.on_datagram = Some(Box::new(|t, _| {
            t.abort();
            t.abort();
            t.close();
        }));
        r
    })
    .unwrap();
    let port = server.sockname().unwrap().port();
    let (client, _, _) = open(&lp, EndpointOptions::remote("127.0.0.1", port)).unwrap();
    // Both are in the server's socket before it reads.
    client.sendto(b"first", None).unwrap();
    client.sendto(b"second", None).unwrap();
    run_until(&lp, || lost_count(&slog) == 1);
    let log = entries(&slog);
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log[1].starts_with("data \"first\""));
    assert_eq!(log[2], "lost None");
    finish(&lp, &[&client], &[]);
}

#[test]
fn connection_lost_may_use_the_transport() {
    let lp = Loop::new().unwrap();
    let (t, _, log) = open_with(&lp, local("127.0.0.1"), |log| {
        let mut r = Recorder::new(log.clone());
        r.on_lost = Some(Box::new(move |t, ()| {
            let late = t.sendto(b"x", Some("127.0.0.1:9".parse().unwrap()));
            log.borrow_mut()
                .push(format!("sendto {:?} closing {}", late, t.is_closing()));
            t.close();
            t.abort();
        }));
        r
    })
    .unwrap();
    t.close();
    run_to_end(&lp);
    assert_eq!(
        entries(&log),
        ["made", "lost None", "sendto Err(ClosedHandle) closing true"]
    );
    lp.close().unwrap();
}

// ------------------------------------------------------------ extra info

#[test]
fn extra_info_and_the_socket_proxy() {
    let lp = Loop::new().unwrap();
    let (server, _, _) = open(&lp, local("127.0.0.1")).unwrap();
    let saddr = server.sockname().unwrap();
    let (t, _, _) = open(&lp, EndpointOptions::remote("127.0.0.1", saddr.port())).unwrap();
    let sock = t.socket();
    assert_eq!(sock.fileno(), t.fileno());
    assert_eq!(sock.local_addr().ok(), t.sockname());
    assert_eq!(sock.peer_addr(), Ok(saddr));
    assert_eq!(t.peername(), Some(saddr));
    assert_eq!(sock.family(), Ok(ruv::udp::AF_INET));
    sock.set_recv_buffer_size(1 << 16).unwrap();
    assert!(sock.recv_buffer_size().unwrap() >= 1 << 16);
    sock.set_ttl(7).unwrap();
    assert_eq!(
        get_int(t.fileno().unwrap(), libc::IPPROTO_IP, libc::IP_TTL),
        7
    );
    sock.set_broadcast(true).unwrap();
    assert_eq!(
        get_int(t.fileno().unwrap(), libc::SOL_SOCKET, libc::SO_BROADCAST),
        1
    );
    assert_eq!(server.peername(), None);
    assert!(format!("{t:?}").contains("DatagramTransport"));
    assert_eq!(t.clone(), t);
    assert_ne!(t, server);
    t.abort();
    assert_eq!(sock.fileno(), Err(Error::ClosedHandle));
    assert_eq!(sock.set_ttl(7), Err(Error::ClosedHandle));
    // Cached values survive the socket.
    assert_eq!(t.peername(), Some(saddr));
    finish(&lp, &[&server], &[]);
}

#[test]
fn an_open_transport_keeps_the_loop_alive() {
    let lp = Loop::new().unwrap();
    let (t, _, log) = open(&lp, local("127.0.0.1")).unwrap();
    assert!(lp.run(RunMode::NoWait).unwrap());
    t.pause_reading();
    // Not reading and nothing buffered: like an idle UDP handle, nothing
    // keeps the loop alive.
    assert!(!lp.run(RunMode::NoWait).unwrap());
    t.resume_reading();
    assert!(lp.run(RunMode::NoWait).unwrap());
    t.close();
    run_to_end(&lp);
    assert_eq!(entries(&log), ["made", "lost None"]);
    lp.close().unwrap();
}

#[test]
fn a_handle_closed_behind_the_transport_still_ends_with_one_connection_lost() {
    // Shutting down with `Loop::walk` closes the endpoint's UDP handle too.
    let lp = Loop::new().unwrap();
    let ((busy, _, busy_log), rx, raddr, _) = choked(&lp);
    busy.sendto(&vec![b'W'; CHOKE], Some(raddr)).unwrap();
    let (idle, _, idle_log) = open(&lp, local("127.0.0.1")).unwrap();
    let (closer, _, closer_log) = open(&lp, local("127.0.0.1")).unwrap();
    lp.walk(|h| h.close(|| {}));
    // close() on a transport whose handle is already closing.
    closer.close();
    assert_eq!(entries(&closer_log), ["made"]);
    run_to_end(&lp);
    // The cancelled send told the busy transport; nothing told the idle one.
    assert_eq!(entries(&busy_log), ["made", "lost None"]);
    assert_eq!(entries(&closer_log), ["made", "lost None"]);
    assert!(busy.is_closing());
    assert_eq!(busy.get_write_buffer_size(), 0);
    assert_eq!(entries(&idle_log), ["made"]);
    assert!(!idle.is_closing());
    // Its next call finds out.
    assert_eq!(idle.sendto(b"x", Some(raddr)), Err(Error::ClosedHandle));
    assert!(idle.is_closing());
    assert_eq!(entries(&idle_log), ["made"]);
    run_to_end(&lp);
    assert_eq!(entries(&idle_log), ["made", "lost None"]);
    idle.close();
    idle.abort();
    run_to_end(&lp);
    assert_eq!(lost_count(&idle_log), 1);
    assert!(rx.is_closed());
    lp.close().unwrap();
}
