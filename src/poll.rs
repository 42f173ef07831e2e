//! [`Poll`]: watch a descriptor the application owns for readiness
//! (libuv's `uv_poll_t`).

use crate::core::kinds::Kind;
use crate::core::state::{Deferred, Key, LoopState};
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle};
use crate::trace::traced;
use crate::{stream, sys, HandleType, Loop};
use bitflags::bitflags;
use mio::unix::SourceFd;
use mio::Interest;
use std::os::fd::{AsRawFd, RawFd};

bitflags! {
    /// Readiness a [`Poll`] handle watches for and reports (`uv_poll_event`,
    /// libuv's values).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct PollEvents: u32 {
        /// `UV_READABLE`.
        const READABLE = 1;
        /// `UV_WRITABLE`.
        const WRITABLE = 2;
        /// `UV_DISCONNECT`: the peer hung up.
        const DISCONNECT = 4;
        /// `UV_PRIORITIZED`: urgent data.
        const PRIORITIZED = 8;
    }
}

type PollCb = Box<dyn FnMut(&Poll, Result<PollEvents>)>;

/// Per-handle state in the loop's slab.
pub(crate) struct PollState {
    pub fd: RawFd,
    events: PollEvents,
    cb: Option<PollCb>,
    /// Bumped by every start, so a callback can tell it was restarted.
    epoch: u64,
    /// The descriptor is in the loop's epoll set for this handle: from a
    /// successful start until stop, close, or a reported failure. It holds
    /// what the descriptor referred to then ([`sys::fd_identity`]): if the
    /// application closed it meanwhile, the kernel dropped it from the set,
    /// and its number may now name another handle's socket, whose
    /// registration a stop or restart must not remove or take over.
    registered: Option<FdIdentity>,
}

/// `st_dev` and `st_ino` of a watched descriptor.
type FdIdentity = (u64, u64);

/// A poll handle (`uv_poll_t`): reports when a descriptor owned by the
/// application becomes readable or writable.
///
/// Reports are level-triggered as in libuv: while the descriptor stays
/// ready the callback runs again every iteration. The handle never reads,
/// writes or closes the descriptor; stop or close the handle before closing
/// the descriptor.
///
/// Several poll handles may be created for one descriptor, but only one
/// of them can watch it at a time (as in libuv): the descriptor joins the
/// loop's epoll set when a handle starts and leaves it when the handle
/// stops, so starting another handle on it meanwhile is EEXIST.
///
/// ```
/// use ruv::{Loop, Poll, PollEvents, RunMode};
/// use std::os::fd::AsRawFd;
/// let lp = Loop::new()?;
/// let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
/// let poll = Poll::new(&lp, sock.as_raw_fd())?;
/// poll.start(PollEvents::WRITABLE, |p, events| {
///     assert_eq!(events.unwrap(), PollEvents::WRITABLE);
///     p.close(|| {});
/// })?;
/// lp.run(RunMode::Default)?;
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Poll {
    handle: Handle,
}

typed_handle!(Poll);

/// The watched descriptor (the application's), or `-1` once the handle is
/// closing or closed. Not `AsFd`: the application owns the descriptor, the
/// handle only knows its number.
impl AsRawFd for Poll {
    fn as_raw_fd(&self) -> RawFd {
        self.handle.as_raw_fd()
    }
}

impl Poll {
    /// Creates a stopped poll handle for `fd` (`uv_poll_init`). Other
    /// stopped handles for the same descriptor do not matter.
    ///
    /// EEXIST if the descriptor is being watched by this loop right now (by
    /// a started poll handle, a UDP handle's socket, or the socket of a TCP
    /// or pipe handle that reads, listens, connects or has writes waiting).
    /// An idle stream's socket is taken out of the loop's epoll set for the
    /// poll handle, as libuv watches it only while the stream needs events;
    /// the stream gets no events while the poll handle watches it. EPERM for
    /// descriptors epoll cannot watch (regular files); EBADF for a closed
    /// one.
    pub fn new(lp: &Loop, fd: RawFd) -> Result<Poll> {
        let kind = Kind::Poll(Box::new(PollState {
            fd,
            events: PollEvents::empty(),
            cb: None,
            epoch: 0,
            registered: None,
        }));
        let handle = Handle::insert(lp, HandleType::Poll, kind);
        // As libuv's `uv__io_check_fd`: whether epoll can watch the
        // descriptor, found by adding and removing it; the handle
        // registers it for real when it starts.
        let probed = {
            let mut st = lp.state();
            let token = handle.key().token();
            let probe = |st: &LoopState| {
                let registry = st.poll.registry();
                registry
                    .register(&mut SourceFd(&fd), token, Interest::READABLE)
                    .and_then(|()| registry.deregister(&mut SourceFd(&fd)))
            };
            match probe(&st) {
                Err(e)
                    if e.raw_os_error() == Some(libc::EEXIST)
                        && stream::release_idle_stream(&mut st, fd) =>
                {
                    probe(&st)
                }
                other => other,
            }
        };
        if let Err(err) = probed {
            lp.state().remove(handle.key());
            return Err(err.into());
        }
        Ok(Poll { handle })
    }

    /// Starts (or changes) watching for `events`; `cb` gets the events that
    /// are ready, or an error status (EBADF when the descriptor failed).
    /// Starting with no events is the same as [`Poll::stop`].
    ///
    /// EEXIST, and the handle stays as it was, while another handle of the
    /// loop watches the descriptor. A started handle whose descriptor was
    /// closed behind it (its number maybe reused) registers anew: EBADF or
    /// EEXIST then leave it stopped.
    pub fn start(
        &self,
        events: PollEvents,
        cb: impl FnMut(&Poll, Result<PollEvents>) + 'static,
    ) -> Result<()> {
        let key = self.key();
        // Held out here so that, on error, it is dropped after the borrow.
        let mut cb = Some(cb);
        self.get_loop().with_deferred(|st, deferred| {
            if events.is_empty() {
                disarm(st, key)?;
            } else {
                // (Re-)registering makes epoll report the descriptor at once
                // if it is ready already: level-triggered, not only edges.
                arm(st, key, events, Recheck::Yes)?;
            }
            let p = poll_mut(st, key)?;
            p.events = events;
            let new: Option<PollCb> = cb.take().map(|cb| Box::new(cb) as PollCb);
            if let Some(old) = std::mem::replace(&mut p.cb, new) {
                deferred.push(old);
            }
            p.epoch += 1;
            st.set_active(key, !events.is_empty());
            Ok(())
        })
    }

    /// Stops watching (`uv_poll_stop`), letting another handle watch the
    /// descriptor; stopping a closed handle does nothing.
    pub fn stop(&self) -> Result<()> {
        let key = self.key();
        self.get_loop().with_deferred(|st, deferred| {
            if let Ok(p) = poll_mut(st, key) {
                if let Some(cb) = p.cb.take() {
                    deferred.push(cb);
                }
                let _ = disarm(st, key);
            }
        });
        Ok(())
    }
}

/// Whether [`arm`] checks that a registered descriptor still refers to the
/// file it was registered for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Recheck {
    /// From `start`: one `fstat`, so that a descriptor the application
    /// closed (and whose number may now be another handle's) is registered
    /// anew (EEXIST, EBADF) instead of modifying whatever has the number.
    Yes,
    /// The per-event re-arm after a callback: no extra system call.
    No,
}

/// Puts the descriptor in the loop's epoll set for `events` (EEXIST if
/// another handle has it there), or updates the handle's registration.
/// epoll reports a (re-)registered descriptor again if it is ready now,
/// which is how reports stay level-triggered on top of mio's edges. mio
/// needs a non-empty interest, so readability is always in it.
fn arm(st: &mut LoopState, key: Key, events: PollEvents, recheck: Recheck) -> Result<()> {
    let p = poll_mut(st, key)?;
    let fd = p.fd;
    let registered = match p.registered {
        Some(id) if recheck == Recheck::Yes && sys::fd_identity(fd) != Some(id) => {
            // Closed behind the handle: the kernel forgot the registration,
            // so the handle watches nothing; it is stopped unless the
            // registration below succeeds.
            p.registered = None;
            p.events = PollEvents::empty();
            st.set_active(key, false);
            false
        }
        other => other.is_some(),
    };
    let mut interest = Interest::READABLE;
    if events.contains(PollEvents::WRITABLE) {
        interest = interest.add(Interest::WRITABLE);
    }
    if events.contains(PollEvents::PRIORITIZED) {
        interest = interest.add(Interest::PRIORITY);
    }
    let registry = st.poll.registry();
    if registered {
        registry.reregister(&mut SourceFd(&fd), key.token(), interest)?;
    } else {
        registry.register(&mut SourceFd(&fd), key.token(), interest)?;
        // Registered, so the descriptor is open: fstat answers.
        poll_mut(st, key)?.registered = sys::fd_identity(fd);
    }
    Ok(())
}

/// Stops the handle: no events, inactive, the descriptor out of the epoll
/// set. The application may have closed the descriptor already, which
/// removed it from epoll; nothing is left to undo then, and the number is
/// left alone: it may be another handle's descriptor by now.
fn disarm(st: &mut LoopState, key: Key) -> Result<()> {
    let p = poll_mut(st, key)?;
    p.events = PollEvents::empty();
    let fd = p.fd;
    if let Some(id) = p.registered.take() {
        if sys::fd_identity(fd) == Some(id) {
            let _ = st.poll.registry().deregister(&mut SourceFd(&fd));
        }
    }
    st.set_active(key, false);
    Ok(())
}

fn poll_mut(st: &mut LoopState, key: Key) -> Result<&mut PollState> {
    match &mut st.live_mut(key)?.kind {
        Kind::Poll(p) => Ok(p),
        _ => Err(Error::ClosedHandle),
    }
}

/// Part of `close`: stop watching the descriptor.
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    if let Ok(p) = poll_mut(st, key) {
        if let Some(cb) = p.cb.take() {
            deferred.push(cb);
        }
        let _ = disarm(st, key);
    }
    st.set_active(key, false);
}

/// Reports the descriptor's current readiness to the callback, then re-arms
/// the registration so that a descriptor still ready is reported again in
/// the next poll phase (level-triggered, as libuv).
pub(crate) fn dispatch(lp: &Loop, key: Key) {
    let (fd, events, epoch) = {
        let mut st = lp.state();
        let Ok(p) = poll_mut(&mut st, key) else {
            return;
        };
        if p.events.is_empty() {
            return;
        }
        (p.fd, p.events, p.epoch)
    };
    let report = match sys::poll_now(
        fd,
        events.contains(PollEvents::READABLE),
        events.contains(PollEvents::WRITABLE),
    ) {
        // As libuv: an error condition without urgent data is EBADF.
        Ok(r) if r.invalid || (r.error && !r.priority) => Err(Error::Status(StatusCode::EBADF)),
        Ok(r) => {
            let mut ready = PollEvents::empty();
            ready.set(PollEvents::READABLE, r.readable);
            ready.set(PollEvents::WRITABLE, r.writable);
            ready.set(PollEvents::PRIORITIZED, r.priority);
            ready.set(PollEvents::DISCONNECT, r.hangup);
            let mut ready = ready & events;
            // As libuv (src/unix/linux.c): a hung-up descriptor with none
            // of the watched events ready reports the watched ones, so a
            // handle watching only PRIORITIZED still learns of it.
            if ready.is_empty() && r.closed {
                ready = events & !PollEvents::DISCONNECT;
            }
            if ready.is_empty() {
                return;
            }
            Ok(ready)
        }
        Err(err) => Err(err.into()),
    };
    let cb = {
        let mut st = lp.state();
        if report.is_err() {
            // libuv stops a poll handle whose descriptor failed.
            let _ = disarm(&mut st, key);
        }
        let Ok(p) = poll_mut(&mut st, key) else {
            return;
        };
        p.cb.take()
    };
    let Some(mut cb) = cb else {
        // Its callback was lost to a panic: stop watching.
        let _ = disarm(&mut lp.state(), key);
        return;
    };
    let poll = Poll {
        handle: Handle::from_parts(lp.clone(), key, HandleType::Poll),
    };
    let report = traced(&poll, report);
    cb(&poll, report);
    let mut st = lp.state();
    if let Ok(p) = poll_mut(&mut st, key) {
        if p.cb.is_none() && p.epoch == epoch {
            p.cb = Some(cb);
            let events = p.events;
            if !events.is_empty() {
                // A failure here means the descriptor went away; the next
                // start reports it.
                let _ = arm(&mut st, key, events, Recheck::No);
            }
            return;
        }
    }
    drop(st);
    drop(cb);
}
