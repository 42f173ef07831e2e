//! `uv_udp_*`: everything but receiving (see `udp_recv.rs`).

use crate::addr::{sockaddr_to_std, std_to_sockaddr};
use crate::handles::{flags, init, live_udp, status, to_status, OwnedToken, EINVAL, RECVMMSG};
use crate::loops::{ctx, running_handle};
use crate::types::*;
use libc::{c_char, c_int, c_uint, c_void, sockaddr};
use ruv::{Membership, StatusCode, UdpFlags};
use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

/// The ruv UDP handle of a live C handle.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[inline]
pub(crate) unsafe fn udp<'a>(handle: *const uv_udp_t) -> Result<&'a ruv::Udp, c_int> {
    // SAFETY: forwarded contract.
    unsafe { live_udp(handle as *const uv_handle_t) }.ok_or(EINVAL)
}

/// `uv_udp_init`.
///
/// # Safety
/// As `uv_udp_init_ex`.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_init(loop_: *mut uv_loop_t, handle: *mut uv_udp_t) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { uv_udp_init_ex(loop_, handle, libc::AF_UNSPEC as c_uint) }
}

/// `uv_udp_init_ex`: the address family in the low byte (a socket is
/// created at once for AF_INET/AF_INET6), `UV_UDP_RECVMMSG` above it.
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// `sizeof(uv_udp_t)`.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_init_ex(
    loop_: *mut uv_loop_t,
    handle: *mut uv_udp_t,
    flags: c_uint,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() {
        return EINVAL;
    }
    let family = (flags & 0xff) as c_int;
    let extra = flags & !0xff;
    if extra & !UdpFlags::RECVMMSG.bits() != 0 {
        return EINVAL;
    }
    let u = match ruv::Udp::with_family(&ctx.lp, family) {
        Ok(u) => u,
        Err(err) => return status(err),
    };
    let mmsg = if extra != 0 { RECVMMSG } else { 0 };
    // SAFETY: writable per the contract above.
    unsafe {
        (*handle).send_queue_size = 0;
        (*handle).send_queue_count = 0;
        (*handle).alloc_cb = None;
        (*handle).recv_cb = None;
        (*handle).ruv_private_sends_ = [ptr::null_mut(); 2];
        init(
            loop_,
            ctx,
            handle as *mut uv_handle_t,
            handle_type::UDP,
            OwnedToken::Udp(u),
            mmsg,
        );
    }
    0
}

/// A descriptor the program still owns: adopted by ruv only on success, so
/// a failed `uv_udp_open` leaves it open, as in libuv.
pub(crate) struct ProgramFd(pub(crate) RawFd);

impl AsFd for ProgramFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the program passed an open descriptor and keeps it open
        // for the duration of `uv_udp_open`.
        unsafe { BorrowedFd::borrow_raw(self.0) }
    }
}

impl From<ProgramFd> for OwnedFd {
    fn from(fd: ProgramFd) -> OwnedFd {
        // SAFETY: on success the handle takes the descriptor over, as
        // `uv_udp_open` documents; it is closed when the handle closes.
        unsafe { OwnedFd::from_raw_fd(fd.0) }
    }
}

/// `uv_udp_open`: adopts a datagram socket and, as libuv does, sets
/// SO_REUSEADDR on it (`uv_udp_open_ex` with `UV_UDP_REUSEADDR`).
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_open(handle: *mut uv_udp_t, sock: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { uv_udp_open_ex(handle, sock, UdpFlags::REUSEADDR.bits()) }
}

/// `uv_udp_open_ex` (libuv 1.52): adopts a datagram socket, first setting
/// SO_REUSEADDR / SO_REUSEPORT for `UV_UDP_REUSEADDR` / `UV_UDP_REUSEPORT`
/// (other flags: UV_EINVAL). UV_EBUSY if the handle has a socket; UV_EEXIST
/// if the loop already watches `sock`. On error the socket stays open.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_open_ex(
    handle: *mut uv_udp_t,
    sock: c_int,
    flags: c_uint,
) -> c_int {
    // SAFETY: per the contract above.
    let u = match unsafe { udp(handle) } {
        Ok(u) => u,
        Err(code) => return code,
    };
    let flags = UdpFlags::from_bits_retain(flags);
    if !(UdpFlags::REUSEADDR | UdpFlags::REUSEPORT).contains(flags) {
        return EINVAL;
    }
    if sock < 0 {
        return StatusCode::EBADF.code();
    }
    if u.fileno().is_ok() {
        return StatusCode::EBUSY.code();
    }
    let fd = ProgramFd(sock);
    let sref = socket2::SockRef::from(&fd);
    let options = (|| {
        if flags.contains(UdpFlags::REUSEADDR) {
            sref.set_reuse_address(true)?;
        }
        if flags.contains(UdpFlags::REUSEPORT) {
            sref.set_reuse_port(true)?;
        }
        Ok::<(), std::io::Error>(())
    })();
    if let Err(err) = options {
        return status(err.into());
    }
    to_status(u.open(fd))
}

/// `uv_udp_bind`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; `addr` is NULL or a
/// valid socket address.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_bind(
    handle: *mut uv_udp_t,
    addr: *const sockaddr,
    flags: c_uint,
) -> c_int {
    // SAFETY: per the contract above.
    let u = match unsafe { udp(handle) } {
        Ok(u) => u,
        Err(code) => return code,
    };
    // SAFETY: per the contract above.
    let Some(addr) = (unsafe { sockaddr_to_std(addr) }) else {
        return EINVAL;
    };
    to_status(u.bind(addr, UdpFlags::from_bits_retain(flags)))
}

/// `uv_udp_connect`: NULL dissolves the association.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; `addr` is NULL or a
/// valid socket address.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_connect(handle: *mut uv_udp_t, addr: *const sockaddr) -> c_int {
    // SAFETY: per the contract above.
    let u = match unsafe { udp(handle) } {
        Ok(u) => u,
        Err(code) => return code,
    };
    if addr.is_null() {
        return to_status(u.connect(None));
    }
    // SAFETY: per the contract above.
    match unsafe { sockaddr_to_std(addr) } {
        Some(addr) => to_status(u.connect(Some(addr))),
        None => EINVAL,
    }
}

/// Shared by the two name getters.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; `name`/`namelen` are NULL
/// or writable (`*namelen` bytes at `name`).
unsafe fn get_name(
    handle: *const uv_udp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
    get: fn(&ruv::Udp) -> ruv::Result<std::net::SocketAddr>,
) -> c_int {
    // SAFETY: per the contract above.
    let u = match unsafe { udp(handle) } {
        Ok(u) => u,
        Err(code) => return code,
    };
    match get(u) {
        // SAFETY: per the contract above.
        Ok(addr) => unsafe { std_to_sockaddr(&addr, name, namelen) },
        Err(err) => status(err),
    }
}

/// `uv_udp_getsockname`.
///
/// # Safety
/// See `get_name`.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_getsockname(
    handle: *const uv_udp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_name(handle, name, namelen, ruv::Udp::sockname) }
}

/// `uv_udp_getpeername`.
///
/// # Safety
/// See `get_name`.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_getpeername(
    handle: *const uv_udp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_name(handle, name, namelen, ruv::Udp::peername) }
}

/// A C string argument as text; NULL stays None. Invalid UTF-8 is an error.
///
/// # Safety
/// `s` is NULL or a NUL-terminated string.
unsafe fn text<'a>(s: *const c_char) -> Result<Option<&'a str>, c_int> {
    if s.is_null() {
        return Ok(None);
    }
    // SAFETY: per the contract above.
    let s = unsafe { CStr::from_ptr(s) };
    s.to_str().map(Some).map_err(|_| EINVAL)
}

fn membership(m: c_int) -> Result<Membership, c_int> {
    match m {
        0 => Ok(Membership::LeaveGroup),
        1 => Ok(Membership::JoinGroup),
        _ => Err(EINVAL),
    }
}

/// `uv_udp_set_membership`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; the strings are NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_membership(
    handle: *mut uv_udp_t,
    multicast_addr: *const c_char,
    interface_addr: *const c_char,
    m: c_int,
) -> c_int {
    let run = || -> Result<c_int, c_int> {
        // SAFETY: per the contract above.
        let u = unsafe { udp(handle) }?;
        // SAFETY: per the contract above.
        let group = unsafe { text(multicast_addr) }?.ok_or(EINVAL)?;
        // SAFETY: per the contract above.
        let iface = unsafe { text(interface_addr) }?;
        Ok(to_status(u.set_membership(group, iface, membership(m)?)))
    };
    run().unwrap_or_else(|code| code)
}

/// `uv_udp_set_source_membership`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; the strings are NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_source_membership(
    handle: *mut uv_udp_t,
    multicast_addr: *const c_char,
    interface_addr: *const c_char,
    source_addr: *const c_char,
    m: c_int,
) -> c_int {
    let run = || -> Result<c_int, c_int> {
        // SAFETY: per the contract above.
        let u = unsafe { udp(handle) }?;
        // SAFETY: per the contract above.
        let group = unsafe { text(multicast_addr) }?.ok_or(EINVAL)?;
        // SAFETY: per the contract above.
        let iface = unsafe { text(interface_addr) }?;
        // SAFETY: per the contract above.
        let source = unsafe { text(source_addr) }?.ok_or(EINVAL)?;
        Ok(to_status(u.set_source_membership(
            group,
            iface,
            source,
            membership(m)?,
        )))
    };
    run().unwrap_or_else(|code| code)
}

/// Runs a setter on a live UDP handle.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
unsafe fn set(handle: *mut uv_udp_t, f: impl FnOnce(&ruv::Udp) -> ruv::Result<()>) -> c_int {
    // SAFETY: forwarded contract.
    match unsafe { udp(handle) } {
        Ok(u) => to_status(f(u)),
        Err(code) => code,
    }
}

/// `uv_udp_set_multicast_loop`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_multicast_loop(handle: *mut uv_udp_t, on: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { set(handle, |u| u.set_multicast_loop(on != 0)) }
}

/// `uv_udp_set_multicast_ttl`: 0 to 255, else UV_EINVAL.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_multicast_ttl(handle: *mut uv_udp_t, ttl: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { set(handle, |u| u.set_multicast_ttl(ttl)) }
}

/// `uv_udp_set_multicast_interface`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; `interface_addr` is NULL
/// or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_multicast_interface(
    handle: *mut uv_udp_t,
    interface_addr: *const c_char,
) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { text(interface_addr) } {
        // SAFETY: forwarded contract.
        Ok(iface) => unsafe { set(handle, |u| u.set_multicast_interface(iface)) },
        Err(code) => code,
    }
}

/// `uv_udp_set_broadcast`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_broadcast(handle: *mut uv_udp_t, on: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { set(handle, |u| u.set_broadcast(on != 0)) }
}

/// `uv_udp_set_ttl`: 1 to 255, else UV_EINVAL.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_ttl(handle: *mut uv_udp_t, ttl: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { set(handle, |u| u.set_ttl(ttl)) }
}

/// `uv_buf_t` seen as bytes, so the program's buffers go to the kernel
/// without a copy.
impl AsRef<[u8]> for uv_buf_t {
    fn as_ref(&self) -> &[u8] {
        if self.base.is_null() || self.len == 0 {
            return &[];
        }
        // SAFETY: libuv's contract: `base` points to `len` readable bytes
        // for as long as the call that was handed the buffer.
        unsafe { std::slice::from_raw_parts(self.base as *const u8, self.len) }
    }
}

/// A send's destination: NULL is none (a connected handle's peer); an
/// address that is not IPv4/IPv6 is UV_EINVAL.
///
/// # Safety
/// `addr` is NULL or a valid socket address.
unsafe fn destination(addr: *const sockaddr) -> Result<Option<std::net::SocketAddr>, c_int> {
    if addr.is_null() {
        return Ok(None);
    }
    // SAFETY: per the contract above.
    unsafe { sockaddr_to_std(addr) }.map(Some).ok_or(EINVAL)
}

/// The most buffers one datagram can gather: the kernel's `UIO_MAXIOV`
/// (`IOV_MAX`), beyond which `sendmsg(2)` fails with EMSGSIZE.
pub(crate) const MAX_BUFS: c_uint = 1024;

/// The largest buffer count libuv 1.52 accepts at all (1,048,576); beyond
/// it `uv_udp_send` and `uv_udp_try_send` answer UV_EINVAL before reading
/// the array.
pub(crate) const MAX_NBUFS_ACCEPTED: c_uint = 1 << 20;

/// The buffers of one datagram, checked before the array is read, with
/// their total size. The rules every C entry point taking `bufs`/`nbufs`
/// shares:
/// - `nbufs` 0, `nbufs` over [`MAX_NBUFS_ACCEPTED`] or `bufs` NULL:
///   UV_EINVAL, as libuv 1.52 (an absurd count would otherwise be a slice
///   over memory the program does not have);
/// - `nbufs` over [`MAX_BUFS`]: UV_EMSGSIZE, what `sendmsg(2)` answers and
///   libuv's `uv_udp_try_send` passes on, decided without reading the
///   array;
/// - lengths adding up past `isize::MAX`: UV_EINVAL, as `sendmsg(2)`;
/// - a NULL `base` with a length: UV_EFAULT, as `sendmsg(2)` (the buffer
///   would otherwise be sent as empty, a shorter datagram than asked for).
///
/// # Safety
/// `bufs` is NULL or points to `nbufs` buffers (when `nbufs` is at most
/// [`MAX_BUFS`]; a larger count is not read).
#[inline]
unsafe fn buffers<'a>(
    bufs: *const uv_buf_t,
    nbufs: c_uint,
) -> Result<(&'a [uv_buf_t], usize), c_int> {
    // SAFETY: forwarded contract.
    unsafe { buffers_up_to(bufs, nbufs, MAX_BUFS) }
}

/// [`buffers`] with `max_bufs` in place of [`MAX_BUFS`] (a stream write
/// takes up to [`MAX_NBUFS_ACCEPTED`]).
///
/// # Safety
/// `bufs` is NULL or points to `nbufs` buffers (when `nbufs` is at most
/// `max_bufs`; a larger count is not read).
#[inline]
pub(crate) unsafe fn buffers_up_to<'a>(
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    max_bufs: c_uint,
) -> Result<(&'a [uv_buf_t], usize), c_int> {
    if nbufs == 0 || nbufs > MAX_NBUFS_ACCEPTED || bufs.is_null() {
        return Err(EINVAL);
    }
    if nbufs > max_bufs {
        return Err(StatusCode::EMSGSIZE.code());
    }
    // SAFETY: non-NULL, and `nbufs` is the program's count of buffers at
    // `bufs`, per the contract above; at most `max_bufs` of them.
    let bufs = unsafe { std::slice::from_raw_parts(bufs, nbufs as usize) };
    let size = match bufs {
        [one] => {
            if one.base.is_null() && one.len != 0 {
                return Err(StatusCode::EFAULT.code());
            }
            Some(one.len)
        }
        _ => {
            // One pass: the NULL check rides along with the sum.
            let mut size = Some(0usize);
            for b in bufs {
                if b.base.is_null() && b.len != 0 {
                    return Err(StatusCode::EFAULT.code());
                }
                size = size.and_then(|sum| sum.checked_add(b.len));
            }
            size
        }
    };
    match size {
        Some(size) if size <= isize::MAX as usize => Ok((bufs, size)),
        _ => Err(EINVAL),
    }
}

/// `uv_udp_send`: the callback always runs later from the loop. UV_EINVAL
/// for no buffers or a closing handle (undefined in libuv); UV_EMSGSIZE at
/// once for more than `MAX_BUFS` buffers (libuv queues the send and its
/// callback gets UV_EMSGSIZE). See `buffers` for the checks.
///
/// Nothing is allocated per send: ruv's callback is `sent`, which
/// captures nothing (so its box is zero-sized), and the request joins its
/// handle's list of sends in flight, kept in the structs' private fields
/// (`ruv_private_sends_` of the handle: oldest and newest; `ruv_private_`
/// of each request: the next one and the send's size). ruv reports a
/// handle's sends in the order they were made — completed ones in the
/// pending phase, the rest (ECANCELED) when the handle closes — so the
/// callback's request is always the oldest of its handle's list.
///
/// # Safety
/// `req` points to writable memory of `sizeof(uv_udp_send_t)` that stays
/// alive until `send_cb` runs; `handle` is NULL or an initialized UDP
/// handle; `bufs` points to `nbufs` buffers, read during the call (a send
/// that must wait is copied, so unlike libuv the buffers need not outlive
/// the call); `addr` is NULL or a valid address.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_send(
    req: *mut uv_udp_send_t,
    handle: *mut uv_udp_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    addr: *const sockaddr,
    send_cb: Option<uv_udp_send_cb>,
) -> c_int {
    if req.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    let (u, bufs, size, addr) =
        match unsafe { send_args(handle, bufs, nbufs, addr, Waiting::DoesNotMatter) } {
            Ok(v) => v,
            Err(code) => return code,
        };
    // SAFETY: writable per the contract above.
    unsafe {
        (*req).req.type_ = UV_UDP_SEND;
        (*req).handle = handle;
        (*req).cb = send_cb;
    }
    if let Err(err) = u.send(bufs, addr, sent) {
        return status(err);
    }
    // The public counters mirror ruv's (bytes and sends whose callback has
    // not run) without asking ruv: a send that ruv accepts counts until
    // just before its callback, which ruv always runs later from the loop.
    // SAFETY: `req` is writable and stays alive until its callback, which
    // has not run; `handle` is a live UDP handle, whose list holds only
    // such requests (see `sent`).
    unsafe {
        (*handle).send_queue_size += size;
        (*handle).send_queue_count += 1;
        (*req).req.ruv_private_ = [ptr::null_mut(), size as *mut c_void];
        let newest = (*handle).ruv_private_sends_[1];
        if newest.is_null() {
            (*handle).ruv_private_sends_[0] = req;
        } else {
            (*newest).req.ruv_private_[0] = req as *mut c_void;
        }
        (*handle).ruv_private_sends_[1] = req;
    }
    0
}

/// ruv's callback of every C send: takes the oldest request off the list
/// of the C handle (found through the running loop's handle table by the
/// ruv handle's id), updates the counters and calls the request's
/// callback.
fn sent(req: &ruv::SendRequest, result: ruv::Result<()>) {
    let u = req.handle();
    let Some(handle) = running_handle(u.get_loop(), |handles| handles.get_udp(u.id())) else {
        return;
    };
    // SAFETY: a table entry is a linked handle, alive until its close
    // callback, which ruv runs after the handle's send callbacks (the table
    // keeps it if a newer handle takes its slot meanwhile); its token is
    // this UDP handle's, so `uv_udp_init_ex` linked it as a `uv_udp_t`.
    // Its list holds the requests `uv_udp_send` accepted whose callback
    // has not run, which the program keeps alive; ruv reports them in the
    // order they were made, so the oldest is this one. It leaves the list
    // before its callback, which may reuse it for a new send. The callback
    // is read now so C may have changed it.
    unsafe {
        let r = (*handle).ruv_private_sends_[0];
        if r.is_null() {
            return;
        }
        let [next, size] = (*r).req.ruv_private_;
        (*handle).ruv_private_sends_[0] = next as *mut uv_udp_send_t;
        if next.is_null() {
            (*handle).ruv_private_sends_[1] = ptr::null_mut();
        }
        (*handle).send_queue_size = (*handle).send_queue_size.saturating_sub(size as usize);
        (*handle).send_queue_count = (*handle).send_queue_count.saturating_sub(1);
        if let Some(cb) = (*r).cb {
            cb(r, result.err().map_or(0, status));
        }
    }
}

/// `uv_udp_try_send`: bytes sent, or UV_EAGAIN when sends are queued or the
/// socket would block; the buffers are checked by `buffers`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; `bufs` points to `nbufs`
/// buffers; `addr` is NULL or a valid address.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_try_send(
    handle: *mut uv_udp_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    addr: *const sockaddr,
) -> c_int {
    // SAFETY: per the contract above.
    let (u, bufs, _, addr) =
        match unsafe { send_args(handle, bufs, nbufs, addr, Waiting::MakesItEagain) } {
            Ok(v) => v,
            Err(code) => return code,
        };
    match u.try_send(bufs, addr) {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(err) => status(err),
    }
}

/// What [`send_args`] gives: handle, buffers, their total size, destination.
type SendArgs<'a> = (
    &'a ruv::Udp,
    &'a [uv_buf_t],
    usize,
    Option<std::net::SocketAddr>,
);

/// The checked arguments of `uv_udp_send` and `uv_udp_try_send`: the ruv
/// handle, the buffers with their total size, and the destination. The
/// order of the checks is libuv's: the handle and the buffer array (see
/// [`buffers`]), then the address, and only then a count the kernel would
/// refuse (see [`too_many_buffers`]).
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; `bufs` points to `nbufs`
/// buffers; `addr` is NULL or a valid address.
#[inline]
unsafe fn send_args<'a>(
    handle: *mut uv_udp_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    addr: *const sockaddr,
    waiting: Waiting,
) -> Result<SendArgs<'a>, c_int> {
    // SAFETY: per the contract above.
    let (u, checked) = unsafe { udp(handle).map(|u| (u, buffers(bufs, nbufs))) }?;
    // SAFETY: per the contract above.
    let addr = unsafe { destination(addr) }?;
    match checked {
        Ok((bufs, size)) => Ok((u, bufs, size, addr)),
        Err(code) if code == StatusCode::EMSGSIZE.code() => Err(too_many_buffers(u, addr, waiting)),
        Err(code) => Err(code),
    }
}

/// Whether sends waiting in the queue decide a refusal first.
#[derive(PartialEq)]
enum Waiting {
    /// `uv_udp_try_send`: UV_EAGAIN while sends wait.
    MakesItEagain,
    /// `uv_udp_send`.
    DoesNotMatter,
}

/// What a send answers for more buffers than the kernel takes: libuv checks
/// the destination first (and `uv_udp_try_send` the waiting sends), and only
/// then would `sendmsg(2)` refuse the count with UV_EMSGSIZE.
#[cold]
fn too_many_buffers(u: &ruv::Udp, addr: Option<std::net::SocketAddr>, waiting: Waiting) -> c_int {
    let connected = u.is_connected().unwrap_or(false);
    let queued = u.send_queue_count().unwrap_or(0) > 0;
    match (connected, addr) {
        (true, Some(_)) => StatusCode::EISCONN.code(),
        (false, None) => StatusCode::EDESTADDRREQ.code(),
        _ if queued && waiting == Waiting::MakesItEagain => StatusCode::EAGAIN.code(),
        _ => StatusCode::EMSGSIZE.code(),
    }
}

/// `uv_udp_try_send2` (libuv 1.50): sends up to `count` datagrams at once;
/// returns how many went out, or the first one's error if none did.
/// `flags` must be 0; a `count` past `INT_MAX` (which the result could not
/// report) is UV_EINVAL. Each datagram's buffers are checked as
/// `uv_udp_try_send` checks them.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle; `bufs`, `nbufs` and
/// `addrs` point to `count` entries each, as in libuv.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_try_send2(
    handle: *mut uv_udp_t,
    count: c_uint,
    bufs: *mut *mut uv_buf_t,
    nbufs: *mut c_uint,
    addrs: *mut *mut sockaddr,
    flags: c_uint,
) -> c_int {
    if flags != 0
        || c_int::try_from(count).is_err()
        || (count > 0 && (bufs.is_null() || nbufs.is_null() || addrs.is_null()))
    {
        return EINVAL;
    }
    // libuv sends only on a socket that exists already (no implicit bind).
    // SAFETY: per the contract above.
    match unsafe { udp(handle) } {
        Ok(u) if u.fileno().is_ok() => {}
        Ok(_) => return EINVAL,
        Err(code) => return code,
    }
    let mut sent: c_int = 0;
    for i in 0..count as usize {
        // SAFETY: `i < count`, per the contract above.
        let r = unsafe { uv_udp_try_send(handle, *bufs.add(i), *nbufs.add(i), *addrs.add(i)) };
        if r < 0 {
            return if sent == 0 { r } else { sent };
        }
        sent += 1;
    }
    sent
}

/// The public send queue counters of a UDP handle initialized here (also
/// while it closes, when ruv no longer has them, and after), as libuv reads
/// its fields; 0 for anything else.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
unsafe fn send_queue(handle: *const uv_udp_t) -> Option<(usize, usize)> {
    // SAFETY: per the contract above; `flags` checks the marker `init`
    // sets, and the type is then the one `init` wrote.
    unsafe {
        if flags(handle as *const uv_handle_t) == 0 || (*handle).handle.type_ != handle_type::UDP {
            return None;
        }
        Some(((*handle).send_queue_size, (*handle).send_queue_count))
    }
}

/// `uv_udp_get_send_queue_size`: `send_queue_size`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_get_send_queue_size(handle: *const uv_udp_t) -> usize {
    // SAFETY: forwarded contract.
    unsafe { send_queue(handle) }.map_or(0, |(size, _)| size)
}

/// `uv_udp_get_send_queue_count`: `send_queue_count`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_get_send_queue_count(handle: *const uv_udp_t) -> usize {
    // SAFETY: forwarded contract.
    unsafe { send_queue(handle) }.map_or(0, |(_, count)| count)
}
