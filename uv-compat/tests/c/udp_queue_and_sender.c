/* udp_queue_and_sender.c: two behaviours the review of the performance
 * rewrites since 82212db found broken (both fixed; kept as regressions).
 *
 * 1. uv_udp_get_send_queue_size/count in the send callbacks run while a
 *    handle closes answer what handle->send_queue_size/count hold, as in
 *    libuv.
 * 2. The sender handed to a plain (non-RECVMMSG) recv_cb is a whole zeroed
 *    sockaddr_storage, as in libuv, so a program may copy
 *    sizeof(struct sockaddr_storage) from it.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))

static uv_loop_t loop;
static int cbs;
static int failures;

static void send_cb(uv_udp_send_t* req, int status) {
  uv_udp_t* h = req->handle;
  (void) status;
  cbs++;
  ASSERT(uv_is_closing((uv_handle_t*) h));
  /* The struct fields are right ... */
  ASSERT_EQ(h->send_queue_count, 2 - cbs);
  ASSERT_EQ(h->send_queue_size, 5 * (2 - cbs));
  /* ... and libuv's getters return exactly them. */
  if (uv_udp_get_send_queue_count(h) != h->send_queue_count ||
      uv_udp_get_send_queue_size(h) != h->send_queue_size) {
    fprintf(stderr,
            "queue while closing: while closing, uv_udp_get_send_queue_count/size = "
            "%zu/%zu, libuv (and the struct fields) say %zu/%zu\n",
            uv_udp_get_send_queue_count(h), uv_udp_get_send_queue_size(h),
            h->send_queue_count, h->send_queue_size);
    failures++;
  }
}

static void test_getters_while_closing(void) {
  uv_udp_t tx;
  uv_udp_send_t reqs[2];
  struct sockaddr_in dest;
  char a[5] = "hello";
  uv_buf_t b = uv_buf_init(a, sizeof(a));

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 9, &dest));
  ASSERT_OK(uv_udp_init(&loop, &tx));
  ASSERT_OK(uv_udp_send(&reqs[0], &tx, &b, 1, SA(&dest), send_cb));
  ASSERT_OK(uv_udp_send(&reqs[1], &tx, &b, 1, SA(&dest), send_cb));
  uv_close((uv_handle_t*) &tx, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(cbs, 2);
  ASSERT_OK(uv_loop_close(&loop));
}

static char buf_mem[65536];
static uv_udp_t rx;
static int got;

static void alloc_cb(uv_handle_t* h, size_t s, uv_buf_t* buf) {
  (void) h;
  (void) s;
  *buf = uv_buf_init(buf_mem, sizeof(buf_mem));
}

static void recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  struct sockaddr_storage copy;
  size_t i;
  (void) buf;
  (void) flags;
  if (addr == NULL)
    return;
  ASSERT_EQ(nread, 1);
  /* What a program may do with libuv: keep the whole storage. */
  memcpy(&copy, addr, sizeof(copy));
  for (i = sizeof(struct sockaddr_in6); i < sizeof(copy); i++)
    if (((unsigned char*) &copy)[i] != 0) {
      fprintf(stderr,
              "sender storage: sender byte %zu (past sockaddr_in6) is %u; libuv "
              "hands a zeroed sockaddr_storage\n",
              i, ((unsigned char*) &copy)[i]);
      failures++;
      break;
    }
  got++;
  uv_close((uv_handle_t*) h, NULL);
}

static void test_sender_is_a_whole_storage(void) {
  struct sockaddr_in addr;
  int len = sizeof(addr);
  int tx = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &rx));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_udp_bind(&rx, SA(&addr), 0));
  ASSERT_OK(uv_udp_getsockname(&rx, (struct sockaddr*) &addr, &len));
  ASSERT_EQ(sendto(tx, "x", 1, 0, SA(&addr), sizeof(addr)), 1);
  ASSERT_OK(uv_udp_recv_start(&rx, alloc_cb, recv_cb));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(got, 1);
  ASSERT_OK(uv_loop_close(&loop));
  close(tx);
}

int main(void) {
  test_getters_while_closing();
  test_sender_is_a_whole_storage();
  if (failures != 0)
    UVC_FAIL_("%d check(s) failed", failures);
  printf("udp_queue_and_sender: ok\n");
  return 0;
}
