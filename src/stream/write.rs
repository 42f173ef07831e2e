//! Writing and shutting down: requests go through the stream's
//! [`WriteQueue`](super::write_queue::WriteQueue) (written at once without
//! a copy when nothing waits), and their callbacks run in the pending
//! phase, never inside the call that made them.

use super::write_queue::{with_io_slices, Progress};
use super::{
    finish_connect, interest_stale, mark_pending, refresh_active, stream_mut, sync_pending, watch,
    ReqCb, Sender, StreamHandle,
};
use crate::core::run::IoEvent;
use crate::core::state::{Key, LoopState};
use crate::error::{Error, Result, StatusCode};
use crate::trace::traced;
use crate::{sys, Loop};
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::fd::{OwnedFd, RawFd};

/// The checks before a write, in libuv's order; the descriptor.
pub(crate) fn check<T>(s: &super::StreamState<T>, nbufs: usize) -> Result<RawFd> {
    if nbufs == 0 {
        return Err(StatusCode::EINVAL.into());
    }
    let fd = s.fd().ok_or(StatusCode::EBADF)?;
    if !s.writable {
        return Err(StatusCode::EPIPE.into());
    }
    Ok(fd)
}

/// Hands `bufs` or the owned buffers to the queue with the stream's writer.
fn enqueue<T: StreamHandle>(
    h: &T,
    nbufs: usize,
    write: impl FnOnce(
        &mut super::write_queue::WriteQueue<ReqCb<T>>,
        &mut dyn FnMut(&[IoSlice<'_>], Option<RawFd>) -> io::Result<usize>,
    ) -> Progress,
) -> Result<()> {
    let key = h.as_ref().key();
    let mut st = h.as_ref().get_loop().state();
    let st = &mut *st;
    let s = stream_mut::<T>(st, key)?;
    let fd = check(s, nbufs)?;
    let sender = s.sender;
    // While a connect is pending the queue is held: the write only queues.
    let progress = if sender == Sender::Socket {
        // A socket that never waits, the common case: its own closure.
        write(&mut s.writes, &mut |slices, pass| match pass {
            None => sys::send_vectored(fd, slices),
            Some(_) => sender.send(fd, slices, pass),
        })
    } else {
        write(&mut s.writes, &mut |slices, pass| {
            sender.send(fd, slices, pass)
        })
    };
    // Whatever the queue did, `settle` reads its state.
    let _: Progress = progress;
    let left = settle(s);
    st.active_reqs += 1;
    st.mark_alive();
    after::<T>(st, key, left);
    Ok(())
}

/// What a write or flush left, read in the look-up that made it.
struct Left {
    /// Requests wait for room.
    waiting: bool,
    /// The registration must change ([`interest_stale`]).
    stale: bool,
    /// Completions wait and the handle was not on the pending list.
    newly_pending: bool,
}

/// Reads what a write or flush left, and marks the stream as on the
/// pending list if completions wait (`after` queues it).
fn settle<T: StreamHandle>(s: &mut super::StreamState<T>) -> Left {
    Left {
        waiting: s.writes.has_waiting(),
        stale: interest_stale(s),
        newly_pending: s.writes.has_done() && !std::mem::replace(&mut s.in_pending, true),
    }
}

/// Acts on what a write or flush left: completions to report, a socket to
/// watch for room.
fn after<T: StreamHandle>(st: &mut LoopState, key: Key, left: Left) {
    // `mark_pending` without a look-up, nor its liveness update: the
    // requests count in `active_reqs`, so the loop is alive already.
    if left.newly_pending {
        st.push_pending(key, T::TYPE);
    }
    // No system call unless the registration must change: never for a
    // TCP socket once registered. If it cannot be made (the user's epoll
    // watch limit) while writes wait, they are tried again after every
    // poll phase instead of waiting for an edge that would never come.
    if left.stale && watch::<T>(st, key, false).is_err() && left.waiting {
        st.push_ready(IoEvent {
            key,
            readable: false,
            writable: true,
            error: false,
            closed: false,
        });
    }
    // Writes do not change whether the handle is active (reading or
    // listening): no `refresh_active`.
}

/// `write`: see [`Tcp::write`](crate::Tcp::write).
pub(crate) fn write<T: StreamHandle>(
    h: &T,
    bufs: &[&[u8]],
    cb: impl FnOnce(&T, Result<()>) + 'static,
) -> Result<()> {
    // Boxed before the borrow; on error dropped after it.
    let mut cb = Some(Box::new(cb) as ReqCb<T>);
    let result = enqueue(h, bufs.len(), |q, w| {
        let cb = cb.take().expect("taken once");
        q.write(bufs, None, cb, &mut |s, p| w(s, p))
    });
    drop(cb);
    result
}

/// `write2`: see [`Pipe::write2`](crate::Pipe::write2). `pass` is the
/// caller's own descriptor to send (a duplicate), closed once sent or
/// when the request fails or is cancelled. EINVAL when `bufs` hold no byte:
/// the kernel passes a descriptor only with data.
pub(crate) fn write2<T: StreamHandle>(
    h: &T,
    bufs: &[&[u8]],
    pass: OwnedFd,
    cb: impl FnOnce(&T, Result<()>) + 'static,
) -> Result<()> {
    let mut cb = Some(Box::new(cb) as ReqCb<T>);
    let mut pass = Some(pass);
    let result = if bufs.iter().all(|b| b.is_empty()) {
        Err(StatusCode::EINVAL.into())
    } else {
        enqueue(h, bufs.len(), |q, w| {
            let cb = cb.take().expect("taken once");
            q.write(bufs, pass.take(), cb, &mut |s, p| w(s, p))
        })
    };
    drop((cb, pass));
    result
}

/// `write_owned`: see [`Tcp::write_owned`](crate::Tcp::write_owned).
pub(crate) fn write_owned<T: StreamHandle>(
    h: &T,
    bufs: Vec<Vec<u8>>,
    cb: impl FnOnce(&T, Result<()>) + 'static,
) -> Result<()> {
    let mut cb = Some(Box::new(cb) as ReqCb<T>);
    let mut bufs = Some(bufs);
    let nbufs = bufs.as_ref().map_or(0, Vec::len);
    let result = enqueue(h, nbufs, |q, w| {
        let cb = cb.take().expect("taken once");
        let bufs = bufs.take().expect("taken once");
        q.write_owned(bufs, cb, &mut |s, p| w(s, p))
    });
    drop((cb, bufs));
    result
}

/// `try_write`: see [`Tcp::try_write`](crate::Tcp::try_write). With
/// `pass` ([`Pipe::try_write2`](crate::Pipe::try_write2)): the descriptor
/// to send with the bytes, or why it cannot be sent, reported after the
/// EAGAIN check and the checks of a write (EINVAL when the stream does
/// not pass handles), in libuv's order.
pub(crate) fn try_write<T: StreamHandle>(
    h: &T,
    bufs: &[&[u8]],
    pass: Option<Result<RawFd>>,
) -> Result<usize> {
    let key = h.as_ref().key();
    let mut st = h.as_ref().get_loop().state();
    let kind = &mut st.live_mut(key)?.kind;
    let ipc = T::passes_handles(kind);
    let s = T::stream_of(kind).ok_or(Error::ClosedHandle)?;
    // As libuv: anything in flight comes first, then the checks.
    if s.connect.is_some() || s.writes.size() != 0 || s.writes.has_waiting() {
        return Err(StatusCode::EAGAIN.into());
    }
    let fd = check(s, bufs.len())?;
    let pass = match pass {
        None => None,
        Some(_) if !ipc => return Err(StatusCode::EINVAL.into()),
        Some(pass) => Some(pass?),
    };
    // Never waits, even on a blocking socket.
    let sender = match s.sender {
        Sender::SocketBlocking => Sender::Socket,
        other => other,
    };
    let n = bufs.len().min(super::write_queue::IOV_MAX);
    with_io_slices(&bufs[..n], |slices| sender.send(fd, slices, pass)).map_err(|e| {
        if e.kind() == io::ErrorKind::WouldBlock {
            StatusCode::EAGAIN.into()
        } else {
            Error::from(e)
        }
    })
}

/// `set_blocking`: see [`Tcp::set_blocking`](crate::Tcp::set_blocking).
pub(crate) fn set_blocking<T: StreamHandle>(h: &T, blocking: bool) -> Result<()> {
    let key = h.as_ref().key();
    h.as_ref().get_loop().with_deferred(|st, _| {
        let s = stream_mut::<T>(st, key)?;
        let sock = s.socket.as_ref().ok_or(StatusCode::EBADF)?;
        if s.sender == Sender::Plain {
            // `read(2)` on it would block the loop: only a socket's reads
            // (`recv` with `MSG_DONTWAIT`) stay non-blocking.
            return Err(StatusCode::ENOTSUP.into());
        }
        sock.set_nonblocking(!blocking)?;
        s.sender = if blocking {
            Sender::SocketBlocking
        } else {
            Sender::Socket
        };
        Ok(())
    })
}

/// `shutdown`: see [`Tcp::shutdown`](crate::Tcp::shutdown).
pub(crate) fn shutdown<T: StreamHandle>(
    h: &T,
    cb: impl FnOnce(&T, Result<()>) + 'static,
) -> Result<()> {
    let key = h.as_ref().key();
    let mut cb = Some(Box::new(cb) as ReqCb<T>);
    let result = h.as_ref().get_loop().with_deferred(|st, _| {
        let s = stream_mut::<T>(st, key)?;
        if !s.writable || s.shutdown.is_some() || s.socket.is_none() {
            return Err(StatusCode::ENOTCONN.into());
        }
        s.writable = false;
        s.shutdown = cb.take();
        let now = s.connect.is_none() && !s.writes.has_waiting();
        st.active_reqs += 1;
        st.mark_alive();
        if now {
            mark_pending::<T>(st, key);
        }
        refresh_active::<T>(st, key);
        Ok(())
    });
    drop(cb);
    result
}

/// The stream became writable: writes what waits.
pub(crate) fn flush<T: StreamHandle>(lp: &Loop, key: Key) {
    let mut st = lp.state();
    let st = &mut *st;
    let Ok(s) = stream_mut::<T>(st, key) else {
        return;
    };
    let Some(fd) = s.fd() else {
        return;
    };
    let sender = s.sender;
    let progress = s
        .writes
        .flush(&mut |slices, pass| sender.send(fd, slices, pass));
    let _: Progress = progress;
    let left = settle(s);
    after::<T>(st, key, left);
}

/// What one step of a pending round reports.
enum Step<T> {
    Connect(Result<()>),
    Write(ReqCb<T>, Result<()>),
    Shutdown(ReqCb<T>, Result<()>),
}

/// The pending phase for one stream: a connect outcome known without an
/// event, then the write callbacks of the requests finished when the round
/// began (later ones wait for the next round), then the shutdown once
/// nothing waits to be written.
pub(crate) fn run_completions<T: StreamHandle>(lp: &Loop, key: Key) {
    let h = T::from_key(lp, key);
    let mut writes = None;
    loop {
        let step = {
            let mut st = lp.state();
            let st = &mut *st;
            let Ok(s) = stream_mut::<T>(st, key) else {
                return;
            };
            let count = *writes.get_or_insert_with(|| {
                s.in_pending = false;
                s.writes.done_count()
            });
            if let Some(outcome) = s.connect_outcome.take() {
                Step::Connect(outcome)
            } else if count > 0 {
                writes = Some(count - 1);
                let Some((cb, status)) = s.writes.pop_done() else {
                    return;
                };
                st.active_reqs -= 1;
                st.sync_liveness();
                Step::Write(cb, status)
            } else if s.shutdown_ready() {
                let status = match &s.socket {
                    Some(sock) => sock.shutdown(Shutdown::Write).map_err(Error::from),
                    None => Err(StatusCode::ENOTCONN.into()),
                };
                let Some(cb) = s.shutdown.take() else {
                    return;
                };
                st.active_reqs -= 1;
                st.sync_liveness();
                refresh_active::<T>(st, key);
                Step::Shutdown(cb, status)
            } else {
                // A callback of this round may have queued the handle again
                // for what the round then reported itself (a shutdown made
                // with the queue empty). Looked up again only then.
                if s.owes_pending() != s.in_pending {
                    sync_pending::<T>(st, key);
                }
                return;
            }
        };
        match step {
            Step::Connect(outcome) => finish_connect::<T>(lp, key, outcome),
            Step::Write(cb, status) | Step::Shutdown(cb, status) => {
                cb(&h, traced(h.as_ref(), status))
            }
        }
    }
}

/// After a panic in the pending phase: a stream with completions left goes
/// back on the pending list.
pub(crate) fn requeue_completions<T: StreamHandle>(st: &mut LoopState, key: Key) {
    // The round took the entry off the list; it may have been queued again
    // since.
    let listed = st.is_pending(key);
    let Ok(s) = stream_mut::<T>(st, key) else {
        return;
    };
    s.in_pending = listed;
    sync_pending::<T>(st, key);
}
