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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Iterations that reached the poll phase.
    pub loop_count: u64,
    /// Readiness events the poll phases handed on: one per handle found
    /// ready, one per async wakeup.
    pub events: u64,
    /// Of those, the ones already waiting when a poll phase began. Counted
    /// only while the idle time is measured (libuv finds them with the
    /// non-blocking look it takes first then).
    pub events_waiting: u64,
}

/// What the loop state keeps.
#[derive(Debug, Default)]
pub(crate) struct MetricsState {
    pub(crate) events: u64,
    pub(crate) events_waiting: u64,
    /// Nanoseconds waited in the kernel; `None` until measuring starts.
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
    /// time: a look without blocking first (what it finds was waiting),
    /// then, if it found nothing and `timeout_ms` allows, the timed wait.
    /// Out of line: the poll phase without metrics stays as it was.
    #[cold]
    #[inline(never)]
    pub(crate) fn measured_wait(
        &mut self,
        events: &mut EventBuffer,
        epfd: RawFd,
        timeout_ms: i32,
    ) -> io::Result<()> {
        events.wait(epfd, 0)?;
        if !events.is_empty() {
            self.events_waiting += events.len() as u64;
            return Ok(());
        }
        if timeout_ms == 0 {
            return Ok(());
        }
        let start = Instant::now();
        let waited = events.wait(epfd, timeout_ms);
        let elapsed = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let idle_ns = self.idle_ns.get_or_insert(0);
        *idle_ns = idle_ns.saturating_add(elapsed);
        waited
    }
}
