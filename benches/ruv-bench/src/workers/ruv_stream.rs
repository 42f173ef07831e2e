//! The stream, process and signal scenarios on ruv's Rust API (`Tcp`,
//! `Pipe`, `Process`, `Signal`), written as an application would; the
//! same scenarios and parameters as `c/uvstream.c`, `c/uvspawn.c` and the
//! signal part of `c/uvbench.c`.

use super::common::{
    fatal, loopback_any, port_addr, ready, unix_kind, BATCH_DATA, PAYLOAD, PUMP_CHUNK,
    PUMP_INFLIGHT,
};
use super::{exit_with, Outcome};
use crate::kv::Params;
use crate::measure::{cpu_ns, status_kb};
use ruv::{
    Loop, Pipe, Process, ProcessOptions, ReadResult, RunMode, Signal, Stdio, Tcp, TcpFlags, Timer,
};
use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

static PUMP_BUF: [u8; PUMP_CHUNK] = [b'p'; PUMP_CHUNK];

/// Runs `scenario` if it is one of this module's; `None` otherwise.
pub fn run(scenario: &str, p: &Params) -> Option<Outcome> {
    Some(match scenario {
        "echo-server" => echo_server(p),
        "pingpong-stream" => pingpong_stream(p),
        "pump-send" => pump_send(p),
        "write-batch" => write_batch(p),
        "pound" => pound(p),
        "idle-server" => idle_server(p),
        "spawn" => spawn(p),
        "signal-latency" => signal_latency(p),
        "signal-burst" => signal_burst(p),
        _ => return None,
    })
}

fn listening(lp: &Loop, cb: impl FnMut(&Tcp, ruv::Result<()>) + 'static) -> ruv::Result<Tcp> {
    let server = Tcp::new(lp);
    server.bind(loopback_any(), TcpFlags::empty())?;
    server.listen(4096, cb)?;
    Ok(server)
}

/// Accepts the waiting connection into a new handle, with `TCP_NODELAY`
/// as every implementation sets.
fn accept_tcp(server: &Tcp) -> Tcp {
    let conn = Tcp::new(server.get_loop());
    if let Err(e) = server.accept(&conn).and_then(|()| conn.nodelay(true)) {
        fatal("accept", e);
    }
    conn
}

/// One figure of a measuring window: (wall ns, CPU ns) at its start.
#[derive(Default)]
struct Window {
    start: Cell<Option<(Instant, u64)>>,
    end: Cell<Option<(Instant, u64)>>,
}

impl Window {
    fn open(&self) {
        if self.start.get().is_none() {
            self.start.set(Some((Instant::now(), cpu_ns())));
        }
    }
    fn close(&self) {
        self.end.set(Some((Instant::now(), cpu_ns())));
    }
    /// (`ns`, `cpu_ns`).
    fn spans(&self) -> (u64, u64) {
        match (self.start.get(), self.end.get()) {
            (Some((t0, c0)), Some((t1, c1))) => ((t1 - t0).as_nanos() as u64, c1 - c0),
            _ => (0, 0),
        }
    }
}

/// Echoes every byte until `conns` connections ended.
fn echo_server(p: &Params) -> Outcome {
    let conns = p.u64("conns", 1);
    let lp = Loop::new()?;
    let window = Rc::new(Window::default());
    let echoed = Rc::new(Cell::new(0u64));
    let ended = Rc::new(Cell::new(0u64));
    let (w, e, n) = (window.clone(), echoed.clone(), ended.clone());
    let server = listening(&lp, move |server, status| {
        if let Err(err) = status {
            fatal("connection", err);
        }
        let conn = accept_tcp(server);
        let (w, e, n, server) = (w.clone(), e.clone(), n.clone(), server.clone());
        let started = conn.read_start(move |conn, read| match read {
            ReadResult::Data(data) => {
                w.open();
                e.set(e.get() + data.len() as u64);
                if let Err(err) = conn.write(&[data], |_, _| {}) {
                    fatal("write", err);
                }
            }
            ReadResult::Eof | ReadResult::Error(_) => {
                conn.close(|| {});
                n.set(n.get() + 1);
                if n.get() == conns {
                    w.close();
                    server.close(|| {});
                }
            }
        });
        if let Err(err) = started {
            fatal("read_start", err);
        }
    })?;
    ready(server.sockname()?.port());
    lp.run(RunMode::Default)?;
    let (ns, cpu) = window.spans();
    Ok(vec![
        ("echoes", echoed.get() / PAYLOAD.len() as u64),
        ("cpu_ns", cpu),
        ("ns", ns),
    ])
}

/// The stream operations the kind-generic scenarios use, on `Tcp` and
/// `Pipe` alike.
trait Stream: Clone + 'static {
    fn read_start(&self, cb: impl FnMut(&Self, ReadResult<'_>) + 'static) -> ruv::Result<()>;
    fn write(
        &self,
        bufs: &[&[u8]],
        cb: impl FnOnce(&Self, ruv::Result<()>) + 'static,
    ) -> ruv::Result<()>;
    fn shutdown(&self, cb: impl FnOnce(&Self, ruv::Result<()>) + 'static) -> ruv::Result<()>;
    fn close(&self, cb: impl FnOnce() + 'static);
}

macro_rules! impl_stream {
    ($ty:ty) => {
        impl Stream for $ty {
            fn read_start(
                &self,
                cb: impl FnMut(&Self, ReadResult<'_>) + 'static,
            ) -> ruv::Result<()> {
                <$ty>::read_start(self, cb)
            }
            fn write(
                &self,
                bufs: &[&[u8]],
                cb: impl FnOnce(&Self, ruv::Result<()>) + 'static,
            ) -> ruv::Result<()> {
                <$ty>::write(self, bufs, cb)
            }
            fn shutdown(
                &self,
                cb: impl FnOnce(&Self, ruv::Result<()>) + 'static,
            ) -> ruv::Result<()> {
                <$ty>::shutdown(self, cb)
            }
            fn close(&self, cb: impl FnOnce() + 'static) {
                ruv::Handle::close(self, cb)
            }
        }
    };
}
impl_stream!(Tcp);
impl_stream!(Pipe);

/// Ping-pong over one TCP or Unix-socket connection, both ends here.
fn pingpong_stream(p: &Params) -> Outcome {
    let lp = Loop::new()?;
    let ms = p.u64("duration_ms", 1000);
    if unix_kind(p) {
        let path = p
            .str("path")
            .ok_or("pingpong-stream: kind=unix needs path=")?;
        let _ = std::fs::remove_file(path);
        let server = Pipe::new(&lp, false);
        server.bind(path)?;
        server.listen(128, |server, status| {
            if let Err(err) = status {
                fatal("connection", err);
            }
            let conn = Pipe::new(server.get_loop(), false);
            if let Err(err) = server.accept(&conn) {
                fatal("accept", err);
            }
            echo_on(&conn);
        })?;
        let client = Pipe::new(&lp, false);
        let state = PingPong::new(&lp, ms, server.clone())?;
        client.connect(path, move |c, status| state.connected(c, status))?;
        lp.run(RunMode::Default)?;
        let _ = std::fs::remove_file(path);
        let trips = PINGPONG.with(|s| s.get());
        Ok(vec![("round_trips", trips.0), ("ns", trips.1)])
    } else {
        let server = listening(&lp, |server, status| {
            if let Err(err) = status {
                fatal("connection", err);
            }
            echo_on(&accept_tcp(server));
        })?;
        let addr = server.sockname()?;
        let client = Tcp::new(&lp);
        let state = PingPong::new(&lp, ms, server.clone())?;
        client.connect(addr, move |c, status| {
            if let Err(err) = c.nodelay(true) {
                fatal("nodelay", err);
            }
            state.connected(c, status)
        })?;
        lp.run(RunMode::Default)?;
        let trips = PINGPONG.with(|s| s.get());
        Ok(vec![("round_trips", trips.0), ("ns", trips.1)])
    }
}

thread_local! {
    /// (round trips, ns) of the ping-pong.
    static PINGPONG: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// Echoes what `conn` reads; closes it at the end.
fn echo_on<S: Stream>(conn: &S) {
    let started = conn.read_start(|conn, read| match read {
        ReadResult::Data(data) => {
            if let Err(err) = conn.write(&[data], |_, _| {}) {
                fatal("write", err);
            }
        }
        ReadResult::Eof | ReadResult::Error(_) => conn.close(|| {}),
    });
    if let Err(err) = started {
        fatal("read_start", err);
    }
}

/// The pinging side of a ping-pong: its clock, and what closes at the end.
struct PingPong<L: Stream> {
    clock: Timer,
    time_up: Rc<Cell<bool>>,
    listener: L,
    ms: u64,
}

impl<L: Stream> PingPong<L> {
    fn new(lp: &Loop, ms: u64, listener: L) -> ruv::Result<PingPong<L>> {
        Ok(PingPong {
            clock: Timer::new(lp),
            time_up: Rc::new(Cell::new(false)),
            listener,
            ms,
        })
    }

    fn connected<S: Stream>(self, client: &S, status: ruv::Result<()>) {
        if let Err(err) = status {
            fatal("connect", err);
        }
        let t = self.time_up.clone();
        if let Err(err) = self.clock.start(self.ms, 0, move |_| t.set(true)) {
            fatal("timer", err);
        }
        let start = Instant::now();
        let trips = Cell::new(0u64);
        let inflight = Cell::new(PAYLOAD.len());
        let started = client.read_start(move |c, read| {
            let ReadResult::Data(data) = read else {
                fatal("ping-pong read", format!("{read:?}"));
            };
            inflight.set(inflight.get() - data.len());
            if inflight.get() > 0 {
                return;
            }
            trips.set(trips.get() + 1);
            if self.time_up.get() {
                PINGPONG.with(|s| s.set((trips.get(), start.elapsed().as_nanos() as u64)));
                c.close(|| {});
                self.listener.close(|| {});
                self.clock.close(|| {});
                return;
            }
            inflight.set(PAYLOAD.len());
            if let Err(err) = c.write(&[PAYLOAD], |_, _| {}) {
                fatal("write", err);
            }
        });
        if let Err(err) = started.and_then(|()| client.write(&[PAYLOAD], |_, _| {})) {
            fatal("write", err);
        }
    }
}

/// Counters of a pump.
#[derive(Default)]
struct Pump {
    time_up: Cell<bool>,
    pending: Cell<usize>,
    bytes: Cell<u64>,
    window: Window,
}

/// One pump write; its callback writes the next one, or shuts down once
/// time is up and nothing is pending.
fn pump_write<S: Stream>(s: &S, st: Rc<Pump>) {
    st.pending.set(st.pending.get() + 1);
    st.bytes.set(st.bytes.get() + PUMP_CHUNK as u64);
    let written = s.write(&[&PUMP_BUF], move |s, status| {
        if let Err(err) = status {
            fatal("write", err);
        }
        st.pending.set(st.pending.get() - 1);
        if !st.time_up.get() {
            pump_write(s, st);
        } else if st.pending.get() == 0 {
            let shut = s.shutdown(move |s, status| {
                if let Err(err) = status {
                    fatal("shutdown", err);
                }
                st.window.close();
                s.close(|| {});
            });
            if let Err(err) = shut {
                fatal("shutdown", err);
            }
        }
    });
    if let Err(err) = written {
        fatal("write", err);
    }
}

/// Starts the clock and the first writes once connected.
fn pump_connected<S: Stream>(
    s: &S,
    status: ruv::Result<()>,
    st: &Rc<Pump>,
    clock: &Timer,
    ms: u64,
) {
    if let Err(err) = status {
        fatal("connect", err);
    }
    let (t, c) = (st.clone(), clock.clone());
    if let Err(err) = clock.start(ms, 0, move |_| {
        t.time_up.set(true);
        c.close(|| {});
    }) {
        fatal("timer", err);
    }
    st.window.open();
    for _ in 0..PUMP_INFLIGHT {
        pump_write(s, st.clone());
    }
}

/// 64 KiB writes to a sink for `duration_ms`, then a shutdown.
fn pump_send(p: &Params) -> Outcome {
    let lp = Loop::new()?;
    let ms = p.u64("duration_ms", 1000);
    let st = Rc::new(Pump::default());
    let clock = Timer::new(&lp);
    let s = st.clone();
    if unix_kind(p) {
        let path = p.str("path").ok_or("pump-send: kind=unix needs path=")?;
        let pipe = Pipe::new(&lp, false);
        pipe.connect(path, move |c, status| {
            pump_connected(c, status, &s, &clock, ms)
        })?;
    } else {
        let tcp = Tcp::new(&lp);
        tcp.connect(port_addr(p)?, move |c, status| {
            pump_connected(c, status, &s, &clock, ms)
        })?;
    }
    lp.run(RunMode::Default)?;
    let (ns, cpu) = st.window.spans();
    Ok(vec![("bytes", st.bytes.get()), ("cpu_ns", cpu), ("ns", ns)])
}

thread_local! {
    /// Write callbacks of the write batch: a counter the callbacks reach
    /// without capturing anything, so that each is a zero-sized closure
    /// (no allocation per write, as libuv's requests are one array).
    static WRITTEN: Cell<u64> = const { Cell::new(0) };
}

/// libuv's tcp_write_batch: `count` writes queued behind the connect, then
/// a shutdown; the loop's run is timed.
fn write_batch(p: &Params) -> Outcome {
    let count = p.u64("count", 1_000_000);
    let lp = Loop::new()?;
    let tcp = Tcp::new(&lp);
    tcp.connect(port_addr(p)?, |_, status| {
        if let Err(err) = status {
            fatal("connect", err);
        }
    })?;
    for _ in 0..count {
        tcp.write(&[BATCH_DATA], |_, status| {
            if let Err(err) = status {
                fatal("write", err);
            }
            WRITTEN.with(|w| w.set(w.get() + 1));
        })?;
    }
    tcp.shutdown(|t, status| {
        if let Err(err) = status {
            fatal("shutdown", err);
        }
        t.close(|| {});
    })?;
    let start = Instant::now();
    lp.run(RunMode::Default)?;
    let ns = start.elapsed().as_nanos() as u64;
    let written = WRITTEN.with(Cell::get);
    if written != count {
        return Err(format!("{written} of {count} write callbacks ran").into());
    }
    Ok(vec![("writes", written), ("ns", ns)])
}

/// Counters of a pound.
#[derive(Default)]
struct Pound {
    time_up: Cell<bool>,
    done: Cell<u64>,
}

/// One client: connect, close, and again until time is up.
fn pound_one(lp: &Loop, addr: SocketAddr, st: Rc<Pound>) {
    let tcp = Tcp::new(lp);
    let connected = tcp.connect(addr, move |tcp, status| {
        if let Err(err) = status {
            if !st.time_up.get() {
                fatal("connect", err);
            }
        }
        let lp = tcp.get_loop().clone();
        tcp.close(move || {
            st.done.set(st.done.get() + 1);
            if !st.time_up.get() {
                pound_one(&lp, addr, st);
            }
        });
    });
    if let Err(err) = connected {
        fatal("connect", err);
    }
}

/// libuv's pound with both sides in this loop: `conns` clients connect,
/// the server accepts and closes, each client closes and starts again.
fn pound(p: &Params) -> Outcome {
    let conns = p.u64("conns", 100);
    let lp = Loop::new()?;
    let server = listening(&lp, |server, status| {
        if let Err(err) = status {
            fatal("connection", err);
        }
        let conn = Tcp::new(server.get_loop());
        if let Err(err) = server.accept(&conn) {
            fatal("accept", err);
        }
        conn.close(|| {});
    })?;
    let addr = server.sockname()?;
    let st = Rc::new(Pound::default());
    let clock = Timer::new(&lp);
    let end = Rc::new(Cell::new(None::<Instant>));
    let (s, e) = (st.clone(), end.clone());
    clock.start(p.u64("duration_ms", 1000), 0, move |t| {
        s.time_up.set(true);
        e.set(Some(Instant::now()));
        server.close(|| {});
        t.close(|| {});
    })?;
    let start = Instant::now();
    for _ in 0..conns {
        pound_one(&lp, addr, st.clone());
    }
    lp.run(RunMode::Default)?;
    let ns = end.get().map_or(0, |e| (e - start).as_nanos() as u64);
    Ok(vec![("connections", st.done.get()), ("ns", ns)])
}

/// Accepts `conns` connections, reading on each; resident memory.
fn idle_server(p: &Params) -> Outcome {
    let conns = p.u64("conns", 10_000);
    let lp = Loop::new()?;
    let accepted = Cell::new(0u64);
    let base_kb = Rc::new(Cell::new(0u64));
    let b = base_kb.clone();
    let server = listening(&lp, move |server, status| {
        if let Err(err) = status {
            fatal("connection", err);
        }
        if let Err(err) = accept_tcp(server).read_start(|_, _| {}) {
            fatal("read_start", err);
        }
        accepted.set(accepted.get() + 1);
        if accepted.get() == conns {
            exit_with(&[
                ("conns", conns),
                ("base_kb", b.get()),
                ("rss_kb", status_kb("VmRSS:")),
                ("hwm_kb", status_kb("VmHWM:")),
            ]);
        }
    })?;
    base_kb.set(status_kb("VmRSS:"));
    ready(server.sockname()?.port());
    lp.run(RunMode::Default)?;
    Err("the loop ended before every connection came".into())
}

thread_local! {
    /// Spawns done, and handles closed (the child and its pipe).
    static SPAWN: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// libuv's benchmark-spawn with `/bin/true`: spawn with stdout piped, read
/// to EOF, wait for the exit; the next spawn once both handles closed.
fn spawn(p: &Params) -> Outcome {
    let count = p.u64("count", 1000);
    let lp = Loop::new()?;
    let start = Instant::now();
    spawn_one(&lp, count);
    lp.run(RunMode::Default)?;
    let ns = start.elapsed().as_nanos() as u64;
    let (spawned, _) = SPAWN.with(Cell::get);
    if spawned != count {
        return Err(format!("{spawned} of {count} spawns").into());
    }
    Ok(vec![("spawns", spawned), ("ns", ns)])
}

/// Counts a closed handle; the second of a pair starts the next spawn.
fn spawn_closed(lp: &Loop, count: u64) {
    let (spawned, closed) = SPAWN.with(Cell::get);
    SPAWN.with(|s| s.set((spawned, closed + 1)));
    if (closed + 1) % 2 == 0 && spawned < count {
        spawn_one(lp, count);
    }
}

fn spawn_one(lp: &Loop, count: u64) {
    let out = Pipe::new(lp, false);
    let opts = ProcessOptions::new("/bin/true").with_stdio(vec![
        Stdio::Ignore,
        Stdio::CreatePipe(out.clone()),
        Stdio::Ignore,
    ]);
    let spawned = Process::spawn(lp, &opts, move |proc, status, signal| {
        if (status, signal) != (0, 0) {
            fatal(
                "spawn",
                format!("the child ended with {status}, signal {signal}"),
            );
        }
        let lp = proc.get_loop().clone();
        proc.close(move || spawn_closed(&lp, count));
    });
    if let Err(err) = spawned {
        fatal("spawn", err);
    }
    SPAWN.with(|s| s.set((s.get().0 + 1, s.get().1)));
    let reading = out.read_start(move |out, read| match read {
        ReadResult::Data(_) => {}
        ReadResult::Eof => {
            let lp = out.get_loop().clone();
            out.close(move || spawn_closed(&lp, count));
        }
        ReadResult::Error(err) => fatal("read", err),
    });
    if let Err(err) = reading {
        fatal("read_start", err);
    }
}

fn self_kill() {
    if let Err(err) = ruv::kill(std::process::id() as i32, sigusr1()) {
        fatal("kill", err);
    }
}

/// `SIGUSR1`'s number (through nix: the crate has no libc dependency).
fn sigusr1() -> i32 {
    nix::sys::signal::Signal::SIGUSR1 as i32
}

/// SIGUSR1 sent to itself, the next one from the callback.
fn signal_latency(p: &Params) -> Outcome {
    let count = p.u64("count", 100_000);
    let lp = Loop::new()?;
    let sig = Signal::new(&lp);
    let seen = Rc::new(Cell::new(0u64));
    let s = seen.clone();
    sig.start(sigusr1(), move |sig, _| {
        s.set(s.get() + 1);
        if s.get() < count {
            self_kill();
        } else {
            sig.close(|| {});
        }
    })?;
    let start = Instant::now();
    self_kill();
    lp.run(RunMode::Default)?;
    let ns = start.elapsed().as_nanos() as u64;
    Ok(vec![("signals", seen.get()), ("ns", ns)])
}

/// `count` SIGUSR1 sent at once, then the loop run until no more arrive.
fn signal_burst(p: &Params) -> Outcome {
    let count = p.u64("count", 1000);
    let lp = Loop::new()?;
    let sig = Signal::new(&lp);
    let seen = Rc::new(Cell::new(0u64));
    let s = seen.clone();
    sig.start(sigusr1(), move |_, _| s.set(s.get() + 1))?;
    let start = Instant::now();
    for _ in 0..count {
        self_kill();
    }
    let (mut quiet, mut last) = (0, start);
    while seen.get() < count && quiet < 100 {
        let before = seen.get();
        lp.run(RunMode::NoWait)?;
        if seen.get() == before {
            quiet += 1;
        } else {
            quiet = 0;
            last = Instant::now();
        }
    }
    sig.close(|| {});
    lp.run(RunMode::Default)?;
    Ok(vec![
        ("sent", count),
        ("signals", seen.get()),
        ("ns", (last - start).as_nanos() as u64),
    ])
}
