//! Worker threads report progress to the loop thread through an `Async`
//! handle; the loop closes the handle once every worker is done.
//!
//! ```text
//! cargo run --example async_from_thread
//! ```
//!
//! The loop is not `Send`: other threads cannot touch it or its handles.
//! They get an `AsyncSender` (`Send + Sync + Clone`) whose `send()` wakes
//! the loop, and pass the data itself through a channel.

use ruv::{Async, Loop, RunMode};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const WORKERS: usize = 3;
const STEPS: u32 = 4;

enum Progress {
    Step { worker: usize, step: u32 },
    Done { worker: usize },
}

fn main() -> ruv::Result<()> {
    let lp = Loop::new()?;
    let (tx, rx) = mpsc::channel::<Progress>();
    let wakeups = Rc::new(Cell::new(0u32));
    let messages = Rc::new(Cell::new(0u32));

    let mut done = 0;
    let (w, m) = (wakeups.clone(), messages.clone());
    let progress = Async::new(&lp, move |handle| {
        w.set(w.get() + 1);
        // Sends coalesce: several `send()`s before the loop gets here run
        // this callback once, so drain everything that is queued.
        while let Ok(msg) = rx.try_recv() {
            m.set(m.get() + 1);
            match msg {
                Progress::Step { worker, step } => {
                    println!("worker {worker}: step {step}/{STEPS}")
                }
                Progress::Done { worker } => {
                    done += 1;
                    println!("worker {worker}: done ({done}/{WORKERS})");
                }
            }
        }
        if done == WORKERS {
            // An async handle is active until closed: it alone would keep
            // `run` going forever.
            handle.close(|| println!("async handle closed"));
        }
    });

    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let sender = progress.sender()?;
            let tx = tx.clone();
            Ok(thread::spawn(move || {
                for step in 1..=STEPS {
                    thread::sleep(Duration::from_millis(5 * (worker as u64 + 1)));
                    // Data first, then the wakeup, so the callback finds it.
                    tx.send(Progress::Step { worker, step }).unwrap();
                    sender.send().unwrap();
                }
                tx.send(Progress::Done { worker }).unwrap();
                sender.send().unwrap();
                sender
            }))
        })
        .collect::<ruv::Result<_>>()?;

    lp.run(RunMode::Default)?;
    println!(
        "{} messages arrived in {} wakeups",
        messages.get(),
        wakeups.get()
    );

    let senders: Vec<_> = workers
        .into_iter()
        .map(|w| w.join().expect("worker panicked"))
        .collect();
    // After close, sends fail instead of waking a loop that no longer
    // listens.
    match senders[0].send() {
        Err(err) => println!("send after close: {err}"),
        Ok(()) => println!("send after close: accepted?"),
    }
    lp.close()
}
