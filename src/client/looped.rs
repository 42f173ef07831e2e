//! [`LoopUdpClient`]: the UDP client driven by a ruv [`Loop`], with
//! completion callbacks instead of blocking calls (the counterpart of
//! easynetwork's `AsyncUDPNetworkClient`).
//!
//! # How it works
//!
//! The client is a connected [`Udp`] handle plus one [`Timer`], both owned
//! by the client. Datagrams are read by the loop and parsed at once; each
//! result (a packet, a parse error, a read error) goes to the oldest
//! waiting receive, or into a bounded queue when nobody waits. When the
//! queue is full the handle stops reading and the kernel's socket buffer
//! holds the rest, so memory stays bounded and nothing is dropped by the
//! client itself.
//!
//! The handle is referenced only while a receive waits, so an idle client
//! does not keep [`Loop::run`] from returning. The timer serves both the
//! receive timeouts (armed for the earliest deadline) and results that are
//! ready at once (armed for 0 ms), so no callback ever runs from inside
//! the call that asked for it.
//!
//! Both handles belong to the loop, so `lp.walk(|h| h.close(..))` closes
//! them too. The callbacks the client gives them hold a `Watch`: when
//! the loop drops one because its handle was closed by someone else, the
//! client closes itself as [`LoopUdpClient::close`] would (the way
//! [`DatagramTransport`](crate::endpoint::DatagramTransport) ends when its
//! handle is closed behind it), and what it owes is delivered from a timer
//! of its own. A call that finds a handle closed does the same.

use super::error::{ClientError, ClientResult};
use super::protocol::PacketProtocol;
use crate::error::{Error, StatusCode};
use crate::owed::defer_owed;
use crate::{Datagram, Loop, Timer, Udp, UdpFlags};
use socket2::Socket;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

/// Default bound of the queue of results nobody has asked for yet.
pub const DEFAULT_QUEUE_LIMIT: usize = 64;

/// Options of [`LoopUdpClient::connect_with`].
///
/// `#[non_exhaustive]`: start from [`Default`] and chain the `with_*`
/// setters, so a new option is not a breaking change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoopClientOptions {
    /// Bind to this address before connecting; `None`: the wildcard
    /// address of the remote's family and a free port.
    pub local_address: Option<SocketAddr>,
    /// Most received results (packets or errors) kept while no receive
    /// waits; beyond that the client stops reading and datagrams wait in
    /// the socket's kernel buffer (which drops what does not fit). 0: read
    /// only while a receive waits. Default [`DEFAULT_QUEUE_LIMIT`].
    pub queue_limit: usize,
}

impl Default for LoopClientOptions {
    fn default() -> Self {
        LoopClientOptions {
            local_address: None,
            queue_limit: DEFAULT_QUEUE_LIMIT,
        }
    }
}

impl LoopClientOptions {
    /// Sets `local_address`: bind to it before connecting.
    #[must_use = "a setter returns the changed options"]
    pub fn with_local_address(mut self, addr: SocketAddr) -> LoopClientOptions {
        self.local_address = Some(addr);
        self
    }

    /// Sets `queue_limit`: most results kept while no receive waits.
    #[must_use = "a setter returns the changed options"]
    pub fn with_queue_limit(mut self, limit: usize) -> LoopClientOptions {
        self.queue_limit = limit;
        self
    }
}

type RecvCb<T> = Box<dyn FnOnce(ClientResult<T>)>;

/// A receive waiting for a datagram.
struct Waiter<T> {
    /// Loop time (ms) at which it times out; `None`: never.
    deadline_ms: Option<u64>,
    cb: RecvCb<T>,
}

struct State<T> {
    closed: bool,
    /// Receives waiting for a datagram, oldest first. Non-empty only while
    /// `queue` is empty.
    waiters: VecDeque<Waiter<T>>,
    /// Results nobody asked for yet, oldest first.
    queue: VecDeque<ClientResult<T>>,
    /// Callbacks whose outcome is decided, to be run in this order.
    ready: VecDeque<Box<dyn FnOnce()>>,
    queue_limit: usize,
    /// Due time (loop ms) the timer is armed for.
    timer_due: Option<u64>,
}

struct Shared<P: PacketProtocol> {
    protocol: P,
    lp: Loop,
    udp: Udp,
    timer: Timer,
    state: RefCell<State<P::Packet>>,
}

/// A UDP client on a ruv [`Loop`] (easynetwork's `AsyncUDPNetworkClient`,
/// with callbacks for awaits).
///
/// Same [`PacketProtocol`] as [`UdpClient`](super::UdpClient). Every
/// callback runs exactly once, always from the loop (never from inside the
/// call that registered it), and gets errors as values: a
/// [`ClientError`].
///
/// Like every ruv handle the client lives until it is closed, not until its
/// tokens are dropped (it is a cheap `Clone`): call
/// [`close`](LoopUdpClient::close).
///
/// ```
/// use ruv::client::{LoopUdpClient, TextProtocol};
/// use ruv::{Loop, RunMode, Udp, UdpFlags};
/// use std::time::Duration;
///
/// let lp = Loop::new()?;
/// // An echo server on the same loop.
/// let server = Udp::new(&lp);
/// server.bind("127.0.0.1:0".parse().unwrap(), UdpFlags::empty())?;
/// server.receive_start(|udp, dgram| {
///     let dgram = dgram.unwrap();
///     udp.send(&[dgram.data], Some(dgram.addr), |_, _| {}).unwrap();
/// })?;
///
/// let client = LoopUdpClient::connect(&lp, server.sockname()?, TextProtocol)?;
/// client.send_packet(&"ping".to_string(), |sent| sent.unwrap());
/// let (c, s) = (client.clone(), server.clone());
/// client.recv_packet(Some(Duration::from_secs(5)), move |reply| {
///     assert_eq!(reply.unwrap(), "ping");
///     c.close();
///     s.close(|| {});
/// });
/// lp.run(RunMode::Default)?;
/// assert!(client.is_closed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LoopUdpClient<P: PacketProtocol> {
    shared: Rc<Shared<P>>,
}

impl<P: PacketProtocol> Clone for LoopUdpClient<P> {
    fn clone(&self) -> Self {
        LoopUdpClient {
            shared: self.shared.clone(),
        }
    }
}

impl<P: PacketProtocol> fmt::Debug for LoopUdpClient<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("LoopUdpClient");
        d.field("udp", &self.shared.udp);
        if let Ok(st) = self.shared.state.try_borrow() {
            d.field("closed", &st.closed)
                .field("waiting_receives", &st.waiters.len())
                .field("queued", &st.queue.len());
        }
        d.finish_non_exhaustive()
    }
}

/// Whole milliseconds in `d`, rounded up, saturating.
fn ceil_ms(d: Duration) -> u64 {
    u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// Runs `f` from a timer once `udp`, which is closing, has finished
/// closing: after the closing phase that cancels its queued sends, as its
/// close callback would.
fn after_close(udp: Udp, f: impl FnOnce() + 'static) {
    let lp = udp.get_loop().clone();
    defer_owed(&lp, move || {
        if udp.is_closed() {
            f();
        } else {
            after_close(udp, f);
        }
    });
}

/// Held by the callbacks the client gives its handles. The loop drops a
/// handle's callback when the handle is closed; if someone else closed it
/// (a `Loop::walk` closing every handle), the drop is how the client
/// learns it, and it closes itself so that every callback it owes runs.
struct Watch<P>(Rc<Shared<P>>)
where
    P: PacketProtocol + 'static,
    P::Packet: 'static;

/// The socket's descriptor, or `-1` once the client is closed. Not `AsFd`:
/// [`close`](LoopUdpClient::close) on any clone closes the descriptor while
/// a borrow of this one may still be held.
impl<P: PacketProtocol> AsRawFd for LoopUdpClient<P> {
    fn as_raw_fd(&self) -> RawFd {
        self.shared.udp.as_raw_fd()
    }
}

impl<P> Drop for Watch<P>
where
    P: PacketProtocol + 'static,
    P::Packet: 'static,
{
    fn drop(&mut self) {
        Shared::check_closed(&self.0);
    }
}

impl<P> LoopUdpClient<P>
where
    P: PacketProtocol + 'static,
    P::Packet: 'static,
{
    /// Creates a client connected to `remote` with default options.
    ///
    /// `remote` is a numeric address: resolve host names first (e.g. with
    /// [`std::net::ToSocketAddrs`] off the loop thread, or ruv's resolver).
    /// Errors are those of [`Udp::connect`] as [`ClientError::Os`].
    pub fn connect(lp: &Loop, remote: SocketAddr, protocol: P) -> ClientResult<Self> {
        Self::connect_with(lp, remote, protocol, LoopClientOptions::default())
    }

    /// Creates a client connected to `remote`, bound first to
    /// `options.local_address` if given. On error the handle is closed.
    pub fn connect_with(
        lp: &Loop,
        remote: SocketAddr,
        protocol: P,
        options: LoopClientOptions,
    ) -> ClientResult<Self> {
        let udp = Udp::new(lp);
        let setup = (|| {
            if let Some(local) = options.local_address {
                udp.bind(local, UdpFlags::empty())?;
            }
            udp.connect(Some(remote))
        })();
        if let Err(err) = setup {
            udp.close(|| {});
            return Err(err.into());
        }
        Self::wrap(lp, udp, protocol, options.queue_limit)
    }

    /// Creates a client on an existing, connected IPv4 or IPv6 datagram
    /// socket (see [`Udp::open`]); the client owns it from then on.
    ///
    /// Errors: ENOTCONN for an unconnected socket; EINVAL for one that is
    /// not an IPv4/IPv6 datagram socket; the socket is closed on error.
    pub fn from_socket<S: Into<Socket>>(lp: &Loop, socket: S, protocol: P) -> ClientResult<Self> {
        let udp = Udp::from_socket(lp, socket.into())?;
        match udp.is_connected() {
            Ok(true) => Self::wrap(lp, udp, protocol, DEFAULT_QUEUE_LIMIT),
            Ok(false) => {
                udp.close(|| {});
                Err(ClientError::Os(StatusCode::ENOTCONN))
            }
            Err(err) => {
                udp.close(|| {});
                Err(err.into())
            }
        }
    }

    fn wrap(lp: &Loop, udp: Udp, protocol: P, queue_limit: usize) -> ClientResult<Self> {
        let shared = Rc::new(Shared {
            protocol,
            lp: lp.clone(),
            udp,
            timer: Timer::new(lp),
            state: RefCell::new(State {
                closed: false,
                waiters: VecDeque::new(),
                queue: VecDeque::new(),
                ready: VecDeque::new(),
                queue_limit,
                timer_due: None,
            }),
        });
        Shared::sync(&shared);
        Ok(LoopUdpClient { shared })
    }

    /// Sends `packet` as one datagram; `cb` gets `Ok(())` once it is sent,
    /// or the error: [`ClientError::Closed`], [`ClientError::Serialize`]
    /// (nothing was sent), or [`ClientError::Os`] (e.g. ECONNREFUSED;
    /// ECANCELED when the client is closed before a queued send went out).
    ///
    /// As easynetwork does, the socket's pending error (`SO_ERROR`) is read
    /// — and so cleared — right after the datagram went out: one
    /// `getsockopt` per send. On a connected socket an ICMP port-unreachable
    /// leaves ECONNREFUSED there; on loopback the kernel answers within the
    /// send itself, so the very send whose datagram drew the refusal
    /// reports it (its datagram did go out), and the error is consumed: a
    /// later receive does not see it.
    ///
    /// The datagram goes out at once, without a copy, when nothing else is
    /// queued and the socket takes it; `cb` then runs from the client's
    /// timer. Otherwise it is copied and queued (see [`Udp::send`]) and
    /// `SO_ERROR` is read when it has gone out, as `cb` runs; a datagram
    /// the loop reads meanwhile may take the error first (a waiting receive
    /// then gets it).
    pub fn send_packet(&self, packet: &P::Packet, cb: impl FnOnce(ClientResult<()>) + 'static) {
        let shared = &self.shared;
        if Shared::check_closed(shared) {
            return after_close(shared.udp.clone(), move || cb(Err(ClientError::Closed)));
        }
        let datagram = match shared.protocol.serialize(packet) {
            Ok(datagram) => datagram,
            Err(err) => {
                let err = ClientError::Serialize {
                    message: err.into_message(),
                };
                return Shared::post(shared, Box::new(move || cb(Err(err))));
            }
        };
        let result = match shared.udp.try_send(&[&*datagram], None) {
            Ok(_) => shared.socket_error(),
            Err(err) if err == StatusCode::EAGAIN => {
                return Shared::send_queued(shared, &datagram, Box::new(cb));
            }
            Err(Error::ClosedHandle) => {
                // Closed by someone else: the client closes now, so the
                // callback is deferred (`post` on a closed client).
                Shared::check_closed(shared);
                Err(ClientError::Closed)
            }
            Err(err) => Err(err.into()),
        };
        Shared::post(shared, Box::new(move || cb(result)));
    }

    /// Receives the next packet; `cb` gets it or the error.
    ///
    /// - A result already queued (read by the loop while nobody waited) is
    ///   delivered in the next timer phase.
    /// - Otherwise `None` waits as long as it takes; `Some(t)` waits at
    ///   most `t` (rounded up to whole ms, counted from the loop's cached
    ///   time like a [`Timer`]), then [`ClientError::Timeout`];
    ///   `Some(Duration::ZERO)` does not wait: [`ClientError::Timeout`]
    ///   at once (in the next timer phase). A datagram the loop has not
    ///   read yet counts as not arrived.
    ///
    /// Any number of receives may wait; datagrams go to them in the order
    /// they were made (a FIFO), and callbacks run in the order their
    /// outcome was decided.
    ///
    /// Errors: [`ClientError::Closed`] (also for receives still waiting
    /// when the client is closed, or when a [`Loop::walk`] closes its
    /// handles); [`ClientError::Timeout`];
    /// [`ClientError::Parse`] for a datagram that is not a packet (it is
    /// consumed: the next receive gets the next datagram);
    /// [`ClientError::Os`] for a read error such as ECONNREFUSED after an
    /// ICMP port-unreachable that no send reported (see
    /// [`send_packet`](LoopUdpClient::send_packet)).
    pub fn recv_packet(
        &self,
        timeout: Option<Duration>,
        cb: impl FnOnce(ClientResult<P::Packet>) + 'static,
    ) {
        let shared = &self.shared;
        let cb: RecvCb<P::Packet> = Box::new(cb);
        if Shared::check_closed(shared) {
            return after_close(shared.udp.clone(), move || cb(Err(ClientError::Closed)));
        }
        let now = shared.lp.now();
        {
            let mut st = shared.state.borrow_mut();
            if let Some(result) = st.queue.pop_front() {
                st.ready.push_back(Box::new(move || cb(result)));
            } else if timeout == Some(Duration::ZERO) {
                st.ready
                    .push_back(Box::new(move || cb(Err(ClientError::Timeout))));
            } else {
                let deadline_ms = timeout.map(|t| now.saturating_add(ceil_ms(t)));
                st.waiters.push_back(Waiter { deadline_ms, cb });
            }
        }
        Shared::sync(shared);
    }

    /// Closes the client; calling it again does nothing. Its handles are
    /// closed at once; in the loop's closing phase, callbacks whose outcome
    /// was already decided run, then every receive still waiting gets
    /// [`ClientError::Closed`]. Sends still queued in the handle complete
    /// with ECANCELED (see [`Udp::send`]). Packets queued for nobody are
    /// dropped.
    ///
    /// A client whose handles are closed by someone else — a
    /// [`Loop::walk`] closing every handle — closes itself the same way and
    /// in the same order, except that the decided callbacks and the waiting
    /// receives run from a timer of their own (the handle's close callback
    /// is not the client's) once the handle has finished closing. Calls
    /// made after a close get [`ClientError::Closed`] the same way.
    pub fn close(&self) {
        Shared::close(&self.shared);
    }

    /// Whether the client is closed: [`close`](LoopUdpClient::close) was
    /// called, or its handles were closed by someone else.
    pub fn is_closed(&self) -> bool {
        Shared::check_closed(&self.shared)
    }

    /// The local address; [`ClientError::Closed`] once closed.
    pub fn local_address(&self) -> ClientResult<SocketAddr> {
        Ok(self.shared.udp.sockname()?)
    }

    /// The remote endpoint's address; [`ClientError::Closed`] once closed.
    pub fn remote_address(&self) -> ClientResult<SocketAddr> {
        Ok(self.shared.udp.peername()?)
    }

    /// The socket's descriptor; [`ClientError::Closed`] once closed.
    pub fn fileno(&self) -> ClientResult<RawFd> {
        Ok(self.shared.udp.fileno()?)
    }

    /// Receives waiting for a datagram.
    pub fn waiting_receives(&self) -> usize {
        self.shared.state.borrow().waiters.len()
    }

    /// Results (packets or errors) read while no receive waited.
    pub fn queued(&self) -> usize {
        self.shared.state.borrow().queue.len()
    }

    /// The loop the client runs on.
    pub fn get_loop(&self) -> &Loop {
        &self.shared.lp
    }

    /// The client's protocol.
    pub fn protocol(&self) -> &P {
        &self.shared.protocol
    }
}

impl<P> Shared<P>
where
    P: PacketProtocol + 'static,
    P::Packet: 'static,
{
    /// Closes the client (see [`LoopUdpClient::close`]).
    fn close(this: &Rc<Self>) {
        let (ready, waiters, queue) = {
            let mut st = this.state.borrow_mut();
            if st.closed {
                return;
            }
            st.closed = true;
            st.timer_due = None;
            (
                std::mem::take(&mut st.ready),
                std::mem::take(&mut st.waiters),
                std::mem::take(&mut st.queue),
            )
        };
        // Packets are user values: dropped with no borrow held.
        drop(queue);
        this.timer.close(|| {});
        let deliver = move || {
            for f in ready {
                f();
            }
            for waiter in waiters {
                (waiter.cb)(Err(ClientError::Closed));
            }
        };
        if this.udp.is_closing() {
            // Closed by someone else: its close callback is not ours.
            after_close(this.udp.clone(), deliver);
        } else {
            this.udp.close(deliver);
        }
    }

    /// Whether the client is closed. A handle closed by someone else
    /// closes the client first, so that nothing it owes is lost.
    fn check_closed(this: &Rc<Self>) -> bool {
        // Never borrowed when a handle drops a callback (no handle call is
        // made under a borrow of the state); if it were, the next call
        // would notice instead.
        let Ok(closed) = this.state.try_borrow().map(|st| st.closed) else {
            return false;
        };
        if closed {
            return true;
        }
        if this.udp.is_closing() || this.timer.is_closing() {
            Shared::close(this);
            return true;
        }
        false
    }

    /// Takes the socket's pending error (`SO_ERROR`, cleared by reading
    /// it): one `getsockopt`.
    fn socket_error(&self) -> ClientResult<()> {
        let fd = self.udp.fileno()?;
        match crate::sys::get_int_option(fd, libc::SOL_SOCKET, libc::SO_ERROR) {
            Ok(0) => Ok(()),
            Ok(errno) => Err(io::Error::from_raw_os_error(errno).into()),
            Err(err) => Err(err.into()),
        }
    }

    /// Queues a datagram the socket cannot take now; `cb` runs when it went
    /// out (with the socket's pending error, if any) or failed.
    fn send_queued(this: &Rc<Self>, datagram: &[u8], cb: Box<dyn FnOnce(ClientResult<()>)>) {
        // `Udp::send` drops its callback when it fails at once; keep a way
        // back to `cb` so that it still runs, with the error.
        let slot = Rc::new(Cell::new(Some(cb)));
        let in_send = slot.clone();
        let shared = this.clone();
        let sent = this.udp.send(&[datagram], None, move |_, status| {
            if let Some(cb) = in_send.take() {
                cb(status
                    .map_err(ClientError::from)
                    .and_then(|()| shared.socket_error()));
            }
        });
        if let Err(err) = sent {
            if let Some(cb) = slot.take() {
                let err = ClientError::from(err);
                Shared::post(this, Box::new(move || cb(Err(err))));
            }
        }
    }

    /// Queues a callback whose outcome is decided; it runs from the timer.
    fn post(this: &Rc<Self>, f: Box<dyn FnOnce()>) {
        let closed = {
            let mut st = this.state.borrow_mut();
            if !st.closed {
                st.ready.push_back(f);
                None
            } else {
                Some(f)
            }
        };
        match closed {
            None => Shared::sync(this),
            Some(f) => after_close(this.udp.clone(), f),
        }
    }

    /// One datagram (or read error) from the loop.
    fn on_datagram(this: &Rc<Self>, result: crate::Result<Datagram<'_>>) {
        let result = match result {
            // Cannot happen with 64 KiB receive chunks and UDP's limit
            // of 65,527 bytes (without jumbograms).
            Ok(dgram) if dgram.flags.contains(UdpFlags::PARTIAL) => {
                Err(ClientError::Os(StatusCode::EMSGSIZE))
            }
            Ok(dgram) => this
                .protocol
                .deserialize(dgram.data)
                .map_err(|err| ClientError::Parse {
                    message: err.into_message(),
                    datagram_len: dgram.data.len(),
                }),
            Err(err) => Err(ClientError::from(err)),
        };
        {
            let mut st = this.state.borrow_mut();
            if st.closed {
                return;
            }
            match st.waiters.pop_front() {
                Some(waiter) => st.ready.push_back(Box::new(move || (waiter.cb)(result))),
                None => st.queue.push_back(result),
            }
        }
        Shared::run_ready(this);
        Shared::sync(this);
    }

    /// The timer: expire waiters past their deadline, run ready callbacks.
    fn on_timer(this: &Rc<Self>) {
        let now = this.lp.now();
        {
            let mut st = this.state.borrow_mut();
            st.timer_due = None;
            let mut i = 0;
            while i < st.waiters.len() {
                if st.waiters[i].deadline_ms.is_some_and(|due| due <= now) {
                    if let Some(waiter) = st.waiters.remove(i) {
                        st.ready
                            .push_back(Box::new(move || (waiter.cb)(Err(ClientError::Timeout))));
                    }
                } else {
                    i += 1;
                }
            }
        }
        Shared::run_ready(this);
        Shared::sync(this);
    }

    /// Runs the callbacks that were ready when it started, in order, with
    /// no borrow held. Ones added meanwhile wait for the timer, so a
    /// callback that keeps asking for what is ready at once cannot keep
    /// the loop in one phase.
    fn run_ready(this: &Rc<Self>) {
        let count = this.state.borrow().ready.len();
        for _ in 0..count {
            let next = this.state.borrow_mut().ready.pop_front();
            match next {
                Some(f) => f(),
                None => break,
            }
        }
    }

    /// Brings the handle and the timer in line with the state: read while
    /// a receive waits or the queue has room; referenced while a receive
    /// waits; the timer armed for ready callbacks (0 ms) or the earliest
    /// deadline.
    fn sync(this: &Rc<Self>) {
        let (want_reading, want_ref) = {
            let st = this.state.borrow();
            if st.closed {
                return;
            }
            let waiting = !st.waiters.is_empty();
            (waiting || st.queue.len() < st.queue_limit, waiting)
        };
        if want_ref {
            this.udp.ref_();
        } else {
            this.udp.unref();
        }
        if want_reading != this.udp.is_receiving() {
            if want_reading {
                let watch = Watch(this.clone());
                let started = this
                    .udp
                    .receive_start(move |_, result| Shared::on_datagram(&watch.0, result));
                match started {
                    Ok(()) => {}
                    Err(Error::ClosedHandle) => {
                        Shared::check_closed(this);
                        return;
                    }
                    // The waiting receives cannot be served: they get the
                    // error (from the timer, armed below).
                    Err(err) => Shared::fail_waiters(this, ClientError::from(err)),
                }
            } else {
                let _ = this.udp.receive_stop();
            }
        }
        let now = this.lp.now();
        let due = {
            let mut st = this.state.borrow_mut();
            let due = if !st.ready.is_empty() {
                Some(now)
            } else {
                st.waiters.iter().filter_map(|w| w.deadline_ms).min()
            };
            if due == st.timer_due {
                return;
            }
            st.timer_due = due;
            due
        };
        match due {
            Some(due) => {
                let watch = Watch(this.clone());
                let started = this.timer.start(due.saturating_sub(now), 0, move |_| {
                    Shared::on_timer(&watch.0);
                });
                if started.is_err() {
                    // Only a closed timer refuses to start.
                    Shared::check_closed(this);
                }
            }
            None => {
                let _ = this.timer.stop();
            }
        }
    }

    /// Gives every waiting receive `err` (the handle could not read).
    fn fail_waiters(this: &Rc<Self>, err: ClientError) {
        let mut st = this.state.borrow_mut();
        let waiters = std::mem::take(&mut st.waiters);
        for waiter in waiters {
            let err = err.clone();
            st.ready.push_back(Box::new(move || (waiter.cb)(Err(err))));
        }
    }
}
