//! Timers and the per-iteration watchers, and in what order they run.
//!
//! ```text
//! cargo run --example timers
//! ```
//!
//! Part 1 runs on the system clock (about 0.1 s): a zero-delay timer, a
//! one-shot, a repeating ticker, an inactivity timer kept back with
//! `again()`, a timer that stops the ticker, and an idle, a prepare and a
//! check watcher. Each line shows the loop time in ms since the start.
//!
//! Part 2 runs an hour of timers on a manual clock: the loop jumps to the
//! next timer instead of sleeping, so it takes no wall time. It ends by
//! stepping a timer by hand with `Loop::advance`, as a test would.

use ruv::{Check, Handle, Idle, Loop, Prepare, RunMode, Timer};
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

const TICK_MS: u64 = 20;
const ONE_SHOT_MS: u64 = 30;
const STOP_TICKER_AT_MS: u64 = 70;
const QUIET_AFTER_MS: u64 = 50;

fn main() -> ruv::Result<()> {
    println!("part 1: system clock");
    system_clock()?;
    println!();
    println!("part 2: manual clock");
    manual_clock()
}

fn system_clock() -> ruv::Result<()> {
    let lp = Loop::new()?;
    let start = lp.now();
    let log = {
        let lp = lp.clone();
        move |what: &str| println!("{:>4} ms  {what}", lp.now() - start)
    };

    // Due at once: a DEFAULT run fires due timers before its first
    // iteration, so this comes before the idle watcher.
    let zero = Timer::new(&lp);
    let l = log.clone();
    zero.start(0, 0, move |t| {
        l("timer(0): fires before the first iteration");
        t.close(|| {});
    })?;

    // An active idle watcher makes the poll phase return at once, so one
    // that only wants to run once stops (here: closes) itself.
    let idle = Idle::new(&lp);
    let l = log.clone();
    idle.start(move |i| {
        l("idle: first iteration, before prepare");
        let l = l.clone();
        i.close(move || l("idle: close callback, in the closing phase"));
    })?;

    // Unreferenced: they watch every iteration but must not keep the loop
    // alive on their own, or `run` would never return.
    let prepares = Rc::new(Cell::new(0u32));
    let prepare = Prepare::new(&lp);
    prepare.unref();
    let (l, n) = (log.clone(), prepares.clone());
    prepare.start(move |_| {
        n.set(n.get() + 1);
        if n.get() == 1 {
            l("prepare: right before the first poll for I/O");
        }
    })?;
    let checks = Rc::new(Cell::new(0u32));
    let check = Check::new(&lp);
    check.unref();
    let (l, n) = (log.clone(), checks.clone());
    check.start(move |_| {
        n.set(n.get() + 1);
        if n.get() == 1 {
            l("check: right after the first poll for I/O");
        }
    })?;

    // Fires only after the ticker has gone quiet: every tick pushes it back
    // with `again()`, which restarts it with its repeat as the timeout.
    let quiet = Timer::new(&lp);
    let (l, lp2) = (log.clone(), lp.clone());
    quiet.start(QUIET_AFTER_MS, QUIET_AFTER_MS, move |_| {
        l(&format!(
            "quiet: {QUIET_AFTER_MS} ms without a tick; closing all"
        ));
        // `walk` visits every handle of the loop; closing one twice is a
        // no-op, so there is no need to track which are closed already.
        lp2.walk(|h: &Handle| h.close(|| {}));
    })?;

    let ticker = Timer::new(&lp);
    let ticks = Rc::new(Cell::new(0u32));
    let (l, n, q) = (log.clone(), ticks.clone(), quiet.clone());
    ticker.start(TICK_MS, TICK_MS, move |_| {
        n.set(n.get() + 1);
        l(&format!("ticker: tick {} (quiet pushed back)", n.get()));
        q.again().expect("quiet was started");
    })?;

    // Once it has fired it is inactive, yet still a handle of the loop
    // until closed (here by the quiet timer's walk).
    let one_shot = Timer::new(&lp);
    let l = log.clone();
    one_shot.start(ONE_SHOT_MS, 0, move |_| l("one-shot: fires once"))?;

    let stopper = Timer::new(&lp);
    let (l, t) = (log.clone(), ticker.clone());
    stopper.start(STOP_TICKER_AT_MS, 0, move |_| {
        l("stopper: stopping the ticker from another timer");
        t.stop().expect("stopping a timer cannot fail");
    })?;

    lp.run(RunMode::Default)?;
    println!(
        "run returned: {} ticks, {} prepare and {} check callbacks (one per iteration)",
        ticks.get(),
        prepares.get(),
        checks.get()
    );
    lp.close()
}

fn manual_clock() -> ruv::Result<()> {
    let lp = Loop::with_manual_clock()?;
    let wall = Instant::now();
    let clock = {
        let lp = lp.clone();
        move || {
            let min = lp.now() / 60_000;
            format!("{:02}:{:02}", min / 60, min % 60)
        }
    };

    let minute = Timer::new(&lp);
    let minutes = Rc::new(Cell::new(0u32));
    let (c, n) = (clock.clone(), minutes.clone());
    minute.start(60_000, 60_000, move |t| {
        n.set(n.get() + 1);
        if n.get() % 15 == 0 {
            println!("{}  {} minute ticks", c(), n.get());
        }
        if n.get() == 60 {
            t.close(|| {});
        }
    })?;
    let alarm = Timer::new(&lp);
    let c = clock.clone();
    alarm.start(42 * 60_000, 0, move |t| {
        println!("{}  one-shot alarm", c());
        t.close(|| {});
    })?;

    lp.run(RunMode::Default)?;
    println!(
        "an hour of loop time ({} ms) in {} µs of wall time",
        lp.now(),
        wall.elapsed().as_micros()
    );

    // Stepping by hand, as a timer test does: time moves only on `advance`.
    let step = Timer::new(&lp);
    step.start(5_000, 0, |t| {
        println!("step: fired");
        t.close(|| {});
    })?;
    lp.run(RunMode::NoWait)?;
    println!("after run(NoWait): due in {} ms", step.due_in()?);
    lp.advance(Duration::from_secs(5))?;
    println!("advanced 5 s: due in {} ms", step.due_in()?);
    let alive = lp.run(RunMode::NoWait)?;
    println!("run(NoWait) -> alive = {alive} (the close callback is still owed)");
    let alive = lp.run(RunMode::NoWait)?;
    println!("run(NoWait) -> alive = {alive}");
    lp.close()
}
