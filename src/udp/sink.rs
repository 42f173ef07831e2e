//! Where received datagrams go: the two receive modes behind one trait, so
//! the dispatch does not care which one a handle uses.

use super::batch::{Batch, UNSPECIFIED};
use super::errqueue::{deliver_queued, next_queued};
use super::recv::{Datagram, Live, RecvMeta};
use super::{Udp, UdpFlags};
use crate::error::{Error, Result, StatusCode};
use crate::sys;
use crate::trace::traced;
use std::io;
use std::os::fd::RawFd;

/// libuv's suggested allocation size, the largest datagram.
const SUGGESTED_SIZE: usize = 64 * 1024;

/// How one read ended.
pub(super) enum Outcome {
    /// A datagram was delivered.
    Delivered,
    /// Nothing more is waiting: the next edge will tell.
    Drained,
    /// An error was delivered: try again next iteration.
    Failed,
}

/// Reads one datagram and hands it to the user.
pub(super) trait Sink {
    /// Whether this sink reads through the handle's batch even when
    /// batching was not asked for.
    fn always_batches(&self) -> bool;

    /// Delivers one datagram: from `batch` (refilled with one `recvmmsg`
    /// when used up) when there is one, else read on its own.
    fn read(&mut self, udp: &Udp, fd: &Live<'_>, batch: Option<&mut Batch>) -> Outcome;

    /// Delivers the oldest error-queue entry as [`Error::Queued`] (its
    /// details readable with `Udp::queued_error` meanwhile); `Drained` when
    /// the queue is empty.
    fn read_queued(&mut self, udp: &Udp, fd: &Live<'_>) -> Outcome;

    /// Delivers up to `budget` datagrams, counting them in `delivered`,
    /// while `fd` says the session is still live; returns how the last read
    /// ended (`Delivered` when the budget ran out or the session ended).
    fn read_many(
        &mut self,
        udp: &Udp,
        fd: &Live<'_>,
        mut batch: Option<&mut Batch>,
        budget: usize,
        delivered: &mut usize,
    ) -> Outcome {
        for _ in 0..budget {
            if fd.get().is_none() {
                return Outcome::Delivered;
            }
            match self.read(udp, fd, batch.as_deref_mut()) {
                Outcome::Delivered => *delivered += 1,
                other => return other,
            }
        }
        Outcome::Delivered
    }
}

/// libuv's `(nread 0, addr NULL)`: nothing more was waiting; the buffer
/// comes back unused.
const NOTHING: RecvMeta = RecvMeta {
    len: 0,
    addr: None,
    flags: UdpFlags::empty(),
};

fn partial_if(truncated: bool) -> UdpFlags {
    if truncated {
        UdpFlags::PARTIAL
    } else {
        UdpFlags::empty()
    }
}

/// Lends each datagram, in place in the handle's batch, to a callback.
pub(super) struct BatchSink<F>(pub(super) F);

impl<F> Sink for BatchSink<F>
where
    F: FnMut(&Udp, Result<Datagram<'_>>),
{
    fn always_batches(&self) -> bool {
        true
    }

    /// The hot path: a tight loop over the batch with the callback called
    /// directly (it is this sink's own type), one refill per batch.
    fn read_many(
        &mut self,
        udp: &Udp,
        fd: &Live<'_>,
        batch: Option<&mut Batch>,
        budget: usize,
        delivered: &mut usize,
    ) -> Outcome {
        let Some(batch) = batch else {
            return Outcome::Drained;
        };
        // Counted in a local: the callback is opaque, so a count behind a
        // reference would be stored on every datagram.
        let mut left = budget;
        let outcome = 'session: loop {
            if left == 0 {
                break Outcome::Delivered;
            }
            match batch.refill(fd) {
                Ok(true) => {}
                Ok(false) => break Outcome::Drained,
                Err(err) => {
                    (self.0)(udp, traced(udp, Err(err.into())));
                    break Outcome::Failed;
                }
            }
            while left > 0 {
                let Some(datagram) = batch.next() else {
                    break;
                };
                (self.0)(udp, Ok(datagram));
                left -= 1;
                if fd.get().is_none() {
                    // The callback stopped, restarted or closed the handle.
                    break 'session Outcome::Delivered;
                }
            }
        };
        *delivered += budget - left;
        outcome
    }

    fn read(&mut self, udp: &Udp, fd: &Live<'_>, batch: Option<&mut Batch>) -> Outcome {
        let mut delivered = 0;
        self.read_many(udp, fd, batch, 1, &mut delivered)
    }

    /// The failed datagram's payload is not wanted: the entry is read
    /// into no buffer at all.
    fn read_queued(&mut self, udp: &Udp, fd: &Live<'_>) -> Outcome {
        let Some(fd) = fd.get() else {
            return Outcome::Drained;
        };
        // Called through a trait object: a second direct call site would
        // keep the compiler from inlining the callback into `read_many`,
        // the per-datagram path.
        let cb: &mut dyn FnMut(&Udp, Result<Datagram<'_>>) = &mut self.0;
        match next_queued(fd, &mut []) {
            Ok(Some(err)) => {
                deliver_queued(udp, err, |e| cb(udp, traced(udp, Err(e))));
                Outcome::Delivered
            }
            Ok(None) => Outcome::Drained,
            Err(err) => {
                cb(udp, traced(udp, Err(err.into())));
                Outcome::Failed
            }
        }
    }
}

/// Receives into buffers from the caller's allocator.
pub(super) struct AllocSink<A, C> {
    pub(super) alloc: A,
    pub(super) cb: C,
}

impl<A, C, B> AllocSink<A, C>
where
    A: FnMut(&Udp, usize) -> B,
    C: FnMut(&Udp, Result<RecvMeta>, B),
    B: AsMut<[u8]>,
{
    /// A buffer from the allocator and the socket to read into it, or how
    /// the read ended without one: ENOBUFS reported for an empty buffer;
    /// the buffer handed back unused when the allocator stopped or closed
    /// the handle, or turned receive offload on (a new session then reads
    /// with segment sizes).
    fn buffer(&mut self, udp: &Udp, fd: &Live<'_>) -> std::result::Result<(B, RawFd), Outcome> {
        let mut buf = (self.alloc)(udp, SUGGESTED_SIZE);
        if buf.as_mut().is_empty() {
            (self.cb)(udp, traced(udp, Err(StatusCode::ENOBUFS.into())), buf);
            return Err(Outcome::Failed);
        }
        match fd.get() {
            Some(fd) => Ok((buf, fd)),
            None => {
                (self.cb)(udp, Ok(NOTHING), buf);
                Err(Outcome::Drained)
            }
        }
    }

    /// libuv's read: allocate, `recvfrom` into the buffer, report.
    fn read_one(&mut self, udp: &Udp, fd: &Live<'_>) -> Outcome {
        let (mut buf, fd) = match self.buffer(udp, fd) {
            Ok(ready) => ready,
            Err(outcome) => return outcome,
        };
        match sys::recv_from(fd, buf.as_mut()) {
            Ok(r) => {
                let meta = RecvMeta {
                    len: r.len,
                    addr: Some(r.addr.unwrap_or(UNSPECIFIED)),
                    flags: partial_if(r.truncated),
                };
                (self.cb)(udp, Ok(meta), buf);
                Outcome::Delivered
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                (self.cb)(udp, Ok(NOTHING), buf);
                Outcome::Drained
            }
            Err(err) => {
                (self.cb)(udp, traced(udp, Err(Error::from(err))), buf);
                Outcome::Failed
            }
        }
    }

    /// From the batch (batching or receive offload is on, or a batch still
    /// holds datagrams), copied into a caller buffer.
    fn read_batched(&mut self, udp: &Udp, fd: &Live<'_>, batch: &mut Batch) -> Outcome {
        match batch.refill(fd) {
            Ok(true) => {}
            Ok(false) => return Outcome::Drained,
            Err(err) => {
                let buf = (self.alloc)(udp, SUGGESTED_SIZE);
                (self.cb)(udp, traced(udp, Err(err.into())), buf);
                return Outcome::Failed;
            }
        }
        // A buffer refused leaves the datagram in the batch.
        let mut buf = match self.buffer(udp, fd) {
            Ok((buf, _)) => buf,
            Err(outcome) => return outcome,
        };
        let Some(Datagram { data, addr, flags }) = batch.next() else {
            return Outcome::Drained;
        };
        let dest = buf.as_mut();
        let len = data.len().min(dest.len());
        dest[..len].copy_from_slice(&data[..len]);
        let meta = RecvMeta {
            len,
            addr: Some(addr),
            flags: flags | partial_if(len < data.len()),
        };
        (self.cb)(udp, Ok(meta), buf);
        Outcome::Delivered
    }
}

impl<A, C, B> Sink for AllocSink<A, C>
where
    A: FnMut(&Udp, usize) -> B,
    C: FnMut(&Udp, Result<RecvMeta>, B),
    B: AsMut<[u8]>,
{
    fn always_batches(&self) -> bool {
        false
    }

    fn read(&mut self, udp: &Udp, fd: &Live<'_>, batch: Option<&mut Batch>) -> Outcome {
        match batch {
            Some(batch) => self.read_batched(udp, fd, batch),
            None => self.read_one(udp, fd),
        }
    }

    /// libuv's error-queue read: allocate, read the entry into the buffer
    /// (what the kernel kept of the failed datagram), report its error with
    /// the buffer; an empty queue returns the buffer unused.
    fn read_queued(&mut self, udp: &Udp, fd: &Live<'_>) -> Outcome {
        let (mut buf, fd) = match self.buffer(udp, fd) {
            Ok(ready) => ready,
            Err(outcome) => return outcome,
        };
        match next_queued(fd, buf.as_mut()) {
            Ok(Some(err)) => {
                deliver_queued(udp, err, |e| (self.cb)(udp, traced(udp, Err(e)), buf));
                Outcome::Delivered
            }
            Ok(None) => {
                (self.cb)(udp, Ok(NOTHING), buf);
                Outcome::Drained
            }
            Err(err) => {
                (self.cb)(udp, traced(udp, Err(Error::from(err))), buf);
                Outcome::Failed
            }
        }
    }
}
