//! `uv_udp_recv_start` / `uv_udp_recv_stop`: libuv's allocator-driven
//! receive, including the `UV_UDP_RECVMMSG` batch mode.

use crate::addr::std_to_storage;
use crate::handles::{flags, status, to_status, token, Token, RECVMMSG};
use crate::types::*;
use crate::udp::udp;
use libc::{c_int, c_uint, sockaddr, ssize_t};
use ruv::{RecvMeta, UdpFlags};
use std::net::SocketAddr;

/// libuv's suggested size and its recvmmsg chunk size.
const DGRAM_MAX: usize = 64 * 1024;
/// Most chunks one batch fills (libuv's `UV__MMSG_MAXWIDTH`).
const MMSG_MAX_WIDTH: usize = 20;

/// A buffer from the program's `alloc_cb`.
struct ProgramBuf(uv_buf_t);

impl AsMut<[u8]> for ProgramBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        if self.0.base.is_null() || self.0.len == 0 {
            return &mut [];
        }
        // SAFETY: libuv's contract for `alloc_cb`: `base` points to `len`
        // writable bytes that stay valid until the buffer is handed back to
        // `recv_cb`.
        unsafe { std::slice::from_raw_parts_mut(self.0.base as *mut u8, self.0.len) }
    }
}

/// Calls the program's `recv_cb`.
///
/// # Safety
/// `handle` is a live UDP handle; `buf` is the buffer to report.
unsafe fn deliver(
    handle: *mut uv_udp_t,
    nread: ssize_t,
    buf: &uv_buf_t,
    addr: Option<&SocketAddr>,
    flags: c_uint,
) {
    let storage = addr.map(std_to_storage);
    let addr_ptr = storage.as_ref().map_or(std::ptr::null(), |s| {
        s as *const libc::sockaddr_storage as *const sockaddr
    });
    // SAFETY: per the contract above; the callback is read now so C may
    // change it between calls.
    if let Some(cb) = unsafe { (*handle).recv_cb } {
        // SAFETY: calling the program's callback with its own handle and
        // pointers that live until it returns.
        unsafe { cb(handle, nread, buf, addr_ptr, flags) };
    }
}

/// Reads the datagrams waiting now into consecutive `DGRAM_MAX`-byte
/// chunks at `first_chunk`, up to `count` of them, with one `recvmmsg`, and
/// appends what each got to `out`. Stops quietly when nothing is waiting or
/// the read fails (the loop's next read reports the failure).
///
/// # Safety
/// `first_chunk` points to `count * DGRAM_MAX` writable bytes.
unsafe fn recv_chunks(
    fd: c_int,
    first_chunk: *mut libc::c_char,
    count: usize,
    out: &mut Vec<RecvMeta>,
) {
    let count = count.min(MMSG_MAX_WIDTH);
    // SAFETY: all-zero is a valid value of these plain C structs.
    let mut names: [libc::sockaddr_storage; MMSG_MAX_WIDTH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut iovecs: [libc::iovec; MMSG_MAX_WIDTH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut headers: [libc::mmsghdr; MMSG_MAX_WIDTH] = unsafe { std::mem::zeroed() };
    for k in 0..count {
        // SAFETY: chunk `k` lies inside the buffer, per the contract above.
        iovecs[k].iov_base = unsafe { first_chunk.add(k * DGRAM_MAX) }.cast();
        iovecs[k].iov_len = DGRAM_MAX;
        headers[k].msg_hdr.msg_name = (&mut names[k] as *mut libc::sockaddr_storage).cast();
        headers[k].msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
        headers[k].msg_hdr.msg_iov = &mut iovecs[k];
        headers[k].msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: the first `count` headers point at their own names and
    // iovecs, and the iovecs at chunks of the program's buffer; all live
    // through the call.
    let n = unsafe {
        libc::recvmmsg(
            fd,
            headers.as_mut_ptr(),
            count as c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    for k in 0..usize::try_from(n).unwrap_or(0) {
        let hdr = &headers[k].msg_hdr;
        let flags = if hdr.msg_flags & libc::MSG_TRUNC != 0 {
            UdpFlags::PARTIAL
        } else {
            UdpFlags::empty()
        };
        // SAFETY: the kernel wrote a socket address into `names[k]`.
        let addr =
            unsafe { crate::addr::sockaddr_to_std(&names[k] as *const _ as *const sockaddr) };
        out.push(RecvMeta {
            len: (headers[k].msg_len as usize).min(DGRAM_MAX),
            addr,
            flags,
        });
    }
}

/// Receives more datagrams into the chunks after the first and reports the
/// batch the way libuv's recvmmsg path does: one `UV_UDP_MMSG_CHUNK` call
/// per datagram, then one `UV_UDP_MMSG_FREE` call for the whole buffer.
///
/// # Safety
/// `handle` is a live UDP handle; `buf` is the program's buffer whose first
/// chunk already holds the first datagram (`first`).
unsafe fn deliver_batch(handle: *mut uv_udp_t, udp: &ruv::Udp, buf: uv_buf_t, first: RecvMeta) {
    let width = (buf.len / DGRAM_MAX).min(MMSG_MAX_WIDTH);
    let mut got = Vec::with_capacity(width);
    got.push(first);
    if let (Ok(fd), true) = (udp.fileno(), width > 1) {
        // SAFETY: chunks 1..width lie inside the program's buffer.
        unsafe { recv_chunks(fd, buf.base.add(DGRAM_MAX), width - 1, &mut got) };
    }
    for (k, meta) in got.iter().enumerate() {
        let chunk = uv_buf_t {
            // SAFETY: inside the buffer, as above.
            base: unsafe { buf.base.add(k * DGRAM_MAX) },
            len: DGRAM_MAX,
        };
        let mut f = UdpFlags::MMSG_CHUNK;
        f |= meta.flags & UdpFlags::PARTIAL;
        // SAFETY: per the contract above.
        unsafe {
            deliver(
                handle,
                meta.len as ssize_t,
                &chunk,
                meta.addr.as_ref(),
                f.bits(),
            )
        };
        if !udp.is_receiving() {
            break;
        }
    }
    // SAFETY: per the contract above.
    unsafe { deliver(handle, 0, &buf, None, UdpFlags::MMSG_FREE.bits()) };
}

/// `uv_udp_recv_start`: UV_EINVAL for NULL callbacks, UV_EALREADY when
/// already receiving.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_recv_start(
    handle: *mut uv_udp_t,
    alloc_cb: Option<uv_alloc_cb>,
    recv_cb: Option<uv_udp_recv_cb>,
) -> c_int {
    // SAFETY: per the contract above.
    let u = match unsafe { udp(handle) } {
        Ok(u) => u,
        Err(code) => return code,
    };
    if alloc_cb.is_none() || recv_cb.is_none() {
        return crate::handles::EINVAL;
    }
    if u.is_receiving() {
        return ruv::StatusCode::EALREADY.code();
    }
    // SAFETY: initialized handle.
    let mmsg = unsafe { flags(handle as *const uv_handle_t) } & RECVMMSG != 0;
    // SAFETY: initialized handle.
    unsafe {
        (*handle).alloc_cb = alloc_cb;
        (*handle).recv_cb = recv_cb;
    }
    let h = handle as usize;
    let alloc = move |_: &ruv::Udp, suggested: usize| {
        let handle = h as *mut uv_udp_t;
        let mut buf = uv_buf_t {
            base: std::ptr::null_mut(),
            len: 0,
        };
        // SAFETY: the handle is alive while it receives; the allocator is
        // read now so C may change it.
        if let Some(alloc) = unsafe { (*handle).alloc_cb } {
            // SAFETY: calling the program's allocator with its own handle
            // and a buffer it fills in.
            unsafe { alloc(handle as *mut uv_handle_t, suggested, &mut buf) };
        }
        ProgramBuf(buf)
    };
    let received = move |udp: &ruv::Udp, result: ruv::Result<RecvMeta>, buf: ProgramBuf| {
        let handle = h as *mut uv_udp_t;
        let buf = buf.0;
        match result {
            Ok(meta) if mmsg && meta.addr.is_some() && buf.len >= DGRAM_MAX => {
                // SAFETY: the handle is alive while it receives.
                unsafe { deliver_batch(handle, udp, buf, meta) }
            }
            Ok(meta) => {
                let (n, f) = (meta.len as ssize_t, meta.flags.bits());
                // SAFETY: the handle is alive while it receives.
                unsafe { deliver(handle, n, &buf, meta.addr.as_ref(), f) }
            }
            Err(err) => {
                // SAFETY: the handle is alive while it receives.
                unsafe { deliver(handle, status(err) as ssize_t, &buf, None, 0) }
            }
        }
    };
    to_status(u.receive_start_with(alloc, received))
}

/// `uv_udp_recv_stop`.
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_recv_stop(handle: *mut uv_udp_t) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { token(handle as *const uv_handle_t) } {
        Some(Token::Udp(u)) => {
            // SAFETY: initialized handle.
            unsafe {
                (*handle).alloc_cb = None;
                (*handle).recv_cb = None;
            }
            to_status(u.receive_stop())
        }
        _ => 0,
    }
}

/// `uv_udp_using_recvmmsg`: 1 when the handle was created with
/// `UV_UDP_RECVMMSG` (as libuv on Linux, where recvmmsg always exists).
///
/// # Safety
/// `handle` is NULL or an initialized UDP handle.
#[no_mangle]
pub unsafe extern "C" fn uv_udp_using_recvmmsg(handle: *const uv_udp_t) -> c_int {
    // SAFETY: per the contract above.
    (unsafe { flags(handle as *const uv_handle_t) } & RECVMMSG != 0) as c_int
}
