//! Listening and accepting, libuv style: the connection callback is told
//! that a connection is waiting, and takes it with `accept` (a second
//! `accept` in the same callback is EAGAIN). A callback that does not
//! accept stops the listener from accepting more until it does (libuv's
//! delayed accept); the connections wait in the kernel's backlog.
//!
//! Running out of descriptors (EMFILE, ENFILE) neither spins nor stalls:
//! as libuv, the thread keeps one descriptor in reserve from its first
//! `listen` on; on EMFILE it frees it, accepts and closes every waiting
//! connection (their peers see a reset or the end of the stream), and takes
//! the reserve again. Otherwise the waiting connections would be announced
//! by no new edge once descriptors are free again (a stall), or, retried
//! at once, would fail again (a spin).

use super::{
    push_ready, refresh_active, stream_mut, watch, ConnectionCb, StreamHandle, READ_BUDGET,
};
use crate::core::state::{Deferred, Key, LoopState};
use crate::error::{Error, Result, StatusCode};
use crate::trace::traced;
use crate::{sys, Loop};
use std::cell::Cell;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

thread_local! {
    /// The descriptor held in reserve for the EMFILE trick: any file will
    /// do (`/`, read-only, close-on-exec), opened at the first `listen`.
    static RESERVE: Cell<Option<File>> = const { Cell::new(None) };
}

/// Makes sure a descriptor is held in reserve (at `listen`).
fn hold_reserve() {
    RESERVE.with(|r| {
        let held = r.take().or_else(|| File::open("/").ok());
        r.set(held);
    });
}

/// Out of descriptors: frees the reserve, accepts and closes what waits
/// on `fd`, takes the reserve again. Whether the backlog was drained.
fn shed_backlog(fd: std::os::fd::RawFd) -> bool {
    let Some(reserve) = RESERVE.with(Cell::take) else {
        return false;
    };
    drop(reserve);
    let drained = loop {
        match sys::accept(fd) {
            Ok(conn) => drop(conn),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
            Err(e) if is_transient(&e) => continue,
            Err(_) => break false,
        }
    };
    hold_reserve();
    drained
}

/// Makes the stream's socket listen with `backlog` and `cb` as its
/// connection callback (a second `listen` replaces the callback).
pub(crate) fn start_listening<T: StreamHandle>(
    st: &mut LoopState,
    deferred: &mut Deferred,
    key: Key,
    backlog: i32,
    cb: ConnectionCb<T>,
) -> Result<()> {
    let s = stream_mut::<T>(st, key)?;
    let sock = s.socket.as_ref().ok_or(StatusCode::EBADF)?;
    sock.listen(backlog)?;
    // Connections may be waiting already, their edge gone.
    watch::<T>(st, key, true)?;
    let s = stream_mut::<T>(st, key)?;
    hold_reserve();
    if let Some(old) = s.listen_cb.replace(cb) {
        deferred.push(old);
    }
    s.listening = true;
    s.accept_budget = u32::try_from(backlog).unwrap_or(0).max(READ_BUDGET as u32);
    s.epoch += 1;
    refresh_active::<T>(st, key);
    Ok(())
}

/// A readable event for a listener: accepts one connection at a time and
/// tells the callback, up to the listener's budget (its backlog; then the
/// ready list), until none waits or the callback leaves one unaccepted.
pub(super) fn dispatch_accept<T: StreamHandle>(lp: &Loop, key: Key, iteration: u64) {
    let (mut cb, fd, epoch, budget) = {
        let mut st = lp.state();
        let Ok(s) = stream_mut::<T>(&mut st, key) else {
            return;
        };
        if !s.listening || s.last_read == iteration || s.accepted.is_some() {
            return;
        }
        s.last_read = iteration;
        let Some(fd) = s.fd() else {
            return;
        };
        let Some(cb) = s.listen_cb.take() else {
            return;
        };
        s.accepting = true;
        (cb, fd, s.epoch, s.accept_budget as usize)
    };
    let h = T::from_key(lp, key);
    let mut accepted = 0;
    let mut budget_spent = false;
    loop {
        match sys::accept(fd) {
            Ok(conn) => {
                {
                    let mut st = lp.state();
                    let Ok(s) = stream_mut::<T>(&mut st, key) else {
                        break;
                    };
                    s.accepted = Some(conn);
                }
                cb(&h, Ok(()));
                accepted += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if is_transient(&e) => continue,
            Err(e)
                if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
                    && shed_backlog(fd) =>
            {
                // The waiting connections were refused; new ones raise
                // new edges.
                break;
            }
            Err(e) => {
                // ENOBUFS, ENOMEM, EMFILE without a reserve: told to the
                // callback (libuv 1.44); the next connection's edge tries
                // again.
                cb(&h, traced(h.as_ref(), Err(Error::from(e))));
                break;
            }
        }
        let go_on = {
            let mut st = lp.state();
            stream_mut::<T>(&mut st, key)
                .is_ok_and(|s| s.listening && s.epoch == epoch && s.accepted.is_none())
        };
        if !go_on {
            break;
        }
        if accepted == budget {
            budget_spent = true;
            break;
        }
    }
    let mut unused = Some(cb);
    {
        let mut st = lp.state();
        if let Ok(s) = stream_mut::<T>(&mut st, key) {
            s.accepting = false;
            if s.listening && s.epoch == epoch && s.listen_cb.is_none() {
                s.listen_cb = unused.take();
                if budget_spent {
                    push_ready(&mut st, key);
                }
            }
        }
    }
    drop(unused);
}

/// Accept errors after which the next connection may be fine at once.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINTR | libc::ECONNABORTED | libc::EPROTO)
    )
}

/// Takes the connection the listener `server` holds for `accept`: EAGAIN
/// when it holds none. A listener that waited for this `accept` (its
/// callback did not take the connection) accepts again from the next
/// iteration on.
pub(crate) fn accept_into<T: StreamHandle>(st: &mut LoopState, server: Key) -> Result<OwnedFd> {
    let s = stream_mut::<T>(st, server)?;
    let conn = s.accepted.take().ok_or(StatusCode::EAGAIN)?;
    if s.listening && !s.accepting {
        push_ready(st, server);
    }
    Ok(conn)
}
