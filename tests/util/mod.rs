//! Helpers shared by the integration tests. Each test file includes this
//! with `mod util;` and uses what it needs.
#![allow(dead_code)]

pub mod pipe;
pub mod tcp;

use ruv::{Loop, RunMode, Timer, Udp, UdpFlags};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;

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

/// A value shared between a test and its callbacks.
pub type Shared<T> = Rc<RefCell<T>>;

/// Wraps `value` for sharing with callbacks.
pub fn shared<T>(value: T) -> Shared<T> {
    Rc::new(RefCell::new(value))
}

/// Runs the loop in DEFAULT mode under a watchdog, then lets the watchdog
/// close; returns `run`'s value.
pub fn run_guarded(lp: &Loop) -> bool {
    let dog = watchdog(lp, 10_000);
    let alive = lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    alive
}

/// Closes the given handles, lets the loop finish, checks that no handle
/// is left, and closes the loop.
pub fn close_all(lp: &Loop, handles: &[&Udp]) {
    for h in handles {
        h.close(|| {});
    }
    run_guarded(lp);
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

/// A client callback that records its outcome in `log` as `"tag:value"`
/// or `"tag:Err(..)"`.
pub fn record<T: std::fmt::Debug>(
    log: &Shared<Vec<String>>,
    tag: &'static str,
) -> impl FnOnce(Result<T, ruv::client::ClientError>) + 'static {
    let log = log.clone();
    move |result| {
        let entry = match result {
            Ok(value) => format!("{tag}:{value:?}"),
            Err(err) => format!("{tag}:Err({err:?})"),
        };
        log.borrow_mut().push(entry);
    }
}

/// An IPv6 sender on `[::1]` whose datagrams of a few KiB and more cannot
/// leave right now: a 1280-byte socket MTU splits them into fragments and
/// the smallest send buffer cannot hold them, so the kernel answers
/// ENOBUFS — libuv's cue to queue the send until the socket is writable.
/// Raising the send buffer again makes room and wakes the socket.
pub fn choked_sender(lp: &Loop) -> Udp {
    let sock = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::DGRAM, None).unwrap();
    sock.bind(&any_v6().into()).unwrap();
    let mtu: libc::c_int = 1280;
    // SAFETY: a live socket, a pointer to a live c_int and its exact size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU,
            (&mtu as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "IPV6_MTU: {}", std::io::Error::last_os_error());
    let udp = Udp::from_socket(lp, sock).unwrap();
    udp.set_send_buffer_size(1).unwrap();
    udp
}

/// Size of a datagram a choked sender must queue.
pub const CHOKE: usize = 8000;
