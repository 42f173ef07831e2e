// The cases of tests/process.rs and tests/process_sigchld.rs, included by
// both: each defines `new_loop`, the loop every case runs on.

use ruv::{
    Error, HandleType, Loop, Process, ProcessFlags, ProcessOptions, RunMode, StatusCode, Stdio,
    Timer,
};
use std::cell::RefCell;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;

fn sh(script: &str) -> ProcessOptions {
    ProcessOptions::new("sh").with_args(["sh", "-c", script])
}

type Exits = Rc<RefCell<Vec<(i64, i32)>>>;

fn record(exits: &Exits) -> impl FnOnce(&Process, i64, i32) + 'static {
    let exits = exits.clone();
    move |p, status, signal| {
        assert!(!p.is_active(), "inactive once the child exited");
        exits.borrow_mut().push((status, signal));
        p.close(|| {});
    }
}

/// Runs `script` with its stdout on a socket: the exit and the output.
fn output_of(lp: &Loop, options: ProcessOptions) -> ((i64, i32), String) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let options = options.with_stdio([Stdio::Ignore, Stdio::InheritFd(theirs.as_raw_fd())]);
    let exits = Exits::default();
    Process::spawn(lp, &options, record(&exits)).unwrap();
    drop(theirs);
    let mut out = String::new();
    (&ours).read_to_string(&mut out).unwrap();
    lp.run(RunMode::Default).unwrap();
    let exit = exits.borrow()[0];
    (exit, out)
}

#[test]
fn the_exit_callback_gets_the_status() {
    let lp = new_loop();
    let exits = Exits::default();
    let p = Process::spawn(&lp, &sh("exit 3"), record(&exits)).unwrap();
    assert_eq!(p.handle_type(), HandleType::Process);
    assert_eq!(p.type_name(), "process");
    assert!(p.pid().unwrap() > 0);
    assert!(p.is_active(), "active until the child exits");
    assert!(lp.alive());
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*exits.borrow(), [(3, 0)]);
    lp.close().unwrap();
}

#[test]
fn a_signal_ends_the_child_and_kill_after_the_exit_is_esrch() {
    let lp = new_loop();
    let exits = Exits::default();
    let e = exits.clone();
    let p = Process::spawn(
        &lp,
        &ProcessOptions::new("sleep").with_args(["sleep", "30"]),
        move |p, status, signal| {
            e.borrow_mut().push((status, signal));
            assert_eq!(p.kill(libc::SIGTERM), Err(Error::Status(StatusCode::ESRCH)));
            assert_eq!(p.kill(0), Err(Error::Status(StatusCode::ESRCH)));
            p.close(|| {});
        },
    )
    .unwrap();
    assert_eq!(p.kill(0), Ok(()), "0 checks that it runs");
    p.kill(libc::SIGTERM).unwrap();
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*exits.borrow(), [(0, libc::SIGTERM)]);
}

#[test]
fn exec_failures_are_spawns_error_and_leave_no_handle() {
    let lp = new_loop();
    let fail = |options: &ProcessOptions| {
        Process::spawn(&lp, options, |_, _, _| panic!("no child")).map(drop)
    };
    assert_eq!(
        fail(&ProcessOptions::new("no-such-program-for-ruv")),
        Err(Error::Status(StatusCode::ENOENT))
    );
    assert_eq!(
        fail(&ProcessOptions::new("/nonexistent/prog")),
        Err(Error::Status(StatusCode::ENOENT))
    );
    assert_eq!(
        fail(&ProcessOptions::new("/etc/passwd")),
        Err(Error::Status(StatusCode::EACCES))
    );
    assert_eq!(
        fail(&sh("true").with_cwd("/nonexistent-dir-ruv")),
        Err(Error::Status(StatusCode::ENOENT))
    );
    assert_eq!(lp.handle_count(), 0);
    assert!(!lp.alive());
    lp.close().unwrap();
}

#[test]
fn stdio_environment_and_working_directory() {
    let lp = new_loop();
    let (exit, out) = output_of(&lp, sh("echo hello"));
    assert_eq!((exit, out.as_str()), ((0, 0), "hello\n"));
    let options = sh("echo \"$RUV_VALUE\" \"$(pwd)\"")
        .with_env(["RUV_VALUE=from-the-parent", "PATH=/usr/bin:/bin"])
        .with_cwd("/tmp");
    let (_, out) = output_of(&lp, options);
    assert_eq!(out, "from-the-parent /tmp\n");
    // Without stdio slots the child's 0-2 are /dev/null.
    let (_, out) = output_of(&lp, sh("readlink /proc/self/fd/0"));
    assert_eq!(out, "/dev/null\n");
    lp.close().unwrap();
}

#[test]
fn a_detached_child_leads_its_own_session() {
    let lp = new_loop();
    let options = sh("cut -d' ' -f6 /proc/$$/stat; echo $$").with_flags(ProcessFlags::DETACHED);
    let (_, out) = output_of(&lp, options);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], lines[1], "session id = its pid");
    // The Windows flags are accepted and change nothing.
    let options = sh("exit 0")
        .with_flags(ProcessFlags::WINDOWS_HIDE | ProcessFlags::WINDOWS_VERBATIM_ARGUMENTS);
    let (exit, _) = output_of(&lp, options);
    assert_eq!(exit, (0, 0));
    lp.close().unwrap();
}

#[test]
fn many_children_each_report_their_own_status() {
    let lp = new_loop();
    let exits = Exits::default();
    for i in 0..20 {
        let e = exits.clone();
        Process::spawn(&lp, &sh(&format!("exit {i}")), move |p, status, _| {
            e.borrow_mut().push((status, i));
            p.close(|| {});
        })
        .unwrap();
    }
    lp.run(RunMode::Default).unwrap();
    let mut got = exits.borrow().clone();
    got.sort();
    assert_eq!(got, (0..20).map(|i| (i64::from(i), i)).collect::<Vec<_>>());
}

/// Whether process `pid` still exists, zombie or not.
fn exists(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_child_whose_handle_was_closed_is_still_reaped() {
    let lp = new_loop();
    let p = Process::spawn(&lp, &sh("sleep 0.05"), |_, _, _| {
        panic!("the callback went with the close")
    })
    .unwrap();
    let pid = p.pid().unwrap();
    p.close(|| {});
    assert!(exists(pid));
    // Something else keeps the loop running past the child's exit.
    let timer = Timer::new(&lp);
    let gone = Rc::new(RefCell::new(false));
    let g = gone.clone();
    timer
        .start(20, 20, move |t| {
            if !exists(pid) {
                *g.borrow_mut() = true;
                t.close(|| {});
            }
        })
        .unwrap();
    let watchdog = Timer::new(&lp);
    watchdog.unref();
    watchdog
        .start(10_000, 0, |_| panic!("the child was never reaped"))
        .unwrap();
    lp.run(RunMode::Default).unwrap();
    assert!(*gone.borrow(), "no zombie left behind (libuv#1911)");
    watchdog.close(|| {});
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn an_unreferenced_process_does_not_keep_the_loop_alive() {
    let lp = new_loop();
    let p = Process::spawn(
        &lp,
        &ProcessOptions::new("sleep").with_args(["sleep", "30"]),
        |p, _, signal| {
            assert_eq!(signal, libc::SIGKILL);
            p.close(|| {});
        },
    )
    .unwrap();
    p.unref();
    assert!(!lp.alive());
    assert!(!lp.run(RunMode::Default).unwrap());
    p.ref_();
    p.kill(libc::SIGKILL).unwrap();
    lp.run(RunMode::Default).unwrap();
    assert!(p.is_closed());
}

#[test]
fn a_child_spawned_from_a_callback_reports_too() {
    let lp = new_loop();
    let exits = Exits::default();
    let t = Timer::new(&lp);
    let e = exits.clone();
    t.start(1, 0, move |t| {
        Process::spawn(t.get_loop(), &sh("sleep 0.04; exit 3"), record(&e)).unwrap();
        t.close(|| {});
    })
    .unwrap();
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*exits.borrow(), [(3, 0)]);
}

#[test]
fn created_pipes_carry_the_childs_stdin_stdout_and_stderr() {
    use ruv::{Pipe, ReadResult};
    let lp = new_loop();
    let stdin = Pipe::new(&lp, false);
    let stdout = Pipe::new(&lp, false);
    let stderr = Pipe::new(&lp, false);
    let options = sh("cat; echo done >&2").with_stdio([
        Stdio::CreatePipe(stdin.clone()),
        Stdio::CreatePipe(stdout.clone()),
        Stdio::CreatePipe(stderr.clone()),
    ]);
    let exits = Exits::default();
    Process::spawn(&lp, &options, record(&exits)).unwrap();
    assert!(stdin.is_writable() && stdout.is_readable());
    stdin
        .write(&[b"hello ", b"child"], |_, status| status.unwrap())
        .unwrap();
    stdin
        .shutdown(|p, status| {
            status.unwrap();
            p.close(|| {});
        })
        .unwrap();
    let collect = |pipe: &Pipe| {
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        pipe.read_start(move |p, result| match result {
            ReadResult::Data(data) => g.borrow_mut().extend_from_slice(data),
            ReadResult::Eof => p.close(|| {}),
            other => panic!("{other:?}"),
        })
        .unwrap();
        got
    };
    let out = collect(&stdout);
    let err = collect(&stderr);
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*exits.borrow(), [(0, 0)]);
    assert_eq!(out.borrow().as_slice(), b"hello child");
    assert_eq!(err.borrow().as_slice(), b"done\n");
}

#[test]
fn a_pipe_that_is_not_new_is_einval_and_nothing_starts() {
    use ruv::Pipe;
    let lp = new_loop();
    let (used, peer) = Pipe::pair(&lp).unwrap();
    let options = sh("exit 0").with_stdio([Stdio::CreatePipe(used.clone())]);
    assert_eq!(
        Process::spawn(&lp, &options, |_, _, _| panic!("no child")).map(drop),
        Err(Error::Status(StatusCode::EINVAL))
    );
    let other_loop = new_loop();
    let foreign = Pipe::new(&other_loop, false);
    let options = sh("exit 0").with_stdio([Stdio::CreatePipe(foreign.clone())]);
    assert_eq!(
        Process::spawn(&lp, &options, |_, _, _| panic!("no child")).map(drop),
        Err(Error::Status(StatusCode::EINVAL))
    );
    assert_eq!(lp.handle_count(), 2, "only the pair");
    used.close(|| {});
    peer.close(|| {});
    foreign.close(|| {});
    lp.run(RunMode::Default).unwrap();
    other_loop.run(RunMode::Default).unwrap();
}

/// libuv's `spawn_empty_env`: an empty environment, and the program is
/// still found (on the default path) and sees no variable.
#[test]
fn an_empty_environment_is_empty_and_the_program_still_found() {
    let lp = new_loop();
    let options = ProcessOptions::new("env")
        .with_args(["env"])
        .with_env(Vec::<&str>::new());
    let (exit, out) = output_of(&lp, options);
    assert_eq!((exit, out.as_str()), ((0, 0), ""));
    lp.close().unwrap();
}

#[test]
fn directed_pipes_are_only_readable_or_writable_on_our_side() {
    use ruv::{Pipe, ReadResult};
    let lp = new_loop();
    let to_child = Pipe::new(&lp, false);
    let from_child = Pipe::new(&lp, false);
    let options = sh("read x; echo \"<$x>\"").with_stdio([
        Stdio::CreatePipeDirected {
            pipe: to_child.clone(),
            child_reads: true,
            child_writes: false,
        },
        Stdio::CreatePipeDirected {
            pipe: from_child.clone(),
            child_reads: false,
            child_writes: true,
        },
    ]);
    let exits = Exits::default();
    Process::spawn(&lp, &options, record(&exits)).unwrap();
    assert!(to_child.is_writable() && !to_child.is_readable());
    assert!(from_child.is_readable() && !from_child.is_writable());
    assert!(to_child.read_start(|_, _| {}).is_err());
    assert!(from_child
        .write(&[b"no"], |_, _| panic!("never written"))
        .is_err());
    to_child
        .write(&[b"line\n"], |p, status| {
            status.unwrap();
            p.close(|| {});
        })
        .unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    from_child
        .read_start(move |p, result| match result {
            ReadResult::Data(data) => g.borrow_mut().extend_from_slice(data),
            ReadResult::Eof => p.close(|| {}),
            other => panic!("{other:?}"),
        })
        .unwrap();
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*exits.borrow(), [(0, 0)]);
    assert_eq!(got.borrow().as_slice(), b"<line>\n");
}

#[test]
fn an_ignored_stdin_is_dev_null_for_reading_only() {
    let lp = new_loop();
    let exits = Exits::default();
    // Writing to it fails (EBADF, as with libuv); reading gives EOF.
    Process::spawn(&lp, &sh("echo x >&0"), record(&exits)).unwrap();
    Process::spawn(&lp, &sh("read x; test -z \"$x\""), record(&exits)).unwrap();
    lp.run(RunMode::Default).unwrap();
    let mut got = exits.borrow().clone();
    got.sort_unstable();
    assert_eq!(got, [(0, 0), (1, 0)]);
}

/// A non-blocking descriptor given as the child's stdin or stdout reaches
/// it blocking, as libuv makes 0-2: a child that reads before the data is
/// there waits for it instead of failing with EAGAIN.
#[test]
fn inherited_standard_descriptors_are_blocking_in_the_child() {
    let lp = new_loop();
    let (stdin_r, stdin_w) = ruv::pipe_fds(true, true).unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    theirs.set_nonblocking(true).unwrap();
    let options = sh("read line && echo \"got:$line\"").with_stdio([
        Stdio::InheritFd(stdin_r.as_raw_fd()),
        Stdio::InheritFd(theirs.as_raw_fd()),
    ]);
    let exits = Exits::default();
    Process::spawn(&lp, &options, record(&exits)).unwrap();
    drop((stdin_r, theirs));
    // The child is reading an empty pipe by now (or soon): the data comes
    // later, from a timer.
    let timer = Timer::new(&lp);
    let mut writer = Some(std::fs::File::from(stdin_w));
    timer
        .start(100, 0, move |t| {
            use std::io::Write;
            let mut w = writer.take().unwrap();
            w.write_all(b"hello\n").unwrap();
            t.close(|| {});
        })
        .unwrap();
    lp.run(RunMode::Default).unwrap();
    let mut out = String::new();
    (&ours).read_to_string(&mut out).unwrap();
    assert_eq!(out, "got:hello\n");
    assert_eq!(*exits.borrow(), [(0, 0)]);
}

#[test]
fn a_closed_loop_still_reaps_the_children_of_closed_handles() {
    // `Loop::close` frees buffers, not obligations: a child whose handle
    // was closed is still reaped when the loop runs again.
    let lp = new_loop();
    let p = Process::spawn(&lp, &sh("sleep 0.05"), |_, _, _| {
        panic!("the callback went with the close")
    })
    .unwrap();
    let pid = p.pid().unwrap();
    p.close(|| {});
    lp.run(RunMode::Default).unwrap();
    lp.close().unwrap();
    let timer = Timer::new(&lp);
    timer
        .start(10, 10, move |t| {
            if !exists(pid) {
                t.close(|| {});
            }
        })
        .unwrap();
    let watchdog = Timer::new(&lp);
    watchdog.unref();
    watchdog
        .start(10_000, 0, |_| panic!("the child was never reaped"))
        .unwrap();
    lp.run(RunMode::Default).unwrap();
    assert!(!exists(pid));
    watchdog.close(|| {});
    lp.run(RunMode::Default).unwrap();
}
