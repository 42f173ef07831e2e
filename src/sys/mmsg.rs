//! Batched datagram I/O: `recvmmsg(2)` into a reusable buffer of fixed-size
//! chunks, and `sendmmsg(2)` of several queued datagrams in one call.

use super::sockaddr::{from_sockaddr_storage, to_raw, RawSockAddr};
use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// Datagrams one `recvmmsg` call reads at most.
pub(crate) const BATCH: usize = 32;
/// Room for one datagram: the largest UDP payload fits.
const CHUNK: usize = 64 * 1024;

/// One message of a batch: a datagram, or with receive offload several
/// datagrams of `segment` bytes each (the last may be shorter).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BatchEntry {
    pub truncated: bool,
    pub addr: Option<SocketAddr>,
    pub segment: Option<usize>,
}

/// Room for the control messages a receive may carry (`UDP_GRO`).
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Control([u8; 64]);

/// A reusable receive batch: `width` chunks of `CHUNK` bytes (at most
/// `BATCH`), plus the kernel-facing headers. Allocated once per handle; the
/// kernel touches only the pages datagrams land in.
pub(crate) struct RecvBatch {
    data: Vec<u8>,
    names: Vec<libc::sockaddr_storage>,
    iovecs: Vec<libc::iovec>,
    controls: Vec<Control>,
    headers: Vec<libc::mmsghdr>,
    /// Datagrams the last `recv` read; their headers are decoded lazily,
    /// when each is handed out.
    count: usize,
    /// The last `recv` asked for receive-offload control messages.
    offload: bool,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("count", &self.count)
            .finish()
    }
}

impl RecvBatch {
    pub(crate) fn new(width: usize) -> RecvBatch {
        let width = width.clamp(1, BATCH);
        // SAFETY: sockaddr_storage, iovec and mmsghdr are plain old data for
        // which all-zero is a valid value (null pointers, zero lengths).
        let zero_name: libc::sockaddr_storage = unsafe { mem::zeroed() };
        // SAFETY: as above.
        let zero_iov: libc::iovec = unsafe { mem::zeroed() };
        // SAFETY: as above.
        let zero_hdr: libc::mmsghdr = unsafe { mem::zeroed() };
        let mut batch = RecvBatch {
            data: vec![0; width * CHUNK],
            names: vec![zero_name; width],
            iovecs: vec![zero_iov; width],
            controls: vec![Control([0; 64]); width],
            headers: vec![zero_hdr; width],
            count: 0,
            offload: false,
        };
        // Wire every header to its chunk, name and control buffer once: the
        // vectors never grow, so their heap buffers never move.
        let base = batch.data.as_mut_ptr();
        for i in 0..width {
            // SAFETY: `i * CHUNK` is inside `data` (width * CHUNK bytes).
            batch.iovecs[i].iov_base = unsafe { base.add(i * CHUNK) }.cast();
            batch.iovecs[i].iov_len = CHUNK;
            let hdr = &mut batch.headers[i].msg_hdr;
            hdr.msg_name = (&mut batch.names[i] as *mut libc::sockaddr_storage).cast();
            hdr.msg_iov = &mut batch.iovecs[i];
            hdr.msg_iovlen = 1;
            hdr.msg_control = batch.controls[i].0.as_mut_ptr().cast();
        }
        batch
    }

    /// Datagrams one `recv` reads at most.
    pub(crate) fn width(&self) -> usize {
        self.headers.len()
    }

    /// Reads up to `width` waiting datagrams without blocking; returns how
    /// many. WouldBlock when none is waiting. `offload` asks for the
    /// control messages that tell receive-offload segment sizes.
    pub(crate) fn recv(&mut self, fd: RawFd, offload: bool) -> io::Result<usize> {
        self.count = 0;
        self.offload = offload;
        let width = self.width();
        let control_len = if offload {
            mem::size_of::<Control>()
        } else {
            0
        };
        for header in &mut self.headers {
            // The kernel rewrote these lengths last time: reset them.
            header.msg_hdr.msg_namelen =
                mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_hdr.msg_controllen = control_len as _;
        }
        // SAFETY: every header points at its own name, iovec and control
        // buffer (wired in `new`), all owned by `self` and alive through the
        // call; the kernel writes at most the lengths given.
        // The system call is made directly: glibc's wrapper makes it a
        // thread-cancellation point, which costs ~30 instructions per call
        // and means nothing for a call that never blocks (MSG_DONTWAIT).
        let n = unsafe {
            libc::syscall(
                libc::SYS_recvmmsg,
                libc::c_long::from(fd),
                self.headers.as_mut_ptr(),
                width as libc::c_long,
                libc::c_long::from(libc::MSG_DONTWAIT),
                std::ptr::null_mut::<libc::timespec>(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        self.count = (n as usize).min(width);
        Ok(self.count)
    }

    /// Datagram `i` of the last successful `recv`, decoded from its header.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<(BatchEntry, &[u8])> {
        if i >= self.count {
            return None;
        }
        // SAFETY: `i < count <= width`, and `headers` and `names` hold
        // `width` entries (they never change size after `new`).
        let (hdr, name) = unsafe { (self.headers.get_unchecked(i), self.names.get_unchecked(i)) };
        let segment = if self.offload {
            // SAFETY: the kernel filled this header's control buffer in the
            // last `recv`, which asked for control messages.
            unsafe { super::gro_segment(&hdr.msg_hdr) }
        } else {
            None
        };
        let len = (hdr.msg_len as usize).min(CHUNK);
        let entry = BatchEntry {
            truncated: hdr.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
            addr: from_sockaddr_storage(name, hdr.msg_hdr.msg_namelen),
            segment,
        };
        let start = i * CHUNK;
        // SAFETY: `data` holds `width * CHUNK` bytes, `i < width` and
        // `len <= CHUNK`, so the range lies inside it.
        Some((entry, unsafe {
            self.data.get_unchecked(start..start + len)
        }))
    }

    /// Number of datagrams the last `recv` read.
    pub(crate) fn len(&self) -> usize {
        self.count
    }
}

/// Sends up to `BATCH` datagrams in one `sendmmsg` call; returns how many
/// the kernel took (they went out in order). WouldBlock when none did.
pub(crate) fn send_mmsg(
    fd: RawFd,
    datagrams: &[(&[u8], Option<&SocketAddr>)],
) -> io::Result<usize> {
    let count = datagrams.len().min(BATCH);
    // SAFETY: as in `RecvBatch::new`: all-zero values are valid (the union
    // holds only plain C structs).
    let mut names: [RawSockAddr; BATCH] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut iovecs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut headers: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
    for (i, (data, addr)) in datagrams.iter().take(count).enumerate() {
        iovecs[i].iov_base = data.as_ptr() as *mut libc::c_void;
        iovecs[i].iov_len = data.len();
        let hdr = &mut headers[i].msg_hdr;
        if let Some(addr) = addr {
            let (raw, len) = to_raw(addr);
            names[i] = raw;
            hdr.msg_name = names[i].as_ptr() as *mut libc::c_void;
            hdr.msg_namelen = len;
        }
        hdr.msg_iov = &mut iovecs[i];
        hdr.msg_iovlen = 1;
    }
    // SAFETY: the first `count` headers point at live names, iovecs and the
    // callers' slices, all valid for the duration of the call.
    let n = unsafe {
        libc::sendmmsg(
            fd,
            headers.as_mut_ptr(),
            count as libc::c_uint,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    super::byte_count(n as i64)
}
