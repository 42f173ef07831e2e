//! The poll phase's wait: `epoll_wait(2)` on the epoll instance mio
//! registers descriptors with, into a buffer the loop reuses.
//!
//! mio's own `Poll::poll` costs about 90 user instructions per call on top
//! of glibc's wrapper (its timeout conversion and event-buffer handling);
//! the loop calls this once per iteration, so it calls the system directly.
//! Registration stays with mio: the event data word is mio's token.

use std::io;
use std::os::fd::RawFd;

/// One readiness report, decoded the way mio decodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ready {
    /// The token the descriptor was registered with.
    pub token: usize,
    /// Readable, peer-closed or in error: a read will not block.
    pub readable: bool,
    /// Writable or in error: a write will not block.
    pub writable: bool,
    /// In error (`EPOLLERR`): a pending socket error or a non-empty error
    /// queue.
    pub error: bool,
    /// The peer closed (`EPOLLRDHUP` with `EPOLLIN`, or `EPOLLHUP`): a
    /// stream must read on to the end, as no later edge will announce it.
    pub closed: bool,
}

/// A reusable buffer of kernel event records.
pub(crate) struct EventBuffer {
    events: Vec<libc::epoll_event>,
    len: usize,
}

impl EventBuffer {
    /// Room for `capacity` events per wait.
    pub(crate) fn with_capacity(capacity: usize) -> EventBuffer {
        EventBuffer {
            events: vec![libc::epoll_event { events: 0, u64: 0 }; capacity.max(1)],
            len: 0,
        }
    }

    /// Waits up to `timeout_ms` (-1: no limit, 0: do not block) for events
    /// on the epoll instance `epfd`; they replace the previous ones. EINTR
    /// leaves the buffer empty and is not an error.
    pub(crate) fn wait(&mut self, epfd: RawFd, timeout_ms: i32) -> io::Result<()> {
        self.len = 0;
        let capacity = self.events.len().min(i32::MAX as usize) as i32;
        // SAFETY: `events` holds `capacity` writable records, and the kernel
        // writes at most that many.
        let n = unsafe { libc::epoll_wait(epfd, self.events.as_mut_ptr(), capacity, timeout_ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return match err.kind() {
                io::ErrorKind::Interrupted => Ok(()),
                _ => Err(err),
            };
        }
        self.len = n as usize;
        Ok(())
    }

    /// Whether the last wait returned no events.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The events of the last wait.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Ready> + '_ {
        self.events[..self.len].iter().map(|ev| {
            let bits = ev.events as libc::c_int;
            let error = bits & libc::EPOLLERR != 0;
            let closed = bits & libc::EPOLLHUP != 0
                || (bits & libc::EPOLLIN != 0 && bits & libc::EPOLLRDHUP != 0);
            Ready {
                token: ev.u64 as usize,
                readable: bits & (libc::EPOLLIN | libc::EPOLLPRI) != 0 || closed || error,
                writable: bits & libc::EPOLLOUT != 0 || error,
                error,
                closed,
            }
        })
    }
}
