//! The asyncio "register an open socket to wait for data using a
//! protocol" example: `create_connection(sock=...)` on one end of a
//! socket pair; the other end sends `abc`; the protocol prints it and
//! closes the transport, and the loop ends.
//!
//! ```text
//! cargo run --example stream_socketpair
//! ```

use ruv::endpoint::{create_connection, ConnectionOptions, Protocol, StreamTransport};
use ruv::{Loop, RunMode, Timer};
use std::io::Write;
use std::os::unix::net::UnixStream;

#[derive(Default)]
struct MyProtocol {
    transport: Option<StreamTransport>,
}

impl Protocol for MyProtocol {
    fn connection_made(&mut self, transport: &StreamTransport) {
        self.transport = Some(transport.clone());
    }

    fn data_received(&mut self, data: &[u8]) {
        println!("Received: {}", String::from_utf8_lossy(data));
        // We are done: close the transport (connection_lost follows).
        if let Some(t) = &self.transport {
            t.close();
        }
    }

    fn connection_lost(&mut self, _err: Option<ruv::Error>) {
        // The socket has been closed; nothing is left, so the loop ends.
        self.transport = None;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A pair of connected sockets.
    let (rsock, mut wsock) = UnixStream::pair()?;
    let lp = Loop::new()?;
    // Register the socket to wait for data.
    create_connection(
        &lp,
        MyProtocol::default,
        ConnectionOptions::socket(rsock),
        |r| {
            if let Err(err) = r {
                eprintln!("cannot register the socket: {err}");
            }
        },
    );
    // Simulate the reception of data from the network (asyncio's call_soon).
    let timer = Timer::new(&lp);
    timer.start(0, 0, move |t| {
        let _ = wsock.write_all(b"abc");
        t.close(|| {});
    })?;
    lp.run(RunMode::Default)?;
    lp.close()?;
    Ok(())
}
