//! Streams (libuv's `uv_stream_t`): what TCP and pipe handles
//! share — the read loop, the write path over [`WriteQueue`], shutdown,
//! connect completion, listen/accept, and what closing owes.
//!
//! The machinery is generic over the handle's token type `T` (a
//! [`StreamHandle`]), so callbacks get the typed token (`&Tcp`, `&Pipe`)
//! without a conversion; each kind has its own `Kind` variant.
//!
//! mio reports readiness edge-triggered; libuv relies on level-triggered
//! epoll. So, as for UDP (`docs/ARCHITECTURE.md`, "I/O readiness"): a
//! reading stream reads at most [`READ_BUDGET`] times per event and then
//! goes on the loop's ready list; a listener accepts at most its backlog
//! (and at least [`READ_BUDGET`]) connections per event, then goes on the
//! ready list too; `read_start` and `listen` re-arm the epoll
//! registration so that an edge that went by unseen is reported again.
//!
//! A socket the loop made (created, accepted) joins the epoll set only
//! when the stream first needs an event ([`watch`]: reading, listening,
//! connecting, writes waiting for room): no `epoll_ctl` for a socket that
//! is never polled (an accepted connection closed unread). A TCP socket
//! registers once for reading and writing together, so none either when a
//! connect or a write starts or stops waiting ([`wanted_interest`]).

mod close;
mod connect;
mod listen;
mod methods;
mod read;
mod write;
pub(crate) mod write_queue;

pub use read::ReadResult;

pub(crate) use close::{finish_close, stop_for_close};
pub(crate) use connect::{begin as begin_connect, finish_connect};
pub(crate) use listen::{accept_into, start_listening};
pub(crate) use methods::stream_methods;
pub(crate) use read::{read_start, read_start_with, read_stop};
pub(crate) use write::{
    check as check_write, requeue_completions, run_completions, set_blocking, shutdown, try_write,
    write, write2, write_owned,
};

use crate::core::kinds::Kind;
use crate::core::run::IoEvent;
use crate::core::state::{Key, LoopState};
use crate::error::{Error, Result};
use crate::handle::{Handle, HandleType};
use crate::Loop;
use mio::unix::SourceFd;
use mio::Interest;
use socket2::Socket;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use write_queue::WriteQueue;

/// Reads per readable event at most (libuv's 32 reads per `POLLIN`); then
/// the stream waits on the ready list so that other handles get their
/// turn. Also the least number of connections a listener accepts per event.
pub(crate) const READ_BUDGET: usize = 32;

/// A write or shutdown callback; it gets the handle and the outcome.
pub(crate) type ReqCb<T> = Box<dyn FnOnce(&T, Result<()>)>;
/// A listener's connection callback.
pub(crate) type ConnectionCb<T> = Box<dyn FnMut(&T, Result<()>)>;

/// A handle type built on the stream machinery.
pub(crate) trait StreamHandle: AsRef<Handle> + Sized + 'static {
    /// The handle type, which tags the stream's pending-list entries.
    const TYPE: HandleType;
    /// The token of the handle with this key.
    fn from_key(lp: &Loop, key: Key) -> Self;
    /// The stream part of the handle's state, if `kind` is this type.
    fn stream_of(kind: &mut Kind) -> Option<&mut StreamState<Self>>;
    /// Whether the stream stays registered for writing when nothing waits
    /// to be written ([`wanted_interest`]).
    const STEADY_WRITE_INTEREST: bool = false;
    /// Whether reads may bring descriptors (an IPC pipe).
    fn passes_handles(_kind: &mut Kind) -> bool {
        false
    }
    /// Keeps a descriptor a read brought for the handle to accept; by
    /// default (and when the handle is gone) it is closed.
    fn receive_fd(_st: &mut LoopState, _key: Key, fd: OwnedFd) {
        drop(fd);
    }
}

/// Runs `f` on the stream state of the live handle `h`.
pub(crate) fn with_stream<T: StreamHandle, R>(
    h: &T,
    f: impl FnOnce(&mut StreamState<T>) -> R,
) -> Result<R> {
    let handle = h.as_ref();
    let mut st = handle.get_loop().state();
    Ok(f(stream_mut::<T>(&mut st, handle.key())?))
}

/// How a stream's writes reach its descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Sender {
    /// `sendmsg` with `MSG_NOSIGNAL | MSG_DONTWAIT`: a socket.
    #[default]
    Socket,
    /// `sendmsg` with `MSG_NOSIGNAL`, waiting for room: a socket made
    /// blocking (`set_blocking`).
    SocketBlocking,
    /// `writev`: a pipe end or terminal opened by a `Pipe` (no
    /// `MSG_NOSIGNAL` exists for it), non-blocking.
    Plain,
}

impl Sender {
    /// Writes `slices` to `fd`, with descriptor `pass` attached to their
    /// first byte if given: the bytes written. Only a socket carries a
    /// descriptor (ENOTSOCK otherwise).
    #[inline]
    pub(crate) fn send(
        self,
        fd: RawFd,
        slices: &[std::io::IoSlice<'_>],
        pass: Option<RawFd>,
    ) -> std::io::Result<usize> {
        match (self, pass) {
            (Sender::Socket, None) => crate::sys::send_vectored(fd, slices),
            (Sender::SocketBlocking, None) => crate::sys::send_vectored_blocking(fd, slices),
            (Sender::Plain, None) => crate::sys::write_vectored(fd, slices),
            (Sender::Socket, Some(p)) => crate::sys::send_with_fd(fd, slices, p, false),
            (Sender::SocketBlocking, Some(p)) => crate::sys::send_with_fd(fd, slices, p, true),
            (Sender::Plain, Some(_)) => Err(std::io::Error::from_raw_os_error(libc::ENOTSOCK)),
        }
    }
}

/// A live (not closing) stream handle's stream state.
pub(crate) fn stream_mut<T: StreamHandle>(
    st: &mut LoopState,
    key: Key,
) -> Result<&mut StreamState<T>> {
    T::stream_of(&mut st.live_mut(key)?.kind).ok_or(Error::ClosedHandle)
}

/// The stream part of a handle's state in the loop's slab.
pub(crate) struct StreamState<T> {
    pub(crate) socket: Option<Socket>,
    /// The interest the socket is in the loop's epoll set with, once it is;
    /// `None` again while released to a poll handle ([`release_idle`]).
    registered: Option<Interest>,
    /// The socket was registered before the connect began, so an event
    /// the poll phase gathered before it may be stale: a writable event
    /// without `SO_ERROR` is then confirmed with `getpeername`.
    pub(crate) verify_connect: bool,
    /// The descriptor may have other references to its open file: it was
    /// adopted, or its number was handed out (`fileno`, from which a
    /// caller may `dup` it or give it to a child). Closing a descriptor
    /// that has none takes the file out of the epoll set by itself; one
    /// that may have others is deregistered first.
    pub(crate) shared: bool,
    /// libuv's `UV_HANDLE_READABLE`: connected (or connecting); cleared by
    /// a read error.
    pub(crate) readable: bool,
    /// libuv's `UV_HANDLE_WRITABLE`: cleared by `shutdown` and a read error.
    pub(crate) writable: bool,
    reading: bool,
    /// Bumped by every read start and stop, listen and close: a dispatch
    /// holds the value it began with, so it can tell that a callback
    /// stopped, restarted or closed the stream.
    epoch: u64,
    /// The loop iteration this stream last read (or accepted) in.
    last_read: u64,
    sink: Option<Box<dyn read::ReadSink<T>>>,
    writes: WriteQueue<ReqCb<T>>,
    /// The connect request, until its callback runs.
    connect: Option<ReqCb<T>>,
    /// Waiting for the socket to become writable to learn the connect's
    /// outcome.
    connecting: bool,
    /// A connect outcome known without an event (ECONNREFUSED from
    /// `connect(2)` itself, a deferred bind error): reported in the
    /// pending phase.
    connect_outcome: Option<Result<()>>,
    /// The shutdown request, until its callback runs.
    shutdown: Option<ReqCb<T>>,
    listening: bool,
    /// Connections accepted per event at most: the listen backlog (the
    /// most the kernel holds waiting), at least [`READ_BUDGET`]. A smaller
    /// budget falls behind connections that arrive faster than one budget
    /// per loop iteration, until the backlog overflows and the kernel drops
    /// handshakes (measured: ruv-bench `pound` at 0.41x libuv with 32).
    accept_budget: u32,
    listen_cb: Option<ConnectionCb<T>>,
    /// A connection accepted and not yet taken by `accept`: while it is
    /// here the listener accepts no more (libuv's delayed accept).
    accepted: Option<OwnedFd>,
    /// The connection callbacks are being run for this listener.
    accepting: bool,
    /// The handle is on the loop's pending list.
    in_pending: bool,
    /// How writes go out: a socket's `sendmsg` (waiting for room after
    /// `set_blocking`), or `writev` for a descriptor that is not a socket,
    /// whose reads then use `read(2)`.
    pub(crate) sender: Sender,
    /// Close with `SO_LINGER` 0 so the peer gets a reset (`close_reset`).
    pub(crate) reset_on_close: bool,
}

impl<T> Default for StreamState<T> {
    fn default() -> Self {
        StreamState {
            socket: None,
            registered: None,
            verify_connect: false,
            shared: false,
            readable: false,
            writable: false,
            reading: false,
            epoch: 0,
            last_read: 0,
            sink: None,
            writes: WriteQueue::default(),
            connect: None,
            connecting: false,
            connect_outcome: None,
            shutdown: None,
            listening: false,
            accept_budget: READ_BUDGET as u32,
            listen_cb: None,
            accepted: None,
            accepting: false,
            in_pending: false,
            sender: Sender::Socket,
            reset_on_close: false,
        }
    }
}

impl<T> StreamState<T> {
    /// The socket's descriptor, if it has one.
    pub(crate) fn fd(&self) -> Option<RawFd> {
        self.socket.as_ref().map(|s| s.as_raw_fd())
    }

    /// Bytes written or waiting whose callbacks have not run
    /// (`write_queue_size`).
    pub(crate) fn write_queue_size(&self) -> usize {
        self.writes.size()
    }

    /// Whether the socket must be in the epoll set: the stream reads,
    /// listens, connects or has writes waiting for room.
    fn needs_events(&self) -> bool {
        self.reading || self.listening || self.connecting || self.writes.has_waiting()
    }

    /// Whether a connect request waits for its callback.
    pub(crate) fn connect_pending(&self) -> bool {
        self.connect.is_some()
    }

    /// Whether a shutdown request waits for its callback.
    pub(crate) fn shutdown_pending(&self) -> bool {
        self.shutdown.is_some()
    }

    /// Whether the stream is reading.
    pub(crate) fn is_reading(&self) -> bool {
        self.reading
    }

    /// Whether the stream already read or accepted in poll phase
    /// `iteration` (an event served it before its turn on the ready list).
    pub(crate) fn read_in(&self, iteration: u64) -> bool {
        self.last_read == iteration
    }

    /// The shutdown may be made now: no connect and no write before it.
    fn shutdown_ready(&self) -> bool {
        self.shutdown.is_some()
            && self.connect.is_none()
            && !self.writes.has_waiting()
            && !self.writes.has_done()
    }

    /// Whether the pending phase has something to report for this stream
    /// now: finished writes, a connect outcome, a shutdown to make.
    fn owes_pending(&self) -> bool {
        self.writes.has_done() || self.connect_outcome.is_some() || self.shutdown_ready()
    }

    /// What makes the handle active (`uv_is_active`): reading or
    /// listening, as in libuv. A connect, writes and a shutdown in flight
    /// keep the loop alive as requests (even on an unreferenced handle),
    /// not by making the handle active.
    fn busy(&self) -> bool {
        self.reading || self.listening
    }
}

/// Gives the handle `socket`, a socket the loop made (created or
/// accepted): it joins the epoll set when the stream first needs an event
/// ([`watch`]).
pub(crate) fn install_socket<T: StreamHandle>(
    st: &mut LoopState,
    key: Key,
    socket: Socket,
) -> Result<()> {
    let s = stream_mut::<T>(st, key)?;
    s.socket = Some(socket);
    s.registered = None;
    s.shared = false;
    Ok(())
}

/// Gives the handle `socket`, a descriptor the caller adopted, registered
/// at once: EEXIST, with the socket given back so the caller does not
/// close it, when the loop watches that very descriptor for another
/// handle, which owns it. On another error the socket is given back too.
pub(crate) fn try_install<T: StreamHandle>(
    st: &mut LoopState,
    key: Key,
    socket: Socket,
) -> std::result::Result<(), (Error, Socket)> {
    let fd = socket.as_raw_fd();
    // Nothing waits yet: what an idle stream of the type needs.
    let want = idle_interest::<T>();
    let mut registered = st
        .poll
        .registry()
        .register(&mut SourceFd(&fd), key.token(), want);
    if registered
        .as_ref()
        .is_err_and(|e| e.raw_os_error() == Some(libc::EEXIST))
        && release_idle_stream(st, fd)
    {
        // Another stream held it without needing events (libuv would not
        // be watching it): it registers again, and fails, if it ever does.
        registered = st
            .poll
            .registry()
            .register(&mut SourceFd(&fd), key.token(), want);
    }
    if let Err(e) = registered {
        return Err((e.into(), socket));
    }
    match stream_mut::<T>(st, key) {
        Ok(s) => {
            s.socket = Some(socket);
            s.registered = Some(want);
            s.shared = true;
            Ok(())
        }
        Err(err) => {
            let _ = st.poll.registry().deregister(&mut SourceFd(&fd));
            Err((err, socket))
        }
    }
}

/// The interest of a stream with no connect and no write waiting:
/// reading (mio needs something; a readable event for a stream that does
/// not read is ignored and its data waits), and for TCP writing too.
fn idle_interest<T: StreamHandle>() -> Interest {
    if T::STEADY_WRITE_INTEREST {
        Interest::READABLE.add(Interest::WRITABLE)
    } else {
        Interest::READABLE
    }
}

/// The interest the stream needs now: writable too while a connect or
/// writes wait. A TCP socket keeps it always (`STEADY_WRITE_INTEREST`):
/// the kernel raises a writable edge on it only when room comes back after
/// a write found none, so the interest costs no wake-up, and keeping it
/// saves two `epoll_ctl` per connect and per full socket. A Unix socket
/// raises one each time the peer reads (measured: two events per echo
/// against a peer that pauses between messages), so a pipe asks for it
/// only while needed, as libuv does.
pub(crate) fn wanted_interest<T: StreamHandle>(s: &StreamState<T>) -> Interest {
    if s.connecting || s.writes.has_waiting() {
        Interest::READABLE.add(Interest::WRITABLE)
    } else {
        idle_interest::<T>()
    }
}

/// Whether the registration differs from what the stream needs: a socket
/// not registered yet needs one only once a connect or writes wait.
pub(crate) fn interest_stale<T: StreamHandle>(s: &StreamState<T>) -> bool {
    match s.registered {
        None => s.connecting || s.writes.has_waiting(),
        Some(have) => have != wanted_interest(s),
    }
}

/// Puts the stream's socket in the epoll set with the interest it needs
/// ([`wanted_interest`]), or changes it if it changed; with `rearm`,
/// re-registers it anyway (epoll then reports the socket again if it is
/// ready, recovering an edge that went by while nobody listened).
/// Registering reports what is ready already, so an edge from before it
/// is not lost either.
pub(crate) fn watch<T: StreamHandle>(st: &mut LoopState, key: Key, rearm: bool) -> Result<()> {
    let s = stream_mut::<T>(st, key)?;
    let Some(fd) = s.fd() else {
        return Ok(());
    };
    let want = wanted_interest(s);
    let registered = s.registered;
    if registered == Some(want) && !rearm {
        return Ok(());
    }
    let registry = st.poll.registry();
    match registered {
        Some(_) => registry.reregister(&mut SourceFd(&fd), key.token(), want)?,
        None => match registry.register(&mut SourceFd(&fd), key.token(), want) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) && release_idle_stream(st, fd) => {
                // Another stream on the same descriptor held it without
                // needing events (libuv would not be watching it).
                st.poll
                    .registry()
                    .register(&mut SourceFd(&fd), key.token(), want)?
            }
            other => other?,
        },
    }
    stream_mut::<T>(st, key)?.registered = Some(want);
    Ok(())
}

/// Takes the socket `fd` of the stream `key` out of the loop's epoll set if
/// it is that stream's and the stream is idle (not reading, listening,
/// connecting, nor with writes waiting), so that a poll handle may watch it:
/// libuv watches a stream's descriptor only while the stream needs events,
/// and its poll_oob test polls an accepted connection's socket. The stream
/// registers it again when it needs events (which fails while the poll
/// handle has it: the two cannot share, as in libuv). Whether it did.
pub(crate) fn release_idle<T: StreamHandle>(st: &mut LoopState, key: Key, fd: RawFd) -> bool {
    let Ok(s) = stream_mut::<T>(st, key) else {
        return false;
    };
    if s.fd() != Some(fd) || s.registered.is_none() || s.needs_events() {
        return false;
    }
    s.registered = None;
    let _ = st.poll.registry().deregister(&mut SourceFd(&fd));
    true
}

/// Takes `fd` out of the epoll set if it is the socket of an idle TCP or
/// pipe handle of the loop (see [`release_idle`]): libuv refuses a
/// descriptor (`uv_poll_init`, `uv_pipe_open`, `uv_tcp_open`: EEXIST) only
/// while something watches it. Whether one was released.
pub(crate) fn release_idle_stream(st: &mut LoopState, fd: RawFd) -> bool {
    let streams: Vec<(Key, HandleType)> = st
        .keys()
        .filter(|(_, ty)| matches!(ty, HandleType::Tcp | HandleType::NamedPipe))
        .collect();
    streams.into_iter().any(|(key, ty)| match ty {
        HandleType::Tcp => release_idle::<crate::Tcp>(st, key, fd),
        _ => release_idle::<crate::Pipe>(st, key, fd),
    })
}

/// Makes the handle active exactly while it does something.
pub(crate) fn refresh_active<T: StreamHandle>(st: &mut LoopState, key: Key) {
    if let Ok(s) = stream_mut::<T>(st, key) {
        let busy = s.busy();
        st.set_active(key, busy);
    }
}

/// Puts the handle on the pending list (once) so that its completions run
/// in the next pending phase.
pub(crate) fn mark_pending<T: StreamHandle>(st: &mut LoopState, key: Key) {
    let Ok(s) = stream_mut::<T>(st, key) else {
        return;
    };
    if !std::mem::replace(&mut s.in_pending, true) {
        st.push_pending(key, T::TYPE);
        st.mark_alive();
    }
}

/// Puts the handle on the pending list exactly while the pending phase has
/// something to report for it ([`StreamState::owes_pending`]): an entry
/// owing nothing would keep the loop alive for an empty round. The one
/// place that decides it, after a connect, a pending round or a panic.
pub(crate) fn sync_pending<T: StreamHandle>(st: &mut LoopState, key: Key) {
    let Ok(s) = stream_mut::<T>(st, key) else {
        return;
    };
    let owed = s.owes_pending();
    if owed && !s.in_pending {
        mark_pending::<T>(st, key);
    } else if !owed && s.in_pending {
        s.in_pending = false;
        st.remove_pending(key);
    }
}

/// Puts the stream on the ready list, to be read (or to accept) after the
/// next poll phase's events without a new edge. The entry reads on past a
/// short read, to EAGAIN or the end of the stream: whether the peer's
/// hang-up went by with the edge that was not served is not known. Write
/// readiness is not replayed: every path that queues an entry has written
/// what waits already, or waits for a writable edge.
pub(crate) fn push_ready(st: &mut LoopState, key: Key) {
    st.push_ready(IoEvent {
        key,
        readable: true,
        writable: false,
        error: false,
        closed: true,
    });
}

/// Readiness for a stream: a pending connect is all that is handled
/// while it lasts (as libuv); a listener accepts; otherwise read, then
/// write what waits.
pub(crate) fn dispatch_io<T: StreamHandle>(lp: &Loop, ev: IoEvent, iteration: u64) {
    let (connecting, listening, waiting) = {
        let mut st = lp.state();
        let Ok(s) = stream_mut::<T>(&mut st, ev.key) else {
            return;
        };
        (s.connecting, s.listening, s.writes.has_waiting())
    };
    if connecting {
        if ev.writable {
            connect::on_writable::<T>(lp, ev.key);
        }
        return;
    }
    if listening {
        if ev.readable {
            listen::dispatch_accept::<T>(lp, ev.key, iteration);
        }
        return;
    }
    if ev.readable {
        read::dispatch_read::<T>(lp, ev.key, iteration, ev.closed || ev.error);
    }
    if ev.writable && waiting {
        write::flush::<T>(lp, ev.key);
    }
}
