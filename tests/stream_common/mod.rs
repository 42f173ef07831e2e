//! Helpers shared by the `stream_*` tests: a protocol that logs every
//! callback as text, with hooks, and ways to connect transports. Each test
//! file includes it with `mod stream_common;`.
#![allow(dead_code)]

use ruv::endpoint::{
    connect_accepted_socket, connect_read_pipe, connect_write_pipe, Protocol, StreamTransport,
};
use ruv::{Error, Loop, RunMode, Timer};
use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;

pub type Log = Rc<RefCell<Vec<String>>>;

type Hook<A> = Box<dyn FnMut(&StreamTransport, A)>;

/// Logs `made`, `data "text"` (or `data N bytes` past 64), `eof`,
/// `pause SIZE`, `resume SIZE`, `lost None` / `lost NAME`. Hooks run
/// after the entry is logged. `eof_received` returns `keep_open`.
#[derive(Default)]
pub struct Rec {
    pub log: Log,
    pub transport: Option<StreamTransport>,
    pub keep_open: bool,
    /// Every byte received, in order.
    pub received: Rc<RefCell<Vec<u8>>>,
    pub on_made: Option<Hook<()>>,
    pub on_data: Option<Hook<Vec<u8>>>,
    pub on_eof: Option<Hook<()>>,
    pub on_pause: Option<Hook<()>>,
    pub on_resume: Option<Hook<()>>,
    pub on_lost: Option<Hook<()>>,
}

pub fn error_name(err: &Error) -> String {
    match err {
        Error::ClosedHandle => "closed".into(),
        other => other.code().name().to_string(),
    }
}

impl Rec {
    pub fn new(log: &Log) -> Rec {
        Rec {
            log: log.clone(),
            ..Rec::default()
        }
    }

    fn push(&self, s: String) {
        self.log.borrow_mut().push(s);
    }

    fn size(&self) -> usize {
        self.transport
            .as_ref()
            .map_or(usize::MAX, |t| t.get_write_buffer_size())
    }
}

macro_rules! hook {
    ($self:ident, $name:ident, $arg:expr) => {
        if let (Some(h), Some(t)) = (&mut $self.$name, &$self.transport) {
            h(t, $arg);
        }
    };
}

impl Protocol for Rec {
    fn connection_made(&mut self, transport: &StreamTransport) {
        self.transport = Some(transport.clone());
        self.push("made".into());
        hook!(self, on_made, ());
    }

    fn data_received(&mut self, data: &[u8]) {
        if data.len() <= 64 {
            self.push(format!("data {:?}", String::from_utf8_lossy(data)));
        } else {
            self.push(format!("data {} bytes", data.len()));
        }
        self.received.borrow_mut().extend_from_slice(data);
        hook!(self, on_data, data.to_vec());
    }

    fn eof_received(&mut self) -> bool {
        self.push("eof".into());
        hook!(self, on_eof, ());
        self.keep_open
    }

    fn pause_writing(&mut self) {
        let s = format!("pause {}", self.size());
        self.push(s);
        hook!(self, on_pause, ());
    }

    fn resume_writing(&mut self) {
        let s = format!("resume {}", self.size());
        self.push(s);
        hook!(self, on_resume, ());
    }

    fn connection_lost(&mut self, err: Option<Error>) {
        let s = match &err {
            None => "lost None".to_string(),
            Some(e) => format!("lost {}", error_name(e)),
        };
        self.push(s);
        hook!(self, on_lost, ());
        // Break the protocol -> transport cycle.
        self.transport = None;
    }
}

/// Collapses runs of `data` entries into one `data N bytes` entry with
/// their total, so tests need not depend on how the kernel split a
/// stream.
pub fn merged(log: &Log) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut run = 0usize;
    for e in log.borrow().iter() {
        if let Some(rest) = e.strip_prefix("data ") {
            run += if let Some(n) = rest.strip_suffix(" bytes") {
                n.parse::<usize>().unwrap()
            } else {
                // `"text"`: its length without the quotes.
                quoted_len(rest)
            };
            continue;
        }
        if run > 0 {
            out.push(format!("data {run} bytes"));
            run = 0;
        }
        out.push(e.clone());
    }
    if run > 0 {
        out.push(format!("data {run} bytes"));
    }
    out
}

fn quoted_len(quoted: &str) -> usize {
    quoted.len() - 2
}

pub fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

type Made = ruv::Result<(StreamTransport, Rc<RefCell<Rec>>)>;

/// Runs `start`, which hands the callback it is given to a `connect_*`
/// call as its `on_done`, then the loop until that callback ran.
fn wait_made(
    lp: &Loop,
    start: impl FnOnce(Box<dyn FnOnce(Made)>),
) -> (StreamTransport, Rc<RefCell<Rec>>) {
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    start(Box::new(move |r| *o.borrow_mut() = Some(r.unwrap())));
    run_until(lp, || out.borrow().is_some());
    out.take().unwrap()
}

/// A transport on a connected socket (asyncio's
/// `connect_accepted_socket`) for `rec`. Runs the loop until it is made.
pub fn accepted_transport(
    lp: &Loop,
    rec: Rec,
    sock: impl Into<OwnedFd>,
) -> (StreamTransport, Rc<RefCell<Rec>>) {
    wait_made(lp, |done| {
        connect_accepted_socket(lp, move || rec, sock, done)
    })
}

/// A transport on one end of a Unix socket pair (see
/// [`accepted_transport`]), the other end given back as a plain socket.
pub fn pair_transport(lp: &Loop, rec: Rec) -> (StreamTransport, Rc<RefCell<Rec>>, UnixStream) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let (t, p) = accepted_transport(lp, rec, ours);
    (t, p, theirs)
}

/// Fills the socket: writes until the transport buffers, with the peer not
/// reading. Returns the bytes written.
pub fn fill(t: &StreamTransport) -> usize {
    let chunk = vec![b'x'; 64 * 1024];
    let mut written = 0;
    while t.get_write_buffer_size() == 0 {
        t.write(&chunk).unwrap();
        written += chunk.len();
    }
    written
}

/// [`fill`] with the high-water mark out of reach first, so that the
/// protocol gets no `pause_writing`.
pub fn fill_quietly(t: &StreamTransport) -> usize {
    t.set_write_buffer_limits(Some(usize::MAX), None).unwrap();
    fill(t)
}

/// A read pipe's transport (asyncio's `connect_read_pipe`) on `fd` for
/// a [`Rec`] logging to `log`. Runs the loop until the transport is made.
pub fn read_pipe_transport(lp: &Loop, log: &Log, fd: impl Into<OwnedFd>) -> StreamTransport {
    let rec = Rec::new(log);
    wait_made(lp, |done| connect_read_pipe(lp, move || rec, fd, done)).0
}

/// A write pipe's transport (asyncio's `connect_write_pipe`) on `fd`,
/// as [`read_pipe_transport`].
pub fn write_pipe_transport(lp: &Loop, log: &Log, fd: impl Into<OwnedFd>) -> StreamTransport {
    let rec = Rec::new(log);
    wait_made(lp, |done| connect_write_pipe(lp, move || rec, fd, done)).0
}

/// Runs the loop until `cond` holds (each turn blocks for events).
pub fn run_until(lp: &Loop, mut cond: impl FnMut() -> bool) {
    let guard = watchdog(lp, 20_000);
    while !cond() {
        lp.run(RunMode::Once).unwrap();
    }
    guard.close(|| {});
}

/// Runs the loop without blocking until `cond` holds: for conditions
/// another thread makes true, which would not wake a blocked loop.
pub fn poll_until(lp: &Loop, mut cond: impl FnMut() -> bool) {
    let guard = watchdog(lp, 20_000);
    while !cond() {
        lp.run(RunMode::NoWait).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    guard.close(|| {});
}

/// Runs the loop until nothing is left in it, then closes it.
pub fn run_to_end(lp: &Loop) {
    lp.run(RunMode::Default).unwrap();
    lp.close().unwrap();
}

/// An unreferenced timer that panics if the test still runs after `ms`.
pub fn watchdog(lp: &Loop, ms: u64) -> Timer {
    let t = Timer::new(lp);
    t.unref();
    t.start(ms, 0, move |_| {
        panic!("watchdog: test still running after {ms} ms")
    })
    .unwrap();
    t
}

/// Reads from a plain socket until its end of stream; everything read.
pub fn read_to_end(mut s: &UnixStream) -> Vec<u8> {
    use std::io::Read;
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    all
}
