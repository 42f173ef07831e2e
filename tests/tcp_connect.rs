//! Connecting and closing with requests pending (libuv's
//! test-connection-fail.c, test-tcp-close-while-connecting.c,
//! test-tcp-close-reset.c, test-not-readable-nor-writable-on-read-error.c,
//! test-shutdown-close.c pinned in our words).

mod util;

use ruv::{Check, Error, Loop, Prepare, ReadResult, RunMode, StatusCode, Tcp, TcpFlags};
use std::net::SocketAddr;
use util::shared;
use util::tcp::{accepting_listener, collect, finish, pair, run_until};

const ECANCELED: Error = Error::Status(StatusCode::ECANCELED);

/// A loopback address nothing listens on (a port just freed).
fn refused_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[test]
fn a_refused_connect_reports_econnrefused_from_the_loop_and_leaves_the_handle_open() {
    let lp = Loop::new().unwrap();
    let log = shared(Vec::new());
    // Phase markers, to see where the callback runs.
    let prepare = Prepare::new(&lp);
    let l = log.clone();
    prepare
        .start(move |_| l.borrow_mut().push("prepare".to_string()))
        .unwrap();
    prepare.unref();
    let check = Check::new(&lp);
    let l = log.clone();
    check
        .start(move |_| l.borrow_mut().push("check".to_string()))
        .unwrap();
    check.unref();
    let tcp = Tcp::new(&lp);
    let l = log.clone();
    tcp.connect(refused_addr(), move |tcp, status| {
        assert_eq!(status, Err(Error::Status(StatusCode::ECONNREFUSED)));
        assert!(!tcp.is_closing(), "a failed connect does not close");
        l.borrow_mut().push("connect".to_string());
    })
    .unwrap();
    assert!(log.borrow().is_empty(), "never inside connect");
    // As in libuv, a pending connect is a request: it keeps the loop
    // alive but does not make the handle active.
    assert!(!tcp.is_active());
    assert!(lp.alive());
    run_until(&lp, || log.borrow().iter().any(|e| e == "connect"));
    let log = log.borrow().clone();
    let at = log.iter().position(|e| e == "connect").unwrap();
    assert_eq!(
        log[at - 1],
        "prepare",
        "reported after the prepare phase: {log:?}"
    );
    assert!(!tcp.is_closing());
    assert!(!tcp.is_active());
    prepare.close(|| {});
    check.close(|| {});
    finish(&lp, &[&tcp]);
}

#[test]
fn a_second_connect_while_one_is_pending_is_ealready() {
    let lp = Loop::new().unwrap();
    let (server, addr, accepted) = accepting_listener(&lp);
    let tcp = Tcp::new(&lp);
    let done = shared(0);
    let d = done.clone();
    tcp.connect(addr, move |_, s| {
        s.unwrap();
        *d.borrow_mut() += 1;
    })
    .unwrap();
    assert_eq!(
        tcp.connect(addr, |_, _| unreachable!()),
        Err(Error::Status(StatusCode::EALREADY))
    );
    run_until(&lp, || *done.borrow() == 1 && !accepted.borrow().is_empty());
    assert_eq!(tcp.peername().unwrap(), addr);
    assert_eq!(
        tcp.sockname().unwrap(),
        accepted.borrow()[0].peername().unwrap()
    );
    assert_eq!(accepted.borrow()[0].sockname().unwrap(), addr);
    let conn = accepted.borrow_mut().pop().unwrap();
    finish(&lp, &[&server, &tcp, &conn]);
}

#[test]
fn closing_with_connect_writes_and_shutdown_pending_cancels_them_in_libuv_order() {
    let lp = Loop::new().unwrap();
    let (server, addr, accepted) = accepting_listener(&lp);
    let log = shared(Vec::new());
    let tcp = Tcp::new(&lp);
    let l = log.clone();
    tcp.connect(addr, move |_, s| l.borrow_mut().push(("connect", s)))
        .unwrap();
    for name in ["write 1", "write 2"] {
        let l = log.clone();
        tcp.write(&[b"data"], move |_, s| l.borrow_mut().push((name, s)))
            .unwrap();
    }
    let l = log.clone();
    tcp.shutdown(move |_, s| l.borrow_mut().push(("shutdown", s)))
        .unwrap();
    assert_eq!(tcp.write_queue_size().unwrap(), 8);
    let l = log.clone();
    tcp.close(move || l.borrow_mut().push(("close", Ok(()))));
    assert!(log.borrow().is_empty());
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(
        *log.borrow(),
        [
            ("connect", Err(ECANCELED)),
            ("write 1", Err(ECANCELED)),
            ("write 2", Err(ECANCELED)),
            ("shutdown", Err(ECANCELED)),
            ("close", Ok(())),
        ]
    );
    assert!(tcp.is_closed());
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    finish(&lp, &[&server, &conn]);
}

#[test]
fn writes_queued_behind_a_connect_go_out_once_it_succeeds() {
    let lp = Loop::new().unwrap();
    let (server, addr, accepted) = accepting_listener(&lp);
    let tcp = Tcp::new(&lp);
    let log = shared(Vec::new());
    let l = log.clone();
    tcp.connect(addr, move |_, s| l.borrow_mut().push(("connect", s)))
        .unwrap();
    let l = log.clone();
    tcp.write(&[b"early ", b"bird"], move |_, s| {
        l.borrow_mut().push(("write", s))
    })
    .unwrap();
    assert_eq!(
        tcp.try_write(&[b"x"]),
        Err(Error::Status(StatusCode::EAGAIN)),
        "nothing goes out while connecting"
    );
    let l = log.clone();
    tcp.shutdown(move |_, s| l.borrow_mut().push(("shutdown", s)))
        .unwrap();
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    let got = collect(&conn);
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(got.borrow().data, b"early bird");
    assert_eq!(
        *log.borrow(),
        [("connect", Ok(())), ("write", Ok(())), ("shutdown", Ok(()))]
    );
    finish(&lp, &[&server, &tcp, &conn]);
}

#[test]
fn writes_queued_behind_a_failed_connect_are_cancelled_after_its_callback() {
    let lp = Loop::new().unwrap();
    let tcp = Tcp::new(&lp);
    let log = shared(Vec::new());
    let l = log.clone();
    tcp.connect(refused_addr(), move |_, s| {
        l.borrow_mut().push(("connect", s))
    })
    .unwrap();
    let l = log.clone();
    tcp.write(&[b"lost"], move |_, s| l.borrow_mut().push(("write", s)))
        .unwrap();
    run_until(&lp, || log.borrow().len() == 2);
    assert_eq!(
        *log.borrow(),
        [
            ("connect", Err(Error::Status(StatusCode::ECONNREFUSED))),
            ("write", Err(ECANCELED))
        ]
    );
    assert_eq!(tcp.write_queue_size().unwrap(), 0);
    finish(&lp, &[&tcp]);
}

/// Found by the model: an empty write (copied or owned) made while the
/// connect was pending completed at once, so its callback ran before the
/// connect's. As libuv, every write made while connecting waits for the
/// connect: its callback follows the connect callback, with ECANCELED if
/// the connect failed.
#[test]
fn empty_writes_made_while_connecting_wait_for_the_connect() {
    let lp = Loop::new().unwrap();
    let (server, addr, accepted) = accepting_listener(&lp);
    for target in [addr, refused_addr()] {
        let tcp = Tcp::new(&lp);
        let log = shared(Vec::new());
        let l = log.clone();
        tcp.connect(target, move |_, s| l.borrow_mut().push(("connect", s)))
            .unwrap();
        let l = log.clone();
        tcp.write(&[b""], move |_, s| l.borrow_mut().push(("empty", s)))
            .unwrap();
        let l = log.clone();
        tcp.write_owned(vec![Vec::new()], move |_, s| {
            l.borrow_mut().push(("owned empty", s))
        })
        .unwrap();
        run_until(&lp, || log.borrow().len() == 3);
        let outcome = if target == addr {
            Ok(())
        } else {
            Err(Error::Status(StatusCode::ECONNREFUSED))
        };
        let writes = if target == addr {
            Ok(())
        } else {
            Err(ECANCELED)
        };
        assert_eq!(
            *log.borrow(),
            [
                ("connect", outcome),
                ("empty", writes),
                ("owned empty", writes)
            ],
            "connecting to {target}"
        );
        tcp.close(|| {});
    }
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    finish(&lp, &[&server, &conn]);
}

#[test]
fn close_reset_makes_the_peer_read_econnreset_and_leaves_it_neither_readable_nor_writable() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let got = collect(&client);
    server.close_reset(|| {}).unwrap();
    run_until(&lp, || got.borrow().error.is_some());
    assert_eq!(
        got.borrow().error,
        Some(Error::Status(StatusCode::ECONNRESET))
    );
    assert_eq!(got.borrow().eof, 0);
    assert!(!client.is_readable());
    assert!(!client.is_writable());
    assert!(!client.is_reading(), "a read error stops reading");
    assert_eq!(
        client.write(&[b"x"], |_, _| unreachable!()),
        Err(Error::Status(StatusCode::EPIPE))
    );
    assert_eq!(
        client.read_start(|_, _| unreachable!()),
        Err(Error::Status(StatusCode::ENOTCONN))
    );
    assert_eq!(
        client.shutdown(|_, _| unreachable!()),
        Err(Error::Status(StatusCode::ENOTCONN))
    );
    finish(&lp, &[&client]);
}

#[test]
fn close_reset_while_a_shutdown_is_pending_is_einval_and_allowed_after_it() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let done = shared(false);
    let d = done.clone();
    client
        .shutdown(move |_, s| {
            s.unwrap();
            *d.borrow_mut() = true;
        })
        .unwrap();
    assert_eq!(
        client.close_reset(|| unreachable!()),
        Err(Error::Status(StatusCode::EINVAL))
    );
    assert!(!client.is_closing());
    run_until(&lp, || *done.borrow());
    let closed = shared(false);
    let c = closed.clone();
    client.close_reset(move || *c.borrow_mut() = true).unwrap();
    let got = collect(&server);
    run_until(&lp, || {
        *closed.borrow() && (got.borrow().eof > 0 || got.borrow().error.is_some())
    });
    finish(&lp, &[&server]);
}

#[test]
fn a_read_error_inside_the_callback_sees_the_stream_closed_both_ways() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let seen = shared(None);
    let s = seen.clone();
    client
        .read_start(move |tcp, read| {
            if let ReadResult::Error(err) = read {
                *s.borrow_mut() = Some((err, tcp.is_readable(), tcp.is_writable()));
            }
        })
        .unwrap();
    server.close_reset(|| {}).unwrap();
    run_until(&lp, || seen.borrow().is_some());
    assert_eq!(
        *seen.borrow(),
        Some((Error::Status(StatusCode::ECONNRESET), false, false))
    );
    finish(&lp, &[&client]);
}

#[test]
fn bind_defers_eaddrinuse_to_listen_sockname_and_connect() {
    let lp = Loop::new().unwrap();
    let (first, addr, _) = accepting_listener(&lp);
    let second = Tcp::new(&lp);
    assert_eq!(second.bind(addr, TcpFlags::empty()), Ok(()));
    let inuse = Error::Status(StatusCode::EADDRINUSE);
    assert_eq!(second.listen(1, |_, _| unreachable!()), Err(inuse));
    assert_eq!(second.sockname(), Err(inuse));
    let third = Tcp::new(&lp);
    third.bind(addr, TcpFlags::empty()).unwrap();
    let got = shared(None);
    let g = got.clone();
    third
        .connect(addr, move |_, s| *g.borrow_mut() = Some(s))
        .unwrap();
    assert!(got.borrow().is_none());
    run_until(&lp, || got.borrow().is_some());
    assert_eq!(*got.borrow(), Some(Err(inuse)));
    finish(&lp, &[&first, &second, &third]);
}

#[test]
fn a_connect_failure_known_at_once_leaves_nothing_owed_after_its_callback() {
    // The deferred EADDRINUSE is reported from the first pending phase;
    // with no write and no shutdown behind the connect, nothing is owed
    // after its callback, so the loop is dead in the prepare phase that
    // follows (nothing else is active and referenced).
    let lp = Loop::new().unwrap();
    let (listener, addr, _) = accepting_listener(&lp);
    listener.unref();
    let tcp = Tcp::new(&lp);
    tcp.bind(addr, TcpFlags::empty()).unwrap();
    let log = shared(Vec::new());
    let l = log.clone();
    tcp.connect(addr, move |_, status| {
        assert_eq!(status, Err(Error::Status(StatusCode::EADDRINUSE)));
        l.borrow_mut().push("connect".to_string());
    })
    .unwrap();
    let prepare = Prepare::new(&lp);
    prepare.unref();
    let l = log.clone();
    let probe = lp.clone();
    prepare
        .start(move |_| {
            l.borrow_mut()
                .push(format!("prepare alive={}", probe.alive()))
        })
        .unwrap();
    assert!(
        !lp.run(RunMode::Once).unwrap(),
        "nothing keeps the loop alive"
    );
    assert_eq!(*log.borrow(), ["connect", "prepare alive=false"]);
    assert!(!tcp.is_active());
    prepare.close(|| {});
    finish(&lp, &[&listener, &tcp]);
}

#[test]
fn close_reset_inside_the_connect_callback_reports_the_writes_before_the_close() {
    let lp = Loop::new().unwrap();
    let (server, addr, accepted) = accepting_listener(&lp);
    let log = shared(Vec::new());
    let client = Tcp::new(&lp);
    let l = log.clone();
    client
        .connect(addr, move |tcp, status| {
            status.unwrap();
            tcp.read_start(|_, _| {}).unwrap();
            for i in 0..4 {
                let l = l.clone();
                tcp.write(&[b"PING"], move |_, s| {
                    l.borrow_mut().push(format!("write {i}: {s:?}"))
                })
                .unwrap();
            }
            let l2 = l.clone();
            tcp.close_reset(move || l2.borrow_mut().push("close".to_string()))
                .unwrap();
            // Closing: the shutdown is refused (libuv: ENOTCONN).
            assert_eq!(
                tcp.shutdown(|_, _| unreachable!()).unwrap_err().code(),
                StatusCode::EINVAL
            );
        })
        .unwrap();
    run_until(&lp, || log.borrow().len() == 5);
    assert_eq!(
        *log.borrow(),
        [
            "write 0: Ok(())",
            "write 1: Ok(())",
            "write 2: Ok(())",
            "write 3: Ok(())",
            "close"
        ]
    );
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    let got = collect(&conn);
    run_until(&lp, || got.borrow().error.is_some() || got.borrow().eof > 0);
    finish(&lp, &[&server, &conn]);
}

#[test]
fn close_reset_after_the_socket_was_shut_down_underneath_still_closes() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let fd = std::os::fd::AsRawFd::as_raw_fd(&server);
    // SAFETY: the handle owns `fd` and stays open for this borrow.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    socket2::SockRef::from(&borrowed)
        .shutdown(std::net::Shutdown::Both)
        .unwrap();
    let closed = shared(false);
    let c = closed.clone();
    server.close_reset(move || *c.borrow_mut() = true).unwrap();
    let got = collect(&client);
    run_until(&lp, || {
        *closed.borrow() && (got.borrow().eof > 0 || got.borrow().error.is_some())
    });
    finish(&lp, &[&client]);
}
