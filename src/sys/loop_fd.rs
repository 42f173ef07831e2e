//! `AsFd` for [`Loop`](crate::Loop): its epoll descriptor, so another event
//! loop can watch it (a readable epoll descriptor means the loop has events
//! to run) without `unsafe` of its own.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

impl AsFd for crate::Loop {
    fn as_fd(&self) -> BorrowedFd<'_> {
        let fd = self.backend_fd();
        // SAFETY: the descriptor belongs to the `mio::Poll` inside the
        // loop's state, which is created with the state, never replaced
        // (`Loop::close` keeps it) and dropped only with the state. `self`
        // holds an `Rc` of that state, so the descriptor stays open for at
        // least as long as `self` is borrowed.
        unsafe { BorrowedFd::borrow_raw(fd) }
    }
}

impl AsRawFd for crate::Loop {
    /// The same descriptor as [`Loop::backend_fd`](crate::Loop::backend_fd).
    fn as_raw_fd(&self) -> RawFd {
        self.backend_fd()
    }
}
