//! The table of loops that receive signals holds 128: the boundaries of
//! that capacity (its own test binary, so no other test holds a slot).

use ruv::{Error, Loop, Signal, StatusCode};

#[test]
fn up_to_128_loops_watch_signals_and_a_freed_slot_is_reused() {
    let signum = libc::SIGRTMIN() + 20;
    let mut loops = Vec::new();
    for n in 0..128 {
        let lp = Loop::new().unwrap();
        let s = Signal::new(&lp);
        assert_eq!(s.start(signum, |_, _| {}), Ok(()), "loop {n}");
        loops.push((lp, s));
    }
    // One past the capacity: refused, and the handle stays stopped.
    let extra = Loop::new().unwrap();
    let s = Signal::new(&extra);
    assert_eq!(
        s.start(signum, |_, _| {}),
        Err(Error::Status(StatusCode::ENOSPC))
    );
    assert!(!s.is_active());
    assert_eq!(s.signum(), 0);
    // A loop that goes away gives its slot back.
    let (lp, first) = loops.remove(0);
    first.close(|| {});
    lp.run(ruv::RunMode::Default).unwrap();
    lp.close().unwrap();
    drop(lp);
    assert_eq!(s.start(signum, |_, _| {}), Ok(()));
    s.close(|| {});
    extra.run(ruv::RunMode::Default).unwrap();
    for (lp, s) in loops {
        s.close(|| {});
        lp.run(ruv::RunMode::Default).unwrap();
    }
}
