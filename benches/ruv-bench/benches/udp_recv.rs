//! The UDP receive path: a ruv loop receiving bursts of 32 datagrams of 64
//! bytes from a bound socket on loopback, one `RunMode::NoWait` iteration
//! at a time until the burst is in; only the receiving is timed (the burst
//! is sent before the clock starts). With and without
//! `Udp::set_recvmmsg(true)`.
//!
//! `cargo bench -p ruv-bench --bench udp_recv`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ruv::{Loop, RunMode, Udp, UdpFlags};
use std::cell::Cell;
use std::net::UdpSocket;
use std::rc::Rc;
use std::time::{Duration, Instant};

const BURST: u64 = 32;
const PAYLOAD: [u8; 64] = [0x5a; 64];

fn receive(c: &mut Criterion) {
    let mut group = c.benchmark_group("udp_recv");
    group.throughput(Throughput::Elements(BURST));
    for batched in [false, true] {
        let lp = Loop::new().expect("loop");
        let udp = Udp::new(&lp);
        udp.bind("127.0.0.1:0".parse().expect("addr"), UdpFlags::empty())
            .expect("bind");
        udp.set_recvmmsg(batched).expect("set_recvmmsg");
        let received = Rc::new(Cell::new(0u64));
        let count = received.clone();
        udp.receive_start(move |_, result| {
            let dgram = result.expect("receive");
            assert_eq!(dgram.data.len(), PAYLOAD.len());
            count.set(count.get() + 1);
        })
        .expect("receive_start");
        let tx = UdpSocket::bind("127.0.0.1:0").expect("sender");
        tx.connect(udp.sockname().expect("sockname"))
            .expect("connect");
        let name = if batched {
            "burst32/set_recvmmsg"
        } else {
            "burst32/default"
        };
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    for _ in 0..BURST {
                        tx.send(&PAYLOAD).expect("send");
                    }
                    let target = received.get() + BURST;
                    let start = Instant::now();
                    while received.get() < target {
                        lp.run(RunMode::NoWait).expect("run");
                    }
                    total += start.elapsed();
                }
                total
            })
        });
        udp.close(|| {});
        lp.run(RunMode::NoWait).expect("run");
    }
    group.finish();
}

criterion_group!(benches, receive);
criterion_main!(benches);
