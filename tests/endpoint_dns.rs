//! `ruv::dns`: the getaddrinfo request (resolved on a helper thread,
//! completed on the loop) and the numeric fast path.

mod endpoint_common;
mod util;

use endpoint_common::*;
use ruv::dns::{self, AddrInfo, AddrInfoHints};
use ruv::udp::{AF_INET, AF_INET6};
use ruv::{Loop, RunMode, StatusCode};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

type Outcome = Rc<RefCell<Option<ruv::Result<Vec<AddrInfo>>>>>;

fn dgram(family: i32) -> AddrInfoHints {
    AddrInfoHints::default()
        .with_family(family)
        .with_socktype(dns::SOCK_DGRAM)
}

/// Starts a request, checks its callback did not run synchronously, and
/// runs the loop until nothing keeps it alive (the request does until its
/// callback has run).
fn resolve(host: Option<&str>, port: u16, hints: AddrInfoHints) -> ruv::Result<Vec<AddrInfo>> {
    let lp = Loop::new().unwrap();
    let outcome = Outcome::default();
    let o = outcome.clone();
    let req = dns::getaddrinfo(&lp, host, port, hints, move |r| {
        *o.borrow_mut() = Some(r);
    })
    .unwrap();
    assert!(outcome.borrow().is_none(), "callback ran synchronously");
    assert!(req.is_active());
    assert!(lp.alive(), "a pending request keeps the loop alive");
    run_to_end(&lp);
    assert!(!req.is_active());
    assert!(!req.cancel(), "cancel after completion");
    lp.close().unwrap();
    let result = outcome.borrow_mut().take().expect("callback ran");
    result
}

#[test]
fn localhost_resolves_to_loopback() {
    let all = resolve(Some("localhost"), 4242, dgram(0)).unwrap();
    assert!(!all.is_empty());
    for e in &all {
        assert!(e.addr.ip().is_loopback(), "{e:?}");
        assert_eq!(e.addr.port(), 4242);
        assert_eq!(e.socktype, dns::SOCK_DGRAM);
        assert_eq!(e.protocol, dns::IPPROTO_UDP);
        assert_eq!(e.family, if e.addr.is_ipv6() { AF_INET6 } else { AF_INET });
    }
    let v4 = resolve(Some("localhost"), 1, dgram(AF_INET)).unwrap();
    assert!(v4.iter().all(|e| e.family == AF_INET));
}

#[test]
fn numeric_hosts_and_no_host() {
    assert_eq!(
        resolve(Some("127.0.0.1"), 53, dgram(0)).unwrap(),
        [AddrInfo {
            family: AF_INET,
            socktype: dns::SOCK_DGRAM,
            protocol: dns::IPPROTO_UDP,
            addr: "127.0.0.1:53".parse().unwrap(),
        }]
    );
    let passive = dgram(AF_INET6).with_flags(dns::AI_PASSIVE);
    let any = resolve(None, 7, passive).unwrap();
    assert_eq!(any[0].addr, "[::]:7".parse::<SocketAddr>().unwrap());
    // Without a socket type, one entry per type.
    let all_types = resolve(Some("::1"), 7, AddrInfoHints::default()).unwrap();
    assert!(all_types.len() >= 2, "{all_types:?}");
    assert!(all_types.iter().any(|e| e.socktype == dns::SOCK_STREAM));
}

#[test]
fn errors_are_eai_codes() {
    let err = resolve(Some("no such host.invalid"), 0, dgram(0)).unwrap_err();
    assert!(
        [
            StatusCode::EAI_NONAME,
            StatusCode::EAI_NODATA,
            StatusCode::EAI_AGAIN,
            StatusCode::EAI_FAIL
        ]
        .contains(&err.code()),
        "{err}"
    );
    assert_eq!(
        resolve(Some("127.0.0.1"), 0, dgram(AF_INET6)),
        Err(st(StatusCode::EAI_ADDRFAMILY))
    );
    let numeric_only = dgram(0).with_flags(dns::AI_NUMERICHOST);
    assert_eq!(
        resolve(Some("localhost"), 0, numeric_only),
        Err(st(StatusCode::EAI_NONAME))
    );
    assert_eq!(
        resolve(Some("a\0b"), 0, dgram(0)),
        Err(st(StatusCode::EINVAL))
    );
    assert_eq!(
        resolve(Some("127.0.0.1"), 0, dgram(12345)),
        Err(st(StatusCode::EAI_FAMILY))
    );
}

#[test]
fn cancel_reports_eai_canceled_from_the_loop() {
    let lp = Loop::new().unwrap();
    let outcome = Outcome::default();
    let o = outcome.clone();
    let req = dns::getaddrinfo(&lp, Some("localhost"), 0, dgram(0), move |r| {
        *o.borrow_mut() = Some(r);
    })
    .unwrap();
    assert!(req.cancel());
    assert!(!req.cancel(), "second cancel");
    assert!(req.is_active());
    assert!(outcome.borrow().is_none(), "cancel ran the callback");
    run_to_end(&lp);
    assert!(!req.is_active());
    assert_eq!(
        outcome.borrow_mut().take(),
        Some(Err(st(StatusCode::EAI_CANCELED)))
    );
    assert!(format!("{req:?}").contains("cancelled: true"));
    lp.close().unwrap();
}

#[test]
fn callbacks_run_in_the_poll_phase_and_may_start_requests() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (l, lp2) = (log.clone(), lp.clone());
    dns::getaddrinfo(&lp, Some("localhost"), 1, dgram(AF_INET), move |r| {
        l.borrow_mut().push(format!("first {}", r.is_ok()));
        let l2 = l.clone();
        dns::getaddrinfo(&lp2, Some("127.0.0.1"), 2, dgram(0), move |r| {
            let port = r.unwrap()[0].addr.port();
            l2.borrow_mut().push(format!("second {port}"));
        })
        .unwrap();
    })
    .unwrap();
    run_to_end(&lp);
    assert_eq!(entries(&log), ["first true", "second 2"]);
    lp.close().unwrap();
}

#[test]
fn many_requests_complete_once_each() {
    let lp = Loop::new().unwrap();
    let count = Rc::new(RefCell::new(0));
    for port in 0..16 {
        let c = count.clone();
        dns::getaddrinfo(&lp, Some("localhost"), port, dgram(AF_INET), move |r| {
            assert_eq!(r.unwrap()[0].addr.port(), port);
            *c.borrow_mut() += 1;
        })
        .unwrap();
    }
    run_to_end(&lp);
    assert_eq!(*count.borrow(), 16);
    assert_eq!(lp.handle_count(), 0);
    lp.run(RunMode::NoWait).unwrap();
    lp.close().unwrap();
}

#[test]
fn numeric_parses_literals_only() {
    let some = |text: &str| text.parse::<SocketAddr>().ok();
    assert_eq!(dns::numeric("127.0.0.1", 80), some("127.0.0.1:80"));
    assert_eq!(dns::numeric("::1", 80), some("[::1]:80"));
    assert_eq!(dns::numeric("fe80::1%7", 80), some("[fe80::1%7]:80"));
    let lo = dns::numeric("::1%lo", 5).expect("lo is an interface");
    match lo {
        SocketAddr::V6(v6) => assert_ne!(v6.scope_id(), 0),
        SocketAddr::V4(_) => panic!("not IPv6"),
    }
    for name in [
        "localhost",
        "example.com",
        "",
        "127.1",
        "[::1]",
        "127.0.0.1%lo",
        "fe80::1%no-such-if0",
        "1.2.3.4.5",
    ] {
        assert_eq!(dns::numeric(name, 1), None, "{name}");
    }
}
