//! Pipe names: bind and connect errors, socket names, the socket file's
//! removal at close, chmod (libuv's test-pipe-bind-error.c,
//! test-pipe-connect-error.c, test-pipe-getsockname.c,
//! test-pipe-set-fchmod.c pinned in our words).

mod util;

use ruv::{Error, HandleType, Loop, Pipe, RunMode, StatusCode};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use util::pipe::{abstract_name, connected, finish, listener, temp_path};
use util::shared;
use util::tcp::run_until;

fn status(code: StatusCode) -> Error {
    Error::Status(code)
}

/// Connects `pipe` to `name` and runs the loop until the callback ran:
/// its outcome. Asserts the callback did not run inside `connect`.
fn connect_outcome(lp: &Loop, pipe: &Pipe, name: impl AsRef<OsStr>) -> ruv::Result<()> {
    let got = shared(None);
    let into = got.clone();
    pipe.connect(name, move |_, status| *into.borrow_mut() = Some(status))
        .unwrap();
    assert!(got.borrow().is_none(), "never inside connect");
    run_until(lp, || got.borrow().is_some());
    let outcome = got.borrow_mut().take().unwrap();
    outcome
}

#[test]
fn the_handle_type_is_libuvs_named_pipe() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    assert_eq!(pipe.handle_type(), HandleType::NamedPipe);
    assert_eq!(HandleType::NamedPipe as i32, 7);
    assert_eq!(HandleType::NamedPipe.name(), "pipe");
    assert_eq!(pipe.pending_count(), 0);
    assert_eq!(pipe.pending_type(), None);
    assert!(!pipe.ipc().unwrap());
    let ipc = Pipe::new(&lp, true);
    assert!(ipc.ipc().unwrap());
    // The descriptor (uv_fileno): none before bind, the socket's after.
    assert_eq!(pipe.fileno(), Err(status(StatusCode::EBADF)));
    pipe.bind(abstract_name("fileno")).unwrap();
    let fd = pipe.fileno().unwrap();
    assert_eq!(fd, std::os::fd::AsRawFd::as_raw_fd(&pipe));
    assert!(fd >= 0);
    finish(&lp, &[&pipe, &ipc]);
}

#[test]
fn a_name_longer_than_sun_path_is_einval_never_truncated() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    // sun_path holds 108 bytes: a path needs its NUL, so 107 fit and 108
    // do not; an abstract name may use all 108.
    let dir = std::env::temp_dir();
    let long = dir.join("x".repeat(200));
    assert_eq!(pipe.bind(&long), Err(status(StatusCode::EINVAL)));
    let exactly = format!("/{}", "y".repeat(107));
    assert_eq!(pipe.bind(&exactly), Err(status(StatusCode::EINVAL)));
    let abstract_too_long = format!("\0{}", "z".repeat(108));
    assert_eq!(
        pipe.bind(&abstract_too_long),
        Err(status(StatusCode::EINVAL))
    );
    // Nothing was created under a truncated name, and the handle is still
    // unbound: a proper name binds.
    assert!(!long.exists());
    let name = abstract_name("long-then-ok");
    pipe.bind(&name).unwrap();
    assert_eq!(pipe.sockname().unwrap(), OsString::from(&name));
    finish(&lp, &[&pipe]);
}

#[test]
fn an_abstract_name_may_use_all_of_sun_path() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    let base = abstract_name("full");
    let name = format!("{base}{}", "a".repeat(108 - base.len()));
    assert_eq!(name.len(), 108);
    pipe.bind(&name).unwrap();
    assert_eq!(pipe.sockname().unwrap(), OsString::from(&name));
    finish(&lp, &[&pipe]);
}

#[test]
fn empty_names_and_nul_inside_a_path_are_einval() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    assert_eq!(pipe.bind(""), Err(status(StatusCode::EINVAL)));
    let path = temp_path("nul");
    let mut bytes = path.as_os_str().as_bytes().to_vec();
    bytes.extend_from_slice(b"\0tail");
    assert_eq!(
        pipe.bind(OsStr::from_bytes(&bytes)),
        Err(status(StatusCode::EINVAL))
    );
    assert!(!path.exists(), "not bound under the name before the NUL");
    finish(&lp, &[&pipe]);
}

#[test]
fn binding_twice_is_einval() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    let path = temp_path("twice");
    pipe.bind(&path).unwrap();
    assert_eq!(
        pipe.bind(temp_path("twice-b")),
        Err(status(StatusCode::EINVAL))
    );
    assert_eq!(
        pipe.bind(abstract_name("twice")),
        Err(status(StatusCode::EINVAL))
    );
    finish(&lp, &[&pipe]);
    assert!(!path.exists());
}

#[test]
fn a_missing_directory_is_eacces_as_libuv_maps_enoent() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    let path = temp_path("no-dir").join("sock");
    assert_eq!(pipe.bind(&path), Err(status(StatusCode::EACCES)));
    // Still unbound.
    assert_eq!(pipe.sockname(), Err(status(StatusCode::EBADF)));
    finish(&lp, &[&pipe]);
}

#[test]
fn an_existing_name_is_eaddrinuse_at_bind() {
    let lp = Loop::new().unwrap();
    let path = temp_path("inuse");
    let first = Pipe::new(&lp, false);
    first.bind(&path).unwrap();
    let second = Pipe::new(&lp, false);
    assert_eq!(second.bind(&path), Err(status(StatusCode::EADDRINUSE)));
    let name = abstract_name("inuse");
    let a = Pipe::new(&lp, false);
    a.bind(&name).unwrap();
    let b = Pipe::new(&lp, false);
    assert_eq!(b.bind(&name), Err(status(StatusCode::EADDRINUSE)));
    // A plain file in the way too.
    let file = temp_path("inuse-file");
    std::fs::write(&file, b"x").unwrap();
    assert_eq!(b.bind(&file), Err(status(StatusCode::EADDRINUSE)));
    std::fs::remove_file(&file).unwrap();
    finish(&lp, &[&first, &second, &a, &b]);
}

#[test]
fn listen_needs_a_bound_non_ipc_pipe() {
    let lp = Loop::new().unwrap();
    let unbound = Pipe::new(&lp, false);
    assert_eq!(
        unbound.listen(4, |_, _| panic!("no connection")),
        Err(status(StatusCode::EINVAL))
    );
    let ipc = Pipe::new(&lp, true);
    ipc.bind(abstract_name("ipc")).unwrap();
    assert_eq!(
        ipc.listen(4, |_, _| panic!("no connection")),
        Err(status(StatusCode::EINVAL))
    );
    finish(&lp, &[&unbound, &ipc]);
}

#[test]
fn connect_errors_come_to_the_callback_from_the_loop() {
    let lp = Loop::new().unwrap();
    // Nothing has the name.
    let pipe = Pipe::new(&lp, false);
    assert_eq!(
        connect_outcome(&lp, &pipe, temp_path("nobody")),
        Err(status(StatusCode::ENOENT))
    );
    // A stale socket file: bound once, nobody listening now.
    let stale = temp_path("stale");
    drop(UnixListener::bind(&stale).unwrap());
    assert!(std::fs::metadata(&stale).unwrap().file_type().is_socket());
    let pipe2 = Pipe::new(&lp, false);
    assert_eq!(
        connect_outcome(&lp, &pipe2, &stale),
        Err(status(StatusCode::ECONNREFUSED))
    );
    std::fs::remove_file(&stale).unwrap();
    // Names that cannot be used at all, also through the callback.
    let pipe3 = Pipe::new(&lp, false);
    let long = format!("/{}", "q".repeat(300));
    assert_eq!(
        connect_outcome(&lp, &pipe3, &long),
        Err(status(StatusCode::EINVAL))
    );
    assert_eq!(
        connect_outcome(&lp, &pipe3, ""),
        Err(status(StatusCode::EINVAL))
    );
    // An abstract name nobody listens on.
    assert_eq!(
        connect_outcome(&lp, &pipe3, abstract_name("nobody")),
        Err(status(StatusCode::ECONNREFUSED))
    );
    // A failed connect leaves the handle usable: it connects afterwards.
    let name = abstract_name("later");
    let (server, accepted) = listener(&lp, OsStr::new(&name));
    assert_eq!(connect_outcome(&lp, &pipe3, &name), Ok(()));
    run_until(&lp, || !accepted.borrow().is_empty());
    let conn = accepted.borrow_mut().pop().unwrap();
    finish(&lp, &[&pipe, &pipe2, &pipe3, &server, &conn]);
}

#[test]
fn a_second_connect_while_one_is_pending_is_ealready() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    let got = shared(Vec::new());
    let into = got.clone();
    pipe.connect(temp_path("a"), move |_, s| into.borrow_mut().push(s))
        .unwrap();
    assert_eq!(
        pipe.connect(temp_path("b"), |_, _| panic!("dropped")),
        Err(status(StatusCode::EALREADY))
    );
    run_until(&lp, || !got.borrow().is_empty());
    assert_eq!(*got.borrow(), vec![Err(status(StatusCode::ENOENT))]);
    finish(&lp, &[&pipe]);
}

#[test]
fn closing_removes_the_socket_file() {
    let lp = Loop::new().unwrap();
    let path = temp_path("unlink");
    let pipe = Pipe::new(&lp, false);
    pipe.bind(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().file_type().is_socket());
    pipe.listen(4, |_, _| {}).unwrap();
    pipe.close(|| {});
    // Removed by close itself, before the descriptor is closed.
    assert!(!path.exists());
    lp.run(RunMode::Default).unwrap();
    // The name is free again.
    let again = Pipe::new(&lp, false);
    again.bind(&path).unwrap();
    finish(&lp, &[&again]);
    assert!(!path.exists());
}

#[test]
fn sockname_and_peername_give_paths_and_raw_abstract_names() {
    let lp = Loop::new().unwrap();
    for name in [
        temp_path("names").into_os_string(),
        OsString::from(abstract_name("names")),
    ] {
        let (server, accepted) = listener(&lp, &name);
        assert_eq!(server.sockname().unwrap(), name);
        assert_eq!(server.peername(), Err(status(StatusCode::ENOTCONN)));
        let client = Pipe::new(&lp, false);
        assert_eq!(client.sockname(), Err(status(StatusCode::EBADF)));
        let done = shared(false);
        let flag = done.clone();
        client
            .connect(&name, move |_, s| {
                s.unwrap();
                *flag.borrow_mut() = true;
            })
            .unwrap();
        run_until(&lp, || *done.borrow() && !accepted.borrow().is_empty());
        let conn = accepted.borrow_mut().pop().unwrap();
        // The connecting side has no name; it sees the listener's.
        assert_eq!(client.sockname().unwrap(), OsString::new());
        assert_eq!(client.peername().unwrap(), name);
        // The accepted side carries the listener's name.
        assert_eq!(conn.sockname().unwrap(), name);
        for h in [&server, &client, &conn] {
            h.close(|| {});
        }
        lp.run(RunMode::Default).unwrap();
    }
    finish(&lp, &[]);
}

#[test]
fn an_abstract_name_may_contain_nul_bytes() {
    let lp = Loop::new().unwrap();
    let mut bytes = abstract_name("inner").into_bytes();
    bytes.extend_from_slice(b"\0x\0");
    let name = OsStr::from_bytes(&bytes);
    let (a, b) = connected(&lp, name);
    assert_eq!(a.sockname().unwrap(), name);
    assert_eq!(b.peername().unwrap(), name);
    finish(&lp, &[&a, &b]);
}

#[test]
fn chmod_adds_read_and_write_permission_for_everyone() {
    let lp = Loop::new().unwrap();
    let path = temp_path("chmod");
    let pipe = Pipe::new(&lp, false);
    assert_eq!(pipe.chmod(true, true), Err(status(StatusCode::EBADF)));
    pipe.bind(&path).unwrap();
    let mode = || std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    pipe.chmod(true, false).unwrap();
    assert_eq!(mode(), 0o644);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    pipe.chmod(false, true).unwrap();
    assert_eq!(mode(), 0o622);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    pipe.chmod(true, true).unwrap();
    assert_eq!(mode(), 0o666);
    assert_eq!(pipe.chmod(false, false), Err(status(StatusCode::EINVAL)));
    // An abstract name has no file.
    let abs = Pipe::new(&lp, false);
    abs.bind(abstract_name("chmod")).unwrap();
    assert_eq!(abs.chmod(true, true), Err(status(StatusCode::EINVAL)));
    finish(&lp, &[&pipe, &abs]);
}

#[test]
fn closed_pipes_report_the_closed_handle_error() {
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp, false);
    pipe.close(|| {});
    assert!(pipe
        .bind(abstract_name("closed"))
        .unwrap_err()
        .is_closed_handle());
    assert!(pipe
        .connect(abstract_name("closed"), |_, _| panic!("dropped"))
        .unwrap_err()
        .is_closed_handle());
    assert!(pipe.sockname().unwrap_err().is_closed_handle());
    assert!(pipe.chmod(true, true).unwrap_err().is_closed_handle());
    finish(&lp, &[]);
}
