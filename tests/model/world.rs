//! The model: every handle the program created, what each one should be
//! doing, every datagram sent, and the log that reproduces a failure.

use super::rng::Rng;
use ruv::{
    Async, Check, Handle, Idle, Loop, Pipe, Poll, PollEvents, Prepare, Process, Signal, Tcp, Timer,
    Udp,
};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::os::unix::net::UnixDatagram;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread::JoinHandle;

/// The world shared by the program and every callback it installs.
pub type W = Rc<RefCell<World>>;

/// The last lines of the op log, kept outside the world so that they
/// survive a panic wherever it happens.
pub type Log = Rc<RefCell<VecDeque<String>>>;

/// Log lines kept: the last 400, or all of them when a single seed is
/// reproduced (`RUV_MODEL_SEED`).
pub fn log_lines() -> usize {
    if std::env::var_os("RUV_MODEL_SEED").is_some() {
        usize::MAX
    } else {
        400
    }
}

/// A model defect: panics with the message (the runner prints the seed).
#[macro_export]
macro_rules! defect {
    ($($arg:tt)*) => { panic!("DEFECT: {}", format!($($arg)*)) };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Timer,
    Idle,
    Prepare,
    Check,
    Async,
    Poll,
    Udp,
    Signal,
    Process,
    Pipe,
    /// A connected TCP handle (or the accepted end still to be accepted).
    Tcp,
    /// A listening TCP handle.
    Listener,
}

/// The program's own handle value; `None` in [`Ent::obj`] once the program
/// dropped it (the handle lives on in the loop).
pub enum Obj {
    Timer(Timer),
    Idle(Idle),
    Prepare(Prepare),
    Check(Check),
    Async(Async),
    Poll(Poll),
    Udp(Udp),
    Signal(Signal),
    Process(Process),
    Pipe(Pipe),
    /// A connected or listening TCP handle.
    Tcp(Tcp),
}

impl Obj {
    pub fn handle(&self) -> &Handle {
        match self {
            Obj::Timer(h) => h,
            Obj::Idle(h) => h,
            Obj::Prepare(h) => h,
            Obj::Check(h) => h,
            Obj::Async(h) => h,
            Obj::Poll(h) => h,
            Obj::Udp(h) => h,
            Obj::Signal(h) => h,
            Obj::Process(h) => h,
            Obj::Pipe(h) => h,
            Obj::Tcp(h) => h,
        }
    }
}

#[derive(Default)]
pub struct UdpModel {
    /// Loopback address datagrams to this socket go to, once it has one.
    pub addr: Option<SocketAddr>,
    pub peer: Option<usize>,
    /// The address `peer` had when connected to.
    pub peer_addr: Option<SocketAddr>,
    /// Bumped by every connect and disconnect.
    pub connect_epoch: u64,
    pub ever_connected: bool,
    pub receiving: bool,
    /// Accepted sends whose callback has not run: datagram id → bytes.
    pub outstanding: BTreeMap<u64, usize>,
    pub gro: bool,
    /// Datagrams sent here and not delivered yet (keeps the receive buffer
    /// far from full, so the model may expect every one of them).
    pub undelivered: usize,
    /// Payload bytes of those.
    pub undelivered_bytes: usize,
    /// Its datagrams of a few KiB must wait in the send queue
    /// (`util::choked_sender`) until it is unchoked.
    pub choked: bool,
}

pub struct Ent {
    pub kind: Kind,
    pub id: u64,
    pub obj: Option<Obj>,
    /// The model's own handles (heartbeat timer, marker check watcher).
    pub internal: bool,
    pub closing: bool,
    pub close_cbs: u32,
    /// Its first close was `close_to_hook`: the loop's hook owes the call.
    pub to_hook: bool,
    /// A send callback ran after close: the closing phase is finishing
    /// this handle's close.
    pub finishing_close: bool,
    /// Timer: `(due, start sequence)` while armed.
    pub armed: Option<(u64, u64)>,
    pub repeat: u64,
    /// Timer: started at least once (`again` needs it). Watcher / poll:
    /// started now.
    pub started: bool,
    /// Watcher: sequence number of its last start (most recent first).
    pub start_seq: u64,
    /// Watcher: the iteration it last ran in.
    pub ran_in: u64,
    pub events: PollEvents,
    /// Poll: the socket pair, shared by the poll handles of one descriptor.
    pub pair: Option<Rc<(UnixDatagram, UnixDatagram)>>,
    /// Poll: bytes waiting in the pair (the same in each handle sharing it).
    pub pokes: u32,
    pub udp: UdpModel,
    /// Async: sends counted before they are made; `seen` is the count the
    /// last callback observed.
    pub async_sends: Arc<AtomicU64>,
    pub async_seen: u64,
    pub async_threads: bool,
    pub async_has_cb: bool,
    /// Signal: the signal watched (0: stopped), whether one-shot, the
    /// callbacks owed for catches, and a count of its starts and stops.
    pub sig: i32,
    pub sig_oneshot: bool,
    pub sig_owed: u32,
    pub sig_epoch: u64,
    /// Process: the status its child exits with, whether a kill was sent
    /// before its exit callback, and whether that callback ran.
    pub proc_status: i64,
    pub proc_killed: bool,
    pub proc_exited: bool,
    /// Pipe: the other end of its pair, its writes whose callback has not
    /// run (number, bytes), the bytes due to arrive here in order, whether
    /// it reads, whether it was shut down, and whether a write or read
    /// failed on it.
    pub st_peer: usize,
    pub st_pending: VecDeque<(u64, usize)>,
    pub st_inbound: VecDeque<u8>,
    pub st_reading: bool,
    pub st_shut: bool,
    pub st_broken: bool,
    /// Stream: its shutdown callback ran, and reported success (the peer
    /// was sent the end).
    pub st_shut_done: bool,
    pub st_fin: bool,
    /// TCP: closed with `close_reset`.
    pub st_reset: bool,
    /// TCP client: its connect callback has not run.
    pub st_connecting: bool,
    /// TCP accepted end not accepted yet: the client's address (its
    /// peer name), and the listener it waits in.
    pub st_addr: Option<SocketAddr>,
    pub st_listener: usize,
    /// Listener: its address, and connection callbacks not followed by an
    /// accept yet.
    pub listen_addr: Option<SocketAddr>,
    pub st_unaccepted: u32,
}

impl Ent {
    pub fn new(kind: Kind, obj: Obj) -> Ent {
        let mut ent = Ent::placeholder(kind);
        ent.id = obj.handle().id();
        ent.obj = Some(obj);
        ent
    }

    /// An entry without a handle yet (a TCP connection the listener has
    /// not accepted).
    pub fn placeholder(kind: Kind) -> Ent {
        Ent {
            kind,
            id: u64::MAX,
            obj: None,
            internal: false,
            closing: false,
            close_cbs: 0,
            to_hook: false,
            finishing_close: false,
            armed: None,
            repeat: 0,
            started: false,
            start_seq: 0,
            ran_in: u64::MAX,
            events: PollEvents::empty(),
            pair: None,
            pokes: 0,
            udp: UdpModel::default(),
            async_sends: Arc::default(),
            async_seen: 0,
            async_threads: false,
            async_has_cb: false,
            sig: 0,
            sig_oneshot: false,
            sig_owed: 0,
            sig_epoch: 0,
            proc_status: 0,
            proc_killed: false,
            proc_exited: false,
            st_peer: usize::MAX,
            st_pending: VecDeque::new(),
            st_inbound: VecDeque::new(),
            st_reading: false,
            st_shut: false,
            st_broken: false,
            st_shut_done: false,
            st_fin: false,
            st_reset: false,
            st_connecting: false,
            st_addr: None,
            st_listener: usize::MAX,
            listen_addr: None,
            st_unaccepted: 0,
        }
    }

    /// Whether a handle stands behind the entry (not a connection still
    /// waiting to be accepted, or reset before it was).
    pub fn has_handle(&self) -> bool {
        self.id != u64::MAX
    }

    /// Open for operations: the program holds it and has not closed it.
    pub fn usable(&self) -> bool {
        self.obj.is_some() && !self.closing && !self.internal
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendState {
    /// Accepted by `send`; its callback has not run.
    Waiting,
    Sent,
    Failed,
}

pub struct Dgram {
    pub from: usize,
    pub to: usize,
    pub to_addr: SocketAddr,
    pub state: SendState,
    /// The receiver's connect epoch when this was sent.
    pub epoch: u64,
    /// The receiver accepted datagrams from the sender when it was sent.
    pub admissible: bool,
    pub delivered: u32,
    /// The sender's port, once known (a queued send from a socket without
    /// a port yet gets one only when it leaves).
    pub from_port: Option<u16>,
    pub len: usize,
    /// Sent to the connected peer: the sender's connect epoch then. A
    /// queued send leaves later; if the sender was disconnected meanwhile it
    /// fails with EDESTADDRREQ, if connected elsewhere it goes there (as in
    /// libuv).
    pub sender_epoch: Option<u64>,
    /// The sender's connect epoch when the send was made: a queued send
    /// that leaves after a disconnect leaves from a new port.
    pub from_epoch: u64,
}

/// Counts callbacks alive in the loop: every callback captures one.
pub struct LiveGuard(Rc<Cell<i64>>);

impl LiveGuard {
    pub fn new(count: &Rc<Cell<i64>>) -> LiveGuard {
        count.set(count.get() + 1);
        LiveGuard(count.clone())
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// What the programs exercised, for the summary line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub programs: u64,
    pub ops: u64,
    pub callbacks: u64,
    pub timer_fires: u64,
    pub datagrams_sent: u64,
    pub datagrams_checked: u64,
    /// TCP connections accepted, `close_reset`s made, and stream bytes
    /// read and checked against what was written.
    pub tcp_accepted: u64,
    pub tcp_resets: u64,
    pub stream_bytes_checked: u64,
    pub closes: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.programs += o.programs;
        self.ops += o.ops;
        self.callbacks += o.callbacks;
        self.timer_fires += o.timer_fires;
        self.datagrams_sent += o.datagrams_sent;
        self.datagrams_checked += o.datagrams_checked;
        self.tcp_accepted += o.tcp_accepted;
        self.tcp_resets += o.tcp_resets;
        self.stream_bytes_checked += o.stream_bytes_checked;
        self.closes += o.closes;
    }
}

pub struct World {
    pub stats: Stats,
    pub rng: Rng,
    pub lp: Loop,
    pub manual: bool,
    pub log: Log,
    pub ents: Vec<Ent>,
    /// Timer start sequence: timers due at the same time fire in start order.
    pub seq: u64,
    /// The timer phase running now: `(sequence at its start, loop time)`.
    pub phase: Option<(u64, u64)>,
    /// Sequence when the marker check watcher last ran, just before the
    /// iteration's timer phase.
    pub seq_at_check: u64,
    pub marker_ran: bool,
    /// Iterations the marker saw end.
    pub iteration: u64,
    /// Per watcher phase (idle, prepare, check): start sequence of the
    /// watcher that ran last in the phase running now.
    pub last_ran: [Option<u64>; 3],
    pub advanced_since_check: bool,
    pub stop_requested: bool,
    pub default_iterations: Option<(u32, u32)>,
    pub dgrams: Vec<Dgram>,
    pub live: Rc<Cell<i64>>,
    pub nested_budget: u32,
    pub threads: Vec<(usize, JoinHandle<Vec<ruv::Result<()>>>)>,
    pub requests: Vec<ruv::SendRequest>,
    pub draining: bool,
    /// The handle whose callback runs nested operations: `pick` prefers it.
    pub focus: Option<usize>,
    /// `Loop::measure_idle_time` was called.
    pub measuring_idle: bool,
    /// Stream writes made so far (numbers each write's bytes).
    pub stream_writes: u64,
}

impl World {
    pub fn new(seed: u64, lp: Loop, manual: bool, log: Log) -> World {
        World {
            stats: Stats::default(),
            rng: Rng::new(seed),
            lp,
            manual,
            log,
            ents: Vec::new(),
            seq: 0,
            phase: None,
            seq_at_check: 0,
            marker_ran: false,
            iteration: 0,
            last_ran: [None; 3],
            advanced_since_check: false,
            stop_requested: false,
            default_iterations: None,
            dgrams: Vec::new(),
            live: Rc::default(),
            nested_budget: 300,
            threads: Vec::new(),
            requests: Vec::new(),
            draining: false,
            focus: None,
            measuring_idle: false,
            stream_writes: 0,
        }
    }

    pub fn note(&self, line: String) {
        let mut log = self.log.borrow_mut();
        if log.len() >= log_lines() {
            log.pop_front();
        }
        log.push_back(line);
    }

    pub fn guard(&self) -> LiveGuard {
        LiveGuard::new(&self.live)
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A random usable handle of one of `kinds` passing `filter`.
    pub fn pick(&mut self, kinds: &[Kind], filter: impl Fn(&Ent) -> bool) -> Option<usize> {
        if let Some(f) = self.focus {
            let e = &self.ents[f];
            if e.usable() && kinds.contains(&e.kind) && filter(e) {
                return Some(f);
            }
        }
        let found: Vec<usize> = (0..self.ents.len())
            .filter(|&i| {
                let e = &self.ents[i];
                e.usable() && kinds.contains(&e.kind) && filter(e)
            })
            .collect();
        if found.is_empty() {
            None
        } else {
            Some(found[self.rng.index(found.len())])
        }
    }

    pub fn push(&mut self, ent: Ent) -> usize {
        self.ents.push(ent);
        self.ents.len() - 1
    }

    pub fn timer(&self, i: usize) -> &Timer {
        match &self.ents[i].obj {
            Some(Obj::Timer(t)) => t,
            _ => unreachable!("ent {i} is not a usable timer"),
        }
    }

    pub fn udp(&self, i: usize) -> &Udp {
        match &self.ents[i].obj {
            Some(Obj::Udp(u)) => u,
            _ => unreachable!("ent {i} is not a usable UDP handle"),
        }
    }

    pub fn ent_by_id(&self, id: u64) -> Option<usize> {
        self.ents
            .iter()
            .position(|e| e.id == id && e.close_cbs == 0)
    }
}
