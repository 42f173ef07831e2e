/* libuv_timer_cases.c: the timer behaviours libuv's own test suite checks,
 * restated in our words. Each function names the libuv test it pins.
 *
 * Covers: ten one-shot timers at increasing timeouts, a repeating timer
 * closed from its fifth callback and a stopped unreferenced one (one-shot
 * timers are inactive in their callback, repeating ones active; none fires
 * before its timeout); starting a started timer replaces its timeout and
 * callback; a fresh timer (repeat 0, due in 0, inactive); get_due_in for
 * huge timeouts (0xffffffffffff exactly, UINT64_MAX clamped) and a tiny
 * timer closing the huge ones; a huge repeat fires once and never again;
 * ONCE runs with 0 and 1 ms timers; a timer never fires before its due time
 * by uv_hrtime; uv_timer_again keeping a timer from firing while it is
 * restarted, and set_repeat from a repeating timer's callback taking effect
 * only after the next firing; a timer restarted from a check callback runs
 * after a prepare callback started there; an unreferenced timer does not
 * run during a DEFAULT run.
 *
 * 1.45+-only assertions (chosen at run time by the library's version, see
 * library_at_least in test.h; the other branch pins libuv 1.44): one ONCE or NOWAIT run calls a repeating timer
 * that is overdue at most once (libuv 1.44 could call it at the start and
 * again at the end of the same run).
 */
#include <uv.h>

#include "test.h"

static void never_cb(uv_timer_t* h) {
  (void) h;
  UVC_FAIL_("this timer must never fire");
}

/* ---- test-timer.c: timer ---- */

static int once_calls;
static int once_closes;
static int repeat_calls;
static int repeat_closes;

static void once_close_cb(uv_handle_t* h) {
  ASSERT_EQ(uv_is_active(h), 0);
  once_closes++;
}

static void once_cb(uv_timer_t* h) {
  /* A one-shot timer is no longer active when its callback runs. */
  ASSERT_EQ(uv_is_active((uv_handle_t*) h), 0);
  once_calls++;
  uv_close((uv_handle_t*) h, once_close_cb);
  uv_update_time(h->loop); /* allowed from a callback */
}

static void repeat_close_cb(uv_handle_t* h) {
  ASSERT_NOT_NULL(h);
  repeat_closes++;
}

static void repeat_cb(uv_timer_t* h) {
  /* A repeating timer is already re-armed. */
  ASSERT_EQ(uv_is_active((uv_handle_t*) h), 1);
  if (++repeat_calls == 5)
    uv_close((uv_handle_t*) h, repeat_close_cb);
}

static void test_many_timers(void) {
  uv_loop_t loop;
  uv_timer_t once[10];
  uv_timer_t repeat;
  uv_timer_t never;
  uint64_t start;
  int i;

  ASSERT_OK(uv_loop_init(&loop));
  start = uv_now(&loop);
  for (i = 0; i < 10; i++) {
    ASSERT_OK(uv_timer_init(&loop, &once[i]));
    ASSERT_OK(uv_timer_start(&once[i], once_cb, i * 5, 0));
  }
  ASSERT_OK(uv_timer_init(&loop, &repeat));
  ASSERT_OK(uv_timer_start(&repeat, repeat_cb, 10, 10));
  ASSERT_OK(uv_timer_init(&loop, &never));
  ASSERT_OK(uv_timer_start(&never, never_cb, 10, 10));
  ASSERT_OK(uv_timer_stop(&never));
  uv_unref((uv_handle_t*) &never);

  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(once_calls, 10);
  ASSERT_EQ(once_closes, 10);
  ASSERT_EQ(repeat_calls, 5);
  ASSERT_EQ(repeat_closes, 1);
  /* The repeating timer's fifth firing is due 50 ms after the start. */
  ASSERT_GE(uv_now(&loop) - start, 50);

  uv_close((uv_handle_t*) &never, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-timer.c: timer_start_twice, timer_init ---- */

static int twice_calls;

static void twice_cb(uv_timer_t* h) {
  ASSERT_EQ(uv_is_active((uv_handle_t*) h), 0);
  twice_calls++;
  uv_close((uv_handle_t*) h, NULL);
}

static void test_start_twice_and_init(void) {
  uv_loop_t loop;
  uv_timer_t t;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_EQ(uv_timer_get_repeat(&t), 0);
  ASSERT_EQ(uv_timer_get_due_in(&t), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &t), 0);

  /* The second start replaces the day-long timeout and its callback. */
  ASSERT_OK(uv_timer_start(&t, never_cb, 86400 * 1000, 0));
  ASSERT_OK(uv_timer_start(&t, twice_cb, 5, 0));
  ASSERT_LE(uv_timer_get_due_in(&t), 5);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(twice_calls, 1);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-timer.c: timer_huge_timeout, timer_huge_repeat ---- */

static uv_timer_t tiny;
static uv_timer_t huge1;
static uv_timer_t huge2;
static int huge_calls;

static void tiny_closes_all(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &tiny);
  uv_close((uv_handle_t*) &tiny, NULL);
  uv_close((uv_handle_t*) &huge1, NULL);
  uv_close((uv_handle_t*) &huge2, NULL);
}

static void huge_repeat_cb(uv_timer_t* h) {
  /* The huge-repeat timer fires first (1 ms), then never again: every
   * later call is the tiny repeating timer. */
  if (huge_calls == 0)
    ASSERT_PTR_EQ(h, &huge1);
  else
    ASSERT_PTR_EQ(h, &tiny);
  if (++huge_calls == 10) {
    uv_close((uv_handle_t*) &tiny, NULL);
    uv_close((uv_handle_t*) &huge1, NULL);
  }
}

static void test_huge_values(void) {
  uv_loop_t loop;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &tiny));
  ASSERT_OK(uv_timer_init(&loop, &huge1));
  ASSERT_OK(uv_timer_init(&loop, &huge2));
  ASSERT_OK(uv_timer_start(&tiny, tiny_closes_all, 1, 0));
  ASSERT_OK(uv_timer_start(&huge1, tiny_closes_all, 0xffffffffffffULL, 0));
  ASSERT_OK(uv_timer_start(&huge2, tiny_closes_all, (uint64_t) -1, 0));
  ASSERT_EQ(uv_timer_get_due_in(&tiny), 1);
  ASSERT(uv_timer_get_due_in(&huge1) == 0xffffffffffffULL);
  /* now + UINT64_MAX overflows; libuv clamps the due time to UINT64_MAX. */
  ASSERT(uv_timer_get_due_in(&huge2) == UINT64_MAX - uv_now(&loop));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  ASSERT_OK(uv_timer_init(&loop, &tiny));
  ASSERT_OK(uv_timer_init(&loop, &huge1));
  ASSERT_OK(uv_timer_start(&tiny, huge_repeat_cb, 2, 2));
  ASSERT_OK(uv_timer_start(&huge1, huge_repeat_cb, 1, (uint64_t) -1));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(huge_calls, 10);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-timer.c: timer_run_once, timer_early_check ---- */

static int run_once_calls;

static void run_once_cb(uv_timer_t* h) {
  (void) h;
  run_once_calls++;
}

static uint64_t early_due_ms;
static int early_calls;

static void early_cb(uv_timer_t* h) {
  (void) h;
  /* The wall clock (not only the loop's cached time) reached the due
   * time. */
  ASSERT_GE(uv_hrtime() / 1000000, early_due_ms);
  early_calls++;
}

static void test_run_once_and_not_early(void) {
  uv_loop_t loop;
  uv_timer_t t;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &t));
  /* A ONCE run waits for the timer and runs it. */
  ASSERT_OK(uv_timer_start(&t, run_once_cb, 0, 0));
  ASSERT_OK(uv_run(&loop, UV_RUN_ONCE));
  ASSERT_EQ(run_once_calls, 1);
  ASSERT_OK(uv_timer_start(&t, run_once_cb, 1, 0));
  ASSERT_OK(uv_run(&loop, UV_RUN_ONCE));
  ASSERT_EQ(run_once_calls, 2);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_ONCE));

  ASSERT_OK(uv_timer_init(&loop, &t));
  uv_update_time(&loop);
  /* The due time is the loop's cached time plus the timeout, as in
   * libuv's timer_early_check; reading uv_hrtime() here instead races
   * with the millisecond boundary after uv_update_time. */
  ASSERT_OK(uv_timer_start(&t, early_cb, 10, 0));
  early_due_ms = uv_now(&loop) + 10;
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(early_calls, 1);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-timer-again.c: timer_again ---- */

static uv_timer_t again_1;
static uv_timer_t again_2;
static int again_1_calls;
static int again_2_calls;
static int again_2_allowed;
static int again_closes;

static void again_close_cb(uv_handle_t* h) {
  ASSERT_NOT_NULL(h);
  again_closes++;
}

static void again_1_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &again_1);
  ASSERT_EQ(uv_timer_get_repeat(h), 5);
  again_1_calls++;
  /* Pushes the second timer's due time back: it must not fire while this
   * one keeps doing so. */
  ASSERT_OK(uv_timer_again(&again_2));
  if (again_1_calls == 10) {
    uv_close((uv_handle_t*) h, again_close_cb);
    again_2_allowed = 1;
  }
}

static void again_2_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &again_2);
  ASSERT(again_2_allowed);
  again_2_calls++;
  if (uv_timer_get_repeat(h) == 0) {
    /* The repeat was cleared during the previous firing: this one was
     * the last, and the timer is no longer active. */
    ASSERT_EQ(uv_is_active((uv_handle_t*) h), 0);
    uv_close((uv_handle_t*) h, again_close_cb);
    return;
  }
  ASSERT_EQ(uv_timer_get_repeat(h), 200);
  /* The timer was re-armed with the old repeat before this callback. */
  uv_timer_set_repeat(h, 0);
}

static void test_again(void) {
  uv_loop_t loop;
  uv_timer_t dummy;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &dummy));
  ASSERT_EQ(uv_timer_again(&dummy), UV_EINVAL);
  uv_close((uv_handle_t*) &dummy, NULL);

  ASSERT_OK(uv_timer_init(&loop, &again_1));
  ASSERT_OK(uv_timer_start(&again_1, again_1_cb, 5, 0));
  ASSERT_EQ(uv_timer_get_repeat(&again_1), 0);
  uv_timer_set_repeat(&again_1, 5); /* makes the started timer repeat */
  ASSERT_EQ(uv_timer_get_repeat(&again_1), 5);

  ASSERT_OK(uv_timer_init(&loop, &again_2));
  /* 200 ms: far longer than the first timer's 5 ms period, so that only
   * uv_timer_again keeps it from firing (even under valgrind). */
  ASSERT_OK(uv_timer_start(&again_2, again_2_cb, 200, 200));
  ASSERT_EQ(uv_timer_get_repeat(&again_2), 200);

  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(again_1_calls, 10);
  ASSERT_EQ(again_2_calls, 2);
  ASSERT_EQ(again_closes, 2);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-timer-from-check.c: timer_from_check ---- */

static uv_prepare_t fc_prepare;
static uv_check_t fc_check;
static uv_timer_t fc_timer;
static int fc_prepare_calls;
static int fc_check_calls;
static int fc_timer_calls;

static void fc_prepare_cb(uv_prepare_t* h) {
  ASSERT_OK(uv_prepare_stop(h));
  ASSERT_EQ(fc_prepare_calls, 0);
  ASSERT_EQ(fc_check_calls, 1);
  ASSERT_EQ(fc_timer_calls, 0);
  fc_prepare_calls++;
}

static void fc_timer_cb(uv_timer_t* h) {
  ASSERT_OK(uv_timer_stop(h));
  ASSERT_EQ(fc_prepare_calls, 1);
  ASSERT_EQ(fc_check_calls, 1);
  ASSERT_EQ(fc_timer_calls, 0);
  fc_timer_calls++;
}

static void fc_check_cb(uv_check_t* h) {
  ASSERT_OK(uv_check_stop(h));
  /* The check phase of the first iteration comes before the timer's
   * callback; restarting it pushes it back (far enough that the next
   * iteration's prepare phase comes first even under valgrind). */
  ASSERT_OK(uv_timer_stop(&fc_timer));
  ASSERT_OK(uv_timer_start(&fc_timer, fc_timer_cb, 250, 0));
  ASSERT_OK(uv_prepare_start(&fc_prepare, fc_prepare_cb));
  ASSERT_EQ(fc_prepare_calls, 0);
  ASSERT_EQ(fc_check_calls, 0);
  ASSERT_EQ(fc_timer_calls, 0);
  fc_check_calls++;
}

static void test_timer_from_check(void) {
  uv_loop_t loop;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_prepare_init(&loop, &fc_prepare));
  ASSERT_OK(uv_check_init(&loop, &fc_check));
  ASSERT_OK(uv_check_start(&fc_check, fc_check_cb));
  ASSERT_OK(uv_timer_init(&loop, &fc_timer));
  /* Far enough that the first iteration's check phase comes first. */
  ASSERT_OK(uv_timer_start(&fc_timer, fc_timer_cb, 250, 0));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(fc_prepare_calls, 1);
  ASSERT_EQ(fc_check_calls, 1);
  ASSERT_EQ(fc_timer_calls, 1);
  uv_close((uv_handle_t*) &fc_prepare, NULL);
  uv_close((uv_handle_t*) &fc_check, NULL);
  uv_close((uv_handle_t*) &fc_timer, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_ONCE));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-timer.c (libuv 1.45+): timer_no_run_on_unref,
 * timer_no_double_call_once, timer_no_double_call_nowait ---- */

static int double_calls;

static void double_cb(uv_timer_t* h) {
  (void) h;
  double_calls++;
}

static void test_unref_and_double_calls(void) {
  uv_loop_t loop;
  uv_timer_t t;
  int expected_once;
  int expected_nowait;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_timer_start(&t, never_cb, 0, 0));
  uv_unref((uv_handle_t*) &t);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  if (library_at_least(0x012d00)) {
    expected_once = 1;
    expected_nowait = 1;
  } else {
    /* 1.44 runs due timers at the top of a ONCE run and again after its
     * poll phase; NOWAIT only at the top. */
    expected_once = 2;
    expected_nowait = 1;
  }

  /* A repeating 10 ms timer, overdue by the time the loop looks at it. */
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_timer_start(&t, double_cb, 10, 10));
  uv_sleep(20);
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(double_calls, expected_once);

  double_calls = 0;
  ASSERT_OK(uv_timer_start(&t, double_cb, 10, 10));
  uv_sleep(20);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(double_calls, expected_nowait);

  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  test_many_timers();
  test_start_twice_and_init();
  test_huge_values();
  test_run_once_and_not_early();
  test_again();
  test_timer_from_check();
  test_unref_and_double_calls();
  return 0;
}
