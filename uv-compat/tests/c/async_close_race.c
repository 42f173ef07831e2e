/* async_close_race.c: uv_async_send on other threads racing uv_close.
 *
 * libuv lets a uv_async_send that began before the close callback finish
 * safely (its uv_close waits for sends in flight). Here three threads send
 * as fast as they can while the loop closes the handle; they stop only
 * after the close callback told them to. Every send returns 0 or, once the
 * close callback's turn has begun, UV_EINVAL (ours; undefined in libuv).
 * Repeated 50 times. Run under valgrind (as every program here), a send
 * still reading the handle's freed internals when the close callback ran
 * was reported as an invalid read.
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include <stdatomic.h>

#include "test.h"

#define SENDERS 3
#define ROUNDS 50

static uv_loop_t loop;
static uv_async_t async;
static atomic_int stop;
static atomic_int bad_status;
static int callbacks;
static int closed;

static void sender(void* arg) {
  (void) arg;
  while (!atomic_load(&stop)) {
    int r = uv_async_send(&async);
    if (r != 0 && !(on_uv_compat() && r == UV_EINVAL))
      atomic_store(&bad_status, r);
  }
}

static void close_cb(uv_handle_t* h) {
  ASSERT(h == (uv_handle_t*) &async);
  closed++;
}

static void async_cb(uv_async_t* h) {
  if (++callbacks == 3)
    uv_close((uv_handle_t*) h, close_cb);
}

int main(void) {
  for (int round = 0; round < ROUNDS; round++) {
    uv_thread_t threads[SENDERS];
    callbacks = 0;
    closed = 0;
    atomic_store(&stop, 0);
    ASSERT_OK(uv_loop_init(&loop));
    ASSERT_OK(uv_async_init(&loop, &async, async_cb));
    for (int i = 0; i < SENDERS; i++)
      ASSERT_OK(uv_thread_create(&threads[i], sender, NULL));
    ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
    ASSERT_EQ(closed, 1);
    /* No callback after the uv_close made in the third one, whatever the
     * senders still do. */
    ASSERT_EQ(callbacks, 3);
    /* Senders go on after the close callback: the struct is still ours,
     * and every send now says UV_EINVAL. */
    if (on_uv_compat())
      ASSERT_EQ(uv_async_send(&async), UV_EINVAL);
    atomic_store(&stop, 1);
    for (int i = 0; i < SENDERS; i++)
      ASSERT_OK(uv_thread_join(&threads[i]));
    ASSERT_EQ(atomic_load(&bad_status), 0);
    ASSERT_OK(uv_loop_close(&loop));
  }
  printf("async_close_race: ok\n");
  return 0;
}
