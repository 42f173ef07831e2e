//! No allocation per read or per immediate write: an in-loop TCP
//! ping-pong, once warmed up, allocates nothing (callbacks that capture
//! nothing are boxed without an allocation). Alone in its file; it counts
//! the allocations of the test's own thread only (the test harness's main
//! thread allocates now and then while it waits).

mod util;

use ruv::{Loop, ReadResult, RunMode};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use util::tcp::{finish, pair, run_until};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on the thread whose allocations count.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // A const-initialised `Cell` needs no allocation to read.
        if COUNTED.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_warm_ping_pong_allocates_nothing_per_round_trip() {
    let lp = Loop::new().unwrap();
    let (server, client) = pair(&lp);
    server
        .read_start(|tcp, read| {
            if let ReadResult::Data(d) = read {
                tcp.write(&[d], |_, s| s.unwrap()).unwrap();
            }
        })
        .unwrap();
    let rounds = Rc::new(Cell::new(0u32));
    let r = rounds.clone();
    client
        .read_start(move |tcp, read| {
            if let ReadResult::Data(d) = read {
                r.set(r.get() + 1);
                tcp.write(&[d], |_, s| s.unwrap()).unwrap();
            }
        })
        .unwrap();
    client.write(&[b"ping"], |_, s| s.unwrap()).unwrap();
    run_until(&lp, || rounds.get() >= 100);
    let (before, at) = (ALLOCATIONS.load(Ordering::Relaxed), rounds.get());
    COUNTED.with(|c| c.set(true));
    while rounds.get() < at + 1000 {
        lp.run(RunMode::Once).unwrap();
    }
    COUNTED.with(|c| c.set(false));
    let allocated = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(allocated, 0, "allocations in 1000 round trips");
    finish(&lp, &[&server, &client]);
}
