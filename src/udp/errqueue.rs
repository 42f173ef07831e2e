//! Errors from the socket's error queue, as libuv 1.52 reads them.
//!
//! With [`UdpFlags::LINUX_RECVERR`](super::UdpFlags::LINUX_RECVERR) the
//! kernel reports each ICMP error twice: as the socket's pending error,
//! which the next plain read returns (a bare status code), and as an entry
//! of the error queue that says which datagram failed and who said so. The
//! kernel flags the socket in error (`EPOLLERR`) for both. On such an event
//! the handle reads as usual first — the plain read reports the pending
//! error — then drains the error queue, each entry going to the receive
//! callback as [`Error::Queued`](crate::Error::Queued), with the details
//! readable from [`Udp::queued_error`] meanwhile; the read that finds the
//! queue empty is a caller-buffer handle's "nothing more" callback, as in
//! libuv. The queue is read on every error event, flag or not: without the
//! flag it is empty and that one read finds so.
//!
//! A plain read that fails does not prove the socket empty (the kernel
//! reports a pending error before the datagrams queued behind it), and the
//! readiness edge is spent. So after an error the handle asks `poll(2)`
//! once whether anything is still waiting and reads again next iteration
//! only if so: no read that would only see EAGAIN, no lost datagram. These
//! extra calls happen on errors only, never per datagram.

use super::recv::{Live, READ_BUDGET};
use super::sink::{Outcome, Sink};
use super::{udp_mut, Udp};
use crate::core::run::IoEvent;
use crate::core::state::Key;
use crate::error::{Error, StatusCode};
use crate::sys::{self, QueuedEntry};
use crate::Loop;
use std::cell::Cell;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;

/// Where an error-queue entry came from (`ee_origin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorOrigin {
    /// The local stack (`SO_EE_ORIGIN_LOCAL`), e.g. `EMSGSIZE` against a
    /// known path MTU.
    Local,
    /// An ICMP message (`SO_EE_ORIGIN_ICMP`).
    Icmp,
    /// An ICMPv6 message (`SO_EE_ORIGIN_ICMP6`).
    Icmp6,
    /// Any other `SO_EE_ORIGIN_*` value.
    Other(u8),
}

impl ErrorOrigin {
    fn from_raw(origin: u8) -> ErrorOrigin {
        match origin {
            libc::SO_EE_ORIGIN_LOCAL => ErrorOrigin::Local,
            libc::SO_EE_ORIGIN_ICMP => ErrorOrigin::Icmp,
            libc::SO_EE_ORIGIN_ICMP6 => ErrorOrigin::Icmp6,
            other => ErrorOrigin::Other(other),
        }
    }
}

/// An error the kernel put on a UDP socket's error queue (handles bound
/// with [`UdpFlags::LINUX_RECVERR`](super::UdpFlags::LINUX_RECVERR)): what
/// [`Udp::queued_error`] says while the receive callback runs with
/// [`Error::Queued`]. libuv's `recv_cb` gets the code as `nread` and the
/// offender as `addr`, with `UV_UDP_LINUX_RECVERR` in `flags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QueuedError {
    /// The error, e.g. `ECONNREFUSED` for an ICMP port unreachable.
    pub code: StatusCode,
    /// What reported it.
    pub origin: ErrorOrigin,
    /// The ICMP type (ICMP origins; 0 otherwise), e.g. 3 (destination
    /// unreachable) or, for ICMPv6, 1.
    pub icmp_type: u8,
    /// The ICMP code (ICMP origins; 0 otherwise), e.g. 3 (port
    /// unreachable) or, for ICMPv6, 4.
    pub icmp_code: u8,
    /// The node that reported the error (`SO_EE_OFFENDER`, port 0), `None`
    /// when the kernel names none (local errors).
    pub offender: Option<SocketAddr>,
    /// Where the datagram that failed was going.
    pub destination: Option<SocketAddr>,
}

impl QueuedError {
    /// The error of an entry; `None` for an entry that carries no extended
    /// error (nothing to report).
    fn from_entry(entry: &QueuedEntry) -> Option<QueuedError> {
        let ext = entry.error?;
        Some(QueuedError {
            code: StatusCode::from_errno(ext.errno),
            origin: ErrorOrigin::from_raw(ext.origin),
            icmp_type: ext.icmp_type,
            icmp_code: ext.icmp_code,
            offender: ext.offender,
            destination: entry.destination,
        })
    }
}

/// The next error-queue entry that carries an error, `buf` holding what
/// the kernel kept of its datagram; entries without one are skipped.
/// `Ok(None)` when the queue is empty.
pub(super) fn next_queued(fd: RawFd, buf: &mut [u8]) -> std::io::Result<Option<QueuedError>> {
    loop {
        match sys::recv_errqueue(fd, buf) {
            Ok(entry) => {
                if let Some(err) = QueuedError::from_entry(&entry) {
                    return Ok(Some(err));
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
            Err(err) => return Err(err),
        }
    }
}

impl Udp {
    /// The error-queue entry the receive callback is being called with:
    /// inside a callback that got [`Error::Queued`], which datagram failed
    /// and who reported it; `None` anywhere else.
    ///
    /// ```
    /// use ruv::{Error, Loop, RunMode, Udp, UdpFlags};
    /// let lp = Loop::new()?;
    /// let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    /// let udp = Udp::new(&lp);
    /// udp.bind("127.0.0.1:0".parse().unwrap(), UdpFlags::LINUX_RECVERR)?;
    /// udp.receive_start(move |udp, result| {
    ///     if let Err(Error::Queued(code)) = result {
    ///         let details = udp.queued_error().unwrap();
    ///         assert_eq!(code, ruv::StatusCode::ECONNREFUSED);
    ///         assert_eq!(details.destination, Some(dead));
    ///         udp.close(|| {});
    ///     }
    /// })?;
    /// udp.try_send(&[b"anyone?"], Some(dead))?;
    /// # let dog = ruv::Timer::new(&lp);
    /// # dog.unref();
    /// # dog.start(10_000, 0, |_| panic!("no ICMP error within 10 s"))?;
    /// lp.run(RunMode::Default)?;
    /// # dog.close(|| {});
    /// # lp.run(RunMode::NoWait)?;
    /// # Ok::<(), ruv::Error>(())
    /// ```
    pub fn queued_error(&self) -> Option<QueuedError> {
        let mut st = self.get_loop().state();
        udp_mut(&mut st, self.key()).ok()?.recv.delivering
    }
}

/// Calls `deliver` with the entry's [`Error::Queued`] while
/// [`Udp::queued_error`] reports the entry (cleared afterwards, even if the
/// callback panics).
pub(super) fn deliver_queued<R>(
    udp: &Udp,
    entry: QueuedError,
    deliver: impl FnOnce(Error) -> R,
) -> R {
    /// Clears the entry when the callback returns or unwinds.
    struct Clear<'a>(&'a Udp);
    impl Drop for Clear<'_> {
        fn drop(&mut self) {
            set_delivering(self.0, None);
        }
    }
    set_delivering(udp, Some(entry));
    let _clear = Clear(udp);
    deliver(Error::Queued(entry.code))
}

fn set_delivering(udp: &Udp, entry: Option<QueuedError>) {
    if let Ok(u) = udp_mut(&mut udp.get_loop().state(), udp.key()) {
        u.recv.delivering = entry;
    }
}

/// After a dispatch that saw an error: drain the error queue if the socket
/// was flagged in error, then read again next iteration if anything is
/// still waiting.
pub(super) fn after_error(lp: &Loop, key: Key) {
    let pending = {
        let mut st = lp.state();
        match udp_mut(&mut st, key) {
            Ok(u) if u.recv.is_receiving() => u.recv.errqueue_pending,
            _ => return,
        }
    };
    let mut again = false;
    if pending {
        again = drain(lp, key);
    }
    let mut st = lp.state();
    let Ok(u) = udp_mut(&mut st, key) else {
        return;
    };
    if !u.recv.is_receiving() {
        return;
    }
    let Some(fd) = u.fd() else {
        return;
    };
    if !again {
        // The edge that told of the error is spent: ask once whether a
        // datagram or another error is waiting.
        if let Ok(r) = sys::poll_now(fd, true, false) {
            u.recv.errqueue_pending |= r.error;
            again = r.readable || r.error;
        }
    }
    if again && !st.is_ready(key) {
        st.push_ready(IoEvent::readable(key));
    }
}

/// Delivers error-queue entries until the queue is empty, the budget is
/// spent or a callback stops receiving; returns whether to come back next
/// iteration.
fn drain(lp: &Loop, key: Key) -> bool {
    let Some(QueueSession {
        mut sink,
        fd,
        epoch_cell,
        epoch,
    }) = take_session(lp, key)
    else {
        return false;
    };
    let udp = Udp::from_key(lp, key);
    let live = Live::new(&epoch_cell, epoch, fd);
    let mut outcome = Outcome::Delivered;
    for _ in 0..READ_BUDGET {
        if live.get().is_none() {
            break;
        }
        outcome = sink.read_queued(&udp, &live);
        if !matches!(outcome, Outcome::Delivered) {
            break;
        }
    }
    let mut unused = Some(sink);
    let again = {
        let mut st = lp.state();
        match udp_mut(&mut st, key) {
            Ok(u) => {
                let same = u.recv.epoch_value() == epoch;
                // Put the sink back unless a callback stopped receiving or
                // restarted it with a new sink; turning offload on moves
                // the epoch but keeps this sink.
                if u.recv.is_receiving() && !u.recv.has_sink() {
                    u.recv.put_sink(unused.take());
                }
                let drained = matches!(outcome, Outcome::Drained);
                if same && drained {
                    u.recv.errqueue_pending = false;
                }
                same && u.recv.is_receiving() && !drained
            }
            Err(_) => false,
        }
    };
    // Dropped outside the borrow: a callback's captures may use the loop.
    drop(unused);
    again
}

/// What an error-queue session takes out of the loop state.
struct QueueSession {
    sink: Box<dyn Sink>,
    fd: RawFd,
    epoch_cell: Rc<Cell<u64>>,
    epoch: u64,
}

/// Takes the sink of a receiving handle for an error-queue session.
fn take_session(lp: &Loop, key: Key) -> Option<QueueSession> {
    let mut st = lp.state();
    let u = udp_mut(&mut st, key).ok()?;
    if !u.recv.is_receiving() {
        return None;
    }
    let fd = u.fd()?;
    let sink = u.recv.take_sink()?;
    let epoch_cell = u.recv.epoch_cell();
    let epoch = epoch_cell.get();
    Some(QueueSession {
        sink,
        fd,
        epoch_cell,
        epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::ExtendedError;

    #[test]
    fn origins_keep_unknown_values() {
        assert_eq!(ErrorOrigin::from_raw(1), ErrorOrigin::Local);
        assert_eq!(ErrorOrigin::from_raw(2), ErrorOrigin::Icmp);
        assert_eq!(ErrorOrigin::from_raw(3), ErrorOrigin::Icmp6);
        assert_eq!(ErrorOrigin::from_raw(4), ErrorOrigin::Other(4));
    }

    #[test]
    fn an_entry_without_an_extended_error_reports_nothing() {
        let entry = QueuedEntry {
            len: 0,
            error: None,
            destination: None,
        };
        assert_eq!(QueuedError::from_entry(&entry), None);
        let with = QueuedEntry {
            error: Some(ExtendedError {
                errno: libc::EHOSTUNREACH,
                origin: libc::SO_EE_ORIGIN_ICMP,
                icmp_type: 3,
                icmp_code: 1,
                offender: None,
            }),
            ..entry
        };
        let err = QueuedError::from_entry(&with).unwrap();
        assert_eq!(err.code, StatusCode::EHOSTUNREACH);
        assert_eq!(
            (err.origin, err.icmp_type, err.icmp_code),
            (ErrorOrigin::Icmp, 3, 1)
        );
    }
}
