/* thread_sync.c: libuv's remaining thread primitives.
 *
 * Covers: uv_thread_create_ex (default stack; a requested stack size of 1
 * byte, which libuv rounds up to a usable size; a large one), uv_once (one
 * call across racing threads), uv_key_* (one value per thread, NULL
 * before set, delete), uv_cond_* (signal wakes a waiter, broadcast wakes
 * all, timedwait returns UV_ETIMEDOUT after its timeout and 0 when
 * signalled), uv_rwlock_* (readers share, a writer excludes: tryrdlock and
 * trywrlock answer UV_EBUSY as they should, 0 otherwise).
 */
#include <uv.h>

#include "test.h"

#define THREADS 8

/* ---- uv_thread_create_ex ------------------------------------------------ */

static void touch_stack(void* arg) {
  volatile char buf[4096];
  buf[0] = 1;
  buf[sizeof(buf) - 1] = 2;
  *(int*) arg = buf[0] + buf[sizeof(buf) - 1];
}

static void check_thread_create_ex(void) {
  static const size_t sizes[] = {0, 1, 1024 * 1024};
  size_t i;
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    uv_thread_options_t opts;
    uv_thread_t tid;
    int result = 0;
    opts.flags = UV_THREAD_HAS_STACK_SIZE;
    opts.stack_size = sizes[i];
    ASSERT_EQ(uv_thread_create_ex(&tid, &opts, touch_stack, &result), 0);
    ASSERT_EQ(uv_thread_join(&tid), 0);
    ASSERT_EQ(result, 3);
  }
  {
    uv_thread_options_t opts;
    uv_thread_t tid;
    int result = 0;
    opts.flags = UV_THREAD_NO_FLAGS;
    opts.stack_size = 1; /* ignored without the flag */
    ASSERT_EQ(uv_thread_create_ex(&tid, &opts, touch_stack, &result), 0);
    ASSERT_EQ(uv_thread_join(&tid), 0);
    ASSERT_EQ(result, 3);
  }
}

/* ---- uv_once ------------------------------------------------------------ */

static uv_once_t once_guard = UV_ONCE_INIT;
static int once_calls;

static void once_cb(void) {
  once_calls++;
}

static void call_once(void* arg) {
  (void) arg;
  uv_once(&once_guard, once_cb);
}

static void check_once(void) {
  uv_thread_t tids[THREADS];
  int i;
  for (i = 0; i < THREADS; i++)
    ASSERT_EQ(uv_thread_create(&tids[i], call_once, NULL), 0);
  for (i = 0; i < THREADS; i++)
    ASSERT_EQ(uv_thread_join(&tids[i]), 0);
  uv_once(&once_guard, once_cb);
  ASSERT_EQ(once_calls, 1);
}

/* ---- uv_key ------------------------------------------------------------- */

static uv_key_t key;

static void use_key(void* arg) {
  ASSERT_NULL(uv_key_get(&key));
  uv_key_set(&key, arg);
  ASSERT_PTR_EQ(uv_key_get(&key), arg);
}

static void check_keys(void) {
  int mine, theirs;
  uv_thread_t tid;
  ASSERT_EQ(uv_key_create(&key), 0);
  ASSERT_NULL(uv_key_get(&key));
  uv_key_set(&key, &mine);
  ASSERT_EQ(uv_thread_create(&tid, use_key, &theirs), 0);
  ASSERT_EQ(uv_thread_join(&tid), 0);
  ASSERT_PTR_EQ(uv_key_get(&key), &mine); /* the other thread's is its own */
  uv_key_set(&key, NULL);
  ASSERT_NULL(uv_key_get(&key));
  uv_key_delete(&key);
}

/* ---- uv_cond ------------------------------------------------------------ */

static uv_mutex_t mutex;
static uv_cond_t cond;
static int ready;   /* waiters that are waiting */
static int go;      /* the condition the waiters wait for */
static int woken;

static void wait_for_go(void* arg) {
  (void) arg;
  uv_mutex_lock(&mutex);
  ready++;
  uv_cond_broadcast(&cond); /* tell the main thread */
  while (!go)
    uv_cond_wait(&cond, &mutex);
  woken++;
  uv_mutex_unlock(&mutex);
}

static void check_cond(void) {
  uv_thread_t tids[THREADS];
  uint64_t before;
  int i;

  ASSERT_EQ(uv_mutex_init(&mutex), 0);
  ASSERT_EQ(uv_cond_init(&cond), 0);

  /* A timed wait nobody signals times out, after its timeout. */
  uv_mutex_lock(&mutex);
  before = uv_hrtime();
  ASSERT_EQ(uv_cond_timedwait(&cond, &mutex, 20 * 1000 * 1000), UV_ETIMEDOUT);
  ASSERT_GE(uv_hrtime() - before, 20 * 1000 * 1000);
  uv_mutex_unlock(&mutex);

  /* Broadcast wakes every waiter. */
  for (i = 0; i < THREADS; i++)
    ASSERT_EQ(uv_thread_create(&tids[i], wait_for_go, NULL), 0);
  uv_mutex_lock(&mutex);
  while (ready < THREADS)
    uv_cond_wait(&cond, &mutex);
  go = 1;
  uv_cond_broadcast(&cond);
  uv_mutex_unlock(&mutex);
  for (i = 0; i < THREADS; i++)
    ASSERT_EQ(uv_thread_join(&tids[i]), 0);
  ASSERT_EQ(woken, THREADS);

  /* Signal wakes a waiter; a timed wait that is signalled returns 0. */
  ready = 0;
  go = 0;
  woken = 0;
  ASSERT_EQ(uv_thread_create(&tids[0], wait_for_go, NULL), 0);
  uv_mutex_lock(&mutex);
  while (ready < 1)
    ASSERT_EQ(uv_cond_timedwait(&cond, &mutex, (uint64_t) 10 * 1000 * 1000 * 1000), 0);
  go = 1;
  uv_cond_signal(&cond);
  uv_mutex_unlock(&mutex);
  ASSERT_EQ(uv_thread_join(&tids[0]), 0);
  ASSERT_EQ(woken, 1);

  uv_cond_destroy(&cond);
  uv_mutex_destroy(&mutex);
}

/* ---- uv_rwlock ---------------------------------------------------------- */

static uv_rwlock_t rwlock;
static int try_result;

static void try_read(void* arg) {
  (void) arg;
  try_result = uv_rwlock_tryrdlock(&rwlock);
  if (try_result == 0)
    uv_rwlock_rdunlock(&rwlock);
}

static void try_write(void* arg) {
  (void) arg;
  try_result = uv_rwlock_trywrlock(&rwlock);
  if (try_result == 0)
    uv_rwlock_wrunlock(&rwlock);
}

static int try_in_thread(uv_thread_cb fn) {
  uv_thread_t tid;
  ASSERT_EQ(uv_thread_create(&tid, fn, NULL), 0);
  ASSERT_EQ(uv_thread_join(&tid), 0);
  return try_result;
}

static void check_rwlock(void) {
  ASSERT_EQ(uv_rwlock_init(&rwlock), 0);
  /* Free: both kinds succeed. */
  ASSERT_EQ(try_in_thread(try_read), 0);
  ASSERT_EQ(try_in_thread(try_write), 0);
  /* Read-locked: readers share, a writer is refused. */
  uv_rwlock_rdlock(&rwlock);
  ASSERT_EQ(try_in_thread(try_read), 0);
  ASSERT_EQ(try_in_thread(try_write), UV_EBUSY);
  uv_rwlock_rdunlock(&rwlock);
  /* Write-locked: everybody is refused. */
  uv_rwlock_wrlock(&rwlock);
  ASSERT_EQ(try_in_thread(try_read), UV_EBUSY);
  ASSERT_EQ(try_in_thread(try_write), UV_EBUSY);
  uv_rwlock_wrunlock(&rwlock);
  /* The calling thread's own try functions. */
  ASSERT_EQ(uv_rwlock_tryrdlock(&rwlock), 0);
  uv_rwlock_rdunlock(&rwlock);
  ASSERT_EQ(uv_rwlock_trywrlock(&rwlock), 0);
  uv_rwlock_wrunlock(&rwlock);
  uv_rwlock_destroy(&rwlock);
}

int main(void) {
  check_thread_create_ex();
  check_once();
  check_keys();
  check_cond();
  check_rwlock();
  return 0;
}
