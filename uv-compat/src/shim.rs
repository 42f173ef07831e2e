//! Exports the functions written in C (`src/shim.c`): the variadic
//! `uv_loop_configure` and the pthread wrappers. build.rs compiles them under
//! `ruv_shim_*` names because a cdylib exports only Rust symbols; these
//! forwarders carry libuv's names.

use libc::{c_int, c_uint, c_void, pthread_t};

/// `uv_thread_cb`.
type ThreadCb = Option<unsafe extern "C" fn(*mut c_void)>;

extern "C" {
    fn ruv_shim_uv_loop_configure(loop_: *mut c_void, option: c_int, ...) -> c_int;
    fn ruv_shim_uv_thread_create(tid: *mut pthread_t, entry: ThreadCb, arg: *mut c_void) -> c_int;
    fn ruv_shim_uv_thread_join(tid: *mut pthread_t) -> c_int;
    fn ruv_shim_uv_thread_self() -> pthread_t;
    fn ruv_shim_uv_thread_equal(t1: *const pthread_t, t2: *const pthread_t) -> c_int;
    fn ruv_shim_uv_mutex_init(m: *mut c_void) -> c_int;
    fn ruv_shim_uv_mutex_init_recursive(m: *mut c_void) -> c_int;
    fn ruv_shim_uv_mutex_destroy(m: *mut c_void);
    fn ruv_shim_uv_mutex_lock(m: *mut c_void);
    fn ruv_shim_uv_mutex_trylock(m: *mut c_void) -> c_int;
    fn ruv_shim_uv_mutex_unlock(m: *mut c_void);
    fn ruv_shim_uv_sem_init(s: *mut c_void, value: c_uint) -> c_int;
    fn ruv_shim_uv_sem_destroy(s: *mut c_void);
    fn ruv_shim_uv_sem_post(s: *mut c_void);
    fn ruv_shim_uv_sem_wait(s: *mut c_void);
    fn ruv_shim_uv_sem_trywait(s: *mut c_void) -> c_int;
    fn ruv_shim_uv_barrier_init(b: *mut c_void, count: c_uint) -> c_int;
    fn ruv_shim_uv_barrier_destroy(b: *mut c_void);
    fn ruv_shim_uv_barrier_wait(b: *mut c_void) -> c_int;
    fn ruv_shim_uv_thread_create_ex(
        tid: *mut pthread_t,
        params: *const c_void,
        entry: ThreadCb,
        arg: *mut c_void,
    ) -> c_int;
    fn ruv_shim_uv_once(guard: *mut c_void, cb: OnceCb);
    fn ruv_shim_uv_key_create(key: *mut c_void) -> c_int;
    fn ruv_shim_uv_key_delete(key: *mut c_void);
    fn ruv_shim_uv_key_get(key: *mut c_void) -> *mut c_void;
    fn ruv_shim_uv_key_set(key: *mut c_void, value: *mut c_void);
    fn ruv_shim_uv_cond_init(c: *mut c_void) -> c_int;
    fn ruv_shim_uv_cond_destroy(c: *mut c_void);
    fn ruv_shim_uv_cond_signal(c: *mut c_void);
    fn ruv_shim_uv_cond_broadcast(c: *mut c_void);
    fn ruv_shim_uv_cond_wait(c: *mut c_void, m: *mut c_void);
    fn ruv_shim_uv_cond_timedwait(c: *mut c_void, m: *mut c_void, timeout: u64) -> c_int;
    fn ruv_shim_uv_rwlock_init(l: *mut c_void) -> c_int;
    fn ruv_shim_uv_rwlock_destroy(l: *mut c_void);
    fn ruv_shim_uv_rwlock_rdlock(l: *mut c_void);
    fn ruv_shim_uv_rwlock_tryrdlock(l: *mut c_void) -> c_int;
    fn ruv_shim_uv_rwlock_rdunlock(l: *mut c_void);
    fn ruv_shim_uv_rwlock_wrlock(l: *mut c_void);
    fn ruv_shim_uv_rwlock_trywrlock(l: *mut c_void) -> c_int;
    fn ruv_shim_uv_rwlock_wrunlock(l: *mut c_void);
}

/// `uv_once`'s callback.
type OnceCb = Option<unsafe extern "C" fn()>;

/// `uv_loop_configure(loop, option, ...)`. Every option libuv defines takes
/// at most one `int` after `option`, and on the supported Linux ABIs a
/// variadic `int` travels exactly like a named one, so this forwarder takes
/// it as a named argument and hands it on to the variadic C function.
///
/// UV_EINVAL for a loop that is not initialized, as everywhere else.
///
/// # Safety
/// `loop_` is NULL or points to a `uv_loop_t` the program owns.
#[no_mangle]
pub unsafe extern "C" fn uv_loop_configure(loop_: *mut c_void, option: c_int, arg: c_int) -> c_int {
    // SAFETY: per the contract above.
    let Some(ctx) = (unsafe { crate::loops::ctx(loop_ as *const crate::types::uv_loop_t) }) else {
        return crate::handles::EINVAL;
    };
    if option == UV_METRICS_IDLE_TIME {
        // The loop's part; the C side only validates options.
        ctx.lp.measure_idle_time();
    }
    // SAFETY: forwarded contract; the C side reads at most one int.
    unsafe { ruv_shim_uv_loop_configure(loop_, option, arg) }
}

/// `UV_METRICS_IDLE_TIME` of `uv_loop_option`.
const UV_METRICS_IDLE_TIME: c_int = 1;

/// Declares `#[no_mangle]` forwarders to the `ruv_shim_*` C functions.
macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident => $target:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?; )*) => {
        $(
            $(#[$doc])*
            ///
            /// # Safety
            /// As libuv's: pointers refer to valid, initialized objects.
            #[no_mangle]
            pub unsafe extern "C" fn $name($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: forwarded contract.
                unsafe { $target($($arg),*) }
            }
        )*
    };
}

forward! {
    /// `uv_thread_create`.
    fn uv_thread_create => ruv_shim_uv_thread_create(tid: *mut pthread_t, entry: ThreadCb, arg: *mut c_void) -> c_int;
    /// `uv_thread_join`.
    fn uv_thread_join => ruv_shim_uv_thread_join(tid: *mut pthread_t) -> c_int;
    /// `uv_thread_self`.
    fn uv_thread_self => ruv_shim_uv_thread_self() -> pthread_t;
    /// `uv_thread_equal`.
    fn uv_thread_equal => ruv_shim_uv_thread_equal(t1: *const pthread_t, t2: *const pthread_t) -> c_int;
    /// `uv_mutex_init`.
    fn uv_mutex_init => ruv_shim_uv_mutex_init(m: *mut c_void) -> c_int;
    /// `uv_mutex_init_recursive`.
    fn uv_mutex_init_recursive => ruv_shim_uv_mutex_init_recursive(m: *mut c_void) -> c_int;
    /// `uv_mutex_destroy`.
    fn uv_mutex_destroy => ruv_shim_uv_mutex_destroy(m: *mut c_void);
    /// `uv_mutex_lock`.
    fn uv_mutex_lock => ruv_shim_uv_mutex_lock(m: *mut c_void);
    /// `uv_mutex_trylock`.
    fn uv_mutex_trylock => ruv_shim_uv_mutex_trylock(m: *mut c_void) -> c_int;
    /// `uv_mutex_unlock`.
    fn uv_mutex_unlock => ruv_shim_uv_mutex_unlock(m: *mut c_void);
    /// `uv_sem_init`.
    fn uv_sem_init => ruv_shim_uv_sem_init(s: *mut c_void, value: c_uint) -> c_int;
    /// `uv_sem_destroy`.
    fn uv_sem_destroy => ruv_shim_uv_sem_destroy(s: *mut c_void);
    /// `uv_sem_post`.
    fn uv_sem_post => ruv_shim_uv_sem_post(s: *mut c_void);
    /// `uv_sem_wait`.
    fn uv_sem_wait => ruv_shim_uv_sem_wait(s: *mut c_void);
    /// `uv_sem_trywait`.
    fn uv_sem_trywait => ruv_shim_uv_sem_trywait(s: *mut c_void) -> c_int;
    /// `uv_barrier_init`.
    fn uv_barrier_init => ruv_shim_uv_barrier_init(b: *mut c_void, count: c_uint) -> c_int;
    /// `uv_barrier_destroy`.
    fn uv_barrier_destroy => ruv_shim_uv_barrier_destroy(b: *mut c_void);
    /// `uv_barrier_wait`.
    fn uv_barrier_wait => ruv_shim_uv_barrier_wait(b: *mut c_void) -> c_int;
    /// `uv_thread_create_ex`: a stack size is rounded up to whole pages and
    /// to at least `PTHREAD_STACK_MIN`, as libuv does.
    fn uv_thread_create_ex => ruv_shim_uv_thread_create_ex(tid: *mut pthread_t, params: *const c_void, entry: ThreadCb, arg: *mut c_void) -> c_int;
    /// `uv_once`.
    fn uv_once => ruv_shim_uv_once(guard: *mut c_void, cb: OnceCb);
    /// `uv_key_create`.
    fn uv_key_create => ruv_shim_uv_key_create(key: *mut c_void) -> c_int;
    /// `uv_key_delete`.
    fn uv_key_delete => ruv_shim_uv_key_delete(key: *mut c_void);
    /// `uv_key_get`.
    fn uv_key_get => ruv_shim_uv_key_get(key: *mut c_void) -> *mut c_void;
    /// `uv_key_set`.
    fn uv_key_set => ruv_shim_uv_key_set(key: *mut c_void, value: *mut c_void);
    /// `uv_cond_init` (on the monotonic clock).
    fn uv_cond_init => ruv_shim_uv_cond_init(c: *mut c_void) -> c_int;
    /// `uv_cond_destroy`.
    fn uv_cond_destroy => ruv_shim_uv_cond_destroy(c: *mut c_void);
    /// `uv_cond_signal`.
    fn uv_cond_signal => ruv_shim_uv_cond_signal(c: *mut c_void);
    /// `uv_cond_broadcast`.
    fn uv_cond_broadcast => ruv_shim_uv_cond_broadcast(c: *mut c_void);
    /// `uv_cond_wait`.
    fn uv_cond_wait => ruv_shim_uv_cond_wait(c: *mut c_void, m: *mut c_void);
    /// `uv_cond_timedwait`: 0, or `UV_ETIMEDOUT` after `timeout` ns.
    fn uv_cond_timedwait => ruv_shim_uv_cond_timedwait(c: *mut c_void, m: *mut c_void, timeout: u64) -> c_int;
    /// `uv_rwlock_init`.
    fn uv_rwlock_init => ruv_shim_uv_rwlock_init(l: *mut c_void) -> c_int;
    /// `uv_rwlock_destroy`.
    fn uv_rwlock_destroy => ruv_shim_uv_rwlock_destroy(l: *mut c_void);
    /// `uv_rwlock_rdlock`.
    fn uv_rwlock_rdlock => ruv_shim_uv_rwlock_rdlock(l: *mut c_void);
    /// `uv_rwlock_tryrdlock`: `UV_EBUSY` while a writer holds it.
    fn uv_rwlock_tryrdlock => ruv_shim_uv_rwlock_tryrdlock(l: *mut c_void) -> c_int;
    /// `uv_rwlock_rdunlock`.
    fn uv_rwlock_rdunlock => ruv_shim_uv_rwlock_rdunlock(l: *mut c_void);
    /// `uv_rwlock_wrlock`.
    fn uv_rwlock_wrlock => ruv_shim_uv_rwlock_wrlock(l: *mut c_void);
    /// `uv_rwlock_trywrlock`: `UV_EBUSY` while anybody holds it.
    fn uv_rwlock_trywrlock => ruv_shim_uv_rwlock_trywrlock(l: *mut c_void) -> c_int;
    /// `uv_rwlock_wrunlock`.
    fn uv_rwlock_wrunlock => ruv_shim_uv_rwlock_wrunlock(l: *mut c_void);
}
