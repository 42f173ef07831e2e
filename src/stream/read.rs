//! Reading: data lent from a 64 KiB buffer the thread's streams share (no
//! allocation per read), or read into buffers the caller supplies (libuv's
//! `alloc_cb`).
//!
//! Per readable event a stream reads until a read comes back short (the
//! socket is then empty, and the next data raises a new edge), would block,
//! hits the end of the stream or fails, or [`READ_BUDGET`] reads were
//! made; then it goes on the ready list and reads again next iteration.

use super::{push_ready, refresh_active, stream_mut, watch, StreamHandle, READ_BUDGET};
use crate::core::state::{Deferred, Key};
use crate::error::{Error, Result, StatusCode};
use crate::trace::traced;
use crate::{sys, Loop};
use std::cell::Cell;
use std::io;
use std::os::fd::RawFd;

/// Bytes of the shared read buffer, and the size suggested to `alloc`
/// (libuv suggests 64 KiB too).
pub(crate) const READ_SIZE: usize = 64 * 1024;

/// What a read callback gets: data, the end of the stream, or an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadResult<'a> {
    /// Bytes read, lent for the callback only: copy what you keep. Never
    /// empty.
    Data(&'a [u8]),
    /// The peer closed its side (libuv's `UV_EOF`). Reading stops; the
    /// stream stays writable (half-close) and reading may start again,
    /// which reports the end again.
    Eof,
    /// The read failed (e.g. ECONNRESET). Reading stops and the stream is
    /// neither readable nor writable from then on.
    Error(Error),
}

/// Where a stream's reads go.
pub(crate) trait ReadSink<T> {
    /// One read from `fd`, into `shared` or a buffer of the sink's own:
    /// the bytes read and whether they filled the buffer. An empty caller
    /// buffer is ENOBUFS.
    fn read(&mut self, h: &T, fd: RawFd, shared: &mut [u8]) -> io::Result<(usize, bool)>;
    /// Hands the outcome to the callback: `Ok(n)` bytes (0: nothing was
    /// waiting), `Err(EOF)` at the end, or an error.
    fn deliver(&mut self, h: &T, shared: &[u8], outcome: Result<usize>);
}

/// How a stream reads, fixed at `read_start` (a const parameter of the
/// sink: no test per read): `recv` from a socket, `read` from a pipe end
/// or terminal, or `recvmsg` with room for descriptors on an IPC pipe.
const SOCKET: u8 = 0;
/// See [`SOCKET`].
const PLAIN: u8 = 1;
/// See [`SOCKET`].
const IPC: u8 = 2;

/// One read without blocking into `buf`: the bytes read, and whether the
/// socket may hold more now (the buffer filled up, or the read stopped
/// at a passed descriptor, where the kernel ends a read however much data
/// follows). `recv` uses `MSG_DONTWAIT` (even a blocking socket does not
/// wait); a `Pipe` made its other descriptors non-blocking. Descriptors
/// an IPC read brings are queued on the pipe before the data is handed on.
#[inline]
fn read_fd<T: StreamHandle, const MODE: u8>(
    h: &T,
    fd: RawFd,
    buf: &mut [u8],
) -> io::Result<(usize, bool)> {
    let len = buf.len();
    match MODE {
        PLAIN => sys::read(fd, buf).map(|n| (n, n == len)),
        IPC => {
            let handle = h.as_ref();
            let (lp, key) = (handle.get_loop(), handle.key());
            let mut on_fd = |received| T::receive_fd(&mut lp.state(), key, received);
            // The kernel ends a read at a passed descriptor: read on only
            // if bytes are waiting behind it (libuv stops after any short
            // read, relying on level-triggered epoll; reading into EAGAIN
            // would hand the program an empty read it never sees there).
            sys::recv_with_fds(fd, buf, &mut on_fd).map(|(n, got)| {
                let more =
                    n == len || (got && n > 0 && sys::bytes_waiting(fd).map_or(true, |b| b > 0));
                (n, more)
            })
        }
        _ => sys::recv(fd, buf).map(|n| (n, n == len)),
    }
}

/// Reads into the shared buffer and lends the data.
struct Lent<F, const MODE: u8>(F);

impl<T: StreamHandle, F: FnMut(&T, ReadResult<'_>), const MODE: u8> ReadSink<T> for Lent<F, MODE> {
    #[inline]
    fn read(&mut self, h: &T, fd: RawFd, shared: &mut [u8]) -> io::Result<(usize, bool)> {
        read_fd::<T, MODE>(h, fd, shared)
    }

    #[inline]
    fn deliver(&mut self, h: &T, shared: &[u8], outcome: Result<usize>) {
        match outcome {
            Ok(0) => {}
            Ok(n) => (self.0)(h, ReadResult::Data(&shared[..n])),
            Err(Error::Status(StatusCode::EOF)) => (self.0)(h, ReadResult::Eof),
            Err(err) => (self.0)(h, ReadResult::Error(err)),
        }
    }
}

/// Reads into buffers from `alloc`, handed back through `cb`.
struct Alloc<B, A, C, const MODE: u8> {
    alloc: A,
    cb: C,
    buf: Option<B>,
}

impl<T: StreamHandle, B, A, C, const MODE: u8> ReadSink<T> for Alloc<B, A, C, MODE>
where
    B: AsMut<[u8]>,
    A: FnMut(&T, usize) -> B,
    C: FnMut(&T, Result<usize>, B),
{
    fn read(&mut self, h: &T, fd: RawFd, _: &mut [u8]) -> io::Result<(usize, bool)> {
        let mut buf = (self.alloc)(h, READ_SIZE);
        let room = buf.as_mut();
        let result = if room.is_empty() {
            Err(io::Error::from_raw_os_error(libc::ENOBUFS))
        } else {
            read_fd::<T, MODE>(h, fd, room)
        };
        self.buf = Some(buf);
        result
    }

    fn deliver(&mut self, h: &T, _: &[u8], outcome: Result<usize>) {
        if let Some(buf) = self.buf.take() {
            (self.cb)(h, outcome, buf);
        }
    }
}

thread_local! {
    /// The buffer lent reads land in, shared by every stream of the
    /// thread: one hot 64 KiB buffer, allocated once. Taken for a
    /// dispatch and put back after, so a callback that runs another loop
    /// of the thread gets a buffer of its own instead of a conflict.
    static SHARED: Cell<Option<Box<[u8]>>> = const { Cell::new(None) };
}

fn take_buffer() -> Box<[u8]> {
    SHARED
        .with(Cell::take)
        .unwrap_or_else(|| vec![0u8; READ_SIZE].into_boxed_slice())
}

fn give_back_buffer(buf: Box<[u8]>) {
    SHARED.with(|b| b.set(Some(buf)));
}

/// Starts reading with `sink` (`uv_read_start`).
fn start<T: StreamHandle>(h: &T, sink: Box<dyn ReadSink<T>>) -> Result<()> {
    let handle = h.as_ref();
    let key = handle.key();
    // Held out here so that, on error, it is dropped after the borrow.
    let mut sink = Some(sink);
    handle.get_loop().with_deferred(|st, _| {
        let s = stream_mut::<T>(st, key)?;
        if s.reading {
            return Err(StatusCode::EALREADY.into());
        }
        if !s.readable {
            return Err(StatusCode::ENOTCONN.into());
        }
        // Data may have arrived while not reading, its edge gone.
        watch::<T>(st, key, true)?;
        let s = stream_mut::<T>(st, key)?;
        s.reading = true;
        s.epoch += 1;
        s.sink = sink.take();
        refresh_active::<T>(st, key);
        Ok(())
    })
}

/// `read_start` with data lent from the shared buffer.
pub(crate) fn read_start<T: StreamHandle>(
    h: &T,
    cb: impl FnMut(&T, ReadResult<'_>) + 'static,
) -> Result<()> {
    let sink: Box<dyn ReadSink<T>> = match read_mode(h)? {
        PLAIN => Box::new(Lent::<_, PLAIN>(cb)),
        IPC => Box::new(Lent::<_, IPC>(cb)),
        _ => Box::new(Lent::<_, SOCKET>(cb)),
    };
    start(h, sink)
}

/// How the stream reads: [`PLAIN`] when its descriptor is not a socket
/// (fixed once it has one; a stream without one cannot start reading),
/// [`IPC`] for a socket of a pipe that passes handles, else [`SOCKET`].
fn read_mode<T: StreamHandle>(h: &T) -> Result<u8> {
    let handle = h.as_ref();
    let mut st = handle.get_loop().state();
    let kind = &mut st.live_mut(handle.key())?.kind;
    let ipc = T::passes_handles(kind);
    let s = T::stream_of(kind).ok_or(Error::ClosedHandle)?;
    Ok(if s.sender == super::Sender::Plain {
        PLAIN
    } else if ipc {
        IPC
    } else {
        SOCKET
    })
}

/// `read_start` into caller buffers.
pub(crate) fn read_start_with<T, B, A, C>(h: &T, alloc: A, cb: C) -> Result<()>
where
    T: StreamHandle,
    B: AsMut<[u8]> + 'static,
    A: FnMut(&T, usize) -> B + 'static,
    C: FnMut(&T, Result<usize>, B) + 'static,
{
    let sink: Box<dyn ReadSink<T>> = match read_mode(h)? {
        PLAIN => Box::new(Alloc::<B, A, C, PLAIN> {
            alloc,
            cb,
            buf: None,
        }),
        IPC => Box::new(Alloc::<B, A, C, IPC> {
            alloc,
            cb,
            buf: None,
        }),
        _ => Box::new(Alloc::<B, A, C, SOCKET> {
            alloc,
            cb,
            buf: None,
        }),
    };
    start(h, sink)
}

/// Stops reading (`uv_read_stop`); nothing for a stream that does not read.
pub(crate) fn read_stop<T: StreamHandle>(h: &T) {
    let key = h.as_ref().key();
    h.as_ref().get_loop().with_deferred(|st, deferred| {
        if let Ok(s) = stream_mut::<T>(st, key) {
            stop(s, deferred);
            refresh_active::<T>(st, key);
        }
    });
}

/// Ends reading; the callback is dropped after the borrow.
pub(super) fn stop<T: StreamHandle>(s: &mut super::StreamState<T>, deferred: &mut Deferred) {
    if s.reading {
        s.epoch += 1;
    }
    s.reading = false;
    if let Some(sink) = s.sink.take() {
        deferred.push(sink);
    }
}

/// How a dispatch's reads ended.
enum End {
    /// The socket is empty, or the callback stopped or restarted reading:
    /// wait for the next edge (a restart re-armed the registration).
    Done,
    /// The budget is spent with data possibly left: the ready list.
    Budget,
    /// Reading ended (end of stream, error): the sink is not put back.
    Stopped,
}

/// A readable event for a stream: reads up to the budget, handing each
/// result to the callback, with no borrow held while it runs.
///
/// A short read ends the dispatch (the socket is empty, and data arriving
/// later raises a new edge) unless `drain`: the event said the peer closed
/// (or the socket is in error), and the end of the stream, which may sit
/// behind the data, will raise no edge of its own.
pub(crate) fn dispatch_read<T: StreamHandle>(lp: &Loop, key: Key, iteration: u64, drain: bool) {
    let (mut sink, fd, epoch) = {
        let mut st = lp.state();
        let Ok(s) = stream_mut::<T>(&mut st, key) else {
            return;
        };
        if !s.reading || s.last_read == iteration {
            return;
        }
        s.last_read = iteration;
        let Some(fd) = s.fd() else {
            return;
        };
        let Some(sink) = s.sink.take() else {
            // Its callback was lost to a panic: stop reading.
            s.reading = false;
            refresh_active::<T>(&mut st, key);
            return;
        };
        (sink, fd, s.epoch)
    };
    let h = T::from_key(lp, key);
    let mut buf = take_buffer();
    let mut reads = 0;
    let end = loop {
        let result = loop {
            match sink.read(&h, fd, &mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        reads += 1;
        match result {
            Ok((0, _)) => {
                // The end of the stream (libuv's order): reading stops,
                // then the callback learns it.
                {
                    let mut st = lp.state();
                    if let Ok(s) = stream_mut::<T>(&mut st, key) {
                        s.reading = false;
                        s.epoch += 1;
                        refresh_active::<T>(&mut st, key);
                    }
                }
                sink.deliver(&h, &buf, Err(StatusCode::EOF.into()));
                break End::Stopped;
            }
            Ok((n, full)) => {
                sink.deliver(&h, &buf, Ok(n));
                if !full && !drain {
                    break End::Done;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Hands a caller buffer back unused (libuv's nread 0).
                sink.deliver(&h, &buf, Ok(0));
                break End::Done;
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                // An empty caller buffer: reported, reading stays on, and
                // the data still waiting is read next iteration (its edge
                // is spent).
                let err = traced(h.as_ref(), Err(Error::from(e)));
                sink.deliver(&h, &buf, err);
                break End::Budget;
            }
            Err(e) => {
                // The stream is broken both ways (libuv clears READABLE
                // and WRITABLE before the callback).
                {
                    let mut st = lp.state();
                    if let Ok(s) = stream_mut::<T>(&mut st, key) {
                        s.readable = false;
                        s.writable = false;
                    }
                }
                let err = traced(h.as_ref(), Err(Error::from(e)));
                sink.deliver(&h, &buf, err);
                let mut st = lp.state();
                if let Ok(s) = stream_mut::<T>(&mut st, key) {
                    if s.reading && s.epoch == epoch {
                        s.epoch += 1;
                        s.reading = false;
                        refresh_active::<T>(&mut st, key);
                    }
                }
                drop(st);
                break End::Stopped;
            }
        }
        // Between reads: the callback may have stopped, restarted or
        // closed the stream (its descriptor then closed).
        let same = {
            let mut st = lp.state();
            stream_mut::<T>(&mut st, key).is_ok_and(|s| s.reading && s.epoch == epoch)
        };
        if !same {
            break End::Done;
        }
        if reads == READ_BUDGET {
            break End::Budget;
        }
    };
    give_back_buffer(buf);
    let mut unused = Some(sink);
    {
        let mut st = lp.state();
        if let Ok(s) = stream_mut::<T>(&mut st, key) {
            if !matches!(end, End::Stopped) && s.reading && s.epoch == epoch {
                s.sink = unused.take();
                if matches!(end, End::Budget) {
                    push_ready(&mut st, key);
                }
            }
        }
    }
    // A sink the stream no longer uses (user code when dropped), after the
    // borrow.
    drop(unused);
}
