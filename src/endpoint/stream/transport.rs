//! [`StreamTransport`]: asyncio's `_SelectorSocketTransport` and its unix
//! pipe transports, on a [`Tcp`] or [`Pipe`] handle.
//!
//! The write buffer is the handle's write queue: a write goes out at once
//! through `try_write` when nothing is buffered (no copy, no request), and
//! only what the socket does not take is handed to the handle's `write`,
//! which copies and queues it. The buffer size counts those queued bytes
//! until their write callbacks run.
//!
//! Protocol callbacks go through a small queue so that they never nest and
//! no borrow of the transport's state is held while one runs.

use super::conn::Conn;
use super::{BufferedProtocol, Protocol};
use crate::endpoint::{Delivering, WriteBuffer};
use crate::error::{Error, Result, StatusCode};
use crate::owed::defer_owed;
use crate::{Pipe, ReadResult, Tcp};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;

/// The size suggested to [`BufferedProtocol::get_buffer`].
pub const READ_SIZE_HINT: usize = 64 * 1024;

/// A transport's protocol, either kind (what
/// [`StreamTransport::get_protocol`] returns).
#[derive(Clone)]
pub enum AnyProtocol {
    /// A [`Protocol`]: data is lent to `data_received`.
    Plain(Rc<RefCell<dyn Protocol>>),
    /// A [`BufferedProtocol`]: data is read into its buffers.
    Buffered(Rc<RefCell<dyn BufferedProtocol>>),
}

impl fmt::Debug for AnyProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyProtocol::Plain(_) => f.write_str("AnyProtocol::Plain"),
            AnyProtocol::Buffered(_) => f.write_str("AnyProtocol::Buffered"),
        }
    }
}

impl AnyProtocol {
    /// Wraps a [`Protocol`].
    pub fn plain<P: Protocol + 'static>(p: Rc<RefCell<P>>) -> AnyProtocol {
        AnyProtocol::Plain(p)
    }

    /// Wraps a [`BufferedProtocol`].
    pub fn buffered<P: BufferedProtocol + 'static>(p: Rc<RefCell<P>>) -> AnyProtocol {
        AnyProtocol::Buffered(p)
    }

    fn is_buffered(&self) -> bool {
        matches!(self, AnyProtocol::Buffered(_))
    }
}

/// A socket's address as a transport reports it (asyncio's
/// `get_extra_info('sockname' / 'peername')`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketName {
    /// A TCP address.
    Inet(SocketAddr),
    /// A Unix socket's name: a path, an abstract name with its leading
    /// NUL, or empty when unnamed.
    Unix(OsString),
}

impl SocketName {
    /// The TCP address, if this is one.
    pub fn inet(&self) -> Option<SocketAddr> {
        match self {
            SocketName::Inet(a) => Some(*a),
            SocketName::Unix(_) => None,
        }
    }
}

/// What the transport's handle is, which decides a few rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A connected socket (TCP or Unix): reads and writes, half-close.
    Socket,
    /// asyncio's `_UnixReadPipeTransport`: reads only; the end of the
    /// stream closes it whatever `eof_received` returns.
    ReadPipe,
    /// asyncio's `_UnixWritePipeTransport`: writes only; `write_eof` is
    /// `close`; the peer closing its end closes the transport.
    WritePipe,
}

/// A protocol callback waiting to be delivered.
enum Event {
    Made,
    Data(Vec<u8>),
    Buffer(Vec<u8>, usize),
    Eof,
    PauseWriting,
    ResumeWriting,
    Lost(Option<Error>),
}

struct State {
    kind: Kind,
    sockname: Option<SocketName>,
    peername: Option<SocketName>,
    /// `connection_made` was delivered: reading may start.
    made: bool,
    /// `close` or `abort` was called (or a fatal error happened).
    closing: bool,
    /// `write_eof` was called.
    eof_written: bool,
    /// The peer's end of the stream was read.
    eof_seen: bool,
    /// `abort` or a fatal error: results of queued writes are ignored.
    aborted: bool,
    /// The handle is closing and `connection_lost` will follow.
    lost_scheduled: bool,
    paused_reading: bool,
    /// The handle is reading for us, and how (buffered or lent).
    reading: Option<bool>,
    /// Writes handed to the handle whose callbacks have not run, and
    /// their bytes.
    buffer: WriteBuffer,
}

type Hook = Box<dyn FnOnce()>;

struct Inner {
    conn: Conn,
    state: RefCell<State>,
    /// `None` once `connection_lost` was delivered (breaks the cycle of a
    /// protocol that keeps its transport).
    protocol: RefCell<Option<AnyProtocol>>,
    events: RefCell<VecDeque<Event>>,
    /// A protocol method is running: new callbacks wait in `events`.
    delivering: Cell<bool>,
    /// `connection_lost` is queued: later events are dropped.
    lost_queued: Cell<bool>,
    /// A timer will retry delivery (the protocol was borrowed elsewhere).
    retry_armed: Cell<bool>,
    /// Run after `connection_lost` (a server's count of its clients).
    on_lost: RefCell<Option<Hook>>,
}

/// A stream connection's transport (asyncio's `Transport`, also its read
/// and write pipe transports), on a TCP or Unix socket or a pipe end.
///
/// A cheap `Clone` handle: every clone is the same transport. Not `Send`.
/// It keeps itself and its protocol alive while its handle is open;
/// [`close`](Self::close) or [`abort`](Self::abort) ends it.
#[derive(Clone)]
pub struct StreamTransport {
    inner: Rc<Inner>,
}

impl fmt::Debug for StreamTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("StreamTransport");
        d.field("conn", &self.inner.conn);
        if let Ok(st) = self.inner.state.try_borrow() {
            d.field("peername", &st.peername)
                .field("closing", &st.closing)
                .field("write_buffer_size", &st.buffer.size());
        }
        d.finish()
    }
}

impl PartialEq for StreamTransport {
    /// Two handles are equal when they are the same transport.
    fn eq(&self, other: &StreamTransport) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for StreamTransport {}

/// The descriptor, or `-1` once the handle is closing or closed.
impl AsRawFd for StreamTransport {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.conn.handle().as_raw_fd()
    }
}

impl StreamTransport {
    /// Wraps a connected TCP handle (sets `TCP_NODELAY`, as asyncio).
    pub(crate) fn over_tcp(tcp: Tcp, protocol: AnyProtocol) -> StreamTransport {
        // Best effort, as asyncio's `_set_nodelay`.
        let _ = tcp.nodelay(true);
        let sockname = tcp.sockname().ok().map(SocketName::Inet);
        let peername = tcp.peername().ok().map(SocketName::Inet);
        StreamTransport::new(Conn::Tcp(tcp), Kind::Socket, sockname, peername, protocol)
    }

    /// Wraps an open pipe handle as `kind`.
    pub(crate) fn over_pipe(pipe: Pipe, kind: Kind, protocol: AnyProtocol) -> StreamTransport {
        let sockname = pipe.sockname().ok().map(SocketName::Unix);
        let peername = pipe.peername().ok().map(SocketName::Unix);
        StreamTransport::new(Conn::Pipe(pipe), kind, sockname, peername, protocol)
    }

    fn new(
        conn: Conn,
        kind: Kind,
        sockname: Option<SocketName>,
        peername: Option<SocketName>,
        protocol: AnyProtocol,
    ) -> StreamTransport {
        let state = State {
            kind,
            sockname,
            peername,
            made: false,
            closing: false,
            eof_written: false,
            eof_seen: false,
            aborted: false,
            lost_scheduled: false,
            paused_reading: false,
            reading: None,
            buffer: WriteBuffer::new(),
        };
        StreamTransport {
            inner: Rc::new(Inner {
                conn,
                state: RefCell::new(state),
                protocol: RefCell::new(Some(protocol)),
                events: RefCell::new(VecDeque::new()),
                delivering: Cell::new(false),
                lost_queued: Cell::new(false),
                retry_armed: Cell::new(false),
                on_lost: RefCell::new(None),
            }),
        }
    }

    /// Sets what runs once `connection_lost` was delivered.
    pub(crate) fn set_on_lost(&self, hook: impl FnOnce() + 'static) {
        *self.inner.on_lost.borrow_mut() = Some(Box::new(hook));
    }

    /// Delivers `connection_made`, then starts reading unless the protocol
    /// paused reading or closed the transport meanwhile.
    pub(crate) fn start(&self) {
        self.notify(Event::Made);
        self.inner.state.borrow_mut().made = true;
        self.sync_reading();
    }

    // ------------------------------------------------------------ writing

    /// Writes `data` (asyncio's `write`). It goes out at once when nothing
    /// is buffered; what the socket does not take is copied into the write
    /// buffer and sent when the socket has room, which may call
    /// [`pause_writing`](Protocol::pause_writing). An empty `data` does
    /// nothing.
    ///
    /// A failed send (EPIPE, ECONNRESET, …) is not returned: as in asyncio
    /// it closes the transport and the protocol gets
    /// [`connection_lost(Some(err))`](Protocol::connection_lost).
    ///
    /// As asyncio: after [`close`](Self::close), data is still buffered
    /// while the buffer drains, and dropped (with `Ok`) once the transport
    /// is past that (the buffer was empty, or after [`abort`](Self::abort)
    /// or a fatal error).
    ///
    /// EPIPE after [`write_eof`](Self::write_eof) (asyncio's
    /// `RuntimeError`) and on a read pipe's transport.
    pub fn write(&self, data: &[u8]) -> Result<()> {
        self.writelines(&[data])
    }

    /// Writes every buffer of `bufs`, in order, with one vectored write
    /// (asyncio's `writelines`); otherwise as [`write`](Self::write).
    pub fn writelines(&self, bufs: &[&[u8]]) -> Result<()> {
        let buffer_empty = {
            let st = self.inner.state.borrow();
            if st.eof_written || st.kind == Kind::ReadPipe {
                return Err(StatusCode::EPIPE.into());
            }
            if st.lost_scheduled {
                return Ok(());
            }
            st.buffer.is_empty()
        };
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Ok(());
        }
        let mut sent = 0;
        if buffer_empty {
            match self.inner.conn.try_write(bufs) {
                Ok(n) if n == total => return Ok(()),
                Ok(n) => sent = n,
                Err(err) if err == StatusCode::EAGAIN => {}
                Err(err) => {
                    self.fatal(err);
                    return Ok(());
                }
            }
        }
        let rest = remainder(bufs, sent);
        let len = total - sent;
        let this = self.clone();
        let queued = self
            .inner
            .conn
            .write(&rest, move |status| this.on_written(len, status));
        if let Err(err) = queued {
            self.fatal(err);
            return Ok(());
        }
        let pause = self.inner.state.borrow_mut().buffer.push(len);
        if pause {
            self.notify(Event::PauseWriting);
        }
        Ok(())
    }

    /// A queued write finished (written, failed, or cancelled by a close).
    fn on_written(&self, len: usize, status: Result<()>) {
        let resume = {
            let mut st = self.inner.state.borrow_mut();
            if st.aborted {
                return;
            }
            st.buffer.pop(len)
        };
        if let Err(err) = status {
            return self.fatal(err);
        }
        if resume {
            self.notify(Event::ResumeWriting);
        }
        let drained = {
            let st = self.inner.state.borrow();
            st.closing && st.buffer.is_empty()
        };
        if drained {
            self.finish_close(None);
        }
    }

    /// Closes the sending side once the buffer is written (asyncio's
    /// `write_eof`): the peer reads the end of the stream, and this side
    /// may still read. Writes after it are EPIPE. Does nothing when
    /// closing or after an earlier `write_eof`. On a write pipe's
    /// transport it is [`close`](Self::close) (a pipe has no half-close);
    /// EPIPE on a read pipe's.
    pub fn write_eof(&self) -> Result<()> {
        let kind = {
            let mut st = self.inner.state.borrow_mut();
            if st.kind == Kind::ReadPipe {
                return Err(StatusCode::EPIPE.into());
            }
            if st.closing || st.eof_written {
                return Ok(());
            }
            if st.kind == Kind::Socket {
                st.eof_written = true;
            }
            st.kind
        };
        if kind == Kind::WritePipe {
            self.close();
            return Ok(());
        }
        // The handle shuts down after the writes queued before: the
        // buffer drains first, as asyncio's `write_eof` waits for it.
        if let Err(err) = self.inner.conn.shutdown(|_| {}) {
            self.fatal(err);
        }
        Ok(())
    }

    /// Whether [`write_eof`](Self::write_eof) may be called: true but on a
    /// read pipe's transport.
    pub fn can_write_eof(&self) -> bool {
        self.inner.state.borrow().kind != Kind::ReadPipe
    }

    /// Bytes in the write buffer (asyncio's `get_write_buffer_size`): the
    /// bytes the socket did not take at once, until they are written. 0
    /// after [`abort`](Self::abort).
    pub fn get_write_buffer_size(&self) -> usize {
        self.inner.state.borrow().buffer.size()
    }

    /// The write buffer's `(low, high)` water marks (asyncio's
    /// `get_write_buffer_limits`). Defaults: 16 KiB and 64 KiB.
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.inner.state.borrow().buffer.limits()
    }

    /// Sets the write buffer's water marks (asyncio's
    /// `set_write_buffer_limits`), with the rules of
    /// [`DatagramTransport::set_write_buffer_limits`](crate::endpoint::DatagramTransport::set_write_buffer_limits):
    /// neither given: 64 KiB and 16 KiB; only `high`: `low = high / 4`;
    /// only `low`: `high = 4 × low`; EINVAL unless `high >= low`; pauses at
    /// once if the buffer is already strictly over `high`.
    pub fn set_write_buffer_limits(&self, high: Option<usize>, low: Option<usize>) -> Result<()> {
        let pause = self.inner.state.borrow_mut().buffer.set_limits(high, low)?;
        if pause {
            self.notify(Event::PauseWriting);
        }
        Ok(())
    }

    // ------------------------------------------------------------ reading

    /// Whether data is delivered: not paused and not closing (asyncio's
    /// `is_reading`). Still true after the end of the stream on a
    /// half-closed socket, as in asyncio.
    pub fn is_reading(&self) -> bool {
        let st = self.inner.state.borrow();
        !st.closing && !st.paused_reading
    }

    /// Stops delivering data until [`resume_reading`](Self::resume_reading);
    /// it waits in the kernel. Does nothing when paused or closing.
    pub fn pause_reading(&self) {
        {
            let mut st = self.inner.state.borrow_mut();
            if st.closing || st.paused_reading {
                return;
            }
            st.paused_reading = true;
        }
        self.sync_reading();
    }

    /// Delivers data again. Does nothing when not paused or closing.
    pub fn resume_reading(&self) {
        {
            let mut st = self.inner.state.borrow_mut();
            if st.closing || !st.paused_reading {
                return;
            }
            st.paused_reading = false;
        }
        self.sync_reading();
    }

    /// Starts or stops the handle's reading to match the state and the
    /// protocol's kind.
    fn sync_reading(&self) {
        let buffered = match &*self.inner.protocol.borrow() {
            Some(p) => p.is_buffered(),
            None => return,
        };
        let (want, have) = {
            let st = self.inner.state.borrow();
            let want = st.made && !st.closing && !st.paused_reading && !st.eof_seen;
            // A write pipe reads only to hear of its reader going away.
            let want = want && (st.kind != Kind::WritePipe || self.inner.conn.is_readable());
            (want.then_some(buffered), st.reading)
        };
        if want == have {
            return;
        }
        if have.is_some() {
            self.inner.state.borrow_mut().reading = None;
            self.inner.conn.read_stop();
        }
        let Some(buffered) = want else {
            return;
        };
        // The read callback holds a `ClosedWatch`: if someone else closes
        // the handle, the loop drops the callback, and the watch ends the
        // transport so that `connection_lost` still comes.
        let started = if buffered {
            let this = self.clone();
            let watch = ClosedWatch(self.clone());
            self.inner.conn.read_start_with(
                move |hint| this.get_buffer(hint),
                move |result, buf| watch.0.on_buffer_read(result, buf),
            )
        } else {
            let watch = ClosedWatch(self.clone());
            self.inner.conn.read_start(move |r| watch.0.on_read(r))
        };
        match started {
            Ok(()) => self.inner.state.borrow_mut().reading = Some(buffered),
            // A closed handle, or a pipe end that cannot be read.
            Err(Error::ClosedHandle) => self.fatal(Error::ClosedHandle),
            Err(_) => {}
        }
    }

    /// Whether a read that arrives now is to be delivered.
    fn wants_data(&self) -> bool {
        let st = self.inner.state.borrow();
        st.reading.is_some() && !st.closing && !self.inner.lost_queued.get()
    }

    fn on_read(&self, result: ReadResult<'_>) {
        if !self.wants_data() {
            return;
        }
        match result {
            // A write pipe reads only to learn of its reader's end; bytes
            // sent back on a socket used as one are not for the protocol.
            ReadResult::Data(_) if self.inner.state.borrow().kind == Kind::WritePipe => {}
            ReadResult::Data(data) => self.deliver_data(data),
            ReadResult::Eof => self.on_eof(),
            ReadResult::Error(err) => self.on_read_error(err),
        }
    }

    fn on_eof(&self) {
        let kind = {
            let mut st = self.inner.state.borrow_mut();
            st.eof_seen = true;
            st.reading = None;
            st.kind
        };
        if kind == Kind::WritePipe {
            // The reader of our pipe went away.
            return self.peer_gone();
        }
        self.notify(Event::Eof);
    }

    fn on_read_error(&self, err: Error) {
        self.inner.state.borrow_mut().reading = None;
        if self.inner.state.borrow().kind == Kind::WritePipe {
            return self.peer_gone();
        }
        self.fatal(err);
    }

    /// A write pipe's reader closed its end: asyncio closes with
    /// `BrokenPipeError` if data was waiting, otherwise quietly.
    fn peer_gone(&self) {
        let queued = !self.inner.state.borrow().buffer.is_empty();
        if queued {
            self.fatal(StatusCode::EPIPE.into());
        } else {
            self.force_close(None);
        }
    }

    /// Hands data to the protocol without copying when nothing else is
    /// waiting to be delivered; otherwise queues a copy.
    fn deliver_data(&self, data: &[u8]) {
        if !self.inner.delivering.get() && self.inner.events.borrow().is_empty() {
            let protocol = self.inner.protocol.borrow().clone();
            if let Some(AnyProtocol::Plain(protocol)) = protocol {
                if let Ok(mut p) = protocol.try_borrow_mut() {
                    {
                        let _delivering = Delivering::enter(&self.inner.delivering);
                        p.data_received(data);
                    }
                    drop(p);
                    self.drain();
                    return;
                }
            }
        }
        self.notify(Event::Data(data.to_vec()));
    }

    /// The buffer for the next read, from a buffered protocol.
    fn get_buffer(&self, hint: usize) -> Vec<u8> {
        let protocol = self.inner.protocol.borrow().clone();
        let Some(AnyProtocol::Buffered(protocol)) = protocol else {
            return Vec::new();
        };
        if self.inner.delivering.get() {
            return Vec::new();
        }
        let Ok(mut p) = protocol.try_borrow_mut() else {
            return Vec::new();
        };
        let buf = {
            let _delivering = Delivering::enter(&self.inner.delivering);
            p.get_buffer(hint.max(1))
        };
        drop(p);
        // What `get_buffer` caused (a `pause_writing`) runs now.
        self.drain();
        buf
    }

    fn on_buffer_read(&self, result: Result<usize>, buf: Vec<u8>) {
        if !self.wants_data() {
            return;
        }
        match result {
            Ok(0) => {}
            Ok(n) => self.notify(Event::Buffer(buf, n)),
            Err(Error::Status(StatusCode::EOF)) => self.on_eof(),
            Err(err) => self.on_read_error(err),
        }
    }

    // ------------------------------------------------------------ closing

    /// Whether [`close`](Self::close) or [`abort`](Self::abort) was called,
    /// or the transport is closing after an error (asyncio's `is_closing`).
    pub fn is_closing(&self) -> bool {
        self.inner.state.borrow().closing
    }

    /// Closes the transport (asyncio's `close`): stops reading at once,
    /// writes what is buffered, then closes the handle and calls
    /// [`connection_lost(None)`](Protocol::connection_lost) from the loop,
    /// never from inside `close`. Later calls do nothing.
    pub fn close(&self) {
        let drained = {
            let mut st = self.inner.state.borrow_mut();
            if st.closing {
                return;
            }
            st.closing = true;
            st.buffer.is_empty()
        };
        self.sync_reading();
        if drained {
            self.finish_close(None);
        }
    }

    /// Closes the transport at once (asyncio's `abort`): the write buffer
    /// is dropped and its size reset to 0, the handle closed, and
    /// [`connection_lost(None)`](Protocol::connection_lost) follows from
    /// the loop. Does nothing once the handle is closing.
    pub fn abort(&self) {
        self.force_close(None);
    }

    /// A read or write failed: the transport ends as [`abort`](Self::abort)
    /// would, and the protocol gets the error.
    fn fatal(&self, err: Error) {
        self.force_close(Some(err));
    }

    fn force_close(&self, err: Option<Error>) {
        {
            let mut st = self.inner.state.borrow_mut();
            if st.lost_scheduled {
                return;
            }
            st.aborted = true;
            st.closing = true;
            st.buffer.clear();
        }
        self.sync_reading();
        self.finish_close(err);
    }

    /// Closes the handle; its close callback, which runs in the loop's
    /// closing phase, delivers `connection_lost`.
    fn finish_close(&self, err: Option<Error>) {
        {
            let mut st = self.inner.state.borrow_mut();
            if st.lost_scheduled {
                return;
            }
            st.lost_scheduled = true;
            st.closing = true;
        }
        let this = self.clone();
        let handle = self.inner.conn.handle();
        if !handle.is_closing() {
            handle.close(move || this.notify(Event::Lost(err)));
            return;
        }
        // Someone else closed the handle: its close callback is not ours.
        defer_owed(handle.get_loop(), move || this.notify(Event::Lost(err)));
    }

    // ------------------------------------------------- extra information

    /// The socket's local address when the transport was made (asyncio's
    /// `get_extra_info('sockname')`); `None` for a pipe end.
    pub fn sockname(&self) -> Option<SocketName> {
        self.inner.state.borrow().sockname.clone()
    }

    /// The peer's address when the transport was made (asyncio's
    /// `get_extra_info('peername')`); `None` for a pipe end or an
    /// unconnected socket.
    pub fn peername(&self) -> Option<SocketName> {
        self.inner.state.borrow().peername.clone()
    }

    /// The descriptor (asyncio's `get_extra_info('socket').fileno()` or
    /// `'pipe'`); [`Error::ClosedHandle`] once the handle is closing. Do
    /// not close it, read from it or write to it.
    pub fn fileno(&self) -> Result<RawFd> {
        self.inner.conn.handle().fileno()
    }

    /// The TCP handle under the transport, if it is one (for socket
    /// options such as keep-alive). Reading, writing or closing it
    /// directly bypasses the transport: don't.
    pub fn tcp(&self) -> Option<&Tcp> {
        match &self.inner.conn {
            Conn::Tcp(t) => Some(t),
            Conn::Pipe(_) => None,
        }
    }

    /// The pipe handle under the transport, if it is one (see
    /// [`tcp`](Self::tcp)).
    pub fn pipe(&self) -> Option<&Pipe> {
        match &self.inner.conn {
            Conn::Pipe(p) => Some(p),
            Conn::Tcp(_) => None,
        }
    }

    // ----------------------------------------------------------- protocol

    /// The protocol (asyncio's `get_protocol`); `None` once
    /// `connection_lost` was delivered.
    pub fn get_protocol(&self) -> Option<AnyProtocol> {
        self.inner.protocol.borrow().clone()
    }

    /// Replaces the protocol (asyncio's `set_protocol`): the callbacks from
    /// then on go to `protocol`, which may be of either kind (reading
    /// switches between lent data and the protocol's buffers). It gets no
    /// `connection_made`. Does nothing once `connection_lost` was queued.
    pub fn set_protocol(&self, protocol: AnyProtocol) {
        if self.inner.lost_queued.get() {
            return;
        }
        // The old protocol is dropped after the borrow: its `Drop` may use
        // the transport.
        let old = self.inner.protocol.borrow_mut().replace(protocol);
        drop(old);
        self.sync_reading();
    }

    // ------------------------------------------------- delivering events

    /// Queues a protocol callback and delivers what is queued, unless a
    /// protocol method is running (it is delivered when that returns).
    fn notify(&self, event: Event) {
        if self.inner.lost_queued.get() {
            return;
        }
        if matches!(event, Event::Lost(_)) {
            self.inner.lost_queued.set(true);
        }
        self.inner.events.borrow_mut().push_back(event);
        self.drain();
    }

    /// Delivers queued callbacks in order, one at a time, with no borrow of
    /// the transport's state held.
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
            let outcome = match &protocol {
                AnyProtocol::Plain(p) => match p.try_borrow_mut() {
                    Ok(mut p) => self.deliver_one(|e| dispatch_plain(&mut *p, self, e)),
                    Err(_) => None,
                },
                AnyProtocol::Buffered(p) => match p.try_borrow_mut() {
                    Ok(mut p) => self.deliver_one(|e| dispatch_buffered(&mut *p, self, e)),
                    Err(_) => None,
                },
            };
            match outcome {
                // The application holds a borrow of its protocol while it
                // calls the transport: deliver from the loop instead.
                None => return self.retry_later(),
                Some(Delivered::Lost) => {
                    let released = self.inner.protocol.borrow_mut().take();
                    drop((released, protocol));
                    let hook = self.inner.on_lost.borrow_mut().take();
                    if let Some(hook) = hook {
                        hook();
                    }
                    return;
                }
                Some(Delivered::Eof(keep_open)) => {
                    drop(protocol);
                    let kind = self.inner.state.borrow().kind;
                    if kind != Kind::Socket || !keep_open {
                        self.close();
                    }
                }
                Some(Delivered::Other) => {}
            }
        }
    }

    /// Pops the next event and runs `f` on it with `delivering` set.
    fn deliver_one(&self, f: impl FnOnce(Event) -> Delivered) -> Option<Delivered> {
        let event = self.inner.events.borrow_mut().pop_front()?;
        let _delivering = Delivering::enter(&self.inner.delivering);
        Some(f(event))
    }

    /// Retries delivery from a 0 ms timer, owed.
    fn retry_later(&self) {
        if self.inner.retry_armed.replace(true) {
            return;
        }
        let this = self.clone();
        defer_owed(self.inner.conn.handle().get_loop(), move || {
            this.inner.retry_armed.set(false);
            this.drain();
        });
    }
}

/// Held by the read callback. The loop drops that callback outside its
/// borrow when reading stops or the handle closes; in the second case,
/// unless the transport closed the handle itself, it ends the transport
/// as `abort` would (libuv's shutdown, a `Loop::walk` that closes every
/// handle).
struct ClosedWatch(StreamTransport);

impl Drop for ClosedWatch {
    fn drop(&mut self) {
        let t = &self.0;
        let ours = t
            .inner
            .state
            .try_borrow()
            .map_or(true, |st| st.lost_scheduled);
        if !ours && t.inner.conn.handle().is_closing() {
            t.force_close(None);
        }
    }
}

/// What delivering an event asks of the transport afterwards.
enum Delivered {
    Other,
    /// `eof_received` returned this.
    Eof(bool),
    Lost,
}

fn dispatch_plain(p: &mut dyn Protocol, t: &StreamTransport, event: Event) -> Delivered {
    match event {
        Event::Made => p.connection_made(t),
        Event::Data(data) => p.data_received(&data),
        Event::Buffer(buf, n) => p.data_received(&buf[..n.min(buf.len())]),
        Event::Eof => return Delivered::Eof(p.eof_received()),
        Event::PauseWriting => p.pause_writing(),
        Event::ResumeWriting => p.resume_writing(),
        Event::Lost(err) => {
            p.connection_lost(err);
            return Delivered::Lost;
        }
    }
    Delivered::Other
}

fn dispatch_buffered(p: &mut dyn BufferedProtocol, t: &StreamTransport, event: Event) -> Delivered {
    match event {
        Event::Made => p.connection_made(t),
        // Read before a switch to this protocol: copied into its buffer.
        Event::Data(data) => copy_into(p, &data),
        Event::Buffer(buf, n) => p.buffer_updated(buf, n),
        Event::Eof => return Delivered::Eof(p.eof_received()),
        Event::PauseWriting => p.pause_writing(),
        Event::ResumeWriting => p.resume_writing(),
        Event::Lost(err) => {
            p.connection_lost(err);
            return Delivered::Lost;
        }
    }
    Delivered::Other
}

/// Feeds `data` through a buffered protocol's buffers (data read for a
/// plain protocol, delivered after a switch).
fn copy_into(p: &mut dyn BufferedProtocol, mut data: &[u8]) {
    while !data.is_empty() {
        let mut buf = p.get_buffer(data.len());
        let n = buf.len().min(data.len());
        if n == 0 {
            return;
        }
        buf[..n].copy_from_slice(&data[..n]);
        p.buffer_updated(buf, n);
        data = &data[n..];
    }
}

/// The part of `bufs` after its first `sent` bytes (empty slices left
/// out: they write nothing).
fn remainder<'a>(bufs: &[&'a [u8]], mut sent: usize) -> Vec<&'a [u8]> {
    let mut rest = Vec::with_capacity(bufs.len());
    for b in bufs {
        if sent >= b.len() {
            sent -= b.len();
            continue;
        }
        rest.push(&b[sent..]);
        sent = 0;
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::remainder;

    #[test]
    fn remainder_skips_what_was_sent() {
        let bufs: [&[u8]; 3] = [b"ab", b"", b"cde"];
        assert_eq!(remainder(&bufs, 0), vec![&b"ab"[..], b"cde"]);
        assert_eq!(remainder(&bufs, 1), vec![&b"b"[..], b"cde"]);
        assert_eq!(remainder(&bufs, 2), vec![&b"cde"[..]]);
        assert_eq!(remainder(&bufs, 4), vec![&b"e"[..]]);
        assert!(remainder(&bufs, 5).is_empty());
    }
}
