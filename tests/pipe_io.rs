//! Data through pipes: echo over a filesystem and an abstract name, pipe
//! and socket pairs, opened descriptors and their direction, EOF,
//! shutdown, large transfers, closing with writes pending (libuv's
//! test-pipe-set-non-blocking.c, test-pipe-close-stdout-read-stdin.c,
//! test-ping-pong.c and test-shutdown-*.c pinned in our words for pipes).

mod util;

use ruv::{pipe_fds, Error, Loop, Pipe, RunMode, StatusCode};
use std::cell::RefCell;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use util::pipe::{abstract_name, collect, connected, echo, finish, temp_path};
use util::shared;
use util::tcp::{pattern, run_until};

fn status(code: StatusCode) -> Error {
    Error::Status(code)
}

/// Sends `msg` from `client` to an echoing `server` and checks it comes
/// back exactly.
fn echo_through(lp: &Loop, server: &Pipe, client: &Pipe, msg: &[u8]) {
    echo(server);
    let got = collect(client);
    let written = shared(false);
    let flag = written.clone();
    client
        .write(&[&msg[..3], &msg[3..]], move |_, s| {
            s.unwrap();
            *flag.borrow_mut() = true;
        })
        .unwrap();
    assert!(!*written.borrow(), "the callback never runs inside write");
    run_until(lp, || got.borrow().data.len() == msg.len());
    assert!(*written.borrow());
    assert_eq!(got.borrow().data, msg);
}

#[test]
fn echo_over_a_filesystem_socket() {
    let lp = Loop::new().unwrap();
    let path = temp_path("echo");
    let (server, client) = connected(&lp, path.as_os_str());
    echo_through(&lp, &server, &client, b"hello over a socket file");
    finish(&lp, &[&server, &client]);
    assert!(!path.exists());
}

#[test]
fn echo_over_an_abstract_name() {
    let lp = Loop::new().unwrap();
    let name = abstract_name("echo");
    let (server, client) = connected(&lp, OsStr::new(&name));
    echo_through(&lp, &server, &client, b"hello in the abstract namespace");
    finish(&lp, &[&server, &client]);
}

#[test]
fn a_socket_pair_round_trips_both_ways() {
    let lp = Loop::new().unwrap();
    let (a, b) = Pipe::pair(&lp).unwrap();
    for p in [&a, &b] {
        assert!(p.is_readable() && p.is_writable());
    }
    echo_through(&lp, &a, &b, b"pair, one way");
    a.read_stop();
    b.read_stop();
    echo_through(&lp, &b, &a, b"pair, the other way");
    // An unnamed pair: empty names on both sides.
    assert_eq!(a.sockname().unwrap(), "");
    assert_eq!(b.peername().unwrap(), "");
    finish(&lp, &[&a, &b]);
}

#[test]
fn a_pipe_carries_data_one_way_then_eof() {
    let lp = Loop::new().unwrap();
    let (reader, writer) = Pipe::anonymous(&lp).unwrap();
    assert!(reader.is_readable() && !reader.is_writable());
    assert!(!writer.is_readable() && writer.is_writable());
    let got = collect(&reader);
    writer
        .write(&[b"through ", b"a pipe"], |_, s| s.unwrap())
        .unwrap();
    run_until(&lp, || got.borrow().data.len() == 14);
    assert_eq!(got.borrow().data, b"through a pipe");
    assert_eq!(got.borrow().eof, 0);
    writer.close(|| {});
    run_until(&lp, || got.borrow().eof == 1);
    // After the end of the stream it stays readable (libuv's
    // readable_on_eof) and reading again reports the end again.
    assert!(reader.is_readable());
    assert!(!reader.is_reading());
    let again = collect(&reader);
    run_until(&lp, || again.borrow().eof == 1);
    assert_eq!(got.borrow().data, b"through a pipe");
    finish(&lp, &[&reader]);
}

#[test]
fn the_direction_of_an_opened_descriptor_follows_its_access_mode() {
    let lp = Loop::new().unwrap();
    let (r, w) = pipe_fds(false, false).unwrap();
    let reader = Pipe::from_fd(&lp, r).unwrap();
    let writer = Pipe::from_fd(&lp, w).unwrap();
    // Writing to the read end: EPIPE; reading the write end: ENOTCONN.
    assert_eq!(
        reader.write(&[b"x"], |_, _| panic!("not queued")),
        Err(status(StatusCode::EPIPE))
    );
    assert_eq!(reader.try_write(&[b"x"]), Err(status(StatusCode::EPIPE)));
    assert_eq!(
        writer.read_start(|_, _| panic!("not reading")),
        Err(status(StatusCode::ENOTCONN))
    );
    // Both were made non-blocking.
    for p in [&reader, &writer] {
        assert_ne!(fcntl_flags(p) & libc::O_NONBLOCK, 0);
    }
    // Not sockets: no names.
    assert_eq!(reader.sockname(), Err(status(StatusCode::ENOTSOCK)));
    assert_eq!(writer.try_write(&[b"ab", b"c"]), Ok(3));
    let got = collect(&reader);
    run_until(&lp, || got.borrow().data.len() == 3);
    assert_eq!(got.borrow().data, b"abc");
    finish(&lp, &[&reader, &writer]);
}

fn fcntl_flags(p: &Pipe) -> i32 {
    let path = format!("/proc/self/fdinfo/{}", p.as_raw_fd());
    let info = std::fs::read_to_string(path).unwrap();
    let line = info.lines().find(|l| l.starts_with("flags:")).unwrap();
    i32::from_str_radix(line.trim_start_matches("flags:").trim(), 8).unwrap()
}

#[test]
fn an_opened_socket_is_readable_and_writable_and_written_with_sendmsg() {
    let lp = Loop::new().unwrap();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let pipe = Pipe::from_fd(&lp, ours).unwrap();
    assert!(pipe.is_readable() && pipe.is_writable());
    pipe.write(&[b"to std"], |_, s| s.unwrap()).unwrap();
    let mut buf = [0u8; 6];
    theirs.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"to std");
    // The peer gone: EPIPE, no SIGPIPE (MSG_NOSIGNAL).
    drop(theirs);
    let got = shared(None);
    let into = got.clone();
    let big = vec![1u8; 1 << 20];
    pipe.write(&[&big], move |_, s| *into.borrow_mut() = Some(s))
        .unwrap();
    run_until(&lp, || got.borrow().is_some());
    let outcome = got.borrow_mut().take().unwrap();
    assert!(
        matches!(outcome, Err(e) if e == StatusCode::EPIPE || e == StatusCode::ECONNRESET),
        "{outcome:?}"
    );
    finish(&lp, &[&pipe]);
}

#[test]
fn open_on_a_handle_with_a_descriptor_is_ebusy() {
    let lp = Loop::new().unwrap();
    let (a, b) = Pipe::pair(&lp).unwrap();
    let (x, _y) = UnixStream::pair().unwrap();
    assert_eq!(a.open(x), Err(status(StatusCode::EBUSY)));
    // A regular file cannot be watched by epoll.
    let path = temp_path("regular");
    let file = std::fs::File::create(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        Pipe::from_fd(&lp, OwnedFd::from(file)).map(|_| ()),
        Err(status(StatusCode::EPERM))
    );
    finish(&lp, &[&a, &b]);
}

#[test]
fn eof_from_the_peer_keeps_the_stream_writable() {
    let lp = Loop::new().unwrap();
    let (a, b) = Pipe::pair(&lp).unwrap();
    let got = collect(&a);
    b.write(&[b"last words"], |_, s| s.unwrap()).unwrap();
    let shut = shared(None);
    let into = shut.clone();
    b.shutdown(move |_, s| *into.borrow_mut() = Some(s))
        .unwrap();
    assert!(!b.is_writable());
    assert_eq!(
        b.write(&[b"late"], |_, _| panic!("not queued")),
        Err(status(StatusCode::EPIPE))
    );
    assert_eq!(
        b.shutdown(|_, _| panic!("refused")),
        Err(status(StatusCode::ENOTCONN))
    );
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(*shut.borrow(), Some(Ok(())));
    assert_eq!(got.borrow().data, b"last words");
    // Half-closed: `a` can still answer.
    assert!(a.is_writable());
    let back = collect(&b);
    a.write(&[b"reply"], |_, s| s.unwrap()).unwrap();
    run_until(&lp, || back.borrow().data == b"reply");
    finish(&lp, &[&a, &b]);
}

#[test]
fn shutdown_on_a_pipe_end_reports_enotsock_as_libuv() {
    // libuv's shutdown is shutdown(2), which a pipe end does not have;
    // the callback says so from the pending phase.
    let lp = Loop::new().unwrap();
    let (reader, writer) = Pipe::anonymous(&lp).unwrap();
    let got = shared(None);
    let into = got.clone();
    writer
        .shutdown(move |_, s| *into.borrow_mut() = Some(s))
        .unwrap();
    assert!(got.borrow().is_none());
    run_until(&lp, || got.borrow().is_some());
    assert_eq!(*got.borrow(), Some(Err(status(StatusCode::ENOTSOCK))));
    finish(&lp, &[&reader, &writer]);
}

#[test]
fn megabytes_through_a_pipe_arrive_whole_and_in_order() {
    let lp = Loop::new().unwrap();
    let (reader, writer) = Pipe::anonymous(&lp).unwrap();
    let data = pattern(4 << 20, 11);
    let got = collect(&reader);
    let order = shared(Vec::new());
    // Many requests, far more than the pipe holds (64 KiB): most wait,
    // partly written, and go out in order.
    for (i, chunk) in data.chunks(100_003).enumerate() {
        let into = order.clone();
        writer
            .write(&[chunk], move |_, s| {
                s.unwrap();
                into.borrow_mut().push(i);
            })
            .unwrap();
    }
    let requests = data.chunks(100_003).count();
    assert!(writer.write_queue_size().unwrap() > 0);
    run_until(&lp, || got.borrow().data.len() == data.len());
    run_until(&lp, || order.borrow().len() == requests);
    assert!(got.borrow().data == data, "every byte, in order");
    assert_eq!(*order.borrow(), (0..requests).collect::<Vec<_>>());
    assert_eq!(writer.write_queue_size().unwrap(), 0);
    finish(&lp, &[&reader, &writer]);
}

#[test]
fn owned_writes_and_caller_buffers_work_on_pipes() {
    let lp = Loop::new().unwrap();
    let (reader, writer) = Pipe::anonymous(&lp).unwrap();
    let got = shared(Vec::new());
    let into = got.clone();
    reader
        .read_start_with(
            |_, size| vec![0u8; size.min(7)],
            move |_, n, buf| {
                if let Ok(n) = n {
                    into.borrow_mut().extend_from_slice(&buf[..n]);
                }
            },
        )
        .unwrap();
    writer
        .write_owned(vec![b"owned ".to_vec(), b"buffers".to_vec()], |_, s| {
            s.unwrap()
        })
        .unwrap();
    run_until(&lp, || got.borrow().len() == 13);
    assert_eq!(*got.borrow(), b"owned buffers");
    finish(&lp, &[&reader, &writer]);
}

#[test]
fn closing_with_writes_pending_cancels_them_in_order_before_the_close_callback() {
    let lp = Loop::new().unwrap();
    let (reader, writer) = Pipe::anonymous(&lp).unwrap();
    let log = shared(Vec::new());
    // The first fills the pipe and waits; the others wait behind it.
    let big = vec![0u8; 1 << 20];
    for i in 0..3 {
        let into = log.clone();
        let buf: &[u8] = if i == 0 { &big } else { b"small" };
        writer
            .write(&[buf], move |_, s| {
                into.borrow_mut().push(format!("write{i} {s:?}"))
            })
            .unwrap();
    }
    let into = log.clone();
    writer
        .shutdown(move |_, s| into.borrow_mut().push(format!("shutdown {s:?}")))
        .unwrap();
    let into = log.clone();
    writer.close(move || into.borrow_mut().push("close".into()));
    assert!(log.borrow().is_empty(), "nothing inside close");
    lp.run(RunMode::NoWait).unwrap();
    let cancelled = format!("{:?}", Err::<(), _>(status(StatusCode::ECANCELED)));
    assert_eq!(
        *log.borrow(),
        vec![
            format!("write0 {cancelled}"),
            format!("write1 {cancelled}"),
            format!("write2 {cancelled}"),
            format!("shutdown {cancelled}"),
            "close".to_string(),
        ]
    );
    finish(&lp, &[&reader]);
}

#[test]
fn closing_while_connecting_cancels_the_connect_first() {
    let lp = Loop::new().unwrap();
    let name = abstract_name("cancel");
    let (server, accepted) = util::pipe::listener(&lp, OsStr::new(&name));
    let client = Pipe::new(&lp, false);
    let log = shared(Vec::new());
    let into = log.clone();
    client
        .connect(&name, move |_, s| {
            into.borrow_mut().push(format!("connect {s:?}"))
        })
        .unwrap();
    let into = log.clone();
    client
        .write(&[b"queued"], move |_, s| {
            into.borrow_mut().push(format!("write {s:?}"))
        })
        .unwrap();
    let into = log.clone();
    client.close(move || into.borrow_mut().push("close".into()));
    lp.run(RunMode::NoWait).unwrap();
    let cancelled = format!("{:?}", Err::<(), _>(status(StatusCode::ECANCELED)));
    assert_eq!(
        *log.borrow(),
        vec![
            format!("connect {cancelled}"),
            format!("write {cancelled}"),
            "close".to_string(),
        ]
    );
    // The kernel had completed the connection: the listener took it.
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    finish(&lp, &[&server, &conn]);
}

#[test]
fn a_second_read_start_is_ealready_and_unconnected_reads_are_enotconn() {
    let lp = Loop::new().unwrap();
    let unconnected = Pipe::new(&lp, false);
    assert_eq!(
        unconnected.read_start(|_, _| {}),
        Err(status(StatusCode::ENOTCONN))
    );
    assert_eq!(
        unconnected.write(&[b"x"], |_, _| {}),
        Err(status(StatusCode::EBADF))
    );
    let (a, b) = Pipe::pair(&lp).unwrap();
    a.read_start(|_, _| {}).unwrap();
    assert_eq!(a.read_start(|_, _| {}), Err(status(StatusCode::EALREADY)));
    assert!(a.is_reading());
    a.read_stop();
    assert!(!a.is_reading());
    finish(&lp, &[&unconnected, &a, &b]);
}

#[test]
fn a_pipe_handle_reads_what_a_std_writer_sends() {
    let lp = Loop::new().unwrap();
    let (r, w) = pipe_fds(true, false).unwrap();
    let reader = Pipe::from_fd(&lp, r).unwrap();
    let got = collect(&reader);
    let mut w = std::fs::File::from(w);
    w.write_all(b"from a blocking writer").unwrap();
    drop(w);
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(got.borrow().data, b"from a blocking writer");
    finish(&lp, &[&reader]);
}

#[test]
fn pipe_fds_sets_non_blocking_per_end_and_close_on_exec() {
    let (r, w) = pipe_fds(true, false).unwrap();
    let flags = |fd: &OwnedFd| {
        let info =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).unwrap();
        let line = info.lines().find(|l| l.starts_with("flags:")).unwrap();
        i32::from_str_radix(line.trim_start_matches("flags:").trim(), 8).unwrap()
    };
    assert_ne!(flags(&r) & libc::O_NONBLOCK, 0);
    assert_eq!(flags(&w) & libc::O_NONBLOCK, 0);
    assert_ne!(flags(&r) & libc::O_CLOEXEC, 0);
    assert_ne!(flags(&w) & libc::O_CLOEXEC, 0);
}

#[test]
fn data_written_while_connecting_reaches_the_accepted_end() {
    // The write waits for the connect, then goes out; the accepted end
    // reads it although it started reading after it arrived.
    let lp = Loop::new().unwrap();
    let name = abstract_name("early");
    let (server, accepted) = util::pipe::listener(&lp, OsStr::new(&name));
    let client = Pipe::new(&lp, false);
    client.connect(&name, |_, s| s.unwrap()).unwrap();
    client.write(&[b"early"], |_, s| s.unwrap()).unwrap();
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    let got = collect(&conn);
    run_until(&lp, || got.borrow().data == b"early");
    finish(&lp, &[&server, &client, &conn]);
}

#[test]
fn an_opened_std_listener_listens_and_accepts() {
    let lp = Loop::new().unwrap();
    let path = temp_path("std-listener");
    let std_listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let server = Pipe::from_fd(&lp, std_listener).unwrap();
    let accepted = shared(Vec::new());
    let into = accepted.clone();
    server
        .listen(8, move |server, status| {
            status.unwrap();
            let conn = Pipe::new(server.get_loop(), false);
            server.accept(&conn).unwrap();
            into.borrow_mut().push(conn);
        })
        .unwrap();
    let mut peer = UnixStream::connect(&path).unwrap();
    peer.write_all(b"from std").unwrap();
    drop(peer);
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    let got = collect(&conn);
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(got.borrow().data, b"from std");
    // Opened, not bound by the handle: the file is the caller's to remove.
    finish(&lp, &[&server, &conn]);
    assert!(path.exists());
    std::fs::remove_file(&path).unwrap();
}

/// Found by the model: a shutdown made from a write callback, with nothing
/// left to write, is reported in the same pending round; the handle must
/// not stay on the pending list owing nothing (that kept the loop alive for
/// an empty round, and tripped the pending phase's debug assertion).
#[test]
fn a_shutdown_made_in_a_write_callback_leaves_nothing_owed() {
    let lp = Loop::new().unwrap();
    let (a, b) = Pipe::pair(&lp).unwrap();
    let done = Rc::new(RefCell::new(Vec::new()));
    let d = done.clone();
    a.write(&[b"x"], move |a, status| {
        status.unwrap();
        d.borrow_mut().push("write");
        let d = d.clone();
        a.shutdown(move |_, status| {
            status.unwrap();
            d.borrow_mut().push("shutdown");
        })
        .unwrap();
    })
    .unwrap();
    for _ in 0..10 {
        if done.borrow().len() == 2 {
            break;
        }
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*done.borrow(), ["write", "shutdown"]);
    assert!(
        !lp.alive(),
        "nothing is owed: neither pipe reads nor writes"
    );
    a.close(|| {});
    b.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

/// `set_blocking` on a pipe handle over a socket (libuv's
/// `uv_stream_set_blocking`): the descriptor loses and regains
/// `O_NONBLOCK`, and writes made meanwhile arrive whole. A pipe end is
/// refused with ENOTSUP (its `read(2)` would block the loop), its flags
/// untouched; no descriptor yet is EBADF.
#[test]
fn set_blocking_works_on_sockets_and_is_enotsup_on_pipe_ends() {
    let lp = Loop::new().unwrap();
    let (a, b) = Pipe::pair(&lp).unwrap();
    assert_ne!(fcntl_flags(&a) & libc::O_NONBLOCK, 0);
    a.set_blocking(true).unwrap();
    assert_eq!(fcntl_flags(&a) & libc::O_NONBLOCK, 0);
    echo_through(&lp, &b, &a, b"blocking writes");
    a.set_blocking(false).unwrap();
    assert_ne!(fcntl_flags(&a) & libc::O_NONBLOCK, 0);

    let (reader, writer) = Pipe::anonymous(&lp).unwrap();
    for end in [&reader, &writer] {
        assert_eq!(end.set_blocking(true), Err(status(StatusCode::ENOTSUP)));
        assert_ne!(fcntl_flags(end) & libc::O_NONBLOCK, 0);
    }
    let unopened = Pipe::new(&lp, false);
    assert_eq!(unopened.set_blocking(true), Err(status(StatusCode::EBADF)));
    finish(&lp, &[&a, &b, &reader, &writer, &unopened]);
}
