//! [`ClientOptions`] and opening a connected datagram socket from a
//! `(host, port)` pair, trying every resolved address in turn.

use super::error::{ClientError, ClientResult};
use crate::error::StatusCode;
use crate::udp::{AF_INET, AF_INET6, AF_UNSPEC};
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{SocketAddr, ToSocketAddrs};

/// How [`UdpClient::connect`](super::UdpClient::connect) creates its
/// socket (easynetwork's `local_address=` and `family=`).
///
/// ```
/// use ruv::client::ClientOptions;
/// use ruv::udp::AF_INET;
///
/// let options = ClientOptions::default()
///     .with_local_address("127.0.0.1", 0)
///     .with_family(AF_INET);
/// assert_eq!(options.family, Some(AF_INET));
/// ```
///
/// `#[non_exhaustive]`: start from [`Default`] and chain the `with_*`
/// setters, so a new option is not a breaking change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Bind the socket to this `(host, port)` before connecting; the host is
    /// resolved like the remote one, in the family of each remote
    /// candidate. `None`: the kernel picks the wildcard address of the
    /// family and a free port when the socket connects.
    pub local_address: Option<(String, u16)>,
    /// Only use addresses of this family: [`AF_INET`], [`AF_INET6`], or
    /// `None` / [`AF_UNSPEC`] for any. Any other value is EINVAL.
    pub family: Option<i32>,
}

impl ClientOptions {
    /// Options that bind to `(host, port)` before connecting.
    #[must_use = "a setter returns the changed options"]
    pub fn with_local_address(mut self, host: impl Into<String>, port: u16) -> ClientOptions {
        self.local_address = Some((host.into(), port));
        self
    }

    /// Options restricted to one address family.
    #[must_use = "a setter returns the changed options"]
    pub fn with_family(mut self, family: i32) -> ClientOptions {
        self.family = Some(family);
        self
    }
}

/// Whether `addr` is of `family` (`None`: any).
fn family_matches(family: Option<i32>, addr: &SocketAddr) -> bool {
    match family {
        None => true,
        Some(f) if f == AF_INET => addr.is_ipv4(),
        Some(_) => addr.is_ipv6(),
    }
}

/// Resolves `(host, port)` with the system resolver (numeric hosts never
/// reach it) and keeps the addresses of `family`.
///
/// A resolver failure is its OS error if it has one, else EAI_NONAME; an
/// empty answer is EAI_NONAME; an answer with no address of `family` is
/// EAI_ADDRFAMILY.
fn resolve(host: &str, port: u16, family: Option<i32>) -> ClientResult<Vec<SocketAddr>> {
    let all: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(err) => {
            return Err(match err.raw_os_error() {
                Some(_) => ClientError::from(err),
                None => ClientError::Os(StatusCode::EAI_NONAME),
            })
        }
    };
    if all.is_empty() {
        return Err(ClientError::Os(StatusCode::EAI_NONAME));
    }
    let mut kept: Vec<SocketAddr> = Vec::with_capacity(all.len());
    for addr in all.into_iter().filter(|a| family_matches(family, a)) {
        // getaddrinfo repeats an address once per protocol it knows.
        if !kept.contains(&addr) {
            kept.push(addr);
        }
    }
    if kept.is_empty() {
        return Err(ClientError::Os(StatusCode::EAI_ADDRFAMILY));
    }
    Ok(kept)
}

/// One attempt: a socket of `remote`'s family, bound to `local` if given,
/// connected to `remote`. The socket is closed if any step fails.
fn try_candidate(remote: SocketAddr, local: Option<SocketAddr>) -> ClientResult<Socket> {
    let socket = Socket::new(
        Domain::for_address(remote),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    if let Some(local) = local {
        socket.bind(&local.into())?;
    }
    socket.connect(&remote.into())?;
    Ok(socket)
}

/// Opens a socket connected to `remote` as easynetwork does: resolve the
/// remote host (restricted to the family), then for each address in the
/// resolver's order create a socket, bind it to the local address of that
/// family if one was asked for, and connect. The first socket that connects
/// wins; if none does, the first candidate's error is returned.
pub(super) fn open_connected(remote: (&str, u16), options: &ClientOptions) -> ClientResult<Socket> {
    let family = match options.family {
        None => None,
        Some(f) if f == AF_UNSPEC => None,
        Some(f) if f == AF_INET || f == AF_INET6 => Some(f),
        Some(_) => return Err(ClientError::Os(StatusCode::EINVAL)),
    };
    let remotes = resolve(remote.0, remote.1, family)?;
    let locals = match &options.local_address {
        Some((host, port)) => Some(resolve(host, *port, family)?),
        None => None,
    };
    let mut first_error = None;
    for remote in remotes {
        let local = match &locals {
            None => Ok(None),
            Some(locals) => locals
                .iter()
                .find(|l| l.is_ipv4() == remote.is_ipv4())
                .map(|l| Some(*l))
                .ok_or(ClientError::Os(StatusCode::EAI_ADDRFAMILY)),
        };
        match local.and_then(|local| try_candidate(remote, local)) {
            Ok(socket) => return Ok(socket),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    // `resolve` never returns an empty list, so an error was recorded.
    Err(first_error.unwrap_or(ClientError::Os(StatusCode::EAI_NONAME)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_filter_and_errors() {
        let v4 = resolve("127.0.0.1", 9, Some(AF_INET)).unwrap();
        assert_eq!(v4, vec!["127.0.0.1:9".parse::<SocketAddr>().unwrap()]);
        assert_eq!(
            resolve("127.0.0.1", 9, Some(AF_INET6)),
            Err(ClientError::Os(StatusCode::EAI_ADDRFAMILY))
        );
        let opts = ClientOptions::default().with_family(12345);
        assert_eq!(
            open_connected(("127.0.0.1", 9), &opts).err(),
            Some(ClientError::Os(StatusCode::EINVAL))
        );
    }

    #[test]
    fn local_address_of_the_other_family() {
        let opts = ClientOptions::default().with_local_address("::1", 0);
        assert_eq!(
            open_connected(("127.0.0.1", 9), &opts).err(),
            Some(ClientError::Os(StatusCode::EAI_ADDRFAMILY))
        );
    }
}
