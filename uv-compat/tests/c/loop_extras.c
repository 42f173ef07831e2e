/* loop_extras.c: the small functions programs reach for around a loop.
 *
 * Covers: uv_replace_allocator (UV_EINVAL for a NULL function; afterwards
 * uv_loop_new and uv_interface_addresses allocate through the program's
 * functions and uv_loop_delete / uv_free_interface_addresses give every
 * block back through them), uv_loop_new / uv_loop_delete (a working loop),
 * uv_os_gethostname (the C library's name; UV_EINVAL for NULL arguments or
 * a zero size; UV_ENOBUFS with the size needed when it does not fit, *size
 * the length on success), uv_print_all_handles / uv_print_active_handles
 * (libuv's "[RAI] type     address" lines, in initialization order, into a
 * stream; lines of the library's own internal handles, flagged I, are
 * skipped: libuv has two, ruv none), uv_metrics_idle_time (0 until
 * uv_loop_configure(UV_METRICS_IDLE_TIME), then growing while the loop
 * waits for a timer).
 *
 * 1.45+-only assertions (UV_VERSION_HEX >= 0x012D00): uv_metrics_info
 * (loop_count per iteration, events per async wakeup, events_waiting for
 * a wakeup already pending when a measured poll begins).
 */
#include <uv.h>

#include <stdatomic.h>
#include <unistd.h>

#include "test.h"

/* ---- a counting allocator ---------------------------------------------- */

static atomic_long blocks; /* allocated and not yet freed */
static atomic_long calls;  /* allocating calls */

static void* count_malloc(size_t size) {
  void* p = malloc(size);
  if (p != NULL) {
    atomic_fetch_add(&blocks, 1);
    atomic_fetch_add(&calls, 1);
  }
  return p;
}

static void* count_realloc(void* ptr, size_t size) {
  void* p = realloc(ptr, size);
  if (ptr == NULL && p != NULL) {
    atomic_fetch_add(&blocks, 1);
    atomic_fetch_add(&calls, 1);
  }
  return p;
}

static void* count_calloc(size_t count, size_t size) {
  void* p = calloc(count, size);
  if (p != NULL) {
    atomic_fetch_add(&blocks, 1);
    atomic_fetch_add(&calls, 1);
  }
  return p;
}

static void count_free(void* ptr) {
  if (ptr != NULL)
    atomic_fetch_sub(&blocks, 1);
  free(ptr);
}

static int timer_fired;

static void on_timer(uv_timer_t* timer) {
  timer_fired++;
  uv_close((uv_handle_t*) timer, NULL);
}

static void test_allocator_and_loop_new(void) {
  uv_loop_t* loop;
  uv_timer_t timer;
  uv_interface_address_t* addresses;
  int count;

  ASSERT_EQ(uv_replace_allocator(NULL, count_realloc, count_calloc,
                                 count_free), UV_EINVAL);
  ASSERT_EQ(uv_replace_allocator(count_malloc, count_realloc, count_calloc,
                                 NULL), UV_EINVAL);
  ASSERT_OK(uv_replace_allocator(count_malloc, count_realloc, count_calloc,
                                 count_free));

  loop = uv_loop_new();
  ASSERT_NOT_NULL(loop);
  ASSERT_GE(atomic_load(&calls), 1);
  ASSERT_GE(atomic_load(&blocks), 1);
  ASSERT_OK(uv_timer_init(loop, &timer));
  ASSERT_OK(uv_timer_start(&timer, on_timer, 1, 0));
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(timer_fired, 1);
  uv_loop_delete(loop);
  ASSERT_EQ(atomic_load(&blocks), 0);

  atomic_store(&calls, 0);
  ASSERT_OK(uv_interface_addresses(&addresses, &count));
  ASSERT_GE(count, 1); /* lo at least */
  ASSERT_GE(atomic_load(&calls), 1);
  uv_free_interface_addresses(addresses, count);
  ASSERT_EQ(atomic_load(&blocks), 0);

  ASSERT_OK(uv_replace_allocator(malloc, realloc, calloc, free));
}

/* ---- uv_os_gethostname -------------------------------------------------- */

static void test_gethostname(void) {
  char expected[256];
  char buf[UV_MAXHOSTNAMESIZE];
  size_t size;
  size_t len;

  ASSERT_OK(gethostname(expected, sizeof(expected)));
  len = strlen(expected);
  ASSERT_GT(len, 0);

  size = sizeof(buf);
  ASSERT_OK(uv_os_gethostname(buf, &size));
  ASSERT_STR_EQ(buf, expected);
  ASSERT_EQ(size, len);

  size = sizeof(buf);
  ASSERT_EQ(uv_os_gethostname(NULL, &size), UV_EINVAL);
  ASSERT_EQ(uv_os_gethostname(buf, NULL), UV_EINVAL);
  size = 0;
  ASSERT_EQ(uv_os_gethostname(buf, &size), UV_EINVAL);

  /* No room for the terminator: the size needed, buffer untouched. */
  memset(buf, 'x', sizeof(buf));
  size = len;
  ASSERT_EQ(uv_os_gethostname(buf, &size), UV_ENOBUFS);
  ASSERT_EQ(size, len + 1);
  ASSERT_EQ(buf[0], 'x');
  size = 1;
  ASSERT_EQ(uv_os_gethostname(buf, &size), UV_ENOBUFS);
  ASSERT_EQ(size, len + 1);

  /* Exactly enough. */
  size = len + 1;
  ASSERT_OK(uv_os_gethostname(buf, &size));
  ASSERT_STR_EQ(buf, expected);
  ASSERT_EQ(size, len);
}

/* ---- uv_print_all_handles / uv_print_active_handles ---------------------- */

static void noop_idle(uv_idle_t* idle) { (void) idle; }
static void noop_check(uv_check_t* check) { (void) check; }
static void noop_timer(uv_timer_t* timer) { (void) timer; }

/* What `print` writes for `loop`, without the library's internal handles
 * (flag I), into `out`. */
static void printed(void (*print)(uv_loop_t*, FILE*), uv_loop_t* loop,
                    char* out, size_t size) {
  char line[256];
  FILE* f = tmpfile();
  size_t used = 0;

  ASSERT_NOT_NULL(f);
  print(loop, f);
  rewind(f);
  out[0] = '\0';
  while (fgets(line, sizeof(line), f) != NULL) {
    ASSERT_EQ(line[0], '[');
    ASSERT_EQ(line[4], ']');
    if (line[3] == 'I')
      continue;
    ASSERT_EQ(line[3], '-');
    ASSERT_LT(used + strlen(line), size);
    memcpy(out + used, line, strlen(line) + 1);
    used += strlen(line);
  }
  fclose(f);
}

static void close_walk_cb(uv_handle_t* handle, void* arg) {
  (void) arg;
  uv_close(handle, NULL);
}

static void test_print_handles(void) {
  uv_loop_t loop;
  uv_timer_t timer;
  uv_idle_t idle;
  uv_check_t check;
  char expected[512];
  char got[512];

  ASSERT_OK(uv_loop_init(&loop));
  printed(uv_print_all_handles, &loop, got, sizeof(got));
  ASSERT_STR_EQ(got, "");

  ASSERT_OK(uv_timer_init(&loop, &timer));
  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_check_init(&loop, &check));
  ASSERT_OK(uv_timer_start(&timer, noop_timer, 10000, 0));
  ASSERT_OK(uv_check_start(&check, noop_check));
  uv_unref((uv_handle_t*) &check);

  snprintf(expected, sizeof(expected),
           "[RA-] timer    %p\n[R--] idle     %p\n[-A-] check    %p\n",
           (void*) &timer, (void*) &idle, (void*) &check);
  printed(uv_print_all_handles, &loop, got, sizeof(got));
  ASSERT_STR_EQ(got, expected);

  snprintf(expected, sizeof(expected),
           "[RA-] timer    %p\n[-A-] check    %p\n",
           (void*) &timer, (void*) &check);
  printed(uv_print_active_handles, &loop, got, sizeof(got));
  ASSERT_STR_EQ(got, expected);

  ASSERT_OK(uv_idle_start(&idle, noop_idle));
  ASSERT_OK(uv_timer_stop(&timer));
  snprintf(expected, sizeof(expected),
           "[RA-] idle     %p\n[-A-] check    %p\n",
           (void*) &idle, (void*) &check);
  printed(uv_print_active_handles, &loop, got, sizeof(got));
  ASSERT_STR_EQ(got, expected);

  uv_walk(&loop, close_walk_cb, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  printed(uv_print_all_handles, &loop, got, sizeof(got));
  ASSERT_STR_EQ(got, "");
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- metrics ------------------------------------------------------------- */

static uv_timer_t idle_timer;

/* Starts `idle_timer` right before the poll phase: the poll's timeout is
 * computed from the cached loop time, so it blocks for the whole 5 ms
 * however slowly the program runs (valgrind), and that wait is idle. */
static void start_timer_before_poll(uv_prepare_t* prepare) {
  ASSERT_OK(uv_timer_start(&idle_timer, noop_timer, 5, 0));
  ASSERT_OK(uv_prepare_stop(prepare));
}

static void test_idle_time(void) {
  uv_loop_t loop;
  uv_prepare_t prepare;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &idle_timer));
  ASSERT_OK(uv_prepare_init(&loop, &prepare));
  /* Not measured before it is asked for. */
  ASSERT_OK(uv_prepare_start(&prepare, start_timer_before_poll));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_metrics_idle_time(&loop), 0);

  ASSERT_OK(uv_loop_configure(&loop, UV_METRICS_IDLE_TIME));
  ASSERT_EQ(uv_metrics_idle_time(&loop), 0);
  ASSERT_OK(uv_prepare_start(&prepare, start_timer_before_poll));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_GT(uv_metrics_idle_time(&loop), 0);

  uv_close((uv_handle_t*) &idle_timer, NULL);
  uv_close((uv_handle_t*) &prepare, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

#if UV_VERSION_HEX >= 0x012D00
static void noop_async(uv_async_t* async) { (void) async; }

static void expect_metrics(uv_loop_t* loop, uint64_t loop_count,
                           uint64_t events, uint64_t events_waiting) {
  uv_metrics_t m;

  memset(&m, 0xff, sizeof(m));
  ASSERT_OK(uv_metrics_info(loop, &m));
  ASSERT_EQ(m.loop_count, loop_count);
  ASSERT_EQ(m.events, events);
  ASSERT_EQ(m.events_waiting, events_waiting);
}

static void test_metrics_info(void) {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_async_t async;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_async_init(&loop, &async, noop_async));
  ASSERT_OK(uv_idle_init(&loop, &idle));
  expect_metrics(&loop, 0, 0, 0);

  /* One loop_count per iteration, no events without I/O. */
  ASSERT_OK(uv_idle_start(&idle, noop_idle));
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_NOWAIT);
  expect_metrics(&loop, 3, 0, 0);
  ASSERT_OK(uv_idle_stop(&idle));

  /* A wakeup is one event; nothing counts as waiting while idle time is
   * not measured. */
  ASSERT_OK(uv_async_send(&async));
  uv_run(&loop, UV_RUN_ONCE);
  expect_metrics(&loop, 4, 1, 0);

  /* Measured: the wakeup pending when the poll phase begins was waiting. */
  ASSERT_OK(uv_loop_configure(&loop, UV_METRICS_IDLE_TIME));
  ASSERT_OK(uv_async_send(&async));
  uv_run(&loop, UV_RUN_ONCE);
  expect_metrics(&loop, 5, 2, 1);

  uv_close((uv_handle_t*) &async, NULL);
  uv_close((uv_handle_t*) &idle, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(&loop));
}
#endif

int main(void) {
  test_allocator_and_loop_new();
  test_gethostname();
  test_print_handles();
  test_idle_time();
#if UV_VERSION_HEX >= 0x012D00
  test_metrics_info();
#endif
  printf("loop_extras: ok\n");
  return 0;
}
