//! Passing handles over IPC pipes: `uv_write2`, `uv_try_write2`,
//! `uv_pipe_pending_count`, `uv_pipe_pending_type`, and `uv_accept` on an
//! IPC pipe (the receiving end), on ruv's `Pipe::write2`,
//! `Pipe::try_write2` and `Pipe::accept_handle`.
//!
//! A handle passed is a TCP, pipe or UDP handle; its descriptor travels
//! with the first byte of its own write (`SCM_RIGHTS`), and the receiver
//! gets it as a pending handle before that byte reaches its read callback.
//! ruv duplicates the descriptor for the write, so unlike libuv the program
//! may close the handle it sent right after `uv_write2`.

use crate::handles::{live, status, to_status, Token, EINVAL};
use crate::pipe::pipe;
use crate::stream_write::{link_write, with_slices, write_buffers, written};
use crate::types::*;
use libc::{c_int, c_uint};
use ruv::{HandleType, StatusCode};

/// The ruv handle to pass: a live TCP, pipe or UDP handle (libuv: the
/// handle's descriptor, UV_EBADF for a handle without one).
///
/// # Safety
/// `send_handle` is NULL or an initialized handle.
unsafe fn passable<'a>(send_handle: *const uv_stream_t) -> Result<&'a ruv::Handle, c_int> {
    // SAFETY: forwarded contract.
    match unsafe { live(send_handle as *const uv_handle_t) }? {
        token @ (Token::Tcp(_) | Token::Pipe(_) | Token::Udp(_)) => Ok(token.handle()),
        _ => Err(StatusCode::EBADF.code()),
    }
}

/// `uv_write2`: `uv_write` that also passes `send_handle` (a TCP, pipe or
/// UDP handle) over `handle`, an IPC pipe; with a NULL `send_handle` it is
/// `uv_write`. UV_EINVAL when `handle` is not an IPC pipe or no byte
/// carries the descriptor (libuv would lose it); otherwise `uv_write`'s
/// errors.
///
/// # Safety
/// As `uv_write`; `send_handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_write2(
    req: *mut uv_write_t,
    handle: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    send_handle: *mut uv_stream_t,
    cb: Option<uv_write_cb>,
) -> c_int {
    if send_handle.is_null() {
        // SAFETY: forwarded contract.
        return unsafe { crate::stream_write::uv_write(req, handle, bufs, nbufs, cb) };
    }
    if req.is_null() {
        return EINVAL;
    }
    // SAFETY: per the contract above.
    let (p, sent, (bufs, size)) = match unsafe {
        (
            pipe(handle as *const uv_pipe_t),
            passable(send_handle),
            write_buffers(bufs, nbufs),
        )
    } {
        (Ok(p), Ok(sent), Ok(b)) => (p, sent, b),
        (Err(code), _, _) | (_, Err(code), _) | (_, _, Err(code)) => return code,
    };
    if let Err(err) = with_slices(bufs, |slices| p.write2(slices, sent, written)) {
        return status(err);
    }
    // SAFETY: ruv accepted the write, so its callback is owed and has not
    // run; the rest per the contract above.
    unsafe { link_write(req, handle, size, send_handle, cb) };
    0
}

/// `uv_try_write2`: `uv_try_write` that also passes `send_handle` with the
/// bytes written now; with a NULL `send_handle` it is `uv_try_write`.
///
/// # Safety
/// As `uv_try_write`; `send_handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_try_write2(
    handle: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    send_handle: *mut uv_stream_t,
) -> c_int {
    if send_handle.is_null() {
        // SAFETY: forwarded contract.
        return unsafe { crate::stream_write::uv_try_write(handle, bufs, nbufs) };
    }
    // SAFETY: per the contract above.
    let (p, sent, (bufs, _)) = match unsafe {
        (
            pipe(handle as *const uv_pipe_t),
            passable(send_handle),
            write_buffers(bufs, nbufs),
        )
    } {
        (Ok(p), Ok(sent), Ok(b)) => (p, sent, b),
        (Err(code), _, _) | (_, Err(code), _) | (_, _, Err(code)) => return code,
    };
    match with_slices(bufs, |slices| p.try_write2(slices, sent)) {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(err) => status(err),
    }
}

/// `uv_pipe_pending_count`: handles received and not accepted yet; 0 for a
/// pipe that is not IPC, or anything else.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_pending_count(handle: *mut uv_pipe_t) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { pipe(handle) } {
        Ok(p) => c_int::try_from(p.pending_count()).unwrap_or(c_int::MAX),
        Err(_) => 0,
    }
}

/// `uv_pipe_pending_type`: the type of the next handle received (UV_TCP,
/// UV_NAMED_PIPE, UV_UDP), or UV_UNKNOWN_HANDLE when none waits.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_pending_type(handle: *mut uv_pipe_t) -> c_int {
    // SAFETY: per the contract above.
    let pending = unsafe { pipe(handle) }
        .ok()
        .and_then(ruv::Pipe::pending_type);
    match pending {
        Some(HandleType::Tcp) => handle_type::TCP,
        Some(HandleType::NamedPipe) => handle_type::NAMED_PIPE,
        Some(HandleType::Udp) => handle_type::UDP,
        _ => handle_type::UNKNOWN,
    }
}

/// `uv_accept` on an IPC pipe: moves the next handle received into
/// `client`, a new TCP, pipe or UDP handle of the same loop and of the
/// pending handle's type. UV_EAGAIN when none waits, UV_EINVAL for a client
/// of another type (the handle stays pending).
///
/// # Safety
/// `client` is NULL or an initialized handle.
pub(crate) unsafe fn accept_passed(server: &ruv::Pipe, client: *const uv_handle_t) -> c_int {
    // Nothing pending is UV_EAGAIN whatever the client, as in libuv.
    if server.pending_count() == 0 {
        return StatusCode::EAGAIN.code();
    }
    // SAFETY: per the contract above.
    let client = match unsafe { live(client) } {
        Ok(token @ (Token::Tcp(_) | Token::Pipe(_) | Token::Udp(_))) => token.handle(),
        Ok(_) => return EINVAL,
        Err(code) => return code,
    };
    to_status(server.accept_handle(client))
}
