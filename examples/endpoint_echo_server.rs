//! The asyncio "UDP echo server protocol" example on ruv's datagram
//! endpoint.
//!
//! ```text
//! cargo run --example endpoint_echo_server                      # 127.0.0.1:9999, until killed
//! cargo run --example endpoint_echo_server -- 127.0.0.1:0 --once
//! ```
//!
//! The server prints every datagram it receives and sends it back. With
//! `--once` it closes after the first echo and exits. Try it with
//! `cargo run --example endpoint_echo_client -- 127.0.0.1:9999`, or with
//! `nc -u 127.0.0.1 9999`.

use ruv::endpoint::{
    create_datagram_endpoint, DatagramProtocol, DatagramTransport, EndpointOptions,
};
use ruv::{Error, Loop, RunMode};
use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage: endpoint_echo_server [HOST:PORT] [--once]   (default 127.0.0.1:9999)";

/// One protocol instance serves every client.
struct EchoServerProtocol {
    transport: Option<DatagramTransport>,
    once: bool,
}

impl DatagramProtocol for EchoServerProtocol {
    fn connection_made(&mut self, transport: &DatagramTransport) {
        self.transport = Some(transport.clone());
    }

    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        let message = String::from_utf8_lossy(data);
        println!("Received {message:?} from {addr}");
        println!("Send {message:?} to {addr}");
        let Some(transport) = &self.transport else {
            return;
        };
        if let Err(err) = transport.sendto(data, Some(addr)) {
            eprintln!("sendto failed: {err}");
        }
        if self.once {
            // The echo still goes out: close waits for the buffer to drain.
            transport.close();
        }
    }

    fn error_received(&mut self, err: Error) {
        println!("Error received: {err}");
    }

    fn connection_lost(&mut self, _err: Option<Error>) {
        println!("Server closed");
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
    let mut addr = ("127.0.0.1".to_owned(), 9999);
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
    println!("Starting UDP server");
    let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    let f = failed.clone();
    let options = EndpointOptions::local(addr.0, addr.1);
    create_datagram_endpoint(
        &lp,
        move || EchoServerProtocol {
            transport: None,
            once,
        },
        options,
        move |result| match result {
            Ok((transport, _protocol)) => {
                if let Some(addr) = transport.sockname() {
                    println!("Serving on {addr}");
                }
            }
            Err(err) => {
                eprintln!("cannot start the server: {err}");
                f.set(true);
            }
        },
    );
    // Runs until the transport closes (with --once) or forever.
    if let Err(err) = lp.run(RunMode::Default) {
        eprintln!("loop failed: {err}");
        return ExitCode::FAILURE;
    }
    if failed.get() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
