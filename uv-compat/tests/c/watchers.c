/* watchers.c: idle, prepare and check handles.
 *
 * Covers, for each of the three types: init (type, loop, inactive),
 * start with a NULL callback -> UV_EINVAL, start (active; a second start is
 * a no-op returning 0), stop (idempotent), one callback per iteration,
 * ref/unref/has_ref, is_closing, a handle started from a callback of the
 * same phase first runs in the next iteration, a handle stopped by an
 * earlier callback of the same phase does not run; an active idle handle
 * keeps the poll phase from blocking (backend timeout 0, a DEFAULT run with a
 * far timer finishes quickly) while prepare/check handles do not.
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include "test.h"

static uv_loop_t loop;
static int idle_calls;
static int prepare_calls;
static int check_calls;

static void idle_cb(uv_idle_t* h) {
  (void) h;
  idle_calls++;
}

static void prepare_cb(uv_prepare_t* h) {
  (void) h;
  prepare_calls++;
}

static void check_cb(uv_check_t* h) {
  (void) h;
  check_calls++;
}

static void test_lifecycle(void) {
  uv_idle_t idle;
  uv_prepare_t prepare;
  uv_check_t check;

  memset(&idle, 0xEE, sizeof(idle));
  memset(&prepare, 0xEE, sizeof(prepare));
  memset(&check, 0xEE, sizeof(check));
  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_prepare_init(&loop, &prepare));
  ASSERT_OK(uv_check_init(&loop, &check));
  ASSERT_EQ(idle.type, UV_IDLE);
  ASSERT_EQ(prepare.type, UV_PREPARE);
  ASSERT_EQ(check.type, UV_CHECK);
  ASSERT_PTR_EQ(idle.loop, &loop);
  ASSERT_PTR_EQ(prepare.loop, &loop);
  ASSERT_PTR_EQ(check.loop, &loop);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &idle), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &prepare), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &check), 0);

  ASSERT_EQ(uv_idle_start(&idle, NULL), UV_EINVAL);
  ASSERT_EQ(uv_prepare_start(&prepare, NULL), UV_EINVAL);
  ASSERT_EQ(uv_check_start(&check, NULL), UV_EINVAL);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &idle), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &prepare), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &check), 0);

  /* Stopping an inactive handle is fine. */
  ASSERT_OK(uv_idle_stop(&idle));
  ASSERT_OK(uv_prepare_stop(&prepare));
  ASSERT_OK(uv_check_stop(&check));

  ASSERT_OK(uv_idle_start(&idle, idle_cb));
  ASSERT_OK(uv_prepare_start(&prepare, prepare_cb));
  ASSERT_OK(uv_check_start(&check, check_cb));
  ASSERT_NE(uv_is_active((uv_handle_t*) &idle), 0);
  ASSERT_NE(uv_is_active((uv_handle_t*) &prepare), 0);
  ASSERT_NE(uv_is_active((uv_handle_t*) &check), 0);
  /* Starting again is a no-op. */
  ASSERT_OK(uv_idle_start(&idle, idle_cb));
  ASSERT_OK(uv_prepare_start(&prepare, prepare_cb));
  ASSERT_OK(uv_check_start(&check, check_cb));

  idle_calls = prepare_calls = check_calls = 0;
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(idle_calls, 3);
  ASSERT_EQ(prepare_calls, 3);
  ASSERT_EQ(check_calls, 3);

  /* Unreferenced active handles do not keep the loop alive. */
  uv_unref((uv_handle_t*) &idle);
  uv_unref((uv_handle_t*) &prepare);
  uv_unref((uv_handle_t*) &check);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &idle), 0);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &prepare), 0);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &check), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(idle_calls, 3);
  uv_ref((uv_handle_t*) &idle);
  uv_ref((uv_handle_t*) &idle); /* ref is not counted */
  ASSERT_NE(uv_has_ref((uv_handle_t*) &idle), 0);
  ASSERT_NE(uv_loop_alive(&loop), 0);
  uv_unref((uv_handle_t*) &idle);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  uv_ref((uv_handle_t*) &idle);
  uv_ref((uv_handle_t*) &prepare);
  uv_ref((uv_handle_t*) &check);

  ASSERT_OK(uv_idle_stop(&idle));
  ASSERT_OK(uv_prepare_stop(&prepare));
  ASSERT_OK(uv_check_stop(&check));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &idle), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &prepare), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &check), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(idle_calls, 3);
  ASSERT_EQ(prepare_calls, 3);
  ASSERT_EQ(check_calls, 3);

  uv_close((uv_handle_t*) &idle, NULL);
  uv_close((uv_handle_t*) &prepare, NULL);
  uv_close((uv_handle_t*) &check, NULL);
  ASSERT_NE(uv_is_closing((uv_handle_t*) &idle), 0);
  ASSERT_NE(uv_is_closing((uv_handle_t*) &prepare), 0);
  ASSERT_NE(uv_is_closing((uv_handle_t*) &check), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &idle), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

/* A prepare callback that starts a second prepare handle, and a check
 * callback that stops the other check handle before it ran. */
static uv_prepare_t pa;
static uv_prepare_t pb;
static uv_check_t ca;
static uv_check_t cb_;
static int pb_calls;
static int ca_calls;
static int cb_calls;
static int iterations;

static void pb_cb(uv_prepare_t* h) {
  (void) h;
  pb_calls++;
}

static void pa_cb(uv_prepare_t* h) {
  (void) h;
  iterations++;
  if (iterations == 1) {
    ASSERT_OK(uv_prepare_start(&pb, pb_cb));
    ASSERT_EQ(pb_calls, 0);
  }
  if (iterations == 3) {
    uv_close((uv_handle_t*) &pa, NULL);
    uv_close((uv_handle_t*) &pb, NULL);
    uv_close((uv_handle_t*) &ca, NULL);
    uv_close((uv_handle_t*) &cb_, NULL);
  }
}

static void cb_cb(uv_check_t* h) {
  (void) h;
  cb_calls++;
}

static void ca_cb(uv_check_t* h) {
  (void) h;
  ca_calls++;
  /* ca was started last, so it runs before cb_; stopping cb_ here means it
   * does not run in this iteration. */
  ASSERT_OK(uv_check_stop(&cb_));
}

static void test_same_phase_changes(void) {
  iterations = pb_calls = ca_calls = cb_calls = 0;
  ASSERT_OK(uv_prepare_init(&loop, &pa));
  ASSERT_OK(uv_prepare_init(&loop, &pb));
  ASSERT_OK(uv_check_init(&loop, &ca));
  ASSERT_OK(uv_check_init(&loop, &cb_));
  ASSERT_OK(uv_prepare_start(&pa, pa_cb));
  ASSERT_OK(uv_check_start(&cb_, cb_cb));
  ASSERT_OK(uv_check_start(&ca, ca_cb));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(iterations, 1);
  ASSERT_EQ(pb_calls, 0); /* started during the prepare phase: not yet */
  ASSERT_EQ(ca_calls, 1);
  ASSERT_EQ(cb_calls, 0); /* stopped by ca before its turn */
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(pb_calls, 1);
  ASSERT_EQ(ca_calls, 2);
  ASSERT_EQ(cb_calls, 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(iterations, 3);
  /* pb, started after pa, runs before it; the check handles were closed in
   * the prepare phase and do not run any more. */
  ASSERT_EQ(pb_calls, 2);
  ASSERT_EQ(ca_calls, 2);
  ASSERT_EQ(cb_calls, 0);
}

/* The idle handle stops itself after 10 iterations, then closes the far
 * timer; a blocking poll would make this take 5 s. */
static uv_idle_t busy_idle;
static uv_timer_t far_timer;

static void far_timer_cb(uv_timer_t* h) {
  (void) h;
  UVC_FAIL_("far timer fired");
}

static void busy_idle_cb(uv_idle_t* h) {
  ASSERT_EQ(uv_backend_timeout(&loop), 0);
  if (++idle_calls == 10) {
    ASSERT_OK(uv_idle_stop(h));
    uv_close((uv_handle_t*) h, NULL);
    uv_close((uv_handle_t*) &far_timer, NULL);
  }
}

static void test_idle_keeps_poll_nonblocking(void) {
  uv_prepare_t prepare;
  uv_check_t check;
  uint64_t t0;
  int t;

  ASSERT_OK(uv_timer_init(&loop, &far_timer));
  ASSERT_OK(uv_timer_start(&far_timer, far_timer_cb, 5000, 0));
  ASSERT_OK(uv_prepare_init(&loop, &prepare));
  ASSERT_OK(uv_check_init(&loop, &check));
  ASSERT_OK(uv_prepare_start(&prepare, prepare_cb));
  ASSERT_OK(uv_check_start(&check, check_cb));

  /* prepare and check handles do not make the poll phase non-blocking. */
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  t = uv_backend_timeout(&loop);
  ASSERT_GT(t, 4000);
  ASSERT_LE(t, 5000);

  ASSERT_OK(uv_idle_init(&loop, &busy_idle));
  ASSERT_OK(uv_idle_start(&busy_idle, busy_idle_cb));
  ASSERT_EQ(uv_backend_timeout(&loop), 0);
  uv_unref((uv_handle_t*) &prepare);
  uv_unref((uv_handle_t*) &check);

  idle_calls = prepare_calls = check_calls = 0;
  t0 = uv_hrtime();
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_LT((uv_hrtime() - t0) / 1000000, 1000);
  ASSERT_EQ(idle_calls, 10);
  ASSERT_EQ(prepare_calls, 10);
  ASSERT_EQ(check_calls, 10);

  uv_close((uv_handle_t*) &prepare, NULL);
  uv_close((uv_handle_t*) &check, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_lifecycle();
  test_same_phase_changes();
  test_idle_keeps_poll_nonblocking();
  ASSERT_OK(uv_loop_close(&loop));
  printf("watchers: ok\n");
  return 0;
}
