//! asyncio's transports and protocols: datagram endpoints
//! ([`create_datagram_endpoint`], [`DatagramTransport`],
//! [`DatagramProtocol`]), stream connections and servers
//! ([`create_connection`], [`create_server`], [`StreamTransport`],
//! [`Protocol`], [`BufferedProtocol`], pipes) and subprocesses
//! ([`subprocess_exec`], [`SubprocessTransport`], [`SubprocessProtocol`]).
//!
//! The stream side, asyncio → ruv:
//!
//! | asyncio | ruv |
//! | --- | --- |
//! | `loop.create_connection(factory, host, port, …)` | [`create_connection`]`(&lp, factory, ConnectionOptions::remote(host, port).with_…(…), on_done)` ([`create_buffered_connection`] for a [`BufferedProtocol`]) |
//! | `loop.create_connection(factory, sock=s)` / `connect_accepted_socket` | [`ConnectionOptions::socket`] / [`connect_accepted_socket`] |
//! | `loop.create_server(factory, host, port, …)` | [`create_server`]`(&lp, factory, ServerOptions::new(host, port), on_done)` → [`Server`] |
//! | `loop.create_unix_connection` / `create_unix_server` | [`create_unix_connection`] / [`create_unix_server`] |
//! | `loop.connect_read_pipe` / `connect_write_pipe` | [`connect_read_pipe`] / [`connect_write_pipe`] |
//! | `transport.write`, `writelines`, `write_eof`, `can_write_eof`, `close`, `abort`, `is_closing` | the same names on [`StreamTransport`] |
//! | `pause_reading`, `resume_reading`, `is_reading`, `get_write_buffer_size`, `get/set_write_buffer_limits`, `get/set_protocol` | the same names |
//! | `get_extra_info('peername' / 'sockname' / 'socket')` | [`peername`](StreamTransport::peername) / [`sockname`](StreamTransport::sockname) / [`fileno`](StreamTransport::fileno), [`tcp`](StreamTransport::tcp) |
//! | `loop.subprocess_exec` / `subprocess_shell` | [`subprocess_exec`] / [`subprocess_shell`] |
//!
//! The datagram side:
//!
//! This is asyncio's UDP layer (`loop.create_datagram_endpoint`, the
//! datagram transport and protocol of CPython 3.13) built on ruv's public
//! [`Udp`](crate::Udp), [`Timer`](crate::Timer) and
//! [`Async`](crate::Async) handles. The protocol is an object with
//! callbacks; the transport is what it sends with:
//!
//! | asyncio | ruv |
//! | --- | --- |
//! | `await loop.create_datagram_endpoint(factory, local_addr=…, …)` | [`create_datagram_endpoint`]`(&lp, factory, EndpointOptions::local(host, port).with_…(…), on_done)` |
//! | `transport.sendto(data, addr)` | [`DatagramTransport::sendto`] |
//! | `transport.close()` / `abort()` / `is_closing()` | [`close`](DatagramTransport::close) / [`abort`](DatagramTransport::abort) / [`is_closing`](DatagramTransport::is_closing) |
//! | `get_extra_info('sockname' / 'peername' / 'socket')` | [`sockname`](DatagramTransport::sockname) / [`peername`](DatagramTransport::peername) / [`socket`](DatagramTransport::socket) |
//! | `get_write_buffer_size()`, `get_write_buffer_limits()`, `set_write_buffer_limits(high, low)` | the same names |
//! | `pause_reading()`, `resume_reading()`, `is_reading()` | the same names |
//!
//! Everything runs on the loop's thread. Protocol callbacks never nest and
//! run with no borrow of the transport held, so a protocol may call any
//! transport method from any callback.

mod datagram;
mod delivering;
mod stream;
mod subprocess;
mod write_buffer;

pub use datagram::*;
pub use stream::*;
pub use subprocess::*;

use crate::error::{Result, StatusCode};
pub(crate) use crate::owed::defer;
pub(crate) use delivering::Delivering;
pub(crate) use write_buffer::WriteBuffer;

/// asyncio's `_FlowControlMixin._set_write_buffer_limits`: `(high, low)`
/// from what was given (neither: the defaults; only `high`: `low =
/// high / 4`; only `low`: `high = 4 × low`); EINVAL unless `high >= low`.
pub(crate) fn water_marks(high: Option<usize>, low: Option<usize>) -> Result<(usize, usize)> {
    let high = match (high, low) {
        (Some(high), _) => high,
        (None, Some(low)) => low.saturating_mul(4),
        (None, None) => DEFAULT_HIGH_WATER,
    };
    let low = low.unwrap_or(high / 4);
    if low > high {
        return Err(StatusCode::EINVAL.into());
    }
    Ok((high, low))
}
