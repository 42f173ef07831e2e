//! A UDP echo server and client on one ruv loop.
//!
//! ```text
//! cargo run --release --example echo                       # both, on 127.0.0.1
//! cargo run --release --example echo -- --server 127.0.0.1:9000
//! cargo run --release --example echo -- --client 127.0.0.1:9000 --message hi --count 3
//! ```
//!
//! With no arguments the server binds a free loopback port, the client sends
//! the message N times (one at a time, waiting for each echo), prints every
//! echo with its round trip, closes every handle and exits 0. `--server`
//! runs only the server, until killed; any UDP peer works, e.g.
//! `nc -u 127.0.0.1 9000` or `socat - UDP:127.0.0.1:9000`. `--client` runs
//! only the client. The client gives up after 2 s and then exits 1.

use ruv::{Loop, RunMode, Timer, Udp, UdpFlags};
use std::cell::Cell;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::rc::Rc;

const USAGE: &str = "\
usage: echo [--server ADDR | --client ADDR] [--message TEXT] [--count N]
  (no mode)       run server and client in this process on 127.0.0.1
  --server ADDR   run only the server, bound to ADDR (e.g. 127.0.0.1:9000)
  --client ADDR   run only the client, sending to the server at ADDR
  --message TEXT  what the client sends (default: hello)
  --count N       how many times the client sends it (default: 5)";

/// How long the client waits for all its echoes.
const CLIENT_TIMEOUT_MS: u64 = 2_000;

enum Mode {
    Demo,
    Server(SocketAddr),
    Client(SocketAddr),
}

struct Args {
    mode: Mode,
    message: String,
    count: u32,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        mode: Mode::Demo,
        message: "hello".to_owned(),
        count: 5,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => parsed.mode = Mode::Server(parse_addr(&value()?)?),
            "--client" => parsed.mode = Mode::Client(parse_addr(&value()?)?),
            "--message" => parsed.message = value()?,
            "--count" => {
                let text = value()?;
                parsed.count = match text.parse() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--count wants a positive number, not {text:?}")),
                };
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not an address like 127.0.0.1:9000 or [::1]:9000"))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("echo: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("echo: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> ruv::Result<ExitCode> {
    let lp = Loop::new()?;
    let client = match args.mode {
        Mode::Server(addr) => {
            let server = start_server(&lp, addr)?;
            println!("server: listening on {}", server.sockname()?);
            lp.run(RunMode::Default)?;
            return Ok(ExitCode::SUCCESS);
        }
        Mode::Client(addr) => Client::start(&lp, addr, args.message, args.count, None)?,
        Mode::Demo => {
            let server = start_server(&lp, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
            let addr = server.sockname()?;
            println!("server: listening on {addr}");
            Client::start(&lp, addr, args.message, args.count, Some(server))?
        }
    };
    // Returns once the client has closed every handle: nothing is alive.
    lp.run(RunMode::Default)?;
    lp.close()?;
    Ok(if client.echoes.get() == client.count {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn start_server(lp: &Loop, addr: SocketAddr) -> ruv::Result<Udp> {
    let server = Udp::new(lp);
    server.bind(addr, UdpFlags::empty())?;
    server.receive_start(|udp, result| match result {
        Ok(dgram) => {
            println!("server: {} bytes from {}", dgram.data.len(), dgram.addr);
            // `dgram.data` is lent from the loop's receive buffer; `send`
            // copies it only if the datagram has to wait in the send queue.
            let sent = udp.send(&[dgram.data], Some(dgram.addr), |_, status| {
                if let Err(err) = status {
                    eprintln!("server: echo failed: {err}");
                }
            });
            if let Err(err) = sent {
                eprintln!("server: cannot echo: {err}");
            }
        }
        // A failed read neither stops receiving nor closes the handle, so
        // a server reports it and carries on.
        Err(err) => eprintln!("server: receive error: {err}"),
    })?;
    Ok(server)
}

/// The client's state, shared by its receive and timeout callbacks.
struct Client {
    lp: Loop,
    udp: Udp,
    timeout: Timer,
    /// In demo mode the client also closes the server, so the loop ends.
    server: Option<Udp>,
    peer: SocketAddr,
    message: String,
    count: u32,
    echoes: Cell<u32>,
    /// `hrtime()` of the last send, in ns.
    sent_at: Cell<u64>,
}

impl Client {
    fn start(
        lp: &Loop,
        peer: SocketAddr,
        message: String,
        count: u32,
        server: Option<Udp>,
    ) -> ruv::Result<Rc<Client>> {
        let udp = Udp::new(lp);
        // Bind explicitly: the implicit bind of send/receive_start is IPv4
        // only, and the server may be on IPv6.
        let local = match peer {
            SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
        };
        udp.bind(local, UdpFlags::empty())?;
        let client = Rc::new(Client {
            lp: lp.clone(),
            udp,
            timeout: Timer::new(lp),
            server,
            peer,
            message,
            count,
            echoes: Cell::new(0),
            sent_at: Cell::new(0),
        });

        // The closures hold an `Rc` of the client, which holds the handles:
        // the cycle ends when `finish` closes the handles and the loop drops
        // their callbacks.
        let c = client.clone();
        client.udp.receive_start(move |_, result| match result {
            Ok(dgram) if dgram.addr == c.peer => c.on_echo(dgram.data),
            Ok(dgram) => println!("client: ignoring a datagram from {}", dgram.addr),
            // An unconnected socket hears of no ICMP errors, so a missing
            // server shows up as the timeout, not as an error here.
            Err(err) => eprintln!("client: receive error: {err}"),
        })?;
        let c = client.clone();
        client.timeout.start(CLIENT_TIMEOUT_MS, 0, move |_| {
            eprintln!(
                "client: timed out after {CLIENT_TIMEOUT_MS} ms with {}/{} echoes",
                c.echoes.get(),
                c.count
            );
            c.finish();
        })?;
        client.send_next();
        Ok(client)
    }

    fn send_next(self: &Rc<Self>) {
        self.sent_at.set(self.lp.hrtime());
        let c = self.clone();
        let sent = self.udp.send(
            &[self.message.as_bytes()],
            Some(self.peer),
            move |_, status| {
                if let Err(err) = status {
                    // No echo can come for a datagram that never left.
                    eprintln!("client: send failed: {err}");
                    c.finish();
                }
            },
        );
        if let Err(err) = sent {
            eprintln!("client: cannot send: {err}");
            self.finish();
        }
    }

    fn on_echo(self: &Rc<Self>, data: &[u8]) {
        let rtt_us = (self.lp.hrtime() - self.sent_at.get()) / 1_000;
        let n = self.echoes.get() + 1;
        self.echoes.set(n);
        println!(
            "client: echo {n}/{}: {:?} in {rtt_us} µs",
            self.count,
            String::from_utf8_lossy(data)
        );
        if n == self.count {
            self.finish();
        } else {
            self.send_next();
        }
    }

    /// Closes every handle; the loop then has nothing alive and `run`
    /// returns. Closing twice is harmless, so either path may call this.
    fn finish(&self) {
        self.udp.close(|| {});
        self.timeout.close(|| {});
        if let Some(server) = &self.server {
            server.close(|| println!("server: closed"));
        }
    }
}
