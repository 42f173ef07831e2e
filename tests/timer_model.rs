//! Model test of timers on the manual clock: random sequences of start,
//! stop, again, set_repeat and advance + run(NoWait) over a few timers,
//! checked against a small model of libuv's timer semantics:
//!
//! - `start(timeout, repeat)` arms the timer at `now + timeout` with a new
//!   start sequence number; `stop` disarms it.
//! - `again` is EINVAL for a timer never started; with a repeat it re-arms
//!   the timer at `now + repeat` (new sequence number), else does nothing.
//! - A timer phase first takes every timer due at `now` off the heap, in
//!   (due, sequence) order; then, for each, re-arms it at `now + repeat`
//!   when it repeats and runs its callback.
//! - `due_in` is `due - now` for an armed timer and 0 for a stopped one.

use proptest::prelude::*;
use ruv::{Error, Loop, RunMode, StatusCode, Timer};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

const TIMERS: usize = 8;

#[derive(Clone, Debug)]
enum Op {
    Start {
        id: usize,
        timeout: u64,
        repeat: u64,
    },
    Stop {
        id: usize,
    },
    Again {
        id: usize,
    },
    SetRepeat {
        id: usize,
        repeat: u64,
    },
    AdvanceAndRun {
        ms: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let id = 0..TIMERS;
    prop_oneof![
        3 => (id.clone(), 0..50u64, prop_oneof![Just(0u64), 0..20u64])
            .prop_map(|(id, timeout, repeat)| Op::Start { id, timeout, repeat }),
        1 => id.clone().prop_map(|id| Op::Stop { id }),
        1 => id.clone().prop_map(|id| Op::Again { id }),
        1 => (id, 0..20u64).prop_map(|(id, repeat)| Op::SetRepeat { id, repeat }),
        3 => (0..40u64).prop_map(|ms| Op::AdvanceAndRun { ms }),
    ]
}

#[derive(Clone, Copy, Debug, Default)]
struct ModelTimer {
    started: bool,
    active: bool,
    due: u64,
    seq: u64,
    repeat: u64,
}

#[derive(Debug, Default)]
struct Model {
    now: u64,
    seq: u64,
    timers: [ModelTimer; TIMERS],
}

impl Model {
    fn arm(&mut self, id: usize, timeout: u64) {
        self.seq += 1;
        let t = &mut self.timers[id];
        t.active = true;
        t.due = self.now + timeout;
        t.seq = self.seq;
    }

    fn start(&mut self, id: usize, timeout: u64, repeat: u64) {
        self.timers[id].started = true;
        self.timers[id].repeat = repeat;
        self.arm(id, timeout);
    }

    fn stop(&mut self, id: usize) {
        self.timers[id].active = false;
    }

    fn again(&mut self, id: usize) -> Result<(), Error> {
        if !self.timers[id].started {
            return Err(Error::Status(StatusCode::EINVAL));
        }
        let repeat = self.timers[id].repeat;
        if repeat != 0 {
            self.arm(id, repeat);
        }
        Ok(())
    }

    /// One NoWait iteration after advancing: the timer phase. Returns the
    /// ids in firing order and whether the loop is still alive.
    fn advance_and_run(&mut self, ms: u64) -> (Vec<usize>, bool) {
        self.now += ms;
        let now = self.now;
        let mut due: Vec<usize> = (0..TIMERS)
            .filter(|&i| self.timers[i].active && self.timers[i].due <= now)
            .collect();
        due.sort_by_key(|&i| (self.timers[i].due, self.timers[i].seq));
        for &i in &due {
            self.timers[i].active = false;
        }
        for &i in &due {
            let repeat = self.timers[i].repeat;
            if repeat != 0 {
                self.arm(i, repeat);
            }
        }
        (due, self.timers.iter().any(|t| t.active))
    }

    fn due_in(&self, id: usize) -> u64 {
        let t = &self.timers[id];
        if t.active {
            t.due - self.now
        } else {
            0
        }
    }
}

fn check_state(model: &Model, timers: &[Timer], lp: &Loop) -> Result<(), TestCaseError> {
    prop_assert_eq!(lp.now(), model.now);
    for (id, t) in timers.iter().enumerate() {
        prop_assert_eq!(
            t.is_active(),
            model.timers[id].active,
            "timer {} active",
            id
        );
        prop_assert_eq!(t.due_in(), Ok(model.due_in(id)), "timer {} due_in", id);
        prop_assert_eq!(
            t.repeat(),
            Ok(model.timers[id].repeat),
            "timer {} repeat",
            id
        );
    }
    prop_assert_eq!(lp.alive(), model.timers.iter().any(|t| t.active));
    Ok(())
}

fn run_case(ops: &[Op]) -> Result<(), TestCaseError> {
    let lp = Loop::with_manual_clock().unwrap();
    let fired: Rc<RefCell<Vec<usize>>> = Rc::default();
    let timers: Vec<Timer> = (0..TIMERS).map(|_| Timer::new(&lp)).collect();
    let mut model = Model::default();
    for op in ops {
        match *op {
            Op::Start {
                id,
                timeout,
                repeat,
            } => {
                let f = fired.clone();
                let r = timers[id].start(timeout, repeat, move |_| f.borrow_mut().push(id));
                prop_assert_eq!(r, Ok(()));
                model.start(id, timeout, repeat);
            }
            Op::Stop { id } => {
                prop_assert_eq!(timers[id].stop(), Ok(()));
                model.stop(id);
            }
            Op::Again { id } => {
                prop_assert_eq!(timers[id].again(), model.again(id), "again on {}", id);
            }
            Op::SetRepeat { id, repeat } => {
                prop_assert_eq!(timers[id].set_repeat(repeat), Ok(()));
                model.timers[id].repeat = repeat;
            }
            Op::AdvanceAndRun { ms } => {
                lp.advance(Duration::from_millis(ms)).unwrap();
                let alive = lp.run(RunMode::NoWait);
                let (expected, expected_alive) = model.advance_and_run(ms);
                let got = std::mem::take(&mut *fired.borrow_mut());
                prop_assert_eq!(got, expected, "fired after {:?} at {}", op, model.now);
                prop_assert_eq!(alive, Ok(expected_alive));
            }
        }
        check_state(&model, &timers, &lp)?;
    }
    for t in &timers {
        t.close(|| {});
    }
    prop_assert_eq!(lp.run(RunMode::NoWait), Ok(false));
    prop_assert_eq!(lp.close(), Ok(()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn timers_match_the_libuv_model(ops in prop::collection::vec(op(), 1..80)) {
        run_case(&ops)?;
    }
}

/// A hand-written case the random ones may miss: equal due times from
/// different start times, a repeat changed while armed, and again().
#[test]
fn a_fixed_sequence_matches_the_model() {
    use Op::*;
    let ops = [
        Again { id: 0 },
        Start {
            id: 0,
            timeout: 10,
            repeat: 0,
        },
        AdvanceAndRun { ms: 5 },
        Start {
            id: 1,
            timeout: 5,
            repeat: 3,
        },
        Start {
            id: 2,
            timeout: 5,
            repeat: 0,
        },
        SetRepeat { id: 0, repeat: 4 },
        AdvanceAndRun { ms: 5 },
        AdvanceAndRun { ms: 3 },
        Again { id: 0 },
        Stop { id: 1 },
        AdvanceAndRun { ms: 30 },
        Again { id: 1 },
        Again { id: 2 },
        AdvanceAndRun { ms: 3 },
    ];
    run_case(&ops).unwrap();
    // And the model itself says what we expect for this sequence.
    let mut m = Model::default();
    assert_eq!(m.again(0), Err(Error::Status(StatusCode::EINVAL)));
    m.start(0, 10, 0);
    assert_eq!(m.advance_and_run(5), (vec![], true));
    m.start(1, 5, 3);
    m.start(2, 5, 0);
    m.timers[0].repeat = 4;
    assert_eq!(m.advance_and_run(5), (vec![0, 1, 2], true));
    assert_eq!(m.advance_and_run(3), (vec![1], true));
    assert_eq!(m.advance_and_run(1), (vec![0], true));
}
