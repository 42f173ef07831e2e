//! Many datagrams per system call: segmentation offload for sending
//! (`UDP_SEGMENT`) and receive offload (`UDP_GRO`), with fallbacks where the
//! kernel lacks them.

use super::send::{must_wait, prepare_send};
use super::{udp_mut, Udp};
use crate::error::{Error, Result, StatusCode};
use crate::sys;
use std::net::SocketAddr;

/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

/// Whether this kernel segments datagrams for us (`UDP_SEGMENT`, Linux
/// 4.18+). Probed once; [`Udp::try_send_segments`] works either way.
pub fn gso_supported() -> bool {
    sys::gso_supported()
}

impl Udp {
    /// Sends `data` as consecutive datagrams of `segment_size` bytes (the
    /// last may be shorter), all to `addr` (or the connected peer), and
    /// returns the bytes sent. With segmentation offload this is one system
    /// call for up to 64 datagrams; without, one `sendmmsg` per 32.
    ///
    /// Like [`Udp::try_send`], it never queues: EAGAIN when sends are in
    /// flight or the socket would block before the first datagram. A
    /// shorter count means the socket filled up part way, at a datagram
    /// boundary. EINVAL for a zero or too large segment size, for more than
    /// 64 segments, or for empty data; EMSGSIZE for more than 65,507 bytes
    /// in all (the kernel segments at most one UDP datagram's worth).
    pub fn try_send_segments(
        &self,
        data: &[u8],
        segment_size: usize,
        addr: Option<SocketAddr>,
    ) -> Result<usize> {
        if segment_size == 0
            || segment_size > MAX_DATAGRAM
            || data.is_empty()
            || data.len().div_ceil(segment_size) > sys::GSO_MAX_SEGMENTS
        {
            return Err(StatusCode::EINVAL.into());
        }
        if data.len() > MAX_DATAGRAM {
            return Err(StatusCode::EMSGSIZE.into());
        }
        let key = self.key();
        let mut st = self.get_loop().state();
        let fd = prepare_send(&mut st, key, &[data], addr.as_ref())?;
        if udp_mut(&mut st, key)?.send.in_flight() != 0 {
            return Err(StatusCode::EAGAIN.into());
        }
        drop(st);
        let sent = if data.len() <= segment_size {
            sys::send_msg(fd, &[data], addr.as_ref())
        } else if sys::gso_supported() {
            // Fits in a u16: segment_size <= MAX_DATAGRAM.
            sys::send_segments(fd, data, segment_size as u16, addr.as_ref())
        } else {
            send_segments_without_offload(fd, data, segment_size, addr.as_ref())
        };
        sent.map_err(|err| {
            if must_wait(&err) {
                StatusCode::EAGAIN.into()
            } else {
                Error::from(err)
            }
        })
    }

    /// Turns receive offload on (`UDP_GRO`): the kernel may then hand over
    /// several datagrams from one sender in one message, which the receive
    /// path splits again, so callbacks still see one datagram each. Returns
    /// whether offload is on; `Ok(false)` when this kernel lacks it
    /// (datagrams then simply arrive one by one). EBADF before a socket
    /// exists.
    ///
    /// Once on, offload stays on for the socket's life, and `set_gro(false)`
    /// answers `Ok(true)`: the kernel reports a coalesced message's segment
    /// size only while its option is on, so turning it off would glue
    /// together the datagrams of messages it already coalesced and queued.
    /// Turning it on takes effect at once, even inside a receive callback:
    /// the rest of that receive pass reads with segment sizes.
    pub fn set_gro(&self, on: bool) -> Result<bool> {
        let mut st = self.get_loop().state();
        let u = udp_mut(&mut st, self.key())?;
        let fd = u.fd().ok_or(StatusCode::EBADF)?;
        if u.recv.gro {
            return Ok(true);
        }
        match sys::set_gro(fd, on) {
            Ok(()) => {
                if on {
                    u.recv.offload_turned_on();
                }
                Ok(on)
            }
            Err(err) if err.raw_os_error() == Some(libc::ENOPROTOOPT) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
}

/// The fallback: the segments as separate datagrams, 32 per `sendmmsg`.
fn send_segments_without_offload(
    fd: std::os::fd::RawFd,
    data: &[u8],
    segment_size: usize,
    addr: Option<&SocketAddr>,
) -> std::io::Result<usize> {
    let mut sent = 0;
    let mut chunks = data.chunks(segment_size).peekable();
    while chunks.peek().is_some() {
        let mut batch: [(&[u8], Option<&SocketAddr>); sys::BATCH] = [(&[], None); sys::BATCH];
        let mut count = 0;
        for (slot, chunk) in batch.iter_mut().zip(chunks.by_ref()) {
            *slot = (chunk, addr);
            count += 1;
        }
        match sys::send_mmsg(fd, &batch[..count]) {
            Ok(n) => {
                sent += batch[..n].iter().map(|(d, _)| d.len()).sum::<usize>();
                if n < count {
                    break;
                }
            }
            Err(err) if sent == 0 => return Err(err),
            Err(_) => break,
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Loop, RunMode};
    use std::cell::RefCell;
    use std::os::fd::AsRawFd;
    use std::rc::Rc;

    /// A socket adopted with offload already on (its owner set it) may hold
    /// coalesced messages: they are split, and offload stays on.
    #[test]
    fn an_adopted_socket_with_offload_on_keeps_datagrams_apart() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        let gro = sys::set_gro(rx.as_raw_fd(), true).is_ok();
        let data: Vec<u8> = (0..250u8).collect();
        let sent = if sys::gso_supported() {
            sys::send_segments(tx.as_raw_fd(), &data, 100, Some(&to)).unwrap()
        } else {
            send_segments_without_offload(tx.as_raw_fd(), &data, 100, Some(&to)).unwrap()
        };
        assert_eq!(sent, 250);
        let lp = Loop::new().unwrap();
        let udp = Udp::from_socket(&lp, rx).unwrap();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        udp.receive_start(move |u, r| {
            let d = r.unwrap();
            g.borrow_mut().push((d.data.to_vec(), d.addr));
            // Bytes, not datagrams: glued ones add up to the same total.
            if g.borrow().iter().map(|(d, _)| d.len()).sum::<usize>() == 250 {
                u.receive_stop().unwrap();
            }
        })
        .unwrap();
        lp.run(RunMode::Default).unwrap();
        let from = tx.local_addr().unwrap();
        let want: Vec<(Vec<u8>, _)> = data.chunks(100).map(|c| (c.to_vec(), from)).collect();
        assert_eq!(*got.borrow(), want);
        assert_eq!(udp.set_gro(false), Ok(gro), "offload stays on");
        udp.close(|| {});
        lp.run(RunMode::Default).unwrap();
    }

    /// The path taken on kernels without segmentation offload.
    #[test]
    fn the_fallback_sends_each_segment_as_a_datagram() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        let data: Vec<u8> = (0..250u8).collect();
        let sent = send_segments_without_offload(tx.as_raw_fd(), &data, 100, Some(&to)).unwrap();
        assert_eq!(sent, 250);
        let mut buf = [0u8; 200];
        for (i, want) in [100, 100, 50].into_iter().enumerate() {
            let n = rx.recv(&mut buf).unwrap();
            assert_eq!(n, want);
            assert_eq!(&buf[..n], &data[i * 100..i * 100 + n]);
        }
    }
}
