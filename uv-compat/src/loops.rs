//! The loop functions: `uv_loop_init`, `uv_run`, `uv_default_loop`, …

use crate::handles::{linked_udp, status, token, EINVAL};
use crate::types::{uv_handle_t, uv_loop_active_reqs, uv_loop_t, uv_udp_t};
use libc::{c_int, c_void};
use ruv::{Loop, RunMode};
use std::cell::{Cell, RefCell, UnsafeCell};

/// What a C loop holds, boxed in `ruv_private_[0]`.
pub(crate) struct LoopCtx {
    pub(crate) lp: Loop,
    /// Every initialized, not yet closed handle, indexed by its ruv slot,
    /// for `uv_walk` and for callbacks that find their C handle by ruv id:
    /// O(1) to add, remove and look up, no allocation per handle.
    pub(crate) handles: RefCell<HandleTable>,
}

/// The C handles of a loop by ruv slot (the low half of `Handle::id`): one
/// pointer per slot, NULL when free. The full id is not stored: the handle's
/// own in-place token has it, and lookups check it.
///
/// ruv frees a closing UDP handle's slot before it runs the handle's
/// cancelled send callbacks and its close callback; a handle initialized by
/// one of those callbacks takes the slot over. The closing handle, still
/// linked, is then kept in `displaced` until its close callback, so its
/// remaining send callbacks still find it (and `uv_walk` still lists it).
///
/// Invariant: a non-NULL entry (of either kind) is a linked handle
/// (initialized here, close callback not run yet), which the program keeps
/// alive; `finish_close` clears the entry before the close callback tells
/// the program.
#[derive(Default)]
pub(crate) struct HandleTable {
    by_slot: Vec<*mut uv_handle_t>,
    /// Linked handles whose slot a newer handle took (almost always empty).
    displaced: Vec<*mut uv_handle_t>,
}

impl HandleTable {
    fn slot(id: u64) -> usize {
        (id & 0xffff_ffff) as usize
    }

    /// The id of the ruv handle linked to the entry `h`, if any.
    fn id_of(h: *mut uv_handle_t) -> Option<u64> {
        // SAFETY: `h` is NULL or a table entry, which is alive (the
        // invariant above); `token` checks it is linked.
        unsafe { token(h) }.map(|t| t.handle().id())
    }

    pub(crate) fn insert(&mut self, id: u64, h: *mut uv_handle_t) {
        let at = Self::slot(id);
        if self.by_slot.len() <= at {
            self.by_slot.resize(at + 1, std::ptr::null_mut());
        }
        let old = std::mem::replace(&mut self.by_slot[at], h);
        if !old.is_null() && old != h {
            self.displaced.push(old);
        }
    }

    /// Unlinks `h`, the handle of ruv id `id`, wherever it is.
    pub(crate) fn remove(&mut self, id: u64, h: *mut uv_handle_t) {
        if let Some(entry) = self.by_slot.get_mut(Self::slot(id)) {
            if *entry == h {
                *entry = std::ptr::null_mut();
                return;
            }
        }
        self.displaced.retain(|&d| d != h);
    }

    /// The linked C handle of ruv id `id`.
    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<*mut uv_handle_t> {
        let h = *self.by_slot.get(Self::slot(id))?;
        if !h.is_null() && Self::id_of(h) == Some(id) {
            return Some(h);
        }
        self.get_displaced(id)
    }

    /// The linked `uv_udp_t` of ruv id `id`: [`HandleTable::get`] with the
    /// kind check folded into the id check.
    #[inline]
    pub(crate) fn get_udp(&self, id: u64) -> Option<*mut uv_udp_t> {
        let h = *self.by_slot.get(Self::slot(id))?;
        // SAFETY: `h` is NULL or a table entry, which is alive (the
        // invariant above).
        if unsafe { linked_udp(h) }.is_some_and(|u| u.id() == id) {
            return Some(h as *mut uv_udp_t);
        }
        let h = self.get_displaced(id)?;
        // SAFETY: as above.
        unsafe { linked_udp(h) }.map(|_| h as *mut uv_udp_t)
    }

    #[cold]
    fn get_displaced(&self, id: u64) -> Option<*mut uv_handle_t> {
        self.displaced
            .iter()
            .copied()
            .find(|&d| Self::id_of(d) == Some(id))
    }

    /// The handles with their ids, in slot order, then the displaced ones.
    pub(crate) fn snapshot(&self) -> Vec<(u64, *mut uv_handle_t)> {
        self.by_slot
            .iter()
            .chain(&self.displaced)
            .filter(|h| !h.is_null())
            .filter_map(|&h| Some((Self::id_of(h)?, h)))
            .collect()
    }
}

thread_local! {
    /// The context of the loop `uv_run` is running on this thread (the
    /// innermost one, if a callback runs another loop), NULL if none.
    static RUNNING: Cell<*const LoopCtx> = const { Cell::new(std::ptr::null()) };
}

/// The context of `lp` if `uv_run` is running it on this thread: how a
/// callback that captures nothing finds its loop's handle table. Callbacks
/// of a ruv loop run only inside its `run`, which only `uv_run` calls.
pub(crate) fn running_ctx<'a>(lp: &Loop) -> Option<&'a LoopCtx> {
    let raw = RUNNING.with(Cell::get);
    if raw.is_null() {
        return None;
    }
    // SAFETY: a non-NULL `RUNNING` was set by `uv_run` from a live context
    // and is restored when that `uv_run` returns; the context cannot be
    // freed meanwhile (`uv_loop_close` is EBUSY while the loop runs).
    let ctx = unsafe { &*raw };
    ctx.lp.same_loop(lp).then_some(ctx)
}

/// Looks a C handle up with `find` in the handle table of `lp`, when `lp`
/// is the loop `uv_run` is running (ruv's capture-free callbacks reach
/// their C handles this way).
pub(crate) fn running_handle<T>(
    lp: &Loop,
    find: impl FnOnce(&HandleTable) -> Option<T>,
) -> Option<T> {
    let ctx = running_ctx(lp)?;
    let handles = ctx.handles.try_borrow().ok()?;
    find(&handles)
}

/// Restores the previous `RUNNING` when a `uv_run` ends.
struct Running(*const LoopCtx);

impl Running {
    fn enter(ctx: &LoopCtx) -> Running {
        Running(RUNNING.with(|r| r.replace(ctx)))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(self.0));
    }
}

/// The context of an initialized loop.
///
/// # Safety
/// `loop_` is NULL or points to a `uv_loop_t` the program owns.
pub(crate) unsafe fn ctx<'a>(loop_: *const uv_loop_t) -> Option<&'a LoopCtx> {
    if loop_.is_null() {
        return None;
    }
    // SAFETY: non-NULL and owned by the program, per the caller.
    let [raw, tag, ..] = unsafe { (*loop_).ruv_private_ };
    if raw.is_null() || tag != loop_tag(raw) {
        // Never initialized (or closed): libuv leaves that undefined; the
        // tag check makes it UV_EINVAL instead of a wild pointer.
        return None;
    }
    // SAFETY: a non-NULL `ruv_private_[0]` with its tag next to it is the
    // Box<LoopCtx> made by `uv_loop_init`, freed (and cleared) only by
    // `uv_loop_close`.
    Some(unsafe { &*(raw as *const LoopCtx) })
}

/// What `ruv_private_[1]` holds next to the context pointer of an
/// initialized loop: derived from the pointer, so that memory that was
/// never initialized (all one byte, or stale) does not pass for a loop.
fn loop_tag(ctx: *mut c_void) -> *mut c_void {
    const TAG: usize = 0x5275_764c_6f6f_7021;
    (ctx as usize ^ TAG) as *mut c_void
}

/// `uv_loop_init`. `data` is kept; every other field is set.
///
/// # Safety
/// `loop_` is NULL or points to writable memory of `sizeof(uv_loop_t)`.
#[no_mangle]
pub unsafe extern "C" fn uv_loop_init(loop_: *mut uv_loop_t) -> c_int {
    if loop_.is_null() {
        return EINVAL;
    }
    let lp = match Loop::new() {
        Ok(lp) => lp,
        Err(err) => return status(err),
    };
    let ctx = Box::new(LoopCtx {
        lp,
        handles: RefCell::default(),
    });
    // SAFETY: writable per the contract above; `data` is not touched.
    unsafe {
        let ctx = Box::into_raw(ctx);
        let raw = ctx as *mut c_void;
        (*loop_).ruv_private_ = [
            raw,
            loop_tag(raw),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        ];
        // libuv's public counters start at zero (its init clears the whole
        // struct but `data`).
        (*loop_).active_handles = 0;
        (*loop_).handle_queue = [std::ptr::null_mut(); 2];
        (*loop_).active_reqs = uv_loop_active_reqs {
            unused: std::ptr::null_mut(),
        };
        (*loop_).internal_fields = std::ptr::null_mut();
        (*loop_).stop_flag = 0;
        (*ctx)
            .lp
            .set_counts_hook(Some((mirror_counts, loop_ as usize)));
        // The loop mirrors `alive()` into `ruv_private_[LIVENESS]` from now
        // on; the program keeps the loop in place while it is initialized,
        // and `uv_loop_close` clears the hook before freeing the context.
        (*ctx)
            .lp
            .set_liveness_hook(Some((mirror_alive, loop_ as usize)));
        // `uv_close` closes to this hook: no callback stored per handle.
        (*ctx).lp.set_close_hook(Some(crate::handles::close_hook));
    }
    0
}

/// The word of `ruv_private_` where the loop mirrors `Loop::alive`:
/// [`ALIVE`] or 0. `uv_loop_alive` is one load and one comparison, and
/// memory that was never initialized (which is almost never exactly
/// [`ALIVE`]) reads as not alive.
const LIVENESS: usize = 2;

/// The value of the liveness word while the loop is alive. It fits a
/// sign-extended 32-bit immediate, so the check is one `cmp` with memory.
const ALIVE: usize = 0x5275_7621;

/// The loop's liveness hook: `word` is its `uv_loop_t`.
fn mirror_alive(word: usize, alive: bool) {
    let loop_ = word as *mut uv_loop_t;
    // SAFETY: the hook is set by `uv_loop_init` with the loop's own address
    // and cleared by `uv_loop_close` before the loop may go away; the word
    // is ours (private).
    unsafe {
        (*loop_).ruv_private_[LIVENESS] = if alive { ALIVE } else { 0 } as *mut c_void;
    }
}

/// The loop's counts hook: keeps the C loop's `active_handles` and
/// `active_reqs.count` equal to ruv's counts, by adding the change since the
/// last call rather than storing the count, so that a program's own
/// adjustment of a counter (libuv's test suite does `active_handles++`
/// around a run) stays until the program undoes it, as with libuv's
/// counters. `word` is the `uv_loop_t`.
fn mirror_counts(word: usize, before: (usize, usize), after: (usize, usize)) {
    let loop_ = word as *mut uv_loop_t;
    // The C fields are 32 bits wide: differences are taken modulo 2^32.
    let handles = (after.0 as u32).wrapping_sub(before.0 as u32);
    let requests = (after.1 as u32).wrapping_sub(before.1 as u32);
    // SAFETY: the hook is set by `uv_loop_init` with the loop's own address
    // and cleared by `uv_loop_close`, so the loop is initialized; the
    // counters are fields of the program's struct that only the program
    // and this hook write, on the loop's thread.
    unsafe {
        (*loop_).active_handles = (*loop_).active_handles.wrapping_add(handles);
        (*loop_).active_reqs.count = (*loop_).active_reqs.count.wrapping_add(requests);
    }
}

/// `uv_loop_close`: UV_EBUSY while any handle exists, closing ones too.
/// `data` is kept.
///
/// # Safety
/// `loop_` is NULL or an initialized loop.
#[no_mangle]
pub unsafe extern "C" fn uv_loop_close(loop_: *mut uv_loop_t) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    if let Err(err) = ctx.lp.close() {
        return status(err);
    }
    ctx.lp.set_liveness_hook(None);
    ctx.lp.set_counts_hook(None);
    // SAFETY: the box was made by `uv_loop_init`; no handle (hence no
    // callback) refers to it any more.
    unsafe {
        (*loop_).ruv_private_[LIVENESS] = std::ptr::null_mut();
        let raw = std::mem::replace(&mut (*loop_).ruv_private_[0], std::ptr::null_mut());
        (*loop_).ruv_private_[1] = std::ptr::null_mut();
        drop(Box::from_raw(raw as *mut LoopCtx));
    }
    0
}

/// Storage of the default loop: `uv_default_loop` hands out its address.
struct DefaultLoop(UnsafeCell<uv_loop_t>);

// SAFETY: libuv's default loop is used from one thread at a time, like any
// loop; the cell only provides a stable address.
unsafe impl Sync for DefaultLoop {}

static DEFAULT_LOOP: DefaultLoop = DefaultLoop(UnsafeCell::new(uv_loop_t {
    data: std::ptr::null_mut(),
    active_handles: 0,
    handle_queue: [std::ptr::null_mut(); 2],
    active_reqs: uv_loop_active_reqs {
        unused: std::ptr::null_mut(),
    },
    internal_fields: std::ptr::null_mut(),
    stop_flag: 0,
    ruv_private_: [std::ptr::null_mut(); 4],
    ruv_reserved_: [std::ptr::null_mut(); crate::types::LOOP_RESERVED_WORDS],
}));

/// `uv_default_loop`: the same loop every time, initialized on first use
/// (and again after `uv_loop_close`); NULL if it cannot be created.
#[no_mangle]
pub extern "C" fn uv_default_loop() -> *mut uv_loop_t {
    let lp = DEFAULT_LOOP.0.get();
    // SAFETY: the static's address is valid for the whole program.
    if unsafe { ctx(lp) }.is_none() && unsafe { uv_loop_init(lp) } != 0 {
        return std::ptr::null_mut();
    }
    lp
}

/// `uv_run`: nonzero while the loop is alive. A call from inside one of the
/// loop's callbacks is UV_EBUSY.
///
/// # Safety
/// `loop_` is NULL or an initialized loop.
#[no_mangle]
pub unsafe extern "C" fn uv_run(loop_: *mut uv_loop_t, mode: c_int) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { ctx(loop_) }) else {
        return EINVAL;
    };
    let mode = match mode {
        0 => RunMode::Default,
        1 => RunMode::Once,
        2 => RunMode::NoWait,
        _ => return EINVAL,
    };
    // A clone: callbacks may close the loop's last handle, never the loop
    // itself while it runs, but the clone makes that independent of them.
    let lp = ctx.lp.clone();
    let _running = Running::enter(ctx);
    let result = lp.run(mode);
    // SAFETY: the loop is initialized (its context was found above) and
    // stays so: callbacks may not close a running loop.
    unsafe {
        // libuv clears the flag `uv_stop` set once the run ends, and
        // answers with its counters, which a program may have adjusted.
        (*loop_).stop_flag = 0;
        match result {
            Ok(alive) => c_int::from(
                alive || (*loop_).active_handles != 0 || (*loop_).active_reqs.count != 0,
            ),
            Err(err) => status(err),
        }
    }
}

/// Runs `f` on the loop's ruv handle, or returns `default` for a loop that
/// is not initialized.
///
/// # Safety
/// `loop_` is NULL or an initialized loop.
unsafe fn with_loop<T>(loop_: *const uv_loop_t, default: T, f: impl FnOnce(&Loop) -> T) -> T {
    // SAFETY: per the contract above.
    match unsafe { ctx(loop_) } {
        Some(ctx) => f(&ctx.lp),
        None => default,
    }
}

/// `uv_stop`.
///
/// # Safety
/// `loop_` is NULL or an initialized loop.
#[no_mangle]
pub unsafe extern "C" fn uv_stop(loop_: *mut uv_loop_t) {
    // SAFETY: per the contract above.
    unsafe {
        if ctx(loop_).is_some() {
            (*loop_).stop_flag = 1;
        }
        with_loop(loop_, (), Loop::stop)
    }
}

/// `uv_loop_alive`: one compare with memory. A loop struct that was never
/// initialized, or was closed, reads as not alive; NULL is undefined, as
/// in libuv (a NULL check cost 15 % of libuv's own `loop_alive`
/// benchmark, which calls this 200 M times in a row).
///
/// # Safety
/// `loop_` points to a loop struct the program owns.
#[no_mangle]
pub unsafe extern "C" fn uv_loop_alive(loop_: *const uv_loop_t) -> c_int {
    // SAFETY: the program owns the loop struct; its liveness word is ALIVE
    // only when the loop's hook (`mirror_alive`) wrote it.
    unsafe { c_int::from((*loop_).ruv_private_[LIVENESS] as usize == ALIVE) }
}

/// `uv_loop_get_data`: the loop's `data` field (what `loop->data` holds).
///
/// # Safety
/// `loop_` points to a loop struct (initialized or not: only `data` is read).
#[no_mangle]
pub unsafe extern "C" fn uv_loop_get_data(loop_: *const uv_loop_t) -> *mut c_void {
    // SAFETY: per the contract above.
    unsafe { (*loop_).data }
}

/// `uv_loop_set_data`: sets the loop's `data` field.
///
/// # Safety
/// `loop_` points to a writable loop struct.
#[no_mangle]
pub unsafe extern "C" fn uv_loop_set_data(loop_: *mut uv_loop_t, data: *mut c_void) {
    // SAFETY: per the contract above.
    unsafe { (*loop_).data = data };
}

/// `uv_now`.
///
/// # Safety
/// `loop_` is NULL or an initialized loop.
#[no_mangle]
pub unsafe extern "C" fn uv_now(loop_: *const uv_loop_t) -> u64 {
    // SAFETY: per the contract above.
    unsafe { with_loop(loop_, 0, Loop::now) }
}

/// `uv_update_time`.
///
/// # Safety
/// `loop_` is NULL or an initialized loop.
#[no_mangle]
pub unsafe extern "C" fn uv_update_time(loop_: *mut uv_loop_t) {
    // SAFETY: per the contract above.
    unsafe { with_loop(loop_, (), Loop::update_time) }
}

/// `uv_backend_fd`.
///
/// # Safety
/// `loop_` is NULL or an initialized loop.
#[no_mangle]
pub unsafe extern "C" fn uv_backend_fd(loop_: *const uv_loop_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { with_loop(loop_, -1, Loop::backend_fd) }
}

/// `uv_backend_timeout`.
///
/// # Safety
/// `loop_` is NULL or an initialized loop.
#[no_mangle]
pub unsafe extern "C" fn uv_backend_timeout(loop_: *const uv_loop_t) -> c_int {
    // SAFETY: per the contract above.
    unsafe { with_loop(loop_, 0, Loop::backend_timeout) }
}

/// `uv_loop_new`: a loop allocated with the allocator in force
/// (`uv_replace_allocator`) and initialized, its `data` NULL; NULL if
/// either fails. Free it with `uv_loop_delete`.
#[no_mangle]
pub extern "C" fn uv_loop_new() -> *mut uv_loop_t {
    let loop_ = crate::allocator::malloc(std::mem::size_of::<uv_loop_t>()).cast::<uv_loop_t>();
    if loop_.is_null() {
        return loop_;
    }
    // SAFETY: `loop_` is a fresh block of the loop's size (malloc aligns
    // for any type); `data` is written before `uv_loop_init` keeps it.
    unsafe {
        std::ptr::addr_of_mut!((*loop_).data).write(std::ptr::null_mut());
        if uv_loop_init(loop_) != 0 {
            crate::allocator::free(loop_.cast());
            return std::ptr::null_mut();
        }
    }
    loop_
}

/// `uv_loop_delete`: `uv_loop_close`, then frees a loop of `uv_loop_new`
/// (never the default loop). A loop that cannot be closed (handles remain:
/// libuv asserts) is left alone, allocated and usable, rather than freed
/// under its handles.
///
/// # Safety
/// `loop_` is NULL, the default loop or a loop from `uv_loop_new` not
/// deleted yet.
#[no_mangle]
pub unsafe extern "C" fn uv_loop_delete(loop_: *mut uv_loop_t) {
    // SAFETY: per the contract above.
    if loop_.is_null() || unsafe { uv_loop_close(loop_) } != 0 {
        return;
    }
    if loop_ != DEFAULT_LOOP.0.get() {
        // SAFETY: from `uv_loop_new`, hence from the allocator, and closed.
        unsafe { crate::allocator::free(loop_.cast()) };
    }
}
