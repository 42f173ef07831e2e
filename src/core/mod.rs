//! The event loop: [`Loop`], its run modes and its clock.

mod clock;
mod dump;
pub(crate) mod kinds;
mod liveness;
mod metrics;
pub(crate) mod run;
pub(crate) mod state;
pub(crate) mod timer_heap;

use crate::error::{Error, Result, StatusCode};
use crate::handle::Handle;
use clock::Clock;
pub use dump::{HandleDump, HandleInfo};
pub use liveness::{CountsHook, Liveness, LivenessHook};
pub use metrics::Metrics;
pub use state::CloseHook;
use state::{Deferred, LoopState};
use std::cell::{RefCell, RefMut};
use std::fmt;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

/// How [`Loop::run`] runs (libuv's `uv_run_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunMode {
    /// Run until nothing keeps the loop alive or [`Loop::stop`] is called.
    Default,
    /// Run one iteration, blocking in the poll phase if there is nothing to do.
    Once,
    /// Run one iteration without blocking.
    NoWait,
}

/// A single-threaded event loop that owns its handles.
///
/// `Loop` is a cheap handle to shared state: clones refer to the same loop.
/// It is neither `Send` nor `Sync`; use [`Async`](crate::Async) to wake it
/// from another thread.
///
/// ```
/// use ruv::{Loop, RunMode, Timer};
/// use std::{cell::Cell, rc::Rc};
///
/// let lp = Loop::new()?;
/// let fired = Rc::new(Cell::new(0));
/// let timer = Timer::new(&lp);
/// let f = fired.clone();
/// timer.start(1, 0, move |t| {
///     f.set(f.get() + 1);
///     t.close(|| {});
/// })?;
/// assert!(!lp.run(RunMode::Default)?);
/// assert_eq!(fired.get(), 1);
/// lp.close()?;
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Loop {
    state: Rc<RefCell<LoopState>>,
}

impl fmt::Debug for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state.try_borrow() {
            Ok(st) => f
                .debug_struct("Loop")
                .field("handles", &st.handle_count())
                .field("now_ms", &st.now_ms)
                .field("manual_clock", &st.clock.is_manual())
                .finish(),
            Err(_) => f.write_str("Loop { <running a phase> }"),
        }
    }
}

thread_local! {
    static DEFAULT_LOOP: RefCell<Option<Loop>> = const { RefCell::new(None) };
}

impl Loop {
    /// Creates a loop on the system's monotonic clock (`uv_loop_init`).
    pub fn new() -> Result<Loop> {
        Self::with_clock(Clock::System)
    }

    /// Creates a loop whose time moves only when it is told to: by
    /// [`Loop::advance`], or when the loop would otherwise sleep until the
    /// next timer — then it jumps straight to that timer's due time instead
    /// of sleeping. Timer tests on it are deterministic and take no wall time.
    /// Its clock starts at 0.
    pub fn with_manual_clock() -> Result<Loop> {
        Self::with_clock(Clock::Manual { now_ns: 0 })
    }

    fn with_clock(clock: Clock) -> Result<Loop> {
        Ok(Loop {
            state: Rc::new(RefCell::new(LoopState::new(clock)?)),
        })
    }

    /// This thread's default loop (`uv_default_loop`), created on first use.
    ///
    /// Fails with `EINVAL` when the thread is exiting and its default loop
    /// has already been destroyed (a call from a thread-local destructor
    /// that runs after the loop's own): a loop made then could never run.
    pub fn default_loop() -> Result<Loop> {
        let gone = Error::Status(StatusCode::EINVAL);
        DEFAULT_LOOP
            .try_with(|cell| {
                let mut slot = cell.try_borrow_mut().map_err(|_| gone)?;
                if let Some(lp) = slot.as_ref() {
                    return Ok(lp.clone());
                }
                let lp = Loop::new()?;
                *slot = Some(lp.clone());
                Ok(lp)
            })
            .unwrap_or(Err(gone))
    }

    /// Borrows the loop state. Never held across a user callback.
    #[inline]
    pub(crate) fn state(&self) -> RefMut<'_, LoopState> {
        self.state.borrow_mut()
    }

    /// Runs `f` on the loop state, then drops what it deferred after the
    /// borrow is released.
    pub(crate) fn with_deferred<R>(&self, f: impl FnOnce(&mut LoopState, &mut Deferred) -> R) -> R {
        let mut deferred = Deferred::default();
        // The borrow is a temporary of this `let`: released at its end,
        // before `deferred` is dropped (in place, at the end of the
        // function: moving it into `drop` would copy it through the stack).
        // Not a tail expression, whose temporaries would outlive `deferred`.
        let r = f(&mut self.state(), &mut deferred);
        r
    }

    /// Whether two values refer to the same loop.
    pub fn same_loop(&self, other: &Loop) -> bool {
        Rc::ptr_eq(&self.state, &other.state)
    }

    /// Stops the loop at the end of the current iteration (`uv_stop`); the
    /// next [`Loop::run`] starts afresh.
    pub fn stop(&self) {
        self.state().stop_flag = true;
    }

    /// Whether anything keeps the loop alive: an active and referenced
    /// handle, a request in flight (a queued send), or a handle whose close
    /// callback has not run yet (`uv_loop_alive`).
    #[inline]
    pub fn alive(&self) -> bool {
        // A shared borrow that cannot panic: it only reads, so the compiled
        // check writes nothing back and needs no unwinding path. The state
        // is borrowed mutably only inside ruv's own code, never across a
        // callback, so the fallback (a loop in the middle of a phase is
        // alive) is not reached through the API.
        self.state.try_borrow().map_or(true, |st| {
            debug_assert_eq!(st.liveness.get(), st.alive(), "liveness out of sync");
            debug_assert!(
                st.liveness
                    .counts_published(st.active_ref_handles, st.active_reqs),
                "counts hook out of sync"
            );
            st.alive()
        })
    }

    /// A reader of [`Loop::alive`] that needs no access to the loop: the
    /// loop keeps it up to date, and it reads `false` once the loop is
    /// dropped. For code that asks very often (uv-compat's
    /// `uv_loop_alive`).
    pub fn liveness(&self) -> Liveness {
        self.state().liveness.reader()
    }

    /// Calls `hook(word, alive)` now and each time the answer of
    /// [`Loop::alive`] changes, until replaced or cleared (`None`); a
    /// dropped loop reports `false`. For mirroring the value where a plain
    /// load reads it (uv-compat keeps it in the C `uv_loop_t`).
    ///
    /// The hook runs inside the loop's bookkeeping, with the loop state
    /// borrowed: it must not call into the loop (that would panic).
    pub fn set_liveness_hook(&self, hook: Option<(LivenessHook, usize)>) {
        let alive = {
            let mut st = self.state();
            st.liveness.set_hook(hook);
            st.liveness.get()
        };
        if let Some((hook, word)) = hook {
            hook(word, alive);
        }
    }

    /// Calls `hook(word, before, after)` now (with `before` = `(0, 0)`)
    /// and each time either count changes, until replaced or cleared
    /// (`None`); the counts are `(active_handles, active_requests)`: the
    /// active, referenced handles and the requests in flight (connects,
    /// writes, shutdowns, sends). For mirroring them where a plain load
    /// reads them (uv-compat keeps libuv's `active_handles` and
    /// `active_reqs.count` fields of the C `uv_loop_t` up to date with it,
    /// by adding each difference).
    ///
    /// The hook runs inside the loop's bookkeeping, with the loop state
    /// borrowed: it must not call into the loop (that would panic).
    pub fn set_counts_hook(&self, hook: Option<(CountsHook, usize)>) {
        let mut st = self.state();
        let (handles, requests) = (st.active_ref_handles, st.active_reqs);
        st.liveness.set_counts_hook(hook, handles, requests);
    }

    /// The loop's counters (`uv_metrics_info`): iterations that reached the
    /// poll phase and the readiness events it handed on.
    pub fn metrics(&self) -> Metrics {
        let st = self.state();
        Metrics {
            loop_count: st.iteration,
            events: st.metrics.events,
            events_waiting: st.metrics.events_waiting,
        }
    }

    /// Starts measuring how long the poll phase waits in the kernel
    /// (`uv_loop_configure(UV_METRICS_IDLE_TIME)`); it cannot be stopped.
    /// While measuring, each poll phase first looks for events without
    /// blocking (what it finds counts as [`Metrics::events_waiting`]) and
    /// only then waits, timed.
    pub fn measure_idle_time(&self) {
        let mut st = self.state();
        st.metrics.idle_ns.get_or_insert(0);
    }

    /// The time the poll phase spent waiting since
    /// [`Loop::measure_idle_time`] (`uv_metrics_idle_time`); zero before.
    pub fn idle_time(&self) -> Duration {
        Duration::from_nanos(self.state().metrics.idle_ns.unwrap_or(0))
    }

    /// Sets the function the closing phase calls, in place of a close
    /// callback, for each handle closed by [`Handle::close_to_hook`]
    /// (`None`: nothing is called). One function for all such handles, so
    /// that a close stores nothing per handle but its slot: for uv-compat,
    /// whose close callback finds its C handle by [`Handle::id`].
    ///
    /// [`Handle::close_to_hook`]: crate::Handle::close_to_hook
    /// [`Handle::id`]: crate::Handle::id
    pub fn set_close_hook(&self, hook: Option<CloseHook>) {
        self.state().close_hook = hook;
    }

    /// The cached loop time in milliseconds (`uv_now`), updated once per
    /// iteration and by [`Loop::update_time`].
    pub fn now(&self) -> u64 {
        self.state().now_ms
    }

    /// Refreshes the cached loop time from the clock (`uv_update_time`).
    pub fn update_time(&self) {
        self.state().update_time();
    }

    /// The loop clock in nanoseconds (`uv_hrtime` for a system-clock loop;
    /// the manual time for a manual-clock loop).
    pub fn hrtime(&self) -> u64 {
        self.state().clock.hrtime()
    }

    /// Whether this loop runs on a manual clock.
    pub fn is_manual_clock(&self) -> bool {
        self.state().clock.is_manual()
    }

    /// Moves a manual clock forward by `by` and refreshes the loop time.
    /// Timers that became due fire in the next timer phase.
    ///
    /// Errors with EINVAL on a system-clock loop.
    pub fn advance(&self, by: Duration) -> Result<()> {
        let mut st = self.state();
        let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        if !st.clock.advance(ns) {
            return Err(StatusCode::EINVAL.into());
        }
        st.update_time();
        Ok(())
    }

    /// How long the next poll would block, in milliseconds, -1 for no limit
    /// (`uv_backend_timeout`).
    pub fn backend_timeout(&self) -> i32 {
        self.state().backend_timeout()
    }

    /// The epoll descriptor the loop polls (`uv_backend_fd`).
    pub fn backend_fd(&self) -> RawFd {
        self.state().poll.as_raw_fd()
    }

    /// Calls `f` for every handle of the loop, closing ones included
    /// (`uv_walk`). Handles created by `f` are not visited.
    pub fn walk(&self, mut f: impl FnMut(&Handle)) {
        let handles: Vec<Handle> = {
            let st = self.state();
            st.keys()
                .map(|(key, ty)| Handle::from_parts(self.clone(), key, ty))
                .collect()
        };
        for handle in &handles {
            if self.state().slot(handle.key()).is_some() {
                f(handle);
            }
        }
    }

    /// Number of handles the loop holds, closing ones included.
    pub fn handle_count(&self) -> usize {
        self.state().handle_count()
    }

    /// Releases the loop's buffers (`uv_loop_close`). Fails with EBUSY while
    /// any handle exists, closing ones included; the loop stays usable.
    pub fn close(&self) -> Result<()> {
        let mut st = self.state();
        if st.handle_count() != 0 || st.running {
            return Err(Error::Status(StatusCode::EBUSY));
        }
        st.scratch = Vec::new();
        st.scratch_watchers = Vec::new();
        st.pending = Vec::new();
        st.pending_spare = Vec::new();
        st.ready = Vec::new();
        st.ready_spare = Vec::new();
        st.sync_liveness();
        st.per_kind.release();
        Ok(())
    }
}
