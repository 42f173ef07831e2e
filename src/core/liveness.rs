//! [`Liveness`]: whether a loop is alive, readable without borrowing it.

use std::cell::Cell;
use std::rc::Rc;

/// Whether a loop is alive ([`Loop::alive`](crate::Loop::alive)), kept up to
/// date by the loop itself and readable without touching the loop state:
/// one load, for code that asks very often (uv-compat's `uv_loop_alive`,
/// which libuv's `loop_alive` benchmark calls 200 M times in a row).
///
/// Clones share the value; it stays readable (and then `false`) after the
/// loop is gone.
#[derive(Clone, Debug, Default)]
pub struct Liveness(Rc<Cell<bool>>);

impl Liveness {
    /// Whether the loop is alive, as [`Loop::alive`](crate::Loop::alive)
    /// would say now.
    #[inline]
    pub fn is_alive(&self) -> bool {
        self.0.get()
    }

    /// Where the value lives, for code that reads it through a raw pointer
    /// (C): valid while any clone of this `Liveness` exists.
    pub fn as_ptr(&self) -> *const bool {
        self.0.as_ptr()
    }

    pub(crate) fn set(&self, alive: bool) {
        self.0.set(alive);
    }
}

/// The loop state's own [`Liveness`]: the loop sets it after every change
/// of what keeps it alive, and a dropped loop leaves it `false`.
#[derive(Debug, Default)]
pub(crate) struct Source(Liveness);

impl Source {
    pub(crate) fn set(&self, alive: bool) {
        self.0.set(alive);
    }

    pub(crate) fn get(&self) -> bool {
        self.0.is_alive()
    }

    /// A reader.
    pub(crate) fn reader(&self) -> Liveness {
        self.0.clone()
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        self.0.set(false);
    }
}
