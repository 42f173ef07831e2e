//! Conversions between `std::net::SocketAddr` and the C socket address
//! structures the kernel reads and writes.

use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// An IPv4 or IPv6 socket address as the kernel reads it: 28 bytes, not
/// the 128 of a `sockaddr_storage`, so building one per send is cheap.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union RawSockAddr {
    v4: libc::sockaddr_in,
    v6: libc::sockaddr_in6,
}

impl RawSockAddr {
    pub(crate) fn as_ptr(&self) -> *const libc::sockaddr {
        (self as *const RawSockAddr).cast()
    }
}

/// `addr` as the kernel reads it, with its length.
pub(crate) fn to_raw(addr: &SocketAddr) -> (RawSockAddr, libc::socklen_t) {
    match addr {
        SocketAddr::V4(a) => {
            let v4 = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            (
                RawSockAddr { v4 },
                mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        SocketAddr::V6(a) => {
            let v6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            (
                RawSockAddr { v6 },
                mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}

/// Writes `addr` into a zeroed `sockaddr_storage`; returns it with its length.
pub(crate) fn to_sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    let (raw, len) = to_raw(addr);
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    // SAFETY: sockaddr_storage is larger than and aligned for RawSockAddr,
    // and the two do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (&raw as *const RawSockAddr).cast::<u8>(),
            (&mut storage as *mut libc::sockaddr_storage).cast::<u8>(),
            mem::size_of::<RawSockAddr>(),
        )
    };
    (storage, len)
}

/// Reads an IPv4 or IPv6 address the kernel wrote; `None` for other families
/// or a length too short for the family.
#[inline]
pub(crate) fn from_sockaddr_storage(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> Option<SocketAddr> {
    let len = len as usize;
    match storage.ss_family as libc::c_int {
        libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in, the
            // length covers it, and sockaddr_storage is aligned for it.
            let sin = unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 = unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_families() {
        for text in ["127.0.0.1:5000", "[::1]:7", "[fe80::1%3]:9"] {
            let addr: SocketAddr = text.parse().unwrap();
            let (storage, len) = to_sockaddr(&addr);
            assert_eq!(from_sockaddr_storage(&storage, len), Some(addr));
        }
        let v6 = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 1, 0xabcde, 4));
        let (storage, len) = to_sockaddr(&v6);
        assert_eq!(from_sockaddr_storage(&storage, len), Some(v6));
    }
}
