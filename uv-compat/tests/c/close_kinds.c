/* close_kinds.c: uv_close on handles of every kind in one batch, and on
 * timers in every state.
 *
 * Covers: close callbacks of an idle, prepare, check, async, poll and UDP
 * handle and of timers (never started, fired, stopped, armed, armed and
 * unreferenced) closed together run once each, in the reverse order of
 * the uv_close calls, NULL close callbacks mixed in; uv_is_closing 1 and
 * uv_is_active 0 at once after uv_close; uv_loop_alive exact: an idle
 * loop becomes alive by closing an unstarted timer and is dead once its
 * close callback ran; a timer due in the same timer phase, closed by an
 * earlier timer's callback before it fired, never fires and its close
 * callback runs once.
 */
#include <uv.h>

#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static uv_loop_t loop;
static uv_handle_t* closed[32];
static int closed_n;

static void record_close(uv_handle_t* h) {
  ASSERT_LT(closed_n, 32);
  closed[closed_n++] = h;
}

static void never_timer(uv_timer_t* h) {
  (void) h;
  ASSERT(!"a closed timer fired");
}

static void never_idle(uv_idle_t* h) {
  (void) h;
  ASSERT(!"a closed idle ran");
}

static void never_prepare(uv_prepare_t* h) {
  (void) h;
  ASSERT(!"a closed prepare ran");
}

static void never_check(uv_check_t* h) {
  (void) h;
  ASSERT(!"a closed check ran");
}

static void never_poll(uv_poll_t* h, int status, int events) {
  (void) h;
  (void) status;
  (void) events;
  ASSERT(!"a closed poll ran");
}

static void noop_timer(uv_timer_t* h) { (void) h; }

static void close_checked(uv_handle_t* h, uv_close_cb cb) {
  ASSERT_EQ(uv_is_closing(h), 0);
  uv_close(h, cb);
  ASSERT_NE(uv_is_closing(h), 0);
  ASSERT_EQ(uv_is_active(h), 0);
  ASSERT_NE(uv_loop_alive(&loop), 0);
}

/* --- every kind closed in one batch --------------------------------- */

static void test_every_kind(void) {
  uv_idle_t idle;
  uv_prepare_t prepare;
  uv_check_t check;
  uv_async_t async;
  uv_poll_t poll;
  uv_udp_t udp;
  uv_timer_t fresh, fired, stopped, armed, unrefd;
  int sv[2];
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  ASSERT_OK(uv_timer_init(&loop, &fresh));
  ASSERT_OK(uv_timer_init(&loop, &fired));
  ASSERT_OK(uv_timer_start(&fired, noop_timer, 0, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_timer_init(&loop, &stopped));
  ASSERT_OK(uv_timer_start(&stopped, never_timer, 5, 0));
  ASSERT_OK(uv_timer_stop(&stopped));
  ASSERT_OK(uv_timer_init(&loop, &armed));
  ASSERT_OK(uv_timer_start(&armed, never_timer, 1000, 0));
  ASSERT_OK(uv_timer_init(&loop, &unrefd));
  ASSERT_OK(uv_timer_start(&unrefd, never_timer, 1000, 3));
  uv_unref((uv_handle_t*) &unrefd);
  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_idle_start(&idle, never_idle));
  ASSERT_OK(uv_prepare_init(&loop, &prepare));
  ASSERT_OK(uv_prepare_start(&prepare, never_prepare));
  ASSERT_OK(uv_check_init(&loop, &check));
  ASSERT_OK(uv_check_start(&check, never_check));
  ASSERT_OK(uv_async_init(&loop, &async, NULL));
  ASSERT_OK(uv_poll_init(&loop, &poll, sv[0]));
  ASSERT_OK(uv_poll_start(&poll, UV_READABLE, never_poll));
  ASSERT_OK(uv_udp_init(&loop, &udp));
  ASSERT_EQ(write(sv[1], "x", 1), 1); /* the poll handle would fire */
  ASSERT_OK(uv_async_send(&async));   /* the async handle too */

  uv_handle_t* order[] = {
      (uv_handle_t*) &fresh,   (uv_handle_t*) &idle,    (uv_handle_t*) &fired,
      (uv_handle_t*) &prepare, (uv_handle_t*) &stopped, (uv_handle_t*) &check,
      (uv_handle_t*) &armed,   (uv_handle_t*) &async,   (uv_handle_t*) &unrefd,
      (uv_handle_t*) &poll,    (uv_handle_t*) &udp,
  };
  int n = (int) (sizeof order / sizeof order[0]);
  closed_n = 0;
  for (int i = 0; i < n; i++) close_checked(order[i], i % 4 == 3 ? NULL : record_close);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  int k = 0;
  for (int i = n - 1; i >= 0; i--) {
    if (i % 4 == 3) continue;
    ASSERT(closed[k] == order[i]);
    k++;
  }
  ASSERT_EQ(closed_n, k);
  ASSERT_OK(uv_loop_close(&loop));
  close(sv[0]);
  close(sv[1]);
}

/* --- liveness around closing an unstarted timer ---------------------- */

static void test_liveness(void) {
  uv_timer_t t;
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  closed_n = 0;
  close_checked((uv_handle_t*) &t, record_close);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(closed_n, 1);
  ASSERT(closed[0] == (uv_handle_t*) &t);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* --- a due timer closed by an earlier one of the same phase ---------- */

static uv_timer_t early, late;
static int early_fired;

static void close_late(uv_timer_t* h) {
  ASSERT(h == &early);
  early_fired++;
  close_checked((uv_handle_t*) &late, record_close);
  close_checked((uv_handle_t*) h, record_close);
}

static void test_due_timer_closed_before_it_fired(void) {
  ASSERT_OK(uv_loop_init(&loop));
  closed_n = 0;
  early_fired = 0;
  ASSERT_OK(uv_timer_init(&loop, &early));
  ASSERT_OK(uv_timer_init(&loop, &late));
  ASSERT_OK(uv_timer_start(&early, close_late, 1, 0));
  ASSERT_OK(uv_timer_start(&late, never_timer, 1, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(early_fired, 1);
  ASSERT_EQ(closed_n, 2);
  ASSERT(closed[0] == (uv_handle_t*) &early);
  ASSERT(closed[1] == (uv_handle_t*) &late);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  test_every_kind();
  test_liveness();
  test_due_timer_closed_before_it_fired();
  return 0;
}
