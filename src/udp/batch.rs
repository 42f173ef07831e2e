//! A handle's receive batch: datagrams read with one `recvmmsg` and handed
//! out one by one, splitting messages that receive offload coalesced.

use super::recv::{Datagram, Live};
use super::UdpFlags;
use crate::sys;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// Batch width of a handle that did not ask for batching: small, but wide
/// enough that a refill returning fewer datagrams proves the socket empty
/// (no extra read just to see EAGAIN).
pub(super) const DEFAULT_WIDTH: usize = 4;
/// Batch width with `Udp::set_recvmmsg(true)` (libuv's `UV_UDP_RECVMMSG`).
pub(super) const WIDE: usize = sys::BATCH;

/// The sender reported for a datagram whose address the kernel did not give.
pub(super) const UNSPECIFIED: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

/// A recvmmsg batch and how far delivery got.
pub(crate) struct Batch {
    buf: sys::RecvBatch,
    /// Next message to deliver from.
    pos: usize,
    /// Offset of the next datagram inside a message of several coalesced
    /// datagrams (receive offload).
    seg_off: usize,
    /// The last refill, in this dispatch, read fewer datagrams than fit: the
    /// socket was empty then, and any datagram arriving later raises a new
    /// edge, so no `recvmmsg` is needed just to see EAGAIN.
    pub(super) short: bool,
    /// Receive offload is on: read the segment sizes the kernel reports.
    pub(super) offload: bool,
}

impl Batch {
    pub(super) fn new(width: usize) -> Batch {
        Batch {
            buf: sys::RecvBatch::new(width),
            pos: 0,
            seg_off: 0,
            short: false,
            offload: false,
        }
    }

    /// Datagrams the batch reads at most per refill.
    pub(super) fn width(&self) -> usize {
        self.buf.width()
    }

    /// Forgets datagrams not delivered yet (their handle is gone).
    pub(super) fn discard(&mut self) {
        self.pos = self.buf.len();
    }

    /// Datagrams read from the socket but not delivered yet.
    pub(super) fn pending(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// Makes a datagram available: Ok(false) when the socket has nothing
    /// more to give.
    pub(super) fn refill(&mut self, fd: &Live<'_>) -> io::Result<bool> {
        if self.pending() {
            return Ok(true);
        }
        if std::mem::take(&mut self.short) {
            return Ok(false);
        }
        let Some(fd) = fd.get() else {
            return Ok(false);
        };
        match self.buf.recv(fd, self.offload) {
            Ok(n) => {
                self.pos = 0;
                self.seg_off = 0;
                self.short = n < self.buf.width();
                Ok(n > 0)
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Takes the next datagram: a whole message, or its next segment when
    /// the kernel coalesced several datagrams into it.
    #[inline(always)]
    pub(super) fn next(&mut self) -> Option<Datagram<'_>> {
        let (entry, data) = self.buf.get(self.pos)?;
        let addr = entry.addr.unwrap_or(UNSPECIFIED);
        let flags = if entry.truncated {
            UdpFlags::PARTIAL
        } else {
            UdpFlags::empty()
        };
        let data = match entry.segment {
            Some(size) if size < data.len() => {
                let start = self.seg_off;
                let end = (start + size).min(data.len());
                if end >= data.len() {
                    self.pos += 1;
                    self.seg_off = 0;
                } else {
                    self.seg_off = end;
                }
                &data[start..end]
            }
            _ => {
                self.pos += 1;
                self.seg_off = 0;
                data
            }
        };
        Some(Datagram { data, addr, flags })
    }
}
