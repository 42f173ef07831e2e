//! asyncio's subprocess protocol example: run a command with
//! `subprocess_exec`, collect its stdout through `pipe_data_received`,
//! and print it with the exit status once `connection_lost` says the
//! child exited and every pipe closed.
//!
//! ```text
//! cargo run --example subprocess_output                 # runs `date`
//! cargo run --example subprocess_output -- ls -l /
//! ```

use ruv::endpoint::{subprocess_exec, SubprocessOptions, SubprocessProtocol, SubprocessTransport};
use ruv::{Loop, RunMode};
use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;

#[derive(Default)]
struct Collect {
    output: Vec<u8>,
    transport: Option<SubprocessTransport>,
    exit: Rc<RefCell<Option<i64>>>,
}

impl SubprocessProtocol for Collect {
    fn connection_made(&mut self, transport: &SubprocessTransport) {
        println!("Started pid {}", transport.get_pid());
        self.transport = Some(transport.clone());
    }

    fn pipe_data_received(&mut self, fd: i32, data: &[u8]) {
        if fd == 1 {
            self.output.extend_from_slice(data);
        } else {
            eprint!("{}", String::from_utf8_lossy(data));
        }
    }

    fn process_exited(&mut self) {
        let code = self.transport.as_ref().and_then(|t| t.get_returncode());
        println!("Process exited with {code:?}");
    }

    fn connection_lost(&mut self, _err: Option<ruv::Error>) {
        print!("{}", String::from_utf8_lossy(&self.output));
        *self.exit.borrow_mut() = self.transport.take().and_then(|t| t.get_returncode());
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        args.push("date".into());
    }
    let program = args.remove(0);
    let lp = match Loop::new() {
        Ok(lp) => lp,
        Err(err) => {
            eprintln!("cannot create the loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let exit = Rc::new(RefCell::new(None));
    let e = exit.clone();
    let factory = move || Collect {
        exit: e,
        ..Collect::default()
    };
    // No stdin for the child.
    let options = SubprocessOptions::default().with_stdin(ruv::endpoint::SubprocessStdio::DevNull);
    subprocess_exec(&lp, factory, program.clone(), args, options, move |r| {
        if let Err(err) = r {
            eprintln!("cannot run {program:?}: {err}");
        }
    });
    if let Err(err) = lp.run(RunMode::Default) {
        eprintln!("loop failed: {err}");
        return ExitCode::FAILURE;
    }
    let code = *exit.borrow();
    match code {
        Some(0) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
