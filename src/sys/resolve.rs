//! getaddrinfo(3) and freeaddrinfo(3) behind a safe function.
//!
//! The call blocks (it may ask DNS servers), so the loop never makes it on
//! its own thread: `crate::dns` runs it on a helper thread.

use super::sockaddr::from_sockaddr_storage;
use crate::error::StatusCode;
use std::ffi::CString;
use std::io;
use std::mem;
use std::net::SocketAddr;
use std::ptr;

/// glibc's and musl's `EAI_ADDRFAMILY` (the `libc` crate leaves it out
/// because POSIX does not define it): the host has no address of the
/// requested family.
const EAI_ADDRFAMILY: libc::c_int = -9;

/// What `getaddrinfo` is asked for: `ai_family`, `ai_socktype`,
/// `ai_protocol` and `ai_flags` of the hints structure (0 = any).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AddrInfoHints {
    pub family: i32,
    pub socktype: i32,
    pub protocol: i32,
    pub flags: i32,
}

/// One result of `getaddrinfo`: an IPv4 or IPv6 address with the family,
/// socket type and protocol to use it with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AddrInfoEntry {
    pub family: i32,
    pub socktype: i32,
    pub protocol: i32,
    pub addr: SocketAddr,
}

/// Owns a list returned by `getaddrinfo` and frees it on drop.
struct AddrInfoList(*mut libc::addrinfo);

impl Drop for AddrInfoList {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from a successful getaddrinfo call,
            // is freed exactly once (here), and nothing refers to the list
            // any more: entries were copied out as plain values.
            unsafe { libc::freeaddrinfo(self.0) };
        }
    }
}

/// Resolves `host` (or the wildcard/loopback address for `None`, per
/// `AI_PASSIVE`) with `port` as a numeric service.
///
/// Blocking. `AI_NUMERICSERV` is always added, so the service database is
/// never read. Entries whose address is not IPv4/IPv6 are skipped. Errors
/// are libuv's `EAI_*` codes; `EAI_SYSTEM` becomes the `errno` it stands
/// for; a host containing a NUL byte is `EINVAL`.
pub(crate) fn getaddrinfo(
    host: Option<&str>,
    port: u16,
    hints: &AddrInfoHints,
) -> Result<Vec<AddrInfoEntry>, StatusCode> {
    let host = match host {
        Some(h) => Some(CString::new(h).map_err(|_| StatusCode::EINVAL)?),
        None => None,
    };
    let service = CString::new(port.to_string()).map_err(|_| StatusCode::EINVAL)?;
    // SAFETY: addrinfo is plain old data; all-zero is a valid value (null
    // pointers, zero lengths).
    let mut c_hints: libc::addrinfo = unsafe { mem::zeroed() };
    c_hints.ai_family = hints.family;
    c_hints.ai_socktype = hints.socktype;
    c_hints.ai_protocol = hints.protocol;
    c_hints.ai_flags = hints.flags | libc::AI_NUMERICSERV;
    let mut res: *mut libc::addrinfo = ptr::null_mut();
    let host_ptr = host.as_ref().map_or(ptr::null(), |h| h.as_ptr());
    // SAFETY: `host_ptr` is null or a NUL-terminated string that outlives
    // the call, `service` likewise; `c_hints` is a valid addrinfo whose
    // pointer fields are null; `res` is a valid place for the result.
    let rc = unsafe { libc::getaddrinfo(host_ptr, service.as_ptr(), &c_hints, &mut res) };
    if rc != 0 {
        // Read errno before anything else can change it.
        let os = io::Error::last_os_error();
        // On failure nothing was allocated (and `res` is not written), but
        // freeing a non-null result would still be right.
        drop(AddrInfoList(res));
        return Err(map_error(rc, os.raw_os_error().unwrap_or(0)));
    }
    let list = AddrInfoList(res);
    let mut entries = Vec::new();
    let mut cur: *const libc::addrinfo = list.0;
    while !cur.is_null() {
        // SAFETY: `cur` is a non-null node of the list getaddrinfo returned,
        // which stays allocated until `list` is dropped at the end of this
        // function.
        let ai = unsafe { &*cur };
        if let Some(addr) = entry_addr(ai) {
            entries.push(AddrInfoEntry {
                family: ai.ai_family,
                socktype: ai.ai_socktype,
                protocol: ai.ai_protocol,
                addr,
            });
        }
        cur = ai.ai_next;
    }
    Ok(entries)
}

/// The IPv4/IPv6 address of one node, if it has one.
fn entry_addr(ai: &libc::addrinfo) -> Option<SocketAddr> {
    if ai.ai_addr.is_null() {
        return None;
    }
    let len = (ai.ai_addrlen as usize).min(mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    // SAFETY: `ai_addr` points to `ai_addrlen` readable bytes owned by the
    // list; we copy at most the storage's size into the (distinct) storage.
    unsafe {
        ptr::copy_nonoverlapping(
            ai.ai_addr.cast::<u8>(),
            (&mut storage as *mut libc::sockaddr_storage).cast::<u8>(),
            len,
        )
    };
    from_sockaddr_storage(&storage, len as libc::socklen_t)
}

/// getaddrinfo's return value as libuv's status code (libuv's
/// `uv__getaddrinfo_translate_error`).
fn map_error(rc: libc::c_int, errno: i32) -> StatusCode {
    match rc {
        libc::EAI_AGAIN => StatusCode::EAI_AGAIN,
        libc::EAI_BADFLAGS => StatusCode::EAI_BADFLAGS,
        libc::EAI_FAIL => StatusCode::EAI_FAIL,
        libc::EAI_FAMILY => StatusCode::EAI_FAMILY,
        libc::EAI_MEMORY => StatusCode::EAI_MEMORY,
        libc::EAI_NODATA => StatusCode::EAI_NODATA,
        libc::EAI_NONAME => StatusCode::EAI_NONAME,
        libc::EAI_OVERFLOW => StatusCode::EAI_OVERFLOW,
        libc::EAI_SERVICE => StatusCode::EAI_SERVICE,
        libc::EAI_SOCKTYPE => StatusCode::EAI_SOCKTYPE,
        EAI_ADDRFAMILY => StatusCode::EAI_ADDRFAMILY,
        libc::EAI_SYSTEM if errno > 0 => StatusCode::from_errno(errno),
        _ => StatusCode::UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dgram() -> AddrInfoHints {
        AddrInfoHints {
            socktype: libc::SOCK_DGRAM,
            ..AddrInfoHints::default()
        }
    }

    #[test]
    fn numeric_hosts_resolve_to_themselves() {
        let v4 = getaddrinfo(Some("127.0.0.1"), 53, &dgram()).unwrap();
        assert_eq!(
            v4,
            vec![AddrInfoEntry {
                family: libc::AF_INET,
                socktype: libc::SOCK_DGRAM,
                protocol: libc::IPPROTO_UDP,
                addr: "127.0.0.1:53".parse().unwrap(),
            }]
        );
        let v6 = getaddrinfo(Some("::1"), 7, &dgram()).unwrap();
        assert_eq!(v6.len(), 1);
        assert_eq!(v6[0].family, libc::AF_INET6);
        assert_eq!(v6[0].addr, "[::1]:7".parse().unwrap());
    }

    #[test]
    fn passive_wildcard_for_no_host() {
        let hints = AddrInfoHints {
            family: libc::AF_INET,
            flags: libc::AI_PASSIVE,
            ..dgram()
        };
        let all = getaddrinfo(None, 9, &hints).unwrap();
        assert_eq!(all[0].addr, "0.0.0.0:9".parse().unwrap());
    }

    #[test]
    fn errors_map_to_eai_codes() {
        let hints = AddrInfoHints {
            family: libc::AF_INET6,
            ..dgram()
        };
        assert_eq!(
            getaddrinfo(Some("127.0.0.1"), 0, &hints),
            Err(StatusCode::EAI_ADDRFAMILY)
        );
        let numeric_only = AddrInfoHints {
            flags: libc::AI_NUMERICHOST,
            ..dgram()
        };
        assert_eq!(
            getaddrinfo(Some("not numeric"), 0, &numeric_only),
            Err(StatusCode::EAI_NONAME)
        );
        assert_eq!(
            getaddrinfo(Some("nul\0inside"), 0, &dgram()),
            Err(StatusCode::EINVAL)
        );
        let bad_family = AddrInfoHints {
            family: 12345,
            ..dgram()
        };
        assert_eq!(
            getaddrinfo(Some("127.0.0.1"), 0, &bad_family),
            Err(StatusCode::EAI_FAMILY)
        );
        assert_eq!(
            map_error(libc::EAI_SYSTEM, libc::EMFILE),
            StatusCode::EMFILE
        );
        assert_eq!(map_error(libc::EAI_SYSTEM, 0), StatusCode::UNKNOWN);
        assert_eq!(map_error(12345, 0), StatusCode::UNKNOWN);
    }
}
