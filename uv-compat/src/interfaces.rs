//! `uv_interface_addresses` and `uv_free_interface_addresses`.
//!
//! One entry per IPv4 or IPv6 address of every interface that is up and
//! running, as libuv lists them from `getifaddrs(3)`. The array and each
//! `name` come from the allocator in force (`malloc` unless the program
//! called `uv_replace_allocator`), as in libuv;
//! `uv_free_interface_addresses` frees both with it.

use std::ptr;

use libc::{c_char, c_int, c_uint, ifaddrs, sockaddr, sockaddr_in, sockaddr_in6, sockaddr_ll};

const UV_EINVAL: c_int = -libc::EINVAL;
const UV_ENOMEM: c_int = -libc::ENOMEM;

/// The `address` union of `uv_interface_address_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union uv_interface_address_addr {
    /// The address when its family is AF_INET.
    pub address4: sockaddr_in,
    /// The address when its family is AF_INET6.
    pub address6: sockaddr_in6,
}

/// The `netmask` union of `uv_interface_address_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union uv_interface_address_netmask {
    /// The netmask when its family is AF_INET.
    pub netmask4: sockaddr_in,
    /// The netmask when its family is AF_INET6.
    pub netmask6: sockaddr_in6,
}

/// `uv_interface_address_t`, field for field as in uv.h.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct uv_interface_address_t {
    /// The interface name (`malloc`ed, NUL-terminated).
    pub name: *mut c_char,
    /// The hardware (MAC) address; zero when the interface has none.
    pub phys_addr: [c_char; 6],
    /// 1 for a loopback interface, else 0.
    pub is_internal: c_int,
    /// The address.
    pub address: uv_interface_address_addr,
    /// Its netmask (all zero if the system gave none).
    pub netmask: uv_interface_address_netmask,
}

/// Whether `flags` say the interface is both up and running.
fn up_and_running(flags: c_uint) -> bool {
    let wanted = (libc::IFF_UP | libc::IFF_RUNNING) as c_uint;
    flags & wanted == wanted
}

/// The family of a non-NULL socket address, or `None` for NULL.
///
/// # Safety
/// `addr` must be NULL or point to a socket address header.
unsafe fn family(addr: *const sockaddr) -> Option<c_int> {
    if addr.is_null() {
        return None;
    }
    // SAFETY: non-NULL `addr` points to a sockaddr header (caller's contract).
    Some(c_int::from(unsafe {
        ptr::addr_of!((*addr).sa_family).read_unaligned()
    }))
}

/// The entries of a `getifaddrs` list, in order.
///
/// # Safety
/// `head` must be NULL or a list returned by `getifaddrs` that is not freed
/// while the iterator or the references it yields are in use.
unsafe fn entries<'a>(head: *const ifaddrs) -> impl Iterator<Item = &'a ifaddrs> {
    let mut next = head;
    std::iter::from_fn(move || {
        // SAFETY: `next` is NULL or a live node of the list (caller's contract).
        let entry = unsafe { next.as_ref() }?;
        next = entry.ifa_next;
        Some(entry)
    })
}

/// The address family of `entry` if libuv lists it as an address: the
/// interface is up and running and the address is IPv4 or IPv6.
fn listed_family(entry: &ifaddrs) -> Option<c_int> {
    if !up_and_running(entry.ifa_flags) {
        return None;
    }
    // SAFETY: getifaddrs gives NULL or a valid address for ifa_addr.
    unsafe { family(entry.ifa_addr) }.filter(|&f| f == libc::AF_INET || f == libc::AF_INET6)
}

/// The link-layer address of `entry` if it is the AF_PACKET entry of an
/// interface that is up and running.
fn link_address(entry: &ifaddrs) -> Option<[c_char; 6]> {
    if !up_and_running(entry.ifa_flags) {
        return None;
    }
    // SAFETY: getifaddrs gives NULL or a valid address for ifa_addr.
    if unsafe { family(entry.ifa_addr) } != Some(libc::AF_PACKET) {
        return None;
    }
    // SAFETY: an AF_PACKET address from getifaddrs is a sockaddr_ll.
    let ll = unsafe { ptr::read_unaligned(entry.ifa_addr.cast::<sockaddr_ll>()) };
    let mut mac = [0 as c_char; 6];
    for (out, &byte) in mac.iter_mut().zip(ll.sll_addr.iter()) {
        *out = byte as c_char;
    }
    Some(mac)
}

/// Copies a socket address of family AF_INET or AF_INET6 into an
/// `address`/`netmask` union (left as it is for NULL or another family).
///
/// # Safety
/// `addr` must be NULL or point to a whole socket address of its family;
/// `out4`/`out6` must be the two views of one writable union.
unsafe fn copy_sockaddr(addr: *const sockaddr, out4: *mut sockaddr_in, out6: *mut sockaddr_in6) {
    // SAFETY: guaranteed by the caller.
    match unsafe { family(addr) } {
        // SAFETY: an AF_INET6 address is a whole sockaddr_in6; `out6` is writable.
        Some(libc::AF_INET6) => unsafe { out6.write(ptr::read_unaligned(addr.cast())) },
        // SAFETY: an AF_INET address is a whole sockaddr_in; `out4` is writable.
        Some(libc::AF_INET) => unsafe { out4.write(ptr::read_unaligned(addr.cast())) },
        _ => {}
    }
}

/// Whether the listed name `name` belongs to the interface `base`: the
/// same name, or an alias `base:N`, which shares its hardware address.
fn same_interface(name: &[u8], base: &[u8]) -> bool {
    name.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest[0] == b':')
}

/// Frees the names of the entries and the array itself. The entries are
/// counted by the array's own end marker, an entry with a NULL name (the
/// array has one more entry than it lists), not by a count from C: a wrong
/// count to `uv_free_interface_addresses` can neither read past the array
/// nor leak names.
///
/// # Safety
/// `addresses` must be NULL or an array made by `uv_interface_addresses`:
/// `malloc`ed, its names `malloc`ed up to the first NULL one, which comes
/// before its end.
unsafe fn free_entries(addresses: *mut uv_interface_address_t) {
    if addresses.is_null() {
        return;
    }
    let mut at = addresses;
    // SAFETY: every entry up to and including the first with a NULL name
    // exists (caller's contract); the names before it are malloc'ed.
    unsafe {
        while !(*at).name.is_null() {
            crate::allocator::free((*at).name.cast());
            at = at.add(1);
        }
        crate::allocator::free(addresses.cast());
    }
}

/// Fills the `malloc`ed, zeroed array `out` of `count` entries from the
/// list at `list`. On failure the names written so far stay in `out` for
/// the caller to free.
///
/// # Safety
/// `list` must be a live `getifaddrs` list and `out` a zeroed array of
/// `count` entries.
unsafe fn fill(list: *const ifaddrs, out: *mut uv_interface_address_t, count: usize) -> c_int {
    let mut filled = 0usize;
    // SAFETY: `list` is live for the whole function (caller's contract).
    for entry in unsafe { entries(list) } {
        if listed_family(entry).is_none() || filled == count {
            continue;
        }
        // SAFETY: `filled < count`, so the slot exists; zeroed memory is a
        // valid uv_interface_address_t (NULL name, zero addresses).
        let slot = unsafe { &mut *out.add(filled) };
        filled += 1;
        // SAFETY: getifaddrs gives a NUL-terminated name.
        slot.name = unsafe { crate::allocator::strdup(entry.ifa_name) };
        if slot.name.is_null() {
            return UV_ENOMEM;
        }
        slot.is_internal = c_int::from(entry.ifa_flags & libc::IFF_LOOPBACK as c_uint != 0);
        // SAFETY: getifaddrs gives NULL or whole socket addresses; the two
        // pointers are the views of the slot's own unions.
        unsafe {
            copy_sockaddr(
                entry.ifa_addr,
                ptr::addr_of_mut!(slot.address.address4),
                ptr::addr_of_mut!(slot.address.address6),
            );
            copy_sockaddr(
                entry.ifa_netmask,
                ptr::addr_of_mut!(slot.netmask.netmask4),
                ptr::addr_of_mut!(slot.netmask.netmask6),
            );
        }
    }

    // Hardware addresses come from each interface's AF_PACKET entry.
    // SAFETY: as above.
    for entry in unsafe { entries(list) } {
        let Some(mac) = link_address(entry) else {
            continue;
        };
        // SAFETY: getifaddrs gives a NUL-terminated name.
        let base = unsafe { std::ffi::CStr::from_ptr(entry.ifa_name) }.to_bytes();
        for i in 0..filled {
            // SAFETY: slots below `filled` are initialized and hold strdup'ed names.
            let slot = unsafe { &mut *out.add(i) };
            // SAFETY: the name is a NUL-terminated string we copied.
            let name = unsafe { std::ffi::CStr::from_ptr(slot.name) }.to_bytes();
            if same_interface(name, base) {
                slot.phys_addr = mac;
            }
        }
    }
    0
}

/// `uv_interface_addresses`: the IPv4 and IPv6 addresses of the interfaces
/// that are up and running. `*addresses` is NULL when there are none.
/// Release the result with [`uv_free_interface_addresses`].
///
/// # Safety
/// `addresses` and `count` must be writable (libuv's contract); NULL for
/// either gives UV_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn uv_interface_addresses(
    addresses: *mut *mut uv_interface_address_t,
    count: *mut c_int,
) -> c_int {
    if addresses.is_null() || count.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: both pointers are writable (caller's contract).
    unsafe {
        addresses.write(ptr::null_mut());
        count.write(0);
    }

    let mut list: *mut ifaddrs = ptr::null_mut();
    // SAFETY: `list` is a valid place for getifaddrs to store its result.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return crate::handles::last_os_status();
    }

    // SAFETY: `list` is live until freeifaddrs below.
    let total = unsafe { entries(list) }
        .filter(|entry| listed_family(entry).is_some())
        .count();
    let Ok(total_c) = c_int::try_from(total) else {
        // SAFETY: `list` came from getifaddrs and is freed once.
        unsafe { libc::freeifaddrs(list) };
        return UV_ENOMEM;
    };
    if total == 0 {
        // SAFETY: `list` came from getifaddrs and is freed once.
        unsafe { libc::freeifaddrs(list) };
        return 0;
    }

    // One zeroed entry more than listed: its NULL name ends the array for
    // `free_entries`.
    // A NULL result is handled.
    let array = crate::allocator::calloc(total + 1, std::mem::size_of::<uv_interface_address_t>())
        .cast::<uv_interface_address_t>();
    if array.is_null() {
        // SAFETY: `list` came from getifaddrs and is freed once.
        unsafe { libc::freeifaddrs(list) };
        return UV_ENOMEM;
    }

    // SAFETY: `list` is live and `array` is a zeroed array of `total` entries.
    let rc = unsafe { fill(list, array, total) };
    // SAFETY: `list` came from getifaddrs and is freed once; nothing refers
    // to it any more.
    unsafe { libc::freeifaddrs(list) };
    if rc != 0 {
        // SAFETY: `array` is ours: strdup'ed names up to the first NULL
        // one, at the latest the end marker.
        unsafe { free_entries(array) };
        return rc;
    }

    // SAFETY: both pointers are writable (caller's contract).
    unsafe {
        addresses.write(array);
        count.write(total_c);
    }
    0
}

/// `uv_free_interface_addresses`: frees what [`uv_interface_addresses`]
/// returned (each name, then the array). `count` is not needed: the array
/// knows its end, so a wrong count (libuv: reads past the array or leaks)
/// frees exactly the same.
///
/// # Safety
/// `addresses` must be NULL or an array returned by
/// `uv_interface_addresses`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn uv_free_interface_addresses(
    addresses: *mut uv_interface_address_t,
    _count: c_int,
) {
    // SAFETY: an array made by `uv_interface_addresses` (caller's contract).
    unsafe { free_entries(addresses) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_frees() {
        let mut addresses: *mut uv_interface_address_t = ptr::null_mut();
        let mut count: c_int = -1;
        // SAFETY: both out-pointers are valid locals.
        let rc = unsafe { uv_interface_addresses(&mut addresses, &mut count) };
        assert_eq!(rc, 0);
        assert!(count >= 0);
        let n = usize::try_from(count).unwrap_or(0);
        for i in 0..n {
            // SAFETY: `i < count` entries were returned.
            let entry = unsafe { &*addresses.add(i) };
            assert!(!entry.name.is_null());
            // SAFETY: every entry holds an AF_INET or AF_INET6 address.
            let fam = c_int::from(unsafe { entry.address.address4.sin_family });
            assert!(fam == libc::AF_INET || fam == libc::AF_INET6);
        }
        // SAFETY: the result of uv_interface_addresses, freed once.
        unsafe { uv_free_interface_addresses(addresses, count) };
    }

    #[test]
    fn aliases_share_hardware_addresses() {
        assert!(same_interface(b"eth0", b"eth0"));
        assert!(same_interface(b"eth0:1", b"eth0"));
        assert!(!same_interface(b"eth01", b"eth0"));
        assert!(!same_interface(b"eth", b"eth0"));
    }
}
