/* defined_errors.c: undefined behaviour in libuv, a defined error in ours.
 *
 * libuv asserts, aborts or corrupts memory on these; uv-compat returns
 * UV_EINVAL and calls no callback. This program is only meaningful against
 * our library: do NOT run it against the system libuv (it compiles there).
 *
 * Covers (from the issue): uv_udp_send on a closing handle; starting a
 * handle whose close callback already ran (timer); uv_udp_send with nbufs 0.
 * Also: uv_udp_try_send on a closing handle and with nbufs 0,
 * uv_udp_recv_start on a closing handle, starting closed idle/prepare/check
 * handles. (uv_timer_start on a closing handle is defined in libuv too and
 * is checked in timer.c.)
 */
#include <uv.h>

#include "test.h"

static int callbacks;

static void send_cb(uv_udp_send_t* req, int status) {
  (void) req;
  (void) status;
  callbacks++;
}

static void timer_cb(uv_timer_t* h) {
  (void) h;
  callbacks++;
}

static void idle_cb(uv_idle_t* h) {
  (void) h;
  callbacks++;
}

static void prepare_cb(uv_prepare_t* h) {
  (void) h;
  callbacks++;
}

static void check_cb(uv_check_t* h) {
  (void) h;
  callbacks++;
}

static void alloc_cb(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  static char slab[64];
  (void) h;
  (void) size;
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  (void) h;
  (void) nread;
  (void) buf;
  (void) addr;
  (void) flags;
  callbacks++;
}

int main(void) {
  uv_loop_t loop;
  uv_udp_t u;
  uv_udp_t peer;
  uv_udp_send_t req;
  uv_timer_t t;
  uv_idle_t i;
  uv_prepare_t p;
  uv_check_t c;
  struct sockaddr_in addr;
  int len = sizeof(addr);
  char data[] = "data";
  uv_buf_t buf = uv_buf_init(data, 4);

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &peer));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_udp_bind(&peer, (struct sockaddr*) &addr, 0));
  ASSERT_OK(uv_udp_getsockname(&peer, (struct sockaddr*) &addr, &len));

  /* nbufs 0. */
  ASSERT_OK(uv_udp_init(&loop, &u));
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 0, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_try_send(&u, &buf, 0, (struct sockaddr*) &addr),
            UV_EINVAL);
  ASSERT_EQ(u.send_queue_count, 0);

  /* A closing UDP handle. */
  uv_close((uv_handle_t*) &u, NULL);
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 1, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_try_send(&u, &buf, 1, (struct sockaddr*) &addr),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_recv_start(&u, alloc_cb, recv_cb), UV_EINVAL);

  /* Handles whose close callback already ran. */
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_idle_init(&loop, &i));
  ASSERT_OK(uv_prepare_init(&loop, &p));
  ASSERT_OK(uv_check_init(&loop, &c));
  uv_close((uv_handle_t*) &t, NULL);
  uv_close((uv_handle_t*) &i, NULL);
  uv_close((uv_handle_t*) &p, NULL);
  uv_close((uv_handle_t*) &c, NULL);
  uv_close((uv_handle_t*) &peer, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(uv_timer_start(&t, timer_cb, 0, 0), UV_EINVAL);
  ASSERT_EQ(uv_idle_start(&i, idle_cb), UV_EINVAL);
  ASSERT_EQ(uv_prepare_start(&p, prepare_cb), UV_EINVAL);
  ASSERT_EQ(uv_check_start(&c, check_cb), UV_EINVAL);
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 1, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);

  /* Nothing was started, nothing is alive, no callback ran. */
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(callbacks, 0);
  ASSERT_OK(uv_loop_close(&loop));
  printf("defined_errors: ok\n");
  return 0;
}
