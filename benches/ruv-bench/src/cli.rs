//! Command-line options of the harness, and the sizes of each mode.

use std::path::PathBuf;

/// The usage text.
pub const USAGE: &str = "\
ruv-bench: ruv side by side with libuv, uv-compat, tokio and raw syscalls

usage: ruv-bench [OPTIONS]
       cargo run --release -p ruv-bench -- [OPTIONS]

  --quick             CI smoke test: small sizes, short runs (seconds); checks
                      that every scenario ran, never how fast
  --rounds N          interleaved rounds per scenario (default 3, at least 1)
  --scenario NAME     run only this scenario or case (repeatable); see --list
  --impl NAME         run only this implementation (repeatable; baselines of
                      ratios are dropped if not selected)
  --json FILE         also write the results as JSON
  --markdown FILE     also write the tables as Markdown (for docs/PERFORMANCE.md)
  --ruv-recvmmsg      ruv receives with Udp::set_recvmmsg(true) in flood and
                      drain (the default)
  --no-ruv-recvmmsg   ... or without
  --list              list scenarios and implementations, then exit
  -h, --help          this text

(`ruv-bench worker IMPL SCENARIO key=value...` is the harness's own child
process mode.)";

/// Parsed options.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Options {
    /// `--quick`.
    pub quick: bool,
    /// `--rounds`.
    pub rounds: usize,
    /// `--scenario` (empty: all).
    pub scenarios: Vec<String>,
    /// `--impl` (empty: all).
    pub impls: Vec<String>,
    /// `--json`.
    pub json: Option<PathBuf>,
    /// `--markdown`.
    pub markdown: Option<PathBuf>,
    /// `--ruv-recvmmsg` / `--no-ruv-recvmmsg`.
    pub ruv_recvmmsg: bool,
    /// `--list`.
    pub list: bool,
    /// `--help`.
    pub help: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            quick: false,
            rounds: 3,
            scenarios: Vec::new(),
            impls: Vec::new(),
            json: None,
            markdown: None,
            ruv_recvmmsg: true,
            list: false,
            help: false,
        }
    }
}

impl Options {
    /// Parses the arguments (without the program name).
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match flag {
                "--quick" => o.quick = true,
                "--rounds" => {
                    let v = value("--rounds")?;
                    o.rounds =
                        v.parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
                            format!("--rounds: expected a number >= 1, got {v:?}")
                        })?;
                }
                "--scenario" => o.scenarios.push(value("--scenario")?),
                "--impl" => o.impls.push(value("--impl")?),
                "--json" => o.json = Some(PathBuf::from(value("--json")?)),
                "--markdown" => o.markdown = Some(PathBuf::from(value("--markdown")?)),
                "--ruv-recvmmsg" => o.ruv_recvmmsg = true,
                "--no-ruv-recvmmsg" => o.ruv_recvmmsg = false,
                "--list" => o.list = true,
                "-h" | "--help" => o.help = true,
                other => return Err(format!("unknown option {other:?} (see --help)")),
            }
        }
        Ok(o)
    }

    /// The sizes of this mode.
    pub fn sizes(&self) -> Sizes {
        if self.quick {
            Sizes::QUICK
        } else {
            Sizes::FULL
        }
    }
}

/// How big and how long each scenario runs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Sizes {
    /// Flood: how long the sender blasts, ms.
    pub flood_ms: u64,
    /// Drain: datagrams queued before the receiver starts.
    pub drain_count: u64,
    /// Ping-pong (both kinds): duration, ms.
    pub pingpong_ms: u64,
    /// Pummel: duration, ms.
    pub pummel_ms: u64,
    /// Pummel: (senders, receivers) configurations.
    pub pummel: &'static [(u64, u64)],
    /// Timers: how many, one case each.
    pub timers: &'static [u64],
    /// Empty loop: iterations.
    pub idle_iterations: u64,
    /// libuv's `loop_alive`: calls of `uv_loop_alive`.
    pub alive_calls: u64,
    /// libuv's `million_timers`: timers.
    pub million_timers: u64,
    /// strace: in-loop round trips of the two runs whose difference counts.
    pub strace_trips: (u64, u64),
    /// callgrind: datagrams drained, two runs.
    pub cg_datagrams: (u64, u64),
    /// callgrind: in-loop round trips, two runs.
    pub cg_trips: (u64, u64),
    /// callgrind: idle iterations, two runs.
    pub cg_iterations: (u64, u64),
    /// Stream runs (TCP echo, stream ping-pong, pump, pound): duration, ms.
    pub stream_ms: u64,
    /// TCP echo: connection counts, one case each.
    pub echo_conns: &'static [u64],
    /// TCP echo syscalls: durations of the two runs whose difference counts, ms.
    pub echo_syscall_ms: (u64, u64),
    /// Write batch: writes of the short and the long batch (the long one
    /// is timed).
    pub write_batch: (u64, u64),
    /// Pound: concurrent clients.
    pub pound_conns: u64,
    /// Idle connections held.
    pub idle_conns: u64,
    /// Spawns, one after the other.
    pub spawns: u64,
    /// Signals, one at a time.
    pub signals: u64,
    /// Signals in the burst.
    pub signal_burst: u64,
}

impl Sizes {
    /// The full run (`docs/PERFORMANCE.md`).
    pub const FULL: Sizes = Sizes {
        flood_ms: 2000,
        drain_count: 1_000_000,
        pingpong_ms: 2000,
        pummel_ms: 2000,
        pummel: &[(1, 1), (10, 10), (100, 100), (1000, 1000)],
        timers: &[1_000_000, 10_000_000],
        idle_iterations: 5_000_000,
        alive_calls: 200_000_000,
        million_timers: 10_000_000,
        strace_trips: (5_000, 15_000),
        cg_datagrams: (20_000, 60_000),
        cg_trips: (5_000, 15_000),
        cg_iterations: (20_000, 60_000),
        stream_ms: 2000,
        echo_conns: &[1, 100, 1000],
        echo_syscall_ms: (500, 2000),
        write_batch: (100_000, 1_000_000),
        pound_conns: 100,
        idle_conns: 10_000,
        spawns: 1000,
        signals: 100_000,
        signal_burst: 1000,
    };

    /// `--quick`: every scenario, in seconds.
    pub const QUICK: Sizes = Sizes {
        flood_ms: 150,
        drain_count: 20_000,
        pingpong_ms: 150,
        pummel_ms: 150,
        pummel: &[(1, 1), (10, 10)],
        timers: &[100_000],
        idle_iterations: 200_000,
        alive_calls: 2_000_000,
        million_timers: 100_000,
        strace_trips: (300, 900),
        cg_datagrams: (1_000, 3_000),
        cg_trips: (300, 900),
        cg_iterations: (5_000, 15_000),
        stream_ms: 60,
        echo_conns: &[10],
        echo_syscall_ms: (40, 80),
        write_batch: (1_000, 3_000),
        pound_conns: 10,
        idle_conns: 100,
        spawns: 10,
        signals: 1_000,
        signal_burst: 100,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_options() {
        let o = Options::parse(&args(
            "--quick --rounds 5 --scenario flood --json=out.json --no-ruv-recvmmsg",
        ))
        .unwrap();
        assert!(o.quick);
        assert_eq!(o.rounds, 5);
        assert_eq!(o.scenarios, vec!["flood"]);
        assert_eq!(o.json, Some(PathBuf::from("out.json")));
        assert!(!o.ruv_recvmmsg);
        assert_eq!(o.sizes(), Sizes::QUICK);
        assert!(Options::parse(&args("--rounds 0")).is_err());
        assert!(Options::parse(&args("--rounds")).is_err());
        assert!(Options::parse(&args("--bogus")).is_err());
        assert_eq!(Options::parse(&[]).unwrap(), Options::default());
    }
}
