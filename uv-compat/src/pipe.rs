//! `uv_pipe_*`, `uv_pipe`, `uv_socketpair`: pipe handles on `ruv::Pipe`
//! (the stream calls are in `stream.rs` and `stream_write.rs`).

use crate::handles::{init, live, status, to_status, OwnedToken, Token, EBADF, EINVAL};
use crate::loops::ctx;
use crate::stream::init_fields;
use crate::tcp::{connected, fill_connect};
use crate::types::*;
use crate::udp::ProgramFd;
use libc::{c_char, c_int, c_uint, size_t};
use std::ffi::{CStr, OsStr, OsString};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

/// `UV_PIPE_NO_TRUNCATE`.
const NO_TRUNCATE: c_uint = 1;
/// `UV_NONBLOCK_PIPE`.
const NONBLOCK_PIPE: c_int = 0x40;
/// `UV_READABLE` and `UV_WRITABLE`, as `uv_pipe_chmod` takes them.
const READABLE: c_int = 1;
const WRITABLE: c_int = 2;
/// Bytes of `sun_path`.
const SUN_PATH: usize = 108;
/// The longest name libuv 1.52 accepts at all (`_PC_NAME_MAX` on Linux).
const NAME_MAX: usize = 255;

/// The ruv pipe handle of a live C handle; UV_EINVAL for any other kind.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
pub(crate) unsafe fn pipe<'a>(handle: *const uv_pipe_t) -> Result<&'a ruv::Pipe, c_int> {
    // SAFETY: forwarded contract.
    match unsafe { live(handle as *const uv_handle_t) }? {
        Token::Pipe(p) => Ok(p),
        _ => Err(EINVAL),
    }
}

/// Runs `f` on a live pipe handle.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
unsafe fn with_pipe(
    handle: *const uv_pipe_t,
    f: impl FnOnce(&ruv::Pipe) -> ruv::Result<()>,
) -> c_int {
    // SAFETY: forwarded contract.
    match unsafe { pipe(handle) } {
        Ok(p) => to_status(f(p)),
        Err(code) => code,
    }
}

/// `uv_pipe_init`: `ipc` is stored in the public field; an IPC pipe does
/// not listen.
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// `sizeof(uv_pipe_t)`.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_init(
    loop_: *mut uv_loop_t,
    handle: *mut uv_pipe_t,
    ipc: c_int,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() {
        return EINVAL;
    }
    let p = ruv::Pipe::new(&ctx.lp, ipc != 0);
    // SAFETY: writable per the contract above.
    unsafe {
        init_fields(handle as *mut uv_stream_t);
        (*handle).ipc = ipc;
        (*handle).ruv_pipe_reserved_ = ptr::null_mut();
        init(
            loop_,
            ctx,
            handle as *mut uv_handle_t,
            handle_type::NAMED_PIPE,
            OwnedToken::Pipe(p),
            0,
        );
    }
    0
}

/// `uv_pipe_open`: adopts a Unix socket, pipe end or terminal, made
/// non-blocking; readable and writable as its access mode says. UV_EEXIST
/// if the loop already watches `file`; UV_EPERM for a regular file or a
/// directory, which epoll cannot watch; UV_EBADF for a descriptor that is
/// not open. On these errors `file` stays open, the program's.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_open(handle: *mut uv_pipe_t, file: c_int) -> c_int {
    if file < 0 {
        return EBADF;
    }
    // ruv owns the descriptor once it takes it, and closes it if epoll
    // then refuses it: what epoll refuses is refused here first, so that a
    // program closing its descriptor after the failure closes nothing else.
    // SAFETY: all-zero is a valid `stat`; fstat writes it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable.
    if unsafe { libc::fstat(file, &mut st) } != 0 {
        return EBADF;
    }
    if matches!(st.st_mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFDIR) {
        return ruv::StatusCode::EPERM.code();
    }
    // SAFETY: forwarded contract.
    unsafe { with_pipe(handle, |p| p.open(ProgramFd(file))) }
}

/// A pipe name as libuv 1.52 takes it: `namelen` bytes (a leading NUL is a
/// Linux abstract name); UV_EINVAL for unknown flags, NULL, an empty name,
/// one past `NAME_MAX`, or one past `sun_path` with `UV_PIPE_NO_TRUNCATE`.
/// Without that flag a long name is cut to what `sun_path` holds (a path
/// keeps room for its NUL). A NUL inside a path is ruv's UV_EINVAL.
///
/// # Safety
/// `name` is NULL or points to `namelen` readable bytes.
unsafe fn pipe_name<'a>(
    name: *const c_char,
    namelen: size_t,
    flags: c_uint,
) -> Result<&'a OsStr, c_int> {
    if flags & !NO_TRUNCATE != 0 || name.is_null() || namelen == 0 {
        return Err(EINVAL);
    }
    if (flags & NO_TRUNCATE != 0 && namelen > SUN_PATH) || namelen > NAME_MAX {
        return Err(EINVAL);
    }
    // SAFETY: per the contract above.
    let bytes = unsafe { std::slice::from_raw_parts(name as *const u8, namelen) };
    let fits = if bytes[0] == 0 {
        SUN_PATH
    } else {
        SUN_PATH - 1
    };
    Ok(OsStr::from_bytes(&bytes[..namelen.min(fits)]))
}

/// `uv_pipe_bind`: `uv_pipe_bind2` of the NUL-terminated `name`, without
/// flags.
///
/// # Safety
/// `handle` is NULL or an initialized handle; `name` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_bind(handle: *mut uv_pipe_t, name: *const c_char) -> c_int {
    if name.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    let len = unsafe { CStr::from_ptr(name) }.to_bytes().len();
    // SAFETY: forwarded contract.
    unsafe { uv_pipe_bind2(handle, name, len, 0) }
}

/// `uv_pipe_bind2` (libuv 1.46): a path (its socket file removed when the
/// handle closes) or an abstract name. UV_EADDRINUSE when the name exists;
/// UV_EACCES for a directory that does not exist or may not be written;
/// UV_EINVAL for a bad name (see `pipe_name`) or a second bind.
///
/// # Safety
/// `handle` is NULL or an initialized handle; `name` is NULL or points to
/// `namelen` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_bind2(
    handle: *mut uv_pipe_t,
    name: *const c_char,
    namelen: size_t,
    flags: c_uint,
) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { pipe_name(name, namelen, flags) } {
        // SAFETY: forwarded contract.
        Ok(name) => unsafe { with_pipe(handle, |p| p.bind(name)) },
        Err(code) => code,
    }
}

/// Connects to `name`; every failure of the connect itself comes to `cb`
/// later from the loop.
///
/// # Safety
/// As `uv_pipe_connect2`.
unsafe fn connect(
    req: *mut uv_connect_t,
    handle: *mut uv_pipe_t,
    name: &OsStr,
    cb: Option<uv_connect_cb>,
) -> c_int {
    if req.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above; the callback runs once, while the
    // program keeps `req` alive.
    let r = unsafe {
        with_pipe(handle, |p| {
            p.connect(name, move |_, result| connected(req, result))
        })
    };
    if r == 0 {
        // SAFETY: writable per the contract above; the callback has not
        // run (never from inside `connect`).
        unsafe { fill_connect(req, handle as *mut uv_stream_t, cb) };
    }
    r
}

/// `uv_pipe_connect`: as libuv, every error comes to `cb`, from the loop,
/// including a bad name (UV_EINVAL), UV_ENOENT and UV_ECONNREFUSED; a long
/// name is cut to what `sun_path` holds. A NULL request or name, a closing
/// handle or a connect already pending cannot be reported (libuv leaves
/// those undefined) and leave `req` alone.
///
/// # Safety
/// As `uv_pipe_connect2`; `name` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_connect(
    req: *mut uv_connect_t,
    handle: *mut uv_pipe_t,
    name: *const c_char,
    cb: Option<uv_connect_cb>,
) {
    if name.is_null() {
        return;
    }
    // SAFETY: per the contract above.
    let full = unsafe { CStr::from_ptr(name) }.to_bytes();
    // A name libuv refuses goes to ruv as it is: ruv reports it to `cb`.
    // SAFETY: `full` is readable.
    let name = unsafe { pipe_name(name, full.len(), 0) }.unwrap_or(OsStr::from_bytes(full));
    // SAFETY: forwarded contract.
    unsafe { connect(req, handle, name, cb) };
}

/// `uv_pipe_connect2` (libuv 1.46): as `uv_pipe_connect`, but a bad name or
/// flag is returned (UV_EINVAL, see `pipe_name`), as are UV_EALREADY and a
/// closing handle.
///
/// # Safety
/// `req` points to writable memory of `sizeof(uv_connect_t)` that stays
/// alive until `cb` runs; `handle` is NULL or an initialized handle; `name`
/// is NULL or points to `namelen` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_connect2(
    req: *mut uv_connect_t,
    handle: *mut uv_pipe_t,
    name: *const c_char,
    namelen: size_t,
    flags: c_uint,
    cb: Option<uv_connect_cb>,
) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { pipe_name(name, namelen, flags) } {
        // SAFETY: forwarded contract.
        Ok(name) => unsafe { connect(req, handle, name, cb) },
        Err(code) => code,
    }
}

/// Copies a pipe name out as libuv does: UV_ENOBUFS with the size needed
/// (the NUL included) in `*size` when it does not fit; else the length in
/// `*size` (without the NUL), and a NUL after a path (an abstract name is
/// copied raw).
///
/// # Safety
/// `handle` is NULL or an initialized handle; `size` is NULL or writable;
/// `buffer` is writable for `*size` bytes.
unsafe fn get_name(
    handle: *const uv_pipe_t,
    buffer: *mut c_char,
    size: *mut size_t,
    get: fn(&ruv::Pipe) -> ruv::Result<OsString>,
) -> c_int {
    if size.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    let name = match unsafe { pipe(handle) }.map(|p| get(p).map_err(status)) {
        Ok(Ok(name)) => name,
        Ok(Err(code)) | Err(code) => {
            // SAFETY: writable per the contract above.
            unsafe { *size = 0 };
            return code;
        }
    };
    let bytes = name.as_bytes();
    let n = bytes.len();
    // SAFETY: writable per the contract above; `n < *size` bytes fit.
    unsafe {
        if n >= *size {
            *size = n + 1;
            return ruv::StatusCode::ENOBUFS.code();
        }
        ptr::copy_nonoverlapping(bytes.as_ptr(), buffer as *mut u8, n);
        *size = n;
        if bytes.first() != Some(&0) {
            *buffer.add(n) = 0;
        }
    }
    0
}

/// `uv_pipe_getsockname`: the name bound to, empty for an unnamed socket.
///
/// # Safety
/// See `get_name`.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_getsockname(
    handle: *const uv_pipe_t,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_name(handle, buffer, size, ruv::Pipe::sockname) }
}

/// `uv_pipe_getpeername`: the connected peer's name. UV_ENOTCONN when not
/// connected.
///
/// # Safety
/// See `get_name`.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_getpeername(
    handle: *const uv_pipe_t,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_name(handle, buffer, size, ruv::Pipe::peername) }
}

/// `uv_pipe_pending_instances`: nothing to do on Unix, as in libuv.
#[no_mangle]
pub extern "C" fn uv_pipe_pending_instances(_handle: *mut uv_pipe_t, _count: c_int) {}

/// `uv_pipe_chmod`: makes the socket file readable and/or writable by
/// everyone (`UV_READABLE`, `UV_WRITABLE`). UV_EBADF without a descriptor;
/// UV_EINVAL for other flags, or a socket without a file.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_chmod(handle: *mut uv_pipe_t, flags: c_int) -> c_int {
    // SAFETY: per the contract above.
    let p = match unsafe { pipe(handle) } {
        Ok(p) if p.fileno().is_ok() => p,
        _ => return EBADF,
    };
    if !matches!(flags, READABLE | WRITABLE) && flags != READABLE | WRITABLE {
        return EINVAL;
    }
    to_status(p.chmod(flags & READABLE != 0, flags & WRITABLE != 0))
}

/// Writes a pair of descriptors out to the program.
///
/// # Safety
/// `fds` points to two writable descriptors.
unsafe fn hand_out(fds: *mut c_int, pair: (OwnedFd, OwnedFd)) {
    // SAFETY: per the contract above; the program owns them from now on.
    unsafe {
        *fds = pair.0.into_raw_fd();
        *fds.add(1) = pair.1.into_raw_fd();
    }
}

/// `uv_pipe` (libuv 1.41): a pipe, close-on-exec; each end non-blocking
/// with `UV_NONBLOCK_PIPE` in its flags. `fds[0]` is the read end.
///
/// # Safety
/// `fds` is NULL or points to two writable descriptors.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe(fds: *mut c_int, read_flags: c_int, write_flags: c_int) -> c_int {
    if fds.is_null() {
        return EINVAL;
    }
    match ruv::pipe_fds(
        read_flags & NONBLOCK_PIPE != 0,
        write_flags & NONBLOCK_PIPE != 0,
    ) {
        Ok(pair) => {
            // SAFETY: per the contract above.
            unsafe { hand_out(fds, pair) };
            0
        }
        Err(err) => status(err),
    }
}

/// `uv_socketpair` (libuv 1.41): a connected pair of Unix domain sockets of
/// `type_` (`SOCK_STREAM`, `SOCK_DGRAM`, …), close-on-exec; each
/// non-blocking with `UV_NONBLOCK_PIPE` in its flags.
///
/// # Safety
/// `fds` is NULL or points to two writable descriptors.
#[no_mangle]
pub unsafe extern "C" fn uv_socketpair(
    type_: c_int,
    protocol: c_int,
    fds: *mut c_int,
    flags0: c_int,
    flags1: c_int,
) -> c_int {
    if fds.is_null() {
        return EINVAL;
    }
    let pair = (|| {
        let ty = socket2::Type::from(type_).cloexec();
        let (a, b) = socket2::Socket::pair_raw(
            socket2::Domain::UNIX,
            ty,
            Some(socket2::Protocol::from(protocol)),
        )?;
        a.set_nonblocking(flags0 & NONBLOCK_PIPE != 0)?;
        b.set_nonblocking(flags1 & NONBLOCK_PIPE != 0)?;
        Ok::<_, std::io::Error>((OwnedFd::from(a), OwnedFd::from(b)))
    })();
    match pair {
        Ok(pair) => {
            // SAFETY: per the contract above.
            unsafe { hand_out(fds, pair) };
            0
        }
        Err(err) => status(err.into()),
    }
}

/// `uv_guess_handle`: what kind of handle suits a descriptor — UV_TTY for a
/// terminal, UV_FILE for a regular file or character device, UV_NAMED_PIPE
/// for a FIFO or Unix stream socket, UV_TCP / UV_UDP for IPv4/IPv6 stream
/// and datagram sockets, UV_UNKNOWN_HANDLE otherwise (and for a descriptor
/// that is not open).
#[no_mangle]
pub extern "C" fn uv_guess_handle(file: c_int) -> c_int {
    const UNKNOWN: c_int = 0;
    const TTY: c_int = 14;
    const FILE: c_int = 17;
    if file < 0 {
        return UNKNOWN;
    }
    // SAFETY: isatty only reads the descriptor number.
    if unsafe { libc::isatty(file) } == 1 {
        return TTY;
    }
    // SAFETY: all-zero is a valid `stat`; fstat writes it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable.
    if unsafe { libc::fstat(file, &mut st) } != 0 {
        return UNKNOWN;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFREG | libc::S_IFCHR => return FILE,
        libc::S_IFIFO => return handle_type::NAMED_PIPE,
        libc::S_IFSOCK => {}
        _ => return UNKNOWN,
    }
    // SAFETY: all-zero is a valid `sockaddr_storage`.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `ss` is writable for `len` bytes.
    if unsafe { libc::getsockname(file, ptr::addr_of_mut!(ss).cast(), &mut len) } != 0 {
        return UNKNOWN;
    }
    let mut ty: c_int = 0;
    let mut ty_len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `ty` is writable for `ty_len` bytes.
    let got = unsafe {
        libc::getsockopt(
            file,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            ptr::addr_of_mut!(ty).cast(),
            &mut ty_len,
        )
    };
    if got != 0 {
        return UNKNOWN;
    }
    let inet = matches!(c_int::from(ss.ss_family), libc::AF_INET | libc::AF_INET6);
    match ty {
        libc::SOCK_DGRAM if inet => handle_type::UDP,
        libc::SOCK_STREAM if inet => handle_type::TCP,
        libc::SOCK_STREAM if c_int::from(ss.ss_family) == libc::AF_UNIX => handle_type::NAMED_PIPE,
        _ => UNKNOWN,
    }
}
