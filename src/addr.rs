//! Address conveniences: build a [`SocketAddr`] from a textual IP and a port,
//! the way libuv's `uv_ip4_addr` / `uv_ip6_addr` and python-uv's
//! `(ip, port, flowinfo, scope_id)` tuples do.
//!
//! Every handle takes [`SocketAddr`]; these functions only parse. Text that is
//! not an IP address is an [`EINVAL`](crate::StatusCode::EINVAL) error, never a
//! panic. Host names are not resolved here.
//!
//! ```
//! use std::net::SocketAddr;
//! let a = ruv::addr::ip4_addr("127.0.0.1", 8080).unwrap();
//! assert_eq!(a, "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
//! let b = ruv::addr::ip6_addr("fe80::1%1", 53).unwrap();
//! assert!(matches!(b, SocketAddr::V6(v6) if v6.scope_id() == 1));
//! assert_eq!(ruv::addr::ip4_addr("300.1.1.1", 1).unwrap_err().code(), ruv::StatusCode::EINVAL);
//! ```

use crate::error::{Result, StatusCode};
use crate::sys;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Parses a dotted IPv4 address (`uv_ip4_addr`).
pub fn ip4_addr(ip: &str, port: u16) -> Result<SocketAddr> {
    let ip: Ipv4Addr = ip.parse().map_err(|_| StatusCode::EINVAL)?;
    Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
}

/// Parses an IPv6 address with an optional `%zone` suffix (`uv_ip6_addr`).
///
/// The zone is either a number (the scope id itself) or an interface name
/// such as `lo`, looked up with `if_nametoindex`; an unknown name is EINVAL.
pub fn ip6_addr(ip: &str, port: u16) -> Result<SocketAddr> {
    let (text, scope_id) = split_zone(ip)?;
    ip6_addr_with(text, port, 0, scope_id)
}

/// Parses an IPv6 address with an explicit flow label and scope id, like
/// python-uv's `Address6(ip, port, flowinfo, scope_id)`.
pub fn ip6_addr_with(ip: &str, port: u16, flowinfo: u32, scope_id: u32) -> Result<SocketAddr> {
    let ip: Ipv6Addr = ip.parse().map_err(|_| StatusCode::EINVAL)?;
    Ok(SocketAddr::V6(SocketAddrV6::new(
        ip, port, flowinfo, scope_id,
    )))
}

/// Parses either family: IPv4 first, then IPv6 with an optional zone.
pub fn ip_addr(ip: &str, port: u16) -> Result<SocketAddr> {
    ip4_addr(ip, port).or_else(|_| ip6_addr(ip, port))
}

/// Parses a bare IP address of either family (an IPv6 zone is not allowed).
pub fn parse_ip(ip: &str) -> Result<IpAddr> {
    ip.parse().map_err(|_| StatusCode::EINVAL.into())
}

/// The address part of `addr` as text, without the port (`uv_ip_name`).
pub fn ip_name(addr: &SocketAddr) -> String {
    addr.ip().to_string()
}

/// Splits `fe80::1%eth0` into the address text and its scope id.
pub(crate) fn split_zone(ip: &str) -> Result<(&str, u32)> {
    match ip.split_once('%') {
        None => Ok((ip, 0)),
        Some((text, zone)) => {
            let scope = match zone.parse::<u32>() {
                Ok(n) => n,
                Err(_) => sys::if_nametoindex(zone).ok_or(StatusCode::EINVAL)?,
            };
            Ok((text, scope))
        }
    }
}
