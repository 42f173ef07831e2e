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
use std::collections::VecDeque;
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
    /// Descriptors an IPC pipe received and nobody accepted yet, oldest
    /// first; closed when the pipe closes.
    pending: VecDeque<OwnedFd>,
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

    fn passes_handles(kind: &mut Kind) -> bool {
        matches!(kind, Kind::Pipe(p) if p.ipc)
    }

    fn receive_fd(st: &mut LoopState, key: Key, fd: OwnedFd) {
        // A pipe gone meanwhile drops (closes) it.
        if let Ok(p) = pipe_mut(st, key) {
            p.pending.push_back(fd);
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
        // Handles received and never accepted are closed with the pipe
        // (as libuv's `uv_close`).
        p.pending.clear();
    }
    stream::stop_for_close::<Pipe>(st, key, deferred);
}

impl Pipe {
    /// Creates a pipe handle without a descriptor (`uv_pipe_init`).
    /// `ipc` makes a pipe that passes handles to its peer over a Unix
    /// stream socket ([`write2`](Pipe::write2), [`pending_count`](Pipe::pending_count),
    /// [`accept_handle`](Pipe::accept_handle)); an IPC pipe does not
    /// [`listen`](Pipe::listen).
    #[must_use = "dropping the token does not close the handle: it stays in the loop until closed"]
    pub fn new(lp: &Loop, ipc: bool) -> Pipe {
        let kind = Kind::Pipe(Box::new(PipeState {
            stream: StreamState::default(),
            ipc,
            bound_path: None,
            pending: VecDeque::new(),
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
    /// `client`, a new pipe handle of the same loop (`uv_accept`). On an
    /// IPC pipe it takes the next pipe handle received instead, as
    /// [`accept_handle`](Pipe::accept_handle).
    ///
    /// EAGAIN when no connection waits; EBUSY when `client` already has a
    /// descriptor; EINVAL when `client` belongs to another loop.
    pub fn accept(&self, client: &Pipe) -> Result<()> {
        if !self.get_loop().same_loop(client.get_loop()) {
            return Err(StatusCode::EINVAL.into());
        }
        if self.ipc()? {
            return self.accept_handle(client);
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

    /// Sends `bufs` with a handle to the peer (`uv_write2`): a TCP handle
    /// (listening or connected), a pipe or a UDP handle, whose descriptor
    /// goes with the first bytes of this request, never with another
    /// request's. The peer receives its own descriptor for the same socket
    /// ([`accept_handle`](Pipe::accept_handle)); `send_handle` stays open
    /// here, and may be closed once this call returned (the request holds
    /// a duplicate until it is sent). Otherwise as [`write`](Pipe::write):
    /// `cb` from the pending phase, writes in order.
    ///
    /// As libuv: EINVAL without buffers; EBADF without a descriptor; EPIPE
    /// when not writable; EINVAL on a pipe made without `ipc`; EBADF when
    /// `send_handle` is closing or has no descriptor. Also EINVAL when
    /// `send_handle` is not a TCP, pipe or UDP handle, and when the buffers
    /// hold no byte (the kernel passes a descriptor only with data: libuv
    /// would drop it silently).
    pub fn write2(
        &self,
        bufs: &[&[u8]],
        send_handle: &Handle,
        cb: impl FnOnce(&Pipe, Result<()>) + 'static,
    ) -> Result<()> {
        {
            let mut st = self.get_loop().state();
            let p = pipe_mut(&mut st, self.key())?;
            stream::check_write(&p.stream, bufs.len())?;
            if !p.ipc {
                return Err(StatusCode::EINVAL.into());
            }
        }
        let pass = sys::dup_cloexec(passable(send_handle)?)?;
        stream::write2(self, bufs, pass, cb)
    }

    /// Sends `bufs` with a handle at once if the socket takes them
    /// (`uv_try_write2`): the bytes written, the descriptor going with
    /// them; nothing is queued. As [`try_write`](Pipe::try_write) (EAGAIN
    /// while a connect or any write is in flight, or when the socket is
    /// full), then the checks of [`write2`](Pipe::write2) on the pipe and
    /// on `send_handle`.
    pub fn try_write2(&self, bufs: &[&[u8]], send_handle: &Handle) -> Result<usize> {
        if bufs.iter().all(|b| b.is_empty()) && !bufs.is_empty() {
            // No byte to carry the descriptor (no buffer at all is the
            // write check's EINVAL).
            return Err(StatusCode::EINVAL.into());
        }
        stream::try_write(self, bufs, Some(passable(send_handle)))
    }

    /// Handles received and not yet accepted (`uv_pipe_pending_count`):
    /// 0 on a pipe made without `ipc` or closed.
    pub fn pending_count(&self) -> usize {
        let mut st = self.get_loop().state();
        pipe_mut(&mut st, self.key()).map_or(0, |p| p.pending.len())
    }

    /// The type of the next handle received (`uv_pipe_pending_type`):
    /// [`HandleType::Tcp`] for an IPv4/IPv6 stream socket,
    /// [`HandleType::Udp`] for a datagram one, [`HandleType::NamedPipe`]
    /// for a Unix stream socket or a pipe (as libuv's `uv_guess_handle`);
    /// `None` when none waits or for another kind of descriptor (take
    /// that with [`take_pending`](Pipe::take_pending)).
    pub fn pending_type(&self) -> Option<HandleType> {
        let mut st = self.get_loop().state();
        let fd = pipe_mut(&mut st, self.key()).ok()?.pending.front()?;
        handle_type_of(sys::fd_kind(fd.as_fd()))
    }

    /// Moves the next handle received into `client`, a new handle of this
    /// loop of the matching type ([`pending_type`](Pipe::pending_type)):
    /// a [`Tcp`](crate::Tcp) (listening or connected, as sent), a
    /// [`Pipe`] or a [`Udp`](crate::Udp). libuv's `uv_accept` on an IPC
    /// pipe.
    ///
    /// EAGAIN when none waits (or the pipe was made without `ipc`);
    /// EINVAL when `client` belongs to another loop or its type is not the
    /// next handle's (which then stays queued); EBUSY when `client`
    /// already has a descriptor; the closed-handle error when `client` is
    /// closing. Should adopting the descriptor fail otherwise, it is
    /// closed, as libuv does.
    pub fn accept_handle(&self, client: &Handle) -> Result<()> {
        let lp = self.get_loop();
        if !lp.same_loop(client.get_loop()) {
            return Err(StatusCode::EINVAL.into());
        }
        if client.is_closing() {
            return Err(Error::ClosedHandle);
        }
        let busy = client.as_raw_fd() >= 0;
        let fd = {
            let mut st = lp.state();
            let p = pipe_mut(&mut st, self.key())?;
            let next = p.pending.front().ok_or(StatusCode::EAGAIN)?;
            if handle_type_of(sys::fd_kind(next.as_fd())) != Some(client.handle_type()) {
                return Err(StatusCode::EINVAL.into());
            }
            if busy {
                return Err(StatusCode::EBUSY.into());
            }
            p.pending.pop_front().ok_or(StatusCode::EAGAIN)?
        };
        let key = client.key();
        match client.handle_type() {
            HandleType::Tcp => <crate::Tcp as StreamHandle>::from_key(lp, key).open(fd),
            HandleType::Udp => crate::Udp::from_key(lp, key).open(fd),
            _ => Pipe::from_key(lp, key).open(fd),
        }
    }

    /// Takes the next descriptor received as it is, whatever it is (one
    /// [`pending_type`](Pipe::pending_type) does not name, or to adopt it
    /// elsewhere); `None` when none waits.
    pub fn take_pending(&self) -> Option<OwnedFd> {
        let mut st = self.get_loop().state();
        pipe_mut(&mut st, self.key()).ok()?.pending.pop_front()
    }

    /// Whether the pipe was made for passing handles ([`Pipe::new`]'s
    /// `ipc`).
    pub fn ipc(&self) -> Result<bool> {
        let mut st = self.get_loop().state();
        Ok(pipe_mut(&mut st, self.key())?.ipc)
    }
}

/// The descriptor of a handle to pass: EINVAL unless a TCP, pipe or UDP
/// handle; EBADF when it is closing or has no descriptor (as libuv).
fn passable(send_handle: &Handle) -> Result<RawFd> {
    if !matches!(
        send_handle.handle_type(),
        HandleType::Tcp | HandleType::NamedPipe | HandleType::Udp
    ) {
        return Err(StatusCode::EINVAL.into());
    }
    let raw = send_handle.as_raw_fd();
    if raw < 0 || send_handle.is_closing() {
        return Err(StatusCode::EBADF.into());
    }
    Ok(raw)
}

/// The handle type a received descriptor becomes.
fn handle_type_of(kind: sys::FdKind) -> Option<HandleType> {
    match kind {
        sys::FdKind::Tcp => Some(HandleType::Tcp),
        sys::FdKind::Udp => Some(HandleType::Udp),
        sys::FdKind::Pipe => Some(HandleType::NamedPipe),
        sys::FdKind::Other => None,
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
