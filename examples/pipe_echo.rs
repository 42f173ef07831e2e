//! A Unix-domain-socket echo server and client on one ruv loop.
//!
//! ```text
//! cargo run --example pipe_echo                       # both, on a temporary socket file
//! cargo run --example pipe_echo -- --server /tmp/echo.sock
//! ```
//!
//! With no arguments the server binds a socket file in a fresh temporary
//! directory, the client connects, sends a line, shuts its side down and
//! reads the echo back; both close, the socket file goes with the server
//! (ruv removes what it bound), and the program exits 0. `--server PATH`
//! runs only the server, until killed; try `nc -U PATH`. A name starting
//! with `@` is bound in Linux's abstract namespace (no file).

use ruv::{Loop, Pipe, ReadResult, RunMode};
use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;
use std::rc::Rc;

/// The name as `Pipe::bind` takes it: `@name` becomes an abstract name
/// (a leading NUL byte).
fn socket_name(arg: &str) -> OsString {
    match arg.strip_prefix('@') {
        Some(rest) => {
            let mut bytes = vec![0u8];
            bytes.extend_from_slice(rest.as_bytes());
            OsString::from_vec(bytes)
        }
        None => OsString::from(arg),
    }
}

/// Listens on `name`; every connection gets back what it sends and is
/// closed at its EOF or error. With `once` the server stops listening after
/// its first connection.
fn serve(lp: &Loop, name: &OsString, once: bool) -> ruv::Result<Pipe> {
    let server = Pipe::new(lp, false);
    server.bind(name)?;
    server.listen(128, move |server, status| {
        if let Err(err) = status {
            eprintln!("accept: {err}");
            return;
        }
        let conn = Pipe::new(server.get_loop(), false);
        if let Err(err) = server.accept(&conn) {
            eprintln!("accept: {err}");
            conn.close(|| {});
            return;
        }
        let started = conn.read_start(|conn, read| match read {
            ReadResult::Data(data) => {
                if conn.write(&[data], |_, _| {}).is_err() {
                    conn.close(|| {});
                }
            }
            ReadResult::Eof | ReadResult::Error(_) => conn.close(|| {}),
        });
        if started.is_err() {
            conn.close(|| {});
        }
        if once {
            server.close(|| {});
        }
    })?;
    Ok(server)
}

/// Connects to `name`, sends `message`, and collects the echo in `echo`
/// until the server closes.
fn client(lp: &Loop, name: &OsString, message: &'static [u8], echo: Rc<RefCell<Vec<u8>>>) {
    let pipe = Pipe::new(lp, false);
    let connected = pipe.connect(name, move |pipe, status| {
        if let Err(err) = status {
            eprintln!("connect: {err}");
            pipe.close(|| {});
            return;
        }
        let _ = pipe.write(&[message], |_, _| {});
        let _ = pipe.shutdown(|_, _| {});
        let _ = pipe.read_start(move |pipe, read| match read {
            ReadResult::Data(data) => echo.borrow_mut().extend_from_slice(data),
            ReadResult::Eof | ReadResult::Error(_) => pipe.close(|| {}),
        });
    });
    if let Err(err) = connected {
        eprintln!("connect: {err}");
        pipe.close(|| {});
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lp = Loop::new().expect("a loop");
    match args.as_slice() {
        [flag, name] if flag == "--server" => {
            let name = socket_name(name);
            if let Err(err) = serve(&lp, &name, false) {
                eprintln!("listen on {name:?}: {err}");
                return ExitCode::FAILURE;
            }
            println!("echoing on {name:?}");
            let _ = lp.run(RunMode::Default);
            ExitCode::SUCCESS
        }
        [] => {
            let dir = std::env::temp_dir().join(format!("ruv-pipe-echo-{}", std::process::id()));
            if let Err(err) = std::fs::create_dir_all(&dir) {
                eprintln!("{}: {err}", dir.display());
                return ExitCode::FAILURE;
            }
            let name = dir.join("echo.sock").into_os_string();
            if let Err(err) = serve(&lp, &name, true) {
                eprintln!("listen on {name:?}: {err}");
                return ExitCode::FAILURE;
            }
            let echo = Rc::new(RefCell::new(Vec::new()));
            let message = b"hello over a unix socket\n";
            client(&lp, &name, message, echo.clone());
            let _ = lp.run(RunMode::Default);
            let file_left = std::path::Path::new(&name).exists();
            let _ = std::fs::remove_dir_all(&dir);
            let echo = echo.borrow();
            print!("{}", String::from_utf8_lossy(&echo));
            if echo.as_slice() != message {
                eprintln!("echo differs");
                return ExitCode::FAILURE;
            }
            if file_left {
                eprintln!("the socket file outlived the server");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: pipe_echo [--server PATH|@ABSTRACT]");
            ExitCode::FAILURE
        }
    }
}
