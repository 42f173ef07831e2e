//! uv-compat: libuv's C API served by ruv.
//!
//! Builds `libuv.so` and `libuv.a` (library name `uv`) whose symbols are
//! libuv's, declared by our own `include/uv.h`. C programs written for
//! libuv compile against that header unchanged and link with `-luv`.
//!
//! Every `unsafe` block here dereferences pointers handed in by C callers;
//! libuv's contract (valid, initialized handles; buffers as long as their
//! length) is what makes them sound, and each block says which part holds.
#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod addr;
pub mod allocator;
pub mod async_handle;
pub mod env;
pub mod errors;
pub mod handles;
pub mod hostname;
pub mod interfaces;
pub mod loops;
pub mod metrics;
pub mod misc;
pub mod os;
pub mod pipe;
pub mod pipe_ipc;
pub mod poll;
pub mod print_handles;
pub mod process;
pub mod process_title;
pub mod shim;
pub mod signal;
pub mod stream;
pub mod stream_write;
pub mod tcp;
pub mod timer;
pub mod types;
pub mod udp;
pub mod udp_recv;
pub mod watchers;
