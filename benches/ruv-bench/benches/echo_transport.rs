//! uvloop's echo scenario in one loop: an echo server, 10 concurrent
//! clients, 1 KiB, 10 KiB and 100 KiB messages. The server is either an
//! asyncio-style protocol on `ruv::endpoint`'s `StreamTransport`
//! (`transport`) or the same echo written on a plain `ruv::Tcp`
//! (`tcp`: `try_write`, then `write` for what the socket did not take —
//! the strategy the transport uses, so the difference is the layer's
//! cost). The clients are plain `Tcp` handles in both. One iteration is
//! one round: every client sends one message and reads its echo back.
//! Server and clients share the thread, so time is CPU time.
//!
//! `cargo bench -p ruv-bench --bench echo_transport`
//!
//! For a deterministic figure, `ECHO_ROUNDS=N ECHO_SERVER=tcp|transport
//! ECHO_SIZE=bytes` runs N rounds without criterion, so that two runs
//! under `valgrind --tool=callgrind` (N and 2N rounds) give the
//! instructions per round by difference (start-up cancels out).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ruv::endpoint::{create_server, Protocol, Server, ServerOptions, StreamTransport};
use ruv::{Loop, ReadResult, RunMode, Tcp, TcpFlags};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;

const CLIENTS: usize = 10;

/// The echo protocol of the transport server.
#[derive(Default)]
struct Echo {
    transport: Option<StreamTransport>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: &StreamTransport) {
        self.transport = Some(transport.clone());
    }

    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.transport {
            t.write(data).expect("echo");
        }
    }

    fn connection_lost(&mut self, _err: Option<ruv::Error>) {
        self.transport = None;
    }
}

/// What the server is.
enum ServerSide {
    Transport(Server),
    Tcp(Tcp, Rc<RefCell<Vec<Tcp>>>),
}

fn transport_server(lp: &Loop) -> (ServerSide, SocketAddr) {
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    create_server(
        lp,
        Echo::default,
        ServerOptions::new("127.0.0.1", 0),
        move |r| {
            *o.borrow_mut() = Some(r.expect("server"));
        },
    );
    while out.borrow().is_none() {
        lp.run(RunMode::Once).expect("run");
    }
    let server = out.borrow_mut().take().expect("server");
    let addr = server.sockets()[0].inet().expect("inet");
    (ServerSide::Transport(server), addr)
}

/// Echoes `data` the way the transport does: at once, the rest queued.
fn echo_plain(conn: &Tcp, data: &[u8]) {
    // EAGAIN (nothing taken) counts as 0 bytes written.
    let sent = conn.try_write(&[data]).unwrap_or_default();
    if sent < data.len() {
        conn.write(&[&data[sent..]], |_, r| r.expect("write"))
            .expect("write");
    }
}

fn tcp_server(lp: &Loop) -> (ServerSide, SocketAddr) {
    let listener = Tcp::new(lp);
    listener
        .bind("127.0.0.1:0".parse().expect("addr"), TcpFlags::empty())
        .expect("bind");
    let conns: Rc<RefCell<Vec<Tcp>>> = Rc::default();
    let c = conns.clone();
    listener
        .listen(128, move |l, status| {
            status.expect("listen");
            let conn = Tcp::new(l.get_loop());
            l.accept(&conn).expect("accept");
            conn.nodelay(true).expect("nodelay");
            conn.read_start(|conn, r| match r {
                ReadResult::Data(d) => echo_plain(conn, d),
                _ => conn.close(|| {}),
            })
            .expect("read");
            c.borrow_mut().push(conn);
        })
        .expect("listen");
    let addr = listener.sockname().expect("sockname");
    (ServerSide::Tcp(listener, conns), addr)
}

/// A client: its handle and the bytes of the current echo still due.
struct Client {
    tcp: Tcp,
    due: Rc<Cell<usize>>,
}

fn clients(lp: &Loop, addr: SocketAddr, pending: &Rc<Cell<usize>>) -> Vec<Client> {
    let connected = Rc::new(Cell::new(0));
    let list: Vec<Client> = (0..CLIENTS)
        .map(|_| {
            let tcp = Tcp::new(lp);
            let due = Rc::new(Cell::new(0usize));
            let (d, p, c) = (due.clone(), pending.clone(), connected.clone());
            tcp.connect(addr, move |tcp, status| {
                status.expect("connect");
                tcp.nodelay(true).expect("nodelay");
                c.set(c.get() + 1);
                let (d, p) = (d.clone(), p.clone());
                tcp.read_start(move |_, r| {
                    if let ReadResult::Data(data) = r {
                        let left = d.get() - data.len();
                        d.set(left);
                        if left == 0 {
                            p.set(p.get() - 1);
                        }
                    }
                })
                .expect("read");
            })
            .expect("connect");
            Client { tcp, due }
        })
        .collect();
    while connected.get() < CLIENTS {
        lp.run(RunMode::Once).expect("run");
    }
    list
}

/// One round: every client sends `msg` and gets it back.
fn round(lp: &Loop, clients: &[Client], pending: &Cell<usize>, msg: &[u8]) {
    pending.set(clients.len());
    for c in clients {
        c.due.set(msg.len());
        echo_plain(&c.tcp, msg);
    }
    while pending.get() > 0 {
        lp.run(RunMode::Once).expect("run");
    }
}

/// Runs `rounds` rounds of one server kind, for callgrind.
fn rounds_only(rounds: usize, server: &str, size: usize) {
    let lp = Loop::new().expect("loop");
    let (_server, addr) = if server == "tcp" {
        tcp_server(&lp)
    } else {
        transport_server(&lp)
    };
    let pending = Rc::new(Cell::new(0));
    let list = clients(&lp, addr, &pending);
    let msg = vec![b'e'; size];
    for _ in 0..rounds {
        round(&lp, &list, &pending, &msg);
    }
    // The process exits with the loop open: nothing to tear down.
}

fn echo(c: &mut Criterion) {
    if let Ok(rounds) = std::env::var("ECHO_ROUNDS") {
        let server = std::env::var("ECHO_SERVER").unwrap_or_else(|_| "transport".into());
        let size = std::env::var("ECHO_SIZE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1024);
        rounds_only(rounds.parse().expect("ECHO_ROUNDS"), &server, size);
        return;
    }
    for size in [1024usize, 10 * 1024, 100 * 1024] {
        let mut group = c.benchmark_group(format!("echo/{}KiB", size / 1024));
        group.throughput(Throughput::Elements(CLIENTS as u64));
        for (name, make) in [
            ("tcp", tcp_server as fn(&Loop) -> (ServerSide, SocketAddr)),
            ("transport", transport_server),
        ] {
            let lp = Loop::new().expect("loop");
            let (server, addr) = make(&lp);
            let pending = Rc::new(Cell::new(0));
            let list = clients(&lp, addr, &pending);
            let msg = vec![b'e'; size];
            group.bench_function(name, |b| b.iter(|| round(&lp, &list, &pending, &msg)));
            for c in &list {
                c.tcp.close(|| {});
            }
            match server {
                ServerSide::Transport(s) => {
                    s.close();
                    s.close_clients();
                }
                ServerSide::Tcp(l, conns) => {
                    l.close(|| {});
                    for c in conns.borrow().iter() {
                        if !c.is_closing() {
                            c.close(|| {});
                        }
                    }
                }
            }
            lp.run(RunMode::Default).expect("run");
        }
        group.finish();
    }
}

criterion_group!(benches, echo);
criterion_main!(benches);
