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

use crate::core::kinds::Kind;
use crate::core::state::{Deferred, Key, LoopState, ORPHANS_TOKEN};
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle};
use crate::{sys, HandleType, Loop, Pipe};
use bitflags::bitflags;
use mio::unix::SourceFd;
use mio::Interest;
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
    /// `/dev/null` (libuv's `UV_IGNORE` for 0–2).
    Ignore,
    /// A copy of this descriptor of ours (`UV_INHERIT_FD`; for a stream's
    /// descriptor, `UV_INHERIT_STREAM`: pass its `as_raw_fd()`).
    InheritFd(RawFd),
    /// A connected socket pair (libuv's `UV_CREATE_PIPE`): the child gets
    /// one end (blocking, as programs expect of their standard
    /// descriptors), and `spawn` opens the other into this pipe, which must
    /// be new (`Pipe::new`, not bound, opened or connected). Both ends read
    /// and write; a child reading its stdin sees EOF when ours is shut
    /// down or closed.
    CreatePipe(Pipe),
}

/// How to start a child (`uv_process_options_t`); `Default` + `with_*`.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ProcessOptions {
    /// The program: a path, or a name looked up on `PATH` (the child's
    /// `PATH` when [`ProcessOptions::env`] sets one).
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
        let path = sys::resolve_program(&self.file, path_var.as_deref())?;
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
                (Stdio::CreatePipe(_), Some(end)) => sys::StdioAction::Dup(end),
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
#[derive(Default)]
pub(crate) struct PerLoop {
    orphans: Vec<sys::Child>,
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
        let mut ours: Vec<(Pipe, std::os::fd::OwnedFd)> = Vec::new();
        let mut theirs: Vec<Option<std::os::fd::OwnedFd>> = Vec::new();
        for slot in &options.stdio {
            let Stdio::CreatePipe(pipe) = slot else {
                theirs.push(None);
                continue;
            };
            if !pipe.get_loop().same_loop(lp) || pipe.fileno().is_ok() || pipe.is_closing() {
                return Err(Error::Status(StatusCode::EINVAL));
            }
            let (our_end, child_end) = sys::stdio_socketpair()?;
            ours.push((pipe.clone(), our_end));
            theirs.push(Some(child_end));
        }
        let child_ends: Vec<Option<RawFd>> = theirs
            .iter()
            .map(|t| t.as_ref().map(AsRawFd::as_raw_fd))
            .collect();
        let spec = options.spec(&child_ends)?;
        let child = sys::spawn(&spec)?;
        drop(theirs);
        for (pipe, our_end) in ours {
            if let Err(err) = pipe.open(our_end) {
                // The child runs but cannot be talked to as asked.
                let _ = sys::pidfd_signal(child.pidfd.as_raw_fd(), libc::SIGKILL);
                let _ = sys::try_reap_blocking(&child);
                return Err(err);
            }
        }
        let fd = child.pidfd.as_raw_fd();
        let pid = child.pid;
        let kind = Kind::Process(Box::new(ProcessState {
            child: Some(child),
            pid,
            exit_cb: Some(Box::new(exit_cb)),
        }));
        let handle = Handle::insert(lp, HandleType::Process, kind);
        let key = handle.key();
        let mut st = lp.state();
        if let Err(err) =
            st.poll
                .registry()
                .register(&mut SourceFd(&fd), key.token(), Interest::READABLE)
        {
            // The child runs; without a registration it is an orphan the
            // loop cannot hear of. Kill it and report.
            let _ = sys::pidfd_signal(fd, libc::SIGKILL);
            drop(st);
            handle.close(|| {});
            return Err(err.into());
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
            Some(child) => sys::pidfd_signal(child.pidfd.as_raw_fd(), signum).map_err(Error::from),
            None => Err(Error::Status(StatusCode::ESRCH)),
        }
    }
}

/// The child's pidfd is readable: it exited. Reaps it and runs the exit
/// callback (once; the handle is inactive from then on).
pub(crate) fn dispatch(lp: &Loop, key: Key) {
    let (cb, exit) = {
        let mut st = lp.state();
        let Ok(slot) = st.live_mut(key) else {
            return;
        };
        let Kind::Process(p) = &mut slot.kind else {
            return;
        };
        let Some(child) = &p.child else {
            return;
        };
        let exit = match sys::try_reap(child) {
            Ok(Some(exit)) => exit,
            Ok(None) => return,
            // Reaped by somebody else (a `waitpid(-1)` of the program): its
            // status is lost; report it as a plain exit.
            Err(_) => sys::Exit {
                status: 0,
                signal: 0,
            },
        };
        let child = p.child.take().expect("checked above");
        let cb = p.exit_cb.take();
        let _ = st
            .poll
            .registry()
            .deregister(&mut SourceFd(&child.pidfd.as_raw_fd()));
        st.set_active(key, false);
        (cb, exit)
    };
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
    let fd = child.pidfd.as_raw_fd();
    let registry = st.poll.registry();
    let _ = registry.deregister(&mut SourceFd(&fd));
    if !matches!(sys::try_reap(&child), Ok(None)) {
        return;
    }
    // Registering reports the pidfd at once if the child exited meanwhile.
    if registry
        .register(&mut SourceFd(&fd), ORPHANS_TOKEN, Interest::READABLE)
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
                let _ = registry.deregister(&mut SourceFd(&child.pidfd.as_raw_fd()));
                false
            }
        });
}
