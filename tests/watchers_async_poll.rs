//! Idle/Prepare/Check watchers, Async handles woken from other threads, and
//! Poll handles on a Unix socket pair (level-triggered like libuv).

mod util;

use ruv::{
    Async, AsyncSender, Check, Error, Handle, Idle, Loop, Poll, PollEvents, Prepare, RunMode,
    StatusCode, Timer, Watcher, WatcherPhase,
};
use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::ops::Deref;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const VIRTUAL_WATCHDOG_MS: u64 = 100 * 3_600_000;

fn counter() -> Rc<Cell<u32>> {
    Rc::new(Cell::new(0))
}

fn bump(c: &Rc<Cell<u32>>) {
    c.set(c.get() + 1);
}

fn teardown(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

// ---------------------------------------------------------------- watchers

fn start_stop<P: WatcherPhase>()
where
    Watcher<P>: Deref<Target = Handle>,
{
    let lp = Loop::with_manual_clock().unwrap();
    let w = Watcher::<P>::new(&lp);
    assert!(!w.is_active());
    assert!(!lp.alive());
    let calls = counter();
    let c = calls.clone();
    w.start(move |_| bump(&c)).unwrap();
    assert!(w.is_active());
    assert!(lp.alive());
    for n in 1..=3 {
        assert_eq!(lp.run(RunMode::NoWait), Ok(true));
        assert_eq!(calls.get(), n, "once per iteration");
    }
    assert_eq!(w.stop(), Ok(()));
    assert!(!w.is_active());
    assert!(!lp.alive());
    assert_eq!(w.stop(), Ok(()), "stopping a stopped watcher");
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(calls.get(), 3);

    // Started again with a new callback, which replaces the old one.
    let other = counter();
    let o = other.clone();
    w.start(move |_| bump(&o)).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!((calls.get(), other.get()), (3, 1));

    // A watcher that stops itself.
    let c = calls.clone();
    w.stop().unwrap();
    w.start(move |w| {
        bump(&c);
        w.stop().unwrap();
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(calls.get(), 4);

    // Closed: start is refused, stop is a no-op.
    w.close(|| {});
    assert_eq!(w.start(|_| {}), Err(Error::ClosedHandle));
    assert_eq!(w.stop(), Ok(()));
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(w.start(|_| {}), Err(Error::ClosedHandle));
    assert_eq!(w.stop(), Ok(()));
    teardown(&lp);
}

#[test]
fn idle_prepare_check_start_and_stop() {
    start_stop::<ruv::IdlePhase>();
    start_stop::<ruv::PreparePhase>();
    start_stop::<ruv::CheckPhase>();
}

fn start_twice<P: WatcherPhase>()
where
    Watcher<P>: Deref<Target = Handle>,
{
    let lp = Loop::with_manual_clock().unwrap();
    let w = Watcher::<P>::new(&lp);
    let calls = counter();
    let c = calls.clone();
    w.start(move |_| bump(&c)).unwrap();
    assert_eq!(
        w.start(|_| panic!("second start replaced the callback")),
        Ok(())
    );
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    // Not registered twice: one call per iteration.
    assert_eq!(calls.get(), 2);
    w.stop().unwrap();
    assert!(!w.is_active(), "one stop undoes the double start");
    assert!(!lp.alive());
    teardown(&lp);
}

#[test]
fn starting_a_started_watcher_does_nothing() {
    start_twice::<ruv::IdlePhase>();
    start_twice::<ruv::PreparePhase>();
    start_twice::<ruv::CheckPhase>();
}

#[test]
fn an_active_idle_makes_run_once_non_blocking() {
    let lp = Loop::with_manual_clock().unwrap();
    let fired = counter();
    let t = Timer::new(&lp);
    let f = fired.clone();
    t.start(1_000, 0, move |_| bump(&f)).unwrap();
    let idle = Idle::new(&lp);
    let spins = counter();
    let s = spins.clone();
    idle.start(move |_| bump(&s)).unwrap();
    // With the idle active, Once polls without blocking: a manual clock
    // would have jumped to the timer otherwise.
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    assert_eq!((spins.get(), fired.get(), lp.now()), (1, 0, 0));
    // Same for an unreferenced idle.
    idle.unref();
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    assert_eq!((spins.get(), fired.get(), lp.now()), (2, 0, 0));
    // Without it, Once sleeps until the timer.
    idle.stop().unwrap();
    assert_eq!(lp.run(RunMode::Once), Ok(false));
    assert_eq!((spins.get(), fired.get(), lp.now()), (2, 1, 1_000));
    teardown(&lp);
}

#[test]
fn a_busy_idle_does_not_starve_a_timer() {
    let lp = Loop::new().unwrap();
    let _wd = util::watchdog(&lp, 5_000);
    let idle = Idle::new(&lp);
    let spins = counter();
    let s = spins.clone();
    idle.start(move |_| bump(&s)).unwrap();
    let t = Timer::new(&lp);
    let fired = counter();
    let (f, i) = (fired.clone(), idle.clone());
    t.start(5, 0, move |t| {
        bump(&f);
        i.close(|| {});
        t.close(|| {});
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(fired.get(), 1);
    assert!(spins.get() >= 1);
    assert!(idle.is_closed() && t.is_closed());
    teardown(&lp);
}

// ------------------------------------------------------------------- async

#[test]
fn async_sender_is_send_sync_and_clone() {
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<AsyncSender>();
}

#[test]
fn async_callback_runs_after_a_send_from_another_thread() {
    let lp = Loop::new().unwrap();
    let _wd = util::watchdog(&lp, 5_000);
    let calls = counter();
    let c = calls.clone();
    let a = Async::new(&lp, move |a| {
        bump(&c);
        a.close(|| {});
    });
    assert!(a.is_active());
    let sender = a.sender().unwrap();
    let th = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2));
        sender.send()
    });
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(th.join().unwrap(), Ok(()));
    assert_eq!(calls.get(), 1);
    assert!(a.is_closed());
    teardown(&lp);
}

#[test]
fn sends_before_the_loop_runs_coalesce_into_one_callback() {
    let lp = Loop::new().unwrap();
    let _wd = util::watchdog(&lp, 5_000);
    let calls = counter();
    let c = calls.clone();
    let a = Async::new(&lp, move |_| bump(&c));
    let sender = a.sender().unwrap();
    std::thread::spawn(move || {
        for _ in 0..100 {
            sender.send().unwrap();
        }
    })
    .join()
    .unwrap();
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    assert_eq!(calls.get(), 1);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(calls.get(), 1, "nothing new was sent");
    // Sends from the loop thread coalesce too.
    a.send().unwrap();
    a.send().unwrap();
    let clone = a.sender().unwrap().clone();
    clone.send().unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(calls.get(), 2);
    teardown(&lp);
}

#[test]
fn a_send_wakes_a_blocked_run_once_even_without_callback() {
    let lp = Loop::new().unwrap();
    let _wd = util::watchdog(&lp, 5_000);
    let a = Async::without_callback(&lp);
    let sender = a.sender().unwrap();
    let th = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2));
        sender.send().unwrap();
    });
    // Blocks (no timer but the unreferenced watchdog) until the send.
    assert_eq!(lp.run(RunMode::Once), Ok(true));
    th.join().unwrap();
    teardown(&lp);
}

#[test]
fn an_async_keeps_the_loop_alive_until_closed_or_unreferenced() {
    let lp = Loop::with_manual_clock().unwrap();
    let a = Async::new(&lp, |_| panic!("never sent"));
    assert!(lp.alive());
    // Only I/O alive and no timer: the poll would block without limit.
    assert_eq!(lp.backend_timeout(), -1);
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    assert_eq!(lp.backend_timeout(), VIRTUAL_WATCHDOG_MS as i32);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    a.unref();
    assert!(!lp.alive());
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    a.ref_();
    assert!(lp.alive());
    let closed = counter();
    let c = closed.clone();
    a.close(move || bump(&c));
    assert!(!a.is_active());
    assert!(lp.alive(), "closing");
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert_eq!(closed.get(), 1);
    assert!(!lp.alive());
    assert_eq!(a.send(), Err(Error::ClosedHandle));
    assert_eq!(a.sender().map(drop), Err(Error::ClosedHandle));
    teardown(&lp);
}

#[test]
fn closing_while_another_thread_sends_in_a_tight_loop_is_safe() {
    let lp = Loop::new().unwrap();
    let _wd = util::watchdog(&lp, 5_000);
    let calls = counter();
    let c = calls.clone();
    let a = Async::new(&lp, move |a| {
        bump(&c);
        if c.get() == 3 {
            a.close(|| {});
        }
    });
    let sender = a.sender().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicBool::new(false));
    let th = {
        let (sender, sent, started) = (sender.clone(), sent.clone(), started.clone());
        std::thread::spawn(move || loop {
            started.store(true, Ordering::Release);
            match sender.send() {
                Ok(()) => {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => return e,
            }
        })
    };
    assert_eq!(lp.run(RunMode::Default), Ok(false));
    assert!(started.load(Ordering::Acquire));
    // The sender thread ends only through the closed-handle error.
    assert_eq!(th.join().unwrap(), Error::ClosedHandle);
    assert_eq!(calls.get(), 3);
    assert!(sent.load(Ordering::Relaxed) >= 3);
    assert_eq!(sender.send(), Err(Error::ClosedHandle));
    assert_eq!(sender.clone().send(), Err(Error::ClosedHandle));
    assert!(a.is_closed());
    teardown(&lp);
}

// -------------------------------------------------------------------- poll

type Reports = Rc<RefCell<Vec<Result<PollEvents, Error>>>>;

fn recording_poll(lp: &Loop, fd: i32, events: PollEvents) -> (Poll, Reports) {
    let p = Poll::new(lp, fd).unwrap();
    let reports: Reports = Rc::default();
    let r = reports.clone();
    p.start(events, move |_, ev| r.borrow_mut().push(ev))
        .unwrap();
    (p, reports)
}

fn take(r: &Reports) -> Vec<Result<PollEvents, Error>> {
    std::mem::take(&mut *r.borrow_mut())
}

#[test]
fn poll_reports_readable_once_per_iteration() {
    let lp = Loop::with_manual_clock().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let (p, reports) = recording_poll(&lp, a.as_raw_fd(), PollEvents::READABLE);
    assert!(p.is_active());
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&reports), [], "nothing written yet");
    b.write_all(b"hello").unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&reports), [Ok(PollEvents::READABLE)]);
    teardown(&lp);
}

#[test]
fn poll_started_after_the_data_arrived_reports_once_per_iteration() {
    let lp = Loop::with_manual_clock().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let p = Poll::new(&lp, a.as_raw_fd()).unwrap();
    b.write_all(b"hello").unwrap();
    let reports: Reports = Rc::default();
    let r = reports.clone();
    p.start(PollEvents::READABLE, move |_, ev| r.borrow_mut().push(ev))
        .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&reports), [Ok(PollEvents::READABLE)]);
    teardown(&lp);
}

#[test]
fn poll_is_level_triggered_until_the_data_is_read() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let a = Rc::new(RefCell::new(a));
    let p = Poll::new(&lp, a.borrow().as_raw_fd()).unwrap();
    let calls = counter();
    let read_now = Rc::new(Cell::new(false));
    let got: Rc<RefCell<Vec<u8>>> = Rc::default();
    let (c, rn, g, sock) = (calls.clone(), read_now.clone(), got.clone(), a.clone());
    p.start(PollEvents::READABLE, move |_, ev| {
        assert_eq!(ev, Ok(PollEvents::READABLE));
        bump(&c);
        if rn.get() {
            let mut buf = [0u8; 64];
            loop {
                match sock.borrow_mut().read(&mut buf) {
                    Ok(n) => g.borrow_mut().extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("read: {e}"),
                }
            }
        }
    })
    .unwrap();
    b.write_all(b"abc").unwrap();
    // Not read: reported again every iteration.
    for n in 1..=3 {
        assert_eq!(lp.run(RunMode::NoWait), Ok(true));
        assert_eq!(calls.get(), n);
    }
    // Read everything: no more reports.
    read_now.set(true);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(calls.get(), 4);
    assert_eq!(*got.borrow(), b"abc");
    for _ in 0..3 {
        assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    }
    assert_eq!(calls.get(), 4);
    // New data: reported again.
    b.write_all(b"de").unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(calls.get(), 5);
    assert_eq!(*got.borrow(), b"abcde");
    teardown(&lp);
}

/// The level-triggered contract stated without per-iteration counts: while
/// the data is not read, every iteration reports it; once it is read, no
/// iteration does.
#[test]
fn poll_stops_reporting_once_everything_is_read() {
    let lp = Loop::with_manual_clock().unwrap();
    let _wd = util::watchdog(&lp, VIRTUAL_WATCHDOG_MS);
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let a = Rc::new(RefCell::new(a));
    let p = Poll::new(&lp, a.borrow().as_raw_fd()).unwrap();
    let calls = counter();
    let read_now = Rc::new(Cell::new(false));
    let (c, rn, sock) = (calls.clone(), read_now.clone(), a.clone());
    p.start(PollEvents::READABLE, move |_, ev| {
        assert_eq!(ev, Ok(PollEvents::READABLE));
        bump(&c);
        if rn.get() {
            let mut buf = [0u8; 64];
            while sock.borrow_mut().read(&mut buf).is_ok() {}
        }
    })
    .unwrap();
    b.write_all(b"abc").unwrap();
    let mut last = 0;
    for _ in 0..3 {
        assert_eq!(lp.run(RunMode::NoWait), Ok(true));
        assert!(calls.get() > last, "not reported again while unread");
        last = calls.get();
    }
    read_now.set(true);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    let after_read = calls.get();
    assert!(after_read > last);
    for _ in 0..3 {
        assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    }
    assert_eq!(
        calls.get(),
        after_read,
        "reported after everything was read"
    );
    teardown(&lp);
}

#[test]
fn poll_reports_writable_once_per_iteration() {
    let lp = Loop::with_manual_clock().unwrap();
    let (a, _b) = UnixStream::pair().unwrap();
    let (_p, reports) = recording_poll(&lp, a.as_raw_fd(), PollEvents::WRITABLE);
    for _ in 0..3 {
        assert_eq!(lp.run(RunMode::NoWait), Ok(true));
        assert_eq!(take(&reports), [Ok(PollEvents::WRITABLE)]);
    }
    teardown(&lp);
}

/// Starts `p` for `events` with a callback that records its first report
/// and stops the handle, runs one iteration and returns what was reported.
fn first_report(lp: &Loop, p: &Poll, events: PollEvents) -> Vec<Result<PollEvents, Error>> {
    let reports: Reports = Rc::default();
    let r = reports.clone();
    p.start(events, move |p, ev| {
        r.borrow_mut().push(ev);
        p.stop().unwrap();
    })
    .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert!(!p.is_active());
    take(&reports)
}

#[test]
fn poll_reports_exactly_the_watched_events_that_are_ready() {
    let lp = Loop::with_manual_clock().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let p = Poll::new(&lp, a.as_raw_fd()).unwrap();
    let rw = PollEvents::READABLE | PollEvents::WRITABLE;
    assert_eq!(
        first_report(&lp, &p, PollEvents::WRITABLE),
        [Ok(PollEvents::WRITABLE)]
    );
    // Watching both with nothing to read: only WRITABLE.
    assert_eq!(first_report(&lp, &p, rw), [Ok(PollEvents::WRITABLE)]);
    b.write_all(b"x").unwrap();
    assert_eq!(first_report(&lp, &p, rw), [Ok(rw)]);
    // Writable too, but not watched: only READABLE.
    assert_eq!(
        first_report(&lp, &p, PollEvents::READABLE),
        [Ok(PollEvents::READABLE)]
    );
    teardown(&lp);
}

#[test]
fn a_hangup_is_reported_as_the_watched_events_when_none_is_ready() {
    // libuv (src/unix/linux.c) merges the watched events into a lone
    // hangup, so a handle watching only PRIORITIZED learns that the peer
    // is gone; DISCONNECT, when watched, is reported instead.
    let lp = Loop::with_manual_clock().unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    let (p, reports) = recording_poll(&lp, a.as_raw_fd(), PollEvents::PRIORITIZED);
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&reports), [], "no urgent data, peer still there");
    drop(b);
    assert_eq!(
        first_report(&lp, &p, PollEvents::PRIORITIZED),
        [Ok(PollEvents::PRIORITIZED)]
    );
    let pd = PollEvents::PRIORITIZED | PollEvents::DISCONNECT;
    assert_eq!(first_report(&lp, &p, pd), [Ok(PollEvents::DISCONNECT)]);
    teardown(&lp);
}

#[test]
fn several_polls_on_one_fd_but_only_one_watches_at_a_time() {
    let lp = Loop::with_manual_clock().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let fd = a.as_raw_fd();
    // Stopped handles for one descriptor: as many as wanted (libuv's
    // test-poll-multiple-handles).
    let first = Poll::new(&lp, fd).unwrap();
    let second = Poll::new(&lp, fd).unwrap();
    let (first_seen, second_seen): (Reports, Reports) = Default::default();
    let r = first_seen.clone();
    first
        .start(PollEvents::READABLE, move |_, ev| r.borrow_mut().push(ev))
        .unwrap();
    // While one watches, another can neither start nor be created, and the
    // refused one stays stopped.
    let r = second_seen.clone();
    assert_eq!(
        second.start(PollEvents::READABLE, move |_, ev| r.borrow_mut().push(ev)),
        Err(Error::Status(StatusCode::EEXIST))
    );
    assert!(!second.is_active());
    assert_eq!(
        Poll::new(&lp, fd).map(drop),
        Err(Error::Status(StatusCode::EEXIST))
    );
    assert_eq!(
        lp.handle_count(),
        2,
        "the failed handle left nothing behind"
    );
    // The watching one may change its events.
    first
        .start(PollEvents::READABLE | PollEvents::WRITABLE, |_, _| {})
        .unwrap();
    // Once it stops, the other watches, and only it gets the events.
    first.stop().unwrap();
    let r = second_seen.clone();
    second
        .start(PollEvents::READABLE, move |_, ev| r.borrow_mut().push(ev))
        .unwrap();
    assert_eq!(
        first.start(PollEvents::READABLE, |_, _| {}),
        Err(Error::Status(StatusCode::EEXIST))
    );
    b.write_all(b"x").unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&second_seen), [Ok(PollEvents::READABLE)]);
    assert_eq!(take(&first_seen), []);
    // Closing the watching one frees the descriptor at once.
    second.close(|| {});
    let r = first_seen.clone();
    first
        .start(PollEvents::READABLE, move |_, ev| r.borrow_mut().push(ev))
        .unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&first_seen), [Ok(PollEvents::READABLE)]);
    assert_eq!(take(&second_seen), []);
    teardown(&lp);
}

#[test]
fn poll_new_on_a_regular_file_is_eperm_and_on_a_bad_fd_ebadf() {
    let lp = Loop::with_manual_clock().unwrap();
    let file = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
    assert_eq!(
        Poll::new(&lp, file.as_raw_fd()).map(drop),
        Err(Error::Status(StatusCode::EPERM))
    );
    assert_eq!(
        Poll::new(&lp, -1).map(drop),
        Err(Error::Status(StatusCode::EBADF))
    );
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

#[test]
fn poll_stop_stops_reports_and_fileno_is_the_fd() {
    let lp = Loop::with_manual_clock().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let (p, reports) = recording_poll(&lp, a.as_raw_fd(), PollEvents::READABLE);
    assert_eq!(p.fileno(), Ok(a.as_raw_fd()));
    assert_eq!(p.handle_type(), ruv::HandleType::Poll);
    assert_eq!(p.stop(), Ok(()));
    assert!(!p.is_active());
    assert!(!lp.alive());
    assert_eq!(p.stop(), Ok(()), "stopping a stopped poll handle");
    b.write_all(b"x").unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(take(&reports), []);
    // Started again (the data is still unread) and stopped from its own
    // callback: one report, then none.
    let calls = counter();
    let c = calls.clone();
    p.start(PollEvents::READABLE, move |p, ev| {
        assert_eq!(ev, Ok(PollEvents::READABLE));
        bump(&c);
        p.stop().unwrap();
    })
    .unwrap();
    assert!(p.is_active());
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(calls.get(), 1);
    assert!(!p.is_active());
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert_eq!(calls.get(), 1);
    assert_eq!(
        p.fileno(),
        Ok(a.as_raw_fd()),
        "a stopped handle keeps its fd"
    );
    p.close(|| {});
    assert_eq!(p.fileno(), Err(Error::ClosedHandle));
    assert_eq!(
        p.start(PollEvents::READABLE, |_, _| {}),
        Err(Error::ClosedHandle)
    );
    assert_eq!(p.stop(), Ok(()));
    assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    assert!(p.is_closed());
    assert_eq!(p.stop(), Ok(()));
    teardown(&lp);
}

#[test]
fn a_check_handle_has_no_fileno() {
    let lp = Loop::with_manual_clock().unwrap();
    let c = Check::new(&lp);
    let pr = Prepare::new(&lp);
    assert_eq!(c.fileno(), Err(Error::Status(StatusCode::EINVAL)));
    assert_eq!(pr.fileno(), Err(Error::Status(StatusCode::EINVAL)));
    teardown(&lp);
}

/// Makes descriptor number `fd` refer to `with`'s socket instead, as when
/// the application closes `fd` and its number comes back for a new socket
/// (`dup2` does both at once, so no other test can take the number between).
fn reuse_number(fd: RawFd, with: impl IntoRawFd) -> OwnedFd {
    let new = with.into_raw_fd();
    // SAFETY: both descriptors are open; `dup2` closes `fd` and makes it
    // refer to `new`'s socket, atomically.
    assert_eq!(unsafe { libc::dup2(new, fd) }, fd);
    // SAFETY: `new` came from `into_raw_fd`: this is its only owner.
    drop(unsafe { OwnedFd::from_raw_fd(new) });
    // SAFETY: `fd`'s previous owner gave it up with `into_raw_fd`; it now
    // refers to the new socket and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A poll handle's descriptor closed behind its back (against the rules)
/// whose number now belongs to a UDP handle's socket: restarting or
/// stopping the poll handle must not take over or remove the UDP handle's
/// registration, which would leave it deaf.
#[test]
fn a_poll_on_a_closed_descriptor_leaves_the_reused_number_alone() {
    let lp = Loop::with_manual_clock().unwrap();
    let fd = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .into_raw_fd();
    let p = Poll::new(&lp, fd).unwrap();
    p.start(PollEvents::READABLE, |_, _| {}).unwrap();
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    let udp = ruv::Udp::from_socket(&lp, reuse_number(fd, rx)).unwrap();
    assert_eq!(udp.fileno(), Ok(fd));
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    udp.receive_start(move |_, r| g.borrow_mut().push(r.unwrap().data.to_vec()))
        .unwrap();
    // The number is the UDP handle's now: the poll handle cannot have it.
    assert_eq!(
        p.start(PollEvents::READABLE | PollEvents::WRITABLE, |_, _| {}),
        Err(Error::Status(StatusCode::EEXIST))
    );
    assert!(!p.is_active());
    p.stop().unwrap();
    p.close(|| {});
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(b"still heard", to).unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(*got.borrow(), [b"still heard".to_vec()]);
    teardown(&lp);
}

/// The same with a second poll handle on the reused number: the first
/// one's stop leaves the second one watching.
#[test]
fn a_poll_on_a_closed_descriptor_does_not_stop_the_next_poll_on_its_number() {
    let lp = Loop::with_manual_clock().unwrap();
    let (a, _a_peer) = UnixStream::pair().unwrap();
    let fd = a.into_raw_fd();
    let first = Poll::new(&lp, fd).unwrap();
    first.start(PollEvents::READABLE, |_, _| {}).unwrap();
    let (b, mut b_peer) = UnixStream::pair().unwrap();
    let _b = reuse_number(fd, b);
    let (second, reports) = recording_poll(&lp, fd, PollEvents::READABLE);
    first.stop().unwrap();
    first.close(|| {});
    b_peer.write_all(b"x").unwrap();
    assert_eq!(lp.run(RunMode::NoWait), Ok(true));
    assert_eq!(take(&reports), [Ok(PollEvents::READABLE)]);
    second.close(|| {});
    teardown(&lp);
}
