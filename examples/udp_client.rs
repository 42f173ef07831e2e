//! JSON request/response over UDP with the blocking `UdpClient`
//! (easynetwork's `UDPNetworkClient` with a JSON protocol).
//!
//! ```sh
//! # Starts an echo server on a ruv loop in a thread of this process:
//! cargo run --example udp_client --features serde
//! # Talks to an echo server you run yourself, e.g. the echo example's:
//! #   cargo run --example echo -- --server 127.0.0.1:9000
//! cargo run --example udp_client --features serde -- 127.0.0.1:9000 --count 3
//! ```
//!
//! Each request is a JSON object with an `id`; an echo server sends it
//! back unchanged, so the reply must equal the request. Exits 0 when every
//! request got its reply, 1 otherwise.

#[cfg(not(feature = "serde"))]
fn main() {
    eprintln!(
        "this example needs the serde feature: cargo run --example udp_client --features serde"
    );
    std::process::exit(2);
}

#[cfg(feature = "serde")]
fn main() {
    if let Err(err) = app::main() {
        eprintln!("udp_client: {err}");
        std::process::exit(1);
    }
}

#[cfg(feature = "serde")]
mod app {
    use ruv::client::{ClientError, ClientOptions, JsonProtocol, UdpClient};
    use ruv::{Async, Loop, RunMode, Udp, UdpFlags};
    use serde_json::{json, Value};
    use std::error::Error;
    use std::net::SocketAddr;
    use std::sync::mpsc;
    use std::thread;
    use std::time::{Duration, Instant};

    type BoxError = Box<dyn Error>;

    /// How long to wait for each reply.
    const REPLY_TIMEOUT: Duration = Duration::from_secs(2);

    struct Args {
        /// `(host, port)` of the server; `None`: start one in-process.
        server: Option<(String, u16)>,
        count: u32,
    }

    fn usage() -> BoxError {
        "usage: udp_client [HOST:PORT] [--count N]".into()
    }

    fn parse_args() -> Result<Args, BoxError> {
        let mut args = Args {
            server: None,
            count: 5,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            if arg == "--count" {
                let n = it.next().ok_or_else(usage)?;
                args.count = n.parse().map_err(|_| usage())?;
            } else if arg.starts_with('-') || args.server.is_some() {
                return Err(usage());
            } else {
                // HOST:PORT, with [brackets] around an IPv6 host.
                let (host, port) = arg.rsplit_once(':').ok_or_else(usage)?;
                let host = host.trim_start_matches('[').trim_end_matches(']');
                args.server = Some((host.to_string(), port.parse().map_err(|_| usage())?));
            }
        }
        Ok(args)
    }

    /// An echo server on its own ruv loop in a thread. Returns its address,
    /// a way to stop it, and the thread.
    fn start_echo_server(
    ) -> Result<(SocketAddr, ruv::AsyncSender, thread::JoinHandle<()>), BoxError> {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            let setup = || -> ruv::Result<(Loop, SocketAddr, ruv::AsyncSender)> {
                let lp = Loop::new()?;
                let server = Udp::new(&lp);
                server.bind("127.0.0.1:0".parse().unwrap(), UdpFlags::empty())?;
                server.receive_start(|udp, result| {
                    if let Ok(dgram) = result {
                        // Echo; a failed send only loses this reply.
                        let _ = udp.send(&[dgram.data], Some(dgram.addr), |_, _| {});
                    }
                })?;
                let addr = server.sockname()?;
                // Stopping: an async wakeup from the main thread closes both.
                let stop = Async::new(&lp, move |a| {
                    server.close(|| {});
                    a.close(|| {});
                });
                let sender = stop.sender()?;
                Ok((lp, addr, sender))
            };
            match setup() {
                Ok((lp, addr, sender)) => {
                    let _ = tx.send(Ok((addr, sender)));
                    if let Err(err) = lp.run(RunMode::Default) {
                        eprintln!("echo server: {err}");
                    }
                }
                Err(err) => {
                    let _ = tx.send(Err(err));
                }
            }
        });
        let (addr, stop) = rx.recv()??;
        Ok((addr, stop, thread))
    }

    pub fn main() -> Result<(), BoxError> {
        let args = parse_args()?;
        let (server, local_server) = match args.server {
            Some(server) => (server, None),
            None => {
                let (addr, stop, thread) = start_echo_server()?;
                println!("started an echo server on {addr}");
                ((addr.ip().to_string(), addr.port()), Some((stop, thread)))
            }
        };

        let client = UdpClient::connect(
            (&server.0, server.1),
            JsonProtocol::<Value>::new(),
            ClientOptions::default(),
        )?;
        println!(
            "client {} -> server {}",
            client.local_address()?,
            client.remote_address()?
        );

        let mut failures = 0;
        for id in 0..args.count {
            let request = json!({
                "id": id,
                "method": "echo",
                "params": {"text": format!("hello #{id}")},
            });
            let sent_at = Instant::now();
            client.send_packet(&request)?;
            // Skip stale replies (of earlier, timed-out requests).
            let reply = loop {
                match client.recv_packet(Some(REPLY_TIMEOUT)) {
                    Ok(reply) if reply.get("id") == request.get("id") => break Ok(reply),
                    Ok(_) => continue,
                    Err(err @ ClientError::Parse { .. }) => {
                        eprintln!("request {id}: ignoring a datagram: {err}");
                        continue;
                    }
                    Err(err) => break Err(err),
                }
            };
            match reply {
                Ok(reply) if reply == request => {
                    println!("reply {id}: {reply} in {:?}", sent_at.elapsed());
                }
                Ok(reply) => {
                    failures += 1;
                    println!("reply {id}: differs from the request: {reply}");
                }
                Err(err) => {
                    failures += 1;
                    println!("request {id}: {err}");
                }
            }
        }
        client.close();

        if let Some((stop, thread)) = local_server {
            stop.send()?;
            thread.join().map_err(|_| "echo server thread panicked")?;
        }
        if failures > 0 {
            return Err(format!("{failures} of {} requests failed", args.count).into());
        }
        Ok(())
    }
}
