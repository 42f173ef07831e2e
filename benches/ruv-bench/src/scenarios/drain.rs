//! Drain capacity: the receiver binds a socket with a receive buffer large
//! enough for the whole run (`SO_RCVBUFFORCE`, which needs root; else
//! `SO_RCVBUF` up to `net.core.rmem_max`) and waits; a raw C sender queues
//! N datagrams; the harness reads the socket's drop count from
//! `/proc/net/udp` and tells the receiver to drain the N − drops queued
//! datagrams alone.

use super::flood::batched;
use super::{per, rate, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl, READY_TIMEOUT};
use std::time::Duration;

/// Kernel memory one queued 64-byte datagram takes (its skb's truesize is
/// about 830 bytes on loopback), with room to spare.
const BYTES_PER_QUEUED: u64 = 1024;
/// The most `SO_RCVBUFFORCE` takes (the kernel doubles it to ~2 GiB).
const MAX_RCVBUF: u64 = (i32::MAX / 2) as u64;

const METRICS: [Metric; 3] = [
    Metric::new("drain_per_s", "drained/s", Unit::PerSec, Better::Higher),
    Metric::new("cpu_ns_per_dgram", "CPU/dgram", Unit::Ns, Better::Lower),
    Metric::new("queued", "queued", Unit::Count, Better::Neither),
];

/// The drain case.
pub fn cases(env: &Env) -> Vec<Case> {
    let count = env.sizes.drain_count;
    vec![Case {
        scenario: "drain",
        id: "drain".into(),
        title: "drain capacity".into(),
        setup: format!(
            "{} datagrams of 64 B queued while the receiver waits, then drained alone on CPU 1; \
             batch receive as in flood",
            super::short_count(count)
        ),
        metrics: METRICS.to_vec(),
        impls: Impl::DATAGRAM.to_vec(),
        baselines: vec![Impl::RawMmsg, Impl::Libuv],
        ratio_metrics: vec!["drain_per_s"],
        once: false,
        run: Box::new(move |env, imp| {
            let v = queue_and_drain(env, imp, count, Cpu::Main, &[])?;
            Ok(v.values())
        }),
    }]
}

/// What one drain run measured.
#[derive(Clone, Copy, Debug)]
pub struct Drained {
    /// Datagrams queued (sent − dropped).
    pub queued: u64,
    /// Datagrams the receiver got.
    pub received: u64,
    /// Its wall time, ns.
    pub ns: u64,
    /// Its CPU time, ns.
    pub cpu_ns: u64,
}

impl Drained {
    fn values(&self) -> Values {
        Values::from([
            ("drain_per_s", rate(self.received, self.ns)),
            (
                "cpu_ns_per_dgram",
                per(self.cpu_ns as f64, self.received as f64),
            ),
            ("queued", self.queued as f64),
        ])
    }
}

/// Queues `count` datagrams for `imp`'s receiver and lets it drain them;
/// `wrapper` runs the receiver under valgrind (then `cpu` is ignored).
pub fn queue_and_drain(
    env: &Env,
    imp: Impl,
    count: u64,
    cpu: Cpu,
    wrapper: &[std::ffi::OsString],
) -> Result<Drained, String> {
    let slow = !wrapper.is_empty();
    let secs = if slow { 600 } else { 60 };
    let mut p = params_with_timeout(secs);
    p.set("mmsg", u8::from(batched(env, imp))).set(
        "rcvbuf",
        (count * BYTES_PER_QUEUED + (4 << 20)).min(MAX_RCVBUF),
    );
    let mut rx = if slow {
        env.spawn_under(wrapper, imp, "drain-recv", &p)?
    } else {
        env.spawn(imp, "drain-recv", &p, cpu)?
    };
    let port = rx.ready(READY_TIMEOUT * if slow { 3 } else { 1 })?;
    let mut sp = params_with_timeout(60);
    sp.set("port", port).set("count", count);
    let sent = env
        .spawn(Impl::Raw, "drain-send", &sp, Cpu::Helper)?
        .result(Duration::from_secs(60))?
        .require("sent")?;
    let drops = udp_drops(port).unwrap_or(0);
    let queued = sent.saturating_sub(drops);
    rx.send_line(&format!("go {queued}"))?;
    let got = rx.result(Duration::from_secs(secs))?;
    let received = got.require("received")?;
    if received == 0 {
        return Err(format!("{}: drained nothing", imp.name()));
    }
    Ok(Drained {
        queued,
        received,
        ns: got.require("ns")?,
        cpu_ns: got.require("cpu_ns")?,
    })
}

/// The drop counter of the IPv4 UDP socket bound to `port`, from
/// `/proc/net/udp` (its last column).
pub fn udp_drops(port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    parse_drops(&table, port)
}

fn parse_drops(table: &str, port: u16) -> Option<u64> {
    let local = format!(":{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace();
        let addr = cols.nth(1)?;
        if !addr.ends_with(&local) {
            return None;
        }
        line.split_whitespace().last()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_drops_from_proc_net_udp() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
 5860: 0100007F:B3ED 00000000:0000 07 00000000:31975000 00:00000000 00000000     0        0 532053 2 000000002b151d11 17\n\
 13035: 0100007F:8FF4 0100007F:B3ED 01 00000000:00000000 00:00000000 00000000     0        0 532054 2 0000000045dd9573 0\n";
        assert_eq!(parse_drops(table, 0xB3ED), Some(17));
        assert_eq!(parse_drops(table, 0x8FF4), Some(0));
        assert_eq!(parse_drops(table, 1), None);
    }
}
