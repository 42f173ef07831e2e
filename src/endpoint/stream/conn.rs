//! [`Conn`]: the stream handle under a transport, a [`Tcp`] or a
//! [`Pipe`], with the few stream calls the transport makes.

use crate::error::Result;
use crate::handle::Handle;
use crate::{Pipe, ReadResult, Tcp};

/// The handle a stream transport owns.
#[derive(Clone, Debug)]
pub(crate) enum Conn {
    Tcp(Tcp),
    Pipe(Pipe),
}

impl Conn {
    pub(crate) fn handle(&self) -> &Handle {
        match self {
            Conn::Tcp(t) => t,
            Conn::Pipe(p) => p,
        }
    }

    pub(crate) fn try_write(&self, bufs: &[&[u8]]) -> Result<usize> {
        match self {
            Conn::Tcp(t) => t.try_write(bufs),
            Conn::Pipe(p) => p.try_write(bufs),
        }
    }

    pub(crate) fn write(
        &self,
        bufs: &[&[u8]],
        cb: impl FnOnce(Result<()>) + 'static,
    ) -> Result<()> {
        match self {
            Conn::Tcp(t) => t.write(bufs, move |_, r| cb(r)),
            Conn::Pipe(p) => p.write(bufs, move |_, r| cb(r)),
        }
    }

    pub(crate) fn shutdown(&self, cb: impl FnOnce(Result<()>) + 'static) -> Result<()> {
        match self {
            Conn::Tcp(t) => t.shutdown(move |_, r| cb(r)),
            Conn::Pipe(p) => p.shutdown(move |_, r| cb(r)),
        }
    }

    pub(crate) fn read_start(&self, mut cb: impl FnMut(ReadResult<'_>) + 'static) -> Result<()> {
        match self {
            Conn::Tcp(t) => t.read_start(move |_, r| cb(r)),
            Conn::Pipe(p) => p.read_start(move |_, r| cb(r)),
        }
    }

    pub(crate) fn read_start_with(
        &self,
        mut alloc: impl FnMut(usize) -> Vec<u8> + 'static,
        mut cb: impl FnMut(Result<usize>, Vec<u8>) + 'static,
    ) -> Result<()> {
        match self {
            Conn::Tcp(t) => t.read_start_with(move |_, n| alloc(n), move |_, r, b| cb(r, b)),
            Conn::Pipe(p) => p.read_start_with(move |_, n| alloc(n), move |_, r, b| cb(r, b)),
        }
    }

    pub(crate) fn read_stop(&self) {
        match self {
            Conn::Tcp(t) => t.read_stop(),
            Conn::Pipe(p) => p.read_stop(),
        }
    }

    pub(crate) fn is_readable(&self) -> bool {
        match self {
            Conn::Tcp(t) => t.is_readable(),
            Conn::Pipe(p) => p.is_readable(),
        }
    }
}
