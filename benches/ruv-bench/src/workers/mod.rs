//! `ruv-bench worker IMPL SCENARIO key=value...`: the Rust implementations
//! of the scenarios, each run by the harness as a child process of its own
//! so that its CPU time and memory are its own.
//!
//! Workers speak the protocol of [`crate::kv`] and stop by themselves: a
//! `alarm` ends the process after `timeout_s` seconds.

pub mod common;
mod ruv;
mod ruv_stream;
mod ruv_transport;
mod tokio;
mod tokio_stream;

use crate::kv::{print_result, Params};
use std::process::ExitCode;

/// What a worker reports: the pairs of its `RESULT` line.
pub type Outcome = Result<Vec<(&'static str, u64)>, Box<dyn std::error::Error>>;

/// Runs one worker: `args` is `[impl, scenario, key=value...]`.
pub fn main(args: &[String]) -> ExitCode {
    let (Some(imp), Some(scenario)) = (args.first(), args.get(1)) else {
        eprintln!("usage: ruv-bench worker IMPL SCENARIO [key=value...]");
        return ExitCode::from(2);
    };
    let params = match Params::parse(args[2..].iter().map(String::as_str)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    start_watchdog(params.u64("timeout_s", 30));
    common::raise_nofile();
    let outcome = match imp.as_str() {
        "ruv" => ruv_stream::run(scenario, &params).unwrap_or_else(|| ruv::run(scenario, &params)),
        "ruv-transport" => ruv_transport::run(scenario, &params)
            .unwrap_or_else(|| Err(format!("ruv-transport does not run {scenario}").into())),
        "tokio-await" => tokio_stream::run(scenario, &params)
            .unwrap_or_else(|| tokio::run(tokio::Style::Await, scenario, &params)),
        "tokio-ready" => tokio::run(tokio::Style::Ready, scenario, &params),
        other => Err(format!("unknown implementation {other}").into()),
    };
    match outcome {
        Ok(pairs) => {
            print_result(&pairs);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{imp} {scenario}: {e}");
            ExitCode::from(2)
        }
    }
}

/// Ends the process after `secs` seconds, whatever it is doing: `alarm`,
/// whose SIGALRM terminates it, as the C programs do. Not a thread: a second
/// thread shares the descriptor table, and then every system call that looks
/// up a descriptor pays for reference counting (measured here: +70–100 ns
/// per `epoll_wait`), which would tax the Rust workers alone.
fn start_watchdog(secs: u64) {
    nix::unistd::alarm::set(u32::try_from(secs).unwrap_or(u32::MAX).max(1));
}

/// Prints the result and leaves without tearing down millions of handles.
pub fn exit_with(pairs: &[(&'static str, u64)]) -> ! {
    print_result(pairs);
    std::process::exit(0)
}
