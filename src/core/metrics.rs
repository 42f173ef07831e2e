//! Loop metrics, libuv's `uv_metrics_info` and `uv_metrics_idle_time`.
//!
//! The counters cost one addition per poll phase and are always kept, as in
//! libuv. The idle time (how long the poll phase waited in the kernel) needs
//! a clock read around the wait and an extra non-blocking look before it,
//! so it is measured only after [`Loop::measure_idle_time`]
//! (`uv_loop_configure(UV_METRICS_IDLE_TIME)`); until then the poll phase
//! only tests whether to.
//!
//! [`Loop::measure_idle_time`]: crate::Loop::measure_idle_time

use crate::sys::EventBuffer;
use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

/// A loop's counters (libuv's `uv_metrics_t`).
///
/// Non-exhaustive: libuv's `uv_metrics_t` keeps room for more counters,
/// and so does this.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Iterations that reached the poll phase.
    pub loop_count: u64,
    /// Events the poll phases handed on, as libuv counts what `epoll_wait`
    /// returns: one per handle served in a poll phase (a handle with a new
    /// readiness edge, or one still on the ready list, counted once if
    /// both), one per async wakeup. An event for a handle closed earlier
    /// in the same poll phase is not counted.
    pub events: u64,
    /// Of those, the ones already waiting when their poll phase began: the
    /// phase found them without blocking. Counted only while the idle
    /// time is measured (libuv finds them with the non-blocking look it
    /// takes first then).
    pub events_waiting: u64,
}

/// What the loop state keeps.
#[derive(Debug, Default)]
pub(crate) struct MetricsState {
    pub(crate) events: u64,
    pub(crate) events_waiting: u64,
    /// Nanoseconds waited in the kernel (on a manual clock: slept
    /// virtually); `None` until measuring starts.
    pub(crate) idle_ns: Option<u64>,
}

impl MetricsState {
    /// Whether the idle time is measured: the poll phase then waits with
    /// [`MetricsState::measured_wait`].
    #[inline]
    pub(crate) fn measures_idle_time(&self) -> bool {
        self.idle_ns.is_some()
    }

    /// Waits for events like [`EventBuffer::wait`], measuring the idle
    /// time: a look without blocking first, then, if it found nothing and
    /// `timeout_ms` allows, the timed wait. Returns whether the look was
    /// all: then what the poll phase hands on was already waiting.
    /// Out of line: the poll phase without metrics stays as it was.
    #[cold]
    #[inline(never)]
    pub(crate) fn measured_wait(
        &mut self,
        events: &mut EventBuffer,
        epfd: RawFd,
        timeout_ms: i32,
    ) -> io::Result<bool> {
        events.wait(epfd, 0)?;
        if !events.is_empty() || timeout_ms == 0 {
            return Ok(true);
        }
        let start = Instant::now();
        let waited = events.wait(epfd, timeout_ms);
        let elapsed = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let idle_ns = self.idle_ns.get_or_insert(0);
        *idle_ns = idle_ns.saturating_add(elapsed);
        waited.map(|()| false)
    }

    /// Adds a manual clock's virtual sleep to the idle time, if measured.
    pub(crate) fn add_virtual_sleep(&mut self, ns: u64) {
        if let Some(idle_ns) = self.idle_ns.as_mut() {
            *idle_ns = idle_ns.saturating_add(ns);
        }
    }
}
