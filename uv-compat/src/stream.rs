//! `uv_stream_t` calls that TCP and pipe handles share: listening,
//! accepting, reading, and the state queries. Writing and shutting down
//! are in `stream_write.rs`.
//!
//! A C stream is a `ruv::Tcp` or a `ruv::Pipe`; `on_stream!` runs the
//! same code on either, so the callbacks given to ruv get the concrete
//! type and nothing is looked up per event.

use crate::handles::{flags, live, status, to_status, Token, EINVAL};
use crate::types::*;
use crate::udp_recv::ProgramBuf;
use libc::{c_int, size_t, ssize_t};
use std::ptr;

/// The ruv handle behind a live C stream.
#[derive(Clone, Copy)]
pub(crate) enum Stream<'a> {
    Tcp(&'a ruv::Tcp),
    Pipe(&'a ruv::Pipe),
}

/// Evaluates `$body` with `$x` bound to the stream's concrete ruv handle.
macro_rules! on_stream {
    ($stream:expr, $x:ident => $body:expr) => {
        match $stream {
            $crate::stream::Stream::Tcp($x) => $body,
            $crate::stream::Stream::Pipe($x) => $body,
        }
    };
}
pub(crate) use on_stream;

/// The ruv handle of a live (initialized here, not closing) TCP or pipe
/// handle; UV_EINVAL for anything else.
///
/// # Safety
/// `h` is NULL or points to a handle struct the program owns.
pub(crate) unsafe fn stream<'a>(h: *const uv_stream_t) -> Result<Stream<'a>, c_int> {
    // SAFETY: forwarded contract.
    match unsafe { live(h as *const uv_handle_t) }? {
        Token::Tcp(t) => Ok(Stream::Tcp(t)),
        Token::Pipe(p) => Ok(Stream::Pipe(p)),
        _ => Err(EINVAL),
    }
}

/// Whether `h` was initialized here as a TCP or pipe handle (closing or
/// not): its public stream fields are then ours to read.
///
/// # Safety
/// `h` is NULL or points to a handle struct the program owns.
pub(crate) unsafe fn is_stream(h: *const uv_stream_t) -> bool {
    // SAFETY: `flags` checks the marker `init` sets; the type is then the
    // one `init` wrote.
    unsafe {
        flags(h as *const uv_handle_t) != 0
            && matches!(
                (*h).handle.type_,
                handle_type::TCP | handle_type::NAMED_PIPE
            )
    }
}

/// Fills the stream fields of a handle being initialized.
///
/// # Safety
/// `h` points to writable memory of `sizeof(uv_stream_t)`.
pub(crate) unsafe fn init_fields(h: *mut uv_stream_t) {
    // SAFETY: per the contract above.
    unsafe {
        (*h).write_queue_size = 0;
        (*h).alloc_cb = None;
        (*h).read_cb = None;
        (*h).ruv_private_writes_ = [ptr::null_mut(); 2];
    }
}

/// `uv_listen`: `cb` runs once per connection waiting (status 0), to be
/// taken with `uv_accept`. A NULL callback is accepted, as libuv accepts
/// it (its tests listen without one to see whether listening succeeds): a
/// connection then waits, unannounced, for a `uv_accept`.
///
/// # Safety
/// `stream` is NULL or an initialized handle that stays alive until it is
/// closed.
#[no_mangle]
pub unsafe extern "C" fn uv_listen(
    stream: *mut uv_stream_t,
    backlog: c_int,
    cb: Option<uv_connection_cb>,
) -> c_int {
    // SAFETY: per the contract above.
    let s = match unsafe { self::stream(stream) } {
        Ok(s) => s,
        Err(code) => return code,
    };
    // SAFETY (of the callback): ruv calls it only while the handle is
    // open, and the program keeps an open handle alive.
    to_status(
        on_stream!(s, x => x.listen(backlog, move |_, result| unsafe {
            if let Some(cb) = cb {
                cb(stream, result.err().map_or(0, status));
            }
        })),
    )
}

/// `uv_accept`: takes the waiting connection into `client`, a handle of the
/// same type and loop. On an IPC pipe, takes the next handle received
/// instead, into a TCP, pipe or UDP handle of its type (`uv_write2`'s other
/// end; see `pipe_ipc.rs`). UV_EAGAIN when none waits; UV_EINVAL for
/// handles of different types.
///
/// # Safety
/// `server` and `client` are NULL or initialized handles.
#[no_mangle]
pub unsafe extern "C" fn uv_accept(server: *mut uv_stream_t, client: *mut uv_stream_t) -> c_int {
    // SAFETY: per the contract above.
    let s = match unsafe { self::stream(server) } {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Stream::Pipe(pipe) = s {
        if pipe.ipc().unwrap_or(false) {
            // SAFETY: per the contract above.
            return unsafe { crate::pipe_ipc::accept_passed(pipe, client as *const uv_handle_t) };
        }
    }
    // SAFETY: per the contract above.
    let c = match unsafe { self::stream(client) } {
        Ok(c) => c,
        Err(code) => return code,
    };
    to_status(match (s, c) {
        (Stream::Tcp(s), Stream::Tcp(c)) => s.accept(c),
        (Stream::Pipe(s), Stream::Pipe(c)) => s.accept(c),
        _ => return EINVAL,
    })
}

/// Asks the program's `alloc_cb` for a buffer (`{NULL, 0}` if it gives
/// none, which ruv reports as UV_ENOBUFS).
///
/// # Safety
/// `h` is a live stream handle.
unsafe fn alloc(h: *mut uv_stream_t, suggested: usize) -> ProgramBuf {
    let mut buf = uv_buf_t {
        base: ptr::null_mut(),
        len: 0,
    };
    // SAFETY: per the contract above; read now so C may change it.
    if let Some(cb) = unsafe { (*h).alloc_cb } {
        // SAFETY: the program's callback with its own handle and a buffer
        // that lives through the call.
        unsafe { cb(h as *mut uv_handle_t, suggested, &mut buf) };
    }
    ProgramBuf(buf)
}

/// Hands a read's outcome and its buffer back to the program's `read_cb`:
/// the bytes read, 0 (nothing was waiting), UV_EOF, UV_ENOBUFS or the
/// error.
///
/// # Safety
/// `h` is a live stream handle.
unsafe fn deliver(h: *mut uv_stream_t, outcome: ruv::Result<usize>, buf: ProgramBuf) {
    let nread = match outcome {
        Ok(n) => n as ssize_t,
        Err(err) => status(err) as ssize_t,
    };
    // SAFETY: per the contract above; read now so C may change it.
    if let Some(cb) = unsafe { (*h).read_cb } {
        // SAFETY: the program's callback with its own handle and buffer.
        unsafe { cb(h, nread, &buf.0) };
    }
}

/// `uv_read_start`. UV_EINVAL for a NULL callback or a closing handle;
/// UV_EALREADY when reading; UV_ENOTCONN when not readable; UV_EEXIST while
/// a poll handle watches the stream's socket (libuv starts and gets no
/// data).
///
/// # Safety
/// `stream` is NULL or an initialized handle that stays alive until it is
/// closed; the buffers `alloc_cb` gives are writable until handed back.
#[no_mangle]
pub unsafe extern "C" fn uv_read_start(
    stream: *mut uv_stream_t,
    alloc_cb: Option<uv_alloc_cb>,
    read_cb: Option<uv_read_cb>,
) -> c_int {
    if alloc_cb.is_none() || read_cb.is_none() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    let s = match unsafe { self::stream(stream) } {
        Ok(s) => s,
        Err(code) => return code,
    };
    // SAFETY (of the callbacks): ruv calls them only while the handle
    // reads, so while it is open and alive.
    let started = on_stream!(s, x => x.read_start_with(
        move |_, size| unsafe { alloc(stream, size) },
        move |_, outcome, buf| unsafe { deliver(stream, outcome, buf) },
    ));
    if started.is_ok() {
        // SAFETY: a live stream handle.
        unsafe {
            (*stream).alloc_cb = alloc_cb;
            (*stream).read_cb = read_cb;
        }
    }
    to_status(started)
}

/// `uv_read_stop`: always 0, as in libuv (also when not reading).
///
/// # Safety
/// `stream` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_read_stop(stream: *mut uv_stream_t) -> c_int {
    // SAFETY: per the contract above.
    if let Ok(s) = unsafe { self::stream(stream) } {
        on_stream!(s, x => x.read_stop());
        // SAFETY: a live stream handle.
        unsafe {
            (*stream).alloc_cb = None;
            (*stream).read_cb = None;
        }
    }
    0
}

/// `uv_is_readable`.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_is_readable(handle: *const uv_stream_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { stream(handle) }.map_or(0, |s| on_stream!(s, x => x.is_readable()) as c_int)
}

/// `uv_is_writable`.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_is_writable(handle: *const uv_stream_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { stream(handle) }.map_or(0, |s| on_stream!(s, x => x.is_writable()) as c_int)
}

/// `uv_stream_set_blocking`: writes then return once the kernel took all
/// (their callbacks still run later); reads never block.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_stream_set_blocking(
    handle: *mut uv_stream_t,
    blocking: c_int,
) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { stream(handle) } {
        Ok(s) => to_status(on_stream!(s, x => x.set_blocking(blocking != 0))),
        Err(code) => code,
    }
}

/// `uv_stream_get_write_queue_size`: the `write_queue_size` field (0 for a
/// handle that is not a stream initialized here).
///
/// # Safety
/// `stream` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_stream_get_write_queue_size(stream: *const uv_stream_t) -> size_t {
    // SAFETY: per the contract above; `is_stream` vouches for the field.
    unsafe {
        if is_stream(stream) {
            (*stream).write_queue_size
        } else {
            0
        }
    }
}
