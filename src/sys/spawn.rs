//! Starting child processes for process handles: `posix_spawn` where the
//! options allow (glibc runs it as `clone(CLONE_VM | CLONE_VFORK)` and
//! reports exec failures synchronously), `fork` + `exec` when a user or
//! group must be set, which `posix_spawn` cannot do. Either way:
//!
//! - descriptors: everything ruv creates is close-on-exec, so only the
//!   child's standard descriptors (the `stdio` slots) survive the exec;
//! - signals: the child starts with an empty mask and every signal at its
//!   default action (an ignored `SIGPIPE` or ruv's own handlers do not leak
//!   into it);
//! - the exec error (`ENOENT`, `EACCES`, ...) is `spawn`'s result;
//! - the child is watched through a pidfd: it can be waited for in the
//!   loop's epoll set and signalled without ever hitting a recycled pid;
//!   where the kernel has no pidfds (before 5.3) or a seccomp filter
//!   refuses them, [`pidfds_unavailable`] says so and children are reaped
//!   on `SIGCHLD` instead (see `crate::process`).

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

/// What a child's standard descriptor `n` (the slot's index) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StdioAction {
    /// `/dev/null` (libuv's "ignore"): read-only as slot 0, read-write
    /// otherwise.
    Null,
    /// A copy of this descriptor of ours.
    Dup(RawFd),
}

/// Everything `spawn` needs, already converted for the C library.
#[derive(Debug)]
pub(crate) struct SpawnSpec {
    /// The program, found on `PATH` already (see [`resolve_program`]).
    pub path: CString,
    pub argv: Vec<CString>,
    /// `None`: the parent's environment.
    pub env: Option<Vec<CString>>,
    pub cwd: Option<CString>,
    pub stdio: Vec<StdioAction>,
    /// A new session (libuv's `UV_PROCESS_DETACHED`).
    pub setsid: bool,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// A started child.
#[derive(Debug)]
pub(crate) struct Child {
    pub pid: i32,
    /// Readable once the child has exited; also its handle for signals.
    /// `None` where pidfds are unavailable (reaped on `SIGCHLD`).
    pub pidfd: Option<OwnedFd>,
}

/// The environment variable that makes every loop of the process reap its
/// children on `SIGCHLD` as if pidfds were unavailable (for tests).
pub(crate) const FORCE_SIGCHLD_VAR: &str = "RUV_REAP_WITH_SIGCHLD";

/// Whether children must be reaped on `SIGCHLD`: pidfd_open fails with
/// `ENOSYS` (kernels before 5.3) or `EPERM` (a seccomp filter), or
/// [`FORCE_SIGCHLD_VAR`] is set to anything but `0`. Decided once per
/// process: a probe of our own pid.
pub(crate) fn pidfds_unavailable() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    // 0: not decided yet; 1: pidfds; 2: SIGCHLD.
    static DECIDED: AtomicU8 = AtomicU8::new(0);
    match DECIDED.load(Ordering::Relaxed) {
        1 => return false,
        2 => return true,
        _ => {}
    }
    let forced = std::env::var_os(FORCE_SIGCHLD_VAR).is_some_and(|v| !v.is_empty() && v != "0");
    let unavailable = forced || {
        // SAFETY: pidfd_open(2) of our own pid; the result is checked.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_pidfd_open,
                libc::c_long::from(libc::getpid()),
                0 as libc::c_long,
            )
        };
        if fd >= 0 {
            // SAFETY: a new descriptor nobody else owns.
            drop(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
            false
        } else {
            matches!(
                io::Error::last_os_error().raw_os_error(),
                Some(libc::ENOSYS) | Some(libc::EPERM)
            )
        }
    };
    DECIDED.store(if unavailable { 2 } else { 1 }, Ordering::Relaxed);
    unavailable
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exit {
    /// The exit status, 0 when a signal ended it.
    pub status: i64,
    /// The signal that ended it, 0 when it exited.
    pub signal: i32,
}

/// The program to run for `file`: itself if it names a path (has a `/`),
/// otherwise the first executable `file` in the directories of `path_var`
/// (`PATH` of the child's environment, else the parent's, else the
/// system's default), as `execvp` searches. `EACCES` if a candidate exists
/// but is not executable and no other is, `ENOENT` if none exists.
///
/// The exec runs in the child after its `chdir` to `cwd`, so a relative
/// candidate is checked there (libuv's `spawn_relative_path`) and returned
/// as it is.
pub(crate) fn resolve_program(
    file: &OsStr,
    path_var: Option<&OsStr>,
    cwd: Option<&OsStr>,
) -> io::Result<CString> {
    let bytes = file.as_bytes();
    if bytes.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    let check = |candidate: &[u8]| -> io::Result<CString> {
        let path = cstring(candidate)?;
        match cwd {
            Some(dir) if candidate.first() != Some(&b'/') => {
                let mut seen = dir.as_bytes().to_vec();
                seen.push(b'/');
                seen.extend_from_slice(candidate);
                access_exec(&cstring(&seen)?)?;
            }
            _ => access_exec(&path)?,
        }
        Ok(path)
    };
    if bytes.contains(&b'/') {
        // Checked here too, not only by the exec: see `precheck`.
        return check(bytes);
    }
    let default_path: &[u8] = b"/usr/local/bin:/bin:/usr/bin";
    let path = path_var.map_or(default_path, OsStr::as_bytes);
    let mut denied = false;
    for dir in path.split(|&b| b == b':') {
        // An empty entry is the current directory, as for execvp.
        let mut candidate = if dir.is_empty() {
            b".".to_vec()
        } else {
            dir.to_vec()
        };
        candidate.push(b'/');
        candidate.extend_from_slice(bytes);
        match check(&candidate) {
            Ok(c) => return Ok(c),
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => denied = true,
            Err(_) => {}
        }
    }
    Err(io::Error::from_raw_os_error(if denied {
        libc::EACCES
    } else {
        libc::ENOENT
    }))
}

/// A C string from bytes; `EINVAL` for an interior NUL.
pub(crate) fn cstring(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Whether `path` is an executable regular file (`EACCES` otherwise;
/// `ENOENT` and the like when it does not exist).
fn access_exec(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    if unsafe { libc::access(path.as_ptr(), libc::X_OK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: all-zero is a valid `stat` to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is valid; `st` is writable and outlives the call.
    if unsafe { libc::stat(path.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(io::Error::from_raw_os_error(libc::EACCES));
    }
    Ok(())
}

/// NULL-terminated pointer arrays over C strings (`argv`, `envp`).
fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(ptr::null()))
        .collect()
}

extern "C" {
    static environ: *const *const libc::c_char;
}

/// `/dev/null` for the C library (no `c""` literals: the MSRV is 1.75).
const DEV_NULL: &[u8] = b"/dev/null\0";

/// How `/dev/null` is opened for slot `n`: read-only as standard input,
/// read-write otherwise (libuv's choice: a child writing to its standard
/// input gets `EBADF`).
fn null_mode(n: libc::c_int) -> libc::c_int {
    if n == 0 {
        libc::O_RDONLY
    } else {
        libc::O_RDWR
    }
}

/// Clears `O_NONBLOCK` on `fd`'s open file.
fn set_blocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL take and return plain ints; a bad descriptor
    // is an error return.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        if flags & libc::O_NONBLOCK != 0
            && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Starts the child `spec` describes, with a pidfd for it if `with_pidfd`.
pub(crate) fn spawn(spec: &SpawnSpec, with_pidfd: bool) -> io::Result<Child> {
    // A slot that copies a descriptor onto itself must lose close-on-exec
    // in the child, which dup2 onto itself does not do: copy it first (the
    // copy is close-on-exec in the parent, and dup2 onto the slot in the
    // child clears the flag there).
    let mut copies: Vec<OwnedFd> = Vec::new();
    let mut stdio = spec.stdio.clone();
    for (n, action) in stdio.iter_mut().enumerate() {
        if let StdioAction::Dup(fd) = *action {
            if fd == n as RawFd || (fd as usize) < spec.stdio.len() {
                let copy = dup_cloexec(fd)?;
                *action = StdioAction::Dup(copy.as_raw_fd());
                copies.push(copy);
            }
        }
    }
    // The child's standard descriptors are blocking, as programs expect
    // (libuv clears O_NONBLOCK on 0-2 in the child). The flag belongs to
    // the open file, which the child shares with us: clearing it here is
    // what the child would do, and posix_spawn has no action for it.
    for action in stdio.iter().take(3) {
        if let StdioAction::Dup(fd) = *action {
            set_blocking(fd)?;
        }
    }
    let argv = pointers(&spec.argv);
    let envp = spec.env.as_deref().map(pointers);
    let pid = if spec.uid.is_none() && spec.gid.is_none() {
        precheck(spec)?;
        posix_spawn(spec, &stdio, &argv, envp.as_deref())?
    } else {
        fork_exec(spec, &stdio, &argv, envp.as_deref())?
    };
    drop(copies);
    if !with_pidfd {
        return Ok(Child { pid, pidfd: None });
    }
    // The child cannot be reaped by anyone before we wait for it (unless
    // the program set SIGCHLD to SIG_IGN), so the pid still names it.
    // SAFETY: pidfd_open(2) takes a pid and flags; the result is checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::c_long::from(pid), 0) };
    if fd < 0 {
        // Out of descriptors, say: a child nobody could wait for must not
        // run on. Its pid still names it (not reaped yet).
        let err = io::Error::last_os_error();
        // SAFETY: signalling and waiting for our own unreaped child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, ptr::null_mut(), 0);
        }
        return Err(err);
    }
    // SAFETY: a new descriptor nobody else owns (pidfds are close-on-exec).
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    Ok(Child {
        pid,
        pidfd: Some(pidfd),
    })
}

/// The pid of one exited child of the process, left unreaped
/// (`waitid(P_ALL, WEXITED | WNOHANG | WNOWAIT)`): `None` when no child
/// has exited (or there are none).
pub(crate) fn peek_exited() -> Option<i32> {
    // SAFETY: all-zero is a valid siginfo to be filled in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is writable; P_ALL ignores the id.
    let r = unsafe {
        libc::waitid(
            libc::P_ALL,
            0,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if r != 0 {
        return None;
    }
    // SAFETY: waitid filled `info` for a child event (or left it zeroed).
    let pid = unsafe { info.si_pid() };
    (pid != 0).then_some(pid)
}

/// Sends `signum` to `child`: through its pidfd (`ESRCH` once it was
/// reaped, never another process), or by pid where there is none (the
/// caller only does so while the child is not reaped).
pub(crate) fn signal_child(child: &Child, signum: i32) -> io::Result<()> {
    match &child.pidfd {
        Some(fd) => pidfd_signal(fd.as_raw_fd(), signum),
        None => super::kill(child.pid, signum),
    }
}

/// The working directory's errors before `posix_spawn` (the program's were
/// checked by [`resolve_program`]): glibc reports the child's failures
/// through memory it shares with the `CLONE_VM` child, which emulators
/// that turn that clone into a fork (valgrind, qemu-user) lose, and the
/// spawn would then seem to succeed. The exec still checks everything; the
/// fork path reports through its pipe and needs none of this (its checks
/// would also be the child's user's, not ours).
fn precheck(spec: &SpawnSpec) -> io::Result<()> {
    let Some(cwd) = &spec.cwd else {
        return Ok(());
    };
    // SAFETY: all-zero is a valid `stat` to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `cwd` is a valid NUL-terminated string; `st` is writable.
    if unsafe { libc::stat(cwd.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    Ok(())
}

fn dup_cloexec(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on any descriptor; a bad one is an error.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

/// Turns a C library status (0 or an errno value) into a result.
fn check(status: libc::c_int) -> io::Result<()> {
    if status == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(status))
    }
}

fn posix_spawn(
    spec: &SpawnSpec,
    stdio: &[StdioAction],
    argv: &[*const libc::c_char],
    envp: Option<&[*const libc::c_char]>,
) -> io::Result<i32> {
    /// Destroys the attribute and file-action objects however we leave.
    struct Objects {
        attr: libc::posix_spawnattr_t,
        actions: libc::posix_spawn_file_actions_t,
    }
    impl Drop for Objects {
        fn drop(&mut self) {
            // SAFETY: both were initialised before this value was made.
            unsafe {
                libc::posix_spawnattr_destroy(&mut self.attr);
                libc::posix_spawn_file_actions_destroy(&mut self.actions);
            }
        }
    }
    // SAFETY: zeroed storage, initialised right below before any use.
    let mut o: Objects = unsafe { std::mem::zeroed() };
    // SAFETY: initialising the two objects in place; on failure of the
    // second the first is destroyed by hand (the guard is not armed yet).
    unsafe {
        check(libc::posix_spawnattr_init(&mut o.attr))?;
        if let Err(e) = check(libc::posix_spawn_file_actions_init(&mut o.actions)) {
            libc::posix_spawnattr_destroy(&mut o.attr);
            std::mem::forget(o);
            return Err(e);
        }
    }
    let null = DEV_NULL.as_ptr() as *const libc::c_char;
    // SAFETY: every call gets the initialised objects and valid arguments.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigemptyset(&mut none);
        check(libc::posix_spawnattr_setsigdefault(&mut o.attr, &all))?;
        check(libc::posix_spawnattr_setsigmask(&mut o.attr, &none))?;
        let mut flags = libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK;
        if spec.setsid {
            flags |= libc::POSIX_SPAWN_SETSID as libc::c_int;
        }
        check(libc::posix_spawnattr_setflags(
            &mut o.attr,
            flags as libc::c_short,
        ))?;
        for (n, action) in stdio.iter().enumerate() {
            let n = n as libc::c_int;
            match *action {
                StdioAction::Null => check(libc::posix_spawn_file_actions_addopen(
                    &mut o.actions,
                    n,
                    null,
                    null_mode(n),
                    0,
                ))?,
                StdioAction::Dup(fd) => check(libc::posix_spawn_file_actions_adddup2(
                    &mut o.actions,
                    fd,
                    n,
                ))?,
            }
        }
        if let Some(cwd) = &spec.cwd {
            check(libc::posix_spawn_file_actions_addchdir_np(
                &mut o.actions,
                cwd.as_ptr(),
            ))?;
        }
    }
    let mut pid: libc::pid_t = 0;
    // SAFETY: argv and envp are NULL-terminated arrays of valid strings
    // that outlive the call; `environ` is the process's environment.
    let status = unsafe {
        libc::posix_spawn(
            &mut pid,
            spec.path.as_ptr(),
            &o.actions,
            &o.attr,
            argv.as_ptr() as *const *mut libc::c_char,
            envp.map_or(environ, |e| e.as_ptr()) as *const *mut libc::c_char,
        )
    };
    check(status)?;
    Ok(pid)
}

/// `fork` + `exec` for the options `posix_spawn` lacks (user, group). The
/// child only makes async-signal-safe calls on memory prepared before the
/// fork, and reports a failure through a close-on-exec pipe: nothing read
/// means the exec succeeded.
fn fork_exec(
    spec: &SpawnSpec,
    stdio: &[StdioAction],
    argv: &[*const libc::c_char],
    envp: Option<&[*const libc::c_char]>,
) -> io::Result<i32> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: new descriptors nobody else owns.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let env = envp.map_or(
        // SAFETY: reading the process's environment pointer.
        unsafe { environ },
        |e| e.as_ptr(),
    );
    // SAFETY: fork(2); the child branch below only makes async-signal-safe
    // calls and ends in execve or _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: in the child; see `child_after_fork`.
        unsafe { child_after_fork(spec, stdio, argv, env, writer.as_raw_fd()) }
    }
    drop(writer);
    let mut errno = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        // SAFETY: reading into the rest of `errno`.
        let n = unsafe {
            libc::read(
                reader.as_raw_fd(),
                errno[got..].as_mut_ptr().cast(),
                4 - got,
            )
        };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            break;
        }
        got += n as usize;
    }
    if got == 0 {
        return Ok(pid);
    }
    // The exec failed: reap the child, which exits at once.
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    Err(io::Error::from_raw_os_error(i32::from_ne_bytes(errno)))
}

/// The child's side of [`fork_exec`]; never returns.
///
/// # Safety
/// Called in a freshly forked child only; every pointer was prepared
/// before the fork.
unsafe fn child_after_fork(
    spec: &SpawnSpec,
    stdio: &[StdioAction],
    argv: &[*const libc::c_char],
    env: *const *const libc::c_char,
    report: RawFd,
) -> ! {
    let fail = |report: RawFd| -> ! {
        // SAFETY: errno location, write and _exit are async-signal-safe.
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(report, (&errno as *const libc::c_int).cast(), 4);
            libc::_exit(127)
        }
    };
    // SAFETY: async-signal-safe calls with values prepared before the fork.
    unsafe {
        if spec.setsid && libc::setsid() < 0 {
            fail(report);
        }
        if let Some(gid) = spec.gid {
            if libc::setgid(gid) != 0 {
                fail(report);
            }
        }
        if let Some(uid) = spec.uid {
            // Supplementary groups of the parent would stay otherwise.
            if libc::setgroups(0, ptr::null()) != 0 && *libc::__errno_location() != libc::EPERM {
                fail(report);
            }
            if libc::setuid(uid) != 0 {
                fail(report);
            }
        }
        for (n, action) in stdio.iter().enumerate() {
            let n = n as libc::c_int;
            let fd = match *action {
                StdioAction::Null => {
                    let fd = libc::open(DEV_NULL.as_ptr() as *const libc::c_char, null_mode(n));
                    if fd < 0 {
                        fail(report);
                    }
                    fd
                }
                StdioAction::Dup(fd) => fd,
            };
            if fd != n && libc::dup2(fd, n) < 0 {
                fail(report);
            }
        }
        if let Some(cwd) = &spec.cwd {
            if libc::chdir(cwd.as_ptr()) != 0 {
                fail(report);
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        for signum in 1..=super::MAX_SIGNUM {
            libc::signal(signum, libc::SIG_DFL);
        }
        libc::sigprocmask(libc::SIG_SETMASK, &none, ptr::null_mut());
        libc::execve(spec.path.as_ptr(), argv.as_ptr(), env);
        fail(report)
    }
}

/// Collects `child`'s exit if it has exited (`waitpid` without blocking):
/// `None` while it runs. `ECHILD` if somebody else reaped it.
pub(crate) fn try_reap(child: &Child) -> io::Result<Option<Exit>> {
    let mut status = 0;
    // SAFETY: waiting for our own child without blocking; `status` is
    // writable.
    let r = unsafe { libc::waitpid(child.pid, &mut status, libc::WNOHANG) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    if r == 0 {
        return Ok(None);
    }
    Ok(Some(if libc::WIFSIGNALED(status) {
        Exit {
            status: 0,
            signal: libc::WTERMSIG(status),
        }
    } else {
        Exit {
            status: i64::from(libc::WEXITSTATUS(status)),
            signal: 0,
        }
    }))
}

/// Waits for `child` to exit and collects it (after a `SIGKILL` of ours).
pub(crate) fn try_reap_blocking(child: &Child) -> io::Result<()> {
    let mut status = 0;
    // SAFETY: waiting for our own child; `status` is writable.
    if unsafe { libc::waitpid(child.pid, &mut status, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A connected pair of Unix stream sockets for a child's standard
/// descriptor: (ours, the child's), both close-on-exec; the child's stays
/// blocking (libuv's `UV_CREATE_PIPE` makes a socket pair too).
pub(crate) fn stdio_socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two new descriptors nobody else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends `signum` to the child behind `pidfd` (`pidfd_send_signal`):
/// `ESRCH` once it was reaped, never another process.
pub(crate) fn pidfd_signal(pidfd: RawFd, signum: i32) -> io::Result<()> {
    // SAFETY: pidfd_send_signal(2) with a NULL siginfo and no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            libc::c_long::from(pidfd),
            libc::c_long::from(signum),
            ptr::null::<libc::siginfo_t>(),
            0 as libc::c_long,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    fn spawn_pidfd(s: &SpawnSpec) -> io::Result<Child> {
        spawn(s, true)
    }

    fn spec(file: &str, args: &[&str]) -> SpawnSpec {
        let path_var = std::env::var_os("PATH");
        SpawnSpec {
            path: resolve_program(OsStr::new(file), path_var.as_deref(), None).unwrap(),
            argv: std::iter::once(file)
                .chain(args.iter().copied())
                .map(|a| CString::new(a).unwrap())
                .collect(),
            env: None,
            cwd: None,
            stdio: vec![StdioAction::Null; 3],
            setsid: false,
            uid: None,
            gid: None,
        }
    }

    /// Waits (blocking poll on the pidfd) until the child exits.
    fn wait(child: &Child) -> Exit {
        loop {
            if let Some(exit) = try_reap(child).unwrap() {
                return exit;
            }
            let fd = child.pidfd.as_ref().unwrap().as_raw_fd();
            crate::sys::poll_now(fd, true, false).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Runs `sh -c script` with its stdout on a socket; what it printed.
    fn output_of(mut s: SpawnSpec) -> (Exit, String) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        s.stdio[1] = StdioAction::Dup(theirs.as_raw_fd());
        let child = spawn_pidfd(&s).unwrap();
        drop(theirs);
        let mut out = String::new();
        (&ours).read_to_string(&mut out).unwrap();
        (wait(&child), out)
    }

    #[test]
    fn exit_statuses_and_signals() {
        let exit = wait(&spawn_pidfd(&spec("true", &[])).unwrap());
        assert_eq!(
            exit,
            Exit {
                status: 0,
                signal: 0
            }
        );
        let exit = wait(&spawn_pidfd(&spec("sh", &["-c", "exit 3"])).unwrap());
        assert_eq!(
            exit,
            Exit {
                status: 3,
                signal: 0
            }
        );
        let child = spawn_pidfd(&spec("sleep", &["10"])).unwrap();
        signal_child(&child, libc::SIGTERM).unwrap();
        assert_eq!(
            wait(&child),
            Exit {
                status: 0,
                signal: libc::SIGTERM
            }
        );
        let err = signal_child(&child, libc::SIGTERM).unwrap_err();
        assert_eq!(
            err.raw_os_error(),
            Some(libc::ESRCH),
            "reaped: never another process"
        );
    }

    #[test]
    fn a_relative_program_is_found_from_the_childs_cwd() {
        // `./sh` exists in /bin, not (we assume) in the test's own cwd.
        assert!(!std::path::Path::new("./sh").exists());
        let path = resolve_program(OsStr::new("./sh"), None, Some(OsStr::new("/bin"))).unwrap();
        assert_eq!(path.as_bytes(), b"./sh", "exec'd after the chdir, as given");
        let err = resolve_program(OsStr::new("./sh"), None, None).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        // A relative PATH entry is the child's too.
        let path = resolve_program(
            OsStr::new("sh"),
            Some(OsStr::new("bin")),
            Some(OsStr::new("/")),
        )
        .unwrap();
        assert_eq!(path.as_bytes(), b"bin/sh");
    }

    #[test]
    fn exec_failures_are_the_result_of_spawn() {
        let err = resolve_program(
            OsStr::new("no-such-program-ruv"),
            Some(OsStr::new("/bin")),
            None,
        )
        .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        let mut s = spec("true", &[]);
        s.path = CString::new("/nonexistent/x").unwrap();
        assert_eq!(
            spawn_pidfd(&s).unwrap_err().raw_os_error(),
            Some(libc::ENOENT)
        );
        s.path = CString::new("/etc/passwd").unwrap();
        assert_eq!(
            spawn_pidfd(&s).unwrap_err().raw_os_error(),
            Some(libc::EACCES)
        );
        // The fork path reports the same way.
        s.uid = Some(unsafe_free_uid());
        assert_eq!(
            spawn_pidfd(&s).unwrap_err().raw_os_error(),
            Some(libc::EACCES)
        );
        let err = resolve_program(
            OsStr::new("passwd-is-not-here"),
            Some(OsStr::new("/etc")),
            None,
        )
        .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        // A path is checked before the spawn as well (see `precheck`).
        let err = resolve_program(OsStr::new("/nonexistent/x"), None, None).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        let err = resolve_program(OsStr::new("/etc/passwd"), None, None).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EACCES));
        let err = resolve_program(OsStr::new("/etc"), None, None).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EACCES));
        let mut s = spec("true", &[]);
        s.cwd = Some(CString::new("/nonexistent-ruv-dir").unwrap());
        assert_eq!(precheck(&s).unwrap_err().raw_os_error(), Some(libc::ENOENT));
        s.cwd = Some(CString::new("/etc/passwd").unwrap());
        assert_eq!(
            precheck(&s).unwrap_err().raw_os_error(),
            Some(libc::ENOTDIR)
        );
        assert_eq!(
            spawn_pidfd(&s).unwrap_err().raw_os_error(),
            Some(libc::ENOTDIR)
        );
    }

    /// The current user id, to take the fork path without changing it.
    fn unsafe_free_uid() -> u32 {
        std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .unwrap()
    }

    #[test]
    fn environment_directory_session_and_descriptors() {
        // Descriptors ruv makes are close-on-exec: a loop (epoll, eventfd)
        // and a socket exist while the child starts, and none reaches it.
        let lp = crate::Loop::new().unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut s = spec(
            "sh",
            &[
                "-c",
                "echo \"$RUV_X $(pwd)\"; ls -l /proc/$$/fd | sed 1d | cut -d'>' -f2",
            ],
        );
        s.env = Some(vec![
            CString::new("RUV_X=hello").unwrap(),
            CString::new("PATH=/usr/bin:/bin").unwrap(),
        ]);
        s.cwd = Some(CString::new("/tmp").unwrap());
        let (exit, out) = output_of(s);
        drop((lp, udp));
        assert_eq!(exit.status, 0);
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("hello /tmp"));
        let targets: Vec<&str> = lines.map(str::trim).collect();
        // Its stdout (our socket) is the one socket; no epoll or eventfd.
        assert_eq!(
            targets.iter().filter(|t| t.starts_with("socket:")).count(),
            1,
            "{targets:?}"
        );
        assert!(
            !targets.iter().any(|t| t.starts_with("anon_inode:")),
            "{targets:?}"
        );

        let mut s = spec("sh", &["-c", "cut -d' ' -f6 /proc/self/stat; echo $$"]);
        s.setsid = true;
        let (_, out) = output_of(s);
        let mut lines = out.lines();
        let sid = lines.next().unwrap().to_string();
        assert_eq!(Some(sid.as_str()), lines.next(), "its own session");

        let mut s = spec("sh", &["-c", "echo forked"]);
        s.uid = Some(unsafe_free_uid());
        let (exit, out) = output_of(s);
        assert_eq!((exit.status, out.as_str()), (0, "forked\n"));
    }

    #[test]
    fn signals_start_at_their_defaults_in_the_child() {
        // The parent (the test harness) ignores SIGPIPE: the child does
        // not. glibc's own signals 32 and 33 are left as glibc has them.
        let s = spec("sh", &["-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status"]);
        let (_, out) = output_of(s);
        let glibc_own: u64 = (1 << 31) | (1 << 32);
        let masks: Vec<u64> = out
            .lines()
            .map(|l| u64::from_str_radix(l.split_whitespace().nth(1).unwrap(), 16).unwrap())
            .collect();
        assert_eq!(masks.len(), 2, "{out}");
        for mask in masks {
            assert_eq!(mask & !glibc_own, 0, "{out}");
        }
    }
}
