/* async.c: uv_async_t and the thread primitives a test needs.
 *
 * Covers: uv_async_init (active, keeps the loop alive, NULL callback
 * allowed), sends coalescing into one callback, uv_async_send from a second
 * thread made with uv_thread_create waking a loop blocked in poll (one
 * callback per send when the sender waits for each callback), closing the
 * async handle from its own callback, uv_thread_join, uv_thread_self and
 * uv_thread_equal, uv_mutex_* (trylock -> UV_EBUSY while held),
 * uv_sem_* (trywait -> UV_EAGAIN at zero), uv_barrier_* (exactly one waiter
 * gets a value > 0), uv_available_parallelism() >= 1, uv_async_send while
 * the handle is closing (0, no callback).
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include "test.h"

#define ROUNDS 20

static uv_loop_t loop;
static uv_async_t async;
static uv_mutex_t mutex;
static uv_sem_t sem_cb;
static uv_barrier_t barrier;
static uv_thread_t worker_self;
static int async_calls;
static int serializers;

static void coalesce_cb(uv_async_t* h) {
  ASSERT_PTR_EQ(h, &async);
  async_calls++;
}

static void test_coalesce(void) {
  ASSERT_OK(uv_async_init(&loop, &async, coalesce_cb));
  ASSERT_EQ(async.type, UV_ASYNC);
  ASSERT_NE(uv_is_active((uv_handle_t*) &async), 0);
  ASSERT_NE(uv_loop_alive(&loop), 0);

  async_calls = 0;
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(async_calls, 0);

  ASSERT_OK(uv_async_send(&async));
  ASSERT_OK(uv_async_send(&async));
  ASSERT_OK(uv_async_send(&async));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(async_calls, 1);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(async_calls, 1);

  /* A send then ONCE: the loop wakes at once and runs the callback. */
  ASSERT_OK(uv_async_send(&async));
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(async_calls, 2);

  uv_close((uv_handle_t*) &async, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static void test_null_callback(void) {
  uv_async_t a;
  ASSERT_OK(uv_async_init(&loop, &a, NULL));
  ASSERT_OK(uv_async_send(&a));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_OK(uv_async_send(&a));
  uv_unref((uv_handle_t*) &a);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  uv_close((uv_handle_t*) &a, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static void thread_async_cb(uv_async_t* h) {
  int n;
  ASSERT_PTR_EQ(h, &async);
  uv_mutex_lock(&mutex);
  n = ++async_calls;
  uv_mutex_unlock(&mutex);
  if (n == ROUNDS)
    uv_close((uv_handle_t*) h, NULL);
  uv_sem_post(&sem_cb);
}

static void worker(void* arg) {
  int i;
  ASSERT_PTR_EQ(arg, &loop);
  uv_mutex_lock(&mutex);
  worker_self = uv_thread_self();
  uv_mutex_unlock(&mutex);

  if (uv_barrier_wait(&barrier) > 0) {
    uv_mutex_lock(&mutex);
    serializers++;
    uv_mutex_unlock(&mutex);
  }

  /* Give the main thread time to block in the poll phase. */
  uv_sleep(20);
  for (i = 0; i < ROUNDS; i++) {
    ASSERT_OK(uv_async_send(&async));
    uv_sem_wait(&sem_cb);
  }
}

static void test_thread(void) {
  uv_thread_t tid;
  uv_thread_t self1;
  uv_thread_t self2;
  uint64_t t0;

  ASSERT_OK(uv_mutex_init(&mutex));
  ASSERT_OK(uv_sem_init(&sem_cb, 0));
  ASSERT_OK(uv_barrier_init(&barrier, 2));
  ASSERT_OK(uv_async_init(&loop, &async, thread_async_cb));
  async_calls = 0;
  serializers = 0;

  ASSERT_OK(uv_thread_create(&tid, worker, &loop));
  if (uv_barrier_wait(&barrier) > 0) {
    uv_mutex_lock(&mutex);
    serializers++;
    uv_mutex_unlock(&mutex);
  }

  t0 = uv_hrtime();
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_LT((uv_hrtime() - t0) / 1000000, 5000);
  ASSERT_OK(uv_thread_join(&tid));

  ASSERT_EQ(async_calls, ROUNDS);
  ASSERT_EQ(serializers, 1);

  self1 = uv_thread_self();
  self2 = uv_thread_self();
  ASSERT_NE(uv_thread_equal(&self1, &self2), 0);
  ASSERT_NE(uv_thread_equal(&tid, &worker_self), 0);
  ASSERT_EQ(uv_thread_equal(&self1, &worker_self), 0);

  uv_barrier_destroy(&barrier);
  uv_sem_destroy(&sem_cb);
  uv_mutex_destroy(&mutex);
}

static void test_primitives(void) {
  uv_mutex_t m;
  uv_sem_t s;

  ASSERT_OK(uv_mutex_init(&m));
  ASSERT_OK(uv_mutex_trylock(&m));
  ASSERT_EQ(uv_mutex_trylock(&m), UV_EBUSY);
  uv_mutex_unlock(&m);
  uv_mutex_lock(&m);
  uv_mutex_unlock(&m);
  uv_mutex_destroy(&m);

  ASSERT_OK(uv_sem_init(&s, 1));
  ASSERT_OK(uv_sem_trywait(&s));
  ASSERT_EQ(uv_sem_trywait(&s), UV_EAGAIN);
  uv_sem_post(&s);
  uv_sem_wait(&s);
  uv_sem_destroy(&s);

  ASSERT_GE(uv_available_parallelism(), 1);
}

/* A send between uv_close and its callback (another thread cannot know
 * the loop's thread just closed the handle): 0, as libuv, and no callback
 * runs after the close. */
static int closing_calls;

static void closing_cb(uv_async_t* h) {
  (void) h;
  closing_calls++;
}

static void test_send_while_closing(void) {
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_async_init(&loop, &async, closing_cb));
  uv_close((uv_handle_t*) &async, NULL);
  ASSERT_EQ(uv_async_send(&async), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(closing_calls, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_primitives();
  test_coalesce();
  test_null_callback();
  test_thread();
  ASSERT_OK(uv_loop_close(&loop));
  printf("async: ok\n");
  test_send_while_closing();
  return 0;
}
