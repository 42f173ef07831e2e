//! IPv4 multicast on the loopback interface: join 239.255.0.1, send a
//! datagram to the group, receive our own copy, leave, close.
//!
//! ```text
//! cargo run --example multicast
//! ```
//!
//! Exits 1 with a message if the datagram has not come back within 2 s
//! (e.g. on a kernel or container without multicast on `lo`).

use ruv::{Loop, Membership, RunMode, Timer, Udp, UdpFlags};
use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::rc::Rc;

/// An administratively scoped group (RFC 2365): never routed off-site.
const GROUP: &str = "239.255.0.1";
/// The interface is named by its address; loopback keeps it all local.
const INTERFACE: &str = "127.0.0.1";
const TIMEOUT_MS: u64 = 2_000;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("multicast: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> ruv::Result<bool> {
    let lp = Loop::new()?;
    let udp = Udp::new(&lp);

    // A group member must bind the wildcard address: a socket bound to
    // 127.0.0.1 would not accept datagrams addressed to the group.
    // REUSEADDR lets other members on this host bind the same port.
    let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
    udp.bind(any, UdpFlags::REUSEADDR)?;
    let port = udp.sockname()?.port();
    println!("bound to 0.0.0.0:{port} with REUSEADDR");

    // Without the loop flag the kernel would not hand our own datagram back
    // to local sockets, including this one.
    udp.set_multicast_loop(true)?;
    udp.set_multicast_interface(Some(INTERFACE))?;
    udp.set_multicast_ttl(1)?;
    udp.set_membership(GROUP, Some(INTERFACE), Membership::JoinGroup)?;
    println!("joined {GROUP} on {INTERFACE}");

    let received = Rc::new(Cell::new(false));
    let timeout = Timer::new(&lp);
    let got = received.clone();
    let timer = timeout.clone();
    udp.receive_start(move |udp, result| match result {
        Ok(dgram) => {
            println!(
                "received {:?} from {} (our own datagram, looped back)",
                String::from_utf8_lossy(dgram.data),
                dgram.addr
            );
            got.set(true);
            // Leaving is what a long-lived member does when done; closing
            // alone would also drop the membership with the socket.
            match udp.set_membership(GROUP, Some(INTERFACE), Membership::LeaveGroup) {
                Ok(()) => println!("left {GROUP}"),
                Err(err) => eprintln!("leaving {GROUP} failed: {err}"),
            }
            udp.close(|| println!("closed the UDP handle"));
            timer.close(|| {});
        }
        Err(err) => eprintln!("receive error: {err}"),
    })?;

    let dest = ruv::addr::ip4_addr(GROUP, port)?;
    let message: &[u8] = b"hello, group";
    udp.send(&[message], Some(dest), move |_, status| match status {
        Ok(()) => println!("sent to {dest}"),
        Err(err) => eprintln!("send to {dest} failed: {err}"),
    })?;

    let udp_for_timeout = udp.clone();
    timeout.start(TIMEOUT_MS, 0, move |t| {
        eprintln!(
            "no datagram came back within {TIMEOUT_MS} ms: \
             is multicast routed on the loopback interface here?"
        );
        udp_for_timeout.close(|| {});
        t.close(|| {});
    })?;

    lp.run(RunMode::Default)?;
    lp.close()?;
    Ok(received.get())
}
