//! [`DatagramProtocol`]: the callbacks a datagram transport calls
//! (asyncio's `DatagramProtocol`).

use super::DatagramTransport;
use crate::error::Error;
use std::net::SocketAddr;

/// The callbacks of a datagram endpoint (asyncio's `DatagramProtocol`).
///
/// Every method has an empty default, so a protocol implements only what
/// it needs. The transport calls them:
///
/// - [`connection_made`](DatagramProtocol::connection_made) exactly once,
///   first, before [`create_datagram_endpoint`](super::create_datagram_endpoint)
///   hands the endpoint back;
/// - [`connection_lost`](DatagramProtocol::connection_lost) exactly once,
///   last, and never from inside [`DatagramTransport::close`] or
///   [`DatagramTransport::abort`]: always later, from the loop;
/// - everything else only between those two.
///
/// Callbacks never nest: a method may call any transport method (send,
/// close, abort, pause, …), and a callback that such a call causes —
/// `error_received` for a failed send, `pause_writing` for a full buffer —
/// runs right after the current method returns instead of inside it. When
/// no protocol method is running, such a callback runs inside the
/// transport call that caused it, as in asyncio.
pub trait DatagramProtocol {
    /// The endpoint is ready. `transport` is a cheap handle: clone it to
    /// keep it.
    fn connection_made(&mut self, transport: &DatagramTransport) {
        let _ = transport;
    }

    /// A datagram `data` (possibly empty) arrived from `addr`.
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        let _ = (data, addr);
    }

    /// A send or receive failed with an OS error, e.g. ECONNREFUSED after
    /// an ICMP port-unreachable on a connected endpoint, or EMSGSIZE for a
    /// datagram too large. The transport stays open.
    fn error_received(&mut self, err: Error) {
        let _ = err;
    }

    /// The transport's write buffer went strictly over the high-water mark
    /// (see [`DatagramTransport::set_write_buffer_limits`]).
    fn pause_writing(&mut self) {}

    /// The write buffer drained to the low-water mark or below, after a
    /// [`pause_writing`](DatagramProtocol::pause_writing).
    fn resume_writing(&mut self) {}

    /// The transport is closed and its socket with it. `None` after
    /// [`close`](DatagramTransport::close) or
    /// [`abort`](DatagramTransport::abort).
    fn connection_lost(&mut self, err: Option<Error>) {
        let _ = err;
    }
}
