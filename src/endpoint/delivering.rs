//! [`Delivering`]: the guard every transport holds while a protocol
//! method runs, so that callbacks it causes wait in the queue instead of
//! nesting.

use std::cell::Cell;

/// Sets a transport's `delivering` flag and resets it when the protocol
/// method returns or panics.
pub(crate) struct Delivering<'a>(&'a Cell<bool>);

impl<'a> Delivering<'a> {
    pub(crate) fn enter(flag: &'a Cell<bool>) -> Delivering<'a> {
        flag.set(true);
        Delivering(flag)
    }
}

impl Drop for Delivering<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}
