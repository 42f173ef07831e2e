//! Compiles the C test programs in `tests/c/` against our `include/uv.h` and
//! the `libuv.so` cargo built for this crate (found next to this test binary
//! in `target/<profile>/deps/`, else in `target/<profile>/`), runs each one
//! (killed after 20 s), and runs it again under valgrind when
//! `valgrind --version` works: `--leak-check=full
//! --errors-for-leak-kinds=definite,possible --error-exitcode=1`. One
//! `#[test]` per C file, so failures are reported separately and the
//! programs run in parallel. `examples_compile` builds `examples/*.c`
//! (without running them). Binaries and their output go to
//! `target/<profile>/uv-compat-c-tests/`.
//!
//! Set `UV_COMPAT_NO_VALGRIND=1` to skip the valgrind runs locally.
//!
//! `model.c`, the randomised model test, runs a number of seeds rather than
//! once: `MODEL_SEEDS` programs plainly, `MODEL_VALGRIND_SEEDS` under
//! valgrind, and `model_c_sanitizers` builds it again with
//! `-fsanitize=address,undefined` (linked to the same `libuv.so`; the
//! instrumented executable loads the ASan runtime first, and LeakSanitizer
//! sees the Rust library's allocations too) and runs `MODEL_SEEDS` more. For
//! a longer soak set `RUV_CMODEL_SEEDS` (plain and sanitizer runs),
//! `RUV_CMODEL_VALGRIND_SEEDS` and `RUV_CMODEL_SEED` (the first seed, 1 by
//! default), e.g. `RUV_CMODEL_SEEDS=10000 cargo test -p uv-compat --test
//! c_programs -- model`.
//!
//! The C programs use only the public libuv API; they also build and pass
//! against the system libuv (1.44), with the 1.45+-only checks behind
//! `UV_VERSION_HEX` guards (see the comment at the top of each file).
//! `defined_errors.c` is the exception: it checks errors where libuv has
//! undefined behaviour, so it is meant for our library only.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const RUN_TIMEOUT: Duration = Duration::from_secs(20);
const VALGRIND_TIMEOUT: Duration = Duration::from_secs(120);
const INCLUDE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include");
const C_TEST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/c");
const EXAMPLES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

/// One `#[test]` per C program, and `C_FILES`, the list of them;
/// `all_c_files_are_listed` keeps the list in step with `tests/c/`. A
/// program is run by `run_c_test` unless a `using` names another runner.
macro_rules! c_tests {
    ($($test:ident => $file:literal $(using $runner:ident)?,)*) => {
        const C_FILES: &[&str] = &[$($file),*];
        $(
            #[test]
            fn $test() {
                c_tests!(@run $file $(, $runner)?);
            }
        )*
    };
    (@run $file:literal) => { run_c_test($file) };
    (@run $file:literal, $runner:ident) => { $runner($file) };
}

c_tests! {
    async_c => "async.c",
    async_close_race_c => "async_close_race.c",
    close_kinds_c => "close_kinds.c",
    close_many_c => "close_many.c",
    defined_errors_c => "defined_errors.c",
    errors_c => "errors.c",
    header_c => "header.c",
    libuv_handle_cases_c => "libuv_handle_cases.c",
    libuv_misc_cases_c => "libuv_misc_cases.c",
    libuv_poll_cases_c => "libuv_poll_cases.c",
    libuv_timer_cases_c => "libuv_timer_cases.c",
    libuv_udp_cases_c => "libuv_udp_cases.c",
    loop_c => "loop.c",
    loop_extras_c => "loop_extras.c",
    metrics_c => "metrics.c",
    misc_c => "misc.c",
    model_c => "model.c" using run_model,
    multicast_c => "multicast.c",
    phases_c => "phases.c",
    poll_c => "poll.c",
    poll_multiple_c => "poll_multiple.c",
    review_session_c => "review_session.c",
    signal_c => "signal.c",
    timer_c => "timer.c",
    udp_basic_c => "udp_basic.c",
    udp_io_c => "udp_io.c",
    udp_queue_and_sender_c => "udp_queue_and_sender.c",
    udp_recverr_c => "udp_recverr.c",
    udp_mmsg_c => "udp_mmsg.c",
    udp_mmsg_stop_c => "udp_mmsg_stop.c",
    udp_nbufs_c => "udp_nbufs.c",
    udp_open_c => "udp_open.c",
    udp_send_order_c => "udp_send_order.c",
    watcher_counts_c => "watcher_counts.c",
    watchers_c => "watchers.c",
}

/// `target/<profile>`: the parent of the `deps/` directory holding this test
/// binary.
fn target_dir() -> PathBuf {
    deps_dir()
        .parent()
        .expect("deps/ has a parent")
        .to_path_buf()
}

fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a parent directory");
    assert!(
        deps.file_name().is_some_and(|n| n == "deps"),
        "expected the test binary in a deps/ directory, found {}",
        exe.display()
    );
    deps.to_path_buf()
}

/// The directory holding the `libuv.so` built for this test run.
///
/// `cargo test` builds the crate's cdylib/staticlib into `deps/` but only
/// `cargo build` copies them up to `target/<profile>/`, so the copy there may
/// be missing or stale: prefer `deps/`, fall back to the target directory.
fn library_dir() -> PathBuf {
    let deps = deps_dir();
    if deps.join("libuv.so").is_file() {
        return deps;
    }
    let dir = target_dir();
    assert!(
        dir.join("libuv.so").is_file(),
        "no libuv.so in {} or {}: cargo should build the uv-compat cdylib \
         before its tests",
        deps.display(),
        dir.display()
    );
    dir
}

/// `LD_LIBRARY_PATH` for the C programs: cargo runs tests with a
/// `LD_LIBRARY_PATH` that names `target/<profile>/` (where a stale
/// `libuv.so` from an earlier `cargo build` may sit), and it outranks the
/// programs' `-rpath`; put our library directory first.
fn library_path() -> std::ffi::OsString {
    let mut path = std::ffi::OsString::from(library_dir());
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
        if !old.is_empty() {
            path.push(":");
            path.push(old);
        }
    }
    path
}

/// A scratch directory under the target directory.
fn work_dir() -> PathBuf {
    let dir = target_dir().join("uv-compat-c-tests");
    fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

fn stem(file: &str) -> &str {
    file.strip_suffix(".c").unwrap_or(file)
}

/// Compiles `src` into `out` with the documented flags and `extra` ones;
/// panics with the compiler output on failure.
fn compile(src: &Path, out: &Path, extra: &[&str]) {
    let lib = library_dir();
    let output = Command::new("cc")
        .args([
            "-std=c11",
            "-D_GNU_SOURCE",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-g",
        ])
        .args(extra)
        .arg(format!("-I{INCLUDE_DIR}"))
        .arg(src)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-luv", "-lpthread", "-o"])
        .arg(out)
        .output()
        .expect("run cc");
    assert!(
        output.status.success(),
        "compiling {} failed ({}):\n{}{}",
        src.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    check_links_our_library(out, &lib);
}

/// Guards against silently testing the system libuv: when `ldd` is there,
/// the program must resolve `libuv` inside our target directory.
fn check_links_our_library(bin: &Path, lib: &Path) {
    let Ok(output) = Command::new("ldd")
        .arg(bin)
        .env("LD_LIBRARY_PATH", library_path())
        .output()
    else {
        return;
    };
    if !output.status.success() {
        return;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|l| l.trim_start().starts_with("libuv"));
    if let Some(line) = line {
        assert!(
            line.contains(&*lib.to_string_lossy()),
            "{} resolves libuv outside {}: {}",
            bin.display(),
            lib.display(),
            line.trim()
        );
    }
}

struct Finished {
    status: Option<ExitStatus>, // None: killed after the timeout
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `cmd` with its output going to files, polling `try_wait` and killing
/// it after `timeout`.
fn run_with_timeout(mut cmd: Command, log_base: &Path, timeout: Duration) -> Finished {
    let out_path = log_base.with_extension("stdout");
    let err_path = log_base.with_extension("stderr");
    let out = File::create(&out_path).expect("create stdout file");
    let err = File::create(&err_path).expect("create stderr file");
    let start = Instant::now();
    let mut child: Child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let status = loop {
        match child.try_wait().expect("try_wait") {
            Some(status) => break Some(status),
            None if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => thread::sleep(Duration::from_millis(5)),
        }
    };
    Finished {
        status,
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}

fn check(what: &str, f: &Finished, timeout: Duration) {
    let verdict = match f.status {
        None => format!("killed after {timeout:?}"),
        Some(s) if s.success() => return,
        Some(s) => format!("failed: {s}"),
    };
    panic!(
        "{what} {verdict} (after {:?})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        f.elapsed, f.stdout, f.stderr
    );
}

fn valgrind_available() -> bool {
    if std::env::var_os("UV_COMPAT_NO_VALGRIND").is_some_and(|v| !v.is_empty() && v != "0") {
        return false;
    }
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_c_test(file: &str) {
    let bin = build(file);
    run_checked(file, &bin, &[], RUN_TIMEOUT);
    if valgrind_available() {
        run_valgrind(file, &bin, &[], VALGRIND_TIMEOUT);
    }
}

/// Compiles `tests/c/<file>` into the scratch directory: the binary.
fn build(file: &str) -> PathBuf {
    let src = Path::new(C_TEST_DIR).join(file);
    assert!(src.is_file(), "{} is missing", src.display());
    let bin = work_dir().join(stem(file));
    compile(&src, &bin, &[]);
    bin
}

/// Runs `bin args...` (killed after `timeout`); panics with its output
/// unless it exits 0.
fn run_checked(what: &str, bin: &Path, args: &[String], timeout: Duration) {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(work_dir())
        .env("LD_LIBRARY_PATH", library_path());
    let run = run_with_timeout(cmd, bin, timeout);
    check(what, &run, timeout);
}

/// Runs `bin args...` under valgrind: any memory error or leak fails.
fn run_valgrind(file: &str, bin: &Path, args: &[String], timeout: Duration) {
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--leak-check=full",
        "--errors-for-leak-kinds=definite,possible",
        "--error-exitcode=1",
        "-q",
    ])
    .arg(bin)
    .args(args)
    .current_dir(work_dir())
    .env("LD_LIBRARY_PATH", library_path());
    let log = work_dir().join(format!("{}-valgrind", stem(file)));
    let vg = run_with_timeout(cmd, &log, timeout);
    check(&format!("{file} under valgrind"), &vg, timeout);
}

/// Programs of `model.c` per plain (and sanitizer) run in CI.
const MODEL_SEEDS: u64 = 1000;
/// Programs of `model.c` under valgrind in CI (about 50x slower).
const MODEL_VALGRIND_SEEDS: u64 = 150;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        _ => default,
    }
}

/// The arguments of `model.c` for `count` programs from `RUV_CMODEL_SEED`
/// on, and a timeout that grows with the count.
fn model_args(count: u64, ms_per_seed: u64) -> (Vec<String>, Duration) {
    let first = env_u64("RUV_CMODEL_SEED", 1);
    let timeout = Duration::from_millis(20_000 + count * ms_per_seed);
    (vec![first.to_string(), count.to_string()], timeout)
}

/// `model.c`: many seeds plainly, fewer under valgrind.
fn run_model(file: &str) {
    let bin = build(file);
    let (args, timeout) = model_args(env_u64("RUV_CMODEL_SEEDS", MODEL_SEEDS), 100);
    run_checked(file, &bin, &args, timeout);
    if valgrind_available() {
        let seeds = env_u64("RUV_CMODEL_VALGRIND_SEEDS", MODEL_VALGRIND_SEEDS);
        let (args, timeout) = model_args(seeds, 2_000);
        run_valgrind(file, &bin, &args, timeout);
    }
}

/// `model.c` built with AddressSanitizer and UndefinedBehaviorSanitizer
/// (any report aborts; LeakSanitizer checks for leaks at exit).
#[test]
fn model_c_sanitizers() {
    let src = Path::new(C_TEST_DIR).join("model.c");
    let bin = work_dir().join("model-asan");
    compile(
        &src,
        &bin,
        &[
            "-O1",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ],
    );
    let (args, timeout) = model_args(env_u64("RUV_CMODEL_SEEDS", MODEL_SEEDS), 200);
    let mut cmd = Command::new(&bin);
    cmd.args(&args)
        .current_dir(work_dir())
        .env("LD_LIBRARY_PATH", library_path())
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    let run = run_with_timeout(cmd, &bin, timeout);
    check("model.c with ASan/UBSan", &run, timeout);
}

fn c_files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".c"))
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[test]
fn all_c_files_are_listed() {
    let on_disk = c_files_in(Path::new(C_TEST_DIR));
    let mut listed: Vec<String> = C_FILES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every tests/c/*.c needs a line in the c_tests! list"
    );
}

#[test]
fn examples_compile() {
    let dir = Path::new(EXAMPLES_DIR);
    if !dir.is_dir() {
        return;
    }
    let out_dir = work_dir().join("examples");
    fs::create_dir_all(&out_dir).expect("create the examples output directory");
    for name in c_files_in(dir) {
        compile(&dir.join(&name), &out_dir.join(stem(&name)), &[]);
    }
}
