//! What keeps a loop alive around streams (libuv's test-ref.c, the TCP and
//! pipe cases, pinned in our words): a new or unreferenced stream does not,
//! an unreferenced listener does not, but a connect, write or shutdown
//! request does, even on an unreferenced handle, until its callback ran.

mod util;

use ruv::{Error, Loop, Pipe, RunMode, StatusCode, Tcp, TcpFlags};
use std::cell::RefCell;
use std::os::unix::net::UnixListener;
use std::rc::Rc;
use util::any_v4;
use util::pipe::temp_path;

/// Runs `lp` once in default mode; whether `run` returned (it must, since
/// nothing is supposed to keep the loop alive) is what the caller checks
/// through the callbacks it recorded.
fn run(lp: &Loop) {
    lp.run(RunMode::Default).unwrap();
}

/// Closes every handle and runs the closes through.
fn close_all(lp: &Loop) {
    lp.walk(|h| h.close(|| {}));
    run(lp);
    assert!(!lp.alive());
}

#[test]
fn new_streams_do_not_keep_the_loop_alive_referenced_or_not() {
    let lp = Loop::new().unwrap();
    let tcp = Tcp::new(&lp);
    let pipe = Pipe::new(&lp, false);
    assert!(!lp.alive());
    run(&lp);
    tcp.unref();
    pipe.unref();
    run(&lp);
    close_all(&lp);
}

#[test]
fn an_unreferenced_listener_does_not_keep_the_loop_alive_and_closes() {
    let lp = Loop::new().unwrap();
    let tcp = Tcp::new(&lp);
    tcp.bind(any_v4(), TcpFlags::empty()).unwrap();
    tcp.listen(128, |_, _| panic!("nobody connects")).unwrap();
    assert!(lp.alive(), "a referenced listener keeps it alive");
    tcp.unref();
    assert!(!lp.alive());
    run(&lp);
    // libuv's tcp_ref2b: closing the unreferenced listener still runs its
    // close callback.
    let closed = Rc::new(RefCell::new(0));
    let c = closed.clone();
    tcp.close(move || *c.borrow_mut() += 1);
    run(&lp);
    assert_eq!(*closed.borrow(), 1);
}

#[test]
fn listening_on_an_unbound_pipe_is_einval() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    assert_eq!(
        pipe.listen(128, |_, _| {}),
        Err(Error::Status(StatusCode::EINVAL))
    );
    close_all(&lp);
}

/// What an unreferenced stream's requests reported, in order.
type Log = Rc<RefCell<Vec<&'static str>>>;

/// Connects `stream` (through `connect`), then writes if `write` and shuts
/// down, logging each callback; the handle is unreferenced right after the
/// connect call, as libuv's tcp_ref3/tcp_ref4 and pipe_ref3/pipe_ref4 do.
macro_rules! connect_write_shutdown {
    ($ty:ty, $stream:expr, $connect:expr, $write:expr, $log:expr) => {{
        let log: Log = $log.clone();
        let write: bool = $write;
        $connect(move |s: &$ty, status: ruv::Result<()>| {
            status.unwrap();
            log.borrow_mut().push("connect");
            if write {
                let l = log.clone();
                s.write(&[b"PING".as_slice()], move |_, st: ruv::Result<()>| {
                    st.unwrap();
                    l.borrow_mut().push("write");
                })
                .unwrap();
            }
            let l = log.clone();
            s.shutdown(move |_, st: ruv::Result<()>| {
                st.unwrap();
                l.borrow_mut().push("shutdown");
            })
            .unwrap();
        })
        .unwrap();
        $stream.unref();
    }};
}

/// The callbacks `connect_write_shutdown!` must log, in order.
fn expected_log(write: bool) -> &'static [&'static str] {
    if write {
        &["connect", "write", "shutdown"]
    } else {
        &["connect", "shutdown"]
    }
}

#[test]
fn requests_keep_an_unreferenced_tcp_alive_until_their_callbacks() {
    for write in [false, true] {
        let lp = Loop::new().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log: Log = Rc::default();
        let tcp = Tcp::new(&lp);
        connect_write_shutdown!(Tcp, tcp, |cb| tcp.connect(addr, cb), write, log);
        run(&lp);
        assert_eq!(*log.borrow(), expected_log(write));
        close_all(&lp);
    }
}

#[test]
fn requests_keep_an_unreferenced_pipe_alive_until_their_callbacks() {
    for write in [false, true] {
        let name = temp_path("stream-ref");
        let _listener = UnixListener::bind(&name).unwrap();
        let lp = Loop::new().unwrap();
        let log: Log = Rc::default();
        let pipe = Pipe::new(&lp, false);
        connect_write_shutdown!(Pipe, pipe, |cb| pipe.connect(&name, cb), write, log);
        run(&lp);
        assert_eq!(*log.borrow(), expected_log(write));
        close_all(&lp);
        let _ = std::fs::remove_file(&name);
    }
}

#[test]
fn listening_on_an_unbound_tcp_listens_on_an_ephemeral_port() {
    // libuv creates the socket (IPv4) and lets listen(2) pick the port.
    let lp = Loop::new().unwrap();
    let tcp = Tcp::new(&lp);
    tcp.listen(128, |_, _| panic!("nobody connects")).unwrap();
    let addr = tcp.sockname().unwrap();
    assert!(addr.is_ipv4());
    assert_ne!(addr.port(), 0);
    tcp.unref();
    run(&lp);
    close_all(&lp);
}
