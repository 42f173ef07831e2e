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

/// A function a loop calls with `(word, before, after)` each time one of
/// its two counts changes
/// ([`Loop::set_counts_hook`](crate::Loop::set_counts_hook)); `before` and
/// `after` are `(active_handles, active_requests)`: the handles that are
/// active and referenced, and the requests in flight (libuv's
/// `active_handles` and `active_reqs.count`). When the hook is set,
/// `before` is `(0, 0)`.
pub type CountsHook = fn(usize, (usize, usize), (usize, usize));

/// The loop state's own [`Liveness`]: the loop sets it after every change
/// of what keeps it alive, and a dropped loop leaves it `false`. Changes
/// go to the hook too, if one is set.
#[derive(Debug, Default)]
pub(crate) struct Source {
    flag: Liveness,
    hook: Option<(LivenessHook, usize)>,
    counts_hook: Option<(CountsHook, usize)>,
    /// The counts last given to `counts_hook` (kept only while one is set).
    published: (usize, usize),
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

    /// Tells the counts hook, if one is set and the counts changed since
    /// it was last told.
    #[inline]
    pub(crate) fn publish_counts(&mut self, handles: usize, requests: usize) {
        if let Some((hook, word)) = self.counts_hook {
            let before = self.published;
            if before != (handles, requests) {
                self.published = (handles, requests);
                hook(word, before, (handles, requests));
            }
        }
    }

    /// Whether the counts hook, if set, was told `(handles, requests)`
    /// last (what every change is followed by).
    pub(crate) fn counts_published(&self, handles: usize, requests: usize) -> bool {
        self.counts_hook.is_none() || self.published == (handles, requests)
    }

    /// Sets or clears the counts hook; a new one is told the counts at once.
    pub(crate) fn set_counts_hook(
        &mut self,
        hook: Option<(CountsHook, usize)>,
        handles: usize,
        requests: usize,
    ) {
        self.counts_hook = hook;
        if let Some((hook, word)) = hook {
            self.published = (handles, requests);
            hook(word, (0, 0), (handles, requests));
        }
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
