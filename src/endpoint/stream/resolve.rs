//! Name resolution for stream connections and servers: IP literals at
//! once, names by [`dns::getaddrinfo`] on a helper thread.

use crate::dns::{self, AddrInfoHints, NumericHost};
use crate::error::{Result, StatusCode};
use crate::udp::{AF_INET, AF_INET6, AF_UNSPEC};
use crate::Loop;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;

/// What restricts a lookup (asyncio's `family`, `proto`, `flags`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Hints {
    pub(crate) family: i32,
    pub(crate) proto: i32,
    pub(crate) flags: i32,
}

pub(crate) type Resolved = Box<dyn FnOnce(Result<Vec<SocketAddr>>)>;

pub(crate) fn family_of(addr: &SocketAddr) -> i32 {
    if addr.is_ipv6() {
        AF_INET6
    } else {
        AF_INET
    }
}

/// Resolves `host` and `port` for `SOCK_STREAM`; `then` gets the addresses
/// in the resolver's order (never empty on success). It runs at once for
/// a literal, from the loop for a name.
pub(crate) fn resolve(lp: &Loop, host: &str, port: u16, hints: Hints, then: Resolved) {
    if ![AF_UNSPEC, AF_INET, AF_INET6].contains(&hints.family) {
        return then(Err(StatusCode::EAFNOSUPPORT.into()));
    }
    match dns::classify(host, port) {
        NumericHost::Addr(addr) => {
            if hints.family != AF_UNSPEC && hints.family != family_of(&addr) {
                return then(Err(StatusCode::EAI_ADDRFAMILY.into()));
            }
            then(Ok(vec![addr]))
        }
        NumericHost::BadZone => then(Err(StatusCode::EAI_NONAME.into())),
        NumericHost::Name => {
            let hints = AddrInfoHints {
                family: hints.family,
                socktype: dns::SOCK_STREAM,
                protocol: hints.proto,
                flags: hints.flags,
            };
            // `then` goes to the request, or is called here if it cannot
            // start.
            let slot = Rc::new(RefCell::new(Some(then)));
            let in_cb = slot.clone();
            let started = dns::getaddrinfo(lp, Some(host), port, hints, move |result| {
                let then = in_cb.borrow_mut().take();
                if let Some(then) = then {
                    then(result.and_then(|list| {
                        let addrs: Vec<SocketAddr> = list.into_iter().map(|e| e.addr).collect();
                        if addrs.is_empty() {
                            Err(StatusCode::EAI_NODATA.into())
                        } else {
                            Ok(addrs)
                        }
                    }));
                }
            });
            if let Err(err) = started {
                let then = slot.borrow_mut().take();
                if let Some(then) = then {
                    then(Err(err));
                }
            }
        }
    }
}

/// asyncio's `_interleave_addrinfos`: the first `first_count` addresses
/// of the first family, then one of each family in turn.
pub(crate) fn interleave(addrs: &[SocketAddr], first_count: usize) -> Vec<SocketAddr> {
    let mut queues: Vec<(i32, VecDeque<SocketAddr>)> = Vec::new();
    for a in addrs {
        let f = family_of(a);
        match queues.iter_mut().find(|(g, _)| *g == f) {
            Some((_, q)) => q.push_back(*a),
            None => queues.push((f, VecDeque::from([*a]))),
        }
    }
    let mut out = Vec::with_capacity(addrs.len());
    if let Some((_, first)) = queues.first_mut() {
        let n = first_count.saturating_sub(1).min(first.len());
        out.extend(first.drain(..n));
    }
    while out.len() < addrs.len() {
        for (_, q) in &mut queues {
            if let Some(a) = q.pop_front() {
                out.push(a);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::interleave;
    use std::net::SocketAddr;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn interleave_as_asyncio() {
        let v6a = a("[::1]:1");
        let v6b = a("[::2]:1");
        let v6c = a("[::3]:1");
        let v4a = a("127.0.0.1:1");
        let v4b = a("127.0.0.2:1");
        let addrs = [v6a, v6b, v6c, v4a, v4b];
        assert_eq!(interleave(&addrs, 1), vec![v6a, v4a, v6b, v4b, v6c]);
        assert_eq!(interleave(&addrs, 2), vec![v6a, v6b, v4a, v6c, v4b]);
        assert_eq!(interleave(&[v4a, v6a, v4b], 1), vec![v4a, v6a, v4b]);
        assert!(interleave(&[], 1).is_empty());
    }
}
