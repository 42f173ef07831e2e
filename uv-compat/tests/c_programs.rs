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
//! The programs marked `not_on_system_libuv("why")` in the `c_tests!` list
//! are the exceptions (e.g. `defined_errors.c` checks errors where libuv
//! has undefined behaviour): they are not run on the system libuv.

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

/// Per C program, a module with up to three `#[test]`s: `ours` builds it
/// against our `uv.h` and runs it (`run_c_test`, unless a `using` names
/// another runner); `system_build_on_ours` builds it against the system's
/// libuv (Debian's `libuv1-dev`: its `uv.h`, linked with its `libuv.so`) and
/// runs that binary on our library through `LD_LIBRARY_PATH`, the binary
/// drop-in case; `on_system_libuv` builds it against the system's libuv and
/// runs it there. That last one keeps the tests honest: what they expect of
/// libuv 1.44 is what libuv 1.44 does (each file says which checks depend on
/// the version or on the library, and decides at run time). A program that
/// checks what libuv leaves undefined, or where we differ by design, says
/// so with `not_on_system_libuv("why")` and has no such test; the reasons
/// are gathered in `NOT_ON_SYSTEM_LIBUV`. `C_FILES` lists every program;
/// `all_c_files_are_listed` keeps the list in step with `tests/c/`.
macro_rules! c_tests {
    ($($test:ident => $file:literal
        $(using $runner:ident)?
        $(not_on_system_libuv($reason:literal))?,)*) => {
        const C_FILES: &[&str] = &[$($file),*];
        const NOT_ON_SYSTEM_LIBUV: &[(&str, &str)] = &[$($(($file, $reason),)?)*];
        $(
            mod $test {
                #[test]
                fn ours() {
                    c_tests!(@run $file $(, $runner)?);
                }

                #[test]
                fn system_build_on_ours() {
                    super::run_system_build($file, super::Library::Ours);
                }

                c_tests!(@on_system_libuv $file $(, $reason)?);
            }
        )*
    };
    (@run $file:literal) => { super::run_c_test($file) };
    (@run $file:literal, $runner:ident) => { super::$runner($file) };
    (@on_system_libuv $file:literal) => {
        #[test]
        fn on_system_libuv() {
            super::run_system_build($file, super::Library::System);
        }
    };
    (@on_system_libuv $file:literal, $reason:literal) => {};
}

c_tests! {
    async_c => "async.c",
    async_close_race_c => "async_close_race.c",
    close_kinds_c => "close_kinds.c",
    close_many_c => "close_many.c",
    defined_errors_c => "defined_errors.c"
        not_on_system_libuv("checks the errors uv-compat returns where \
            libuv's behaviour is undefined"),
    errors_c => "errors.c",
    header_c => "header.c",
    libuv_handle_cases_c => "libuv_handle_cases.c",
    libuv_misc_cases_c => "libuv_misc_cases.c",
    libuv_poll_cases_c => "libuv_poll_cases.c",
    libuv_stream_cases_c => "libuv_stream_cases.c",
    libuv_timer_cases_c => "libuv_timer_cases.c",
    libuv_udp_cases_c => "libuv_udp_cases.c",
    loop_c => "loop.c",
    loop_extras_c => "loop_extras.c",
    loop_counters_c => "loop_counters.c",
    thread_sync_c => "thread_sync.c",
    pipe_ipc_c => "pipe_ipc.c",
    stdio_handles_c => "stdio_handles.c",
    metrics_c => "metrics.c",
    misc_c => "misc.c",
    model_c => "model.c" using run_model,
    multicast_c => "multicast.c",
    os_env_c => "os_env.c",
    phases_c => "phases.c",
    pipe_basic_c => "pipe_basic.c",
    poll_c => "poll.c",
    poll_multiple_c => "poll_multiple.c",
    process_title_c => "process_title.c",
    review_session_c => "review_session.c"
        not_on_system_libuv("reproduces a review of uv-compat: its sends \
            written at once report success where libuv 1.44 cancels them on \
            close, and it sends 0 buffers, which libuv 1.44 asserts against"),
    signal_c => "signal.c",
    stream_read_c => "stream_read.c",
    stream_ref_c => "stream_ref.c",
    tcp_errors_c => "tcp_errors.c",
    tcp_ping_pong_c => "tcp_ping_pong.c",
    tcp_write_queue_c => "tcp_write_queue.c",
    spawn_c => "spawn.c",
    spawn_pipes_c => "spawn_pipes.c",
    timer_c => "timer.c",
    udp_basic_c => "udp_basic.c",
    udp_io_c => "udp_io.c",
    udp_mmsg_c => "udp_mmsg.c",
    udp_mmsg_stop_c => "udp_mmsg_stop.c"
        not_on_system_libuv("pins where uv-compat differs from libuv by \
            design: no datagram of a recvmmsg batch lost on \
            uv_udp_recv_stop, no chunk after uv_close"),
    udp_nbufs_c => "udp_nbufs.c",
    udp_open_c => "udp_open.c",
    udp_queue_and_sender_c => "udp_queue_and_sender.c",
    udp_recverr_c => "udp_recverr.c",
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
    let line = resolved_libuv(
        Command::new("ldd")
            .arg(bin)
            .env("LD_LIBRARY_PATH", library_path()),
    );
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

/// The `libuv` line of what `ldd` (the prepared command) prints, if `ldd`
/// is there and names one.
fn resolved_libuv(ldd: &mut Command) -> Option<String> {
    let output = ldd.output().ok().filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|l| l.trim_start().starts_with("libuv"))?;
    Some(line.trim().to_owned())
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

/// The library a program built against the system's libuv runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Library {
    /// Ours, found through `LD_LIBRARY_PATH` under libuv's SONAME.
    Ours,
    /// The system's libuv the program was linked with.
    System,
}

impl Library {
    /// What `test.h`'s `on_uv_compat()` reads in a program built against
    /// libuv's header, which cannot know the library at compile time.
    fn name(self) -> &'static str {
        match self {
            Library::Ours => "uv-compat",
            Library::System => "libuv",
        }
    }
}

/// Builds `tests/c/<file>` against the system's libuv header and library,
/// then runs it on `library`. The system header must be there (CI installs
/// `libuv1-dev`): without it there is nothing to be compatible with.
fn run_system_build(file: &str, library: Library) {
    assert!(
        Path::new(SYSTEM_HEADER).is_file(),
        "{SYSTEM_HEADER} is missing: the binary compatibility tests build \
         against the system's libuv (install libuv1-dev)"
    );
    let src = Path::new(C_TEST_DIR).join(file);
    let bin = work_dir().join(format!("{}-system-build", stem(file)));
    compile_against_system(&src, &bin);
    let ours = library_dir();
    let mut cmd = Command::new(&bin);
    let mut ldd = Command::new("ldd");
    ldd.arg(&bin);
    for c in [&mut cmd, &mut ldd] {
        match library {
            Library::Ours => c.env("LD_LIBRARY_PATH", library_path()),
            Library::System => c.env_remove("LD_LIBRARY_PATH"),
        };
    }
    if let Some(line) = resolved_libuv(&mut ldd) {
        assert_eq!(
            line.contains(&*ours.to_string_lossy()),
            library == Library::Ours,
            "{} resolves the wrong libuv for a run on {library:?}: {line}",
            bin.display()
        );
    }
    let (args, timeout) = if file == "model.c" {
        model_args(SYSTEM_BUILD_MODEL_SEEDS, 100)
    } else {
        (Vec::new(), RUN_TIMEOUT)
    };
    cmd.args(&args)
        .current_dir(work_dir())
        .env("UV_TEST_LIBRARY", library.name());
    let log = work_dir().join(format!("{}-system-build-on-{}", stem(file), library.name()));
    let run = run_with_timeout(cmd, &log, timeout);
    check(
        &format!("{file} built against the system's libuv, run on {library:?}"),
        &run,
        timeout,
    );
}

/// Programs of `model.c` per system-build run.
const SYSTEM_BUILD_MODEL_SEEDS: u64 = 200;

/// Where Debian's `libuv1-dev` puts libuv's header.
const SYSTEM_HEADER: &str = "/usr/include/uv.h";

/// Compiles `src` into `out` against the system's `uv.h` and `libuv.so`,
/// with no path to ours: what a program packaged for libuv is.
fn compile_against_system(src: &Path, out: &Path) {
    let output = Command::new("cc")
        .args([
            "-std=c11",
            "-D_GNU_SOURCE",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-g",
        ])
        .arg(src)
        .args(["-luv", "-lpthread", "-o"])
        .arg(out)
        .output()
        .expect("run cc");
    assert!(
        output.status.success(),
        "compiling {} against the system's libuv failed ({}):\n{}{}",
        src.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
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
    for (file, reason) in NOT_ON_SYSTEM_LIBUV {
        assert!(
            !reason.trim().is_empty(),
            "{file} is left out of the system-libuv run: say why"
        );
    }
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

/// The issue's own case: the echo server and client, built against the
/// system's libuv as a packaged program would be, run on our library
/// through `LD_LIBRARY_PATH`; three echoes, and both exit 0 after closing
/// their handles and loop.
#[test]
fn examples_built_against_system_libuv_echo_on_ours() {
    use std::io::{BufRead, BufReader};
    let dir = work_dir().join("examples-system-build");
    fs::create_dir_all(&dir).expect("create the examples output directory");
    for name in ["udp_echo_server", "udp_echo_client"] {
        let src = Path::new(EXAMPLES_DIR).join(format!("{name}.c"));
        compile_against_system(&src, &dir.join(name));
        check_links_our_library(&dir.join(name), &library_dir());
    }
    let mut server = Command::new(dir.join("udp_echo_server"))
        .args(["--count", "3", "127.0.0.1", "0"])
        .env("LD_LIBRARY_PATH", library_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(server.stdout.take().expect("piped stdout")).lines();
    let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    let port = first
        .strip_prefix("listening on 127.0.0.1:")
        .unwrap_or_else(|| {
            let _ = server.kill();
            panic!("the server's first line: {first:?}")
        })
        .to_string();
    let mut client = Command::new(dir.join("udp_echo_client"));
    client
        .args(["127.0.0.1", &port, "drop-in", "3"])
        .env("LD_LIBRARY_PATH", library_path());
    let run = run_with_timeout(client, &dir.join("client"), RUN_TIMEOUT);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = server.wait().expect("wait for the server");
    check(
        "udp_echo_client built against the system's libuv",
        &run,
        RUN_TIMEOUT,
    );
    assert_eq!(
        run.stdout.matches(" bytes from 127.0.0.1:").count(),
        3,
        "{}",
        run.stdout
    );
    assert!(status.success(), "the server: {status}; {rest:?}");
    assert_eq!(rest.last().map(String::as_str), Some("served 3 datagrams"));
}

/// The C TCP echo server example, built against the system's libuv and run
/// on ours (the drop-in case): two clients, each sending a message and
/// shutting down its side, read back exactly what they sent and then the
/// end of the stream; with `--count 2` the server then exits 0.
#[test]
fn tcp_echo_server_example_echoes_on_ours() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{Shutdown, TcpStream};
    let dir = work_dir().join("examples-system-build");
    fs::create_dir_all(&dir).expect("create the examples output directory");
    let bin = dir.join("tcp_echo_server");
    compile_against_system(&Path::new(EXAMPLES_DIR).join("tcp_echo_server.c"), &bin);
    check_links_our_library(&bin, &library_dir());
    let mut server = Command::new(&bin)
        .args(["--count", "2", "127.0.0.1", "0"])
        .env("LD_LIBRARY_PATH", library_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(server.stdout.take().expect("piped stdout")).lines();
    let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    let Some(addr) = first.strip_prefix("listening on ").map(str::to_string) else {
        let _ = server.kill();
        panic!("the server's first line: {first:?}");
    };
    for message in ["hello", "a longer second message"] {
        let mut conn = TcpStream::connect(&addr).expect("connect");
        conn.set_read_timeout(Some(RUN_TIMEOUT)).unwrap();
        conn.write_all(message.as_bytes()).unwrap();
        conn.shutdown(Shutdown::Write).unwrap();
        let mut back = String::new();
        conn.read_to_string(&mut back)
            .expect("the echo, then the end");
        assert_eq!(back, message);
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = server.wait().expect("wait for the server");
    assert!(status.success(), "the server: {status}; {rest:?}");
    assert_eq!(
        rest.last().map(String::as_str),
        Some("served 2 connections")
    );
}

/// The spawn example, built against the system's libuv, on ours: the
/// child's output prefixed line by line, its exit status passed on, and an
/// exec failure reported by `uv_spawn` (exit 127).
#[test]
fn spawn_output_example_reads_a_child_on_ours() {
    let dir = work_dir().join("examples-system-build");
    fs::create_dir_all(&dir).expect("create the examples output directory");
    let bin = dir.join("spawn_output");
    compile_against_system(&Path::new(EXAMPLES_DIR).join("spawn_output.c"), &bin);
    check_links_our_library(&bin, &library_dir());
    let run = |args: &[&str]| {
        Command::new(&bin)
            .args(args)
            .env("LD_LIBRARY_PATH", library_path())
            .stderr(Stdio::piped())
            .output()
            .expect("run spawn_output")
    };
    let out = run(&["sh", "-c", "echo one; echo two; exit 3"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    // The two lines may come in one read or two.
    assert!(
        text == "child: one\ntwo\nexited with 3\n"
            || text == "child: one\nchild: two\nexited with 3\n",
        "{text:?}"
    );
    let out = run(&["sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.status.code(), Some(128 + 15));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ended by signal 15\n");
    let out = run(&["/nonexistent/uvc-program"]);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "/nonexistent/uvc-program: no such file or directory\n"
    );
}
