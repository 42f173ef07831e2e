/* shim.c: the parts of libuv's C API that are easiest to write in C.
 *
 * - uv_loop_configure is variadic; Rust cannot define C variadic functions
 *   on stable, so it lives here. It never touches the loop's private fields.
 * - The thread primitives (threads, mutexes, semaphores, barriers, once,
 *   thread-local keys, condition variables, read-write locks) are thin
 *   wrappers over pthreads and POSIX semaphores, with libuv's conventions: errors come back as UV_E* codes
 *   (-errno), and failures libuv treats as fatal (destroying a locked mutex,
 *   unlocking one we do not own, ...) abort().
 *
 * Part of uv-compat (ruv); compiled by build.rs with the cc crate.
 */
#include "uv.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The calls below fail only on misuse (a primitive not initialised, a
 * deadlock the library detects, unlocking what this thread does not hold,
 * destroying what is in use), which libuv treats as fatal: abort unless
 * `err` (an error number, or -1 from the sem_* and clock calls) is 0. */
static void ruv_check(int err) {
  if (err != 0)
    abort();
}

/* A try-lock's result: 0 when taken, UV_EBUSY when somebody holds it
 * (EBUSY) or too many readers do (EAGAIN); anything else is misuse. */
static int ruv_try_result(int err) {
  if (err == 0)
    return 0;
  if (err == EBUSY || err == EAGAIN)
    return UV_EBUSY;
  abort();
  return UV_EINVAL; /* not reached */
}

/* ---- loop ------------------------------------------------------------- */

int uv_loop_configure(uv_loop_t* loop, uv_loop_option option, ...) {
  va_list ap;
  int signum;

  if (loop == NULL)
    return UV_EINVAL;

  switch (option) {
    case UV_LOOP_BLOCK_SIGNAL:
      /* libuv blocks only SIGPROF (while polling). Accepted without
       * effect: a signal that interrupts ruv's poll just starts the next
       * loop iteration, as a spurious wakeup would. */
      va_start(ap, option);
      signum = va_arg(ap, int);
      va_end(ap);
      return signum == SIGPROF ? 0 : UV_EINVAL;

    case UV_METRICS_IDLE_TIME:
      /* The Rust forwarder (shim.rs) has started the measurement. */
      return 0;

    case UV_LOOP_USE_IO_URING_SQPOLL:
      /* Accepted as libuv 1.49+ does; ruv polls with epoll regardless. */
      return 0;

    default:
      return UV_ENOSYS;
  }
}

/* ---- threads ---------------------------------------------------------- */

struct ruv_thread_start {
  uv_thread_cb entry;
  void* arg;
};

static void* ruv_thread_main(void* opaque) {
  struct ruv_thread_start start = *(struct ruv_thread_start*) opaque;
  free(opaque);
  start.entry(start.arg);
  return NULL;
}

int uv_thread_create(uv_thread_t* tid, uv_thread_cb entry, void* arg) {
  uv_thread_options_t params;
  params.flags = UV_THREAD_NO_FLAGS;
  params.stack_size = 0;
  return uv_thread_create_ex(tid, &params, entry, arg);
}

/* libuv's rule for a requested stack size: 0 means the default; anything
 * else is rounded up to whole pages and to at least PTHREAD_STACK_MIN. */
static size_t ruv_stack_size(const uv_thread_options_t* params) {
  size_t size;
  size_t page;

  if (params == NULL || !(params->flags & UV_THREAD_HAS_STACK_SIZE))
    return 0;
  size = params->stack_size;
  if (size == 0)
    return 0;
  page = (size_t) sysconf(_SC_PAGESIZE);
  size = (size + page - 1) & ~(page - 1);
  if (size < (size_t) PTHREAD_STACK_MIN)
    size = (size_t) PTHREAD_STACK_MIN;
  return size;
}

int uv_thread_create_ex(uv_thread_t* tid,
                        const uv_thread_options_t* params,
                        uv_thread_cb entry,
                        void* arg) {
  struct ruv_thread_start* start;
  pthread_attr_t attr;
  pthread_attr_t* attrp = NULL;
  size_t stack_size;
  int err;

  if (tid == NULL || entry == NULL)
    return UV_EINVAL;

  stack_size = ruv_stack_size(params);
  if (stack_size != 0) {
    ruv_check(pthread_attr_init(&attr));
    ruv_check(pthread_attr_setstacksize(&attr, stack_size));
    attrp = &attr;
  }

  start = malloc(sizeof(*start));
  if (start == NULL) {
    if (attrp != NULL)
      pthread_attr_destroy(attrp);
    return UV_ENOMEM;
  }
  start->entry = entry;
  start->arg = arg;

  err = pthread_create(tid, attrp, ruv_thread_main, start);
  if (attrp != NULL)
    pthread_attr_destroy(attrp);
  if (err != 0) {
    free(start);
    return -err;
  }
  return 0;
}

/* ---- once and thread-local keys --------------------------------------- */

void uv_once(uv_once_t* guard, void (*callback)(void)) {
  ruv_check(pthread_once(guard, callback));
}

int uv_key_create(uv_key_t* key) {
  return -pthread_key_create(key, NULL);
}

void uv_key_delete(uv_key_t* key) {
  ruv_check(pthread_key_delete(*key));
}

void* uv_key_get(uv_key_t* key) {
  return pthread_getspecific(*key);
}

void uv_key_set(uv_key_t* key, void* value) {
  ruv_check(pthread_setspecific(*key, value));
}

/* ---- condition variables ------------------------------------------------
 * On the monotonic clock, as libuv's: uv_cond_timedwait's timeout is
 * relative, so a change of the wall clock must not stretch or cut it. */

int uv_cond_init(uv_cond_t* cond) {
  pthread_condattr_t attr;
  int err;

  err = pthread_condattr_init(&attr);
  if (err != 0)
    return -err;
  err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (err == 0)
    err = pthread_cond_init(cond, &attr);
  pthread_condattr_destroy(&attr);
  return -err;
}

void uv_cond_destroy(uv_cond_t* cond) {
  ruv_check(pthread_cond_destroy(cond));
}

void uv_cond_signal(uv_cond_t* cond) {
  ruv_check(pthread_cond_signal(cond));
}

void uv_cond_broadcast(uv_cond_t* cond) {
  ruv_check(pthread_cond_broadcast(cond));
}

void uv_cond_wait(uv_cond_t* cond, uv_mutex_t* mutex) {
  ruv_check(pthread_cond_wait(cond, mutex));
}

/* 0 when signalled (or woken spuriously, as libuv allows), UV_ETIMEDOUT
 * once `timeout` nanoseconds have passed. */
int uv_cond_timedwait(uv_cond_t* cond, uv_mutex_t* mutex, uint64_t timeout) {
  struct timespec now;
  struct timespec until;
  uint64_t ns;
  int err;

  ruv_check(clock_gettime(CLOCK_MONOTONIC, &now));
  ns = (uint64_t) now.tv_nsec + timeout % 1000000000u;
  until.tv_sec = now.tv_sec + (time_t) (timeout / 1000000000u) + (time_t) (ns / 1000000000u);
  until.tv_nsec = (long) (ns % 1000000000u);

  err = pthread_cond_timedwait(cond, mutex, &until);
  if (err == 0)
    return 0;
  if (err == ETIMEDOUT)
    return UV_ETIMEDOUT;
  abort();
  return UV_EINVAL; /* not reached */
}

/* ---- read-write locks --------------------------------------------------- */

static pthread_rwlock_t* ruv_rwlock(uv_rwlock_t* rwlock) {
  return (pthread_rwlock_t*) rwlock;
}

int uv_rwlock_init(uv_rwlock_t* rwlock) {
  return -pthread_rwlock_init(ruv_rwlock(rwlock), NULL);
}

void uv_rwlock_destroy(uv_rwlock_t* rwlock) {
  ruv_check(pthread_rwlock_destroy(ruv_rwlock(rwlock)));
}

void uv_rwlock_rdlock(uv_rwlock_t* rwlock) {
  ruv_check(pthread_rwlock_rdlock(ruv_rwlock(rwlock)));
}

/* UV_EBUSY when a writer holds it (or too many readers do). */
int uv_rwlock_tryrdlock(uv_rwlock_t* rwlock) {
  return ruv_try_result(pthread_rwlock_tryrdlock(ruv_rwlock(rwlock)));
}

void uv_rwlock_rdunlock(uv_rwlock_t* rwlock) {
  ruv_check(pthread_rwlock_unlock(ruv_rwlock(rwlock)));
}

void uv_rwlock_wrlock(uv_rwlock_t* rwlock) {
  ruv_check(pthread_rwlock_wrlock(ruv_rwlock(rwlock)));
}

/* UV_EBUSY when anybody holds it. */
int uv_rwlock_trywrlock(uv_rwlock_t* rwlock) {
  return ruv_try_result(pthread_rwlock_trywrlock(ruv_rwlock(rwlock)));
}

void uv_rwlock_wrunlock(uv_rwlock_t* rwlock) {
  ruv_check(pthread_rwlock_unlock(ruv_rwlock(rwlock)));
}

int uv_thread_join(uv_thread_t* tid) {
  if (tid == NULL)
    return UV_EINVAL;
  return -pthread_join(*tid, NULL);
}

uv_thread_t uv_thread_self(void) {
  return pthread_self();
}

int uv_thread_equal(const uv_thread_t* t1, const uv_thread_t* t2) {
  return pthread_equal(*t1, *t2);
}

/* ---- mutexes ---------------------------------------------------------- */

int uv_mutex_init(uv_mutex_t* mutex) {
  return -pthread_mutex_init(mutex, NULL);
}

int uv_mutex_init_recursive(uv_mutex_t* mutex) {
  pthread_mutexattr_t attr;
  int err;

  ruv_check(pthread_mutexattr_init(&attr));
  ruv_check(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE));
  err = pthread_mutex_init(mutex, &attr);
  ruv_check(pthread_mutexattr_destroy(&attr));
  return -err;
}

void uv_mutex_destroy(uv_mutex_t* mutex) {
  ruv_check(pthread_mutex_destroy(mutex));
}

void uv_mutex_lock(uv_mutex_t* mutex) {
  ruv_check(pthread_mutex_lock(mutex));
}

int uv_mutex_trylock(uv_mutex_t* mutex) {
  return ruv_try_result(pthread_mutex_trylock(mutex));
}

void uv_mutex_unlock(uv_mutex_t* mutex) {
  ruv_check(pthread_mutex_unlock(mutex));
}

/* ---- semaphores ------------------------------------------------------- */

int uv_sem_init(uv_sem_t* sem, unsigned int value) {
  if (sem_init(sem, 0, value) != 0)
    return -errno;
  return 0;
}

void uv_sem_destroy(uv_sem_t* sem) {
  ruv_check(sem_destroy(sem));
}

void uv_sem_post(uv_sem_t* sem) {
  ruv_check(sem_post(sem));
}

void uv_sem_wait(uv_sem_t* sem) {
  int r;
  do
    r = sem_wait(sem);
  while (r == -1 && errno == EINTR);
  ruv_check(r);
}

int uv_sem_trywait(uv_sem_t* sem) {
  int r;
  do
    r = sem_trywait(sem);
  while (r == -1 && errno == EINTR);
  if (r == 0)
    return 0;
  if (errno != EAGAIN)
    abort();
  return UV_EAGAIN;
}

/* ---- barriers ----------------------------------------------------------
 *
 * ruv_waiting_ counts the threads inside uv_barrier_wait. ruv_generation_
 * is even while threads gather and odd while the released ones leave: a
 * thread arriving during that drain waits for the next (even) generation,
 * so a fast thread can go round again without mixing the counts. The last
 * thread to leave makes the generation even again. uv_barrier_destroy waits
 * for the drain, so it is safe right after uv_barrier_wait returns in any
 * thread.
 */

/* The state lives on the heap, as in libuv's portable barrier: libuv's
 * uv_barrier_t has pthread_barrier_t's size, too small for a mutex and a
 * condition variable. */
struct ruv_barrier {
  pthread_mutex_t ruv_mutex_;
  pthread_cond_t ruv_cond_;
  unsigned int ruv_threshold_;
  unsigned int ruv_waiting_;
  unsigned int ruv_generation_;
};

int uv_barrier_init(uv_barrier_t* handle, unsigned int count) {
  struct ruv_barrier* barrier;
  int err;

  if (handle == NULL || count == 0)
    return UV_EINVAL;

  barrier = malloc(sizeof(*barrier));
  if (barrier == NULL)
    return UV_ENOMEM;
  err = pthread_mutex_init(&barrier->ruv_mutex_, NULL);
  if (err != 0) {
    free(barrier);
    return -err;
  }
  err = pthread_cond_init(&barrier->ruv_cond_, NULL);
  if (err != 0) {
    pthread_mutex_destroy(&barrier->ruv_mutex_);
    free(barrier);
    return -err;
  }
  handle->ruv_state_ = barrier;
  barrier->ruv_threshold_ = count;
  barrier->ruv_waiting_ = 0;
  barrier->ruv_generation_ = 0;
  return 0;
}

int uv_barrier_wait(uv_barrier_t* handle) {
  struct ruv_barrier* barrier = handle->ruv_state_;
  unsigned int gathering;
  int last;

  uv_mutex_lock(&barrier->ruv_mutex_);

  /* Wait out the drain of the previous round. */
  while (barrier->ruv_generation_ & 1u)
    ruv_check(pthread_cond_wait(&barrier->ruv_cond_, &barrier->ruv_mutex_));

  gathering = barrier->ruv_generation_;
  last = ++barrier->ruv_waiting_ == barrier->ruv_threshold_;
  if (last) {
    barrier->ruv_generation_++; /* odd: release everyone */
    ruv_check(pthread_cond_broadcast(&barrier->ruv_cond_));
  } else {
    while (barrier->ruv_generation_ == gathering)
      ruv_check(pthread_cond_wait(&barrier->ruv_cond_, &barrier->ruv_mutex_));
  }

  if (--barrier->ruv_waiting_ == 0) {
    barrier->ruv_generation_++; /* even: the next round may gather */
    ruv_check(pthread_cond_broadcast(&barrier->ruv_cond_));
  }

  uv_mutex_unlock(&barrier->ruv_mutex_);
  return last;
}

void uv_barrier_destroy(uv_barrier_t* handle) {
  struct ruv_barrier* barrier = handle->ruv_state_;

  uv_mutex_lock(&barrier->ruv_mutex_);
  while (barrier->ruv_generation_ & 1u)
    ruv_check(pthread_cond_wait(&barrier->ruv_cond_, &barrier->ruv_mutex_));
  /* Threads still gathering: destroying now is a bug in the program. */
  if (barrier->ruv_waiting_ != 0)
    abort();
  uv_mutex_unlock(&barrier->ruv_mutex_);

  ruv_check(pthread_cond_destroy(&barrier->ruv_cond_));
  uv_mutex_destroy(&barrier->ruv_mutex_);
  free(barrier);
  handle->ruv_state_ = NULL;
}
