//! `uv_udp_recv_start` / `uv_udp_recv_stop`: libuv's allocator-driven
//! receive, including the `UV_UDP_RECVMMSG` batch mode.

use crate::addr::{std_to_storage, CSockAddr};
use crate::handles::{flags, status, to_status, token, Token, CLOSING, RECVMMSG};
use crate::types::*;
use crate::udp::udp;
use libc::{c_int, c_uint, sockaddr, ssize_t};
use ruv::{RecvMeta, UdpFlags};
use std::ptr;

/// libuv's suggested size and its recvmmsg chunk size.
const DGRAM_MAX: usize = 64 * 1024;
/// Most chunks one batch fills (libuv's `UV__MMSG_MAXWIDTH`).
const MMSG_MAX_WIDTH: usize = 20;

/// A buffer from the program's `alloc_cb`.
pub(crate) struct ProgramBuf(pub(crate) uv_buf_t);

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

/// Calls the program's `recv_cb`, read now so C may change it between
/// calls (NULL after `uv_udp_recv_stop`: nothing is called).
///
/// # Safety
/// `handle` is a live UDP handle; `buf` is the buffer to report; `addr` is
/// NULL or a socket address that lives through the call.
#[inline]
unsafe fn deliver(
    handle: *mut uv_udp_t,
    nread: ssize_t,
    buf: &uv_buf_t,
    addr: *const sockaddr,
    flags: c_uint,
) {
    // SAFETY: per the contract above.
    if let Some(cb) = unsafe { (*handle).recv_cb } {
        // SAFETY: calling the program's callback with its own handle and
        // pointers that live until it returns.
        unsafe { cb(handle, nread, buf, addr, flags) };
    }
}

/// Whether a callback closed the handle: one load, no loop-state borrow.
///
/// # Safety
/// `handle` is a live UDP handle initialized here.
#[inline]
unsafe fn closing(handle: *mut uv_udp_t) -> bool {
    // SAFETY: per the contract above.
    unsafe { (*handle).handle.ruv_flags_ & CLOSING != 0 }
}

/// The kernel-facing side of libuv's recvmmsg batch: headers, iovecs and
/// sender addresses for `MMSG_MAX_WIDTH` chunks, wired to each other once
/// (boxed, so they never move) and kept for the receive session. A batch
/// only re-points the iovecs when the program hands a different buffer and
/// resets the address lengths the kernel rewrote.
struct Chunks {
    names: [libc::sockaddr_storage; MMSG_MAX_WIDTH],
    iovecs: [libc::iovec; MMSG_MAX_WIDTH],
    headers: [libc::mmsghdr; MMSG_MAX_WIDTH],
    /// The buffer the iovecs point into (its second chunk).
    base: *mut libc::c_char,
}

impl Chunks {
    fn new() -> Box<Chunks> {
        // SAFETY: all-zero is a valid value of these plain C structs and of
        // a raw pointer.
        let mut c: Box<Chunks> = Box::new(unsafe { std::mem::zeroed() });
        for k in 0..MMSG_MAX_WIDTH {
            c.iovecs[k].iov_len = DGRAM_MAX;
            let name: *mut libc::sockaddr_storage = &mut c.names[k];
            let iov: *mut libc::iovec = &mut c.iovecs[k];
            let hdr = &mut c.headers[k].msg_hdr;
            hdr.msg_name = name.cast();
            hdr.msg_iov = iov;
            hdr.msg_iovlen = 1;
        }
        c
    }

    /// Reads the datagrams waiting now into consecutive `DGRAM_MAX`-byte
    /// chunks at `first_chunk`, at most `count` (≤ `MMSG_MAX_WIDTH`);
    /// returns how many, 0 when nothing is waiting or the read fails (the
    /// loop's next read reports the failure).
    ///
    /// # Safety
    /// `first_chunk` points to `count * DGRAM_MAX` writable bytes.
    #[inline]
    unsafe fn recv(&mut self, fd: c_int, first_chunk: *mut libc::c_char, count: usize) -> usize {
        let count = count.min(MMSG_MAX_WIDTH);
        if self.base != first_chunk {
            self.base = first_chunk;
            for (k, iov) in self.iovecs.iter_mut().enumerate() {
                // Chunks past `count` are never handed to the kernel.
                iov.iov_base = first_chunk.wrapping_add(k * DGRAM_MAX).cast();
            }
        }
        for header in &mut self.headers[..count] {
            // The kernel rewrote it last time.
            header.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
        }
        // SAFETY: the first `count` headers point at their own names and
        // iovecs (wired in `new`, boxed so they never moved), and those
        // iovecs at chunks of the program's buffer (per the contract
        // above); all live through the call. Made directly, not through
        // glibc's wrapper (a thread-cancellation point, ~30 instructions,
        // meaningless for a call that never blocks).
        let n = unsafe {
            libc::syscall(
                libc::SYS_recvmmsg,
                libc::c_long::from(fd),
                self.headers.as_mut_ptr(),
                count as libc::c_long,
                libc::c_long::from(libc::MSG_DONTWAIT),
                ptr::null_mut::<libc::timespec>(),
            )
        };
        usize::try_from(n).unwrap_or(0).min(count)
    }
}

/// libuv's recvmmsg delivery: one `UV_UDP_MMSG_CHUNK` call per datagram,
/// then one `UV_UDP_MMSG_FREE` call for the whole buffer. The first chunk
/// already holds the first datagram (`first_len`, `first_addr`,
/// `first_flags`, read by ruv); it is reported before the rest are read
/// with one `recvmmsg`, so stopping in that first callback leaves them in
/// the socket. As in libuv, chunks are reported while `recv_cb` is set (and,
/// here, the handle is not closing); datagrams already read when a callback
/// stops receiving are not reported.
///
/// # Safety
/// `handle` is a live UDP handle; `buf` is the program's buffer, at least
/// `DGRAM_MAX` bytes.
unsafe fn deliver_batch(
    handle: *mut uv_udp_t,
    udp: &ruv::Udp,
    chunks: &mut Chunks,
    buf: uv_buf_t,
    first_len: usize,
    first_addr: &CSockAddr,
    first_flags: UdpFlags,
) {
    let chunk = |k: usize| uv_buf_t {
        // SAFETY: chunk `k` < `buf.len / DGRAM_MAX` lies inside the buffer.
        base: unsafe { buf.base.add(k * DGRAM_MAX) },
        len: DGRAM_MAX,
    };
    let flags = UdpFlags::MMSG_CHUNK | (first_flags & UdpFlags::PARTIAL);
    // SAFETY: per the contract above; the address lives through the call.
    unsafe {
        deliver(
            handle,
            first_len as ssize_t,
            &chunk(0),
            first_addr.as_ptr(),
            flags.bits(),
        )
    };
    let width = (buf.len / DGRAM_MAX).min(MMSG_MAX_WIDTH);
    // SAFETY: per the contract above.
    let receiving = unsafe { (*handle).recv_cb.is_some() && !closing(handle) };
    if width > 1 && receiving {
        if let Ok(fd) = udp.fileno() {
            let mut chunk = chunk(1);
            // SAFETY: chunks 1..width lie inside the program's buffer.
            let n = unsafe { chunks.recv(fd, chunk.base, width - 1) };
            for k in 0..n {
                let h = &chunks.headers[k];
                if h.msg_hdr.msg_namelen == 0 {
                    // A sender without a name (not UDP): no stale address.
                    chunks.names[k].ss_family = libc::AF_UNSPEC as _;
                }
                let h = &chunks.headers[k];
                let partial = c_uint::from(h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0);
                let flags = UdpFlags::MMSG_CHUNK.bits() | (partial * UdpFlags::PARTIAL.bits());
                // Without MSG_TRUNC in its flags, recvmmsg reports at most
                // the chunk's length.
                let nread = h.msg_len as ssize_t;
                // SAFETY: the handle is live until it closes, checked after
                // every call.
                let Some(cb) = (unsafe { (*handle).recv_cb }) else {
                    break;
                };
                // SAFETY: calling the program's callback with its own
                // handle and pointers that live until it returns.
                // The sender lives in `chunks`.
                unsafe { cb(handle, nread, &chunk, h.msg_hdr.msg_name.cast(), flags) };
                // SAFETY: as above.
                if unsafe { closing(handle) } {
                    break;
                }
                // SAFETY: the next chunk starts at most at the end of the
                // buffer (`n < width`).
                chunk.base = unsafe { chunk.base.add(DGRAM_MAX) };
            }
        }
    }
    // SAFETY: per the contract above.
    unsafe { deliver(handle, 0, &buf, ptr::null(), UdpFlags::MMSG_FREE.bits()) };
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
    // Only a RECVMMSG handle reads batches itself.
    let mut chunks = mmsg.then(Chunks::new);
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
            Ok(RecvMeta {
                len,
                addr: Some(addr),
                flags,
            }) => {
                if let (Some(c), true) = (chunks.as_deref_mut(), buf.len >= DGRAM_MAX) {
                    // The batch's senders are kernel-written `sockaddr_in6`
                    // sized objects, as in libuv's recvmmsg path.
                    let addr = CSockAddr::new(&addr);
                    // SAFETY: the handle is alive while it receives; the
                    // buffer holds at least one chunk.
                    unsafe { deliver_batch(handle, udp, c, buf, len, &addr, flags) }
                } else {
                    // A single read hands a whole zeroed `sockaddr_storage`,
                    // as libuv does: programs may copy all of it.
                    let storage = std_to_storage(&addr);
                    let ptr = (&storage as *const libc::sockaddr_storage).cast::<sockaddr>();
                    // SAFETY: the handle is alive while it receives.
                    unsafe { deliver(handle, len as ssize_t, &buf, ptr, flags.bits()) }
                }
            }
            Ok(meta) => {
                // Nothing more was waiting: the buffer comes back unused.
                let (n, f) = (meta.len as ssize_t, meta.flags.bits());
                // SAFETY: the handle is alive while it receives.
                unsafe { deliver(handle, n, &buf, ptr::null(), f) }
            }
            Err(ruv::Error::Queued(code)) => {
                // libuv 1.52's error-queue delivery: the error as nread,
                // the node that reported it as addr (a zeroed AF_UNSPEC
                // address when the kernel names none) and the flag.
                let offender = udp.queued_error().and_then(|q| q.offender);
                let offender = offender.map(|a| std_to_storage(&a));
                // SAFETY: all-zero is a valid sockaddr_storage (AF_UNSPEC).
                let storage = offender.unwrap_or_else(|| unsafe { std::mem::zeroed() });
                let ptr = (&storage as *const libc::sockaddr_storage).cast::<sockaddr>();
                let (n, f) = (code.code() as ssize_t, UdpFlags::LINUX_RECVERR.bits());
                // SAFETY: the handle is alive while it receives.
                unsafe { deliver(handle, n, &buf, ptr, f) }
            }
            Err(err) => {
                // SAFETY: the handle is alive while it receives.
                unsafe { deliver(handle, status(err) as ssize_t, &buf, ptr::null(), 0) }
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
