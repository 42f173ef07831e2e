//! Closing a stream: the socket is closed at once; in the closing phase
//! the requests it owed are reported in libuv's order — the connect
//! (ECANCELED), every write in the order made (finished ones with their
//! status, the rest ECANCELED), the shutdown (ECANCELED) — all before the
//! close callback.

use super::{read, stream_mut, StreamHandle, StreamState};
use crate::core::state::{Deferred, Key, LoopState};
use crate::error::{Error, StatusCode};
use crate::trace::traced;
use crate::Loop;
use mio::unix::SourceFd;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::time::Duration;

/// Part of `close`: stop reading and listening, stop watching, close the
/// socket (with a reset after `close_reset`); writes still waiting become
/// ECANCELED completions.
pub(crate) fn stop_for_close<T: StreamHandle>(
    st: &mut LoopState,
    key: Key,
    deferred: &mut Deferred,
) {
    let Ok(s) = stream_mut::<T>(st, key) else {
        return;
    };
    read::stop(s, deferred);
    s.epoch += 1;
    s.listening = false;
    if let Some(cb) = s.listen_cb.take() {
        deferred.push(cb);
    }
    s.accepted = None;
    s.readable = false;
    s.writable = false;
    s.writes.cancel_all();
    let socket = s.socket.take();
    // Read in this one look-up: what closing the socket needs below.
    let reset = s.reset_on_close;
    let registered = s.registered.take().is_some();
    let shared = s.shared;
    // Completions are reported by the closing phase, not the pending one:
    // a closed handle must not keep the loop alive through `pending`.
    if std::mem::take(&mut s.in_pending) {
        st.remove_pending(key);
    }
    if let Some(socket) = socket {
        if reset {
            // A linger of zero: close sends a reset. An error (EINVAL on a
            // socket already reset) changes nothing worth reporting.
            let _ = socket.set_linger(Some(Duration::ZERO));
        }
        // Closing the last reference to the file removes it from the epoll
        // set; a stale event already gathered misses the freed slot's
        // generation. Another reference would keep it there, reporting
        // edges under the old token.
        let fd = socket.as_raw_fd();
        let stdio = fd <= libc::STDERR_FILENO;
        if registered && (shared || stdio) {
            let _ = st.poll.registry().deregister(&mut SourceFd(&fd));
        }
        if stdio {
            // The process's standard descriptors stay open, as libuv never
            // closes 0-2: a program that closed its stdout handle may still
            // print, and a second handle on the same descriptor keeps it.
            let _ = socket.into_raw_fd();
        } else {
            drop(socket);
        }
    }
    st.set_active(key, false);
}

/// The closing phase for a stream: its owed callbacks, in libuv's order.
/// `s` is the state the freed slot held (dropped after the close callback).
pub(crate) fn finish_close<T: StreamHandle>(lp: &Loop, key: Key, s: &mut StreamState<T>) {
    {
        let mut st = lp.state();
        st.active_reqs -= usize::from(s.connect.is_some())
            + s.writes.requests()
            + usize::from(s.shutdown.is_some());
        st.sync_liveness();
    }
    let h = T::from_key(lp, key);
    let cancelled = || Err(Error::from(StatusCode::ECANCELED));
    if let Some(cb) = s.connect.take() {
        cb(&h, traced(h.as_ref(), cancelled()));
    }
    s.writes.cancel_all();
    while let Some((cb, status)) = s.writes.pop_done() {
        cb(&h, traced(h.as_ref(), status));
    }
    if let Some(cb) = s.shutdown.take() {
        cb(&h, traced(h.as_ref(), cancelled()));
    }
}
