//! The echo server on ruv's asyncio layer (`ruv::endpoint`): a
//! [`Protocol`] whose `data_received` writes the data back through its
//! [`StreamTransport`], served by `create_server` — uvloop's echo
//! benchmark's protocol server. Same parameters and `RESULT` as the
//! `echo-server` of `ruv_stream.rs`, which is the same echo on a plain
//! `Tcp`: the difference between the two is the transport layer's cost.

use super::common::{fatal, ready, PAYLOAD};
use super::Outcome;
use crate::kv::Params;
use crate::measure::cpu_ns;
use ruv::endpoint::{create_server, Protocol, Server, ServerOptions, StreamTransport};
use ruv::{Loop, RunMode};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

/// Runs `scenario` if it is one of this module's; `None` otherwise.
pub fn run(scenario: &str, p: &Params) -> Option<Outcome> {
    match scenario {
        "echo-server" => Some(echo_server(p)),
        _ => None,
    }
}

/// What every connection's protocol shares: the byte count, the
/// measuring window, and the connections still to end.
struct Shared {
    echoed: Cell<u64>,
    start: Cell<Option<(Instant, u64)>>,
    end: Cell<Option<(Instant, u64)>>,
    left: Cell<u64>,
    server: RefCell<Option<Server>>,
}

/// The echo protocol.
struct Echo {
    shared: Rc<Shared>,
    transport: Option<StreamTransport>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: &StreamTransport) {
        self.transport = Some(transport.clone());
    }

    fn data_received(&mut self, data: &[u8]) {
        let s = &self.shared;
        if s.start.get().is_none() {
            s.start.set(Some((Instant::now(), cpu_ns())));
        }
        s.echoed.set(s.echoed.get() + data.len() as u64);
        if let Some(t) = &self.transport {
            if let Err(err) = t.write(data) {
                fatal("write", err);
            }
        }
    }

    fn connection_lost(&mut self, _err: Option<ruv::Error>) {
        self.transport = None;
        let s = &self.shared;
        s.left.set(s.left.get().saturating_sub(1));
        if s.left.get() == 0 {
            s.end.set(Some((Instant::now(), cpu_ns())));
            if let Some(server) = s.server.borrow_mut().take() {
                server.close();
            }
        }
    }
}

/// Echoes every byte until `conns` connections ended.
fn echo_server(p: &Params) -> Outcome {
    let lp = Loop::new()?;
    let shared = Rc::new(Shared {
        echoed: Cell::new(0),
        start: Cell::new(None),
        end: Cell::new(None),
        left: Cell::new(p.u64("conns", 1)),
        server: RefCell::new(None),
    });
    let made: Rc<RefCell<Option<ruv::Result<Server>>>> = Rc::default();
    let (s, m) = (shared.clone(), made.clone());
    create_server(
        &lp,
        move || Echo {
            shared: s.clone(),
            transport: None,
        },
        ServerOptions::new("127.0.0.1", 0).with_backlog(4096),
        move |r| *m.borrow_mut() = Some(r),
    );
    while made.borrow().is_none() {
        lp.run(RunMode::Once)?;
    }
    let server = made.borrow_mut().take().ok_or("create_server")??;
    let port = server
        .sockets()
        .first()
        .and_then(|name| name.inet())
        .ok_or("no TCP socket")?
        .port();
    *shared.server.borrow_mut() = Some(server);
    ready(port);
    lp.run(RunMode::Default)?;
    let (ns, cpu) = match (shared.start.get(), shared.end.get()) {
        (Some((t0, c0)), Some((t1, c1))) => ((t1 - t0).as_nanos() as u64, c1 - c0),
        _ => (0, 0),
    };
    Ok(vec![
        ("echoes", shared.echoed.get() / PAYLOAD.len() as u64),
        ("cpu_ns", cpu),
        ("ns", ns),
    ])
}
