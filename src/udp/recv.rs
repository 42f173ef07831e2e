//! Receiving: into the loop's shared buffer (the safe, allocation-free
//! path) or into buffers the caller supplies (libuv's `alloc_cb`).
//!
//! mio reports readiness edge-triggered. A handle reads until the socket
//! would block or its budget of 32 datagrams per iteration is spent; in the
//! latter case, after an error, and after `receive_start`, it goes on the
//! loop's ready list and is read again next iteration without a new edge.
//! `receive_start` re-arms the epoll registration, which reports datagrams
//! that arrived while the handle was not receiving.

use super::{bind_if_needed, refresh_active, udp_mut, Udp, UdpFlags};
use crate::core::state::{Deferred, Key, RECV_BUF_SIZE};
use crate::error::{Error, Result, StatusCode};
use crate::{sys, Loop};
use std::cell::Cell;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::RawFd;
use std::rc::Rc;

/// Datagrams one handle reads per loop iteration at most (as libuv).
const READ_BUDGET: usize = 32;

/// One received datagram, lent to the receive callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The payload; empty for an empty datagram. Valid only during the
    /// callback: copy what you keep.
    pub data: &'a [u8],
    /// The sender.
    pub addr: SocketAddr,
    /// [`UdpFlags::PARTIAL`] when the datagram was longer than the buffer
    /// and the rest was dropped.
    pub flags: UdpFlags,
}

/// What one read into a caller-supplied buffer produced
/// (libuv's `nread`, `addr` and `flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes written to the buffer.
    pub len: usize,
    /// The sender; `None` together with `len == 0` means nothing more was
    /// waiting and the buffer comes back unused.
    pub addr: Option<SocketAddr>,
    /// [`UdpFlags::PARTIAL`] when the datagram was truncated.
    pub flags: UdpFlags,
}

/// How one read ended.
enum Outcome {
    /// A datagram was delivered.
    Delivered,
    /// Nothing more is waiting: the next edge will tell.
    Drained,
    /// An error was delivered: try again next iteration.
    Failed,
}

/// Reads one datagram and hands it to the user; type-erases the two ways
/// of supplying a buffer.
trait Sink {
    fn read_one(
        &mut self,
        udp: &Udp,
        fd: &dyn Fn() -> Option<RawFd>,
        loop_buf: &mut Vec<u8>,
    ) -> Outcome;

    /// Delivers the next datagram of `batch`, refilling it with one
    /// `recvmmsg` when it is used up.
    fn read_batched(
        &mut self,
        udp: &Udp,
        fd: &dyn Fn() -> Option<RawFd>,
        batch: &mut Batch,
        loop_buf: &mut Vec<u8>,
    ) -> Outcome;
}

/// A handle's recvmmsg batch and how far delivery got.
pub(super) struct Batch {
    buf: sys::RecvBatch,
    /// Next message to deliver from.
    pos: usize,
    /// Offset of the next datagram inside a message of several coalesced
    /// datagrams (receive offload).
    seg_off: usize,
    /// The last refill, in this dispatch, read fewer datagrams than fit: the
    /// socket was empty then, and any datagram arriving later raises a new
    /// edge, so no `recvmmsg` is needed just to see EAGAIN.
    short: bool,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            buf: sys::RecvBatch::new(),
            pos: 0,
            seg_off: 0,
            short: false,
        }
    }

    /// Datagrams read from the socket but not delivered yet.
    fn pending(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// Makes a datagram available at `pos`: Ok(false) when the socket has
    /// nothing more to give.
    fn refill(&mut self, fd: &dyn Fn() -> Option<RawFd>) -> io::Result<bool> {
        if self.pending() {
            return Ok(true);
        }
        if std::mem::take(&mut self.short) {
            return Ok(false);
        }
        let Some(fd) = fd() else {
            return Ok(false);
        };
        match self.buf.recv(fd) {
            Ok(n) => {
                self.pos = 0;
                self.seg_off = 0;
                self.short = n < sys::BATCH;
                Ok(n > 0)
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Takes the next datagram: a whole message, or its next segment when
    /// the kernel coalesced several datagrams into it.
    fn next(&mut self) -> Option<(sys::BatchEntry, &[u8])> {
        let (entry, data) = self.buf.get(self.pos)?;
        match entry.segment {
            Some(size) if size < data.len() => {
                let start = self.seg_off;
                let end = (start + size).min(data.len());
                if end >= data.len() {
                    self.pos += 1;
                    self.seg_off = 0;
                } else {
                    self.seg_off = end;
                }
                Some((entry, &data[start..end]))
            }
            _ => {
                self.pos += 1;
                self.seg_off = 0;
                Some((entry, data))
            }
        }
    }
}

/// The receive side of a UDP handle.
#[derive(Default)]
pub(super) struct RecvState {
    sink: Option<Box<dyn Sink>>,
    receiving: bool,
    /// Bumped by every start and stop. The dispatch holds a clone, so it
    /// tells between two datagrams, without borrowing the loop state,
    /// whether a callback stopped, restarted or closed the handle.
    epoch: Rc<Cell<u64>>,
    /// Last loop iteration this handle read in.
    last_read: u64,
    /// Batch receiving with recvmmsg was asked for.
    batch_enabled: bool,
    /// Receive offload is on: messages may hold several datagrams, which
    /// only the batch path splits.
    pub(super) gro: bool,
    /// The batch buffer, once batching was used (kept for the handle's life).
    batch: Option<Box<Batch>>,
}

impl RecvState {
    pub(super) fn is_receiving(&self) -> bool {
        self.receiving
    }

    pub(super) fn stop(&mut self, deferred: &mut Deferred) {
        if self.receiving {
            self.epoch.set(self.epoch.get() + 1);
        }
        self.receiving = false;
        if let Some(sink) = self.sink.take() {
            deferred.push(sink);
        }
    }
}

fn unspecified() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
}

fn flags_for(received: &sys::Received) -> UdpFlags {
    if received.truncated {
        UdpFlags::PARTIAL
    } else {
        UdpFlags::empty()
    }
}

/// Receives into the loop's shared 64 KiB buffer.
struct LoopBufferSink<F>(F);

impl<F> Sink for LoopBufferSink<F>
where
    F: FnMut(&Udp, Result<Datagram<'_>>),
{
    fn read_one(
        &mut self,
        udp: &Udp,
        fd: &dyn Fn() -> Option<RawFd>,
        loop_buf: &mut Vec<u8>,
    ) -> Outcome {
        let Some(fd) = fd() else {
            return Outcome::Drained;
        };
        if loop_buf.len() < RECV_BUF_SIZE {
            loop_buf.resize(RECV_BUF_SIZE, 0);
        }
        match sys::recv_from(fd, loop_buf) {
            Ok(r) => {
                let datagram = Datagram {
                    data: &loop_buf[..r.len],
                    addr: r.addr.unwrap_or_else(unspecified),
                    flags: flags_for(&r),
                };
                (self.0)(udp, Ok(datagram));
                Outcome::Delivered
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Outcome::Drained,
            Err(err) => {
                (self.0)(udp, Err(err.into()));
                Outcome::Failed
            }
        }
    }

    fn read_batched(
        &mut self,
        udp: &Udp,
        fd: &dyn Fn() -> Option<RawFd>,
        batch: &mut Batch,
        _loop_buf: &mut Vec<u8>,
    ) -> Outcome {
        match batch.refill(fd) {
            Ok(true) => {}
            Ok(false) => return Outcome::Drained,
            Err(err) => {
                (self.0)(udp, Err(err.into()));
                return Outcome::Failed;
            }
        }
        let Some((entry, data)) = batch.next() else {
            return Outcome::Drained;
        };
        let flags = if entry.truncated {
            UdpFlags::PARTIAL
        } else {
            UdpFlags::empty()
        };
        let datagram = Datagram {
            data,
            addr: entry.addr.unwrap_or_else(unspecified),
            flags,
        };
        (self.0)(udp, Ok(datagram));
        Outcome::Delivered
    }
}

/// Receives into buffers from the caller's allocator.
struct AllocSink<A, C> {
    alloc: A,
    cb: C,
}

impl<A, C, B> Sink for AllocSink<A, C>
where
    A: FnMut(&Udp, usize) -> B,
    C: FnMut(&Udp, Result<RecvMeta>, B),
    B: AsMut<[u8]>,
{
    fn read_one(
        &mut self,
        udp: &Udp,
        fd: &dyn Fn() -> Option<RawFd>,
        _loop_buf: &mut Vec<u8>,
    ) -> Outcome {
        let nothing = RecvMeta {
            len: 0,
            addr: None,
            flags: UdpFlags::empty(),
        };
        let mut buf = (self.alloc)(udp, RECV_BUF_SIZE);
        if buf.as_mut().is_empty() {
            (self.cb)(udp, Err(StatusCode::ENOBUFS.into()), buf);
            return Outcome::Failed;
        }
        // The allocator may have stopped or closed the handle.
        let Some(fd) = fd() else {
            (self.cb)(udp, Ok(nothing), buf);
            return Outcome::Drained;
        };
        match sys::recv_from(fd, buf.as_mut()) {
            Ok(r) => {
                let meta = RecvMeta {
                    len: r.len,
                    addr: Some(r.addr.unwrap_or_else(unspecified)),
                    flags: flags_for(&r),
                };
                (self.cb)(udp, Ok(meta), buf);
                Outcome::Delivered
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                (self.cb)(udp, Ok(nothing), buf);
                Outcome::Drained
            }
            Err(err) => {
                (self.cb)(udp, Err(Error::from(err)), buf);
                Outcome::Failed
            }
        }
    }

    /// Datagrams come from the batch (batching or receive offload is on, or
    /// a batch still holds datagrams) and are copied into caller buffers.
    fn read_batched(
        &mut self,
        udp: &Udp,
        fd: &dyn Fn() -> Option<RawFd>,
        batch: &mut Batch,
        _loop_buf: &mut Vec<u8>,
    ) -> Outcome {
        match batch.refill(fd) {
            Ok(true) => {}
            Ok(false) => return Outcome::Drained,
            Err(err) => {
                let buf = (self.alloc)(udp, RECV_BUF_SIZE);
                (self.cb)(udp, Err(err.into()), buf);
                return Outcome::Failed;
            }
        }
        let mut buf = (self.alloc)(udp, RECV_BUF_SIZE);
        if buf.as_mut().is_empty() {
            (self.cb)(udp, Err(StatusCode::ENOBUFS.into()), buf);
            return Outcome::Failed;
        }
        let Some((entry, data)) = batch.next() else {
            return Outcome::Drained;
        };
        let dest = buf.as_mut();
        let len = data.len().min(dest.len());
        dest[..len].copy_from_slice(&data[..len]);
        let flags = if entry.truncated || len < data.len() {
            UdpFlags::PARTIAL
        } else {
            UdpFlags::empty()
        };
        let meta = RecvMeta {
            len,
            addr: Some(entry.addr.unwrap_or_else(unspecified)),
            flags,
        };
        (self.cb)(udp, Ok(meta), buf);
        Outcome::Delivered
    }
}

impl Udp {
    /// Starts receiving (`uv_udp_recv_start`; python-uv's `receive_start`).
    /// Binds to `0.0.0.0:0` first if the handle has no socket.
    ///
    /// `cb` gets the handle and either a [`Datagram`] — data lent from the
    /// loop's buffer (no allocation per datagram), the sender, and flags
    /// with [`UdpFlags::PARTIAL`] for a truncated datagram — or the error
    /// status of a failed read (e.g. ECONNREFUSED after an ICMP error on a
    /// connected handle). Errors never stop receiving or close the handle.
    ///
    /// EALREADY if already receiving.
    pub fn receive_start(
        &self,
        cb: impl FnMut(&Udp, Result<Datagram<'_>>) + 'static,
    ) -> Result<()> {
        self.start_receiving(Box::new(LoopBufferSink(cb)))
    }

    /// Starts receiving into buffers the caller supplies (libuv's
    /// `alloc_cb` + `recv_cb`).
    ///
    /// Before each read `alloc(handle, suggested_size)` returns a buffer;
    /// `cb` then gets it back with the outcome: `Ok(meta)` with the bytes
    /// written, sender and flags; `Ok` with `len == 0` and `addr == None`
    /// when nothing more was waiting (the buffer is returned unused); or an
    /// error status. An empty buffer from `alloc` is reported as ENOBUFS.
    pub fn receive_start_with<B, A, C>(&self, alloc: A, cb: C) -> Result<()>
    where
        B: AsMut<[u8]> + 'static,
        A: FnMut(&Udp, usize) -> B + 'static,
        C: FnMut(&Udp, Result<RecvMeta>, B) + 'static,
    {
        self.start_receiving(Box::new(AllocSink { alloc, cb }))
    }

    fn start_receiving(&self, sink: Box<dyn Sink>) -> Result<()> {
        let key = self.key();
        // Held out here so that, on error, it is dropped after the borrow.
        let mut sink = Some(sink);
        self.get_loop().with_deferred(|st, _| {
            if udp_mut(st, key)?.recv.receiving {
                return Err(StatusCode::EALREADY.into());
            }
            bind_if_needed(st, key, super::AF_INET, UdpFlags::empty())?;
            let u = udp_mut(st, key)?;
            u.recv.receiving = true;
            u.recv.epoch.set(u.recv.epoch.get() + 1);
            u.recv.sink = sink.take();
            refresh_active(st, key);
            // Datagrams may have arrived while not receiving, and their edge
            // is gone: re-arming the registration makes epoll report the
            // socket again if anything is waiting.
            super::rearm(st, key);
            // Datagrams a batch read before receiving stopped come first.
            if udp_mut(st, key)?
                .recv
                .batch
                .as_ref()
                .is_some_and(|b| b.pending())
            {
                st.push_ready(key);
            }
            Ok(())
        })
    }

    /// Stops receiving (`uv_udp_recv_stop`). Stopping a handle that is not
    /// receiving, or a closed one, does nothing.
    pub fn receive_stop(&self) -> Result<()> {
        let key = self.key();
        self.get_loop().with_deferred(|st, deferred| {
            if let Ok(u) = udp_mut(st, key) {
                u.recv.stop(deferred);
                refresh_active(st, key);
            }
        });
        Ok(())
    }

    /// Turns batch receiving on or off (libuv's `UV_UDP_RECVMMSG`): with it
    /// on, [`Udp::receive_start`] reads up to 32 datagrams per `recvmmsg`
    /// call into a buffer of the handle's own (32 × 64 KiB of address space,
    /// allocated on first use and reused; no allocation per datagram), and
    /// hands them to the callback one by one. Datagrams read but not yet
    /// delivered when receiving stops are kept and delivered first when it
    /// starts again. Receiving into caller-supplied buffers
    /// ([`Udp::receive_start_with`]) is not batched.
    pub fn set_recvmmsg(&self, on: bool) -> Result<()> {
        let mut st = self.get_loop().state();
        udp_mut(&mut st, self.key())?.recv.batch_enabled = on;
        Ok(())
    }

    /// Whether batch receiving is on ([`Udp::set_recvmmsg`]).
    pub fn using_recvmmsg(&self) -> Result<bool> {
        let mut st = self.get_loop().state();
        Ok(udp_mut(&mut st, self.key())?.recv.batch_enabled)
    }

    /// Whether the handle is receiving.
    pub fn is_receiving(&self) -> bool {
        udp_mut(&mut self.get_loop().state(), self.key()).is_ok_and(|u| u.recv.receiving)
    }
}

/// Reads up to the budget, delivering each datagram as it comes. The sink
/// and the batch are taken out of the loop state once per receive session;
/// between datagrams only the handle's epoch is checked (a `Cell` load), so
/// the common case borrows the loop state twice per dispatch. A callback
/// that restarts receiving continues the same budget with the new callback,
/// as in libuv; one that stops or closes the handle ends the dispatch.
pub(crate) fn dispatch_read(lp: &Loop, key: Key, iteration: u64) {
    {
        let mut st = lp.state();
        let Ok(u) = udp_mut(&mut st, key) else {
            return;
        };
        if !u.recv.receiving || u.recv.last_read == iteration {
            // Not receiving, or already read in this iteration (that read
            // queued the handle again if it left datagrams behind).
            return;
        }
        u.recv.last_read = iteration;
        if let Some(b) = u.recv.batch.as_mut() {
            // A short refill proves the socket empty only within the
            // dispatch that made it: edges since then were spent.
            b.short = false;
        }
    }
    let udp = Udp::from_key(lp, key);
    let mut buf = std::mem::take(&mut lp.state().recv_buf);
    let mut delivered = 0;
    while delivered < READ_BUDGET {
        let Some(session) = take_session(lp, key) else {
            break;
        };
        let Session {
            mut sink,
            mut batch,
            fd,
            epoch_cell,
            epoch,
        } = session;
        let live = || epoch_cell.get() == epoch;
        let fd_if_live = || live().then_some(fd);
        let mut outcome = Outcome::Drained;
        while delivered < READ_BUDGET && live() {
            outcome = match batch.as_deref_mut() {
                Some(batch) => sink.read_batched(&udp, &fd_if_live, batch, &mut buf),
                None => sink.read_one(&udp, &fd_if_live, &mut buf),
            };
            if !matches!(outcome, Outcome::Delivered) {
                break;
            }
            delivered += 1;
        }
        let restarted = {
            let mut unused = Some(sink);
            let mut st = lp.state();
            let restarted = match udp_mut(&mut st, key) {
                Ok(u) => {
                    if batch.is_some() {
                        u.recv.batch = batch.take();
                    }
                    let same = u.recv.epoch.get() == epoch;
                    // Put the sink back unless a callback stopped or
                    // restarted receiving (then `unused` is dropped below,
                    // outside the borrow).
                    if same && u.recv.receiving && u.recv.sink.is_none() {
                        u.recv.sink = unused.take();
                    }
                    let again = match outcome {
                        Outcome::Failed => true,
                        Outcome::Delivered => delivered == READ_BUDGET,
                        Outcome::Drained => false,
                    };
                    let receiving = u.recv.receiving;
                    if same && receiving && again {
                        st.push_ready(key);
                    }
                    !same && receiving
                }
                Err(_) => false,
            };
            drop(st);
            drop(unused);
            drop(batch);
            restarted
        };
        if !restarted {
            break;
        }
    }
    let mut st = lp.state();
    if st.recv_buf.capacity() < buf.capacity() {
        st.recv_buf = buf;
    }
    if delivered == READ_BUDGET && udp_mut(&mut st, key).is_ok_and(|u| u.recv.receiving) {
        // A session restarted on the last datagram of the budget.
        if !st.ready.contains(&key) {
            st.push_ready(key);
        }
    }
}

/// What a dispatch takes out of the loop state for one receive session.
struct Session {
    sink: Box<dyn Sink>,
    batch: Option<Box<Batch>>,
    fd: RawFd,
    epoch_cell: Rc<Cell<u64>>,
    epoch: u64,
}

/// Takes the sink (and the batch, when batching) of a receiving handle.
fn take_session(lp: &Loop, key: Key) -> Option<Session> {
    let mut st = lp.state();
    let u = udp_mut(&mut st, key).ok()?;
    if !u.recv.receiving {
        return None;
    }
    let fd = u.fd()?;
    let Some(sink) = u.recv.sink.take() else {
        // Its callback was lost to a panic: stop receiving.
        u.recv.receiving = false;
        refresh_active(&mut st, key);
        return None;
    };
    let pending = u.recv.batch.as_ref().is_some_and(|b| b.pending());
    let batch = if u.recv.batch_enabled || u.recv.gro || pending {
        Some(
            u.recv
                .batch
                .take()
                .unwrap_or_else(|| Box::new(Batch::new())),
        )
    } else {
        None
    };
    let epoch_cell = u.recv.epoch.clone();
    let epoch = epoch_cell.get();
    Some(Session {
        sink,
        batch,
        fd,
        epoch_cell,
        epoch,
    })
}
