//! [`SubprocessProtocol`]: the callbacks a subprocess transport calls
//! (asyncio's `SubprocessProtocol`).

use super::SubprocessTransport;
use crate::error::Error;

/// The callbacks of a child process (asyncio's `SubprocessProtocol`).
///
/// Every method has an empty default. The transport calls
/// [`connection_made`](SubprocessProtocol::connection_made) first, once,
/// and [`connection_lost`](SubprocessProtocol::connection_lost) last,
/// once, after the child exited **and** every pipe closed. In between:
/// for each pipe, its `pipe_data_received` calls, then its
/// `pipe_connection_lost`; and `process_exited` once. As in asyncio the
/// order of `process_exited` relative to the pipes' callbacks is not fixed
/// (a child may exit before its output is read, or close its output and
/// run on). If the `Process` handle is closed by someone else before the
/// exit is known (a [`Loop::walk`](crate::Loop::walk) closing every
/// handle), the pipes are closed and `connection_lost` comes without
/// `process_exited`.
pub trait SubprocessProtocol {
    /// The child runs. `transport` is a cheap handle: clone it to keep it.
    fn connection_made(&mut self, transport: &SubprocessTransport) {
        let _ = transport;
    }

    /// The child wrote `data` on its descriptor `fd` (1 or 2).
    fn pipe_data_received(&mut self, fd: i32, data: &[u8]) {
        let _ = (fd, data);
    }

    /// The pipe of descriptor `fd` (0, 1 or 2) closed: `None` at its end
    /// or after a close, the error if it failed (EPIPE when the child
    /// stopped reading its stdin while data was waiting).
    fn pipe_connection_lost(&mut self, fd: i32, err: Option<Error>) {
        let _ = (fd, err);
    }

    /// The child exited; [`get_returncode`](SubprocessTransport::get_returncode)
    /// has its status.
    fn process_exited(&mut self) {}

    /// The stdin pipe's write buffer went over its high-water mark.
    fn pause_writing(&mut self) {}

    /// The stdin pipe's write buffer drained to its low-water mark.
    fn resume_writing(&mut self) {}

    /// The child exited and every pipe closed: the transport is done.
    /// Always `None` here (asyncio passes `None` too).
    fn connection_lost(&mut self, err: Option<Error>) {
        let _ = err;
    }
}
