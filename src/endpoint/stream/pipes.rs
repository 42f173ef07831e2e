//! [`connect_read_pipe`] and [`connect_write_pipe`]: transports on one
//! end of a pipe, a FIFO, a character device or a socket (asyncio's
//! `_UnixReadPipeTransport` and `_UnixWritePipeTransport`).

use super::connect::{start, Connected};
use super::transport::Kind;
use super::{AnyProtocol, Protocol, StreamTransport};
use crate::error::{Error, Result};
use crate::{Loop, Pipe};
use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// Reads from `fd` (asyncio's `loop.connect_read_pipe`): the protocol
/// gets `data_received`, then at the end `eof_received` (its answer is
/// ignored: the transport closes) and `connection_lost(None)`. The
/// transport never writes (EPIPE). `on_done` runs from the loop; EPERM for
/// a regular file (it cannot be watched), EEXIST if the loop already
/// watches `fd`.
pub fn connect_read_pipe<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    fd: impl Into<OwnedFd>,
    on_done: D,
) where
    P: Protocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(Result<(StreamTransport, Rc<RefCell<P>>)>) + 'static,
{
    connect_pipe(lp, protocol_factory, fd.into(), Kind::ReadPipe, on_done);
}

/// Writes to `fd` (asyncio's `loop.connect_write_pipe`). `write_eof` is
/// [`close`](StreamTransport::close). When the reader goes away (a socket
/// end reads its end of stream) the transport closes: with
/// `connection_lost(Some(EPIPE))` if data was waiting, else `None`.
/// `on_done` runs from the loop.
pub fn connect_write_pipe<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    fd: impl Into<OwnedFd>,
    on_done: D,
) where
    P: Protocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(Result<(StreamTransport, Rc<RefCell<P>>)>) + 'static,
{
    connect_pipe(lp, protocol_factory, fd.into(), Kind::WritePipe, on_done);
}

fn connect_pipe<P, F, D>(lp: &Loop, protocol_factory: F, fd: OwnedFd, kind: Kind, on_done: D)
where
    P: Protocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(Result<(StreamTransport, Rc<RefCell<P>>)>) + 'static,
{
    let make = move || {
        let p = Rc::new(RefCell::new(protocol_factory()));
        (AnyProtocol::plain(p.clone()), p)
    };
    let on_done =
        move |r: std::result::Result<_, super::ConnectError>| on_done(r.map_err(Error::from));
    start(lp, make, kind, on_done, move |lp, done| {
        done(
            Pipe::from_fd(lp, fd)
                .map(Connected::Pipe)
                .map_err(Into::into),
        );
    });
}

/// Wraps an open pipe handle as a transport of `kind` for `protocol`, and
/// starts it (the subprocess transport's pipes).
pub(crate) fn pipe_transport(pipe: Pipe, kind: Kind, protocol: AnyProtocol) -> StreamTransport {
    let t = StreamTransport::over_pipe(pipe, kind, protocol);
    t.start();
    t
}
