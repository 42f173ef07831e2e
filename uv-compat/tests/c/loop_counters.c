/* loop_counters.c: the counters libuv keeps in the public part of
 * uv_loop_t, which programs read (and libuv's own test suite adjusts).
 *
 * Covers: a new loop's active_handles, active_reqs.count and stop_flag are
 * 0; active_handles counts the handles that are active and referenced
 * (start, stop, unref, ref, close); active_reqs.count counts a UDP send in
 * flight until its callback; uv_stop sets stop_flag and the end of uv_run
 * clears it; a program's own active_handles++ makes uv_run(UV_RUN_NOWAIT)
 * answer "alive" until the program takes it back (libuv's
 * loop_backend_timeout test does exactly this).
 */
#include <uv.h>

#include "test.h"

static int send_cb_calls;
static unsigned int reqs_in_send_cb;

static void on_timer(uv_timer_t* t) {
  (void) t;
}

static void on_idle(uv_idle_t* h) {
  (void) h;
}

static void on_send(uv_udp_send_t* req, int status) {
  ASSERT_EQ(status, 0);
  reqs_in_send_cb = req->handle->loop->active_reqs.count;
  send_cb_calls++;
}

static void on_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  static char slab[64];
  (void) h;
  (void) size;
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  (void) buf;
  (void) addr;
  (void) flags;
  if (nread > 0)
    uv_udp_recv_stop(h);
}

int main(void) {
  uv_loop_t loop;
  uv_timer_t timer;
  uv_idle_t idle;
  uv_udp_t rx, tx;
  uv_udp_send_t req;
  struct sockaddr_in any, dest;
  int namelen = sizeof(dest);
  uv_buf_t buf = uv_buf_init("ping", 4);

  /* Garbage before init: init sets the counters. */
  memset(&loop, 0xAB, sizeof(loop));
  ASSERT_EQ(uv_loop_init(&loop), 0);
  ASSERT_EQ(loop.active_handles, 0);
  ASSERT_EQ(loop.active_reqs.count, 0);
  ASSERT_EQ(loop.stop_flag, 0);

  /* Handles: only active, referenced ones count. */
  ASSERT_EQ(uv_timer_init(&loop, &timer), 0);
  ASSERT_EQ(uv_idle_init(&loop, &idle), 0);
  ASSERT_EQ(loop.active_handles, 0);
  ASSERT_EQ(uv_timer_start(&timer, on_timer, 10000, 0), 0);
  ASSERT_EQ(loop.active_handles, 1);
  ASSERT_EQ(uv_idle_start(&idle, on_idle), 0);
  ASSERT_EQ(loop.active_handles, 2);
  uv_unref((uv_handle_t*) &timer);
  ASSERT_EQ(loop.active_handles, 1);
  uv_ref((uv_handle_t*) &timer);
  ASSERT_EQ(loop.active_handles, 2);
  ASSERT_EQ(uv_idle_stop(&idle), 0);
  ASSERT_EQ(loop.active_handles, 1);
  uv_close((uv_handle_t*) &timer, NULL);
  ASSERT_EQ(loop.active_handles, 0);
  uv_close((uv_handle_t*) &idle, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(loop.active_handles, 0);

  /* Requests: a send counts from uv_udp_send until its callback. */
  ASSERT_EQ(uv_ip4_addr("127.0.0.1", 0, &any), 0);
  ASSERT_EQ(uv_udp_init(&loop, &rx), 0);
  ASSERT_EQ(uv_udp_init(&loop, &tx), 0);
  ASSERT_EQ(uv_udp_bind(&rx, (const struct sockaddr*) &any, 0), 0);
  ASSERT_EQ(uv_udp_getsockname(&rx, (struct sockaddr*) &dest, &namelen), 0);
  ASSERT_EQ(uv_udp_recv_start(&rx, on_alloc, on_recv), 0);
  ASSERT_EQ(loop.active_handles, 1);
  ASSERT_EQ(loop.active_reqs.count, 0);
  ASSERT_EQ(uv_udp_send(&req, &tx, &buf, 1, (const struct sockaddr*) &dest,
                        on_send), 0);
  ASSERT_EQ(loop.active_reqs.count, 1);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(send_cb_calls, 1);
  ASSERT_EQ(reqs_in_send_cb, 0); /* unregistered before its callback */
  ASSERT_EQ(loop.active_reqs.count, 0);
  ASSERT_EQ(loop.active_handles, 0);

  /* stop_flag: set by uv_stop, cleared when uv_run returns. */
  uv_stop(&loop);
  ASSERT_EQ(loop.stop_flag, 1);
  uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(loop.stop_flag, 0);

  /* A program's own adjustment of the counter is the loop's answer. */
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  loop.active_handles++;
  ASSERT(uv_run(&loop, UV_RUN_NOWAIT) != 0);
  loop.active_handles--;
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);

  uv_close((uv_handle_t*) &rx, NULL);
  uv_close((uv_handle_t*) &tx, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(loop.active_handles, 0);
  ASSERT_EQ(loop.active_reqs.count, 0);
  ASSERT_EQ(uv_loop_close(&loop), 0);
  return 0;
}
