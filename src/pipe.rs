//! [`Pipe`]: the pipe handle (libuv's `uv_pipe_t`), a stream over a Unix
//! domain socket or a descriptor opened as one (a pipe end, a terminal).
//! The stream operations live in `src/stream/`; this file names, binds,
//! connects, listens, accepts, opens and pairs.

use crate::core::kinds::Kind;
use crate::core::state::{Deferred, Key, LoopState};
use crate::error::{Error, Result, StatusCode};
use crate::handle::{typed_handle, Handle};
use crate::stream::{self, ReadResult, StreamHandle, StreamState};
use crate::{sys, HandleType, Loop};
use socket2::{Domain, SockAddr, Socket, Type};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Per-handle state in the loop's slab.
pub(crate) struct PipeState {
    pub(crate) stream: StreamState<Pipe>,
    /// Made to pass handles (`uv_pipe_init`'s `ipc`): such a pipe does not
    /// listen.
    ipc: bool,
    /// The filesystem name `bind` created, removed at close.
    bound_path: Option<PathBuf>,
}

/// A pipe handle (`uv_pipe_t`): a Unix domain stream socket — connected,
/// or listening on a name — or a pipe end or terminal opened with
/// [`Pipe::open`]. The stream operations are [`Tcp`](crate::Tcp)'s.
///
/// Names are filesystem paths, or Linux abstract names: a leading NUL byte
/// (`"\0name"`), no file, gone with the socket. A name is never
/// truncated: one longer than `sun_path` (107 bytes for a path, 108 for an
/// abstract name with its NUL) is EINVAL.
///
/// ```
/// use ruv::{Loop, Pipe, ReadResult, RunMode};
/// let lp = Loop::new()?;
/// let name = format!("\0ruv-doc-{}", std::process::id());
/// let server = Pipe::new(&lp, false);
/// server.bind(&name)?;
/// server.listen(16, |server, status| {
///     status.unwrap();
///     let conn = Pipe::new(server.get_loop(), false);
///     server.accept(&conn).unwrap();
///     conn.read_start(|conn, read| match read {
///         ReadResult::Data(data) => {
///             let echo = data.to_vec();
///             conn.write(&[&echo], |_, status| status.unwrap()).unwrap();
///         }
///         _ => conn.close(|| {}),
///     })
///     .unwrap();
///     server.close(|| {});
/// })?;
/// let client = Pipe::new(&lp, false);
/// client.connect(&name, |client, status| {
///     status.unwrap();
///     client.write(&[b"ping"], |_, status| status.unwrap()).unwrap();
///     client
///         .read_start(|client, read| {
///             assert_eq!(read, ReadResult::Data(b"ping"));
///             client.close(|| {});
///         })
///         .unwrap();
/// })?;
/// lp.run(RunMode::Default)?;
/// # Ok::<(), ruv::Error>(())
/// ```
#[derive(Clone)]
pub struct Pipe {
    handle: Handle,
}

typed_handle!(Pipe);

/// The descriptor, or `-1` while there is none: see
/// [`Handle`'s `AsRawFd`](Handle#impl-AsRawFd-for-Handle).
impl AsRawFd for Pipe {
    fn as_raw_fd(&self) -> RawFd {
        self.handle.as_raw_fd()
    }
}

stream::stream_methods!(Pipe);

impl StreamHandle for Pipe {
    const TYPE: HandleType = HandleType::NamedPipe;

    fn from_key(lp: &Loop, key: Key) -> Pipe {
        Pipe {
            handle: Handle::from_parts(lp.clone(), key, HandleType::NamedPipe),
        }
    }

    fn stream_of(kind: &mut Kind) -> Option<&mut StreamState<Pipe>> {
        match kind {
            Kind::Pipe(p) => Some(&mut p.stream),
            _ => None,
        }
    }
}

fn pipe_mut(st: &mut LoopState, key: Key) -> Result<&mut PipeState> {
    match &mut st.live_mut(key)?.kind {
        Kind::Pipe(p) => Ok(p),
        _ => Err(Error::ClosedHandle),
    }
}

/// The socket address for a pipe name: EINVAL for an empty name, a NUL
/// inside a path, or a name that does not fit `sun_path` (never
/// truncated).
fn address(name: &OsStr) -> Result<SockAddr> {
    let bytes = name.as_bytes();
    match bytes.split_first() {
        None => return Err(StatusCode::EINVAL.into()),
        // An abstract name may hold any byte.
        Some((0, _)) => {}
        Some(_) if bytes.contains(&0) => return Err(StatusCode::EINVAL.into()),
        Some(_) => {}
    }
    SockAddr::unix(Path::new(name)).map_err(|_| StatusCode::EINVAL.into())
}

/// A socket address's pipe name: the path, an abstract name with its
/// leading NUL, or empty for an unnamed socket (or another family).
fn name_of(addr: &SockAddr) -> OsString {
    if let Some(path) = addr.as_pathname() {
        return path.as_os_str().to_owned();
    }
    match addr.as_abstract_namespace() {
        Some(name) => {
            let mut bytes = Vec::with_capacity(name.len() + 1);
            bytes.push(0);
            bytes.extend_from_slice(name);
            OsString::from_vec(bytes)
        }
        None => OsString::new(),
    }
}

fn new_socket() -> Result<Socket> {
    Ok(Socket::new(
        Domain::UNIX,
        Type::STREAM.nonblocking().cloexec(),
        None,
    )?)
}

/// Part of `close`: the socket file goes first, while the descriptor is
/// still open (as libuv: once it is closed, another process may bind the
/// name, and the unlink would remove that one's file), then the stream
/// stops.
pub(crate) fn stop_for_close(st: &mut LoopState, key: Key, deferred: &mut Deferred) {
    if let Ok(p) = pipe_mut(st, key) {
        if let Some(path) = p.bound_path.take() {
            // Already gone (removed by someone else) is fine.
            let _ = std::fs::remove_file(path);
        }
    }
    stream::stop_for_close::<Pipe>(st, key, deferred);
}

impl Pipe {
    /// Creates a pipe handle without a descriptor (`uv_pipe_init`).
    /// `ipc` marks a pipe meant to pass handles to its peer; passing
    /// handles is not supported yet, and an IPC pipe does not
    /// [`listen`](Pipe::listen).
    #[must_use = "dropping the token does not close the handle: it stays in the loop until closed"]
    pub fn new(lp: &Loop, ipc: bool) -> Pipe {
        let kind = Kind::Pipe(Box::new(PipeState {
            stream: StreamState::default(),
            ipc,
            bound_path: None,
        }));
        Pipe {
            handle: Handle::insert(lp, HandleType::NamedPipe, kind),
        }
    }

    /// Wraps an existing descriptor in a new handle (`uv_pipe_init` +
    /// `uv_pipe_open`); see [`Pipe::open`]. On error the handle is gone
    /// and the descriptor closed (but for EEXIST).
    pub fn from_fd<F: AsFd + Into<OwnedFd>>(lp: &Loop, fd: F) -> Result<Pipe> {
        let pipe = Pipe::new(lp, false);
        if let Err(err) = pipe.open(fd) {
            lp.state().remove(pipe.key());
            return Err(err);
        }
        Ok(pipe)
    }

    /// Adopts an existing descriptor (`uv_pipe_open`): a Unix socket, a
    /// pipe end, a terminal, a `UnixStream`, a `File`, an `OwnedFd`. It is
    /// made non-blocking (for every process sharing it) and the handle
    /// owns it from then on. It is readable and writable as its access
    /// mode says, as libuv: a read-only pipe end is not writable
    /// ([`write`](Pipe::write) is EPIPE), a write-only one not readable
    /// ([`read_start`](Pipe::read_start) is ENOTCONN). Writes to a socket
    /// go out with `sendmsg(MSG_NOSIGNAL)`, to anything else with `writev`
    /// (a pipe without reader then raises `SIGPIPE`, which Rust programs
    /// ignore by default).
    ///
    /// EBUSY if the handle already has a descriptor; EEXIST if this loop
    /// already watches the descriptor (it then stays open: whoever watches
    /// it owns it); EPERM for a descriptor epoll cannot watch (a regular
    /// file). On other errors the descriptor is closed.
    pub fn open<F: AsFd + Into<OwnedFd>>(&self, fd: F) -> Result<()> {
        let key = self.key();
        let lp = self.get_loop();
        if pipe_mut(&mut lp.state(), key)?.stream.socket.is_some() {
            return Err(StatusCode::EBUSY.into());
        }
        // The caller's conversion runs while the loop is not borrowed.
        let fd: OwnedFd = fd.into();
        let raw = fd.as_raw_fd();
        let mode = sys::fd_mode(raw)?;
        sys::set_nonblocking(raw, true)?;
        lp.with_deferred(|st, _| {
            if pipe_mut(st, key)?.stream.socket.is_some() {
                return Err(StatusCode::EBUSY.into());
            }
            match stream::try_install::<Pipe>(st, key, Socket::from(fd)) {
                Ok(()) => {}
                Err((err, socket)) if err == StatusCode::EEXIST => {
                    // Another handle of this loop watches this very
                    // descriptor and owns it: closing it here would pull it
                    // from under that handle.
                    let _ = socket.into_raw_fd();
                    return Err(err);
                }
                Err((err, _)) => return Err(err),
            }
            let p = pipe_mut(st, key)?;
            if !mode.socket {
                p.stream.sender = stream::Sender::Plain;
            }
            p.stream.readable = mode.readable;
            p.stream.writable = mode.writable;
            Ok(())
        })
    }

    /// Binds the handle to `name` (`uv_pipe_bind2` with
    /// `UV_PIPE_NO_TRUNCATE`), creating its socket: a filesystem path,
    /// created as a socket file and removed when the handle closes, or a
    /// Linux abstract name (a leading NUL byte).
    ///
    /// EINVAL for an empty name, a NUL inside a path, a name too long for
    /// `sun_path` (never truncated), or a handle that already has a
    /// descriptor (a second bind); EADDRINUSE when the name exists (a
    /// file, a socket file, an abstract name in use); EACCES for a
    /// directory that does not exist or may not be written (libuv maps
    /// ENOENT to EACCES).
    pub fn bind(&self, name: impl AsRef<OsStr>) -> Result<()> {
        let name = name.as_ref();
        let key = self.key();
        self.get_loop().with_deferred(|st, _| {
            if pipe_mut(st, key)?.stream.socket.is_some() {
                return Err(StatusCode::EINVAL.into());
            }
            let addr = address(name)?;
            let socket = new_socket()?;
            if let Err(e) = socket.bind(&addr) {
                return Err(match e.raw_os_error() {
                    Some(libc::ENOENT) => StatusCode::EACCES.into(),
                    _ => Error::from(e),
                });
            }
            stream::install_socket::<Pipe>(st, key, socket)?;
            pipe_mut(st, key)?.bound_path = addr.as_pathname().map(Path::to_path_buf);
            Ok(())
        })
    }

    /// Listens for connections (`uv_listen`) on the name the handle was
    /// bound to. `backlog` goes to `listen(2)`. `cb` runs, in the poll
    /// phase, once per waiting connection: take it with
    /// [`accept`](Pipe::accept). Accepting works as for
    /// [`Tcp::listen`](crate::Tcp::listen): delayed accept, up to
    /// `backlog` (at least 32) connections per event, out of descriptors
    /// handled without a stall or a spin.
    ///
    /// EINVAL without a descriptor (not bound) or on an IPC pipe.
    pub fn listen(&self, backlog: i32, cb: impl FnMut(&Pipe, Result<()>) + 'static) -> Result<()> {
        let key = self.key();
        let mut cb = Some(Box::new(cb) as stream::ConnectionCb<Pipe>);
        let result = self.get_loop().with_deferred(|st, deferred| {
            let p = pipe_mut(st, key)?;
            if p.stream.socket.is_none() || p.ipc {
                return Err(StatusCode::EINVAL.into());
            }
            let cb = cb.take().ok_or(StatusCode::EINVAL)?;
            stream::start_listening::<Pipe>(st, deferred, key, backlog, cb)
        });
        drop(cb);
        result
    }

    /// Takes the connection a listener's callback was told about into
    /// `client`, a new pipe handle of the same loop (`uv_accept`).
    ///
    /// EAGAIN when no connection waits; EBUSY when `client` already has a
    /// descriptor; EINVAL when `client` belongs to another loop.
    pub fn accept(&self, client: &Pipe) -> Result<()> {
        if !self.get_loop().same_loop(client.get_loop()) {
            return Err(StatusCode::EINVAL.into());
        }
        let (server, ckey) = (self.key(), client.key());
        self.get_loop().with_deferred(|st, _| {
            if pipe_mut(st, ckey)?.stream.socket.is_some() {
                return Err(StatusCode::EBUSY.into());
            }
            let socket = Socket::from(stream::accept_into::<Pipe>(st, server)?);
            stream::install_socket::<Pipe>(st, ckey, socket)?;
            let p = pipe_mut(st, ckey)?;
            p.stream.readable = true;
            p.stream.writable = true;
            Ok(())
        })
    }

    /// Connects to the pipe named `name` (`uv_pipe_connect`), creating the
    /// socket if the handle has none. As in libuv, every failure of the
    /// connect itself comes to `cb`, from the next pending phase, never
    /// from inside `connect`: EINVAL for a bad name (empty, a NUL inside a
    /// path, too long: never truncated), ENOENT when nothing has the name,
    /// ECONNREFUSED for a socket file nobody listens on, EACCES, … A failed
    /// connect does not close the handle. Writes and `read_start` are
    /// allowed while it is pending.
    ///
    /// Returned at once, with `cb` dropped: the closed-handle error, and
    /// EALREADY while a connect is pending.
    pub fn connect(
        &self,
        name: impl AsRef<OsStr>,
        cb: impl FnOnce(&Pipe, Result<()>) + 'static,
    ) -> Result<()> {
        let name = name.as_ref();
        let key = self.key();
        let mut cb = Some(Box::new(cb) as stream::ReqCb<Pipe>);
        let result = self.get_loop().with_deferred(|st, _| {
            if pipe_mut(st, key)?.stream.connect_pending() {
                return Err(StatusCode::EALREADY.into());
            }
            let known = match Self::start_connect(st, key, name) {
                // Even a connect done at once is learnt from the writable
                // event, as for TCP.
                Ok(()) => None,
                Err(err) => Some(Err(err)),
            };
            let cb = cb.take().ok_or(StatusCode::EINVAL)?;
            stream::begin_connect::<Pipe>(st, key, cb, known)
        });
        drop(cb);
        result
    }

    /// `connect(2)` to `name`, with a socket created first if needed: the
    /// error the callback is to get, if any.
    fn start_connect(st: &mut LoopState, key: Key, name: &OsStr) -> Result<()> {
        let addr = address(name)?;
        if pipe_mut(st, key)?.stream.socket.is_none() {
            stream::install_socket::<Pipe>(st, key, new_socket()?)?;
        }
        let sock = pipe_mut(st, key)?
            .stream
            .socket
            .as_ref()
            .ok_or(StatusCode::EBADF)?;
        match sock.connect(&addr) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A new pipe (`pipe2(2)`, close-on-exec, non-blocking), as two
    /// handles: (read end, write end). The read end is readable only, the
    /// write end writable only.
    pub fn anonymous(lp: &Loop) -> Result<(Pipe, Pipe)> {
        let (r, w) = pipe_fds(true, true)?;
        let reader = Pipe::from_fd(lp, r)?;
        match Pipe::from_fd(lp, w) {
            Ok(writer) => Ok((reader, writer)),
            Err(err) => {
                reader.close(|| {});
                Err(err)
            }
        }
    }

    /// Two connected pipe handles over a Unix stream socket pair
    /// (`socketpair(2)` + `uv_pipe_open`, as libuv's `uv_socketpair`),
    /// both readable and writable.
    pub fn pair(lp: &Loop) -> Result<(Pipe, Pipe)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
        let first = Pipe::from_fd(lp, OwnedFd::from(a))?;
        match Pipe::from_fd(lp, OwnedFd::from(b)) {
            Ok(second) => Ok((first, second)),
            Err(err) => {
                first.close(|| {});
                Err(err)
            }
        }
    }

    /// The name the socket is bound to (`uv_pipe_getsockname`): a path, an
    /// abstract name with its leading NUL, or empty when unnamed (a
    /// connecting side, a socket pair).
    ///
    /// EBADF without a descriptor; ENOTSOCK for a pipe end or terminal.
    pub fn sockname(&self) -> Result<OsString> {
        self.name(|s| s.local_addr())
    }

    /// The name of the connected peer (`uv_pipe_getpeername`), as
    /// [`sockname`](Pipe::sockname) gives it. ENOTCONN when not connected;
    /// EBADF without a descriptor; ENOTSOCK for a pipe end or terminal.
    pub fn peername(&self) -> Result<OsString> {
        self.name(|s| s.peer_addr())
    }

    fn name(&self, f: impl FnOnce(&Socket) -> std::io::Result<SockAddr>) -> Result<OsString> {
        let mut st = self.get_loop().state();
        let p = pipe_mut(&mut st, self.key())?;
        let sock = p.stream.socket.as_ref().ok_or(StatusCode::EBADF)?;
        Ok(name_of(&f(sock)?))
    }

    /// Makes the socket file readable and/or writable by everyone
    /// (`uv_pipe_chmod`): adds read (`0o444`) and/or write (`0o222`)
    /// permission to the file's mode, as libuv. It changes the file the
    /// socket is bound to, by path (`fchmod` on a socket changes only the
    /// socket's own inode on Linux, not the file).
    ///
    /// EINVAL when neither is asked for, or for a socket without a file
    /// (not bound, an abstract name); EBADF without a descriptor.
    pub fn chmod(&self, readable: bool, writable: bool) -> Result<()> {
        if !readable && !writable {
            return Err(StatusCode::EINVAL.into());
        }
        let path = {
            let mut st = self.get_loop().state();
            let p = pipe_mut(&mut st, self.key())?;
            let sock = p.stream.socket.as_ref().ok_or(StatusCode::EBADF)?;
            match &p.bound_path {
                Some(path) => path.clone(),
                None => sock
                    .local_addr()?
                    .as_pathname()
                    .map(Path::to_path_buf)
                    .ok_or(StatusCode::EINVAL)?,
            }
        };
        let mut want = 0;
        if readable {
            want |= 0o444;
        }
        if writable {
            want |= 0o222;
        }
        let mut perms = std::fs::metadata(&path)?.permissions();
        if perms.mode() & want == want {
            return Ok(());
        }
        perms.set_mode(perms.mode() | want);
        std::fs::set_permissions(&path, perms)?;
        Ok(())
    }

    /// Handles received and not yet accepted (`uv_pipe_pending_count`):
    /// always 0, as passing handles is not supported yet.
    pub fn pending_count(&self) -> usize {
        0
    }

    /// The type of the next handle received (`uv_pipe_pending_type`):
    /// always `None`, as passing handles is not supported yet.
    pub fn pending_type(&self) -> Option<HandleType> {
        None
    }

    /// Whether the pipe was made for passing handles ([`Pipe::new`]'s
    /// `ipc`).
    pub fn ipc(&self) -> Result<bool> {
        let mut st = self.get_loop().state();
        Ok(pipe_mut(&mut st, self.key())?.ipc)
    }
}

/// A new pipe as raw descriptors (libuv's `uv_pipe`): (read end, write
/// end), both close-on-exec, each non-blocking if asked. For a child
/// process's standard streams, leave its end blocking.
pub fn pipe_fds(read_nonblocking: bool, write_nonblocking: bool) -> Result<(OwnedFd, OwnedFd)> {
    let (r, w) = sys::pipe_cloexec()?;
    sys::set_nonblocking(r.as_raw_fd(), read_nonblocking)?;
    sys::set_nonblocking(w.as_raw_fd(), write_nonblocking)?;
    Ok((r, w))
}
