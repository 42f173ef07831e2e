//! The end of a connect: its outcome comes from the socket becoming
//! writable (`SO_ERROR`), or from the pending phase when it was known at
//! once (ECONNREFUSED from `connect(2)`, a deferred bind error). Either
//! way the callback runs from the loop, never inside `connect`.

use super::{
    mark_pending, refresh_active, stream_mut, sync_pending, watch, write, ReqCb, StreamHandle,
};
use crate::core::state::Key;
use crate::error::{Error, Result};
use crate::trace::traced;
use crate::Loop;

/// Starts waiting for a connect: `cb` runs with the outcome, from the
/// writable event, or — with `known` — from the next pending phase.
pub(crate) fn begin<T: StreamHandle>(
    st: &mut crate::core::state::LoopState,
    key: Key,
    cb: ReqCb<T>,
    known: Option<Result<()>>,
) -> Result<()> {
    let mut known = known;
    if known.is_none() {
        // Registered after `connect(2)`, epoll reports only what follows
        // it; registered before, an event gathered earlier may be stale.
        let s = stream_mut::<T>(st, key)?;
        s.verify_connect = s.registered.is_some();
        s.connecting = true;
        if let Err(err) = watch::<T>(st, key, false) {
            // No event would ever come: the callback gets the error from
            // the pending phase, as an ECONNREFUSED from `connect(2)`.
            stream_mut::<T>(st, key)?.connecting = false;
            known = Some(Err(err));
        }
    }
    let s = stream_mut::<T>(st, key)?;
    s.connect = Some(cb);
    // Writes made from now on wait for the outcome, empty ones included.
    s.writes.hold(true);
    s.readable = true;
    s.writable = true;
    let now = known.is_some();
    if now {
        s.connect_outcome = known;
    }
    st.active_reqs += 1;
    st.mark_alive();
    if now {
        mark_pending::<T>(st, key);
    }
    refresh_active::<T>(st, key);
    Ok(())
}

/// A writable event while connecting: the outcome is the socket's pending
/// error (`SO_ERROR`), as libuv. A socket registered only after
/// `connect(2)` reports writable only once the handshake is over; one
/// registered before it (adopted) may have an event from before it in the
/// batch, so without an error it is connected only if it has a peer (a
/// stray event while the handshake is still going is ignored).
pub(super) fn on_writable<T: StreamHandle>(lp: &Loop, key: Key) {
    let outcome = {
        let mut st = lp.state();
        let Ok(s) = stream_mut::<T>(&mut st, key) else {
            return;
        };
        let Some(sock) = s.socket.as_ref().filter(|_| s.connecting) else {
            return;
        };
        match sock.take_error() {
            Ok(Some(err)) => Err(Error::from(err)),
            Err(err) => Err(Error::from(err)),
            Ok(None) if !s.verify_connect => Ok(()),
            Ok(None) => match sock.peer_addr() {
                Ok(_) => Ok(()),
                Err(err) if err.raw_os_error() == Some(libc::ENOTCONN) => return,
                Err(err) => Err(Error::from(err)),
            },
        }
    };
    finish_connect::<T>(lp, key, outcome);
}

/// Reports a connect's outcome. After a failure the writes queued behind
/// it are cancelled (unless the callback closed the handle); after a
/// success they are written, and a stream already reading reads.
pub(crate) fn finish_connect<T: StreamHandle>(lp: &Loop, key: Key, outcome: Result<()>) {
    let cb = {
        let mut st = lp.state();
        let st = &mut *st;
        let Ok(s) = stream_mut::<T>(st, key) else {
            return;
        };
        s.connecting = false;
        s.connect_outcome = None;
        let Some(cb) = s.connect.take() else {
            return;
        };
        // Released before the callback, as libuv clears `connect_req`
        // first: a write the callback makes goes out at once if nothing
        // waits.
        s.writes.hold(false);
        st.active_reqs -= 1;
        st.sync_liveness();
        // A pipe stops asking for writable edges (a failed change only
        // costs wake-ups); TCP keeps its interest and makes no call.
        let _ = watch::<T>(st, key, false);
        refresh_active::<T>(st, key);
        cb
    };
    let h = T::from_key(lp, key);
    let ok = outcome.is_ok();
    cb(&h, traced(h.as_ref(), outcome));
    let waiting = {
        let mut st = lp.state();
        let st = &mut *st;
        let Ok(s) = stream_mut::<T>(st, key) else {
            return;
        };
        if !ok {
            s.writes.cancel_all();
        }
        let waiting = s.writes.has_waiting();
        let reading = s.reading;
        // The writes a failure cancelled, a shutdown now possible.
        sync_pending::<T>(st, key);
        // Data that came with the handshake raised its edge while only the
        // connect was looked at: re-arming makes epoll report it again if
        // it is there. Not a ready-list entry, whose read of an empty
        // socket would hand the program's buffer back empty (a read
        // callback with nothing, which libuv never makes here).
        let _ = watch::<T>(st, key, ok && reading);
        refresh_active::<T>(st, key);
        waiting && ok
    };
    if waiting {
        write::flush::<T>(lp, key);
    }
}
