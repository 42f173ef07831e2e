//! uv-compat as an installed C library: the shared library's SONAME and
//! exported symbols, and `make install` (uv-compat/Makefile) into a
//! temporary prefix, from which `tests/install/installed.c` is built with
//! nothing but pkg-config's flags, dynamically and statically, and run.
//!
//! The library installed is the one cargo built for this test run (in
//! `target/<profile>/deps/`, next to this test binary), with `NO_BUILD=1`,
//! so the test never starts a second cargo build.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// The libuv API level `uv.h` declares, hence the installed version.
const VERSION: &str = "1.52.0";

/// `target/<profile>/deps/`: this test binary's directory, where cargo put
/// the `libuv.so` and `libuv.a` of this run.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a directory");
    assert!(
        deps.join("libuv.so").is_file() && deps.join("libuv.a").is_file(),
        "cargo should build libuv.so and libuv.a into {} before the tests",
        deps.display()
    );
    deps.to_path_buf()
}

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = deps_dir()
        .parent()
        .expect("deps/ has a parent")
        .join("uv-compat-install-tests")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

/// Runs `cmd`; panics with its output unless it exits 0.
fn run(cmd: &mut Command) -> Output {
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
    out
}

fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run(cmd).stdout).into_owned()
}

/// `make -C uv-compat <target>` with the library of this run and `vars`.
fn make(target: &str, vars: &[(&str, &Path)]) {
    let mut cmd = Command::new("make");
    cmd.args(["-s", "-C", MANIFEST_DIR, target, "NO_BUILD=1"])
        .arg(format!("BUILD_DIR={}", deps_dir().display()));
    for (name, value) in vars {
        cmd.arg(format!("{name}={}", value.display()));
    }
    run(&mut cmd);
}

/// The SONAME in `lib`'s dynamic section.
fn soname(lib: &Path) -> Option<String> {
    let text = stdout_of(Command::new("readelf").arg("-d").arg(lib));
    let line = text.lines().find(|l| l.contains("(SONAME)"))?;
    let start = line.find('[')? + 1;
    let end = line.rfind(']')?;
    Some(line[start..end].to_string())
}

/// The `NEEDED` entries of `bin`.
fn needed(bin: &Path) -> Vec<String> {
    stdout_of(Command::new("readelf").arg("-d").arg(bin))
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l[l.find('[')? + 1..l.rfind(']')?].to_string()))
        .collect()
}

#[test]
fn shared_library_is_libuv_so_1() {
    let deps = deps_dir();
    assert_eq!(
        soname(&deps.join("libuv.so")).as_deref(),
        Some("libuv.so.1")
    );
    // The link the loader needs to find it in the build tree by that name.
    assert_eq!(
        fs::read_link(deps.join("libuv.so.1")).expect("deps/libuv.so.1 link"),
        Path::new("libuv.so")
    );
}

/// Every exported function is one of libuv's: a `uv_` name that the
/// system's libuv (1.44) exports too, or one of the few libuv added later.
/// No Rust internals (`rust_*`, mangled names) leak out.
#[test]
fn exports_only_libuv_functions() {
    /// What uv-compat implements from libuv releases after 1.44.
    const NEWER: &[&str] = &[
        "uv_metrics_info",
        "uv_pipe_bind2",
        "uv_pipe_connect2",
        "uv_tcp_keepalive_ex",
        "uv_udp_open_ex",
        "uv_udp_try_send2",
    ];
    let system = stdout_of(Command::new("cc").arg("-print-file-name=libuv.so.1"));
    let system = PathBuf::from(system.trim());
    assert!(
        system.is_file(),
        "the system libuv (libuv1-dev) is needed for the comparison"
    );
    let symbols = |lib: &Path| -> Vec<(String, String)> {
        stdout_of(Command::new("nm").args(["-D", "--defined-only"]).arg(lib))
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace().rev();
                let name = f.next()?.to_string();
                let kind = f.next()?.to_string();
                Some((kind, name))
            })
            .collect()
    };
    let libuv: Vec<String> = symbols(&system).into_iter().map(|(_, n)| n).collect();
    let ours = symbols(&deps_dir().join("libuv.so"));
    assert!(ours.len() > 100, "too few symbols: {ours:?}");
    for (kind, name) in &ours {
        assert_eq!(kind, "T", "{name} is exported but not a function");
        assert!(
            libuv.contains(name) || NEWER.contains(&name.as_str()),
            "{name} is exported but is no libuv function"
        );
    }
    for name in NEWER {
        assert!(
            !libuv.contains(&name.to_string()),
            "{name} is in libuv 1.44: move it out of NEWER"
        );
    }
}

/// The exported functions of `lib` (`nm -D --defined-only`, kind `T`).
fn exported_functions(lib: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        stdout_of(Command::new("nm").args(["-D", "--defined-only"]).arg(lib))
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace().rev();
                let name = f.next()?;
                (f.next()? == "T").then(|| name.to_string())
            })
            .collect();
    names.sort();
    names
}

/// The functions `include/uv.h` declares (`UV_EXTERN type name(...)`).
fn declared_functions() -> Vec<String> {
    let header = fs::read_to_string(Path::new(MANIFEST_DIR).join("include/uv.h"))
        .expect("read include/uv.h");
    let mut names: Vec<String> = header
        .lines()
        .filter_map(|l| l.strip_prefix("UV_EXTERN "))
        .filter_map(|decl| {
            let before_paren = &decl[..decl.find('(')?];
            let name = before_paren.rsplit([' ', '*']).next()?;
            Some(name.to_string())
        })
        .collect();
    names.sort();
    names
}

/// No fewer than it implements: every function the header declares is
/// exported, and nothing else is (no stub behind an undeclared name).
#[test]
fn exports_exactly_what_the_header_declares() {
    let declared = declared_functions();
    assert!(declared.len() > 100, "too few declarations: {declared:?}");
    assert_eq!(exported_functions(&deps_dir().join("libuv.so")), declared);
}

/// A binary built against the system's libuv that calls a function
/// uv-compat lacks is stopped by the loader with "undefined symbol" (exit
/// status 127, at start with `LD_BIND_NOW=1`), never by a stub; one that
/// never calls it runs on uv-compat under lazy binding.
#[test]
fn unimplemented_function_is_missing_at_load_time() {
    let deps = deps_dir();
    assert!(
        !exported_functions(&deps.join("libuv.so")).contains(&"uv_fs_open".to_string()),
        "uv_fs_open is implemented now: pick a function uv-compat lacks"
    );
    let dir = scratch("unimplemented");
    let bin = dir.join("unimplemented");
    run(Command::new("cc")
        .arg(Path::new(MANIFEST_DIR).join("tests/install/unimplemented.c"))
        .args(["-Wall", "-Werror", "-luv", "-o"])
        .arg(&bin));
    let on_ours = |bind_now: bool, args: &[&str]| {
        let mut cmd = Command::new(&bin);
        cmd.args(args).env("LD_LIBRARY_PATH", &deps);
        if bind_now {
            cmd.env("LD_BIND_NOW", "1");
        } else {
            cmd.env_remove("LD_BIND_NOW");
        }
        cmd.output().expect("run the program")
    };

    let lazy = on_ours(false, &[]);
    assert!(lazy.status.success(), "{lazy:?}");
    let version: u32 = String::from_utf8_lossy(&lazy.stdout)
        .trim()
        .parse()
        .expect("a version");
    assert_eq!(version, 0x01_34_00, "the program ran on the system's libuv");

    for (bind_now, args) in [(true, &[][..]), (false, &["call"][..])] {
        let out = on_ours(bind_now, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(127), "{stderr}");
        assert!(
            stderr.contains("undefined symbol: uv_fs_open"),
            "the loader's message: {stderr}"
        );
    }
}

/// `make install` with `DESTDIR`: libuv's file layout under the staging
/// directory, paths in the pkg-config files naming the final prefix; then
/// `make uninstall` removes every file again.
#[test]
fn install_layout_and_uninstall() {
    let dir = scratch("layout");
    let stage = dir.join("stage");
    let prefix = Path::new("/opt/uv-compat");
    make("install", &[("DESTDIR", &stage), ("PREFIX", prefix)]);
    let root = stage.join("opt/uv-compat");
    let lib = root.join("lib");
    let real = lib.join(format!("libuv.so.{VERSION}"));
    assert!(real.is_file() && !real.is_symlink(), "{}", real.display());
    assert_eq!(soname(&real).as_deref(), Some("libuv.so.1"));
    let link = |name: &str| fs::read_link(lib.join(name)).expect(name);
    assert_eq!(
        link("libuv.so.1"),
        PathBuf::from(format!("libuv.so.{VERSION}"))
    );
    assert_eq!(link("libuv.so"), PathBuf::from("libuv.so.1"));
    assert!(lib.join("libuv.a").is_file());
    let include = root.join("include");
    for header in [
        "uv.h",
        "uv/errno.h",
        "uv/version.h",
        "uv/unix.h",
        "uv/linux.h",
        "uv/threadpool.h",
    ] {
        assert!(include.join(header).is_file(), "{header} not installed");
    }
    for pc in ["libuv.pc", "libuv-static.pc"] {
        let text = fs::read_to_string(lib.join("pkgconfig").join(pc)).expect(pc);
        assert!(text.contains("prefix=/opt/uv-compat\n"), "{pc}:\n{text}");
        assert!(
            text.contains("libdir=/opt/uv-compat/lib\n"),
            "{pc}:\n{text}"
        );
        assert!(
            text.contains("includedir=/opt/uv-compat/include\n"),
            "{pc}:\n{text}"
        );
        assert!(
            text.contains(&format!("Version: {VERSION}\n")),
            "{pc}:\n{text}"
        );
        assert!(!text.contains(&*stage.to_string_lossy()), "{pc}:\n{text}");
    }
    make("uninstall", &[("DESTDIR", &stage), ("PREFIX", prefix)]);
    let left: Vec<PathBuf> = walk(&stage).into_iter().filter(|p| !p.is_dir()).collect();
    assert!(left.is_empty(), "left after uninstall: {left:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for entry in fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            all.extend(walk(&path));
        }
        all.push(path);
    }
    all
}

/// `pkg-config ARGS` seeing only the pkg-config files of `prefix`.
fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    let text = stdout_of(
        Command::new("pkg-config")
            .args(args)
            .env("PKG_CONFIG_LIBDIR", prefix.join("lib/pkgconfig"))
            .env_remove("PKG_CONFIG_PATH"),
    );
    text.split_whitespace().map(str::to_string).collect()
}

/// Compiles `installed.c` into `out` with `flags` (pkg-config's output).
fn compile_installed(out: &Path, flags: &[String]) {
    run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(out)
        .arg(Path::new(MANIFEST_DIR).join("tests/install/installed.c"))
        .args(flags));
}

/// Runs `bin` with `LD_LIBRARY_PATH` set to `lib_path` only (cargo's own,
/// which names the build tree, would hide a wrong lookup); its output.
fn run_installed(bin: &Path, lib_path: &Path) -> String {
    stdout_of(Command::new(bin).env("LD_LIBRARY_PATH", lib_path))
}

#[test]
fn installed_library_links_with_pkg_config() {
    let dir = scratch("pkg-config");
    let prefix = dir.join("prefix");
    make("install", &[("PREFIX", &prefix)]);
    let lib = prefix.join("lib");
    assert_eq!(pkg_config(&prefix, &["--modversion", "libuv"]), [VERSION]);
    assert_eq!(
        pkg_config(&prefix, &["--modversion", "libuv-static"]),
        [VERSION]
    );

    // Shared: the program records libuv's SONAME and, with the prefix's
    // lib directory on the loader's path, loads the installed file.
    let shared = dir.join("installed-shared");
    compile_installed(
        &shared,
        &pkg_config(&prefix, &["--cflags", "--libs", "libuv"]),
    );
    assert!(
        needed(&shared).contains(&"libuv.so.1".to_string()),
        "{:?}",
        needed(&shared)
    );
    let ldd = stdout_of(
        Command::new("ldd")
            .arg(&shared)
            .env("LD_LIBRARY_PATH", &lib),
    );
    let want = format!("libuv.so.1 => {}", lib.join("libuv.so.1").display());
    assert!(ldd.contains(&want), "expected `{want}` in:\n{ldd}");
    assert_eq!(run_installed(&shared, &lib), format!("{VERSION} ok\n"));

    // Static: no libuv to load at all.
    let flags = pkg_config(&prefix, &["--static", "--cflags", "--libs", "libuv-static"]);
    let fixed = dir.join("installed-static");
    compile_installed(&fixed, &flags);
    assert!(
        !needed(&fixed).iter().any(|n| n.starts_with("libuv")),
        "{:?}",
        needed(&fixed)
    );
    assert_eq!(run_installed(&fixed, &dir), format!("{VERSION} ok\n"));
}
