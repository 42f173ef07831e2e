//! Process-wide signal delivery to loops.
//!
//! A signal disposition belongs to the process, but several loops (on any
//! threads) may watch the same signal, and each must see every catch. Each
//! loop that watches signals owns a [`SignalReceiver`]: an eventfd the loop
//! polls, and a slot in a static table of receivers with, per signal, a
//! count of catches not yet taken. One handler per signal number serves
//! every receiver: it adds one to the count of each receiver watching that
//! signal and writes to its eventfd. Counts never overflow into lost
//! signals (a full pipe drops libuv's messages; an eventfd write never
//! blocks and a count keeps every catch).
//!
//! The handler only touches atomics and calls `write(2)`, both
//! async-signal-safe; it takes no lock, so it cannot deadlock with a thread
//! that changes the table. Changes (which receiver watches what, installing
//! and restoring dispositions) take an ordinary mutex. A receiver that goes
//! away first unpublishes its descriptor, then waits until no handler is
//! inside its slot before closing the eventfd, so a handler never writes to
//! a closed (or reused) descriptor.
//!
//! When the last receiver stops watching a signal, the disposition that was
//! in place before ours comes back, unless somebody replaced ours in the
//! meantime (then theirs stays). libuv resets to `SIG_DFL` instead, which
//! broke programs with a handler of their own.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard};

/// Highest signal number on Linux (`SIGRTMAX`).
pub(crate) const MAX_SIGNUM: i32 = 64;

/// Loops that can watch signals at the same time in one process.
pub(crate) const MAX_SIGNAL_LOOPS: usize = 128;

/// Whether `signum` is a signal a handle may watch: 1 to 64 except
/// `SIGKILL` and `SIGSTOP`, which cannot be caught. (The C library may
/// still refuse a number it reserves, such as glibc's 32 and 33: that comes
/// back from [`SignalReceiver::watch`].)
pub(crate) fn valid_signum(signum: i32) -> bool {
    (1..=MAX_SIGNUM).contains(&signum) && signum != libc::SIGKILL && signum != libc::SIGSTOP
}

/// One receiver's part of the static table.
struct Receiver {
    /// The receiver's eventfd plus one; 0 while the slot is free.
    fd_plus_one: AtomicI32,
    /// Bit `n - 1` set: the receiver watches signal `n`.
    watched: AtomicU64,
    /// Handlers inside this slot right now.
    busy: AtomicU32,
    /// Per signal (`n - 1`): catches not yet taken by the loop.
    caught: [AtomicU32; MAX_SIGNUM as usize],
}

/// A count of zero, to fill arrays of counts with.
#[allow(clippy::declare_interior_mutable_const)] // only copied into statics
const NO_CATCHES: AtomicU32 = AtomicU32::new(0);

impl Receiver {
    /// A free slot, to fill the table with.
    #[allow(clippy::declare_interior_mutable_const)] // only copied into statics
    const FREE: Receiver = Receiver {
        fd_plus_one: AtomicI32::new(0),
        watched: AtomicU64::new(0),
        busy: AtomicU32::new(0),
        caught: [NO_CATCHES; MAX_SIGNUM as usize],
    };
}

static RECEIVERS: [Receiver; MAX_SIGNAL_LOOPS] = [Receiver::FREE; MAX_SIGNAL_LOOPS];

/// What changes of the table need to agree on.
struct Registry {
    /// Slots of `RECEIVERS` in use.
    used: [bool; MAX_SIGNAL_LOOPS],
    /// Per signal: how many receivers watch it.
    watchers: [u32; MAX_SIGNUM as usize + 1],
    /// Per signal: the disposition before ours, while ours is installed.
    previous: [Option<libc::sigaction>; MAX_SIGNUM as usize + 1],
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    used: [false; MAX_SIGNAL_LOOPS],
    watchers: [0; MAX_SIGNUM as usize + 1],
    previous: [None; MAX_SIGNUM as usize + 1],
});

/// The registry; a panic while it was held cannot have left it half
/// changed (every change is a single assignment after the system call), so
/// a poisoned lock is used as it is.
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn bit(signum: i32) -> u64 {
    1 << (signum - 1)
}

/// The handler installed for every watched signal.
extern "C" fn on_signal(signum: libc::c_int) {
    // SAFETY: `__errno_location` returns this thread's errno, valid for the
    // thread's life; the handler must give back the errno it interrupted.
    let errno = unsafe { *libc::__errno_location() };
    if (1..=MAX_SIGNUM).contains(&signum) {
        let bit = bit(signum);
        for receiver in &RECEIVERS {
            if receiver.watched.load(SeqCst) & bit == 0 {
                continue;
            }
            receiver.busy.fetch_add(1, SeqCst);
            let fd = receiver.fd_plus_one.load(SeqCst) - 1;
            if fd >= 0 {
                receiver.caught[(signum - 1) as usize].fetch_add(1, SeqCst);
                let one: u64 = 1;
                // SAFETY: `fd` is the receiver's open eventfd: it is closed
                // only after `busy` is back to 0 with the descriptor
                // unpublished; `one` is 8 readable bytes. write(2) is
                // async-signal-safe; a failure (a counter at its limit)
                // leaves the loop woken already.
                unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
            }
            receiver.busy.fetch_sub(1, SeqCst);
        }
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// The current disposition of `signum`.
fn current_action(signum: i32) -> io::Result<libc::sigaction> {
    // SAFETY: all-zero is a valid `sigaction` to be overwritten.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a NULL new action only reads the disposition into `old`,
    // which is writable and outlives the call.
    if unsafe { libc::sigaction(signum, std::ptr::null(), &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// Installs [`on_signal`] for `signum`: the disposition it replaced.
fn install(signum: i32) -> io::Result<libc::sigaction> {
    // SAFETY: all-zero is a valid `sigaction` to fill in.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // Interrupted system calls restart, as libuv's; every signal is blocked
    // while the handler runs, so it never nests.
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a writable sigset_t inside `action`.
    unsafe { libc::sigfillset(&mut action.sa_mask) };
    // SAFETY: as in `current_action`.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `action` is a complete, valid action whose handler is
    // async-signal-safe; `old` is writable; both outlive the call.
    if unsafe { libc::sigaction(signum, &action, &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// Puts `previous` back for `signum` if our handler is still the one
/// installed.
fn restore(signum: i32, previous: &libc::sigaction) {
    let ours = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    match current_action(signum) {
        Ok(now) if now.sa_sigaction == ours => {
            // SAFETY: `previous` is the complete action sigaction(2) gave
            // us for this signal; a NULL old action is allowed.
            unsafe { libc::sigaction(signum, previous, std::ptr::null_mut()) };
        }
        _ => {}
    }
}

/// Sends `signum` to the calling thread (`raise(3)`): a handler runs
/// before this returns, unless the thread blocks the signal.
pub(crate) fn raise(signum: i32) -> io::Result<()> {
    // SAFETY: raise(3) takes an integer; a bad one is reported as an error.
    if unsafe { libc::raise(signum) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `signum` to process `pid` (`kill(2)`).
pub(crate) fn kill(pid: i32, signum: i32) -> io::Result<()> {
    // SAFETY: kill(2) takes two integers; bad ones are reported as errors.
    if unsafe { libc::kill(pid, signum) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One loop's end of process-wide signal delivery.
#[derive(Debug)]
pub(crate) struct SignalReceiver {
    slot: usize,
    event: OwnedFd,
}

impl SignalReceiver {
    /// A receiver watching nothing yet. Fails with `ENOSPC` when
    /// [`MAX_SIGNAL_LOOPS`] receivers exist already.
    pub(crate) fn new() -> io::Result<SignalReceiver> {
        // SAFETY: eventfd(2) with valid flags; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        let event = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut registry = registry();
        let slot = registry
            .used
            .iter()
            .position(|used| !used)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOSPC))?;
        registry.used[slot] = true;
        let receiver = &RECEIVERS[slot];
        receiver.watched.store(0, SeqCst);
        for count in &receiver.caught {
            count.store(0, SeqCst);
        }
        receiver.fd_plus_one.store(fd + 1, SeqCst);
        Ok(SignalReceiver { slot, event })
    }

    /// The eventfd to poll for readability: readable once a watched signal
    /// was caught, until [`SignalReceiver::take_caught`].
    pub(crate) fn fd(&self) -> RawFd {
        self.event.as_raw_fd()
    }

    /// Starts delivering `signum` to this receiver, installing the handler
    /// if no receiver watched it. `EINVAL` for a number no handle may watch
    /// or one the C library refuses. Watching a signal twice is one watch.
    pub(crate) fn watch(&self, signum: i32) -> io::Result<()> {
        if !valid_signum(signum) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let receiver = &RECEIVERS[self.slot];
        let mut registry = registry();
        if receiver.watched.load(SeqCst) & bit(signum) != 0 {
            return Ok(());
        }
        let index = signum as usize;
        if registry.watchers[index] == 0 {
            registry.previous[index] = Some(install(signum)?);
        }
        registry.watchers[index] += 1;
        receiver.watched.fetch_or(bit(signum), SeqCst);
        Ok(())
    }

    /// Stops delivering `signum` here; the last receiver to stop puts the
    /// previous disposition back. Catches not yet taken stay countable.
    pub(crate) fn unwatch(&self, signum: i32) {
        if !valid_signum(signum) {
            return;
        }
        let mut registry = registry();
        self.unwatch_locked(&mut registry, signum);
    }

    fn unwatch_locked(&self, registry: &mut Registry, signum: i32) {
        let receiver = &RECEIVERS[self.slot];
        if receiver.watched.fetch_and(!bit(signum), SeqCst) & bit(signum) == 0 {
            return;
        }
        let index = signum as usize;
        registry.watchers[index] -= 1;
        if registry.watchers[index] == 0 {
            if let Some(previous) = registry.previous[index].take() {
                restore(signum, &previous);
            }
        }
    }

    /// Whether this receiver watches `signum`.
    #[cfg(test)]
    pub(crate) fn watches(&self, signum: i32) -> bool {
        valid_signum(signum) && RECEIVERS[self.slot].watched.load(SeqCst) & bit(signum) != 0
    }

    /// Takes the catches of `signum` counted so far (0 for a number no
    /// handle may watch), leaving the wakeup as it is.
    pub(crate) fn take_caught_of(&self, signum: i32) -> u32 {
        if !valid_signum(signum) {
            return 0;
        }
        RECEIVERS[self.slot].caught[(signum - 1) as usize].swap(0, SeqCst)
    }

    /// Clears the wakeup, then calls `f(signum, catches)` for every signal
    /// caught since the last call, lowest number first. A signal caught
    /// while this runs is either counted here or wakes the loop again.
    pub(crate) fn take_caught(&self, mut f: impl FnMut(i32, u32)) {
        let mut value = 0u64;
        // SAFETY: the eventfd is open (owned by `self`); `value` is 8
        // writable bytes. EAGAIN (nothing caught) is fine.
        unsafe { libc::read(self.fd(), (&mut value as *mut u64).cast(), 8) };
        let receiver = &RECEIVERS[self.slot];
        for (index, count) in receiver.caught.iter().enumerate() {
            let n = count.swap(0, SeqCst);
            if n != 0 {
                f(index as i32 + 1, n);
            }
        }
    }
}

impl Drop for SignalReceiver {
    fn drop(&mut self) {
        let mut registry = registry();
        for signum in 1..=MAX_SIGNUM {
            self.unwatch_locked(&mut registry, signum);
        }
        let receiver = &RECEIVERS[self.slot];
        receiver.fd_plus_one.store(0, SeqCst);
        // A handler that saw the descriptor before it was unpublished is
        // still inside the slot: the eventfd stays open until it leaves.
        while receiver.busy.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
        registry.used[self.slot] = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn raise(signum: i32) {
        // SAFETY: raise(3) delivers to this thread and returns after the
        // handler ran.
        assert_eq!(unsafe { libc::raise(signum) }, 0);
    }

    fn caught(receiver: &SignalReceiver) -> Vec<(i32, u32)> {
        let mut all = Vec::new();
        receiver.take_caught(|signum, n| all.push((signum, n)));
        all
    }

    fn readable(receiver: &SignalReceiver) -> bool {
        crate::sys::poll_now(receiver.fd(), true, false)
            .expect("poll the eventfd")
            .readable
    }

    // Each test uses its own real-time signals, as tests run in parallel
    // and dispositions are process-wide.
    fn rt(n: i32) -> i32 {
        libc::SIGRTMIN() + n
    }

    #[test]
    fn numbers_no_handle_may_watch() {
        for signum in [0, -1, 65, libc::SIGKILL, libc::SIGSTOP] {
            assert!(!valid_signum(signum), "{signum}");
        }
        for signum in [libc::SIGINT, libc::SIGTERM, libc::SIGCHLD, 64] {
            assert!(valid_signum(signum), "{signum}");
        }
        let receiver = SignalReceiver::new().unwrap();
        for signum in [0, 65, libc::SIGKILL, libc::SIGSTOP, 32, 33] {
            let err = receiver.watch(signum).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{signum}");
            assert!(!receiver.watches(signum));
        }
    }

    #[test]
    fn every_catch_is_counted_and_wakes_the_receiver() {
        let receiver = SignalReceiver::new().unwrap();
        let signum = rt(1);
        receiver.watch(signum).unwrap();
        assert!(receiver.watches(signum));
        assert!(!readable(&receiver));
        raise(signum);
        raise(signum);
        assert!(readable(&receiver));
        assert_eq!(caught(&receiver), [(signum, 2)]);
        assert!(!readable(&receiver));
        assert_eq!(caught(&receiver), []);
        receiver.unwatch(signum);
    }

    #[test]
    fn every_watching_receiver_gets_the_signal() {
        let a = SignalReceiver::new().unwrap();
        let b = SignalReceiver::new().unwrap();
        let bystander = SignalReceiver::new().unwrap();
        let signum = rt(2);
        a.watch(signum).unwrap();
        b.watch(signum).unwrap();
        b.watch(signum).unwrap();
        raise(signum);
        assert_eq!(caught(&a), [(signum, 1)]);
        assert_eq!(caught(&b), [(signum, 1)]);
        assert_eq!(caught(&bystander), []);
        // One watch less: the other receiver still gets it.
        a.unwatch(signum);
        raise(signum);
        assert_eq!(caught(&a), []);
        assert_eq!(caught(&b), [(signum, 1)]);
        drop(b);
    }

    static THEIRS_CALLED: AtomicBool = AtomicBool::new(false);

    extern "C" fn theirs(_: libc::c_int) {
        THEIRS_CALLED.store(true, SeqCst);
    }

    fn set_theirs(signum: i32) {
        // SAFETY: all-zero is a valid action to fill in.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = theirs as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: a complete action with an async-signal-safe handler.
        assert_eq!(
            unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) },
            0
        );
    }

    #[test]
    fn the_previous_disposition_comes_back_after_the_last_watcher() {
        let signum = rt(3);
        set_theirs(signum);
        let a = SignalReceiver::new().unwrap();
        let b = SignalReceiver::new().unwrap();
        a.watch(signum).unwrap();
        b.watch(signum).unwrap();
        raise(signum);
        assert!(!THEIRS_CALLED.load(SeqCst));
        a.unwatch(signum);
        raise(signum);
        assert!(!THEIRS_CALLED.load(SeqCst), "b still watches");
        drop(b);
        raise(signum);
        assert!(THEIRS_CALLED.swap(false, SeqCst));
        assert_eq!(caught(&a), [(signum, 1)], "caught while a watched");
    }

    #[test]
    fn a_handler_installed_over_ours_is_left_alone() {
        let signum = rt(4);
        let receiver = SignalReceiver::new().unwrap();
        receiver.watch(signum).unwrap();
        set_theirs(signum);
        receiver.unwatch(signum);
        raise(signum);
        assert!(THEIRS_CALLED.swap(false, SeqCst));
        assert_eq!(caught(&receiver), []);
    }

    #[test]
    fn slots_are_reused_with_nothing_left_over() {
        let signum = rt(5);
        let first = SignalReceiver::new().unwrap();
        first.watch(signum).unwrap();
        raise(signum);
        drop(first);
        let again: Vec<SignalReceiver> = (0..4).map(|_| SignalReceiver::new().unwrap()).collect();
        for receiver in &again {
            assert!(!receiver.watches(signum));
            assert_eq!(caught(receiver), []);
        }
    }
}
