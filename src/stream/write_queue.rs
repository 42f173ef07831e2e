//! A stream's write queue: libuv's `write_queue` and
//! `write_completed_queue`, with two differences that save copies and
//! system calls.
//!
//! - A write is attempted at once when nothing waits, straight from the
//!   caller's slices; only what the kernel did not take is copied (into one
//!   buffer), so a write that goes out whole costs no copy and no
//!   allocation. Owned buffers are never copied.
//! - When the stream becomes writable again, one `writev` gathers the
//!   buffers of every waiting request (up to `IOV_MAX`), where libuv makes
//!   one system call per request.
//!
//! Completions are never reported from inside a write: finished requests
//! wait in order (written or failed) until the stream's owner takes them
//! in the pending phase, as libuv's callbacks run. The queue size
//! ([`WriteQueue::size`], libuv's `write_queue_size`) counts a request's
//! bytes from the write until its completion is taken.

use crate::error::{Error, StatusCode};
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Buffers one `writev` takes at most (Linux's `IOV_MAX`).
pub(crate) const IOV_MAX: usize = 1024;

/// A request's bytes that have not been written yet.
enum Payload {
    /// The caller's bytes that could not be written at once, copied into
    /// one buffer.
    Copied(Vec<u8>),
    /// Buffers the caller gave away.
    Owned(Vec<Vec<u8>>),
}

impl Payload {
    /// Pushes the unwritten part, `skip` bytes in, as slices onto `out`
    /// until `out` holds `IOV_MAX`; whether all of it fit.
    fn gather<'a>(&'a self, mut skip: usize, out: &mut Vec<IoSlice<'a>>) -> bool {
        let bufs: &[Vec<u8>] = match self {
            Payload::Copied(buf) => std::slice::from_ref(buf),
            Payload::Owned(bufs) => bufs,
        };
        for buf in bufs {
            if skip >= buf.len() {
                skip -= buf.len();
                continue;
            }
            if out.len() == IOV_MAX {
                return false;
            }
            out.push(IoSlice::new(&buf[skip..]));
            skip = 0;
        }
        true
    }
}

/// A request waiting for the stream to take its bytes.
struct Waiting<C> {
    payload: Payload,
    /// Bytes of `payload` already written.
    written: usize,
    /// A descriptor to send with the request's first bytes (an IPC pipe's
    /// `write2`), until a write took some of them.
    pass: Option<OwnedFd>,
    /// Bytes of `payload` in all.
    len: usize,
    /// What the request adds to the queue size until its completion is
    /// taken: all its bytes, including any written at once.
    counted: usize,
    cb: C,
}

/// A finished request whose completion was not taken yet.
struct Done<C> {
    counted: usize,
    cb: C,
    status: Result<(), Error>,
}

/// What a write or a flush left for the stream to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Nothing waits to be written.
    Idle,
    /// Bytes wait: write again once the stream is writable.
    Blocked,
    /// The stream failed with this error: the request at the head has it
    /// as its completion, the others wait for the stream to be closed
    /// (libuv keeps them queued too, and cancels them on close).
    Failed(Error),
}

/// The write queue of one stream; `C` is what a completion hands back
/// (the request's callback).
pub(crate) struct WriteQueue<C> {
    waiting: VecDeque<Waiting<C>>,
    done: VecDeque<Done<C>>,
    size: usize,
    /// Nothing may be written, not even an empty request finished: the
    /// stream is connecting (libuv only queues a write made then).
    held: bool,
}

impl<C> Default for WriteQueue<C> {
    fn default() -> Self {
        WriteQueue {
            waiting: VecDeque::new(),
            done: VecDeque::new(),
            size: 0,
            held: false,
        }
    }
}

/// Buffers of one write viewed as `IoSlice`s on the stack, without an
/// allocation; more go through a `Vec`.
pub(crate) const INLINE_SLICES: usize = 16;

/// Calls `f` with `bufs` as `IoSlice`s: on the stack up to
/// [`INLINE_SLICES`], so the common write allocates nothing.
pub(crate) fn with_io_slices<R>(bufs: &[&[u8]], f: impl FnOnce(&[IoSlice<'_>]) -> R) -> R {
    if let [one] = bufs {
        // The common write: no array of empty slices to fill first.
        f(&[IoSlice::new(one)])
    } else if bufs.len() <= INLINE_SLICES {
        let mut inline = [IoSlice::new(&[]); INLINE_SLICES];
        for (slot, buf) in inline.iter_mut().zip(bufs) {
            *slot = IoSlice::new(buf);
        }
        f(&inline[..bufs.len()])
    } else {
        let slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
        f(&slices)
    }
}

/// Retries `write` on EINTR.
fn write_retrying(
    write: &mut impl FnMut(&[IoSlice<'_>], Option<RawFd>) -> io::Result<usize>,
    slices: &[IoSlice<'_>],
    pass: Option<RawFd>,
) -> io::Result<usize> {
    loop {
        match write(slices, pass) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

impl<C> WriteQueue<C> {
    /// Bytes written or waiting whose completion was not taken (libuv's
    /// `write_queue_size`).
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Whether requests wait for the stream to take their bytes.
    pub(crate) fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Whether completions wait to be taken.
    pub(crate) fn has_done(&self) -> bool {
        !self.done.is_empty()
    }

    /// Completions waiting to be taken.
    pub(crate) fn done_count(&self) -> usize {
        self.done.len()
    }

    /// Holds every request back (`true`, while connecting) or lets them
    /// go again; a release writes nothing by itself (flush after it).
    pub(crate) fn hold(&mut self, held: bool) {
        self.held = held;
    }

    /// Requests whose completion was not taken: waiting or done.
    pub(crate) fn requests(&self) -> usize {
        self.waiting.len() + self.done.len()
    }

    /// Writes `bufs` as one request: at once through `write` (a `writev`)
    /// if nothing waits, copying only what it did not take; behind the
    /// waiting requests, copied, otherwise. `pass`, a descriptor to send
    /// with the request's first bytes, goes with the first write that
    /// takes any of them (the caller offers at least one byte with it).
    /// The completion (`cb` with the outcome) is taken later with
    /// [`WriteQueue::pop_done`].
    pub(crate) fn write(
        &mut self,
        bufs: &[&[u8]],
        pass: Option<OwnedFd>,
        cb: C,
        write: &mut impl FnMut(&[IoSlice<'_>], Option<RawFd>) -> io::Result<usize>,
    ) -> Progress {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        self.size += len;
        if self.held || !self.waiting.is_empty() {
            self.queue_copy(bufs, 0, len, pass, cb);
            return Progress::Blocked;
        }
        let (offered, attempt) = if len == 0 {
            (0, Ok(0))
        } else {
            with_io_slices(&bufs[..bufs.len().min(IOV_MAX)], |slices| {
                let offered: usize = slices.iter().map(|s| s.len()).sum();
                let fd = pass.as_ref().map(AsRawFd::as_raw_fd);
                (offered, write_retrying(write, slices, fd))
            })
        };
        let written = {
            match attempt {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(e) => {
                    let error = Error::from(e);
                    self.done.push_back(Done {
                        counted: len,
                        cb,
                        status: Err(error),
                    });
                    return Progress::Failed(error);
                }
            }
        };
        if written == len {
            self.done.push_back(Done {
                counted: len,
                cb,
                status: Ok(()),
            });
            return Progress::Idle;
        }
        // Sent with the bytes taken, if any.
        let pass = if written > 0 { None } else { pass };
        self.queue_copy(bufs, written, len, pass, cb);
        if written == offered {
            // The kernel took all one writev could offer (IOV_MAX
            // buffers): it is not full, so no writable event would come.
            return self.flush(write);
        }
        Progress::Blocked
    }

    /// Queues the bytes of `bufs` from offset `from` on, copied into one
    /// buffer, as a request counting `counted` bytes.
    fn queue_copy(
        &mut self,
        bufs: &[&[u8]],
        from: usize,
        counted: usize,
        pass: Option<OwnedFd>,
        cb: C,
    ) {
        let mut copy = Vec::with_capacity(counted - from);
        let mut skip = from;
        for buf in bufs {
            if skip >= buf.len() {
                skip -= buf.len();
                continue;
            }
            copy.extend_from_slice(&buf[skip..]);
            skip = 0;
        }
        self.waiting.push_back(Waiting {
            len: copy.len(),
            payload: Payload::Copied(copy),
            written: 0,
            pass,
            counted,
            cb,
        });
    }

    /// Writes `bufs`, which the queue keeps until they are written (never
    /// copied), as one request; otherwise as [`WriteQueue::write`].
    pub(crate) fn write_owned(
        &mut self,
        bufs: Vec<Vec<u8>>,
        cb: C,
        write: &mut impl FnMut(&[IoSlice<'_>], Option<RawFd>) -> io::Result<usize>,
    ) -> Progress {
        let len: usize = bufs.iter().map(Vec::len).sum();
        self.size += len;
        self.waiting.push_back(Waiting {
            payload: Payload::Owned(bufs),
            written: 0,
            pass: None,
            len,
            counted: len,
            cb,
        });
        if self.held || self.waiting.len() > 1 {
            return Progress::Blocked;
        }
        self.flush(write)
    }

    /// Writes what waits, as much as the stream takes, gathering several
    /// requests into one `writev`; finished requests become completions.
    pub(crate) fn flush(
        &mut self,
        write: &mut impl FnMut(&[IoSlice<'_>], Option<RawFd>) -> io::Result<usize>,
    ) -> Progress {
        if self.held {
            return Progress::Blocked;
        }
        loop {
            self.finish_written();
            if self.waiting.is_empty() {
                return Progress::Idle;
            }
            let mut slices = Vec::new();
            for (i, request) in self.waiting.iter().enumerate() {
                // A descriptor goes with its own request's first bytes:
                // such a request starts a system call of its own.
                if i > 0 && request.pass.is_some() {
                    break;
                }
                if !request.payload.gather(request.written, &mut slices) {
                    break;
                }
            }
            let pass = self.waiting.front().and_then(|r| r.pass.as_ref());
            let pass = pass.map(AsRawFd::as_raw_fd);
            // Never 0: empty requests at the head were finished above, and
            // a non-empty head gives at least one slice.
            let total: usize = slices.iter().map(|s| s.len()).sum();
            let result = write_retrying(write, &slices, pass);
            drop(slices);
            if matches!(result, Ok(n) if n > 0) {
                // Sent: the kernel holds its own reference now.
                if let Some(head) = self.waiting.front_mut() {
                    head.pass = None;
                }
            }
            match result {
                Ok(n) => {
                    self.advance(n);
                    if n < total || total == 0 {
                        // The kernel took less than offered: wait for it.
                        self.finish_written();
                        return Progress::Blocked;
                    }
                    // All of it: more may wait past IOV_MAX slices.
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Blocked,
                Err(e) => {
                    let error = Error::from(e);
                    let head = self.waiting.pop_front().expect("a request waits");
                    self.done.push_back(Done {
                        counted: head.counted,
                        cb: head.cb,
                        status: Err(error),
                    });
                    return Progress::Failed(error);
                }
            }
        }
    }

    /// Counts `n` more bytes written, from the head request on.
    fn advance(&mut self, mut n: usize) {
        for request in &mut self.waiting {
            let step = n.min(request.len - request.written);
            request.written += step;
            n -= step;
            if n == 0 {
                break;
            }
        }
    }

    /// Moves the fully written requests at the head to the completions.
    fn finish_written(&mut self) {
        while self
            .waiting
            .front()
            .is_some_and(|request| request.written == request.len)
        {
            let request = self.waiting.pop_front().expect("checked");
            self.done.push_back(Done {
                counted: request.counted,
                cb: request.cb,
                status: Ok(()),
            });
        }
    }

    /// Makes every waiting request a completion with `ECANCELED`, after the
    /// completions already there (libuv's order when a stream closes).
    pub(crate) fn cancel_all(&mut self) {
        while let Some(request) = self.waiting.pop_front() {
            self.done.push_back(Done {
                counted: request.counted,
                cb: request.cb,
                status: Err(Error::Status(StatusCode::ECANCELED)),
            });
        }
    }

    /// The oldest completion not taken yet; the queue size drops by its
    /// request's bytes.
    pub(crate) fn pop_done(&mut self) -> Option<(C, Result<(), Error>)> {
        let done = self.done.pop_front()?;
        self.size -= done.counted;
        Some((done.cb, done.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that takes up to `budget` bytes per call (then EAGAIN), and
    /// records what it got and how many slices each call had.
    #[derive(Default)]
    struct Sink {
        budget: Vec<io::Result<usize>>,
        got: Vec<u8>,
        calls: Vec<usize>,
        /// The descriptor each call carried.
        passes: Vec<Option<RawFd>>,
    }

    impl Sink {
        fn taking(budget: impl IntoIterator<Item = usize>) -> Sink {
            let mut budget: Vec<io::Result<usize>> = budget.into_iter().map(Ok).collect();
            budget.reverse();
            Sink {
                budget,
                ..Sink::default()
            }
        }

        fn writer(
            &mut self,
        ) -> impl FnMut(&[IoSlice<'_>], Option<RawFd>) -> io::Result<usize> + '_ {
            move |slices, pass| {
                assert!(slices.len() <= IOV_MAX);
                self.calls.push(slices.len());
                self.passes.push(pass);
                let cap = match self.budget.pop() {
                    None => return Err(io::ErrorKind::WouldBlock.into()),
                    Some(Err(e)) => return Err(e),
                    Some(Ok(cap)) => cap,
                };
                let mut n = 0;
                for s in slices {
                    let take = s.len().min(cap - n);
                    self.got.extend_from_slice(&s[..take]);
                    n += take;
                    if n == cap {
                        break;
                    }
                }
                Ok(n)
            }
        }
    }

    fn completions(q: &mut WriteQueue<u32>) -> Vec<(u32, Result<(), Error>)> {
        std::iter::from_fn(|| q.pop_done()).collect()
    }

    const EPIPE: Error = Error::Status(StatusCode::EPIPE);
    const ECANCELED: Error = Error::Status(StatusCode::ECANCELED);

    #[test]
    fn a_write_taken_whole_completes_without_waiting() {
        let mut q = WriteQueue::default();
        let mut sink = Sink::taking([100]);
        assert_eq!(
            q.write(&[b"ab", b"cd"], None, 1, &mut sink.writer()),
            Progress::Idle
        );
        assert_eq!(sink.got, b"abcd");
        assert_eq!(sink.calls, [2], "one writev of both buffers");
        assert!(!q.has_waiting());
        assert!(q.has_done());
        assert_eq!(q.size(), 4, "counted until the completion is taken");
        assert_eq!(completions(&mut q), [(1, Ok(()))]);
        assert_eq!(q.size(), 0);
    }

    #[test]
    fn the_rest_of_a_partial_write_waits_and_goes_out_later() {
        let mut q = WriteQueue::default();
        let mut sink = Sink::taking([3]);
        assert_eq!(
            q.write(&[b"ab", b"cdef"], None, 1, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(sink.got, b"abc");
        assert_eq!(q.size(), 6);
        assert!(!q.has_done());
        // A write behind it waits without a system call.
        assert_eq!(
            q.write(&[b"gh"], None, 2, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(sink.calls.len(), 1);
        assert_eq!(q.size(), 8);
        sink.budget = vec![Ok(100)];
        assert_eq!(q.flush(&mut sink.writer()), Progress::Idle);
        assert_eq!(sink.got, b"abcdefgh");
        assert_eq!(sink.calls, [2, 2], "both requests in one writev");
        assert_eq!(completions(&mut q), [(1, Ok(())), (2, Ok(()))]);
        assert_eq!(q.size(), 0);
    }

    #[test]
    fn eagain_at_once_queues_everything() {
        let mut q = WriteQueue::default();
        let mut sink = Sink::taking([]);
        assert_eq!(
            q.write(&[b"xyz"], None, 7, &mut sink.writer()),
            Progress::Blocked
        );
        assert!(sink.got.is_empty());
        assert_eq!(q.flush(&mut sink.writer()), Progress::Blocked);
        // A partial write means the kernel buffer is full: wait for the
        // next writable event rather than try again at once.
        sink.budget = vec![Ok(1), Ok(1), Ok(1)];
        assert_eq!(q.flush(&mut sink.writer()), Progress::Blocked);
        assert_eq!(q.flush(&mut sink.writer()), Progress::Blocked);
        assert_eq!(q.flush(&mut sink.writer()), Progress::Idle);
        assert_eq!(sink.got, b"xyz");
        assert_eq!(completions(&mut q), [(7, Ok(()))]);
    }

    #[test]
    fn empty_writes_complete_in_order() {
        let mut q = WriteQueue::default();
        let mut sink = Sink::taking([1]);
        assert_eq!(q.write(&[], None, 1, &mut sink.writer()), Progress::Idle);
        assert!(sink.calls.is_empty(), "nothing to write: no system call");
        assert_eq!(
            q.write(&[b"ab"], None, 2, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write(&[b""], None, 3, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write_owned(vec![], 4, &mut sink.writer()),
            Progress::Blocked
        );
        sink.budget = vec![Ok(1)];
        assert_eq!(q.flush(&mut sink.writer()), Progress::Idle);
        assert_eq!(
            completions(&mut q),
            [(1, Ok(())), (2, Ok(())), (3, Ok(())), (4, Ok(()))]
        );
    }

    #[test]
    fn owned_buffers_are_written_as_given() {
        let mut q = WriteQueue::default();
        let mut sink = Sink::taking([5, 100]);
        let bufs = vec![b"hello".to_vec(), b" ".to_vec(), b"world".to_vec()];
        assert_eq!(
            q.write_owned(bufs, 9, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(sink.got, b"hello");
        assert_eq!(q.flush(&mut sink.writer()), Progress::Idle);
        assert_eq!(sink.got, b"hello world");
        assert_eq!(sink.calls, [3, 2]);
        assert_eq!(completions(&mut q), [(9, Ok(()))]);
    }

    #[test]
    fn buffer_counts_at_and_past_iov_max() {
        for count in [
            1,
            INLINE_SLICES,
            INLINE_SLICES + 1,
            IOV_MAX - 1,
            IOV_MAX,
            IOV_MAX + 1,
            3 * IOV_MAX + 5,
        ] {
            let data: Vec<Vec<u8>> = (0..count).map(|i| vec![(i % 251) as u8]).collect();
            let expected: Vec<u8> = data.concat();
            let slices: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
            let mut q = WriteQueue::default();
            let mut sink = Sink::taking(std::iter::repeat(usize::MAX).take(8));
            // Past IOV_MAX the write goes on by itself: the kernel was not
            // full, so no writable event would come to finish it.
            assert_eq!(
                q.write(&slices, None, 1, &mut sink.writer()),
                Progress::Idle,
                "{count} buffers"
            );
            assert_eq!(sink.got, expected, "{count} buffers");
            assert_eq!(sink.calls[0], count.min(IOV_MAX), "{count} buffers");
            // Owned: several writevs of at most IOV_MAX slices each.
            let mut q = WriteQueue::default();
            let mut sink = Sink::taking(std::iter::repeat(usize::MAX).take(8));
            assert_eq!(q.write_owned(data, 2, &mut sink.writer()), Progress::Idle);
            assert_eq!(sink.got, expected, "{count} owned buffers");
            assert_eq!(
                sink.calls.len(),
                count.div_ceil(IOV_MAX),
                "{count} owned buffers"
            );
            assert_eq!(completions(&mut q), [(2, Ok(()))]);
        }
    }

    #[test]
    fn an_error_fails_the_head_request_and_the_rest_wait_for_close() {
        let mut q = WriteQueue::default();
        let mut sink = Sink::taking([2]);
        assert_eq!(
            q.write(&[b"abcd"], None, 1, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write(&[b"ef"], None, 2, &mut sink.writer()),
            Progress::Blocked
        );
        sink.budget = vec![Err(io::Error::from_raw_os_error(libc::EPIPE))];
        assert_eq!(q.flush(&mut sink.writer()), Progress::Failed(EPIPE));
        assert_eq!(completions(&mut q), [(1, Err(EPIPE))]);
        assert!(q.has_waiting());
        assert_eq!(q.size(), 2, "the waiting request still counts");
        q.cancel_all();
        assert_eq!(completions(&mut q), [(2, Err(ECANCELED))]);
        assert_eq!(q.size(), 0);
    }

    #[test]
    fn an_error_at_once_is_the_requests_completion() {
        let mut q = WriteQueue::default();
        let mut sink = Sink {
            budget: vec![Err(io::Error::from_raw_os_error(libc::EPIPE))],
            ..Sink::default()
        };
        assert_eq!(
            q.write(&[b"x"], None, 5, &mut sink.writer()),
            Progress::Failed(EPIPE)
        );
        assert!(!q.has_waiting());
        assert_eq!(completions(&mut q), [(5, Err(EPIPE))]);
        assert_eq!(q.size(), 0);
    }

    #[test]
    fn interrupted_writes_are_retried() {
        let mut q = WriteQueue::default();
        let mut sink = Sink {
            budget: vec![Ok(10), Err(io::ErrorKind::Interrupted.into())],
            ..Sink::default()
        };
        assert_eq!(
            q.write(&[b"abc"], None, 1, &mut sink.writer()),
            Progress::Idle
        );
        assert_eq!(sink.got, b"abc");
    }

    #[test]
    fn inline_slices_hold_every_buffer_at_their_boundaries() {
        let data: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; usize::from(i) + 1]).collect();
        for count in [0, 1, 2, INLINE_SLICES, INLINE_SLICES + 1, 40] {
            let bufs: Vec<&[u8]> = data[..count].iter().map(Vec::as_slice).collect();
            let seen = with_io_slices(&bufs, |slices| {
                slices.iter().map(|s| s.to_vec()).collect::<Vec<_>>()
            });
            assert_eq!(seen, data[..count].to_vec(), "{count} buffers");
        }
    }

    /// A descriptor to pass, and the raw number it had.
    fn descriptor() -> (OwnedFd, OwnedFd, RawFd) {
        let (r, w) = crate::sys::pipe_cloexec().unwrap();
        let raw = w.as_raw_fd();
        (r, w, raw)
    }

    #[test]
    fn a_passed_descriptor_goes_with_the_first_call_of_its_request_only() {
        let mut q = WriteQueue::default();
        let (_r, w, raw) = descriptor();
        let mut sink = Sink::taking([2]);
        assert_eq!(
            q.write(&[b"abcd"], Some(w), 1, &mut sink.writer()),
            Progress::Blocked
        );
        sink.budget = vec![Ok(100)];
        assert_eq!(q.flush(&mut sink.writer()), Progress::Idle);
        assert_eq!(sink.got, b"abcd");
        assert_eq!(sink.passes, [Some(raw), None], "not sent twice");
        assert_eq!(completions(&mut q), [(1, Ok(()))]);
    }

    #[test]
    fn a_passed_descriptor_waits_for_a_call_that_takes_bytes() {
        let mut q = WriteQueue::default();
        let (_r, w, raw) = descriptor();
        let mut sink = Sink::taking([]);
        assert_eq!(
            q.write(&[b"xy"], Some(w), 1, &mut sink.writer()),
            Progress::Blocked
        );
        sink.budget = vec![Ok(100)];
        assert_eq!(q.flush(&mut sink.writer()), Progress::Idle);
        assert_eq!(sink.passes, [Some(raw), Some(raw)]);
        assert_eq!(sink.got, b"xy");
    }

    #[test]
    fn a_request_with_a_descriptor_is_never_gathered_behind_another() {
        let mut q = WriteQueue::default();
        let (_r, w, raw) = descriptor();
        let mut sink = Sink::taking([1]);
        assert_eq!(
            q.write(&[b"ab"], None, 1, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write(&[b"cd"], Some(w), 2, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write(&[b"ef"], None, 3, &mut sink.writer()),
            Progress::Blocked
        );
        sink.budget = vec![Ok(100), Ok(100)];
        assert_eq!(q.flush(&mut sink.writer()), Progress::Idle);
        assert_eq!(sink.got, b"abcdef");
        // The first request's rest alone; then the descriptor's request
        // starts a call, with what follows it.
        assert_eq!(sink.calls, [1, 1, 2]);
        assert_eq!(sink.passes, [None, None, Some(raw)]);
        assert_eq!(completions(&mut q), [(1, Ok(())), (2, Ok(())), (3, Ok(()))]);
    }

    #[test]
    fn a_cancelled_request_closes_its_descriptor() {
        let mut q = WriteQueue::default();
        let (r, w, _) = descriptor();
        let mut sink = Sink::taking([]);
        assert_eq!(
            q.write(&[b"z"], Some(w), 1, &mut sink.writer()),
            Progress::Blocked
        );
        q.cancel_all();
        assert_eq!(completions(&mut q), [(1, Err(ECANCELED))]);
        // The only write end is gone: the read end is at its end.
        let mut buf = [0u8; 1];
        assert_eq!(crate::sys::read(r.as_raw_fd(), &mut buf).unwrap(), 0);
    }

    #[test]
    fn a_held_queue_writes_nothing_and_finishes_nothing_until_released() {
        let mut q = WriteQueue::default();
        let mut sink = Sink::taking([100]);
        q.hold(true);
        assert_eq!(
            q.write(&[b""], None, 1, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write(&[b"ab"], None, 2, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write_owned(vec![Vec::new()], 3, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(q.flush(&mut sink.writer()), Progress::Blocked);
        assert!(sink.calls.is_empty() && !q.has_done());
        assert_eq!(q.size(), 2);
        q.hold(false);
        assert_eq!(q.flush(&mut sink.writer()), Progress::Idle);
        assert_eq!(sink.got, b"ab");
        assert_eq!(completions(&mut q), [(1, Ok(())), (2, Ok(())), (3, Ok(()))]);
    }

    #[test]
    fn closing_cancels_waiting_requests_after_finished_ones_in_order() {
        let mut q = WriteQueue::default();
        let mut sink = Sink::taking([100]);
        assert_eq!(
            q.write(&[b"a"], None, 1, &mut sink.writer()),
            Progress::Idle
        );
        sink.budget = vec![Ok(1)];
        assert_eq!(
            q.write(&[b"bc"], None, 2, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write(&[b"d"], None, 3, &mut sink.writer()),
            Progress::Blocked
        );
        assert_eq!(
            q.write_owned(vec![b"e".to_vec()], 4, &mut sink.writer()),
            Progress::Blocked
        );
        q.cancel_all();
        assert_eq!(
            completions(&mut q),
            [
                (1, Ok(())),
                (2, Err(ECANCELED)),
                (3, Err(ECANCELED)),
                (4, Err(ECANCELED))
            ]
        );
        assert_eq!(q.size(), 0);
        assert!(!q.has_waiting());
    }
}
