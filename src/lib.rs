//! # ruv — a libuv-style event loop in Rust
//!
//! A single-threaded, callback-driven event loop with libuv's phases, run
//! modes and guarantees, built on mio, socket2, slab and libc.
//!
//! - [`Loop`] owns every handle and runs the phases: timers, pending, idle,
//!   prepare, poll (I/O), check, closing — see [`Loop::run`].
//! - Handles: [`Udp`] (the whole of libuv's `uv_udp_t` and python-uv's
//!   `uv.UDP`), [`Tcp`] and [`Pipe`] (libuv's stream operations on TCP,
//!   Unix domain sockets and pipes), [`Signal`], [`Process`], [`Timer`],
//!   [`Idle`], [`Prepare`], [`Check`], [`Async`] and [`Poll`].
//!   All share the operations of [`Handle`].
//! - Errors are libuv status codes ([`StatusCode`]) inside one [`Error`]
//!   type that also tells a closed handle apart.
//! - [`Loop::with_manual_clock`] gives deterministic, instant timer tests.
//!
//! Callbacks run with no borrow of the loop held: any callback may close
//! any handle (its own too), create handles, start and stop timers, send,
//! or stop the loop.
//!
//! ```
//! use ruv::{Loop, RunMode, Timer, Udp, UdpFlags};
//!
//! let lp = Loop::new()?;
//! let echo = Udp::new(&lp);
//! echo.bind("127.0.0.1:0".parse().unwrap(), UdpFlags::empty())?;
//! let server_addr = echo.sockname()?;
//! echo.receive_start(|udp, result| {
//!     if let Ok(dgram) = result {
//!         // Echo the datagram back; the data is copied only if it must wait.
//!         udp.send(&[dgram.data], Some(dgram.addr), |_, _| {}).unwrap();
//!     }
//! })?;
//!
//! let client = Udp::new(&lp);
//! let server = echo.clone();
//! client.receive_start(move |udp, result| {
//!     assert_eq!(result.unwrap().data, b"hello");
//!     udp.close(|| {});
//!     server.close(|| {});
//! })?;
//! client.send(&[&b"hel"[..], b"lo"], Some(server_addr), |_, status| status.unwrap())?;
//!
//! // A watchdog so the example can never hang.
//! let watchdog = Timer::new(&lp);
//! watchdog.unref();
//! watchdog.start(5_000, 0, |_| panic!("no echo"))?;
//!
//! lp.run(ruv::RunMode::Default)?;
//! watchdog.close(|| {});
//! lp.run(RunMode::NoWait)?;
//! lp.close()?;
//! # Ok::<(), ruv::Error>(())
//! ```

#![deny(missing_docs, missing_debug_implementations)]
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg(unix)]

pub mod addr;
mod adopt;
mod async_handle;
pub mod client;
mod core;
pub mod dns;
pub mod endpoint;
mod error;
mod handle;
mod owed;
mod pipe;
mod poll;
mod process;
mod signal;
mod stream;
mod sys;
mod tcp;
mod timer;
mod trace;
pub mod udp;
mod watcher;

pub use crate::async_handle::{Async, AsyncSender};
pub use crate::core::{
    CloseHook, CountsHook, HandleDump, HandleInfo, Liveness, LivenessHook, Loop, Metrics, RunMode,
};
pub use crate::error::{Error, Result, StatusCode};
pub use crate::handle::{Handle, HandleType};
pub use crate::pipe::{pipe_fds, Pipe};
pub use crate::poll::{Poll, PollEvents};
pub use crate::process::{Process, ProcessFlags, ProcessOptions, Stdio};
pub use crate::signal::{kill, raise, Signal};
pub use crate::stream::ReadResult;
pub use crate::tcp::{Tcp, TcpFlags};
pub use crate::timer::Timer;
pub use crate::udp::{
    Datagram, ErrorOrigin, Membership, QueuedError, RecvMeta, SendRequest, Udp, UdpFlags,
};
pub use crate::watcher::{
    Check, CheckPhase, Idle, IdlePhase, Prepare, PreparePhase, Watcher, WatcherPhase,
};

// The README's Rust example compiles and runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
