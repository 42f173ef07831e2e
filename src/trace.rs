//! Optional `tracing` instrumentation (the `tracing` cargo feature).
//!
//! [`trace_event!`] takes a level, a message and `name = value` fields:
//! with the feature it is `tracing::event!` with target `"ruv"`; without
//! it, it expands to a block that is never executed (the values are only
//! referenced, so no variable goes unused), and the compiler removes it:
//! the code is the same as with no call at all. Call sites need no `cfg`.
//!
//! What is reported, all with target `"ruv"`: `handle opened`,
//! `handle closing` (at `close`) and `handle closed` (in the closing
//! phase, before the close callback), with the handle's id and type
//! (debug); `loop iteration` as an iteration begins, with its number
//! (`Metrics::loop_count` once it polls), and `poll phase` with the
//! timeout it may block for (trace); `error delivered`, with the handle
//! and libuv's error name, for each error handed to a receive, send or
//! poll callback (debug).

/// `trace_event!(LEVEL, "message", field = value, ...)`: an event with
/// the feature on, nothing without it.
#[cfg(feature = "tracing")]
macro_rules! trace_event {
    ($level:ident, $msg:literal $(, $field:ident = $value:expr)* $(,)?) => {
        ::tracing::event!(
            target: "ruv",
            ::tracing::Level::$level,
            $($field = $value,)*
            $msg
        )
    };
}

/// `trace_event!(LEVEL, "message", field = value, ...)`: an event with
/// the feature on, nothing without it.
#[cfg(not(feature = "tracing"))]
macro_rules! trace_event {
    ($level:ident, $msg:literal $(, $field:ident = $value:expr)* $(,)?) => {
        if false {
            $(let _ = &$value;)*
        }
    };
}

pub(crate) use trace_event;

use crate::error::{Error, Result};
use crate::handle::Handle;

/// Reports `result`'s error, if any, on its way to a callback of
/// `handle` (debug); returns `result` unchanged. Without the feature it
/// is the identity.
#[inline(always)]
pub(crate) fn traced<T>(handle: &Handle, result: Result<T>) -> Result<T> {
    if let Err(err) = &result {
        error_delivered(handle, err);
    }
    result
}

/// Reports `err` on its way to a callback of `handle` (debug).
#[inline(always)]
pub(crate) fn error_delivered(handle: &Handle, err: &Error) {
    trace_event!(
        DEBUG,
        "error delivered",
        handle = handle.id(),
        handle_type = handle.type_name(),
        error = err.code().name(),
    );
}
