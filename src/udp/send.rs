//! Sending: immediate sends, the queue of sends waiting for the socket to
//! become writable, and the completions reported in the pending phase.

use super::{bind_if_needed, refresh_active, sync_write_interest, udp_mut, Udp};
use crate::adopt::family_of;
use crate::core::kinds::Kind;
use crate::core::state::{Key, LoopState};
use crate::error::{Error, Result, StatusCode};
use crate::handle::HandleType;
use crate::trace::traced;
use crate::{sys, Loop};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;

type SendCb = Box<dyn FnOnce(&SendRequest, Result<()>)>;

/// A send in flight (`uv_udp_send_t`; python-uv's `UDPSendRequest`).
///
/// Returned by [`Udp::send`] and handed to its callback.
#[derive(Clone)]
pub struct SendRequest {
    udp: Udp,
    id: u64,
}

impl fmt::Debug for SendRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendRequest").field("id", &self.id).finish()
    }
}

impl SendRequest {
    /// The handle the send was made on.
    pub fn handle(&self) -> &Udp {
        &self.udp
    }

    /// A number unique within the loop, in the order sends were made.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// A send waiting for the socket to become writable; its data was copied.
struct Queued {
    id: u64,
    data: Vec<u8>,
    addr: Option<SocketAddr>,
    cb: SendCb,
}

/// A send that is done and whose callback has not run yet.
struct Completed {
    id: u64,
    size: usize,
    status: Result<()>,
    cb: SendCb,
}

/// The send side of a UDP handle.
#[derive(Default)]
pub(super) struct SendState {
    queue: VecDeque<Queued>,
    completed: VecDeque<Completed>,
    /// Bytes of sends whose callback has not run (`send_queue_size`).
    size: usize,
    /// Sends whose callback has not run (`send_queue_count`).
    count: usize,
    /// The handle is on the loop's pending list.
    pub(super) in_pending: bool,
}

impl SendState {
    pub(super) fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    pub(super) fn in_flight(&self) -> usize {
        self.count
    }
}

/// Errors after which a send stays queued and is retried when writable.
pub(super) fn must_wait(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock || err.raw_os_error() == Some(libc::ENOBUFS)
}

/// Checks one datagram's buffers and destination in libuv's order: EINVAL
/// for no buffers, then the destination ([`check_destination`]), then
/// EMSGSIZE for more buffers than the kernel gathers ([`sys::IOV_MAX`]).
/// The count is refused here rather than by `sendmsg`, so that the answer
/// does not depend on whether the send goes out at once (where the kernel
/// would refuse it) or is queued (copied into one buffer, which the kernel
/// would take).
fn check_send(bufs: &[&[u8]], connected: bool, addr: Option<&SocketAddr>) -> Result<()> {
    check_arguments(bufs, connected, addr)?;
    if bufs.len() > sys::IOV_MAX {
        return Err(StatusCode::EMSGSIZE.into());
    }
    Ok(())
}

/// libuv's argument checks: EINVAL for no buffers, then the destination.
fn check_arguments(bufs: &[&[u8]], connected: bool, addr: Option<&SocketAddr>) -> Result<()> {
    if bufs.is_empty() {
        return Err(StatusCode::EINVAL.into());
    }
    check_destination(connected, addr)
}

/// libuv's checks before a send: an address exactly when not connected.
fn check_destination(connected: bool, addr: Option<&SocketAddr>) -> Result<()> {
    match (connected, addr) {
        (true, Some(_)) => Err(StatusCode::EISCONN.into()),
        (false, None) => Err(StatusCode::EDESTADDRREQ.into()),
        _ => Ok(()),
    }
}

/// Validates a send and binds the socket if needed; returns the descriptor.
pub(super) fn prepare_send(
    st: &mut LoopState,
    key: Key,
    bufs: &[&[u8]],
    addr: Option<&SocketAddr>,
) -> Result<std::os::fd::RawFd> {
    let u = udp_mut(st, key)?;
    check_send(bufs, u.connected, addr)?;
    let family = addr.map_or(super::AF_INET, family_of);
    bind_if_needed(st, key, family, super::UdpFlags::empty())
}

impl Udp {
    /// Sends `bufs`, gathered into one datagram, to `addr` — or to the
    /// connected peer with `None` (`uv_udp_send`). Binds to the wildcard
    /// address first if the handle has no socket.
    ///
    /// When nothing is queued the datagram goes out at once without being
    /// copied; otherwise (or when the socket would block) it is copied and
    /// queued until the socket is writable. `cb` always runs later from the
    /// loop, never from inside `send`: with `Ok(())`, or with the send's
    /// error status (EMSGSIZE for a datagram too large, ECANCELED when the
    /// handle is closed first).
    ///
    /// EINVAL for no buffers; EMSGSIZE for more than 1024 buffers (the
    /// kernel's `IOV_MAX`), whether or not the send would have to wait;
    /// EISCONN for an address on a connected handle; EDESTADDRREQ for no
    /// address on an unconnected one.
    pub fn send<B: AsRef<[u8]>>(
        &self,
        bufs: &[B],
        addr: Option<SocketAddr>,
        cb: impl FnOnce(&SendRequest, Result<()>) + 'static,
    ) -> Result<SendRequest> {
        with_slices(bufs, |slices| self.send_slices(slices, addr, cb))
    }

    fn send_slices(
        &self,
        bufs: &[&[u8]],
        addr: Option<SocketAddr>,
        cb: impl FnOnce(&SendRequest, Result<()>) + 'static,
    ) -> Result<SendRequest> {
        let key = self.key();
        // Held out here so that, on error, it is dropped after the borrow.
        let mut cb = Some(cb);
        let id = {
            let mut guard = self.get_loop().state();
            let st = &mut *guard;
            let id = st.next_req_id;
            let slot = st.live_mut(key)?;
            let was_active = slot.active;
            let Kind::Udp(u) = &mut slot.kind else {
                return Err(Error::ClosedHandle);
            };
            let Some(fd) = u.fd() else {
                // The first send of an unbound handle validates and binds,
                // then starts over (rare: kept off the common path, which
                // looks the slot up once).
                prepare_send(st, key, bufs, addr.as_ref())?;
                drop(guard);
                return match cb.take() {
                    Some(cb) => self.send_slices(bufs, addr, cb),
                    None => Err(StatusCode::EINVAL.into()),
                };
            };
            check_send(bufs, u.connected, addr.as_ref())?;
            let cb: SendCb = match cb.take() {
                Some(cb) => Box::new(cb),
                None => return Err(StatusCode::EINVAL.into()),
            };
            let size = bufs.iter().map(|b| b.len()).sum();
            u.send.size += size;
            u.send.count += 1;
            let sent = if u.send.queue.is_empty() {
                sys::send_msg(fd, bufs, addr.as_ref())
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
            let mut newly_pending = false;
            match sent {
                Err(err) if must_wait(&err) => u.send.queue.push_back(Queued {
                    id,
                    data: bufs.concat(),
                    addr,
                    cb,
                }),
                result => {
                    let status = result.map(drop).map_err(Error::from);
                    u.send.completed.push_back(Completed {
                        id,
                        size,
                        status,
                        cb,
                    });
                    newly_pending = !std::mem::replace(&mut u.send.in_pending, true);
                }
            }
            let interest_changes = u.send.has_queued() != u.write_interest;
            st.next_req_id += 1;
            st.active_reqs += 1;
            if newly_pending {
                st.push_pending(key, HandleType::Udp);
            }
            st.mark_alive();
            if interest_changes {
                sync_write_interest(st, key);
            }
            // A send in flight makes the handle active.
            if !was_active {
                refresh_active(st, key);
            }
            id
        };
        Ok(SendRequest {
            udp: self.clone(),
            id,
        })
    }

    /// Sends `bufs` as one datagram only if that can happen right now
    /// (`uv_udp_try_send`); returns the bytes sent.
    ///
    /// EAGAIN when sends are in flight or the socket would block; otherwise
    /// the same errors as [`Udp::send`], reported directly (e.g. EMSGSIZE).
    pub fn try_send<B: AsRef<[u8]>>(&self, bufs: &[B], addr: Option<SocketAddr>) -> Result<usize> {
        with_slices(bufs, |slices| self.try_send_slices(slices, addr))
    }

    fn try_send_slices(&self, bufs: &[&[u8]], addr: Option<SocketAddr>) -> Result<usize> {
        let key = self.key();
        self.get_loop().with_deferred(|st, _| {
            let u = udp_mut(st, key)?;
            if u.send.count != 0 {
                // As libuv: the argument checks, then the waiting sends; the
                // buffer count is the kernel's to refuse, which is not asked.
                check_arguments(bufs, u.connected, addr.as_ref())?;
                return Err(StatusCode::EAGAIN.into());
            }
            let fd = prepare_send(st, key, bufs, addr.as_ref())?;
            sys::send_msg(fd, bufs, addr.as_ref()).map_err(|err| {
                if must_wait(&err) {
                    StatusCode::EAGAIN.into()
                } else {
                    Error::from(err)
                }
            })
        })
    }

    /// Bytes of sends whose callback has not run yet
    /// (`uv_udp_get_send_queue_size`).
    pub fn send_queue_size(&self) -> Result<usize> {
        Ok(udp_mut(&mut self.get_loop().state(), self.key())?.send.size)
    }

    /// Sends whose callback has not run yet (`uv_udp_get_send_queue_count`).
    pub fn send_queue_count(&self) -> Result<usize> {
        Ok(udp_mut(&mut self.get_loop().state(), self.key())?
            .send
            .count)
    }
}

/// Most buffers of one send viewed as slices without a heap allocation.
const INLINE_BUFS: usize = 8;

/// Calls `f` with `bufs` as plain slices. The caller's `as_ref` runs here,
/// before the loop state is borrowed, so it may itself use the loop.
#[inline(always)]
fn with_slices<B: AsRef<[u8]>, R>(bufs: &[B], f: impl FnOnce(&[&[u8]]) -> R) -> R {
    if let [one] = bufs {
        // The common send: no array to fill.
        f(&[one.as_ref()])
    } else if bufs.len() <= INLINE_BUFS {
        let mut inline: [&[u8]; INLINE_BUFS] = [&[]; INLINE_BUFS];
        for (slot, buf) in inline.iter_mut().zip(bufs) {
            *slot = buf.as_ref();
        }
        f(&inline[..bufs.len()])
    } else {
        let slices: Vec<&[u8]> = bufs.iter().map(AsRef::as_ref).collect();
        f(&slices)
    }
}

/// Records a finished send; its callback runs in the next pending phase.
fn complete(st: &mut LoopState, key: Key, done: Completed) {
    let Ok(u) = udp_mut(st, key) else {
        return;
    };
    u.send.completed.push_back(done);
    if !u.send.in_pending {
        u.send.in_pending = true;
        // No liveness change: the send is still counted in `active_reqs`.
        st.push_pending(key, HandleType::Udp);
    }
}

/// The socket became writable: send queued datagrams until it would block.
pub(crate) fn flush_queue(lp: &Loop, key: Key) {
    let mut st = lp.state();
    let st = &mut *st;
    loop {
        let Ok(u) = udp_mut(st, key) else {
            return;
        };
        let Some(fd) = u.fd() else {
            return;
        };
        if u.send.queue.is_empty() {
            break;
        }
        // Up to a batch of queued datagrams in one sendmmsg call.
        let result = {
            let mut batch: [(&[u8], Option<&SocketAddr>); sys::BATCH] = [(&[], None); sys::BATCH];
            let count = u.send.queue.len().min(sys::BATCH);
            for (slot, q) in batch.iter_mut().zip(u.send.queue.iter()) {
                *slot = (&q.data, q.addr.as_ref());
            }
            sys::send_mmsg(fd, &batch[..count])
        };
        match result {
            Err(err) if must_wait(&err) => break,
            Ok(0) => break,
            // The kernel took the first `sent`, in order.
            Ok(sent) => {
                for _ in 0..sent {
                    finish_queued(st, key, Ok(()));
                }
            }
            // The first datagram failed (e.g. EMSGSIZE): report it, go on.
            Err(err) => finish_queued(st, key, Err(Error::from(err))),
        }
    }
    sync_write_interest(st, key);
}

/// Completes the send at the head of the queue with `status`.
fn finish_queued(st: &mut LoopState, key: Key, status: Result<()>) {
    let Some(q) = udp_mut(st, key).ok().and_then(|u| u.send.queue.pop_front()) else {
        return;
    };
    let done = Completed {
        id: q.id,
        size: q.data.len(),
        status,
        cb: q.cb,
    };
    complete(st, key, done);
}

/// The pending phase for one handle: runs the callbacks of the sends that
/// completed before this phase began (later ones wait for the next round).
pub(crate) fn run_completions(lp: &Loop, key: Key) {
    let mut udp = Udp::from_key(lp, key);
    // Set by the first round, which also takes the handle off the list.
    let mut count = usize::MAX;
    let mut reported = 0;
    while reported < count {
        let done = {
            let mut st = lp.state();
            let Ok(u) = udp_mut(&mut st, key) else {
                return;
            };
            if count == usize::MAX {
                u.send.in_pending = false;
                count = u.send.completed.len();
            }
            let Some(done) = u.send.completed.pop_front() else {
                return;
            };
            u.send.count -= 1;
            u.send.size -= done.size;
            // Only the last send in flight can make the handle inactive.
            let idle = u.send.count == 0 && !u.recv.is_receiving();
            st.active_reqs -= 1;
            st.sync_liveness();
            if idle {
                refresh_active(&mut st, key);
            }
            done
        };
        reported += 1;
        let req = SendRequest { udp, id: done.id };
        (done.cb)(&req, traced(&req.udp, done.status));
        udp = req.udp;
    }
}

/// After a panic in the pending phase: the handle's unreported completions
/// go back on the pending list.
pub(crate) fn requeue_completions(st: &mut LoopState, key: Key) {
    let Ok(u) = udp_mut(st, key) else {
        return;
    };
    if u.send.completed.is_empty() {
        return;
    }
    u.send.in_pending = true;
    if !st.is_pending(key) {
        // No liveness change: these sends are still counted in
        // `active_reqs`.
        st.push_pending(key, HandleType::Udp);
    }
}

/// The closing phase for a UDP handle: sends already made report their
/// status, sends still queued report ECANCELED, in the order they were made.
pub(crate) fn finish_close(lp: &Loop, key: Key, state: &mut super::UdpState) {
    let send = std::mem::take(&mut state.send);
    {
        let mut st = lp.state();
        st.active_reqs -= send.completed.len() + send.queue.len();
        st.sync_liveness();
    }
    let udp = Udp::from_key(lp, key);
    let done = send.completed.into_iter().map(|c| (c.id, c.status, c.cb));
    let cancelled = send
        .queue
        .into_iter()
        .map(|q| (q.id, Err(StatusCode::ECANCELED.into()), q.cb));
    for (id, status, cb) in done.chain(cancelled) {
        let req = SendRequest {
            udp: udp.clone(),
            id,
        };
        let status = traced(&req.udp, status);
        cb(&req, status);
    }
}
