//! [`Signal`]: run a callback on the loop when the process catches a
//! signal (libuv's `uv_signal_t`), and [`kill`].
//!
//! Every loop watching a signal gets each catch, on whatever thread it
//! runs: one process-wide handler per signal number counts the catch for
//! each watching loop and wakes it (`sys::SignalReceiver`). The loop hands
//! each catch to the handles that watched the signal when it was taken
//! (a handle started later does not get it; a handle stopped meanwhile
//! loses it) and runs, in its poll phase, each handle's callback once per
//! catch. When the last handle of the last loop stops watching a signal,
//! the disposition that was there before ruv's handler comes back (libuv
//! resets it to `SIG_DFL`).

use crate::core::kinds::Kind;
use crate::core::state::{Deferred, Key, LoopState, SIGNAL_TOKEN};
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle};
use crate::{sys, HandleType, Loop};
use mio::unix::SourceFd;
use mio::Interest;

type SignalCb = Box<dyn FnMut(&Signal, i32)>;

/// Per-handle state in the loop's slab.
pub(crate) struct SignalState {
    /// The signal watched; 0 while stopped.
    signum: i32,
    oneshot: bool,
    cb: Option<SignalCb>,
    /// Catches handed to this handle and not reported yet.
    pending: u32,
    /// Changes on every start and stop, so that a dispatch can tell whether
    /// the handle it called was restarted or stopped meanwhile.
    epoch: u32,
}

/// What a loop keeps for its signal handles.
pub(crate) struct PerLoop {
    /// The loop's end of process-wide delivery; made at the first start.
    receiver: Option<sys::SignalReceiver>,
    /// Started handles, in start order: the order their callbacks run.
    started: Vec<Key>,
    /// Per signal number: started handles of this loop watching it.
    watchers: [u32; sys::MAX_SIGNUM as usize + 1],
}

impl Default for PerLoop {
    fn default() -> Self {
        PerLoop {
            receiver: None,
            started: Vec::new(),
            watchers: [0; sys::MAX_SIGNUM as usize + 1],
        }
    }
}

/// A signal handle (`uv_signal_t`).
///
/// ```
/// use ruv::{Loop, RunMode, Signal};
/// let lp = Loop::new()?;
/// let signal = Signal::new(&lp);
/// signal.start_oneshot(libc::SIGUSR2, |s, signum| {
///     assert_eq!(signum, libc::SIGUSR2);
///     s.close(|| {});
/// })?;
/// ruv::kill(std::process::id() as i32, libc::SIGUSR2)?;
/// lp.run(RunMode::Default)?;
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Signal {
    handle: Handle,
}

typed_handle!(Signal);

impl Signal {
    /// Creates a stopped signal handle (`uv_signal_init`).
    #[must_use = "dropping the token does not close the handle: it stays in the loop until closed"]
    pub fn new(lp: &Loop) -> Signal {
        let kind = Kind::Signal(Box::new(SignalState {
            signum: 0,
            oneshot: false,
            cb: None,
            pending: 0,
            epoch: 0,
        }));
        Signal {
            handle: Handle::insert(lp, HandleType::Signal, kind),
        }
    }

    /// Runs `cb` with the signal number each time the process catches
    /// `signum` (`uv_signal_start`). Starting a handle already watching
    /// `signum` only replaces the callback; one watching another signal
    /// moves to `signum`. `EINVAL` for 0, a number past 64, `SIGKILL`,
    /// `SIGSTOP` and the numbers the C library keeps for itself (glibc's
    /// 32 and 33).
    pub fn start(&self, signum: i32, cb: impl FnMut(&Signal, i32) + 'static) -> Result<()> {
        self.start_with(signum, false, Box::new(cb))
    }

    /// As [`Signal::start`], but the handle stops after its callback ran
    /// once (`uv_signal_start_oneshot`); inside that callback it is still
    /// active.
    pub fn start_oneshot(&self, signum: i32, cb: impl FnMut(&Signal, i32) + 'static) -> Result<()> {
        self.start_with(signum, true, Box::new(cb))
    }

    fn start_with(&self, signum: i32, oneshot: bool, cb: SignalCb) -> Result<()> {
        let key = self.key();
        let mut cb = Some(cb);
        self.get_loop().with_deferred(|st, deferred| {
            let current = signal_mut(st, key)?.signum;
            if current != 0 && current == signum {
                let s = signal_mut(st, key)?;
                if let Some(old) = std::mem::replace(&mut s.cb, cb.take()) {
                    deferred.push(old);
                }
                return Ok(());
            }
            if !sys::valid_signum(signum) {
                return Err(Error::Status(StatusCode::EINVAL));
            }
            // Catches taken before this start belong to the handles that
            // were watching then.
            hand_out(st, signum);
            watch(st, signum)?;
            if current != 0 {
                unwatch(st, current);
                st.per_kind.signal.started.retain(|&k| k != key);
            }
            let s = signal_mut(st, key)?;
            s.signum = signum;
            s.oneshot = oneshot;
            s.pending = 0;
            s.epoch = s.epoch.wrapping_add(1);
            if let Some(old) = std::mem::replace(&mut s.cb, cb.take()) {
                deferred.push(old);
            }
            st.per_kind.signal.started.push(key);
            st.set_active(key, true);
            Ok(())
        })
    }

    /// Stops watching (`uv_signal_stop`); stopping a stopped or closed
    /// handle does nothing.
    pub fn stop(&self) -> Result<()> {
        let key = self.key();
        self.get_loop()
            .with_deferred(|st, deferred| stop(st, key, deferred));
        Ok(())
    }

    /// The signal watched, 0 while stopped (`uv_signal_t.signum`).
    pub fn signum(&self) -> i32 {
        let st = self.get_loop().state();
        match st.slot(self.key()).map(|s| &s.kind) {
            Some(Kind::Signal(s)) => s.signum,
            _ => 0,
        }
    }
}

/// Sends `signum` to the calling thread (`raise(3)`): ruv's handler counts
/// it before this returns (unless the thread blocks the signal), so the
/// loop's next poll phase runs the callbacks. Handy in tests: [`kill`] of
/// the own process may be handled on another thread a moment later.
pub fn raise(signum: i32) -> Result<()> {
    sys::raise(signum).map_err(Error::from)
}

/// Sends `signum` to process `pid` (`uv_kill`); 0 checks that the process
/// exists. libuv's codes: `ESRCH` for no such process, `EPERM`, `EINVAL`
/// for a bad number.
pub fn kill(pid: i32, signum: i32) -> Result<()> {
    sys::kill(pid, signum).map_err(Error::from)
}

fn signal_mut(st: &mut LoopState, key: Key) -> Result<&mut SignalState> {
    match &mut st.live_mut(key)?.kind {
        Kind::Signal(s) => Ok(s),
        _ => Err(Error::ClosedHandle),
    }
}

/// Counts one more watcher of `signum` in this loop; the first makes the
/// loop's receiver (registered with the loop's poll) watch it. The process
/// module watches `SIGCHLD` this way where it reaps children on it.
pub(crate) fn watch(st: &mut LoopState, signum: i32) -> Result<()> {
    let index = signum as usize;
    if st.per_kind.signal.watchers[index] == 0 {
        if st.per_kind.signal.receiver.is_none() {
            let receiver = sys::SignalReceiver::new()?;
            st.poll.registry().register(
                &mut SourceFd(&receiver.fd()),
                SIGNAL_TOKEN,
                Interest::READABLE,
            )?;
            st.per_kind.signal.receiver = Some(receiver);
        }
        let receiver = st.per_kind.signal.receiver.as_ref().expect("made above");
        receiver.watch(signum)?;
        // What was counted while nobody in this loop watched is nobody's.
        receiver.take_caught_of(signum);
    }
    st.per_kind.signal.watchers[index] += 1;
    Ok(())
}

/// One watcher of `signum` less in this loop; the last stops the receiver
/// watching it.
pub(crate) fn unwatch(st: &mut LoopState, signum: i32) {
    let per = &mut st.per_kind.signal;
    let index = signum as usize;
    per.watchers[index] -= 1;
    if per.watchers[index] == 0 {
        if let Some(receiver) = &per.receiver {
            receiver.unwatch(signum);
        }
    }
}

fn stop(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    let Ok(s) = signal_mut(st, key) else {
        return;
    };
    let signum = std::mem::replace(&mut s.signum, 0);
    s.epoch = s.epoch.wrapping_add(1);
    s.pending = 0;
    if let Some(cb) = s.cb.take() {
        deferred.push(cb);
    }
    if signum != 0 {
        unwatch(st, signum);
        st.per_kind.signal.started.retain(|&k| k != key);
    }
    st.set_active(key, false);
}

/// Part of `close`: stop watching. Catches not dispatched yet are not the
/// closed handle's any more (libuv's `signal_pending_on_close`).
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    stop(st, key, deferred);
}

/// Hands the catches of `signum` counted so far to the handles started
/// for it, one each per catch (a one-shot handle takes one in all).
fn hand_out(st: &mut LoopState, signum: i32) {
    let n = match &st.per_kind.signal.receiver {
        Some(receiver) => receiver.take_caught_of(signum),
        None => 0,
    };
    if n != 0 {
        give(st, signum, n);
    }
}

/// Hands `n` catches of `signum` to the handles started for it; a
/// `SIGCHLD` also tells the process module to look for exited children.
fn give(st: &mut LoopState, signum: i32, n: u32) {
    if signum == libc::SIGCHLD {
        st.per_kind.process.sigchld_caught = true;
    }
    let keys = std::mem::take(&mut st.per_kind.signal.started);
    for &key in &keys {
        if let Ok(s) = signal_mut(st, key) {
            if s.signum == signum {
                s.pending = if s.oneshot {
                    1
                } else {
                    s.pending.saturating_add(n)
                };
            }
        }
    }
    st.per_kind.signal.started = keys;
}

/// The loop's receiver woke it: hands out every catch, then runs the
/// callbacks, per handle in start order, once per catch handed to it.
pub(crate) fn dispatch_caught(lp: &Loop) {
    let keys: Vec<Key> = {
        let mut st = lp.state();
        let mut caught: Vec<(i32, u32)> = Vec::new();
        if let Some(receiver) = &st.per_kind.signal.receiver {
            receiver.take_caught(|signum, n| caught.push((signum, n)));
        }
        for (signum, n) in caught {
            give(&mut st, signum, n);
        }
        let st = &*st;
        st.per_kind
            .signal
            .started
            .iter()
            .copied()
            .filter(
                |&k| matches!(st.slot(k).map(|s| &s.kind), Some(Kind::Signal(s)) if s.pending > 0),
            )
            .collect()
    };
    let sigchld = std::mem::take(&mut lp.state().per_kind.process.sigchld_caught);
    if sigchld {
        crate::process::reap_on_sigchld(lp);
    }
    for key in keys {
        while run_callback(lp, key) {}
    }
}

/// Runs `key`'s callback for one catch handed to it; whether another may
/// follow (the handle still started as it was, with catches left).
fn run_callback(lp: &Loop, key: Key) -> bool {
    let (mut cb, signum, epoch, oneshot) = {
        let mut st = lp.state();
        let Ok(s) = signal_mut(&mut st, key) else {
            return false;
        };
        if s.pending == 0 {
            return false;
        }
        let Some(cb) = s.cb.take() else {
            return false;
        };
        s.pending -= 1;
        (cb, s.signum, s.epoch, s.oneshot)
    };
    cb(
        &Signal {
            handle: Handle::from_parts(lp.clone(), key, HandleType::Signal),
        },
        signum,
    );
    lp.with_deferred(|st, deferred| {
        let Ok(s) = signal_mut(st, key) else {
            deferred.push(cb);
            return false;
        };
        if s.epoch != epoch {
            // Stopped, or moved to another signal: its catches went too.
            deferred.push(cb);
            return false;
        }
        if oneshot {
            deferred.push(cb);
            stop(st, key, deferred);
            return false;
        }
        // A start with the same number may have swapped the callback: the
        // new one gets the catches left.
        if s.cb.is_none() {
            s.cb = Some(cb);
        } else {
            deferred.push(cb);
        }
        s.pending > 0
    })
}
