//! `UdpFlags::LINUX_RECVERR`: ICMP errors read from the socket's error
//! queue, in libuv 1.52's order (its `udp_recvmsg_unreachable_error` and
//! `_error6` tests). A datagram to a loopback port nobody listens on makes
//! the kernel answer with an ICMP port unreachable; the handle then gets the
//! plain ECONNREFUSED a read returns, the queued error with the address it
//! concerns and who reported it, and — with caller buffers — the "nothing
//! more" of the read that finds the queue empty. Nothing after that.
//!
//! Each test ends three loop iterations after the first callback (an idle
//! handle keeps the loop turning), so a callback still to come from the same
//! error, such as a read retried next iteration, would show in the log.

mod util;

use ruv::{
    Error, ErrorOrigin, Idle, Loop, QueuedError, RecvMeta, Result, RunMode, StatusCode, Udp,
    UdpFlags,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// A loopback address that was bound and closed again: nobody listens.
fn dead_port(v6: bool) -> SocketAddr {
    let probe = UdpSocket::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).unwrap();
    probe.local_addr().unwrap()
}

fn loopback(v6: bool) -> SocketAddr {
    if v6 {
        util::any_v6()
    } else {
        util::any_v4()
    }
}

/// What a receive callback got, in a form the tests compare.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Data(Vec<u8>, SocketAddr),
    /// Caller buffers only: nothing more was waiting.
    Nothing,
    /// A plain error status.
    Status(StatusCode),
    /// An error from the error queue.
    Queued(QueuedError),
}

/// An error as the callback on `udp` got it: a queued one with the details
/// `Udp::queued_error` gives during the callback.
fn seen_error(udp: &Udp, err: Error) -> Seen {
    match err {
        Error::Queued(code) => {
            let details = udp.queued_error().expect("details of a queued error");
            assert_eq!(details.code, code);
            Seen::Queued(details)
        }
        other => {
            assert_eq!(udp.queued_error(), None);
            Seen::Status(other.code())
        }
    }
}

/// The error-queue entry of an ICMP port unreachable for a datagram sent
/// to `dead` over loopback.
fn port_unreachable(dead: SocketAddr) -> QueuedError {
    let (origin, icmp_type, icmp_code, from) = match dead {
        SocketAddr::V4(_) => (ErrorOrigin::Icmp, 3, 3, IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SocketAddr::V6(_) => (ErrorOrigin::Icmp6, 1, 4, IpAddr::V6(Ipv6Addr::LOCALHOST)),
    };
    QueuedError {
        code: StatusCode::ECONNREFUSED,
        origin,
        icmp_type,
        icmp_code,
        offender: Some(SocketAddr::new(from, 0)),
        destination: Some(dead),
    }
}

/// Closes `udp` three loop iterations from now.
fn close_three_iterations_later(udp: &Udp) {
    let idle = Idle::new(udp.get_loop());
    let udp = udp.clone();
    let mut left = 3;
    idle.start(move |w| {
        left -= 1;
        if left == 0 {
            w.close(|| {});
            udp.close(|| {});
        }
    })
    .unwrap();
}

/// Receives into caller buffers, logging each callback; the first one
/// arms the fence.
fn log_with_buffers(udp: &Udp, log: &util::Shared<Vec<Seen>>) {
    let l = log.clone();
    udp.receive_start_with(
        |_, size| vec![0u8; size],
        move |h, r: Result<RecvMeta>, buf| {
            let seen = match r {
                Ok(RecvMeta {
                    addr: None, len: 0, ..
                }) => Seen::Nothing,
                Ok(m) => Seen::Data(buf[..m.len].to_vec(), m.addr.unwrap()),
                Err(e) => {
                    if let Error::Queued(_) = e {
                        // The buffer holds what the kernel kept of the
                        // datagram that failed.
                        assert_eq!(&buf[..4], b"PING");
                    }
                    seen_error(h, e)
                }
            };
            let first = l.borrow().is_empty();
            l.borrow_mut().push(seen);
            if first {
                close_three_iterations_later(h);
            }
        },
    )
    .unwrap();
}

/// Receives through the batch path, logging each callback; the first one
/// arms the fence.
fn log_batched(udp: &Udp, log: &util::Shared<Vec<Seen>>) {
    let l = log.clone();
    udp.receive_start(move |h, r| {
        let seen = match r {
            Ok(d) => Seen::Data(d.data.to_vec(), d.addr),
            Err(e) => seen_error(h, e),
        };
        let first = l.borrow().is_empty();
        l.borrow_mut().push(seen);
        if first {
            close_three_iterations_later(h);
        }
    })
    .unwrap();
}

/// The callbacks libuv gives for datagrams sent to `dead` ports: the plain
/// error, each queued error in order, and with caller buffers a last
/// callback with nothing (the empty queue hands the buffer back).
fn icmp_error_callbacks(dead: &[SocketAddr], buffers: bool) -> Vec<Seen> {
    let mut want = vec![Seen::Status(StatusCode::ECONNREFUSED)];
    want.extend(dead.iter().map(|d| Seen::Queued(port_unreachable(*d))));
    if buffers {
        want.push(Seen::Nothing);
    }
    want
}

/// libuv's sequence: one datagram to a dead port from a handle bound with
/// LINUX_RECVERR, then nothing until the handle closes.
fn unreachable_sequence(v6: bool, buffers: bool) -> (Vec<Seen>, SocketAddr) {
    let lp = Loop::new().unwrap();
    let dead = dead_port(v6);
    let udp = Udp::new(&lp);
    udp.bind(loopback(v6), UdpFlags::LINUX_RECVERR).unwrap();
    let log = util::shared(Vec::new());
    if buffers {
        log_with_buffers(&udp, &log);
    } else {
        log_batched(&udp, &log);
    }
    udp.send(&[b"PING"], Some(dead), |_, st| st.unwrap())
        .unwrap();
    util::run_guarded(&lp);
    assert!(udp.is_closed());
    lp.close().unwrap();
    let seen = log.borrow().clone();
    (seen, dead)
}

#[test]
fn caller_buffers_get_three_callbacks_per_icmp_error_ipv4() {
    let (seen, dead) = unreachable_sequence(false, true);
    assert_eq!(seen, icmp_error_callbacks(&[dead], true));
}

#[test]
fn caller_buffers_get_three_callbacks_per_icmp_error_ipv6() {
    let (seen, dead) = unreachable_sequence(true, true);
    assert_eq!(seen, icmp_error_callbacks(&[dead], true));
}

#[test]
fn batches_get_the_plain_then_the_queued_error_ipv4() {
    let (seen, dead) = unreachable_sequence(false, false);
    assert_eq!(seen, icmp_error_callbacks(&[dead], false));
}

#[test]
fn batches_get_the_plain_then_the_queued_error_ipv6() {
    let (seen, dead) = unreachable_sequence(true, false);
    assert_eq!(seen, icmp_error_callbacks(&[dead], false));
}

/// Several errors queue up; one error event drains them all, in order,
/// each naming its own destination.
fn several_errors(buffers: bool) {
    let lp = Loop::new().unwrap();
    let dead: Vec<SocketAddr> = (0..3).map(|_| dead_port(false)).collect();
    let udp = Udp::new(&lp);
    udp.bind(util::any_v4(), UdpFlags::LINUX_RECVERR).unwrap();
    queue_errors(&udp, &dead);
    let log = util::shared(Vec::new());
    if buffers {
        log_with_buffers(&udp, &log);
    } else {
        log_batched(&udp, &log);
    }
    util::run_guarded(&lp);
    lp.close().unwrap();
    assert_eq!(*log.borrow(), icmp_error_callbacks(&dead, buffers));
}

/// Sends one datagram to each dead port, so that the error queue holds one
/// entry per port, in order.
fn queue_errors(udp: &Udp, dead: &[SocketAddr]) {
    for to in dead {
        // A send takes the socket's pending error (the previous datagram's
        // ICMP error) instead of sending; the queue keeps its entry.
        let mut sent = udp.try_send(&[b"PING"], Some(*to));
        if sent != Ok(4) {
            assert_eq!(sent, Err(StatusCode::ECONNREFUSED.into()));
            sent = udp.try_send(&[b"PING"], Some(*to));
        }
        assert_eq!(sent, Ok(4));
    }
}

/// A handle closed by the callback of the first queued error: no other
/// callback, one close callback, and the loop ends and closes.
#[test]
fn a_close_from_a_queued_error_ends_the_deliveries() {
    let lp = Loop::new().unwrap();
    let dead: Vec<SocketAddr> = (0..2).map(|_| dead_port(true)).collect();
    let udp = Udp::new(&lp);
    udp.bind(util::any_v6(), UdpFlags::LINUX_RECVERR).unwrap();
    queue_errors(&udp, &dead);
    let (log, closes) = (util::shared(Vec::new()), util::shared(0));
    let (l, c) = (log.clone(), closes.clone());
    udp.receive_start(move |h, r| {
        let seen = seen_error(h, r.unwrap_err());
        if let Seen::Queued(_) = seen {
            let c = c.clone();
            h.close(move || *c.borrow_mut() += 1);
        }
        l.borrow_mut().push(seen);
    })
    .unwrap();
    assert!(!util::run_guarded(&lp));
    lp.close().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            Seen::Status(StatusCode::ECONNREFUSED),
            Seen::Queued(port_unreachable(dead[0])),
        ]
    );
    assert_eq!(*closes.borrow(), 1);
}

/// Receiving stopped by the callback of the first queued error and started
/// again an iteration later: the entry still queued is delivered then.
#[test]
fn queued_errors_left_by_a_stop_arrive_after_the_restart() {
    let lp = Loop::new().unwrap();
    let dead: Vec<SocketAddr> = (0..2).map(|_| dead_port(false)).collect();
    let udp = Udp::new(&lp);
    udp.bind(util::any_v4(), UdpFlags::LINUX_RECVERR).unwrap();
    queue_errors(&udp, &dead);
    let log = util::shared(Vec::new());
    let l = log.clone();
    udp.receive_start(move |h, r| {
        let seen = seen_error(h, r.unwrap_err());
        let queued = matches!(seen, Seen::Queued(_));
        l.borrow_mut().push(seen);
        if queued && h.is_receiving() {
            h.receive_stop().unwrap();
            // Restarted from the next iteration's idle phase, with a
            // callback that logs and closes after the second entry.
            let (h, l) = (h.clone(), l.clone());
            let idle = Idle::new(h.get_loop());
            idle.start(move |w| {
                w.close(|| {});
                let l = l.clone();
                h.receive_start(move |h, r| {
                    let seen = seen_error(h, r.unwrap_err());
                    if let Seen::Queued(_) = seen {
                        close_three_iterations_later(h);
                    }
                    l.borrow_mut().push(seen);
                })
                .unwrap();
            })
            .unwrap();
        }
    })
    .unwrap();
    util::run_guarded(&lp);
    assert!(udp.is_closed());
    lp.close().unwrap();
    let queued: Vec<Seen> = log
        .borrow()
        .iter()
        .filter(|s| matches!(s, Seen::Queued(_)))
        .cloned()
        .collect();
    assert_eq!(
        queued,
        [
            Seen::Queued(port_unreachable(dead[0])),
            Seen::Queued(port_unreachable(dead[1])),
        ]
    );
    assert_eq!(log.borrow().last(), Some(&queued[1]), "nothing after it");
}

#[test]
fn one_error_event_drains_every_queued_error_with_buffers() {
    several_errors(true);
}

#[test]
fn one_error_event_drains_every_queued_error_batched() {
    several_errors(false);
}

/// A datagram that arrived behind the error (its readiness edge spent by
/// the same wakeup) is delivered next, not left waiting for another edge.
fn datagram_behind_the_error(v6: bool, buffers: bool) {
    let lp = Loop::new().unwrap();
    let dead = dead_port(v6);
    let udp = Udp::new(&lp);
    udp.bind(loopback(v6), UdpFlags::LINUX_RECVERR).unwrap();
    let addr = udp.sockname().unwrap();
    let peer = UdpSocket::bind(loopback(v6)).unwrap();
    // Loopback answers within the send: the error is queued before the
    // marker arrives.
    assert_eq!(udp.try_send(&[b"PING"], Some(dead)), Ok(4));
    peer.send_to(b"marker", addr).unwrap();
    let log = util::shared(Vec::new());
    if buffers {
        log_with_buffers(&udp, &log);
    } else {
        log_batched(&udp, &log);
    }
    util::run_guarded(&lp);
    lp.close().unwrap();
    let marker = Seen::Data(b"marker".to_vec(), peer.local_addr().unwrap());
    let want = if buffers {
        vec![
            Seen::Status(StatusCode::ECONNREFUSED),
            Seen::Queued(port_unreachable(dead)),
            Seen::Nothing,
            marker,
            Seen::Nothing,
        ]
    } else {
        vec![
            Seen::Status(StatusCode::ECONNREFUSED),
            Seen::Queued(port_unreachable(dead)),
            marker,
        ]
    };
    assert_eq!(*log.borrow(), want);
}

#[test]
fn a_datagram_behind_the_error_follows_it_with_buffers_ipv4() {
    datagram_behind_the_error(false, true);
}

#[test]
fn a_datagram_behind_the_error_follows_it_batched_ipv6() {
    datagram_behind_the_error(true, false);
}

/// Without the flag nothing is queued: a connected handle gets the plain
/// error, and with caller buffers one "nothing more" (the read of the empty
/// error queue, as in libuv 1.52), as before.
fn connected_without_recverr(buffers: bool) {
    let lp = Loop::new().unwrap();
    let dead = dead_port(false);
    let udp = Udp::new(&lp);
    udp.connect(Some(dead)).unwrap();
    let log = util::shared(Vec::new());
    if buffers {
        log_with_buffers(&udp, &log);
    } else {
        log_batched(&udp, &log);
    }
    assert_eq!(udp.try_send(&[b"PING"], None), Ok(4));
    util::run_guarded(&lp);
    lp.close().unwrap();
    let mut want = vec![Seen::Status(StatusCode::ECONNREFUSED)];
    if buffers {
        want.push(Seen::Nothing);
    }
    assert_eq!(*log.borrow(), want);
}

#[test]
fn connected_without_the_flag_gets_only_the_plain_error_with_buffers() {
    connected_without_recverr(true);
}

#[test]
fn connected_without_the_flag_gets_only_the_plain_error_batched() {
    connected_without_recverr(false);
}

#[test]
fn queued_errors_keep_their_code() {
    let err = Error::Queued(StatusCode::ECONNREFUSED);
    assert_eq!(err.code(), StatusCode::ECONNREFUSED);
    assert_eq!(err.raw_code(), StatusCode::ECONNREFUSED.code());
    assert_ne!(err, StatusCode::ECONNREFUSED);
    assert_eq!(
        err.to_string(),
        "ECONNREFUSED: connection refused (from the error queue)"
    );
    // Through io::Error and back, nothing is lost.
    assert_eq!(Error::from(std::io::Error::from(err)), err);
    // Every Result of the crate stays small.
    assert_eq!(std::mem::size_of::<Error>(), 8);
}

#[test]
fn no_queued_error_outside_the_callback() {
    let lp = Loop::new().unwrap();
    let (udp, _) = util::bound_udp(&lp);
    assert_eq!(udp.queued_error(), None);
    util::close_all(&lp, &[&udp]);
}

#[test]
fn a_callback_panicking_on_a_queued_error_leaves_no_details_behind() {
    let lp = Loop::new().unwrap();
    let dead = dead_port(false);
    let udp = Udp::new(&lp);
    udp.bind(util::any_v4(), UdpFlags::LINUX_RECVERR).unwrap();
    udp.receive_start(|_, r| {
        if let Err(Error::Queued(_)) = r {
            panic!("user bug in a receive callback");
        }
    })
    .unwrap();
    assert_eq!(udp.try_send(&[b"PING"], Some(dead)), Ok(4));
    let run = || lp.run(RunMode::NoWait);
    let caught =
        (0..3).any(|_| std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err());
    assert!(caught, "the callback panicked");
    assert_eq!(udp.queued_error(), None);
    util::close_all(&lp, &[&udp]);
}

/// Caller buffers filled from a recvmmsg batch (`set_recvmmsg`, libuv's
/// `UV_UDP_RECVMMSG`) get the same three callbacks.
#[test]
fn caller_buffers_through_a_batch_get_the_same_three_callbacks() {
    let lp = Loop::new().unwrap();
    let dead = dead_port(false);
    let udp = Udp::new(&lp);
    udp.bind(util::any_v4(), UdpFlags::LINUX_RECVERR).unwrap();
    udp.set_recvmmsg(true).unwrap();
    let log = util::shared(Vec::new());
    log_with_buffers(&udp, &log);
    assert_eq!(udp.try_send(&[b"PING"], Some(dead)), Ok(4));
    util::run_guarded(&lp);
    lp.close().unwrap();
    assert_eq!(*log.borrow(), icmp_error_callbacks(&[dead], true));
}

/// Receive offload turned on from the callback of a queued error: the
/// handle keeps receiving (its callback is not lost), and a datagram sent
/// from that callback arrives.
#[test]
fn offload_turned_on_by_a_queued_error_keeps_receiving() {
    let lp = Loop::new().unwrap();
    let dead = dead_port(false);
    let udp = Udp::new(&lp);
    udp.bind(loopback(false), UdpFlags::LINUX_RECVERR).unwrap();
    let addr = udp.sockname().unwrap();
    let peer = UdpSocket::bind(loopback(false)).unwrap();
    let from = peer.local_addr().unwrap();
    let log = util::shared(Vec::new());
    let l = log.clone();
    udp.receive_start(move |h, r| {
        let seen = match r {
            Ok(d) => Seen::Data(d.data.to_vec(), d.addr),
            Err(e) => seen_error(h, e),
        };
        if matches!(seen, Seen::Queued(_)) {
            assert!(h.set_gro(true).is_ok());
            peer.send_to(b"marker", addr).unwrap();
        }
        if matches!(seen, Seen::Data(..)) {
            h.close(|| {});
        }
        l.borrow_mut().push(seen);
    })
    .unwrap();
    assert_eq!(udp.try_send(&[b"PING"], Some(dead)), Ok(4));
    util::run_guarded(&lp);
    assert!(udp.is_closed());
    lp.close().unwrap();
    assert_eq!(
        *log.borrow(),
        vec![
            Seen::Status(StatusCode::ECONNREFUSED),
            Seen::Queued(port_unreachable(dead)),
            Seen::Data(b"marker".to_vec(), from),
        ]
    );
}
