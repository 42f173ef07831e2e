//! TCP helpers: connected pairs on loopback and readers that collect.

use super::{any_v4, shared, watchdog, Shared};
use ruv::{Error, Loop, ReadResult, RunMode, Tcp, TcpFlags};
use std::net::SocketAddr;

/// A listener on a free loopback port whose callback accepts every
/// connection into `accepted`.
pub fn accepting_listener(lp: &Loop) -> (Tcp, SocketAddr, Shared<Vec<Tcp>>) {
    let server = Tcp::new(lp);
    server.bind(any_v4(), TcpFlags::empty()).unwrap();
    let addr = server.sockname().unwrap();
    let accepted = listen_accepting(&server);
    (server, addr, accepted)
}

/// Makes `server` listen, accepting every connection into the vector
/// returned.
pub fn listen_accepting(server: &Tcp) -> Shared<Vec<Tcp>> {
    let accepted = shared(Vec::new());
    let into = accepted.clone();
    server
        .listen(1024, move |server, status| {
            status.unwrap();
            let conn = Tcp::new(server.get_loop());
            server.accept(&conn).unwrap();
            into.borrow_mut().push(conn);
        })
        .unwrap();
    accepted
}

/// Runs the loop one iteration at a time until `done` (under a watchdog).
pub fn run_until(lp: &Loop, mut done: impl FnMut() -> bool) {
    let dog = watchdog(lp, 20_000);
    while !done() {
        lp.run(RunMode::Once).unwrap();
    }
    dog.close(|| {});
}

/// A connected pair on loopback: (the accepted end, the connecting end).
/// The listener is closed again.
pub fn pair(lp: &Loop) -> (Tcp, Tcp) {
    let (server, addr, accepted) = accepting_listener(lp);
    let client = Tcp::new(lp);
    let connected = shared(false);
    let flag = connected.clone();
    client
        .connect(addr, move |_, status| {
            status.unwrap();
            *flag.borrow_mut() = true;
        })
        .unwrap();
    run_until(lp, || *connected.borrow() && !accepted.borrow().is_empty());
    server.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    let conn = accepted.borrow_mut().pop().unwrap();
    (conn, client)
}

/// What a reader saw: the bytes, then how it ended.
#[derive(Debug, Default)]
pub struct Collected {
    pub data: Vec<u8>,
    pub eof: usize,
    pub error: Option<Error>,
    pub reads: usize,
}

/// Starts reading into a shared [`Collected`].
pub fn collect(tcp: &Tcp) -> Shared<Collected> {
    let got = shared(Collected::default());
    tcp.read_start(collector(got.clone())).unwrap();
    got
}

/// A read callback, for any stream handle, that records into `got`.
pub fn collector<T>(got: Shared<Collected>) -> impl FnMut(&T, ReadResult<'_>) + 'static {
    move |_, read| {
        let mut got = got.borrow_mut();
        match read {
            ReadResult::Data(data) => {
                assert!(!data.is_empty());
                got.data.extend_from_slice(data);
                got.reads += 1;
            }
            ReadResult::Eof => got.eof += 1,
            ReadResult::Error(err) => got.error = Some(err),
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift), so a test can check every
/// byte that arrives.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Closes every handle, runs the loop dry and closes it.
pub fn finish(lp: &Loop, handles: &[&Tcp]) {
    for h in handles {
        h.close(|| {});
    }
    let dog = watchdog(lp, 20_000);
    lp.run(RunMode::Default).unwrap();
    dog.close(|| {});
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(lp.handle_count(), 0);
    lp.close().unwrap();
}
