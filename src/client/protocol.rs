//! [`PacketProtocol`]: how packets become datagrams and back, and the ready
//! protocols [`BytesProtocol`], [`TextProtocol`] and (with the `serde`
//! feature) [`JsonProtocol`].

use std::borrow::Cow;
use std::fmt;

/// A protocol failed to convert a packet or a datagram.
///
/// Protocols return it; the clients turn it into
/// [`ClientError::Parse`](super::ClientError::Parse) (with the datagram's
/// length) or [`ClientError::Serialize`](super::ClientError::Serialize).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProtocolError {
    message: String,
}

impl ProtocolError {
    /// An error with a human-readable message.
    pub fn new(message: impl Into<String>) -> ProtocolError {
        ProtocolError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Gives the message back.
    pub fn into_message(self) -> String {
        self.message
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProtocolError {}

/// Turns packets into datagrams and datagrams into packets
/// (easynetwork's `DatagramProtocol`).
///
/// One datagram is one packet. Both methods take `&self` and may be called
/// from several threads at once by a [`UdpClient`](super::UdpClient)
/// (which is `Sync` only if the protocol is).
///
/// ```
/// use ruv::client::{PacketProtocol, ProtocolError};
/// use std::borrow::Cow;
///
/// /// Packets are `u32`s, sent as 4 big-endian bytes.
/// struct U32Protocol;
///
/// impl PacketProtocol for U32Protocol {
///     type Packet = u32;
///     fn serialize<'a>(&self, packet: &'a u32) -> Result<Cow<'a, [u8]>, ProtocolError> {
///         Ok(Cow::Owned(packet.to_be_bytes().to_vec()))
///     }
///     fn deserialize(&self, datagram: &[u8]) -> Result<u32, ProtocolError> {
///         let bytes: [u8; 4] = datagram
///             .try_into()
///             .map_err(|_| ProtocolError::new("expected 4 bytes"))?;
///         Ok(u32::from_be_bytes(bytes))
///     }
/// }
///
/// assert_eq!(U32Protocol.deserialize(&[0, 0, 1, 0]), Ok(256));
/// assert!(U32Protocol.deserialize(b"no").is_err());
/// ```
pub trait PacketProtocol {
    /// The packet type, sent and received.
    type Packet;

    /// The datagram for `packet`. Borrow from the packet when its bytes are
    /// the datagram ([`Cow::Borrowed`]: nothing is copied); an error means
    /// nothing is sent and the caller gets
    /// [`ClientError::Serialize`](super::ClientError::Serialize).
    fn serialize<'a>(&self, packet: &'a Self::Packet) -> Result<Cow<'a, [u8]>, ProtocolError>;

    /// The packet in `datagram`, or why it is not one; the caller then
    /// gets [`ClientError::Parse`](super::ClientError::Parse) and the
    /// datagram is consumed.
    fn deserialize(&self, datagram: &[u8]) -> Result<Self::Packet, ProtocolError>;
}

/// Raw bytes: the packet is the datagram. Never fails; an empty packet is an
/// empty datagram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BytesProtocol;

impl PacketProtocol for BytesProtocol {
    type Packet = Vec<u8>;

    fn serialize<'a>(&self, packet: &'a Vec<u8>) -> Result<Cow<'a, [u8]>, ProtocolError> {
        Ok(Cow::Borrowed(packet))
    }

    fn deserialize(&self, datagram: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        Ok(datagram.to_vec())
    }
}

/// UTF-8 text: the packet is a `String`, the datagram its bytes. A datagram
/// that is not valid UTF-8 is a parse error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TextProtocol;

impl PacketProtocol for TextProtocol {
    type Packet = String;

    fn serialize<'a>(&self, packet: &'a String) -> Result<Cow<'a, [u8]>, ProtocolError> {
        Ok(Cow::Borrowed(packet.as_bytes()))
    }

    fn deserialize(&self, datagram: &[u8]) -> Result<String, ProtocolError> {
        std::str::from_utf8(datagram)
            .map(str::to_owned)
            .map_err(|err| ProtocolError::new(format!("invalid UTF-8: {err}")))
    }
}

#[cfg(feature = "serde")]
pub use json::JsonProtocol;

#[cfg(feature = "serde")]
mod json {
    use super::{PacketProtocol, ProtocolError};
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use std::borrow::Cow;
    use std::fmt;
    use std::marker::PhantomData;

    /// JSON: one JSON document per datagram, through `serde_json`
    /// (cargo feature `serde`).
    ///
    /// Serializing fails for values JSON cannot express (e.g. a map with
    /// non-string keys); parsing fails for anything that is not one
    /// well-formed document of type `T`.
    ///
    /// ```
    /// use ruv::client::{JsonProtocol, PacketProtocol};
    /// use serde_json::{json, Value};
    ///
    /// let protocol = JsonProtocol::<Value>::new();
    /// let datagram = protocol.serialize(&json!({"op": "ping"}))?.into_owned();
    /// assert_eq!(datagram, br#"{"op":"ping"}"#);
    /// assert_eq!(protocol.deserialize(&datagram)?, json!({"op": "ping"}));
    /// assert!(protocol.deserialize(b"{not json").is_err());
    /// # Ok::<(), ruv::client::ProtocolError>(())
    /// ```
    pub struct JsonProtocol<T> {
        // `fn() -> T`: the protocol holds no `T`, so it is `Send + Sync`
        // whatever `T` is.
        _packet: PhantomData<fn() -> T>,
    }

    impl<T> JsonProtocol<T> {
        /// The JSON protocol for packets of type `T`.
        pub const fn new() -> Self {
            JsonProtocol {
                _packet: PhantomData,
            }
        }
    }

    impl<T> Default for JsonProtocol<T> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<T> Clone for JsonProtocol<T> {
        fn clone(&self) -> Self {
            *self
        }
    }

    impl<T> Copy for JsonProtocol<T> {}

    impl<T> fmt::Debug for JsonProtocol<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "JsonProtocol<{}>", std::any::type_name::<T>())
        }
    }

    impl<T: Serialize + DeserializeOwned> PacketProtocol for JsonProtocol<T> {
        type Packet = T;

        fn serialize<'a>(&self, packet: &'a T) -> Result<Cow<'a, [u8]>, ProtocolError> {
            serde_json::to_vec(packet)
                .map(Cow::Owned)
                .map_err(|err| ProtocolError::new(err.to_string()))
        }

        fn deserialize(&self, datagram: &[u8]) -> Result<T, ProtocolError> {
            serde_json::from_slice(datagram).map_err(|err| ProtocolError::new(err.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_borrow_and_copy() {
        let packet = b"abc".to_vec();
        let out = BytesProtocol.serialize(&packet).unwrap();
        assert!(matches!(out, Cow::Borrowed(b"abc")));
        assert_eq!(BytesProtocol.deserialize(b"").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn text_rejects_invalid_utf8() {
        assert_eq!(
            TextProtocol.deserialize("héllo".as_bytes()).unwrap(),
            "héllo"
        );
        let err = TextProtocol.deserialize(&[0x66, 0xff]).unwrap_err();
        assert!(err.message().starts_with("invalid UTF-8"), "{err}");
    }
}
