/* timer.c: uv_timer_*.
 *
 * Covers: init state, uv_timer_start (NULL callback -> UV_EINVAL, on a
 * closing handle -> UV_EINVAL), uv_timer_stop (idempotent), uv_timer_again
 * (UV_EINVAL when never started, no-op with repeat 0, restarts with the
 * repeat value), uv_timer_set_repeat/get_repeat, uv_timer_get_due_in
 * (0 never started, exact after start, 0 once due), repeating timers, equal
 * timeouts firing in start order (whatever the order of their handles),
 * a timer stopped by an earlier timer's callback in the same pass, a due
 * timer still active in the callbacks of the timers before it, restart
 * from its own callback, a huge timeout that never fires (backend timeout
 * clamps to INT_MAX), unreferenced timers not keeping the loop alive,
 * timers of a second loop run from a timer callback of the first (each
 * callback gets its own handle), a closed timer's slot reused by a new one.
 *
 * 1.45+-only assertions (chosen at run time by the library's version, see
 * library_at_least in test.h; the other branch pins libuv 1.44): a timer restarted with timeout 0 from its own
 * callback fires once per loop iteration (1.45 takes all due timers off the
 * heap before running them), instead of repeatedly within the same pass.
 */
#include <uv.h>

#include <limits.h>

#include "test.h"

static uv_loop_t loop;
static int fired[8];
static int order[16];
static int order_n;
static int cb_calls;
static int prepare_calls;
static int prepare_at_fire[8];

static void count_cb(uv_timer_t* h) {
  (void) h;
  cb_calls++;
}

static void never_cb(uv_timer_t* h) {
  (void) h;
  UVC_FAIL_("this timer must never fire");
}

static void order_cb(uv_timer_t* h) {
  int id = (int) (intptr_t) h->data;
  ASSERT_LT(order_n, 16);
  order[order_n++] = id;
  fired[id]++;
}

static void test_basics(void) {
  uv_timer_t t;

  memset(&t, 0x5A, sizeof(t)); /* garbage must not matter */
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_EQ(t.type, UV_TIMER);
  ASSERT_PTR_EQ(t.loop, &loop);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &t), 0);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &t), 0);
  ASSERT_NE(uv_has_ref((uv_handle_t*) &t), 0);
  ASSERT_EQ(uv_timer_get_repeat(&t), 0);
  ASSERT_EQ(uv_timer_get_due_in(&t), 0);

  ASSERT_EQ(uv_timer_start(&t, NULL, 10, 0), UV_EINVAL);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &t), 0);
  ASSERT_EQ(uv_timer_again(&t), UV_EINVAL);
  ASSERT_OK(uv_timer_stop(&t));

  uv_update_time(&loop);
  ASSERT_OK(uv_timer_start(&t, count_cb, 100, 0));
  ASSERT_NE(uv_is_active((uv_handle_t*) &t), 0);
  ASSERT_EQ(uv_timer_get_due_in(&t), 100);
  ASSERT_OK(uv_timer_stop(&t));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &t), 0);
  ASSERT_OK(uv_timer_stop(&t));

  /* again with repeat 0: nothing happens. */
  ASSERT_OK(uv_timer_again(&t));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &t), 0);

  uv_timer_set_repeat(&t, 50);
  ASSERT_EQ(uv_timer_get_repeat(&t), 50);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &t), 0);
  ASSERT_OK(uv_timer_again(&t));
  ASSERT_NE(uv_is_active((uv_handle_t*) &t), 0);
  ASSERT_EQ(uv_timer_get_due_in(&t), 50);
  ASSERT_EQ(uv_timer_get_repeat(&t), 50);

  /* Restarting an active timer replaces its timeout and repeat. */
  ASSERT_OK(uv_timer_start(&t, count_cb, 70, 5));
  ASSERT_EQ(uv_timer_get_due_in(&t), 70);
  ASSERT_EQ(uv_timer_get_repeat(&t), 5);
  ASSERT_OK(uv_timer_stop(&t));

  /* get_due_in is 0 once the timer is due. */
  ASSERT_OK(uv_timer_start(&t, count_cb, 20, 0));
  uv_sleep(30);
  uv_update_time(&loop);
  ASSERT_EQ(uv_timer_get_due_in(&t), 0);
  cb_calls = 0;
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(cb_calls, 1);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &t), 0);

  /* Closing handle: start is refused. */
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_EQ(uv_timer_start(&t, count_cb, 1, 0), UV_EINVAL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(cb_calls, 1);
}

static int repeat_calls;

static void repeat_cb(uv_timer_t* h) {
  repeat_calls++;
  ASSERT_NE(uv_is_active((uv_handle_t*) h), 0); /* repeating: still active */
  if (repeat_calls == 3)
    ASSERT_OK(uv_timer_stop(h));
}

static void test_repeat(void) {
  uv_timer_t t;
  ASSERT_OK(uv_timer_init(&loop, &t));
  repeat_calls = 0;
  ASSERT_OK(uv_timer_start(&t, repeat_cb, 1, 2));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(repeat_calls, 3);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static void test_equal_timeouts(void) {
  uv_timer_t t[5];
  static const int start_seq[5] = {3, 1, 4, 0, 2};
  int i;

  memset(fired, 0, sizeof(fired));
  order_n = 0;
  for (i = 0; i < 5; i++) {
    ASSERT_OK(uv_timer_init(&loop, &t[i]));
    t[i].data = (void*) (intptr_t) i;
  }
  uv_update_time(&loop);
  for (i = 0; i < 5; i++)
    ASSERT_OK(uv_timer_start(&t[start_seq[i]], order_cb, 5, 0));
  /* Restarting a timer moves it behind the others with the same due time. */
  ASSERT_OK(uv_timer_start(&t[1], order_cb, 5, 0));

  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(order_n, 5);
  ASSERT_EQ(order[0], 3);
  ASSERT_EQ(order[1], 4);
  ASSERT_EQ(order[2], 0);
  ASSERT_EQ(order[3], 2);
  ASSERT_EQ(order[4], 1);

  for (i = 0; i < 5; i++)
    uv_close((uv_handle_t*) &t[i], NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static uv_timer_t stop_a;
static uv_timer_t stop_b;

static void stop_a_cb(uv_timer_t* h) {
  (void) h;
  fired[0]++;
  ASSERT_OK(uv_timer_stop(&stop_b));
}

static void test_stop_other_due_timer(void) {
  memset(fired, 0, sizeof(fired));
  ASSERT_OK(uv_timer_init(&loop, &stop_a));
  ASSERT_OK(uv_timer_init(&loop, &stop_b));
  uv_update_time(&loop);
  ASSERT_OK(uv_timer_start(&stop_a, stop_a_cb, 5, 0));
  ASSERT_OK(uv_timer_start(&stop_b, never_cb, 5, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(fired[0], 1);
  uv_close((uv_handle_t*) &stop_a, NULL);
  uv_close((uv_handle_t*) &stop_b, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

/* Two timers due in the same pass: while the first one's callback runs,
 * the second has not fired yet and is still started (active, due in 0);
 * each one-shot timer is inactive in its own callback, a repeating one
 * active. */
static uv_timer_t due_a, due_b, due_c;

static void due_a_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &due_a);
  fired[0]++;
  ASSERT_EQ(fired[1], 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &due_a), 0);
  ASSERT_NE(uv_is_active((uv_handle_t*) &due_b), 0);
  ASSERT_NE(uv_is_active((uv_handle_t*) &due_c), 0);
  ASSERT_EQ(uv_timer_get_due_in(&due_b), 0);
  ASSERT_NE(uv_loop_alive(&loop), 0);
}

static void due_b_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &due_b);
  fired[1]++;
  ASSERT_EQ(uv_is_active((uv_handle_t*) &due_b), 0);
  ASSERT_NE(uv_is_active((uv_handle_t*) &due_c), 0);
}

static void due_c_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &due_c);
  fired[2]++;
  ASSERT_EQ(fired[1], 1);
  ASSERT_NE(uv_is_active((uv_handle_t*) &due_c), 0); /* it repeats */
  ASSERT_OK(uv_timer_stop(&due_c));
}

static void test_due_timer_still_active(void) {
  memset(fired, 0, sizeof(fired));
  ASSERT_OK(uv_timer_init(&loop, &due_a));
  ASSERT_OK(uv_timer_init(&loop, &due_b));
  ASSERT_OK(uv_timer_init(&loop, &due_c));
  uv_update_time(&loop);
  ASSERT_OK(uv_timer_start(&due_a, due_a_cb, 5, 0));
  ASSERT_OK(uv_timer_start(&due_b, due_b_cb, 5, 0));
  ASSERT_OK(uv_timer_start(&due_c, due_c_cb, 5, 1000));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(fired[0], 1);
  ASSERT_EQ(fired[1], 1);
  ASSERT_EQ(fired[2], 1);
  uv_close((uv_handle_t*) &due_a, NULL);
  uv_close((uv_handle_t*) &due_b, NULL);
  uv_close((uv_handle_t*) &due_c, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static int restart_calls;
static uv_prepare_t restart_prepare;

static void restart_cb(uv_timer_t* h) {
  ASSERT_LT(restart_calls, 8);
  prepare_at_fire[restart_calls] = prepare_calls;
  restart_calls++;
  ASSERT_EQ(uv_is_active((uv_handle_t*) h), 0);
  if (restart_calls < 3) {
    ASSERT_OK(uv_timer_start(h, restart_cb, 0, 0));
    ASSERT_NE(uv_is_active((uv_handle_t*) h), 0);
  } else {
    uv_close((uv_handle_t*) &restart_prepare, NULL);
  }
}

static void prepare_count_cb(uv_prepare_t* h) {
  (void) h;
  prepare_calls++;
}

static void test_restart_in_callback(void) {
  uv_timer_t t;

  restart_calls = 0;
  prepare_calls = 0;
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_prepare_init(&loop, &restart_prepare));
  ASSERT_OK(uv_prepare_start(&restart_prepare, prepare_count_cb));
  ASSERT_OK(uv_timer_start(&t, restart_cb, 1, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(restart_calls, 3);
  if (library_at_least(0x012d00)) {
    /* One firing per iteration. */
    ASSERT_EQ(prepare_at_fire[1], prepare_at_fire[0] + 1);
    ASSERT_EQ(prepare_at_fire[2], prepare_at_fire[1] + 1);
  } else {
    /* libuv 1.44: all in the same pass. */
    ASSERT_EQ(prepare_at_fire[1], prepare_at_fire[0]);
    ASSERT_EQ(prepare_at_fire[2], prepare_at_fire[1]);
  }

  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static uv_timer_t huge;
static uv_timer_t short_t;

static void short_cb(uv_timer_t* h) {
  (void) h;
  cb_calls++;
  uv_close((uv_handle_t*) &huge, NULL);
  uv_close((uv_handle_t*) &short_t, NULL);
}

static void test_huge_timeout(void) {
  uint64_t t0;
  ASSERT_OK(uv_timer_init(&loop, &huge));
  ASSERT_OK(uv_timer_init(&loop, &short_t));
  ASSERT_OK(uv_timer_start(&huge, never_cb, UINT64_MAX, 0));
  ASSERT(uv_timer_get_due_in(&huge) > ((uint64_t) 1 << 62));
  ASSERT_NE(uv_is_active((uv_handle_t*) &huge), 0);
  /* Flush any pending backend changes, then: the distance, clamped. */
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(uv_backend_timeout(&loop), INT_MAX);

  ASSERT_OK(uv_timer_start(&huge, never_cb, UINT64_MAX - 1, 0));
  cb_calls = 0;
  ASSERT_OK(uv_timer_start(&short_t, short_cb, 10, 0));
  t0 = uv_hrtime();
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(cb_calls, 1);
  ASSERT_LT((uv_hrtime() - t0) / 1000000, 1000);
}

static void test_unref(void) {
  uv_timer_t t;
  uint64_t t0;

  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_timer_start(&t, never_cb, 500, 0));
  uv_unref((uv_handle_t*) &t);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &t), 0);
  ASSERT_NE(uv_is_active((uv_handle_t*) &t), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  t0 = uv_hrtime();
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_LT((uv_hrtime() - t0) / 1000000, 200);

  /* The unref survives stop and start. */
  ASSERT_OK(uv_timer_stop(&t));
  ASSERT_OK(uv_timer_start(&t, never_cb, 500, 500));
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  /* ref again: keeps the loop alive. */
  uv_ref((uv_handle_t*) &t);
  ASSERT_NE(uv_loop_alive(&loop), 0);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

/* Two loops: a timer of the outer loop runs the inner loop from its
 * callback; every timer gets its own handle, on its own loop. */
static uv_loop_t inner_loop;
static uv_timer_t outer_timers[2];
static uv_timer_t inner_timers[2];
static int outer_seen[2];
static int inner_seen[2];

static void inner_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h->loop, &inner_loop);
  ASSERT(h == &inner_timers[0] || h == &inner_timers[1]);
  inner_seen[h - inner_timers]++;
  uv_close((uv_handle_t*) h, NULL);
}

static void outer_cb(uv_timer_t* h) {
  int i;

  ASSERT_PTR_EQ(h->loop, &loop);
  ASSERT(h == &outer_timers[0] || h == &outer_timers[1]);
  outer_seen[h - outer_timers]++;
  if (h == &outer_timers[0]) {
    /* The inner loop's slots coincide with the outer loop's. */
    for (i = 0; i < 2; i++) {
      ASSERT_OK(uv_timer_init(&inner_loop, &inner_timers[i]));
      ASSERT_OK(uv_timer_start(&inner_timers[i], inner_cb, 0, 0));
    }
    ASSERT_EQ(uv_run(&inner_loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(inner_seen[0], 1);
    ASSERT_EQ(inner_seen[1], 1);
    ASSERT_EQ(outer_seen[1], 0);
  }
  uv_close((uv_handle_t*) h, NULL);
}

static void test_two_loops(void) {
  int i;

  ASSERT_OK(uv_loop_init(&inner_loop));
  for (i = 0; i < 2; i++) {
    ASSERT_OK(uv_timer_init(&loop, &outer_timers[i]));
    ASSERT_OK(uv_timer_start(&outer_timers[i], outer_cb, 0, 0));
  }
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(outer_seen[0], 1);
  ASSERT_EQ(outer_seen[1], 1);
  ASSERT_OK(uv_loop_close(&inner_loop));
}

/* A closed timer's slot goes to the next timer, which fires with its own
 * handle; the closed one never fires again. */
static void test_slot_reuse(void) {
  uv_timer_t a, b;

  ASSERT_OK(uv_timer_init(&loop, &a));
  ASSERT_OK(uv_timer_start(&a, never_cb, 0, 0));
  uv_close((uv_handle_t*) &a, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  memset(fired, 0, sizeof(fired));
  order_n = 0;
  ASSERT_OK(uv_timer_init(&loop, &b));
  b.data = (void*) (intptr_t) 3;
  ASSERT_OK(uv_timer_start(&b, order_cb, 0, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(fired[3], 1);
  ASSERT_EQ(order_n, 1);
  uv_close((uv_handle_t*) &b, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_basics();
  test_repeat();
  test_equal_timeouts();
  test_stop_other_due_timer();
  test_due_timer_still_active();
  test_restart_in_callback();
  test_huge_timeout();
  test_unref();
  test_two_loops();
  test_slot_reuse();
  ASSERT_OK(uv_loop_close(&loop));
  printf("timer: ok\n");
  return 0;
}
