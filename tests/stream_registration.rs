//! When a stream's socket is in the loop's epoll set: a socket the loop
//! made joins it at the first operation that needs an event, once, for
//! reading and writing; one never polled (an accepted connection closed
//! unread) never joins it; a descriptor handed out and duplicated leaves
//! it when the handle closes. Read from `/proc/self/fdinfo` of the loop's
//! epoll descriptor, the kernel's own list.

mod util;

use ruv::{Loop, Pipe, ReadResult, RunMode};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

use util::shared;
use util::tcp::{accepting_listener, collect, finish, pair, pattern, run_until};

const EPOLLIN: u32 = 0x1;
const EPOLLOUT: u32 = 0x4;
const EPOLLET: u32 = 1 << 31;

/// The loop's epoll set: (descriptor number, event mask) per entry.
fn epoll_set(lp: &Loop) -> Vec<(RawFd, u32)> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", lp.backend_fd())).unwrap();
    info.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == "tfd:").then_some(())?;
            let fd = words.next()?.parse().ok()?;
            (words.next()? == "events:").then_some(())?;
            let mask = u32::from_str_radix(words.next()?, 16).ok()?;
            Some((fd, mask))
        })
        .collect()
}

/// The masks `fd` is registered with (one entry at most).
fn masks_of(lp: &Loop, fd: RawFd) -> Vec<u32> {
    epoll_set(lp)
        .into_iter()
        .filter(|e| e.0 == fd)
        .map(|e| e.1)
        .collect()
}

fn watched_for_both(lp: &Loop, fd: RawFd) -> bool {
    let masks = masks_of(lp, fd);
    masks.len() == 1 && masks[0] & (EPOLLIN | EPOLLOUT | EPOLLET) == EPOLLIN | EPOLLOUT | EPOLLET
}

#[test]
fn an_accepted_connection_closed_unread_never_joins_the_epoll_set() {
    let lp = Loop::new().unwrap();
    let before = epoll_set(&lp).len();
    let (server, addr, accepted) = accepting_listener(&lp);
    let mut peer = std::net::TcpStream::connect(addr).unwrap();
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    let fd = conn.as_raw_fd();
    assert!(fd >= 0);
    assert_eq!(masks_of(&lp, fd), Vec::<u32>::new());
    // Only the listener joined.
    assert_eq!(epoll_set(&lp).len(), before + 1);
    conn.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(peer.read(&mut buf).unwrap(), 0, "the peer sees the close");
    server.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(epoll_set(&lp).len(), before);
    lp.close().unwrap();
}

#[test]
fn a_connect_registers_once_for_reading_and_writing_and_its_end_changes_nothing() {
    let lp = Loop::new().unwrap();
    let (conn, client) = pair(&lp);
    // Connected: still watched for both, no interest taken back.
    assert!(watched_for_both(&lp, client.as_raw_fd()));
    // The accepted end has done nothing that needs an event.
    assert_eq!(masks_of(&lp, conn.as_raw_fd()), Vec::<u32>::new());
    // Reading registers it, once, and data flows both ways with no change.
    let got = collect(&conn);
    assert!(watched_for_both(&lp, conn.as_raw_fd()));
    let from_client = collect(&client);
    client.write(&[b"ping"], |_, r| r.unwrap()).unwrap();
    run_until(&lp, || got.borrow().data == b"ping");
    conn.write(&[b"pong"], |_, r| r.unwrap()).unwrap();
    run_until(&lp, || from_client.borrow().data == b"pong");
    assert!(watched_for_both(&lp, conn.as_raw_fd()));
    assert!(watched_for_both(&lp, client.as_raw_fd()));
    finish(&lp, &[&conn, &client]);
}

/// Writes `sizes` on the accepted end of a fresh pair, the other end
/// reading only after all were made: whether the accepted end joined the
/// epoll set, and that every byte and callback arrived in order.
fn write_sizes(sizes: &[usize]) -> bool {
    let lp = Loop::new().unwrap();
    let (server, addr, accepted) = accepting_listener(&lp);
    let mut peer = std::net::TcpStream::connect(addr).unwrap();
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    server.close(|| {});
    let done = shared(Vec::new());
    let mut expected = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let data = pattern(n, i as u64 + 1);
        expected.extend_from_slice(&data);
        let d = done.clone();
        conn.write(&[&data], move |_, r| {
            r.unwrap();
            d.borrow_mut().push(i);
        })
        .unwrap();
    }
    let joined = !masks_of(&lp, conn.as_raw_fd()).is_empty();
    // The peer drains from another thread while the loop writes the rest.
    let total = expected.len();
    let reader = std::thread::spawn(move || {
        let mut got = vec![0u8; total];
        peer.read_exact(&mut got).unwrap();
        peer.write_all(b"x").unwrap();
        got
    });
    run_until(&lp, || done.borrow().len() == sizes.len());
    assert_eq!(*done.borrow(), (0..sizes.len()).collect::<Vec<_>>());
    assert_eq!(reader.join().unwrap(), expected);
    finish(&lp, &[&conn]);
    joined
}

#[test]
fn writes_that_go_out_at_once_never_register_the_socket() {
    // 0 bytes, 1 byte, a few small writes, many.
    assert!(!write_sizes(&[0]));
    assert!(!write_sizes(&[1]));
    assert!(!write_sizes(&[1, 64, 1000]));
    assert!(!write_sizes(&[64; 100]));
}

#[test]
fn a_write_that_waits_for_room_registers_the_socket_and_completes() {
    // More than the socket buffers take: the rest waits for a writable
    // edge, alone and behind and before other writes.
    assert!(write_sizes(&[16 << 20]));
    assert!(write_sizes(&[1, 16 << 20, 1]));
}

#[test]
fn a_descriptor_handed_out_and_duplicated_leaves_the_epoll_set_when_closed() {
    let lp = Loop::new().unwrap();
    let (conn, client) = pair(&lp);
    let got = collect(&conn);
    let fd = conn.as_raw_fd();
    assert!(watched_for_both(&lp, fd));
    // SAFETY: the handle is open here and owns `fd`; the borrow ends
    // with the duplicate made.
    let dup = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
        .try_clone_to_owned()
        .unwrap();
    conn.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    // The duplicate keeps the file open: only a deregistration removes it.
    assert_eq!(masks_of(&lp, fd), Vec::<u32>::new());
    // Data for the old file reaches no handle of the loop.
    client.write(&[b"late"], |_, r| r.unwrap()).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert!(got.borrow().data.is_empty());
    drop(dup);
    finish(&lp, &[&client]);
}

#[test]
fn a_socket_closed_without_being_handed_out_leaves_the_epoll_set() {
    let lp = Loop::new().unwrap();
    let before = epoll_set(&lp).len();
    for _ in 0..3 {
        let (conn, client) = pair(&lp);
        let _got = collect(&conn);
        let _back = collect(&client);
        conn.close(|| {});
        client.close(|| {});
        lp.run(RunMode::NoWait).unwrap();
        assert_eq!(epoll_set(&lp).len(), before);
    }
    lp.close().unwrap();
}

#[test]
fn a_pipe_asks_for_writable_edges_only_while_writes_wait() {
    // A Unix socket raises a writable edge each time its peer reads, so a
    // pipe registered for writing for good would wake the loop once more
    // per message: it registers for reading, and for writing only while
    // writes wait.
    let lp = Loop::new().unwrap();
    let (mine, mut peer) = UnixStream::pair().unwrap();
    let pipe = Pipe::new(&lp, false);
    pipe.open(mine).unwrap();
    let fd = pipe.as_raw_fd();
    let only_reading = |lp: &Loop| {
        let masks = masks_of(lp, fd);
        masks.len() == 1 && masks[0] & (EPOLLIN | EPOLLOUT) == EPOLLIN
    };
    assert!(only_reading(&lp));
    // 1 byte goes out at once: nothing changes.
    pipe.write(&[b"x"], |_, r| r.unwrap()).unwrap();
    assert!(only_reading(&lp));
    // More than the socket takes: writable edges wanted until it drained.
    let big = pattern(16 << 20, 7);
    let done = shared(false);
    let d = done.clone();
    pipe.write(&[&big], move |_, r| {
        r.unwrap();
        *d.borrow_mut() = true;
    })
    .unwrap();
    let masks = masks_of(&lp, fd);
    assert_eq!(masks.len(), 1);
    assert_eq!(masks[0] & (EPOLLIN | EPOLLOUT), EPOLLIN | EPOLLOUT);
    let reader = std::thread::spawn(move || {
        let mut got = vec![0u8; 1 + (16 << 20)];
        peer.read_exact(&mut got).unwrap();
        (peer, got)
    });
    run_until(&lp, || *done.borrow());
    let (mut peer, got) = reader.join().unwrap();
    assert_eq!(got[0], b'x');
    assert!(got[1..] == big[..]);
    assert!(only_reading(&lp));

    // An echo against a peer that pauses between messages: one event per
    // message (two if every read of the peer raised a writable edge).
    let echoes = 200;
    let seen = shared(0usize);
    let s2 = seen.clone();
    pipe.read_start(move |p, r| {
        if let ReadResult::Data(d) = r {
            *s2.borrow_mut() += d.len();
            p.write(&[d], |_, r| r.unwrap()).unwrap();
        }
    })
    .unwrap();
    let before = lp.metrics().events;
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        for i in 0..echoes {
            peer.write_all(&[i as u8; 64]).unwrap();
            peer.read_exact(&mut buf).unwrap();
            assert_eq!(buf, [i as u8; 64]);
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    });
    run_until(&lp, || *seen.borrow() == echoes * 64);
    echo.join().unwrap();
    let events = lp.metrics().events - before;
    assert!(
        events < (echoes as u64) * 3 / 2,
        "{events} events for {echoes} echoes"
    );
    pipe.close(|| {});
    lp.run(RunMode::Default).unwrap();
    lp.close().unwrap();
}
