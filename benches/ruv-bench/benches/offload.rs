//! Segmentation and receive offload (issue 5, GSO/GRO): moving bursts of 48
//! datagrams of 1200 bytes (57,600 bytes: the kernel segments at most one
//! UDP datagram's worth per call) across loopback between two ruv handles.
//!
//! - `send/plain`: 48 `Udp::try_send` calls; `send/segments`: one
//!   `Udp::try_send_segments` (one `sendmsg` with `UDP_SEGMENT` where the
//!   kernel supports it, else `sendmmsg` fallbacks) — only sending is timed,
//!   the receiver drains between iterations untimed.
//! - `roundtrip/plain` and `roundtrip/gso+gro`: send the burst and receive
//!   all 48 datagrams in the loop, the second with segmentation on the send
//!   side and `Udp::set_gro(true)` on the receive side (the kernel then
//!   hands the burst over as one message, which ruv splits again).
//!
//! `cargo bench -p ruv-bench --bench offload`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ruv::{Loop, RunMode, Udp, UdpFlags};
use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

const SEGMENTS: usize = 48;
const SEGMENT: usize = 1200;

/// A receiver counting datagrams (checking their size) and a sender.
struct Pair {
    lp: Loop,
    rx: Udp,
    tx: Udp,
    to: SocketAddr,
    received: Rc<Cell<usize>>,
}

fn pair(gro: bool) -> Pair {
    let lp = Loop::new().expect("loop");
    let rx = Udp::new(&lp);
    rx.bind("127.0.0.1:0".parse().expect("addr"), UdpFlags::empty())
        .expect("bind");
    rx.set_recv_buffer_size(4 << 20).expect("rcvbuf");
    if gro {
        rx.set_gro(true).expect("gro");
    }
    let received = Rc::new(Cell::new(0));
    let count = received.clone();
    rx.receive_start(move |_, result| {
        assert_eq!(result.expect("receive").data.len(), SEGMENT);
        count.set(count.get() + 1);
    })
    .expect("receive_start");
    let tx = Udp::new(&lp);
    tx.bind("127.0.0.1:0".parse().expect("addr"), UdpFlags::empty())
        .expect("bind");
    let to = rx.sockname().expect("sockname");
    Pair {
        lp,
        rx,
        tx,
        to,
        received,
    }
}

impl Pair {
    fn send_burst(&self, payload: &[u8], segments: bool) {
        if segments {
            let sent = self
                .tx
                .try_send_segments(payload, SEGMENT, Some(self.to))
                .expect("send segments");
            assert_eq!(sent, payload.len());
        } else {
            for chunk in payload.chunks(SEGMENT) {
                self.tx.try_send(&[chunk], Some(self.to)).expect("send");
            }
        }
    }

    fn drain(&self, target: usize) {
        while self.received.get() < target {
            self.lp.run(RunMode::NoWait).expect("run");
        }
    }

    fn close(self) {
        self.rx.close(|| {});
        self.tx.close(|| {});
        self.lp.run(RunMode::Default).expect("run");
    }
}

fn offload(c: &mut Criterion) {
    let payload = vec![0x5a; SEGMENTS * SEGMENT];
    let mut group = c.benchmark_group("offload");
    group.throughput(Throughput::Elements(SEGMENTS as u64));
    for (name, segments) in [("send/plain", false), ("send/segments", true)] {
        let p = pair(false);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let target = p.received.get() + SEGMENTS;
                    let start = Instant::now();
                    p.send_burst(&payload, segments);
                    total += start.elapsed();
                    p.drain(target);
                }
                total
            })
        });
        p.close();
    }
    for (name, offload) in [("roundtrip/plain", false), ("roundtrip/gso+gro", true)] {
        let p = pair(offload);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let target = p.received.get() + SEGMENTS;
                    p.send_burst(&payload, offload);
                    p.drain(target);
                }
                start.elapsed()
            })
        });
        p.close();
    }
    group.finish();
}

criterion_group!(benches, offload);
criterion_main!(benches);
