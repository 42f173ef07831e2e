//! asyncio's datagram endpoint: [`create_datagram_endpoint`],
//! [`DatagramTransport`], [`DatagramProtocol`] (see the table in
//! [`crate::endpoint`]), on ruv's public [`Udp`](crate::Udp).

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

use super::defer;
