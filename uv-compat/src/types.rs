//! `#[repr(C)]` mirrors of the structs in `include/uv.h`, field for field.
//!
//! Each struct has libuv 1.x's size and alignment and each public field its
//! offset (`tests/layout.rs` compares our header with the system's libuv);
//! the `ruv_*reserved_` words fill the rest of libuv's private part.

use libc::{c_char, c_int, c_uint, c_void, size_t, sockaddr, ssize_t};

/// `uv_buf_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct uv_buf_t {
    /// Start of the memory.
    pub base: *mut c_char,
    /// Its length in bytes.
    pub len: size_t,
}

/// `uv_loop_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_loop_t {
    /// The program's own pointer; kept across init and close.
    pub data: *mut c_void,
    /// Active, referenced handles (libuv's counter, which programs read
    /// and its test suite adjusts): mirrored from the loop by deltas, so a
    /// program's own adjustment stays until it undoes it.
    pub active_handles: c_uint,
    /// libuv's handle list; unused (programs use `uv_walk`).
    pub handle_queue: [*mut c_void; 2],
    /// `active_reqs.count`: requests in flight, mirrored like
    /// `active_handles`.
    pub active_reqs: uv_loop_active_reqs,
    /// libuv's; unused.
    pub internal_fields: *mut c_void,
    /// 1 after `uv_stop` until `uv_run` returns.
    pub stop_flag: c_uint,
    /// `[0]`: the `LoopCtx` box; `[1]`: its tag (see `loops::ctx`); `[2]`:
    /// the liveness word. The rest is unused.
    pub ruv_private_: [*mut c_void; 4],
    /// Room of libuv's private part: the size of its mutex, its rwlock and
    /// its other 83 words.
    pub ruv_reserved_: [*mut c_void; LOOP_RESERVED_WORDS],
}

/// `uv_loop_t::active_reqs`: libuv's union of a pointer (for its width)
/// and the count.
#[repr(C)]
#[derive(Clone, Copy)]
pub union uv_loop_active_reqs {
    /// Gives the union a pointer's size and alignment.
    pub unused: *mut c_void,
    /// Requests in flight.
    pub count: c_uint,
}

impl std::fmt::Debug for uv_loop_active_reqs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SAFETY: `count` is the member the library writes; reading it
        // from a pointer-initialized union reads its low bytes, which are
        // initialized too.
        let count = unsafe { self.count };
        f.debug_struct("active_reqs")
            .field("count", &count)
            .finish()
    }
}

/// Words of `uv_loop_t::ruv_reserved_`: uv.h's `ruv_reserved_mutex_`,
/// `ruv_reserved_rwlock_` and `ruv_reserved_` together (the pthread types'
/// sizes are multiples of a word on the LP64 targets we build for).
pub const LOOP_RESERVED_WORDS: usize = 83
    + (std::mem::size_of::<libc::pthread_mutex_t>()
        + std::mem::size_of::<libc::pthread_rwlock_t>())
        / std::mem::size_of::<*mut c_void>();

/// `uv_close_cb`.
pub type uv_close_cb = unsafe extern "C" fn(*mut uv_handle_t);
/// `uv_walk_cb`.
pub type uv_walk_cb = unsafe extern "C" fn(*mut uv_handle_t, *mut c_void);
/// `uv_alloc_cb`.
pub type uv_alloc_cb = unsafe extern "C" fn(*mut uv_handle_t, size_t, *mut uv_buf_t);
/// `uv_timer_cb`.
pub type uv_timer_cb = unsafe extern "C" fn(*mut uv_timer_t);
/// `uv_idle_cb`, `uv_prepare_cb`, `uv_check_cb` (same shape).
pub type uv_watcher_cb = unsafe extern "C" fn(*mut uv_watcher_t);
/// `uv_async_cb`.
pub type uv_async_cb = unsafe extern "C" fn(*mut uv_async_t);
/// `uv_poll_cb`.
pub type uv_poll_cb = unsafe extern "C" fn(*mut uv_poll_t, c_int, c_int);
/// `uv_signal_cb`.
pub type uv_signal_cb = unsafe extern "C" fn(*mut uv_signal_t, c_int);
/// `uv_udp_send_cb`.
pub type uv_udp_send_cb = unsafe extern "C" fn(*mut uv_udp_send_t, c_int);
/// `uv_udp_recv_cb`.
pub type uv_udp_recv_cb =
    unsafe extern "C" fn(*mut uv_udp_t, ssize_t, *const uv_buf_t, *const sockaddr, c_uint);

/// `UV_HANDLE_FIELDS`: the prefix every handle struct starts with.
#[repr(C)]
#[derive(Debug)]
pub struct uv_handle_t {
    /// The program's own pointer.
    pub data: *mut c_void,
    /// The loop the handle was initialized on.
    pub loop_: *mut uv_loop_t,
    /// `uv_handle_type`.
    pub type_: c_int,
    /// Marker and state bits, see `crate::handles` (in the padding after
    /// `type_`).
    pub ruv_flags_: c_uint,
    /// Set by `uv_close`.
    pub close_cb: Option<uv_close_cb>,
    /// The ruv token, stored in place (its tag is in `ruv_flags_`).
    pub ruv_private_: [*mut c_void; PRIVATE_WORDS],
    /// The rest of libuv's private part.
    pub ruv_reserved_: [*mut c_void; 5],
}

/// Words of `uv_handle_t::ruv_private_`.
pub const PRIVATE_WORDS: usize = 3;

/// `uv_timer_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_timer_t {
    /// Common fields.
    pub handle: uv_handle_t,
    /// The callback given to `uv_timer_start`.
    pub timer_cb: Option<uv_timer_cb>,
    /// The rest of libuv's private part.
    pub ruv_timer_reserved_: [*mut c_void; 6],
}

/// `uv_idle_t`, `uv_prepare_t` and `uv_check_t`: the same layout.
#[repr(C)]
#[derive(Debug)]
pub struct uv_watcher_t {
    /// Common fields.
    pub handle: uv_handle_t,
    /// The callback given to `uv_*_start`.
    pub cb: Option<uv_watcher_cb>,
    /// The rest of libuv's private part.
    pub ruv_reserved_: [*mut c_void; 2],
}

/// `uv_async_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_async_t {
    /// Common fields.
    pub handle: uv_handle_t,
    /// The callback given to `uv_async_init` (may be NULL).
    pub async_cb: Option<uv_async_cb>,
    /// The `ruv::AsyncSender` box, NULL once the close callback ran.
    pub ruv_private_sender_: *mut c_void,
    /// The rest of libuv's private part.
    pub ruv_async_reserved_: [*mut c_void; 2],
}

/// `uv_poll_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_poll_t {
    /// Common fields.
    pub handle: uv_handle_t,
    /// The callback given to `uv_poll_start`.
    pub poll_cb: Option<uv_poll_cb>,
    /// The rest of libuv's private part.
    pub ruv_poll_reserved_: [*mut c_void; 7],
}

/// `uv_signal_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_signal_t {
    /// Common fields.
    pub handle: uv_handle_t,
    /// The callback given to `uv_signal_start`.
    pub signal_cb: Option<uv_signal_cb>,
    /// The signal watched; 0 while stopped.
    pub signum: c_int,
    /// The rest of libuv's private part.
    pub ruv_signal_reserved_: [*mut c_void; 5],
}

/// `uv_udp_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_udp_t {
    /// Common fields.
    pub handle: uv_handle_t,
    /// Bytes of sends whose callback has not run.
    pub send_queue_size: size_t,
    /// Sends whose callback has not run.
    pub send_queue_count: size_t,
    /// The allocator given to `uv_udp_recv_start`.
    pub alloc_cb: Option<uv_alloc_cb>,
    /// The receive callback given to `uv_udp_recv_start`.
    pub recv_cb: Option<uv_udp_recv_cb>,
    /// The sends whose callback has not run, oldest and newest: a list
    /// linked through the requests' private fields (see `udp.rs`).
    pub ruv_private_sends_: [*mut uv_udp_send_t; 2],
    /// The rest of libuv's private part.
    pub ruv_udp_reserved_: [*mut c_void; 9],
}

/// `uv_read_cb`.
pub type uv_read_cb = unsafe extern "C" fn(*mut uv_stream_t, ssize_t, *const uv_buf_t);
/// `uv_write_cb`.
pub type uv_write_cb = unsafe extern "C" fn(*mut uv_write_t, c_int);
/// `uv_connect_cb`.
pub type uv_connect_cb = unsafe extern "C" fn(*mut uv_connect_t, c_int);
/// `uv_shutdown_cb`.
pub type uv_shutdown_cb = unsafe extern "C" fn(*mut uv_shutdown_t, c_int);
/// `uv_connection_cb`.
pub type uv_connection_cb = unsafe extern "C" fn(*mut uv_stream_t, c_int);

/// `uv_stream_t`, and the layout of `uv_tcp_t` (the same struct).
#[repr(C)]
#[derive(Debug)]
pub struct uv_stream_t {
    /// Common fields.
    pub handle: uv_handle_t,
    /// Bytes of writes whose callback has not run.
    pub write_queue_size: size_t,
    /// The allocator given to `uv_read_start`.
    pub alloc_cb: Option<uv_alloc_cb>,
    /// The read callback given to `uv_read_start`.
    pub read_cb: Option<uv_read_cb>,
    /// The writes whose callback has not run, oldest and newest: a list
    /// linked through the requests' private fields (see `stream_write.rs`).
    pub ruv_private_writes_: [*mut uv_write_t; 2],
    /// The rest of libuv's private part.
    pub ruv_stream_reserved_: [*mut c_void; 14],
}

/// `uv_tcp_t`: a stream with nothing more.
pub type uv_tcp_t = uv_stream_t;

/// `uv_pipe_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_pipe_t {
    /// Common and stream fields.
    pub stream: uv_stream_t,
    /// `uv_pipe_init`'s `ipc`.
    pub ipc: c_int,
    /// The rest of libuv's private part.
    pub ruv_pipe_reserved_: *mut c_void,
}

/// `uv_write_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_write_t {
    /// Common request fields.
    pub req: uv_req_t,
    /// The callback given to `uv_write`.
    pub cb: Option<uv_write_cb>,
    /// The handle sent along: always NULL here.
    pub send_handle: *mut uv_stream_t,
    /// The stream written to.
    pub handle: *mut uv_stream_t,
    /// The rest of libuv's private part.
    pub ruv_write_reserved_: [*mut c_void; 13],
}

/// `uv_connect_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_connect_t {
    /// Common request fields.
    pub req: uv_req_t,
    /// The callback given to the connect call.
    pub cb: Option<uv_connect_cb>,
    /// The stream connecting.
    pub handle: *mut uv_stream_t,
    /// The rest of libuv's private part.
    pub ruv_connect_reserved_: [*mut c_void; 2],
}

/// `uv_shutdown_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_shutdown_t {
    /// Common request fields.
    pub req: uv_req_t,
    /// The stream shut down.
    pub handle: *mut uv_stream_t,
    /// The callback given to `uv_shutdown`.
    pub cb: Option<uv_shutdown_cb>,
}

/// `UV_REQ_FIELDS`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_req_t {
    /// The program's own pointer.
    pub data: *mut c_void,
    /// `uv_req_type`.
    pub type_: c_int,
    /// For a `uv_udp_send_t` or `uv_write_t` whose callback has not run:
    /// the next request of its handle and the request's size in bytes (see
    /// `udp.rs`, `stream_write.rs`).
    pub ruv_private_: [*mut c_void; 2],
    /// The rest of libuv's private part.
    pub ruv_req_reserved_: [*mut c_void; 4],
}

/// `uv_udp_send_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_udp_send_t {
    /// Common request fields.
    pub req: uv_req_t,
    /// The handle the send was made on.
    pub handle: *mut uv_udp_t,
    /// The callback given to `uv_udp_send`.
    pub cb: Option<uv_udp_send_cb>,
    /// The rest of libuv's private part.
    pub ruv_udp_send_reserved_: [*mut c_void; 30],
}

/// `uv_handle_type` values this library serves.
pub mod handle_type {
    use libc::c_int;
    /// `UV_UNKNOWN_HANDLE`.
    pub const UNKNOWN: c_int = 0;
    /// `UV_ASYNC`.
    pub const ASYNC: c_int = 1;
    /// `UV_CHECK`.
    pub const CHECK: c_int = 2;
    /// `UV_IDLE`.
    pub const IDLE: c_int = 6;
    /// `UV_NAMED_PIPE`.
    pub const NAMED_PIPE: c_int = 7;
    /// `UV_POLL`.
    pub const POLL: c_int = 8;
    /// `UV_PREPARE`.
    pub const PREPARE: c_int = 9;
    /// `UV_TCP`.
    pub const TCP: c_int = 12;
    /// `UV_TIMER`.
    pub const TIMER: c_int = 13;
    /// `UV_UDP`.
    pub const UDP: c_int = 15;
    /// `UV_SIGNAL`.
    pub const SIGNAL: c_int = 16;
}

/// `UV_CONNECT`, the request type of `uv_connect_t`.
pub const UV_CONNECT: c_int = 2;
/// `UV_WRITE`, the request type of `uv_write_t`.
pub const UV_WRITE: c_int = 3;
/// `UV_SHUTDOWN`, the request type of `uv_shutdown_t`.
pub const UV_SHUTDOWN: c_int = 4;
/// `UV_UDP_SEND`, the request type of `uv_udp_send_t`.
pub const UV_UDP_SEND: c_int = 5;

// ---- processes (h/cproc) ------------------------------------------------

/// `UV_PROCESS`, the handle type of `uv_process_t`.
pub const UV_PROCESS: c_int = 10;

/// `uv_exit_cb`.
pub type uv_exit_cb = unsafe extern "C" fn(*mut uv_process_t, i64, c_int);

/// `uv_process_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_process_t {
    /// Common fields.
    pub handle: uv_handle_t,
    /// The callback given in the options, read when the child exits.
    pub exit_cb: Option<uv_exit_cb>,
    /// The child's process id (0 when `uv_spawn` failed).
    pub pid: c_int,
    /// Padding up to libuv's private part.
    pub ruv_pad_: c_int,
    /// The room of libuv's private part (a queue link and a status).
    pub ruv_process_reserved_: [*mut c_void; 3],
}

/// The `data` union of `uv_stdio_container_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union uv_stdio_container_data {
    /// The stream of `UV_CREATE_PIPE` and `UV_INHERIT_STREAM`.
    pub stream: *mut uv_handle_t,
    /// The descriptor of `UV_INHERIT_FD`.
    pub fd: c_int,
}

/// `uv_stdio_container_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct uv_stdio_container_t {
    /// `uv_stdio_flags`.
    pub flags: c_int,
    /// The stream or descriptor, per the flags.
    pub data: uv_stdio_container_data,
}

/// `uv_process_options_t`.
#[repr(C)]
#[derive(Debug)]
pub struct uv_process_options_t {
    /// Called once the child exited (may be NULL).
    pub exit_cb: Option<uv_exit_cb>,
    /// The program: a path, or a name looked up on `PATH`.
    pub file: *const c_char,
    /// NULL-terminated arguments, `argv[0]` included (NULL: just `file`).
    pub args: *mut *mut c_char,
    /// NULL-terminated `NAME=value` entries (NULL: ours).
    pub env: *mut *mut c_char,
    /// The child's working directory (NULL: ours).
    pub cwd: *const c_char,
    /// `uv_process_flags`.
    pub flags: c_uint,
    /// Entries of `stdio`.
    pub stdio_count: c_int,
    /// The child's descriptors 0, 1, 2, ...
    pub stdio: *mut uv_stdio_container_t,
    /// The user id with `UV_PROCESS_SETUID`.
    pub uid: libc::uid_t,
    /// The group id with `UV_PROCESS_SETGID`.
    pub gid: libc::gid_t,
}
