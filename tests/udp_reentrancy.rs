//! Black-box tests of what UDP callbacks may do to the loop and its
//! handles: close themselves or others, send, stop and restart receiving,
//! start timers, stop the loop, create handles.

mod util;

use ruv::{Error, Idle, Loop, RecvMeta, RunMode, StatusCode, Timer, Udp, UdpFlags};
use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;

fn text(data: &[u8]) -> String {
    String::from_utf8(data.to_vec()).unwrap()
}

/// Sends `payloads` to `to` at once, one datagram each.
fn send_now(from: &Udp, to: SocketAddr, payloads: &[&str]) {
    for p in payloads {
        assert_eq!(from.try_send(&[p.as_bytes()], Some(to)), Ok(p.len()));
    }
}

#[test]
fn close_self_in_receive_callback_stops_all_callbacks() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, saddr) = util::bound_udp(&lp);
    send_now(&sender, raddr, &["a", "b", "c", "d", "e"]);
    let log = util::shared(Vec::new());
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            let d = r.unwrap();
            l.borrow_mut().push(format!("recv {}", text(d.data)));
            // A send made here is written at once; its callback still runs,
            // before the close callback.
            let l2 = l.clone();
            h.send(&[b"bye"], Some(saddr), move |_, st| {
                l2.borrow_mut().push(format!("send {st:?}"));
            })
            .unwrap();
            let l3 = l.clone();
            h.close(move || l3.borrow_mut().push("close".to_string()));
            assert!(h.is_closing());
            assert_eq!(h.sockname(), Err(Error::ClosedHandle));
        })
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec!["recv a", "send Ok(())", "close"]);
    assert!(receiver.is_closed());
    // Nothing more, however long the loop runs.
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(log.borrow().len(), 3);
    util::close_all(&lp, &[&sender]);
}

#[test]
fn close_another_receiving_handle_from_a_receive_callback() {
    let lp = Loop::new().unwrap();
    let (a, aaddr) = util::bound_udp(&lp);
    let (b, baddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    // Both have datagrams waiting, so both may be ready in the same poll.
    send_now(&sender, aaddr, &["to a 1", "to a 2"]);
    send_now(&sender, baddr, &["to b 1", "to b 2"]);
    let received = util::shared(Vec::new());
    let closes = Rc::new(Cell::new(0));
    let both = [a.clone(), b.clone()];
    for h in [&a, &b] {
        let (r, c, both) = (received.clone(), closes.clone(), both.clone());
        h.receive_start(move |_, res| {
            r.borrow_mut().push(text(res.unwrap().data));
            // The first callback closes both handles: no other receive
            // callback may run after that.
            for x in &both {
                let c = c.clone();
                x.close(move || c.set(c.get() + 1));
            }
        })
        .unwrap();
    }
    util::run_guarded(&lp);
    let got = received.borrow().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0] == "to a 1" || got[0] == "to b 1", "{got:?}");
    assert_eq!(closes.get(), 2);
    assert!(a.is_closed() && b.is_closed());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn closing_another_handle_reports_its_sends_first() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (other, _) = util::bound_udp(&lp);
    let (sink, sink_addr) = util::bound_udp(&lp);
    let log = util::shared(Vec::new());
    let other2 = other.clone();
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            l.borrow_mut()
                .push(format!("recv {}", text(r.unwrap().data)));
            // `other` gets a send whose callback has not run, then closes.
            let l2 = l.clone();
            other2
                .send(&[b"x"], Some(sink_addr), move |_, st| {
                    l2.borrow_mut().push(format!("other send {st:?}"));
                })
                .unwrap();
            let l3 = l.clone();
            other2.close(move || l3.borrow_mut().push("other close".to_string()));
            assert_eq!(other2.send_queue_count(), Err(Error::ClosedHandle));
            h.close(|| {});
        })
        .unwrap();
    send_now(&sink, raddr, &["go"]);
    util::run_guarded(&lp);
    assert_eq!(
        *log.borrow(),
        vec!["recv go", "other send Ok(())", "other close"]
    );
    util::close_all(&lp, &[&sink]);
}

#[test]
fn close_receiver_from_a_send_callback_before_it_reads() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    let received = Rc::new(Cell::new(0));
    let r = received.clone();
    receiver
        .receive_start(move |_, _| r.set(r.get() + 1))
        .unwrap();
    let closed = Rc::new(Cell::new(false));
    let (rcv, c) = (receiver.clone(), closed.clone());
    // The datagram is in the receiver's socket before the loop runs, but
    // send callbacks run in the pending phase, before the poll phase.
    sender
        .send(&[b"never read"], Some(raddr), move |_, st| {
            st.unwrap();
            rcv.close(move || c.set(true));
        })
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(received.get(), 0);
    assert!(closed.get());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn echo_from_the_receive_callback() {
    let lp = Loop::new().unwrap();
    let (server, server_addr) = util::bound_udp(&lp);
    server
        .receive_start(|h, r| {
            let d = r.unwrap();
            let mut reply = b"echo: ".to_vec();
            reply.extend_from_slice(d.data);
            // Send straight from the lent data as well as from a copy.
            h.send(&[&reply[..6], d.data], Some(d.addr), |_, st| st.unwrap())
                .unwrap();
        })
        .unwrap();
    let (client, _) = util::bound_udp(&lp);
    let replies = util::shared(Vec::new());
    let (r, srv) = (replies.clone(), server.clone());
    client
        .receive_start(move |h, res| {
            let d = res.unwrap();
            assert_eq!(d.addr, server_addr);
            r.borrow_mut().push(text(d.data));
            if r.borrow().len() == 3 {
                h.close(|| {});
                srv.close(|| {});
            }
        })
        .unwrap();
    send_now(&client, server_addr, &["one", "two", "three"]);
    util::run_guarded(&lp);
    assert_eq!(
        *replies.borrow(),
        vec!["echo: one", "echo: two", "echo: three"]
    );
    lp.close().unwrap();
}

#[test]
fn receive_stop_in_the_callback_stops_the_rest_of_the_batch() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    send_now(&sender, raddr, &["0", "1", "2", "3", "4"]);
    let log = util::shared(Vec::new());
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            l.borrow_mut().push(text(r.unwrap().data));
            h.receive_stop().unwrap();
            assert!(!h.is_receiving());
        })
        .unwrap();
    // An idle handle keeps the loop turning while the receiver is stopped.
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    for _ in 0..4 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*log.borrow(), vec!["0"]);
    assert!(!receiver.is_active());
    idle.close(|| {});
    // Started again, it gets the rest in order.
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            l.borrow_mut().push(text(r.unwrap().data));
            if l.borrow().len() == 5 {
                h.close(|| {});
            }
        })
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec!["0", "1", "2", "3", "4"]);
    util::close_all(&lp, &[&sender]);
}

#[test]
fn restart_receiving_with_a_new_callback_from_the_callback() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    send_now(&sender, raddr, &["0", "1", "2", "3"]);
    let log = util::shared(Vec::new());
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            l.borrow_mut()
                .push(format!("first {}", text(r.unwrap().data)));
            h.receive_stop().unwrap();
            let l2 = l.clone();
            h.receive_start(move |h2, r2| {
                l2.borrow_mut()
                    .push(format!("second {}", text(r2.unwrap().data)));
                if l2.borrow().len() == 4 {
                    h2.close(|| {});
                }
            })
            .unwrap();
        })
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(
        *log.borrow(),
        vec!["first 0", "second 1", "second 2", "second 3"]
    );
    util::close_all(&lp, &[&sender]);
}

#[test]
fn start_a_timer_from_a_receive_callback() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    let log = util::shared(Vec::new());
    let l = log.clone();
    receiver
        .receive_start(move |h, r| {
            l.borrow_mut()
                .push(format!("recv {}", text(r.unwrap().data)));
            h.receive_stop().unwrap();
            let timer = Timer::new(h.get_loop());
            let (l2, h2) = (l.clone(), h.clone());
            timer
                .start(1, 0, move |t| {
                    l2.borrow_mut().push("timer".to_string());
                    t.close(|| {});
                    h2.close(|| {});
                })
                .unwrap();
            assert!(timer.is_active());
        })
        .unwrap();
    send_now(&sender, raddr, &["tick"]);
    util::run_guarded(&lp);
    assert_eq!(*log.borrow(), vec!["recv tick", "timer"]);
    assert!(receiver.is_closed());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn stop_the_loop_from_a_send_callback() {
    let lp = Loop::new().unwrap();
    // A receiving handle keeps the loop alive indefinitely.
    let (receiver, raddr) = util::bound_udp(&lp);
    receiver.receive_start(|_, _| {}).unwrap();
    let (sender, _) = util::bound_udp(&lp);
    let calls = Rc::new(Cell::new(0));
    let (c, l) = (calls.clone(), lp.clone());
    sender
        .send(&[b"stop"], Some(raddr), move |_, st| {
            st.unwrap();
            c.set(c.get() + 1);
            l.stop();
        })
        .unwrap();
    let dog = util::watchdog(&lp, 10_000);
    // Stopped while still alive: run returns true.
    assert!(lp.run(RunMode::Default).unwrap());
    assert_eq!(calls.get(), 1);
    assert!(lp.alive());
    dog.close(|| {});
    util::close_all(&lp, &[&receiver, &sender]);
}

#[test]
fn loop_is_busy_inside_a_receive_callback() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    let checked = Rc::new(Cell::new(false));
    let c = checked.clone();
    receiver
        .receive_start(move |h, _| {
            let lp = h.get_loop();
            assert_eq!(
                lp.run(RunMode::NoWait),
                Err(Error::Status(StatusCode::EBUSY))
            );
            assert_eq!(lp.close(), Err(Error::Status(StatusCode::EBUSY)));
            c.set(true);
            h.close(|| {});
        })
        .unwrap();
    send_now(&sender, raddr, &["x"]);
    util::run_guarded(&lp);
    assert!(checked.get());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn create_and_use_a_new_handle_from_a_receive_callback() {
    let lp = Loop::new().unwrap();
    let (server, server_addr) = util::bound_udp(&lp);
    let (client, client_addr) = util::bound_udp(&lp);
    let created: util::Shared<Option<(Udp, SocketAddr)>> = util::shared(None);
    let log = util::shared(Vec::new());
    let (cr, l) = (created.clone(), log.clone());
    server
        .receive_start(move |h, r| {
            let d = r.unwrap();
            l.borrow_mut()
                .push(format!("server got {} from client", text(d.data)));
            assert_eq!(d.addr, client_addr);
            // A fresh handle answers from its own port.
            let fresh = Udp::new(h.get_loop());
            fresh.bind(util::any_v4(), UdpFlags::empty()).unwrap();
            let fresh_addr = fresh.sockname().unwrap();
            let l2 = l.clone();
            fresh
                .receive_start(move |f, r| {
                    let d = r.unwrap();
                    assert_eq!(d.addr, client_addr);
                    l2.borrow_mut().push(format!("fresh got {}", text(d.data)));
                    f.close(|| {});
                })
                .unwrap();
            fresh
                .send(&[b"hello from fresh"], Some(d.addr), |_, st| st.unwrap())
                .unwrap();
            *cr.borrow_mut() = Some((fresh, fresh_addr));
            h.close(|| {});
        })
        .unwrap();
    let (l, cr) = (log.clone(), created.clone());
    client
        .receive_start(move |h, r| {
            let d = r.unwrap();
            let fresh_addr = cr.borrow().as_ref().unwrap().1;
            assert_eq!(d.addr, fresh_addr);
            l.borrow_mut().push(format!("client got {}", text(d.data)));
            h.send(&[b"thanks"], Some(fresh_addr), |req, st| {
                st.unwrap();
                req.handle().close(|| {});
            })
            .unwrap();
        })
        .unwrap();
    send_now(&client, server_addr, &["hi"]);
    util::run_guarded(&lp);
    assert_eq!(
        *log.borrow(),
        vec![
            "server got hi from client",
            "client got hello from fresh",
            "fresh got thanks",
        ]
    );
    let (fresh, _) = created.borrow_mut().take().unwrap();
    assert!(fresh.is_closed());
    assert!(client.is_closed());
    lp.close().unwrap();
}

#[test]
fn close_self_in_a_send_callback_still_reports_the_other_sends() {
    let lp = Loop::new().unwrap();
    let (sink, sink_addr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    let log = util::shared(Vec::new());
    let mut ids = Vec::new();
    for i in 0..3 {
        let l = log.clone();
        let req = sender
            .send(&[b"x"], Some(sink_addr), move |req, st| {
                l.borrow_mut().push(format!("send {i} {st:?}"));
                if i == 0 {
                    let l2 = l.clone();
                    req.handle()
                        .close(move || l2.borrow_mut().push("close".to_string()));
                    // A closing handle refuses new sends.
                    assert!(req
                        .handle()
                        .send(&[b"late"], Some(sink_addr), |_, _| panic!("late send"))
                        .is_err());
                }
            })
            .unwrap();
        ids.push(req.id());
    }
    util::run_guarded(&lp);
    assert_eq!(
        *log.borrow(),
        vec!["send 0 Ok(())", "send 1 Ok(())", "send 2 Ok(())", "close"]
    );
    assert!(sender.is_closed());
    util::close_all(&lp, &[&sink]);
}

#[test]
fn chain_sends_from_send_callbacks() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, saddr) = util::bound_udp(&lp);
    let received = util::shared(Vec::new());
    let r = received.clone();
    receiver
        .receive_start(move |h, res| {
            let d = res.unwrap();
            assert_eq!(d.addr, saddr);
            r.borrow_mut().push(text(d.data));
            if r.borrow().len() == 5 {
                h.close(|| {});
            }
        })
        .unwrap();

    fn send_next(udp: &Udp, to: SocketAddr, n: u32, ids: util::Shared<Vec<u64>>) {
        let payload = n.to_string();
        let ids2 = ids.clone();
        let req = udp
            .send(&[payload.as_bytes()], Some(to), move |req, st| {
                st.unwrap();
                assert_eq!(req.handle().send_queue_count(), Ok(0));
                if n < 4 {
                    send_next(req.handle(), to, n + 1, ids2);
                } else {
                    req.handle().close(|| {});
                }
            })
            .unwrap();
        ids.borrow_mut().push(req.id());
    }
    let ids = util::shared(Vec::new());
    send_next(&sender, raddr, 0, ids.clone());
    util::run_guarded(&lp);
    assert_eq!(*received.borrow(), vec!["0", "1", "2", "3", "4"]);
    let ids = ids.borrow();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(sender.is_closed());
    lp.close().unwrap();
}

#[test]
fn close_the_handle_from_its_allocator() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    send_now(&sender, raddr, &["unread"]);
    let allocs = Rc::new(Cell::new(0));
    let results = util::shared(Vec::new());
    let closed = Rc::new(Cell::new(false));
    let (a, c) = (allocs.clone(), closed.clone());
    let r = results.clone();
    receiver
        .receive_start_with(
            move |h: &Udp, _| {
                a.set(a.get() + 1);
                let c = c.clone();
                h.close(move || c.set(true));
                vec![0u8; 32]
            },
            move |_, res: ruv::Result<RecvMeta>, buf: Vec<u8>| {
                r.borrow_mut().push((res, buf.len()));
            },
        )
        .unwrap();
    util::run_guarded(&lp);
    // The buffer comes back unused with (0, None); nothing else happens.
    assert_eq!(allocs.get(), 1);
    assert_eq!(
        *results.borrow(),
        vec![(
            Ok(RecvMeta {
                len: 0,
                addr: None,
                flags: UdpFlags::empty()
            }),
            32
        )]
    );
    assert!(closed.get());
    util::close_all(&lp, &[&sender]);
}

#[test]
fn receive_stop_from_the_allocator_returns_the_buffer() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, saddr) = util::bound_udp(&lp);
    send_now(&sender, raddr, &["kept"]);
    let results = util::shared(Vec::new());
    let r = results.clone();
    receiver
        .receive_start_with(
            |h: &Udp, _| {
                h.receive_stop().unwrap();
                vec![0u8; 16]
            },
            move |_, res: ruv::Result<RecvMeta>, _buf: Vec<u8>| {
                r.borrow_mut().push(res);
            },
        )
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(
        *results.borrow(),
        vec![Ok(RecvMeta {
            len: 0,
            addr: None,
            flags: UdpFlags::empty()
        })]
    );
    // The datagram was not consumed.
    let got = util::shared(Vec::new());
    let g = got.clone();
    receiver
        .receive_start(move |h, res| {
            let d = res.unwrap();
            g.borrow_mut().push((text(d.data), d.addr));
            h.close(|| {});
        })
        .unwrap();
    util::run_guarded(&lp);
    assert_eq!(*got.borrow(), vec![("kept".to_string(), saddr)]);
    util::close_all(&lp, &[&sender]);
}

#[test]
fn restarting_from_the_callback_keeps_the_read_budget() {
    let lp = Loop::new().unwrap();
    let (receiver, raddr) = util::bound_udp(&lp);
    let (sender, _) = util::bound_udp(&lp);
    for i in 0..70u32 {
        sender
            .try_send(&[i.to_string().as_bytes()], Some(raddr))
            .unwrap();
    }
    let log = util::shared(Vec::new());

    // Every callback stops receiving and starts again with a fresh one.
    fn start(udp: &Udp, log: util::Shared<Vec<String>>) {
        udp.receive_start(move |h, r| {
            log.borrow_mut().push(text(r.unwrap().data));
            h.receive_stop().unwrap();
            start(h, log.clone());
        })
        .unwrap();
    }
    start(&receiver, log.clone());
    let mut per_run = Vec::new();
    for _ in 0..4 {
        let before = log.borrow().len();
        lp.run(RunMode::NoWait).unwrap();
        per_run.push(log.borrow().len() - before);
    }
    assert_eq!(per_run, vec![32, 32, 6, 0]);
    let want: Vec<String> = (0..70u32).map(|i| i.to_string()).collect();
    assert_eq!(*log.borrow(), want);
    util::close_all(&lp, &[&receiver, &sender]);
}
