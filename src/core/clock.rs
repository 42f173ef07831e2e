//! Where the loop's time comes from: the system's monotonic clock, or a
//! manual clock that only moves when a test (or a virtual sleep) moves it.

use crate::sys;

const NS_PER_MS: u64 = 1_000_000;

/// The loop's time source.
#[derive(Debug)]
pub(crate) enum Clock {
    /// `CLOCK_MONOTONIC`, as libuv's `uv_hrtime`.
    System,
    /// Test time in nanoseconds; moves only through [`Clock::advance`] and
    /// [`Clock::jump_to_ms`]. Wider than `u64` so that it can reach the
    /// due time of any timer, `u64::MAX` ms included.
    Manual { now_ns: u128 },
}

impl Clock {
    /// Current reading in nanoseconds (saturating for a manual clock that
    /// went past `u64::MAX` ns).
    pub(crate) fn hrtime(&self) -> u64 {
        match self {
            Clock::System => sys::hrtime_ns(),
            Clock::Manual { now_ns } => u64::try_from(*now_ns).unwrap_or(u64::MAX),
        }
    }

    /// Current reading in milliseconds: the loop time.
    pub(crate) fn now_ms(&self) -> u64 {
        match self {
            Clock::System => sys::hrtime_ns() / NS_PER_MS,
            Clock::Manual { now_ns } => {
                u64::try_from(*now_ns / u128::from(NS_PER_MS)).unwrap_or(u64::MAX)
            }
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
                *now_ns = now_ns.saturating_add(u128::from(ns));
                true
            }
        }
    }

    /// Moves a manual clock to `ms` if that is later than now.
    pub(crate) fn jump_to_ms(&mut self, ms: u64) {
        if let Clock::Manual { now_ns } = self {
            *now_ns = (*now_ns).max(u128::from(ms) * u128::from(NS_PER_MS));
        }
    }
}
