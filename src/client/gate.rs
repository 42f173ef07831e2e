//! A lock whose acquisition can time out, and poison-free locking.
//!
//! `std::sync::Mutex` cannot wait with a deadline, but a receive with a
//! timeout must count the time spent waiting for another receiver (as
//! easynetwork does): a zero timeout must not block behind a receive that
//! waits forever. A [`Gate`] is a flag under a mutex plus a condition
//! variable; waiting is `Condvar::wait_timeout`, never a spin.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Locks `mutex`, recovering from poisoning.
///
/// The clients' mutexes guard values that a panic cannot leave half-updated
/// (a flag, an `Option` swapped in one step, a buffer that is overwritten
/// before every use), so a panic in another thread (e.g. in a protocol's
/// `deserialize`) does not make the client unusable.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A mutual-exclusion gate whose entry can time out.
#[derive(Debug, Default)]
pub(super) struct Gate {
    busy: Mutex<bool>,
    freed: Condvar,
}

/// Proof of being inside the gate; leaving happens on drop.
#[derive(Debug)]
pub(super) struct GateGuard<'a> {
    gate: &'a Gate,
}

impl Gate {
    /// Enters the gate, waiting until `deadline` at most (forever with
    /// `None`). `None` when the deadline passed first.
    pub(super) fn enter(&self, deadline: Option<Instant>) -> Option<GateGuard<'_>> {
        let mut busy = lock(&self.busy);
        while *busy {
            busy = match deadline {
                None => self
                    .freed
                    .wait(busy)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    if left.is_zero() {
                        return None;
                    }
                    self.freed
                        .wait_timeout(busy, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        *busy = true;
        Some(GateGuard { gate: self })
    }
}

impl Drop for GateGuard<'_> {
    fn drop(&mut self) {
        *lock(&self.gate.busy) = false;
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn zero_deadline_does_not_wait_for_a_holder() {
        let gate = Gate::default();
        let held = gate.enter(None).unwrap();
        assert!(gate.enter(Some(Instant::now())).is_none());
        assert!(gate
            .enter(Some(Instant::now() + Duration::from_millis(10)))
            .is_none());
        drop(held);
        assert!(gate.enter(Some(Instant::now())).is_some());
    }

    #[test]
    fn waiter_enters_when_freed() {
        let gate = std::sync::Arc::new(Gate::default());
        let held = gate.enter(None).unwrap();
        let g = gate.clone();
        let t = std::thread::spawn(move || g.enter(None).is_some());
        std::thread::sleep(Duration::from_millis(20));
        drop(held);
        assert!(t.join().unwrap());
    }
}
