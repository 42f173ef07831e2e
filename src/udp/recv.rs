//! Receiving: datagrams lent in place from the handle's receive batch (the
//! safe, allocation-free path) or copied into buffers the caller supplies
//! (libuv's `alloc_cb`).
//!
//! mio reports readiness edge-triggered. A handle reads until the socket is
//! known empty (EAGAIN, or a `recvmmsg` that returned fewer datagrams than
//! asked for) or its budget of 32 datagrams per iteration is spent; in the
//! latter case it goes on the loop's ready list and is read again next
//! iteration without a new edge. `receive_start` re-arms the epoll
//! registration, which reports datagrams that arrived while the handle was
//! not receiving.
//!
//! A read error ends the dispatch; `errqueue.rs` then drains the error
//! queue (when the socket was flagged in error) and decides whether to read
//! again next iteration.

use super::batch::{Batch, DEFAULT_WIDTH, WIDE};
use super::sink::{AllocSink, BatchSink, Outcome, Sink};
use super::{bind_if_needed, refresh_active, udp_mut, Udp, UdpFlags};
use crate::core::run::IoEvent;
use crate::core::state::{Deferred, Key};
use crate::error::{Result, StatusCode};
use crate::Loop;
use std::cell::Cell;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;

/// Datagrams one handle reads per loop iteration at most (as libuv).
pub(super) const READ_BUDGET: usize = 32;

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

/// The receive side of a UDP handle.
#[derive(Default)]
pub(super) struct RecvState {
    sink: Option<Box<dyn Sink>>,
    receiving: bool,
    /// Bumped by every start and stop, and when receive offload is turned
    /// on while receiving. The dispatch holds a clone, so it tells between
    /// two datagrams, without borrowing the loop state, whether a callback
    /// stopped, restarted or closed the handle, or turned offload on.
    epoch: Rc<Cell<u64>>,
    /// Last loop iteration this handle read in.
    last_read: u64,
    /// Batch receiving with recvmmsg was asked for.
    batch_enabled: bool,
    /// Receive offload was turned on for the socket, and so stays on:
    /// messages may hold several datagrams, so every read goes through the
    /// batch and asks for segment sizes.
    pub(super) gro: bool,
    /// The batch buffer, once batching was used (kept for the handle's life).
    batch: Option<Box<Batch>>,
    /// The socket was flagged in error and its error queue not read empty
    /// since.
    pub(super) errqueue_pending: bool,
    /// The error-queue entry the callback is being called with
    /// (`Udp::queued_error`).
    pub(super) delivering: Option<super::QueuedError>,
}

impl RecvState {
    /// Whether the handle read in loop iteration `iteration`.
    pub(super) fn read_in(&self, iteration: u64) -> bool {
        self.last_read == iteration
    }

    pub(super) fn is_receiving(&self) -> bool {
        self.receiving
    }

    /// Receive offload was just turned on: a receive session in progress
    /// decided without it whether to ask for segment sizes, so it ends
    /// after the current datagram and the dispatch starts a new one.
    pub(super) fn offload_turned_on(&mut self) {
        self.gro = true;
        if self.receiving {
            self.epoch.set(self.epoch.get() + 1);
        }
    }

    pub(super) fn epoch_cell(&self) -> Rc<Cell<u64>> {
        self.epoch.clone()
    }

    pub(super) fn epoch_value(&self) -> u64 {
        self.epoch.get()
    }

    pub(super) fn has_sink(&self) -> bool {
        self.sink.is_some()
    }

    pub(super) fn take_sink(&mut self) -> Option<Box<dyn Sink>> {
        self.sink.take()
    }

    pub(super) fn put_sink(&mut self, sink: Option<Box<dyn Sink>>) {
        self.sink = sink;
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

impl Udp {
    /// Starts receiving (`uv_udp_recv_start`; python-uv's `receive_start`).
    /// Binds to `0.0.0.0:0` first if the handle has no socket.
    ///
    /// `cb` gets the handle and either a [`Datagram`] — data lent in place
    /// from a receive batch that `recvmmsg` fills (4 datagrams per call, 32
    /// with [`Udp::set_recvmmsg`]; allocated once, no allocation per
    /// datagram), the sender, and flags
    /// with [`UdpFlags::PARTIAL`] for a truncated datagram — or the error
    /// status of a failed read (e.g. ECONNREFUSED after an ICMP error on a
    /// connected handle). With [`UdpFlags::LINUX_RECVERR`] an ICMP error
    /// also arrives as [`Error::Queued`](crate::Error::Queued), right after
    /// the plain one; [`Udp::queued_error`] then tells the address it
    /// concerns and who reported it. Errors never stop receiving or close
    /// the handle.
    ///
    /// EALREADY if already receiving.
    pub fn receive_start(
        &self,
        cb: impl FnMut(&Udp, Result<Datagram<'_>>) + 'static,
    ) -> Result<()> {
        self.start_receiving(Box::new(BatchSink(cb)))
    }

    /// Starts receiving into buffers the caller supplies (libuv's
    /// `alloc_cb` + `recv_cb`).
    ///
    /// Before each read `alloc(handle, suggested_size)` returns a buffer;
    /// `cb` then gets it back with the outcome: `Ok(meta)` with the bytes
    /// written, sender and flags; `Ok` with `len == 0` and `addr == None`
    /// when nothing more was waiting (the buffer is returned unused); or an
    /// error status. An empty buffer from `alloc` is reported as ENOBUFS.
    /// Errors from the error queue ([`UdpFlags::LINUX_RECVERR`]) come as
    /// [`Error::Queued`](crate::Error::Queued), each in a buffer of its own
    /// (holding what the kernel kept of the failed datagram), and the read
    /// that finds the queue empty returns its buffer unused, as libuv 1.52
    /// does: one ICMP error on an unconnected handle is three callbacks —
    /// the plain error, the queued one, and "nothing more".
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
                st.push_ready(IoEvent::readable(key));
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

    /// Turns wide batches on or off (libuv's `UV_UDP_RECVMMSG`):
    /// [`Udp::receive_start`] always reads with `recvmmsg`, by default into a
    /// batch the loop's handles share (4 datagrams wide), and with this on
    /// into a batch of the handle's own, 32 wide (32 × 64 KiB of address
    /// space, allocated once; the kernel touches only the pages datagrams
    /// land in). Datagrams are handed to the callback one by
    /// one either way. With it on, [`Udp::receive_start_with`] also reads
    /// through the batch and copies each datagram into a caller buffer.
    /// Datagrams read but not yet delivered when receiving stops are kept
    /// and delivered first when it starts again.
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
/// as in libuv, and one that turns receive offload on continues it in a new
/// session that asks for segment sizes; one that stops or closes the handle
/// ends the dispatch.
///
/// `error`: the socket was flagged in error (`EPOLLERR`), so its error queue
/// is read after the datagrams.
pub(crate) fn dispatch_read(lp: &Loop, key: Key, iteration: u64, error: bool) {
    let udp = Udp::from_key(lp, key);
    if error {
        if let Ok(u) = udp_mut(&mut lp.state(), key) {
            u.recv.errqueue_pending = true;
        }
    }
    // A read failed, or the error queue waits: `errqueue::after_error`
    // decides what comes next.
    let mut after_error = false;
    let mut delivered = 0;
    let mut start = Some(iteration);
    while delivered < READ_BUDGET {
        let Some(session) = take_session(lp, key, start.take()) else {
            break;
        };
        let Session {
            mut sink,
            mut batch,
            shared,
            fd,
            epoch_cell,
            epoch,
        } = session;
        let fd_if_live = Live::new(&epoch_cell, epoch, fd);
        let outcome = sink.read_many(
            &udp,
            &fd_if_live,
            batch.as_deref_mut(),
            READ_BUDGET - delivered,
            &mut delivered,
        );
        let restarted = {
            let mut unused = Some(sink);
            let mut guard = lp.state();
            let st = &mut *guard;
            let mut to_loop = None;
            let restarted = match udp_mut(st, key) {
                Ok(u) => {
                    match batch.take() {
                        // The loop's shared batch goes back to the loop,
                        // unless it holds datagrams this handle has not
                        // seen yet: then the handle keeps it.
                        Some(b) if shared && !b.pending() => to_loop = Some(b),
                        Some(b) => u.recv.batch = Some(b),
                        None => {}
                    }
                    let same = u.recv.epoch.get() == epoch;
                    // Put the sink back unless a callback stopped receiving
                    // or restarted it with a new sink (then `unused` is
                    // dropped below, outside the borrow).
                    if u.recv.receiving && u.recv.sink.is_none() {
                        u.recv.sink = unused.take();
                    }
                    after_error = matches!(outcome, Outcome::Failed) || u.recv.errqueue_pending;
                    let again = match outcome {
                        Outcome::Failed | Outcome::Drained => false,
                        Outcome::Delivered => delivered == READ_BUDGET,
                    };
                    let receiving = u.recv.receiving;
                    if same && receiving && again {
                        st.push_ready(IoEvent::readable(key));
                    }
                    !same && receiving
                }
                Err(_) => {
                    // Closed: what the shared batch still held was its.
                    if shared {
                        to_loop = batch.take().map(|mut b| {
                            b.discard();
                            b
                        });
                    }
                    false
                }
            };
            if to_loop.is_some() {
                st.per_kind.udp.shared_batch = to_loop;
            }
            drop(guard);
            drop(unused);
            drop(batch);
            restarted
        };
        if !restarted {
            break;
        }
    }
    if after_error {
        super::errqueue::after_error(lp, key);
    }
    let mut st = lp.state();
    if delivered == READ_BUDGET && udp_mut(&mut st, key).is_ok_and(|u| u.recv.receiving) {
        // A session restarted on the last datagram of the budget.
        if !st.is_ready(key) {
            st.push_ready(IoEvent::readable(key));
        }
    }
}

/// The descriptor of a receive session, while the session lasts: a
/// callback that stops, restarts or closes the handle bumps its epoch.
pub(super) struct Live<'a> {
    epoch_cell: &'a Cell<u64>,
    epoch: u64,
    fd: RawFd,
}

impl<'a> Live<'a> {
    pub(super) fn new(epoch_cell: &'a Cell<u64>, epoch: u64, fd: RawFd) -> Live<'a> {
        Live {
            epoch_cell,
            epoch,
            fd,
        }
    }

    /// The descriptor, or `None` once the session ended.
    #[inline]
    pub(super) fn get(&self) -> Option<RawFd> {
        (self.epoch_cell.get() == self.epoch).then_some(self.fd)
    }
}

/// What a dispatch takes out of the loop state for one receive session.
struct Session {
    sink: Box<dyn Sink>,
    batch: Option<Box<Batch>>,
    /// `batch` is the loop's shared one.
    shared: bool,
    fd: RawFd,
    epoch_cell: Rc<Cell<u64>>,
    epoch: u64,
}

/// Takes the sink (and the batch, when batching) of a receiving handle.
/// `start` is the iteration of a dispatch's first session: a handle already
/// read in that iteration is skipped (that read queued it again if it left
/// datagrams behind).
fn take_session(lp: &Loop, key: Key, start: Option<u64>) -> Option<Session> {
    let mut st = lp.state();
    let u = udp_mut(&mut st, key).ok()?;
    if !u.recv.receiving {
        return None;
    }
    if let Some(iteration) = start {
        if u.recv.last_read == iteration {
            return None;
        }
        u.recv.last_read = iteration;
        if let Some(b) = u.recv.batch.as_mut() {
            // A short refill proves the socket empty only within the
            // dispatch that made it: edges since then were spent.
            b.short = false;
        }
    }
    let fd = u.fd()?;
    let Some(sink) = u.recv.sink.take() else {
        // Its callback was lost to a panic: stop receiving.
        u.recv.receiving = false;
        refresh_active(&mut st, key);
        return None;
    };
    let epoch_cell = u.recv.epoch.clone();
    let pending = u.recv.batch.as_ref().is_some_and(|b| b.pending());
    let own = u.recv.batch_enabled || u.recv.gro || pending;
    let shared = !own && sink.always_batches();
    let batch = if own {
        let width = if u.recv.batch_enabled {
            WIDE
        } else {
            DEFAULT_WIDTH
        };
        let mut b = match u.recv.batch.take() {
            // Grow a small batch once batching is asked for, but never
            // drop datagrams it still holds.
            Some(b) if b.width() >= width || b.pending() => b,
            _ => Box::new(Batch::new(width)),
        };
        b.offload = u.recv.gro;
        Some(b)
    } else if shared {
        // A drained batch of its own is no longer needed: it becomes the
        // loop's shared one if the loop has none.
        let spare = u.recv.batch.take();
        let mut b = match st.per_kind.udp.shared_batch.take() {
            Some(b) => {
                drop(spare);
                b
            }
            None => spare.unwrap_or_else(|| Box::new(Batch::new(DEFAULT_WIDTH))),
        };
        // Another handle's short refill says nothing about this socket.
        b.short = false;
        b.offload = false;
        Some(b)
    } else {
        None
    };
    let epoch = epoch_cell.get();
    Some(Session {
        sink,
        batch,
        shared,
        fd,
        epoch_cell,
        epoch,
    })
}
