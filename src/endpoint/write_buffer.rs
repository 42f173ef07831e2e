//! [`WriteBuffer`]: the flow-control bookkeeping every transport shares
//! (asyncio's `_FlowControlMixin`): how much is queued, the water marks,
//! and whether the protocol was told to pause writing.

use super::{water_marks, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER};
use crate::error::Result;

/// The write requests handed to a handle whose callbacks have not run, the
/// bytes they count, and the water marks that pause and resume the
/// protocol. Its methods say when `pause_writing` / `resume_writing` is
/// due; the transport delivers them once its state is no longer borrowed.
#[derive(Debug)]
pub(crate) struct WriteBuffer {
    /// Requests whose callbacks have not run.
    queued: usize,
    /// What they count (bytes, plus a datagram's overhead).
    size: usize,
    high: usize,
    low: usize,
    /// `pause_writing` was delivered and `resume_writing` not yet.
    paused: bool,
}

impl WriteBuffer {
    /// Empty, with asyncio's default water marks.
    pub(crate) fn new() -> WriteBuffer {
        WriteBuffer {
            queued: 0,
            size: 0,
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_LOW_WATER,
            paused: false,
        }
    }

    /// Nothing is queued: a new write may go out at once.
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// asyncio's `get_write_buffer_size`.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// `(low, high)`, asyncio's `get_write_buffer_limits` order.
    pub(crate) fn limits(&self) -> (usize, usize) {
        (self.low, self.high)
    }

    /// A request of `size` was queued; true if `pause_writing` is due.
    pub(crate) fn push(&mut self, size: usize) -> bool {
        self.queued += 1;
        self.size = self.size.saturating_add(size);
        self.should_pause()
    }

    /// A request of `size` finished; true if `resume_writing` is due (the
    /// protocol was paused and the buffer drained to the low mark).
    pub(crate) fn pop(&mut self, size: usize) -> bool {
        self.queued = self.queued.saturating_sub(1);
        self.size = self.size.saturating_sub(size);
        let resume = self.paused && self.size <= self.low;
        if resume {
            self.paused = false;
        }
        resume
    }

    /// Forgets every queued request (`abort`: their results are ignored).
    pub(crate) fn clear(&mut self) {
        self.queued = 0;
        self.size = 0;
    }

    /// asyncio's `set_write_buffer_limits` (see [`water_marks`]); true if
    /// `pause_writing` is due at once.
    pub(crate) fn set_limits(&mut self, high: Option<usize>, low: Option<usize>) -> Result<bool> {
        let (high, low) = water_marks(high, low)?;
        self.high = high;
        self.low = low;
        Ok(self.should_pause())
    }

    /// Pauses when strictly over the high mark and not paused yet.
    fn should_pause(&mut self) -> bool {
        if self.size > self.high && !self.paused {
            self.paused = true;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::WriteBuffer;

    #[test]
    fn pauses_strictly_over_high_and_resumes_at_low() {
        let mut b = WriteBuffer::new();
        b.set_limits(Some(10), Some(4)).unwrap();
        assert!(!b.push(10), "at the high mark: not over it");
        assert!(b.push(1), "one past it pauses");
        assert!(!b.push(1), "paused once only");
        assert!(!b.pop(1));
        assert!(!b.pop(6), "5 left, over the low mark");
        assert!(b.pop(1), "4 left: resumes");
        assert_eq!(b.size(), 4);
        assert!(b.is_empty(), "every request finished");
        assert!(!b.push(3));
        assert!(!b.is_empty());
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.size(), 0);
    }

    #[test]
    fn lowering_the_high_mark_pauses_at_once() {
        let mut b = WriteBuffer::new();
        assert!(!b.push(100));
        assert!(b.set_limits(Some(50), None).unwrap());
        assert_eq!(b.limits(), (12, 50));
        assert!(b.set_limits(Some(1), Some(2)).is_err());
        assert_eq!(b.limits(), (12, 50), "a rejected pair changes nothing");
    }
}
