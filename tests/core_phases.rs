//! What the loop's core does for every handle kind, pinned through the
//! kinds that exist today: the closing phase reports each handle's
//! outstanding requests in order before its close callback, and readiness
//! that a panic cut short is delivered from the ready list as it was
//! reported (readable, writable, in error), for any kind that watches a
//! descriptor.

mod util;

use ruv::{Error, Loop, Poll, PollEvents, RunMode, StatusCode, Udp, UdpFlags};
use std::net::{SocketAddr, UdpSocket};
use std::panic::{self, AssertUnwindSafe};

/// Runs one non-blocking iteration and reports whether a callback
/// panicked out of it.
fn run_catching(lp: &Loop) -> bool {
    panic::catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::NoWait))).is_err()
}

/// A UDP handle on 127.0.0.1 whose receive callback panics, and its
/// address.
fn panicking_receiver(lp: &Loop) -> (Udp, SocketAddr) {
    let (udp, addr) = util::bound_udp(lp);
    udp.receive_start(|_, _| panic!("user bug in a receive callback"))
        .unwrap();
    (udp, addr)
}

/// Sends one datagram to `addr` from a socket of its own.
fn poke(addr: SocketAddr) {
    let from = if addr.is_ipv6() {
        "[::1]:0"
    } else {
        "127.0.0.1:0"
    };
    UdpSocket::bind(from).unwrap().send_to(b"x", addr).unwrap();
}

#[test]
fn closing_two_handles_reports_each_ones_sends_in_order_before_its_close_callback() {
    let lp = Loop::new().unwrap();
    // Never read: it only gives the datagrams somewhere to go.
    let sink = UdpSocket::bind("[::1]:0").unwrap();
    let to = sink.local_addr().unwrap();
    let log = util::shared(Vec::new());
    let big = vec![b'C'; util::CHOKE];
    let mut senders = Vec::new();
    for name in ["a", "b"] {
        let udp = util::choked_sender(&lp);
        // The first goes out at once (its callback still waits for the
        // loop); the big one cannot, so it and the one after it queue.
        for (i, data) in [&b"w"[..], &big, b"q"].into_iter().enumerate() {
            let l = log.clone();
            udp.send(&[data], Some(to), move |req, status| {
                let closed = req.handle().is_closed();
                l.borrow_mut()
                    .push(format!("{name} send {i} {status:?} closed={closed}"));
            })
            .unwrap();
        }
        assert_eq!(udp.send_queue_count(), Ok(3));
        senders.push(udp);
    }
    for (udp, name) in senders.iter().zip(["a", "b"]) {
        let l = log.clone();
        udp.close(move || l.borrow_mut().push(format!("{name} closed")));
    }
    assert!(log.borrow().is_empty(), "nothing is reported from close");
    util::run_guarded(&lp);
    let cancelled = Err::<(), _>(Error::Status(StatusCode::ECANCELED));
    let mut want = Vec::new();
    // Closing handles finish most recently closed first, as in libuv.
    for name in ["b", "a"] {
        want.push(format!("{name} send 0 Ok(()) closed=true"));
        want.push(format!("{name} send 1 {cancelled:?} closed=true"));
        want.push(format!("{name} send 2 {cancelled:?} closed=true"));
        want.push(format!("{name} closed"));
    }
    assert_eq!(*log.borrow(), want);
    assert_eq!(lp.handle_count(), 0);
    assert!(!lp.alive());
    lp.close().unwrap();
}

#[test]
fn a_poll_event_cut_short_by_a_panic_is_delivered_in_the_next_run() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = panicking_receiver(&lp);
    let watched = UdpSocket::bind("127.0.0.1:0").unwrap();
    // The receiver becomes ready first, so its event comes first and
    // panics before the poll handle's is served.
    poke(raddr);
    poke(watched.local_addr().unwrap());
    let seen = util::shared(Vec::new());
    let s = seen.clone();
    let poll = Poll::new(&lp, std::os::fd::AsRawFd::as_raw_fd(&watched)).unwrap();
    poll.start(PollEvents::READABLE, move |p, events| {
        s.borrow_mut().push(events);
        p.stop().unwrap();
    })
    .unwrap();
    assert!(run_catching(&lp), "the receive callback panicked");
    assert!(seen.borrow().is_empty(), "its turn came after the panic");
    // No new edge comes: the datagram was there all along.
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*seen.borrow(), [Ok(PollEvents::READABLE)]);
    poll.close(|| {});
    receiver.close(|| {});
    lp.run(RunMode::Default).unwrap();
    lp.close().unwrap();
}

#[test]
fn an_error_event_cut_short_by_a_panic_still_reads_the_error_queue_in_the_next_run() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = panicking_receiver(&lp);
    let flagged = Udp::new(&lp);
    flagged
        .bind(util::any_v4(), UdpFlags::LINUX_RECVERR)
        .unwrap();
    let log = util::shared(Vec::new());
    let l = log.clone();
    flagged
        .receive_start(move |_, r| l.borrow_mut().push(r.map(|d| d.data.to_vec())))
        .unwrap();
    poke(raddr);
    // A datagram to a port nobody listens on: on loopback the kernel's
    // ICMP port unreachable arrives within the send, flagging the socket
    // in error (after the receiver became readable).
    let dead = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    flagged.try_send(&[b"PING"], Some(dead)).unwrap();
    assert!(run_catching(&lp), "the receive callback panicked");
    assert!(log.borrow().is_empty(), "its turn came after the panic");
    // One run: the plain error a read returns, then the queued one, as
    // when the event is served in its own poll phase.
    lp.run(RunMode::NoWait).unwrap();
    let refused = StatusCode::ECONNREFUSED;
    assert_eq!(
        *log.borrow(),
        [Err(Error::Status(refused)), Err(Error::Queued(refused))]
    );
    flagged.close(|| {});
    receiver.close(|| {});
    lp.run(RunMode::Default).unwrap();
    lp.close().unwrap();
}
