//! One run of the loop: libuv 1.45+'s phase order (`uv_run` in
//! `src/unix/core.c`), with edge-triggered readiness kept by a ready list.

use super::kinds;
use super::state::{Key, Phase, NO_SLOT, ORPHANS_TOKEN, SIGNAL_TOKEN, WAKER_TOKEN};
use super::{Loop, RunMode};
use crate::error::{Error, Result, StatusCode};
use crate::handle;
use crate::trace::trace_event;
use std::panic::{self, AssertUnwindSafe};

/// Rounds of the pending phase after polling, as libuv does, so callbacks
/// deferred from the poll phase run in the same iteration.
const PENDING_ROUNDS_AFTER_POLL: usize = 8;

/// What a readiness event says about a descriptor; also an entry of the
/// ready list (readiness to deliver again).
#[derive(Clone, Copy, Debug)]
pub(crate) struct IoEvent {
    pub key: Key,
    pub readable: bool,
    pub writable: bool,
    /// The descriptor is in error (`EPOLLERR`); `readable` and `writable`
    /// are set too.
    pub error: bool,
    /// The peer closed (`EPOLLRDHUP` or `EPOLLHUP`); `readable` is set too.
    /// A stream then reads on past a short read, to the end of the stream:
    /// no later edge announces an end that arrived with the last data.
    pub closed: bool,
}

impl IoEvent {
    /// Readable, as a ready-list entry of a handle that left data unread.
    #[inline]
    pub(crate) fn readable(key: Key) -> IoEvent {
        IoEvent {
            key,
            readable: true,
            writable: false,
            error: false,
            closed: false,
        }
    }
}

/// Runs `body` for each item in order. If one of them panics, `requeue`
/// gets that item and the ones not reached yet, so the loop keeps their
/// work for its next run; then the panic goes on. A drop guard does this,
/// so the common path costs nothing.
fn for_each_resilient<T: Copy, R: FnMut(T, &[T])>(
    items: &[T],
    mut body: impl FnMut(T),
    requeue: R,
) {
    /// On unwinding, hands the interrupted item and the rest to `requeue`.
    struct Guard<'a, T: Copy, R: FnMut(T, &[T])> {
        items: &'a [T],
        started: usize,
        requeue: R,
    }
    impl<T: Copy, R: FnMut(T, &[T])> Drop for Guard<'_, T, R> {
        fn drop(&mut self) {
            if self.started > 0 && std::thread::panicking() {
                let at = self.started - 1;
                (self.requeue)(self.items[at], &self.items[at + 1..]);
            }
        }
    }
    if items.is_empty() {
        return;
    }
    let mut guard = Guard {
        items,
        started: 0,
        requeue,
    };
    for &item in items {
        guard.started += 1;
        body(item);
    }
    guard.started = 0;
}

/// Clears the running flag however `run` returns.
struct RunningGuard<'a>(&'a Loop);

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        let mut st = self.0.state();
        st.running = false;
        st.stop_flag = false;
    }
}

impl Loop {
    /// Runs the loop (`uv_run`).
    ///
    /// - [`RunMode::Default`]: runs until nothing keeps the loop alive
    ///   (returns `false`) or [`Loop::stop`] was called (returns whether the
    ///   loop is still alive).
    /// - [`RunMode::Once`] / [`RunMode::NoWait`]: one iteration (blocking or
    ///   not in the poll phase); returns whether the loop is still alive.
    ///
    /// If nothing keeps the loop alive on entry it returns `false` at once.
    /// Calling `run` from inside a callback of the same loop is EBUSY.
    ///
    /// Each iteration runs, in order: pending send callbacks, idle, prepare,
    /// poll (I/O and async callbacks), pending again, check, close
    /// callbacks, timers. In `Default` mode due timers also run once before
    /// the first iteration.
    pub fn run(&self, mode: RunMode) -> Result<bool> {
        {
            let mut st = self.state();
            if st.running {
                return Err(Error::Status(StatusCode::EBUSY));
            }
            st.running = true;
        }
        let _guard = RunningGuard(self);
        let mut alive = self.alive();
        if !alive {
            self.update_time();
        }
        if mode == RunMode::Default && alive && !self.state().stop_flag {
            self.update_time();
            self.run_timers();
        }
        while alive {
            let (can_sleep, pending) = {
                let st = self.state();
                if st.stop_flag {
                    // `alive` may predate the timers `Default` ran before
                    // the first iteration.
                    alive = st.alive();
                    break;
                }
                // From here the iteration reaches the poll phase, which
                // counts it.
                trace_event!(TRACE, "loop iteration", iteration = st.iteration + 1);
                let pending = !st.pending.is_empty();
                (!pending && st.active_idles == 0, pending)
            };
            if pending {
                self.run_pending();
            }
            // Each phase checks its own list: callbacks of an earlier phase
            // may start watchers that must run in this iteration.
            self.run_watchers(Phase::Idle);
            self.run_watchers(Phase::Prepare);
            let block = mode == RunMode::Default || (mode == RunMode::Once && can_sleep);
            self.poll_io(block);
            for _ in 0..PENDING_ROUNDS_AFTER_POLL {
                if self.state().pending.is_empty() {
                    break;
                }
                self.run_pending();
            }
            let before_check = self.state().callbacks_run;
            self.run_watchers(Phase::Check);
            self.run_closing();
            let mut st = self.state();
            // The poll phase read the clock; read it again only if check or
            // close callbacks ran since, so timers see the time they took.
            if st.callbacks_run != before_check {
                st.update_time();
            }
            let timers_due = st.timers.next_due().is_some_and(|due| due <= st.now_ms);
            drop(st);
            if timers_due {
                self.run_timers();
            }
            alive = self.alive();
            if mode != RunMode::Default {
                break;
            }
        }
        Ok(alive)
    }

    /// Runs the callbacks of the requests (UDP sends) that completed since
    /// the last pending phase, handle by handle, each through its kind.
    fn run_pending(&self) {
        let list = {
            let mut st = self.state();
            let spare = std::mem::take(&mut st.pending_spare);
            let list = std::mem::replace(&mut st.pending, spare);
            // No liveness change: the requests of the handles on the list
            // still count in `active_reqs` until their callbacks run.
            debug_assert!(list.is_empty() || st.active_reqs > 0);
            list
        };
        for_each_resilient(
            &list,
            |entry| kinds::run_pending(self, entry),
            |current, rest| {
                let mut st = self.state();
                for &entry in std::iter::once(&current).chain(rest) {
                    kinds::requeue_pending(&mut st, entry);
                }
                st.sync_liveness();
            },
        );
        let mut list = list;
        list.clear();
        self.state().pending_spare = list;
    }

    /// Returns a scratch list taken from the loop state, keeping the larger
    /// allocation for reuse.
    pub(crate) fn give_back_scratch(&self, mut list: Vec<Key>) {
        list.clear();
        let mut st = self.state();
        if st.scratch.capacity() < list.capacity() {
            st.scratch = list;
        }
    }

    /// Runs one watcher phase: most recently started first (as libuv);
    /// watchers started during the phase wait for the next iteration.
    #[inline]
    fn run_watchers(&self, phase: Phase) {
        // Most loops have no watchers in most phases: answer that without
        // setting up the snapshot.
        if !self.state().watchers[phase as usize].is_empty() {
            self.run_started_watchers(phase);
        }
    }

    #[inline(never)]
    fn run_started_watchers(&self, phase: Phase) {
        /// Phases with this many watchers or fewer snapshot on the stack.
        const INLINE: usize = 4;
        let mut inline = [(Key { index: 0, gen: 0 }, 0u64); INLINE];
        let (count, spilled) = {
            let mut st = self.state();
            let list = &st.watchers[phase as usize];
            let count = list.len();
            if count == 0 {
                return;
            }
            if count <= INLINE {
                for (slot, entry) in inline.iter_mut().zip(list.iter().rev()) {
                    *slot = *entry;
                }
                (count, None)
            } else {
                let mut snap = std::mem::take(&mut st.scratch_watchers);
                snap.clear();
                snap.extend(st.watchers[phase as usize].iter().rev());
                (count, Some(snap))
            }
        };
        // A watcher a panic skipped simply runs in the next iteration: there
        // is nothing to requeue, so a plain loop does.
        // Only the inline case may slice `inline`: a spilled count is past
        // its end.
        let snapshot: &[(Key, u64)] = match &spilled {
            Some(snap) => snap,
            None => &inline[..count],
        };
        for &(key, seq) in snapshot {
            kinds::dispatch_watcher(self, key, seq);
        }
        if let Some(snap) = spilled {
            self.state().scratch_watchers = snap;
        }
    }

    /// Finishes closing the handles closed before this phase, most recently
    /// closed first (as libuv); handles closed by these callbacks wait for
    /// the next iteration.
    fn run_closing(&self) {
        if !self.state().has_closing() {
            return;
        }
        self.finish_closing();
    }

    /// The rest of [`Loop::run_closing`], out of line: an iteration that
    /// closes nothing runs only the check above.
    #[inline(never)]
    fn finish_closing(&self) {
        let (mut next, mut links, mut cbs) = {
            let mut st = self.state();
            let head = std::mem::replace(&mut st.closing_head, NO_SLOT);
            let links = std::mem::take(&mut st.closing_links);
            let cbs = std::mem::take(&mut st.closing_cbs);
            st.sync_liveness();
            (head, links, cbs)
        };
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            while next != NO_SLOT {
                let index = next;
                // Read before the handle's slot goes: the rest of the list
                // stays reachable if a callback panics.
                next = self.state().closing_next(index, &mut links);
                // `cbs` is in close order, and a slot is in the list at most
                // once: the entry's callback, if any, is the last.
                let cb = match cbs.last() {
                    Some(&(at, _)) if at == index => cbs.pop().map(|(_, cb)| cb),
                    _ => None,
                };
                handle::finish_close(self, index, cb);
            }
        }));
        if let Err(payload) = result {
            // Handles not reached yet finish closing in the next run, in
            // the same order: as if closed before the handles closed since
            // the phase began (by its callbacks), as the old list was.
            self.state().restore_closing(next, links, cbs);
            panic::resume_unwind(payload);
        }
    }

    /// Fires every timer due at the cached loop time. Timers are taken off
    /// the heap first, so a timer restarted by a callback waits for the next
    /// iteration even when it is already due again.
    fn run_timers(&self) {
        // Slot indexes, not keys: half the memory when a million timers are
        // due at once. A slot's current handle is the one taken off the heap
        // exactly when it is a timer marked due: a handle created after the
        // pops, in a reused slot, cannot be marked.
        let due = {
            let mut st = self.state();
            let mut due = std::mem::take(&mut st.timers_due);
            let now = st.now_ms;
            while let Some(key) = kinds::pop_due(&mut st, now) {
                kinds::mark_due(&mut st, key);
                due.push(key.index);
            }
            due
        };
        for_each_resilient(
            &due,
            |index| kinds::fire_slot(self, index),
            |_, rest| {
                let mut st = self.state();
                for &index in rest {
                    kinds::rearm_due_slot(&mut st, index);
                }
            },
        );
        let mut due = due;
        due.clear();
        self.state().timers_due = due;
    }

    /// The poll phase: waits up to `timeout_ms` (-1: no limit) for I/O, then
    /// dispatches readiness and the handles still ready from earlier.
    fn poll_io(&self, block: bool) {
        // While the idle time is measured: the event count before this
        // phase, when what it hands on was found without waiting.
        let mut waiting_from = None;
        let (events, ready, iteration) = {
            let mut st = self.state();
            let timeout_ms = if block { st.backend_timeout() } else { 0 };
            st.iteration += 1;
            trace_event!(TRACE, "poll phase", timeout_ms = timeout_ms);
            let manual = st.clock.is_manual();
            // A manual clock never sleeps for a timer: it polls without
            // blocking and then jumps to the timer's due time.
            let timeout = if manual && timeout_ms > 0 {
                0
            } else {
                timeout_ms
            };
            let st = &mut *st;
            let waited = if st.metrics.measures_idle_time() {
                let looked = st
                    .metrics
                    .measured_wait(&mut st.events, st.epoll_fd, timeout);
                if let Ok(true) = looked {
                    waiting_from = Some(st.metrics.events);
                }
                looked.map(drop)
            } else {
                st.events.wait(st.epoll_fd, timeout)
            };
            if let Err(err) = waited {
                // Only EINTR is expected, and the buffer handles it; anything
                // else means the loop's own descriptor is broken.
                debug_assert!(false, "epoll_wait: {err}");
            }
            if st.events.is_empty()
                && st.ready.is_empty()
                && !st.async_woken
                && !st.signals_caught
                && !st.orphans_ready
            {
                // Nothing to dispatch (the common idle iteration): no lists
                // to hand around.
                st.time_after_wait(manual && timeout_ms > 0);
                return;
            }
            // Handles queued as still ready before this poll; ones queued
            // while dispatching below wait for the next iteration.
            let ready = if st.ready.is_empty() {
                Vec::new()
            } else {
                let spare = std::mem::take(&mut st.ready_spare);
                std::mem::replace(&mut st.ready, spare)
            };
            let mut events = std::mem::take(&mut st.io_events);
            let mut woken = false;
            let mut signalled = false;
            for ev in st.events.iter() {
                // The loop's own sources have the top tokens: one compare
                // tells them from handles' (below 2^63).
                if ev.token >= ORPHANS_TOKEN.0 {
                    if ev.token == WAKER_TOKEN.0 {
                        woken = true;
                    } else if ev.token == SIGNAL_TOKEN.0 {
                        signalled = true;
                    } else {
                        st.orphans_ready = true;
                    }
                    continue;
                }
                events.push(IoEvent {
                    key: Key::from_token(mio::Token(ev.token)),
                    readable: ev.readable,
                    writable: ev.writable,
                    error: ev.error,
                    closed: ev.closed,
                });
            }
            st.time_after_wait(
                manual
                    && timeout_ms > 0
                    && events.is_empty()
                    && !woken
                    && !signalled
                    && ready.is_empty(),
            );
            // The ready list counts as it is served (`dispatch_io`).
            st.metrics.events +=
                (events.len() + usize::from(woken) + usize::from(signalled)) as u64;
            // Kept in the state, not a local, so that a wakeup survives a
            // panicking I/O callback and is delivered by the next run.
            st.async_woken |= woken;
            st.signals_caught |= signalled;
            (events, ready, st.iteration)
        };
        self.dispatch_polled(events, ready, iteration);
        if let Some(before) = waiting_from {
            let mut st = self.state();
            st.metrics.events_waiting += st.metrics.events - before;
        }
    }

    /// The loop's own sources that fired: async sends, caught signals,
    /// orphaned children. Each flag is taken just before its turn, so a
    /// panicking callback leaves the later ones for the next run.
    #[inline(never)]
    fn dispatch_wakeups(&self) {
        if std::mem::take(&mut self.state().async_woken) {
            kinds::dispatch_wake(self);
        }
        if std::mem::take(&mut self.state().signals_caught) {
            kinds::dispatch_signals(self);
        }
        if std::mem::take(&mut self.state().orphans_ready) {
            kinds::reap_orphans(self);
        }
    }

    /// The dispatching half of [`Loop::poll_io`]: the handles with new
    /// events, the async wakeup, then the handles still ready from before.
    fn dispatch_polled(&self, events: Vec<IoEvent>, ready: Vec<IoEvent>, iteration: u64) {
        for_each_resilient(
            &events,
            |ev| self.dispatch_io(ev, iteration),
            |_, rest| {
                // Their edges are gone, and the handles queued before this
                // poll have not had their turn: serve all from the ready
                // list, with the readiness they had.
                let mut st = self.state();
                st.ready.extend_from_slice(rest);
                st.ready.extend_from_slice(&ready);
            },
        );
        let mut events = events;
        events.clear();
        self.state().io_events = events;
        let any_wakeup = {
            let st = self.state();
            st.async_woken | st.signals_caught | st.orphans_ready
        };
        if any_wakeup {
            self.dispatch_wakeups();
        }
        if ready.is_empty() {
            return;
        }
        // Each entry is delivered as the readiness its kind queued.
        for_each_resilient(
            &ready,
            |ev| self.dispatch_ready(ev, iteration),
            |_, rest| self.state().ready.extend_from_slice(rest),
        );
        let mut ready = ready;
        ready.clear();
        let mut st = self.state();
        if st.ready_spare.capacity() < ready.capacity() {
            st.ready_spare = ready;
        }
    }

    /// Hands a new event to its handle's kind. It was counted in
    /// [`Metrics::events`](crate::Metrics::events) as the poll phase took
    /// it: one for a handle closed since (by an earlier callback of the
    /// phase) is taken back, as libuv skips it.
    fn dispatch_io(&self, ev: IoEvent, iteration: u64) {
        let io = {
            let mut st = self.state();
            match st.live(ev.key) {
                Ok(slot) => kinds::Io::of(&slot.kind),
                Err(_) => {
                    st.metrics.events -= 1;
                    None
                }
            }
        };
        if let Some(io) = io {
            io.deliver(self, ev, iteration);
        }
    }

    /// Serves an entry of the ready list: readiness delivered again
    /// without a new edge. Counted as an event unless an event of this
    /// poll phase already served the handle ([`kinds::served_in`]).
    fn dispatch_ready(&self, ev: IoEvent, iteration: u64) {
        let io = {
            let mut st = self.state();
            let Ok(slot) = st.live(ev.key) else {
                return;
            };
            let fresh = !kinds::served_in(slot, iteration);
            let io = kinds::Io::of(&slot.kind);
            st.metrics.events += u64::from(fresh);
            io
        };
        if let Some(io) = io {
            io.deliver(self, ev, iteration);
        }
    }
}
