//! Socket options of a UDP handle: multicast, broadcast, TTL and buffer
//! sizes. Addresses are text, as in libuv and python-uv; text that is not an
//! address of the right family is EINVAL.

use super::{bind_if_needed, udp_mut, Membership, Udp, UdpFlags, AF_INET, AF_INET6};
use crate::addr::split_zone;
use crate::error::{Result, StatusCode};
use crate::sys;
use socket2::Socket;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

fn parse_v4(text: &str) -> Result<Ipv4Addr> {
    text.parse().map_err(|_| StatusCode::EINVAL.into())
}

/// An IPv6 address with an optional `%zone`, and the zone's index.
fn parse_v6(text: &str) -> Result<(Ipv6Addr, u32)> {
    let (ip, scope) = split_zone(text)?;
    Ok((ip.parse().map_err(|_| StatusCode::EINVAL)?, scope))
}

/// A multicast group in either family; the zone of an IPv6 group names the
/// interface.
fn parse_group(text: &str) -> Result<(IpAddr, u32)> {
    if let Ok(v4) = parse_v4(text) {
        return Ok((IpAddr::V4(v4), 0));
    }
    let (v6, scope) = parse_v6(text)?;
    Ok((IpAddr::V6(v6), scope))
}

fn check_range(value: i32, min: i32) -> Result<u32> {
    if (min..=255).contains(&value) {
        Ok(value as u32)
    } else {
        Err(StatusCode::EINVAL.into())
    }
}

impl Udp {
    /// Runs a socket option call on a handle that must have a socket.
    fn with_sock<T>(&self, f: impl FnOnce(&Socket, bool) -> std::io::Result<T>) -> Result<T> {
        let mut st = self.get_loop().state();
        let u = udp_mut(&mut st, self.key())?;
        let v6 = u.family == Some(AF_INET6);
        let sock = u.socket.as_ref().ok_or(StatusCode::EBADF)?;
        Ok(f(sock, v6)?)
    }

    /// Binds the wildcard address with REUSEADDR if there is no socket yet,
    /// as libuv does before changing a membership.
    fn bind_for_membership(&self, group: &IpAddr) -> Result<()> {
        let family = if group.is_ipv6() { AF_INET6 } else { AF_INET };
        let key = self.key();
        self.get_loop()
            .with_deferred(|st, _| bind_if_needed(st, key, family, UdpFlags::REUSEADDR))
            .map(drop)
    }

    /// Joins or leaves a multicast group (`uv_udp_set_membership`).
    /// `interface` is the local address of the interface (IPv4) or an
    /// address with a `%zone` naming it (IPv6); `None` lets the kernel pick.
    ///
    /// EINVAL for text that is not an IP address.
    pub fn set_membership(
        &self,
        group: &str,
        interface: Option<&str>,
        membership: Membership,
    ) -> Result<()> {
        let (group, zone) = parse_group(group)?;
        self.bind_for_membership(&group)?;
        let join = membership == Membership::JoinGroup;
        self.with_sock(|sock, _| match group {
            IpAddr::V4(g) => {
                let iface = interface.map_or(Ok(Ipv4Addr::UNSPECIFIED), parse_v4);
                let iface = iface.map_err(std::io::Error::from)?;
                if join {
                    sock.join_multicast_v4(&g, &iface)
                } else {
                    sock.leave_multicast_v4(&g, &iface)
                }
            }
            IpAddr::V6(g) => {
                let index = match interface {
                    Some(text) => parse_v6(text).map_err(std::io::Error::from)?.1,
                    None => zone,
                };
                if join {
                    sock.join_multicast_v6(&g, index)
                } else {
                    sock.leave_multicast_v6(&g, index)
                }
            }
        })
    }

    /// Joins or leaves a source-specific multicast group
    /// (`uv_udp_set_source_membership`): only datagrams from `source` to
    /// `group` arrive.
    ///
    /// EINVAL for text that is not an IP address or for a group and source
    /// of different families.
    pub fn set_source_membership(
        &self,
        group: &str,
        interface: Option<&str>,
        source: &str,
        membership: Membership,
    ) -> Result<()> {
        let (group, zone) = parse_group(group)?;
        let (source, _) = parse_group(source)?;
        if group.is_ipv6() != source.is_ipv6() {
            return Err(StatusCode::EINVAL.into());
        }
        self.bind_for_membership(&group)?;
        let join = membership == Membership::JoinGroup;
        match (group, source) {
            (IpAddr::V4(g), IpAddr::V4(s)) => {
                let iface = interface.map_or(Ok(Ipv4Addr::UNSPECIFIED), parse_v4)?;
                self.with_sock(|sock, _| {
                    if join {
                        sock.join_ssm_v4(&s, &g, &iface)
                    } else {
                        sock.leave_ssm_v4(&s, &g, &iface)
                    }
                })
            }
            (IpAddr::V6(g), IpAddr::V6(s)) => {
                let index = match interface {
                    Some(text) => parse_v6(text)?.1,
                    None => zone,
                };
                let g = SocketAddr::from((g, 0));
                let s = SocketAddr::from((s, 0));
                self.with_sock(|sock, _| {
                    sys::source_membership_v6(sock.as_raw_fd(), &g, &s, index, join)
                })
            }
            _ => Err(StatusCode::EINVAL.into()),
        }
    }

    /// Whether multicast datagrams sent by this socket loop back to local
    /// sockets (`uv_udp_set_multicast_loop`). EBADF before a socket exists.
    pub fn set_multicast_loop(&self, on: bool) -> Result<()> {
        self.with_sock(|sock, v6| {
            if v6 {
                sock.set_multicast_loop_v6(on)
            } else {
                sock.set_multicast_loop_v4(on)
            }
        })
    }

    /// Time to live of multicast datagrams, 0 to 255
    /// (`uv_udp_set_multicast_ttl`); EINVAL outside that range.
    pub fn set_multicast_ttl(&self, ttl: i32) -> Result<()> {
        let ttl = check_range(ttl, 0)?;
        self.with_sock(|sock, v6| {
            if v6 {
                sock.set_multicast_hops_v6(ttl)
            } else {
                sock.set_multicast_ttl_v4(ttl)
            }
        })
    }

    /// The interface multicast datagrams go out on
    /// (`uv_udp_set_multicast_interface`): an IPv4 interface address, or an
    /// IPv6 address whose `%zone` names the interface; `None` for the
    /// default. EINVAL for text that is not an IP address.
    pub fn set_multicast_interface(&self, interface: Option<&str>) -> Result<()> {
        let parsed = match interface {
            None => None,
            Some(text) => Some(parse_group(text)?),
        };
        self.with_sock(|sock, v6| match parsed {
            None if v6 => sock.set_multicast_if_v6(0),
            None => sock.set_multicast_if_v4(&Ipv4Addr::UNSPECIFIED),
            Some((IpAddr::V4(a), _)) => sock.set_multicast_if_v4(&a),
            Some((IpAddr::V6(_), scope)) => sock.set_multicast_if_v6(scope),
        })
    }

    /// Allows sending to broadcast addresses (`uv_udp_set_broadcast`).
    pub fn set_broadcast(&self, on: bool) -> Result<()> {
        self.with_sock(|sock, _| sock.set_broadcast(on))
    }

    /// Time to live of unicast datagrams, 1 to 255 (`uv_udp_set_ttl`);
    /// EINVAL outside that range.
    pub fn set_ttl(&self, ttl: i32) -> Result<()> {
        let ttl = check_range(ttl, 1)?;
        self.with_sock(|sock, v6| {
            if v6 {
                sock.set_unicast_hops_v6(ttl)
            } else {
                sock.set_ttl_v4(ttl)
            }
        })
    }

    /// The socket's send buffer size in bytes (`uv_send_buffer_size`).
    pub fn send_buffer_size(&self) -> Result<usize> {
        self.with_sock(|sock, _| sock.send_buffer_size())
    }

    /// Sets the send buffer size (Linux doubles it); EINVAL for 0.
    pub fn set_send_buffer_size(&self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(StatusCode::EINVAL.into());
        }
        self.with_sock(|sock, _| sock.set_send_buffer_size(bytes))
    }

    /// The socket's receive buffer size in bytes (`uv_recv_buffer_size`).
    pub fn recv_buffer_size(&self) -> Result<usize> {
        self.with_sock(|sock, _| sock.recv_buffer_size())
    }

    /// Sets the receive buffer size (Linux doubles it); EINVAL for 0.
    pub fn set_recv_buffer_size(&self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(StatusCode::EINVAL.into());
        }
        self.with_sock(|sock, _| sock.set_recv_buffer_size(bytes))
    }
}
