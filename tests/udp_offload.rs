//! Segmentation and receive offload: `try_send_segments` puts many datagrams
//! on the wire in one call, `set_gro` lets the kernel coalesce them on the
//! way in, and callbacks always see the original datagram boundaries.

mod util;

use ruv::{Error, Loop, RunMode, StatusCode, Udp};
use std::cell::RefCell;
use std::rc::Rc;

/// 10 segments of 100 bytes and a last one of 50, each filled with its index.
fn payload() -> Vec<u8> {
    let mut data = Vec::new();
    for i in 0..10u8 {
        data.extend(std::iter::repeat(i).take(100));
    }
    data.extend(std::iter::repeat(10u8).take(50));
    data
}

fn receive_segments(gro: bool, batch: bool) -> Vec<Vec<u8>> {
    let lp = Loop::new().unwrap();
    let dog = util::watchdog(&lp, 5_000);
    let (rx, addr) = util::bound_udp(&lp);
    if gro {
        // Kernels without UDP_GRO answer Ok(false): datagrams then arrive
        // one by one, which this test accepts just the same.
        rx.set_gro(true).unwrap();
    }
    rx.set_recvmmsg(batch).unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    rx.receive_start(move |u, r| {
        g.borrow_mut().push(r.unwrap().data.to_vec());
        if g.borrow().len() == 11 {
            u.close(|| {});
        }
    })
    .unwrap();
    let (tx, _) = util::bound_udp(&lp);
    let data = payload();
    assert_eq!(tx.try_send_segments(&data, 100, Some(addr)), Ok(data.len()));
    tx.close(|| {});
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::Default).unwrap();
    let got = got.borrow().clone();
    got
}

fn expected() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 100]).collect();
    v.push(vec![10; 50]);
    v
}

#[test]
fn segments_arrive_as_separate_datagrams() {
    assert_eq!(receive_segments(false, false), expected());
}

#[test]
fn receive_offload_keeps_datagram_boundaries() {
    assert_eq!(receive_segments(true, false), expected());
}

#[test]
fn receive_offload_with_batches_keeps_datagram_boundaries() {
    assert_eq!(receive_segments(true, true), expected());
}

#[test]
fn bad_segment_requests_are_einval() {
    let lp = Loop::new().unwrap();
    let (tx, addr) = util::bound_udp(&lp);
    let einval = Err(Error::Status(StatusCode::EINVAL));
    assert_eq!(tx.try_send_segments(&[1, 2, 3], 0, Some(addr)), einval);
    assert_eq!(tx.try_send_segments(&[], 10, Some(addr)), einval);
    assert_eq!(
        tx.try_send_segments(&[0; 65], 1, Some(addr)),
        einval,
        "65 segments"
    );
    assert_eq!(tx.try_send_segments(&[0; 10], 70_000, Some(addr)), einval);
    assert_eq!(
        tx.try_send_segments(&vec![0; 64 * 1200], 1200, Some(addr)),
        Err(Error::Status(StatusCode::EMSGSIZE)),
        "more than one datagram's worth in all"
    );
    assert_eq!(
        tx.try_send_segments(&[0; 10], 5, None),
        Err(Error::Status(StatusCode::EDESTADDRREQ))
    );
    // A send whose callback has not run yet: EAGAIN, nothing sent.
    tx.send(&[b"x"], Some(addr), |_, _| {}).unwrap();
    assert_eq!(
        tx.try_send_segments(&[0; 10], 5, Some(addr)),
        Err(Error::Status(StatusCode::EAGAIN))
    );
    tx.close(|| {});
    assert_eq!(
        tx.try_send_segments(&[0; 10], 5, Some(addr)),
        Err(Error::ClosedHandle)
    );
    assert_eq!(tx.set_gro(true), Err(Error::ClosedHandle));
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn gro_needs_a_socket() {
    let lp = Loop::new().unwrap();
    let udp = Udp::new(&lp);
    assert_eq!(udp.set_gro(true), Err(Error::Status(StatusCode::EBADF)));
    udp.close(|| {});
    lp.run(RunMode::Default).unwrap();
}
