/* libuv_handle_cases.c: the loop and handle behaviours libuv's own test
 * suite checks, restated in our words. Each function names the libuv test
 * (test/test-*.c, TEST_IMPL name) it pins.
 *
 * Covers: uv_run on an empty loop; an unreferenced idle, prepare, check,
 * timer, async or UDP handle (bound and receiving) lets uv_run return at
 * once, without a callback, and closes afterwards; a UDP send on an
 * unreferenced handle still completes; a prepare handle unreferencing
 * itself from its callback ends the run; uv_has_ref; uv_is_active and
 * uv_is_closing return exactly 0 or 1 through start, stop and close; an
 * always-active idle handle does not starve a timer; close callbacks run
 * after the check phase; uv_stop from a repeating timer ends a DEFAULT run
 * (non-zero result) and the next runs carry on; uv_stop before uv_run runs
 * nothing; uv_now advances across NOWAIT runs of an empty loop;
 * uv_backend_timeout for a 1 s timer; uv_loop_alive before and after a
 * run; ONCE runs driven by an idle handle; NOWAIT returns non-zero without
 * running a timer that is not due; uv_walk from a timer callback and after
 * the run; uv_loop_close with a handle (UV_EBUSY) and after it closed, with
 * loop->data kept; the default loop closed and used again; uv_fileno on an
 * idle (UV_EINVAL) and a UDP handle (UV_EBADF unbound and once closing);
 * uv_loop_get_data / uv_loop_set_data; the first idle, prepare, check or
 * async callback of a phase closing its own handle and the next one in
 * line (which then does not run); an async handle with a NULL callback in
 * a struct full of garbage, woken from another thread; prepare, check and
 * idle handles starting, stopping and closing each other over 21
 * iterations (a prepare handle started by another runs from the next
 * iteration; an idle handle closing itself in its callback runs once and
 * gets one close callback); an idle handle stopping itself does not make
 * that ONCE run block, and the check handle runs once.
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include "test.h"

static int close_calls;
static int fail_calls;

static void count_close(uv_handle_t* h) {
  ASSERT_NOT_NULL(h);
  close_calls++;
}

/* Closes `h`, checks its close callback waits for the loop, then runs the
 * loop until it ran. */
static void close_and_run(uv_loop_t* loop, uv_handle_t* h) {
  close_calls = 0;
  uv_close(h, count_close);
  ASSERT_EQ(close_calls, 0);
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_calls, 1);
}

static void must_not_run_idle(uv_idle_t* h) {
  (void) h;
  fail_calls++;
}

static void must_not_run_prepare(uv_prepare_t* h) {
  (void) h;
  fail_calls++;
}

static void must_not_run_check(uv_check_t* h) {
  (void) h;
  fail_calls++;
}

static void must_not_run_timer(uv_timer_t* h) {
  (void) h;
  fail_calls++;
}

static void must_not_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  (void) size;
  (void) buf;
  fail_calls++;
}

static void must_not_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                          const struct sockaddr* addr, unsigned flags) {
  (void) h;
  (void) n;
  (void) buf;
  (void) addr;
  (void) flags;
  fail_calls++;
}

/* test-ref.c: ref, idle_ref, prepare_ref, check_ref, timer_ref,
 * timer_ref2, async_ref, udp_ref, udp_ref2. */
static void test_unreferenced_handles(void) {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_prepare_t prepare;
  uv_check_t check;
  uv_timer_t timer;
  uv_async_t async;
  uv_udp_t udp;
  struct sockaddr_in addr;

  ASSERT_OK(uv_loop_init(&loop));
  /* An empty loop: nothing to run. */
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_idle_start(&idle, must_not_run_idle));
  uv_unref((uv_handle_t*) &idle);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  close_and_run(&loop, (uv_handle_t*) &idle);

  ASSERT_OK(uv_prepare_init(&loop, &prepare));
  ASSERT_OK(uv_prepare_start(&prepare, must_not_run_prepare));
  uv_unref((uv_handle_t*) &prepare);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  close_and_run(&loop, (uv_handle_t*) &prepare);

  ASSERT_OK(uv_check_init(&loop, &check));
  ASSERT_OK(uv_check_start(&check, must_not_run_check));
  uv_unref((uv_handle_t*) &check);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  close_and_run(&loop, (uv_handle_t*) &check);

  /* A timer never started, then one started with a repeat. */
  ASSERT_OK(uv_timer_init(&loop, &timer));
  uv_unref((uv_handle_t*) &timer);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  close_and_run(&loop, (uv_handle_t*) &timer);
  ASSERT_OK(uv_timer_init(&loop, &timer));
  ASSERT_OK(uv_timer_start(&timer, must_not_run_timer, 42, 42));
  uv_unref((uv_handle_t*) &timer);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  close_and_run(&loop, (uv_handle_t*) &timer);

  ASSERT_OK(uv_async_init(&loop, &async, NULL));
  uv_unref((uv_handle_t*) &async);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  close_and_run(&loop, (uv_handle_t*) &async);

  ASSERT_OK(uv_udp_init(&loop, &udp));
  uv_unref((uv_handle_t*) &udp);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  close_and_run(&loop, (uv_handle_t*) &udp);

  /* Bound and receiving, but unreferenced. */
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_udp_init(&loop, &udp));
  ASSERT_OK(uv_udp_bind(&udp, (const struct sockaddr*) &addr, 0));
  ASSERT_OK(uv_udp_recv_start(&udp, must_not_alloc, must_not_recv));
  uv_unref((uv_handle_t*) &udp);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  close_and_run(&loop, (uv_handle_t*) &udp);

  ASSERT_EQ(fail_calls, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

static int send_calls;

static void count_send(uv_udp_send_t* req, int status) {
  ASSERT_NOT_NULL(req);
  ASSERT_EQ(status, 0);
  send_calls++;
}

/* test-ref.c: udp_ref3. A send request keeps the loop alive even though
 * its handle is unreferenced. */
static void test_send_on_unreferenced_udp(void) {
  uv_loop_t loop;
  uv_udp_t sink;
  uv_udp_t udp;
  uv_udp_send_t req;
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  uv_buf_t buf = uv_buf_init("PING", 4);
  struct sockaddr_in addr;

  ASSERT_OK(uv_loop_init(&loop));
  /* A bound socket to send to, so the datagram goes somewhere we own. */
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_udp_init(&loop, &sink));
  ASSERT_OK(uv_udp_bind(&sink, (const struct sockaddr*) &addr, 0));
  ASSERT_OK(uv_udp_getsockname(&sink, (struct sockaddr*) &ss, &len));
  uv_unref((uv_handle_t*) &sink);

  send_calls = 0;
  ASSERT_OK(uv_udp_init(&loop, &udp));
  ASSERT_OK(uv_udp_send(&req, &udp, &buf, 1, (const struct sockaddr*) &ss,
                        count_send));
  uv_unref((uv_handle_t*) &udp);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(send_calls, 1);
  close_and_run(&loop, (uv_handle_t*) &udp);
  close_and_run(&loop, (uv_handle_t*) &sink);
  ASSERT_OK(uv_loop_close(&loop));
}

static int unref_prepare_calls;

static void unref_self(uv_prepare_t* h) {
  ASSERT_NOT_NULL(h);
  unref_prepare_calls++;
  uv_unref((uv_handle_t*) h);
}

/* test-ref.c: unref_in_prepare_cb, has_ref. */
static void test_unref_from_callback(void) {
  uv_loop_t loop;
  uv_prepare_t prepare;
  uv_idle_t idle;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_prepare_init(&loop, &prepare));
  ASSERT_OK(uv_prepare_start(&prepare, unref_self));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(unref_prepare_calls, 1);
  close_and_run(&loop, (uv_handle_t*) &prepare);

  ASSERT_OK(uv_idle_init(&loop, &idle));
  uv_ref((uv_handle_t*) &idle);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &idle), 1);
  uv_unref((uv_handle_t*) &idle);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &idle), 0);
  uv_unref((uv_handle_t*) &idle); /* twice: still 0, no underflow */
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &idle), 0);
  uv_ref((uv_handle_t*) &idle);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &idle), 1);
  close_and_run(&loop, (uv_handle_t*) &idle);
  ASSERT_OK(uv_loop_close(&loop));
}

/* test-active.c: active. Exactly 0 or 1, never another truthy value. */
static void test_active_and_closing(void) {
  uv_loop_t loop;
  uv_timer_t timer;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &timer));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &timer), 0);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &timer), 0);
  ASSERT_OK(uv_timer_start(&timer, must_not_run_timer, 1000, 0));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &timer), 1);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &timer), 0);
  ASSERT_OK(uv_timer_stop(&timer));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &timer), 0);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &timer), 0);
  ASSERT_OK(uv_timer_start(&timer, must_not_run_timer, 1000, 0));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &timer), 1);
  /* Closing an active handle makes it inactive at once. */
  close_calls = 0;
  uv_close((uv_handle_t*) &timer, count_close);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &timer), 0);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &timer), 1);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_calls, 1);
  ASSERT_EQ(fail_calls, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-idle.c: idle_starvation ---- */

static uv_idle_t starve_idle;
static uv_check_t starve_check;
static uv_timer_t starve_timer;
static int starve_idle_calls;
static int starve_check_calls;
static int starve_timer_calls;

static void starve_idle_cb(uv_idle_t* h) {
  ASSERT_PTR_EQ(h, &starve_idle);
  starve_idle_calls++;
}

static void starve_check_cb(uv_check_t* h) {
  ASSERT_PTR_EQ(h, &starve_check);
  starve_check_calls++;
}

static void starve_timer_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &starve_timer);
  starve_timer_calls++;
  uv_close((uv_handle_t*) &starve_idle, count_close);
  uv_close((uv_handle_t*) &starve_check, count_close);
  uv_close((uv_handle_t*) &starve_timer, count_close);
}

/* An idle handle makes every poll non-blocking but must not keep a timer
 * from firing. */
static void test_idle_does_not_starve_timers(void) {
  uv_loop_t loop;

  ASSERT_OK(uv_loop_init(&loop));
  close_calls = 0;
  ASSERT_OK(uv_idle_init(&loop, &starve_idle));
  ASSERT_OK(uv_idle_start(&starve_idle, starve_idle_cb));
  ASSERT_OK(uv_check_init(&loop, &starve_check));
  ASSERT_OK(uv_check_start(&starve_check, starve_check_cb));
  ASSERT_OK(uv_timer_init(&loop, &starve_timer));
  ASSERT_OK(uv_timer_start(&starve_timer, starve_timer_cb, 20, 0));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_GT(starve_idle_calls, 0);
  ASSERT_GT(starve_check_calls, 0);
  ASSERT_EQ(starve_timer_calls, 1);
  ASSERT_EQ(close_calls, 3);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-close-order.c: close_order ---- */

static uv_check_t order_check;
static uv_timer_t order_soon;
static uv_timer_t order_far;
static int order_check_calls;
static int order_timer_calls;

static void order_timer_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &order_soon);
  ASSERT_EQ(close_calls, 0);
  order_timer_calls++;
  uv_close((uv_handle_t*) h, count_close);
}

static void order_check_cb(uv_check_t* h) {
  /* The check phase of the iteration that closed the timer comes before
   * any close callback. */
  ASSERT_EQ(order_check_calls, 0);
  ASSERT_EQ(close_calls, 0);
  ASSERT_EQ(order_timer_calls, 1);
  order_check_calls++;
  uv_close((uv_handle_t*) h, count_close);
  uv_close((uv_handle_t*) &order_far, count_close);
}

static void test_close_order(void) {
  uv_loop_t loop;

  ASSERT_OK(uv_loop_init(&loop));
  close_calls = 0;
  ASSERT_OK(uv_check_init(&loop, &order_check));
  ASSERT_OK(uv_check_start(&order_check, order_check_cb));
  ASSERT_OK(uv_timer_init(&loop, &order_soon));
  ASSERT_OK(uv_timer_start(&order_soon, order_timer_cb, 0, 0));
  ASSERT_OK(uv_timer_init(&loop, &order_far));
  ASSERT_OK(uv_timer_start(&order_far, must_not_run_timer, 100000, 0));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(order_check_calls, 1);
  ASSERT_EQ(order_timer_calls, 1);
  ASSERT_EQ(close_calls, 3);
  ASSERT_EQ(fail_calls, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-loop-stop.c: loop_stop, loop_stop_before_run ---- */

static uv_prepare_t stop_prepare;
static uv_timer_t stop_timer;
static int stop_prepare_calls;
static int stop_timer_calls;

static void stop_prepare_cb(uv_prepare_t* h) {
  ASSERT_PTR_EQ(h, &stop_prepare);
  if (++stop_prepare_calls == 10)
    ASSERT_OK(uv_prepare_stop(h));
}

static void stop_timer_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &stop_timer);
  stop_timer_calls++;
  if (stop_timer_calls == 1)
    uv_stop(h->loop);
  else if (stop_timer_calls == 10)
    ASSERT_OK(uv_timer_stop(h));
}

static void test_stop(void) {
  uv_loop_t loop;
  uv_timer_t t;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_prepare_init(&loop, &stop_prepare));
  ASSERT_OK(uv_prepare_start(&stop_prepare, stop_prepare_cb));
  ASSERT_OK(uv_timer_init(&loop, &stop_timer));
  ASSERT_OK(uv_timer_start(&stop_timer, stop_timer_cb, 10, 10));

  /* The first timer callback stops the run; handles are still active. */
  ASSERT_NE(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(stop_timer_calls, 1);
  /* The stop flag is gone: the next run goes through a whole iteration. */
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_GT(stop_prepare_calls, 1);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(stop_timer_calls, 10);
  ASSERT_EQ(stop_prepare_calls, 10);
  uv_close((uv_handle_t*) &stop_prepare, NULL);
  uv_close((uv_handle_t*) &stop_timer, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  /* Stopped before running: a due timer does not fire, and the run
   * reports the loop still alive. */
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_timer_start(&t, must_not_run_timer, 0, 0));
  uv_stop(&loop);
  ASSERT_NE(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(fail_calls, 0);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

/* test-loop-time.c: loop_update_time, loop_backend_timeout. */
static void test_loop_time(void) {
  uv_loop_t loop;
  uv_timer_t t;
  uint64_t start;
  int timeout;

  ASSERT_OK(uv_loop_init(&loop));
  /* A NOWAIT run of a loop without handles still refreshes uv_now. */
  start = uv_now(&loop);
  while (uv_now(&loop) - start < 15)
    ASSERT_OK(uv_run(&loop, UV_RUN_NOWAIT));

  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_backend_timeout(&loop), 0);
  ASSERT_OK(uv_timer_start(&t, must_not_run_timer, 1000, 0));
  /* libuv 1.44 answers 0 for a loop that never ran an iteration; one
   * iteration that does not block settles that. */
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  timeout = uv_backend_timeout(&loop);
  ASSERT_GT(timeout, 100);
  ASSERT_LE(timeout, 1000);
  ASSERT_NE(uv_loop_alive(&loop), 0);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(uv_backend_timeout(&loop), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

static int alive_timer_calls;

static void alive_timer_cb(uv_timer_t* h) {
  ASSERT_NOT_NULL(h);
  alive_timer_calls++;
}

/* test-loop-alive.c: loop_alive (the handle half; there is no thread pool
 * here). */
static void test_loop_alive(void) {
  uv_loop_t loop;
  uv_timer_t t;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_EQ(uv_loop_alive(&loop), 0); /* not started: not alive */
  ASSERT_OK(uv_timer_start(&t, alive_timer_cb, 5, 0));
  ASSERT_NE(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(alive_timer_calls, 1);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_NE(uv_loop_alive(&loop), 0); /* a close callback is pending */
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

static int once_idle_calls;

static void once_idle_cb(uv_idle_t* h) {
  if (++once_idle_calls == 64)
    ASSERT_OK(uv_idle_stop(h));
}

static int nowait_timer_calls;

static void nowait_timer_cb(uv_timer_t* h) {
  (void) h;
  nowait_timer_calls++;
}

/* test-run-once.c: run_once; test-run-nowait.c: run_nowait. */
static void test_run_once_and_nowait(void) {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_timer_t t;
  int runs = 0;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_idle_start(&idle, once_idle_cb));
  /* Each ONCE run is one iteration: one idle callback; the run that
   * stops the handle reports the loop dead. */
  while (uv_run(&loop, UV_RUN_ONCE) != 0)
    runs++;
  ASSERT_EQ(once_idle_calls, 64);
  ASSERT_EQ(runs, 63);
  uv_close((uv_handle_t*) &idle, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_timer_start(&t, nowait_timer_cb, 100, 100));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(nowait_timer_calls, 0);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-walk-handles.c: walk_handles ---- */

static char walk_cookie[] = "cookie";
static uv_timer_t walk_timer;
static int walk_seen;

static void walk_cb(uv_handle_t* h, void* arg) {
  ASSERT_PTR_EQ(arg, walk_cookie);
  ASSERT_PTR_EQ(h, &walk_timer);
  walk_seen++;
}

static void walk_timer_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &walk_timer);
  uv_walk(h->loop, walk_cb, walk_cookie);
  uv_close((uv_handle_t*) h, NULL);
}

static void test_walk(void) {
  uv_loop_t loop;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &walk_timer));
  ASSERT_OK(uv_timer_start(&walk_timer, walk_timer_cb, 1, 0));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(walk_seen, 1);
  /* The closed timer is gone from the loop. */
  walk_seen = 0;
  uv_walk(&loop, walk_cb, walk_cookie);
  ASSERT_EQ(walk_seen, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

static void stop_loop_cb(uv_timer_t* h) {
  uv_stop(h->loop);
}

/* test-loop-close.c: loop_close; test-getters-setters.c: the loop data
 * accessors. */
static void test_loop_close(void) {
  uv_loop_t loop;
  uv_timer_t t;
  int cookie;

  loop.data = &loop;
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_PTR_EQ(loop.data, &loop);
  ASSERT_PTR_EQ(uv_loop_get_data(&loop), &loop);
  uv_loop_set_data(&loop, &cookie);
  ASSERT_PTR_EQ(loop.data, &cookie);
  ASSERT_PTR_EQ(uv_loop_get_data(&loop), &cookie);
  loop.data = &loop;

  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_timer_start(&t, stop_loop_cb, 10, 10));
  ASSERT_EQ(uv_loop_close(&loop), UV_EBUSY);
  ASSERT_NE(uv_run(&loop, UV_RUN_DEFAULT), 0);
  uv_close((uv_handle_t*) &t, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_PTR_EQ(loop.data, &loop);
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_PTR_EQ(loop.data, &loop);
}

static int default_timer_calls;

static void default_timer_cb(uv_timer_t* h) {
  default_timer_calls++;
  uv_close((uv_handle_t*) h, NULL);
}

/* test-default-loop-close.c: default_loop_close. */
static void test_default_loop_close(void) {
  uv_loop_t* loop;
  uv_timer_t t;
  int round;

  for (round = 1; round <= 2; round++) {
    loop = uv_default_loop();
    ASSERT_NOT_NULL(loop);
    ASSERT_OK(uv_timer_init(loop, &t));
    ASSERT_OK(uv_timer_start(&t, default_timer_cb, 1, 0));
    ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
    ASSERT_EQ(default_timer_calls, round);
    ASSERT_OK(uv_loop_close(loop));
  }
}

/* test-handle-fileno.c: handle_fileno (the idle and UDP parts). */
static void test_fileno(void) {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_udp_t udp;
  uv_os_fd_t fd;
  struct sockaddr_in addr;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_EQ(uv_fileno((uv_handle_t*) &idle, &fd), UV_EINVAL);
  uv_close((uv_handle_t*) &idle, NULL);

  ASSERT_OK(uv_udp_init(&loop, &udp));
  ASSERT_EQ(uv_fileno((uv_handle_t*) &udp, &fd), UV_EBADF);
  ASSERT_OK(uv_udp_bind(&udp, (const struct sockaddr*) &addr, 0));
  fd = -1;
  ASSERT_OK(uv_fileno((uv_handle_t*) &udp, &fd));
  ASSERT_GE(fd, 0);
  uv_close((uv_handle_t*) &udp, NULL);
  ASSERT_EQ(uv_fileno((uv_handle_t*) &udp, &fd), UV_EBADF);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-queue-foreach-delete.c: queue_foreach_delete ---- */

/* Three handles per kind. The first callback of the phase closes its own
 * handle and the middle one: the middle one must not run afterwards.
 * Idle, prepare and check run the newest handle first (#2); async handles
 * run in the order they were made (#0). */
static uv_idle_t qd_idle[3];
static uv_prepare_t qd_prepare[3];
static uv_check_t qd_check[3];
static uv_async_t qd_async[3];
static int qd_calls[4][3];

static void qd_record(int kind, int index, uv_handle_t* all, size_t size,
                      int first) {
  uv_handle_t* self = (uv_handle_t*) ((char*) all + index * size);
  uv_handle_t* middle = (uv_handle_t*) ((char*) all + size);
  ASSERT_NE(index, 1); /* the middle one was closed before its turn */
  if (index == first) {
    uv_close(self, NULL);
    uv_close(middle, NULL);
  }
  qd_calls[kind][index]++;
}

static void qd_idle_cb(uv_idle_t* h) {
  qd_record(0, (int) (h - qd_idle), (uv_handle_t*) qd_idle, sizeof(*h), 2);
}

static void qd_prepare_cb(uv_prepare_t* h) {
  qd_record(1, (int) (h - qd_prepare), (uv_handle_t*) qd_prepare,
            sizeof(*h), 2);
}

static void qd_check_cb(uv_check_t* h) {
  qd_record(2, (int) (h - qd_check), (uv_handle_t*) qd_check, sizeof(*h),
            2);
}

static void qd_async_cb(uv_async_t* h) {
  qd_record(3, (int) (h - qd_async), (uv_handle_t*) qd_async, sizeof(*h),
            0);
}

static void test_close_during_phase(void) {
  uv_loop_t loop;
  int i;
  int k;

  ASSERT_OK(uv_loop_init(&loop));
  for (i = 0; i < 3; i++) {
    ASSERT_OK(uv_idle_init(&loop, &qd_idle[i]));
    ASSERT_OK(uv_idle_start(&qd_idle[i], qd_idle_cb));
    ASSERT_OK(uv_prepare_init(&loop, &qd_prepare[i]));
    ASSERT_OK(uv_prepare_start(&qd_prepare[i], qd_prepare_cb));
    ASSERT_OK(uv_check_init(&loop, &qd_check[i]));
    ASSERT_OK(uv_check_start(&qd_check[i], qd_check_cb));
    ASSERT_OK(uv_async_init(&loop, &qd_async[i], qd_async_cb));
  }
  /* libuv's test wakes the asyncs from a 0 ms timer; since 1.45 a NOWAIT
   * run fires timers at the end of the iteration, after its poll phase,
   * so wake them before the run instead. */
  for (i = 0; i < 3; i++)
    ASSERT_OK(uv_async_send(&qd_async[i]));

  /* One iteration: the async callbacks run in its poll phase; #0 (idle,
   * prepare, check) and #2 (async) survive and keep the loop alive. */
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 1);
  for (k = 0; k < 4; k++) {
    ASSERT_EQ(qd_calls[k][0], 1);
    ASSERT_EQ(qd_calls[k][1], 0);
    ASSERT_EQ(qd_calls[k][2], 1);
  }
  uv_close((uv_handle_t*) &qd_idle[0], NULL);
  uv_close((uv_handle_t*) &qd_prepare[0], NULL);
  uv_close((uv_handle_t*) &qd_check[0], NULL);
  uv_close((uv_handle_t*) &qd_async[2], NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-async-null-cb.c: async_null_cb ---- */

static uv_async_t null_async;
static uv_check_t null_check;
static int null_check_calls;

static void null_sender(void* arg) {
  (void) arg;
  ASSERT_OK(uv_async_send(&null_async));
}

static void null_check_cb(uv_check_t* h) {
  ASSERT_EQ(null_check_calls, 0);
  null_check_calls++;
  uv_close((uv_handle_t*) &null_async, NULL);
  uv_close((uv_handle_t*) h, NULL);
}

/* An async handle without a callback, made in a struct full of garbage,
 * woken from another thread: the loop wakes up (the check callback runs)
 * and nothing is called for the async handle. */
static void test_async_null_cb(void) {
  uv_loop_t loop;
  uv_thread_t thread;

  ASSERT_OK(uv_loop_init(&loop));
  memset(&null_async, 0xff, sizeof(null_async));
  ASSERT_OK(uv_async_init(&loop, &null_async, NULL));
  ASSERT_OK(uv_check_init(&loop, &null_check));
  ASSERT_OK(uv_check_start(&null_check, null_check_cb));
  ASSERT_OK(uv_thread_create(&thread, null_sender, NULL));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_thread_join(&thread));
  ASSERT_EQ(null_check_calls, 1);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-loop-handles.c: loop_handles ---- */

/* Three idle_1 handles plus idle_2: at most four started idle handles. */
#define LH_IDLE 3
#define LH_ITERATIONS 21

static uv_prepare_t lh_prepare_1;
static uv_prepare_t lh_prepare_2;
static uv_check_t lh_check;
static uv_idle_t lh_idle_1[LH_IDLE];
static uv_idle_t lh_idle_2;
static uv_timer_t lh_timer;
static int lh_iteration;
static int lh_prepare_1_calls;
static int lh_prepare_2_calls;
static int lh_check_calls;
static int lh_idle_1_calls;
static int lh_idle_1_closes;
static int lh_idle_2_started;
static int lh_idle_2_calls;
static int lh_idle_2_closes;
static int lh_idle_2_active;
static int lh_timer_calls;
static int lh_closes[3];

static void lh_close_cb(uv_handle_t* h) {
  if (h == (uv_handle_t*) &lh_prepare_1)
    lh_closes[0]++;
  else if (h == (uv_handle_t*) &lh_prepare_2)
    lh_closes[1]++;
  else if (h == (uv_handle_t*) &lh_check)
    lh_closes[2]++;
  else
    lh_idle_1_closes++;
}

static void lh_idle_2_close_cb(uv_handle_t* h) {
  ASSERT_PTR_EQ(h, &lh_idle_2);
  ASSERT(lh_idle_2_active);
  lh_idle_2_closes++;
  lh_idle_2_active = 0;
}

static void lh_idle_2_cb(uv_idle_t* h) {
  ASSERT_PTR_EQ(h, &lh_idle_2);
  lh_idle_2_calls++;
  /* Closing stops it: it must not run again. */
  uv_close((uv_handle_t*) h, lh_idle_2_close_cb);
}

static void lh_idle_1_cb(uv_idle_t* h) {
  if (!lh_idle_2_active) {
    ASSERT_OK(uv_idle_init(h->loop, &lh_idle_2));
    ASSERT_OK(uv_idle_start(&lh_idle_2, lh_idle_2_cb));
    lh_idle_2_active = 1;
    lh_idle_2_started++;
  }
  if (++lh_idle_1_calls % 5 == 0)
    ASSERT_OK(uv_idle_stop(h));
}

static void lh_check_cb(uv_check_t* h) {
  int i;
  ASSERT_PTR_EQ(h, &lh_check);
  if (lh_iteration < LH_ITERATIONS) {
    for (i = 0; i < 1 + (lh_iteration % LH_IDLE); i++)
      ASSERT_OK(uv_idle_start(&lh_idle_1[i], lh_idle_1_cb));
  } else {
    uv_close((uv_handle_t*) &lh_prepare_1, lh_close_cb);
    uv_close((uv_handle_t*) &lh_check, lh_close_cb);
    uv_close((uv_handle_t*) &lh_prepare_2, lh_close_cb);
    for (i = 0; i < LH_IDLE; i++)
      uv_close((uv_handle_t*) &lh_idle_1[i], lh_close_cb);
    if (lh_idle_2_active && !uv_is_closing((uv_handle_t*) &lh_idle_2))
      uv_close((uv_handle_t*) &lh_idle_2, lh_idle_2_close_cb);
    uv_close((uv_handle_t*) &lh_timer, NULL);
  }
  lh_check_calls++;
}

static void lh_prepare_2_cb(uv_prepare_t* h) {
  ASSERT_PTR_EQ(h, &lh_prepare_2);
  /* Started by prepare_1 in an even iteration: it first runs in the next
   * (odd) one. */
  ASSERT_NE(lh_iteration % 2, 0);
  ASSERT_OK(uv_prepare_stop(h));
  lh_prepare_2_calls++;
}

static void lh_prepare_1_cb(uv_prepare_t* h) {
  ASSERT_PTR_EQ(h, &lh_prepare_1);
  if (lh_iteration % 2 == 0)
    ASSERT_OK(uv_prepare_start(&lh_prepare_2, lh_prepare_2_cb));
  lh_prepare_1_calls++;
  lh_iteration++;
}

static void lh_timer_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &lh_timer);
  lh_timer_calls++;
}

static void test_loop_handles(void) {
  uv_loop_t loop;
  int i;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_prepare_init(&loop, &lh_prepare_1));
  ASSERT_OK(uv_prepare_start(&lh_prepare_1, lh_prepare_1_cb));
  ASSERT_OK(uv_check_init(&loop, &lh_check));
  ASSERT_OK(uv_check_start(&lh_check, lh_check_cb));
  ASSERT_OK(uv_prepare_init(&loop, &lh_prepare_2));
  for (i = 0; i < LH_IDLE; i++)
    ASSERT_OK(uv_idle_init(&loop, &lh_idle_1[i]));
  /* Unreferenced: it only makes the loop poll now and then. */
  ASSERT_OK(uv_timer_init(&loop, &lh_timer));
  ASSERT_OK(uv_timer_start(&lh_timer, lh_timer_cb, 5, 5));
  uv_unref((uv_handle_t*) &lh_timer);

  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(lh_iteration, LH_ITERATIONS);
  ASSERT_EQ(lh_prepare_1_calls, LH_ITERATIONS);
  ASSERT_EQ(lh_prepare_2_calls, LH_ITERATIONS / 2);
  ASSERT_EQ(lh_check_calls, LH_ITERATIONS);
  ASSERT_EQ(lh_closes[0], 1);
  ASSERT_EQ(lh_closes[1], 1);
  ASSERT_EQ(lh_closes[2], 1);
  ASSERT_GT(lh_idle_1_calls, 0);
  ASSERT_EQ(lh_idle_1_closes, LH_IDLE);
  ASSERT_EQ(lh_idle_2_closes, lh_idle_2_started);
  ASSERT_LE(lh_idle_2_calls, lh_idle_2_started);
  ASSERT_EQ(lh_idle_2_active, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-idle.c: idle_check ---- */

static int ic_check_calls;

static void ic_idle_stops_itself(uv_idle_t* h) {
  ASSERT_OK(uv_idle_stop(h));
}

static void ic_check_cb(uv_check_t* h) {
  ASSERT_NOT_NULL(h);
  ic_check_calls++;
}

/* An idle handle that stops itself in its callback: the ONCE run still
 * does not block (the iteration began with an idle handle), runs the
 * check handle once and reports the loop alive. */
static void test_idle_check(void) {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_check_t check;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_idle_start(&idle, ic_idle_stops_itself));
  ASSERT_OK(uv_check_init(&loop, &check));
  ASSERT_OK(uv_check_start(&check, ic_check_cb));
  ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  ASSERT_EQ(ic_check_calls, 1);
  close_calls = 0;
  uv_close((uv_handle_t*) &idle, count_close);
  uv_close((uv_handle_t*) &check, count_close);
  ASSERT_OK(uv_run(&loop, UV_RUN_ONCE));
  ASSERT_EQ(close_calls, 2);
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  test_unreferenced_handles();
  test_send_on_unreferenced_udp();
  test_unref_from_callback();
  test_active_and_closing();
  test_idle_does_not_starve_timers();
  test_close_order();
  test_stop();
  test_loop_time();
  test_loop_alive();
  test_run_once_and_nowait();
  test_walk();
  test_loop_close();
  test_default_loop_close();
  test_fileno();
  test_close_during_phase();
  test_async_null_cb();
  test_loop_handles();
  test_idle_check();
  return 0;
}
