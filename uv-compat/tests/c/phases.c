/* phases.c: the exact order of callbacks inside loop iterations.
 *
 * Every callback appends a name to a log; each scenario compares the whole
 * log with the expected sequence.
 *
 *  1. DEFAULT mode: a due timer runs before the first iteration; its UDP send
 *     completes in the pending phase, before idle; idle/prepare/check run
 *     most-recently-started first; a datagram already waiting is read in the
 *     poll phase (between prepare and check); close callbacks run in reverse
 *     order of the uv_close calls, after check.
 *  2. ONCE and NOWAIT modes with a due timer.
 *  3. A zero timeout timer started from a timer callback.
 *  4. A UDP send started from a prepare callback completes in the same
 *     iteration, after the poll phase and before check.
 *  5. A close callback that closes another handle: that handle's close
 *     callback runs in the NEXT iteration's closing phase (one more idle
 *     callback in between), and a check handle closed that way stops at once.
 *
 * 1.45+-only assertions (chosen at run time by the library's version, see
 * library_at_least in test.h; the other branch pins what libuv 1.44 does
 * instead):
 *  - scenario 2: ONCE/NOWAIT run due timers at the END of the iteration
 *    (after check and close callbacks), not at its start;
 *  - scenario 3: all due timers are taken off the heap before any fires, so a
 *    0 ms timer started from a timer callback runs in the next iteration.
 * (Scenario 4's order is the same on 1.44 and 1.45+; 1.45+ gets it from
 * running pending callbacks right after the poll phase.)
 */
#include <uv.h>

#include "test.h"

#define LOG_MAX 64

static const char* log_v[LOG_MAX];
static int log_n;

static void log_reset(void) {
  log_n = 0;
}

static void log_add(const char* what) {
  ASSERT_LT(log_n, LOG_MAX);
  log_v[log_n++] = what;
}

static void log_dump(const char* title, const char* const* v, int n) {
  int i;
  fprintf(stderr, "%s (%d):", title, n);
  for (i = 0; i < n; i++)
    fprintf(stderr, " %s", v[i]);
  fprintf(stderr, "\n");
}

#define LOG_EXPECT(...)                                                       \
  do {                                                                        \
    static const char* const exp_[] = {__VA_ARGS__};                          \
    int n_ = (int) (sizeof(exp_) / sizeof(exp_[0]));                          \
    int i_;                                                                   \
    int bad_ = n_ != log_n;                                                   \
    for (i_ = 0; !bad_ && i_ < n_; i_++)                                      \
      bad_ = strcmp(exp_[i_], log_v[i_]) != 0;                                \
    if (bad_) {                                                               \
      log_dump("expected", exp_, n_);                                         \
      log_dump("actual  ", log_v, log_n);                                     \
      UVC_FAIL_("callback order differs");                                    \
    }                                                                         \
  } while (0)

/* ---- shared handles ---- */

static uv_loop_t loop;
static uv_timer_t t0;
static uv_timer_t t1;
static uv_idle_t i1;
static uv_idle_t i2;
static uv_prepare_t p1;
static uv_prepare_t p2;
static uv_check_t c1;
static uv_check_t c2;
static uv_udp_t tx;
static uv_udp_t rx;
static uv_udp_send_t send_req;
static struct sockaddr_in rx_addr;
static char payload[] = "x";
static char rx_buf[64];
static int iteration_limit;

static void close_log_cb(uv_handle_t* handle) {
  log_add((const char*) handle->data);
}

static void name(void* handle, const char* n) {
  ((uv_handle_t*) handle)->data = (void*) n;
}

static void send_cb(uv_udp_send_t* req, int status) {
  ASSERT_PTR_EQ(req, &send_req);
  ASSERT_OK(status);
  log_add("send");
}

static void do_send(void) {
  uv_buf_t buf = uv_buf_init(payload, 1);
  ASSERT_OK(uv_udp_send(&send_req, &tx, &buf, 1,
                        (const struct sockaddr*) &rx_addr, send_cb));
}

static void alloc_cb(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  (void) size;
  *buf = uv_buf_init(rx_buf, sizeof(rx_buf));
}

static void recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  (void) h;
  (void) buf;
  (void) flags;
  ASSERT_GE(nread, 0);
  if (nread == 0 && addr == NULL)
    return; /* nothing more to read: not logged */
  ASSERT_EQ(nread, 1);
  log_add("recv");
}

static void setup_udp(void) {
  int len = sizeof(rx_addr);
  struct sockaddr_in any;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &any));
  ASSERT_OK(uv_udp_init(&loop, &tx));
  ASSERT_OK(uv_udp_init(&loop, &rx));
  ASSERT_OK(uv_udp_bind(&tx, (const struct sockaddr*) &any, 0));
  ASSERT_OK(uv_udp_bind(&rx, (const struct sockaddr*) &any, 0));
  ASSERT_OK(uv_udp_getsockname(&rx, (struct sockaddr*) &rx_addr, &len));
  name(&tx, "close:tx");
  name(&rx, "close:rx");
}

/* ---- scenario 1 ---- */

static void s1_timer_cb(uv_timer_t* h) {
  ASSERT_PTR_EQ(h, &t0);
  log_add("timer");
  do_send();
}

static void s1_idle_cb(uv_idle_t* h) {
  log_add(h == &i1 ? "idle1" : "idle2");
}

static void s1_prepare_cb(uv_prepare_t* h) {
  log_add(h == &p1 ? "prepare1" : "prepare2");
}

static void s1_check_cb(uv_check_t* h) {
  log_add(h == &c1 ? "check1" : "check2");
  if (h != &c1)
    return;
  /* check1 runs last (started first). Close everything, in this order. */
  uv_close((uv_handle_t*) &i1, close_log_cb);
  uv_close((uv_handle_t*) &i2, close_log_cb);
  uv_close((uv_handle_t*) &p1, close_log_cb);
  uv_close((uv_handle_t*) &p2, close_log_cb);
  uv_close((uv_handle_t*) &c1, close_log_cb);
  uv_close((uv_handle_t*) &c2, close_log_cb);
  uv_close((uv_handle_t*) &t0, close_log_cb);
  uv_close((uv_handle_t*) &tx, close_log_cb);
  uv_close((uv_handle_t*) &rx, close_log_cb);
}

static void scenario1(void) {
  log_reset();
  ASSERT_OK(uv_loop_init(&loop));
  setup_udp();
  ASSERT_OK(uv_udp_recv_start(&rx, alloc_cb, recv_cb));

  ASSERT_OK(uv_timer_init(&loop, &t0));
  ASSERT_OK(uv_idle_init(&loop, &i1));
  ASSERT_OK(uv_idle_init(&loop, &i2));
  ASSERT_OK(uv_prepare_init(&loop, &p1));
  ASSERT_OK(uv_prepare_init(&loop, &p2));
  ASSERT_OK(uv_check_init(&loop, &c1));
  ASSERT_OK(uv_check_init(&loop, &c2));
  name(&t0, "close:t0");
  name(&i1, "close:i1");
  name(&i2, "close:i2");
  name(&p1, "close:p1");
  name(&p2, "close:p2");
  name(&c1, "close:c1");
  name(&c2, "close:c2");

  ASSERT_OK(uv_timer_start(&t0, s1_timer_cb, 0, 0));
  ASSERT_OK(uv_idle_start(&i1, s1_idle_cb));
  ASSERT_OK(uv_idle_start(&i2, s1_idle_cb));
  ASSERT_OK(uv_prepare_start(&p1, s1_prepare_cb));
  ASSERT_OK(uv_prepare_start(&p2, s1_prepare_cb));
  ASSERT_OK(uv_check_start(&c1, s1_check_cb));
  ASSERT_OK(uv_check_start(&c2, s1_check_cb));

  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  LOG_EXPECT("timer", "send", "idle2", "idle1", "prepare2", "prepare1",
             "recv", "check2", "check1",
             "close:rx", "close:tx", "close:t0", "close:c2", "close:c1",
             "close:p2", "close:p1", "close:i2", "close:i1");
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- scenario 2: due timer with ONCE / NOWAIT ---- */

static void s2_timer_cb(uv_timer_t* h) {
  (void) h;
  log_add("timer");
}

static void s2_idle_cb(uv_idle_t* h) {
  (void) h;
  log_add("idle");
}

static void s2_check_cb(uv_check_t* h) {
  (void) h;
  log_add("check");
}

static void scenario2(uv_run_mode mode) {
  log_reset();
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &t0));
  ASSERT_OK(uv_idle_init(&loop, &i1));
  ASSERT_OK(uv_check_init(&loop, &c1));
  ASSERT_OK(uv_timer_start(&t0, s2_timer_cb, 0, 0));
  ASSERT_OK(uv_idle_start(&i1, s2_idle_cb));
  ASSERT_OK(uv_check_start(&c1, s2_check_cb));

  ASSERT_NE(uv_run(&loop, mode), 0); /* idle and check still active */
  if (library_at_least(0x012d00))
    LOG_EXPECT("idle", "check", "timer");
  else
    LOG_EXPECT("timer", "idle", "check");

  uv_close((uv_handle_t*) &t0, NULL);
  uv_close((uv_handle_t*) &i1, NULL);
  uv_close((uv_handle_t*) &c1, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- scenario 3: 0 ms timer started from a timer callback ---- */

static void s3_t1_cb(uv_timer_t* h) {
  (void) h;
  log_add("t1");
}

static void s3_t0_cb(uv_timer_t* h) {
  (void) h;
  log_add("t0");
  ASSERT_OK(uv_timer_start(&t1, s3_t1_cb, 0, 0));
}

static void s3_prepare_cb(uv_prepare_t* h) {
  (void) h;
  log_add("prepare");
  if (--iteration_limit == 0) {
    uv_close((uv_handle_t*) &p1, NULL);
    uv_close((uv_handle_t*) &t0, NULL);
    uv_close((uv_handle_t*) &t1, NULL);
    uv_close((uv_handle_t*) &i1, NULL);
  }
}

static void quiet_idle_cb(uv_idle_t* h) {
  (void) h; /* only keeps the poll phase from blocking */
}

static void scenario3(void) {
  log_reset();
  iteration_limit = 2;
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_timer_init(&loop, &t0));
  ASSERT_OK(uv_timer_init(&loop, &t1));
  ASSERT_OK(uv_prepare_init(&loop, &p1));
  ASSERT_OK(uv_prepare_start(&p1, s3_prepare_cb));
  ASSERT_OK(uv_idle_init(&loop, &i1));
  ASSERT_OK(uv_idle_start(&i1, quiet_idle_cb));
  ASSERT_OK(uv_timer_start(&t0, s3_t0_cb, 0, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  if (library_at_least(0x012d00))
    LOG_EXPECT("t0", "prepare", "t1", "prepare");
  else
    LOG_EXPECT("t0", "t1", "prepare", "prepare");
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- scenario 4: send from a prepare callback ---- */

static void s4_prepare_cb(uv_prepare_t* h) {
  (void) h;
  log_add("prepare");
  if (iteration_limit == 2)
    do_send();
  if (--iteration_limit == 0) {
    uv_close((uv_handle_t*) &p1, NULL);
    uv_close((uv_handle_t*) &c1, NULL);
    uv_close((uv_handle_t*) &i1, NULL);
    uv_close((uv_handle_t*) &tx, NULL);
    uv_close((uv_handle_t*) &rx, NULL);
  }
}

static void s4_idle_cb(uv_idle_t* h) {
  (void) h;
  log_add("idle");
}

static void scenario4(void) {
  log_reset();
  iteration_limit = 2;
  ASSERT_OK(uv_loop_init(&loop));
  setup_udp();
  ASSERT_OK(uv_prepare_init(&loop, &p1));
  ASSERT_OK(uv_check_init(&loop, &c1));
  ASSERT_OK(uv_idle_init(&loop, &i1));
  ASSERT_OK(uv_prepare_start(&p1, s4_prepare_cb));
  ASSERT_OK(uv_check_start(&c1, s2_check_cb));
  ASSERT_OK(uv_idle_start(&i1, s4_idle_cb));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  LOG_EXPECT("idle", "prepare", "send", "check", "idle", "prepare");
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- scenario 5: closing from a close callback ---- */

static void s5_close_c1_cb(uv_handle_t* h) {
  (void) h;
  log_add("close:c1");
}

static void s5_close_p1_cb(uv_handle_t* h) {
  (void) h;
  log_add("close:p1");
  uv_close((uv_handle_t*) &c1, s5_close_c1_cb);
}

static void s5_idle_cb(uv_idle_t* h) {
  (void) h;
  log_add("idle");
  if (++iteration_limit == 1)
    uv_close((uv_handle_t*) &p1, s5_close_p1_cb);
  if (iteration_limit == 3)
    uv_close((uv_handle_t*) &i1, NULL);
}

static void scenario5(void) {
  log_reset();
  iteration_limit = 0;
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_prepare_init(&loop, &p1));
  ASSERT_OK(uv_check_init(&loop, &c1));
  ASSERT_OK(uv_idle_init(&loop, &i1));
  ASSERT_OK(uv_idle_start(&i1, s5_idle_cb));
  ASSERT_OK(uv_check_start(&c1, s2_check_cb));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  LOG_EXPECT("idle", "check", "close:p1",
             "idle", "close:c1",
             "idle");
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  scenario1();
  scenario2(UV_RUN_ONCE);
  scenario2(UV_RUN_NOWAIT);
  scenario3();
  scenario4();
  scenario5();
  printf("phases: ok\n");
  return 0;
}
