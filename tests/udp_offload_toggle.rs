//! Turning receive offload on or off while datagrams wait — between
//! receives, inside a receive callback, around stop and start — never glues
//! datagrams together: every callback gets exactly one datagram, with its
//! own bytes and sender, none lost or duplicated.
//!
//! The kernel keeps a `UDP_SEGMENT` burst whole on loopback and hands it to
//! a `UDP_GRO` receiver as one coalesced message. On kernels without
//! `UDP_GRO`, `set_gro` answers `Ok(false)` and the bursts arrive as
//! separate datagrams: the same exact sequence is expected either way.

mod util;

use ruv::{Loop, RecvMeta, RunMode, Udp};
use std::net::SocketAddr;
use util::{shared, Shared};

/// Datagrams per burst: 10 of `SEGMENT` bytes and a shorter last one.
const SEGMENTS: usize = 11;
const SEGMENT: usize = 100;

/// Burst `b`: segment `i` is filled with `b * 16 + i`, so a glued or
/// misplaced segment shows in the bytes.
fn burst(b: u8) -> Vec<u8> {
    let mut data = Vec::new();
    for i in 0..SEGMENTS as u8 {
        let len = if usize::from(i) + 1 == SEGMENTS {
            50
        } else {
            SEGMENT
        };
        data.extend(std::iter::repeat(b * 16 + i).take(len));
    }
    data
}

/// The datagrams burst `b` must arrive as.
fn burst_datagrams(b: u8) -> Vec<Vec<u8>> {
    burst(b).chunks(SEGMENT).map(<[u8]>::to_vec).collect()
}

/// A small datagram that is not part of any burst.
fn plain(i: u8) -> Vec<u8> {
    vec![0xf0, i, i, i]
}

/// How the receiver takes datagrams.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// `receive_start`, the loop's shared 4-wide batch.
    Lent,
    /// `receive_start` with `set_recvmmsg(true)`: a 32-wide batch of its own.
    LentWide,
    /// `receive_start_with`, one `recvfrom` per datagram.
    Buffers,
    /// `receive_start_with` with `set_recvmmsg(true)`.
    BuffersWide,
}

const MODES: [Mode; 4] = [Mode::Lent, Mode::LentWide, Mode::Buffers, Mode::BuffersWide];

impl Mode {
    fn wide(self) -> bool {
        matches!(self, Mode::LentWide | Mode::BuffersWide)
    }

    /// Datagrams one read of this mode takes at most.
    fn width(self) -> usize {
        match self {
            Mode::Lent => 4,
            Mode::LentWide | Mode::BuffersWide => 32,
            Mode::Buffers => 1,
        }
    }
}

type Received = Shared<Vec<(Vec<u8>, SocketAddr)>>;

/// Starts `rx` receiving in `mode`; every datagram is recorded, then
/// `after(rx, bytes)` runs with the bytes recorded so far (bytes, not
/// datagrams: glued datagrams still add up to the total, so a broken
/// receive path ends the test instead of waiting for datagrams that never
/// come).
fn start(rx: &Udp, mode: Mode, got: &Received, after: impl FnMut(&Udp, usize) + 'static) {
    rx.set_recvmmsg(mode.wide()).unwrap();
    let got = got.clone();
    let mut after = after;
    match mode {
        Mode::Lent | Mode::LentWide => rx
            .receive_start(move |u, r| {
                let d = r.unwrap();
                got.borrow_mut().push((d.data.to_vec(), d.addr));
                let bytes = received_bytes(&got);
                after(u, bytes);
            })
            .unwrap(),
        Mode::Buffers | Mode::BuffersWide => rx
            .receive_start_with(
                |_, size| vec![0u8; size],
                move |u, r: ruv::Result<RecvMeta>, buf| {
                    let meta = r.unwrap();
                    // (0, None): nothing more was waiting.
                    let Some(addr) = meta.addr else {
                        assert_eq!(meta.len, 0);
                        return;
                    };
                    got.borrow_mut().push((buf[..meta.len].to_vec(), addr));
                    let bytes = received_bytes(&got);
                    after(u, bytes);
                },
            )
            .unwrap(),
    }
}

fn received_bytes(got: &Received) -> usize {
    got.borrow().iter().map(|(d, _)| d.len()).sum()
}

fn total_bytes(want: &[Vec<u8>]) -> usize {
    want.iter().map(Vec::len).sum()
}

/// Receives in `mode` until the bytes of `want` have all arrived, then
/// stops receiving (the loop then ends).
fn receive_until_all(lp: &Loop, rx: &Udp, mode: Mode, got: &Received, want: &[Vec<u8>]) {
    let total = total_bytes(want);
    start(rx, mode, got, move |u, bytes| {
        if bytes == total {
            u.receive_stop().unwrap();
        }
    });
    run(lp);
}

/// Runs the loop until it has nothing left to do (or the watchdog fires).
fn run(lp: &Loop) {
    let dog = util::watchdog(lp, 10_000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
}

/// Checks that `got` is exactly `want`, each from `from`.
fn assert_received(got: &Received, want: &[Vec<u8>], from: SocketAddr, mode: Mode) {
    let got = got.borrow();
    let sizes: Vec<usize> = got.iter().map(|(d, _)| d.len()).collect();
    let want_sizes: Vec<usize> = want.iter().map(Vec::len).collect();
    assert_eq!(sizes, want_sizes, "datagram sizes, {mode:?}");
    for (i, ((data, addr), want)) in got.iter().zip(want).enumerate() {
        assert_eq!(data, want, "datagram {i}, {mode:?}");
        assert_eq!(*addr, from, "sender of datagram {i}, {mode:?}");
    }
}

/// Sends burst `b` from `tx` to `to` with segmentation offload.
fn send_burst(tx: &Udp, to: SocketAddr, b: u8) {
    let data = burst(b);
    assert_eq!(
        tx.try_send_segments(&data, SEGMENT, Some(to)),
        Ok(data.len())
    );
}

/// Offload turned off after coalesced bursts were queued, before receiving
/// starts: they still arrive one datagram per callback.
#[test]
fn off_between_receives_keeps_queued_bursts_apart() {
    for mode in MODES {
        let lp = Loop::new().unwrap();
        let (rx, addr) = util::bound_udp(&lp);
        let (tx, from) = util::bound_udp(&lp);
        let on = rx.set_gro(true).unwrap();
        for b in 0..3 {
            send_burst(&tx, addr, b);
        }
        let off = rx.set_gro(false);
        let want: Vec<Vec<u8>> = (0..3).flat_map(burst_datagrams).collect();
        let got = shared(Vec::new());
        receive_until_all(&lp, &rx, mode, &got, &want);
        assert_received(&got, &want, from, mode);
        // Offload once on stays on: the kernel reports segment sizes only
        // while its option is on, and bursts waited coalesced.
        assert_eq!(off, Ok(on));
        util::close_all(&lp, &[&rx, &tx]);
    }
}

/// Offload turned off inside the first callback, with coalesced bursts both
/// read into the batch and still queued in the socket (one sent from the
/// callback itself, before the toggle).
#[test]
fn off_inside_a_callback_keeps_read_and_queued_bursts_apart() {
    for mode in MODES {
        let lp = Loop::new().unwrap();
        let (rx, addr) = util::bound_udp(&lp);
        let (tx, from) = util::bound_udp(&lp);
        let on = rx.set_gro(true).unwrap();
        send_burst(&tx, addr, 0);
        send_burst(&tx, addr, 1);
        let want: Vec<Vec<u8>> = (0..3).flat_map(burst_datagrams).collect();
        let total = total_bytes(&want);
        let got = shared(Vec::new());
        let off = shared(None);
        let o = off.clone();
        start(&rx, mode, &got, move |u, bytes| {
            if o.borrow().is_none() {
                send_burst(&tx, addr, 2);
                *o.borrow_mut() = Some(u.set_gro(false));
            }
            if bytes == total {
                u.close(|| {});
                tx.close(|| {});
            }
        });
        run(&lp);
        assert_received(&got, &want, from, mode);
        assert_eq!(*off.borrow(), Some(Ok(on)));
        assert_eq!(lp.handle_count(), 0);
    }
}

/// Offload turned on inside a callback while a full read of plain datagrams
/// is being delivered: the bursts arriving after it are split, whether the
/// same receive pass reads them or a later one.
#[test]
fn on_inside_a_callback_splits_bursts_read_in_the_same_pass() {
    for mode in MODES {
        let lp = Loop::new().unwrap();
        let (rx, addr) = util::bound_udp(&lp);
        let (tx, from) = util::bound_udp(&lp);
        let mut want = Vec::new();
        // A full first read, so the pass goes on reading after it.
        for i in 0..mode.width() as u8 {
            assert_eq!(tx.try_send(&[plain(i)], Some(addr)), Ok(4));
            want.push(plain(i));
        }
        want.extend(burst_datagrams(0));
        want.extend(burst_datagrams(1));
        let total = total_bytes(&want);
        let got = shared(Vec::new());
        let mut first = true;
        start(&rx, mode, &got, move |u, bytes| {
            if std::mem::take(&mut first) {
                assert!(u.set_gro(true).is_ok());
                send_burst(&tx, addr, 0);
                send_burst(&tx, addr, 1);
            }
            if bytes == total {
                u.close(|| {});
                tx.close(|| {});
            }
        });
        run(&lp);
        assert_received(&got, &want, from, mode);
        assert_eq!(lp.handle_count(), 0);
    }
}

/// As above, but the pass that turns offload on starts with datagrams a
/// previous pass read and left in the batch, so even a wide batch is read
/// again within the same pass.
#[test]
fn on_inside_a_callback_after_a_restart_splits_bursts() {
    for mode in [Mode::Lent, Mode::LentWide, Mode::BuffersWide] {
        let lp = Loop::new().unwrap();
        let (rx, addr) = util::bound_udp(&lp);
        let (tx, from) = util::bound_udp(&lp);
        let mut want = Vec::new();
        for i in 0..mode.width() as u8 {
            assert_eq!(tx.try_send(&[plain(i)], Some(addr)), Ok(4));
            want.push(plain(i));
        }
        want.extend(burst_datagrams(0));
        want.extend(burst_datagrams(1));
        let total = total_bytes(&want);
        let got = shared(Vec::new());
        // Stop half way through the batch.
        let half = mode.width() / 2 * 4;
        start(&rx, mode, &got, move |u, bytes| {
            if bytes == half {
                u.receive_stop().unwrap();
            }
        });
        run(&lp);
        let mut first = true;
        start(&rx, mode, &got, move |u, bytes| {
            if std::mem::take(&mut first) {
                assert!(u.set_gro(true).is_ok());
                send_burst(&tx, addr, 0);
                send_burst(&tx, addr, 1);
            }
            if bytes == total {
                u.close(|| {});
                tx.close(|| {});
            }
        });
        run(&lp);
        assert_received(&got, &want, from, mode);
        assert_eq!(lp.handle_count(), 0);
    }
}

/// Receiving stops part way through a coalesced burst; offload is toggled
/// while bursts wait in the batch and in the socket; receiving restarts in
/// the other mode. Nothing is lost, duplicated or glued.
#[test]
fn toggles_between_stop_and_start_keep_every_datagram_apart() {
    for (first, second) in [
        (Mode::Lent, Mode::Buffers),
        (Mode::Buffers, Mode::Lent),
        (Mode::LentWide, Mode::BuffersWide),
        (Mode::BuffersWide, Mode::LentWide),
    ] {
        let lp = Loop::new().unwrap();
        let (rx, addr) = util::bound_udp(&lp);
        let (tx, from) = util::bound_udp(&lp);
        let on = rx.set_gro(true).unwrap();
        send_burst(&tx, addr, 0);
        send_burst(&tx, addr, 1);
        let got = shared(Vec::new());
        // Stop in the middle of burst 0.
        start(&rx, first, &got, |u, bytes| {
            if bytes >= 3 * SEGMENT {
                u.receive_stop().unwrap();
            }
        });
        run(&lp);
        // Burst 2 waits coalesced in the socket when offload goes off.
        send_burst(&tx, addr, 2);
        let off = rx.set_gro(false);
        send_burst(&tx, addr, 3);
        // Stop in the middle of burst 2.
        let part = total_bytes(&burst_datagrams(0)) * 2 + 5 * SEGMENT;
        start(&rx, second, &got, move |u, bytes| {
            if bytes >= part {
                u.receive_stop().unwrap();
            }
        });
        run(&lp);
        // On again, not receiving, with bursts waiting.
        let on_again = rx.set_gro(true);
        send_burst(&tx, addr, 4);
        let want: Vec<Vec<u8>> = (0..5).flat_map(burst_datagrams).collect();
        receive_until_all(&lp, &rx, first, &got, &want);
        assert_received(&got, &want, from, second);
        assert_eq!(off, Ok(on));
        assert_eq!(on_again, Ok(on));
        util::close_all(&lp, &[&rx, &tx]);
    }
}

/// Offload first turned on while not receiving, with a plain datagram and
/// a burst queued: both arrive one datagram per callback.
#[test]
fn on_between_receives_with_plain_datagrams_queued() {
    for mode in MODES {
        let lp = Loop::new().unwrap();
        let (rx, addr) = util::bound_udp(&lp);
        let (tx, from) = util::bound_udp(&lp);
        assert_eq!(tx.try_send(&[plain(0)], Some(addr)), Ok(4));
        assert!(rx.set_gro(true).is_ok());
        send_burst(&tx, addr, 0);
        let mut want = vec![plain(0)];
        want.extend(burst_datagrams(0));
        let got = shared(Vec::new());
        receive_until_all(&lp, &rx, mode, &got, &want);
        assert_received(&got, &want, from, mode);
        util::close_all(&lp, &[&rx, &tx]);
    }
}

/// Offload turned on from the allocator of `receive_start_with`, just
/// before a read: the buffer may come back unused (`len 0`, no sender),
/// and every datagram after it still arrives on its own.
#[test]
fn on_inside_the_allocator_splits_later_bursts() {
    for wide in [false, true] {
        let lp = Loop::new().unwrap();
        let (rx, addr) = util::bound_udp(&lp);
        let (tx, from) = util::bound_udp(&lp);
        assert_eq!(tx.try_send(&[plain(0)], Some(addr)), Ok(4));
        let mut want = vec![plain(0)];
        want.extend(burst_datagrams(0));
        let total = total_bytes(&want);
        rx.set_recvmmsg(wide).unwrap();
        let got: Received = shared(Vec::new());
        let g = got.clone();
        let mut first = true;
        let sender = tx.clone();
        rx.receive_start_with(
            move |u, size| {
                if std::mem::take(&mut first) {
                    assert!(u.set_gro(true).is_ok());
                    send_burst(&sender, addr, 0);
                }
                vec![0u8; size]
            },
            move |u, r: ruv::Result<RecvMeta>, buf| {
                let meta = r.unwrap();
                let Some(addr) = meta.addr else {
                    assert_eq!(meta.len, 0);
                    return;
                };
                g.borrow_mut().push((buf[..meta.len].to_vec(), addr));
                if received_bytes(&g) == total {
                    u.receive_stop().unwrap();
                }
            },
        )
        .unwrap();
        run(&lp);
        let mode = if wide {
            Mode::BuffersWide
        } else {
            Mode::Buffers
        };
        assert_received(&got, &want, from, mode);
        util::close_all(&lp, &[&rx, &tx]);
    }
}
