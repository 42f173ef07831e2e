//! Streams (libuv's `uv_stream_t`): what TCP and pipe handles share.

// Used by the TCP and pipe handles (issue 12), which are not in yet.
#[allow(dead_code)]
pub(crate) mod write_queue;
