//! [`Protocol`] and [`BufferedProtocol`]: the callbacks a stream transport
//! calls (asyncio's `Protocol` and `BufferedProtocol`).

use super::StreamTransport;
use crate::error::Error;

/// The callbacks of a stream connection (asyncio's `Protocol`).
///
/// Every method has a default, so a protocol implements only what it
/// needs. The transport calls them:
///
/// - [`connection_made`](Protocol::connection_made) exactly once, first;
/// - [`data_received`](Protocol::data_received) for each chunk read, never
///   after [`eof_received`](Protocol::eof_received);
/// - [`connection_lost`](Protocol::connection_lost) exactly once, last,
///   and never from inside a transport call: always later, from the loop;
/// - everything else only between those two.
///
/// Callbacks never nest: a method may call any transport method, and a
/// callback that call causes (`pause_writing` for a full buffer) runs
/// right after the current method returns.
pub trait Protocol {
    /// The connection is ready. `transport` is a cheap handle: clone it to
    /// keep it.
    fn connection_made(&mut self, transport: &StreamTransport) {
        let _ = transport;
    }

    /// Bytes arrived, lent for this call (never empty).
    fn data_received(&mut self, data: &[u8]) {
        let _ = data;
    }

    /// The peer shut its sending side down. Return `true` to keep the
    /// transport open (half-close: it may still write, then
    /// [`close`](StreamTransport::close)); `false`, the default, closes it.
    /// Transports of read pipes close whatever it returns.
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The write buffer went strictly over the high-water mark.
    fn pause_writing(&mut self) {}

    /// The write buffer drained to the low-water mark or below, after a
    /// [`pause_writing`](Protocol::pause_writing).
    fn resume_writing(&mut self) {}

    /// The transport is closed. `None` after [`close`](StreamTransport::close),
    /// [`abort`](StreamTransport::abort) or the end of a read pipe; the
    /// error (ECONNRESET, EPIPE, …) when a read or write failed.
    fn connection_lost(&mut self, err: Option<Error>) {
        let _ = err;
    }
}

/// A protocol that lends its own buffers to the transport, so bytes are
/// read straight into them (asyncio's `BufferedProtocol`).
///
/// asyncio's `get_buffer` returns a writable view into the protocol's
/// memory; Rust's borrows cannot lend that across the read, so here the
/// buffer itself moves: [`get_buffer`](BufferedProtocol::get_buffer)
/// hands a `Vec<u8>` over (its length is the room offered), and
/// [`buffer_updated`](BufferedProtocol::buffer_updated) gives it back with
/// the count of bytes read into its start. A protocol that keeps the
/// buffer it gets back and hands it over again reads without allocating
/// or copying.
///
/// The call order and the other callbacks are those of [`Protocol`].
pub trait BufferedProtocol {
    /// See [`Protocol::connection_made`].
    fn connection_made(&mut self, transport: &StreamTransport) {
        let _ = transport;
    }

    /// A buffer to read into; `sizehint` is the transport's suggested size
    /// (64 KiB). Its length is the room offered: an empty buffer is a
    /// fatal error (the transport closes with ENOBUFS, as asyncio raises).
    fn get_buffer(&mut self, sizehint: usize) -> Vec<u8>;

    /// `nbytes` (never 0) were read into the start of `buf`, the buffer
    /// [`get_buffer`](BufferedProtocol::get_buffer) handed over.
    fn buffer_updated(&mut self, buf: Vec<u8>, nbytes: usize);

    /// See [`Protocol::eof_received`].
    fn eof_received(&mut self) -> bool {
        false
    }

    /// See [`Protocol::pause_writing`].
    fn pause_writing(&mut self) {}

    /// See [`Protocol::resume_writing`].
    fn resume_writing(&mut self) {}

    /// See [`Protocol::connection_lost`].
    fn connection_lost(&mut self, err: Option<Error>) {
        let _ = err;
    }
}
