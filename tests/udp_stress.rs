//! Many UDP handles in one loop: a ring of 1,000 handles, each sending one
//! datagram to the next, then all closed; no descriptor may leak.
//!
//! This file holds a single test on purpose: it counts the process's open
//! descriptors, which tests running in parallel threads would disturb.

mod util;

use ruv::{Error, Loop, RunMode, StatusCode};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;

const HANDLES: usize = 1_000;

/// What one handle received: payloads and senders.
type Inbox = Vec<(Vec<u8>, SocketAddr)>;

fn payload(i: usize) -> Vec<u8> {
    format!("datagram from handle {i}").into_bytes()
}

/// The soft limit on open descriptors.
fn fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill.
    let r = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    assert_eq!(r, 0, "getrlimit: {}", std::io::Error::last_os_error());
    lim.rlim_cur
}

#[test]
fn ring_of_1000_handles() {
    let limit = fd_limit();
    assert!(
        limit >= HANDLES as u64 + 100,
        "RLIMIT_NOFILE soft limit {limit} is too low for {HANDLES} sockets"
    );
    let fds_before = util::open_fds();
    let lp = Loop::new().unwrap();
    let fds_with_loop = util::open_fds();

    let mut handles = Vec::with_capacity(HANDLES);
    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(HANDLES);
    for _ in 0..HANDLES {
        let (udp, addr) = util::bound_udp(&lp);
        handles.push(udp);
        addrs.push(addr);
    }
    assert_eq!(util::open_fds(), fds_with_loop + HANDLES);
    assert_eq!(lp.handle_count(), HANDLES);
    // Each address is distinct.
    let mut ports: Vec<u16> = addrs.iter().map(|a| a.port()).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), HANDLES);

    // received[i]: what handle i got, and from whom.
    let received: Rc<RefCell<Vec<Inbox>>> = Rc::new(RefCell::new(vec![Vec::new(); HANDLES]));
    let total = Rc::new(Cell::new(0usize));
    let all = Rc::new(handles.clone());
    let closes = Rc::new(Cell::new(0usize));
    for (i, udp) in handles.iter().enumerate() {
        let (r, t, all, c) = (received.clone(), total.clone(), all.clone(), closes.clone());
        udp.receive_start(move |_, res| {
            let d = res.expect("receive error");
            r.borrow_mut()[i].push((d.data.to_vec(), d.addr));
            t.set(t.get() + 1);
            if t.get() == HANDLES {
                for h in all.iter() {
                    let c = c.clone();
                    h.close(move || c.set(c.get() + 1));
                }
            }
        })
        .unwrap();
    }

    let sends_ok = Rc::new(Cell::new(0usize));
    for (i, udp) in handles.iter().enumerate() {
        let next = addrs[(i + 1) % HANDLES];
        let ok = sends_ok.clone();
        udp.send(&[payload(i)], Some(next), move |_, st| {
            assert_eq!(st, Ok(()));
            ok.set(ok.get() + 1);
        })
        .unwrap();
    }

    let dog = util::watchdog(&lp, 60_000);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(sends_ok.get(), HANDLES);
    assert_eq!(total.get(), HANDLES);
    assert_eq!(closes.get(), HANDLES);
    {
        let received = received.borrow();
        for (i, got) in received.iter().enumerate() {
            let prev = (i + HANDLES - 1) % HANDLES;
            assert_eq!(
                got,
                &vec![(payload(prev), addrs[prev])],
                "handle {i} should have exactly its predecessor's datagram"
            );
        }
    }
    for h in &handles {
        assert!(h.is_closed());
        assert_eq!(h.sockname(), Err(Error::ClosedHandle));
    }
    // Every socket is closed; only the loop's own descriptors remain.
    assert_eq!(util::open_fds(), fds_with_loop);

    // The watchdog still holds a slot.
    assert_eq!(lp.close(), Err(Error::Status(StatusCode::EBUSY)));
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();

    // Dropping the last tokens (each holds the loop) releases the loop's
    // own descriptors too.
    drop(dog);
    drop(all);
    drop(handles);
    drop(received);
    drop(lp);
    assert_eq!(util::open_fds(), fds_before);
}
