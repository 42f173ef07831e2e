//! The loop's state: the slab of handle slots and the per-phase queues.
//!
//! Everything here is touched only while the loop's `RefCell` is borrowed, and
//! the borrow is never held across a user callback (see `docs/ARCHITECTURE.md`).

use super::clock::Clock;
use super::kinds::{self, Kind};
use super::run::IoEvent;
use super::timer_heap::TimerHeap;
use crate::error::{Error, Result};
use crate::handle::HandleType;
use slab::Slab;
use std::any::Any;
use std::sync::Arc;

/// A slot index plus the generation it was filled with. A token whose
/// generation no longer matches its slot refers to a closed handle.
///
/// Generations count per slot and only go up: a slot whose generations are
/// used up is retired, never reused, so a stale key can never match a later
/// handle however long the loop runs (a loop-wide 32-bit counter would wrap
/// after 2^32 handles and hand an old token's generation to a new handle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub index: u32,
    pub gen: u32,
}

/// The mio token reserved for the loop's waker.
pub(crate) const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);

/// The mio token of the loop's signal receiver (see `crate::signal`); no
/// handle's token comes near it (generations stay below 2^31).
pub(crate) const SIGNAL_TOKEN: mio::Token = mio::Token(usize::MAX - 1);

/// The mio token of the pidfds of children whose process handle was closed
/// before they exited (see `crate::process`).
pub(crate) const ORPHANS_TOKEN: mio::Token = mio::Token(usize::MAX - 2);

impl Key {
    /// The mio token for this handle's descriptor: both halves, so an event
    /// for a closed handle can never reach a handle that reused the slot.
    pub(crate) fn token(self) -> mio::Token {
        mio::Token(((self.gen as usize) << 32) | self.index as usize)
    }

    /// The handle's public id (`Handle::id`): generation and slot, never
    /// given to another handle of the loop.
    pub(crate) fn id(self) -> u64 {
        (u64::from(self.gen) << 32) | u64::from(self.index)
    }

    pub(crate) fn from_token(token: mio::Token) -> Key {
        Key {
            index: token.0 as u32,
            gen: (token.0 >> 32) as u32,
        }
    }
}

/// Marks the generation of a free slot. Keys never carry this bit, so a
/// lookup needs no other check to miss a free slot.
const VACANT: u32 = 1 << 31;
/// The last generation a slot hands out before it is retired.
const LAST_GENERATION: u32 = VACANT - 1;
/// The end of the free-slot list.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// One handle's slot in the slab.
pub(crate) struct Slot {
    /// The generation of the handle in the slot; for a free slot, the last
    /// one it had, with `VACANT` set.
    pub gen: u32,
    pub active: bool,
    pub referenced: bool,
    pub closing: bool,
    pub kind: Kind,
}

/// A close callback (`uv_close_cb`): it gets the closed handle.
pub(crate) type CloseCb = Box<dyn FnOnce(&crate::Handle)>;

/// What the closing phase calls for a handle closed without a callback of
/// its own ([`Loop::set_close_hook`](crate::Loop::set_close_hook)).
pub type CloseHook = fn(&crate::Handle);

impl Slot {
    /// Whether this handle keeps the loop alive.
    #[inline]
    pub(crate) fn counts(&self) -> bool {
        self.active && self.referenced && !self.closing
    }
}

/// Values taken out of loop state that may run user code when dropped (user
/// closures and what they capture). They are dropped only after the borrow
/// of the loop state is released.
#[derive(Default)]
pub(crate) struct Deferred {
    /// One timer callback, kept as it is: closing or restarting a timer
    /// defers exactly one, and that costs no allocation (no second box, no
    /// list).
    timer_cb: Option<kinds::TimerCb>,
    others: Vec<Box<dyn Any>>,
}

impl Deferred {
    pub(crate) fn push<T: 'static>(&mut self, value: T) {
        self.others.push(Box::new(value));
    }

    /// Defers a timer's callback.
    #[inline]
    pub(crate) fn push_timer_cb(&mut self, cb: kinds::TimerCb) {
        if self.timer_cb.is_none() {
            self.timer_cb = Some(cb);
        } else {
            self.push(cb);
        }
    }
}

/// An entry of the pending list: a handle whose kind owes callbacks of
/// completed requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub key: Key,
    /// Which kind reports them: no slot lookup to find out.
    pub ty: HandleType,
}

/// The three watcher phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle = 0,
    Prepare = 1,
    Check = 2,
}

impl Phase {
    pub(crate) fn handle_type(self) -> HandleType {
        match self {
            Phase::Idle => HandleType::Idle,
            Phase::Prepare => HandleType::Prepare,
            Phase::Check => HandleType::Check,
        }
    }
}

/// The state of one loop.
pub(crate) struct LoopState {
    /// Handle slots; closed handles leave free slots behind (`Kind::Vacant`)
    /// that keep their generation, instead of being removed from the slab.
    pub slots: Slab<Slot>,
    /// The most recently freed slot: reused first, as the slab would.
    free_head: u32,
    /// Handles in `slots`, closing ones included (free slots are not).
    handles: usize,
    pub clock: Clock,
    /// Cached loop time in milliseconds (`uv_now`).
    pub now_ms: u64,
    pub timers: TimerHeap,
    /// Slots of the timers taken off the heap as due in this timer phase,
    /// in firing order.
    pub timers_due: Vec<u32>,
    /// Started watchers per phase, in start order, with their start sequence.
    pub watchers: [Vec<(Key, u64)>; 3],
    pub watcher_seq: u64,
    pub active_idles: usize,
    /// Handles whose completed requests (e.g. UDP sends) wait for their
    /// callbacks, each once, with its kind: the pending phase runs them
    /// through [`kinds::run_pending`].
    pub pending: Vec<Pending>,
    /// The pending list's second buffer: the phase walks one while
    /// completions collect in the other.
    pub pending_spare: Vec<Pending>,
    /// The handles closed and waiting for the closing phase, most recently
    /// closed first: a list linked through their slots (a closing handle
    /// keeps its slot until then). This is the slot of the first,
    /// `NO_SLOT` if none. A closing timer keeps the next one's slot in its
    /// slot (`kinds::closing_link`), so closing it stores nothing
    /// elsewhere; other handles in `closing_links`. Pushed by
    /// [`LoopState::push_closing`].
    pub closing_head: u32,
    /// `(slot, next slot)` of the closing handles that are not timers, in
    /// `close()` order (the list walk takes them from the end).
    pub closing_links: Vec<(u32, u32)>,
    /// The close callbacks of the closing handles that have one, in the
    /// same order, with their slots; the others get `close_hook`.
    pub closing_cbs: Vec<(u32, CloseCb)>,
    /// Called in the closing phase for handles closed without a callback.
    pub close_hook: Option<CloseHook>,
    /// Readiness to deliver again without waiting for a new edge (a read
    /// budget spent, an edge a panic cut short): served after the next
    /// poll phase's events ([`LoopState::push_ready`]).
    pub ready: Vec<IoEvent>,
    /// The ready list's second buffer, as `pending_spare`.
    pub ready_spare: Vec<IoEvent>,
    pub asyncs: Vec<Key>,
    pub active_ref_handles: usize,
    pub active_reqs: usize,
    pub next_req_id: u64,
    pub stop_flag: bool,
    pub running: bool,
    pub iteration: u64,
    pub poll: mio::Poll,
    /// The epoll instance behind `poll` (waited on directly, see `sys::epoll`).
    pub epoll_fd: std::os::fd::RawFd,
    pub events: crate::sys::EventBuffer,
    pub waker: Arc<mio::Waker>,
    /// Reusable scratch list so phases do not allocate per iteration.
    pub scratch: Vec<Key>,
    pub scratch_watchers: Vec<(Key, u64)>,
    /// What the handle kinds keep once per loop (UDP's shared receive
    /// batch).
    pub per_kind: kinds::PerLoop,
    /// The waker fired and the async callbacks have not run yet.
    pub async_woken: bool,
    /// The signal receiver fired and the signal callbacks have not run yet.
    pub signals_caught: bool,
    /// An orphaned child's pidfd was readable and it was not reaped yet.
    pub orphans_ready: bool,
    /// Readiness events of the current poll phase.
    pub io_events: Vec<IoEvent>,
    /// Counts user callbacks run (wrapping), to tell whether any ran.
    pub callbacks_run: u64,
    /// [`LoopState::alive`], readable without a borrow: every change of
    /// `active_ref_handles`, `active_reqs`, `closing` or `pending` is
    /// followed by [`LoopState::sync_liveness`] before the borrow ends.
    pub liveness: super::liveness::Source,
    /// Event counters and the idle time (`uv_metrics_*`).
    pub metrics: super::metrics::MetricsState,
}

/// Events fetched per poll.
const EVENTS_CAPACITY: usize = 1024;

impl LoopState {
    pub(crate) fn new(clock: Clock) -> Result<LoopState> {
        let poll = mio::Poll::new()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER_TOKEN)?);
        let epoll_fd = std::os::fd::AsRawFd::as_raw_fd(&poll);
        let now_ms = clock.now_ms();
        Ok(LoopState {
            slots: Slab::new(),
            free_head: NO_SLOT,
            handles: 0,
            clock,
            now_ms,
            timers: TimerHeap::default(),
            timers_due: Vec::new(),
            watchers: [Vec::new(), Vec::new(), Vec::new()],
            watcher_seq: 0,
            active_idles: 0,
            pending: Vec::new(),
            pending_spare: Vec::new(),
            closing_head: NO_SLOT,
            closing_links: Vec::new(),
            closing_cbs: Vec::new(),
            close_hook: None,
            ready: Vec::new(),
            ready_spare: Vec::new(),
            asyncs: Vec::new(),
            active_ref_handles: 0,
            active_reqs: 0,
            next_req_id: 1,
            stop_flag: false,
            running: false,
            iteration: 0,
            poll,
            epoll_fd,
            events: crate::sys::EventBuffer::with_capacity(EVENTS_CAPACITY),
            waker,
            scratch: Vec::new(),
            scratch_watchers: Vec::new(),
            async_woken: false,
            signals_caught: false,
            orphans_ready: false,
            per_kind: Default::default(),
            io_events: Vec::new(),
            callbacks_run: 0,
            liveness: Default::default(),
            metrics: Default::default(),
        })
    }

    /// Stores a new handle; it starts inactive and referenced. It takes the
    /// most recently freed slot, with that slot's next generation.
    pub(crate) fn insert(&mut self, kind: Kind) -> Key {
        self.handles += 1;
        let mut slot = Slot {
            gen: 1,
            active: false,
            referenced: true,
            closing: false,
            kind,
        };
        while let Some(free) = self.slots.get_mut(self.free_head as usize) {
            let Kind::Vacant { next_free } = free.kind else {
                break;
            };
            let index = std::mem::replace(&mut self.free_head, next_free);
            let last = free.gen & !VACANT;
            if last >= LAST_GENERATION {
                // Retired: it stays free and out of the list for good.
                continue;
            }
            slot.gen = last + 1;
            *free = slot;
            return Key {
                index,
                gen: last + 1,
            };
        }
        let index = self.slots.insert(slot) as u32;
        Key { index, gen: 1 }
    }

    /// Takes a handle out of its slot, leaving the slot free for reuse
    /// (`insert` retires it instead once its generations are used up).
    pub(crate) fn remove(&mut self, key: Key) -> Option<Slot> {
        self.slot(key)?;
        self.remove_at(key.index).map(|(_, slot)| slot)
    }

    /// [`LoopState::remove`] for the handle in slot `index`, if any, with
    /// its key: how the closing phase finds a handle from its `closing`
    /// entry (one lookup).
    pub(crate) fn remove_at(&mut self, index: u32) -> Option<(Key, Slot)> {
        let next_free = self.free_head;
        let slot = self.slots.get_mut(index as usize)?;
        let gen = slot.gen;
        if gen & VACANT != 0 {
            return None;
        }
        let vacant = Slot {
            gen: gen | VACANT,
            active: false,
            referenced: false,
            closing: false,
            kind: Kind::Vacant { next_free },
        };
        let taken = std::mem::replace(slot, vacant);
        self.free_head = index;
        self.handles -= 1;
        Some((Key { index, gen }, taken))
    }

    /// Queues a handle just marked closing for the closing phase. The loop
    /// is alive from here until the phase has taken the list.
    pub(crate) fn push_closing(&mut self, index: u32, cb: Option<CloseCb>) {
        let next = self.closing_head;
        match self
            .slots
            .get_mut(index as usize)
            .and_then(kinds::closing_link)
        {
            Some(link) => *link = next,
            None => self.closing_links.push((index, next)),
        }
        self.push_closing_linked(index, cb);
    }

    /// [`LoopState::push_closing`] for a timer whose closing link already
    /// holds `closing_head` (set through the one slot lookup of its close).
    #[inline]
    pub(crate) fn push_closing_linked(&mut self, index: u32, cb: Option<CloseCb>) {
        self.closing_head = index;
        if let Some(cb) = cb {
            self.closing_cbs.push((index, cb));
        }
        self.mark_alive();
    }

    /// Whether any handle waits for the closing phase.
    #[inline]
    pub(crate) fn has_closing(&self) -> bool {
        self.closing_head != NO_SLOT
    }

    /// The slot after closing handle `index` in the closing list: from the
    /// timer's slot, or else from the end of `links` (the walk's own
    /// `closing_links`). `NO_SLOT` at the end or for a slot not closing.
    pub(crate) fn closing_next(&mut self, index: u32, links: &mut Vec<(u32, u32)>) -> u32 {
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return NO_SLOT;
        };
        if !slot.closing {
            return NO_SLOT;
        }
        if let Some(link) = kinds::closing_link(slot) {
            return *link;
        }
        match links.last() {
            Some(&(at, next)) if at == index => {
                links.pop();
                next
            }
            _ => NO_SLOT,
        }
    }

    /// Puts the rest of a closing list that a panic interrupted (from
    /// `rest`, with its `links` and `cbs`) back in front of the handles
    /// closed since, so that it finishes first, in the same order.
    pub(crate) fn restore_closing(
        &mut self,
        rest: u32,
        mut links: Vec<(u32, u32)>,
        mut cbs: Vec<(u32, CloseCb)>,
    ) {
        if rest != NO_SLOT {
            let since = std::mem::replace(&mut self.closing_head, rest);
            // The rest's last handle (its earliest closed) now links to
            // the first handle closed since.
            let mut at = rest;
            let mut unused = links.len();
            while let Some(slot) = self.slots.get_mut(at as usize) {
                let link = match kinds::closing_link(slot) {
                    Some(link) => link,
                    None if unused > 0 => {
                        unused -= 1;
                        &mut links[unused].1
                    }
                    None => break,
                };
                if *link == NO_SLOT {
                    *link = since;
                    break;
                }
                at = *link;
            }
        }
        self.closing_links.append(&mut links);
        self.closing_cbs.append(&mut cbs);
        self.sync_liveness();
    }

    /// Number of handles, closing ones included.
    pub(crate) fn handle_count(&self) -> usize {
        self.handles
    }

    /// The key of every handle, in slot order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = (Key, HandleType)> + '_ {
        self.slots.iter().filter_map(|(index, slot)| {
            let ty = slot.kind.handle_type()?;
            Some((
                Key {
                    index: index as u32,
                    gen: slot.gen,
                },
                ty,
            ))
        })
    }

    /// The slot of a handle that exists (it may be closing).
    #[inline]
    pub(crate) fn slot(&self, key: Key) -> Option<&Slot> {
        self.slots
            .get(key.index as usize)
            .filter(|s| s.gen == key.gen)
    }

    #[inline]
    pub(crate) fn slot_mut(&mut self, key: Key) -> Option<&mut Slot> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|s| s.gen == key.gen)
    }

    /// The slot of a handle that is neither closed nor closing.
    #[inline]
    pub(crate) fn live(&self, key: Key) -> Result<&Slot> {
        self.slot(key)
            .filter(|s| !s.closing)
            .ok_or(Error::ClosedHandle)
    }

    #[inline]
    pub(crate) fn live_mut(&mut self, key: Key) -> Result<&mut Slot> {
        self.slot_mut(key)
            .filter(|s| !s.closing)
            .ok_or(Error::ClosedHandle)
    }

    /// Changes a slot's flags through `f`, keeping the count of handles that
    /// keep the loop alive in step.
    pub(crate) fn update_flags(&mut self, key: Key, f: impl FnOnce(&mut Slot)) {
        let Some(slot) = self.slot_mut(key) else {
            return;
        };
        let before = slot.counts();
        f(slot);
        let after = slot.counts();
        match (before, after) {
            (false, true) => {
                self.active_ref_handles += 1;
                self.mark_alive();
            }
            (true, false) => {
                self.active_ref_handles -= 1;
                self.sync_liveness();
            }
            _ => {}
        }
    }

    /// [`LoopState::sync_liveness`] after a change that can only make the
    /// loop alive (something added): no need to look at the rest.
    #[inline]
    pub(crate) fn mark_alive(&mut self) {
        self.liveness.set(true);
        self.liveness
            .publish_counts(self.active_ref_handles, self.active_reqs);
    }

    /// Publishes [`LoopState::alive`] to the loop's [`Liveness`]
    /// readers (`crate::Liveness`); called after every change of what it reads.
    #[inline]
    pub(crate) fn sync_liveness(&mut self) {
        let alive = self.alive();
        self.liveness.set(alive);
        self.liveness
            .publish_counts(self.active_ref_handles, self.active_reqs);
    }

    pub(crate) fn set_active(&mut self, key: Key, active: bool) {
        self.update_flags(key, |s| s.active = active);
    }

    /// Queues readiness to be delivered again, as `ev`, after the next
    /// poll phase's events, without a new edge (mio reports edges, so
    /// readiness a handle left unused would otherwise be lost). Entries
    /// pushed while the ready list is served wait for the next iteration;
    /// a kind served by an event and an entry in one iteration tells by
    /// the iteration number.
    #[inline]
    pub(crate) fn push_ready(&mut self, ev: IoEvent) {
        self.ready.push(ev);
    }

    /// Whether the handle has an entry on the ready list.
    pub(crate) fn is_ready(&self, key: Key) -> bool {
        self.ready.iter().any(|ev| ev.key == key)
    }

    /// Puts a handle with completed requests on the pending list, so its
    /// kind reports them in the next pending phase. A kind keeps a handle
    /// there at most once (a flag of its own). The requests still count in
    /// `active_reqs`, so the loop was alive already.
    #[inline]
    pub(crate) fn push_pending(&mut self, key: Key, ty: HandleType) {
        self.pending.push(Pending { key, ty });
    }

    /// Whether the handle is on the pending list.
    pub(crate) fn is_pending(&self, key: Key) -> bool {
        self.pending.iter().any(|p| p.key == key)
    }

    /// Takes a handle off the pending list (its close reports its
    /// completions instead).
    pub(crate) fn remove_pending(&mut self, key: Key) {
        self.pending.retain(|p| p.key != key);
        self.sync_liveness();
    }

    /// Whether the loop has work that forbids blocking in the poll phase.
    fn has_immediate_work(&self) -> bool {
        self.stop_flag
            || !self.pending.is_empty()
            || self.active_idles > 0
            || self.has_closing()
            || !self.ready.is_empty()
    }

    /// libuv's `uv_loop_alive`.
    #[inline]
    pub(crate) fn alive(&self) -> bool {
        self.active_ref_handles > 0
            || self.active_reqs > 0
            || self.has_closing()
            || !self.pending.is_empty()
    }

    /// Milliseconds the poll phase may block: -1 for no limit.
    pub(crate) fn backend_timeout(&self) -> i32 {
        if self.has_immediate_work() || (self.active_ref_handles == 0 && self.active_reqs == 0) {
            return 0;
        }
        match self.timers.next_due() {
            None => -1,
            Some(due) if due <= self.now_ms => 0,
            Some(due) => (due - self.now_ms).min(i32::MAX as u64) as i32,
        }
    }

    pub(crate) fn update_time(&mut self) {
        self.now_ms = self.clock.now_ms();
    }

    /// Reads the clock after the poll phase's wait. `virtual_sleep`: the
    /// loop would have slept until its next timer with nothing to dispatch,
    /// so a manual clock jumps there (a system clock ignores the jump); the
    /// jump is the idle time of a manual clock.
    pub(crate) fn time_after_wait(&mut self, virtual_sleep: bool) {
        self.update_time();
        if virtual_sleep {
            self.sleep_virtually();
        }
    }

    /// A manual clock's sleep until the next timer. Out of line: a
    /// system clock never gets here.
    #[cold]
    #[inline(never)]
    fn sleep_virtually(&mut self) {
        if let Some(due) = self.timers.next_due() {
            let before = self.clock.hrtime();
            self.clock.jump_to_ms(due);
            self.metrics
                .add_virtual_sleep(self.clock.hrtime().saturating_sub(before));
            self.update_time();
        }
    }
}

#[cfg(test)]
mod deferred_tests {
    use super::Deferred;
    use std::rc::Rc;

    /// 0, 1 (the one kept as it is), 2 (one past: boxed) and many timer
    /// callbacks, with other values: each dropped once, when the list is.
    #[test]
    fn every_deferred_value_is_dropped_once_with_the_list() {
        for timer_cbs in [0, 1, 2, 10] {
            let witness = Rc::new(());
            let mut deferred = Deferred::default();
            for _ in 0..timer_cbs {
                let w = witness.clone();
                deferred.push_timer_cb(Box::new(move |_: &crate::Timer| {
                    let _keep = &w;
                }));
            }
            deferred.push(witness.clone());
            assert_eq!(Rc::strong_count(&witness), timer_cbs + 2);
            drop(deferred);
            assert_eq!(Rc::strong_count(&witness), 1, "{timer_cbs} timer callbacks");
        }
    }
}

#[cfg(test)]
mod size_tests {
    /// The slab stores `Vacant(usize) | Occupied(Slot)`: what a timer costs
    /// there plus its 16-byte heap entry must stay within 64 bytes.
    #[test]
    fn a_timer_fits_in_64_bytes() {
        #[allow(dead_code)]
        enum SlabEntry {
            Vacant(usize),
            Occupied(super::Slot),
        }
        // A slab entry of 40 bytes and a heap entry of 16: a kind whose
        // state is as large as a timer's but has no spare bit pattern for
        // the enum's tag (a bool) grows every slot; box it.
        assert_eq!(std::mem::size_of::<SlabEntry>(), 40);
        assert!(std::mem::size_of::<SlabEntry>() + 16 <= 64);
    }
}

#[cfg(test)]
impl LoopState {
    /// Makes every free slot look as if `n` more handles had been created
    /// in it and closed (the most any slot can have seen after `n` handle
    /// creations), without spending hours creating them.
    fn age_free_slots(&mut self, n: u32) {
        for (_, slot) in self.slots.iter_mut() {
            if matches!(slot.kind, Kind::Vacant { .. }) {
                let aged = (slot.gen & !VACANT).saturating_add(n).min(LAST_GENERATION);
                slot.gen = aged | VACANT;
            }
        }
    }
}

#[cfg(test)]
mod generation_tests {
    use crate::{Error, Loop, RunMode, Timer};

    fn close_and_finish(lp: &Loop, t: &Timer) {
        t.close(|| {});
        lp.run(RunMode::NoWait).unwrap();
        assert!(t.is_closed());
    }

    #[test]
    fn a_stale_token_never_reaches_a_handle_made_after_2_pow_32_others() {
        let lp = Loop::new().unwrap();
        let first = Timer::new(&lp);
        close_and_finish(&lp, &first);
        lp.state().age_free_slots(u32::MAX);
        let later = Timer::new(&lp);
        assert!(first.is_closed());
        assert!(!later.is_closed());
        assert_ne!(first, later);
        assert_ne!(first.id(), later.id());
        assert_eq!(first.start(1, 0, |_| {}), Err(Error::ClosedHandle));
        assert!(!later.is_active());
        later.start(1, 0, |_| {}).unwrap();
        assert!(later.is_active());
        close_and_finish(&lp, &later);
        lp.close().unwrap();
    }

    #[test]
    fn a_slot_whose_generations_are_used_up_is_never_reused() {
        let lp = Loop::new().unwrap();
        let first = Timer::new(&lp);
        let slot = first.key().index;
        close_and_finish(&lp, &first);
        lp.state().age_free_slots(super::LAST_GENERATION - 2);
        let last = Timer::new(&lp);
        assert_eq!(last.key().index, slot);
        assert_eq!(last.key().gen, super::LAST_GENERATION);
        close_and_finish(&lp, &last);
        let next = Timer::new(&lp);
        assert_ne!(next.key().index, slot, "a used-up slot is retired");
        assert_eq!(next.key().gen, 1);
        assert!(last.is_closed() && first.is_closed() && !next.is_closed());
        assert_eq!(lp.handle_count(), 1);
        let mut walked = Vec::new();
        lp.walk(|h| walked.push(h.clone()));
        assert_eq!(walked, vec![crate::Handle::from(next.clone())]);
        close_and_finish(&lp, &next);
        assert_eq!(lp.handle_count(), 0);
        lp.close().unwrap();
    }

    #[test]
    fn a_retired_slot_at_the_head_of_the_free_list_is_skipped_for_the_next() {
        let lp = Loop::new().unwrap();
        let a = Timer::new(&lp);
        let b = Timer::new(&lp);
        b.close(|| {});
        a.close(|| {});
        // Finished most recently closed first (a, then b): b heads the
        // free list, a follows it.
        lp.run(RunMode::NoWait).unwrap();
        let retired = b.key().index;
        lp.state().slots[retired as usize].gen = super::LAST_GENERATION | super::VACANT;
        let c = Timer::new(&lp);
        assert_eq!((c.key().index, c.key().gen), (a.key().index, 2));
        let d = Timer::new(&lp);
        assert_eq!((d.key().index, d.key().gen), (2, 1), "a fresh slot");
        assert!(a.is_closed() && b.is_closed());
        assert_eq!(lp.handle_count(), 2);
        for t in [&c, &d] {
            t.close(|| {});
        }
        lp.run(RunMode::Default).unwrap();
        let e = Timer::new(&lp);
        assert_ne!(e.key().index, retired, "a retired slot stays out");
        assert_eq!(lp.handle_count(), 1);
        close_and_finish(&lp, &e);
        lp.close().unwrap();
    }

    #[test]
    fn freed_slots_are_reused_most_recent_first_with_the_next_generation() {
        let lp = Loop::new().unwrap();
        let timers: Vec<Timer> = (0..3).map(|_| Timer::new(&lp)).collect();
        timers[0].close(|| {});
        timers[2].close(|| {});
        assert_eq!(lp.handle_count(), 3, "closing handles still count");
        lp.run(RunMode::NoWait).unwrap();
        assert_eq!(lp.handle_count(), 1);
        // Closed in order 0, 2; the closing phase finishes 2 first, then 0.
        let a = Timer::new(&lp);
        let b = Timer::new(&lp);
        let c = Timer::new(&lp);
        assert_eq!((a.key().index, a.key().gen), (timers[0].key().index, 2));
        assert_eq!((b.key().index, b.key().gen), (timers[2].key().index, 2));
        assert_eq!((c.key().index, c.key().gen), (3, 1));
        assert!(timers[0].is_closed() && timers[2].is_closed());
        assert_eq!(lp.handle_count(), 4);
        for t in [&timers[1], &a, &b, &c] {
            t.close(|| {});
        }
        lp.run(RunMode::Default).unwrap();
        assert_eq!(lp.handle_count(), 0);
        lp.close().unwrap();
    }
}
