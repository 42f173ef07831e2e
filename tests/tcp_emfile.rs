//! Out of descriptors while accepting (libuv's test-emfile.c in our
//! words): the waiting connections are refused, the loop neither spins nor
//! stalls, and the listener accepts again once descriptors are free. Alone
//! in its file: it lowers the process's descriptor limit.

mod util;

use ruv::{Loop, RunMode, Tcp, TcpFlags};
use std::io::Read;
use std::time::Duration;
use util::shared;
use util::tcp::run_until;

fn set_fd_limit(soft: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the live `lim`.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_cur = soft.min(lim.rlim_max);
    // SAFETY: setrlimit reads one live rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
}

#[test]
fn running_out_of_descriptors_refuses_waiting_connections_and_recovers() {
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server.bind(util::any_v4(), TcpFlags::empty()).unwrap();
    let results = shared(Vec::new());
    let r = results.clone();
    server
        .listen(16, move |server, status| {
            let conn = Tcp::new(server.get_loop());
            let accepted = status.and_then(|()| server.accept(&conn));
            r.borrow_mut().push(accepted);
            conn.close(|| {});
        })
        .unwrap();
    let addr = server.sockname().unwrap();
    // Connections complete in the backlog before descriptors run out.
    let mut clients: Vec<std::net::TcpStream> = (0..3)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let mut hog = Vec::new();
    set_fd_limit(1024);
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE));
                break;
            }
        }
    }
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert!(
        results.borrow().is_empty(),
        "the callback is not told: {:?}",
        results.borrow()
    );
    drop(hog);
    for c in &mut clients {
        // A guard against a hang, not a timed assertion.
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut buf = [0u8; 1];
        match c.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => {}
            other => panic!("the refused connection should be closed: {other:?}"),
        }
    }
    // Descriptors are free again: the listener accepts.
    let _late = std::net::TcpStream::connect(addr).unwrap();
    run_until(&lp, || !results.borrow().is_empty());
    assert_eq!(*results.borrow(), [Ok(())]);
    server.close(|| {});
    lp.run(RunMode::Default).unwrap();
    lp.close().unwrap();
}
