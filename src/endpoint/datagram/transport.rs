//! [`DatagramTransport`]: asyncio's `_SelectorDatagramTransport` on a
//! [`Udp`] handle.
//!
//! The write buffer is the set of [`Udp::send`] requests whose callbacks
//! have not run: a datagram goes out at once through [`Udp::try_send`]
//! when nothing is buffered, and only when the socket cannot take it is it
//! handed to [`Udp::send`], which copies and queues it. Each buffered
//! datagram counts its length plus [`DATAGRAM_OVERHEAD`] bytes.
//!
//! Protocol callbacks go through a small queue so that they never nest and
//! no borrow of the transport's state is held while one runs.

use super::{DatagramProtocol, TransportSocket};
use crate::endpoint::{Delivering, WriteBuffer};
use crate::error::{Error, Result, StatusCode};
use crate::owed::defer_owed;
use crate::udp::Datagram;
use crate::Udp;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;

/// Default high-water mark of the write buffer: 64 KiB.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;
/// Default low-water mark of the write buffer: 16 KiB.
pub const DEFAULT_LOW_WATER: usize = 16 * 1024;
/// Bytes counted per buffered datagram on top of its length (CPython's
/// `_header_size`), so that empty datagrams count too.
pub const DATAGRAM_OVERHEAD: usize = 8;

type SharedProtocol = Rc<RefCell<dyn DatagramProtocol>>;

/// A protocol callback waiting to be delivered.
enum Event {
    Made,
    Datagram(Vec<u8>, SocketAddr),
    Error(Error),
    PauseWriting,
    ResumeWriting,
    Lost(Option<Error>),
}

/// Everything about the transport except the protocol; borrowed only
/// briefly, never across a protocol callback or a loop call.
struct State {
    /// Cached at creation (asyncio's `get_extra_info('sockname')`).
    sockname: Option<SocketAddr>,
    /// Cached at creation; `None` when not connected.
    peername: Option<SocketAddr>,
    /// The fixed destination: `remote_addr`, or the peer of a connected
    /// `sock`. `sendto` accepts only `None` or this address.
    remote: Option<SocketAddr>,
    /// The socket is connected to `remote` (not so with `allow_broadcast`).
    connected: bool,
    /// `connection_made` was delivered: reading may start.
    made: bool,
    /// `close` or `abort` was called.
    closing: bool,
    /// `abort` was called: results of buffered sends are ignored.
    aborted: bool,
    /// The handle is closing and `connection_lost` will follow.
    lost_scheduled: bool,
    paused_reading: bool,
    /// The handle is receiving with our callback.
    receiving: bool,
    /// Sends handed to `Udp::send` whose callbacks have not run, each
    /// counting its length plus `DATAGRAM_OVERHEAD`.
    buffer: WriteBuffer,
}

struct Inner {
    udp: Udp,
    state: RefCell<State>,
    /// `None` once `connection_lost` was delivered (breaks the cycle of a
    /// protocol that keeps its transport).
    protocol: RefCell<Option<SharedProtocol>>,
    events: RefCell<VecDeque<Event>>,
    /// A protocol method is running: new callbacks wait in `events`.
    delivering: Cell<bool>,
    /// `connection_lost` is queued: later events are dropped.
    lost_queued: Cell<bool>,
    /// A timer will retry delivery (the protocol was borrowed elsewhere).
    retry_armed: Cell<bool>,
}

/// A datagram endpoint's transport (asyncio's `DatagramTransport`), made
/// by [`create_datagram_endpoint`](super::create_datagram_endpoint).
///
/// A cheap `Clone` handle: every clone is the same transport. Not `Send`:
/// use it on its loop's thread.
///
/// The transport keeps itself (and its protocol) alive while its socket is
/// open, even if every handle is dropped; [`close`](Self::close) or
/// [`abort`](Self::abort) ends it.
#[derive(Clone)]
pub struct DatagramTransport {
    inner: Rc<Inner>,
}

impl fmt::Debug for DatagramTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DatagramTransport");
        d.field("udp", &self.inner.udp);
        if let Ok(st) = self.inner.state.try_borrow() {
            d.field("sockname", &st.sockname)
                .field("peername", &st.peername)
                .field("closing", &st.closing)
                .field("write_buffer_size", &st.buffer.size());
        }
        d.finish()
    }
}

impl PartialEq for DatagramTransport {
    /// Two handles are equal when they are the same transport.
    fn eq(&self, other: &DatagramTransport) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for DatagramTransport {}

/// The socket's descriptor, or `-1` once the socket is closing or closed
/// (after [`close`](Self::close) that is once the buffered datagrams are
/// sent; at once after [`abort`](Self::abort)). Not
/// `AsFd`, for the reason [`Udp`]'s handle gives: a close on any clone
/// closes the descriptor while a borrow of this one may still be held.
impl AsRawFd for DatagramTransport {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.udp.as_raw_fd()
    }
}

impl DatagramTransport {
    /// Wraps `udp` (whose socket is open, bound or connected as the
    /// options said) for `protocol`; nothing is delivered yet.
    pub(super) fn new(
        udp: Udp,
        remote: Option<SocketAddr>,
        connected: bool,
        protocol: SharedProtocol,
    ) -> DatagramTransport {
        let sockname = udp.sockname().ok();
        let peername = if connected { udp.peername().ok() } else { None };
        let state = State {
            sockname,
            peername,
            remote,
            connected,
            made: false,
            closing: false,
            aborted: false,
            lost_scheduled: false,
            paused_reading: false,
            receiving: false,
            buffer: WriteBuffer::new(),
        };
        DatagramTransport {
            inner: Rc::new(Inner {
                udp,
                state: RefCell::new(state),
                protocol: RefCell::new(Some(protocol)),
                events: RefCell::new(VecDeque::new()),
                delivering: Cell::new(false),
                lost_queued: Cell::new(false),
                retry_armed: Cell::new(false),
            }),
        }
    }

    /// Delivers `connection_made`, then starts reading unless the protocol
    /// paused reading or closed the transport meanwhile.
    pub(super) fn start(&self) {
        self.notify(Event::Made);
        self.inner.state.borrow_mut().made = true;
        self.sync_reading();
    }

    // ------------------------------------------------------------ sending

    /// Sends `data` as one datagram to `addr` (asyncio's `sendto`); an empty
    /// slice sends an empty datagram.
    ///
    /// With a fixed remote address (`remote_addr`, or a connected `sock`),
    /// `addr` must be `None`, that address or [`peername`](Self::peername).
    /// The datagram goes out at once when the write buffer is empty; when
    /// the socket cannot take it now
    /// (EAGAIN, or ENOBUFS as libuv treats it), it is copied into the buffer
    /// and sent when the socket is writable — which may call
    /// [`pause_writing`](DatagramProtocol::pause_writing). Any other OS
    /// error (EMSGSIZE, ECONNREFUSED after an ICMP error, …) goes to the
    /// protocol's [`error_received`](DatagramProtocol::error_received),
    /// here or, for a buffered datagram, when it fails later; `sendto` then
    /// still returns `Ok` and the transport stays open.
    ///
    /// Errors returned: [`Error::ClosedHandle`] once [`close`](Self::close)
    /// or [`abort`](Self::abort) was called (or the UDP handle was closed
    /// by other means, e.g. a [`Loop::walk`](crate::Loop::walk) closing
    /// every handle: the transport then ends as if aborted); EISCONN for an address other
    /// than the fixed remote address (asyncio's `ValueError`); EDESTADDRREQ
    /// for `None` without a fixed remote address.
    pub fn sendto(&self, data: &[u8], addr: Option<SocketAddr>) -> Result<()> {
        let (dest, buffer_empty) = {
            let st = self.inner.state.borrow();
            if st.closing {
                return Err(Error::ClosedHandle);
            }
            let dest = match (st.remote, addr) {
                // The peer as the kernel reports it may differ from the
                // resolved remote address (an IPv6 scope id): both are fine.
                (Some(remote), Some(to)) if to != remote && Some(to) != st.peername => {
                    return Err(StatusCode::EISCONN.into());
                }
                (Some(remote), _) => (!st.connected).then_some(remote),
                (None, Some(to)) => Some(to),
                (None, None) => return Err(StatusCode::EDESTADDRREQ.into()),
            };
            (dest, st.buffer.is_empty())
        };
        if buffer_empty {
            match self.inner.udp.try_send(&[data], dest) {
                Ok(_) => return Ok(()),
                Err(err) if err == StatusCode::EAGAIN => {}
                Err(Error::ClosedHandle) => return Err(self.closed_behind_our_back()),
                Err(err) => {
                    self.notify(Event::Error(err));
                    return Ok(());
                }
            }
        }
        let size = data.len().saturating_add(DATAGRAM_OVERHEAD);
        let this = self.clone();
        let queued = self
            .inner
            .udp
            .send(&[data], dest, move |_, status| this.on_sent(size, status));
        match queued {
            Ok(_) => {}
            Err(Error::ClosedHandle) => return Err(self.closed_behind_our_back()),
            Err(err) => {
                self.notify(Event::Error(err));
                return Ok(());
            }
        }
        let pause = self.inner.state.borrow_mut().buffer.push(size);
        if pause {
            self.notify(Event::PauseWriting);
        }
        Ok(())
    }

    /// The handle was closed by someone else (e.g. a `Loop::walk` that
    /// closes every handle): end the transport as `abort` would, so that
    /// `connection_lost` still comes. Returns the closed error.
    fn closed_behind_our_back(&self) -> Error {
        self.abort();
        Error::ClosedHandle
    }

    /// A buffered send finished (sent, failed, or cancelled by `abort`).
    fn on_sent(&self, size: usize, status: Result<()>) {
        let external_close = {
            let st = self.inner.state.borrow();
            !st.lost_scheduled && self.inner.udp.is_closing()
        };
        if external_close {
            // ECANCELED because the handle was closed under us.
            self.closed_behind_our_back();
            return;
        }
        let resume = {
            let mut st = self.inner.state.borrow_mut();
            if st.aborted {
                return;
            }
            st.buffer.pop(size)
        };
        if let Err(err) = status {
            self.notify(Event::Error(err));
        }
        if resume {
            self.notify(Event::ResumeWriting);
        }
        let drained = {
            let st = self.inner.state.borrow();
            st.closing && st.buffer.is_empty()
        };
        if drained {
            self.finish_close();
        }
    }

    /// Bytes in the write buffer: each buffered datagram's length plus
    /// [`DATAGRAM_OVERHEAD`] (asyncio's `get_write_buffer_size`). 0 after
    /// [`abort`](Self::abort).
    pub fn get_write_buffer_size(&self) -> usize {
        self.inner.state.borrow().buffer.size()
    }

    /// The write buffer's `(low, high)` water marks, in that order as in
    /// asyncio's `get_write_buffer_limits`. Defaults: 16 KiB and 64 KiB.
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.inner.state.borrow().buffer.limits()
    }

    /// Sets the write buffer's water marks (asyncio's
    /// `set_write_buffer_limits`).
    ///
    /// Neither given: 64 KiB and 16 KiB. Only `high`: `low = high / 4`.
    /// Only `low`: `high = 4 × low`. EINVAL unless `high >= low` (both are
    /// unsigned, so `>= 0` always holds). The protocol is paused when the
    /// buffer goes strictly over `high` — at once, if it already is — and
    /// resumed when it drains to `low` or below; `high == 0` pauses whenever
    /// anything is buffered, `low == 0` resumes only when the buffer is
    /// empty.
    pub fn set_write_buffer_limits(&self, high: Option<usize>, low: Option<usize>) -> Result<()> {
        let pause = self.inner.state.borrow_mut().buffer.set_limits(high, low)?;
        if pause {
            self.notify(Event::PauseWriting);
        }
        Ok(())
    }

    // ------------------------------------------------------------ reading

    /// Whether datagrams are delivered: not paused and not closing
    /// (asyncio's `is_reading`).
    pub fn is_reading(&self) -> bool {
        let st = self.inner.state.borrow();
        !st.closing && !st.paused_reading
    }

    /// Stops delivering datagrams until [`resume_reading`](Self::resume_reading);
    /// they wait in the socket's receive buffer. Does nothing when paused
    /// or closing.
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

    /// Delivers datagrams again, those that waited first. Does nothing when
    /// not paused or closing.
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

    /// Starts or stops receiving to match the state.
    fn sync_reading(&self) {
        let (want, have) = {
            let st = self.inner.state.borrow();
            (st.made && !st.closing && !st.paused_reading, st.receiving)
        };
        if want == have {
            return;
        }
        if want {
            let this = self.clone();
            let started = self
                .inner
                .udp
                .receive_start(move |_, result| this.on_receive(result));
            match started {
                Ok(()) => self.inner.state.borrow_mut().receiving = true,
                Err(Error::ClosedHandle) => {
                    self.closed_behind_our_back();
                }
                Err(err) => self.notify(Event::Error(err)),
            }
        } else {
            self.inner.state.borrow_mut().receiving = false;
            let _ = self.inner.udp.receive_stop();
        }
    }

    fn on_receive(&self, result: Result<Datagram<'_>>) {
        {
            let st = self.inner.state.borrow();
            if st.closing || !st.receiving {
                return;
            }
        }
        match result {
            Ok(dgram) => self.deliver_datagram(dgram.data, dgram.addr),
            Err(err) => self.notify(Event::Error(err)),
        }
    }

    /// Hands a datagram to the protocol without copying it when nothing
    /// else is waiting to be delivered; otherwise queues a copy.
    fn deliver_datagram(&self, data: &[u8], addr: SocketAddr) {
        if self.inner.lost_queued.get() {
            return;
        }
        if !self.inner.delivering.get() && self.inner.events.borrow().is_empty() {
            let protocol = self.inner.protocol.borrow().clone();
            let Some(protocol) = protocol else {
                return;
            };
            let borrowed = protocol.try_borrow_mut();
            if let Ok(mut p) = borrowed {
                {
                    let _delivering = Delivering::enter(&self.inner.delivering);
                    p.datagram_received(data, addr);
                }
                drop(p);
                self.drain();
                return;
            }
        }
        self.notify(Event::Datagram(data.to_vec(), addr));
    }

    // ------------------------------------------------------------ closing

    /// Whether [`close`](Self::close) or [`abort`](Self::abort) was called
    /// (asyncio's `is_closing`).
    pub fn is_closing(&self) -> bool {
        self.inner.state.borrow().closing
    }

    /// Closes the transport (asyncio's `close`): stops reading at once,
    /// sends what is buffered, then closes the socket and calls
    /// [`connection_lost(None)`](DatagramProtocol::connection_lost) from
    /// the loop — never from inside `close`. Later calls do nothing.
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
            self.finish_close();
        }
    }

    /// Closes the transport at once (asyncio's `abort`): the write buffer is
    /// dropped (its datagrams may or may not have gone out; their results
    /// are ignored) and its size reset to 0, the socket is closed, and
    /// [`connection_lost(None)`](DatagramProtocol::connection_lost) follows
    /// from the loop (its closing phase), never from inside `abort`. Does
    /// nothing once the socket is closing (after an `abort`, or a `close`
    /// whose buffer had drained).
    pub fn abort(&self) {
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
        self.finish_close();
    }

    /// Closes the handle; its close callback, which runs in the loop's
    /// closing phase, delivers `connection_lost`.
    fn finish_close(&self) {
        {
            let mut st = self.inner.state.borrow_mut();
            if st.lost_scheduled {
                return;
            }
            st.lost_scheduled = true;
        }
        let this = self.clone();
        if !self.inner.udp.is_closing() {
            self.inner.udp.close(move || this.notify(Event::Lost(None)));
            return;
        }
        // Someone else closed the handle already, so its close callback is
        // not ours: deliver from a 0 ms timer instead, owed (a later walk
        // that closes that timer moves the delivery to another).
        defer_owed(self.inner.udp.get_loop(), move || {
            this.notify(Event::Lost(None))
        });
    }

    // ------------------------------------------------- extra information

    /// The socket's local address when the endpoint was made (asyncio's
    /// `get_extra_info('sockname')`); `None` if it could not be read.
    pub fn sockname(&self) -> Option<SocketAddr> {
        self.inner.state.borrow().sockname
    }

    /// The connected peer's address, cached when the endpoint was made
    /// (asyncio's `get_extra_info('peername')`); `None` when the socket is
    /// not connected (including `remote_addr` with `allow_broadcast`).
    pub fn peername(&self) -> Option<SocketAddr> {
        self.inner.state.borrow().peername
    }

    /// The socket's descriptor; [`Error::ClosedHandle`] once the socket is
    /// closing. Do not close it or read from it.
    pub fn fileno(&self) -> Result<RawFd> {
        self.inner.udp.fileno()
    }

    /// A restricted view of the socket (asyncio's
    /// `get_extra_info('socket')`, a `TransportSocket`): options and
    /// addresses, but no sending, receiving or closing.
    pub fn socket(&self) -> TransportSocket {
        TransportSocket::new(self.inner.udp.clone())
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
        loop {
            if self.inner.events.borrow().is_empty() {
                return;
            }
            let protocol = self.inner.protocol.borrow().clone();
            let Some(protocol) = protocol else {
                let dropped = std::mem::take(&mut *self.inner.events.borrow_mut());
                drop(dropped);
                return;
            };
            let Ok(mut p) = protocol.try_borrow_mut() else {
                // The application holds a borrow of its protocol while it
                // calls the transport: deliver from the loop instead.
                self.retry_later();
                return;
            };
            let event = self.inner.events.borrow_mut().pop_front();
            let Some(event) = event else {
                return;
            };
            let lost = matches!(event, Event::Lost(_));
            {
                let _delivering = Delivering::enter(&self.inner.delivering);
                match event {
                    Event::Made => p.connection_made(self),
                    Event::Datagram(data, addr) => p.datagram_received(&data, addr),
                    Event::Error(err) => p.error_received(err),
                    Event::PauseWriting => p.pause_writing(),
                    Event::ResumeWriting => p.resume_writing(),
                    Event::Lost(err) => p.connection_lost(err),
                }
            }
            drop(p);
            if lost {
                let released = self.inner.protocol.borrow_mut().take();
                drop(released);
                drop(protocol);
                return;
            }
        }
    }

    /// Retries delivery from a 0 ms timer, owed: a walk that closes that
    /// timer must not leave `retry_armed` set with events never delivered.
    fn retry_later(&self) {
        if self.inner.retry_armed.replace(true) {
            return;
        }
        let this = self.clone();
        defer_owed(self.inner.udp.get_loop(), move || {
            this.inner.retry_armed.set(false);
            this.drain();
        });
    }
}
