//! `uv_metrics_info` and `uv_metrics_idle_time`, from ruv's loop metrics
//! (`Loop::metrics`, `Loop::idle_time`). `uv_loop_configure(loop,
//! UV_METRICS_IDLE_TIME)` starts the idle-time measurement (see
//! `shim.rs`).

use libc::c_int;

use crate::handles::EINVAL;
use crate::loops::ctx;
use crate::types::uv_loop_t;

/// `uv_metrics_t`, libuv 1.45's layout.
#[repr(C)]
#[derive(Debug)]
pub struct uv_metrics_t {
    /// Iterations of the loop that reached the poll phase.
    pub loop_count: u64,
    /// Events the poll phases handed on.
    pub events: u64,
    /// Events already waiting when a poll phase began (counted while the
    /// idle time is measured).
    pub events_waiting: u64,
    /// libuv's private words (zeroed here).
    pub reserved: [*mut u64; 13],
}

/// `uv_metrics_info`: the loop's counters into `*metrics`; UV_EINVAL for a
/// NULL or uninitialized loop or a NULL `metrics`.
///
/// # Safety
/// `loop_` is NULL or a loop the program owns; `metrics` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn uv_metrics_info(
    loop_: *mut uv_loop_t,
    metrics: *mut uv_metrics_t,
) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if metrics.is_null() {
        return EINVAL;
    }
    let m = ctx.lp.metrics();
    // SAFETY: non-NULL and writable per the contract above.
    unsafe {
        metrics.write(uv_metrics_t {
            loop_count: m.loop_count,
            events: m.events,
            events_waiting: m.events_waiting,
            reserved: [std::ptr::null_mut(); 13],
        });
    }
    0
}

/// `uv_metrics_idle_time`: nanoseconds the loop waited in the kernel since
/// `uv_loop_configure(loop, UV_METRICS_IDLE_TIME)`; 0 before, and for a
/// NULL or uninitialized loop. From the loop's thread only (libuv allows
/// any thread).
///
/// # Safety
/// `loop_` is NULL or a loop the program owns.
#[no_mangle]
pub unsafe extern "C" fn uv_metrics_idle_time(loop_: *mut uv_loop_t) -> u64 {
    // SAFETY: per the contract above.
    match unsafe { ctx(loop_) } {
        Some(ctx) => u64::try_from(ctx.lp.idle_time().as_nanos()).unwrap_or(u64::MAX),
        None => 0,
    }
}
