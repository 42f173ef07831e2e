//! The targets of issue 5, checked against a run's results. They are
//! reported, never enforced: the exit status of the harness depends only
//! on whether every run succeeded.

use crate::report::{markdown_table, render_table, CaseResult};
use crate::scenarios::{Better, Unit};
use serde::Serialize;

/// One target and what this run measured for it.
#[derive(Clone, Debug, Serialize)]
pub struct TargetResult {
    /// The target, as the issue words it.
    pub target: String,
    /// The case it is read from.
    pub case: String,
    /// The measured value (a ratio or an absolute figure).
    pub measured: Option<f64>,
    /// What `measured` is, e.g. `× raw-mmsg`.
    pub unit: String,
    /// The limit, e.g. `≤ 1.05`.
    pub limit: String,
    /// Met, missed, or not measured in this run.
    pub met: Option<bool>,
}

#[derive(Clone, Copy)]
enum Limit {
    AtMost(f64),
    AtLeast(f64),
}

impl Limit {
    fn check(self, v: f64) -> bool {
        match self {
            Limit::AtMost(x) => v <= x,
            Limit::AtLeast(x) => v >= x,
        }
    }

    fn text(self) -> String {
        match self {
            Limit::AtMost(x) => format!("≤ {x}"),
            Limit::AtLeast(x) => format!("≥ {x}"),
        }
    }
}

struct Ctx<'a> {
    cases: &'a [CaseResult],
    out: Vec<TargetResult>,
}

impl Ctx<'_> {
    fn case(&self, id: &str) -> Option<&CaseResult> {
        self.cases.iter().find(|c| c.id == id)
    }

    fn push(
        &mut self,
        target: String,
        case: &str,
        measured: Option<f64>,
        unit: String,
        limit: Limit,
    ) {
        self.out.push(TargetResult {
            target,
            case: case.to_string(),
            measured,
            unit,
            limit: limit.text(),
            met: measured.map(|v| limit.check(v)),
        });
    }

    /// `imp / base` of `metric` in `case`.
    fn ratio(&mut self, target: &str, case: &str, metric: &str, base: &str, limit: Limit) {
        self.ratio_of("ruv", target, case, metric, base, limit);
    }

    /// The median ratio of `imp`'s `metric` to `base`'s in `case`.
    fn ratio_of(
        &mut self,
        imp: &str,
        target: &str,
        case: &str,
        metric: &str,
        base: &str,
        limit: Limit,
    ) {
        let v = self.case(case).and_then(|c| c.ratio_of(imp, base, metric));
        if self.case(case).is_some() {
            self.push(target.to_string(), case, v, format!("× {base}"), limit);
        }
    }

    /// ruv's median of `metric` in `case`.
    fn value(&mut self, target: &str, case: &str, metric: &str, unit: &str, limit: Limit) {
        let v = self.case(case).and_then(|c| c.median_of("ruv", metric));
        if self.case(case).is_some() {
            self.push(target.to_string(), case, v, unit.to_string(), limit);
        }
    }
}

/// Evaluates every target whose case ran.
pub fn evaluate(cases: &[CaseResult]) -> Vec<TargetResult> {
    use Limit::{AtLeast, AtMost};
    let mut t = Ctx {
        cases,
        out: Vec::new(),
    };
    t.ratio(
        "flood CPU/datagram ≤ 1.05× raw C recvmmsg",
        "flood",
        "cpu_ns_per_dgram",
        "raw-mmsg",
        AtMost(1.05),
    );
    t.ratio(
        "flood CPU/datagram ≤ 0.8× libuv",
        "flood",
        "cpu_ns_per_dgram",
        "libuv",
        AtMost(0.8),
    );
    t.ratio(
        "drain capacity ≥ 1.0× raw C",
        "drain",
        "drain_per_s",
        "raw-mmsg",
        AtLeast(1.0),
    );
    t.ratio(
        "in-loop ping-pong ≥ 1.2× libuv",
        "pingpong-loop",
        "rt_per_s",
        "libuv",
        AtLeast(1.2),
    );
    t.value(
        "≤ 6 syscalls per in-loop round trip",
        "syscalls",
        "syscalls_per_rt",
        "syscalls",
        AtMost(6.0),
    );
    t.value(
        "no epoll_ctl per send",
        "syscalls",
        "epoll_ctl_per_rt",
        "epoll_ctl/rt",
        AtMost(0.0),
    );
    t.ratio(
        "ping-pong vs a blocking peer ≥ 0.95× raw C",
        "pingpong-peer",
        "rt_per_s",
        "raw",
        AtLeast(0.95),
    );
    t.ratio(
        "empty iteration ≤ 1.1× bare epoll_wait",
        "idle",
        "ns_per_iter",
        "raw",
        AtMost(1.1),
    );
    t.value(
        "at most one clock read per iteration",
        "instructions-idle",
        "clock_reads",
        "reads",
        AtMost(1.0),
    );
    t.ratio(
        "≤ 0.4× libuv's instructions per round trip",
        "instructions-pingpong",
        "instr",
        "libuv",
        AtMost(0.4),
    );
    t.value(
        "≤ 20 instructions per received datagram",
        "instructions-recv",
        "instr",
        "instructions",
        AtMost(20.0),
    );
    for c in cases.iter().filter(|c| c.scenario == "timers") {
        let id = c.id.as_str();
        let n = id.trim_start_matches("timers-");
        t.ratio(
            &format!("timers ({n}): start ≤ 0.5× libuv"),
            id,
            "start_ns",
            "libuv",
            AtMost(0.5),
        );
        t.ratio(
            &format!("timers ({n}): fire ≤ 0.5× libuv"),
            id,
            "fire_ns",
            "libuv",
            AtMost(0.5),
        );
        t.value(
            &format!("timers ({n}): ≤ 64 bytes per timer"),
            id,
            "bytes_per_timer",
            "bytes",
            AtMost(64.0),
        );
    }
    stream_targets(&mut t, cases);
    // uv-compat against libuv on the same C source: every case where both
    // ran, on each metric that has a better direction, as a speed ratio.
    for c in cases {
        if !(c.impls.iter().any(|i| i == "uv-compat") && c.impls.iter().any(|i| i == "libuv")) {
            continue;
        }
        for m in &c.metrics {
            if m.better == Better::Neither || !c.ratio_metrics.iter().any(|k| k == m.key) {
                continue;
            }
            let r = c.ratio_of("uv-compat", "libuv", m.key);
            let speed = r.map(|r| {
                if m.better == Better::Lower {
                    1.0 / r
                } else {
                    r
                }
            });
            // Bytes are inverted like times: libuv's figure over ours.
            let what = if m.unit == Unit::Bytes {
                "× libuv (memory: libuv's ÷ ours)"
            } else {
                "× libuv (speed)"
            };
            t.push(
                format!("uv-compat ≥ 1.0× libuv: {} {}", c.id, m.label),
                &c.id,
                speed,
                what.into(),
                AtLeast(1.0),
            );
        }
    }
    t.out
}

/// The targets of issues 12 (streams), 13 (processes) and 14 (asyncio
/// transports).
fn stream_targets(t: &mut Ctx<'_>, cases: &[CaseResult]) {
    use Limit::{AtLeast, AtMost};
    for c in cases.iter().filter(|c| c.scenario == "tcp-echo") {
        let id = c.id.as_str();
        if let Some(n) = id.strip_prefix("tcp-echo-syscalls-") {
            t.value(
                &format!("TCP echo ({n} conns): ≤ 2.02 syscalls per echo"),
                id,
                "syscalls_per_echo",
                "syscalls",
                AtMost(2.02),
            );
            t.value(
                &format!("TCP echo ({n} conns): no epoll_ctl per write"),
                id,
                "epoll_ctl_per_echo",
                "epoll_ctl/echo",
                AtMost(0.001),
            );
        } else if let Some(n) = id.strip_prefix("tcp-echo-") {
            t.ratio(
                &format!("TCP echo ({n} conns): server CPU/echo ≤ 1.05× raw epoll C"),
                id,
                "cpu_ns_per_echo",
                "raw",
                AtMost(1.05),
            );
            t.ratio(
                &format!("TCP echo ({n} conns): server CPU/echo ahead of libuv"),
                id,
                "cpu_ns_per_echo",
                "libuv",
                AtMost(1.0),
            );
        }
    }
    // Issue 14: the asyncio transport layer over plain `Tcp`.
    for c in cases.iter().filter(|c| c.scenario == "transport-echo") {
        let size = c.id.trim_start_matches("transport-echo-");
        t.ratio_of(
            "ruv-transport",
            &format!("protocol echo ({size}): transport CPU/echo ≤ 1.10× plain Tcp"),
            &c.id,
            "cpu_ns_per_echo",
            "ruv",
            AtMost(1.10),
        );
    }
    for kind in ["tcp", "unix"] {
        let id = format!("pump-{kind}");
        t.ratio(
            &format!("pump ({kind}): throughput ≥ 1.0× libuv"),
            &id,
            "bytes_per_s",
            "libuv",
            AtLeast(1.0),
        );
        t.ratio(
            &format!("pump ({kind}): throughput ≥ 0.95× raw"),
            &id,
            "bytes_per_s",
            "raw",
            AtLeast(0.95),
        );
    }
    t.ratio(
        "write batch: syscalls ≤ 1/100 of libuv's",
        "write-batch-syscalls",
        "syscalls_per_write",
        "libuv",
        AtMost(0.01),
    );
    for c in cases.iter().filter(|c| c.scenario == "pound") {
        t.ratio(
            "pound: connections/s ≥ 1.0× libuv",
            &c.id,
            "conn_per_s",
            "libuv",
            AtLeast(1.0),
        );
    }
    for c in cases.iter().filter(|c| c.scenario == "idle-conns") {
        t.ratio(
            "idle connections: memory/conn ≤ 1.0× libuv",
            &c.id,
            "bytes_per_conn",
            "libuv",
            AtMost(1.0),
        );
    }
    t.ratio(
        "spawn rate ≥ 1.0× libuv",
        "spawn",
        "spawn_per_s",
        "libuv",
        AtLeast(1.0),
    );
}

/// The targets as a table.
pub fn table(targets: &[TargetResult]) -> String {
    let (headers, rows) = cells(targets);
    render_table(&headers, &rows)
}

/// The targets as a Markdown table.
pub fn markdown(targets: &[TargetResult]) -> String {
    let (headers, rows) = cells(targets);
    markdown_table(&headers, &rows)
}

fn cells(targets: &[TargetResult]) -> (Vec<String>, Vec<Vec<String>>) {
    let headers: Vec<String> = ["target", "measured", "limit", ""]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            vec![
                t.target.clone(),
                t.measured
                    .map_or_else(|| "—".into(), |v| format!("{v:.2} {}", t.unit)),
                t.limit.clone(),
                match t.met {
                    Some(true) => "met".into(),
                    Some(false) => "NOT MET".into(),
                    None => "not measured".into(),
                },
            ]
        })
        .collect();
    (headers, rows)
}
