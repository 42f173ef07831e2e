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
}

/// A function a loop calls with `(word, alive)` each time the answer of
/// [`Loop::alive`](crate::Loop::alive) changes
/// ([`Loop::set_liveness_hook`](crate::Loop::set_liveness_hook)).
pub type LivenessHook = fn(usize, bool);

/// The loop state's own [`Liveness`]: the loop sets it after every change
/// of what keeps it alive, and a dropped loop leaves it `false`. Changes
/// go to the hook too, if one is set.
#[derive(Debug, Default)]
pub(crate) struct Source {
    flag: Liveness,
    hook: Option<(LivenessHook, usize)>,
}

impl Source {
    #[inline]
    pub(crate) fn set(&self, alive: bool) {
        if self.flag.0.get() != alive {
            self.flag.0.set(alive);
            if let Some((hook, word)) = self.hook {
                hook(word, alive);
            }
        }
    }

    pub(crate) fn get(&self) -> bool {
        self.flag.is_alive()
    }

    /// A reader.
    pub(crate) fn reader(&self) -> Liveness {
        self.flag.clone()
    }

    pub(crate) fn set_hook(&mut self, hook: Option<(LivenessHook, usize)>) {
        self.hook = hook;
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        self.set(false);
    }
}
