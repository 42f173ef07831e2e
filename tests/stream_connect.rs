//! `create_connection`, `create_server` and `Server`, the Unix variants,
//! `connect_accepted_socket` and the pipe transports, on loopback
//! (CPython's `test_base_events.py`, `test_server.py`,
//! `test_unix_events.py`, in our words).

mod stream_common;

use ruv::endpoint::{
    connect_read_pipe, connect_write_pipe, create_connection, create_server,
    create_unix_connection, create_unix_server, ConnectionOptions, Server, ServerOptions,
    SocketName, StreamTransport,
};
use ruv::udp::{AF_INET, AF_INET6};
use ruv::{Loop, RunMode, StatusCode};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use stream_common::*;

/// An echo server on 127.0.0.1: echoes, and closes on the peer's end.
fn echo_server(lp: &Loop, log: &Log) -> (Server, SocketAddr) {
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let log = log.clone();
    let factory = move || {
        let mut rec = Rec::new(&log);
        rec.on_data = Some(Box::new(|t: &StreamTransport, data: Vec<u8>| {
            t.write(&data).unwrap()
        }));
        rec
    };
    create_server(lp, factory, ServerOptions::new("127.0.0.1", 0), move |r| {
        *o.borrow_mut() = Some(r.unwrap());
    });
    run_until(lp, || out.borrow().is_some());
    let server = out.borrow_mut().take().unwrap();
    let addr = server.sockets()[0].inet().unwrap();
    (server, addr)
}

#[test]
fn echo_round_trip_with_exact_callback_order_on_both_sides() {
    let lp = Loop::new().unwrap();
    let server_log = Log::default();
    let client_log = Log::default();
    let (server, addr) = echo_server(&lp, &server_log);
    assert!(server.is_serving());
    assert_eq!(server.sockets().len(), 1);
    let mut client = Rec::new(&client_log);
    client.on_made = Some(Box::new(|t, ()| t.write(b"ping").unwrap()));
    // The echo came back, so the server accepted: closing it now leaves
    // that connection open.
    let s2 = server.clone();
    client.on_data = Some(Box::new(move |t, _| {
        s2.close();
        t.close();
    }));
    let opts = ConnectionOptions::remote("127.0.0.1", addr.port());
    create_connection(
        &lp,
        move || client,
        opts,
        move |r| {
            let (t, _p) = r.unwrap();
            assert_eq!(t.peername().unwrap().inet(), Some(addr));
        },
    );
    run_to_end(&lp);
    assert_eq!(
        *client_log.borrow(),
        strings(&["made", "data \"ping\"", "lost None"])
    );
    // The server's connection outlived the server's close.
    assert_eq!(
        *server_log.borrow(),
        strings(&["made", "data \"ping\"", "eof", "lost None"])
    );
    assert!(!server.is_serving());
    assert!(server.sockets().is_empty());
}

#[test]
fn refused_connection_reports_the_error_and_each_attempt() {
    let lp = Loop::new().unwrap();
    // Bound, not listening: connecting is refused.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let made = Rc::new(RefCell::new(false));
    let m = made.clone();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let factory = move || {
        *m.borrow_mut() = true;
        Rec::default()
    };
    create_connection(
        &lp,
        factory,
        ConnectionOptions::remote("127.0.0.1", addr.port()),
        move |r| {
            *o.borrow_mut() = Some(r.map(|_| ()).unwrap_err());
        },
    );
    run_to_end(&lp);
    let err = out.borrow_mut().take().unwrap();
    assert_eq!(err.error, StatusCode::ECONNREFUSED);
    assert_eq!(err.attempts, vec![(addr, StatusCode::ECONNREFUSED.into())]);
    assert!(!*made.borrow(), "the factory is not called on error");
}

fn connect_error(opts: ConnectionOptions) -> StatusCode {
    let lp = Loop::new().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    create_connection(&lp, Rec::default, opts, move |r| {
        *o.borrow_mut() = Some(r.map(|_| ()).unwrap_err().error.code());
    });
    run_to_end(&lp);
    let code = out.borrow_mut().take().unwrap();
    code
}

#[test]
fn bad_arguments_are_errors() {
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    // sock with host: asyncio's ValueError.
    let opts = ConnectionOptions::socket(a).with_family(AF_INET);
    assert_eq!(connect_error(opts), StatusCode::EINVAL);
    // No host and no sock.
    assert_eq!(
        connect_error(ConnectionOptions::default()),
        StatusCode::EINVAL
    );
    // A datagram socket is not a stream.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        connect_error(ConnectionOptions::socket(udp)),
        StatusCode::EPROTOTYPE
    );
    // A literal of the other family.
    let opts = ConnectionOptions::remote("::1", 1).with_family(AF_INET);
    assert_eq!(connect_error(opts), StatusCode::EAI_ADDRFAMILY);
    // No local address of the remote's family.
    let opts = ConnectionOptions::remote("127.0.0.1", 1).with_local_addr("::1", 0);
    assert_eq!(connect_error(opts), StatusCode::EAI_ADDRFAMILY);
}

#[test]
fn local_addr_binds_the_connecting_socket() {
    let lp = Loop::new().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A port of our own to bind to.
    let local = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let local_port = local.local_addr().unwrap().port();
    drop(local);
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let opts =
        ConnectionOptions::remote("127.0.0.1", port).with_local_addr("127.0.0.1", local_port);
    create_connection(&lp, Rec::default, opts, move |r| {
        let (t, _) = r.unwrap();
        *o.borrow_mut() = t.sockname();
        t.close();
    });
    run_to_end(&lp);
    let want: SocketAddr = format!("127.0.0.1:{local_port}").parse().unwrap();
    assert_eq!(*out.borrow(), Some(SocketName::Inet(want)));
    let (_, from) = listener.accept().unwrap();
    assert_eq!(from, want);
}

#[test]
fn happy_eyeballs_connects_over_either_family() {
    let lp = Loop::new().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let opts = ConnectionOptions::remote("127.0.0.1", port)
        .with_happy_eyeballs_delay(std::time::Duration::from_millis(250))
        .with_interleave(1);
    create_connection(&lp, Rec::default, opts, move |r| {
        let (t, _) = r.unwrap();
        *o.borrow_mut() = t.peername();
        t.close();
    });
    run_to_end(&lp);
    assert_eq!(
        *out.borrow(),
        Some(SocketName::Inet(listener.local_addr().unwrap()))
    );
}

#[test]
fn socketpair_via_create_connection_sock() {
    // The seed's "register an open socket" example.
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let rec = Rec::new(&log);
    create_connection(
        &lp,
        move || rec,
        ConnectionOptions::socket(ours),
        |r| {
            let (t, _) = r.unwrap();
            assert!(t.pipe().is_some());
            assert_eq!(t.peername(), Some(SocketName::Unix(Default::default())));
        },
    );
    theirs.write_all(b"abc").unwrap();
    drop(theirs);
    run_to_end(&lp);
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"abc\"", "eof", "lost None"])
    );
}

#[test]
fn server_wait_closed_waits_for_its_clients() {
    let lp = Loop::new().unwrap();
    let server_log = Log::default();
    let (server, addr) = echo_server(&lp, &server_log);
    let order = Log::default();
    let client = std::net::TcpStream::connect(addr).unwrap();
    run_until(&lp, || server.client_count() == 1);
    let o = order.clone();
    server.wait_closed(move || o.borrow_mut().push("wait_closed".into()));
    server.close();
    // Closing twice does nothing.
    server.close();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert!(order.borrow().is_empty(), "a client is still connected");
    assert_eq!(server.client_count(), 1);
    drop(client);
    run_to_end(&lp);
    assert_eq!(*order.borrow(), strings(&["wait_closed"]));
    assert_eq!(*server_log.borrow(), strings(&["made", "eof", "lost None"]));
}

#[test]
fn wait_closed_on_a_closed_server_without_clients_runs_from_the_loop() {
    let lp = Loop::new().unwrap();
    let (server, _addr) = echo_server(&lp, &Log::default());
    server.close();
    let ran = Rc::new(RefCell::new(0));
    let r = ran.clone();
    server.wait_closed(move || *r.borrow_mut() += 1);
    assert_eq!(*ran.borrow(), 0);
    run_to_end(&lp);
    assert_eq!(*ran.borrow(), 1);
}

#[test]
fn close_clients_and_abort_clients() {
    for abort in [false, true] {
        let lp = Loop::new().unwrap();
        let server_log = Log::default();
        let (server, addr) = echo_server(&lp, &server_log);
        let a = std::net::TcpStream::connect(addr).unwrap();
        let b = std::net::TcpStream::connect(addr).unwrap();
        run_until(&lp, || server.client_count() == 2);
        let done = Rc::new(RefCell::new(false));
        let d = done.clone();
        server.wait_closed(move || *d.borrow_mut() = true);
        server.close();
        if abort {
            server.abort_clients();
        } else {
            server.close_clients();
        }
        run_to_end(&lp);
        assert!(*done.borrow());
        assert_eq!(server.client_count(), 0);
        assert_eq!(
            *server_log.borrow(),
            strings(&["made", "made", "lost None", "lost None"])
        );
        for mut s in [a, b] {
            let mut rest = Vec::new();
            s.read_to_end(&mut rest).unwrap();
            assert!(rest.is_empty());
        }
    }
}

#[test]
fn start_serving_false_listens_only_when_asked() {
    let lp = Loop::new().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let opts = ServerOptions::new("127.0.0.1", 0).with_start_serving(false);
    create_server(&lp, Rec::default, opts, move |r| {
        *o.borrow_mut() = Some(r.unwrap())
    });
    run_until(&lp, || out.borrow().is_some());
    let server = out.borrow_mut().take().unwrap();
    assert!(!server.is_serving());
    let addr = server.sockets()[0].inet().unwrap();
    // Bound but not listening: refused.
    assert_eq!(
        std::net::TcpStream::connect(addr).unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    server.start_serving().unwrap();
    server.start_serving().unwrap();
    assert!(server.is_serving());
    let _c = std::net::TcpStream::connect(addr).unwrap();
    run_until(&lp, || server.client_count() == 1);
    server.close();
    assert_eq!(
        server.start_serving().unwrap_err(),
        ruv::Error::ClosedHandle
    );
    server.abort_clients();
    run_to_end(&lp);
}

#[test]
fn server_on_several_hosts_and_families() {
    let lp = Loop::new().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let opts = ServerOptions::new("127.0.0.1", 0).with_host("::1");
    create_server(&lp, Rec::default, opts, move |r| {
        *o.borrow_mut() = Some(r.unwrap())
    });
    run_until(&lp, || out.borrow().is_some());
    let server = out.borrow_mut().take().unwrap();
    let names: Vec<SocketAddr> = server.sockets().iter().map(|s| s.inet().unwrap()).collect();
    assert_eq!(names.len(), 2);
    assert!(names[0].is_ipv4() && names[1].is_ipv6());
    server.close();
    run_to_end(&lp);
}

#[test]
fn server_options_defaults_and_errors() {
    let o = ServerOptions::default();
    assert_eq!(o.backlog, 100);
    assert!(o.reuse_address);
    assert!(!o.reuse_port);
    assert!(o.start_serving);
    assert!(o.hosts.is_empty());
    let lp = Loop::new().unwrap();
    let errs = Rc::new(RefCell::new(Vec::new()));
    for opts in [
        ServerOptions::new("127.0.0.1", 0).with_backlog(-1),
        ServerOptions::new("127.0.0.1", 0).with_family(12345),
        ServerOptions::new("::1", 0).with_family(AF_INET),
    ] {
        let e = errs.clone();
        create_server(&lp, Rec::default, opts, move |r| {
            e.borrow_mut().push(r.unwrap_err().code());
        });
    }
    run_to_end(&lp);
    assert_eq!(
        *errs.borrow(),
        vec![
            StatusCode::EINVAL,
            StatusCode::EINVAL,
            StatusCode::EAI_ADDRFAMILY
        ]
    );
}

#[test]
fn a_port_in_use_without_reuse_port_is_eaddrinuse() {
    let lp = Loop::new().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    create_server(
        &lp,
        Rec::default,
        ServerOptions::new("127.0.0.1", port),
        move |r| {
            *o.borrow_mut() = Some(r.unwrap_err().code());
        },
    );
    run_to_end(&lp);
    assert_eq!(*out.borrow(), Some(StatusCode::EADDRINUSE));
}

#[test]
fn every_interface_when_no_host_is_given() {
    let lp = Loop::new().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let opts = ServerOptions::default().with_family(AF_INET6);
    create_server(&lp, Rec::default, opts, move |r| {
        *o.borrow_mut() = Some(r.unwrap())
    });
    run_until(&lp, || out.borrow().is_some());
    let server = out.borrow_mut().take().unwrap();
    let names = server.sockets();
    assert_eq!(names.len(), 1);
    let a = names[0].inet().unwrap();
    assert!(a.ip().is_unspecified() && a.is_ipv6());
    server.close();
    run_to_end(&lp);
}

fn temp_socket_path(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ruv-stream-{}-{tag}.sock", std::process::id()))
}

#[test]
fn unix_server_and_connection_and_the_socket_file() {
    let lp = Loop::new().unwrap();
    let path = temp_socket_path("echo");
    // A stale socket file from a server that did not clean up.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let server_log = Log::default();
    let log = server_log.clone();
    let factory = move || {
        let mut rec = Rec::new(&log);
        rec.on_data = Some(Box::new(|t: &StreamTransport, d: Vec<u8>| {
            t.write(&d).unwrap()
        }));
        rec
    };
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    create_unix_server(&lp, factory, &path, ServerOptions::default(), move |r| {
        *o.borrow_mut() = Some(r.unwrap());
    });
    run_until(&lp, || out.borrow().is_some());
    let server = out.borrow_mut().take().unwrap();
    assert_eq!(
        server.sockets(),
        vec![SocketName::Unix(path.clone().into())]
    );
    let client_log = Log::default();
    let mut client = Rec::new(&client_log);
    client.on_made = Some(Box::new(|t, ()| t.write(b"over unix").unwrap()));
    let s2 = server.clone();
    client.on_data = Some(Box::new(move |t, _| {
        s2.close();
        t.close();
    }));
    create_unix_connection(
        &lp,
        move || client,
        &path,
        |r| {
            r.unwrap();
        },
    );
    run_to_end(&lp);
    assert_eq!(
        *client_log.borrow(),
        strings(&["made", "data \"over unix\"", "lost None"])
    );
    assert_eq!(
        *server_log.borrow(),
        strings(&["made", "data \"over unix\"", "eof", "lost None"])
    );
    // Removed on close (asyncio 3.13).
    assert!(!path.exists());
}

#[test]
fn unix_server_refuses_a_path_that_is_not_a_socket() {
    let lp = Loop::new().unwrap();
    let path = temp_socket_path("file");
    std::fs::write(&path, b"not a socket").unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    create_unix_server(
        &lp,
        Rec::default,
        &path,
        ServerOptions::default(),
        move |r| {
            *o.borrow_mut() = Some(r.unwrap_err().code());
        },
    );
    run_to_end(&lp);
    assert_eq!(*out.borrow(), Some(StatusCode::EADDRINUSE));
    // Left alone.
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unix_connection_to_nothing_is_an_error() {
    let lp = Loop::new().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let path = temp_socket_path("nothing");
    create_unix_connection(&lp, Rec::default, &path, move |r| {
        *o.borrow_mut() = Some(r.map(|_| ()).unwrap_err().code());
    });
    run_to_end(&lp);
    assert_eq!(*out.borrow(), Some(StatusCode::ENOENT));
}

#[test]
fn read_pipe_ends_with_eof_then_lost_whatever_eof_received_says() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (r, w) = ruv::pipe_fds(true, false).unwrap();
    let mut rec = Rec::new(&log);
    rec.keep_open = true; // ignored for a read pipe
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    connect_read_pipe(
        &lp,
        move || rec,
        r,
        move |res| *o.borrow_mut() = Some(res.unwrap().0),
    );
    let mut w = std::fs::File::from(w);
    w.write_all(b"through a pipe").unwrap();
    drop(w);
    run_to_end(&lp);
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"through a pipe\"", "eof", "lost None"])
    );
    let t = out.borrow_mut().take().unwrap();
    assert!(!t.can_write_eof());
    assert_eq!(t.write(b"x").unwrap_err(), StatusCode::EPIPE);
}

#[test]
fn write_pipe_write_eof_closes_and_the_reader_sees_everything() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (r, w) = ruv::pipe_fds(false, true).unwrap();
    let mut rec = Rec::new(&log);
    rec.on_made = Some(Box::new(|t, ()| {
        t.write(b"to the reader").unwrap();
        assert!(t.can_write_eof());
        t.write_eof().unwrap();
        assert!(t.is_closing());
    }));
    connect_write_pipe(
        &lp,
        move || rec,
        w,
        |res| {
            res.unwrap();
        },
    );
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
    let mut got = Vec::new();
    std::fs::File::from(r).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"to the reader");
}

#[test]
fn write_pipe_on_a_socket_closes_when_the_reader_goes_away() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    connect_write_pipe(
        &lp,
        {
            let log = log.clone();
            move || Rec::new(&log)
        },
        ours,
        |res| {
            res.unwrap();
        },
    );
    run_until(&lp, || log.borrow().len() == 1);
    drop(theirs);
    run_to_end(&lp);
    // Nothing was waiting: closed quietly.
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
}

#[test]
fn connect_read_pipe_refuses_a_regular_file() {
    let lp = Loop::new().unwrap();
    let path = temp_socket_path("regular");
    std::fs::write(&path, b"x").unwrap();
    let file = std::fs::File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    connect_read_pipe(&lp, Rec::default, file, move |r| {
        *o.borrow_mut() = Some(r.map(|_| ()).unwrap_err().code());
    });
    run_to_end(&lp);
    assert_eq!(*out.borrow(), Some(StatusCode::EPERM));
}

#[test]
fn write_pipe_on_a_socket_ignores_bytes_sent_back_and_ends_with_epipe_when_data_waits() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let t = write_pipe_transport(&lp, &log, ours);
    theirs.write_all(b"not for the protocol").unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), strings(&["made"]));
    // Fill the socket so that data waits, then the reader goes away.
    fill_quietly(&t);
    drop(theirs);
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost EPIPE"]));
}

#[test]
fn create_server_on_a_given_socket() {
    let lp = Loop::new().unwrap();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let log = Log::default();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let l = log.clone();
    create_server(
        &lp,
        move || Rec::new(&l),
        ServerOptions::socket(sock),
        move |r| {
            *o.borrow_mut() = Some(r.unwrap());
        },
    );
    run_until(&lp, || out.borrow().is_some());
    let server = out.borrow_mut().take().unwrap();
    assert_eq!(server.sockets(), vec![SocketName::Inet(addr)]);
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.write_all(b"via sock").unwrap();
    drop(c);
    run_until(&lp, || log.borrow().len() == 4);
    server.close();
    run_to_end(&lp);
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"via sock\"", "eof", "lost None"])
    );

    // sock with another option, or of the wrong type.
    let lp = Loop::new().unwrap();
    let errs = Rc::new(RefCell::new(Vec::new()));
    let bound = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for opts in [
        ServerOptions::socket(bound).with_port(1),
        ServerOptions::socket(udp),
    ] {
        let e = errs.clone();
        create_server(&lp, Rec::default, opts, move |r| {
            e.borrow_mut().push(r.unwrap_err().code())
        });
    }
    run_to_end(&lp);
    assert_eq!(
        *errs.borrow(),
        vec![StatusCode::EINVAL, StatusCode::EPROTOTYPE]
    );
}

#[test]
fn a_server_of_buffered_protocols() {
    use ruv::endpoint::{create_server_with, AnyProtocol, BufferedProtocol};
    /// Echoes what lands in its buffer, reusing one 8-byte buffer.
    struct BufEcho {
        t: Option<StreamTransport>,
        spare: Vec<u8>,
        log: Log,
    }
    impl BufferedProtocol for BufEcho {
        fn connection_made(&mut self, t: &StreamTransport) {
            self.t = Some(t.clone());
        }
        fn get_buffer(&mut self, _hint: usize) -> Vec<u8> {
            let mut b = std::mem::take(&mut self.spare);
            b.resize(8, 0);
            b
        }
        fn buffer_updated(&mut self, buf: Vec<u8>, n: usize) {
            self.log.borrow_mut().push(format!("updated {n}"));
            self.t.as_ref().unwrap().write(&buf[..n]).unwrap();
            self.spare = buf;
        }
        fn connection_lost(&mut self, _err: Option<ruv::Error>) {
            self.t = None;
        }
    }
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let l = log.clone();
    let make = move || {
        AnyProtocol::buffered(Rc::new(RefCell::new(BufEcho {
            t: None,
            spare: Vec::new(),
            log: l.clone(),
        })))
    };
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    create_server_with(&lp, make, ServerOptions::new("127.0.0.1", 0), move |r| {
        *o.borrow_mut() = Some(r.unwrap());
    });
    run_until(&lp, || out.borrow().is_some());
    let server = out.borrow_mut().take().unwrap();
    let addr = server.sockets()[0].inet().unwrap();
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.write_all(b"twelve bytes").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    // Closing the listener with the connection still in its backlog would
    // reset it: wait for the accept.
    run_until(&lp, || server.client_count() == 1);
    server.close();
    run_to_end(&lp);
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"twelve bytes");
    let total: usize = log
        .borrow()
        .iter()
        .map(|e| {
            e.strip_prefix("updated ")
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, 12);
    assert!(log.borrow().iter().all(|e| e != "updated 0"));
}

#[test]
fn a_walk_that_closes_every_handle_closes_the_server_and_its_clients() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (server, addr) = echo_server(&lp, &log);
    let _c = std::net::TcpStream::connect(addr).unwrap();
    run_until(&lp, || server.client_count() == 1);
    let waited = Rc::new(RefCell::new(false));
    let w = waited.clone();
    server.wait_closed(move || *w.borrow_mut() = true);
    lp.walk(|h| {
        if !h.is_closing() {
            h.close(|| {});
        }
    });
    run_to_end(&lp);
    assert!(!server.is_serving());
    assert!(*waited.borrow());
    assert_eq!(server.client_count(), 0);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
}

// ---------------------------------------------------------------------
// CPython 3.13's `test_base_events.py`, `test_events.py`,
// `test_unix_events.py` and `test_server.py`, in our words.

/// `test_create_server_empty_host`: a host of `""` is every interface,
/// as no host is.
#[test]
fn an_empty_host_is_every_interface() {
    let lp = Loop::new().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let opts = ServerOptions::new("", 0).with_family(AF_INET);
    create_server(&lp, Rec::default, opts, move |r| {
        *o.borrow_mut() = Some(r.unwrap())
    });
    run_until(&lp, || out.borrow().is_some());
    let server = out.borrow_mut().take().unwrap();
    let names = server.sockets();
    assert_eq!(names.len(), 1);
    let a = names[0].inet().unwrap();
    assert!(a.ip().is_unspecified() && a.is_ipv4());
    server.close();
    run_to_end(&lp);
}

/// `test_events.py`'s `test_create_server_reuse_port`: with
/// `reuse_port` two servers listen on one port (and without it the
/// second is EADDRINUSE, `a_port_in_use_without_reuse_port_is_eaddrinuse`).
#[test]
fn reuse_port_lets_two_servers_share_a_port() {
    let lp = Loop::new().unwrap();
    let out = Rc::new(RefCell::new(Vec::new()));
    let o = out.clone();
    let opts = ServerOptions::new("127.0.0.1", 0).with_reuse_port(true);
    create_server(&lp, Rec::default, opts, move |r| {
        o.borrow_mut().push(r.unwrap())
    });
    run_until(&lp, || out.borrow().len() == 1);
    let port = out.borrow()[0].sockets()[0].inet().unwrap().port();
    let o = out.clone();
    let opts = ServerOptions::new("127.0.0.1", port).with_reuse_port(true);
    create_server(&lp, Rec::default, opts, move |r| {
        o.borrow_mut().push(r.unwrap())
    });
    run_until(&lp, || out.borrow().len() == 2);
    let second = out.borrow()[1].sockets()[0].inet().unwrap();
    assert_eq!(second.port(), port);
    for s in out.borrow().iter() {
        assert!(s.is_serving());
        s.close();
    }
    run_to_end(&lp);
}

/// `test_create_connection_wrong_sock`: a datagram socket is not a
/// stream socket (asyncio's ValueError; EPROTOTYPE here, as for
/// `create_server`'s `sock`).
#[test]
fn create_connection_refuses_a_datagram_socket() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        connect_error(ConnectionOptions::socket(udp)),
        StatusCode::EPROTOTYPE
    );
}

/// `UnixWritePipeTransportTests.test_write_close`: once the reader went
/// away, writes are dropped without an error. (On a socket, whose end
/// the transport watches; a plain pipe's reader going away is seen at
/// the next write, which ends the transport with EPIPE: see
/// `write_pipe_on_a_pipe_learns_of_its_reader_at_the_next_write`.)
#[test]
fn write_pipe_writes_after_the_reader_went_away_are_dropped() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let t = write_pipe_transport(&lp, &log, ours);
    drop(theirs);
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
    assert!(t.is_closing());
    t.write(b"data").unwrap();
    t.write(b"data").unwrap();
    assert_eq!(t.get_write_buffer_size(), 0);
}

/// Where ruv differs from asyncio (docs/PORTING.md): asyncio also polls
/// a FIFO's write end to hear of its reader closing at once; ruv's
/// `Pipe` cannot read a write-only pipe end, so the next write fails
/// with EPIPE and ends the transport with it; writes after that are
/// dropped.
#[test]
fn write_pipe_on_a_pipe_learns_of_its_reader_at_the_next_write() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (r, w) = ruv::pipe_fds(false, true).unwrap();
    let t = write_pipe_transport(&lp, &log, w);
    drop(r);
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), strings(&["made"]));
    t.write(b"data").unwrap();
    assert!(t.is_closing());
    t.write(b"data").unwrap();
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost EPIPE"]));
}

/// `UnixWritePipeTransportTests.test_write_eof_pending` and `test_abort`:
/// `write_eof` with data waiting closes only once it is written; `abort`
/// then drops it, and `connection_lost(None)` comes once.
#[test]
fn write_pipe_write_eof_waits_for_the_buffer_and_abort_drops_it() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (r, w) = ruv::pipe_fds(false, true).unwrap();
    let t = write_pipe_transport(&lp, &log, w);
    fill_quietly(&t);
    t.write_eof().unwrap();
    assert!(t.is_closing());
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), strings(&["made"]));
    assert!(t.get_write_buffer_size() > 0);
    t.abort();
    assert_eq!(t.get_write_buffer_size(), 0);
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
    drop(r);
}

/// `UnixReadPipeTransportTests`: `test_pause_reading` /
/// `test_resume_reading` (data waits while paused),
/// `test_pause_reading_on_paused_pipe`, `test_close_already_closing`
/// (one `connection_lost(None)`) and `test_pause_reading_on_closed_pipe`
/// / `test_resume_reading_on_closed_pipe` (no-ops).
#[test]
fn read_pipe_pause_resume_and_close() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (r, w) = ruv::pipe_fds(true, false).unwrap();
    let t = read_pipe_transport(&lp, &log, r);
    t.pause_reading();
    t.pause_reading();
    let mut w = std::fs::File::from(w);
    w.write_all(b"held").unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), strings(&["made"]));
    t.resume_reading();
    run_until(&lp, || log.borrow().len() == 2);
    t.close();
    t.close();
    run_to_end(&lp);
    t.pause_reading();
    t.resume_reading();
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"held\"", "lost None"])
    );
}

/// CPython 3.13's `UnixServerCleanupTests` (`test_server.py`):
/// `test_unix_server_cleanup_gone` (the file was removed: closing is
/// fine) and `test_unix_server_cleanup_replaced` (another socket now has
/// the name: closing leaves it).
#[test]
fn unix_server_close_leaves_a_socket_file_that_is_not_its_own() {
    let lp = Loop::new().unwrap();
    let mut servers = Vec::new();
    for tag in ["gone", "replaced"] {
        let path = temp_socket_path(tag);
        let out = Rc::new(RefCell::new(None));
        let o = out.clone();
        create_unix_server(
            &lp,
            Rec::default,
            &path,
            ServerOptions::default(),
            move |r| *o.borrow_mut() = Some(r.unwrap()),
        );
        run_until(&lp, || out.borrow().is_some());
        servers.push((path, out.borrow_mut().take().unwrap()));
    }
    let (gone, first) = &servers[0];
    std::fs::remove_file(gone).unwrap();
    first.close();
    assert!(!gone.exists());
    let (replaced, second) = &servers[1];
    std::fs::remove_file(replaced).unwrap();
    let other = std::os::unix::net::UnixListener::bind(replaced).unwrap();
    second.close();
    run_to_end(&lp);
    // Still the other listener's, and it still accepts.
    assert!(replaced.exists());
    let _c = std::os::unix::net::UnixStream::connect(replaced).unwrap();
    drop(other);
    std::fs::remove_file(replaced).unwrap();
}

/// `test_events.py`'s `test_create_connection_local_addr_in_use`: a
/// `local_addr` that a listening socket holds is EADDRINUSE (a bind
/// error, before any connect).
#[test]
fn a_local_addr_in_use_is_eaddrinuse() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let opts = ConnectionOptions::remote("127.0.0.1", port).with_local_addr("127.0.0.1", port);
    assert_eq!(connect_error(opts), StatusCode::EADDRINUSE);
}
