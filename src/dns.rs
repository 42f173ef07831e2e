//! Host name resolution off the loop thread (libuv's `uv_getaddrinfo`).
//!
//! [`getaddrinfo`] runs the system resolver (`getaddrinfo(3)`, which may
//! block on DNS) on a helper thread and delivers the result on the loop,
//! through an [`Async`] handle: the callback runs in the loop's poll phase,
//! never from inside [`getaddrinfo`]. The pending request keeps the loop
//! alive until its callback has run.
//!
//! [`numeric`] is the fast path for text that is already an IP address: it
//! never touches the resolver.
//!
//! ```
//! use ruv::dns::{self, AddrInfoHints};
//! use ruv::{Loop, RunMode};
//!
//! let lp = Loop::new()?;
//! let hints = AddrInfoHints::default().with_socktype(dns::SOCK_DGRAM);
//! dns::getaddrinfo(&lp, Some("localhost"), 53, hints, |result| {
//!     let entries = result.expect("localhost resolves");
//!     assert!(entries.iter().all(|e| e.addr.ip().is_loopback()));
//! })?;
//! lp.run(RunMode::Default)?; // returns once the callback has run
//! assert_eq!(dns::numeric("::1", 7), Some("[::1]:7".parse().unwrap()));
//! # Ok::<(), ruv::Error>(())
//! ```

use crate::error::{Error, Result, StatusCode};
use crate::owed::{self, OwedGuard, Slot};
use crate::{sys, Async, Loop};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// `AI_PASSIVE`: with no host, return the wildcard address (for binding)
/// instead of the loopback address.
pub const AI_PASSIVE: i32 = libc::AI_PASSIVE;
/// `AI_CANONNAME`: ask for the canonical name (ruv does not report it).
pub const AI_CANONNAME: i32 = libc::AI_CANONNAME;
/// `AI_NUMERICHOST`: the host must be a numeric address; never query DNS.
pub const AI_NUMERICHOST: i32 = libc::AI_NUMERICHOST;
/// `AI_V4MAPPED`: with `AF_INET6`, return IPv4-mapped addresses when there
/// are no IPv6 ones.
pub const AI_V4MAPPED: i32 = libc::AI_V4MAPPED;
/// `AI_ALL`: with `AI_V4MAPPED`, return both IPv6 and mapped IPv4 addresses.
pub const AI_ALL: i32 = libc::AI_ALL;
/// `AI_ADDRCONFIG`: only families the host has a configured address of.
pub const AI_ADDRCONFIG: i32 = libc::AI_ADDRCONFIG;
/// `SOCK_STREAM`: stream sockets (TCP).
pub const SOCK_STREAM: i32 = libc::SOCK_STREAM;
/// `SOCK_DGRAM`: datagram sockets (UDP).
pub const SOCK_DGRAM: i32 = libc::SOCK_DGRAM;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: i32 = libc::IPPROTO_UDP;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: i32 = libc::IPPROTO_TCP;

/// What to look up: the fields of `struct addrinfo` hints. 0 means "any"
/// for each of them, which is the `Default`.
///
/// `#[non_exhaustive]`: start from [`Default`] and chain the `with_*`
/// setters, e.g. `AddrInfoHints::default().with_socktype(SOCK_DGRAM)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddrInfoHints {
    /// `ai_family`: [`AF_UNSPEC`](crate::udp::AF_UNSPEC) (0),
    /// [`AF_INET`](crate::udp::AF_INET) or [`AF_INET6`](crate::udp::AF_INET6).
    pub family: i32,
    /// `ai_socktype`: 0, [`SOCK_DGRAM`] or [`SOCK_STREAM`].
    pub socktype: i32,
    /// `ai_protocol`: 0, [`IPPROTO_UDP`], [`IPPROTO_TCP`], …
    pub protocol: i32,
    /// `ai_flags`: `AI_*` bits such as [`AI_PASSIVE`]. `AI_NUMERICSERV` is
    /// always added, since the port is a number.
    pub flags: i32,
}

impl AddrInfoHints {
    /// Sets `family` (`ai_family`).
    #[must_use = "a setter returns the changed hints"]
    pub fn with_family(mut self, family: i32) -> AddrInfoHints {
        self.family = family;
        self
    }

    /// Sets `socktype` (`ai_socktype`).
    #[must_use = "a setter returns the changed hints"]
    pub fn with_socktype(mut self, socktype: i32) -> AddrInfoHints {
        self.socktype = socktype;
        self
    }

    /// Sets `protocol` (`ai_protocol`).
    #[must_use = "a setter returns the changed hints"]
    pub fn with_protocol(mut self, protocol: i32) -> AddrInfoHints {
        self.protocol = protocol;
        self
    }

    /// Sets `flags` (`ai_flags`).
    #[must_use = "a setter returns the changed hints"]
    pub fn with_flags(mut self, flags: i32) -> AddrInfoHints {
        self.flags = flags;
        self
    }
}

/// One resolved address (a node of getaddrinfo's result list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrInfo {
    /// `ai_family`: `AF_INET` or `AF_INET6`.
    pub family: i32,
    /// `ai_socktype`, e.g. [`SOCK_DGRAM`].
    pub socktype: i32,
    /// `ai_protocol`, e.g. [`IPPROTO_UDP`].
    pub protocol: i32,
    /// The address, with the requested port.
    pub addr: SocketAddr,
}

impl From<sys::AddrInfoEntry> for AddrInfo {
    fn from(e: sys::AddrInfoEntry) -> AddrInfo {
        AddrInfo {
            family: e.family,
            socktype: e.socktype,
            protocol: e.protocol,
            addr: e.addr,
        }
    }
}

type Outcome = std::result::Result<Vec<sys::AddrInfoEntry>, StatusCode>;

/// A name resolution in flight (`uv_getaddrinfo_t`), returned by
/// [`getaddrinfo`]. Dropping it does not cancel the request.
pub struct GetAddrInfo {
    wakeup: Async,
    cb: Slot<Result<Vec<AddrInfo>>>,
    cancelled: Rc<Cell<bool>>,
}

impl fmt::Debug for GetAddrInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetAddrInfo")
            .field("active", &self.is_active())
            .field("cancelled", &self.cancelled.get())
            .finish()
    }
}

impl GetAddrInfo {
    /// Whether the callback has not run yet.
    pub fn is_active(&self) -> bool {
        self.cb.try_borrow().map_or(true, |cb| cb.is_some())
    }

    /// Cancels the request (`uv_cancel`): its callback runs from the loop
    /// (the next poll phase) with [`StatusCode::EAI_CANCELED`], whatever the
    /// resolver thread produces. The thread itself cannot be interrupted; it
    /// finishes in the background and its result is dropped.
    ///
    /// Returns `false`, and changes nothing, if the callback already ran,
    /// the request was already cancelled, or its handle was closed (by a
    /// [`Loop::walk`] closing every handle: the callback then gets
    /// ECANCELED).
    pub fn cancel(&self) -> bool {
        if !self.is_active() || self.cancelled.get() || self.wakeup.is_closing() {
            return false;
        }
        self.cancelled.set(true);
        // Wake our own loop: the callback reports the cancellation.
        self.wakeup.send().is_ok()
    }
}

/// Resolves `host` and `port` on a helper thread and calls `cb` with the
/// result from the loop (`uv_getaddrinfo`).
///
/// `host` `None` gives the wildcard address with [`AI_PASSIVE`], the
/// loopback address without. The result is never empty: an empty list from
/// the system is reported as [`StatusCode::EAI_NODATA`]. Errors are libuv's
/// `EAI_*` codes (for example [`StatusCode::EAI_NONAME`] for an unknown
/// name); a host containing a NUL byte is EINVAL.
///
/// `cb` runs in the loop's poll phase, never from inside this function;
/// until it has run the request keeps the loop alive. The resolver is
/// always called, even for numeric hosts: use [`numeric`] first to skip it.
///
/// The request lives on an [`Async`] handle of the loop, which
/// [`Loop::walk`] visits. If that handle is closed before the answer is
/// delivered (libuv's shutdown, `lp.walk(|h| h.close(..))`), `cb` still
/// runs once, from a 0 ms timer, with [`StatusCode::ECANCELED`]; the
/// resolver thread's late answer is dropped.
///
/// Errors returned directly: the OS error of spawning the helper thread.
pub fn getaddrinfo(
    lp: &Loop,
    host: Option<&str>,
    port: u16,
    hints: AddrInfoHints,
    cb: impl FnOnce(Result<Vec<AddrInfo>>) + 'static,
) -> Result<GetAddrInfo> {
    let outcome: Arc<Mutex<Option<Outcome>>> = Arc::default();
    let slot: Slot<Result<Vec<AddrInfo>>> = Rc::new(RefCell::new(Some(Box::new(cb))));
    let cancelled = Rc::new(Cell::new(false));
    let wakeup = {
        let outcome = outcome.clone();
        let slot = slot.clone();
        let cancelled = cancelled.clone();
        // Dropped with the callback: if the handle is closed by someone
        // else first, `cb` gets ECANCELED from the loop.
        let guard = OwedGuard::new(lp, slot.clone(), || Err(StatusCode::ECANCELED.into()));
        Async::new(lp, move |handle| {
            let _owed = &guard;
            let result = if cancelled.get() {
                Err(StatusCode::EAI_CANCELED.into())
            } else {
                let taken = match outcome.lock() {
                    Ok(mut guard) => guard.take(),
                    Err(poisoned) => poisoned.into_inner().take(),
                };
                match taken {
                    // A wakeup with nothing to report (cannot happen: the
                    // thread stores before it sends).
                    None => return,
                    Some(Ok(list)) if list.is_empty() => Err(StatusCode::EAI_NODATA.into()),
                    Some(Ok(list)) => Ok(list.into_iter().map(AddrInfo::from).collect()),
                    Some(Err(code)) => Err(Error::from(code)),
                }
            };
            handle.close(|| {});
            // Taken out before the call, so the callback may use the request.
            owed::call(&slot, result);
        })
    };
    let sender = match wakeup.sender() {
        Ok(sender) => sender,
        Err(err) => {
            withdraw(&wakeup, &slot);
            return Err(err);
        }
    };
    let host = host.map(str::to_owned);
    let hints = sys::AddrInfoHints {
        family: hints.family,
        socktype: hints.socktype,
        protocol: hints.protocol,
        flags: hints.flags,
    };
    let spawned = std::thread::Builder::new()
        .name("ruv-getaddrinfo".into())
        .spawn(move || {
            let result = sys::getaddrinfo(host.as_deref(), port, &hints);
            match outcome.lock() {
                Ok(mut guard) => *guard = Some(result),
                Err(poisoned) => *poisoned.into_inner() = Some(result),
            }
            // Fails only if the request was cancelled and its handle closed.
            let _ = sender.send();
        });
    if let Err(err) = spawned {
        withdraw(&wakeup, &slot);
        return Err(err.into());
    }
    Ok(GetAddrInfo {
        wakeup,
        cb: slot,
        cancelled,
    })
}

/// A request that could not start: its callback is dropped unrun (the
/// error is returned instead), before the handle is closed so that the
/// guard finds nothing owed.
fn withdraw(wakeup: &Async, slot: &Slot<Result<Vec<AddrInfo>>>) {
    // Dropped here, outside any borrow of the loop.
    drop(slot.try_borrow_mut().ok().and_then(|mut s| s.take()));
    wakeup.close(|| {});
}

/// What a host text is, without asking the resolver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumericHost {
    /// An IPv4 or IPv6 literal (with its zone, if any).
    Addr(SocketAddr),
    /// An IPv6 literal whose `%zone` names no interface.
    BadZone,
    /// Anything else: a name for the resolver.
    Name,
}

/// Classifies `host`: IPv4 dotted quad, IPv6 literal with an optional
/// `%zone` (a number or an interface name), or a name.
pub(crate) fn classify(host: &str, port: u16) -> NumericHost {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return NumericHost::Addr(SocketAddr::new(IpAddr::V4(ip), port));
    }
    if let Ok(ip) = host.parse::<Ipv6Addr>() {
        return NumericHost::Addr(SocketAddr::new(IpAddr::V6(ip), port));
    }
    match host.split_once('%') {
        Some((ip, _)) if ip.parse::<Ipv6Addr>().is_ok() => {
            match crate::addr::ip6_addr(host, port) {
                Ok(addr) => NumericHost::Addr(addr),
                Err(_) => NumericHost::BadZone,
            }
        }
        _ => NumericHost::Name,
    }
}

/// The address for `host` and `port` if `host` is an IP literal — an IPv4
/// dotted quad, or an IPv6 address with an optional `%zone` given as a
/// number or an interface name — without touching the resolver; `None`
/// for anything else (a name, or an IPv6 zone naming no interface).
///
/// ```
/// use ruv::dns::numeric;
/// assert_eq!(numeric("127.0.0.1", 80), Some("127.0.0.1:80".parse().unwrap()));
/// assert_eq!(numeric("fe80::1%1", 80), Some("[fe80::1%1]:80".parse().unwrap()));
/// assert_eq!(numeric("localhost", 80), None);
/// ```
pub fn numeric(host: &str, port: u16) -> Option<SocketAddr> {
    match classify(host, port) {
        NumericHost::Addr(addr) => Some(addr),
        NumericHost::BadZone | NumericHost::Name => None,
    }
}
