//! `ruv-bench`: ruv side by side with libuv, uv-compat (the same C source
//! against ruv's libuv C API), tokio and raw system calls, in interleaved
//! rounds — the harness of issue 5. See `docs/PERFORMANCE.md` and
//! `ruv-bench --help`.
//!
//! Layout:
//! - [`cli`]: options and the sizes of the full and quick modes;
//! - [`harness`]: building the C programs, starting children, the rounds;
//! - [`scenarios`]: one module per scenario;
//! - [`workers`]: the Rust implementations (ruv, tokio), run as
//!   `ruv-bench worker IMPL SCENARIO ...`;
//! - [`report`], [`stats`], [`targets`]: medians, ratios, tables, JSON;
//! - [`kv`], [`measure`]: the line protocol and self-measurement.
//!
//! No `unsafe`: raw system calls live in the C programs, and the calls
//! std lacks (`SO_RCVBUFFORCE`, `CLOCK_PROCESS_CPUTIME_ID`) and `alarm` go through nix.

#![forbid(unsafe_code)]

mod cli;
mod harness;
mod kv;
mod measure;
mod report;
mod scenarios;
mod stats;
mod targets;
mod workers;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        return workers::main(&args[1..]);
    }
    match cli::Options::parse(&args) {
        Ok(opts) => harness::main(opts),
        Err(e) => {
            eprintln!("ruv-bench: {e}");
            ExitCode::from(2)
        }
    }
}
