//! Runs a child process and reads its standard output and error through
//! pipes.
//!
//! ```text
//! cargo run --example spawn                       # sh -c 'echo hello; echo oops >&2; exit 3'
//! cargo run --example spawn -- ls -l /            # any program
//! ```
//!
//! The child's stdin is `/dev/null`; its stdout and stderr are pipes read on
//! the loop. The program prints what the child wrote, tagged by stream, then
//! its exit status or the signal that ended it. `run` returns once the
//! child has exited and both pipes reached EOF and were closed. With no
//! arguments it checks the demo child's output and status and exits 0.

use ruv::{Loop, Pipe, Process, ProcessOptions, ReadResult, RunMode, Stdio};
use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;

/// What the child did, as seen from the loop.
#[derive(Default)]
struct Seen {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exit: Option<(i64, i32)>,
}

/// Reads `pipe` to its end into the buffer `pick` chooses, then closes it.
fn collect(pipe: &Pipe, seen: &Rc<RefCell<Seen>>, pick: fn(&mut Seen) -> &mut Vec<u8>) {
    let seen = seen.clone();
    let started = pipe.read_start(move |pipe, read| match read {
        ReadResult::Data(data) => pick(&mut seen.borrow_mut()).extend_from_slice(data),
        ReadResult::Eof => pipe.close(|| {}),
        ReadResult::Error(err) => {
            eprintln!("read: {err}");
            pipe.close(|| {});
        }
    });
    if let Err(err) = started {
        eprintln!("read_start: {err}");
        pipe.close(|| {});
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let demo = args.is_empty();
    if demo {
        args = ["sh", "-c", "echo hello; echo oops >&2; exit 3"]
            .map(String::from)
            .to_vec();
    }
    let lp = Loop::new().expect("a loop");
    let stdout = Pipe::new(&lp, false);
    let stderr = Pipe::new(&lp, false);
    let options = ProcessOptions::new(&args[0]).with_args(&args).with_stdio([
        Stdio::Ignore,
        Stdio::CreatePipe(stdout.clone()),
        Stdio::CreatePipe(stderr.clone()),
    ]);
    let seen = Rc::new(RefCell::new(Seen::default()));
    let on_exit = seen.clone();
    let spawned = Process::spawn(&lp, &options, move |child, status, signal| {
        on_exit.borrow_mut().exit = Some((status, signal));
        child.close(|| {});
    });
    let child = match spawned {
        Ok(child) => child,
        Err(err) => {
            // Exec failures come back here, synchronously; the pipes were
            // never opened, but they are handles and must be closed.
            eprintln!("spawn {}: {err}", args[0]);
            stdout.close(|| {});
            stderr.close(|| {});
            let _ = lp.run(RunMode::Default);
            return ExitCode::FAILURE;
        }
    };
    println!("started {} as pid {}", args[0], child.pid().unwrap_or(-1));
    collect(&stdout, &seen, |s| &mut s.stdout);
    collect(&stderr, &seen, |s| &mut s.stderr);
    if let Err(err) = lp.run(RunMode::Default) {
        eprintln!("run: {err}");
        return ExitCode::FAILURE;
    }
    let seen = seen.borrow();
    for line in String::from_utf8_lossy(&seen.stdout).lines() {
        println!("stdout: {line}");
    }
    for line in String::from_utf8_lossy(&seen.stderr).lines() {
        println!("stderr: {line}");
    }
    match seen.exit {
        Some((status, 0)) => println!("exited with status {status}"),
        Some((_, signal)) => println!("killed by signal {signal}"),
        None => println!("no exit seen"),
    }
    if demo {
        let expected = (seen.stdout.as_slice(), seen.stderr.as_slice(), seen.exit);
        if expected != (&b"hello\n"[..], &b"oops\n"[..], Some((3, 0))) {
            eprintln!("the demo child did not behave as expected");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
