//! A TCP echo server and client on one ruv loop.
//!
//! ```text
//! cargo run --example tcp_echo                          # both, on 127.0.0.1
//! cargo run --example tcp_echo -- --server 127.0.0.1:9000
//! ```
//!
//! With no arguments the server listens on a free loopback port, the client
//! connects, sends a line, reads the echo back, shuts its side down, and
//! both close: the program exits 0. `--server ADDR` runs only the server,
//! until killed; try `nc 127.0.0.1 9000`.

use ruv::{Loop, ReadResult, RunMode, Tcp, TcpFlags};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;

/// Starts an echo server on `addr`: every connection gets back what it
/// sends, and is closed when its peer shuts down or fails. With `once`
/// the server stops listening after its first connection.
fn serve(lp: &Loop, addr: SocketAddr, once: bool) -> ruv::Result<Tcp> {
    let server = Tcp::new(lp);
    server.bind(addr, TcpFlags::empty())?;
    server.listen(128, move |server, status| {
        if let Err(err) = status {
            eprintln!("accept: {err}");
            return;
        }
        let conn = Tcp::new(server.get_loop());
        if let Err(err) = server.accept(&conn) {
            eprintln!("accept: {err}");
            conn.close(|| {});
            return;
        }
        let started = conn.read_start(|conn, read| match read {
            // The data is lent: `write` sends it at once, copying only
            // what the kernel cannot take now.
            ReadResult::Data(data) => {
                if conn.write(&[data], |_, _| {}).is_err() {
                    conn.close(|| {});
                }
            }
            ReadResult::Eof | ReadResult::Error(_) => conn.close(|| {}),
        });
        if started.is_err() {
            conn.close(|| {});
        }
        if once {
            server.close(|| {});
        }
    })?;
    Ok(server)
}

/// Connects to `addr`, sends `message`, collects the echo until the server
/// closes, and stores it in `echo`.
fn client(lp: &Loop, addr: SocketAddr, message: &'static [u8], echo: Rc<RefCell<Vec<u8>>>) {
    let tcp = Tcp::new(lp);
    let connected = tcp.connect(addr, move |tcp, status| {
        if let Err(err) = status {
            eprintln!("connect: {err}");
            tcp.close(|| {});
            return;
        }
        let _ = tcp.write(&[message], |_, _| {});
        let _ = tcp.shutdown(|_, _| {});
        let _ = tcp.read_start(move |tcp, read| match read {
            ReadResult::Data(data) => echo.borrow_mut().extend_from_slice(data),
            ReadResult::Eof | ReadResult::Error(_) => tcp.close(|| {}),
        });
    });
    if let Err(err) = connected {
        eprintln!("connect: {err}");
        tcp.close(|| {});
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lp = Loop::new().expect("a loop");
    match args.as_slice() {
        [flag, addr] if flag == "--server" => {
            let Ok(addr) = addr.parse() else {
                eprintln!("not an address: {addr}");
                return ExitCode::FAILURE;
            };
            let server = match serve(&lp, addr, false) {
                Ok(server) => server,
                Err(err) => {
                    eprintln!("listen on {addr}: {err}");
                    return ExitCode::FAILURE;
                }
            };
            println!(
                "echoing on {}",
                server.sockname().expect("a bound listener")
            );
            let _ = lp.run(RunMode::Default);
            ExitCode::SUCCESS
        }
        [] => {
            let server = match serve(&lp, "127.0.0.1:0".parse().unwrap(), true) {
                Ok(server) => server,
                Err(err) => {
                    eprintln!("listen: {err}");
                    return ExitCode::FAILURE;
                }
            };
            let addr = server.sockname().expect("a bound listener");
            let echo = Rc::new(RefCell::new(Vec::new()));
            let message = b"hello over tcp\n";
            client(&lp, addr, message, echo.clone());
            let _ = lp.run(RunMode::Default);
            let echo = echo.borrow();
            print!("{}", String::from_utf8_lossy(&echo));
            if echo.as_slice() == message {
                ExitCode::SUCCESS
            } else {
                eprintln!("echo differs");
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: tcp_echo [--server ADDR]");
            ExitCode::FAILURE
        }
    }
}
