//! The stream operations every stream handle offers (`Tcp`, `Pipe`), as
//! methods on the handle's own type, so that callbacks get `&Tcp` or
//! `&Pipe`: one definition, expanded per type.

/// Defines the shared stream methods on `$ty` (a `StreamHandle`).
macro_rules! stream_methods {
    ($ty:ident) => {
        impl $ty {
            /// Starts reading (`uv_read_start`). `cb` gets each
            /// [`ReadResult::Data`] lent from a 64 KiB buffer the thread's
            /// streams share (no allocation per read), then
            /// [`ReadResult::Eof`] when the peer closes its side, or
            /// [`ReadResult::Error`] (e.g. ECONNRESET). Both end reading;
            /// after an error the stream is neither readable nor writable.
            /// Reading may start again after the end of the stream (it
            /// reports the end again).
            ///
            /// At most 32 reads per readiness event; the rest is read in the
            /// next iteration, so other handles are not starved.
            ///
            /// EALREADY when already reading; ENOTCONN when not connected,
            /// not readable (a write-only pipe end) or after a read error;
            /// the closed-handle error (code EINVAL) when closing.
            pub fn read_start(&self, cb: impl FnMut(&$ty, ReadResult<'_>) + 'static) -> Result<()> {
                $crate::stream::read_start(self, cb)
            }

            /// Starts reading into buffers the caller supplies (libuv's
            /// `alloc_cb` + `read_cb`).
            ///
            /// Before each read `alloc(handle, 65536)` returns a buffer;
            /// `cb` gets it back with `Ok(n)`, the bytes read into it,
            /// `Ok(0)` when nothing was waiting (the buffer comes back
            /// unused, libuv's `nread == 0`), `Err` with
            /// [`StatusCode::EOF`](crate::StatusCode::EOF) at the end of the
            /// stream, or another error, with the same consequences as for
            /// [`read_start`](Self::read_start). An empty buffer from
            /// `alloc` is ENOBUFS and reading stays on.
            pub fn read_start_with<B, A, C>(&self, alloc: A, cb: C) -> Result<()>
            where
                B: AsMut<[u8]> + 'static,
                A: FnMut(&$ty, usize) -> B + 'static,
                C: FnMut(&$ty, Result<usize>, B) + 'static,
            {
                $crate::stream::read_start_with(self, alloc, cb)
            }

            /// Stops reading (`uv_read_stop`). Data that arrives meanwhile
            /// waits in the kernel. Stopping a stream that does not read, or
            /// a closed one, does nothing.
            pub fn read_stop(&self) {
                $crate::stream::read_stop(self)
            }

            /// Whether the handle is reading.
            pub fn is_reading(&self) -> bool {
                $crate::stream::with_stream(self, |s| s.is_reading()).unwrap_or(false)
            }

            /// Writes `bufs`, in order, as one request (`uv_write`). When
            /// nothing waits they are written at once, straight from `bufs`
            /// (no copy); what the kernel does not take is copied and
            /// written when the descriptor has room, after the requests
            /// already waiting. `cb` runs in a pending phase, never inside
            /// `write`: `Ok(())` once all is written, the error (e.g. EPIPE,
            /// ECONNRESET), or ECANCELED when the handle is closed first.
            /// While a connect is pending the request waits for it.
            ///
            /// EINVAL for no buffers; EBADF without a descriptor; EPIPE
            /// when not writable (after [`shutdown`](Self::shutdown), a
            /// read error, or on a read-only pipe end).
            pub fn write(
                &self,
                bufs: &[&[u8]],
                cb: impl FnOnce(&$ty, Result<()>) + 'static,
            ) -> Result<()> {
                $crate::stream::write(self, bufs, cb)
            }

            /// [`write`](Self::write) with buffers the stream keeps until
            /// they are written: never copied.
            pub fn write_owned(
                &self,
                bufs: Vec<Vec<u8>>,
                cb: impl FnOnce(&$ty, Result<()>) + 'static,
            ) -> Result<()> {
                $crate::stream::write_owned(self, bufs, cb)
            }

            /// Writes what the descriptor takes right now, without queueing
            /// (`uv_try_write`): the bytes written, possibly fewer than
            /// given.
            ///
            /// EAGAIN when a connect or writes are in flight (the write
            /// queue is not empty) or there is no room; otherwise the
            /// errors of [`write`](Self::write), reported directly.
            pub fn try_write(&self, bufs: &[&[u8]]) -> Result<usize> {
                $crate::stream::try_write(self, bufs, None)
            }

            /// Shuts the sending side down once every write made before has
            /// gone out (`uv_shutdown`): the peer reads the end of the
            /// stream. `cb` runs in a pending phase with the outcome, or
            /// ECANCELED when the handle is closed first. Writes after it
            /// are EPIPE.
            ///
            /// ENOTCONN when not writable: not connected, already shut down
            /// (a second `shutdown`), or after a read error.
            pub fn shutdown(&self, cb: impl FnOnce(&$ty, Result<()>) + 'static) -> Result<()> {
                $crate::stream::shutdown(self, cb)
            }

            /// Makes writes wait for room instead of queueing
            /// (`uv_stream_set_blocking`): with `true` the socket is made
            /// blocking and each [`write`](Self::write) returns once the
            /// kernel took all of it (its callback still runs in the pending
            /// phase). Reads never block either way. Meant for a connected
            /// stream; `false` restores the default.
            ///
            /// EBADF without a descriptor; ENOTSUP for a descriptor that is
            /// not a socket (a pipe end or terminal opened by a `Pipe`),
            /// whose reads would block too.
            pub fn set_blocking(&self, blocking: bool) -> Result<()> {
                $crate::stream::set_blocking(self, blocking)
            }

            /// Whether the stream can be read (`uv_is_readable`): connected,
            /// and no read error since. Still true after the end of the
            /// stream.
            pub fn is_readable(&self) -> bool {
                $crate::stream::with_stream(self, |s| s.readable).unwrap_or(false)
            }

            /// Whether the stream can be written (`uv_is_writable`):
            /// connected, not shut down, no read error since.
            pub fn is_writable(&self) -> bool {
                $crate::stream::with_stream(self, |s| s.writable).unwrap_or(false)
            }

            /// Bytes of writes whose callbacks have not run yet
            /// (`uv_stream_get_write_queue_size`), including bytes already
            /// written.
            pub fn write_queue_size(&self) -> Result<usize> {
                $crate::stream::with_stream(self, |s| s.write_queue_size())
            }
        }
    };
}

pub(crate) use stream_methods;
