//! Compiles the C part of the library (the variadic `uv_loop_configure` and
//! the pthread wrappers), gives the shared library libuv's SONAME
//! (`libuv.so.1`) with a `libuv.so.1 -> libuv.so` link beside the built
//! file, and writes a `libuv.pc` next to the built library, so
//! `pkg-config --cflags --libs libuv` finds our header and library.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The functions `src/shim.c` defines (exported through `src/shim.rs`).
const SHIM_FUNCTIONS: &[&str] = &[
    "uv_loop_configure",
    "uv_thread_create",
    "uv_thread_join",
    "uv_thread_self",
    "uv_thread_equal",
    "uv_mutex_init",
    "uv_mutex_init_recursive",
    "uv_mutex_destroy",
    "uv_mutex_lock",
    "uv_mutex_trylock",
    "uv_mutex_unlock",
    "uv_sem_init",
    "uv_sem_destroy",
    "uv_sem_post",
    "uv_sem_wait",
    "uv_sem_trywait",
    "uv_barrier_init",
    "uv_barrier_destroy",
    "uv_barrier_wait",
    "uv_thread_create_ex",
    "uv_once",
    "uv_key_create",
    "uv_key_delete",
    "uv_key_get",
    "uv_key_set",
    "uv_cond_init",
    "uv_cond_destroy",
    "uv_cond_signal",
    "uv_cond_broadcast",
    "uv_cond_wait",
    "uv_cond_timedwait",
    "uv_rwlock_init",
    "uv_rwlock_destroy",
    "uv_rwlock_rdlock",
    "uv_rwlock_tryrdlock",
    "uv_rwlock_rdunlock",
    "uv_rwlock_wrlock",
    "uv_rwlock_trywrlock",
    "uv_rwlock_wrunlock",
];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let include = manifest.join("include");
    let mut build = cc::Build::new();
    // A cdylib exports only Rust's `#[no_mangle]` symbols, so the C functions
    // get private names and `src/shim.rs` exports libuv's names for them.
    for name in SHIM_FUNCTIONS {
        build.define(name, format!("ruv_shim_{name}").as_str());
    }
    build
        .file(manifest.join("src/shim.c"))
        .include(&include)
        .define("_GNU_SOURCE", None)
        .flag_if_supported("-std=c11")
        .warnings(true)
        .extra_warnings(true)
        .compile("uvshim");
    // libuv's SONAME: a program linked with `-luv` records `NEEDED
    // libuv.so.1`, as it does against libuv itself.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{SONAME}");
    println!("cargo:rerun-if-changed=src/shim.c");
    println!("cargo:rerun-if-changed=include/uv.h");
    if let Some(profile_dir) = profile_dir() {
        // The loader looks programs' `NEEDED libuv.so.1` up by that name:
        // without these links a program built against the build tree
        // would load the system's libuv instead.
        link_soname(&profile_dir);
        link_soname(&profile_dir.join("deps"));
        write_pkg_config(&profile_dir, &include);
    }
}

/// The shared library's SONAME: libuv's, stable across libuv 1.x.
const SONAME: &str = "libuv.so.1";

/// Creates `dir/libuv.so.1 -> libuv.so` (relative, so it follows cargo's
/// fresh copy of `libuv.so` on every build) unless it exists.
fn link_soname(dir: &Path) {
    let link = dir.join(SONAME);
    if fs::read_link(&link).is_ok_and(|t| t == Path::new("libuv.so")) {
        return;
    }
    // Best effort, like the pkg-config file: a stale file of that name is
    // replaced, a directory that cannot be written is left alone.
    let _ = fs::create_dir_all(dir);
    let _ = fs::remove_file(&link);
    let _ = std::os::unix::fs::symlink("libuv.so", &link);
}

/// `target/<profile>`: three levels above OUT_DIR
/// (`target/<profile>/build/<pkg>-<hash>/out`).
fn profile_dir() -> Option<PathBuf> {
    let out = PathBuf::from(env::var("OUT_DIR").ok()?);
    out.ancestors().nth(3).map(Path::to_path_buf)
}

fn write_pkg_config(profile_dir: &Path, include: &Path) {
    let dir = profile_dir.join("pkgconfig");
    let version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let text = format!(
        "# libuv's C API served by ruv (uv-compat {version}).\n\
         libdir={lib}\n\
         includedir={inc}\n\
         \n\
         Name: libuv\n\
         Description: libuv C API on the ruv event loop\n\
         Version: 1.52.0\n\
         Libs: -L${{libdir}} -Wl,-rpath,${{libdir}} -luv\n\
         Libs.private: -lpthread -ldl -lm\n\
         Cflags: -I${{includedir}}\n",
        lib = profile_dir.display(),
        inc = include.display(),
    );
    // Best effort: the library itself does not depend on the file.
    if fs::create_dir_all(&dir).is_ok() {
        let _ = fs::write(dir.join("libuv.pc"), text);
    }
}
