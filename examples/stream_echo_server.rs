//! The asyncio "TCP echo server protocol" example on ruv's stream
//! transports: each client's data is sent back, then its connection is
//! closed.
//!
//! ```text
//! cargo run --example stream_echo_server                       # 127.0.0.1:8888, until killed
//! cargo run --example stream_echo_server -- 127.0.0.1:0 --once
//! ```
//!
//! With `--once` the server closes after its first client and exits once
//! that connection is gone (`Server::wait_closed`). Try it with
//! `cargo run --example stream_echo_client -- 127.0.0.1:8888`.

use ruv::endpoint::{create_server, Protocol, Server, ServerOptions, StreamTransport};
use ruv::{Loop, RunMode};
use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;

const USAGE: &str = "usage: stream_echo_server [HOST:PORT] [--once]   (default 127.0.0.1:8888)";

/// One protocol instance per client connection.
struct EchoServerClientProtocol {
    transport: Option<StreamTransport>,
    /// With `--once`: the server, closed at the first connection.
    close_server: Option<Rc<RefCell<Option<Server>>>>,
}

impl Protocol for EchoServerClientProtocol {
    fn connection_made(&mut self, transport: &StreamTransport) {
        if let Some(peer) = transport.peername().and_then(|p| p.inet()) {
            println!("Connection from {peer}");
        }
        self.transport = Some(transport.clone());
        if let Some(server) = self.close_server.as_ref().and_then(|s| s.borrow().clone()) {
            server.close();
        }
    }

    fn data_received(&mut self, data: &[u8]) {
        let message = String::from_utf8_lossy(data);
        println!("Data received: {message:?}");
        println!("Send: {message:?}");
        let Some(transport) = &self.transport else {
            return;
        };
        if let Err(err) = transport.write(data) {
            eprintln!("write failed: {err}");
        }
        println!("Close the client socket");
        // The echo still goes out: close flushes first.
        transport.close();
    }

    fn connection_lost(&mut self, _err: Option<ruv::Error>) {
        self.transport = None;
    }
}

/// Splits `host:port`, `[v6]:port` or `v6-literal:port`.
fn split_host_port(text: &str) -> Option<(String, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host.to_owned(), port.parse().ok()?))
}

fn main() -> ExitCode {
    let mut addr = ("127.0.0.1".to_owned(), 8888);
    let mut once = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--once" => once = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => match split_host_port(other) {
                Some(parsed) => addr = parsed,
                None => {
                    eprintln!("bad address {other:?}\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
        }
    }
    let lp = match Loop::new() {
        Ok(lp) => lp,
        Err(err) => {
            eprintln!("cannot create the loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let server_slot: Rc<RefCell<Option<Server>>> = Rc::default();
    let close_server = once.then(|| server_slot.clone());
    let failed = Rc::new(std::cell::Cell::new(false));
    let f = failed.clone();
    let slot = server_slot.clone();
    let factory = move || EchoServerClientProtocol {
        transport: None,
        close_server: close_server.clone(),
    };
    create_server(
        &lp,
        factory,
        ServerOptions::new(addr.0, addr.1),
        move |result| match result {
            Ok(server) => {
                if let Some(name) = server.sockets().first().and_then(|s| s.inet()) {
                    println!("Serving on {name}");
                }
                server.wait_closed(|| println!("Server closed"));
                *slot.borrow_mut() = Some(server);
            }
            Err(err) => {
                eprintln!("cannot start the server: {err}");
                f.set(true);
            }
        },
    );
    // Serves until the server and its connections are closed (--once), or
    // until killed.
    if let Err(err) = lp.run(RunMode::Default) {
        eprintln!("loop failed: {err}");
        return ExitCode::FAILURE;
    }
    drop(server_slot.borrow_mut().take());
    if failed.get() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
