//! Listening and accepting (libuv's test-delayed-accept.c,
//! test-tcp-bind-error.c, test-multiple-listen.c pinned in our words), and
//! the handle's basics: creation, adoption, options, descriptors.

mod util;

use ruv::udp::{AF_INET, AF_INET6, AF_UNSPEC};
use ruv::{Error, HandleType, Loop, RunMode, StatusCode, Tcp, TcpFlags};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use util::tcp::{accepting_listener, collect, finish, pair, run_until};
use util::{any_v4, any_v6, shared};

const EAGAIN: Error = Error::Status(StatusCode::EAGAIN);

#[test]
fn a_listener_that_does_not_accept_is_not_told_again_until_it_does() {
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server.bind(any_v4(), TcpFlags::empty()).unwrap();
    let calls = shared(0);
    let c = calls.clone();
    server
        .listen(8, move |_, status| {
            status.unwrap();
            *c.borrow_mut() += 1;
        })
        .unwrap();
    let addr = server.sockname().unwrap();
    // Two connections complete in the kernel's backlog.
    let mut a = std::net::TcpStream::connect(addr).unwrap();
    let _b = std::net::TcpStream::connect(addr).unwrap();
    run_until(&lp, || *calls.borrow() == 1);
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*calls.borrow(), 1, "no more while one waits for accept");
    // Accepted late, outside the callback: the listener goes on.
    let first = Tcp::new(&lp);
    server.accept(&first).unwrap();
    assert_eq!(server.accept(&Tcp::new(&lp)), Err(EAGAIN));
    run_until(&lp, || *calls.borrow() == 2);
    let second = Tcp::new(&lp);
    server.accept(&second).unwrap();
    // The first accepted connection is the first client.
    a.write_all(b"from a").unwrap();
    let got = collect(&first);
    run_until(&lp, || got.borrow().data.len() == 6);
    assert_eq!(got.borrow().data, b"from a");
    first.write(&[b"back"], |_, s| s.unwrap()).unwrap();
    let mut buf = [0u8; 4];
    run_until(&lp, || first.write_queue_size().unwrap() == 0);
    a.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"back");
    lp.walk(|h| h.close(|| {}));
    finish(&lp, &[]);
}

#[test]
fn a_second_accept_in_one_callback_is_eagain() {
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server.bind(any_v4(), TcpFlags::empty()).unwrap();
    let results = shared(Vec::new());
    let r = results.clone();
    server
        .listen(8, move |server, _| {
            let one = Tcp::new(server.get_loop());
            let two = Tcp::new(server.get_loop());
            r.borrow_mut().push(server.accept(&one));
            r.borrow_mut().push(server.accept(&two));
            // A handle that has a socket already cannot take one (checked
            // before whether a connection waits).
            r.borrow_mut().push(server.accept(&one));
            two.close(|| {});
        })
        .unwrap();
    let _c = std::net::TcpStream::connect(server.sockname().unwrap()).unwrap();
    run_until(&lp, || !results.borrow().is_empty());
    assert_eq!(
        *results.borrow(),
        [Ok(()), Err(EAGAIN), Err(Error::Status(StatusCode::EBUSY))]
    );
    lp.walk(|h| h.close(|| {}));
    finish(&lp, &[]);
}

#[test]
fn accepting_into_a_handle_with_a_socket_is_ebusy_and_the_connection_waits() {
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server.bind(any_v4(), TcpFlags::empty()).unwrap();
    let results = shared(Vec::new());
    let r = results.clone();
    server
        .listen(8, move |server, _| {
            let busy = Tcp::new_with_family(server.get_loop(), AF_INET).unwrap();
            r.borrow_mut().push(server.accept(&busy));
            let fresh = Tcp::new(server.get_loop());
            r.borrow_mut().push(server.accept(&fresh));
        })
        .unwrap();
    let _c = std::net::TcpStream::connect(server.sockname().unwrap()).unwrap();
    run_until(&lp, || !results.borrow().is_empty());
    assert_eq!(
        *results.borrow(),
        [Err(Error::Status(StatusCode::EBUSY)), Ok(())]
    );
    lp.walk(|h| h.close(|| {}));
    finish(&lp, &[]);
}

#[test]
fn every_waiting_connection_is_accepted_in_one_iteration() {
    // The listener's backlog (1024 here) is its budget per event: what the
    // kernel holds waiting is taken at once, not 32 per iteration.
    for count in [1, 32, 33, 100, 300] {
        let lp = Loop::new().unwrap();
        let (server, addr, accepted) = accepting_listener(&lp);
        let clients: Vec<_> = (0..count)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        lp.run(RunMode::Once).unwrap();
        assert_eq!(accepted.borrow().len(), count, "{count}");
        for _ in 0..3 {
            lp.run(RunMode::NoWait).unwrap();
        }
        assert_eq!(accepted.borrow().len(), count);
        drop(clients);
        lp.walk(|h| h.close(|| {}));
        finish(&lp, &[&server]);
    }
}

#[test]
fn connections_arriving_while_accepting_wait_past_the_backlog_budget() {
    // Each connection callback makes one more connection arrive: one event
    // accepts the backlog's worth (at least 32), the ready list the rest.
    // Backlogs: 0, 1, the least budget, one past it, many.
    for (backlog, budget) in [(0, 32), (1, 32), (32, 32), (33, 33), (100, 100)] {
        const TOTAL: usize = 150;
        let lp = Loop::new().unwrap();
        let server = Tcp::new(&lp);
        server.bind(any_v4(), TcpFlags::empty()).unwrap();
        let addr = server.sockname().unwrap();
        let accepted = shared(Vec::new());
        let clients = shared(Vec::new());
        let (into, cl) = (accepted.clone(), clients.clone());
        server
            .listen(backlog, move |server, status| {
                status.unwrap();
                let conn = Tcp::new(server.get_loop());
                server.accept(&conn).unwrap();
                into.borrow_mut().push(conn);
                if cl.borrow().len() < TOTAL {
                    cl.borrow_mut()
                        .push(std::net::TcpStream::connect(addr).unwrap());
                }
            })
            .unwrap();
        clients
            .borrow_mut()
            .push(std::net::TcpStream::connect(addr).unwrap());
        lp.run(RunMode::Once).unwrap();
        assert_eq!(accepted.borrow().len(), budget, "backlog {backlog}");
        run_until(&lp, || accepted.borrow().len() == TOTAL);
        for _ in 0..3 {
            lp.run(RunMode::NoWait).unwrap();
        }
        assert_eq!(accepted.borrow().len(), TOTAL, "backlog {backlog}");
        clients.borrow_mut().clear();
        lp.walk(|h| h.close(|| {}));
        finish(&lp, &[&server]);
    }
}

#[test]
fn accept_across_loops_is_einval() {
    let lp = Loop::new().unwrap();
    let other = Loop::new().unwrap();
    let (server, addr, _) = accepting_listener(&lp);
    let foreign = Tcp::new(&other);
    assert_eq!(
        server.accept(&foreign),
        Err(Error::Status(StatusCode::EINVAL))
    );
    let _ = addr;
    finish(&other, &[&foreign]);
    finish(&lp, &[&server]);
}

#[test]
fn handle_basics_and_families() {
    let lp = Loop::new().unwrap();
    let tcp = Tcp::new(&lp);
    assert_eq!(tcp.handle_type(), HandleType::Tcp);
    assert_eq!(HandleType::Tcp as i32, 12);
    assert_eq!(tcp.type_name(), "tcp");
    assert_eq!(tcp.family(), Ok(None));
    assert_eq!(tcp.as_raw_fd(), -1);
    assert_eq!(tcp.fileno(), Err(Error::Status(StatusCode::EBADF)));
    assert_eq!(tcp.sockname(), Err(Error::Status(StatusCode::EBADF)));
    assert!(!tcp.is_readable() && !tcp.is_writable() && !tcp.is_active());
    let v6 = Tcp::new_with_family(&lp, AF_INET6).unwrap();
    assert_eq!(v6.family(), Ok(Some(AF_INET6)));
    assert!(v6.as_raw_fd() >= 0);
    assert_eq!(v6.fileno().unwrap(), v6.as_raw_fd());
    assert_eq!(
        v6.bind(any_v4(), TcpFlags::empty()),
        Err(Error::Status(StatusCode::EINVAL))
    );
    v6.bind(any_v6(), TcpFlags::IPV6ONLY).unwrap();
    assert_eq!(
        v6.bind(any_v6(), TcpFlags::empty()),
        Err(Error::Status(StatusCode::EINVAL)),
        "a second bind"
    );
    let unspec = Tcp::new_with_family(&lp, AF_UNSPEC).unwrap();
    assert_eq!(unspec.family(), Ok(None));
    assert_eq!(
        Tcp::new_with_family(&lp, 12345).unwrap_err(),
        Error::Status(StatusCode::EINVAL)
    );
    assert_eq!(
        tcp.bind(any_v4(), TcpFlags::IPV6ONLY),
        Err(Error::Status(StatusCode::EINVAL))
    );
    assert_eq!(
        tcp.bind(any_v4(), TcpFlags::from_bits_retain(64)),
        Err(Error::Status(StatusCode::EINVAL))
    );
    // Options before the socket exists are applied when it is made.
    tcp.nodelay(true).unwrap();
    tcp.keepalive(true, 60).unwrap();
    assert_eq!(
        tcp.keepalive(true, 0),
        Err(Error::Status(StatusCode::EINVAL))
    );
    tcp.bind(any_v4(), TcpFlags::REUSEPORT).unwrap();
    let fd = borrow_fd(&tcp);
    let sock = socket2::SockRef::from(&fd);
    assert!(sock.tcp_nodelay().unwrap());
    assert!(sock.keepalive().unwrap());
    assert_eq!(sock.tcp_keepalive_time().unwrap().as_secs(), 60);
    assert!(sock.reuse_address().unwrap(), "SO_REUSEADDR, always");
    assert!(sock.reuse_port().unwrap());
    tcp.keepalive_ex(true, 5, 2, 3).unwrap();
    assert_eq!(sock.tcp_keepalive_interval().unwrap().as_secs(), 2);
    assert_eq!(sock.tcp_keepalive_retries().unwrap(), 3);
    tcp.keepalive(false, 0).unwrap();
    assert!(!sock.keepalive().unwrap());
    tcp.close(|| {});
    assert_eq!(tcp.as_raw_fd(), -1);
    assert_eq!(tcp.nodelay(true), Err(Error::ClosedHandle));
    finish(&lp, &[&v6, &unspec]);
}

/// A borrowed descriptor of a live handle, for socket options in tests.
fn borrow_fd(tcp: &Tcp) -> std::os::fd::BorrowedFd<'_> {
    let fd = tcp.as_raw_fd();
    assert!(fd >= 0);
    // SAFETY: the handle is open for the whole test and owns `fd`.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

#[test]
fn adopted_std_sockets_work_as_handles() {
    let lp = Loop::new().unwrap();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let server = Tcp::from_socket(&lp, std_listener).unwrap();
    assert_eq!(server.sockname().unwrap(), addr);
    assert!(!server.is_readable(), "a listener is not a connection");
    let accepted = shared(Vec::new());
    let a = accepted.clone();
    server
        .listen(8, move |server, status| {
            status.unwrap();
            let conn = Tcp::new(server.get_loop());
            server.accept(&conn).unwrap();
            a.borrow_mut().push(conn);
        })
        .unwrap();
    let std_client = std::net::TcpStream::connect(addr).unwrap();
    let client = Tcp::new(&lp);
    client.open(std_client).unwrap();
    assert!(client.is_readable() && client.is_writable());
    assert_eq!(client.peername().unwrap(), addr);
    assert_eq!(
        client.open(std::net::TcpStream::connect(addr).unwrap()),
        Err(Error::Status(StatusCode::EBUSY))
    );
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        Tcp::from_socket(&lp, udp).unwrap_err(),
        Error::Status(StatusCode::EINVAL)
    );
    client.write(&[b"adopted"], |_, s| s.unwrap()).unwrap();
    run_until(&lp, || accepted.borrow().len() == 2);
    let conn = accepted.borrow()[0].clone();
    let got = collect(&conn);
    run_until(&lp, || got.borrow().data.len() == 7);
    assert_eq!(got.borrow().data, b"adopted");
    lp.walk(|h| h.close(|| {}));
    finish(&lp, &[]);
}

#[test]
fn set_blocking_writes_everything_before_returning() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let fresh = Tcp::new(&lp);
    assert_eq!(
        fresh.set_blocking(true),
        Err(Error::Status(StatusCode::EBADF))
    );
    fresh.close(|| {});
    client.set_blocking(true).unwrap();
    let data = util::tcp::pattern(4 << 20, 5);
    // A reader on another thread drains the peer while the write blocks.
    let dup = borrow_fd(&server).try_clone_to_owned().unwrap();
    let reader = std::thread::spawn(move || {
        let mut peer = std::net::TcpStream::from(dup);
        peer.set_nonblocking(false).unwrap();
        let mut got = vec![0u8; 4 << 20];
        peer.read_exact(&mut got).unwrap();
        got
    });
    let done = shared(None);
    let d = done.clone();
    client
        .write(&[&data], move |_, s| *d.borrow_mut() = Some(s))
        .unwrap();
    assert_eq!(client.write_queue_size().unwrap(), data.len());
    assert!(done.borrow().is_none(), "the callback still comes later");
    assert!(reader.join().unwrap() == data);
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*done.borrow(), Some(Ok(())));
    client.set_blocking(false).unwrap();
    finish(&lp, &[&server, &client]);
}
