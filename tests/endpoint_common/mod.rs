//! Helpers shared by the `endpoint_*` tests: a protocol that logs every
//! callback as text, with optional hooks, and ways to open an endpoint and
//! run the loop until something happened. Each test file includes it with
//! `mod util; mod endpoint_common;`.
#![allow(dead_code)]

use crate::util;
use ruv::endpoint::{
    create_datagram_endpoint, DatagramProtocol, DatagramTransport, EndpointOptions,
};
use ruv::{Error, Loop, RunMode};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;

pub type Log = Rc<RefCell<Vec<String>>>;

type Hook<A> = Box<dyn FnMut(&DatagramTransport, A)>;

/// Logs every callback: `made`, `data "text" from addr` (or `data N bytes
/// from addr` for long ones), `error NAME`, `pause SIZE`, `resume SIZE`,
/// `lost None`. Hooks run after the entry is logged.
#[derive(Default)]
pub struct Recorder {
    pub log: Log,
    pub transport: Option<DatagramTransport>,
    pub on_made: Option<Hook<()>>,
    pub on_datagram: Option<Hook<(Vec<u8>, SocketAddr)>>,
    pub on_error: Option<Hook<Error>>,
    pub on_lost: Option<Hook<()>>,
}

impl Recorder {
    pub fn new(log: Log) -> Recorder {
        Recorder {
            log,
            ..Recorder::default()
        }
    }

    fn push(&self, entry: String) {
        self.log.borrow_mut().push(entry);
    }

    fn size(&self) -> usize {
        self.transport
            .as_ref()
            .map_or(usize::MAX, |t| t.get_write_buffer_size())
    }
}

pub fn error_name(err: &Error) -> &'static str {
    match err {
        Error::ClosedHandle => "closed",
        Error::Status(code) => code.name(),
        Error::Queued(code) => code.name(),
        other => other.code().name(),
    }
}

impl DatagramProtocol for Recorder {
    fn connection_made(&mut self, transport: &DatagramTransport) {
        self.transport = Some(transport.clone());
        self.push("made".into());
        if let Some(hook) = &mut self.on_made {
            hook(transport, ());
        }
    }

    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        if data.len() <= 64 {
            self.push(format!(
                "data {:?} from {addr}",
                String::from_utf8_lossy(data)
            ));
        } else {
            self.push(format!("data {} bytes from {addr}", data.len()));
        }
        if let (Some(hook), Some(t)) = (&mut self.on_datagram, &self.transport) {
            hook(t, (data.to_vec(), addr));
        }
    }

    fn error_received(&mut self, err: Error) {
        self.push(format!("error {}", error_name(&err)));
        if let (Some(hook), Some(t)) = (&mut self.on_error, &self.transport) {
            hook(t, err);
        }
    }

    fn pause_writing(&mut self) {
        self.push(format!("pause {}", self.size()));
    }

    fn resume_writing(&mut self) {
        self.push(format!("resume {}", self.size()));
    }

    fn connection_lost(&mut self, err: Option<Error>) {
        self.push(format!("lost {err:?}"));
        if let (Some(hook), Some(t)) = (&mut self.on_lost, &self.transport) {
            hook(t, ());
        }
    }
}

pub type Opened = (DatagramTransport, Rc<RefCell<Recorder>>, Log);

/// Creates an endpoint with a recorder made by `make(log)` and runs the
/// loop until `on_done` has run. Asserts that `on_done` did not run inside
/// `create_datagram_endpoint`.
pub fn open_with(
    lp: &Loop,
    options: EndpointOptions,
    make: impl FnOnce(Log) -> Recorder + 'static,
) -> ruv::Result<Opened> {
    let log = Log::default();
    let result = Rc::new(RefCell::new(None));
    let returned = Rc::new(std::cell::Cell::new(false));
    let (r, ret, l) = (result.clone(), returned.clone(), log.clone());
    create_datagram_endpoint(
        lp,
        move || make(l),
        options,
        move |res| {
            assert!(ret.get(), "on_done ran inside create_datagram_endpoint");
            *r.borrow_mut() = Some(res);
        },
    );
    returned.set(true);
    run_until(lp, || result.borrow().is_some());
    let res = result.borrow_mut().take().unwrap();
    res.map(|(t, p)| (t, p, log))
}

/// [`open_with`] a plain recorder.
pub fn open(lp: &Loop, options: EndpointOptions) -> ruv::Result<Opened> {
    open_with(lp, options, Recorder::new)
}

/// Runs single iterations until `done()` holds; a watchdog fails the test
/// instead of hanging.
pub fn run_until(lp: &Loop, done: impl Fn() -> bool) {
    if done() {
        return;
    }
    let dog = util::watchdog(lp, 10_000);
    while !done() {
        lp.run(RunMode::Once).unwrap();
    }
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
}

/// Runs the loop until nothing keeps it alive, under a watchdog.
pub fn run_to_end(lp: &Loop) {
    let dog = util::watchdog(lp, 10_000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
}

/// Options for a server on a free port of `host`.
pub fn local(host: &str) -> EndpointOptions {
    EndpointOptions::local(host, 0)
}

/// A socket bound to `[::1]:0` whose datagrams of a few KiB cannot leave
/// while its send buffer is tiny: a 1280-byte socket MTU splits them into
/// fragments that the smallest send buffer cannot hold, so the kernel says
/// ENOBUFS, which ruv treats as EAGAIN and queues. Raising the send buffer
/// (through the transport's socket) lets the queue drain.
pub fn choked_socket() -> socket2::Socket {
    let sock = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::DGRAM, None).unwrap();
    sock.bind(&util::any_v6().into()).unwrap();
    set_int(&sock, libc::IPPROTO_IPV6, libc::IPV6_MTU, 1280);
    sock
}

/// A datagram a choked socket must queue.
pub const CHOKE: usize = 8000;

/// Chokes a transport made from [`choked_socket`].
pub fn choke(t: &DatagramTransport) {
    t.socket().set_send_buffer_size(1).unwrap();
}

/// Lets a choked transport's queue drain.
pub fn unchoke(t: &DatagramTransport) {
    t.socket().set_send_buffer_size(1 << 20).unwrap();
}

pub fn set_int(sock: &impl AsRawFd, level: i32, name: i32, value: i32) {
    // SAFETY: a live socket, a pointer to a live c_int and its exact size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt: {}", std::io::Error::last_os_error());
}

pub fn get_int(fd: i32, level: i32, name: i32) -> i32 {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a pointer to a live c_int and its size, which the kernel
    // writes at most.
    let r = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(r, 0, "getsockopt: {}", std::io::Error::last_os_error());
    value
}

/// A loopback port nobody listens on (bound, then released).
pub fn dead_port_v4() -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap()
}

/// A copy of the log.
pub fn entries(log: &Log) -> Vec<String> {
    log.borrow().clone()
}

/// `ruv::Error` for a status code.
pub fn st(code: ruv::StatusCode) -> Error {
    Error::Status(code)
}
