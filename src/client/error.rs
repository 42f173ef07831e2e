//! [`ClientError`]: the one error type of the UDP clients.

use crate::error::{Error, StatusCode};
use std::fmt;
use std::io;

/// Result alias of the UDP clients.
pub type ClientResult<T> = std::result::Result<T, ClientError>;

/// Why a client operation failed.
///
/// Each kind of failure is its own variant, so callers can tell a closed
/// client, an expired timeout, a bad datagram, an unserializable packet and
/// an operating-system error apart with a `match`. [`status_code`]
/// gives the libuv status code where there is one.
///
/// ```
/// use ruv::client::ClientError;
/// use ruv::StatusCode;
///
/// let err = ClientError::Os(StatusCode::ECONNREFUSED);
/// assert_eq!(err.status_code(), Some(StatusCode::ECONNREFUSED));
/// assert_eq!(ClientError::Timeout.status_code(), Some(StatusCode::ETIMEDOUT));
/// assert_eq!(ClientError::Closed.status_code(), None);
/// assert!(ClientError::Closed.is_closed());
/// ```
///
/// [`status_code`]: ClientError::status_code
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientError {
    /// The client is closed (easynetwork's `ClientClosedError`): it was
    /// closed before the call, or while the call was waiting.
    Closed,
    /// The timeout expired before a packet arrived (Python's
    /// `TimeoutError`).
    Timeout,
    /// A datagram could not be turned into a packet (easynetwork's
    /// `DatagramProtocolParseError`). The datagram is consumed: the next
    /// receive gets the next datagram.
    Parse {
        /// What the protocol said was wrong.
        message: String,
        /// Length of the offending datagram in bytes.
        datagram_len: usize,
    },
    /// The protocol could not turn a packet into a datagram; nothing was
    /// sent.
    Serialize {
        /// What the protocol said was wrong.
        message: String,
    },
    /// The operating system (or the resolver, for the `EAI_*` codes)
    /// reported an error, e.g. `ECONNREFUSED` after an ICMP port-unreachable
    /// on the connected socket, or `ENOTCONN` for an unconnected socket.
    Os(StatusCode),
}

impl ClientError {
    /// The status code of this error: the code of [`ClientError::Os`],
    /// [`StatusCode::ETIMEDOUT`] for [`ClientError::Timeout`], and `None`
    /// for the kinds that have no OS counterpart (closed, parse, serialize).
    pub fn status_code(&self) -> Option<StatusCode> {
        match self {
            ClientError::Os(code) => Some(*code),
            ClientError::Timeout => Some(StatusCode::ETIMEDOUT),
            ClientError::Closed | ClientError::Parse { .. } | ClientError::Serialize { .. } => None,
        }
    }

    /// Whether this is [`ClientError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, ClientError::Closed)
    }

    /// Whether this is [`ClientError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, ClientError::Timeout)
    }

    /// Whether this is [`ClientError::Parse`].
    pub fn is_parse(&self) -> bool {
        matches!(self, ClientError::Parse { .. })
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Closed => f.write_str("client is closed"),
            ClientError::Timeout => f.write_str("timed out waiting for a packet"),
            ClientError::Parse {
                message,
                datagram_len,
            } => write!(f, "invalid datagram ({datagram_len} bytes): {message}"),
            ClientError::Serialize { message } => write!(f, "cannot serialize packet: {message}"),
            ClientError::Os(code) => fmt::Display::fmt(code, f),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<StatusCode> for ClientError {
    fn from(code: StatusCode) -> Self {
        ClientError::Os(code)
    }
}

impl From<Error> for ClientError {
    /// [`Error::ClosedHandle`] (the client's handle is closed) becomes
    /// [`ClientError::Closed`]; a status code, or a queued error's code,
    /// becomes [`ClientError::Os`].
    fn from(err: Error) -> Self {
        match err {
            Error::ClosedHandle => ClientError::Closed,
            Error::Status(code) => ClientError::Os(code),
            Error::Queued(code) => ClientError::Os(code),
        }
    }
}

impl From<io::Error> for ClientError {
    /// By `errno` where there is one, else by [`io::ErrorKind`] (see
    /// `impl From<io::Error> for ruv::Error`).
    fn from(err: io::Error) -> Self {
        ClientError::from(Error::from(err))
    }
}

impl From<ClientError> for io::Error {
    /// [`ClientError::Os`] with an `errno` becomes that OS error; the other
    /// kinds wrap the [`ClientError`] with a matching [`io::ErrorKind`]:
    /// `NotConnected` (closed), `TimedOut`, `InvalidData` (parse),
    /// `InvalidInput` (serialize), `Other`.
    fn from(err: ClientError) -> Self {
        let kind = match &err {
            ClientError::Os(code) => match code.errno() {
                Some(errno) => return io::Error::from_raw_os_error(errno),
                None => io::ErrorKind::Other,
            },
            ClientError::Closed => io::ErrorKind::NotConnected,
            ClientError::Timeout => io::ErrorKind::TimedOut,
            ClientError::Parse { .. } => io::ErrorKind::InvalidData,
            ClientError::Serialize { .. } => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(ClientError::from(Error::ClosedHandle), ClientError::Closed);
        assert_eq!(
            ClientError::from(io::Error::from_raw_os_error(libc::ENOTCONN)),
            ClientError::Os(StatusCode::ENOTCONN)
        );
        let io_err = io::Error::from(ClientError::Os(StatusCode::ECONNREFUSED));
        assert_eq!(io_err.raw_os_error(), Some(libc::ECONNREFUSED));
        assert_eq!(
            io::Error::from(ClientError::Timeout).kind(),
            io::ErrorKind::TimedOut
        );
        let parse = ClientError::Parse {
            message: "bad".into(),
            datagram_len: 3,
        };
        assert_eq!(parse.to_string(), "invalid datagram (3 bytes): bad");
        assert_eq!(parse.status_code(), None);
        assert_eq!(
            ClientError::Os(StatusCode::EINVAL).to_string(),
            StatusCode::EINVAL.to_string()
        );
    }
}
