//! `subprocess_exec` / `subprocess_shell`, `SubprocessTransport` and
//! `SubprocessProtocol`: pipes, devnull, inherited and given descriptors,
//! stderr into stdout, cwd, env, signals, close, and the order of the
//! callbacks (CPython's `test_subprocess.py`, in our words).

mod stream_common;

use ruv::endpoint::{
    subprocess_exec, subprocess_shell, SubprocessOptions, SubprocessProtocol, SubprocessStdio,
    SubprocessTransport,
};
use ruv::{Error, Loop, StatusCode};
use std::cell::RefCell;
use std::rc::Rc;
use stream_common::{error_name, run_to_end, run_until, Log};

type MadeHook = Box<dyn FnMut(&SubprocessTransport)>;

/// Logs `made`, `data FD "text"`, `pipe_lost FD None|NAME`, `exited`,
/// `lost`; keeps the output of each descriptor.
#[derive(Default)]
struct Child {
    log: Log,
    out: [Vec<u8>; 3],
    transport: Option<SubprocessTransport>,
    on_made: Option<MadeHook>,
    on_exited: Option<MadeHook>,
}

impl Child {
    fn new(log: &Log) -> Child {
        Child {
            log: log.clone(),
            ..Child::default()
        }
    }
}

impl SubprocessProtocol for Child {
    fn connection_made(&mut self, t: &SubprocessTransport) {
        self.log.borrow_mut().push("made".into());
        self.transport = Some(t.clone());
        if let Some(h) = &mut self.on_made {
            h(t);
        }
    }

    fn pipe_data_received(&mut self, fd: i32, data: &[u8]) {
        self.log
            .borrow_mut()
            .push(format!("data {fd} {:?}", String::from_utf8_lossy(data)));
        self.out[fd as usize].extend_from_slice(data);
    }

    fn pipe_connection_lost(&mut self, fd: i32, err: Option<Error>) {
        let e = err.map_or("None".to_string(), |e| error_name(&e));
        self.log.borrow_mut().push(format!("pipe_lost {fd} {e}"));
    }

    fn process_exited(&mut self) {
        let t = self.transport.clone().unwrap();
        let rc = t.get_returncode();
        self.log.borrow_mut().push(format!("exited {rc:?}"));
        if let Some(h) = &mut self.on_exited {
            h(&t);
        }
    }

    fn connection_lost(&mut self, err: Option<Error>) {
        assert!(err.is_none());
        self.log.borrow_mut().push("lost".into());
        self.transport = None;
    }
}

type Started = Rc<RefCell<Option<(SubprocessTransport, Rc<RefCell<Child>>)>>>;

fn shell(lp: &Loop, cmd: &str, options: SubprocessOptions, child: Child) -> Started {
    let out: Started = Default::default();
    let o = out.clone();
    subprocess_shell(
        lp,
        move || child,
        cmd,
        options,
        move |r| {
            *o.borrow_mut() = Some(r.unwrap());
        },
    );
    out
}

/// The transport `started` holds (its callback must have run).
fn transport(started: &Started) -> SubprocessTransport {
    started.borrow().as_ref().unwrap().0.clone()
}

/// The entries of `log` about descriptor `fd`, in order.
fn of_fd(log: &Log, fd: i32) -> Vec<String> {
    let data = format!("data {fd} ");
    let lost = format!("pipe_lost {fd} ");
    log.borrow()
        .iter()
        .filter(|e| e.starts_with(&data) || e.starts_with(&lost))
        .cloned()
        .collect()
}

/// `made` first, `lost` last, exactly once each, `exited` once.
fn check_frame(log: &Log) {
    let log = log.borrow();
    assert_eq!(log.first().unwrap(), "made", "{log:?}");
    assert_eq!(log.last().unwrap(), "lost", "{log:?}");
    assert_eq!(log.iter().filter(|e| *e == "made").count(), 1);
    assert_eq!(log.iter().filter(|e| *e == "lost").count(), 1);
    assert_eq!(log.iter().filter(|e| e.starts_with("exited")).count(), 1);
}

#[test]
fn cat_echoes_stdin_and_everything_is_reported_in_order() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child {
        on_made: Some(Box::new(|t| {
            let stdin = t.get_pipe_transport(0).unwrap();
            stdin.write(b"hello child").unwrap();
            stdin.write_eof().unwrap();
        })),
        ..Child::new(&log)
    };
    let started: Started = Default::default();
    let s = started.clone();
    subprocess_exec(
        &lp,
        move || child,
        "cat",
        Vec::<String>::new(),
        SubprocessOptions::default(),
        move |r| {
            let (t, p) = r.unwrap();
            assert!(t.get_pid() > 0);
            assert!(t.get_pipe_transport(1).is_some());
            assert!(t.get_pipe_transport(2).is_some());
            assert!(t.get_pipe_transport(3).is_none());
            assert!(t.get_pipe_transport(-1).is_none());
            *s.borrow_mut() = Some((t, p));
        },
    );
    run_to_end(&lp);
    check_frame(&log);
    let (t, p) = started.borrow_mut().take().unwrap();
    assert_eq!(p.borrow().out[1], b"hello child");
    assert_eq!(t.get_returncode(), Some(0));
    assert_eq!(of_fd(&log, 0), ["pipe_lost 0 None"]);
    let fd1 = of_fd(&log, 1);
    assert_eq!(fd1.last().unwrap(), "pipe_lost 1 None");
    assert!(fd1[..fd1.len() - 1]
        .iter()
        .all(|e| e.starts_with("data 1 ")));
    assert_eq!(of_fd(&log, 2), ["pipe_lost 2 None"]);
    assert!(log.borrow().contains(&"exited Some(0)".to_string()));
}

#[test]
fn shell_output_on_both_descriptors_and_the_exit_code() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child::new(&log);
    let started = shell(
        &lp,
        "echo out; echo err >&2; exit 3",
        SubprocessOptions::default(),
        child,
    );
    run_to_end(&lp);
    check_frame(&log);
    let (t, p) = started.borrow_mut().take().unwrap();
    assert_eq!(t.get_returncode(), Some(3));
    assert_eq!(p.borrow().out[1], b"out\n");
    assert_eq!(p.borrow().out[2], b"err\n");
    assert_eq!(of_fd(&log, 1), ["data 1 \"out\\n\"", "pipe_lost 1 None"]);
    assert_eq!(of_fd(&log, 2), ["data 2 \"err\\n\"", "pipe_lost 2 None"]);
}

#[test]
fn stderr_into_stdout_and_devnull() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child::new(&log);
    let opts = SubprocessOptions::default()
        .with_stdin(SubprocessStdio::DevNull)
        .with_stderr(SubprocessStdio::Stdout);
    let started = shell(
        &lp,
        "echo to-err >&2; read x || echo stdin-empty",
        opts,
        child,
    );
    run_until(&lp, || started.borrow().is_some());
    {
        let t = transport(&started);
        assert!(t.get_pipe_transport(0).is_none());
        assert!(t.get_pipe_transport(2).is_none());
    }
    run_to_end(&lp);
    check_frame(&log);
    let (_, p) = started.borrow_mut().take().unwrap();
    assert_eq!(p.borrow().out[1], b"to-err\nstdin-empty\n");
    assert!(p.borrow().out[2].is_empty());
    assert!(of_fd(&log, 0).is_empty());
    assert!(of_fd(&log, 2).is_empty());
}

#[test]
fn stdout_to_a_given_descriptor() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let path = std::env::temp_dir().join(format!("ruv-subprocess-{}.out", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    use std::os::fd::AsRawFd;
    let opts = SubprocessOptions::default().with_stdout(SubprocessStdio::Fd(file.as_raw_fd()));
    let child = Child::new(&log);
    let _started = shell(&lp, "echo into-file", opts, child);
    run_to_end(&lp);
    drop(file);
    assert_eq!(std::fs::read(&path).unwrap(), b"into-file\n");
    std::fs::remove_file(&path).unwrap();
    check_frame(&log);
    assert!(of_fd(&log, 1).is_empty());
}

#[test]
fn cwd_and_env() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let dir = std::env::temp_dir().canonicalize().unwrap();
    let opts = SubprocessOptions::default()
        .with_cwd(&dir)
        .with_env([("RUV_TEST_VALUE", "from-env"), ("PATH", "/usr/bin:/bin")]);
    let child = Child::new(&log);
    let started = shell(
        &lp,
        "pwd; echo $RUV_TEST_VALUE; echo ${HOME:-no-home}",
        opts,
        child,
    );
    run_to_end(&lp);
    let (_, p) = started.borrow_mut().take().unwrap();
    let want = format!("{}\nfrom-env\nno-home\n", dir.display());
    assert_eq!(String::from_utf8_lossy(&p.borrow().out[1]), want);
}

fn signalled(how: fn(&SubprocessTransport) -> ruv::Result<()>) -> Option<i64> {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child {
        on_made: Some(Box::new(move |t| how(t).unwrap())),
        ..Child::new(&log)
    };
    let opts = SubprocessOptions::default()
        .with_stdout(SubprocessStdio::DevNull)
        .with_stderr(SubprocessStdio::DevNull);
    let started = shell(&lp, "exec sleep 30", opts, child);
    run_to_end(&lp);
    check_frame(&log);
    let (t, _) = started.borrow_mut().take().unwrap();
    t.get_returncode()
}

#[test]
fn kill_terminate_send_signal() {
    assert_eq!(signalled(|t| t.kill()), Some(-9));
    assert_eq!(signalled(|t| t.terminate()), Some(-15));
    assert_eq!(signalled(|t| t.send_signal(libc::SIGHUP)), Some(-1));
    assert_eq!(
        signalled(|t| {
            assert_eq!(t.send_signal(-5).unwrap_err(), StatusCode::EINVAL);
            t.kill()
        }),
        Some(-9)
    );
}

#[test]
fn close_kills_a_running_child() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child {
        on_made: Some(Box::new(|t| {
            t.close();
            assert!(t.is_closing());
            // As asyncio's `close` (base_subprocess.py): the pipes are
            // closing but still there, and the process is kept until
            // `connection_lost`, so a signal is no error yet.
            let stdin = t.get_pipe_transport(0).unwrap();
            assert!(stdin.is_closing());
            t.kill().unwrap();
            t.terminate().unwrap();
        })),
        ..Child::new(&log)
    };
    let started = shell(&lp, "exec sleep 30", SubprocessOptions::default(), child);
    run_to_end(&lp);
    check_frame(&log);
    let (t, _) = started.borrow_mut().take().unwrap();
    assert_eq!(t.get_returncode(), Some(-9));
    // After `connection_lost`: asyncio's ProcessLookupError.
    assert_eq!(t.kill().unwrap_err(), StatusCode::ESRCH);
}

/// CPython's `SubprocessTransportTests.test_proc_exited`: a child that
/// exits by itself ends the transport (`process_exited`, then
/// `connection_lost(None)`) without making it closing; its return code
/// stays, and every signal is then ProcessLookupError (ESRCH).
#[test]
fn after_connection_lost_signals_are_esrch_and_the_return_code_stays() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child::new(&log);
    let opts = SubprocessOptions::default()
        .with_stdin(SubprocessStdio::DevNull)
        .with_stdout(SubprocessStdio::DevNull)
        .with_stderr(SubprocessStdio::DevNull);
    let started = shell(&lp, "exit 6", opts, child);
    run_to_end(&lp);
    assert_eq!(*log.borrow(), vec!["made", "exited Some(6)", "lost"]);
    let (t, _) = started.borrow_mut().take().unwrap();
    assert_eq!(t.get_returncode(), Some(6));
    assert!(!t.is_closing());
    assert_eq!(t.send_signal(libc::SIGTERM).unwrap_err(), StatusCode::ESRCH);
    assert_eq!(t.terminate().unwrap_err(), StatusCode::ESRCH);
    assert_eq!(t.kill().unwrap_err(), StatusCode::ESRCH);
    t.close();
    assert_eq!(t.get_returncode(), Some(6));
}

#[test]
fn close_after_exit_does_not_kill_and_signals_after_exit_do_nothing() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child {
        // `connection_lost` comes after `process_exited`: the process is
        // still known, and signals do nothing.
        on_exited: Some(Box::new(|t| {
            assert_eq!(t.get_returncode(), Some(5));
            t.kill().unwrap();
            t.terminate().unwrap();
        })),
        ..Child::new(&log)
    };
    let opts = SubprocessOptions::default().with_stdin(SubprocessStdio::DevNull);
    let started = shell(&lp, "exit 5", opts, child);
    run_until(&lp, || log.borrow().iter().any(|e| e.starts_with("exited")));
    let t = transport(&started);
    assert_eq!(t.get_returncode(), Some(5));
    t.close();
    run_to_end(&lp);
    check_frame(&log);
    assert_eq!(t.get_returncode(), Some(5));
    assert_eq!(t.kill().unwrap_err(), StatusCode::ESRCH);
}

#[test]
fn a_program_that_does_not_exist_is_enoent_and_makes_no_protocol() {
    let lp = Loop::new().unwrap();
    let made = Rc::new(RefCell::new(false));
    let m = made.clone();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let factory = move || {
        *m.borrow_mut() = true;
        Child::default()
    };
    subprocess_exec(
        &lp,
        factory,
        "/nonexistent/ruv-no-such-program",
        ["x"],
        SubprocessOptions::default(),
        move |r| {
            *o.borrow_mut() = Some(r.map(|_| ()).unwrap_err().code());
        },
    );
    run_to_end(&lp);
    assert_eq!(*out.borrow(), Some(StatusCode::ENOENT));
    assert!(!*made.borrow());
}

#[test]
fn stdout_redirect_to_stdin_is_einval() {
    let lp = Loop::new().unwrap();
    let out = Rc::new(RefCell::new(None));
    let o = out.clone();
    let opts = SubprocessOptions::default().with_stdout(SubprocessStdio::Stdout);
    subprocess_shell(&lp, Child::default, "true", opts, move |r| {
        *o.borrow_mut() = Some(r.map(|_| ()).unwrap_err().code());
    });
    run_to_end(&lp);
    assert_eq!(*out.borrow(), Some(StatusCode::EINVAL));
}

#[test]
fn reading_stdout_after_the_process_exited() {
    // The child exits before its output is read: every byte still comes.
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child::new(&log);
    let started = shell(
        &lp,
        "head -c 100000 /dev/zero",
        SubprocessOptions::default(),
        child,
    );
    run_until(&lp, || started.borrow().is_some());
    {
        let t = transport(&started);
        t.get_pipe_transport(1).unwrap().pause_reading();
    }
    run_until(&lp, || log.borrow().iter().any(|e| e.starts_with("exited")));
    {
        let t = transport(&started);
        t.get_pipe_transport(1).unwrap().resume_reading();
    }
    run_to_end(&lp);
    check_frame(&log);
    let (_, p) = started.borrow_mut().take().unwrap();
    assert_eq!(p.borrow().out[1].len(), 100_000);
}

#[test]
fn stdin_broken_pipe_is_reported_on_descriptor_0() {
    // The child exits without reading its stdin while a megabyte waits.
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child {
        on_made: Some(Box::new(|t| {
            let stdin = t.get_pipe_transport(0).unwrap();
            // More than a socket buffer: part of it waits, or the send
            // fails at once if the child is already gone.
            stdin.write(&vec![b'z'; 1 << 20]).unwrap();
        })),
        ..Child::new(&log)
    };
    let opts = SubprocessOptions::default()
        .with_stdout(SubprocessStdio::DevNull)
        .with_stderr(SubprocessStdio::DevNull);
    let _started = shell(&lp, "exit 0", opts, child);
    run_to_end(&lp);
    check_frame(&log);
    assert_eq!(of_fd(&log, 0), ["pipe_lost 0 EPIPE"]);
}

#[test]
fn stdin_pause_and_resume_writing_reach_the_protocol() {
    #[derive(Default)]
    struct Flow {
        log: Log,
        transport: Option<SubprocessTransport>,
    }
    impl SubprocessProtocol for Flow {
        fn connection_made(&mut self, t: &SubprocessTransport) {
            self.transport = Some(t.clone());
            let stdin = t.get_pipe_transport(0).unwrap();
            stdin.write(&vec![b'q'; 1 << 20]).unwrap();
            stdin.write_eof().unwrap();
        }
        fn pause_writing(&mut self) {
            self.log.borrow_mut().push("pause".into());
        }
        fn resume_writing(&mut self) {
            self.log.borrow_mut().push("resume".into());
        }
        fn pipe_data_received(&mut self, _fd: i32, data: &[u8]) {
            let n: usize = data.len();
            self.log.borrow_mut().push(format!("read {n}"));
        }
        fn connection_lost(&mut self, _err: Option<Error>) {
            self.log.borrow_mut().push("lost".into());
            self.transport = None;
        }
    }
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let l = log.clone();
    let opts = SubprocessOptions::default().with_stderr(SubprocessStdio::DevNull);
    subprocess_shell(
        &lp,
        move || Flow {
            log: l,
            transport: None,
        },
        "wc -c",
        opts,
        |r| {
            r.unwrap();
        },
    );
    run_to_end(&lp);
    let log = log.borrow();
    assert_eq!(log[0], "pause");
    assert_eq!(log[1], "resume");
    assert_eq!(log.last().unwrap(), "lost");
    let total: String = log
        .iter()
        .filter_map(|e| e.strip_prefix("read "))
        .collect::<Vec<_>>()
        .join(",");
    assert!(!total.is_empty());
}

#[test]
fn a_walk_that_closes_every_handle_still_ends_the_transport_once() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let child = Child::new(&log);
    let started = shell(&lp, "exec sleep 30", SubprocessOptions::default(), child);
    run_until(&lp, || started.borrow().is_some());
    let t = transport(&started);
    let pid = t.get_pid();
    lp.walk(|h| {
        if !h.is_closing() {
            h.close(|| {});
        }
    });
    // The loop still reaps the child once it exits.
    ruv::kill(pid, libc::SIGKILL).unwrap();
    run_to_end(&lp);
    let log = log.borrow();
    assert_eq!(log.first().unwrap(), "made");
    assert_eq!(log.last().unwrap(), "lost");
    assert_eq!(log.iter().filter(|e| *e == "lost").count(), 1);
    // The exit was never reported to the transport.
    assert!(!log.iter().any(|e| e.starts_with("exited")));
    assert_eq!(t.get_returncode(), None);
    assert!(t.is_closing());
}

#[test]
fn nul_bytes_in_arguments_or_environment_are_einval() {
    let lp = Loop::new().unwrap();
    let errs = Rc::new(RefCell::new(Vec::new()));
    let e = errs.clone();
    subprocess_exec(
        &lp,
        Child::default,
        "echo",
        ["a\0b"],
        SubprocessOptions::default(),
        move |r| {
            e.borrow_mut().push(r.map(|_| ()).unwrap_err().code());
        },
    );
    let e = errs.clone();
    let opts = SubprocessOptions::default().with_env([("K", "v\0w")]);
    subprocess_exec(&lp, Child::default, "echo", ["x"], opts, move |r| {
        e.borrow_mut().push(r.map(|_| ()).unwrap_err().code());
    });
    run_to_end(&lp);
    assert_eq!(*errs.borrow(), vec![StatusCode::EINVAL, StatusCode::EINVAL]);
}

/// `test_subprocess.py`'s `test_communicate` with an input larger than
/// the pipes hold, ended by closing stdin's transport while the child
/// still reads: `close` writes what is buffered first, so the child reads
/// all of it, then its end of stream, and exits 0.
#[test]
fn closing_stdin_while_the_child_reads_delivers_everything_first() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let input: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let data = input.clone();
    let child = Child {
        on_made: Some(Box::new(move |t| {
            let stdin = t.get_pipe_transport(0).unwrap();
            stdin.write(&data).unwrap();
            // More than the socket pair holds: the rest waits in the
            // transport's buffer while `cat` reads.
            assert!(stdin.get_write_buffer_size() > 0);
            stdin.close();
        })),
        ..Child::new(&log)
    };
    let started: Started = Default::default();
    let s = started.clone();
    subprocess_exec(
        &lp,
        move || child,
        "cat",
        Vec::<String>::new(),
        SubprocessOptions::default(),
        move |r| *s.borrow_mut() = Some(r.unwrap()),
    );
    run_to_end(&lp);
    check_frame(&log);
    let (t, p) = started.borrow_mut().take().unwrap();
    assert!(p.borrow().out[1] == input, "stdout differs from the input");
    assert_eq!(t.get_returncode(), Some(0));
    assert_eq!(
        of_fd(&log, 0),
        ["pipe_lost 0 None"],
        "stdin's transport closed cleanly"
    );
}
