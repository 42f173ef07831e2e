/* close_many.c: uv_close on many timers, from inside callbacks.
 *
 * Covers: closing 0, 1, 2 and many (1000) fired timers from a timer
 * callback (every close callback runs once, with its own handle, in the
 * reverse order of the uv_close calls; a NULL close callback is allowed);
 * uv_loop_alive while handles are closing (alive until their close
 * callbacks ran); a handle closed by a close callback waiting for the next
 * closing phase (the next loop iteration); a timer closed from its own
 * callback; a closed timer's slot reused by a timer initialized in a close
 * callback; libuv's million_timers shape in small: timers due over a
 * few milliseconds, run, all closed from outside the loop, run again; and
 * uv_loop_alive before init and after uv_loop_close (uv-compat only: 0),
 * after init, with an active and a closing handle.
 */
#include <uv.h>

#include "test.h"

#define MANY 1000

static uv_loop_t loop;
static uv_timer_t timers[MANY];
static uv_timer_t closer;
static uv_handle_t* closed[MANY + 8];
static int closed_n;
static int fired_n;
static int to_close;

static void record_close(uv_handle_t* h) {
  ASSERT_LT(closed_n, MANY + 8);
  closed[closed_n++] = h;
}

static void count_fire(uv_timer_t* h) {
  (void) h;
  fired_n++;
}

/* Closes the first `to_close` timers in array order; every third one
 * without a close callback. */
static void close_them_cb(uv_timer_t* h) {
  ASSERT(h == &closer);
  for (int i = 0; i < to_close; i++) {
    ASSERT_EQ(uv_is_closing((uv_handle_t*) &timers[i]), 0);
    uv_close((uv_handle_t*) &timers[i], i % 3 == 2 ? NULL : record_close);
    ASSERT_NE(uv_is_closing((uv_handle_t*) &timers[i]), 0);
  }
  uv_close((uv_handle_t*) h, record_close);
  /* Closing handles keep the loop alive until their close callbacks. */
  ASSERT_NE(uv_loop_alive(h->loop), 0);
}

static void test_close_counts(int n) {
  ASSERT_OK(uv_loop_init(&loop));
  closed_n = 0;
  fired_n = 0;
  to_close = n;
  for (int i = 0; i < n; i++) {
    ASSERT_OK(uv_timer_init(&loop, &timers[i]));
    ASSERT_OK(uv_timer_start(&timers[i], count_fire, (uint64_t) (i % 3), 0));
  }
  ASSERT_OK(uv_timer_init(&loop, &closer));
  ASSERT_OK(uv_timer_start(&closer, close_them_cb, 5, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(fired_n, n);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  /* The closer was closed last, so its callback ran first; then the
   * timers with a callback, last closed first. */
  int with_cb = n - n / 3;
  ASSERT_EQ(closed_n, with_cb + 1);
  ASSERT(closed[0] == (uv_handle_t*) &closer);
  int k = 1;
  for (int i = n - 1; i >= 0; i--) {
    if (i % 3 == 2) continue;
    ASSERT(closed[k] == (uv_handle_t*) &timers[i]);
    k++;
  }
  ASSERT_OK(uv_loop_close(&loop));
}

/* --- a handle closed by a close callback waits for the next phase ----- */

static uv_timer_t first, second;
static int first_closed_at, second_closed_at;
static int iterations;
static uv_prepare_t counter;

static void count_iteration(uv_prepare_t* p) {
  (void) p;
  iterations++;
}

static void second_close_cb(uv_handle_t* h) {
  ASSERT(h == (uv_handle_t*) &second);
  second_closed_at = iterations;
  uv_close((uv_handle_t*) &counter, NULL);
}

static void first_close_cb(uv_handle_t* h) {
  ASSERT(h == (uv_handle_t*) &first);
  first_closed_at = iterations;
  uv_close((uv_handle_t*) &second, second_close_cb);
}

static void close_self_cb(uv_timer_t* h) {
  uv_close((uv_handle_t*) h, first_close_cb);
}

static void test_closed_in_close_cb_waits(void) {
  ASSERT_OK(uv_loop_init(&loop));
  iterations = 0;
  first_closed_at = 0;
  second_closed_at = 0;
  ASSERT_OK(uv_prepare_init(&loop, &counter));
  ASSERT_OK(uv_prepare_start(&counter, count_iteration));
  ASSERT_OK(uv_timer_init(&loop, &first));
  ASSERT_OK(uv_timer_init(&loop, &second));
  ASSERT_OK(uv_timer_start(&first, close_self_cb, 0, 0));
  /* Where the timer phase sits in an iteration differs between libuv
   * versions; what must hold: second's close callback runs one iteration
   * after first's, whose close callback closed it. */
  while (second_closed_at == 0) ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_GT(first_closed_at, 0);
  ASSERT_EQ(second_closed_at, first_closed_at + 1);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* --- a slot freed by a close, taken by a timer its close callback makes -- */

static uv_timer_t old_t, new_t;
static int new_fired;

static void new_fire(uv_timer_t* h) {
  ASSERT(h == &new_t);
  new_fired++;
  uv_close((uv_handle_t*) h, record_close);
}

static void old_close_cb(uv_handle_t* h) {
  record_close(h);
  ASSERT_OK(uv_timer_init(h->loop, &new_t));
  ASSERT_OK(uv_timer_start(&new_t, new_fire, 0, 0));
}

static void test_slot_reused_from_close_cb(void) {
  ASSERT_OK(uv_loop_init(&loop));
  closed_n = 0;
  new_fired = 0;
  ASSERT_OK(uv_timer_init(&loop, &old_t));
  uv_close((uv_handle_t*) &old_t, old_close_cb);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(new_fired, 1);
  ASSERT_EQ(closed_n, 2);
  ASSERT(closed[0] == (uv_handle_t*) &old_t);
  ASSERT(closed[1] == (uv_handle_t*) &new_t);
  ASSERT_OK(uv_loop_close(&loop));
}

/* --- libuv's million_timers, small ------------------------------------- */

static void test_million_timers_shape(void) {
  ASSERT_OK(uv_loop_init(&loop));
  closed_n = 0;
  fired_n = 0;
  uint64_t timeout = 0;
  for (int i = 0; i < MANY; i++) {
    if (i % 100 == 0) timeout++;
    ASSERT_OK(uv_timer_init(&loop, &timers[i]));
    ASSERT_OK(uv_timer_start(&timers[i], count_fire, timeout, 0));
  }
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(fired_n, MANY);
  for (int i = 0; i < MANY; i++) uv_close((uv_handle_t*) &timers[i], record_close);
  ASSERT_NE(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(closed_n, MANY);
  for (int i = 0; i < MANY; i++) ASSERT(closed[i] == (uv_handle_t*) &timers[MANY - 1 - i]);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* --- uv_loop_alive on a loop before init and after close ---------------- */

static void test_alive_outside_init(void) {
  /* A zeroed, never initialized loop is not alive (libuv reads its zeroed
   * queue head as non-empty and says 1). */
  static uv_loop_t zeroed;
  if (on_uv_compat())
    ASSERT_EQ(uv_loop_alive(&zeroed), 0);
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_timer_init(&loop, &closer));
  ASSERT_OK(uv_timer_start(&closer, count_fire, 1, 0));
  ASSERT_NE(uv_loop_alive(&loop), 0);
  uv_close((uv_handle_t*) &closer, NULL);
  ASSERT_NE(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_loop_close(&loop));
  /* libuv fills a closed loop with 0xff bytes in debug builds. */
  if (on_uv_compat())
    ASSERT_EQ(uv_loop_alive(&loop), 0);
}

int main(void) {
  test_alive_outside_init();
  test_close_counts(0);
  test_close_counts(1);
  test_close_counts(2);
  test_close_counts(3);
  test_close_counts(MANY);
  test_closed_in_close_cb_waits();
  test_slot_reused_from_close_cb();
  test_million_timers_shape();
  printf("close_many: ok\n");
  return 0;
}
