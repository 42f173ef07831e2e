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
}

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
}
