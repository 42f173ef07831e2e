//! IPv4 broadcast on the loopback network: send to 127.255.255.255 and
//! receive the datagram on another socket of this process.
//!
//! ```text
//! cargo run --example broadcast
//! ```
//!
//! Shows first that a send to a broadcast address without `set_broadcast`
//! fails (EACCES), then that it goes through with it. Exits 1 with an
//! explanation if the datagram does not arrive within 1.5 s.

use ruv::{Loop, RunMode, StatusCode, Timer, Udp, UdpFlags};
use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::rc::Rc;

/// The broadcast address of 127.0.0.0/8 on Linux's `lo`.
const LOOPBACK_BROADCAST: Ipv4Addr = Ipv4Addr::new(127, 255, 255, 255);
const TIMEOUT_MS: u64 = 1_500;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("broadcast: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> ruv::Result<bool> {
    let lp = Loop::new()?;

    let receiver = bind_receiver(&lp)?;
    let port = receiver.sockname()?.port();
    let target = SocketAddr::from((LOOPBACK_BROADCAST, port));

    let sender = Udp::new(&lp);
    // Broadcast options need a socket, and a handle gets one lazily: bind.
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    sender.bind(local, UdpFlags::empty())?;

    // The kernel refuses broadcast sends unless the socket opted in.
    let early: &[u8] = b"too early";
    match sender.try_send(&[early], Some(target)) {
        Err(err) if err == StatusCode::EACCES => {
            println!("without set_broadcast: {err} (as expected: SO_BROADCAST is off)")
        }
        Err(err) => println!("without set_broadcast: {err}"),
        Ok(n) => println!("without set_broadcast: sent {n} bytes (this kernel allows it)"),
    }

    sender.set_broadcast(true)?;
    println!("set_broadcast(true)");

    let received = Rc::new(Cell::new(false));
    let timeout = Timer::new(&lp);
    {
        let received = received.clone();
        let (sender, timeout) = (sender.clone(), timeout.clone());
        receiver.receive_start(move |receiver, result| match result {
            Ok(dgram) => {
                println!(
                    "received {:?} from {}",
                    String::from_utf8_lossy(dgram.data),
                    dgram.addr
                );
                received.set(true);
                receiver.close(|| {});
                sender.close(|| {});
                timeout.close(|| {});
            }
            Err(err) => eprintln!("receive error: {err}"),
        })?;
    }

    let message: &[u8] = b"hello, everyone";
    sender.send(&[message], Some(target), move |req, status| match status {
        Ok(()) => println!("sent to {target}"),
        Err(err) => {
            eprintln!("send to {target} failed: {err}");
            // Nothing can arrive now: close every handle, which ends `run`.
            req.handle().get_loop().walk(|h| h.close(|| {}));
        }
    })?;

    {
        let (receiver, sender) = (receiver.clone(), sender.clone());
        timeout.start(TIMEOUT_MS, 0, move |t| {
            eprintln!(
                "nothing arrived within {TIMEOUT_MS} ms: the kernel did not deliver \
                 the broadcast to port {port} (is 127.255.255.255 a broadcast \
                 address of `lo` here? see `ip route show table local`)"
            );
            receiver.close(|| {});
            sender.close(|| {});
            t.close(|| {});
        })?;
    }

    lp.run(RunMode::Default)?;
    lp.close()?;
    Ok(received.get())
}

/// Binds the receiver to the broadcast address itself, so it hears loopback
/// broadcasts only; a socket bound to 127.0.0.1 would hear none, and one
/// bound to 0.0.0.0 would also hear other networks' broadcasts.
fn bind_receiver(lp: &Loop) -> ruv::Result<Udp> {
    let receiver = Udp::new(lp);
    let addr = SocketAddr::from((LOOPBACK_BROADCAST, 0));
    if let Err(err) = receiver.bind(addr, UdpFlags::empty()) {
        println!("cannot bind {addr} ({err}); falling back to 0.0.0.0");
        // A failed bind leaves the socket unbound: the handle may try again.
        let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        receiver.bind(any, UdpFlags::empty())?;
    }
    println!("receiver bound to {}", receiver.sockname()?);
    Ok(receiver)
}
