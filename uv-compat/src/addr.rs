//! Addresses: `uv_ip4_addr`, `uv_ip6_addr`, `uv_ip4_name`, `uv_ip6_name`,
//! `uv_ip_name`, `uv_inet_ntop`, `uv_inet_pton`, and the conversions
//! between C socket addresses and [`SocketAddr`] used by the UDP code.
//!
//! Parsing and formatting follow libuv's rules (those of the classic BIND
//! `inet_pton`/`inet_ntop`), not Rust's: a dotted quad has exactly four
//! decimal parts without leading zeros, an IPv6 text may end in a dotted
//! quad, and an IPv4-compatible address formats as `::1.2.3.4`.

use std::ffi::CStr;
use std::fmt::Write as _;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::ptr;

use libc::{
    c_char, c_int, c_void, sa_family_t, size_t, sockaddr, sockaddr_in, sockaddr_in6,
    sockaddr_storage, AF_INET, AF_INET6,
};

const UV_EINVAL: c_int = -libc::EINVAL;
const UV_ENOSPC: c_int = -libc::ENOSPC;
const UV_EAFNOSUPPORT: c_int = -libc::EAFNOSUPPORT;

/// `uv_ip6_addr` keeps at most this many bytes of the text before a `%`
/// (libuv copies it into a 40-byte buffer, truncating silently).
const IP6_ADDR_PART_MAX: usize = 39;

/// `uv_inet_pton(AF_INET6, ...)` rejects an address part longer than this
/// before a `%` (`INET6_ADDRSTRLEN - 1`).
const INET6_TEXT_MAX: usize = 45;

/// Parses a strict dotted quad: four decimal parts of 0..=255, no leading
/// zeros, nothing else.
fn parse_ipv4(text: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = 0usize;
    let mut value: u16 = 0;
    let mut in_part = false;
    for &ch in text {
        match ch {
            b'0'..=b'9' => {
                if in_part && value == 0 {
                    return None; // a leading zero
                }
                value = value * 10 + u16::from(ch - b'0');
                if value > 255 {
                    return None;
                }
                if !in_part {
                    parts += 1;
                    if parts > 4 {
                        return None;
                    }
                    in_part = true;
                }
            }
            b'.' if in_part => {
                if parts == 4 {
                    return None;
                }
                out[parts - 1] = u8::try_from(value).ok()?;
                value = 0;
                in_part = false;
            }
            _ => return None,
        }
    }
    if parts < 4 {
        return None;
    }
    out[3] = u8::try_from(value).ok()?;
    Some(out)
}

/// Parses an IPv6 text (no zone): up to eight groups of at most four hex
/// digits, one `::`, and optionally a dotted quad as the last 32 bits.
fn parse_ipv6(text: &[u8]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut filled = 0usize;
    let mut gap: Option<usize> = None;
    let mut i = 0usize;
    if text.first() == Some(&b':') {
        if text.get(1) != Some(&b':') {
            return None;
        }
        i = 1;
    }
    let mut token_start = i;
    let mut digits = 0u32;
    let mut value: u32 = 0;
    while i < text.len() {
        let ch = text[i];
        i += 1;
        if let Some(d) = char::from(ch).to_digit(16) {
            value = (value << 4) | d;
            digits += 1;
            if digits > 4 {
                return None;
            }
            continue;
        }
        if ch == b':' {
            token_start = i;
            if digits == 0 {
                if gap.is_some() {
                    return None;
                }
                gap = Some(filled);
                continue;
            }
            if i == text.len() || filled + 2 > out.len() {
                return None;
            }
            out[filled..filled + 2].copy_from_slice(&value.to_be_bytes()[2..]);
            filled += 2;
            digits = 0;
            value = 0;
            continue;
        }
        if ch == b'.' && filled + 4 <= out.len() {
            let quad = parse_ipv4(&text[token_start..])?;
            out[filled..filled + 4].copy_from_slice(&quad);
            filled += 4;
            digits = 0;
            break;
        }
        return None;
    }
    if digits > 0 {
        if filled + 2 > out.len() {
            return None;
        }
        out[filled..filled + 2].copy_from_slice(&value.to_be_bytes()[2..]);
        filled += 2;
    }
    if let Some(at) = gap {
        if filled == out.len() {
            return None;
        }
        let tail = filled - at;
        let end = out.len();
        out.copy_within(at..filled, end - tail);
        out[at..end - tail].fill(0);
        filled = end;
    }
    (filled == out.len()).then_some(out)
}

/// Formats four bytes as a dotted quad.
fn format_ipv4(octets: [u8; 4]) -> String {
    let [a, b, c, d] = octets;
    format!("{a}.{b}.{c}.{d}")
}

/// Formats sixteen bytes as libuv does: the first longest run of two or
/// more zero groups becomes `::`, hex in lower case, and `::a.b.c.d` /
/// `::ffff:a.b.c.d` for IPv4-compatible and IPv4-mapped addresses.
fn format_ipv6(bytes: [u8; 16]) -> String {
    let mut words = [0u16; 8];
    for (word, pair) in words.iter_mut().zip(bytes.chunks_exact(2)) {
        *word = u16::from_be_bytes([pair[0], pair[1]]);
    }
    // (start, length) of the first longest run of zero groups.
    let mut best: Option<(usize, usize)> = None;
    let mut run: Option<(usize, usize)> = None;
    for (i, &word) in words.iter().enumerate() {
        if word == 0 {
            run = Some(match run {
                Some((start, len)) => (start, len + 1),
                None => (i, 1),
            });
        } else if let Some(done) = run.take() {
            if best.map_or(true, |(_, len)| done.1 > len) {
                best = Some(done);
            }
        }
    }
    if let Some(done) = run {
        if best.map_or(true, |(_, len)| done.1 > len) {
            best = Some(done);
        }
    }
    let best = best.filter(|&(_, len)| len >= 2);

    let mut text = String::with_capacity(46);
    let mut i = 0;
    while i < words.len() {
        if let Some((start, len)) = best {
            if (start..start + len).contains(&i) {
                if i == start {
                    text.push(':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            text.push(':');
        }
        let embeds_ipv4 =
            matches!(best, Some((0, 6))) || (matches!(best, Some((0, 5))) && words[5] == 0xffff);
        if i == 6 && embeds_ipv4 {
            text.push_str(&format_ipv4([bytes[12], bytes[13], bytes[14], bytes[15]]));
            break;
        }
        // Writing into a String cannot fail.
        let _ = write!(text, "{:x}", words[i]);
        i += 1;
    }
    if matches!(best, Some((start, len)) if start + len == words.len()) {
        text.push(':');
    }
    text
}

/// Copies `text` and a NUL into `dst`, or returns UV_ENOSPC (leaving `dst`
/// untouched) when `size` cannot hold both.
///
/// # Safety
/// `dst` must be valid for writes of `size` bytes.
unsafe fn write_c_text(text: &str, dst: *mut c_char, size: size_t) -> c_int {
    if text.len() >= size {
        return UV_ENOSPC;
    }
    // SAFETY: `text.len() + 1 <= size` bytes fit in `dst` (caller's
    // contract), and `text` is our own buffer, so they do not overlap.
    unsafe {
        ptr::copy_nonoverlapping(text.as_ptr(), dst.cast::<u8>(), text.len());
        *dst.add(text.len()) = 0;
    }
    0
}

/// The bytes of a NUL-terminated C string.
///
/// # Safety
/// `text` must be a valid, NUL-terminated string that outlives `'a`.
unsafe fn c_bytes<'a>(text: *const c_char) -> &'a [u8] {
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(text) }.to_bytes()
}

/// An all-zero `sockaddr_in` with family and port set, as libuv starts.
fn blank_sockaddr_in(port: c_int) -> sockaddr_in {
    // SAFETY: sockaddr_in is plain C data; all zeroes is a valid value.
    let mut sin: sockaddr_in = unsafe { mem::zeroed() };
    sin.sin_family = AF_INET as sa_family_t;
    // libuv stores htons((unsigned short) port): the port wraps modulo 2^16.
    sin.sin_port = (port as u16).to_be();
    sin
}

/// An all-zero `sockaddr_in6` with family and port set, as libuv starts.
fn blank_sockaddr_in6(port: c_int) -> sockaddr_in6 {
    // SAFETY: sockaddr_in6 is plain C data; all zeroes is a valid value.
    let mut sin6: sockaddr_in6 = unsafe { mem::zeroed() };
    sin6.sin6_family = AF_INET6 as sa_family_t;
    sin6.sin6_port = (port as u16).to_be();
    sin6
}

/// `uv_ip4_addr`: fills `addr` with `ip` (a strict dotted quad) and `port`.
///
/// On a parse error `addr` still gets the family and port, with address
/// 0.0.0.0, and the result is UV_EINVAL (as libuv).
///
/// # Safety
/// `ip` must be a NUL-terminated string and `addr` writable (libuv's
/// contract); NULL for either gives UV_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn uv_ip4_addr(
    ip: *const c_char,
    port: c_int,
    addr: *mut sockaddr_in,
) -> c_int {
    if addr.is_null() {
        return UV_EINVAL;
    }
    let mut sin = blank_sockaddr_in(port);
    let result = if ip.is_null() {
        UV_EINVAL
    } else {
        // SAFETY: `ip` is a NUL-terminated string (caller's contract).
        match parse_ipv4(unsafe { c_bytes(ip) }) {
            Some(octets) => {
                sin.sin_addr.s_addr = u32::from_ne_bytes(octets);
                0
            }
            None => UV_EINVAL,
        }
    };
    // SAFETY: `addr` points to a writable sockaddr_in (caller's contract).
    unsafe { addr.write(sin) };
    result
}

/// `uv_ip6_addr`: fills `addr` with `ip` and `port`; a `%zone` suffix sets
/// the scope id with `if_nametoindex` (an unknown name gives 0, not an
/// error; a number is looked up as a name too, as libuv does on Unix).
///
/// Like libuv, the text before `%` is cut to 39 bytes, and the scope id is
/// stored even when the address part fails to parse (UV_EINVAL).
///
/// # Safety
/// `ip` must be a NUL-terminated string and `addr` writable (libuv's
/// contract); NULL for either gives UV_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn uv_ip6_addr(
    ip: *const c_char,
    port: c_int,
    addr: *mut sockaddr_in6,
) -> c_int {
    if addr.is_null() {
        return UV_EINVAL;
    }
    let mut sin6 = blank_sockaddr_in6(port);
    let result = if ip.is_null() {
        UV_EINVAL
    } else {
        // SAFETY: `ip` is a NUL-terminated string (caller's contract).
        let full = unsafe { c_bytes(ip) };
        let text = match full.iter().position(|&b| b == b'%') {
            Some(at) => {
                // SAFETY: `at + 1` is at most the index of the terminating
                // NUL, so `ip + at + 1` is the NUL-terminated zone name.
                sin6.sin6_scope_id = unsafe { libc::if_nametoindex(ip.add(at + 1)) };
                &full[..at.min(IP6_ADDR_PART_MAX)]
            }
            None => full,
        };
        match parse_ipv6(text) {
            Some(bytes) => {
                sin6.sin6_addr.s6_addr = bytes;
                0
            }
            None => UV_EINVAL,
        }
    };
    // SAFETY: `addr` points to a writable sockaddr_in6 (caller's contract).
    unsafe { addr.write(sin6) };
    result
}

/// `uv_inet_ntop`: formats the 4 (AF_INET) or 16 (AF_INET6) bytes at `src`
/// into `dst`; UV_ENOSPC if `size` cannot hold the text and its NUL (then
/// `dst` is left untouched), UV_EAFNOSUPPORT for any other family.
///
/// # Safety
/// `src` must hold the address bytes of family `af` and `dst` must be
/// writable for `size` bytes (libuv's contract); NULL gives UV_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn uv_inet_ntop(
    af: c_int,
    src: *const c_void,
    dst: *mut c_char,
    size: size_t,
) -> c_int {
    if af != AF_INET && af != AF_INET6 {
        return UV_EAFNOSUPPORT;
    }
    if src.is_null() || dst.is_null() {
        return UV_EINVAL;
    }
    let text = if af == AF_INET {
        // SAFETY: an AF_INET `src` holds 4 readable bytes (caller's contract).
        format_ipv4(unsafe { ptr::read_unaligned(src.cast::<[u8; 4]>()) })
    } else {
        // SAFETY: an AF_INET6 `src` holds 16 readable bytes (caller's contract).
        format_ipv6(unsafe { ptr::read_unaligned(src.cast::<[u8; 16]>()) })
    };
    // SAFETY: `dst` is writable for `size` bytes (caller's contract).
    unsafe { write_c_text(&text, dst, size) }
}

/// `uv_inet_pton`: parses `src` into 4 (AF_INET, strict dotted quad) or 16
/// (AF_INET6, a `%zone` suffix is ignored) bytes at `dst`; UV_EINVAL on a
/// parse error (then `dst` is untouched), UV_EAFNOSUPPORT for any other
/// family.
///
/// # Safety
/// `src` must be a NUL-terminated string and `dst` writable for the
/// family's address size (libuv's contract); NULL gives UV_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn uv_inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int {
    if src.is_null() || dst.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: `src` is a NUL-terminated string (caller's contract).
    let text = unsafe { c_bytes(src) };
    match af {
        AF_INET => match parse_ipv4(text) {
            Some(octets) => {
                // SAFETY: an AF_INET `dst` has room for 4 bytes (caller's contract).
                unsafe { ptr::write_unaligned(dst.cast::<[u8; 4]>(), octets) };
                0
            }
            None => UV_EINVAL,
        },
        AF_INET6 => {
            let text = match text.iter().position(|&b| b == b'%') {
                Some(at) if at > INET6_TEXT_MAX => return UV_EINVAL,
                Some(at) => &text[..at],
                None => text,
            };
            match parse_ipv6(text) {
                Some(bytes) => {
                    // SAFETY: an AF_INET6 `dst` has room for 16 bytes (caller's contract).
                    unsafe { ptr::write_unaligned(dst.cast::<[u8; 16]>(), bytes) };
                    0
                }
                None => UV_EINVAL,
            }
        }
        _ => UV_EAFNOSUPPORT,
    }
}

/// `uv_ip4_name`: the address of `src` as a dotted quad in `dst`.
///
/// # Safety
/// `src` must point to a sockaddr_in and `dst` be writable for `size`
/// bytes (libuv's contract); NULL gives UV_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn uv_ip4_name(
    src: *const sockaddr_in,
    dst: *mut c_char,
    size: size_t,
) -> c_int {
    if src.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: `src` points to a sockaddr_in, so its address field is
    // readable; `dst`/`size` are passed on under the same contract.
    unsafe { uv_inet_ntop(AF_INET, ptr::addr_of!((*src).sin_addr).cast(), dst, size) }
}

/// `uv_ip6_name`: the address of `src` (without zone) as IPv6 text in `dst`.
///
/// # Safety
/// `src` must point to a sockaddr_in6 and `dst` be writable for `size`
/// bytes (libuv's contract); NULL gives UV_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn uv_ip6_name(
    src: *const sockaddr_in6,
    dst: *mut c_char,
    size: size_t,
) -> c_int {
    if src.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: `src` points to a sockaddr_in6, so its address field is
    // readable; `dst`/`size` are passed on under the same contract.
    unsafe { uv_inet_ntop(AF_INET6, ptr::addr_of!((*src).sin6_addr).cast(), dst, size) }
}

/// `uv_ip_name`: [`uv_ip4_name`] or [`uv_ip6_name`] by `src->sa_family`;
/// UV_EAFNOSUPPORT for any other family.
///
/// # Safety
/// `src` must point to a socket address whose size matches its family and
/// `dst` be writable for `size` bytes (libuv's contract); NULL gives
/// UV_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn uv_ip_name(src: *const sockaddr, dst: *mut c_char, size: size_t) -> c_int {
    if src.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: `src` points to at least a sockaddr header (caller's contract).
    let family = c_int::from(unsafe { ptr::addr_of!((*src).sa_family).read_unaligned() });
    match family {
        // SAFETY: an AF_INET address is a sockaddr_in (caller's contract).
        AF_INET => unsafe { uv_ip4_name(src.cast(), dst, size) },
        // SAFETY: an AF_INET6 address is a sockaddr_in6 (caller's contract).
        AF_INET6 => unsafe { uv_ip6_name(src.cast(), dst, size) },
        _ => UV_EAFNOSUPPORT,
    }
}

/// Reads a C socket address: `None` for NULL or a family other than
/// AF_INET / AF_INET6. The IPv6 flow info and scope id are kept as stored
/// (the same raw convention as [`std_to_storage`] and the standard library).
///
/// # Safety
/// `addr` must be NULL or point to a readable `sockaddr_in` (family
/// AF_INET) or `sockaddr_in6` (family AF_INET6): the caller's C contract,
/// as for every libuv function taking a `const struct sockaddr*`. No
/// alignment is required.
pub(crate) unsafe fn sockaddr_to_std(addr: *const sockaddr) -> Option<SocketAddr> {
    if addr.is_null() {
        return None;
    }
    // SAFETY: a non-NULL `addr` points to at least a sockaddr header
    // (caller's contract); read_unaligned needs no alignment.
    let family = c_int::from(unsafe { ptr::addr_of!((*addr).sa_family).read_unaligned() });
    match family {
        AF_INET => {
            // SAFETY: an AF_INET address is a whole sockaddr_in (caller's contract).
            let sin = unsafe { ptr::read_unaligned(addr.cast::<sockaddr_in>()) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        AF_INET6 => {
            // SAFETY: an AF_INET6 address is a whole sockaddr_in6 (caller's contract).
            let sin6 = unsafe { ptr::read_unaligned(addr.cast::<sockaddr_in6>()) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// The C size of the socket address for `addr`'s family.
fn c_len(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => mem::size_of::<sockaddr_in>(),
        SocketAddr::V6(_) => mem::size_of::<sockaddr_in6>(),
    }
}

/// `addr` as a zero-filled `sockaddr_storage` holding a `sockaddr_in` or a
/// `sockaddr_in6` (flow info and scope id stored raw, as read by
/// [`sockaddr_to_std`]).
pub(crate) fn std_to_storage(addr: &SocketAddr) -> sockaddr_storage {
    // SAFETY: sockaddr_storage is plain C data; all zeroes is a valid value.
    let mut storage: sockaddr_storage = unsafe { mem::zeroed() };
    let base: *mut sockaddr_storage = &mut storage;
    match addr {
        SocketAddr::V4(v4) => {
            let mut sin = blank_sockaddr_in(0);
            sin.sin_port = v4.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
            // SAFETY: sockaddr_storage is larger than and at least as
            // aligned as sockaddr_in, and `base` is a unique live pointer.
            unsafe { base.cast::<sockaddr_in>().write(sin) };
        }
        SocketAddr::V6(v6) => {
            let mut sin6 = blank_sockaddr_in6(0);
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_addr.s6_addr = v6.ip().octets();
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_scope_id = v6.scope_id();
            // SAFETY: sockaddr_storage is larger than and at least as
            // aligned as sockaddr_in6, and `base` is a unique live pointer.
            unsafe { base.cast::<sockaddr_in6>().write(sin6) };
        }
    }
    storage
}

/// A socket address in its C layout (`sockaddr_in` or `sockaddr_in6`),
/// built without zero-filling a whole `sockaddr_storage`: what the receive
/// callbacks are handed for a sender known as a [`SocketAddr`].
#[repr(C)]
pub(crate) union CSockAddr {
    v4: sockaddr_in,
    v6: sockaddr_in6,
}

impl CSockAddr {
    /// `addr` in the layout [`sockaddr_to_std`] reads back (flow info and
    /// scope id stored raw).
    #[inline]
    pub(crate) fn new(addr: &SocketAddr) -> CSockAddr {
        match addr {
            SocketAddr::V4(v4) => CSockAddr {
                v4: sockaddr_in {
                    sin_family: AF_INET as sa_family_t,
                    sin_port: v4.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(v4.ip().octets()),
                    },
                    sin_zero: [0; 8],
                },
            },
            SocketAddr::V6(v6) => CSockAddr {
                v6: sockaddr_in6 {
                    sin6_family: AF_INET6 as sa_family_t,
                    sin6_port: v6.port().to_be(),
                    sin6_flowinfo: v6.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: v6.ip().octets(),
                    },
                    sin6_scope_id: v6.scope_id(),
                },
            },
        }
    }

    /// The address as C's `const struct sockaddr*`, valid while `self` is.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *const sockaddr {
        (self as *const CSockAddr).cast()
    }
}

/// Writes `addr` to `out` the way `getsockname(2)` does: at most `*len`
/// bytes, then `*len` set to the full size of the address. Returns 0, or
/// UV_EINVAL if `out` or `len` is NULL or `*len` is negative.
///
/// # Safety
/// `out` must be NULL or writable for `*len` bytes, and `len` NULL or a
/// readable, writable int: the caller's C contract, as for
/// `uv_udp_getsockname`. No alignment is required of `out`.
pub(crate) unsafe fn std_to_sockaddr(
    addr: &SocketAddr,
    out: *mut sockaddr,
    len: *mut c_int,
) -> c_int {
    if out.is_null() || len.is_null() {
        return UV_EINVAL;
    }
    let storage = std_to_storage(addr);
    let full = c_len(addr);
    // A negative length is EINVAL, as getsockname(2) answers.
    // SAFETY: `len` is a valid int pointer (caller's contract).
    let Ok(room) = usize::try_from(unsafe { len.read() }) else {
        return UV_EINVAL;
    };
    // SAFETY: `out` is writable for `*len >= room.min(full)` bytes (caller's
    // contract), `storage` holds `full` bytes, and they are distinct objects.
    unsafe {
        ptr::copy_nonoverlapping(
            ptr::addr_of!(storage).cast::<u8>(),
            out.cast::<u8>(),
            room.min(full),
        );
    }
    let full = c_int::try_from(full).unwrap_or(c_int::MAX);
    // SAFETY: as above, `len` is writable.
    unsafe { len.write(full) };
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(text: &str) -> Option<String> {
        parse_ipv6(text.as_bytes()).map(format_ipv6)
    }

    #[test]
    fn ipv4_rules() {
        assert_eq!(parse_ipv4(b"127.0.0.1"), Some([127, 0, 0, 1]));
        assert_eq!(parse_ipv4(b"0.0.0.0"), Some([0; 4]));
        for bad in [
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.",
            "256.1.1.1",
            "",
            "1..2.3",
            " 1.2.3.4",
            "1.2.3.00",
        ] {
            assert_eq!(parse_ipv4(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(format_ipv4([255, 255, 255, 255]), "255.255.255.255");
    }

    #[test]
    fn ipv6_rules() {
        assert_eq!(v6("::").as_deref(), Some("::"));
        assert_eq!(v6("::1").as_deref(), Some("::1"));
        assert_eq!(v6("1::").as_deref(), Some("1::"));
        assert_eq!(v6("::ffff:1.2.3.4").as_deref(), Some("::ffff:1.2.3.4"));
        assert_eq!(v6("::1.2.3.4").as_deref(), Some("::1.2.3.4"));
        assert_eq!(
            v6("2001:db8:0:0:1:0:0:1").as_deref(),
            Some("2001:db8::1:0:0:1")
        );
        assert_eq!(v6("1::2:3:4:5:6:7").as_deref(), Some("1:0:2:3:4:5:6:7"));
        assert_eq!(v6("FFFF::ABCD").as_deref(), Some("ffff::abcd"));
        for bad in [
            ":1::2",
            "1::2:",
            "1:::2",
            "1::2::3",
            "12345::",
            "1:2:3:4:5:6:7",
            "1.2.3.4",
            ":",
            "1:2:3:4:5:6:7:8:9",
        ] {
            assert_eq!(v6(bad), None, "{bad}");
        }
    }

    #[test]
    fn socket_address_round_trip() {
        let addrs: [SocketAddr; 2] = [
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 1, 2, 3), 4567)),
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 53, 7, 3)),
        ];
        for addr in addrs {
            let storage = std_to_storage(&addr);
            // SAFETY: `storage` holds a whole address of its family.
            let back = unsafe { sockaddr_to_std(ptr::addr_of!(storage).cast()) };
            assert_eq!(back, Some(addr));
            let c = CSockAddr::new(&addr);
            // SAFETY: `c` holds a whole address of its family.
            assert_eq!(unsafe { sockaddr_to_std(c.as_ptr()) }, Some(addr));

            // SAFETY: all zeroes is a valid sockaddr_storage.
            let mut out: sockaddr_storage = unsafe { mem::zeroed() };
            let mut len: c_int = 4;
            // SAFETY: `out` has room for `len` (4) bytes; `len` is a local.
            let rc = unsafe { std_to_sockaddr(&addr, ptr::addr_of_mut!(out).cast(), &mut len) };
            assert_eq!(rc, 0);
            assert_eq!(usize::try_from(len).ok(), Some(c_len(&addr)));
            assert_eq!(out.ss_family, storage.ss_family);
            let mut len: c_int = -1;
            // SAFETY: as above; nothing is written for a negative length.
            let rc = unsafe { std_to_sockaddr(&addr, ptr::addr_of_mut!(out).cast(), &mut len) };
            assert_eq!((rc, len), (UV_EINVAL, -1));
        }
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { sockaddr_to_std(ptr::null()) }, None);
    }
}
