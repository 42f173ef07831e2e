//! Binary compatibility with libuv 1.x: `tests/layout/layout.c` prints the
//! size and alignment of every type our `include/uv.h` declares, the offset,
//! size and alignment of every field it shares with libuv, and the sizes the
//! library reports (`uv_loop_size`, `uv_handle_size`, `uv_req_size`). It is
//! built twice, against the system's libuv (Debian's `libuv1-dev`: its
//! `uv.h`, linked with its `libuv.so`) and against our header and the
//! `libuv.so` cargo built for this run, and the two outputs must be equal
//! line for line. Ours is built a third time in strict ISO C (`-std=c11`),
//! where some pthread types are hidden, and must still agree. The same
//! comparison runs for aarch64 (cross-compiled, run under qemu).

use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// `target/<profile>/deps/`: this test binary's directory, where cargo put
/// the `libuv.so` of this run.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a directory");
    assert!(
        deps.join("libuv.so").is_file(),
        "cargo should build libuv.so into {} before the tests",
        deps.display()
    );
    deps.to_path_buf()
}

/// Runs `cmd`, panicking with its output unless it exits 0; its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the layout program prints ASCII")
}

/// Builds `layout.c` into `out` with `flags` (header and library choice),
/// runs it and returns what it printed.
fn layout_of(out: &Path, flags: &[&str]) -> String {
    let source = Path::new(MANIFEST_DIR).join("tests/layout/layout.c");
    run(Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-o"])
        .arg(out)
        .arg(&source)
        .args(flags));
    run(&mut Command::new(out))
}

#[test]
fn every_declared_type_has_libuvs_layout() {
    assert!(
        Path::new("/usr/include/uv.h").is_file(),
        "the reference is the system's libuv header: install libuv1-dev"
    );
    let deps = deps_dir();
    let dir = deps
        .parent()
        .expect("deps/ has a parent")
        .join("uv-compat-layout-test");
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    let include = format!("-I{MANIFEST_DIR}/include");
    let lib_dir = format!("-L{}", deps.display());
    let rpath = format!("-Wl,-rpath,{}", deps.display());

    let system = layout_of(&dir.join("layout-system"), &["-std=gnu11", "-luv"]);
    let ours = layout_of(
        &dir.join("layout-ours"),
        &["-std=gnu11", &include, &lib_dir, &rpath, "-luv"],
    );
    let ours_strict = layout_of(
        &dir.join("layout-ours-c11"),
        &["-std=c11", &include, &lib_dir, &rpath, "-luv"],
    );

    assert_same_layout(&system, &[("gnu11", &ours), ("c11", &ours_strict)]);
}

/// Panics unless every output in `ours` equals `system` line for line.
fn assert_same_layout(system: &str, ours: &[(&str, &str)]) {
    assert!(system.lines().count() > 100, "too little output:\n{system}");
    for (name, output) in ours {
        let differences: Vec<String> = system
            .lines()
            .zip(output.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("libuv: {a}\nours ({name}):  {b}"))
            .collect();
        assert!(
            differences.is_empty() && system.lines().count() == output.lines().count(),
            "layouts differ ({name}):\n{}",
            differences.join("\n")
        );
    }
}

/// The same comparison for Linux aarch64, where the pthread types (and so
/// `uv_loop_t` and the thread types) have other sizes: `layout.c` is
/// cross-compiled with `aarch64-linux-gnu-gcc` (statically, header part
/// only: there is no aarch64 library to ask) against the system's `uv.h`
/// (libuv's headers are the same on every architecture) and ours, and run
/// with `qemu-aarch64`. CI installs both (`gcc-aarch64-linux-gnu`,
/// `qemu-user`).
#[test]
fn every_declared_type_has_libuvs_layout_on_aarch64() {
    for tool in [CROSS_CC, "qemu-aarch64"] {
        assert!(
            Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success()),
            "{tool} is needed for the aarch64 layout check: install \
             gcc-aarch64-linux-gnu and qemu-user (.ci/run does)"
        );
    }
    let dir = deps_dir()
        .parent()
        .expect("deps/ has a parent")
        .join("uv-compat-layout-test");
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    let source = Path::new(MANIFEST_DIR).join("tests/layout/layout.c");
    let ours_include = format!("{MANIFEST_DIR}/include");
    let build_and_run = |name: &str, std: &str, include: [&str; 2]| {
        let out = dir.join(name);
        run(Command::new(CROSS_CC)
            .args([
                "-Wall",
                "-Wextra",
                "-Werror",
                "-static",
                "-DLAYOUT_HEADER_ONLY",
            ])
            .arg(format!("-std={std}"))
            .args(include)
            .arg("-o")
            .arg(&out)
            .arg(&source));
        run(Command::new("qemu-aarch64").arg(&out))
    };
    // The cross compiler does not search /usr/include; -idirafter lets it
    // find uv.h there while its own sysroot keeps precedence for the C
    // library's headers.
    let system = build_and_run(
        "layout-system-aarch64",
        "gnu11",
        ["-idirafter", "/usr/include"],
    );
    let ours = build_and_run("layout-ours-aarch64", "gnu11", ["-I", &ours_include]);
    let ours_strict = build_and_run("layout-ours-c11-aarch64", "c11", ["-I", &ours_include]);
    assert_same_layout(&system, &[("gnu11", &ours), ("c11", &ours_strict)]);
    // The architecture did matter: aarch64's mutex is larger.
    assert!(system.contains("uv_mutex_t size 48 "), "{system}");
}

/// The aarch64 cross compiler Debian's `gcc-aarch64-linux-gnu` installs.
const CROSS_CC: &str = "aarch64-linux-gnu-gcc";
