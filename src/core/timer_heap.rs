//! A binary min-heap of armed timers ordered by (due time, start sequence),
//! indexed by slab slot so that cancelling a timer is O(log n).

/// Slot positions for slots that hold no heap entry.
const ABSENT: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    due_ms: u64,
    seq: u64,
    slot: u32,
}

impl Entry {
    fn before(&self, other: &Entry) -> bool {
        (self.due_ms, self.seq) < (other.due_ms, other.seq)
    }
}

/// The armed timers of one loop.
#[derive(Debug, Default)]
pub(crate) struct TimerHeap {
    entries: Vec<Entry>,
    /// `positions[slot]` is the entry index of that slot's timer, or ABSENT.
    positions: Vec<u32>,
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

    /// Arms `slot`, which must not be armed already.
    pub(crate) fn push(&mut self, slot: u32, due_ms: u64, seq: u64) {
        let at = self.entries.len();
        if self.positions.len() <= slot as usize {
            self.positions.resize(slot as usize + 1, ABSENT);
        }
        self.entries.push(Entry { due_ms, seq, slot });
        self.positions[slot as usize] = at as u32;
        self.sift_up(at);
    }

    /// Removes and returns the earliest timer's slot if it is due at `now_ms`.
    pub(crate) fn pop_due(&mut self, now_ms: u64) -> Option<u32> {
        let first = *self.entries.first()?;
        if first.due_ms > now_ms {
            return None;
        }
        self.remove_at(0);
        Some(first.slot)
    }

    /// Disarms `slot`; returns whether it was armed.
    pub(crate) fn remove(&mut self, slot: u32) -> bool {
        match self.positions.get(slot as usize) {
            Some(&at) if at != ABSENT => {
                self.remove_at(at as usize);
                true
            }
            _ => false,
        }
    }

    fn remove_at(&mut self, at: usize) {
        let removed = self.entries.swap_remove(at);
        self.positions[removed.slot as usize] = ABSENT;
        if at < self.entries.len() {
            self.positions[self.entries[at].slot as usize] = at as u32;
            self.sift_down(at);
            self.sift_up(at);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.entries.swap(a, b);
        self.positions[self.entries[a].slot as usize] = a as u32;
        self.positions[self.entries[b].slot as usize] = b as u32;
    }

    fn sift_up(&mut self, mut at: usize) {
        while at > 0 {
            let parent = (at - 1) / 2;
            if !self.entries[at].before(&self.entries[parent]) {
                break;
            }
            self.swap(at, parent);
            at = parent;
        }
    }

    fn sift_down(&mut self, mut at: usize) {
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
            self.swap(at, child);
            at = child;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_due_then_sequence_order_and_cancels() {
        let mut heap = TimerHeap::default();
        heap.push(3, 10, 1);
        heap.push(1, 5, 2);
        heap.push(7, 10, 0);
        heap.push(2, 5, 3);
        assert!(heap.remove(1));
        assert!(!heap.remove(1));
        assert_eq!(heap.next_due(), Some(5));
        let mut order = Vec::new();
        while let Some(slot) = heap.pop_due(10) {
            order.push(slot);
        }
        assert_eq!(order, vec![2, 7, 3]);
        assert_eq!(heap.len(), 0);
    }
}
