/* metrics.c: uv_metrics_info and uv_metrics_idle_time counted exactly, the
 * behaviours of libuv's test-metrics.c (metrics_info_check,
 * metrics_idle_time_zero) and libuv's one event per descriptor that
 * epoll_wait returns, with real UDP sockets on 127.0.0.1.
 *
 * Covers: no iteration for runs that find nothing alive; N UV_RUN_NOWAIT
 * runs of a live loop are N iterations; a prepare callback of the first
 * iteration sees loop_count 0, a poll callback sees 1; a loop configured
 * with UV_METRICS_IDLE_TIME whose only timer is due at once runs one
 * iteration and is never idle; one event per receiving handle served per
 * poll phase: a handle whose read budget (32 datagrams) ran out is served
 * again in the next iteration as one event, and once (not twice) when a
 * new datagram arrives for it too; an event for a handle closed by an
 * earlier callback of the same poll phase is not counted.
 *
 * 1.45+-only assertions (UV_VERSION_HEX >= 0x012D00): everything read with
 * uv_metrics_info. Against the system libuv 1.44 only the idle time runs.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static void count_timer(uv_timer_t* timer) { (*(int*) timer->data)++; }

static void close_walk_cb(uv_handle_t* h, void* arg) {
  (void) arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void finish(uv_loop_t* loop) {
  uv_walk(loop, close_walk_cb, NULL);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(loop));
}

/* libuv's metrics_idle_time_zero: nothing to wait for, no idle time; the
 * timer fires before the first iteration, which still runs once. */
static void test_never_idle(void) {
  uv_loop_t loop;
  uv_timer_t timer;
  int fired = 0;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_loop_configure(&loop, UV_METRICS_IDLE_TIME));
  ASSERT_OK(uv_timer_init(&loop, &timer));
  timer.data = &fired;
  ASSERT_OK(uv_timer_start(&timer, count_timer, 0, 0));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(fired, 1);
  ASSERT_EQ(uv_metrics_idle_time(&loop), 0);
#if UV_VERSION_HEX >= 0x012D00
  {
    uv_metrics_t m;
    ASSERT_OK(uv_metrics_info(&loop, &m));
    ASSERT_EQ(m.loop_count, 1);
    ASSERT_EQ(m.events, 0);
    ASSERT_EQ(m.events_waiting, 0);
  }
#endif
  finish(&loop);
}

#if UV_VERSION_HEX >= 0x012D00
static void noop_idle(uv_idle_t* idle) { (void) idle; }

static void expect(uv_loop_t* loop, uint64_t loop_count, uint64_t events) {
  uv_metrics_t m;

  memset(&m, 0xff, sizeof(m));
  ASSERT_OK(uv_metrics_info(loop, &m));
  ASSERT_EQ(m.loop_count, loop_count);
  ASSERT_EQ(m.events, events);
  ASSERT_EQ(m.events_waiting, 0);
}

/* ---- UDP helpers ------------------------------------------------------- */

static char slab[65536];
static int received; /* datagrams received by recv_count */
static uint64_t loop_count_in_poll;

static void alloc_cb(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  (void) size;
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void recv_count(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                       const struct sockaddr* addr, unsigned flags) {
  uv_metrics_t m;

  (void) buf;
  (void) flags;
  ASSERT_GE(nread, 0);
  if (addr == NULL)
    return; /* nothing more to read */
  received++;
  ASSERT_OK(uv_metrics_info(h->loop, &m));
  loop_count_in_poll = m.loop_count;
}

/* A handle receiving on 127.0.0.1, port 0; its address in `*addr`. */
static void bind_receiver(uv_loop_t* loop, uv_udp_t* h, uv_udp_recv_cb cb,
                          struct sockaddr_in* addr) {
  int len = sizeof(*addr);

  ASSERT_OK(uv_udp_init(loop, h));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, addr));
  ASSERT_OK(uv_udp_bind(h, (const struct sockaddr*) addr, 0));
  ASSERT_OK(uv_udp_getsockname(h, (struct sockaddr*) addr, &len));
  ASSERT_OK(uv_udp_recv_start(h, alloc_cb, cb));
}

/* `n` one-byte datagrams from a plain socket to `to`. */
static void send_n(int fd, const struct sockaddr_in* to, int n) {
  int i;
  for (i = 0; i < n; i++)
    ASSERT_EQ(sendto(fd, "d", 1, 0, (const struct sockaddr*) to, sizeof(*to)),
              1);
}

static int plain_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  return fd;
}

/* ---- the tests --------------------------------------------------------- */

static uint64_t loop_count_in_prepare = 99;

static void prepare_once(uv_prepare_t* p) {
  uv_metrics_t m;

  ASSERT_OK(uv_metrics_info(p->loop, &m));
  loop_count_in_prepare = m.loop_count;
  ASSERT_EQ(m.events, 0);
  ASSERT_OK(uv_prepare_stop(p));
}

static void test_iterations(void) {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_prepare_t prepare;
  uv_udp_t udp;
  struct sockaddr_in addr;
  int fd = plain_socket();
  int i;

  ASSERT_OK(uv_loop_init(&loop));
  /* Nothing alive: no iteration. */
  for (i = 0; i < 3; i++)
    ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  expect(&loop, 0, 0);

  ASSERT_OK(uv_idle_init(&loop, &idle));
  ASSERT_OK(uv_idle_start(&idle, noop_idle));
  for (i = 1; i <= 5; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    expect(&loop, i, 0);
  }
  ASSERT_OK(uv_idle_stop(&idle));

  /* libuv's metrics_info_check: the prepare phase of the next iteration
   * comes before its poll phase; the receive callback runs in it. */
  ASSERT_OK(uv_prepare_init(&loop, &prepare));
  ASSERT_OK(uv_prepare_start(&prepare, prepare_once));
  bind_receiver(&loop, &udp, recv_count, &addr);
  send_n(fd, &addr, 1);
  received = 0;
  uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(received, 1);
  ASSERT_EQ(loop_count_in_prepare, 5);
  ASSERT_EQ(loop_count_in_poll, 6);
  expect(&loop, 6, 1);

  close(fd);
  finish(&loop);
}

static void test_one_event_per_descriptor(void) {
  uv_loop_t loop;
  uv_udp_t udp;
  struct sockaddr_in addr;
  int fd = plain_socket();

  ASSERT_OK(uv_loop_init(&loop));
  bind_receiver(&loop, &udp, recv_count, &addr);
  received = 0;
  send_n(fd, &addr, 70);
  uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(received, 32);
  expect(&loop, 1, 1);
  /* Still readable: one event, 32 more. */
  uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(received, 64);
  expect(&loop, 2, 2);
  /* Still readable and a new datagram: one descriptor, one event. */
  send_n(fd, &addr, 1);
  uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(received, 71);
  expect(&loop, 3, 3);
  /* Drained. */
  uv_run(&loop, UV_RUN_NOWAIT);
  expect(&loop, 4, 3);

  close(fd);
  finish(&loop);
}

static uv_udp_t pair[2];
static int pair_calls;

static void recv_close_other(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                             const struct sockaddr* addr, unsigned flags) {
  uv_udp_t* other = h == &pair[0] ? &pair[1] : &pair[0];

  (void) buf;
  (void) flags;
  ASSERT_GE(nread, 0);
  if (addr == NULL)
    return;
  pair_calls++;
  if (!uv_is_closing((uv_handle_t*) other))
    uv_close((uv_handle_t*) other, NULL);
}

static void test_closed_in_the_same_poll(void) {
  uv_loop_t loop;
  struct sockaddr_in a, b;
  int fd = plain_socket();

  ASSERT_OK(uv_loop_init(&loop));
  bind_receiver(&loop, &pair[0], recv_close_other, &a);
  bind_receiver(&loop, &pair[1], recv_close_other, &b);
  send_n(fd, &a, 1);
  send_n(fd, &b, 1);
  uv_run(&loop, UV_RUN_NOWAIT);
  /* Whichever ran first closed the other, whose event is skipped. */
  ASSERT_EQ(pair_calls, 1);
  expect(&loop, 1, 1);

  close(fd);
  finish(&loop);
}
#endif

int main(void) {
  test_never_idle();
#if UV_VERSION_HEX >= 0x012D00
  test_iterations();
  test_one_event_per_descriptor();
  test_closed_in_the_same_poll();
#endif
  printf("metrics: ok\n");
  return 0;
}
