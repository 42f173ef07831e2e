//! Timer micro-benchmarks through ruv's public API, on a manual-clock loop
//! (time moves only when the loop would sleep, so firing is instant and
//! deterministic):
//!
//! - `timer/start_stop/N_armed`: restart and stop one timer while N others
//!   are armed (the heap's O(log n) insert and cancel);
//! - `timer/start_fire/1000`: start 1000 timers and run the loop until all
//!   have fired.
//!
//! `cargo bench -p ruv-bench --bench timers`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ruv::{Loop, RunMode, Timer};
use std::hint::black_box;

fn close_all(lp: &Loop, timers: &[Timer]) {
    for t in timers {
        t.close(|| {});
    }
    lp.run(RunMode::NoWait).expect("run");
}

fn start_stop(c: &mut Criterion) {
    let mut group = c.benchmark_group("timer");
    for armed in [0u64, 10_000, 1_000_000] {
        let lp = Loop::with_manual_clock().expect("loop");
        let others: Vec<Timer> = (0..armed)
            .map(|i| {
                let t = Timer::new(&lp);
                t.start(1_000 + i, 0, |_| {}).expect("start");
                t
            })
            .collect();
        let timer = Timer::new(&lp);
        group.bench_function(format!("start_stop/{armed}_armed"), |b| {
            b.iter(|| {
                timer.start(black_box(500), 0, |_| {}).expect("start");
                timer.stop().expect("stop");
            })
        });
        close_all(&lp, &others);
        close_all(&lp, &[timer]);
    }
    group.finish();
}

fn start_fire(c: &mut Criterion) {
    const N: usize = 1000;
    let mut group = c.benchmark_group("timer");
    group.throughput(Throughput::Elements(N as u64));
    let lp = Loop::with_manual_clock().expect("loop");
    let timers: Vec<Timer> = (0..N).map(|_| Timer::new(&lp)).collect();
    group.bench_function(format!("start_fire/{N}"), |b| {
        b.iter(|| {
            for t in &timers {
                t.start(1, 0, |_| {}).expect("start");
            }
            // The manual clock jumps to the due time instead of sleeping.
            lp.run(RunMode::Default).expect("run");
        })
    });
    group.finish();
    close_all(&lp, &timers);
}

criterion_group!(benches, start_stop, start_fire);
criterion_main!(benches);
