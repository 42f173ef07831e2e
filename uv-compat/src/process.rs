//! `uv_spawn`, `uv_process_kill` and `uv_process_get_pid`, on
//! `ruv::Process`.
//!
//! As in libuv, `uv_spawn` initializes the handle whatever happens once it
//! has a loop and a handle: when it fails (a bad stdio entry, an exec
//! failure such as UV_ENOENT or UV_EACCES, reported synchronously) the
//! handle must still be closed with `uv_close`, and its close callback
//! runs. Beyond libuv, a handle closed before its child exits still has
//! the child reaped (libuv leaves a zombie, libuv#1911), and
//! `uv_process_kill` reaches the child through its pidfd: UV_ESRCH once it
//! was reaped, never a process that got its pid since.

use crate::handles::{init, live, status, to_status, token, OwnedToken, Token, EINVAL};
use crate::loops::{ctx, running_handle};
use crate::types::*;
use libc::{c_char, c_int, pid_t};
use ruv::{ProcessFlags, ProcessOptions, Stdio};
use std::ffi::{CStr, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// `uv_stdio_flags` values.
mod stdio_flags {
    use libc::c_int;
    pub const CREATE_PIPE: c_int = 0x01;
    pub const INHERIT_FD: c_int = 0x02;
    pub const INHERIT_STREAM: c_int = 0x04;
    pub const READABLE_PIPE: c_int = 0x10;
    pub const WRITABLE_PIPE: c_int = 0x20;
    /// The bits that say what an entry is (the others qualify a pipe).
    pub const KIND: c_int = CREATE_PIPE | INHERIT_FD | INHERIT_STREAM;
}

/// An owned copy of a C string.
///
/// # Safety
/// `s` is a NUL-terminated string.
unsafe fn os_string(s: *const c_char) -> OsString {
    // SAFETY: per the caller.
    OsStr::from_bytes(unsafe { CStr::from_ptr(s) }.to_bytes()).to_owned()
}

/// The strings of a NULL-terminated array (none for a NULL array).
///
/// # Safety
/// `list` is NULL or a NULL-terminated array of NUL-terminated strings.
unsafe fn os_strings(list: *const *mut c_char) -> Vec<OsString> {
    let mut out = Vec::new();
    if list.is_null() {
        return out;
    }
    let mut i = 0;
    // SAFETY: per the caller, every entry up to the NULL is a string.
    unsafe {
        while !(*list.add(i)).is_null() {
            out.push(os_string(*list.add(i)));
            i += 1;
        }
    }
    out
}

/// The child's descriptor for one stdio entry.
///
/// # Safety
/// `c` came from the program's `stdio` array; its stream, if any, is NULL
/// or a handle struct the program owns.
unsafe fn stdio_entry(c: &uv_stdio_container_t) -> Result<Stdio, c_int> {
    match c.flags & stdio_flags::KIND {
        0 => Ok(Stdio::Ignore),
        stdio_flags::INHERIT_FD => {
            // SAFETY: the flag says the union holds the descriptor.
            let fd = unsafe { c.data.fd };
            if fd < 0 {
                return Err(EINVAL);
            }
            Ok(Stdio::InheritFd(fd))
        }
        stdio_flags::INHERIT_STREAM => {
            let mut fd = -1;
            // SAFETY: the flag says the union holds a stream: NULL or a
            // handle the program owns.
            if unsafe { crate::handles::uv_fileno(c.data.stream, &mut fd) } != 0 || fd < 0 {
                return Err(EINVAL);
            }
            Ok(Stdio::InheritFd(fd))
        }
        // A socket pair (as libuv makes): the child's end is blocking
        // whatever UV_NONBLOCK_PIPE says, as libuv leaves it on Unix.
        stdio_flags::CREATE_PIPE => {
            // SAFETY: the flag says the union holds a stream: NULL or a
            // handle the program owns.
            match unsafe { token(c.data.stream) } {
                Some(Token::Pipe(pipe)) => Ok(Stdio::CreatePipeDirected {
                    pipe: pipe.clone(),
                    child_reads: c.flags & stdio_flags::READABLE_PIPE != 0,
                    child_writes: c.flags & stdio_flags::WRITABLE_PIPE != 0,
                }),
                _ => Err(EINVAL),
            }
        }
        _ => Err(EINVAL),
    }
}

/// ruv's options for the program's `uv_process_options_t`.
///
/// # Safety
/// `o`'s pointers are NULL or valid as libuv documents them.
unsafe fn options(o: &uv_process_options_t) -> Result<ProcessOptions, c_int> {
    if o.file.is_null() {
        return Err(EINVAL);
    }
    let flags = ProcessFlags::from_bits(o.flags).ok_or(EINVAL)?;
    let count = usize::try_from(o.stdio_count).unwrap_or(0);
    if count > 0 && o.stdio.is_null() {
        return Err(EINVAL);
    }
    let mut stdio = Vec::with_capacity(count);
    for i in 0..count {
        // SAFETY: `stdio` has `stdio_count` entries.
        stdio.push(unsafe { stdio_entry(&*o.stdio.add(i)) }?);
    }
    // SAFETY: strings and string arrays as documented.
    let mut opts = unsafe { ProcessOptions::new(os_string(o.file)) }
        .with_args(unsafe { os_strings(o.args) })
        .with_flags(flags)
        .with_uid(o.uid)
        .with_gid(o.gid)
        .with_stdio(stdio);
    if !o.env.is_null() {
        // SAFETY: as above.
        opts = opts.with_env(unsafe { os_strings(o.env) });
    }
    if !o.cwd.is_null() {
        // SAFETY: as above.
        opts = opts.with_cwd(unsafe { os_string(o.cwd) });
    }
    Ok(opts)
}

/// `uv_spawn`: starts the child `options` describes. UV_EINVAL for a NULL
/// loop or handle (nothing initialized then); otherwise the handle is
/// initialized in every case and must be closed, also when this returns an
/// error: UV_EINVAL for NULL options, a NULL file, an unknown flag or a bad
/// stdio entry (`UV_CREATE_PIPE` without a new `uv_pipe_t`, a stream
/// without a descriptor, a negative descriptor), and the exec failure (UV_ENOENT, UV_EACCES, UV_EPERM for a user or
/// group we may not take, ...).
///
/// # Safety
/// `loop_` is an initialized loop; `handle` points to writable memory of
/// `sizeof(uv_process_t)`; `options` is NULL or valid as libuv documents.
#[no_mangle]
pub unsafe extern "C" fn uv_spawn(
    loop_: *mut uv_loop_t,
    handle: *mut uv_process_t,
    options: *const uv_process_options_t,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if handle.is_null() {
        return EINVAL;
    }
    let spawned = if options.is_null() {
        Err(EINVAL)
    } else {
        // SAFETY: valid options per the contract above.
        unsafe { self::options(&*options) }
            .and_then(|opts| ruv::Process::spawn(&ctx.lp, &opts, exited).map_err(status))
    };
    // SAFETY: writable per the contract above; `options` as above.
    unsafe {
        (*handle).exit_cb = if options.is_null() {
            None
        } else {
            (*options).exit_cb
        };
        let (token, pid, result) = match spawned {
            Ok(p) => {
                let pid = p.pid().unwrap_or(0);
                (OwnedToken::Process(p), pid, 0)
            }
            Err(code) => (OwnedToken::FailedProcess(ruv::Idle::new(&ctx.lp)), 0, code),
        };
        (*handle).pid = pid;
        init(loop_, ctx, handle as *mut uv_handle_t, UV_PROCESS, token, 0);
        result
    }
}

/// The ruv exit callback of every C process handle: finds the C handle
/// through the running loop's handle table and calls its `exit_cb`, read
/// now (the program may have changed it since `uv_spawn`).
fn exited(p: &ruv::Process, exit_status: i64, term_signal: c_int) {
    let Some(h) = running_handle(p.get_loop(), |handles| handles.get(p.id())) else {
        return;
    };
    let h = h as *mut uv_process_t;
    // SAFETY: a table entry is a linked handle, alive until its close
    // callback (closing drops this callback), linked by `uv_spawn` as a
    // process handle since its token is this one's.
    if let Some(cb) = unsafe { (*h).exit_cb } {
        // SAFETY: calling the program's callback with its own handle.
        unsafe { cb(h, exit_status, term_signal) };
    }
}

/// `uv_process_kill`: sends `signum` to the child (0 checks that it
/// runs). UV_ESRCH once it was reaped and for a handle whose spawn failed
/// (libuv would signal pid 0, its own process group); UV_EINVAL for an
/// invalid signal, a closing handle or one that is not a process.
///
/// # Safety
/// `handle` is NULL or an initialized handle.
#[no_mangle]
pub unsafe extern "C" fn uv_process_kill(handle: *mut uv_process_t, signum: c_int) -> c_int {
    // SAFETY: per the contract above.
    match unsafe { live(handle as *const uv_handle_t) } {
        Ok(Token::Process(p)) => to_status(p.kill(signum)),
        Ok(Token::FailedProcess(_)) => -libc::ESRCH,
        _ => EINVAL,
    }
}

/// `uv_process_get_pid`: the child's process id (0 after a failed spawn).
///
/// # Safety
/// `handle` points to a process handle initialized by `uv_spawn`.
#[no_mangle]
pub unsafe extern "C" fn uv_process_get_pid(handle: *const uv_process_t) -> pid_t {
    // SAFETY: per the contract above.
    unsafe { (*handle).pid }
}
