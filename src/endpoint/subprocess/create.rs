//! [`subprocess_exec`] and [`subprocess_shell`]: start the child with its
//! pipes, then hand the transport and protocol back (CPython 3.13's
//! `BaseEventLoop.subprocess_exec` / `subprocess_shell` and
//! `_UnixSubprocessTransport`).

use super::{SubprocessOptions, SubprocessProtocol, SubprocessStdio, SubprocessTransport};
use crate::endpoint::stream::{pipe_transport, Kind};
use crate::endpoint::{defer, AnyProtocol};
use crate::error::{Result, StatusCode};
use crate::{Loop, Pipe, Process, ProcessOptions, Stdio};
use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::rc::Rc;

/// Starts `program` with `args` (not including `program` itself, which
/// is `argv[0]`) as asyncio's `loop.subprocess_exec`, and calls `on_done`
/// from the loop with the transport and protocol, or the error (ENOENT,
/// EACCES, … when the program cannot be run; the factory is then not
/// called).
///
/// Each descriptor the options pipe gets a socket pair (the child's end
/// blocking), whose other end becomes a pipe transport:
/// [`get_pipe_transport(0)`](SubprocessTransport::get_pipe_transport)
/// writes to the child's stdin (`write_eof` closes it, as asyncio's write
/// pipe transport); the child's output arrives through
/// [`pipe_data_received`](SubprocessProtocol::pipe_data_received).
/// EINVAL for [`SubprocessStdio::Stdout`] on stdin or stdout, or an
/// argument or environment entry with a NUL byte.
pub fn subprocess_exec<P, F, D, I, S>(
    lp: &Loop,
    protocol_factory: F,
    program: impl AsRef<OsStr>,
    args: I,
    options: SubprocessOptions,
    on_done: D,
) where
    P: SubprocessProtocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(Result<(SubprocessTransport, Rc<RefCell<P>>)>) + 'static,
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let program = program.as_ref().to_os_string();
    let mut argv = vec![program.clone()];
    argv.extend(args.into_iter().map(Into::into));
    let lp2 = lp.clone();
    defer(lp, move || {
        on_done(spawn(&lp2, protocol_factory, program, argv, options));
    });
}

/// Runs `cmd` with `/bin/sh -c` (asyncio's `loop.subprocess_shell`);
/// otherwise as [`subprocess_exec`].
pub fn subprocess_shell<P, F, D>(
    lp: &Loop,
    protocol_factory: F,
    cmd: impl AsRef<OsStr>,
    options: SubprocessOptions,
    on_done: D,
) where
    P: SubprocessProtocol + 'static,
    F: FnOnce() -> P + 'static,
    D: FnOnce(Result<(SubprocessTransport, Rc<RefCell<P>>)>) + 'static,
{
    let cmd = cmd.as_ref().to_os_string();
    subprocess_exec(
        lp,
        protocol_factory,
        "/bin/sh",
        [OsString::from("-c"), cmd],
        options,
        on_done,
    );
}

/// Held by the exit callback. If the loop drops that callback unrun (the
/// `Process` handle closed by someone else, e.g. a `Loop::walk` closing
/// every handle), the transport is told the exit will never be known.
struct ExitWatch(Rc<RefCell<Option<SubprocessTransport>>>);

impl Drop for ExitWatch {
    fn drop(&mut self) {
        let transport = self.0.try_borrow_mut().ok().and_then(|mut t| t.take());
        if let Some(t) = transport {
            t.exit_lost();
        }
    }
}

fn spawn<P, F>(
    lp: &Loop,
    protocol_factory: F,
    program: OsString,
    argv: Vec<OsString>,
    options: SubprocessOptions,
) -> Result<(SubprocessTransport, Rc<RefCell<P>>)>
where
    P: SubprocessProtocol + 'static,
    F: FnOnce() -> P + 'static,
{
    if options.stdin == SubprocessStdio::Stdout || options.stdout == SubprocessStdio::Stdout {
        return Err(StatusCode::EINVAL.into());
    }
    // Our ends of the pipes, by descriptor; the child's ends live until
    // the spawn is done.
    let mut ours: [Option<OwnedFd>; 3] = [None, None, None];
    let mut theirs: Vec<OwnedFd> = Vec::new();
    let mut stdio: Vec<Stdio> = Vec::with_capacity(3);
    for (fd, how) in [options.stdin, options.stdout, options.stderr]
        .into_iter()
        .enumerate()
    {
        let slot = match how {
            SubprocessStdio::Pipe => {
                let (our_end, child_end) = UnixStream::pair()?;
                ours[fd] = Some(our_end.into());
                let raw = child_end.as_raw_fd();
                theirs.push(child_end.into());
                Stdio::InheritFd(raw)
            }
            SubprocessStdio::DevNull => Stdio::Ignore,
            SubprocessStdio::Inherit => Stdio::InheritFd(fd as i32),
            SubprocessStdio::Fd(raw) => Stdio::InheritFd(raw),
            // The child's stdout, whatever it is (only stderr gets here).
            SubprocessStdio::Stdout => stdio[1].clone(),
        };
        stdio.push(slot);
    }
    let mut popts = ProcessOptions::new(program)
        .with_args(argv)
        .with_stdio(stdio);
    if let Some(cwd) = options.cwd {
        popts = popts.with_cwd(cwd);
    }
    if let Some(env) = options.env {
        let entries = env.into_iter().map(|(k, v)| {
            let mut e = k;
            e.push("=");
            e.push(v);
            e
        });
        let entries: Vec<OsString> = entries.collect();
        if entries.iter().any(|e| e.as_bytes().contains(&0)) {
            return Err(StatusCode::EINVAL.into());
        }
        popts = popts.with_env(entries);
    }
    // The transport exists only after the spawn; the exit callback finds
    // it here (the child cannot be reaped before the loop runs again).
    let cell: Rc<RefCell<Option<SubprocessTransport>>> = Rc::new(RefCell::new(None));
    let watch = ExitWatch(cell.clone());
    let process = Process::spawn(lp, &popts, move |_, status, signal| {
        let transport = watch.0.borrow_mut().take();
        if let Some(t) = transport {
            t.exited(status, signal);
        }
    })?;
    drop(theirs);
    let pid = process.pid().unwrap_or(-1);
    let protocol = Rc::new(RefCell::new(protocol_factory()));
    let shared: Rc<RefCell<dyn SubprocessProtocol>> = protocol.clone();
    let transport = SubprocessTransport::new(lp, process.clone(), pid, shared);
    *cell.borrow_mut() = Some(transport.clone());
    for (fd, end) in ours.into_iter().enumerate() {
        let Some(end) = end else {
            continue;
        };
        let kind = if fd == 0 {
            Kind::WritePipe
        } else {
            Kind::ReadPipe
        };
        let pipe = match Pipe::from_fd(lp, end) {
            Ok(p) => p,
            Err(err) => {
                // The child runs but cannot be talked to as asked.
                transport.close();
                return Err(err);
            }
        };
        let proto = Rc::new(RefCell::new(transport.pipe_protocol(fd as i32)));
        let pt = pipe_transport(pipe, kind, AnyProtocol::plain(proto));
        transport.set_pipe(fd, pt);
    }
    transport.start();
    Ok((transport, protocol))
}
