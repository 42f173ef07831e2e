//! Passing handles over IPC pipes (libuv's `uv_write2`,
//! `uv_pipe_pending_count`, `uv_pipe_pending_type` and `uv_accept` on an
//! IPC pipe), as libuv's `test-ipc.c` and `test-ipc-send-recv.c` pin them,
//! without a child process: both ends of a socket pair live in one loop.

mod util;

use ruv::{Error, HandleType, Loop, Pipe, ReadResult, RunMode, StatusCode, Tcp, TcpFlags, Udp};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use util::tcp::{pair as tcp_pair, pattern, run_until};
use util::{any_v4, bound_udp, shared, Shared};

const EINVAL: Error = Error::Status(StatusCode::EINVAL);
const EBADF: Error = Error::Status(StatusCode::EBADF);
const EAGAIN: Error = Error::Status(StatusCode::EAGAIN);
const EBUSY: Error = Error::Status(StatusCode::EBUSY);

/// Two IPC pipes over a Unix stream socket pair (libuv's `uv_socketpair`
/// with `uv_pipe_init(.., 1)` and `uv_pipe_open`).
fn ipc_pair(lp: &Loop) -> (Pipe, Pipe) {
    let (a, b) = UnixStream::pair().unwrap();
    let first = Pipe::new(lp, true);
    first.open(a).unwrap();
    let second = Pipe::new(lp, true);
    second.open(b).unwrap();
    (first, second)
}

/// What the receiving end saw: the bytes, and after each read the bytes
/// so far with the handles waiting then.
#[derive(Default)]
struct Received {
    data: Vec<u8>,
    reads: Vec<(usize, usize)>,
}

fn receive(pipe: &Pipe) -> Shared<Received> {
    let got = shared(Received::default());
    let into = got.clone();
    pipe.read_start(move |pipe, read| {
        let ReadResult::Data(data) = read else {
            panic!("unexpected {read:?}");
        };
        let mut got = into.borrow_mut();
        got.data.extend_from_slice(data);
        let entry = (got.data.len(), pipe.pending_count());
        got.reads.push(entry);
    })
    .unwrap();
    got
}

/// A write callback that records its status.
fn status_into(log: &Shared<Vec<Result<(), Error>>>) -> impl FnOnce(&Pipe, Result<(), Error>) {
    let log = log.clone();
    move |_, status| log.borrow_mut().push(status)
}

fn finish(lp: &Loop) {
    lp.walk(|h| {
        if !h.is_closing() {
            h.close(|| {});
        }
    });
    run_until(lp, || !lp.alive());
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}

#[test]
fn a_listening_tcp_handle_is_passed_and_accepts_connections_on_the_other_side() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let listener = Tcp::new(&lp);
    listener.bind(any_v4(), TcpFlags::empty()).unwrap();
    listener
        .listen(16, |_, _| panic!("the sender does not accept"))
        .unwrap();
    let addr = listener.sockname().unwrap();
    let sent = shared(Vec::new());
    sender
        .write2(&[b"P"], &listener, status_into(&sent))
        .unwrap();
    // The request holds its own descriptor: the sender's handle may go.
    listener.close(|| {});
    let got = receive(&receiver);
    run_until(&lp, || got.borrow().data == b"P");
    assert_eq!(got.borrow().reads, [(1, 1)]);
    assert_eq!(*sent.borrow(), [Ok(())]);
    assert_eq!(receiver.pending_type(), Some(HandleType::Tcp));
    let server = Tcp::new(&lp);
    receiver.accept_handle(&server).unwrap();
    assert_eq!(receiver.pending_count(), 0);
    assert_eq!(receiver.pending_type(), None);
    assert_eq!(server.sockname().unwrap(), addr);
    let accepted = util::tcp::listen_accepting(&server);
    let client = Tcp::new(&lp);
    client.connect(addr, |_, status| status.unwrap()).unwrap();
    client
        .write(&[b"hello"], |_, status| status.unwrap())
        .unwrap();
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow()[0].clone();
    let data = util::tcp::collect(&conn);
    run_until(&lp, || data.borrow().data.len() == 5);
    assert_eq!(data.borrow().data, b"hello");
    finish(&lp);
}

#[test]
fn a_connected_tcp_handle_is_passed_and_carries_data_both_ways() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (conn, client) = tcp_pair(&lp);
    let sent = shared(Vec::new());
    sender.write2(&[b"T"], &conn, status_into(&sent)).unwrap();
    conn.close(|| {});
    let got = receive(&receiver);
    run_until(&lp, || got.borrow().data == b"T");
    assert_eq!(receiver.pending_count(), 1);
    assert_eq!(receiver.pending_type(), Some(HandleType::Tcp));
    let moved = Tcp::new(&lp);
    receiver.accept_handle(&moved).unwrap();
    assert!(moved.is_readable() && moved.is_writable());
    assert_eq!(moved.peername().unwrap(), client.sockname().unwrap());
    let at_client = util::tcp::collect(&client);
    let at_moved = util::tcp::collect(&moved);
    moved.write(&[b"from moved"], |_, s| s.unwrap()).unwrap();
    client.write(&[b"from client"], |_, s| s.unwrap()).unwrap();
    run_until(&lp, || {
        at_client.borrow().data.len() == 10 && at_moved.borrow().data.len() == 11
    });
    assert_eq!(at_client.borrow().data, b"from moved");
    assert_eq!(at_moved.borrow().data, b"from client");
    assert_eq!(*sent.borrow(), [Ok(())]);
    finish(&lp);
}

#[test]
fn a_udp_handle_is_passed_and_receives_datagrams() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (udp, addr) = bound_udp(&lp);
    sender.write2(&[b"U"], &udp, |_, s| s.unwrap()).unwrap();
    udp.close(|| {});
    let got = receive(&receiver);
    run_until(&lp, || got.borrow().data == b"U");
    assert_eq!(receiver.pending_type(), Some(HandleType::Udp));
    let moved = Udp::new(&lp);
    receiver.accept_handle(&moved).unwrap();
    assert_eq!(moved.sockname().unwrap(), addr);
    let datagrams = shared(Vec::new());
    let into = datagrams.clone();
    moved
        .receive_start(move |_, dgram| into.borrow_mut().push(dgram.unwrap().data.to_vec()))
        .unwrap();
    let peer = UdpSocket::bind(any_v4()).unwrap();
    peer.send_to(b"datagram", addr).unwrap();
    run_until(&lp, || !datagrams.borrow().is_empty());
    assert_eq!(*datagrams.borrow(), [b"datagram".to_vec()]);
    finish(&lp);
}

#[test]
fn a_pipe_is_passed_and_accept_on_an_ipc_pipe_takes_it() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (near, far) = Pipe::pair(&lp).unwrap();
    sender.write2(&[b"N"], &near, |_, s| s.unwrap()).unwrap();
    near.close(|| {});
    let got = receive(&receiver);
    run_until(&lp, || got.borrow().data == b"N");
    assert_eq!(receiver.pending_type(), Some(HandleType::NamedPipe));
    let moved = Pipe::new(&lp, false);
    // libuv's uv_accept on an IPC pipe: the next handle received.
    receiver.accept(&moved).unwrap();
    assert_eq!(receiver.accept(&Pipe::new(&lp, false)), Err(EAGAIN));
    let at_far = util::pipe::collect(&far);
    moved.write(&[b"through"], |_, s| s.unwrap()).unwrap();
    run_until(&lp, || at_far.borrow().data.len() == 7);
    assert_eq!(at_far.borrow().data, b"through");
    finish(&lp);
}

#[test]
fn several_handles_in_a_row_arrive_in_one_iteration_in_order() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (udp, _) = bound_udp(&lp);
    let (conn, _client) = tcp_pair(&lp);
    let (near, _far) = Pipe::pair(&lp).unwrap();
    sender.write2(&[b"a"], &conn, |_, s| s.unwrap()).unwrap();
    sender.write2(&[b"b"], &udp, |_, s| s.unwrap()).unwrap();
    sender
        .write2(&[b"c", b"d"], &near, |_, s| s.unwrap())
        .unwrap();
    let got = receive(&receiver);
    // The kernel ends a read at each passed descriptor, so three reads;
    // all in the one readiness event (no further edge would come).
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(got.borrow().data, b"abcd");
    assert_eq!(got.borrow().reads, [(1, 1), (2, 2), (4, 3)]);
    let mut kinds = Vec::new();
    let tcp = Tcp::new(&lp);
    let udp2 = Udp::new(&lp);
    let pipe = Pipe::new(&lp, false);
    kinds.push(receiver.pending_type());
    // The wrong type is EINVAL and the handle stays first in line.
    assert_eq!(receiver.accept_handle(&udp2), Err(EINVAL));
    assert_eq!(receiver.pending_count(), 3);
    receiver.accept_handle(&tcp).unwrap();
    kinds.push(receiver.pending_type());
    receiver.accept_handle(&udp2).unwrap();
    kinds.push(receiver.pending_type());
    receiver.accept_handle(&pipe).unwrap();
    assert_eq!(
        kinds,
        [
            Some(HandleType::Tcp),
            Some(HandleType::Udp),
            Some(HandleType::NamedPipe)
        ]
    );
    assert_eq!(receiver.pending_count(), 0);
    assert_eq!(receiver.accept_handle(&Tcp::new(&lp)), Err(EAGAIN));
    finish(&lp);
}

#[test]
fn each_descriptor_arrives_with_the_first_byte_of_its_own_write() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (udp, _) = bound_udp(&lp);
    // A first write larger than the socket takes, so that the rest queue
    // and leave through the gathering flush.
    let big = pattern(4 << 20, 7);
    let small = [
        b"x".to_vec(),
        b"yy".to_vec(),
        b"zzz".to_vec(),
        b"w".to_vec(),
    ];
    let statuses = shared(Vec::new());
    sender.write(&[&big], status_into(&statuses)).unwrap();
    sender.write(&[&small[0]], status_into(&statuses)).unwrap();
    sender
        .write2(&[&small[1]], &udp, status_into(&statuses))
        .unwrap();
    sender.write(&[&small[2]], status_into(&statuses)).unwrap();
    sender
        .write2(&[&small[3]], &udp, status_into(&statuses))
        .unwrap();
    let mut expected = big.clone();
    let mut starts = Vec::new();
    for (i, part) in small.iter().enumerate() {
        if i % 2 == 1 {
            starts.push(expected.len());
        }
        expected.extend_from_slice(part);
    }
    let got = receive(&receiver);
    run_until(&lp, || got.borrow().data.len() == expected.len());
    assert!(got.borrow().data == expected, "every byte once, in order");
    for &(so_far, pending) in &got.borrow().reads {
        let owed = starts.iter().filter(|&&s| s < so_far).count();
        assert_eq!(pending, owed, "after {so_far} bytes");
    }
    assert_eq!(*statuses.borrow(), vec![Ok(()); 5]);
    assert_eq!(receiver.pending_count(), 2);
    finish(&lp);
}

#[test]
fn write2_is_einval_on_a_pipe_made_without_ipc() {
    let lp = Loop::new().unwrap();
    let (a, _b) = Pipe::pair(&lp).unwrap();
    let (udp, _) = bound_udp(&lp);
    let called = shared(false);
    let flag = called.clone();
    assert_eq!(
        a.write2(&[b"x"], &udp, move |_, _| *flag.borrow_mut() = true),
        Err(EINVAL)
    );
    assert_eq!(a.pending_count(), 0);
    assert_eq!(a.pending_type(), None);
    assert_eq!(a.write_queue_size(), Ok(0));
    lp.run(RunMode::NoWait).unwrap();
    assert!(!*called.borrow(), "no callback for a refused request");
    finish(&lp);
}

#[test]
fn write2_refuses_what_it_cannot_send() {
    let lp = Loop::new().unwrap();
    let (sender, _receiver) = ipc_pair(&lp);
    let (udp, _) = bound_udp(&lp);
    // No byte to carry the descriptor.
    assert_eq!(sender.write2(&[], &udp, |_, _| {}), Err(EINVAL));
    assert_eq!(sender.write2(&[b"", b""], &udp, |_, _| {}), Err(EINVAL));
    // A handle without a descriptor, or closing: EBADF as libuv.
    assert_eq!(
        sender.write2(&[b"x"], &Tcp::new(&lp), |_, _| {}),
        Err(EBADF)
    );
    let (closing, _) = bound_udp(&lp);
    closing.close(|| {});
    assert_eq!(sender.write2(&[b"x"], &closing, |_, _| {}), Err(EBADF));
    // Not a handle that can be passed.
    let timer = ruv::Timer::new(&lp);
    assert_eq!(sender.write2(&[b"x"], &timer, |_, _| {}), Err(EINVAL));
    assert_eq!(sender.write_queue_size(), Ok(0));
    // An unconnected pipe: as a write, EBADF.
    let lone = Pipe::new(&lp, true);
    assert_eq!(lone.write2(&[b"x"], &udp, |_, _| {}), Err(EBADF));
    finish(&lp);
}

#[test]
fn accept_handle_checks_its_client() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (udp, _) = bound_udp(&lp);
    assert_eq!(receiver.accept_handle(&Udp::new(&lp)), Err(EAGAIN));
    sender.write2(&[b"u"], &udp, |_, s| s.unwrap()).unwrap();
    let got = receive(&receiver);
    run_until(&lp, || got.borrow().data == b"u");
    // A client that has a socket already.
    let (busy, _) = bound_udp(&lp);
    assert_eq!(receiver.accept_handle(&busy), Err(EBUSY));
    // A client of another loop.
    let other = Loop::new().unwrap();
    let foreign = Udp::new(&other);
    assert_eq!(receiver.accept_handle(&foreign), Err(EINVAL));
    foreign.close(|| {});
    other.run(RunMode::Default).unwrap();
    // A closing client.
    let closing = Udp::new(&lp);
    closing.close(|| {});
    assert_eq!(receiver.accept_handle(&closing), Err(Error::ClosedHandle));
    assert_eq!(
        receiver.pending_count(),
        1,
        "still waiting after each refusal"
    );
    let fd = receiver.take_pending().unwrap();
    assert_eq!(receiver.pending_count(), 0);
    let adopted = Udp::from_socket(&lp, fd).unwrap();
    assert_eq!(adopted.sockname().unwrap(), udp.sockname().unwrap());
    finish(&lp);
}

/// How many descriptors of this process refer to the socket `inode`
/// (`/proc/self/fd`).
fn descriptors_of(inode: u64) -> usize {
    let want = format!("socket:[{inode}]");
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_str() == Some(want.as_str()))
        .count()
}

#[test]
fn closing_with_handles_pending_closes_their_descriptors() {
    use std::os::unix::fs::MetadataExt;
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (near, far) = UnixStream::pair().unwrap();
    let inode = std::fs::metadata(format!("/proc/self/fd/{}", near.as_raw_fd()))
        .unwrap()
        .ino();
    let near = Pipe::from_fd(&lp, near).unwrap();
    sender.write2(&[b"1"], &near, |_, s| s.unwrap()).unwrap();
    sender.write2(&[b"2"], &near, |_, s| s.unwrap()).unwrap();
    near.close(|| {});
    let got = receive(&receiver);
    run_until(&lp, || got.borrow().data == b"12");
    assert_eq!(receiver.pending_count(), 2);
    assert_eq!(descriptors_of(inode), 2, "the two received, unaccepted");
    receiver.close(|| {});
    assert_eq!(descriptors_of(inode), 0, "closed with the pipe");
    assert_eq!(receiver.pending_count(), 0);
    // Nothing holds that end any more: its peer reads the end.
    let mut buf = [0u8; 1];
    far.set_nonblocking(false).unwrap();
    assert_eq!(std::io::Read::read(&mut &far, &mut buf).unwrap(), 0);
    finish(&lp);
}

#[test]
fn unsent_descriptors_are_closed_when_the_sender_closes() {
    use std::os::unix::fs::MetadataExt;
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (near, _far) = UnixStream::pair().unwrap();
    let inode = std::fs::metadata(format!("/proc/self/fd/{}", near.as_raw_fd()))
        .unwrap()
        .ino();
    let near = Pipe::from_fd(&lp, near).unwrap();
    // Fill the socket so that the request waits in the queue.
    let statuses = shared(Vec::new());
    sender
        .write(&[&pattern(4 << 20, 1)], status_into(&statuses))
        .unwrap();
    sender
        .write2(&[b"late"], &near, status_into(&statuses))
        .unwrap();
    near.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(descriptors_of(inode), 1, "the request's own copy");
    sender.close(|| {});
    receiver.close(|| {});
    run_until(&lp, || statuses.borrow().len() == 2);
    assert_eq!(descriptors_of(inode), 0);
    let cancelled = Err(Error::Status(StatusCode::ECANCELED));
    assert_eq!(*statuses.borrow(), [cancelled, cancelled]);
    finish(&lp);
}

#[test]
fn try_write2_sends_at_once_or_not_at_all() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (udp, addr) = bound_udp(&lp);
    assert_eq!(sender.try_write2(&[b"now"], &udp), Ok(3));
    // Checks in libuv's order: a write in flight first (EAGAIN), then the
    // pipe, then the handle.
    sender.write(&[b"q"], |_, s| s.unwrap()).unwrap();
    assert_eq!(
        sender.try_write2(&[b"x"], &ruv::Timer::new(&lp)),
        Err(EAGAIN)
    );
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(
        sender.try_write2(&[b"x"], &ruv::Timer::new(&lp)),
        Err(EINVAL)
    );
    assert_eq!(sender.try_write2(&[b""], &udp), Err(EINVAL));
    let (plain, _other) = Pipe::pair(&lp).unwrap();
    assert_eq!(plain.try_write2(&[b"x"], &udp), Err(EINVAL));
    let got = receive(&receiver);
    run_until(&lp, || got.borrow().data == b"nowq");
    assert_eq!(
        got.borrow().reads[0],
        (3, 1),
        "the descriptor came with the bytes"
    );
    let moved = Udp::new(&lp);
    receiver.accept_handle(&moved).unwrap();
    assert_eq!(moved.sockname().unwrap(), addr);
    finish(&lp);
}

#[test]
fn reading_into_caller_buffers_receives_handles_too() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let (udp, _) = bound_udp(&lp);
    sender.write2(&[b"abc"], &udp, |_, s| s.unwrap()).unwrap();
    let got = shared(Vec::new());
    let into = got.clone();
    receiver
        .read_start_with(
            |_, _| vec![0u8; 2],
            move |pipe: &Pipe, n: Result<usize, Error>, buf: Vec<u8>| {
                if let Ok(n) = n {
                    if n > 0 {
                        into.borrow_mut()
                            .push((buf[..n].to_vec(), pipe.pending_count()));
                    }
                }
            },
        )
        .unwrap();
    run_until(&lp, || got.borrow().len() == 2);
    assert_eq!(
        *got.borrow(),
        [(b"ab".to_vec(), 1), (b"c".to_vec(), 1)],
        "queued with the first read of the request's bytes"
    );
    finish(&lp);
}

/// libuv's ipc_send_recv_{pipe,tcp}_inprocess, in one loop: the channel
/// is a connection to a listening pipe accepted into an IPC pipe; two
/// bound (not listening) handles go out in two writes; the other side
/// takes each one and sends it straight back; the first side receives
/// both, reading into 8-byte buffers and accepting while handles wait.
#[test]
fn received_handles_can_be_sent_back_where_they_came_from() {
    let lp = Loop::new().unwrap();
    let name = util::pipe::abstract_name("ipc-echo");
    let listener = Pipe::new(&lp, false);
    listener.bind(&name).unwrap();
    let echo_side = Pipe::new(&lp, true);
    let es = echo_side.clone();
    listener
        .listen(8, move |listener, status| {
            status.unwrap();
            listener.accept(&es).unwrap();
            assert!(es.is_readable() && es.is_writable());
            es.read_start_with(
                |_, _| vec![0u8; 8],
                |channel: &Pipe, n: Result<usize, Error>, _: Vec<u8>| {
                    if n == Ok(0) {
                        return;
                    }
                    assert_eq!(n, Ok(1));
                    while channel.pending_count() > 0 {
                        assert_eq!(channel.pending_type(), Some(HandleType::NamedPipe));
                        let got = Pipe::new(channel.get_loop(), false);
                        channel.accept(&got).unwrap();
                        channel
                            .write2(&[b"."], &got, move |_, s| {
                                s.unwrap();
                            })
                            .unwrap();
                        got.close(|| {});
                    }
                },
            )
            .unwrap();
        })
        .unwrap();
    let first = util::pipe::abstract_name("ipc-echo-1");
    let second = util::pipe::abstract_name("ipc-echo-2");
    let send = Pipe::new(&lp, true);
    send.bind(&first).unwrap();
    let send2 = Pipe::new(&lp, true);
    send2.bind(&second).unwrap();
    let channel = Pipe::new(&lp, true);
    let names = shared(Vec::new());
    let (s1, s2, into) = (send.clone(), send2.clone(), names.clone());
    channel
        .connect(&name, move |channel, status| {
            status.unwrap();
            channel.write2(&[b"."], &s1, |_, s| s.unwrap()).unwrap();
            channel.write2(&[b"."], &s2, |_, s| s.unwrap()).unwrap();
            let into = into.clone();
            channel
                .read_start(move |channel, read| {
                    assert_eq!(read, ReadResult::Data(b"."));
                    while channel.pending_count() > 0 {
                        let back = Pipe::new(channel.get_loop(), false);
                        channel.accept_handle(&back).unwrap();
                        into.borrow_mut().push(back.sockname().unwrap());
                        back.close(|| {});
                    }
                })
                .unwrap();
        })
        .unwrap();
    run_until(&lp, || names.borrow().len() == 2);
    let expected: Vec<std::ffi::OsString> = vec![first.into(), second.into()];
    assert_eq!(*names.borrow(), expected);
    finish(&lp);
}

/// Sends one byte with `fds` in a single `SCM_RIGHTS` message, as a peer
/// that is not ruv might (libuv's test-pipe-sendmsg.c does this by hand).
fn send_fds_raw(to: &UnixStream, fds: &[std::os::fd::RawFd]) {
    let byte = [b'X'];
    let mut iov = libc::iovec {
        iov_base: byte.as_ptr() as *mut libc::c_void,
        iov_len: 1,
    };
    let data_len = std::mem::size_of_val(fds) as u32;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(data_len) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: the control buffer is aligned and holds one header with
    // room for `fds`; CMSG_* stay inside it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(data_len) as usize;
        let data = libc::CMSG_DATA(cmsg).cast::<std::os::fd::RawFd>();
        for (i, fd) in fds.iter().enumerate() {
            std::ptr::write_unaligned(data.add(i), *fd);
        }
    }
    // SAFETY: `msg` describes live buffers; the kernel only reads them.
    let n = unsafe { libc::sendmsg(to.as_raw_fd(), &msg, 0) };
    assert_eq!(n, 1, "{}", std::io::Error::last_os_error());
}

/// libuv's pipe_sendmsg: one byte carrying several descriptors at once,
/// read with a one-byte buffer; every one is pending, in order, and the
/// most one message may carry (253) arrive whole.
#[test]
fn many_descriptors_in_one_message_are_all_pending() {
    for count in [1usize, 4, 253] {
        let lp = Loop::new().unwrap();
        let (ours, theirs) = UnixStream::pair().unwrap();
        let pipe = Pipe::new(&lp, true);
        pipe.open(ours).unwrap();
        let pairs: Vec<(UnixStream, UnixStream)> =
            (0..count).map(|_| UnixStream::pair().unwrap()).collect();
        let raw: Vec<_> = pairs.iter().map(|(a, _)| a.as_raw_fd()).collect();
        send_fds_raw(&theirs, &raw);
        let seen = shared(None);
        let into = seen.clone();
        pipe.read_start_with(
            |_, _| vec![0u8; 1],
            move |pipe: &Pipe, n: Result<usize, Error>, _: Vec<u8>| {
                if n == Ok(1) {
                    *into.borrow_mut() = Some(pipe.pending_count());
                }
            },
        )
        .unwrap();
        run_until(&lp, || seen.borrow().is_some());
        assert_eq!(*seen.borrow(), Some(count));
        for (i, (_, far)) in pairs.iter().enumerate() {
            assert_eq!(pipe.pending_type(), Some(HandleType::NamedPipe));
            let got = Pipe::new(&lp, false);
            pipe.accept(&got).unwrap();
            // The i-th descriptor sent is the i-th accepted: its peer is
            // the i-th pair's other end.
            got.write(&[&[i as u8]], |_, s| s.unwrap()).unwrap();
            lp.run(RunMode::NoWait).unwrap();
            let mut byte = [0u8; 1];
            std::io::Read::read_exact(&mut &*far, &mut byte).unwrap();
            assert_eq!(byte[0], i as u8, "{count} descriptors");
            got.close(|| {});
        }
        assert_eq!(pipe.pending_count(), 0);
        drop(theirs);
        finish(&lp);
    }
}

/// The kernel ends a read at a passed descriptor; the stream reads on in
/// the same event only if bytes wait behind it, so a read callback never
/// gets an empty read libuv would not give (libuv stops after any short
/// read). Boundaries: nothing behind the descriptor, one byte, and many
/// descriptors in a row.
#[test]
fn a_read_stopped_by_a_descriptor_reads_on_only_if_bytes_wait_behind_it() {
    // (descriptor writes, plain bytes written after them)
    for (handles, behind) in [(1usize, 0usize), (1, 1), (6, 0), (6, 1)] {
        let lp = Loop::new().unwrap();
        let (sender, receiver) = ipc_pair(&lp);
        let (udp, _) = bound_udp(&lp);
        for _ in 0..handles {
            sender.write2(&[b"h"], &udp, |_, s| s.unwrap()).unwrap();
        }
        if behind > 0 {
            sender
                .write(&[&vec![b'b'; behind]], |_, s| s.unwrap())
                .unwrap();
        }
        // Every write went out at once: the bytes wait in the socket.
        assert_eq!(sender.write_queue_size(), Ok(handles + behind));
        let calls = shared(Vec::new());
        let into = calls.clone();
        receiver
            .read_start_with(
                |_, _| vec![0u8; 64],
                move |pipe: &Pipe, n: Result<usize, Error>, _: Vec<u8>| {
                    into.borrow_mut().push((n, pipe.pending_count()));
                },
            )
            .unwrap();
        lp.run(RunMode::NoWait).unwrap();
        let mut expected: Vec<(Result<usize, Error>, usize)> =
            (1..=handles).map(|i| (Ok(1), i)).collect();
        if behind > 0 {
            expected.push((Ok(behind), handles));
        }
        assert_eq!(
            *calls.borrow(),
            expected,
            "{handles} descriptors, {behind} bytes behind: one callback per read, none empty"
        );
        finish(&lp);
    }
}

/// libuv's ipc_send_zero: an empty write on an IPC pipe completes, and
/// the peer reads no data, only the end of the stream after the shutdown.
#[test]
fn an_empty_write_on_an_ipc_pipe_completes_and_the_peer_sees_only_the_end() {
    let lp = Loop::new().unwrap();
    let (sender, receiver) = ipc_pair(&lp);
    let statuses = shared(Vec::new());
    sender.write(&[b""], status_into(&statuses)).unwrap();
    sender.shutdown(status_into(&statuses)).unwrap();
    let got = util::pipe::collect(&receiver);
    run_until(&lp, || got.borrow().eof == 1);
    assert_eq!(*statuses.borrow(), [Ok(()), Ok(())], "write, then shutdown");
    assert!(got.borrow().data.is_empty());
    assert_eq!(got.borrow().error, None);
    assert_eq!(receiver.pending_count(), 0);
    finish(&lp);
}

/// Writes `data` from `at` on, in requests of three 10,000-byte buffers,
/// each issued from the previous one's callback.
fn send_chained(pipe: &Pipe, data: std::rc::Rc<Vec<u8>>, at: usize) {
    if at == data.len() {
        return;
    }
    let end = (at + 30_000).min(data.len());
    let bufs: Vec<&[u8]> = data[at..end].chunks(10_000).collect();
    let next = data.clone();
    pipe.write(&bufs, move |pipe, status| {
        status.unwrap();
        send_chained(pipe, next, end);
    })
    .unwrap();
}

/// libuv's ipc_heavy_traffic_deadlock_bug, in one loop: both ends of an
/// IPC pipe write megabytes to each other at once, each write issued from
/// the previous one's callback, while both read. Neither side may block
/// on a full socket; every byte arrives once, in order.
#[test]
fn heavy_traffic_both_ways_on_an_ipc_pipe_does_not_deadlock() {
    const XFER: usize = 4 << 20;
    let lp = Loop::new().unwrap();
    let (a, b) = ipc_pair(&lp);
    let to_b = std::rc::Rc::new(pattern(XFER, 11));
    let to_a = std::rc::Rc::new(pattern(XFER, 12));
    let at_a = util::pipe::collect(&a);
    let at_b = util::pipe::collect(&b);
    send_chained(&a, to_b.clone(), 0);
    send_chained(&b, to_a.clone(), 0);
    run_until(&lp, || {
        at_a.borrow().data.len() == XFER && at_b.borrow().data.len() == XFER
    });
    assert!(at_a.borrow().data == *to_a, "a got b's bytes in order");
    assert!(at_b.borrow().data == *to_b, "b got a's bytes in order");
    assert_eq!(a.write_queue_size(), Ok(0));
    assert_eq!(b.write_queue_size(), Ok(0));
    finish(&lp);
}
