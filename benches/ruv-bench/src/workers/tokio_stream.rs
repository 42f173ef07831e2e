//! The stream, process and signal scenarios on tokio's current-thread
//! runtime, `.await` style: a task per connection, `read().await` and
//! `write_all().await`; `tokio::process` and `tokio::signal`.

use super::common::{port_addr, ready, unix_kind, BATCH_DATA, PAYLOAD, PUMP_CHUNK};
use super::{exit_with, Outcome};
use crate::kv::Params;
use crate::measure::{cpu_ns, status_kb};
use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::runtime::Builder;
use tokio::task::{self, LocalSet};

/// Runs `scenario` if it is one of this module's; `None` otherwise.
pub fn run(scenario: &str, p: &Params) -> Option<Outcome> {
    let known = [
        "echo-server",
        "pingpong-stream",
        "pump-send",
        "write-batch",
        "pound",
        "idle-server",
        "spawn",
        "signal-latency",
        "signal-burst",
    ];
    if !known.contains(&scenario) {
        return None;
    }
    let rt = match Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return Some(Err(e.into())),
    };
    let local = LocalSet::new();
    Some(local.block_on(&rt, async {
        match scenario {
            "echo-server" => echo_server(p).await,
            "pingpong-stream" => pingpong_stream(p).await,
            "pump-send" => pump_send(p).await,
            "write-batch" => write_batch(p).await,
            "pound" => pound(p).await,
            "idle-server" => idle_server(p).await,
            "spawn" => spawn(p).await,
            "signal-latency" => signal_latency(p).await,
            _ => signal_burst(p).await,
        }
    }))
}

async fn listener() -> io::Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0").await
}

/// Echoes `s` until its end, telling `on_data` each read's length.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    on_data: impl Fn(usize),
) -> io::Result<()> {
    let mut buf = vec![0u8; 65536];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        on_data(n);
        s.write_all(&buf[..n]).await?;
    }
}

async fn echo_server(p: &Params) -> Outcome {
    let conns = p.u64("conns", 1);
    let l = listener().await?;
    ready(l.local_addr()?.port());
    let echoed = Rc::new(Cell::new(0u64));
    let start = Rc::new(Cell::new(None::<(Instant, u64)>));
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        let (e, st) = (echoed.clone(), start.clone());
        tasks.push(task::spawn_local(async move {
            echo(s, |n| {
                if st.get().is_none() {
                    st.set(Some((Instant::now(), cpu_ns())));
                }
                e.set(e.get() + n as u64);
            })
            .await
        }));
    }
    for t in tasks {
        t.await??;
    }
    let (t1, c1) = (Instant::now(), cpu_ns());
    let (ns, cpu) = start
        .get()
        .map_or((0, 0), |(t0, c0)| ((t1 - t0).as_nanos() as u64, c1 - c0));
    Ok(vec![
        ("echoes", echoed.get() / PAYLOAD.len() as u64),
        ("cpu_ns", cpu),
        ("ns", ns),
    ])
}

/// The pinging side: 64 B out, 64 B back, until `ms` passed.
async fn ping<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, ms: u64) -> io::Result<(u64, u64)> {
    let mut buf = [0u8; 64];
    let start = Instant::now();
    let end = start + Duration::from_millis(ms);
    let mut trips = 0u64;
    loop {
        s.write_all(PAYLOAD).await?;
        s.read_exact(&mut buf).await?;
        trips += 1;
        if Instant::now() >= end {
            return Ok((trips, start.elapsed().as_nanos() as u64));
        }
    }
}

async fn pingpong_stream(p: &Params) -> Outcome {
    let ms = p.u64("duration_ms", 1000);
    let (trips, ns) = if unix_kind(p) {
        let path = p
            .str("path")
            .ok_or("pingpong-stream: kind=unix needs path=")?;
        let _ = std::fs::remove_file(path);
        let l = UnixListener::bind(path)?;
        let client = UnixStream::connect(path).await?;
        let (server, _) = l.accept().await?;
        let echoer = task::spawn_local(echo(server, |_| {}));
        let r = ping(client, ms).await?;
        echoer.await??;
        let _ = std::fs::remove_file(path);
        r
    } else {
        let l = listener().await?;
        let client = TcpStream::connect(l.local_addr()?).await?;
        client.set_nodelay(true)?;
        let (server, _) = l.accept().await?;
        server.set_nodelay(true)?;
        let echoer = task::spawn_local(echo(server, |_| {}));
        let r = ping(client, ms).await?;
        echoer.await??;
        r
    };
    Ok(vec![("round_trips", trips), ("ns", ns)])
}

/// Writes 64 KiB chunks for `ms`, then shuts down. A tokio stream has one
/// writer: `write_all` one chunk after the other (the callback loops keep
/// a few writes in flight instead).
async fn pump<S: AsyncWrite + Unpin>(mut s: S, ms: u64) -> io::Result<Vec<(&'static str, u64)>> {
    let chunk = vec![b'p'; PUMP_CHUNK];
    let (t0, c0) = (Instant::now(), cpu_ns());
    let end = t0 + Duration::from_millis(ms);
    let mut bytes = 0u64;
    while Instant::now() < end {
        s.write_all(&chunk).await?;
        bytes += chunk.len() as u64;
    }
    s.shutdown().await?;
    Ok(vec![
        ("bytes", bytes),
        ("cpu_ns", cpu_ns() - c0),
        ("ns", t0.elapsed().as_nanos() as u64),
    ])
}

async fn pump_send(p: &Params) -> Outcome {
    let ms = p.u64("duration_ms", 1000);
    if unix_kind(p) {
        let path = p.str("path").ok_or("pump-send: kind=unix needs path=")?;
        Ok(pump(UnixStream::connect(path).await?, ms).await?)
    } else {
        Ok(pump(TcpStream::connect(port_addr(p)?).await?, ms).await?)
    }
}

/// tokio queues no writes: each of the `count` writes is a `write_all`.
async fn write_batch(p: &Params) -> Outcome {
    let count = p.u64("count", 1_000_000);
    let start = Instant::now();
    let mut s = TcpStream::connect(port_addr(p)?).await?;
    for _ in 0..count {
        s.write_all(BATCH_DATA).await?;
    }
    s.shutdown().await?;
    Ok(vec![
        ("writes", count),
        ("ns", start.elapsed().as_nanos() as u64),
    ])
}

async fn pound(p: &Params) -> Outcome {
    let conns = p.u64("conns", 100);
    let ms = p.u64("duration_ms", 1000);
    let l = listener().await?;
    let addr = l.local_addr()?;
    let acceptor = task::spawn_local(async move {
        loop {
            if let Ok((s, _)) = l.accept().await {
                drop(s);
            }
        }
    });
    let done = Rc::new(Cell::new(0u64));
    let start = Instant::now();
    let end = start + Duration::from_millis(ms);
    let mut clients = Vec::new();
    for _ in 0..conns {
        let d = done.clone();
        clients.push(task::spawn_local(async move {
            while Instant::now() < end {
                drop(TcpStream::connect(addr).await?);
                d.set(d.get() + 1);
            }
            Ok::<(), io::Error>(())
        }));
    }
    for c in clients {
        c.await??;
    }
    let ns = start.elapsed().as_nanos() as u64;
    acceptor.abort();
    Ok(vec![("connections", done.get()), ("ns", ns)])
}

async fn idle_server(p: &Params) -> Outcome {
    let conns = p.u64("conns", 10_000);
    let l = listener().await?;
    let base_kb = status_kb("VmRSS:");
    ready(l.local_addr()?.port());
    for _ in 0..conns {
        let (mut s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        task::spawn_local(async move {
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
        });
    }
    // Let every task reach its first read, as the other servers have
    // started reading on every connection.
    task::yield_now().await;
    exit_with(&[
        ("conns", conns),
        ("base_kb", base_kb),
        ("rss_kb", status_kb("VmRSS:")),
        ("hwm_kb", status_kb("VmHWM:")),
    ]);
}

async fn spawn(p: &Params) -> Outcome {
    let count = p.u64("count", 1000);
    let start = Instant::now();
    for _ in 0..count {
        let mut child = tokio::process::Command::new("/bin/true")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let mut out = child.stdout.take().ok_or("no stdout")?;
        let mut sink = Vec::new();
        out.read_to_end(&mut sink).await?;
        let status = child.wait().await?;
        if !status.success() {
            return Err(format!("/bin/true ended with {status}").into());
        }
    }
    Ok(vec![
        ("spawns", count),
        ("ns", start.elapsed().as_nanos() as u64),
    ])
}

fn self_kill() -> io::Result<()> {
    nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGUSR1)
        .map_err(io::Error::from)
}

async fn signal_latency(p: &Params) -> Outcome {
    use tokio::signal::unix::{signal, SignalKind};
    let count = p.u64("count", 100_000);
    let mut sig = signal(SignalKind::user_defined1())?;
    let start = Instant::now();
    for _ in 0..count {
        self_kill()?;
        sig.recv().await.ok_or("signal stream ended")?;
    }
    Ok(vec![
        ("signals", count),
        ("ns", start.elapsed().as_nanos() as u64),
    ])
}

async fn signal_burst(p: &Params) -> Outcome {
    use tokio::signal::unix::{signal, SignalKind};
    let count = p.u64("count", 1000);
    let mut sig = signal(SignalKind::user_defined1())?;
    let start = Instant::now();
    for _ in 0..count {
        self_kill()?;
    }
    let mut seen = 0u64;
    let mut last = start;
    // tokio coalesces: wait until nothing more comes for 10 ms.
    while seen < count {
        match tokio::time::timeout(Duration::from_millis(10), sig.recv()).await {
            Ok(Some(())) => {
                seen += 1;
                last = Instant::now();
            }
            _ => break,
        }
    }
    Ok(vec![
        ("sent", count),
        ("signals", seen),
        ("ns", (last - start).as_nanos() as u64),
    ])
}
