//! Where the loop's time comes from: the system's monotonic clock, or a
//! manual clock that only moves when a test (or a virtual sleep) moves it.

use crate::sys;

/// The loop's time source.
#[derive(Debug)]
pub(crate) enum Clock {
    /// `CLOCK_MONOTONIC`, as libuv's `uv_hrtime`.
    System,
    /// Test time in nanoseconds; moves only through [`Clock::advance`].
    Manual { now_ns: u64 },
}

impl Clock {
    /// Current reading in nanoseconds.
    pub(crate) fn hrtime(&self) -> u64 {
        match self {
            Clock::System => sys::hrtime_ns(),
            Clock::Manual { now_ns } => *now_ns,
        }
    }

    pub(crate) fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual { .. })
    }

    /// Moves a manual clock forward; returns false for the system clock.
    pub(crate) fn advance(&mut self, ns: u64) -> bool {
        match self {
            Clock::System => false,
            Clock::Manual { now_ns } => {
                *now_ns = now_ns.saturating_add(ns);
                true
            }
        }
    }

    /// Moves a manual clock to `ms` if that is later than now.
    pub(crate) fn jump_to_ms(&mut self, ms: u64) {
        if let Clock::Manual { now_ns } = self {
            *now_ns = (*now_ns).max(ms.saturating_mul(1_000_000));
        }
    }
}
