//! The handle dump (`Loop::handles`): every handle with its type, id,
//! flags and descriptor, as libuv's `uv_print_all_handles` lists them.

mod util;

use ruv::{Async, Check, Handle, HandleInfo, HandleType, Idle, Loop, Poll, RunMode, Timer, Udp};
use std::cell::RefCell;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::rc::Rc;

/// What a test compares: (type, id, active, referenced, closing, fd).
type Row = (HandleType, u64, bool, bool, bool, Option<i32>);

fn row(info: &HandleInfo) -> Row {
    (
        info.handle_type,
        info.id,
        info.active,
        info.referenced,
        info.closing,
        info.fd,
    )
}

fn rows(lp: &Loop) -> Vec<Row> {
    lp.handles().iter().map(row).collect()
}

fn teardown(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert!(lp.handles().is_empty());
    lp.close().unwrap();
}

#[test]
fn an_empty_loop_dumps_nothing() {
    let lp = Loop::new().unwrap();
    let dump = lp.handles();
    assert!(dump.is_empty());
    assert_eq!(dump.to_string(), "");
    assert_eq!(format!("{dump:?}"), "");
    assert_eq!(dump.into_iter().count(), 0);
    lp.close().unwrap();
}

#[test]
fn every_handle_is_listed_with_its_flags_and_descriptor() {
    let lp = Loop::new().unwrap();
    let timer = Timer::new(&lp);
    timer.start(10_000, 0, |_| {}).unwrap();
    let idle = Idle::new(&lp);
    let check = Check::new(&lp);
    check.start(|_| {}).unwrap();
    check.unref();
    let lazy = Udp::new(&lp);
    let (bound, _) = util::bound_udp(&lp);
    let wake = Async::new(&lp, |_| {});
    let watched = UdpSocket::bind("127.0.0.1:0").unwrap();
    let poll = Poll::new(&lp, watched.as_raw_fd()).unwrap();

    let bound_fd = bound.fileno().unwrap();
    assert_eq!(poll.fileno(), Ok(watched.as_raw_fd()));
    use HandleType as T;
    assert_eq!(
        rows(&lp),
        vec![
            (T::Timer, timer.id(), true, true, false, None),
            (T::Idle, idle.id(), false, true, false, None),
            (T::Check, check.id(), true, false, false, None),
            (T::Udp, lazy.id(), false, true, false, None),
            (T::Udp, bound.id(), false, true, false, Some(bound_fd)),
            (T::Async, wake.id(), true, true, false, None),
            (
                T::Poll,
                poll.id(),
                false,
                true,
                false,
                Some(watched.as_raw_fd())
            ),
        ]
    );
    // In the order `walk` visits them.
    let mut walked = Vec::new();
    lp.walk(|h| walked.push(h.id()));
    let dumped: Vec<u64> = lp.handles().into_iter().map(|i| i.id).collect();
    assert_eq!(walked, dumped);

    let expected = format!(
        "[RA-] timer    id={:#x} fd=-\n\
         [R--] idle     id={:#x} fd=-\n\
         [-A-] check    id={:#x} fd=-\n\
         [R--] udp      id={:#x} fd=-\n\
         [R--] udp      id={:#x} fd={}\n\
         [RA-] async    id={:#x} fd=-\n\
         [R--] poll     id={:#x} fd={}\n",
        timer.id(),
        idle.id(),
        check.id(),
        lazy.id(),
        bound.id(),
        bound_fd,
        wake.id(),
        poll.id(),
        watched.as_raw_fd(),
    );
    assert_eq!(lp.handles().to_string(), expected);
    assert_eq!(format!("{:?}", lp.handles()), expected);
    teardown(&lp);
}

#[test]
fn a_closing_handle_is_listed_until_the_closing_phase_and_a_freed_slot_never() {
    let lp = Loop::new().unwrap();
    let (udp, _) = util::bound_udp(&lp);
    udp.receive_start(|_, _| {}).unwrap();
    let timer = Timer::new(&lp);
    udp.close(|| {});
    // Closed: inactive, no descriptor any more, still referenced.
    assert_eq!(
        rows(&lp),
        vec![
            (HandleType::Udp, udp.id(), false, true, true, None),
            (HandleType::Timer, timer.id(), false, true, false, None),
        ]
    );
    assert_eq!(
        lp.handles()[0].to_string(),
        format!("[R-C] udp      id={:#x} fd=-", udp.id())
    );
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(
        rows(&lp),
        vec![(HandleType::Timer, timer.id(), false, true, false, None)]
    );
    // The freed slot is reused with a new id.
    let again = Idle::new(&lp);
    assert_ne!(again.id(), udp.id());
    assert_eq!(
        rows(&lp),
        vec![
            (HandleType::Idle, again.id(), false, true, false, None),
            (HandleType::Timer, timer.id(), false, true, false, None),
        ]
    );
    teardown(&lp);
}

#[test]
fn the_dump_works_from_inside_callbacks() {
    let lp = Loop::new().unwrap();
    let seen: Rc<RefCell<Vec<Vec<Row>>>> = Rc::default();
    let (udp, addr) = util::bound_udp(&lp);
    let fd = udp.fileno().unwrap();
    let s = seen.clone();
    udp.receive_start(move |u, dgram| {
        dgram.unwrap();
        s.borrow_mut().push(rows(u.get_loop()));
        // Closed from its own callback: listed closing from here on.
        let s2 = s.clone();
        let lp2 = u.get_loop().clone();
        u.close(move || s2.borrow_mut().push(rows(&lp2)));
        s.borrow_mut().push(rows(u.get_loop()));
    })
    .unwrap();
    let unref_timer = Timer::new(&lp);
    unref_timer.unref();
    unref_timer.start(60_000, 0, |_| {}).unwrap();
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"x", addr)
        .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    let t = (
        HandleType::Timer,
        unref_timer.id(),
        true,
        false,
        false,
        None,
    );
    let id = udp.id();
    assert_eq!(
        *seen.borrow(),
        vec![
            vec![(HandleType::Udp, id, true, true, false, Some(fd)), t],
            vec![(HandleType::Udp, id, false, true, true, None), t],
            // In its close callback the handle is gone.
            vec![t],
        ]
    );
    teardown(&lp);
}

#[test]
fn a_handle_dump_is_a_snapshot() {
    let lp = Loop::new().unwrap();
    let a = Handle::from(Idle::new(&lp));
    let dump = lp.handles();
    a.close(|| {});
    let _b = Timer::new(&lp);
    assert_eq!(dump.len(), 1);
    assert_eq!(
        row(&dump[0]),
        (HandleType::Idle, a.id(), false, true, false, None)
    );
    teardown(&lp);
}
