//! What UDP and TCP handles share about sockets: the family of an address,
//! and the checks before adopting a socket the caller made.

use crate::error::{Result, StatusCode};
use crate::udp::{AF_INET, AF_INET6};
use socket2::{Domain, SockRef, Type};
use std::net::SocketAddr;
use std::os::fd::AsFd;

/// `AF_INET` or `AF_INET6`, as `addr` is.
pub(crate) fn family_of(addr: &SocketAddr) -> i32 {
    match addr {
        SocketAddr::V4(_) => AF_INET,
        SocketAddr::V6(_) => AF_INET6,
    }
}

/// Checks that `socket` is an IPv4 or IPv6 socket of type `ty` — or, with
/// `unix`, a Unix domain one — and makes it non-blocking; its family.
/// EINVAL for another family or type, ENOTSOCK for a descriptor that is
/// not a socket.
pub(crate) fn adoptable<S: AsFd>(socket: &S, ty: Type, unix: bool) -> Result<i32> {
    let sock = SockRef::from(socket);
    let domain = sock.domain()?;
    let family = if domain == Domain::IPV4 {
        AF_INET
    } else if domain == Domain::IPV6 {
        AF_INET6
    } else if unix && domain == Domain::UNIX {
        libc::AF_UNIX
    } else {
        return Err(StatusCode::EINVAL.into());
    };
    if sock.r#type()? != ty {
        return Err(StatusCode::EINVAL.into());
    }
    sock.set_nonblocking(true)?;
    Ok(family)
}
