//! `uv_write`, `uv_try_write` and `uv_shutdown`.
//!
//! Nothing is allocated per write: ruv's callback is `written`, which
//! captures nothing (its box is zero-sized), and the request joins its
//! handle's list of writes in flight, kept in the structs' private fields
//! (`ruv_private_writes_` of the handle: oldest and newest; `ruv_private_`
//! of each request: the next one and the write's size), as `udp.rs` does
//! for sends. ruv reports a stream's writes in the order they were made —
//! in the pending phase, or ECANCELED when the handle closes — so the
//! callback's request is always the oldest of its handle's list.

use crate::handles::{is_closing, status, to_status};
use crate::loops::running_handle;
use crate::stream::{on_stream, stream};
use crate::types::*;
use crate::udp::{buffers_up_to, MAX_NBUFS_ACCEPTED};
use libc::{c_int, c_uint, c_void};
use ruv::StatusCode;
use std::ops::Deref;
use std::ptr;

/// Buffers of one write viewed as slices on the stack; more go through a
/// `Vec`.
const INLINE_BUFS: usize = 16;

/// Calls `f` with the program's buffers as byte slices, without an
/// allocation for up to [`INLINE_BUFS`] of them.
pub(crate) fn with_slices<R>(bufs: &[uv_buf_t], f: impl FnOnce(&[&[u8]]) -> R) -> R {
    if bufs.len() <= INLINE_BUFS {
        let mut slices: [&[u8]; INLINE_BUFS] = [&[]; INLINE_BUFS];
        for (slice, buf) in slices.iter_mut().zip(bufs) {
            *slice = buf.as_ref();
        }
        f(&slices[..bufs.len()])
    } else {
        let slices: Vec<&[u8]> = bufs.iter().map(AsRef::as_ref).collect();
        f(&slices)
    }
}

/// The checked buffers of a stream write and their total size: see
/// `udp::buffers` (a stream takes up to `MAX_NBUFS_ACCEPTED` buffers).
///
/// # Safety
/// `bufs` is NULL or points to `nbufs` buffers.
pub(crate) unsafe fn write_buffers<'a>(
    bufs: *const uv_buf_t,
    nbufs: c_uint,
) -> Result<(&'a [uv_buf_t], usize), c_int> {
    // SAFETY: forwarded contract.
    unsafe { buffers_up_to(bufs, nbufs, MAX_NBUFS_ACCEPTED) }
}

/// `uv_write`: written at once when nothing waits (what the kernel does
/// not take is copied, so unlike libuv the buffers need not outlive the
/// call); the callback always runs later from the loop, in the order the
/// writes were made. UV_EINVAL for no buffers, a NULL request or a closing
/// handle; UV_EFAULT for a NULL base with a length; UV_EBADF without a
/// descriptor; UV_EPIPE when not writable (after `uv_shutdown`, a read
/// error, on a read-only pipe end).
///
/// # Safety
/// `req` points to writable memory of `sizeof(uv_write_t)` that stays
/// alive until `cb` runs; `handle` is NULL or an initialized handle;
/// `bufs` points to `nbufs` buffers, read during the call.
#[no_mangle]
pub unsafe extern "C" fn uv_write(
    req: *mut uv_write_t,
    handle: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    cb: Option<uv_write_cb>,
) -> c_int {
    if req.is_null() {
        return StatusCode::EINVAL.code();
    }
    // SAFETY: per the contract above.
    let s = match unsafe { stream(handle) } {
        Ok(s) => s,
        Err(code) => return code,
    };
    // SAFETY: per the contract above.
    let (bufs, size) = match unsafe { write_buffers(bufs, nbufs) } {
        Ok(v) => v,
        Err(code) => return code,
    };
    if let Err(err) = with_slices(bufs, |slices| on_stream!(s, x => x.write(slices, written))) {
        return status(err);
    }
    // SAFETY: ruv accepted the write, so its callback is owed and has not
    // run; the rest per the contract above.
    unsafe { link_write(req, handle, size, ptr::null_mut(), cb) };
    0
}

/// Puts a write ruv accepted (its callback, [`written`], owed) at the end
/// of its handle's list and fills the request's public fields.
///
/// # Safety
/// `req` is writable and stays alive until its callback, which has not run
/// (ruv never calls it from inside the write); `handle` is a live stream
/// handle, whose list holds only such requests.
pub(crate) unsafe fn link_write(
    req: *mut uv_write_t,
    handle: *mut uv_stream_t,
    size: usize,
    send_handle: *mut uv_stream_t,
    cb: Option<uv_write_cb>,
) {
    // SAFETY: per the contract above.
    unsafe {
        (*req).req.type_ = UV_WRITE;
        (*req).cb = cb;
        (*req).send_handle = send_handle;
        (*req).handle = handle;
        (*req).req.ruv_private_ = [ptr::null_mut(), size as *mut c_void];
        let newest = (*handle).ruv_private_writes_[1];
        if newest.is_null() {
            (*handle).ruv_private_writes_[0] = req;
        } else {
            (*newest).req.ruv_private_[0] = req as *mut c_void;
        }
        (*handle).ruv_private_writes_[1] = req;
        (*handle).write_queue_size += size;
    }
}

/// ruv's callback of every C write: takes the oldest request off the list
/// of the C handle (found through the running loop's handle table by the
/// ruv handle's id), updates `write_queue_size` and calls the request's
/// callback.
pub(crate) fn written<T: Deref<Target = ruv::Handle>>(h: &T, result: ruv::Result<()>) {
    let Some(handle) = running_handle(h.get_loop(), |handles| handles.get(h.id())) else {
        return;
    };
    let handle = handle as *mut uv_stream_t;
    // SAFETY: a table entry is a linked handle, alive until its close
    // callback, which ruv runs after the handle's write callbacks; its
    // token is this stream's, so it was initialized as a TCP or pipe
    // handle, whose struct starts with `uv_stream_t`. Its list holds the
    // requests `uv_write` accepted whose callback has not run, which the
    // program keeps alive, oldest first: this one. It leaves the list
    // before its callback, which may reuse it.
    unsafe {
        let r = (*handle).ruv_private_writes_[0];
        if r.is_null() {
            return;
        }
        let [next, size] = (*r).req.ruv_private_;
        (*handle).ruv_private_writes_[0] = next as *mut uv_write_t;
        if next.is_null() {
            (*handle).ruv_private_writes_[1] = ptr::null_mut();
        }
        (*handle).write_queue_size = (*handle).write_queue_size.saturating_sub(size as usize);
        if let Some(cb) = (*r).cb {
            cb(r, result.err().map_or(0, status));
        }
    }
}

/// `uv_try_write`: the bytes the kernel took now (possibly fewer than
/// given), or UV_EAGAIN while a connect or writes are in flight or there
/// is no room; otherwise `uv_write`'s errors.
///
/// # Safety
/// `handle` is NULL or an initialized handle; `bufs` points to `nbufs`
/// buffers.
#[no_mangle]
pub unsafe extern "C" fn uv_try_write(
    handle: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
) -> c_int {
    // SAFETY: per the contract above.
    let s = match unsafe { stream(handle) } {
        Ok(s) => s,
        Err(code) => return code,
    };
    // SAFETY: per the contract above.
    let (bufs, _) = match unsafe { write_buffers(bufs, nbufs) } {
        Ok(v) => v,
        Err(code) => return code,
    };
    match with_slices(bufs, |slices| on_stream!(s, x => x.try_write(slices))) {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(err) => status(err),
    }
}

/// Reports a shutdown's outcome to the program.
///
/// # Safety
/// `req` is the request `uv_shutdown` accepted, alive until now.
unsafe fn shut(req: *mut uv_shutdown_t, result: ruv::Result<()>) {
    // SAFETY: per the contract above; the callback is read now so C may
    // have changed it.
    unsafe {
        if let Some(cb) = (*req).cb {
            cb(req, result.err().map_or(0, status));
        }
    }
}

/// `uv_shutdown`: shuts the sending side down once the writes made before
/// are written; the callback runs later from the loop (UV_ECANCELED if the
/// handle closes first). UV_ENOTCONN when not writable (not connected,
/// shut down already, after a read error) or closing.
///
/// # Safety
/// `req` points to writable memory of `sizeof(uv_shutdown_t)` that stays
/// alive until `cb` runs; `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_shutdown(
    req: *mut uv_shutdown_t,
    handle: *mut uv_stream_t,
    cb: Option<uv_shutdown_cb>,
) -> c_int {
    if req.is_null() {
        return StatusCode::EINVAL.code();
    }
    // SAFETY: per the contract above.
    if unsafe { is_closing(handle as *const uv_handle_t) } {
        return StatusCode::ENOTCONN.code();
    }
    // SAFETY: per the contract above.
    let s = match unsafe { stream(handle) } {
        Ok(s) => s,
        Err(code) => return code,
    };
    // SAFETY (of the callback): the program keeps `req` alive until it
    // runs, which ruv does once.
    let r = on_stream!(s, x => x.shutdown(move |_, result| unsafe { shut(req, result) }));
    if r.is_ok() {
        // SAFETY: writable per the contract above; the callback has not
        // run (never from inside `shutdown`).
        unsafe {
            (*req).req.type_ = UV_SHUTDOWN;
            (*req).handle = handle;
            (*req).cb = cb;
        }
    }
    to_status(r)
}
