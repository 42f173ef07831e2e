//! Randomised model test of ruv's API: random programs of operations on
//! several handles of every kind, at top level and nested inside
//! callbacks, checked against a model after every operation, after every
//! run and at the end of each program (see `invariants`).
//!
//! CI runs `SEEDS` programs per clock. A soak runs many more:
//!
//! ```text
//! RUV_MODEL_SEEDS=5000 cargo test --release --test model
//! ```
//!
//! A failure prints its seed and the end of its operation log; reproduce it
//! alone with `RUV_MODEL_SEED=<seed> cargo test --test model`.

mod invariants;
mod ops;
mod ops_async;
mod ops_handles;
mod ops_poll;
mod ops_process;
mod ops_signal;
mod ops_stream;
mod ops_tcp;
mod ops_timers;
mod ops_udp;
mod payload;
mod program;
mod rng;
#[path = "../util/mod.rs"]
mod util;
mod world;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use world::{Log, Stats};

/// Programs per clock kind in a plain `cargo test`.
const SEEDS: u64 = 500;

/// Serialises the tests of this binary: each counts the process's
/// descriptors around its programs.
static SERIAL: Mutex<()> = Mutex::new(());

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}"))
    })
}

thread_local! {
    /// Where the last panic happened (the payload says what).
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Descriptors the process has open, but for the one a thread that
/// listened keeps in reserve for running out of descriptors (ruv opens
/// `/` for it, as libuv): it lives as long as its thread, and the other
/// test's thread may end while a program counts.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter(|e| {
            let target = e
                .as_ref()
                .ok()
                .and_then(|e| std::fs::read_link(e.path()).ok());
            target.as_deref() != Some(std::path::Path::new("/"))
        })
        .count()
}

/// Runs one program; on failure returns the report to print.
fn run_seed(seed: u64, manual: bool, stats: &mut Stats) -> Result<(), String> {
    let log = Log::default();
    let fds = open_fds();
    let result = catch_unwind(AssertUnwindSafe(|| program::run(seed, manual, log.clone())));
    let failure = match result {
        Ok(n) => {
            *stats += n;
            let now = open_fds();
            if now == fds {
                return Ok(());
            }
            format!("{fds} descriptors open before the program, {now} after")
        }
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            format!("{msg} (at {})", PANIC_AT.with(|p| p.borrow().clone()))
        }
    };
    let lines: Vec<String> = log.borrow().iter().cloned().collect();
    Err(format!(
        "seed {seed} (manual clock: {manual}) failed: {failure}\n\
         reproduce: RUV_MODEL_SEED={seed} cargo test --test model\n\
         last operations:\n  {}",
        lines.join("\n  ")
    ))
}

fn run_seeds(manual: bool) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let seeds: Vec<u64> = match env_u64("RUV_MODEL_SEED") {
        Some(seed) => vec![seed],
        None => {
            let first = env_u64("RUV_MODEL_FIRST_SEED").unwrap_or(0);
            (first..first + env_u64("RUV_MODEL_SEEDS").unwrap_or(SEEDS)).collect()
        }
    };
    let mut stats = Stats::default();
    let mut failures = Vec::new();
    // Panics are the model's reports: keep where they happened for the
    // report instead of printing a backtrace for each.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| l.to_string()).unwrap_or_default();
        PANIC_AT.with(|p| *p.borrow_mut() = at);
    }));
    for &seed in &seeds {
        if let Err(report) = run_seed(seed, manual, &mut stats) {
            eprintln!("{report}\n");
            failures.push(seed);
        }
    }
    std::panic::set_hook(default_hook);
    eprintln!(
        "model (manual clock: {manual}): {} programs, {} failed: {failures:?}; passing ones: {stats:?}",
        seeds.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "failing seeds: {failures:?}");
}

#[test]
fn random_programs_on_the_system_clock() {
    run_seeds(false);
}

#[test]
fn random_programs_of_timers_and_watchers_on_a_manual_clock() {
    run_seeds(true);
}
