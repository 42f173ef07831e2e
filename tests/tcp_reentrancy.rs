//! Callbacks that close, stop or restart their own TCP handle, callbacks
//! whose captures call into the loop when dropped, and panics: the loop
//! stays consistent (no borrow is held while user code runs).

mod util;

use ruv::{Error, Loop, ReadResult, RunMode, StatusCode, Tcp};
use std::panic::{catch_unwind, AssertUnwindSafe};
use util::shared;
use util::tcp::{collect, finish, pair, pattern, run_until};

#[test]
fn closing_inside_a_read_callback_ends_the_reads_at_once() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    client.write(&[&pattern(1 << 20, 1)], |_, _| {}).unwrap();
    let calls = shared(0);
    let c = calls.clone();
    server
        .read_start(move |tcp, _| {
            *c.borrow_mut() += 1;
            tcp.close(|| {});
        })
        .unwrap();
    run_until(&lp, || server.is_closed());
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*calls.borrow(), 1);
    finish(&lp, &[&client]);
}

#[test]
fn closing_inside_a_write_callback_cancels_the_writes_behind_it() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let log = shared(Vec::new());
    let big = vec![0u8; 32 << 20];
    let l = log.clone();
    client
        .write(&[b"small"], move |tcp, s| {
            l.borrow_mut().push(("small", s));
            tcp.close(|| {});
        })
        .unwrap();
    let l = log.clone();
    client
        .write(&[&big], move |_, s| l.borrow_mut().push(("big", s)))
        .unwrap();
    run_until(&lp, || client.is_closed());
    assert_eq!(log.borrow()[0], ("small", Ok(())));
    assert_eq!(log.borrow().len(), 2, "the big write reported once");
    assert_eq!(
        log.borrow()[1],
        ("big", Err(Error::Status(StatusCode::ECANCELED)))
    );
    finish(&lp, &[&server]);
}

#[test]
fn restarting_reading_inside_the_callback_loses_nothing() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let data = pattern(2 << 20, 4);
    client.write(&[&data], |_, s| s.unwrap()).unwrap();
    client.shutdown(|_, s| s.unwrap()).unwrap();
    let got = shared(Vec::new());
    let eof = shared(false);
    fn restart(tcp: &Tcp, got: util::Shared<Vec<u8>>, eof: util::Shared<bool>) {
        tcp.read_start(move |tcp, read| match read {
            ReadResult::Data(d) => {
                got.borrow_mut().extend_from_slice(d);
                tcp.read_stop();
                restart(tcp, got.clone(), eof.clone());
            }
            ReadResult::Eof => *eof.borrow_mut() = true,
            ReadResult::Error(e) => panic!("{e}"),
        })
        .unwrap();
    }
    restart(&server, got.clone(), eof.clone());
    run_until(&lp, || *eof.borrow());
    assert!(*got.borrow() == data);
    finish(&lp, &[&server, &client]);
}

/// A value that closes a handle when dropped: a callback's capture that
/// calls into the loop from `Drop`.
struct CloseOnDrop(Tcp);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close(|| {});
    }
}

#[test]
fn callbacks_dropped_by_stop_close_or_failure_may_call_into_the_loop() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let victims: Vec<Tcp> = (0..5).map(|_| Tcp::new(&lp)).collect();
    // Dropped by read_stop.
    let v = CloseOnDrop(victims[0].clone());
    server
        .read_start(move |_, _| {
            let _ = &v;
        })
        .unwrap();
    server.read_stop();
    // Dropped by a failed call.
    let v = CloseOnDrop(victims[1].clone());
    assert!(server
        .connect("127.0.0.1:1".parse().unwrap(), move |_, _| {
            let _ = &v;
        })
        .is_err());
    let v = CloseOnDrop(victims[2].clone());
    assert!(Tcp::new(&lp)
        .write(&[b"x"], move |_, _| {
            let _ = &v;
        })
        .is_err());
    // Dropped by close (reading) and by the closing phase (a write).
    let v = CloseOnDrop(victims[3].clone());
    client
        .read_start(move |_, _| {
            let _ = &v;
        })
        .unwrap();
    let v = CloseOnDrop(victims[4].clone());
    client
        .write(&[b"y"], move |_, _| {
            let _ = &v;
        })
        .unwrap();
    client.close(|| {});
    server.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert!(victims.iter().all(|v| v.is_closed()));
    lp.walk(|h| h.close(|| {}));
    finish(&lp, &[]);
}

#[test]
fn a_panicking_write_callback_leaves_the_others_for_the_next_run() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let log = shared(Vec::new());
    client
        .write(&[b"a"], |_, _| panic!("write callback"))
        .unwrap();
    let l = log.clone();
    client
        .write(&[b"b"], move |_, s| l.borrow_mut().push(s))
        .unwrap();
    let unwound = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::NoWait)));
    assert!(unwound.is_err());
    assert!(log.borrow().is_empty());
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*log.borrow(), [Ok(())]);
    let got = collect(&server);
    run_until(&lp, || got.borrow().data.len() == 2);
    assert_eq!(got.borrow().data, b"ab");
    finish(&lp, &[&server, &client]);
}
