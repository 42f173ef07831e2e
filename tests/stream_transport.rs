//! `StreamTransport` and `Protocol` on a Unix socket pair: callback
//! order, half-close, writes after `write_eof` and `close`, flow control
//! with exact sizes, `abort`, pausing reads, `BufferedProtocol`, and
//! `set_protocol` (CPython's `SelectorSocketTransportTests` and
//! `test_buffered_proto.py`, in our words).

mod stream_common;

use ruv::endpoint::{
    AnyProtocol, BufferedProtocol, Protocol, StreamTransport, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER,
};
use ruv::{Error, Loop, RunMode, StatusCode};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::rc::Rc;
use stream_common::*;

#[test]
fn data_then_eof_then_lost_in_order() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, mut peer) = pair_transport(&lp, Rec::new(&log));
    assert_eq!(*log.borrow(), strings(&["made"]));
    peer.write_all(b"hello").unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    run_to_end(&lp);
    // eof_received returned false: the transport closed itself.
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"hello\"", "eof", "lost None"])
    );
    assert!(t.is_closing());
    assert!(t.get_protocol().is_none());
    // The socket was closed: the peer reads its end.
    assert_eq!(read_to_end(&peer), b"");
}

#[test]
fn eof_received_true_keeps_the_transport_open_for_writing() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let mut rec = Rec::new(&log);
    rec.keep_open = true;
    rec.on_eof = Some(Box::new(|t, ()| {
        assert!(!t.is_closing());
        t.write(b"bye").unwrap();
        t.close();
    }));
    let (_t, _p, mut peer) = pair_transport(&lp, rec);
    peer.write_all(b"hi").unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    run_to_end(&lp);
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"hi\"", "eof", "lost None"])
    );
    assert_eq!(read_to_end(&peer), b"bye");
}

#[test]
fn write_eof_half_closes_and_later_writes_are_epipe() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, mut peer) = pair_transport(&lp, Rec::new(&log));
    assert!(t.can_write_eof());
    t.write(b"last").unwrap();
    t.write_eof().unwrap();
    // A second write_eof does nothing; a write is asyncio's RuntimeError.
    t.write_eof().unwrap();
    assert_eq!(t.write(b"more").unwrap_err(), StatusCode::EPIPE);
    assert_eq!(t.writelines(&[b"a", b"b"]).unwrap_err(), StatusCode::EPIPE);
    // Even an empty write after write_eof is refused.
    assert_eq!(t.write(b"").unwrap_err(), StatusCode::EPIPE);
    let reading = peer.try_clone().unwrap();
    let reader = std::thread::spawn(move || read_to_end(&reading));
    poll_until(&lp, || reader.is_finished());
    assert_eq!(reader.join().unwrap(), b"last");
    // Reading still works after our write_eof.
    peer.write_all(b"answer").unwrap();
    drop(peer);
    run_to_end(&lp);
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"answer\"", "eof", "lost None"])
    );
}

#[test]
fn close_is_not_synchronous_and_lost_comes_once() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    assert!(t.is_reading());
    t.close();
    assert!(t.is_closing());
    assert!(!t.is_reading());
    t.close();
    t.abort();
    // write_eof once closing does nothing (no error, no shutdown).
    t.write_eof().unwrap();
    assert_eq!(*log.borrow(), strings(&["made"]));
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
    assert_eq!(read_to_end(&peer), b"");
}

#[test]
fn write_after_close_with_empty_buffer_is_dropped() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    t.write(b"before").unwrap();
    t.close();
    // asyncio's test_write_closing: dropped without an error.
    t.write(b"after").unwrap();
    t.writelines(&[b"x", b"y"]).unwrap();
    run_to_end(&lp);
    assert_eq!(read_to_end(&peer), b"before");
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
}

#[test]
fn write_after_close_while_flushing_is_still_sent() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    let filled = fill_quietly(&t);
    t.close();
    // Buffered: asyncio appends it to the buffer.
    t.write(b"tail").unwrap();
    let reader = std::thread::spawn(move || read_to_end(&peer));
    run_to_end(&lp);
    let got = reader.join().unwrap();
    assert_eq!(got.len(), filled + 4);
    assert!(got.ends_with(b"xtail"));
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
}

#[test]
fn close_flushes_with_pause_and_resume_in_order() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    assert_eq!(
        t.get_write_buffer_limits(),
        (DEFAULT_LOW_WATER, DEFAULT_HIGH_WATER)
    );
    assert_eq!(t.get_write_buffer_limits(), (16 * 1024, 64 * 1024));
    let big = vec![7u8; 4 * 1024 * 1024];
    t.write(&big).unwrap();
    let buffered = t.get_write_buffer_size();
    assert!(buffered > DEFAULT_HIGH_WATER, "buffered {buffered}");
    assert_eq!(
        *log.borrow(),
        vec!["made".to_string(), format!("pause {buffered}")]
    );
    t.close();
    let reader = std::thread::spawn(move || read_to_end(&peer));
    run_to_end(&lp);
    assert_eq!(reader.join().unwrap(), big);
    let log = log.borrow();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[2], "resume 0");
    assert_eq!(log[3], "lost None");
    assert_eq!(t.get_write_buffer_size(), 0);
}

#[test]
fn abort_drops_the_buffer() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    let filled = fill_quietly(&t);
    assert!(t.get_write_buffer_size() > 0);
    t.abort();
    assert_eq!(t.get_write_buffer_size(), 0);
    assert!(t.is_closing());
    assert_eq!(*log.borrow(), strings(&["made"]));
    // Dropped: no error, nothing more goes out.
    t.write(b"late").unwrap();
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
    let got = read_to_end(&peer);
    assert!(got.len() < filled, "{} of {filled}", got.len());
}

#[test]
fn write_buffer_limits_follow_asyncio_rules() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    t.set_write_buffer_limits(Some(1000), None).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (250, 1000));
    t.set_write_buffer_limits(None, Some(100)).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (100, 400));
    t.set_write_buffer_limits(None, None).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (16384, 65536));
    assert_eq!(
        t.set_write_buffer_limits(Some(1), Some(2)).unwrap_err(),
        StatusCode::EINVAL
    );
    assert_eq!(t.get_write_buffer_limits(), (16384, 65536));
    // Buffer something without pausing, then lower the mark: the pause
    // comes at once, inside the call (no protocol method is running).
    t.set_write_buffer_limits(Some(usize::MAX), Some(0))
        .unwrap();
    fill(&t);
    let size = t.get_write_buffer_size();
    assert_eq!(*log.borrow(), strings(&["made"]));
    t.set_write_buffer_limits(Some(size - 1), Some(0)).unwrap();
    assert_eq!(
        *log.borrow(),
        vec!["made".to_string(), format!("pause {size}")]
    );
    // Exactly at the mark is not over it: high == size does not pause again.
    t.abort();
    drop(peer);
    run_to_end(&lp);
}

#[test]
fn high_water_zero_pauses_when_anything_is_buffered() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    t.set_write_buffer_limits(Some(0), None).unwrap();
    assert_eq!(t.get_write_buffer_limits(), (0, 0));
    // Written at once: nothing buffered, no pause.
    t.write(b"small").unwrap();
    assert_eq!(*log.borrow(), strings(&["made"]));
    fill(&t);
    let size = t.get_write_buffer_size();
    assert_eq!(
        *log.borrow(),
        vec!["made".to_string(), format!("pause {size}")]
    );
    t.close();
    let reader = std::thread::spawn(move || read_to_end(&peer));
    run_to_end(&lp);
    reader.join().unwrap();
    assert_eq!(log.borrow()[2], "resume 0");
    assert_eq!(log.borrow()[3], "lost None");
}

#[test]
fn pause_reading_in_connection_made_delivers_nothing_until_resumed() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let mut rec = Rec::new(&log);
    rec.on_made = Some(Box::new(|t, ()| {
        t.pause_reading();
        assert!(!t.is_reading());
        // Idempotent.
        t.pause_reading();
    }));
    let (t, _p, mut peer) = pair_transport(&lp, rec);
    peer.write_all(b"waiting").unwrap();
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), strings(&["made"]));
    t.resume_reading();
    assert!(t.is_reading());
    run_until(&lp, || log.borrow().len() == 2);
    assert_eq!(*log.borrow(), strings(&["made", "data \"waiting\""]));
    t.close();
    // No-ops once closing.
    t.resume_reading();
    t.pause_reading();
    assert!(!t.is_reading());
    run_to_end(&lp);
}

#[test]
fn peer_reset_is_connection_lost_with_the_error() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    // TCP, so the reset is a real RST: the peer closes with unread data.
    let (t, peer) = tcp_pair(&lp, Rec::new(&log));
    t.write(b"unread by the peer").unwrap();
    run_until(&lp, || t.get_write_buffer_size() == 0);
    let mut peer = peer;
    let mut buf = [0u8; 4];
    peer.read_exact(&mut buf).unwrap();
    drop(peer); // unread bytes: the kernel sends RST
    run_to_end(&lp);
    let log = log.borrow();
    assert_eq!(log[0], "made");
    assert_eq!(log.last().unwrap(), "lost ECONNRESET", "{log:?}");
    assert!(!log.iter().any(|e| e == "eof"));
}

/// A transport on an accepted loopback TCP connection, and the plain
/// client socket.
fn tcp_pair(lp: &Loop, rec: Rec) -> (StreamTransport, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (accepted, _) = listener.accept().unwrap();
    let (t, _) = accepted_transport(lp, rec, accepted);
    (t, client)
}

#[test]
fn extra_info_of_a_tcp_transport() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, peer) = tcp_pair(&lp, Rec::new(&log));
    assert_eq!(
        t.peername().unwrap().inet(),
        Some(peer.local_addr().unwrap())
    );
    assert_eq!(
        t.sockname().unwrap().inet(),
        Some(peer.peer_addr().unwrap())
    );
    assert!(t.fileno().unwrap() >= 0);
    assert!(t.tcp().is_some());
    assert!(t.pipe().is_none());
    t.close();
    assert_eq!(t.fileno().unwrap_err(), Error::ClosedHandle);
    run_to_end(&lp);
}

#[test]
fn writelines_sends_every_buffer_in_order() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    t.writelines(&[b"one ", b"", b"two ", b"three"]).unwrap();
    t.writelines(&[]).unwrap();
    t.close();
    run_to_end(&lp);
    assert_eq!(read_to_end(&peer), b"one two three");
}

#[test]
fn a_callback_caused_inside_a_protocol_method_runs_after_it() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let mut rec = Rec::new(&log);
    let inner_log = log.clone();
    rec.on_data = Some(Box::new(move |t, _| {
        t.set_write_buffer_limits(Some(0), None).unwrap();
        fill(t);
        inner_log.borrow_mut().push("data returns".into());
        t.abort();
    }));
    let (_t, _p, mut peer) = pair_transport(&lp, rec);
    peer.write_all(b"go").unwrap();
    run_to_end(&lp);
    let log = log.borrow();
    assert_eq!(log[0..3], strings(&["made", "data \"go\"", "data returns"]));
    assert!(log[3].starts_with("pause "));
    assert_eq!(log[4], "lost None");
}

/// A buffered protocol that hands over one reused buffer of `room`
/// bytes and logs `get_buffer HINT` and `updated N`.
struct Buffered {
    log: Log,
    room: usize,
    spare: Option<Vec<u8>>,
    got: Vec<u8>,
}

impl BufferedProtocol for Buffered {
    fn get_buffer(&mut self, sizehint: usize) -> Vec<u8> {
        self.log.borrow_mut().push(format!("get_buffer {sizehint}"));
        let mut buf = self.spare.take().unwrap_or_default();
        buf.resize(self.room, 0);
        buf
    }

    fn buffer_updated(&mut self, buf: Vec<u8>, nbytes: usize) {
        self.log.borrow_mut().push(format!("updated {nbytes}"));
        self.got.extend_from_slice(&buf[..nbytes]);
        self.spare = Some(buf);
    }

    fn eof_received(&mut self) -> bool {
        self.log.borrow_mut().push("eof".into());
        false
    }

    fn connection_lost(&mut self, err: Option<Error>) {
        let s = match err {
            None => "lost None".to_string(),
            Some(e) => format!("lost {}", error_name(&e)),
        };
        self.log.borrow_mut().push(s);
    }
}

fn buffered_pair(
    lp: &Loop,
    room: usize,
    log: &Log,
) -> (
    StreamTransport,
    Rc<RefCell<Buffered>>,
    std::os::unix::net::UnixStream,
) {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let log = log.clone();
    let factory = move || Buffered {
        log,
        room,
        spare: None,
        got: Vec::new(),
    };
    ruv::endpoint::create_buffered_connection(
        lp,
        factory,
        ruv::endpoint::ConnectionOptions::socket(ours),
        move |r| *o.borrow_mut() = Some(r.unwrap()),
    );
    run_until(lp, || out.borrow().is_some());
    let (t, p) = out.borrow_mut().take().unwrap();
    (t, p, theirs)
}

#[test]
fn buffered_protocol_reads_into_its_own_buffer() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    // A 4-byte buffer: 10 bytes arrive in reads of 4, 4 and 2.
    let (_t, p, mut peer) = buffered_pair(&lp, 4, &log);
    peer.write_all(b"0123456789").unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    run_to_end(&lp);
    assert_eq!(p.borrow().got, b"0123456789");
    let log = log.borrow();
    let updates: Vec<&String> = log.iter().filter(|e| e.starts_with("updated")).collect();
    assert_eq!(updates, ["updated 4", "updated 4", "updated 2"]);
    assert!(log
        .iter()
        .filter(|e| e.starts_with("get_buffer"))
        .all(|e| e == "get_buffer 65536"));
    assert_eq!(log[log.len() - 2..], strings(&["eof", "lost None"]));
}

#[test]
fn an_empty_buffer_from_get_buffer_is_fatal() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (_t, _p, mut peer) = buffered_pair(&lp, 0, &log);
    peer.write_all(b"x").unwrap();
    run_to_end(&lp);
    assert_eq!(
        *log.borrow(),
        strings(&["get_buffer 65536", "lost ENOBUFS"])
    );
}

#[test]
fn set_protocol_switches_where_data_goes() {
    let lp = Loop::new().unwrap();
    let first = Log::default();
    let second = Log::default();
    let (t, _p, mut peer) = pair_transport(&lp, Rec::new(&first));
    let next = Rc::new(RefCell::new(Rec::new(&second)));
    next.borrow_mut().transport = Some(t.clone());
    t.set_protocol(AnyProtocol::plain(next.clone()));
    assert!(matches!(t.get_protocol(), Some(AnyProtocol::Plain(_))));
    peer.write_all(b"to the second").unwrap();
    drop(peer);
    run_to_end(&lp);
    assert_eq!(*first.borrow(), strings(&["made"]));
    // No connection_made for a protocol set later.
    assert_eq!(
        *second.borrow(),
        strings(&["data \"to the second\"", "eof", "lost None"])
    );
}

#[test]
fn set_protocol_to_a_buffered_one_reads_into_its_buffers() {
    let lp = Loop::new().unwrap();
    let first = Log::default();
    let second = Log::default();
    let (t, _p, mut peer) = pair_transport(&lp, Rec::new(&first));
    let next = Rc::new(RefCell::new(Buffered {
        log: second.clone(),
        room: 100,
        spare: None,
        got: Vec::new(),
    }));
    t.set_protocol(AnyProtocol::buffered(next.clone()));
    peer.write_all(b"buffered now").unwrap();
    drop(peer);
    run_to_end(&lp);
    assert_eq!(next.borrow().got, b"buffered now");
    assert_eq!(*first.borrow(), strings(&["made"]));
    assert_eq!(second.borrow().last().unwrap(), "lost None");
}

/// Protocol methods that call back into the transport while the test
/// holds a borrow of the protocol: delivery waits for the loop.
#[test]
fn a_borrowed_protocol_gets_its_callbacks_later() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, p, _peer) = pair_transport(&lp, Rec::new(&log));
    {
        let _held = p.borrow_mut();
        t.abort();
    }
    assert_eq!(*log.borrow(), strings(&["made"]));
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
}

#[test]
fn protocol_trait_defaults_close_on_eof() {
    struct Quiet;
    impl Protocol for Quiet {}
    let lp = Loop::new().unwrap();
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    ruv::endpoint::connect_accepted_socket(
        &lp,
        || Quiet,
        ours,
        move |r| *o.borrow_mut() = Some(r.unwrap().0),
    );
    drop(theirs);
    run_to_end(&lp);
    assert!(out.borrow().as_ref().unwrap().is_closing());
}

#[test]
fn write_eof_with_data_buffered_shuts_down_after_the_drain() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    let filled = fill_quietly(&t);
    t.write(b"end").unwrap();
    t.write_eof().unwrap();
    // Half-closed, not closing: it still reads.
    assert!(!t.is_closing());
    assert!(t.is_reading());
    let reading = peer.try_clone().unwrap();
    let reader = std::thread::spawn(move || read_to_end(&reading));
    poll_until(&lp, || reader.is_finished());
    let got = reader.join().unwrap();
    // Every byte, then the end of the stream.
    assert_eq!(got.len(), filled + 3);
    assert!(got.ends_with(b"end"));
    assert_eq!(t.get_write_buffer_size(), 0);
    drop(peer);
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "eof", "lost None"]));
}

#[test]
fn a_walk_that_closes_every_handle_still_ends_the_transport_once() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, _peer) = pair_transport(&lp, Rec::new(&log));
    assert!(t.is_reading());
    // libuv's usual shutdown: close whatever is open.
    lp.walk(|h| {
        if !h.is_closing() {
            h.close(|| {});
        }
    });
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
    assert!(t.is_closing());
    // Calls after it are harmless.
    t.close();
    t.abort();
    t.write(b"x").unwrap();
}

#[test]
fn pause_reading_inside_data_received_stops_the_next_chunk() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let mut rec = Rec::new(&log);
    let paused_once = Rc::new(std::cell::Cell::new(false));
    let p1 = paused_once.clone();
    rec.on_data = Some(Box::new(move |t, _| {
        if !p1.replace(true) {
            t.pause_reading();
        }
    }));
    let (t, p, mut peer) = pair_transport(&lp, rec);
    // More than one read's worth (64 KiB), already waiting.
    let big = vec![b'r'; 200 * 1024];
    let writer = std::thread::spawn(move || {
        peer.write_all(&big).unwrap();
        peer
    });
    run_until(&lp, || paused_once.get());
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(log.borrow().len(), 2, "{:?}", merged(&log));
    assert!(!t.is_reading());
    t.resume_reading();
    let received = p.borrow().received.clone();
    run_until(&lp, || received.borrow().len() == 200 * 1024);
    drop(writer.join().unwrap());
    run_to_end(&lp);
    assert_eq!(log.borrow().last().unwrap(), "lost None");
    assert_eq!(
        merged(&log)[..2],
        strings(&["made", "data 204800 bytes"])[..]
    );
}

// ---------------------------------------------------------------------
// CPython 3.13's `test_selector_events.py` (`SelectorTransportTests`,
// `SelectorSocketTransportTests`) and `test_unix_events.py`
// (`UnixReadPipeTransportTests`), in our words.

/// `test_pause_resume_reading` (3.13: pausing twice or resuming when not
/// paused is no error) and `test_pause_reading_on_closed_pipe` /
/// `test_resume_reading_on_closed_pipe`: no-ops, and data is delivered
/// once reading resumes.
#[test]
fn pause_and_resume_reading_are_idempotent_and_nothing_once_closed() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, mut peer) = pair_transport(&lp, Rec::new(&log));
    assert!(t.is_reading());
    // Not paused: resuming does nothing.
    t.resume_reading();
    assert!(t.is_reading());
    t.pause_reading();
    t.pause_reading();
    assert!(!t.is_reading());
    peer.write_all(b"waits").unwrap();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), strings(&["made"]));
    // One resume undoes any number of pauses.
    t.resume_reading();
    t.resume_reading();
    assert!(t.is_reading());
    run_until(&lp, || log.borrow().len() == 2);
    assert_eq!(*log.borrow(), strings(&["made", "data \"waits\""]));
    t.close();
    assert!(!t.is_reading());
    t.pause_reading();
    t.resume_reading();
    assert!(!t.is_reading());
    run_to_end(&lp);
    t.pause_reading();
    t.resume_reading();
    assert!(!t.is_reading());
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"waits\"", "lost None"])
    );
}

/// `test_write_no_data`: an empty write with data buffered leaves the
/// buffer as it was; so does an empty `writelines`.
#[test]
fn an_empty_write_leaves_the_buffer_alone() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    let filled = fill_quietly(&t);
    let size = t.get_write_buffer_size();
    t.write(b"").unwrap();
    t.writelines(&[]).unwrap();
    t.writelines(&[b"", b""]).unwrap();
    assert_eq!(t.get_write_buffer_size(), size);
    t.close();
    let reader = std::thread::spawn(move || read_to_end(&peer));
    run_to_end(&lp);
    assert_eq!(reader.join().unwrap().len(), filled);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
}

/// `test_write_exception`: a failed send ends the transport with the
/// error; later writes are dropped without an error (asyncio counts them
/// and logs a warning) and `connection_lost` comes once.
#[test]
fn writes_after_a_send_error_are_dropped() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    drop(peer);
    t.write(b"to nobody").unwrap();
    assert!(t.is_closing());
    assert_eq!(t.get_write_buffer_size(), 0);
    for _ in 0..6 {
        t.write(b"again").unwrap();
    }
    t.writelines(&[b"and", b"again"]).unwrap();
    assert_eq!(t.get_write_buffer_size(), 0);
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost EPIPE"]));
}

/// `SelectorTransportTests.test_close` and `test_force_close`: a second
/// `close` does nothing, `abort` while `close` flushes drops the buffer,
/// and `connection_lost(None)` comes once.
#[test]
fn close_twice_then_abort_while_flushing_ends_once() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    let filled = fill_quietly(&t);
    t.close();
    t.close();
    // `test_close_write_buffer`: nothing is lost while data waits.
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), strings(&["made"]));
    assert!(t.get_write_buffer_size() > 0);
    t.abort();
    assert_eq!(t.get_write_buffer_size(), 0);
    t.abort();
    t.close();
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
    assert!(read_to_end(&peer).len() < filled);
}

/// `write_eof` once closing does nothing (asyncio returns when
/// `_closing`): no error, and the end comes from `close`.
#[test]
fn write_eof_after_close_does_nothing() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let (t, _p, peer) = pair_transport(&lp, Rec::new(&log));
    t.write(b"last").unwrap();
    t.close();
    t.write_eof().unwrap();
    assert!(t.can_write_eof());
    run_to_end(&lp);
    assert_eq!(*log.borrow(), strings(&["made", "lost None"]));
    assert_eq!(read_to_end(&peer), b"last");
}

/// `test_read_ready_eof_keep_open` with our `write_eof` already done:
/// both directions are shut, yet `eof_received` returning true keeps the
/// transport open until the protocol closes it.
#[test]
fn eof_received_true_after_write_eof_keeps_the_transport_until_close() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let mut rec = Rec::new(&log);
    rec.keep_open = true;
    let (t, _p, mut peer) = pair_transport(&lp, rec);
    t.write(b"ours").unwrap();
    t.write_eof().unwrap();
    peer.write_all(b"theirs").unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    let reading = peer.try_clone().unwrap();
    let reader = std::thread::spawn(move || read_to_end(&reading));
    run_until(&lp, || log.borrow().len() == 3);
    assert_eq!(reader.join().unwrap(), b"ours");
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), strings(&["made", "data \"theirs\"", "eof"]));
    assert!(!t.is_closing());
    t.close();
    run_to_end(&lp);
    assert_eq!(
        *log.borrow(),
        strings(&["made", "data \"theirs\"", "eof", "lost None"])
    );
}
