//! The asyncio "TCP echo client protocol" example on ruv's stream
//! transports: send a message, print what comes back, stop when the
//! server closes the connection.
//!
//! ```text
//! cargo run --example stream_echo_client -- 127.0.0.1:8888 ["Hello World!"]
//! ```

use ruv::endpoint::{create_connection, ConnectionOptions, Protocol, StreamTransport};
use ruv::{Loop, RunMode};
use std::process::ExitCode;

const USAGE: &str = "usage: stream_echo_client [HOST:PORT [MESSAGE]]   (default 127.0.0.1:8888)";

struct EchoClientProtocol {
    message: String,
}

impl Protocol for EchoClientProtocol {
    fn connection_made(&mut self, transport: &StreamTransport) {
        match transport.write(self.message.as_bytes()) {
            Ok(()) => println!("Data sent: {:?}", self.message),
            Err(err) => eprintln!("write failed: {err}"),
        }
    }

    fn data_received(&mut self, data: &[u8]) {
        println!("Data received: {:?}", String::from_utf8_lossy(data));
    }

    fn connection_lost(&mut self, _err: Option<ruv::Error>) {
        // The loop stops by itself: nothing else is left in it.
        println!("The server closed the connection");
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8888".into());
    if addr == "-h" || addr == "--help" {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let message = args.next().unwrap_or_else(|| "Hello World!".into());
    let Some((host, port)) = addr.rsplit_once(':').and_then(|(h, p)| {
        let h = h
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(h);
        Some((h.to_owned(), p.parse::<u16>().ok()?))
    }) else {
        eprintln!("bad address {addr:?}\n{USAGE}");
        return ExitCode::FAILURE;
    };
    let lp = match Loop::new() {
        Ok(lp) => lp,
        Err(err) => {
            eprintln!("cannot create the loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    let f = failed.clone();
    let factory = move || EchoClientProtocol { message };
    create_connection(
        &lp,
        factory,
        ConnectionOptions::remote(host, port),
        move |result| {
            if let Err(err) = result {
                // asyncio's run_until_complete would raise here.
                eprintln!("cannot connect: {err}");
                f.set(true);
            }
        },
    );
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
