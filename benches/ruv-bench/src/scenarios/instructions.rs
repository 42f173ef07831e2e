//! User-space instructions, counted by `valgrind --tool=callgrind` (exact
//! and repeatable, unlike time on a shared VM), and calls of
//! `clock_gettime` from the callgrind call graph. Each figure is the
//! difference of two runs of different lengths divided by the difference
//! of their lengths, so process start-up, socket set-up and teardown
//! cancel out:
//!
//! - per received datagram: the drain scenario, the receiver under
//!   callgrind (batch receive as in flood);
//! - per in-loop round trip: the in-loop ping-pong with a fixed count;
//! - per idle iteration: the empty loop with a fixed count.

use super::drain::queue_and_drain;
use super::{per, Better, Case, Metric, Unit, Values};
use crate::harness::env::{params_with_timeout, Cpu, Env, Impl};
use std::collections::HashMap;
use std::ffi::OsString;
use std::time::Duration;

const METRICS: [Metric; 2] = [
    Metric::new("instr", "instructions", Unit::Count, Better::Lower),
    Metric::new("clock_reads", "clock reads", Unit::Count, Better::Lower),
];

/// What a callgrind run reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// Instructions executed in user space.
    pub instructions: u64,
    /// Calls of `clock_gettime` (not counting its internal calls).
    pub clock_reads: u64,
}

/// Which measurement a case makes.
#[derive(Clone, Copy, Debug)]
enum Per {
    Datagram,
    RoundTrip,
    Iteration,
}

/// The three instruction cases.
pub fn cases(env: &Env) -> Vec<Case> {
    let s = env.sizes;
    let make = |id: &str, title: &str, unit: Per, sizes: (u64, u64), impls: Vec<Impl>| Case {
        scenario: "instructions",
        id: id.into(),
        title: title.into(),
        setup: format!(
            "valgrind --tool=callgrind; difference of {} and {} units, divided by {}",
            sizes.0,
            sizes.1,
            sizes.1 - sizes.0
        ),
        metrics: METRICS.to_vec(),
        impls,
        baselines: vec![Impl::Libuv],
        ratio_metrics: vec!["instr"],
        once: true,
        run: Box::new(move |env, imp| run(env, imp, unit, sizes)),
    };
    vec![
        make(
            "instructions-recv",
            "user instructions per received datagram (drain, batch receive)",
            Per::Datagram,
            s.cg_datagrams,
            vec![
                Impl::Ruv,
                Impl::Libuv,
                Impl::UvCompat,
                Impl::TokioAwait,
                Impl::TokioReady,
                Impl::RawMmsg,
                Impl::Raw,
            ],
        ),
        make(
            "instructions-pingpong",
            "user instructions per in-loop round trip",
            Per::RoundTrip,
            s.cg_trips,
            vec![
                Impl::Ruv,
                Impl::Libuv,
                Impl::UvCompat,
                Impl::TokioAwait,
                Impl::TokioReady,
                Impl::Raw,
            ],
        ),
        make(
            "instructions-idle",
            "user instructions and clock reads per idle iteration",
            Per::Iteration,
            s.cg_iterations,
            vec![Impl::Ruv, Impl::Libuv, Impl::UvCompat, Impl::Raw],
        ),
    ]
}

fn run(env: &Env, imp: Impl, unit: Per, (short, long): (u64, u64)) -> Result<Values, String> {
    if !env.valgrind {
        return Err("valgrind is not installed (apt-get install valgrind)".into());
    }
    let a = profile(env, imp, unit, short)?;
    let b = profile(env, imp, unit, long)?;
    let n = (long - short) as f64;
    let diff = |x: u64, y: u64| per((y as f64 - x as f64).max(0.0), n);
    Ok(Values::from([
        ("instr", diff(a.instructions, b.instructions)),
        ("clock_reads", diff(a.clock_reads, b.clock_reads)),
    ]))
}

/// Runs `imp` for `n` units under callgrind.
fn profile(env: &Env, imp: Impl, unit: Per, n: u64) -> Result<Profile, String> {
    let out = env
        .work
        .join(format!("callgrind-{}-{unit:?}-{n}.out", imp.name()));
    let _ = std::fs::remove_file(&out);
    let mut file_arg = OsString::from("--callgrind-out-file=");
    file_arg.push(&out);
    let wrapper: Vec<OsString> = vec!["valgrind".into(), "--tool=callgrind".into(), file_arg];
    let timeout = Duration::from_secs(600);
    match unit {
        Per::Datagram => {
            let d = queue_and_drain(env, imp, n, Cpu::Any, &wrapper)?;
            if d.received != n {
                return Err(format!(
                    "{}: drained {} of {n} datagrams",
                    imp.name(),
                    d.received
                ));
            }
        }
        Per::RoundTrip => {
            let mut p = params_with_timeout(timeout.as_secs());
            p.set("count", n);
            env.spawn_under(&wrapper, imp, "pingpong-loop", &p)?
                .result(timeout)?;
        }
        Per::Iteration => {
            let mut p = params_with_timeout(timeout.as_secs());
            p.set("iterations", n);
            env.spawn_under(&wrapper, imp, "idle", &p)?
                .result(timeout)?;
        }
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    parse_callgrind(&text).ok_or_else(|| format!("{}: no totals", out.display()))
}

/// Instructions and `clock_gettime` calls from a callgrind output file.
pub fn parse_callgrind(text: &str) -> Option<Profile> {
    let is_clock = |name: &str| name.contains("clock_gettime");
    // Function names are compressed: "(id) name" the first time, "(id)"
    // after that.
    let mut names: HashMap<String, String> = HashMap::new();
    let mut resolve = |spec: &str| -> String {
        let spec = spec.trim();
        match spec.strip_prefix('(').and_then(|s| s.split_once(')')) {
            Some((id, rest)) => {
                let rest = rest.trim();
                if rest.is_empty() {
                    names.get(id).cloned().unwrap_or_default()
                } else {
                    names.insert(id.to_string(), rest.to_string());
                    rest.to_string()
                }
            }
            None => spec.to_string(),
        }
    };
    let mut total = None;
    let mut caller = String::new();
    let mut callee = String::new();
    let mut clock_reads = 0;
    for line in text.lines() {
        if let Some(spec) = line.strip_prefix("fn=") {
            caller = resolve(spec);
        } else if let Some(spec) = line.strip_prefix("cfn=") {
            callee = resolve(spec);
        } else if let Some(rest) = line.strip_prefix("calls=") {
            if is_clock(&callee) && !is_clock(&caller) {
                clock_reads += rest.split_whitespace().next()?.parse::<u64>().ok()?;
            }
        } else if let Some(rest) = line
            .strip_prefix("totals:")
            .or_else(|| line.strip_prefix("summary:"))
        {
            total = rest.split_whitespace().next()?.parse().ok();
        }
    }
    Some(Profile {
        instructions: total?,
        clock_reads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_callgrind_output() {
        let text = "\
events: Ir
fn=(1) main
cfn=(2) clock_gettime@@GLIBC_2.17
calls=3 0x10
5 30
cfn=(3) work
calls=1 0x20
6 100
fn=(2)
cfn=(4) __vdso_clock_gettime
calls=3 0x30
7 12
fn=(5) loop
cfn=(2)
calls=4 0x10
8 40
totals: 1234
";
        let p = parse_callgrind(text).unwrap();
        assert_eq!(p.instructions, 1234);
        assert_eq!(p.clock_reads, 7);
        assert_eq!(parse_callgrind("fn=(1) x\n"), None);
    }
}
