//! A binary min-heap of armed timers ordered by (due time, start sequence).
//!
//! Each timer keeps its own heap position (in its slot), which the heap
//! updates through a callback as entries move, so cancelling a timer is
//! O(log n) and an entry is 16 bytes: with the slot, a timer costs 64 bytes.

/// A position that is no heap position: the timer is not armed.
pub(crate) const NOT_ARMED: u32 = u32::MAX;

/// An emptied heap keeps its buffer up to this many entries (16 KiB) and
/// frees a larger one: a burst of a million timers does not hold on to
/// 16 MB once they have all fired, and a loop that cycles through a few
/// hundred timers never reallocates.
const KEEP_WHEN_EMPTY: usize = 1024;

#[derive(Clone, Copy, Debug)]
struct Entry {
    due_ms: u64,
    /// Start order among timers due at the same time.
    seq: u32,
    slot: u32,
}

impl Entry {
    fn before(&self, other: &Entry) -> bool {
        (self.due_ms, self.seq) < (other.due_ms, other.seq)
    }
}

/// The armed timers of one loop. `moved(slot, position)` callbacks tell the
/// owner where a timer's entry now is (`NOT_ARMED` once it left the heap).
#[derive(Debug, Default)]
pub(crate) struct TimerHeap {
    entries: Vec<Entry>,
    next_seq: u32,
}

impl TimerHeap {
    /// Number of armed timers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Due time of the earliest timer.
    pub(crate) fn next_due(&self) -> Option<u64> {
        self.entries.first().map(|e| e.due_ms)
    }

    /// Due time of the timer at heap position `at`.
    pub(crate) fn due_at(&self, at: u32) -> Option<u64> {
        self.entries.get(at as usize).map(|e| e.due_ms)
    }

    /// Arms `slot` (not armed already) to fire at `due_ms`, after every
    /// timer armed earlier for the same time.
    pub(crate) fn push(&mut self, slot: u32, due_ms: u64, moved: &mut impl FnMut(u32, u32)) {
        if self.next_seq == u32::MAX {
            self.renumber(moved);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let at = self.entries.len();
        self.entries.push(Entry { due_ms, seq, slot });
        moved(slot, at as u32);
        self.sift_up(at, moved);
    }

    /// Removes and returns the earliest timer's slot if it is due at `now_ms`.
    pub(crate) fn pop_due(&mut self, now_ms: u64, moved: &mut impl FnMut(u32, u32)) -> Option<u32> {
        let first = *self.entries.first()?;
        if first.due_ms > now_ms {
            return None;
        }
        self.remove(0, moved);
        Some(first.slot)
    }

    /// Disarms the timer at heap position `at`.
    pub(crate) fn remove(&mut self, at: u32, moved: &mut impl FnMut(u32, u32)) {
        let at = at as usize;
        if at >= self.entries.len() {
            return;
        }
        let removed = self.entries.swap_remove(at);
        moved(removed.slot, NOT_ARMED);
        if at < self.entries.len() {
            moved(self.entries[at].slot, at as u32);
            self.sift_down(at, moved);
            self.sift_up(at, moved);
        } else if self.entries.is_empty() && self.entries.capacity() > KEEP_WHEN_EMPTY {
            self.entries = Vec::new();
        }
    }

    /// Gives the armed timers the sequence numbers 0..n in their current
    /// order, so that sequence numbers never wrap around: a sorted array is
    /// a valid heap, and relative order is all that sequences express.
    fn renumber(&mut self, moved: &mut impl FnMut(u32, u32)) {
        self.entries.sort_unstable_by_key(|e| (e.due_ms, e.seq));
        for (i, e) in self.entries.iter_mut().enumerate() {
            e.seq = i as u32;
            moved(e.slot, i as u32);
        }
        self.next_seq = self.entries.len() as u32;
    }

    fn swap(&mut self, a: usize, b: usize, moved: &mut impl FnMut(u32, u32)) {
        self.entries.swap(a, b);
        moved(self.entries[a].slot, a as u32);
        moved(self.entries[b].slot, b as u32);
    }

    fn sift_up(&mut self, mut at: usize, moved: &mut impl FnMut(u32, u32)) {
        while at > 0 {
            let parent = (at - 1) / 2;
            if !self.entries[at].before(&self.entries[parent]) {
                break;
            }
            self.swap(at, parent, moved);
            at = parent;
        }
    }

    fn sift_down(&mut self, mut at: usize, moved: &mut impl FnMut(u32, u32)) {
        let len = self.entries.len();
        loop {
            let left = 2 * at + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.entries[right].before(&self.entries[left]) {
                right
            } else {
                left
            };
            if !self.entries[child].before(&self.entries[at]) {
                break;
            }
            self.swap(at, child, moved);
            at = child;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Heap plus the positions its callbacks report.
    #[derive(Default)]
    struct Tracked {
        heap: TimerHeap,
        pos: HashMap<u32, u32>,
    }

    impl Tracked {
        fn push(&mut self, slot: u32, due: u64) {
            let pos = &mut self.pos;
            self.heap.push(slot, due, &mut |s, p| {
                pos.insert(s, p);
            });
        }
        fn remove(&mut self, slot: u32) {
            let at = self.pos[&slot];
            let pos = &mut self.pos;
            self.heap.remove(at, &mut |s, p| {
                pos.insert(s, p);
            });
        }
        fn pop_due(&mut self, now: u64) -> Option<u32> {
            let pos = &mut self.pos;
            self.heap.pop_due(now, &mut |s, p| {
                pos.insert(s, p);
            })
        }
    }

    #[test]
    fn pops_in_due_then_start_order_and_cancels() {
        let mut t = Tracked::default();
        t.push(3, 10);
        t.push(1, 5);
        t.push(7, 10);
        t.push(2, 5);
        t.remove(1);
        assert_eq!(t.pos[&1], NOT_ARMED);
        assert_eq!(t.heap.next_due(), Some(5));
        let mut order = Vec::new();
        while let Some(slot) = t.pop_due(10) {
            order.push(slot);
        }
        assert_eq!(order, vec![2, 3, 7]);
        assert_eq!(t.heap.len(), 0);
    }

    #[test]
    fn an_emptied_heap_frees_a_large_buffer_only() {
        for (armed, kept) in [
            (0, true),
            (1, true),
            (KEEP_WHEN_EMPTY, true),
            (KEEP_WHEN_EMPTY + 1, false),
            (4 * KEEP_WHEN_EMPTY, false),
        ] {
            let mut t = Tracked::default();
            for slot in 0..armed as u32 {
                t.push(slot, 5);
            }
            let capacity = t.heap.entries.capacity();
            while t.pop_due(5).is_some() {}
            assert_eq!(t.heap.len(), 0);
            let left = t.heap.entries.capacity();
            assert_eq!(left == capacity, kept, "{armed} timers armed");
            // Still usable either way.
            t.push(7, 1);
            assert_eq!(t.pop_due(1), Some(7));
        }
    }

    #[test]
    fn sequence_wrap_keeps_start_order() {
        let mut t = Tracked::default();
        t.heap.next_seq = u32::MAX - 2;
        for slot in 0..6 {
            t.push(slot, 100);
        }
        t.push(9, 50);
        let mut order = Vec::new();
        while let Some(slot) = t.pop_due(100) {
            order.push(slot);
        }
        assert_eq!(order, vec![9, 0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn positions_always_point_at_their_entries() {
        let mut t = Tracked::default();
        for slot in 0..200u32 {
            t.push(slot, u64::from((slot * 7919) % 97));
        }
        for slot in (0..200).step_by(3) {
            t.remove(slot);
        }
        for (&slot, &at) in &t.pos {
            if at != NOT_ARMED {
                assert_eq!(t.heap.entries[at as usize].slot, slot);
            }
        }
    }
}
