//! The handle kinds, registered in one place.
//!
//! The rest of the core (`run.rs`, `state.rs`, `mod.rs`) knows a handle as
//! a slot with flags and a [`Kind`]; what a kind does when its descriptor is
//! ready, in the pending phase, when it is closed and in the closing phase
//! is reached through the hooks below, each an enum match: no virtual call
//! and no allocation per event. A kind that does not use a hook has no arm
//! in it. `docs/ARCHITECTURE.md` ("Adding a handle kind") lists what a new
//! kind touches.

use super::run::IoEvent;
use super::state::{Deferred, Key, LoopState, Pending, Slot};
use super::Loop;
use crate::error::{Error, Result, StatusCode};
use crate::handle::HandleType;
use crate::{
    async_handle, pipe, poll, process, signal, stream, tcp, timer, udp, watcher, Pipe, Tcp,
};
use std::os::fd::RawFd;

// The kinds that have a phase of their own, which the core calls by name:
// timers (the timer phase; a closing timer links the closing list through
// its slot, and `Deferred` keeps one timer callback unboxed), the
// idle/prepare/check watchers (their phases) and async handles (after the
// poll phase's events).
pub(crate) use async_handle::dispatch_wake;
pub(crate) use process::reap_orphans;
pub(crate) use signal::dispatch_caught as dispatch_signals;
pub(crate) use timer::{closing_link, fire_slot, mark_due, pop_due, rearm_due_slot, TimerCb};
pub(crate) use watcher::dispatch as dispatch_watcher;

/// Per-kind state of a handle, in its slot.
pub(crate) enum Kind {
    Timer(timer::TimerState),
    Watcher(Box<watcher::WatcherState>),
    Async(async_handle::AsyncState),
    Poll(Box<poll::PollState>),
    Udp(Box<udp::UdpState>),
    /// The stream state (`src/stream/`) and TCP's own (`src/tcp.rs`).
    Tcp(Box<tcp::TcpState>),
    /// The stream state and the pipe's own (`src/pipe.rs`).
    Pipe(Box<pipe::PipeState>),
    Signal(Box<signal::SignalState>),
    Process(Box<process::ProcessState>),
    /// A free slot, linked to the next free one (`NO_SLOT` ends the list):
    /// the core's own, not a kind.
    Vacant {
        next_free: u32,
    },
}

impl Kind {
    /// The handle's type; `None` for a free slot.
    pub(crate) fn handle_type(&self) -> Option<HandleType> {
        Some(match self {
            Kind::Timer(_) => HandleType::Timer,
            Kind::Watcher(w) => w.phase.handle_type(),
            Kind::Async(_) => HandleType::Async,
            Kind::Poll(_) => HandleType::Poll,
            Kind::Udp(_) => HandleType::Udp,
            Kind::Tcp(_) => HandleType::Tcp,
            Kind::Pipe(_) => HandleType::NamedPipe,
            Kind::Signal(_) => HandleType::Signal,
            Kind::Process(_) => HandleType::Process,
            Kind::Vacant { .. } => return None,
        })
    }

    /// [`Kind::fileno`] for the user, who may share it (`dup`, a child):
    /// a stream then deregisters it before closing it.
    pub(crate) fn hand_out_fd(&mut self) -> Result<RawFd> {
        match self {
            Kind::Tcp(t) => t.stream.shared = true,
            Kind::Pipe(p) => p.stream.shared = true,
            _ => {}
        }
        self.fileno()
    }

    /// The handle's descriptor (`uv_fileno`): EBADF while it has none yet,
    /// EINVAL for kinds without one.
    pub(crate) fn fileno(&self) -> Result<RawFd> {
        match self {
            Kind::Udp(u) => u.fd().ok_or(Error::Status(StatusCode::EBADF)),
            Kind::Tcp(t) => t.fd().ok_or(Error::Status(StatusCode::EBADF)),
            Kind::Pipe(p) => p.stream.fd().ok_or(Error::Status(StatusCode::EBADF)),
            Kind::Poll(p) => Ok(p.fd),
            _ => Err(StatusCode::EINVAL.into()),
        }
    }
}

/// What kinds keep once per loop rather than per handle.
#[derive(Default)]
pub(crate) struct PerLoop {
    pub udp: udp::PerLoop,
    pub signal: signal::PerLoop,
    pub process: process::PerLoop,
}

impl PerLoop {
    /// Frees what the kinds keep for reuse (`Loop::close`, no handle left).
    /// Children of closed process handles are not for reuse but still to
    /// reap: they stay, with the `SIGCHLD` watch that may be telling of
    /// them (and with it the signal state).
    pub(crate) fn release(&mut self) {
        let process = std::mem::take(&mut self.process);
        let signal = process
            .watches_sigchld()
            .then(|| std::mem::take(&mut self.signal));
        *self = PerLoop::default();
        self.process = process;
        if let Some(signal) = signal {
            self.signal = signal;
        }
    }
}

/// The kinds that watch descriptors: where a readiness event goes, read
/// out of the handle's slot so that the borrow ends before the kind's own
/// code runs.
#[derive(Clone, Copy)]
pub(crate) enum Io {
    Udp,
    Tcp,
    Pipe,
    Poll,
    Process,
}

impl Io {
    /// The I/O kind of a handle; `None` for kinds without a descriptor.
    #[inline]
    pub(crate) fn of(kind: &Kind) -> Option<Io> {
        match kind {
            Kind::Udp(_) => Some(Io::Udp),
            Kind::Tcp(_) => Some(Io::Tcp),
            Kind::Pipe(_) => Some(Io::Pipe),
            Kind::Poll(_) => Some(Io::Poll),
            Kind::Process(_) => Some(Io::Process),
            _ => None,
        }
    }

    /// Delivers readiness of the handle's descriptor: an epoll event, or an
    /// entry of the ready list ([`LoopState::push_ready`]) replayed without
    /// a new edge. `iteration` tells the kind whether it was served in
    /// this one already.
    ///
    /// UDP's arm is inlined into the loop's poll phase, the other kinds go
    /// through one call out of line: with a third call inlined here (TCP),
    /// `Loop::run` cost more on every path, 315 -> 326 instructions per
    /// idle iteration (`ruv-bench --scenario instructions`).
    #[inline]
    pub(crate) fn deliver(self, lp: &Loop, ev: IoEvent, iteration: u64) {
        match self {
            Io::Udp => udp::dispatch_io(lp, ev, iteration),
            _ => self.deliver_other(lp, ev, iteration),
        }
    }

    /// [`Io::deliver`] for the kinds other than UDP (exhaustive, so that a
    /// new kind is asked for its arm).
    #[inline(never)]
    fn deliver_other(self, lp: &Loop, ev: IoEvent, iteration: u64) {
        match self {
            Io::Udp => udp::dispatch_io(lp, ev, iteration),
            Io::Tcp => stream::dispatch_io::<Tcp>(lp, ev, iteration),
            Io::Pipe => stream::dispatch_io::<Pipe>(lp, ev, iteration),
            Io::Poll => poll::dispatch(lp, ev.key),
            Io::Process => process::dispatch(lp, ev.key),
        }
    }
}

/// Whether an event of poll phase `iteration` already served the handle in
/// `slot` (its ready-list entry then counts as no new event).
pub(crate) fn served_in(slot: &Slot, iteration: u64) -> bool {
    match &slot.kind {
        Kind::Udp(u) => u.read_in(iteration),
        Kind::Tcp(t) => t.stream.read_in(iteration),
        Kind::Pipe(p) => p.stream.read_in(iteration),
        _ => false,
    }
}

/// The pending phase for one entry of the pending list: the callbacks of
/// the handle's requests that completed (UDP sends; TCP connects known
/// without an event, writes, shutdowns; pipes the same).
pub(crate) fn run_pending(lp: &Loop, entry: Pending) {
    // Only kinds with requests are ever on the list: a branch each.
    match entry.ty {
        HandleType::Udp => udp::run_completions(lp, entry.key),
        HandleType::Tcp => stream::run_completions::<Tcp>(lp, entry.key),
        HandleType::NamedPipe => stream::run_completions::<Pipe>(lp, entry.key),
        _ => {}
    }
}

/// A panic interrupted the pending phase before `entry` was done: its
/// unreported completions go back on the pending list.
pub(crate) fn requeue_pending(st: &mut LoopState, entry: Pending) {
    match entry.ty {
        HandleType::Udp => udp::requeue_completions(st, entry.key),
        HandleType::Tcp => stream::requeue_completions::<Tcp>(st, entry.key),
        HandleType::NamedPipe => stream::requeue_completions::<Pipe>(st, entry.key),
        _ => {}
    }
}

/// Part of `close`: stops whatever the handle is doing so that it no
/// longer fires; user values it releases go to `deferred`.
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    let Some(ty) = st.slot(key).and_then(|s| s.kind.handle_type()) else {
        return;
    };
    match ty {
        HandleType::Timer => timer::stop_for_close(st, key, deferred),
        HandleType::Idle | HandleType::Prepare | HandleType::Check => {
            watcher::stop_for_close(st, key, deferred)
        }
        HandleType::Async => async_handle::stop_for_close(st, key, deferred),
        HandleType::Poll => poll::stop_for_close(st, key, deferred),
        HandleType::Udp => udp::stop_for_close(st, key, deferred),
        HandleType::Tcp => stream::stop_for_close::<Tcp>(st, key, deferred),
        HandleType::NamedPipe => pipe::stop_for_close(st, key, deferred),
        HandleType::Signal => signal::stop_for_close(st, key, deferred),
        HandleType::Process => process::stop_for_close(st, key, deferred),
    }
}

/// The closing phase, after the handle's slot was freed and before its
/// close callback: the handle's outstanding requests report, in the order
/// they were made (UDP: completed sends their status, queued ones
/// ECANCELED; TCP: the connect ECANCELED, each write its status or
/// ECANCELED, the shutdown ECANCELED). `kind` is what the slot held; the
/// caller drops it after the close callback.
pub(crate) fn finish_close(lp: &Loop, key: Key, kind: &mut Kind) {
    match kind {
        Kind::Udp(u) => udp::finish_close(lp, key, u),
        Kind::Tcp(t) => stream::finish_close::<Tcp>(lp, key, &mut t.stream),
        Kind::Pipe(p) => stream::finish_close::<Pipe>(lp, key, &mut p.stream),
        Kind::Process(_) => process::finish_close(lp, kind),
        _ => {}
    }
}
