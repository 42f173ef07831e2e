//! easynetwork-style UDP clients: packets in, packets out, one remote
//! endpoint.
//!
//! - [`UdpClient`]: blocking and thread-safe (easynetwork's
//!   `UDPNetworkClient`). No loop: a plain socket, with receives that can
//!   time out and that another thread's [`close`](UdpClient::close) ends
//!   at once.
//! - [`LoopUdpClient`]: driven by a ruv [`Loop`](crate::Loop), with
//!   completion callbacks (easynetwork's `AsyncUDPNetworkClient`).
//!
//! Both turn packets into datagrams and back through a [`PacketProtocol`]:
//! [`BytesProtocol`] (raw bytes), [`TextProtocol`] (UTF-8) and, with the
//! `serde` cargo feature, `JsonProtocol<T>` (serde_json). Every failure is a
//! [`ClientError`]: closed, timeout, parse, serialize, or an OS status code.
//!
//! ```
//! use ruv::client::{BytesProtocol, ClientOptions, UdpClient};
//! use std::time::Duration;
//!
//! let peer = std::net::UdpSocket::bind("[::1]:0")?;
//! let client = UdpClient::connect(("::1", peer.local_addr()?.port()), BytesProtocol, ClientOptions::default())?;
//! client.send_packet(&b"ping".to_vec())?;
//! let mut buf = [0; 16];
//! let (n, from) = peer.recv_from(&mut buf)?;
//! peer.send_to(&buf[..n], from)?;
//! assert_eq!(client.recv_packet(Some(Duration::from_secs(5)))?, b"ping");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See `docs/PORTING.md` (section "easynetwork → ruv") for easynetwork's
//! names and their ruv equivalents.

mod blocking;
mod connect;
mod error;
mod gate;
mod looped;
mod protocol;
mod socket_proxy;

pub use blocking::{ReceivedPackets, UdpClient};
pub use connect::ClientOptions;
pub use error::{ClientError, ClientResult};
pub use looped::{LoopClientOptions, LoopUdpClient, DEFAULT_QUEUE_LIMIT};
#[cfg(feature = "serde")]
pub use protocol::JsonProtocol;
pub use protocol::{BytesProtocol, PacketProtocol, ProtocolError, TextProtocol};
pub use socket_proxy::SocketProxy;
