//! asyncio-style datagram endpoints: [`create_datagram_endpoint`],
//! [`DatagramTransport`] and the [`DatagramProtocol`] trait.
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

mod create;
mod options;
mod protocol;
mod socket;
mod transport;

pub use create::create_datagram_endpoint;
pub use options::EndpointOptions;
pub use protocol::DatagramProtocol;
pub use socket::TransportSocket;
pub use transport::{DatagramTransport, DATAGRAM_OVERHEAD, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER};

use crate::owed::defer;
