//! Error codes and the error type of ruv.
//!
//! [`StatusCode`] mirrors libuv's `uv_errno_t`: one variant per libuv error
//! name (`UV_EAGAIN` becomes [`StatusCode::EAGAIN`]), with libuv's numeric
//! value ([`StatusCode::code`]), name ([`StatusCode::name`], like
//! `uv_err_name`) and message ([`StatusCode::message`], like `uv_strerror`).
//! As in libuv on Linux, a code backed by an OS error is the negated `errno`;
//! the libuv-only codes (`EAI_*`, `EOF`, `UNKNOWN`, `ECHARSET`, `EFTYPE`) use
//! libuv's fixed negative values.
//!
//! [`Error`] is the single error type returned by ruv's APIs, and [`Result`]
//! is the matching alias.

use std::fmt;
use std::io;

/// Generates [`StatusCode`] and its lookup tables from one list.
///
/// Each entry is `NAME = source, "message";` where `source` is either
/// `errno` (the value is `-libc::NAME`) or a parenthesised fixed value.
macro_rules! status_codes {
    ($($name:ident = $src:tt, $msg:literal;)*) => {
        /// libuv's error codes (`uv_errno_t`), one variant per libuv error
        /// name without the `UV_` prefix.
        ///
        /// The discriminant of each variant is its libuv value, so the
        /// derived ordering is the numeric order of [`StatusCode::code`].
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(i32)]
        #[non_exhaustive]
        pub enum StatusCode {
            $(
                #[doc = concat!("`UV_", stringify!($name), "`: ", $msg, ".")]
                $name = status_codes!(@value $name $src),
            )*
        }

        /// The libuv value of every code, usable as a match pattern.
        mod value {
            $(pub(super) const $name: i32 = super::StatusCode::$name as i32;)*
        }

        impl StatusCode {
            /// Every code, in the order of libuv's `UV_ERRNO_MAP`.
            pub const ALL: &'static [StatusCode] = &[$(StatusCode::$name),*];

            /// The libuv value of this code (always negative), e.g.
            /// `EAGAIN` is `-11`, `EOF` is `-4095`, `EAI_NONAME` is `-3008`.
            pub const fn code(self) -> i32 {
                self as i32
            }

            /// The code whose libuv value is `code`; `None` if no code has
            /// that value.
            pub fn from_code(code: i32) -> Option<StatusCode> {
                match code {
                    $(value::$name => Some(StatusCode::$name),)*
                    _ => None,
                }
            }

            /// The positive OS `errno` this code stands for, or `None` for
            /// the libuv-only codes (`EAI_*`, `EOF`, `UNKNOWN`, `ECHARSET`,
            /// `EFTYPE`).
            pub const fn errno(self) -> Option<i32> {
                match self {
                    $(StatusCode::$name => status_codes!(@errno $name $src),)*
                }
            }

            /// libuv's name for this code, e.g. `"EADDRINUSE"`
            /// (`uv_err_name`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(StatusCode::$name => stringify!($name),)*
                }
            }

            /// libuv's message for this code, e.g. `"address already in
            /// use"` (`uv_strerror`).
            pub const fn message(self) -> &'static str {
                match self {
                    $(StatusCode::$name => $msg,)*
                }
            }
        }
    };
    (@value $name:ident errno) => { -libc::$name };
    (@value $name:ident ($value:expr)) => { $value };
    (@errno $name:ident errno) => { Some(libc::$name) };
    (@errno $name:ident ($value:expr)) => { None };
}

status_codes! {
    E2BIG = errno, "argument list too long";
    EACCES = errno, "permission denied";
    EADDRINUSE = errno, "address already in use";
    EADDRNOTAVAIL = errno, "address not available";
    EAFNOSUPPORT = errno, "address family not supported";
    EAGAIN = errno, "resource temporarily unavailable";
    EAI_ADDRFAMILY = (-3000), "address family not supported";
    EAI_AGAIN = (-3001), "temporary failure";
    EAI_BADFLAGS = (-3002), "bad ai_flags value";
    EAI_BADHINTS = (-3013), "invalid value for hints";
    EAI_CANCELED = (-3003), "request canceled";
    EAI_FAIL = (-3004), "permanent failure";
    EAI_FAMILY = (-3005), "ai_family not supported";
    EAI_MEMORY = (-3006), "out of memory";
    EAI_NODATA = (-3007), "no address";
    EAI_NONAME = (-3008), "unknown node or service";
    EAI_OVERFLOW = (-3009), "argument buffer overflow";
    EAI_PROTOCOL = (-3014), "resolved protocol is unknown";
    EAI_SERVICE = (-3010), "service not available for socket type";
    EAI_SOCKTYPE = (-3011), "socket type not supported";
    EALREADY = errno, "connection already in progress";
    EBADF = errno, "bad file descriptor";
    EBUSY = errno, "resource busy or locked";
    ECANCELED = errno, "operation canceled";
    ECHARSET = (-4080), "invalid Unicode character";
    ECONNABORTED = errno, "software caused connection abort";
    ECONNREFUSED = errno, "connection refused";
    ECONNRESET = errno, "connection reset by peer";
    EDESTADDRREQ = errno, "destination address required";
    EEXIST = errno, "file already exists";
    EFAULT = errno, "bad address in system call argument";
    EFBIG = errno, "file too large";
    EHOSTUNREACH = errno, "host is unreachable";
    EINTR = errno, "interrupted system call";
    EINVAL = errno, "invalid argument";
    EIO = errno, "i/o error";
    EISCONN = errno, "socket is already connected";
    EISDIR = errno, "illegal operation on a directory";
    ELOOP = errno, "too many symbolic links encountered";
    EMFILE = errno, "too many open files";
    EMSGSIZE = errno, "message too long";
    ENAMETOOLONG = errno, "name too long";
    ENETDOWN = errno, "network is down";
    ENETUNREACH = errno, "network is unreachable";
    ENFILE = errno, "file table overflow";
    ENOBUFS = errno, "no buffer space available";
    ENODEV = errno, "no such device";
    ENOENT = errno, "no such file or directory";
    ENOMEM = errno, "not enough memory";
    ENONET = errno, "machine is not on the network";
    ENOPROTOOPT = errno, "protocol not available";
    ENOSPC = errno, "no space left on device";
    ENOSYS = errno, "function not implemented";
    ENOTCONN = errno, "socket is not connected";
    ENOTDIR = errno, "not a directory";
    ENOTEMPTY = errno, "directory not empty";
    ENOTSOCK = errno, "socket operation on non-socket";
    ENOTSUP = errno, "operation not supported on socket";
    EOVERFLOW = errno, "value too large for defined data type";
    EPERM = errno, "operation not permitted";
    EPIPE = errno, "broken pipe";
    EPROTO = errno, "protocol error";
    EPROTONOSUPPORT = errno, "protocol not supported";
    EPROTOTYPE = errno, "protocol wrong type for socket";
    ERANGE = errno, "result too large";
    EROFS = errno, "read-only file system";
    ESHUTDOWN = errno, "cannot send after transport endpoint shutdown";
    ESPIPE = errno, "invalid seek";
    ESRCH = errno, "no such process";
    ETIMEDOUT = errno, "connection timed out";
    ETXTBSY = errno, "text file is busy";
    EXDEV = errno, "cross-device link not permitted";
    UNKNOWN = (-4094), "unknown error";
    EOF = (-4095), "end of file";
    ENXIO = errno, "no such device or address";
    EMLINK = errno, "too many links";
    EHOSTDOWN = errno, "host is down";
    EREMOTEIO = errno, "remote I/O error";
    ENOTTY = errno, "inappropriate ioctl for device";
    EFTYPE = (-4028), "inappropriate file type or format";
    EILSEQ = errno, "illegal byte sequence";
    ESOCKTNOSUPPORT = errno, "socket type not supported";
    ENODATA = errno, "no data available";
    EUNATCH = errno, "protocol driver not attached";
    ENOEXEC = errno, "exec format error";
}

impl StatusCode {
    /// The code for a positive OS `errno`.
    ///
    /// Aliases map to their canonical code (on Linux `EWOULDBLOCK` is
    /// `EAGAIN` and `EOPNOTSUPP` is `ENOTSUP`); an `errno` libuv has no name
    /// for maps to [`StatusCode::UNKNOWN`].
    pub fn from_errno(errno: i32) -> StatusCode {
        if errno <= 0 {
            return StatusCode::UNKNOWN;
        }
        match StatusCode::from_code(-errno) {
            Some(code) if code.errno() == Some(errno) => code,
            _ => StatusCode::UNKNOWN,
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.message())
    }
}

/// The one error type of ruv.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// An operation failed with a libuv status code.
    Status(StatusCode),
    /// The handle was closed or is closing (python-uv's `ClosedHandleError`);
    /// its [`code`](Error::code) is [`StatusCode::EINVAL`].
    ClosedHandle,
    /// An error from a UDP socket's error queue, delivered to the receive
    /// callback of a handle bound with
    /// [`UdpFlags::LINUX_RECVERR`](crate::UdpFlags::LINUX_RECVERR) (libuv's
    /// `UV_UDP_LINUX_RECVERR` in `recv_cb`'s flags). During that callback
    /// [`Udp::queued_error`](crate::Udp::queued_error) tells which datagram
    /// it concerns and who reported it; the details stay out of `Error`
    /// so that every `Result` of the crate stays eight bytes.
    Queued(StatusCode),
}

impl Error {
    /// The status code of this error; [`Error::ClosedHandle`] reports
    /// [`StatusCode::EINVAL`].
    pub const fn code(&self) -> StatusCode {
        match *self {
            Error::Status(code) => code,
            Error::ClosedHandle => StatusCode::EINVAL,
            Error::Queued(code) => code,
        }
    }

    /// The libuv value of [`code`](Error::code), e.g. `-22` for `EINVAL`.
    pub const fn raw_code(&self) -> i32 {
        self.code().code()
    }

    /// Whether this is [`Error::ClosedHandle`].
    pub const fn is_closed_handle(&self) -> bool {
        matches!(self, Error::ClosedHandle)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Status(code) => fmt::Display::fmt(code, f),
            Error::ClosedHandle => f.write_str("handle is closed or closing"),
            Error::Queued(code) => write!(f, "{code} (from the error queue)"),
        }
    }
}

impl std::error::Error for Error {}

impl From<StatusCode> for Error {
    fn from(code: StatusCode) -> Self {
        Error::Status(code)
    }
}

impl From<io::Error> for Error {
    /// Uses the OS error number when there is one; an `io::Error` that wraps
    /// an [`Error`] gives it back unchanged; otherwise the
    /// [`ErrorKind`](io::ErrorKind) is mapped, with
    /// [`StatusCode::UNKNOWN`] for kinds without a counterpart.
    fn from(err: io::Error) -> Self {
        if let Some(errno) = err.raw_os_error() {
            return Error::Status(StatusCode::from_errno(errno));
        }
        if let Some(inner) = err.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
            return *inner;
        }
        let code = match err.kind() {
            io::ErrorKind::NotFound => StatusCode::ENOENT,
            io::ErrorKind::PermissionDenied => StatusCode::EACCES,
            io::ErrorKind::ConnectionRefused => StatusCode::ECONNREFUSED,
            io::ErrorKind::ConnectionReset => StatusCode::ECONNRESET,
            io::ErrorKind::ConnectionAborted => StatusCode::ECONNABORTED,
            io::ErrorKind::NotConnected => StatusCode::ENOTCONN,
            io::ErrorKind::AddrInUse => StatusCode::EADDRINUSE,
            io::ErrorKind::AddrNotAvailable => StatusCode::EADDRNOTAVAIL,
            io::ErrorKind::BrokenPipe => StatusCode::EPIPE,
            io::ErrorKind::AlreadyExists => StatusCode::EEXIST,
            io::ErrorKind::WouldBlock => StatusCode::EAGAIN,
            io::ErrorKind::InvalidInput => StatusCode::EINVAL,
            io::ErrorKind::TimedOut => StatusCode::ETIMEDOUT,
            io::ErrorKind::Interrupted => StatusCode::EINTR,
            io::ErrorKind::Unsupported => StatusCode::ENOTSUP,
            io::ErrorKind::UnexpectedEof => StatusCode::EOF,
            io::ErrorKind::OutOfMemory => StatusCode::ENOMEM,
            _ => StatusCode::UNKNOWN,
        };
        Error::Status(code)
    }
}

impl From<Error> for io::Error {
    /// A status code backed by an `errno` becomes that OS error; anything
    /// else becomes an [`ErrorKind::Other`](io::ErrorKind::Other) error
    /// wrapping the [`Error`], which converts back losslessly.
    fn from(err: Error) -> Self {
        match err {
            Error::Status(code) => match code.errno() {
                Some(errno) => io::Error::from_raw_os_error(errno),
                None => io::Error::other(err),
            },
            Error::ClosedHandle | Error::Queued(_) => io::Error::other(err),
        }
    }
}

impl PartialEq<StatusCode> for Error {
    fn eq(&self, other: &StatusCode) -> bool {
        matches!(self, Error::Status(code) if code == other)
    }
}

impl PartialEq<Error> for StatusCode {
    fn eq(&self, other: &Error) -> bool {
        other == self
    }
}

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_texts() {
        assert_eq!(StatusCode::EAGAIN.code(), -11);
        assert_eq!(StatusCode::EOF.code(), -4095);
        assert_eq!(StatusCode::EAI_NONAME.code(), -3008);
        assert_eq!(StatusCode::EADDRINUSE.name(), "EADDRINUSE");
        assert_eq!(
            StatusCode::EADDRINUSE.to_string(),
            "EADDRINUSE: address already in use"
        );
        assert_eq!(StatusCode::EOF.errno(), None);
        assert_eq!(StatusCode::ENOEXEC.errno(), Some(libc::ENOEXEC));
    }

    #[test]
    fn round_trips() {
        for &code in StatusCode::ALL {
            assert_eq!(StatusCode::from_code(code.code()), Some(code));
            if let Some(errno) = code.errno() {
                assert_eq!(StatusCode::from_errno(errno), code);
            }
        }
        assert_eq!(StatusCode::from_code(0), None);
        assert_eq!(
            StatusCode::from_errno(libc::EWOULDBLOCK),
            StatusCode::EAGAIN
        );
        assert_eq!(
            StatusCode::from_errno(libc::EOPNOTSUPP),
            StatusCode::ENOTSUP
        );
        assert_eq!(StatusCode::from_errno(0), StatusCode::UNKNOWN);
    }

    #[test]
    fn error_conversions() {
        let closed = Error::ClosedHandle;
        assert_eq!(closed.code(), StatusCode::EINVAL);
        assert_ne!(closed, StatusCode::EINVAL);
        assert_eq!(closed.to_string(), "handle is closed or closing");
        assert_eq!(Error::from(io::Error::from(closed)), closed);

        let eof = Error::from(StatusCode::EOF);
        assert_eq!(Error::from(io::Error::from(eof)), eof);

        let again = io::Error::from(Error::from(StatusCode::EAGAIN));
        assert_eq!(again.raw_os_error(), Some(libc::EAGAIN));
        assert_eq!(Error::from(again), StatusCode::EAGAIN);
        let kind = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(Error::from(kind), StatusCode::ETIMEDOUT);
    }
}
