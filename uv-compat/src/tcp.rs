//! `uv_tcp_*`: TCP handles on `ruv::Tcp` (the stream calls are in
//! `stream.rs` and `stream_write.rs`).

use crate::addr::{sockaddr_to_std, std_to_sockaddr};
use crate::handles::{close_hook, init, live, mark_closing, status, to_status, OwnedToken, Token};
use crate::handles::{EBADF, EINVAL};
use crate::loops::ctx;
use crate::stream::init_fields;
use crate::types::*;
use crate::udp::ProgramFd;
use libc::{c_int, c_uint, sockaddr};
use ruv::TcpFlags;

/// The ruv TCP handle of a live C handle.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
unsafe fn tcp<'a>(handle: *const uv_tcp_t) -> Result<&'a ruv::Tcp, c_int> {
    // SAFETY: forwarded contract.
    match unsafe { live(handle as *const uv_handle_t) }? {
        Token::Tcp(t) => Ok(t),
        _ => Err(EINVAL),
    }
}

/// Runs `f` on a live TCP handle.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
unsafe fn with_tcp(handle: *const uv_tcp_t, f: impl FnOnce(&ruv::Tcp) -> ruv::Result<()>) -> c_int {
    // SAFETY: forwarded contract.
    match unsafe { tcp(handle) } {
        Ok(t) => to_status(f(t)),
        Err(code) => code,
    }
}

/// `uv_tcp_init`.
///
/// # Safety
/// As `uv_tcp_init_ex`.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_init(loop_: *mut uv_loop_t, handle: *mut uv_tcp_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { uv_tcp_init_ex(loop_, handle, libc::AF_UNSPEC as c_uint) }
}

/// `uv_tcp_init_ex`: the address family in the low byte (a socket is
/// created at once for AF_INET/AF_INET6); any other bit is UV_EINVAL.
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// `sizeof(uv_tcp_t)`.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_init_ex(
    loop_: *mut uv_loop_t,
    handle: *mut uv_tcp_t,
    flags: c_uint,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() || flags & !0xff != 0 {
        return EINVAL;
    }
    let t = match ruv::Tcp::new_with_family(&ctx.lp, (flags & 0xff) as c_int) {
        Ok(t) => t,
        Err(err) => return status(err),
    };
    // SAFETY: writable per the contract above.
    unsafe {
        init_fields(handle);
        init(
            loop_,
            ctx,
            handle as *mut uv_handle_t,
            handle_type::TCP,
            OwnedToken::Tcp(t),
            0,
        );
    }
    0
}

/// `uv_tcp_open`: adopts a connected or listening TCP socket, made
/// non-blocking. UV_EBUSY if the handle has a socket; UV_EEXIST if the loop
/// already watches `sock`. On error the socket stays open, the program's.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_open(handle: *mut uv_tcp_t, sock: c_int) -> c_int {
    if sock < 0 {
        return EBADF;
    }
    // SAFETY: forwarded contract.
    unsafe { with_tcp(handle, |t| t.open(ProgramFd(sock))) }
}

/// `uv_tcp_nodelay`.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_nodelay(handle: *mut uv_tcp_t, enable: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_tcp(handle, |t| t.nodelay(enable != 0)) }
}

/// `uv_tcp_keepalive`: probes after `delay` seconds of silence, then every
/// second, 10 unanswered ones dropping the connection (libuv's values).
/// UV_EINVAL for `delay` 0 when enabling.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_keepalive(
    handle: *mut uv_tcp_t,
    enable: c_int,
    delay: c_uint,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_tcp(handle, |t| t.keepalive(enable != 0, delay)) }
}

/// `uv_tcp_keepalive_ex` (libuv 1.52). UV_EINVAL for a zero parameter when
/// enabling.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_keepalive_ex(
    handle: *mut uv_tcp_t,
    on: c_int,
    idle: c_uint,
    intvl: c_uint,
    cnt: c_uint,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_tcp(handle, |t| t.keepalive_ex(on != 0, idle, intvl, cnt)) }
}

/// `uv_tcp_simultaneous_accepts`: nothing to do, as in libuv on Unix since
/// 1.45 (ruv accepts up to 32 connections per readiness event either way).
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_simultaneous_accepts(
    handle: *mut uv_tcp_t,
    _enable: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_tcp(handle, |_| Ok(())) }
}

/// `uv_tcp_bind`: `UV_TCP_IPV6ONLY`, `UV_TCP_REUSEPORT`. An address in use
/// is reported by `uv_listen`, `uv_tcp_connect` and `uv_tcp_getsockname`,
/// as in libuv.
///
/// # Safety
/// `handle` is NULL or an initialized handle; `addr` is NULL or a valid
/// socket address.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_bind(
    handle: *mut uv_tcp_t,
    addr: *const sockaddr,
    flags: c_uint,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(addr) = (unsafe { sockaddr_to_std(addr) }) else {
        return EINVAL;
    };
    // SAFETY: forwarded contract.
    unsafe { with_tcp(handle, |t| t.bind(addr, TcpFlags::from_bits_retain(flags))) }
}

/// Reports a connect's outcome to the program.
///
/// # Safety
/// `req` is the request a connect call accepted, alive until now.
pub(crate) unsafe fn connected(req: *mut uv_connect_t, result: ruv::Result<()>) {
    // SAFETY: per the contract above; the callback is read now so C may
    // have changed it.
    unsafe {
        if let Some(cb) = (*req).cb {
            cb(req, result.err().map_or(0, status));
        }
    }
}

/// Fills a connect request the loop accepted.
///
/// # Safety
/// `req` points to writable memory of `sizeof(uv_connect_t)`.
pub(crate) unsafe fn fill_connect(
    req: *mut uv_connect_t,
    handle: *mut uv_stream_t,
    cb: Option<uv_connect_cb>,
) {
    // SAFETY: per the contract above.
    unsafe {
        (*req).req.type_ = UV_CONNECT;
        (*req).handle = handle;
        (*req).cb = cb;
    }
}

/// `uv_tcp_connect`: the outcome always comes to `cb` later, from the loop
/// (UV_ECONNREFUSED, a deferred UV_EADDRINUSE, UV_ECANCELED on close).
/// UV_EALREADY while a connect is pending; UV_EINVAL for a NULL request or
/// an address that is not IPv4/IPv6.
///
/// # Safety
/// `req` points to writable memory of `sizeof(uv_connect_t)` that stays
/// alive until `cb` runs; `handle` is NULL or an initialized handle;
/// `addr` is NULL or a valid socket address.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_connect(
    req: *mut uv_connect_t,
    handle: *mut uv_tcp_t,
    addr: *const sockaddr,
    cb: Option<uv_connect_cb>,
) -> c_int {
    if req.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    let Some(addr) = (unsafe { sockaddr_to_std(addr) }) else {
        return EINVAL;
    };
    // SAFETY: per the contract above; the callback runs once, while the
    // program keeps `req` alive.
    let r = unsafe {
        with_tcp(handle, |t| {
            t.connect(addr, move |_, result| connected(req, result))
        })
    };
    if r == 0 {
        // SAFETY: writable per the contract above; the callback has not
        // run (never from inside `connect`).
        unsafe { fill_connect(req, handle, cb) };
    }
    r
}

/// Shared by the two name getters.
///
/// # Safety
/// `handle` is NULL or an initialized handle; `name`/`namelen` are NULL or
/// writable (`*namelen` bytes at `name`).
unsafe fn get_name(
    handle: *const uv_tcp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
    get: fn(&ruv::Tcp) -> ruv::Result<std::net::SocketAddr>,
) -> c_int {
    // SAFETY: per the contract above.
    let t = match unsafe { tcp(handle) } {
        Ok(t) => t,
        Err(code) => return code,
    };
    match get(t) {
        // SAFETY: per the contract above.
        Ok(addr) => unsafe { std_to_sockaddr(&addr, name, namelen) },
        Err(err) => status(err),
    }
}

/// `uv_tcp_getsockname`.
///
/// # Safety
/// See `get_name`.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_getsockname(
    handle: *const uv_tcp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_name(handle, name, namelen, ruv::Tcp::sockname) }
}

/// `uv_tcp_getpeername`.
///
/// # Safety
/// See `get_name`.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_getpeername(
    handle: *const uv_tcp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_name(handle, name, namelen, ruv::Tcp::peername) }
}

/// `uv_tcp_close_reset`: closes the handle so that the peer gets a reset
/// (UV_ECONNRESET) rather than the end of the stream. UV_EINVAL while a
/// shutdown is pending (the handle is then not closed).
///
/// # Safety
/// `handle` is NULL or an initialized handle the program keeps alive until
/// `close_cb` runs.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_close_reset(
    handle: *mut uv_tcp_t,
    close_cb: Option<uv_close_cb>,
) -> c_int {
    // SAFETY: per the contract above.
    let t = match unsafe { tcp(handle) } {
        Ok(t) => t,
        Err(code) => return code,
    };
    // The close ends the way `uv_close`'s does: through the loop's close
    // hook, which finds the C handle by the ruv handle's id.
    let token = t.clone();
    if let Err(err) = t.close_reset(move || close_hook(&token)) {
        return status(err);
    }
    // SAFETY: a live handle; ruv runs no callback of the close before the
    // closing phase.
    unsafe { mark_closing(handle as *mut uv_handle_t, close_cb) };
    0
}
