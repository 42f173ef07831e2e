//! The handle dump: [`Loop::handles`], a snapshot of every handle of a
//! loop for diagnostics (the Rust side of libuv's `uv_print_all_handles`).

use super::state::{Key, Slot};
use super::Loop;
use crate::handle::HandleType;
use std::fmt;
use std::os::fd::RawFd;

/// One handle as [`Loop::handles`] saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandleInfo {
    /// The handle's type ([`Handle::handle_type`](crate::Handle::handle_type)).
    pub handle_type: HandleType,
    /// The handle's [`Handle::id`](crate::Handle::id).
    pub id: u64,
    /// [`Handle::is_active`](crate::Handle::is_active): false once closing.
    pub active: bool,
    /// [`Handle::has_ref`](crate::Handle::has_ref).
    pub referenced: bool,
    /// [`Handle::is_closing`](crate::Handle::is_closing): closed and
    /// waiting for the closing phase.
    pub closing: bool,
    /// What [`Handle::fileno`](crate::Handle::fileno) returns: the socket
    /// of a UDP handle, the watched descriptor of a poll handle; `None`
    /// for other types, a UDP handle without a socket yet, and a closing
    /// handle.
    pub fd: Option<RawFd>,
}

impl HandleInfo {
    fn of(id: u64, slot: &Slot) -> Option<HandleInfo> {
        let handle_type = slot.kind.handle_type()?;
        let fd = if slot.closing {
            None
        } else {
            slot.kind.fileno().ok()
        };
        Some(HandleInfo {
            handle_type,
            id,
            active: slot.active && !slot.closing,
            referenced: slot.referenced,
            closing: slot.closing,
            fd,
        })
    }
}

/// One line in libuv's `uv_print_all_handles` style: the flags `R`
/// (referenced), `A` (active) and `C` (closing; libuv's third column is
/// `I`, for its internal handles, which ruv has none of), each that
/// letter or `-`, the type padded to 8 columns, the id in hex and the
/// descriptor (`-` for none), e.g. `[RA-] udp      id=0x100000002 fd=7`.
impl fmt::Display for HandleInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "[{}{}{}] {:<8} id={:#x} fd=",
            flag(self.referenced, 'R'),
            flag(self.active, 'A'),
            flag(self.closing, 'C'),
            self.handle_type.name(),
            self.id,
        )?;
        match self.fd {
            Some(fd) => write!(f, "{fd}"),
            None => f.write_str("-"),
        }
    }
}

/// A snapshot of a loop's handles ([`Loop::handles`]), in slot order
/// (the order [`Loop::walk`] visits them). It derefs to a slice of
/// [`HandleInfo`] and iterates like one; `Debug` and `Display` print one
/// [`HandleInfo`] line per handle.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HandleDump {
    handles: Vec<HandleInfo>,
}

impl std::ops::Deref for HandleDump {
    type Target = [HandleInfo];
    fn deref(&self) -> &[HandleInfo] {
        &self.handles
    }
}

impl IntoIterator for HandleDump {
    type Item = HandleInfo;
    type IntoIter = std::vec::IntoIter<HandleInfo>;
    fn into_iter(self) -> Self::IntoIter {
        self.handles.into_iter()
    }
}

impl<'a> IntoIterator for &'a HandleDump {
    type Item = &'a HandleInfo;
    type IntoIter = std::slice::Iter<'a, HandleInfo>;
    fn into_iter(self) -> Self::IntoIter {
        self.handles.iter()
    }
}

impl fmt::Display for HandleDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for info in &self.handles {
            writeln!(f, "{info}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HandleDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Loop {
    /// A snapshot of every handle of the loop, closing ones included, for
    /// diagnostics: type, id, flags and descriptor of each (libuv's
    /// `uv_print_all_handles`; print it with `{}` or `{:?}`). Callable
    /// from any callback; handles created or closed afterwards do not
    /// change it.
    ///
    /// ```
    /// use ruv::{HandleType, Loop, Timer};
    ///
    /// let lp = Loop::new()?;
    /// let timer = Timer::new(&lp);
    /// timer.start(1_000, 0, |_| {})?;
    /// let dump = lp.handles();
    /// assert_eq!(dump.len(), 1);
    /// assert_eq!(dump[0].handle_type, HandleType::Timer);
    /// assert!(dump[0].active && dump[0].referenced && !dump[0].closing);
    /// assert_eq!(dump.to_string(), format!("[RA-] timer    id={:#x} fd=-\n", timer.id()));
    /// timer.close(|| {});
    /// lp.run(ruv::RunMode::NoWait)?;
    /// assert!(lp.handles().is_empty());
    /// # Ok::<(), ruv::Error>(())
    /// ```
    pub fn handles(&self) -> HandleDump {
        // Only the liveness hook runs with the state borrowed, and it must
        // not call into the loop; an empty dump rather than a panic there.
        let Ok(st) = self.state.try_borrow() else {
            return HandleDump::default();
        };
        let handles = st
            .slots
            .iter()
            .filter_map(|(index, slot)| {
                let key = Key {
                    index: index as u32,
                    gen: slot.gen,
                };
                HandleInfo::of(key.id(), slot)
            })
            .collect();
        HandleDump { handles }
    }
}
