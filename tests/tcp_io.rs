//! TCP data transfer: echo, large writes with partial writes, write queue
//! order, EOF, shutdown, try_write, caller buffers (libuv's
//! test-tcp-*.c, test-shutdown-*.c, test-readable-on-eof.c,
//! test-tcp-try-write.c, test-tcp-write-queue-order.c pinned in our words).

mod util;

use ruv::{Error, Loop, ReadResult, RunMode, StatusCode, Tcp};
use util::shared;
use util::tcp::{collect, finish, pair, pattern, run_until};

const EPIPE: Error = Error::Status(StatusCode::EPIPE);
const ECANCELED: Error = Error::Status(StatusCode::ECANCELED);

#[test]
fn echo_round_trip_returns_the_exact_bytes() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    server
        .read_start(|conn, read| match read {
            ReadResult::Data(data) => {
                let copy = data.to_vec();
                conn.write(&[&copy], |_, status| status.unwrap()).unwrap();
            }
            ReadResult::Eof => conn.close(|| {}),
            ReadResult::Error(err) => panic!("{err}"),
        })
        .unwrap();
    let got = collect(&client);
    let written = shared(false);
    let flag = written.clone();
    client
        .write(&[b"hello, ", b"world"], move |_, status| {
            status.unwrap();
            *flag.borrow_mut() = true;
        })
        .unwrap();
    assert!(!*written.borrow(), "the callback never runs inside write");
    run_until(&lp, || got.borrow().data.len() == 12);
    assert!(*written.borrow());
    assert_eq!(got.borrow().data, b"hello, world");
    finish(&lp, &[&client]);
}

#[test]
fn several_mib_in_one_write_arrive_intact_and_in_order() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let data = pattern(8 << 20, 7);
    let got = collect(&server);
    let done = shared(None);
    let flag = done.clone();
    client
        .write(&[&data[..3], &data[3..]], move |_, status| {
            *flag.borrow_mut() = Some(status);
        })
        .unwrap();
    // The kernel cannot take 8 MiB at once: the rest waits, copied.
    assert!(client.write_queue_size().unwrap() == data.len());
    client.shutdown(|_, status| status.unwrap()).unwrap();
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(*done.borrow(), Some(Ok(())));
    assert_eq!(client.write_queue_size().unwrap(), 0);
    let got = got.borrow();
    assert_eq!(got.data.len(), data.len());
    assert!(got.data == data, "every byte, in order");
    assert!(got.reads > 1, "read in many pieces");
    drop(got);
    finish(&lp, &[&server, &client]);
}

#[test]
fn one_iteration_reads_at_most_32_times_and_the_ready_list_finishes() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    // 1 KiB reads into caller buffers, so that more than 32 reads' worth
    // (48 KiB) fits in the kernel's receive buffer at once: with 64 KiB
    // reads the data would have to be there in megabytes, which a loaded
    // machine's TCP window does not guarantee.
    let data = pattern(48 << 10, 11);
    client.write(&[&data], |_, s| s.unwrap()).unwrap();
    run_until(&lp, || client.write_queue_size().unwrap() == 0);
    client.shutdown(|_, s| s.unwrap()).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    let per_iteration = shared(vec![0usize]);
    let check = ruv::Check::new(&lp);
    let p = per_iteration.clone();
    check.start(move |_| p.borrow_mut().push(0)).unwrap();
    check.unref();
    let got = shared(Vec::new());
    let (g, p) = (got.clone(), per_iteration.clone());
    server
        .read_start_with(
            |_, _| vec![0u8; 1024],
            move |_, outcome, buf| {
                if let Ok(n) = outcome {
                    if n > 0 {
                        g.borrow_mut().extend_from_slice(&buf[..n]);
                        *p.borrow_mut().last_mut().unwrap() += 1;
                    }
                }
            },
        )
        .unwrap();
    run_until(&lp, || got.borrow().len() == data.len());
    assert!(*got.borrow() == data);
    let per = per_iteration.borrow();
    assert!(per.iter().all(|&n| n <= 32), "{per:?}");
    assert!(per.contains(&32), "the budget was reached: {per:?}");
    drop(per);
    check.close(|| {});
    finish(&lp, &[&server, &client]);
}

#[test]
fn random_chunks_of_every_kind_of_write_round_trip() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    server
        .read_start(|conn, read| match read {
            ReadResult::Data(data) => {
                conn.write_owned(vec![data.to_vec()], |_, s| s.unwrap())
                    .unwrap();
            }
            ReadResult::Eof => conn.shutdown(|_, s| s.unwrap()).unwrap(),
            ReadResult::Error(err) => panic!("{err}"),
        })
        .unwrap();
    let got = collect(&client);
    let data = pattern(3 << 20, 99);
    let mut at = 0;
    let mut seed = 12345u64;
    let mut calls = 0;
    while at < data.len() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = ((seed >> 33) as usize % 70_000).min(data.len() - at);
        let chunk = &data[at..at + len];
        match calls % 3 {
            0 => client.write(&[chunk], |_, s| s.unwrap()).unwrap(),
            1 => {
                let (a, b) = chunk.split_at(len / 2);
                client
                    .write_owned(vec![a.to_vec(), b.to_vec()], |_, s| s.unwrap())
                    .unwrap()
            }
            _ => match client.try_write(&[chunk]) {
                Ok(n) => {
                    assert!(n <= len);
                    at += n;
                    calls += 1;
                    continue;
                }
                Err(err) => {
                    assert_eq!(err, Error::Status(StatusCode::EAGAIN));
                    client.write(&[chunk], |_, s| s.unwrap()).unwrap();
                }
            },
        }
        at += len;
        calls += 1;
        if calls % 7 == 0 {
            lp.run(RunMode::NoWait).unwrap();
        }
    }
    client.shutdown(|_, s| s.unwrap()).unwrap();
    run_until(&lp, || got.borrow().eof == 1);
    assert!(
        got.borrow().data == data,
        "no byte lost, duplicated or moved"
    );
    finish(&lp, &[&server, &client]);
}

#[test]
fn write_callbacks_run_in_order_and_close_cancels_the_rest() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    // The peer never reads: the queue backs up.
    const TOTAL: usize = 2000;
    let chunk = vec![b'x'; 16 * 1024];
    let log = shared(Vec::new());
    for i in 0..TOTAL {
        let log = log.clone();
        client
            .write(&[&chunk], move |_, status| {
                log.borrow_mut().push((i, status))
            })
            .unwrap();
    }
    run_until(&lp, || !log.borrow().is_empty());
    assert!(client.write_queue_size().unwrap() > 0);
    client.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    let log = log.borrow();
    assert_eq!(log.len(), TOTAL, "ok + cancelled == total");
    assert!(log.windows(2).all(|w| w[0].0 + 1 == w[1].0), "in order");
    let ok = log.iter().take_while(|(_, s)| s.is_ok()).count();
    assert!(ok > 0);
    assert!(ok < TOTAL);
    assert!(log[ok..].iter().all(|(_, s)| *s == Err(ECANCELED)));
    drop(log);
    finish(&lp, &[&server]);
}

#[test]
fn reading_again_after_eof_reports_eof_again_and_stays_readable() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    client.write(&[b"last words"], |_, s| s.unwrap()).unwrap();
    client.shutdown(|_, s| s.unwrap()).unwrap();
    let got = collect(&server);
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(got.borrow().data, b"last words");
    assert!(!server.is_reading(), "EOF stops reading");
    assert!(server.is_readable());
    assert!(server.is_writable(), "half-closed: still writable");
    let again = shared(0);
    let count = again.clone();
    server
        .read_start(move |_, read| {
            assert_eq!(read, ReadResult::Eof);
            *count.borrow_mut() += 1;
        })
        .unwrap();
    run_until(&lp, || *again.borrow() == 1);
    assert!(server.is_readable());
    // The half-closed stream still writes to the peer.
    let back = collect(&client);
    server.write(&[b"bye"], |_, s| s.unwrap()).unwrap();
    server.shutdown(|_, s| s.unwrap()).unwrap();
    run_until(&lp, || back.borrow().eof == 1);
    assert_eq!(back.borrow().data, b"bye");
    finish(&lp, &[&server, &client]);
}

#[test]
fn after_shutdown_writes_are_epipe_and_a_second_shutdown_is_enotconn() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let log = shared(Vec::new());
    let l = log.clone();
    client
        .write(&[b"a"], move |_, s| l.borrow_mut().push(("write", s)))
        .unwrap();
    let l = log.clone();
    client
        .shutdown(move |_, s| l.borrow_mut().push(("shutdown", s)))
        .unwrap();
    assert!(!client.is_writable());
    assert!(client.is_readable());
    assert_eq!(client.write(&[b"b"], |_, _| unreachable!()), Err(EPIPE));
    assert_eq!(
        client.try_write(&[b"b"]),
        Err(Error::Status(StatusCode::EAGAIN))
    );
    assert_eq!(
        client.shutdown(|_, _| unreachable!()),
        Err(Error::Status(StatusCode::ENOTCONN))
    );
    assert!(log.borrow().is_empty(), "nothing runs inside the calls");
    let got = collect(&server);
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(*log.borrow(), [("write", Ok(())), ("shutdown", Ok(()))]);
    assert_eq!(client.try_write(&[b"b"]), Err(EPIPE));
    finish(&lp, &[&server, &client]);
}

#[test]
fn try_write_writes_at_once_or_says_eagain_while_writes_wait() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    assert_eq!(client.try_write(&[b"ab", b"cd"]), Ok(4));
    assert_eq!(
        client.try_write(&[]),
        Err(Error::Status(StatusCode::EINVAL))
    );
    let big = vec![1u8; 16 << 20];
    client.write(&[&big], |_, _| {}).unwrap();
    assert!(client.write_queue_size().unwrap() > 0);
    assert_eq!(
        client.try_write(&[b"x"]),
        Err(Error::Status(StatusCode::EAGAIN))
    );
    let got = collect(&server);
    run_until(&lp, || got.borrow().data.len() == 4 + big.len());
    assert_eq!(&got.borrow().data[..4], b"abcd");
    // The queue drained (its callback ran): try_write goes through again.
    run_until(&lp, || client.write_queue_size().unwrap() == 0);
    assert_eq!(client.try_write(&[b"z"]), Ok(1));
    finish(&lp, &[&server, &client]);
}

#[test]
fn caller_buffers_receive_everything_and_the_end_as_eof() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let log = shared(Vec::new());
    let l = log.clone();
    let sizes = shared(Vec::new());
    let s = sizes.clone();
    server
        .read_start_with(
            move |_, suggested| {
                s.borrow_mut().push(suggested);
                vec![0u8; 7]
            },
            move |_, result, buf| {
                l.borrow_mut().push(result.map(|n| buf[..n].to_vec()));
            },
        )
        .unwrap();
    client
        .write(&[b"0123456789abcdef"], |_, s| s.unwrap())
        .unwrap();
    client.shutdown(|_, s| s.unwrap()).unwrap();
    let eof = Err(Error::Status(StatusCode::EOF));
    run_until(&lp, || log.borrow().last() == Some(&eof));
    let data: Vec<u8> = log
        .borrow()
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .flatten()
        .copied()
        .collect();
    assert_eq!(data, b"0123456789abcdef");
    assert!(log
        .borrow()
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .all(|d| d.len() <= 7));
    assert!(sizes.borrow().iter().all(|&n| n == 65536));
    assert!(!server.is_reading());
    finish(&lp, &[&server, &client]);
}

#[test]
fn an_empty_caller_buffer_is_enobufs_and_reading_goes_on() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let log = shared(Vec::new());
    let l = log.clone();
    let calls = shared(0);
    let c = calls.clone();
    server
        .read_start_with(
            move |_, _| {
                *c.borrow_mut() += 1;
                // The first buffer is empty, the others have room.
                vec![0u8; if *c.borrow() == 1 { 0 } else { 64 }]
            },
            move |_, result, buf: Vec<u8>| {
                l.borrow_mut().push(result.map(|n| buf[..n].to_vec()));
            },
        )
        .unwrap();
    client.write(&[b"hi"], |_, s| s.unwrap()).unwrap();
    run_until(&lp, || {
        log.borrow().iter().any(|r| r.as_deref() == Ok(b"hi"))
    });
    assert_eq!(log.borrow()[0], Err(Error::Status(StatusCode::ENOBUFS)));
    assert!(server.is_reading());
    finish(&lp, &[&server, &client]);
}

#[test]
fn read_stop_inside_the_callback_keeps_the_rest_for_the_next_start() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let first = shared(Vec::new());
    let f = first.clone();
    let data = pattern(1 << 20, 3);
    client.write(&[&data], |_, s| s.unwrap()).unwrap();
    client.shutdown(|_, s| s.unwrap()).unwrap();
    server
        .read_start(move |tcp, read| {
            if let ReadResult::Data(d) = read {
                f.borrow_mut().extend_from_slice(d);
                tcp.read_stop();
            }
        })
        .unwrap();
    run_until(&lp, || !first.borrow().is_empty());
    assert!(!server.is_reading());
    // Nothing more is delivered while stopped.
    let before = first.borrow().len();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(first.borrow().len(), before);
    let rest = collect(&server);
    run_until(&lp, || rest.borrow().eof == 1);
    let mut all = first.borrow().clone();
    all.extend_from_slice(&rest.borrow().data);
    assert!(all == data);
    finish(&lp, &[&server, &client]);
}

#[test]
fn read_start_errors() {
    let lp = Loop::new().unwrap();
    let fresh = Tcp::new(&lp);
    assert_eq!(
        fresh.read_start(|_, _| {}),
        Err(Error::Status(StatusCode::ENOTCONN))
    );
    assert_eq!(
        fresh.write(&[b"x"], |_, _| {}),
        Err(Error::Status(StatusCode::EBADF))
    );
    assert_eq!(
        fresh.shutdown(|_, _| {}),
        Err(Error::Status(StatusCode::ENOTCONN))
    );
    let (server, client) = pair(&lp);
    server.read_start(|_, _| {}).unwrap();
    assert_eq!(
        server.read_start(|_, _| {}),
        Err(Error::Status(StatusCode::EALREADY))
    );
    assert_eq!(
        client.write(&[], |_, _| {}),
        Err(Error::Status(StatusCode::EINVAL))
    );
    server.close(|| {});
    let err = server.read_start(|_, _| {}).unwrap_err();
    assert_eq!(err, Error::ClosedHandle);
    assert_eq!(err.code(), StatusCode::EINVAL);
    finish(&lp, &[&client, &fresh]);
}

#[test]
fn writes_of_every_buffer_count_arrive_whole() {
    // 0 (an empty buffer), 1, the inline slice capacity (16), one past it,
    // and many buffers in one request.
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let got = collect(&server);
    let mut expected = Vec::new();
    let done = shared(0);
    let counts = [1usize, 16, 17, 300];
    client
        .write(&[b""], {
            let d = done.clone();
            move |_, s| {
                s.unwrap();
                *d.borrow_mut() += 1;
            }
        })
        .unwrap();
    for (round, &count) in counts.iter().enumerate() {
        let bufs: Vec<Vec<u8>> = (0..count)
            .map(|i| pattern(i % 7 + 1, (round * 1000 + i) as u64))
            .collect();
        let slices: Vec<&[u8]> = bufs.iter().map(Vec::as_slice).collect();
        expected.extend(bufs.concat());
        let d = done.clone();
        client
            .write(&slices, move |_, s| {
                s.unwrap();
                *d.borrow_mut() += 1;
            })
            .unwrap();
    }
    run_until(&lp, || {
        got.borrow().data.len() == expected.len() && *done.borrow() == 5
    });
    assert_eq!(got.borrow().data, expected);
    finish(&lp, &[&server, &client]);
}

#[test]
fn ipv6_loopback_round_trip() {
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server
        .bind(util::any_v6(), ruv::TcpFlags::IPV6ONLY)
        .unwrap();
    let accepted = shared(None);
    let a = accepted.clone();
    server
        .listen(4, move |server, status| {
            status.unwrap();
            let conn = Tcp::new(server.get_loop());
            server.accept(&conn).unwrap();
            assert_eq!(conn.family(), Ok(Some(ruv::udp::AF_INET6)));
            *a.borrow_mut() = Some(conn);
        })
        .unwrap();
    let client = Tcp::new(&lp);
    client
        .connect(server.sockname().unwrap(), |tcp, s| {
            s.unwrap();
            tcp.write(&[b"six"], |_, s| s.unwrap()).unwrap();
            tcp.shutdown(|_, s| s.unwrap()).unwrap();
        })
        .unwrap();
    run_until(&lp, || accepted.borrow().is_some());
    let conn = accepted.borrow_mut().take().unwrap();
    let got = collect(&conn);
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(got.borrow().data, b"six");
    assert_eq!(client.peername().unwrap(), server.sockname().unwrap());
    let dump = lp.handles();
    assert!(dump.iter().any(|h| h.handle_type == ruv::HandleType::Tcp
        && h.fd == Some(std::os::fd::AsRawFd::as_raw_fd(&conn))));
    finish(&lp, &[&server, &client, &conn]);
}

#[test]
fn try_write_of_every_buffer_count_sends_them_all_up_to_iov_max() {
    // 0 buffers (EINVAL), 1, the inline slice capacity (16), one past it,
    // many, IOV_MAX (1024) and one past it: a try_write sends at most
    // IOV_MAX buffers in its one call, as libuv's uv_try_write.
    const IOV_MAX: usize = 1024;
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    let got = collect(&server);
    assert_eq!(
        client.try_write(&[]),
        Err(Error::Status(StatusCode::EINVAL))
    );
    assert_eq!(
        client.write_owned(Vec::new(), |_, _| panic!("no request")),
        Err(Error::Status(StatusCode::EINVAL))
    );
    let mut expected: Vec<u8> = Vec::new();
    for (round, count) in [1usize, 16, 17, 300, IOV_MAX, IOV_MAX + 1]
        .into_iter()
        .enumerate()
    {
        let bufs: Vec<Vec<u8>> = (0..count)
            .map(|i| pattern(i % 5 + 1, (round * 10_000 + i) as u64))
            .collect();
        let slices: Vec<&[u8]> = bufs.iter().map(Vec::as_slice).collect();
        let sent: usize = bufs.iter().take(IOV_MAX).map(Vec::len).sum();
        assert_eq!(client.try_write(&slices), Ok(sent), "{count} buffers");
        expected.extend(bufs.iter().take(IOV_MAX).flatten());
    }
    run_until(&lp, || got.borrow().data.len() == expected.len());
    assert_eq!(got.borrow().data, expected);
    finish(&lp, &[&server, &client]);
}

/// libuv's tcp_unexpected_read: data arriving on a connection that does
/// not read calls nothing and does not make the loop busy: its edge is
/// handed on once, the data waits in the socket, and the loop would block
/// in its next poll (no ready-list entry, no event per iteration).
#[test]
fn data_for_a_stream_that_does_not_read_keeps_the_loop_idle() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    server
        .read_start(|_, read| panic!("the peer sends nothing: {read:?}"))
        .unwrap();
    let written = shared(false);
    let w = written.clone();
    server
        .write(&[b"PING"], move |_, s| {
            s.unwrap();
            *w.borrow_mut() = true;
        })
        .unwrap();
    run_until(&lp, || *written.borrow());
    // The client's readable edge, if it came after the write callback.
    lp.run(RunMode::NoWait).unwrap();
    let before = lp.metrics().events;
    for _ in 0..10 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(lp.metrics().events, before, "no event per iteration");
    assert_eq!(lp.backend_timeout(), -1, "the next poll would block");
    // The data waited: reading now gets it.
    let got = collect(&client);
    run_until(&lp, || got.borrow().data.len() == 4);
    assert_eq!(got.borrow().data, b"PING");
    finish(&lp, &[&server, &client]);
}

/// libuv's tcp_write_to_half_open_connection: writing to a peer that has
/// closed its socket succeeds (the kernel takes the bytes; the peer's
/// reset comes later), and the reader then sees the end of the stream or
/// ECONNRESET.
#[test]
fn a_write_to_a_peer_that_closed_succeeds_and_the_read_ends() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    client.close(|| {});
    let got = collect(&server);
    let status = shared(None);
    let s = status.clone();
    server
        .write(&[b"hello\n"], move |_, st| *s.borrow_mut() = Some(st))
        .unwrap();
    run_until(&lp, || {
        let got = got.borrow();
        status.borrow().is_some() && (got.eof == 1 || got.error.is_some())
    });
    assert_eq!(*status.borrow(), Some(Ok(())));
    let got = got.borrow();
    assert!(got.data.is_empty());
    assert!(
        got.eof == 1 || got.error == Some(Error::Status(StatusCode::ECONNRESET)),
        "{got:?}"
    );
    drop(got);
    finish(&lp, &[&server]);
}
