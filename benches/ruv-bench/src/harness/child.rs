//! A benchmark program running as a child process: its stdout read line by
//! line with timeouts, its stderr kept for error messages, killed if it
//! outlives its deadline.

use crate::kv::Params;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Keep this much of a child's stderr for error messages.
const STDERR_TAIL: usize = 2000;

/// A running child.
#[derive(Debug)]
pub struct Running {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Running {
    /// Starts `argv`; `name` labels its errors.
    pub fn spawn(name: &str, argv: &[OsString]) -> Result<Running, String> {
        let (program, args) = argv.split_first().ok_or("empty command")?;
        let mut child = Command::new(program)
            .args(args)
            // `cargo run` puts target/<profile>/deps on LD_LIBRARY_PATH,
            // where uv-compat's `libuv.so.1` link sits: the system-libuv
            // program would load uv-compat instead. No program here needs
            // the variable (uv-compat's has an rpath).
            .env_remove("LD_LIBRARY_PATH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{name}: cannot start {}: {e}", program.to_string_lossy()))?;
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr_reader = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
                if s.len() > 2 * STDERR_TAIL {
                    let cut = s.len() - STDERR_TAIL;
                    let cut = (cut..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                    s.drain(..cut);
                }
            }
        });
        Ok(Running {
            name: name.to_string(),
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            stderr_reader: Some(stderr_reader),
        })
    }

    /// Waits up to `timeout` for a line `KIND k=v ...` and returns its
    /// pairs; other lines are skipped.
    pub fn expect(&mut self, kind: &str, timeout: Duration) -> Result<Params, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some((k, params)) = Params::parse_line(&line) {
                        if k == kind {
                            return Ok(params);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(self.failure(&format!("no {kind} line within {timeout:?}")))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.child.wait();
                    return Err(self.failure(&format!("ended without a {kind} line")));
                }
            }
        }
    }

    /// The port of the `READY port=N` line.
    pub fn ready(&mut self, timeout: Duration) -> Result<u16, String> {
        let p = self.expect("READY", timeout)?;
        Ok(p.require("port")? as u16)
    }

    /// Writes a line to the child's stdin.
    pub fn send_line(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        writeln!(stdin, "{line}")
            .and_then(|_| stdin.flush())
            .map_err(|e| format!("{}: cannot write to stdin: {e}", self.name))
    }

    /// Waits for the `RESULT` line and a clean exit.
    pub fn result(mut self, timeout: Duration) -> Result<Params, String> {
        let started = Instant::now();
        let params = self.expect("RESULT", timeout)?;
        self.finish(timeout.saturating_sub(started.elapsed()) + Duration::from_secs(2))?;
        Ok(params)
    }

    /// Waits up to `timeout` for the child to exit with status 0; kills it
    /// otherwise.
    pub fn finish(&mut self, timeout: Duration) -> Result<(), String> {
        self.stdin = None;
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(self.failure(&format!("exited with {status}")));
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    self.kill();
                    return Err(self.failure(&format!("still running after {timeout:?}; killed")));
                }
                Err(e) => return Err(format!("{}: wait: {e}", self.name)),
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// An error message with the tail of the child's stderr.
    fn failure(&mut self, what: &str) -> String {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            if let Some(reader) = self.stderr_reader.take() {
                let _ = reader.join();
            }
        }
        let err = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let tail: Vec<&str> = err.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        if tail.is_empty() {
            format!("{}: {what}", self.name)
        } else {
            format!("{}: {what}; stderr: {}", self.name, tail.join(" | "))
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}
