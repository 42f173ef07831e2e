//! [`SubprocessTransport`]: asyncio's `BaseSubprocessTransport` on a
//! [`Process`] and up to three pipe [`StreamTransport`]s.
//!
//! Each pipe transport has a small internal protocol that forwards its
//! callbacks, tagged with the descriptor number, to the subprocess
//! protocol through this transport's queue (so they never nest).

use super::SubprocessProtocol;
use crate::endpoint::{Delivering, Protocol, StreamTransport};
use crate::error::{Error, Result, StatusCode};
use crate::owed::defer_owed;
use crate::{Loop, Process};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

type SharedProtocol = Rc<RefCell<dyn SubprocessProtocol>>;

enum Event {
    Made,
    Data(i32, Vec<u8>),
    PipeLost(i32, Option<Error>),
    Exited,
    PauseWriting,
    ResumeWriting,
    Lost,
}

struct State {
    returncode: Option<i64>,
    /// The transports of descriptors 0, 1, 2 when piped.
    pipes: [Option<StreamTransport>; 3],
    /// Pipes whose `pipe_connection_lost` has not been queued.
    open_pipes: usize,
    /// `close` was called.
    closed: bool,
    /// `connection_lost` was queued.
    finished: bool,
    /// The `Process` handle was closed before the exit was known: no
    /// return code will come.
    exit_lost: bool,
}

pub(super) struct Inner {
    lp: Loop,
    process: Process,
    pid: i32,
    state: RefCell<State>,
    /// `None` once `connection_lost` was delivered (breaks the cycles).
    protocol: RefCell<Option<SharedProtocol>>,
    events: RefCell<VecDeque<Event>>,
    delivering: Cell<bool>,
    retry_armed: Cell<bool>,
}

/// A child process's transport (asyncio's `SubprocessTransport`), made by
/// [`subprocess_exec`](super::subprocess_exec) or
/// [`subprocess_shell`](super::subprocess_shell). A cheap `Clone` handle;
/// it keeps itself and its protocol alive until `connection_lost`.
#[derive(Clone)]
pub struct SubprocessTransport {
    inner: Rc<Inner>,
}

impl fmt::Debug for SubprocessTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SubprocessTransport");
        d.field("pid", &self.inner.pid);
        if let Ok(st) = self.inner.state.try_borrow() {
            d.field("returncode", &st.returncode)
                .field("closed", &st.closed);
        }
        d.finish()
    }
}

/// The protocol of one pipe: forwards to the subprocess transport.
struct PipeProtocol {
    fd: i32,
    owner: SubprocessTransport,
}

impl Protocol for PipeProtocol {
    fn data_received(&mut self, data: &[u8]) {
        self.owner.deliver_data(self.fd, data);
    }

    fn pause_writing(&mut self) {
        self.owner.notify(Event::PauseWriting);
    }

    fn resume_writing(&mut self) {
        self.owner.notify(Event::ResumeWriting);
    }

    fn connection_lost(&mut self, err: Option<Error>) {
        self.owner.pipe_lost(self.fd, err);
    }
}

impl SubprocessTransport {
    pub(super) fn new(
        lp: &Loop,
        process: Process,
        pid: i32,
        protocol: SharedProtocol,
    ) -> SubprocessTransport {
        SubprocessTransport {
            inner: Rc::new(Inner {
                lp: lp.clone(),
                process,
                pid,
                state: RefCell::new(State {
                    returncode: None,
                    pipes: [None, None, None],
                    open_pipes: 0,
                    closed: false,
                    finished: false,
                    exit_lost: false,
                }),
                protocol: RefCell::new(Some(protocol)),
                events: RefCell::new(VecDeque::new()),
                delivering: Cell::new(false),
                retry_armed: Cell::new(false),
            }),
        }
    }

    /// The protocol a pipe transport of descriptor `fd` gets.
    pub(super) fn pipe_protocol(&self, fd: i32) -> impl Protocol + 'static {
        PipeProtocol {
            fd,
            owner: self.clone(),
        }
    }

    /// Records the transport of descriptor `fd`.
    pub(super) fn set_pipe(&self, fd: usize, pipe: StreamTransport) {
        let mut st = self.inner.state.borrow_mut();
        st.pipes[fd] = Some(pipe);
        st.open_pipes += 1;
    }

    /// Delivers `connection_made`.
    pub(super) fn start(&self) {
        self.notify(Event::Made);
    }

    /// The child exited with `status`, or was killed by `signal`.
    pub(super) fn exited(&self, status: i64, signal: i32) {
        let code = if signal != 0 {
            -i64::from(signal)
        } else {
            status
        };
        self.inner.state.borrow_mut().returncode = Some(code);
        self.inner.process.close(|| {});
        self.notify(Event::Exited);
        self.try_finish();
    }

    /// The `Process` handle was closed behind our back before the child's
    /// exit was reported: close the pipes, and end without a return code
    /// (no `process_exited`), so that `connection_lost` still comes.
    pub(super) fn exit_lost(&self) {
        self.inner.state.borrow_mut().exit_lost = true;
        self.close();
        self.try_finish();
    }

    fn pipe_lost(&self, fd: i32, err: Option<Error>) {
        {
            let mut st = self.inner.state.borrow_mut();
            st.open_pipes = st.open_pipes.saturating_sub(1);
        }
        self.notify(Event::PipeLost(fd, err));
        self.try_finish();
    }

    /// Queues `connection_lost` once the child exited and every pipe
    /// closed.
    fn try_finish(&self) {
        {
            let mut st = self.inner.state.borrow_mut();
            let exit_known = st.returncode.is_some() || st.exit_lost;
            if st.finished || !exit_known || st.open_pipes > 0 {
                return;
            }
            st.finished = true;
        }
        self.notify(Event::Lost);
    }

    // ------------------------------------------------------------- public

    /// The child's process id (asyncio's `get_pid`).
    pub fn get_pid(&self) -> i32 {
        self.inner.pid
    }

    /// The transport of the child's descriptor `fd` (0, 1 or 2) when it
    /// is piped (asyncio's `get_pipe_transport`): write to 0, read 1 and
    /// 2. After [`close`](Self::close) it is still there, closing, as in
    /// asyncio. `None` when not piped, for other numbers, and once
    /// `connection_lost` was delivered (the transport lets go of its pipes
    /// then; asyncio keeps them).
    pub fn get_pipe_transport(&self, fd: i32) -> Option<StreamTransport> {
        let st = self.inner.state.borrow();
        usize::try_from(fd)
            .ok()
            .and_then(|i| st.pipes.get(i).cloned().flatten())
    }

    /// The exit status (asyncio's `get_returncode`): `None` while the
    /// child runs, its exit code once it exited, `-signal` when a signal
    /// ended it.
    pub fn get_returncode(&self) -> Option<i64> {
        self.inner.state.borrow().returncode
    }

    /// Sends `signum` to the child (asyncio's `send_signal`). Does nothing
    /// once it exited (asyncio checks `poll()` first), also after
    /// [`close`](Self::close) while `connection_lost` has not come (asyncio
    /// keeps its process until then); ESRCH once `connection_lost` was
    /// delivered (asyncio's `ProcessLookupError`), EINVAL for a bad signal
    /// number.
    pub fn send_signal(&self, signum: i32) -> Result<()> {
        // No protocol: `connection_lost` was delivered, the process is
        // forgotten.
        if self.inner.protocol.borrow().is_none() {
            return Err(StatusCode::ESRCH.into());
        }
        if self.inner.state.borrow().returncode.is_some() {
            return Ok(());
        }
        match self.inner.process.kill(signum) {
            // Exited, not yet reaped by the loop: as asyncio, quietly.
            Err(err) if err == StatusCode::ESRCH => Ok(()),
            other => other,
        }
    }

    /// `SIGTERM` (asyncio's `terminate`).
    pub fn terminate(&self) -> Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// `SIGKILL` (asyncio's `kill`).
    pub fn kill(&self) -> Result<()> {
        self.send_signal(libc::SIGKILL)
    }

    /// Whether [`close`](Self::close) was called (asyncio's `is_closing`).
    pub fn is_closing(&self) -> bool {
        self.inner.state.borrow().closed
    }

    /// Closes every pipe and kills the child with `SIGKILL` if it still
    /// runs (asyncio's `close`); `connection_lost` follows once it exited
    /// and the pipes closed. Later calls do nothing.
    pub fn close(&self) {
        let pipes = {
            let mut st = self.inner.state.borrow_mut();
            if st.closed {
                return;
            }
            st.closed = true;
            if st.returncode.is_none() {
                // As asyncio: a child still running is killed.
                let _ = self.inner.process.kill(libc::SIGKILL);
            }
            st.pipes.clone()
        };
        for p in pipes.into_iter().flatten() {
            p.close();
        }
    }

    // ------------------------------------------------- delivering events

    /// Hands pipe data over without copying when nothing waits.
    fn deliver_data(&self, fd: i32, data: &[u8]) {
        if !self.inner.delivering.get() && self.inner.events.borrow().is_empty() {
            let protocol = self.inner.protocol.borrow().clone();
            if let Some(protocol) = protocol {
                if let Ok(mut p) = protocol.try_borrow_mut() {
                    {
                        let _delivering = Delivering::enter(&self.inner.delivering);
                        p.pipe_data_received(fd, data);
                    }
                    drop(p);
                    self.drain();
                    return;
                }
            }
        }
        self.notify(Event::Data(fd, data.to_vec()));
    }

    fn notify(&self, event: Event) {
        self.inner.events.borrow_mut().push_back(event);
        self.drain();
    }

    fn drain(&self) {
        if self.inner.delivering.get() {
            return;
        }
        while !self.inner.events.borrow().is_empty() {
            let protocol = self.inner.protocol.borrow().clone();
            let Some(protocol) = protocol else {
                let dropped = std::mem::take(&mut *self.inner.events.borrow_mut());
                drop(dropped);
                return;
            };
            let Ok(mut p) = protocol.try_borrow_mut() else {
                return self.retry_later();
            };
            let Some(event) = self.inner.events.borrow_mut().pop_front() else {
                return;
            };
            let lost = matches!(event, Event::Lost);
            {
                let _delivering = Delivering::enter(&self.inner.delivering);
                match event {
                    Event::Made => p.connection_made(self),
                    Event::Data(fd, data) => p.pipe_data_received(fd, &data),
                    Event::PipeLost(fd, err) => p.pipe_connection_lost(fd, err),
                    Event::Exited => p.process_exited(),
                    Event::PauseWriting => p.pause_writing(),
                    Event::ResumeWriting => p.resume_writing(),
                    Event::Lost => p.connection_lost(None),
                }
            }
            drop(p);
            if lost {
                // Break the cycles: protocol -> transport -> pipes -> us.
                let released = self.inner.protocol.borrow_mut().take();
                let pipes = std::mem::take(&mut self.inner.state.borrow_mut().pipes);
                drop((released, pipes, protocol));
                return;
            }
        }
    }

    fn retry_later(&self) {
        if self.inner.retry_armed.replace(true) {
            return;
        }
        let this = self.clone();
        defer_owed(&self.inner.lp, move || {
            this.inner.retry_armed.set(false);
            this.drain();
        });
    }
}
