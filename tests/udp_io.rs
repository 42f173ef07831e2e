//! Black-box tests of UDP sending and receiving through the loop: payloads
//! and addresses, truncation, caller buffers, send callbacks and the send
//! queue, the read budget, ICMP errors, dual stack, multicast, broadcast.

mod util;

use ruv::udp::{AF_INET, AF_INET6};
use ruv::{Error, Idle, Loop, Membership, RecvMeta, RunMode, StatusCode, Udp, UdpFlags};
use std::cell::Cell;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::rc::Rc;

fn status<T>(code: StatusCode) -> ruv::Result<T> {
    Err(Error::Status(code))
}

fn sa(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// One received datagram, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Got {
    data: Vec<u8>,
    addr: SocketAddr,
    flags: UdpFlags,
}

fn got(data: &[u8], addr: SocketAddr) -> Got {
    Got {
        data: data.to_vec(),
        addr,
        flags: UdpFlags::empty(),
    }
}

/// A handle bound to `bind` (port 0) and its address.
fn bound(lp: &Loop, bind: SocketAddr) -> (Udp, SocketAddr) {
    let udp = Udp::new(lp);
    udp.bind(bind, UdpFlags::empty()).unwrap();
    let addr = udp.sockname().unwrap();
    (udp, addr)
}

/// A receiving handle that records what it gets and closes itself after
/// `want` datagrams.
fn recorder(lp: &Loop, bind: SocketAddr, want: usize) -> (Udp, SocketAddr, util::Shared<Vec<Got>>) {
    let (udp, addr) = bound(lp, bind);
    let log = util::shared(Vec::new());
    let l = log.clone();
    udp.receive_start(move |h, result| {
        let d = result.expect("receive error");
        l.borrow_mut().push(Got {
            data: d.data.to_vec(),
            addr: d.addr,
            flags: d.flags,
        });
        if l.borrow().len() == want {
            h.close(|| {});
        }
    })
    .unwrap();
    (udp, addr, log)
}

// ------------------------------------------------------------ send/receive

fn round_trip(bind: SocketAddr) {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, bind, 2);
    let (sender, saddr) = bound(&lp, bind);
    let sent = util::shared(Vec::new());
    let s = sent.clone();
    sender
        .send(
            &[&b"hel"[..], &b"lo "[..], &b"world"[..]],
            Some(raddr),
            move |_, st| s.borrow_mut().push(st),
        )
        .unwrap();
    // More buffers than fit in the inline iovec array still make one
    // datagram.
    let pieces: Vec<Vec<u8>> = (0..20u8)
        .map(|i| vec![b'a' + i; usize::from(i) + 1])
        .collect();
    let refs: Vec<&[u8]> = pieces.iter().map(|p| p.as_slice()).collect();
    let s = sent.clone();
    sender
        .send(&refs, Some(raddr), move |h, st| {
            s.borrow_mut().push(st);
            h.handle().close(|| {});
        })
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(*sent.borrow(), vec![Ok(()), Ok(())]);
    assert_eq!(
        *log.borrow(),
        vec![got(b"hello world", saddr), got(&pieces.concat(), saddr)]
    );
    assert!(receiver.is_closed());
    assert!(sender.is_closed());
    lp.close().unwrap();
}

#[test]
fn send_and_receive_ipv4() {
    round_trip(util::any_v4());
}

#[test]
fn send_and_receive_ipv6() {
    round_trip(util::any_v6());
}

/// The first send on a handle without a socket binds the wildcard address
/// of the destination's family; the datagram arrives from loopback.
fn first_send_binds_the_wildcard(to: SocketAddr, family: i32, wildcard: &str, from: IpAddr) {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, to, 1);
    let sender = Udp::new(&lp);
    sender
        .send(&[b"auto"], Some(raddr), |req, st| {
            st.unwrap();
            req.handle().close(|| {});
        })
        .unwrap();
    assert_eq!(sender.family(), Ok(Some(family)));
    let local = sender.sockname().unwrap();
    assert_eq!(local.ip(), sa(wildcard).ip());
    util::run_guarded(&lp);
    assert_eq!(
        *log.borrow(),
        vec![got(b"auto", SocketAddr::new(from, local.port()))]
    );
    assert!(receiver.is_closed());
    lp.close().unwrap();
}

#[test]
fn first_send_binds_the_ipv4_wildcard() {
    first_send_binds_the_wildcard(
        util::any_v4(),
        AF_INET,
        "0.0.0.0:0",
        IpAddr::from([127, 0, 0, 1]),
    );
}

#[test]
fn first_send_to_ipv6_binds_the_ipv6_wildcard() {
    first_send_binds_the_wildcard(
        util::any_v6(),
        AF_INET6,
        "[::]:0",
        IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1]),
    );
}

#[test]
fn receive_start_binds_the_ipv4_wildcard() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    let log = util::shared(Vec::new());
    let l = log.clone();
    udp.receive_start(move |h, r| {
        let d = r.unwrap();
        l.borrow_mut().push(got(d.data, d.addr));
        h.close(|| {});
    })
    .unwrap();
    assert_eq!(udp.family(), Ok(Some(AF_INET)));
    let local = udp.sockname().unwrap();
    assert_eq!(local.ip(), sa("0.0.0.0:0").ip());
    assert_ne!(local.port(), 0);
    assert!(udp.is_active());
    assert!(udp.is_receiving());
    let (sender, saddr) = util::bound_udp(&lp);
    let to = SocketAddr::from(([127, 0, 0, 1], local.port()));
    assert_eq!(sender.try_send(&[b"to wildcard"], Some(to)), Ok(11));
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec![got(b"to wildcard", saddr)]);
    util::close_all(&lp, &[&sender]);
}

#[test]
fn empty_datagram_arrives_with_its_address() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v4(), 3);
    let (sender, saddr) = util::bound_udp(&lp);
    let sent = util::shared(Vec::new());
    for bufs in [&[&b""[..]][..], &[&b""[..], &b""[..]][..]] {
        let s = sent.clone();
        sender
            .send(bufs, Some(raddr), move |_, st| s.borrow_mut().push(st))
            .unwrap();
    }
    assert_eq!(sender.send_queue_size(), Ok(0));
    assert_eq!(sender.send_queue_count(), Ok(2));
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*sent.borrow(), vec![Ok(()), Ok(())]);
    assert_eq!(sender.try_send(&[b""], Some(raddr)), Ok(0));
    util::run_guarded(&lp);
    assert_eq!(
        *log.borrow(),
        vec![got(b"", saddr), got(b"", saddr), got(b"", saddr)]
    );
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn large_datagram_arrives_whole() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v4(), 1);
    let (sender, saddr) = util::bound_udp(&lp);
    // The largest IPv4 UDP payload.
    let big: Vec<u8> = (0..65_507u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(sender.try_send(&[&big], Some(raddr)), Ok(65_507));
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec![got(&big, saddr)]);
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender]);
}

// ------------------------------------------------------- caller's buffers

/// A caller-supplied buffer with a serial number, to see it come back.
struct TaggedBuf {
    serial: usize,
    bytes: Vec<u8>,
}

impl AsMut<[u8]> for TaggedBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Event {
    Data {
        serial: usize,
        meta: RecvMeta,
        bytes: Vec<u8>,
    },
    Failed {
        serial: usize,
        err: Error,
    },
}

/// Starts receiving into buffers of the sizes `sizes` yields in turn (the
/// last size repeats); records events; closes the handle on the first
/// `(0, None)` return after `want_data` datagrams.
fn receive_into(udp: &Udp, sizes: Vec<usize>, want_data: usize) -> util::Shared<Vec<Event>> {
    let events = util::shared(Vec::new());
    let serial = Rc::new(Cell::new(0));
    let allocated = util::shared(Vec::new());
    let (s, a) = (serial.clone(), allocated.clone());
    let alloc = move |_: &Udp, suggested: usize| {
        assert_eq!(suggested, 65_536);
        let n = s.get();
        s.set(n + 1);
        let size = *sizes.get(n).or(sizes.last()).unwrap();
        a.borrow_mut().push(n);
        TaggedBuf {
            serial: n,
            bytes: vec![0xEE; size],
        }
    };
    let e = events.clone();
    let cb = move |h: &Udp, result: ruv::Result<RecvMeta>, mut buf: TaggedBuf| {
        // Every buffer comes back, the latest one allocated.
        assert_eq!(allocated.borrow().last(), Some(&buf.serial));
        let mut ev = e.borrow_mut();
        match result {
            Ok(meta) => {
                let bytes = buf.as_mut()[..meta.len].to_vec();
                let datagrams = ev
                    .iter()
                    .filter(|x| matches!(x, Event::Data { meta, .. } if meta.addr.is_some()))
                    .count();
                ev.push(Event::Data {
                    serial: buf.serial,
                    meta,
                    bytes,
                });
                if meta.addr.is_none() && datagrams >= want_data {
                    h.close(|| {});
                }
            }
            Err(err) => ev.push(Event::Failed {
                serial: buf.serial,
                err,
            }),
        }
    };
    udp.receive_start_with(alloc, cb).unwrap();
    events
}

#[test]
fn receive_into_small_buffer_sets_partial() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, saddr) = util::bound_udp(&lp);
    assert_eq!(sender.try_send(&[b"abcdefgh"], Some(raddr)), Ok(8));
    assert_eq!(sender.try_send(&[b"wxyz"], Some(raddr)), Ok(4));
    let events = receive_into(&receiver, vec![4], 2);
    util::run_guarded(&lp);
    assert_eq!(
        *events.borrow(),
        vec![
            Event::Data {
                serial: 0,
                meta: RecvMeta {
                    len: 4,
                    addr: Some(saddr),
                    flags: UdpFlags::PARTIAL
                },
                bytes: b"abcd".to_vec(),
            },
            Event::Data {
                serial: 1,
                meta: RecvMeta {
                    len: 4,
                    addr: Some(saddr),
                    flags: UdpFlags::empty()
                },
                bytes: b"wxyz".to_vec(),
            },
            Event::Data {
                serial: 2,
                meta: RecvMeta {
                    len: 0,
                    addr: None,
                    flags: UdpFlags::empty()
                },
                bytes: Vec::new(),
            },
        ]
    );
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn empty_buffer_is_enobufs_and_keeps_the_datagram() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, saddr) = util::bound_udp(&lp);
    assert_eq!(sender.try_send(&[b"data"], Some(raddr)), Ok(4));
    let events = receive_into(&receiver, vec![0, 16], 1);
    util::run_guarded(&lp);
    assert_eq!(
        *events.borrow(),
        vec![
            Event::Failed {
                serial: 0,
                err: Error::Status(StatusCode::ENOBUFS),
            },
            Event::Data {
                serial: 1,
                meta: RecvMeta {
                    len: 4,
                    addr: Some(saddr),
                    flags: UdpFlags::empty()
                },
                bytes: b"data".to_vec(),
            },
            Event::Data {
                serial: 2,
                meta: RecvMeta {
                    len: 0,
                    addr: None,
                    flags: UdpFlags::empty()
                },
                bytes: Vec::new(),
            },
        ]
    );
    util::close_all(&lp, &[&sender]);
}

#[test]
fn caller_buffer_comes_back_when_nothing_is_waiting() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, saddr) = util::bound_udp(&lp);
    let events = receive_into(&receiver, vec![64], 1);
    // Whatever the handle does while nothing is waiting, it hands every
    // buffer back as (0, None) and delivers nothing else.
    lp.run(RunMode::NoWait).unwrap();
    for e in events.borrow().iter() {
        match e {
            Event::Data { meta, bytes, .. } => {
                assert_eq!(
                    *meta,
                    RecvMeta {
                        len: 0,
                        addr: None,
                        flags: UdpFlags::empty()
                    }
                );
                assert!(bytes.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let before = events.borrow().len();
    assert_eq!(sender.try_send(&[b"late"], Some(raddr)), Ok(4));
    util::run_guarded(&lp);
    let ev = events.borrow();
    let after: Vec<_> = ev[before..].iter().collect();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(matches!(after[0], Event::Data { meta, bytes, .. }
        if *meta == RecvMeta { len: 4, addr: Some(saddr), flags: UdpFlags::empty() }
        && bytes == b"late"));
    assert!(matches!(after[1], Event::Data { meta, .. }
        if *meta == RecvMeta { len: 0, addr: None, flags: UdpFlags::empty() }));
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender]);
}

// --------------------------------------------------------- send callbacks

#[test]
fn send_callbacks_run_in_send_order_with_ascending_ids() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v4(), 5);
    let (sender, saddr) = util::bound_udp(&lp);
    let order = util::shared(Vec::new());
    let mut ids = Vec::new();
    for i in 0..5u8 {
        let o = order.clone();
        let req = sender
            .send(&[&[b'0' + i][..]], Some(raddr), move |req, st| {
                o.borrow_mut().push((req.id(), i, st));
            })
            .unwrap();
        ids.push(req.id());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(order.borrow().is_empty());
    util::run_guarded(&lp);
    let want: Vec<_> = ids
        .iter()
        .zip(0..5u8)
        .map(|(&id, i)| (id, i, Ok(())))
        .collect();
    assert_eq!(*order.borrow(), want);
    let want: Vec<_> = (0..5u8).map(|i| got(&[b'0' + i], saddr)).collect();
    assert_eq!(*log.borrow(), want);
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn send_callback_is_deferred_to_the_loop() {
    let lp = Loop::new().unwrap();
    let (peer, paddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    let called = util::shared(Vec::new());
    let c = called.clone();
    let req = sender
        .send(&[&b"0123"[..], &b"456"[..]], Some(paddr), move |req, st| {
            c.borrow_mut().push((req.id(), st));
        })
        .unwrap();
    // Not inside send, even though the datagram already left.
    assert!(called.borrow().is_empty());
    assert_eq!(sender.send_queue_count(), Ok(1));
    assert_eq!(sender.send_queue_size(), Ok(7));
    assert!(sender.is_active());
    assert!(lp.alive());
    let c = called.clone();
    let req2 = sender
        .send(&[b"89"], Some(paddr), move |req, st| {
            c.borrow_mut().push((req.id(), st));
        })
        .unwrap();
    assert_eq!(sender.send_queue_count(), Ok(2));
    assert_eq!(sender.send_queue_size(), Ok(9));
    assert!(called.borrow().is_empty());
    // The next run reports both, in its pending phase.
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(
        *called.borrow(),
        vec![(req.id(), Ok(())), (req2.id(), Ok(()))]
    );
    assert_eq!(sender.send_queue_count(), Ok(0));
    assert_eq!(sender.send_queue_size(), Ok(0));
    assert!(!sender.is_active());
    assert!(!lp.alive());
    util::close_all(&lp, &[&peer, &sender]);
}

#[test]
fn pending_send_keeps_the_loop_alive_when_unreferenced() {
    let lp = Loop::new().unwrap();
    let (peer, paddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    sender.unref();
    assert!(!lp.alive());
    let called = Rc::new(Cell::new(0));
    let c = called.clone();
    sender
        .send(&[b"x"], Some(paddr), move |_, st| {
            st.unwrap();
            c.set(c.get() + 1);
        })
        .unwrap();
    assert!(!sender.has_ref());
    assert!(lp.alive());
    assert!(!util::run_guarded(&lp));
    assert_eq!(called.get(), 1);
    assert!(!lp.alive());
    util::close_all(&lp, &[&peer, &sender]);
}

#[test]
fn queued_send_keeps_the_loop_alive_when_unreferenced_and_drains() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v6(), 2);
    receiver.unref();
    let sender = util::choked_sender(&lp);
    let saddr = sender.sockname().unwrap();
    sender.unref();
    let big = vec![b'B'; util::CHOKE];
    let statuses = util::shared(Vec::new());
    for data in [&big[..], &b"after"[..]] {
        let s = statuses.clone();
        sender
            .send(&[data], Some(raddr), move |_, st| s.borrow_mut().push(st))
            .unwrap();
    }
    assert_eq!(sender.send_queue_count(), Ok(2));
    assert_eq!(sender.send_queue_size(), Ok(util::CHOKE + 5));
    // Neither handle is referenced; the queued sends alone keep it alive.
    lp.run(RunMode::NoWait).unwrap();
    assert!(statuses.borrow().is_empty(), "{:?}", statuses.borrow());
    assert!(lp.alive());
    assert_eq!(sender.send_queue_count(), Ok(2));
    // Make room: the queue drains in order once the socket is writable.
    sender.set_send_buffer_size(1 << 20).unwrap();
    let dog = util::watchdog(&lp, 10_000);
    for _ in 0..1000 {
        if statuses.borrow().len() == 2 {
            break;
        }
        lp.run(RunMode::Once).unwrap();
    }
    dog.close(|| {});
    assert_eq!(*statuses.borrow(), vec![Ok(()), Ok(())]);
    assert_eq!(sender.send_queue_count(), Ok(0));
    assert_eq!(sender.send_queue_size(), Ok(0));
    receiver.ref_();
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec![got(&big, saddr), got(b"after", saddr)]);
    util::close_all(&lp, &[&sender]);
}

#[test]
fn queued_sends_drain_in_order_when_the_socket_has_room() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v6(), 4);
    let sender = util::choked_sender(&lp);
    let saddr = sender.sockname().unwrap();
    let big = vec![b'Q'; util::CHOKE];
    // The sender cannot take the big datagram now: try_send says EAGAIN
    // (libuv maps ENOBUFS to EAGAIN).
    assert_eq!(
        sender.try_send(&[&big], Some(raddr)),
        status(StatusCode::EAGAIN)
    );
    let order = util::shared(Vec::new());
    let payloads: [&[u8]; 4] = [b"first", &big, b"third", b"fourth"];
    let mut ids = Vec::new();
    for (i, data) in payloads.iter().enumerate() {
        let o = order.clone();
        let req = sender
            .send(&[*data], Some(raddr), move |req, st| {
                o.borrow_mut().push((i, req.id(), st));
            })
            .unwrap();
        ids.push(req.id());
    }
    assert_eq!(sender.send_queue_count(), Ok(4));
    assert_eq!(sender.send_queue_size(), Ok(5 + util::CHOKE + 5 + 6));
    // Queued sends: try_send must not overtake them.
    assert_eq!(
        sender.try_send(&[b"overtake"], Some(raddr)),
        status(StatusCode::EAGAIN)
    );
    lp.run(RunMode::NoWait).unwrap();
    // Only the first one went out; the rest wait.
    assert_eq!(*order.borrow(), vec![(0, ids[0], Ok(()))]);
    assert_eq!(sender.send_queue_count(), Ok(3));
    assert_eq!(sender.send_queue_size(), Ok(util::CHOKE + 11));
    sender.set_send_buffer_size(1 << 20).unwrap();
    util::run_guarded(&lp);
    let want: Vec<_> = (0..4).map(|i| (i, ids[i], Ok(()))).collect();
    assert_eq!(*order.borrow(), want);
    let want: Vec<_> = payloads.iter().map(|p| got(p, saddr)).collect();
    assert_eq!(*log.borrow(), want);
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender]);
}

// ------------------------------------------------------ close and sends

#[test]
fn close_reports_written_sends_before_the_close_callback() {
    let lp = Loop::new().unwrap();
    let (peer, paddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    let log = util::shared(Vec::new());
    let mut ids = Vec::new();
    for i in 0..3 {
        let l = log.clone();
        let req = sender
            .send(&[b"x"], Some(paddr), move |req, st| {
                l.borrow_mut().push(format!("send {i} {} {st:?}", req.id()));
            })
            .unwrap();
        ids.push(req.id());
    }
    let l = log.clone();
    sender.close(move || l.borrow_mut().push("close".to_string()));
    assert!(log.borrow().is_empty());
    util::run_guarded(&lp);
    let want: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("send {i} {id} Ok(())"))
        .chain(["close".to_string()])
        .collect();
    assert_eq!(*log.borrow(), want);
    util::close_all(&lp, &[&peer]);
}

fn close_with_queued_sends(run_first: bool) {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = bound(&lp, util::any_v6());
    let sender = util::choked_sender(&lp);
    let big = vec![b'C'; util::CHOKE];
    let log = util::shared(Vec::new());
    let payloads: [&[u8]; 6] = [b"w1", b"w2", &big, b"q1", b"q2", b"q3"];
    let mut ids = Vec::new();
    for (i, data) in payloads.iter().enumerate() {
        let l = log.clone();
        let req = sender
            .send(&[*data], Some(raddr), move |req, st| {
                l.borrow_mut().push(format!("send {i} {} {st:?}", req.id()));
            })
            .unwrap();
        ids.push(req.id());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(sender.send_queue_count(), Ok(6));
    let mut want: Vec<String> = (0..2)
        .map(|i| format!("send {i} {} Ok(())", ids[i]))
        .collect();
    if run_first {
        // The written ones report; the queued ones still wait.
        lp.run(RunMode::NoWait).unwrap();
        assert_eq!(*log.borrow(), want);
        assert_eq!(sender.send_queue_count(), Ok(4));
        assert_eq!(sender.send_queue_size(), Ok(util::CHOKE + 6));
    }
    let l = log.clone();
    sender.close(move || l.borrow_mut().push("close".to_string()));
    util::run_guarded(&lp);
    let cancelled = format!("{:?}", status::<()>(StatusCode::ECANCELED));
    want.extend((2..6).map(|i| format!("send {i} {} {cancelled}", ids[i])));
    want.push("close".to_string());
    assert_eq!(*log.borrow(), want);
    util::close_all(&lp, &[&receiver]);
}

#[test]
fn close_cancels_queued_sends_before_the_close_callback() {
    close_with_queued_sends(false);
}

#[test]
fn close_after_a_run_cancels_the_sends_still_queued() {
    close_with_queued_sends(true);
}

// ------------------------------------------------------------ read budget

#[test]
fn at_most_32_datagrams_per_iteration() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, saddr) = util::bound_udp(&lp);
    for i in 0..100u32 {
        let text = i.to_string();
        assert_eq!(
            sender.try_send(&[text.as_bytes()], Some(raddr)),
            Ok(text.len())
        );
    }
    let log = util::shared(Vec::new());
    let l = log.clone();
    receiver
        .receive_start(move |_, r| {
            let d = r.unwrap();
            assert_eq!(d.addr, saddr);
            assert_eq!(d.flags, UdpFlags::empty());
            l.borrow_mut()
                .push(String::from_utf8(d.data.to_vec()).unwrap());
        })
        .unwrap();
    let mut per_run = Vec::new();
    for _ in 0..5 {
        let before = log.borrow().len();
        assert!(lp.run(RunMode::NoWait).unwrap());
        per_run.push(log.borrow().len() - before);
    }
    assert_eq!(per_run, vec![32, 32, 32, 4, 0]);
    let want: Vec<String> = (0..100).map(|i: u32| i.to_string()).collect();
    assert_eq!(*log.borrow(), want);
    util::close_all(&lp, &[&receiver, &sender]);
}

#[test]
fn budget_is_per_handle() {
    let lp = Loop::new().unwrap();
    let (a, aaddr) = util::bound_udp(&lp);
    let (b, baddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    for i in 0..40u8 {
        sender.try_send(&[&[i][..]], Some(aaddr)).unwrap();
        sender.try_send(&[&[i][..]], Some(baddr)).unwrap();
    }
    let counts = Rc::new([Cell::new(0), Cell::new(0)]);
    for (n, h) in [&a, &b].into_iter().enumerate() {
        let c = counts.clone();
        h.receive_start(move |_, r| {
            r.unwrap();
            c[n].set(c[n].get() + 1);
        })
        .unwrap();
    }
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!((counts[0].get(), counts[1].get()), (32, 32));
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!((counts[0].get(), counts[1].get()), (40, 40));
    util::close_all(&lp, &[&a, &b, &sender]);
}

// ------------------------------------------------------- start and stop

#[test]
fn receive_stop_then_start_delivers_what_arrived_meanwhile() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, saddr) = util::bound_udp(&lp);
    let log = util::shared(Vec::new());
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            let d = r.unwrap();
            l.borrow_mut().push(got(d.data, d.addr));
            h.receive_stop().unwrap();
        })
        .unwrap();
    sender.try_send(&[b"one"], Some(raddr)).unwrap();
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec![got(b"one", saddr)]);
    assert!(!receiver.is_receiving());
    assert!(!receiver.is_active());

    // While stopped, datagrams arrive and the loop polls (an idle handle
    // keeps it turning), consuming the readiness edge.
    sender.try_send(&[b"two"], Some(raddr)).unwrap();
    sender.try_send(&[b"three"], Some(raddr)).unwrap();
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(log.borrow().len(), 1);
    idle.close(|| {});

    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            let d = r.unwrap();
            l.borrow_mut().push(got(d.data, d.addr));
            if l.borrow().len() == 3 {
                h.close(|| {});
            }
        })
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(
        *log.borrow(),
        vec![got(b"one", saddr), got(b"two", saddr), got(b"three", saddr)]
    );
    util::close_all(&lp, &[&sender]);
}

#[test]
fn receive_start_twice_is_ealready() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v4(), 1);
    assert_eq!(
        receiver.receive_start(|_, _| panic!("second callback")),
        status(StatusCode::EALREADY)
    );
    assert_eq!(
        receiver.receive_start_with(
            |_, _| -> Vec<u8> { panic!("second alloc") },
            |_, _, _| panic!("second callback")
        ),
        status(StatusCode::EALREADY)
    );
    assert!(receiver.is_receiving());
    let (sender, saddr) = util::bound_udp(&lp);
    sender.try_send(&[b"first cb"], Some(raddr)).unwrap();
    util::run_guarded(&lp);
    // The first callback stayed in place.
    assert_eq!(*log.borrow(), vec![got(b"first cb", saddr)]);
    util::close_all(&lp, &[&sender]);
}

#[test]
fn receive_stop_when_not_receiving_is_ok() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(udp.receive_stop(), Ok(()));
    assert_eq!(udp.family(), Ok(None));
    let (bound_one, _) = util::bound_udp(&lp);
    assert_eq!(bound_one.receive_stop(), Ok(()));
    assert_eq!(bound_one.receive_stop(), Ok(()));
    assert!(!bound_one.is_active());
    util::close_all(&lp, &[&udp, &bound_one]);
}

// ------------------------------------------------------------ ICMP errors

/// An address of `family`'s loopback with a port nobody listens on now.
fn dead_port(v6: bool) -> SocketAddr {
    let probe = UdpSocket::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).unwrap();
    probe.local_addr().unwrap()
}

fn connected_udp_reports_econnrefused(v6: bool) {
    let lp = Loop::new().unwrap();
    let dead = dead_port(v6);
    let client = Udp::new(&lp);
    client.connect(Some(dead)).unwrap();
    let events = util::shared(Vec::<ruv::Result<Got>>::new());
    let sends = util::shared(Vec::new());
    let peer: util::Shared<Option<Udp>> = util::shared(None);
    let (e, s, p) = (events.clone(), sends.clone(), peer.clone());
    client
        .receive_start(move |h, r| {
            let mut ev = e.borrow_mut();
            ev.push(r.map(|d| Got {
                data: d.data.to_vec(),
                addr: d.addr,
                flags: d.flags,
            }));
            let s = s.clone();
            let record = move |_: &ruv::SendRequest, st| s.borrow_mut().push(st);
            match ev.len() {
                // The handle is still usable: send again, get refused again.
                1 => {
                    h.send(&[b"probe 2"], None, record).unwrap();
                }
                // Now someone listens there: the conversation works.
                2 => {
                    let listener = Udp::new(h.get_loop());
                    listener.bind(dead, UdpFlags::empty()).unwrap();
                    listener
                        .receive_start(|l, r| {
                            let d = r.unwrap();
                            let mut reply = b"re: ".to_vec();
                            reply.extend_from_slice(d.data);
                            l.send(&[&reply], Some(d.addr), |_, st| st.unwrap())
                                .unwrap();
                        })
                        .unwrap();
                    *p.borrow_mut() = Some(listener);
                    h.send(&[b"hello"], None, record).unwrap();
                }
                _ => {
                    h.close(|| {});
                    if let Some(listener) = p.borrow().as_ref() {
                        listener.close(|| {});
                    }
                }
            }
        })
        .unwrap();
    let s = sends.clone();
    client
        .send(&[b"probe 1"], None, move |_, st| s.borrow_mut().push(st))
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(
        *events.borrow(),
        vec![
            status(StatusCode::ECONNREFUSED),
            status(StatusCode::ECONNREFUSED),
            Ok(got(b"re: hello", dead)),
        ]
    );
    assert_eq!(*sends.borrow(), vec![Ok(()), Ok(()), Ok(())]);
    assert!(client.is_closed());
    lp.close().unwrap();
}

#[test]
fn connected_udp_reports_econnrefused_and_stays_usable_ipv4() {
    connected_udp_reports_econnrefused(false);
}

#[test]
fn connected_udp_reports_econnrefused_and_stays_usable_ipv6() {
    connected_udp_reports_econnrefused(true);
}

#[test]
fn connected_udp_receives_only_from_its_peer() {
    let lp = Loop::new().unwrap();
    let (peer, paddr) = util::bound_udp(&lp);
    let (stranger, _) = util::bound_udp(&lp);
    let (client, caddr, log) = recorder(&lp, util::any_v4(), 1);
    client.connect(Some(paddr)).unwrap();
    assert_eq!(client.sockname(), Ok(caddr));
    // The stranger's datagram is filtered by the kernel; the peer's arrives.
    stranger.try_send(&[b"stranger"], Some(caddr)).unwrap();
    peer.try_send(&[b"peer"], Some(caddr)).unwrap();
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec![got(b"peer", paddr)]);
    util::close_all(&lp, &[&peer, &stranger]);
}

// ------------------------------------------------------------- dual stack

#[test]
fn ipv6_wildcard_receives_ipv4_as_mapped_addresses() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, sa("[::]:0"), 1);
    assert_eq!(receiver.family(), Ok(Some(AF_INET6)));
    let (sender, saddr) = util::bound_udp(&lp);
    let to = SocketAddr::from(([127, 0, 0, 1], raddr.port()));
    assert_eq!(sender.try_send(&[b"mapped"], Some(to)), Ok(6));
    util::run_guarded(&lp);
    let mapped: SocketAddr = format!("[::ffff:127.0.0.1]:{}", saddr.port())
        .parse()
        .unwrap();
    assert_eq!(*log.borrow(), vec![got(b"mapped", mapped)]);
    util::close_all(&lp, &[&sender]);
}

#[test]
fn ipv6only_socket_does_not_receive_ipv4() {
    let lp = Loop::new().unwrap();
    let receiver = Udp::new(&lp);
    receiver.bind(sa("[::]:0"), UdpFlags::IPV6ONLY).unwrap();
    let port = receiver.sockname().unwrap().port();
    let log = util::shared(Vec::new());
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            let d = r.unwrap();
            l.borrow_mut().push(got(d.data, d.addr));
            h.close(|| {});
        })
        .unwrap();
    let (v4, _) = util::bound_udp(&lp);
    let (v6, v6addr) = bound(&lp, util::any_v6());
    // The IPv4 datagram goes first; only the IPv6 one may arrive.
    v4.try_send(&[b"v4"], Some(SocketAddr::from(([127, 0, 0, 1], port))))
        .unwrap();
    v6.try_send(
        &[b"v6"],
        Some(SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], port))),
    )
    .unwrap();
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec![got(b"v6", v6addr)]);
    util::close_all(&lp, &[&v4, &v6]);
}

// -------------------------------------------------- multicast, broadcast

#[test]
fn multicast_on_loopback() {
    const GROUP: &str = "239.255.0.1";
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    udp.bind(sa("0.0.0.0:0"), UdpFlags::empty()).unwrap();
    let port = udp.sockname().unwrap().port();
    let me = SocketAddr::from(([127, 0, 0, 1], port));
    let group: SocketAddr = format!("{GROUP}:{port}").parse().unwrap();
    match udp.set_membership(GROUP, Some("127.0.0.1"), Membership::JoinGroup) {
        Ok(()) => {}
        Err(Error::Status(code @ (StatusCode::ENODEV | StatusCode::EADDRNOTAVAIL))) => {
            eprintln!("multicast on loopback unavailable here ({code}); skipping");
            util::close_all(&lp, &[&udp]);
            return;
        }
        Err(other) => panic!("join failed: {other}"),
    }
    udp.set_multicast_loop(true).unwrap();
    udp.set_multicast_interface(Some("127.0.0.1")).unwrap();
    // TTL 0: nothing can leave this host, the local copy is still delivered.
    udp.set_multicast_ttl(0).unwrap();
    let log = util::shared(Vec::new());
    let l = log.clone();
    udp.receive_start(move |h, r| {
        let d = r.unwrap();
        l.borrow_mut().push(got(d.data, d.addr));
        match l.borrow().len() {
            1 => {
                h.set_membership(GROUP, Some("127.0.0.1"), Membership::LeaveGroup)
                    .unwrap();
                assert_eq!(
                    h.set_membership(GROUP, Some("127.0.0.1"), Membership::LeaveGroup),
                    status(StatusCode::EADDRNOTAVAIL)
                );
                // After leaving, the group's datagrams no longer arrive; the
                // unicast marker sent after it does.
                h.send(&[b"after leave"], Some(group), |_, st| st.unwrap())
                    .unwrap();
                h.send(&[b"marker"], Some(me), |_, st| st.unwrap()).unwrap();
            }
            _ => h.close(|| {}),
        }
    })
    .unwrap();
    let sent = util::shared(Vec::new());
    let s = sent.clone();
    udp.send(&[b"to the group"], Some(group), move |_, st| {
        s.borrow_mut().push(st)
    })
    .unwrap();
    util::run_guarded(&lp);
    assert_eq!(*sent.borrow(), vec![Ok(())]);
    assert_eq!(
        *log.borrow(),
        vec![got(b"to the group", me), got(b"marker", me)]
    );
    lp.close().unwrap();
}

#[test]
fn membership_binds_a_lazy_handle() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    match udp.set_membership("239.255.0.1", Some("127.0.0.1"), Membership::JoinGroup) {
        Ok(()) => {
            assert_eq!(udp.family(), Ok(Some(AF_INET)));
            assert_eq!(udp.sockname().unwrap().ip(), sa("0.0.0.0:0").ip());
            udp.set_membership("239.255.0.1", Some("127.0.0.1"), Membership::LeaveGroup)
                .unwrap();
        }
        Err(e) => eprintln!("multicast on loopback unavailable here ({e}); skipping"),
    }
    util::close_all(&lp, &[&udp]);
}

#[test]
fn broadcast_on_loopback_needs_set_broadcast() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, sa("0.0.0.0:0"), 1);
    let (sender, saddr) = util::bound_udp(&lp);
    let to = SocketAddr::from(([127, 255, 255, 255], raddr.port()));
    assert_eq!(
        sender.try_send(&[b"bcast"], Some(to)),
        status(StatusCode::EACCES)
    );
    sender.set_broadcast(true).unwrap();
    assert_eq!(sender.try_send(&[b"bcast"], Some(to)), Ok(5));
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec![got(b"bcast", saddr)]);
    assert!(receiver.is_closed());
    sender.set_broadcast(false).unwrap();
    assert_eq!(
        sender.try_send(&[b"bcast"], Some(to)),
        status(StatusCode::EACCES)
    );
    util::close_all(&lp, &[&sender]);
}

// ------------------------------------------------ idling after the work

/// Runs NOWAIT iterations until `done()`, at most `max` of them; returns
/// how many ran.
fn spin_until(lp: &Loop, max: usize, done: impl Fn() -> bool) -> usize {
    for n in 0..max {
        if done() {
            return n;
        }
        lp.run(RunMode::NoWait).unwrap();
    }
    assert!(done(), "not done after {max} iterations");
    max
}

#[test]
fn loop_goes_idle_after_a_sustained_burst() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    receiver.set_recv_buffer_size(1 << 21).unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let count = Rc::new(Cell::new(0usize));
    let c = count.clone();
    receiver
        .receive_start(move |_, r| {
            r.unwrap();
            c.set(c.get() + 1);
        })
        .unwrap();
    let mut sent = 0;
    for _ in 0..64 {
        sender.send_to(b"backlog", raddr).unwrap();
        sent += 1;
    }
    // Each iteration a new datagram arrives (a new readiness edge) while
    // more than a budget's worth waits: every read ends on the budget.
    for _ in 0..40 {
        for _ in 0..32 {
            sender.send_to(b"more", raddr).unwrap();
            sent += 1;
        }
        lp.run(RunMode::NoWait).unwrap();
        assert_eq!(count.get() % 32, 0);
    }
    spin_until(&lp, 100, || count.get() == sent);
    assert_eq!(count.get(), sent);
    // All read. At most one more look (the last read may have ended on the
    // budget rather than on EAGAIN), then the loop has nothing to do and
    // would block in its poll phase.
    let extra = spin_until(&lp, 100, || lp.backend_timeout() == -1);
    assert!(
        extra <= 1,
        "the loop spun {extra} idle iterations after the socket was drained"
    );
    assert_eq!(count.get(), sent);
    util::close_all(&lp, &[&receiver]);
}

#[test]
fn empty_allocator_with_nothing_waiting_does_not_spin() {
    let lp = Loop::new().unwrap();
    let (receiver, _) = util::bound_udp(&lp);
    let errors = Rc::new(Cell::new(0usize));
    let e = errors.clone();
    receiver
        .receive_start_with(
            |_, _| Vec::<u8>::new(),
            move |_, r, _| {
                assert_eq!(r, Err(Error::Status(StatusCode::ENOBUFS)));
                e.set(e.get() + 1);
            },
        )
        .unwrap();
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    // No datagram is waiting, so there is nothing to read into: libuv
    // would not even ask for a buffer. A first look after the start is
    // allowed; a report every iteration and a poll that never blocks are
    // not.
    assert!(
        errors.get() <= 1,
        "ENOBUFS reported {} times with nothing to read",
        errors.get()
    );
    assert_eq!(lp.backend_timeout(), -1);
    util::close_all(&lp, &[&receiver]);
}

// ------------------------------------------------ more errors, more paths

#[test]
fn send_errors_on_a_connected_handle_go_to_the_callback() {
    let lp = Loop::new().unwrap();
    let dead = dead_port(false);
    let client = Udp::new(&lp);
    client.connect(Some(dead)).unwrap();
    let statuses = util::shared(Vec::new());

    fn send_and_log(udp: &Udp, statuses: &util::Shared<Vec<ruv::Result<()>>>, then: fn(&Udp)) {
        let s = statuses.clone();
        udp.send(&[b"knock"], None, move |req, st| {
            s.borrow_mut().push(st);
            then(req.handle());
        })
        .unwrap();
    }
    // Not receiving: the ICMP error of the first send stays pending on the
    // socket and fails the next send, which reports it through its
    // callback; the one after that goes out again.
    let s = statuses.clone();
    client
        .send(&[b"knock"], None, move |req, st| {
            s.borrow_mut().push(st);
            let s2 = s.clone();
            send_and_log(req.handle(), &s2, |_| {});
            let s3 = s.clone();
            send_and_log(req.handle(), &s3, |h| h.close(|| {}));
        })
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(
        *statuses.borrow(),
        vec![Ok(()), status(StatusCode::ECONNREFUSED), Ok(())]
    );
    lp.close().unwrap();
}

#[test]
fn try_send_reports_a_pending_icmp_error_directly() {
    let lp = Loop::new().unwrap();
    let dead = dead_port(false);
    let client = Udp::new(&lp);
    client.connect(Some(dead)).unwrap();
    assert_eq!(client.try_send(&[b"one"], None), Ok(3));
    assert_eq!(
        client.try_send(&[b"two"], None),
        status(StatusCode::ECONNREFUSED)
    );
    assert_eq!(client.try_send(&[b"three"], None), Ok(5));
    util::close_all(&lp, &[&client]);
}

#[test]
fn wrong_family_and_port_zero_are_reported_through_the_callback() {
    let lp = Loop::new().unwrap();
    let (udp, _) = util::bound_udp(&lp);
    let statuses = util::shared(Vec::new());
    for to in [sa("[::1]:9"), sa("127.0.0.1:0")] {
        let s = statuses.clone();
        udp.send(&[b"x"], Some(to), move |_, st| s.borrow_mut().push(st))
            .unwrap();
    }
    assert!(statuses.borrow().is_empty());
    util::run_guarded(&lp);
    assert_eq!(
        *statuses.borrow(),
        vec![status(StatusCode::EAFNOSUPPORT), status(StatusCode::EINVAL)]
    );
    assert_eq!(
        udp.try_send(&[b"x"], Some(sa("[::1]:9"))),
        status(StatusCode::EAFNOSUPPORT)
    );
    assert_eq!(udp.send_queue_count(), Ok(0));
    util::close_all(&lp, &[&udp]);
}

#[test]
fn queued_too_large_datagram_fails_alone() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v6(), 2);
    let sender = util::choked_sender(&lp);
    let saddr = sender.sockname().unwrap();
    let big = vec![b'B'; util::CHOKE];
    let huge = vec![b'H'; 70_000];
    let statuses = util::shared(Vec::new());
    for data in [&big[..], &huge[..], &b"tail"[..]] {
        let s = statuses.clone();
        sender
            .send(&[data], Some(raddr), move |_, st| s.borrow_mut().push(st))
            .unwrap();
    }
    lp.run(RunMode::NoWait).unwrap();
    assert!(statuses.borrow().is_empty());
    assert_eq!(sender.send_queue_count(), Ok(3));
    sender.set_send_buffer_size(1 << 20).unwrap();
    util::run_guarded(&lp);
    assert_eq!(
        *statuses.borrow(),
        vec![Ok(()), status(StatusCode::EMSGSIZE), Ok(())]
    );
    assert_eq!(*log.borrow(), vec![got(&big, saddr), got(b"tail", saddr)]);
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn more_buffers_than_iov_max_are_emsgsize_whether_sent_at_once_or_queued() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v6(), 3);
    let bytes: Vec<u8> = (0..1025u32).map(|i| b'a' + (i % 26) as u8).collect();
    let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
    // 1024 buffers (the kernel's IOV_MAX) gather into one datagram.
    let (direct, daddr) = bound(&lp, util::any_v6());
    assert_eq!(direct.try_send(&pieces[..1024], Some(raddr)), Ok(1024));
    // One more is EMSGSIZE, at once, from both kinds of send.
    assert_eq!(
        direct.try_send(&pieces, Some(raddr)),
        status(StatusCode::EMSGSIZE)
    );
    assert_eq!(
        direct
            .send(&pieces, Some(raddr), |_, _| panic!("no callback"))
            .map(drop),
        status(StatusCode::EMSGSIZE)
    );
    assert_eq!(direct.send_queue_count(), Ok(0));
    // Also while sends wait (their data copied into one buffer, which the
    // kernel would take): the waiting ones go out, in order, without it.
    let sender = util::choked_sender(&lp);
    let saddr = sender.sockname().unwrap();
    let big = vec![b'B'; util::CHOKE];
    let statuses = util::shared(Vec::new());
    let s = statuses.clone();
    sender
        .send(&[&big], Some(raddr), move |_, st| s.borrow_mut().push(st))
        .unwrap();
    assert_eq!(
        sender
            .send(&pieces, Some(raddr), |_, _| panic!("no callback"))
            .map(drop),
        status(StatusCode::EMSGSIZE)
    );
    // As libuv: the destination is checked before the count, and try_send
    // answers EAGAIN while sends wait, before the count would matter.
    assert_eq!(
        sender
            .send(&pieces, None, |_, _| panic!("no callback"))
            .map(drop),
        status(StatusCode::EDESTADDRREQ)
    );
    assert_eq!(
        sender.try_send(&pieces, Some(raddr)),
        status(StatusCode::EAGAIN)
    );
    assert_eq!(
        sender.try_send(&pieces, None),
        status(StatusCode::EDESTADDRREQ)
    );
    let no_buffers: [&[u8]; 0] = [];
    assert_eq!(
        sender.try_send(&no_buffers, Some(raddr)),
        status(StatusCode::EINVAL)
    );
    let s = statuses.clone();
    sender
        .send(&[b"tail"], Some(raddr), move |_, st| {
            s.borrow_mut().push(st)
        })
        .unwrap();
    assert_eq!(sender.send_queue_count(), Ok(2));
    sender.set_send_buffer_size(1 << 20).unwrap();
    util::run_guarded(&lp);
    assert_eq!(*statuses.borrow(), vec![Ok(()), Ok(())]);
    assert_eq!(
        *log.borrow(),
        vec![
            got(&bytes[..1024], daddr),
            got(&big, saddr),
            got(b"tail", saddr)
        ]
    );
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender, &direct]);
}

#[test]
fn linux_recverr_reports_icmp_errors_on_unconnected_handles() {
    let lp = Loop::new().unwrap();
    let dead = dead_port(false);
    let (marker, _) = util::bound_udp(&lp);
    let mut logs = Vec::new();
    for flags in [UdpFlags::empty(), UdpFlags::LINUX_RECVERR] {
        let udp = Udp::new(&lp);
        udp.bind(util::any_v4(), flags).unwrap();
        let addr = udp.sockname().unwrap();
        let log = util::shared(Vec::new());
        let l = log.clone();
        udp.receive_start(move |h, r| {
            let r = r.map(|d| d.data.to_vec());
            let is_marker = r.as_deref() == Ok(&b"marker"[..]);
            l.borrow_mut().push(r);
            if is_marker {
                h.close(|| {});
            }
        })
        .unwrap();
        assert_eq!(udp.try_send(&[b"to nobody"], Some(dead)), Ok(9));
        assert_eq!(marker.try_send(&[b"marker"], Some(addr)), Ok(6));
        logs.push(log);
    }
    util::run_guarded(&lp);
    // Without the flag the kernel keeps the error from an unconnected
    // socket; with it the error is reported, plainly and then from the
    // error queue (tests/udp_recverr.rs has the details), then the handle
    // goes on.
    assert_eq!(*logs[0].borrow(), vec![Ok(b"marker".to_vec())]);
    let log = logs[1].borrow();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0], status(StatusCode::ECONNREFUSED));
    assert_eq!(log[1], Err(Error::Queued(StatusCode::ECONNREFUSED)));
    assert_eq!(log[2], Ok(b"marker".to_vec()));
    drop(log);
    util::close_all(&lp, &[&marker]);
}

#[test]
fn source_specific_multicast_on_loopback() {
    const GROUP: &str = "232.1.2.3";
    let lp = Loop::new().unwrap();
    let receiver = Udp::new(&lp);
    receiver.bind(sa("0.0.0.0:0"), UdpFlags::empty()).unwrap();
    let port = receiver.sockname().unwrap().port();
    let group: SocketAddr = format!("{GROUP}:{port}").parse().unwrap();
    let join = receiver.set_source_membership(
        GROUP,
        Some("127.0.0.1"),
        "127.0.0.1",
        Membership::JoinGroup,
    );
    match join {
        Ok(()) => {}
        Err(Error::Status(code @ (StatusCode::ENODEV | StatusCode::EADDRNOTAVAIL))) => {
            eprintln!("source-specific multicast unavailable here ({code}); skipping");
            util::close_all(&lp, &[&receiver]);
            return;
        }
        Err(other) => panic!("join failed: {other}"),
    }
    let log = util::shared(Vec::new());
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            let d = r.unwrap();
            l.borrow_mut().push(got(d.data, d.addr));
            h.close(|| {});
        })
        .unwrap();
    // The other source sends first; only the joined source's datagram
    // may arrive.
    let mut senders = Vec::new();
    for (src, text) in [
        ("127.0.0.2", &b"other source"[..]),
        ("127.0.0.1", b"the source"),
    ] {
        let s = Udp::new(&lp);
        s.bind(format!("{src}:0").parse().unwrap(), UdpFlags::empty())
            .unwrap();
        s.set_multicast_interface(Some(src)).unwrap();
        s.set_multicast_ttl(0).unwrap();
        assert_eq!(s.try_send(&[text], Some(group)), Ok(text.len()));
        senders.push(s);
    }
    let from = senders[1].sockname().unwrap();
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec![got(b"the source", from)]);
    util::close_all(&lp, &[&senders[0], &senders[1]]);
}

#[test]
fn leave_source_membership() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    udp.bind(sa("0.0.0.0:0"), UdpFlags::empty()).unwrap();
    let (g, i, s) = ("232.1.2.4", Some("127.0.0.1"), "127.0.0.1");
    match udp.set_source_membership(g, i, s, Membership::JoinGroup) {
        Ok(()) => {
            udp.set_source_membership(g, i, s, Membership::LeaveGroup)
                .unwrap();
            // Leaving again: the kernel's EINVAL, passed through.
            assert_eq!(
                udp.set_source_membership(g, i, s, Membership::LeaveGroup),
                status(StatusCode::EINVAL)
            );
        }
        Err(e) => eprintln!("source-specific multicast unavailable here ({e}); skipping"),
    }
    util::close_all(&lp, &[&udp]);
}

#[test]
fn dual_stack_handle_sends_to_ipv4_and_ipv6only_refuses() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr, log) = recorder(&lp, util::any_v4(), 1);
    let dual = Udp::new(&lp);
    dual.bind(sa("[::]:0"), UdpFlags::empty()).unwrap();
    let dual_port = dual.sockname().unwrap().port();
    let only = Udp::new(&lp);
    only.bind(sa("[::]:0"), UdpFlags::IPV6ONLY).unwrap();
    let statuses = util::shared(Vec::new());
    for h in [&only, &dual] {
        let s = statuses.clone();
        h.send(&[b"from v6 socket"], Some(raddr), move |_, st| {
            s.borrow_mut().push(st)
        })
        .unwrap();
    }
    util::run_guarded(&lp);
    assert_eq!(
        *statuses.borrow(),
        vec![status(StatusCode::ENETUNREACH), Ok(())]
    );
    let from = SocketAddr::from(([127, 0, 0, 1], dual_port));
    assert_eq!(*log.borrow(), vec![got(b"from v6 socket", from)]);
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&dual, &only]);
}

#[test]
fn adopted_socket_delivers_datagrams_that_waited_before_open() {
    let lp = Loop::new().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let paddr = peer.local_addr().unwrap();
    peer.send_to(b"early 1", addr).unwrap();
    peer.send_to(b"early 2", addr).unwrap();
    let udp = Udp::from_socket(&lp, sock).unwrap();
    let log = util::shared(Vec::new());
    let l = log.clone();
    udp.receive_start(move |h, r| {
        let d = r.unwrap();
        l.borrow_mut().push(got(d.data, d.addr));
        if l.borrow().len() == 2 {
            h.close(|| {});
        }
    })
    .unwrap();
    util::run_guarded(&lp);
    assert_eq!(
        *log.borrow(),
        vec![got(b"early 1", paddr), got(b"early 2", paddr)]
    );
    lp.close().unwrap();
}
