//! The process cases of `process.rs` on loops that reap their children on
//! `SIGCHLD` (by pid, through the signal machinery), as ruv does where the
//! kernel has no pidfds or a seccomp filter refuses them; plus what is
//! particular to that fallback: other children of the program are left
//! alone, and many loops share the signal.

fn new_loop() -> ruv::Loop {
    let lp = ruv::Loop::new().unwrap();
    lp.reap_with_sigchld();
    lp
}

include!("util/process_cases.rs");

/// The disposition of `SIGCHLD` right now: whether a handler (ours) is
/// installed rather than the default.
fn sigchld_is_handled() -> bool {
    // SAFETY: querying a disposition into zeroed storage.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(
            libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut old),
            0
        );
        old.sa_sigaction != libc::SIG_DFL
    }
}

#[test]
fn the_loop_watches_sigchld_while_it_has_a_child() {
    let lp = new_loop();
    let exits = Exits::default();
    Process::spawn(&lp, &sh("exit 4"), record(&exits)).unwrap();
    // Exited or not, the child is the loop's until it reaps it, and the
    // signal that tells it so has a handler until then.
    assert!(sigchld_is_handled());
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*exits.borrow(), vec![(4, 0)]);
}

#[test]
fn the_programs_own_children_are_left_to_it() {
    // A child of the program, not of the loop: it exits first and stays a
    // zombie the loop must not take (no `waitpid(-1)`), while the loop's
    // own child is still reaped by pid.
    let mut own = std::process::Command::new("true").spawn().unwrap();
    let own_pid = own.id() as i32;
    let lp = new_loop();
    let exits = Exits::default();
    let p = Process::spawn(&lp, &sh("sleep 0.05; exit 5"), record(&exits)).unwrap();
    assert_ne!(p.pid().unwrap(), own_pid);
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*exits.borrow(), vec![(5, 0)]);
    // Still ours to wait for, with its status.
    assert!(own.wait().unwrap().success());
}

#[test]
fn loops_on_many_threads_each_reap_their_own() {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let lp = new_loop();
                let exits = Exits::default();
                for n in 0..5 {
                    let code = t * 10 + n;
                    Process::spawn(&lp, &sh(&format!("exit {code}")), record(&exits)).unwrap();
                }
                lp.run(RunMode::Default).unwrap();
                let mut got: Vec<i64> = exits.borrow().iter().map(|e| e.0).collect();
                got.sort_unstable();
                assert_eq!(got, (0..5).map(|n| t * 10 + n).collect::<Vec<i64>>());
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_sigchld_handle_and_the_reaping_share_the_signal() {
    // The program's own SIGCHLD handle, started before the child and kept
    // after the loop stopped watching for it, still gets the signal.
    let lp = new_loop();
    let seen = Rc::new(RefCell::new(0u32));
    let s = ruv::Signal::new(&lp);
    let exits = Exits::default();
    let n = seen.clone();
    s.start(libc::SIGCHLD, move |_, _| *n.borrow_mut() += 1)
        .unwrap();
    Process::spawn(&lp, &sh("exit 3"), record(&exits)).unwrap();
    while exits.borrow().is_empty() {
        lp.run(RunMode::Once).unwrap();
    }
    assert_eq!(*exits.borrow(), vec![(3, 0)]);
    let before = *seen.borrow();
    ruv::raise(libc::SIGCHLD).unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(
        *seen.borrow(),
        before + 1,
        "the handle still watches SIGCHLD"
    );
    s.close(|| {});
    lp.run(RunMode::Default).unwrap();
}
