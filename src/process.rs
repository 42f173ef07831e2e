//! [`Process`]: a child process started on the loop, whose exit runs a
//! callback (libuv's `uv_process_t`).
//!
//! Each child is watched through a pidfd in the loop's epoll set: its exit
//! is one readable event, reaped with one `waitpid` of that child (libuv
//! calls `waitpid` for every child on every `SIGCHLD`). A process handle
//! closed before its child exits hands the child to the loop, which still
//! reaps it when it exits (libuv leaves a zombie, libuv#1911). Signals go
//! through the pidfd too, so `kill` after the child was reaped is `ESRCH`
//! and never reaches a process that got its pid since.
//!
//! Where pidfds are unavailable (kernels before 5.3, a seccomp filter that
//! refuses `pidfd_open`; or `RUV_REAP_WITH_SIGCHLD=1`, or
//! [`Loop::reap_with_sigchld`] for one loop), a loop with children watches
//! `SIGCHLD` through the signal machinery (`crate::signal`, started before
//! the first such child so that no exit goes unnoticed) and keeps its
//! children by pid. On a catch it asks the kernel which child exited
//! without reaping it (`waitid(WNOWAIT)`) and, when that child is one of
//! its own, reaps just that one: O(exited children) per signal. A zombie
//! that is not the loop's (the program's own child, another loop's) would
//! be reported again and again, so then the loop falls back to one
//! `waitpid(pid, WNOHANG)` per child it has, libuv's O(children) scan, for
//! that signal. Without a pidfd, `kill` goes by pid, which is safe while
//! the loop has not reaped the child (a child reaped by somebody else's
//! `waitpid(-1)` could have its pid reused: pidfds close that gap).

use crate::core::kinds::Kind;
use crate::core::state::{Deferred, Key, LoopState, ORPHANS_TOKEN};
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle};
use crate::{sys, HandleType, Loop, Pipe};
use bitflags::bitflags;
use mio::unix::SourceFd;
use mio::Interest;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

bitflags! {
    /// Spawn flags (`uv_process_flags`, libuv's values). The Windows ones
    /// are accepted and change nothing here, as in libuv on Unix.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct ProcessFlags: u32 {
        /// Run as [`ProcessOptions::with_uid`]'s user (`UV_PROCESS_SETUID`).
        const SETUID = 1 << 0;
        /// Run as [`ProcessOptions::with_gid`]'s group (`UV_PROCESS_SETGID`).
        const SETGID = 1 << 1;
        /// `UV_PROCESS_WINDOWS_VERBATIM_ARGUMENTS` (no effect here).
        const WINDOWS_VERBATIM_ARGUMENTS = 1 << 2;
        /// The child leads a new session (`setsid`), so it outlives a
        /// terminal's hang-up of ours (`UV_PROCESS_DETACHED`).
        const DETACHED = 1 << 3;
        /// `UV_PROCESS_WINDOWS_HIDE` (no effect here).
        const WINDOWS_HIDE = 1 << 4;
        /// `UV_PROCESS_WINDOWS_HIDE_CONSOLE` (no effect here).
        const WINDOWS_HIDE_CONSOLE = 1 << 5;
        /// `UV_PROCESS_WINDOWS_HIDE_GUI` (no effect here).
        const WINDOWS_HIDE_GUI = 1 << 6;
        /// `UV_PROCESS_WINDOWS_FILE_PATH_EXACT_NAME` (no effect here).
        const WINDOWS_FILE_PATH_EXACT_NAME = 1 << 7;
    }
}

/// What one of the child's standard descriptors is (`uv_stdio_container_t`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Stdio {
    /// `/dev/null` (libuv's `UV_IGNORE` for 0–2), read-only as standard
    /// input as libuv has it.
    Ignore,
    /// A copy of this descriptor of ours (`UV_INHERIT_FD`; for a stream's
    /// descriptor, `UV_INHERIT_STREAM`: pass its `as_raw_fd()`). As the
    /// child's 0, 1 or 2 it is made blocking, as libuv does: the flag
    /// belongs to the open file, which ours shares.
    InheritFd(RawFd),
    /// A connected socket pair (libuv's `UV_CREATE_PIPE`): the child gets
    /// one end (blocking, as programs expect of their standard
    /// descriptors), and `spawn` opens the other into this pipe, which must
    /// be new (`Pipe::new`, not bound, opened or connected). Both ends read
    /// and write; a child reading its stdin sees EOF when ours is shut
    /// down or closed.
    CreatePipe(Pipe),
    /// As [`Stdio::CreatePipe`], with libuv's directions (its
    /// `UV_READABLE_PIPE` and `UV_WRITABLE_PIPE`, from the child's point of
    /// view): our pipe is writable only if the child reads from it and
    /// readable only if the child writes to it (`is_readable`,
    /// `is_writable`, and reads and writes, follow).
    CreatePipeDirected {
        /// The new pipe that gets our end.
        pipe: Pipe,
        /// The child reads from its end.
        child_reads: bool,
        /// The child writes to its end.
        child_writes: bool,
    },
}

impl Stdio {
    /// The pipe a `CreatePipe*` slot fills, with whether our end may be
    /// read and written.
    fn created_pipe(&self) -> Option<(&Pipe, bool, bool)> {
        match self {
            Stdio::CreatePipe(pipe) => Some((pipe, true, true)),
            Stdio::CreatePipeDirected {
                pipe,
                child_reads,
                child_writes,
            } => Some((pipe, *child_writes, *child_reads)),
            _ => None,
        }
    }
}

/// How to start a child (`uv_process_options_t`); `Default` + `with_*`.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ProcessOptions {
    /// The program: a path, or a name looked up on `PATH` (the child's
    /// `PATH` when [`ProcessOptions::env`] sets one); a relative path is
    /// the child's, from [`ProcessOptions::cwd`] when that is set.
    pub file: OsString,
    /// The arguments, `argv[0]` included; empty: `[file]`.
    pub args: Vec<OsString>,
    /// The environment as `NAME=value` entries; `None`: ours.
    pub env: Option<Vec<OsString>>,
    /// The working directory; `None`: ours.
    pub cwd: Option<PathBuf>,
    /// Spawn flags.
    pub flags: ProcessFlags,
    /// The user id with [`ProcessFlags::SETUID`].
    pub uid: u32,
    /// The group id with [`ProcessFlags::SETGID`].
    pub gid: u32,
    /// The child's descriptors 0, 1, 2, ...; missing ones among 0–2 are
    /// [`Stdio::Ignore`].
    pub stdio: Vec<Stdio>,
}

impl ProcessOptions {
    /// Options to run `file` with no arguments but its name.
    pub fn new(file: impl Into<OsString>) -> ProcessOptions {
        ProcessOptions {
            file: file.into(),
            ..ProcessOptions::default()
        }
    }

    /// Sets the arguments (`argv[0]` included).
    pub fn with_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the environment (`NAME=value` entries).
    pub fn with_env<I, S>(mut self, env: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.env = Some(env.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the working directory.
    pub fn with_cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Sets the flags.
    pub fn with_flags(mut self, flags: ProcessFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Sets the user id (used with [`ProcessFlags::SETUID`]).
    pub fn with_uid(mut self, uid: u32) -> Self {
        self.uid = uid;
        self
    }

    /// Sets the group id (used with [`ProcessFlags::SETGID`]).
    pub fn with_gid(mut self, gid: u32) -> Self {
        self.gid = gid;
        self
    }

    /// Sets the child's descriptors 0, 1, 2, ...
    pub fn with_stdio(mut self, stdio: impl Into<Vec<Stdio>>) -> Self {
        self.stdio = stdio.into();
        self
    }

    /// The C library's view of these options; `child_ends[n]` is the
    /// descriptor slot `n` gets for a [`Stdio::CreatePipe`].
    fn spec(&self, child_ends: &[Option<RawFd>]) -> Result<sys::SpawnSpec> {
        let path_var = self.env.as_ref().map_or_else(
            || std::env::var_os("PATH"),
            |env| {
                env.iter().find_map(|e| {
                    e.as_bytes()
                        .strip_prefix(b"PATH=")
                        .map(|v| OsStr::from_bytes(v).to_owned())
                })
            },
        );
        let path = sys::resolve_program(
            &self.file,
            path_var.as_deref(),
            self.cwd.as_deref().map(|d| d.as_os_str()),
        )?;
        let cstr = |s: &OsStr| sys::cstring(s.as_bytes()).map_err(Error::from);
        let argv = if self.args.is_empty() {
            vec![cstr(&self.file)?]
        } else {
            self.args.iter().map(|a| cstr(a)).collect::<Result<_>>()?
        };
        let env = match &self.env {
            Some(env) => Some(env.iter().map(|e| cstr(e)).collect::<Result<_>>()?),
            None => None,
        };
        let cwd = match &self.cwd {
            Some(cwd) => Some(cstr(cwd.as_os_str())?),
            None => None,
        };
        let mut stdio: Vec<sys::StdioAction> = self
            .stdio
            .iter()
            .enumerate()
            .map(|(n, s)| match (s, child_ends.get(n).copied().flatten()) {
                (Stdio::InheritFd(fd), _) => sys::StdioAction::Dup(*fd),
                (s, Some(end)) if s.created_pipe().is_some() => sys::StdioAction::Dup(end),
                _ => sys::StdioAction::Null,
            })
            .collect();
        while stdio.len() < 3 {
            stdio.push(sys::StdioAction::Null);
        }
        Ok(sys::SpawnSpec {
            path,
            argv,
            env,
            cwd,
            stdio,
            setsid: self.flags.contains(ProcessFlags::DETACHED),
            uid: self
                .flags
                .contains(ProcessFlags::SETUID)
                .then_some(self.uid),
            gid: self
                .flags
                .contains(ProcessFlags::SETGID)
                .then_some(self.gid),
        })
    }
}

type ExitCb = Box<dyn FnOnce(&Process, i64, i32)>;

/// Per-handle state in the loop's slab.
pub(crate) struct ProcessState {
    /// The child until it is reaped or handed to the loop's orphans.
    child: Option<sys::Child>,
    pid: i32,
    exit_cb: Option<ExitCb>,
}

/// What a loop keeps for processes: children whose handle was closed
/// before they exited, still reaped when they do.
pub(crate) struct PerLoop {
    orphans: Vec<sys::Child>,
    /// Reap on `SIGCHLD` (no pidfds) rather than through pidfds.
    sigchld_reaping: bool,
    /// With `sigchld_reaping`: the loop's unreaped children by pid, with
    /// their handle (`None` once it was closed: an orphan).
    by_pid: HashMap<i32, Option<Key>>,
    /// With `sigchld_reaping`: this loop watches `SIGCHLD` (while it has
    /// children, and from just before its first spawn).
    watching_sigchld: bool,
    /// `SIGCHLD` was caught and the loop has not looked for exits since.
    pub(crate) sigchld_caught: bool,
}

impl Default for PerLoop {
    /// A loop's process state: reaping on `SIGCHLD` when the process has
    /// no pidfds.
    fn default() -> PerLoop {
        PerLoop {
            orphans: Vec::new(),
            sigchld_reaping: sys::pidfds_unavailable(),
            by_pid: HashMap::new(),
            watching_sigchld: false,
            sigchld_caught: false,
        }
    }
}

impl PerLoop {
    /// Whether the loop watches `SIGCHLD` for children still to reap.
    pub(crate) fn watches_sigchld(&self) -> bool {
        self.watching_sigchld
    }
}

impl Loop {
    /// Reaps this loop's children on `SIGCHLD` instead of through pidfds,
    /// as where the kernel has none (for tests of that fallback). Takes
    /// effect for children spawned afterwards.
    #[doc(hidden)]
    pub fn reap_with_sigchld(&self) {
        self.state().per_kind.process.sigchld_reaping = true;
    }
}

/// A child process (`uv_process_t`).
///
/// ```
/// use ruv::{Loop, Process, ProcessOptions, RunMode};
/// let lp = Loop::new()?;
/// let opts = ProcessOptions::new("sh").with_args(["sh", "-c", "exit 7"]);
/// Process::spawn(&lp, &opts, |p, status, signal| {
///     assert_eq!((status, signal), (7, 0));
///     p.close(|| {});
/// })?;
/// lp.run(RunMode::Default)?;
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Process {
    handle: Handle,
}

typed_handle!(Process);

impl Process {
    /// Starts a child (`uv_spawn`); `exit_cb` runs on the loop when it
    /// exits, with its exit status and the signal that ended it (0 when it
    /// exited). Exec failures (`ENOENT`, `EACCES`, ...) are this call's
    /// error, and then no handle exists. The handle is active, keeping the
    /// loop alive, until the child exits.
    pub fn spawn(
        lp: &Loop,
        options: &ProcessOptions,
        exit_cb: impl FnOnce(&Process, i64, i32) + 'static,
    ) -> Result<Process> {
        // The socket pairs of `CreatePipe` slots: the child's ends go to
        // the spawn, ours into the pipes once the child runs.
        let mut ours: Vec<(Pipe, std::os::fd::OwnedFd, bool, bool)> = Vec::new();
        let mut theirs: Vec<Option<std::os::fd::OwnedFd>> = Vec::new();
        for slot in &options.stdio {
            let Some((pipe, readable, writable)) = slot.created_pipe() else {
                theirs.push(None);
                continue;
            };
            if !pipe.get_loop().same_loop(lp) || pipe.fileno().is_ok() || pipe.is_closing() {
                return Err(Error::Status(StatusCode::EINVAL));
            }
            let (our_end, child_end) = sys::stdio_socketpair()?;
            ours.push((pipe.clone(), our_end, readable, writable));
            theirs.push(Some(child_end));
        }
        let child_ends: Vec<Option<RawFd>> = theirs
            .iter()
            .map(|t| t.as_ref().map(AsRawFd::as_raw_fd))
            .collect();
        let spec = options.spec(&child_ends)?;
        let sigchld = lp.state().per_kind.process.sigchld_reaping;
        if sigchld {
            // Watching before the child exists: its exit cannot be missed.
            watch_sigchld(&mut lp.state())?;
        }
        let child = match sys::spawn(&spec, !sigchld) {
            Ok(child) => child,
            Err(err) => {
                if sigchld {
                    unwatch_sigchld_if_idle(&mut lp.state());
                }
                return Err(err.into());
            }
        };
        drop(theirs);
        for (pipe, our_end, readable, writable) in ours {
            let opened = pipe.open(our_end).and_then(|()| {
                crate::stream::with_stream(&pipe, |s| {
                    s.readable &= readable;
                    s.writable &= writable;
                })
            });
            if let Err(err) = opened {
                // The child runs but cannot be talked to as asked.
                let _ = sys::signal_child(&child, libc::SIGKILL);
                let _ = sys::try_reap_blocking(&child);
                if sigchld {
                    unwatch_sigchld_if_idle(&mut lp.state());
                }
                return Err(err);
            }
        }
        let pid = child.pid;
        let pidfd = child.pidfd.as_ref().map(AsRawFd::as_raw_fd);
        let kind = Kind::Process(Box::new(ProcessState {
            child: Some(child),
            pid,
            exit_cb: Some(Box::new(exit_cb)),
        }));
        let handle = Handle::insert(lp, HandleType::Process, kind);
        let key = handle.key();
        let mut st = lp.state();
        match pidfd {
            None => {
                st.per_kind.process.by_pid.insert(pid, Some(key));
            }
            Some(fd) => {
                if let Err(err) =
                    st.poll
                        .registry()
                        .register(&mut SourceFd(&fd), key.token(), Interest::READABLE)
                {
                    // The child runs; without a registration it is an
                    // orphan the loop cannot hear of. Kill it and report.
                    let _ = sys::pidfd_signal(fd, libc::SIGKILL);
                    drop(st);
                    handle.close(|| {});
                    return Err(err.into());
                }
            }
        }
        st.set_active(key, true);
        drop(st);
        Ok(Process { handle })
    }

    /// The child's process id (`uv_process_get_pid`); kept after it exits.
    pub fn pid(&self) -> Result<i32> {
        let st = self.get_loop().state();
        match &st.live(self.key())?.kind {
            Kind::Process(p) => Ok(p.pid),
            _ => Err(Error::ClosedHandle),
        }
    }

    /// Sends `signum` to the child (`uv_process_kill`): `ESRCH` once it was
    /// reaped, never another process; 0 checks that it still runs.
    pub fn kill(&self, signum: i32) -> Result<()> {
        let st = self.get_loop().state();
        let Kind::Process(p) = &st.live(self.key())?.kind else {
            return Err(Error::ClosedHandle);
        };
        match &p.child {
            Some(child) => sys::signal_child(child, signum).map_err(Error::from),
            None => Err(Error::Status(StatusCode::ESRCH)),
        }
    }
}

/// The child's pidfd is readable: it exited. Reaps it and runs the exit
/// callback (once; the handle is inactive from then on).
pub(crate) fn dispatch(lp: &Loop, key: Key) {
    let reaped = {
        let st = lp.state();
        let Ok(slot) = st.live(key) else {
            return;
        };
        let Kind::Process(p) = &slot.kind else {
            return;
        };
        let Some(child) = &p.child else {
            return;
        };
        sys::try_reap(child)
    };
    match reaped {
        Ok(None) => {}
        Ok(Some(exit)) => finish_exit(lp, key, Some(exit)),
        Err(_) => finish_exit(lp, key, None),
    }
}

/// The child of `key` was reaped with `exit` (`None`: by somebody else, a
/// `waitpid(-1)` of the program, so its status is lost and reported as a
/// plain exit): the handle stops watching it, turns inactive, and its exit
/// callback runs once.
fn finish_exit(lp: &Loop, key: Key, exit: Option<sys::Exit>) {
    let cb = {
        let mut st = lp.state();
        let st = &mut *st;
        let Ok(slot) = st.live_mut(key) else {
            return;
        };
        let Kind::Process(p) = &mut slot.kind else {
            return;
        };
        let Some(child) = p.child.take() else {
            return;
        };
        let cb = p.exit_cb.take();
        match &child.pidfd {
            Some(fd) => {
                let _ = st
                    .poll
                    .registry()
                    .deregister(&mut SourceFd(&fd.as_raw_fd()));
            }
            None => {
                st.per_kind.process.by_pid.remove(&child.pid);
            }
        }
        st.set_active(key, false);
        cb
    };
    let exit = exit.unwrap_or(sys::Exit {
        status: 0,
        signal: 0,
    });
    if let Some(cb) = cb {
        cb(
            &Process {
                handle: Handle::from_parts(lp.clone(), key, HandleType::Process),
            },
            exit.status,
            exit.signal,
        );
    }
}

/// Part of `close`: the exit callback is dropped; a child still running
/// becomes the loop's to reap (registered under the orphans' token).
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    if let Some(Kind::Process(p)) = st.slot_mut(key).map(|s| &mut s.kind) {
        if let Some(cb) = p.exit_cb.take() {
            deferred.push(cb);
        }
    }
    st.set_active(key, false);
}

/// The closing phase, with the slot freed: a child not reaped yet moves to
/// the loop's orphans, still watched until it exits.
pub(crate) fn finish_close(lp: &Loop, kind: &mut Kind) {
    let Kind::Process(p) = kind else {
        return;
    };
    let Some(child) = p.child.take() else {
        return;
    };
    let mut st = lp.state();
    let st = &mut *st;
    let Some(pidfd) = &child.pidfd else {
        // Reaped on SIGCHLD: the pid stays listed, now as an orphan's.
        if matches!(sys::try_reap(&child), Ok(None)) {
            st.per_kind.process.by_pid.insert(child.pid, None);
        } else {
            st.per_kind.process.by_pid.remove(&child.pid);
            unwatch_sigchld_if_idle(st);
        }
        return;
    };
    let fd = pidfd.as_raw_fd();
    let registry = st.poll.registry();
    if !matches!(sys::try_reap(&child), Ok(None)) {
        let _ = registry.deregister(&mut SourceFd(&fd));
        return;
    }
    // Moved to the orphans' token in one call (not out and in again); a
    // modified registration reports the pidfd at once if the child exited
    // since the look above. The handle's slot is freed, so an event gathered
    // under its old token is stale and ignored.
    if registry
        .reregister(&mut SourceFd(&fd), ORPHANS_TOKEN, Interest::READABLE)
        .is_ok()
    {
        st.per_kind.process.orphans.push(child);
    }
}

/// An orphan's pidfd is readable: reaps every orphan that exited.
pub(crate) fn reap_orphans(lp: &Loop) {
    let mut st = lp.state();
    let st = &mut *st;
    let registry = st.poll.registry();
    st.per_kind
        .process
        .orphans
        .retain(|child| match sys::try_reap(child) {
            Ok(None) => true,
            _ => {
                if let Some(fd) = &child.pidfd {
                    let _ = registry.deregister(&mut SourceFd(&fd.as_raw_fd()));
                }
                false
            }
        });
}

/// Starts watching `SIGCHLD` for this loop's children (once).
fn watch_sigchld(st: &mut LoopState) -> Result<()> {
    if !st.per_kind.process.watching_sigchld {
        crate::signal::watch(st, libc::SIGCHLD)?;
        st.per_kind.process.watching_sigchld = true;
    }
    Ok(())
}

/// Stops watching `SIGCHLD` once the loop has no child left to reap.
fn unwatch_sigchld_if_idle(st: &mut LoopState) {
    let per = &mut st.per_kind.process;
    if per.watching_sigchld && per.by_pid.is_empty() {
        per.watching_sigchld = false;
        crate::signal::unwatch(st, libc::SIGCHLD);
    }
}

/// `SIGCHLD` was caught while this loop watched it: reaps the loop's
/// children that exited and runs their exit callbacks (see the module
/// documentation for the cost).
pub(crate) fn reap_on_sigchld(lp: &Loop) {
    loop {
        let ours = {
            let st = lp.state();
            if st.per_kind.process.by_pid.is_empty() {
                break;
            }
            match sys::peek_exited() {
                None => break,
                Some(pid) => st.per_kind.process.by_pid.get(&pid).map(|w| (pid, *w)),
            }
        };
        match ours {
            Some((pid, waiter)) => {
                if !reap_pid(lp, pid, waiter) {
                    break;
                }
            }
            None => {
                // Somebody else's zombie is first in line: look at each
                // of ours instead.
                let all: Vec<(i32, Option<Key>)> = lp
                    .state()
                    .per_kind
                    .process
                    .by_pid
                    .iter()
                    .map(|(&pid, &w)| (pid, w))
                    .collect();
                for (pid, waiter) in all {
                    reap_pid(lp, pid, waiter);
                }
                break;
            }
        }
    }
    unwatch_sigchld_if_idle(&mut lp.state());
}

/// Reaps `pid` of this loop if it exited: runs its handle's exit callback,
/// or forgets an orphan. Whether it was reaped.
fn reap_pid(lp: &Loop, pid: i32, waiter: Option<Key>) -> bool {
    match waiter {
        Some(key) => {
            let exited = {
                let st = lp.state();
                match st.slot(key).map(|s| &s.kind) {
                    Some(Kind::Process(p)) => p.child.as_ref().map(sys::try_reap),
                    _ => None,
                }
            };
            match exited {
                Some(Ok(None)) => false,
                Some(result) => {
                    finish_exit(lp, key, result.ok().flatten());
                    true
                }
                None => {
                    lp.state().per_kind.process.by_pid.remove(&pid);
                    false
                }
            }
        }
        None => {
            let child = sys::Child { pid, pidfd: None };
            if matches!(sys::try_reap(&child), Ok(None)) {
                return false;
            }
            lp.state().per_kind.process.by_pid.remove(&pid);
            true
        }
    }
}
