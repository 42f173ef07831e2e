//! Random sequences of stream operations with exact byte accounting: every
//! byte of a write that reported success is read exactly once, in order,
//! by the peer; a close in the middle cancels the rest, and the peer then
//! reads a prefix of what was written that holds every successful write.

mod util;

use proptest::prelude::*;
use ruv::{Error, Loop, ReadResult, RunMode, StatusCode, Tcp};
use util::tcp::{finish, pair, pattern, run_until};
use util::{shared, Shared};

#[derive(Clone, Debug)]
enum Op {
    Write(usize),
    WriteOwned(usize, usize),
    TryWrite(usize),
    Spin,
    ToggleReading,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..200_000).prop_map(Op::Write),
        (0usize..200_000, 1usize..5).prop_map(|(n, k)| Op::WriteOwned(n, k)),
        (1usize..100_000).prop_map(Op::TryWrite),
        Just(Op::Spin),
        Just(Op::ToggleReading),
    ]
}

/// A request's end offset in what was sent, and its callback's status
/// once it ran.
type Outcome = (usize, Option<Result<(), Error>>);

/// The peer's reader: bytes and whether the end came.
fn start_reading(tcp: &Tcp, into: &Shared<(Vec<u8>, bool)>) {
    let into = into.clone();
    tcp.read_start(move |_, read| match read {
        ReadResult::Data(d) => into.borrow_mut().0.extend_from_slice(d),
        ReadResult::Eof | ReadResult::Error(_) => into.borrow_mut().1 = true,
    })
    .unwrap();
}

fn run(ops: &[Op], close_at_end: bool) {
    let lp = Loop::new().unwrap();
    let (peer, tcp) = pair(&lp);
    let got = shared((Vec::new(), false));
    start_reading(&peer, &got);
    let mut reading = true;
    let mut sent = Vec::new();
    let outcomes: Shared<Vec<Outcome>> = shared(Vec::new());
    let mut seed = 1;
    for op in ops {
        seed += 1;
        let mut request = |data: Vec<u8>, owned: Option<usize>| {
            sent.extend_from_slice(&data);
            let index = outcomes.borrow().len();
            outcomes.borrow_mut().push((sent.len(), None));
            let o = outcomes.clone();
            let cb = move |_: &Tcp, s: Result<(), Error>| o.borrow_mut()[index].1 = Some(s);
            match owned {
                None => tcp.write(&[&data], cb).unwrap(),
                Some(k) => {
                    let at = data.len() / k;
                    let bufs = vec![data[..at].to_vec(), data[at..].to_vec()];
                    tcp.write_owned(bufs, cb).unwrap()
                }
            }
        };
        match *op {
            Op::Write(n) => request(pattern(n, seed), None),
            Op::WriteOwned(n, k) => request(pattern(n, seed), Some(k)),
            Op::TryWrite(n) => {
                let data = pattern(n, seed);
                match tcp.try_write(&[&data]) {
                    Ok(k) => {
                        sent.extend_from_slice(&data[..k]);
                        // Bytes written at once count as a finished request.
                        outcomes.borrow_mut().push((sent.len(), Some(Ok(()))));
                    }
                    Err(e) => assert_eq!(e, Error::Status(StatusCode::EAGAIN)),
                }
            }
            Op::Spin => {
                lp.run(RunMode::NoWait).unwrap();
            }
            Op::ToggleReading => {
                if reading {
                    peer.read_stop();
                } else {
                    start_reading(&peer, &got);
                }
                reading = !reading;
            }
        }
    }
    if !reading {
        start_reading(&peer, &got);
    }
    if close_at_end {
        tcp.close(|| {});
    } else {
        tcp.shutdown(|_, s| s.unwrap()).unwrap();
    }
    run_until(&lp, || got.borrow().1);
    let outcomes = outcomes.borrow();
    assert!(
        outcomes.iter().all(|(_, s)| s.is_some()),
        "every callback ran"
    );
    let ok_end = outcomes
        .iter()
        .take_while(|(_, s)| *s == Some(Ok(())))
        .last()
        .map_or(0, |(end, _)| *end);
    let got = &got.borrow().0;
    if close_at_end {
        assert!(outcomes
            .iter()
            .skip_while(|(_, s)| *s == Some(Ok(())))
            .all(|(_, s)| *s == Some(Err(Error::Status(StatusCode::ECANCELED)))));
        assert!(got.len() >= ok_end, "every successful write arrived");
        assert!(
            sent.starts_with(got),
            "a prefix of what was written, in order"
        );
    } else {
        assert_eq!(ok_end, sent.len());
        assert!(*got == sent, "every byte once, in order");
    }
    if !close_at_end {
        tcp.close(|| {});
    }
    finish(&lp, &[&peer]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_stream_operations_account_for_every_byte(
        ops in proptest::collection::vec(op(), 0..40),
        close_at_end in any::<bool>(),
    ) {
        run(&ops, close_at_end);
    }
}
