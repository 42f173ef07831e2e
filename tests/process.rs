//! Process handles: libuv's `test-spawn.c` behaviours in our words (exit
//! status and signal, exec errors from `uv_spawn` itself, stdio, env, cwd,
//! detached, kill), and what ruv does beyond libuv (a closed handle's child
//! is still reaped; `kill` after the exit is `ESRCH`).
//!
//! The cases are in `util/process_cases.rs`; `process_sigchld.rs` runs them
//! again on loops that reap on `SIGCHLD`, as where there are no pidfds.

fn new_loop() -> ruv::Loop {
    ruv::Loop::new().unwrap()
}

include!("util/process_cases.rs");
