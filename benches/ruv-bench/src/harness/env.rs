//! The implementations under test and how to start each one.

use super::child::Running;
use super::programs::{Family, Programs};
use crate::cli::{Options, Sizes};
use crate::kv::Params;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// One implementation of the scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impl {
    /// ruv through its Rust API (`ruv-bench worker ruv ...`).
    Ruv,
    /// ruv's asyncio layer (`ruv::endpoint`'s transports and protocols).
    RuvTransport,
    /// `c/uvbench.c` against the system libuv.
    Libuv,
    /// The same C source against uv-compat (ruv's libuv C API).
    UvCompat,
    /// tokio current-thread, `.await` style.
    TokioAwait,
    /// tokio current-thread, `readable()` + `try_*` style.
    TokioReady,
    /// Raw C, blocking `recvmmsg` (flood and drain).
    RawMmsg,
    /// Raw C, blocking `recvfrom`/`sendto`; a bare `epoll_wait(0)` loop for
    /// the empty iteration.
    Raw,
}

impl Impl {
    /// The implementations of the datagram scenarios (flood, drain): all
    /// but `ruv-transport`, which serves only the stream echo.
    pub const DATAGRAM: [Impl; 7] = [
        Impl::Ruv,
        Impl::Libuv,
        Impl::UvCompat,
        Impl::TokioAwait,
        Impl::TokioReady,
        Impl::RawMmsg,
        Impl::Raw,
    ];

    /// Every implementation, in the order of the tables.
    pub const ALL: [Impl; 8] = [
        Impl::Ruv,
        Impl::RuvTransport,
        Impl::Libuv,
        Impl::UvCompat,
        Impl::TokioAwait,
        Impl::TokioReady,
        Impl::RawMmsg,
        Impl::Raw,
    ];

    /// The name used in tables, JSON and `--impl`.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Ruv => "ruv",
            Impl::RuvTransport => "ruv-transport",
            Impl::Libuv => "libuv",
            Impl::UvCompat => "uv-compat",
            Impl::TokioAwait => "tokio-await",
            Impl::TokioReady => "tokio-ready",
            Impl::RawMmsg => "raw-mmsg",
            Impl::Raw => "raw",
        }
    }

    /// One line for `--list`.
    pub fn describe(self) -> &'static str {
        match self {
            Impl::Ruv => "ruv's Rust API, in a child process of the harness",
            Impl::RuvTransport => {
                "ruv::endpoint's asyncio transports and protocols (transport-echo only)"
            }
            Impl::Libuv => "c/uvbench.c against the system libuv (libuv1-dev)",
            Impl::UvCompat => "the same c/uvbench.c against uv-compat's libuv.so",
            Impl::TokioAwait => "tokio current-thread, recv_from/send_to .await",
            Impl::TokioReady => {
                "tokio current-thread, readable()/writable() + try_recv_from/try_send_to"
            }
            Impl::RawMmsg => "raw C, blocking recvmmsg (flood, drain)",
            Impl::Raw => "raw C, blocking recvfrom/sendto; bare epoll_wait(0) loop (idle)",
        }
    }

    /// The implementation called `name`.
    pub fn from_name(name: &str) -> Option<Impl> {
        Impl::ALL.into_iter().find(|i| i.name() == name)
    }
}

/// Where a program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cpu {
    /// The implementation under test: CPU 1.
    Main,
    /// Traffic generators: CPU 0.
    Helper,
    /// Wherever the scheduler likes (callgrind and strace runs).
    Any,
}

/// Everything the scenarios need to start programs.
#[derive(Debug)]
pub struct Env {
    /// The options.
    pub opts: Options,
    /// The sizes of the mode.
    pub sizes: Sizes,
    /// The compiled C programs.
    pub programs: Programs,
    /// This executable (the Rust workers).
    pub self_exe: PathBuf,
    /// Scratch files (callgrind and strace output).
    pub work: PathBuf,
    /// Pin programs with `taskset` (2+ CPUs and taskset present).
    pub pin: bool,
    /// valgrind is installed.
    pub valgrind: bool,
    /// strace is installed.
    pub strace: bool,
    /// perf can count syscall tracepoints.
    pub perf: bool,
}

impl Env {
    /// The command line of `imp` running `scenario`; a [`SKIPPED`] error
    /// when the uv-compat build of its program is missing.
    pub fn argv(
        &self,
        imp: Impl,
        scenario: &str,
        params: &Params,
    ) -> Result<Vec<OsString>, String> {
        let family = Family::of(scenario);
        let mut argv: Vec<OsString> = match imp {
            Impl::Ruv | Impl::RuvTransport | Impl::TokioAwait | Impl::TokioReady => vec![
                self.self_exe.clone().into(),
                "worker".into(),
                imp.name().into(),
            ],
            Impl::Libuv => vec![self.programs.libuv_for(family).into()],
            Impl::UvCompat => match self.programs.uv_compat_for(family) {
                Ok(path) => vec![path.into()],
                Err(why) => return Err(format!("{SKIPPED}{why}")),
            },
            Impl::RawMmsg | Impl::Raw => vec![self.programs.raw_for(family).into()],
        };
        argv.push(scenario.into());
        argv.extend(params.to_args().into_iter().map(OsString::from));
        Ok(argv)
    }

    /// Whether `imp` can run `scenario` in this build: the [`SKIPPED`]
    /// error of [`argv`](Env::argv) if not. For scenarios that start a
    /// helper (a sink) before the implementation under test.
    pub fn runnable(&self, imp: Impl, scenario: &str) -> Result<(), String> {
        self.argv(imp, scenario, &Params::default()).map(drop)
    }

    /// A path for a Unix socket named after `name`: in the temporary
    /// directory, not under `work`, whose path may be longer than a socket
    /// name may be (108 bytes); the harness's pid keeps parallel runs apart.
    pub fn socket_path(&self, name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("ruv-bench-{}-{name}.sock", std::process::id()))
    }

    /// Starts `imp` running `scenario`, pinned as `cpu` says.
    pub fn spawn(
        &self,
        imp: Impl,
        scenario: &str,
        params: &Params,
        cpu: Cpu,
    ) -> Result<Running, String> {
        let core = match cpu {
            Cpu::Main => Some("1"),
            Cpu::Helper => Some("0"),
            Cpu::Any => None,
        };
        let mut argv: Vec<OsString> = match core {
            Some(core) if self.pin => vec!["taskset".into(), "-c".into(), core.into()],
            _ => Vec::new(),
        };
        argv.extend(self.argv(imp, scenario, params)?);
        Running::spawn(&format!("{} {scenario}", imp.name()), &argv)
    }

    /// Starts `imp` running `scenario` under `wrapper` (valgrind, strace).
    pub fn spawn_under(
        &self,
        wrapper: &[OsString],
        imp: Impl,
        scenario: &str,
        params: &Params,
    ) -> Result<Running, String> {
        let mut argv = wrapper.to_vec();
        argv.extend(self.argv(imp, scenario, params)?);
        Running::spawn(&format!("{} {scenario}", imp.name()), &argv)
    }
}

/// How a run's error starts when the run was skipped, not failed: the
/// implementation cannot run this scenario in this build (uv-compat
/// without the C API it needs).
pub const SKIPPED: &str = "skipped: ";

/// Parameters with a watchdog of `secs` seconds.
pub fn params_with_timeout(secs: u64) -> Params {
    let mut p = Params::default();
    p.set("timeout_s", secs);
    p
}

/// How long to wait for a `READY` line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
