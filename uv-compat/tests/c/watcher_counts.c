/* watcher_counts.c: idle, prepare and check phases with 0, 1, 4, 5, 6 and
 * 1000 started handles.
 *
 * Five started uv_idle_t once aborted inside uv_run (the phase snapshot
 * spilled past its inline capacity of four); libuv runs them all. For each
 * type and count: one NOWAIT iteration runs every handle exactly once, most
 * recently started first; then the newest handle stops every even-numbered
 * handle (they must not run in that pass) and starts as many fresh handles
 * (which first run in the next iteration, before the older survivors).
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include "test.h"

#define MAX_HANDLES 1000

enum kind { IDLE, PREPARE, CHECK };

typedef union {
  uv_handle_t handle;
  uv_idle_t idle;
  uv_prepare_t prepare;
  uv_check_t check;
} watcher_t;

static uv_loop_t loop;
static enum kind current_kind;
static int count;
static watcher_t handles[2 * MAX_HANDLES];
static int order[4 * MAX_HANDLES];
static int ran;
static int changes_requested;
static int closed;

static void watcher_cb(uv_handle_t* h);
static void idle_cb(uv_idle_t* h) { watcher_cb((uv_handle_t*) h); }
static void prepare_cb(uv_prepare_t* h) { watcher_cb((uv_handle_t*) h); }
static void check_cb(uv_check_t* h) { watcher_cb((uv_handle_t*) h); }

static void init_and_start(int i) {
  switch (current_kind) {
    case IDLE:
      ASSERT_OK(uv_idle_init(&loop, &handles[i].idle));
      ASSERT_OK(uv_idle_start(&handles[i].idle, idle_cb));
      break;
    case PREPARE:
      ASSERT_OK(uv_prepare_init(&loop, &handles[i].prepare));
      ASSERT_OK(uv_prepare_start(&handles[i].prepare, prepare_cb));
      break;
    case CHECK:
      ASSERT_OK(uv_check_init(&loop, &handles[i].check));
      ASSERT_OK(uv_check_start(&handles[i].check, check_cb));
      break;
  }
}

static void stop(int i) {
  switch (current_kind) {
    case IDLE: ASSERT_OK(uv_idle_stop(&handles[i].idle)); break;
    case PREPARE: ASSERT_OK(uv_prepare_stop(&handles[i].prepare)); break;
    case CHECK: ASSERT_OK(uv_check_stop(&handles[i].check)); break;
  }
}

static void watcher_cb(uv_handle_t* h) {
  int id = (int) (((watcher_t*) h) - handles);
  ASSERT_LT(ran, 4 * MAX_HANDLES);
  order[ran++] = id;
  if (changes_requested && id == count - 1) {
    changes_requested = 0;
    for (int j = 0; j < count; j += 2)
      if (j != id) stop(j);
    for (int k = 0; k < count; k++) init_and_start(count + k);
  }
}

static void close_cb(uv_handle_t* h) {
  (void) h;
  closed++;
}

static void run_case(enum kind kind, int n) {
  current_kind = kind;
  count = n;
  ran = 0;
  closed = 0;
  changes_requested = 0;
  ASSERT_OK(uv_loop_init(&loop));
  for (int i = 0; i < n; i++) init_and_start(i);

  /* Plain iterations: every handle once, newest first. */
  for (int pass = 0; pass < 2; pass++) {
    ran = 0;
    ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), n > 0);
    ASSERT_EQ(ran, n);
    for (int i = 0; i < n; i++) ASSERT_EQ(order[i], n - 1 - i);
  }

  /* Stops and starts from inside the phase. */
  ran = 0;
  changes_requested = 1;
  uv_run(&loop, UV_RUN_NOWAIT);
  int expected = 0;
  for (int j = n - 1; j >= 0; j--) {
    if (j % 2 == 1 || j == n - 1) {
      ASSERT_LT(expected, ran);
      ASSERT_EQ(order[expected], j);
      expected++;
    }
  }
  ASSERT_EQ(ran, expected);
  int survivors = expected;

  ran = 0;
  uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(ran, n + survivors);
  for (int k = 0; k < n; k++) ASSERT_EQ(order[k], 2 * n - 1 - k);

  int handles_made = 2 * n;
  for (int i = 0; i < handles_made; i++) uv_close(&handles[i].handle, close_cb);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(closed, handles_made);
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  static const int counts[] = {0, 1, 4, 5, 6, MAX_HANDLES};
  for (int k = IDLE; k <= CHECK; k++)
    for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
      run_case((enum kind) k, counts[c]);
  return 0;
}
