//! Review of the hot-path rewrites since 82212db: the poll phase's own
//! `epoll_wait` and its early return, direct socket system calls, the lazily
//! decoded receive batch, the single-lookup send path, the rewritten
//! pending phase and the timer phase by slot index. Each test pins a
//! behaviour those changes put at risk.

mod util;

use ruv::{
    Async, Check, Error, Loop, Poll, PollEvents, RecvMeta, RunMode, StatusCode, Timer, Udp,
    UdpFlags,
};
use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

fn code<T: std::fmt::Debug>(r: ruv::Result<T>) -> StatusCode {
    match r {
        Err(Error::Status(c)) => c,
        other => panic!("expected a status, got {other:?}"),
    }
}

fn is_closed_handle<T: std::fmt::Debug>(r: ruv::Result<T>) -> bool {
    matches!(r, Err(Error::ClosedHandle))
}

/// A plain loopback socket, non-blocking with a read timeout for checks.
fn peer_v4() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let a = s.local_addr().unwrap();
    (s, a)
}

// ---------------------------------------------------------------- sending

#[test]
fn send_errors_keep_libuv_order_on_bound_handles() {
    let lp = Loop::new().unwrap();
    let (udp, _) = util::bound_udp(&lp);
    let (_peer, peer) = peer_v4();
    let none: [&[u8]; 0] = [];
    // No buffers comes before the destination checks.
    assert_eq!(code(udp.send(&none, None, |_, _| {})), StatusCode::EINVAL);
    assert_eq!(
        code(udp.send(&none, Some(peer), |_, _| {})),
        StatusCode::EINVAL
    );
    assert_eq!(
        code(udp.send(&[b"x"], None, |_, _| {})),
        StatusCode::EDESTADDRREQ
    );
    let conn = Udp::new(&lp);
    conn.connect(Some(peer)).unwrap();
    assert_eq!(
        code(conn.send(&none, Some(peer), |_, _| {})),
        StatusCode::EINVAL
    );
    assert_eq!(
        code(conn.send(&[b"x"], Some(peer), |_, _| {})),
        StatusCode::EISCONN
    );
    // Failed sends count nothing and keep nothing alive.
    assert_eq!(udp.send_queue_count().unwrap(), 0);
    assert_eq!(conn.send_queue_count().unwrap(), 0);
    assert_eq!(udp.send_queue_size().unwrap(), 0);
    assert!(!lp.alive());
    // A closing handle and a closed one.
    udp.close(|| {});
    assert!(is_closed_handle(udp.send(&[b"x"], Some(peer), |_, _| {})));
    conn.close(|| {});
    lp.run(RunMode::Default).unwrap();
    assert!(is_closed_handle(conn.send(&[b"x"], None, |_, _| {})));
    assert!(is_closed_handle(udp.send(&[b"x"], Some(peer), |_, _| {})));
}

#[test]
fn failed_first_send_does_not_bind_and_good_one_binds_to_destination_family() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    let none: [&[u8]; 0] = [];
    let v6: SocketAddr = "[::1]:9".parse().unwrap();
    assert_eq!(
        code(udp.send(&none, Some(v6), |_, _| {})),
        StatusCode::EINVAL
    );
    assert_eq!(
        code(udp.send(&[b"x"], None, |_, _| {})),
        StatusCode::EDESTADDRREQ
    );
    assert!(udp.sockname().is_err(), "a failed send bound the handle");
    assert_eq!(udp.family().unwrap(), None);

    let rx = UdpSocket::bind("[::1]:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let dest = rx.local_addr().unwrap();
    let status = Rc::new(RefCell::new(None));
    let s = status.clone();
    udp.send(&[b"first"], Some(dest), move |_, r| {
        *s.borrow_mut() = Some(r)
    })
    .unwrap();
    assert_eq!(udp.family().unwrap(), Some(ruv::udp::AF_INET6));
    let mut buf = [0u8; 16];
    let (n, from) = rx.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"first");
    assert_eq!(from.port(), udp.sockname().unwrap().port());
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*status.borrow(), Some(Ok(())));
    udp.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn single_and_gathered_buffers_send_the_same_datagrams_connected_or_not() {
    let lp = Loop::new().unwrap();
    let (rx, dest) = peer_v4();
    let udp = Udp::new(&lp);
    let conn = Udp::new(&lp);
    conn.connect(Some(dest)).unwrap();
    let done = Rc::new(Cell::new(0));
    let cb = |d: &Rc<Cell<i32>>| {
        let d = d.clone();
        move |_: &ruv::SendRequest, r: ruv::Result<()>| {
            r.unwrap();
            d.set(d.get() + 1);
        }
    };
    let empty: [&[u8]; 1] = [b""];
    udp.send(&[b"one"], Some(dest), cb(&done)).unwrap();
    udp.send(&empty, Some(dest), cb(&done)).unwrap();
    udp.send(&[&b"ga"[..], b"", b"ther"], Some(dest), cb(&done))
        .unwrap();
    conn.send(&[b"conn-one"], None, cb(&done)).unwrap();
    conn.send(&[&b"conn-"[..], b"two"], None, cb(&done))
        .unwrap();
    let from_udp: SocketAddr = ([127, 0, 0, 1], udp.sockname().unwrap().port()).into();
    let from_conn = conn.sockname().unwrap();
    let mut buf = [0u8; 64];
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (n, from) = rx.recv_from(&mut buf).unwrap();
        seen.push((buf[..n].to_vec(), from));
    }
    assert_eq!(
        seen,
        vec![
            (b"one".to_vec(), from_udp),
            (Vec::new(), from_udp),
            (b"gather".to_vec(), from_udp),
            (b"conn-one".to_vec(), from_conn),
            (b"conn-two".to_vec(), from_conn),
        ]
    );
    lp.run(RunMode::Default).unwrap();
    assert_eq!(done.get(), 5);
    udp.close(|| {});
    conn.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn send_from_send_callback_completes_in_same_iteration_and_counts_before_callback() {
    let lp = Loop::new().unwrap();
    let (rx, dest) = peer_v4();
    let udp = Udp::new(&lp);
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let check = Check::new(&lp);
    let l = log.clone();
    check
        .start(move |c| {
            l.borrow_mut().push("check".into());
            c.stop().unwrap();
        })
        .unwrap();
    let l = log.clone();
    udp.send(&[b"12345"], Some(dest), move |req, r| {
        r.unwrap();
        let h = req.handle().clone();
        // libuv takes the send off the counters before its callback.
        l.borrow_mut().push(format!(
            "first count={} size={}",
            h.send_queue_count().unwrap(),
            h.send_queue_size().unwrap()
        ));
        let l2 = l.clone();
        h.send(&[b"67"], Some(dest), move |req, r| {
            r.unwrap();
            l2.borrow_mut().push(format!(
                "second count={}",
                req.handle().send_queue_count().unwrap()
            ));
        })
        .unwrap();
        l.borrow_mut().push(format!(
            "after send count={} size={}",
            h.send_queue_count().unwrap(),
            h.send_queue_size().unwrap()
        ));
    })
    .unwrap();
    assert_eq!(udp.send_queue_count().unwrap(), 1);
    assert_eq!(udp.send_queue_size().unwrap(), 5);
    lp.run(RunMode::Once).unwrap();
    assert_eq!(
        *log.borrow(),
        [
            "first count=0 size=0",
            "after send count=1 size=2",
            "second count=0",
            "check"
        ]
    );
    let mut buf = [0u8; 8];
    assert_eq!(rx.recv(&mut buf).unwrap(), 5);
    assert_eq!(rx.recv(&mut buf).unwrap(), 2);
    udp.close(|| {});
    lp.run(RunMode::Default).unwrap();
    check.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn panic_in_send_callback_keeps_later_completions_for_next_run() {
    let lp = Loop::new().unwrap();
    let (_rx, dest) = peer_v4();
    let udp = Udp::new(&lp);
    let ran = Rc::new(RefCell::new(Vec::new()));
    for i in 0..4 {
        let r = ran.clone();
        udp.send(&[b"x"], Some(dest), move |_, res| {
            res.unwrap();
            r.borrow_mut().push(i);
            if i == 1 {
                panic!("send callback {i} panics");
            }
        })
        .unwrap();
    }
    let hit = panic::catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default)));
    assert!(hit.is_err());
    assert_eq!(*ran.borrow(), [0, 1]);
    assert_eq!(udp.send_queue_count().unwrap(), 2);
    assert!(lp.alive());
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*ran.borrow(), [0, 1, 2, 3]);
    assert_eq!(udp.send_queue_count().unwrap(), 0);
    assert_eq!(udp.send_queue_size().unwrap(), 0);
    udp.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn close_in_send_callback_reports_remaining_completions_once_before_close_callback() {
    let lp = Loop::new().unwrap();
    let (_rx, dest) = peer_v4();
    let udp = Udp::new(&lp);
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    for i in 0..3 {
        let l = log.clone();
        udp.send(&[b"x"], Some(dest), move |req, res| {
            l.borrow_mut().push(format!("send {i} {res:?}"));
            if i == 0 {
                let l2 = l.clone();
                req.handle()
                    .close(move || l2.borrow_mut().push("close".into()));
            }
        })
        .unwrap();
    }
    lp.run(RunMode::Default).unwrap();
    assert_eq!(
        *log.borrow(),
        ["send 0 Ok(())", "send 1 Ok(())", "send 2 Ok(())", "close"]
    );
}

// ---------------------------------------------------------------- receiving

/// Sends `n` numbered datagrams (4-byte big-endian) from `from` to `to`.
fn send_numbered(from: &UdpSocket, to: SocketAddr, range: std::ops::Range<u32>) {
    for i in range {
        from.send_to(&i.to_be_bytes(), to).unwrap();
    }
}

fn number(data: &[u8]) -> u32 {
    u32::from_be_bytes(data.try_into().expect("4-byte datagram"))
}

/// Receives 100 datagrams queued before the run, with the receive set up
/// by `start`; returns them in order and how many each iteration got.
fn receive_100(
    wide: bool,
    start: impl FnOnce(&Udp, Rc<RefCell<Vec<(u32, SocketAddr)>>>),
) -> (Vec<(u32, SocketAddr)>, Vec<usize>) {
    let lp = Loop::new().unwrap();
    let (udp, addr) = util::bound_udp(&lp);
    udp.set_recv_buffer_size(1 << 20).ok();
    udp.set_recvmmsg(wide).unwrap();
    let (tx, tx_addr) = peer_v4();
    send_numbered(&tx, addr, 0..100);
    let got = Rc::new(RefCell::new(Vec::new()));
    start(&udp, got.clone());
    let per_iteration = Rc::new(RefCell::new(Vec::new()));
    let check = Check::new(&lp);
    let (g, p, u) = (got.clone(), per_iteration.clone(), udp.clone());
    let mut before = 0;
    check
        .start(move |c| {
            let now = g.borrow().len();
            p.borrow_mut().push(now - before);
            before = now;
            if now >= 100 {
                u.close(|| {});
                c.close(|| {});
            }
        })
        .unwrap();
    let dog = util::watchdog(&lp, 5000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::Default).unwrap();
    let got = got.borrow().clone();
    assert!(got.iter().all(|&(_, a)| a == tx_addr));
    let per = per_iteration.borrow().clone();
    (got, per)
}

fn check_budget(got: &[(u32, SocketAddr)], per: &[usize]) {
    let numbers: Vec<u32> = got.iter().map(|&(n, _)| n).collect();
    assert_eq!(numbers, (0..100).collect::<Vec<_>>());
    assert!(per.iter().all(|&n| n <= 32), "budget exceeded: {per:?}");
    assert_eq!(&per[..3], &[32, 32, 32], "per iteration: {per:?}");
}

#[test]
fn batched_receive_reads_32_per_iteration_in_order_shared_and_wide_batches() {
    for wide in [false, true] {
        let (got, per) = receive_100(wide, |udp, got| {
            udp.receive_start(move |_, r| {
                let d = r.unwrap();
                assert_eq!(d.flags, UdpFlags::empty());
                got.borrow_mut().push((number(d.data), d.addr));
            })
            .unwrap();
        });
        check_budget(&got, &per);
    }
}

#[test]
fn caller_buffer_receive_reads_32_per_iteration_in_order_direct_and_batched() {
    for wide in [false, true] {
        let (got, per) = receive_100(wide, |udp, got| {
            udp.receive_start_with(
                |_, size| vec![0u8; size],
                move |_, r: ruv::Result<RecvMeta>, buf: Vec<u8>| {
                    let m = r.unwrap();
                    if let Some(addr) = m.addr {
                        assert_eq!(m.flags, UdpFlags::empty());
                        got.borrow_mut().push((number(&buf[..m.len]), addr));
                    }
                },
            )
            .unwrap();
        });
        check_budget(&got, &per);
    }
}

#[test]
fn restart_in_receive_callback_loses_no_datagram_and_keeps_order() {
    for wide in [false, true] {
        let lp = Loop::new().unwrap();
        let (udp, addr) = util::bound_udp(&lp);
        udp.set_recvmmsg(wide).unwrap();
        let (tx, _) = peer_v4();
        send_numbered(&tx, addr, 0..40);
        let got = Rc::new(RefCell::new(Vec::<(u8, u32)>::new()));
        fn second(
            got: Rc<RefCell<Vec<(u8, u32)>>>,
        ) -> impl FnMut(&Udp, ruv::Result<ruv::Datagram<'_>>) {
            move |h, r| {
                got.borrow_mut().push((2, number(r.unwrap().data)));
                if got.borrow().len() == 40 {
                    h.close(|| {});
                }
            }
        }
        let g = got.clone();
        udp.receive_start(move |h, r| {
            let n = number(r.unwrap().data);
            g.borrow_mut().push((1, n));
            if n == 2 {
                h.receive_stop().unwrap();
                h.receive_start(second(g.clone())).unwrap();
            }
        })
        .unwrap();
        let dog = util::watchdog(&lp, 5000);
        lp.run(RunMode::Default).unwrap();
        dog.close(|| {});
        lp.run(RunMode::Default).unwrap();
        let got = got.borrow();
        let numbers: Vec<u32> = got.iter().map(|&(_, n)| n).collect();
        assert_eq!(numbers, (0..40).collect::<Vec<_>>(), "wide={wide}");
        assert!(got[..3].iter().all(|&(cb, _)| cb == 1));
        assert!(got[3..].iter().all(|&(cb, _)| cb == 2));
    }
}

#[test]
fn lazily_decoded_batch_reports_each_senders_own_address_and_empty_datagrams() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    udp.bind("[::]:0".parse().unwrap(), UdpFlags::empty())
        .unwrap();
    let port = udp.sockname().unwrap().port();
    let to4: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let to6: SocketAddr = format!("[::1]:{port}").parse().unwrap();
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("[::1]:0").unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.send_to(b"a0", to4).unwrap();
    b.send_to(b"b0", to6).unwrap();
    a.send_to(b"", to4).unwrap();
    b.send_to(b"", to6).unwrap();
    a.send_to(b"a2", to4).unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    udp.receive_start(move |h, r| {
        let d = r.unwrap();
        g.borrow_mut().push((d.data.to_vec(), d.addr, d.flags));
        if g.borrow().len() == 5 {
            h.close(|| {});
        }
    })
    .unwrap();
    let dog = util::watchdog(&lp, 5000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::Default).unwrap();
    let mapped = |a: SocketAddr| -> SocketAddr {
        match a {
            SocketAddr::V4(v4) => SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port()),
            v6 => v6,
        }
    };
    let e = UdpFlags::empty();
    assert_eq!(
        *got.borrow(),
        vec![
            (b"a0".to_vec(), mapped(a_addr), e),
            (b"b0".to_vec(), b_addr, e),
            (Vec::new(), mapped(a_addr), e),
            (Vec::new(), b_addr, e),
            (b"a2".to_vec(), mapped(a_addr), e),
        ]
    );
}

#[test]
fn truncated_datagram_is_partial_through_recvfrom_and_through_batch_copy() {
    for wide in [false, true] {
        let lp = Loop::new().unwrap();
        let (udp, addr) = util::bound_udp(&lp);
        udp.set_recvmmsg(wide).unwrap();
        let (tx, tx_addr) = peer_v4();
        tx.send_to(&[7u8; 100], addr).unwrap();
        tx.send_to(&[8u8; 5], addr).unwrap();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        udp.receive_start_with(
            |_, _| vec![0u8; 10],
            move |h, r: ruv::Result<RecvMeta>, buf: Vec<u8>| {
                let m = r.unwrap();
                if m.addr.is_some() {
                    g.borrow_mut()
                        .push((buf[..m.len].to_vec(), m.addr, m.flags));
                    if g.borrow().len() == 2 {
                        h.close(|| {});
                    }
                }
            },
        )
        .unwrap();
        let dog = util::watchdog(&lp, 5000);
        lp.run(RunMode::Default).unwrap();
        dog.close(|| {});
        lp.run(RunMode::Default).unwrap();
        assert_eq!(
            *got.borrow(),
            vec![
                (vec![7u8; 10], Some(tx_addr), UdpFlags::PARTIAL),
                (vec![8u8; 5], Some(tx_addr), UdpFlags::empty()),
            ],
            "wide={wide}"
        );
    }
}

#[test]
fn icmp_error_wakes_connected_receiver_with_econnrefused() {
    // EPOLLERR must decode as readable (mio's rule) for the error to be read.
    let lp = Loop::new().unwrap();
    let closed_port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let udp = Udp::new(&lp);
    udp.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    udp.connect(Some(closed_port)).unwrap();
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    udp.receive_start(move |h, r| {
        *g.borrow_mut() = Some(r.map(|d| d.data.len()).map_err(|e| e.code()));
        h.close(|| {});
    })
    .unwrap();
    udp.send(&[b"ping"], None, |_, _| {}).unwrap();
    let dog = util::watchdog(&lp, 5000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*got.borrow(), Some(Err(StatusCode::ECONNREFUSED)));
}

#[test]
fn poll_handle_sees_peer_hangup_as_readable() {
    // EPOLLHUP / EPOLLRDHUP must decode as readable.
    let lp = Loop::new().unwrap();
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let p = Poll::new(&lp, a.as_raw_fd()).unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    p.start(PollEvents::READABLE, move |p, r| {
        s.borrow_mut().push(r.unwrap());
        p.close(|| {});
    })
    .unwrap();
    drop(b);
    let t = util::watchdog(&lp, 5000);
    lp.run(RunMode::Default).unwrap();
    t.close(|| {});
    lp.run(RunMode::Default).unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].contains(PollEvents::READABLE), "{:?}", seen[0]);
    drop(a);
}

// ---------------------------------------------------------------- poll phase

#[test]
fn async_wakeup_from_another_thread_ends_a_blocking_poll_with_no_io() {
    let lp = Loop::new().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let a = Async::new(&lp, move |a| {
        c.set(c.get() + 1);
        a.close(|| {});
    });
    let sender = a.sender().unwrap();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        sender.send().unwrap();
    });
    // No timer, no I/O: the poll blocks with -1 until the wakeup.
    assert_eq!(lp.backend_timeout(), -1);
    let dog = util::watchdog(&lp, 5000);
    dog.unref();
    assert!(!lp.run(RunMode::Default).unwrap());
    t.join().unwrap();
    assert_eq!(calls.get(), 1);
    dog.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn manual_clock_jumps_only_in_an_iteration_with_nothing_to_dispatch() {
    let lp = Loop::with_manual_clock().unwrap();
    let fired = Rc::new(Cell::new(None));
    let f = fired.clone();
    let t = Timer::new(&lp);
    t.start(1000, 0, move |t| {
        f.set(Some(t.get_loop().now()));
        t.close(|| {});
    })
    .unwrap();
    let woke = Rc::new(Cell::new(0));
    let w = woke.clone();
    let a = Async::new(&lp, move |_| w.set(w.get() + 1));
    a.unref();
    a.send().unwrap();
    // The wakeup's iteration dispatches it and must not move the clock.
    lp.run(RunMode::Once).unwrap();
    assert_eq!(woke.get(), 1);
    assert_eq!(lp.now(), 0);
    assert_eq!(fired.get(), None);
    // NoWait never moves the clock either.
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(lp.now(), 0);
    assert_eq!(fired.get(), None);
    // An idle iteration jumps to the timer, which fires in that iteration.
    lp.run(RunMode::Once).unwrap();
    assert_eq!(fired.get(), Some(1000));
    assert_eq!(lp.now(), 1000);
    a.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn manual_clock_does_not_jump_while_datagrams_wait_on_the_ready_list() {
    let lp = Loop::with_manual_clock().unwrap();
    let (udp, addr) = util::bound_udp(&lp);
    let (tx, _) = peer_v4();
    send_numbered(&tx, addr, 0..40);
    let t = Timer::new(&lp);
    let fired_at = Rc::new(Cell::new(None));
    let f = fired_at.clone();
    let got = Rc::new(Cell::new(0));
    let g = got.clone();
    t.start(500, 0, move |t| {
        f.set(Some(g.get()));
        t.close(|| {});
    })
    .unwrap();
    let g = got.clone();
    udp.receive_start(move |h, r| {
        r.unwrap();
        g.set(g.get() + 1);
        if g.get() == 40 {
            h.close(|| {});
        }
    })
    .unwrap();
    lp.run(RunMode::Default).unwrap();
    // All 40 arrived before the clock could jump 500 ms.
    assert_eq!(fired_at.get(), Some(40));
}

// ---------------------------------------------------------------- timers

#[test]
fn timer_closed_by_an_earlier_callback_of_the_phase_does_not_fire_and_new_timer_waits() {
    let lp = Loop::with_manual_clock().unwrap();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let t1 = Timer::new(&lp);
    let t2 = Timer::new(&lp);
    let (l, t2c) = (log.clone(), t2.clone());
    t1.start(10, 0, move |t| {
        l.borrow_mut().push("t1".into());
        t2c.close(|| {});
        let t3 = Timer::new(t.get_loop());
        let l3 = l.clone();
        t3.start(0, 0, move |t3| {
            l3.borrow_mut().push("t3".into());
            t3.close(|| {});
        })
        .unwrap();
        t.close(|| {});
    })
    .unwrap();
    let l = log.clone();
    t2.start(10, 0, move |_| l.borrow_mut().push("t2".into()))
        .unwrap();
    lp.advance(Duration::from_millis(10)).unwrap();
    let check = Check::new(&lp);
    let l = log.clone();
    check
        .start(move |_| l.borrow_mut().push("check".into()))
        .unwrap();
    check.unref();
    lp.run(RunMode::Once).unwrap();
    assert_eq!(*log.borrow(), ["check", "t1"]);
    lp.run(RunMode::Once).unwrap();
    assert_eq!(*log.borrow(), ["check", "t1", "check", "t3"]);
    check.close(|| {});
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*log.borrow(), ["check", "t1", "check", "t3"]);
    assert!(t2.is_closed());
}

#[test]
fn panicking_timer_leaves_the_rest_of_the_phase_for_the_next_run_in_order() {
    let lp = Loop::with_manual_clock().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let timers: Vec<Timer> = (0..5).map(|_| Timer::new(&lp)).collect();
    for (i, t) in timers.iter().enumerate() {
        let l = log.clone();
        t.start(5, 0, move |_| {
            l.borrow_mut().push(i);
            if i == 1 {
                panic!("timer {i}");
            }
        })
        .unwrap();
    }
    lp.advance(Duration::from_millis(5)).unwrap();
    let hit = panic::catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default)));
    assert!(hit.is_err());
    assert_eq!(*log.borrow(), [0, 1]);
    // One of the rest is closed before the next run: it must not fire.
    timers[3].close(|| {});
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*log.borrow(), [0, 1, 2, 4]);
    for t in &timers {
        t.close(|| {});
    }
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn timer_in_a_reused_slot_keeps_its_own_due_time() {
    // A timer made in a close callback reuses the slot just freed (the
    // slab's free list is LIFO); it must not inherit anything of the timer
    // that was there.
    let lp = Loop::with_manual_clock().unwrap();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let a = Timer::new(&lp);
    let b = Timer::new(&lp);
    let (l, bc) = (log.clone(), b.clone());
    let keep = Rc::new(RefCell::new(Vec::new()));
    let k = keep.clone();
    a.start(10, 0, move |a| {
        l.borrow_mut().push("a".into());
        bc.close(|| {});
        let (l, k) = (l.clone(), k.clone());
        a.close(move || {
            for due in [1000u64, 0] {
                let t = Timer::new(&lp_of(&k));
                let l2 = l.clone();
                t.start(due, 0, move |t| {
                    l2.borrow_mut()
                        .push(format!("new {due} at {}", t.get_loop().now()));
                    t.close(|| {});
                })
                .unwrap();
                k.borrow_mut().push(t);
            }
        });
    })
    .unwrap();
    let l = log.clone();
    b.start(10, 0, move |_| l.borrow_mut().push("b".into()))
        .unwrap();
    keep.borrow_mut().push(Timer::new(&lp));
    let first_id = keep.borrow()[0].id();
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*log.borrow(), ["a", "new 0 at 10", "new 1000 at 1010"]);
    let ids: Vec<u64> = keep.borrow().iter().map(|t| t.id()).collect();
    assert_eq!(ids[0], first_id);
    keep.borrow()[0].close(|| {});
    lp.run(RunMode::Default).unwrap();
}

/// The loop of the helper timer kept first in `keep`.
fn lp_of(keep: &Rc<RefCell<Vec<Timer>>>) -> Loop {
    keep.borrow()[0].get_loop().clone()
}
