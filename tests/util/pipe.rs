//! Pipe helpers: unique names, listeners, connected pairs, collecting
//! readers.

use super::shared;
use super::tcp::{collector, run_until, Collected};
use super::Shared;
use ruv::{Loop, Pipe, ReadResult};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("ruv-{tag}-{}-{n}", std::process::id())
}

/// A path for a socket file in the temporary directory that nobody uses:
/// the process id and a counter. Nothing is created.
pub fn temp_path(tag: &str) -> PathBuf {
    let path = std::env::temp_dir().join(unique(tag));
    let _ = std::fs::remove_file(&path);
    path
}

/// A Linux abstract name (leading NUL) nobody uses.
pub fn abstract_name(tag: &str) -> String {
    format!("\0{}", unique(tag))
}

/// A listener bound to `name` whose callback accepts every connection into
/// the returned list.
pub fn listener(lp: &Loop, name: &std::ffi::OsStr) -> (Pipe, Shared<Vec<Pipe>>) {
    let server = Pipe::new(lp, false);
    server.bind(name).unwrap();
    let accepted = shared(Vec::new());
    let into = accepted.clone();
    server
        .listen(128, move |server, status| {
            status.unwrap();
            let conn = Pipe::new(server.get_loop(), false);
            server.accept(&conn).unwrap();
            into.borrow_mut().push(conn);
        })
        .unwrap();
    (server, accepted)
}

/// A connected pair over `name`: (the accepted end, the connecting end).
/// The listener is closed again (removing a socket file).
pub fn connected(lp: &Loop, name: &std::ffi::OsStr) -> (Pipe, Pipe) {
    let (server, accepted) = listener(lp, name);
    let client = Pipe::new(lp, false);
    let done = shared(false);
    let flag = done.clone();
    client
        .connect(name, move |_, status| {
            status.unwrap();
            *flag.borrow_mut() = true;
        })
        .unwrap();
    run_until(lp, || *done.borrow() && !accepted.borrow().is_empty());
    server.close(|| {});
    let conn = accepted.borrow_mut().pop().unwrap();
    (conn, client)
}

/// Starts reading into a shared [`Collected`].
pub fn collect(pipe: &Pipe) -> Shared<Collected> {
    let got = shared(Collected::default());
    pipe.read_start(collector(got.clone())).unwrap();
    got
}

/// Echoes everything `pipe` reads back to it; closes it at the end.
pub fn echo(pipe: &Pipe) {
    pipe.read_start(|conn, read| match read {
        ReadResult::Data(data) => {
            let copy = data.to_vec();
            conn.write(&[&copy], |_, status| status.unwrap()).unwrap();
        }
        ReadResult::Eof => conn.close(|| {}),
        ReadResult::Error(err) => panic!("{err}"),
    })
    .unwrap();
}

/// Closes every handle, runs the loop dry and closes it.
pub fn finish(lp: &Loop, handles: &[&Pipe]) {
    for h in handles {
        if !h.is_closing() {
            h.close(|| {});
        }
    }
    let dog = super::watchdog(lp, 20_000);
    lp.run(ruv::RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(ruv::RunMode::NoWait).unwrap();
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}
