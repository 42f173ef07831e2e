//! The C programs, compiled at run time: `raw.c` (blocking syscalls) and
//! `rawstream.c` (its stream counterpart), and `uvbench.c`, `uvstream.c`
//! and `uvspawn.c` twice each — against the system libuv and against
//! uv-compat, whose `libuv.so` is built with `cargo build -p uv-compat
//! --release` (a no-op when it is up to date). A uv-compat build of
//! `uvstream.c` or `uvspawn.c` that does not compile or link (uv-compat
//! lacks the stream or process API) is not an error: its runs are skipped
//! with the compiler's reason.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

const BENCH_H: &str = include_str!("../../c/bench.h");
const RAW_C: &str = include_str!("../../c/raw.c");
const UVBENCH_C: &str = include_str!("../../c/uvbench.c");
const RAWSTREAM_C: &str = include_str!("../../c/rawstream.c");
const UVSTREAM_C: &str = include_str!("../../c/uvstream.c");
const UVSPAWN_C: &str = include_str!("../../c/uvspawn.c");

/// The scenarios of `rawstream.c` and `uvstream.c`.
const STREAM_SCENARIOS: &[&str] = &[
    "echo-server",
    "echo-client",
    "pingpong-stream",
    "pump-send",
    "pump-sink",
    "write-batch",
    "pound",
    "idle-server",
    "idle-client",
];

/// Which C source implements a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `raw.c` / `uvbench.c`: UDP, timers, the loop, signals.
    Core,
    /// `rawstream.c` / `uvstream.c`: TCP and pipes.
    Stream,
    /// `uvspawn.c`: processes.
    Spawn,
}

impl Family {
    /// The family of `scenario`.
    pub fn of(scenario: &str) -> Family {
        if STREAM_SCENARIOS.contains(&scenario) {
            Family::Stream
        } else if scenario == "spawn" {
            Family::Spawn
        } else {
            Family::Core
        }
    }
}

/// The workspace root (this crate lives in `benches/ruv-bench`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The compiled C programs.
#[derive(Clone, Debug)]
pub struct Programs {
    /// `raw.c`.
    pub raw: PathBuf,
    /// `uvbench.c` against the system libuv.
    pub libuv: PathBuf,
    /// `uvbench.c` against uv-compat.
    pub uv_compat: PathBuf,
    /// `rawstream.c`.
    pub raw_stream: PathBuf,
    /// `uvstream.c` against the system libuv.
    pub libuv_stream: PathBuf,
    /// `uvstream.c` against uv-compat, or why it did not build.
    pub uv_compat_stream: Result<PathBuf, String>,
    /// `uvspawn.c` against the system libuv.
    pub libuv_spawn: PathBuf,
    /// `uvspawn.c` against uv-compat, or why it did not build.
    pub uv_compat_spawn: Result<PathBuf, String>,
}

impl Programs {
    /// The program of the raw C baseline for `family`.
    pub fn raw_for(&self, family: Family) -> &Path {
        match family {
            Family::Stream => &self.raw_stream,
            Family::Core | Family::Spawn => &self.raw,
        }
    }

    /// The program built against the system libuv for `family`.
    pub fn libuv_for(&self, family: Family) -> &Path {
        match family {
            Family::Core => &self.libuv,
            Family::Stream => &self.libuv_stream,
            Family::Spawn => &self.libuv_spawn,
        }
    }

    /// The program built against uv-compat for `family`, or why there is
    /// none.
    pub fn uv_compat_for(&self, family: Family) -> Result<&Path, &str> {
        match family {
            Family::Core => Ok(&self.uv_compat),
            Family::Stream => self.uv_compat_stream.as_deref().map_err(String::as_str),
            Family::Spawn => self.uv_compat_spawn.as_deref().map_err(String::as_str),
        }
    }
}

/// Writes the sources to `dir`, builds uv-compat and compiles the three
/// programs (in parallel).
pub fn prepare(dir: &Path) -> Result<Programs, String> {
    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    for (name, text) in [
        ("bench.h", BENCH_H),
        ("raw.c", RAW_C),
        ("uvbench.c", UVBENCH_C),
        ("rawstream.c", RAWSTREAM_C),
        ("uvstream.c", UVSTREAM_C),
        ("uvspawn.c", UVSPAWN_C),
    ] {
        let path = src.join(name);
        if fs::read_to_string(&path).ok().as_deref() != Some(text) {
            fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let compat_lib = build_uv_compat()?;
    let include = workspace_root().join("uv-compat/include");
    let rpath = format!("-Wl,-rpath,{}", compat_lib.display());
    let against_libuv =
        |source: &str| -> Vec<OsString> { vec![src.join(source).into(), "-luv".into()] };
    let against_compat = |source: &str| -> Vec<OsString> {
        vec![
            "-I".into(),
            include.clone().into(),
            src.join(source).into(),
            "-L".into(),
            compat_lib.clone().into(),
            rpath.clone().into(),
            "-luv".into(),
        ]
    };
    // (output, arguments, whether a failure only skips its runs)
    let jobs: Vec<(PathBuf, Vec<OsString>, bool)> = vec![
        (dir.join("bench-raw"), vec![src.join("raw.c").into()], false),
        (dir.join("bench-libuv"), against_libuv("uvbench.c"), false),
        (
            dir.join("bench-uvcompat"),
            against_compat("uvbench.c"),
            false,
        ),
        (
            dir.join("bench-rawstream"),
            vec![src.join("rawstream.c").into()],
            false,
        ),
        (
            dir.join("bench-libuv-stream"),
            against_libuv("uvstream.c"),
            false,
        ),
        (
            dir.join("bench-uvcompat-stream"),
            against_compat("uvstream.c"),
            true,
        ),
        (
            dir.join("bench-libuv-spawn"),
            against_libuv("uvspawn.c"),
            false,
        ),
        (
            dir.join("bench-uvcompat-spawn"),
            against_compat("uvspawn.c"),
            true,
        ),
    ];
    let results: Vec<Result<(), String>> = thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(out, args, _)| s.spawn(move || compile(out, args)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("compiler thread panicked".into()))
            })
            .collect()
    });
    let mut built = Vec::new();
    for ((out, _, optional), result) in jobs.into_iter().zip(results) {
        match result {
            Ok(()) => built.push(Ok(out)),
            Err(e) if optional => built.push(Err(skip_reason(&e))),
            Err(e) => return Err(e),
        }
    }
    let mut built = built.into_iter();
    let mut next = || built.next().expect("one result per job");
    let programs = Programs {
        raw: next()?,
        libuv: next()?,
        uv_compat: next()?,
        raw_stream: next()?,
        libuv_stream: next()?,
        uv_compat_stream: next(),
        libuv_spawn: next()?,
        uv_compat_spawn: next(),
    };
    check_links_to(&programs.uv_compat, &compat_lib)?;
    check_not_linked_to(&programs.libuv, &compat_lib)?;
    for compat in [&programs.uv_compat_stream, &programs.uv_compat_spawn]
        .into_iter()
        .flatten()
    {
        check_links_to(compat, &compat_lib)?;
    }
    for libuv in [&programs.libuv_stream, &programs.libuv_spawn] {
        check_not_linked_to(libuv, &compat_lib)?;
    }
    Ok(programs)
}

/// Why a uv-compat program is skipped: the compiler's first error line.
fn skip_reason(compiler_output: &str) -> String {
    let first = compiler_output
        .lines()
        .find(|l| l.contains("error") || l.contains("undefined reference"))
        .unwrap_or("the compiler failed")
        .trim();
    format!(
        "uv-compat lacks part of the libuv C API this program uses (it did not compile or link: {first})"
    )
}

/// `cc -O2` one program.
fn compile(out: &Path, args: &[OsString]) -> Result<(), String> {
    let output = Command::new("cc")
        .args([
            "-O2",
            "-std=gnu11",
            "-D_GNU_SOURCE",
            "-Wall",
            "-Wextra",
            "-o",
        ])
        .arg(out)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run cc (install gcc): {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "compiling {} failed:\n{}",
            out.display(),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Builds uv-compat in release mode; returns the directory of its
/// `libuv.so`.
fn build_uv_compat() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "-p",
            "uv-compat",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo to build uv-compat: {e}"))?;
    if !output.status.success() {
        return Err("cargo build -p uv-compat --release failed".into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let files = msg["filenames"].as_array().into_iter().flatten();
        for file in files.filter_map(|f| f.as_str()) {
            if file.ends_with("/libuv.so") {
                let dir = Path::new(file)
                    .parent()
                    .ok_or("libuv.so has no directory")?;
                return Ok(dir.to_path_buf());
            }
        }
    }
    Err("cargo built uv-compat but reported no libuv.so".into())
}

/// Whether `program`, started as the benchmark starts it (without
/// `LD_LIBRARY_PATH`), loads the `libuv.so` of `lib_dir`, by `ldd`; `None`
/// without `ldd`. The output of `ldd` comes along for messages.
fn loads_lib_of(program: &Path, lib_dir: &Path) -> Option<(bool, String)> {
    let out = Command::new("ldd")
        .arg(program)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let want = lib_dir.join("libuv.so");
    let want = want.canonicalize().unwrap_or(want);
    let linked = text.lines().any(|l| {
        l.split("=>")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .is_some_and(|p| Path::new(p).canonicalize().ok().as_deref() == Some(want.as_path()))
    });
    Some((linked, text))
}

/// Checks that the system-libuv `program` does not load uv-compat (both
/// are `libuv.so.1` to the loader).
fn check_not_linked_to(program: &Path, lib_dir: &Path) -> Result<(), String> {
    match loads_lib_of(program, lib_dir) {
        Some((true, text)) => Err(format!(
            "{} loads uv-compat from {}, not the system libuv:\n{text}",
            program.display(),
            lib_dir.display()
        )),
        _ => Ok(()),
    }
}

/// Checks with `ldd` that `program` loads the `libuv.so` of `lib_dir`, not
/// the system's.
fn check_links_to(program: &Path, lib_dir: &Path) -> Result<(), String> {
    let Some((linked, text)) = loads_lib_of(program, lib_dir) else {
        return Ok(()); // no ldd: nothing to check with
    };
    let want = lib_dir.join("libuv.so");
    if linked {
        Ok(())
    } else {
        Err(format!(
            "{} does not load {}:\n{text}",
            program.display(),
            want.display()
        ))
    }
}

/// Whether `tool --version` runs.
pub fn have_tool(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `perf stat` can count the syscall tracepoints here.
pub fn perf_counts_syscalls() -> bool {
    Command::new("perf")
        .args(["stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stderr).lines().any(|l| {
                    l.split(',')
                        .next()
                        .is_some_and(|c| c.trim().parse::<u64>().is_ok())
                })
        })
}
