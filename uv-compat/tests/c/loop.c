/* loop.c: the loop itself.
 *
 * Covers: uv_loop_init/uv_loop_close (UV_EBUSY while any handle exists, a
 * closing one too; loop->data kept across init and close even when the
 * struct was full of garbage), uv_run return values for DEFAULT, ONCE and
 * NOWAIT, uv_stop (before uv_run and from a callback: the iteration
 * finishes), uv_loop_alive (active, unreferenced, closing handles),
 * uv_now/uv_update_time, uv_backend_timeout (0 for a dead loop, -1 with only
 * I/O handles, 0 with an idle handle or after uv_stop, a timer's distance,
 * 0 when a timer is due), uv_backend_fd, uv_walk (arg passed, closing
 * handles still walked), uv_default_loop (same pointer twice, usable again
 * after uv_loop_close), uv_loop_configure (UV_LOOP_BLOCK_SIGNAL with SIGPROF,
 * other signals UV_EINVAL, unknown options UV_ENOSYS), uv_library_shutdown.
 *
 * 1.45+-only assertions: none (everything here holds on libuv 1.44 too).
 */
#include <uv.h>

#include <limits.h>
#include <signal.h>

#include "test.h"

static int close_cb_calls;
static int timer_cb_calls;
static int idle_cb_calls;
static int check_cb_calls;
static int idle_stop_at;

static void close_cb(uv_handle_t* handle) {
  ASSERT(uv_is_closing(handle));
  close_cb_calls++;
}

static void timer_cb(uv_timer_t* handle) {
  (void) handle;
  timer_cb_calls++;
}

static void idle_cb(uv_idle_t* handle) {
  idle_cb_calls++;
  if (idle_cb_calls == idle_stop_at)
    uv_stop(handle->loop);
}

static void check_cb(uv_check_t* handle) {
  (void) handle;
  check_cb_calls++;
}

static void test_init_close_keeps_data(void) {
  uv_loop_t loop;
  int marker;

  /* init must not rely on anything in the caller's memory but data. */
  memset(&loop, 0xA5, sizeof(loop));
  loop.data = &marker;
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_PTR_EQ(loop.data, &marker);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_PTR_EQ(loop.data, &marker);

  /* A closed loop can be initialised again. */
  loop.data = NULL;
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_NULL(loop.data);
  ASSERT_OK(uv_loop_close(&loop));
}

static void test_close_ebusy(void) {
  uv_loop_t loop;
  uv_timer_t timer;
  uv_idle_t idle;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &timer));
  ASSERT_OK(uv_idle_init(&loop, &idle));

  /* Inactive handles count. */
  ASSERT_EQ(uv_loop_close(&loop), UV_EBUSY);

  close_cb_calls = 0;
  uv_close((uv_handle_t*) &timer, close_cb);
  uv_close((uv_handle_t*) &idle, close_cb);
  ASSERT(uv_is_closing((uv_handle_t*) &timer));

  /* Closing handles whose callback has not run yet count too, and keep the
   * loop alive. */
  ASSERT_EQ(uv_loop_close(&loop), UV_EBUSY);
  ASSERT_NE(uv_loop_alive(&loop), 0);
  ASSERT_EQ(close_cb_calls, 0);

  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(close_cb_calls, 2);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

static void test_run_modes(void) {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_check_t check;
  uv_timer_t timer;
  uint64_t t0;
  uint64_t elapsed_ms;

  ASSERT_OK(uv_loop_init(&loop));

  /* Nothing alive: every mode returns 0 at once. */
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);

  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_check_init(&loop, &check));
  ASSERT_OK(uv_check_start(&check, check_cb));
  /* An active check handle keeps the loop alive; the idle one is inactive. */
  ASSERT_NE(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_check_stop(&check));
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(check_cb_calls, 0);

  idle_cb_calls = 0;
  idle_stop_at = -1;
  ASSERT_OK(uv_idle_start(&idle, idle_cb));
  ASSERT_NE(uv_loop_alive(&loop), 0);

  /* NOWAIT and ONCE run exactly one iteration and report "still alive". */
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(idle_cb_calls, 1);
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(idle_cb_calls, 2);

  /* uv_stop from a callback: DEFAULT finishes that iteration (the check
   * callback still runs) and returns non-zero because the idle handle is
   * still active. */
  ASSERT_OK(uv_check_start(&check, check_cb));
  idle_cb_calls = 0;
  check_cb_calls = 0;
  idle_stop_at = 3;
  ASSERT_NE(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(idle_cb_calls, 3);
  ASSERT_EQ(check_cb_calls, 3);

  /* uv_stop before uv_run: returns at once, no callback, and the flag is
   * reset so the next uv_run iterates normally. */
  uv_stop(&loop);
  ASSERT_NE(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(idle_cb_calls, 3);
  ASSERT_EQ(check_cb_calls, 3);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(idle_cb_calls, 4);
  ASSERT_EQ(check_cb_calls, 4);
  ASSERT_OK(uv_check_stop(&check));

  /* An unreferenced active handle does not keep the loop alive: uv_run
   * returns 0 without iterating. */
  uv_unref((uv_handle_t*) &idle);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &idle), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(idle_cb_calls, 4);
  uv_ref((uv_handle_t*) &idle);
  ASSERT_NE(uv_has_ref((uv_handle_t*) &idle), 0);
  ASSERT_OK(uv_idle_stop(&idle));

  /* NOWAIT does not block for a timer that is not due. */
  ASSERT_OK(uv_timer_init(&loop, &timer));
  timer_cb_calls = 0;
  ASSERT_OK(uv_timer_start(&timer, timer_cb, 50, 0));
  t0 = uv_hrtime();
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(timer_cb_calls, 0);
  elapsed_ms = (uv_hrtime() - t0) / 1000000;
  ASSERT_LT(elapsed_ms, 40);

  /* ONCE blocks until the timer is due, runs it, and returns 0 because
   * nothing is left. */
  ASSERT_OK(uv_timer_start(&timer, timer_cb, 20, 0));
  t0 = uv_hrtime();
  ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(timer_cb_calls, 1);
  elapsed_ms = (uv_hrtime() - t0) / 1000000;
  ASSERT_GE(elapsed_ms, 15);
  ASSERT_LT(elapsed_ms, 1000);

  /* DEFAULT runs until nothing is alive and returns 0. */
  ASSERT_OK(uv_timer_start(&timer, timer_cb, 1, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(timer_cb_calls, 2);

  close_cb_calls = 0;
  uv_close((uv_handle_t*) &idle, close_cb);
  uv_close((uv_handle_t*) &check, close_cb);
  uv_close((uv_handle_t*) &timer, close_cb);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(close_cb_calls, 3);
  ASSERT_OK(uv_loop_close(&loop));
}

static void test_time(void) {
  uv_loop_t loop;
  uv_timer_t timer;
  uint64_t now1;
  uint64_t now2;
  uint64_t h1;
  uint64_t h2;

  ASSERT_OK(uv_loop_init(&loop));
  now1 = uv_now(&loop);
  h1 = uv_hrtime();
  uv_sleep(25);
  h2 = uv_hrtime();
  ASSERT_GE(h2 - h1, 25 * 1000000ULL);

  /* uv_now is cached until the loop updates it. */
  ASSERT_EQ(uv_now(&loop), now1);
  uv_update_time(&loop);
  now2 = uv_now(&loop);
  ASSERT_GE(now2 - now1, 24);
  ASSERT_LT(now2 - now1, 1025);

  /* uv_run updates the cached time too. */
  ASSERT_OK(uv_timer_init(&loop, &timer));
  uv_sleep(10);
  ASSERT_EQ(uv_now(&loop), now2);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_GE(uv_now(&loop), now2 + 9);

  uv_close((uv_handle_t*) &timer, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

static void test_backend(void) {
  uv_loop_t loop;
  uv_async_t async;
  uv_idle_t idle;
  uv_timer_t timer;
  int t;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_GE(uv_backend_fd(&loop), 0);

  /* Nothing alive: 0 (libuv never blocks a dead loop). */
  ASSERT_EQ(uv_backend_timeout(&loop), 0);

  /* Only an I/O handle (an async handle): block forever. */
  ASSERT_OK(uv_async_init(&loop, &async, NULL));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(uv_backend_timeout(&loop), -1);

  /* An active idle handle: never block. */
  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_idle_start(&idle, idle_cb));
  ASSERT_EQ(uv_backend_timeout(&loop), 0);
  ASSERT_OK(uv_idle_stop(&idle));
  ASSERT_EQ(uv_backend_timeout(&loop), -1);

  /* A timer: the distance to it. */
  ASSERT_OK(uv_timer_init(&loop, &timer));
  timer_cb_calls = 0;
  ASSERT_OK(uv_timer_start(&timer, timer_cb, 100, 0));
  t = uv_backend_timeout(&loop);
  ASSERT_GT(t, 0);
  ASSERT_LE(t, 100);

  /* After uv_stop: 0. */
  uv_stop(&loop);
  ASSERT_EQ(uv_backend_timeout(&loop), 0);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0); /* consumes the stop flag */
  ASSERT_EQ(timer_cb_calls, 0);
  t = uv_backend_timeout(&loop);
  ASSERT_GT(t, 0);
  ASSERT_LE(t, 100);

  /* A due timer: 0. */
  uv_sleep(110);
  uv_update_time(&loop);
  ASSERT_EQ(uv_backend_timeout(&loop), 0);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(timer_cb_calls, 1);
  ASSERT_EQ(uv_backend_timeout(&loop), -1);

  uv_close((uv_handle_t*) &async, NULL);
  uv_close((uv_handle_t*) &idle, NULL);
  uv_close((uv_handle_t*) &timer, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

struct walk_state {
  int magic;
  int seen;
  int closing;
  int timers;
};

static void walk_count_cb(uv_handle_t* handle, void* arg) {
  struct walk_state* st = arg;
  ASSERT_EQ(st->magic, 0x5eed);
  st->seen++;
  if (uv_is_closing(handle))
    st->closing++;
  if (uv_handle_get_type(handle) == UV_TIMER)
    st->timers++;
}

static void walk_close_cb(uv_handle_t* handle, void* arg) {
  struct walk_state* st = arg;
  if (!uv_is_closing(handle)) {
    st->seen++;
    uv_close(handle, close_cb);
  }
}

static void test_walk(void) {
  uv_loop_t loop;
  uv_timer_t timer;
  uv_idle_t idle;
  uv_check_t check;
  uv_prepare_t prepare;
  struct walk_state st;

  ASSERT_OK(uv_loop_init(&loop));
  memset(&st, 0, sizeof(st));
  st.magic = 0x5eed;
  uv_walk(&loop, walk_count_cb, &st);
  ASSERT_EQ(st.seen, 0);

  ASSERT_OK(uv_timer_init(&loop, &timer));
  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_check_init(&loop, &check));
  ASSERT_OK(uv_prepare_init(&loop, &prepare));
  ASSERT_OK(uv_idle_start(&idle, idle_cb));

  uv_walk(&loop, walk_count_cb, &st);
  ASSERT_EQ(st.seen, 4);
  ASSERT_EQ(st.closing, 0);
  ASSERT_EQ(st.timers, 1);

  /* A closing handle is still walked until its close callback ran. */
  close_cb_calls = 0;
  uv_close((uv_handle_t*) &prepare, close_cb);
  memset(&st, 0, sizeof(st));
  st.magic = 0x5eed;
  uv_walk(&loop, walk_count_cb, &st);
  ASSERT_EQ(st.seen, 4);
  ASSERT_EQ(st.closing, 1);

  /* The usual shutdown idiom: close everything from uv_walk. */
  memset(&st, 0, sizeof(st));
  uv_walk(&loop, walk_close_cb, &st);
  ASSERT_EQ(st.seen, 3);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(close_cb_calls, 4);

  memset(&st, 0, sizeof(st));
  st.magic = 0x5eed;
  uv_walk(&loop, walk_count_cb, &st);
  ASSERT_EQ(st.seen, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

static void test_configure(void) {
  uv_loop_t loop;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_loop_configure(&loop, UV_LOOP_BLOCK_SIGNAL, SIGPROF));
  ASSERT_EQ(uv_loop_configure(&loop, UV_LOOP_BLOCK_SIGNAL, SIGUSR1),
            UV_EINVAL);
  ASSERT_EQ(uv_loop_configure(&loop, (uv_loop_option) 99, 0), UV_ENOSYS);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

static void test_default_loop(void) {
  uv_loop_t* loop;
  uv_timer_t timer;

  loop = uv_default_loop();
  ASSERT_NOT_NULL(loop);
  ASSERT_PTR_EQ(uv_default_loop(), loop);

  ASSERT_OK(uv_timer_init(loop, &timer));
  ASSERT_PTR_EQ(timer.loop, loop);
  timer_cb_calls = 0;
  ASSERT_OK(uv_timer_start(&timer, timer_cb, 1, 0));
  ASSERT_EQ(uv_loop_close(loop), UV_EBUSY);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(timer_cb_calls, 1);
  uv_close((uv_handle_t*) &timer, NULL);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(loop));

  /* After closing it, uv_default_loop() hands out a working loop again. */
  loop = uv_default_loop();
  ASSERT_NOT_NULL(loop);
  ASSERT_PTR_EQ(uv_default_loop(), loop);
  ASSERT_OK(uv_timer_init(loop, &timer));
  ASSERT_OK(uv_timer_start(&timer, timer_cb, 1, 0));
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(timer_cb_calls, 2);
  uv_close((uv_handle_t*) &timer, NULL);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(loop));
}

int main(void) {
  test_init_close_keeps_data();
  test_close_ebusy();
  test_run_modes();
  test_time();
  test_backend();
  test_walk();
  test_configure();
  test_default_loop();
  uv_library_shutdown();
  printf("loop: ok\n");
  return 0;
}
