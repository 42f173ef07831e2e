//! Robustness: defects a review found in the first version of the core
//! (commit 2bf5a90), each pinned by a test that asserts libuv's behaviour or
//! ruv's documented contract. The comment above each test says what went
//! wrong then and how it was fixed.

use ruv::{Check, Error, Loop, Poll, PollEvents, Prepare, RunMode, StatusCode, Timer, Udp};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

fn sink() -> (std::net::UdpSocket, SocketAddr) {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let a = s.local_addr().unwrap();
    (s, a)
}

fn run_catching(lp: &Loop) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lp.run(RunMode::NoWait))).is_err()
}

// ---------------------------------------------------------------------------
// 1. Hang after a caught panic. ARCHITECTURE.md says only the panicking
// callback is lost and the loop stays usable. But the pending phase takes the
// whole `pending` list (src/core/run.rs:103, std::mem::replace) and
// `run_completions` clears a handle's `in_pending` only when its turn comes
// (src/udp/send.rs:282). When an earlier send callback unwinds, every later
// handle of that round keeps `in_pending == true`, so `complete`
// (src/udp/send.rs:235) never queues it again: none of its send callbacks —
// past or future — ever run, `active_reqs` stays > 0 and backend_timeout is
// -1, so `run(Default)` blocks forever.
// Fix: clear `in_pending` for all taken keys before running any callback, or
// use a drop guard that on unwind pushes the unprocessed keys back onto
// `st.pending` (same guard for the two findings below).
#[test]
fn a_panicking_send_callback_does_not_strand_other_handles_sends() {
    let lp = Loop::new().unwrap();
    let (_s, dst) = sink();
    let a = Udp::new(&lp);
    let b = Udp::new(&lp);
    let b_reports = Rc::new(Cell::new(0));
    a.send(&[b"a"], Some(dst), |_, _| {
        panic!("user bug in a send callback")
    })
    .unwrap();
    let r = b_reports.clone();
    b.send(&[b"b"], Some(dst), move |_, _| r.set(r.get() + 1))
        .unwrap();
    assert!(run_catching(&lp), "the callback panicked");
    let r = b_reports.clone();
    b.send(&[b"c"], Some(dst), move |_, _| r.set(r.get() + 1))
        .unwrap();
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(
        b_reports.get(),
        2,
        "b's send callbacks never ran; send_queue_count = {:?}, backend_timeout = {}",
        b.send_queue_count(),
        lp.backend_timeout()
    );
    a.close(|| {});
    b.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

// 1b. Same cause in `run_closing` (src/core/run.rs:148 swaps the `closing`
// list out): handles closed in the same round as one whose close callback
// panics never finish closing — no close callback, no UDP ECANCELED send
// callbacks, the slot and the callbacks leak, `Loop::close` is EBUSY forever.
// Fix: drop guard that puts the unprocessed keys back on `st.closing`.
#[test]
fn a_panicking_close_callback_does_not_strand_the_other_closing_handles() {
    let lp = Loop::new().unwrap();
    let a = Timer::new(&lp);
    let b = Timer::new(&lp);
    let b_closed = Rc::new(Cell::new(false));
    let f = b_closed.clone();
    b.close(move || f.set(true));
    a.close(|| panic!("user bug in a close callback")); // runs first (LIFO)
    assert!(run_catching(&lp), "the callback panicked");
    lp.run(RunMode::NoWait).unwrap();
    assert!(b_closed.get(), "b's close callback never ran");
    assert!(b.is_closed());
    assert_eq!(lp.close(), Ok(()));
}

// 1c. Same cause in `run_timers` (src/core/run.rs:162 takes `timers_due`;
// src/timer.rs:177 `mark_due` already made each due timer inactive and took
// it off the heap): a due timer after the panicking one never fires, is never
// re-armed although it repeats, and reports inactive though never stopped.
// Fix: on unwind, re-push the unfired due timers (keep `due_now`, put them
// back into `timers_due` / the heap for the next timer phase).
#[test]
fn a_panicking_timer_callback_does_not_lose_the_other_due_timers() {
    let lp = Loop::with_manual_clock().unwrap();
    let a = Timer::new(&lp);
    let b = Timer::new(&lp);
    let b_fired = Rc::new(Cell::new(0));
    a.start(1, 0, |_| panic!("user bug in a timer callback"))
        .unwrap();
    let f = b_fired.clone();
    b.start(1, 10, move |_| f.set(f.get() + 1)).unwrap();
    lp.advance(Duration::from_millis(1)).unwrap();
    assert!(run_catching(&lp), "the callback panicked");
    for _ in 0..3 {
        lp.advance(Duration::from_millis(10)).unwrap();
        lp.run(RunMode::NoWait).unwrap();
    }
    assert!(b.is_active(), "b repeats and was never stopped");
    assert!(b_fired.get() >= 1, "b never fired");
    a.close(|| {});
    b.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

// ---------------------------------------------------------------------------
// 2. Late timers (phase order). libuv 1.45+ `uv_run` calls
// `uv__update_time(loop)` right before `uv__run_timers(loop)` at the end of
// every iteration. ruv reads the clock once, after the poll
// (src/core/run.rs:88-89: run_closing(); run_timers(); with no update_time),
// so a timer that fell due while check/close callbacks ran does not fire in
// this iteration, and the next poll even sleeps for the stale remainder
// (`due - now_ms` from the stale now). Timers fire late by up to the time
// spent in check + closing. ARCHITECTURE.md lists this as deliberate, but it
// contradicts libuv and DESIGN.md ("closing → update time → timers").
// Fix: `self.update_time();` just before `self.run_timers();` in the loop
// body (the manual clock is unaffected: update_time reads the manual time).
#[test]
fn timers_see_the_time_spent_in_check_and_close_callbacks() {
    let lp = Loop::new().unwrap();
    lp.update_time();
    let fired = Rc::new(Cell::new(false));
    let t = Timer::new(&lp);
    let f = fired.clone();
    t.start(5, 0, move |_| f.set(true)).unwrap();
    let check = Check::new(&lp);
    check
        .start(|c| {
            std::thread::sleep(Duration::from_millis(30));
            c.stop().unwrap();
        })
        .unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert!(
        fired.get(),
        "a 5 ms timer did not fire after a 30 ms check callback in the same iteration"
    );
    t.close(|| {});
    check.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

// ---------------------------------------------------------------------------
// 3. uv_loop_alive / run() return value. A UDP send that completes after the
// post-poll pending rounds (here: in a check callback) puts the handle's key
// on `pending`; closing the handle in the same iteration reports the send in
// the closing phase but leaves the stale key on `pending`
// (src/udp/mod.rs:421 `stop_for_close` does not remove it), and
// `alive()` counts `!pending.is_empty()` (src/core/state.rs:276). So
// `alive()` and `run(NoWait/Once)` return true although nothing is left, and
// the next poll timeout is forced to 0 (src/core/state.rs:265). libuv's
// `uv__io_close` removes the watcher from the pending queue.
// Fix: in udp::stop_for_close, if `send.in_pending`, remove the key from
// `st.pending` (finish_close already reports `completed`).
#[test]
fn closing_a_handle_with_an_unreported_send_leaves_the_loop_dead() {
    let lp = Loop::new().unwrap();
    let (_s, dst) = sink();
    let tx = Udp::new(&lp);
    let reported = Rc::new(Cell::new(false));
    let check = Check::new(&lp);
    let (tx2, r) = (tx.clone(), reported.clone());
    check
        .start(move |c| {
            let r = r.clone();
            tx2.send(&[b"x"], Some(dst), move |_, st| {
                st.unwrap();
                r.set(true);
            })
            .unwrap();
            tx2.close(|| {});
            c.close(|| {});
        })
        .unwrap();
    let alive = lp.run(RunMode::NoWait).unwrap();
    assert!(tx.is_closed() && check.is_closed() && reported.get());
    assert_eq!(lp.handle_count(), 0);
    assert!(!lp.alive(), "uv_loop_alive must be false: nothing is left");
    assert!(!alive, "run(NoWait) must return false");
}

// ---------------------------------------------------------------------------
// 4. Poll handles never report UV_DISCONNECT for a peer's half-close. libuv
// maps UV_DISCONNECT to EPOLLRDHUP. ruv's level-triggered emulation re-asks
// poll(2) without POLLRDHUP in `events` (src/sys/mod.rs:51), so the kernel
// never returns it and only a full POLLHUP maps to DISCONNECT
// (src/sys/mod.rs:79).
// Fix: pass "DISCONNECT wanted" to `poll_now` and add `libc::POLLRDHUP` to
// `events` then.
#[test]
fn poll_reports_disconnect_when_the_peer_shuts_down_writing() {
    let lp = Loop::new().unwrap();
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    b.shutdown(std::net::Shutdown::Write).unwrap();
    let poll = Poll::new(&lp, a.as_raw_fd()).unwrap();
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    poll.start(
        PollEvents::READABLE | PollEvents::DISCONNECT,
        move |p, ev| {
            *g.borrow_mut() = Some(ev);
            p.close(|| {});
        },
    )
    .unwrap();
    let dog = Timer::new(&lp);
    dog.unref();
    dog.start(2000, 0, |t| t.get_loop().stop()).unwrap();
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    if !poll.is_closing() {
        poll.close(|| {});
    }
    lp.run(RunMode::Default).unwrap();
    assert_eq!(
        *got.borrow(),
        Some(Ok(PollEvents::READABLE | PollEvents::DISCONNECT))
    );
    drop((a, b));
}

// ---------------------------------------------------------------------------
// 5. Busy loop on the manual clock. A referenced timer whose due time the
// manual clock cannot represent (> u64::MAX ns ≈ 1.8e13 ms, e.g. the
// `u64::MAX` "never" timeout that tests/timers.rs pins as never firing) makes
// every iteration poll with 0 (src/core/run.rs:195) and "jump" to a time it
// cannot reach (src/core/run.rs:226, src/core/clock.rs:40 saturates
// `ms * 1_000_000`): `run(Default)` spins at 100% CPU instead of blocking as
// the system-clock loop (and libuv) does.
// Fix: take the virtual-sleep path only when the jump reaches the due time
// (`due <= u64::MAX / 1_000_000`); otherwise poll with the real timeout.
#[test]
fn manual_clock_does_not_spin_on_an_unreachable_timer() {
    let lp = Loop::with_manual_clock().unwrap();
    let never = Timer::new(&lp);
    never.start(u64::MAX, 0, |_| {}).unwrap();
    let iterations = Rc::new(Cell::new(0u64));
    let prep = Prepare::new(&lp);
    let (i, n) = (iterations.clone(), never.clone());
    prep.start(move |p| {
        i.set(i.get() + 1);
        if i.get() >= 10_000 {
            // Give up: the loop is spinning.
            n.close(|| {});
            p.close(|| {});
        }
    })
    .unwrap();
    prep.unref();
    // End the wait from another thread after 300 ms.
    let wake = ruv::Async::new(&lp, {
        let (n, p) = (never.clone(), prep.clone());
        move |a| {
            n.close(|| {});
            p.close(|| {});
            a.close(|| {});
        }
    });
    wake.unref();
    let sender = wake.sender().unwrap();
    let th = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let _ = sender.send();
    });
    lp.run(RunMode::Default).unwrap();
    th.join().unwrap();
    if !wake.is_closing() {
        wake.close(|| {});
    }
    lp.run(RunMode::Default).unwrap();
    assert!(
        iterations.get() < 100,
        "{} loop iterations while waiting 300 ms for nothing",
        iterations.get()
    );
}

// ---------------------------------------------------------------------------
// 6. Poll handles: libuv's `uv__poll_io` reports UV_EBADF and stops the
// handle whenever epoll reports POLLERR without POLLPRI, readiness or not.
// ruv reports EBADF only for "POLLERR and neither readable nor writable"
// (src/poll.rs:198), so a socket with a pending error (ICMP port unreachable
// on a connected UDP socket) is reported as plain WRITABLE and stays active.
// ARCHITECTURE.md claims "as libuv does".
// Fix: `r.invalid || (r.error && !r.priority)`.
#[test]
fn poll_reports_ebadf_on_pollerr_like_libuv() {
    let lp = Loop::new().unwrap();
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(dead_addr).unwrap();
    sock.send(b"x").unwrap();
    std::thread::sleep(Duration::from_millis(50)); // the ICMP error arrives
    let poll = Poll::new(&lp, sock.as_raw_fd()).unwrap();
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    poll.start(PollEvents::READABLE | PollEvents::WRITABLE, move |p, ev| {
        *g.borrow_mut() = Some((ev, p.is_active()));
        p.close(|| {});
    })
    .unwrap();
    lp.run(RunMode::Default).unwrap();
    assert_eq!(
        *got.borrow(),
        Some((Err(Error::Status(StatusCode::EBADF)), false))
    );
}

// ---------------------------------------------------------------------------
// 7. RefCell double borrow through user trait impls (a panic from safe
// code). `send`/`try_send` call the caller's `AsRef<[u8]>` impl while the loop
// state is mutably borrowed (src/udp/send.rs:139 sizes, :148 and :196
// `sys::send_msg(fd, bufs, ..)`, :155 `gather`); an impl that merely reads
// `Loop::now()` panics "already mutably borrowed". `Udp::open`/`from_socket`
// do the same with the caller's `AsFd` and `Into<OwnedFd>`
// (src/udp/mod.rs:158, :178).
// Fix: before borrowing, map the buffers to plain `&[u8]` (an inline array
// or SmallVec of slices) and the socket to an `OwnedFd`; only those enter
// the borrowed section.
#[test]
fn a_buffer_whose_as_ref_reads_the_loop_does_not_panic() {
    struct Buf(Loop, Vec<u8>);
    impl AsRef<[u8]> for Buf {
        fn as_ref(&self) -> &[u8] {
            let _ = self.0.now();
            &self.1
        }
    }
    let lp = Loop::new().unwrap();
    let (_s, dst) = sink();
    let udp = Udp::new(&lp);
    let buf = Buf(lp.clone(), b"hello".to_vec());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        udp.send(&[buf], Some(dst), |_, st| st.unwrap()).map(drop)
    }));
    assert!(
        matches!(r, Ok(Ok(()))),
        "send panicked (RefCell already borrowed) or failed"
    );
    udp.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

// ---------------------------------------------------------------------------
// An async wakeup seen in the same poll as a datagram whose receive callback
// panicked was lost for good: the poll phase kept it in a local, the unwind
// skipped the async dispatch, and the handle's pending flag stayed set so no
// later send woke the loop again. Fixed: the wakeup is kept in the loop
// state until the async callbacks have run.
#[test]
fn async_wakeup_survives_panic_in_io_callback_of_same_poll() {
    use ruv::Async;
    use std::panic::{self, AssertUnwindSafe};
    fn bound(lp: &Loop) -> (Udp, SocketAddr) {
        let u = Udp::new(lp);
        u.bind("127.0.0.1:0".parse().unwrap(), ruv::UdpFlags::empty())
            .unwrap();
        let a = u.sockname().unwrap();
        (u, a)
    }
    let lp = Loop::new().unwrap();
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    let wakeup = Async::new(&lp, move |_| f.set(f.get() + 1));
    let (rx, addr) = bound(&lp);
    rx.receive_start(|_, _| panic!("user callback panics"))
        .unwrap();
    let (tx, _) = bound(&lp);
    tx.try_send(&[b"x"], Some(addr)).unwrap();
    wakeup.send().unwrap();
    std::thread::sleep(Duration::from_millis(20));

    // One poll sees both the datagram and the wakeup; the receive callback
    // panics.
    let r = panic::catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::NoWait)));
    assert!(r.is_err(), "the receive callback should have panicked");
    rx.receive_stop().unwrap();

    // The wakeup was sent before the panic: it must still be delivered.
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    // Even a fresh send no longer wakes the loop.
    wakeup.send().unwrap();
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    let n = fired.get();
    rx.close(|| {});
    tx.close(|| {});
    wakeup.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(n, 2, "the wakeup sent before the panic, then the fresh one");
}
