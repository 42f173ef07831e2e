//! A TCP echo server that shuts down cleanly on SIGINT or SIGTERM.
//!
//! ```text
//! cargo run --example signal_shutdown                     # self-demo: raises SIGINT itself
//! cargo run --example signal_shutdown -- --serve 127.0.0.1:9000   # until Ctrl-C
//! ```
//!
//! The signal callback runs on the loop like any other callback: it closes
//! the listener, every open connection and both signal handles, so `run`
//! returns because nothing is left, not because the process was killed.
//! Stopping the last watcher of a signal puts back the disposition the
//! program had before (here the default), so a second Ctrl-C during a slow
//! shutdown would end the process as usual. With no arguments the program
//! serves on a free loopback port, a timer raises SIGINT after 50 ms, and it
//! exits 0 once everything is closed.

use ruv::{Loop, ReadResult, RunMode, Signal, Tcp, TcpFlags, Timer};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;

/// Everything the shutdown has to close.
#[derive(Default)]
struct Open {
    server: Option<Tcp>,
    connections: Vec<Tcp>,
    signals: Vec<Signal>,
}

impl Open {
    /// Closes every handle once; connections being closed by their own
    /// callbacks are skipped.
    fn close_all(&mut self) {
        if let Some(server) = self.server.take() {
            server.close(|| {});
        }
        for conn in self.connections.drain(..) {
            if !conn.is_closing() {
                conn.close(|| {});
            }
        }
        for signal in self.signals.drain(..) {
            signal.close(|| {});
        }
    }
}

/// Listens on `addr` and echoes every connection, recording each in `open`.
fn serve(lp: &Loop, addr: SocketAddr, open: &Rc<RefCell<Open>>) -> ruv::Result<SocketAddr> {
    let server = Tcp::new(lp);
    server.bind(addr, TcpFlags::empty())?;
    let conns = open.clone();
    server.listen(128, move |server, status| {
        if status.is_err() {
            return;
        }
        let conn = Tcp::new(server.get_loop());
        if server.accept(&conn).is_err() {
            conn.close(|| {});
            return;
        }
        let started = conn.read_start(|conn, read| match read {
            ReadResult::Data(data) => {
                if conn.write(&[data], |_, _| {}).is_err() {
                    conn.close(|| {});
                }
            }
            ReadResult::Eof | ReadResult::Error(_) => conn.close(|| {}),
        });
        if started.is_err() {
            conn.close(|| {});
            return;
        }
        conns.borrow_mut().connections.push(conn);
    })?;
    let bound = server.sockname()?;
    open.borrow_mut().server = Some(server);
    Ok(bound)
}

/// Watches SIGINT and SIGTERM; the first one caught closes everything.
fn on_signals(lp: &Loop, open: &Rc<RefCell<Open>>) -> ruv::Result<()> {
    for signum in [libc::SIGINT, libc::SIGTERM] {
        let signal = Signal::new(lp);
        let all = open.clone();
        signal.start(signum, move |_, signum| {
            let name = if signum == libc::SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            println!("{name}: closing");
            all.borrow_mut().close_all();
        })?;
        open.borrow_mut().signals.push(signal);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, demo) = match args.as_slice() {
        [] => ("127.0.0.1:0".parse().expect("an address"), true),
        [flag, addr] if flag == "--serve" => match addr.parse() {
            Ok(addr) => (addr, false),
            Err(_) => {
                eprintln!("not an address: {addr}");
                return ExitCode::FAILURE;
            }
        },
        _ => {
            eprintln!("usage: signal_shutdown [--serve ADDR]");
            return ExitCode::FAILURE;
        }
    };
    let lp = Loop::new().expect("a loop");
    let open = Rc::new(RefCell::new(Open::default()));
    if let Err(err) = on_signals(&lp, &open) {
        eprintln!("signals: {err}");
        return ExitCode::FAILURE;
    }
    match serve(&lp, addr, &open) {
        Ok(bound) => println!("echoing on {bound}; SIGINT or SIGTERM stops the server"),
        Err(err) => {
            eprintln!("listen on {addr}: {err}");
            open.borrow_mut().close_all();
            let _ = lp.run(RunMode::Default);
            return ExitCode::FAILURE;
        }
    }
    if demo {
        let timer = Timer::new(&lp);
        let started = timer.start(50, 0, |timer| {
            timer.close(|| {});
            let _ = ruv::raise(libc::SIGINT);
        });
        if let Err(err) = started {
            eprintln!("timer: {err}");
            return ExitCode::FAILURE;
        }
    }
    match lp.run(RunMode::Default) {
        Ok(_) => {
            println!("every handle closed");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("run: {err}");
            ExitCode::FAILURE
        }
    }
}
