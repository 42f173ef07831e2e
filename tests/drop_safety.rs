//! User values (callbacks and what they capture) are dropped only after the
//! loop's state is released, so a captured value whose `Drop` calls into the
//! loop works on every path: success, error, and no-op.

mod util;

use ruv::{Error, Loop, Poll, PollEvents, RunMode, StatusCode, Timer, Udp, UdpFlags};
use std::cell::Cell;
use std::rc::Rc;

/// Calls into the loop when dropped, and counts the drops.
struct Guard {
    lp: Loop,
    drops: Rc<Cell<u32>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Would panic with "already borrowed" if dropped under the borrow.
        let _ = self.lp.alive();
        let _ = Timer::new(&self.lp);
        self.drops.set(self.drops.get() + 1);
    }
}

fn guard(lp: &Loop, drops: &Rc<Cell<u32>>) -> Guard {
    Guard {
        lp: lp.clone(),
        drops: drops.clone(),
    }
}

fn closed_timer(lp: &Loop) -> Timer {
    let t = Timer::new(lp);
    t.close(|| {});
    t
}

#[test]
fn failed_timer_start_drops_its_callback_safely() {
    let lp = Loop::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let g = guard(&lp, &drops);
    let err = closed_timer(&lp)
        .start(1, 0, move |_| {
            let _ = &g;
        })
        .unwrap_err();
    assert_eq!(err, Error::ClosedHandle);
    assert_eq!(drops.get(), 1);
}

#[test]
fn second_close_drops_its_callback_safely() {
    let lp = Loop::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let t = closed_timer(&lp);
    let g = guard(&lp, &drops);
    t.close(move || drop(g));
    assert_eq!(drops.get(), 1);
}

#[test]
fn replaced_and_closed_callbacks_drop_safely() {
    let lp = Loop::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let t = Timer::new(&lp);
    let g1 = guard(&lp, &drops);
    t.start(10, 0, move |_| {
        let _ = &g1;
    })
    .unwrap();
    let g2 = guard(&lp, &drops);
    t.start(10, 0, move |_| {
        let _ = &g2;
    })
    .unwrap();
    assert_eq!(drops.get(), 1, "the replaced callback is dropped");
    t.close(|| {});
    assert_eq!(drops.get(), 2, "close drops the installed callback");
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn failed_udp_calls_drop_their_callbacks_safely() {
    let lp = Loop::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let (udp, addr) = util::bound_udp(&lp);
    let none: [&[u8]; 0] = [];
    let g = guard(&lp, &drops);
    let err = udp
        .send(&none, Some(addr), move |_, _| {
            let _ = &g;
        })
        .unwrap_err();
    assert_eq!(err, Error::Status(StatusCode::EINVAL));
    assert_eq!(drops.get(), 1);

    udp.receive_start(|_, _| {}).unwrap();
    let g = guard(&lp, &drops);
    let err = udp
        .receive_start(move |_, _| {
            let _ = &g;
        })
        .unwrap_err();
    assert_eq!(err, Error::Status(StatusCode::EALREADY));
    assert_eq!(drops.get(), 2);

    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let fresh = Udp::new(&lp);
    fresh.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    assert_eq!(
        fresh.open(sock).unwrap_err(),
        Error::Status(StatusCode::EBUSY)
    );

    udp.close(|| {});
    fresh.close(|| {});
    let g = guard(&lp, &drops);
    let err = udp
        .receive_start(move |_, _| {
            let _ = &g;
        })
        .unwrap_err();
    assert_eq!(err, Error::ClosedHandle);
    assert_eq!(drops.get(), 3);
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn failed_poll_start_drops_its_callback_safely() {
    let lp = Loop::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let poll = Poll::new(&lp, std::os::fd::AsRawFd::as_raw_fd(&a)).unwrap();
    poll.close(|| {});
    let g = guard(&lp, &drops);
    let err = poll
        .start(PollEvents::READABLE, move |_, _| {
            let _ = &g;
        })
        .unwrap_err();
    assert_eq!(err, Error::ClosedHandle);
    assert_eq!(drops.get(), 1);
    lp.run(RunMode::Default).unwrap();
}
