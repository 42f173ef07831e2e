//! Batch receiving with recvmmsg (`Udp::set_recvmmsg`): same datagrams,
//! same order, same budget as single reads, and nothing lost when receiving
//! stops in the middle of a batch.

mod util;

use ruv::{Error, Loop, RunMode, Udp, UdpFlags};
use std::cell::RefCell;
use std::net::{SocketAddr, UdpSocket};
use std::rc::Rc;

/// A receiving handle with batching on, and a std sender aimed at it.
fn batch_receiver(lp: &Loop) -> (Udp, UdpSocket, SocketAddr) {
    let (udp, addr) = util::bound_udp(lp);
    udp.set_recvmmsg(true).unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    (udp, sender, addr)
}

fn send_numbered(sender: &UdpSocket, to: SocketAddr, range: std::ops::Range<u32>) {
    for i in range {
        sender.send_to(&i.to_be_bytes(), to).unwrap();
    }
}

fn number(data: &[u8]) -> u32 {
    u32::from_be_bytes(data.try_into().unwrap())
}

#[test]
fn batching_is_off_by_default_and_can_be_switched() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(udp.using_recvmmsg(), Ok(false));
    udp.set_recvmmsg(true).unwrap();
    assert_eq!(udp.using_recvmmsg(), Ok(true));
    udp.close(|| {});
    assert_eq!(udp.set_recvmmsg(true), Err(Error::ClosedHandle));
    assert_eq!(udp.using_recvmmsg(), Err(Error::ClosedHandle));
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn batches_deliver_every_datagram_in_order_within_the_budget() {
    let lp = Loop::new().unwrap();
    let _dog = util::watchdog(&lp, 5_000);
    let (udp, sender, addr) = batch_receiver(&lp);
    let from = sender.local_addr().unwrap();
    send_numbered(&sender, addr, 0..100);
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    udp.receive_start(move |_, r| {
        let d = r.unwrap();
        assert_eq!(d.addr, from);
        assert_eq!(d.flags, UdpFlags::empty());
        g.borrow_mut().push(number(d.data));
    })
    .unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(got.borrow().len(), 32, "one iteration reads at most 32");
    for _ in 0..10 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*got.borrow(), (0..100).collect::<Vec<u32>>());
    udp.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn datagrams_read_in_a_batch_survive_a_stop_and_come_first_after_a_start() {
    let lp = Loop::new().unwrap();
    let _dog = util::watchdog(&lp, 5_000);
    let (udp, sender, addr) = batch_receiver(&lp);
    send_numbered(&sender, addr, 0..10);
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    // Stop after the third datagram: the other seven are already read.
    udp.receive_start(move |u, r| {
        g.borrow_mut().push(number(r.unwrap().data));
        if g.borrow().len() == 3 {
            u.receive_stop().unwrap();
        }
    })
    .unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*got.borrow(), vec![0, 1, 2]);
    send_numbered(&sender, addr, 10..12);
    let g = got.clone();
    udp.receive_start(move |_, r| g.borrow_mut().push(number(r.unwrap().data)))
        .unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*got.borrow(), (0..12).collect::<Vec<u32>>());
    udp.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn a_batch_remainder_is_copied_into_caller_buffers() {
    let lp = Loop::new().unwrap();
    let _dog = util::watchdog(&lp, 5_000);
    let (udp, sender, addr) = batch_receiver(&lp);
    send_numbered(&sender, addr, 0..4);
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    udp.receive_start(move |u, r| {
        g.borrow_mut().push(number(r.unwrap().data));
        u.receive_stop().unwrap();
    })
    .unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*got.borrow(), vec![0]);
    // Switch to caller buffers (and off batching): the three datagrams the
    // batch holds arrive first, then nothing more is waiting.
    udp.set_recvmmsg(false).unwrap();
    let g = got.clone();
    udp.receive_start_with(
        |_, _| vec![0u8; 2],
        move |_, r, buf| {
            let meta = r.unwrap();
            if meta.addr.is_some() {
                assert_eq!(meta.len, 2);
                assert_eq!(meta.flags, UdpFlags::PARTIAL, "4 bytes into 2");
                g.borrow_mut()
                    .push(u32::from(u16::from_be_bytes([buf[0], buf[1]])));
            }
        },
    )
    .unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*got.borrow(), vec![0, 0, 0, 0], "high halves of 1, 2, 3");
    udp.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn a_closed_batch_handle_releases_everything() {
    let lp = Loop::new().unwrap();
    let _dog = util::watchdog(&lp, 5_000);
    let (udp, sender, addr) = batch_receiver(&lp);
    send_numbered(&sender, addr, 0..5);
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    udp.receive_start(move |u, _| {
        *c.borrow_mut() += 1;
        u.close(|| {});
    })
    .unwrap();
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*calls.borrow(), 1, "no delivery after close");
    _dog.close(|| {});
    lp.run(RunMode::Default).unwrap();
    lp.close().unwrap();
}

/// Without `set_recvmmsg` handles share one batch of the loop; one that
/// stops with datagrams still in it keeps them, and another handle receiving
/// in between gets its own datagrams, not those.
#[test]
fn datagrams_left_in_the_shared_batch_stay_with_their_handle() {
    let lp = Loop::new().unwrap();
    let _dog = util::watchdog(&lp, 5_000);
    let (a, a_addr) = util::bound_udp(&lp);
    let (b, b_addr) = util::bound_udp(&lp);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    send_numbered(&sender, a_addr, 0..4);
    let got_a = Rc::new(RefCell::new(Vec::new()));
    let g = got_a.clone();
    a.receive_start(move |u, r| {
        g.borrow_mut().push(number(r.unwrap().data));
        u.receive_stop().unwrap();
    })
    .unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*got_a.borrow(), vec![0]);
    // B receives while A's three datagrams wait in the batch A kept.
    send_numbered(&sender, b_addr, 100..103);
    let got_b = Rc::new(RefCell::new(Vec::new()));
    let g = got_b.clone();
    b.receive_start(move |_, r| g.borrow_mut().push(number(r.unwrap().data)))
        .unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*got_b.borrow(), vec![100, 101, 102]);
    let g = got_a.clone();
    a.receive_start(move |_, r| g.borrow_mut().push(number(r.unwrap().data)))
        .unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*got_a.borrow(), vec![0, 1, 2, 3]);
    a.close(|| {});
    b.close(|| {});
    _dog.close(|| {});
    lp.run(RunMode::Default).unwrap();
}
