//! Helpers shared by the integration tests. Each test file includes this
//! with `mod util;` and uses what it needs.
#![allow(dead_code)]

use ruv::{Loop, Timer, Udp, UdpFlags};
use std::net::SocketAddr;

/// `127.0.0.1:0`: loopback, any free port.
pub fn any_v4() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// `[::1]:0`: IPv6 loopback, any free port.
pub fn any_v6() -> SocketAddr {
    "[::1]:0".parse().unwrap()
}

/// A UDP handle bound to a free loopback port, and its address.
pub fn bound_udp(lp: &Loop) -> (Udp, SocketAddr) {
    let udp = Udp::new(lp);
    udp.bind(any_v4(), UdpFlags::empty()).unwrap();
    let addr = udp.sockname().unwrap();
    (udp, addr)
}

/// An unreferenced timer that panics if the loop is still running after
/// `ms` milliseconds, so a broken test fails instead of hanging. Close it
/// (or let the test end) when done.
pub fn watchdog(lp: &Loop, ms: u64) -> Timer {
    let t = Timer::new(lp);
    t.unref();
    t.start(ms, 0, move |_| {
        panic!("watchdog: test still running after {ms} ms")
    })
    .unwrap();
    t
}

/// Number of open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}
