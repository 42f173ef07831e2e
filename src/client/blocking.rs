//! [`UdpClient`]: the blocking, thread-safe UDP client (easynetwork's
//! `UDPNetworkClient`), and its [`ReceivedPackets`] iterator.
//!
//! # How waiting works
//!
//! The socket stays in blocking mode, so a send blocks as a plain socket
//! send does; every receive is a `recvfrom(MSG_DONTWAIT)`. When nothing is
//! waiting, the receiving thread sleeps in its own `mio::Poll` (an epoll
//! instance) on the socket and a `mio::Waker` (an eventfd). [`close`]
//! marks the client closed, releases the socket and fires the waker, so a
//! receive blocked in another thread wakes at once and reports
//! [`ClientError::Closed`]. Nothing spins.
//!
//! The socket lives in an `Arc` that each operation clones for its
//! duration, so `close` never closes a descriptor another thread is still
//! using (its number could otherwise be reused under it): the descriptor
//! is closed by `close` itself, or right after the operations in flight
//! return.
//!
//! [`close`]: UdpClient::close

use super::connect::{open_connected, ClientOptions};
use super::error::{ClientError, ClientResult};
use super::gate::{lock, Gate};
use super::protocol::PacketProtocol;
use super::socket_proxy::SocketProxy;
use crate::error::StatusCode;
use crate::udp::{AF_INET, AF_INET6};
use mio::unix::SourceFd;
use mio::{Events, Interest, Token, Waker};
use socket2::{Domain, Socket, Type};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Receive buffer size: larger than any UDP payload (65,507 bytes over
/// IPv4, 65,527 over IPv6 without jumbograms).
pub(super) const MAX_DATAGRAM: usize = 64 * 1024;

const SOCKET_TOKEN: Token = Token(0);
const WAKE_TOKEN: Token = Token(1);

/// What a receiving thread needs, used by one receiver at a time.
struct Receiver {
    poll: mio::Poll,
    events: Events,
    /// Allocated by the first receive.
    buf: Vec<u8>,
}

/// The client's state shared by all threads.
pub(super) struct Shared {
    /// `None` once closed.
    socket: Mutex<Option<Arc<Socket>>>,
    closed: AtomicBool,
    family: i32,
    local: SocketAddr,
    remote: SocketAddr,
    /// Held by sends and by the socket proxy (as easynetwork's send lock).
    send_lock: Mutex<()>,
    /// One receiver at a time; entering it counts against the timeout.
    recv_gate: Gate,
    /// Only touched by the thread inside `recv_gate`.
    receiver: Mutex<Receiver>,
    waker: Waker,
}

impl Shared {
    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// The socket for one operation, or `Closed`.
    pub(super) fn socket(&self) -> ClientResult<Arc<Socket>> {
        if self.is_closed() {
            return Err(ClientError::Closed);
        }
        lock(&self.socket).clone().ok_or(ClientError::Closed)
    }

    /// Runs `f` on the socket under the send lock (the socket proxy).
    pub(super) fn with_socket<T>(
        &self,
        f: impl FnOnce(&Socket) -> io::Result<T>,
    ) -> ClientResult<T> {
        let _send = lock(&self.send_lock);
        let socket = self.socket()?;
        Ok(f(&socket)?)
    }

    pub(super) fn family(&self) -> i32 {
        self.family
    }
}

/// A blocking UDP client bound to one remote endpoint (easynetwork's
/// `UDPNetworkClient`).
///
/// Packets go through a [`PacketProtocol`]: [`send_packet`] serializes one
/// packet into one datagram, [`recv_packet`] parses the next datagram from
/// the peer. The socket is connected, so the kernel delivers only the
/// peer's datagrams.
///
/// # Threads
///
/// `UdpClient<P>` is `Send + Sync` when `P` is, and every method takes
/// `&self`: share it in an `Arc`. Sends and receives use separate locks, so
/// one thread can send while another waits for a packet. [`close`] takes
/// neither: it never waits for a blocked receive, which then returns
/// [`ClientError::Closed`] at once. Receives are serialized (one waits for
/// the other, and that wait counts against its timeout).
///
/// # Example
///
/// ```
/// use ruv::client::{ClientOptions, TextProtocol, UdpClient};
/// use std::net::UdpSocket;
/// use std::time::Duration;
///
/// // A peer to talk to.
/// let peer = UdpSocket::bind("127.0.0.1:0")?;
/// let port = peer.local_addr()?.port();
///
/// let client = UdpClient::connect(("127.0.0.1", port), TextProtocol, ClientOptions::default())?;
/// client.send_packet(&"hello".to_string())?;
///
/// let mut buf = [0; 64];
/// let (n, from) = peer.recv_from(&mut buf)?;
/// assert_eq!(&buf[..n], b"hello");
/// assert_eq!(from, client.local_address()?);
/// peer.send_to(b"world", from)?;
///
/// assert_eq!(client.recv_packet(Some(Duration::from_secs(5)))?, "world");
/// // Nothing else is waiting: a zero timeout does not block.
/// assert!(client.recv_packet(Some(Duration::ZERO)).unwrap_err().is_timeout());
///
/// client.close();
/// assert!(client.send_packet(&"late".to_string()).unwrap_err().is_closed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A receive blocked in one thread ends as soon as another thread closes
/// the client:
///
/// ```
/// use ruv::client::{BytesProtocol, ClientError, ClientOptions, UdpClient};
/// use std::sync::Arc;
///
/// let peer = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let port = peer.local_addr()?.port();
/// let client = Arc::new(UdpClient::connect(("127.0.0.1", port), BytesProtocol, ClientOptions::default())?);
///
/// let receiver = {
///     let client = client.clone();
///     std::thread::spawn(move || client.recv_packet(None))
/// };
/// std::thread::sleep(std::time::Duration::from_millis(20));
/// client.close();
/// assert_eq!(receiver.join().unwrap(), Err(ClientError::Closed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`send_packet`]: UdpClient::send_packet
/// [`recv_packet`]: UdpClient::recv_packet
/// [`close`]: UdpClient::close
pub struct UdpClient<P> {
    protocol: P,
    shared: Shared,
}

impl<P> fmt::Debug for UdpClient<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpClient")
            .field("local", &self.shared.local)
            .field("remote", &self.shared.remote)
            .field("closed", &self.shared.is_closed())
            .finish_non_exhaustive()
    }
}

impl<P: PacketProtocol> UdpClient<P> {
    /// Creates a client connected to `remote`, a `(host, port)` pair.
    ///
    /// The host is resolved with the system resolver (a numeric address is
    /// used as is), keeping only addresses of `options.family`. Each
    /// address is tried in turn: a socket of its family, bound to
    /// `options.local_address` if given, connected to it. The first one
    /// that connects is used; if none does, the first error is returned.
    ///
    /// Errors: [`ClientError::Os`] with EINVAL for a family other than
    /// `AF_INET`/`AF_INET6`/`AF_UNSPEC`; EAI_NONAME when the host does not
    /// resolve; EAI_ADDRFAMILY when it has no address of the family (also
    /// for a local address without one in the remote's family); the
    /// socket, bind or connect error otherwise.
    pub fn connect(
        remote: (&str, u16),
        protocol: P,
        options: ClientOptions,
    ) -> ClientResult<UdpClient<P>> {
        let socket = open_connected(remote, &options)?;
        UdpClient::from_socket(socket, protocol)
    }

    /// Creates a client on an existing, connected IPv4 or IPv6 datagram
    /// socket: a `std::net::UdpSocket`, a `socket2::Socket` or an
    /// `OwnedFd` (easynetwork's `UDPNetworkClient(socket, protocol)`).
    ///
    /// The client owns the socket from then on and puts it in blocking
    /// mode. On error the socket is closed (it was moved in and is dropped).
    ///
    /// Errors: [`ClientError::Os`] with ENOTCONN for a socket that is not
    /// connected; EINVAL for one that is not an IPv4/IPv6 datagram socket
    /// (as [`Udp::open`](crate::Udp::open)); ENOTSOCK for a descriptor that
    /// is not a socket.
    pub fn from_socket<S: Into<Socket>>(socket: S, protocol: P) -> ClientResult<UdpClient<P>> {
        let socket: Socket = socket.into();
        let domain = socket.domain()?;
        let family = if domain == Domain::IPV4 {
            AF_INET
        } else if domain == Domain::IPV6 {
            AF_INET6
        } else {
            return Err(ClientError::Os(StatusCode::EINVAL));
        };
        if socket.r#type()? != Type::DGRAM {
            return Err(ClientError::Os(StatusCode::EINVAL));
        }
        let remote = socket
            .peer_addr()?
            .as_socket()
            .ok_or(ClientError::Os(StatusCode::EINVAL))?;
        let local = socket
            .local_addr()?
            .as_socket()
            .ok_or(ClientError::Os(StatusCode::EINVAL))?;
        socket.set_nonblocking(false)?;

        let poll = mio::Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKE_TOKEN)?;
        poll.registry().register(
            &mut SourceFd(&socket.as_raw_fd()),
            SOCKET_TOKEN,
            Interest::READABLE,
        )?;
        Ok(UdpClient {
            protocol,
            shared: Shared {
                socket: Mutex::new(Some(Arc::new(socket))),
                closed: AtomicBool::new(false),
                family,
                local,
                remote,
                send_lock: Mutex::new(()),
                recv_gate: Gate::default(),
                receiver: Mutex::new(Receiver {
                    poll,
                    events: Events::with_capacity(4),
                    buf: Vec::new(),
                }),
                waker,
            },
        })
    }

    /// Sends `packet` to the remote endpoint as one datagram.
    ///
    /// As easynetwork does, the socket's pending error (`SO_ERROR`) is read
    /// — and so cleared — right after the datagram went out: one
    /// `getsockopt` per send. On a connected socket an ICMP port-unreachable
    /// leaves ECONNREFUSED there; on loopback the kernel answers within the
    /// send itself, so the very send whose datagram drew the refusal fails
    /// with it (its datagram did go out). The error is consumed: the next
    /// call does not see it again.
    ///
    /// Errors: [`ClientError::Closed`]; [`ClientError::Serialize`] when the
    /// protocol cannot serialize it (nothing is sent); [`ClientError::Os`]
    /// for the send's error or the pending one — e.g. ECONNREFUSED after an
    /// ICMP port-unreachable (for this datagram or an earlier one), or
    /// EMSGSIZE for a datagram too large.
    pub fn send_packet(&self, packet: &P::Packet) -> ClientResult<()> {
        if self.shared.is_closed() {
            return Err(ClientError::Closed);
        }
        let datagram = self
            .protocol
            .serialize(packet)
            .map_err(|err| ClientError::Serialize {
                message: err.into_message(),
            })?;
        let _send = lock(&self.shared.send_lock);
        let socket = self.shared.socket()?;
        loop {
            match socket.send(&datagram) {
                Ok(_) => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err.into()),
            }
        }
        match socket.take_error()? {
            None => Ok(()),
            Some(err) => Err(err.into()),
        }
    }

    /// Waits for the next datagram from the remote endpoint and parses it.
    ///
    /// - `None`: wait as long as it takes.
    /// - `Some(Duration::ZERO)`: one non-blocking try — a datagram already
    ///   waiting in the socket, or [`ClientError::Timeout`].
    /// - `Some(t)`: wait at most `t`, including any time spent waiting for
    ///   another thread's receive to finish (as easynetwork), then
    ///   [`ClientError::Timeout`].
    ///
    /// Errors: [`ClientError::Closed`] when the client is closed, also by
    /// another thread while this one waits; [`ClientError::Parse`] when
    /// the datagram is not a valid packet — it is consumed, so the next
    /// receive gets the next datagram; [`ClientError::Os`] for a receive
    /// error such as ECONNREFUSED (an ICMP port-unreachable that came after
    /// the send that drew it had checked, see
    /// [`send_packet`](UdpClient::send_packet)).
    pub fn recv_packet(&self, timeout: Option<Duration>) -> ClientResult<P::Packet> {
        // A timeout too large to add to the clock is the same as none.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        if self.shared.is_closed() {
            return Err(ClientError::Closed);
        }
        let _gate = self
            .shared
            .recv_gate
            .enter(deadline)
            .ok_or(ClientError::Timeout)?;
        let mut receiver = lock(&self.shared.receiver);
        let rx = &mut *receiver;
        if rx.buf.len() < MAX_DATAGRAM {
            rx.buf = vec![0; MAX_DATAGRAM];
        }
        loop {
            {
                let socket = self.shared.socket()?;
                match crate::sys::recv_from(socket.as_raw_fd(), &mut rx.buf) {
                    Ok(got) if got.truncated => return Err(ClientError::Os(StatusCode::EMSGSIZE)),
                    Ok(got) => {
                        let datagram = &rx.buf[..got.len];
                        return self.protocol.deserialize(datagram).map_err(|err| {
                            ClientError::Parse {
                                message: err.into_message(),
                                datagram_len: got.len,
                            }
                        });
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err.into()),
                }
                // The socket's `Arc` is released here, before sleeping, so a
                // `close` from another thread closes the descriptor at once.
            }
            let wait = match deadline {
                None => None,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ClientError::Timeout);
                    }
                    Some(left)
                }
            };
            // Edge-triggered: we sleep only after the socket said EAGAIN, so
            // a datagram that arrives from then on is reported.
            match rx.poll.poll(&mut rx.events, wait) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// An iterator over received packets (easynetwork's
    /// `iter_received_packets`).
    ///
    /// `timeout` is a budget for the whole iteration, counting only the
    /// time spent inside `next`: `Some(Duration::ZERO)` (easynetwork's
    /// default) yields the packets already waiting and stops; `Some(t)`
    /// keeps waiting for packets until `t` is used up; `None` waits
    /// forever (until the client is closed).
    ///
    /// Each item is a packet or an error:
    /// - when the budget runs out (a [`ClientError::Timeout`]) the
    ///   iterator ends without yielding the timeout;
    /// - a [`ClientError::Parse`] is yielded and iteration **continues**
    ///   with the next datagram (easynetwork's generator raises and ends
    ///   instead; `break` to get that);
    /// - [`ClientError::Closed`] and [`ClientError::Os`] are yielded once,
    ///   then the iterator ends (easynetwork ends silently).
    ///
    /// ```
    /// # use ruv::client::{BytesProtocol, ClientOptions, UdpClient};
    /// # use std::time::Duration;
    /// # let peer = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// # let client = UdpClient::connect(("127.0.0.1", peer.local_addr()?.port()), BytesProtocol, ClientOptions::default())?;
    /// # let me = client.local_address()?;
    /// for text in ["a", "b", "c"] {
    ///     peer.send_to(text.as_bytes(), me)?;
    /// }
    /// // Wait up to 5 s in all for the three of them, then stop at the first
    /// // moment nothing more arrives in that budget.
    /// let got: Vec<Vec<u8>> = client
    ///     .iter_received_packets(Some(Duration::from_secs(5)))
    ///     .take(3)
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(got, [b"a", b"b", b"c"]);
    /// // Nothing is left: the default budget of zero yields nothing.
    /// assert_eq!(client.iter_received_packets(Some(Duration::ZERO)).count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter_received_packets(&self, timeout: Option<Duration>) -> ReceivedPackets<'_, P> {
        ReceivedPackets {
            client: self,
            budget: timeout,
            done: false,
        }
    }

    /// The socket's local address (easynetwork's `get_local_address`).
    /// [`ClientError::Closed`] once closed.
    pub fn local_address(&self) -> ClientResult<SocketAddr> {
        if self.shared.is_closed() {
            return Err(ClientError::Closed);
        }
        Ok(self.shared.local)
    }

    /// The remote endpoint's address (easynetwork's `get_remote_address`).
    /// [`ClientError::Closed`] once closed.
    pub fn remote_address(&self) -> ClientResult<SocketAddr> {
        if self.shared.is_closed() {
            return Err(ClientError::Closed);
        }
        Ok(self.shared.remote)
    }

    /// The socket's descriptor; [`ClientError::Closed`] once closed
    /// (easynetwork returns -1). The number is only meaningful while the
    /// client is open: do not close it or use it after `close`.
    pub fn fileno(&self) -> ClientResult<RawFd> {
        Ok(self.shared.socket()?.as_raw_fd())
    }

    /// A view of the socket for options and names (easynetwork's
    /// `socket` property). It can neither send nor close.
    pub fn socket(&self) -> SocketProxy<'_> {
        SocketProxy::new(&self.shared)
    }

    /// The client's protocol.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }
}

/// The socket's descriptor, or `-1` once the client is closed (as
/// easynetwork's `fileno()`). Not `AsFd`: [`close`](UdpClient::close) takes
/// `&self` (any thread may close the client) and closes the descriptor
/// while a borrow of the client may still be held.
impl<P> AsRawFd for UdpClient<P> {
    fn as_raw_fd(&self) -> RawFd {
        self.shared.socket().map_or(-1, |s| s.as_raw_fd())
    }
}

impl<P> UdpClient<P> {
    /// Closes the client; calling it again does nothing. Later calls fail
    /// with [`ClientError::Closed`], and so does a receive blocked in
    /// another thread, at once: `close` does not wait for it (nor for a
    /// send in progress).
    ///
    /// The socket is closed now, or — if another thread is in the middle of
    /// a send or a socket-proxy call — as soon as that call returns.
    /// Dropping the client closes it too.
    pub fn close(&self) {
        if self.shared.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        let socket = lock(&self.shared.socket).take();
        drop(socket);
        // Wakes a receiver sleeping in its poll. Failing would mean the
        // eventfd is broken; the receiver then still sees the closed flag
        // the next time its poll returns.
        let _ = self.shared.waker.wake();
    }

    /// Whether [`close`](UdpClient::close) was called.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

/// The iterator of [`UdpClient::iter_received_packets`].
pub struct ReceivedPackets<'a, P> {
    client: &'a UdpClient<P>,
    /// Time left; `None` waits forever.
    budget: Option<Duration>,
    done: bool,
}

impl<P> fmt::Debug for ReceivedPackets<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedPackets")
            .field("budget", &self.budget)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<P: PacketProtocol> Iterator for ReceivedPackets<'_, P> {
    type Item = ClientResult<P::Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let started = Instant::now();
        let result = self.client.recv_packet(self.budget);
        if let Some(budget) = self.budget.as_mut() {
            *budget = budget.saturating_sub(started.elapsed());
        }
        match result {
            Ok(packet) => Some(Ok(packet)),
            Err(ClientError::Timeout) => {
                self.done = true;
                None
            }
            Err(err @ ClientError::Parse { .. }) => Some(Err(err)),
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }
}

impl<P: PacketProtocol> std::iter::FusedIterator for ReceivedPackets<'_, P> {}
