//! The `tracing` feature: what ruv reports to a subscriber (target
//! `"ruv"`): handle open and close (debug), each loop iteration (trace),
//! errors delivered to callbacks (debug). A minimal recording subscriber,
//! installed for this thread only, so the test runs beside others.
#![cfg(feature = "tracing")]

mod util;

use ruv::{Idle, Loop, RunMode, StatusCode, Timer, Udp, UdpFlags};
use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One recorded event: level, target, message, then the other fields in
/// order as `name=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Recorded {
    level: Level,
    target: String,
    text: String,
}

#[derive(Clone, Default)]
struct Recorder {
    events: Arc<Mutex<Vec<Recorded>>>,
}

/// Writes `message` first, then ` name=value` per field.
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.rest += &format!(" {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields {
            message: String::new(),
            rest: String::new(),
        };
        event.record(&mut fields);
        self.events.lock().unwrap().push(Recorded {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            text: fields.message + &fields.rest,
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Runs `f` with a recording subscriber on this thread; returns what it
/// recorded as `"LEVEL text"` lines.
fn recorded(f: impl FnOnce()) -> Vec<String> {
    let recorder = Recorder::default();
    let events = recorder.events.clone();
    tracing::subscriber::with_default(recorder, f);
    let events = events.lock().unwrap();
    events
        .iter()
        .map(|e| {
            assert_eq!(e.target, "ruv");
            format!("{} {}", e.level, e.text)
        })
        .collect()
}

#[test]
fn open_iteration_and_close_are_reported() {
    let lp = Loop::with_manual_clock().unwrap();
    let (mut idle_id, mut timer_id) = (0, 0);
    let log = recorded(|| {
        let idle = Idle::new(&lp);
        idle.start(|i| i.close(|| {})).unwrap();
        let timer = Timer::new(&lp);
        timer.start(5, 0, |t| t.close(|| {})).unwrap();
        (idle_id, timer_id) = (idle.id(), timer.id());
        assert_eq!(lp.run(RunMode::Default), Ok(false));
    });
    assert_eq!(
        log,
        vec![
            format!("DEBUG handle opened handle={idle_id} handle_type=\"idle\""),
            format!("DEBUG handle opened handle={timer_id} handle_type=\"timer\""),
            // Iteration 1: the idle watcher closes itself; the poll phase
            // may not block while it is closing.
            "TRACE loop iteration iteration=1".to_string(),
            format!("DEBUG handle closing handle={idle_id} handle_type=\"idle\""),
            "TRACE poll phase timeout_ms=0".to_string(),
            format!("DEBUG handle closed handle={idle_id} handle_type=\"idle\""),
            // Iteration 2: the poll phase waits for the timer, which then
            // fires and closes itself.
            "TRACE loop iteration iteration=2".to_string(),
            "TRACE poll phase timeout_ms=5".to_string(),
            format!("DEBUG handle closing handle={timer_id} handle_type=\"timer\""),
            "TRACE loop iteration iteration=3".to_string(),
            "TRACE poll phase timeout_ms=0".to_string(),
            format!("DEBUG handle closed handle={timer_id} handle_type=\"timer\""),
        ]
    );
    lp.close().unwrap();
}

/// The `error delivered` lines of a log.
fn errors_reported(log: &[String]) -> Vec<String> {
    log.iter()
        .filter(|l| l.contains("error delivered"))
        .cloned()
        .collect()
}

/// The line for libuv error `name` handed to UDP handle `id`.
fn udp_error(id: u64, name: &str) -> String {
    format!("DEBUG error delivered handle={id} handle_type=\"udp\" error=\"{name}\"")
}

#[test]
fn an_error_delivered_to_a_receive_callback_is_reported() {
    let lp = Loop::new().unwrap();
    // A port nobody listens on: bound, then closed.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Udp::new(&lp);
    client.bind(util::any_v4(), UdpFlags::empty()).unwrap();
    client.connect(Some(dead)).unwrap();
    let got = std::rc::Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let id = client.id();
    let log = recorded(|| {
        client
            .receive_start(move |h, r| {
                g.borrow_mut().push(r.map(|d| d.data.to_vec()));
                h.close(|| {});
            })
            .unwrap();
        client.send(&[b"probe"], None, |_, st| st.unwrap()).unwrap();
        util::run_guarded(&lp);
    });
    assert_eq!(
        *got.borrow(),
        vec![Err(ruv::Error::Status(StatusCode::ECONNREFUSED))]
    );
    assert_eq!(errors_reported(&log), vec![udp_error(id, "ECONNREFUSED")]);
    lp.close().unwrap();
}

#[test]
fn a_send_cancelled_by_close_is_reported() {
    let lp = Loop::new().unwrap();
    let receiver = Udp::new(&lp);
    receiver.bind(util::any_v6(), UdpFlags::empty()).unwrap();
    let to = receiver.sockname().unwrap();
    let sender = util::choked_sender(&lp);
    let id = sender.id();
    let statuses = std::rc::Rc::new(RefCell::new(Vec::new()));
    let log = recorded(|| {
        // Too big to leave now: it waits in the queue until the close.
        let big = vec![b'C'; util::CHOKE];
        let s = statuses.clone();
        sender
            .send(&[&big], Some(to), move |_, st| s.borrow_mut().push(st))
            .unwrap();
        sender.close(|| {});
        receiver.close(|| {});
        util::run_guarded(&lp);
    });
    assert_eq!(
        *statuses.borrow(),
        vec![Err(ruv::Error::Status(StatusCode::ECANCELED))]
    );
    assert_eq!(errors_reported(&log), vec![udp_error(id, "ECANCELED")]);
    lp.close().unwrap();
}
