//! The asyncio "UDP echo client protocol" example on ruv's datagram
//! endpoint.
//!
//! ```text
//! cargo run --example endpoint_echo_client                     # starts its own server
//! cargo run --example endpoint_echo_client -- 127.0.0.1:9999   # a running endpoint_echo_server
//! ```
//!
//! The client sends "Hello World!", prints the reply and closes. With no
//! address it first starts an echo server (the one of
//! `endpoint_echo_server --once`) on a free loopback port of the same
//! loop, so the run finishes by itself. Without a reply within 5 s the
//! client gives up and exits 1.

use ruv::endpoint::{
    create_datagram_endpoint, DatagramProtocol, DatagramTransport, EndpointOptions,
};
use ruv::{Error, Loop, RunMode, Timer};
use std::cell::Cell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;

const USAGE: &str =
    "usage: endpoint_echo_client [HOST:PORT]   (no address: start a server in-process)";

/// How long the client waits for the echo.
const TIMEOUT_MS: u64 = 5_000;

struct EchoClientProtocol {
    message: String,
    transport: Option<DatagramTransport>,
    answered: Rc<Cell<bool>>,
}

impl DatagramProtocol for EchoClientProtocol {
    fn connection_made(&mut self, transport: &DatagramTransport) {
        self.transport = Some(transport.clone());
        println!("Send: {}", self.message);
        if let Err(err) = transport.sendto(self.message.as_bytes(), None) {
            eprintln!("sendto failed: {err}");
        }
    }

    fn datagram_received(&mut self, data: &[u8], _addr: SocketAddr) {
        println!("Received: {}", String::from_utf8_lossy(data));
        println!("Close the socket");
        self.answered.set(true);
        if let Some(transport) = &self.transport {
            transport.close();
        }
    }

    fn error_received(&mut self, err: Error) {
        println!("Error received: {err}");
    }

    fn connection_lost(&mut self, _err: Option<Error>) {
        // The loop stops by itself once nothing is left open.
        println!("Socket closed, stop the event loop");
    }
}

/// The server of `endpoint_echo_server --once`: echoes one datagram, then
/// closes.
struct OneShotEchoServer(Option<DatagramTransport>);

impl DatagramProtocol for OneShotEchoServer {
    fn connection_made(&mut self, transport: &DatagramTransport) {
        self.0 = Some(transport.clone());
    }

    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        let message = String::from_utf8_lossy(data);
        println!("[server] Received {message:?} from {addr}");
        println!("[server] Send {message:?} to {addr}");
        if let Some(transport) = &self.0 {
            let _ = transport.sendto(data, Some(addr));
            transport.close();
        }
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

/// Creates the client endpoint towards `host:port`, with a timeout.
fn start_client(lp: &Loop, host: String, port: u16, answered: Rc<Cell<bool>>) {
    let lp2 = lp.clone();
    let factory = move || EchoClientProtocol {
        message: "Hello World!".to_owned(),
        transport: None,
        answered,
    };
    create_datagram_endpoint(
        lp,
        factory,
        EndpointOptions::remote(host, port),
        move |result| {
            let (transport, _protocol) = match result {
                Ok(endpoint) => endpoint,
                Err(err) => {
                    eprintln!("cannot create the client endpoint: {err}");
                    return;
                }
            };
            // Give up if no echo comes (e.g. no server is running). The timer
            // does not keep the loop alive by itself.
            let timeout = Timer::new(&lp2);
            timeout.unref();
            let _ = timeout.start(TIMEOUT_MS, 0, move |t| {
                eprintln!("no reply within {TIMEOUT_MS} ms");
                transport.close();
                t.close(|| {});
            });
        },
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = match args.as_slice() {
        [] => None,
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [addr] => match split_host_port(addr) {
            Some(parsed) => Some(parsed),
            None => {
                eprintln!("bad address {addr:?}\n{USAGE}");
                return ExitCode::FAILURE;
            }
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let lp = match Loop::new() {
        Ok(lp) => lp,
        Err(err) => {
            eprintln!("cannot create the loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let answered = Rc::new(Cell::new(false));
    match target {
        Some((host, port)) => start_client(&lp, host, port, answered.clone()),
        None => {
            // Standalone: a one-shot echo server on a free port first.
            let (lp2, a) = (lp.clone(), answered.clone());
            let options = EndpointOptions::local("127.0.0.1", 0);
            create_datagram_endpoint(
                &lp,
                || OneShotEchoServer(None),
                options,
                move |result| match result {
                    Ok((server, _)) => {
                        let port = server.sockname().map_or(0, |a| a.port());
                        println!("[server] Serving on 127.0.0.1:{port}");
                        start_client(&lp2, "127.0.0.1".to_owned(), port, a);
                    }
                    Err(err) => eprintln!("cannot start the server: {err}"),
                },
            );
        }
    }
    if let Err(err) = lp.run(RunMode::Default) {
        eprintln!("loop failed: {err}");
        return ExitCode::FAILURE;
    }
    if answered.get() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
