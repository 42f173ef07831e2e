//! `uv_os_gethostname`.

use libc::{c_char, c_int, size_t};

/// `UV_MAXHOSTNAMESIZE` on Linux: `MAXHOSTNAMELEN` (64) + 1.
const MAX_HOSTNAME_SIZE: usize = 65;

/// `uv_os_gethostname`: the host name, NUL-terminated, into `buffer` of
/// `*size` bytes; on success `*size` is its length. UV_EINVAL for a NULL
/// argument or `*size == 0`; UV_ENOBUFS (with `*size` set to the room
/// needed, terminator included) when it does not fit.
///
/// # Safety
/// `buffer` is NULL or has `*size` writable bytes; `size` is NULL or
/// points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn uv_os_gethostname(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: `size` is NULL or readable per the contract above.
    if !unsafe { crate::os::buffer_ok(buffer, size) } {
        return crate::handles::EINVAL;
    }
    let mut name = [0u8; MAX_HOSTNAME_SIZE];
    // SAFETY: `name` has room for the length given.
    if unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } != 0 {
        return crate::handles::last_os_status();
    }
    // The last byte is the terminator even if the name filled the buffer.
    name[MAX_HOSTNAME_SIZE - 1] = 0;
    let len = name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(MAX_HOSTNAME_SIZE - 1);
    // SAFETY: per the contract above.
    unsafe { crate::os::copy_out(&name[..len], buffer, size) }
}
