/* multicast.c: IPv4 multicast on the loopback interface.
 *
 * Covers: two handles bound to 0.0.0.0:<same port> with UV_UDP_REUSEADDR
 * both join 239.255.0.1 on interface 127.0.0.1 (joining twice ->
 * UV_EADDRINUSE); the sender sets the outgoing interface, loop on and TTL 1,
 * sends one datagram to the group and BOTH members (itself included) receive
 * it with the exact bytes and the sender's 127.0.0.1:port; then the members
 * leave (leaving twice -> UV_EADDRNOTAVAIL), and a datagram sent after that
 * is not received. uv_udp_set_source_membership joins and leaves a
 * source-specific group (232.1.1.1 from 127.0.0.1).
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define GROUP "239.255.0.1"
#define IFACE "127.0.0.1"

static uv_loop_t loop;
static uv_udp_t a;
static uv_udp_t b;
static uv_timer_t quiet;
static struct sockaddr_in a_addr;
static int got_a;
static int got_b;
static int phase;
static char slab[65536];

static void alloc_cb(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  (void) size;
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void send_group(const char* text) {
  struct sockaddr_in to;
  uv_buf_t buf = uv_buf_init((char*) text, strlen(text));
  ASSERT_OK(uv_ip4_addr(GROUP, ntohs(a_addr.sin_port), &to));
  ASSERT_EQ(uv_udp_try_send(&a, &buf, 1, SA(&to)), (int) strlen(text));
}

static void quiet_cb(uv_timer_t* t) {
  (void) t;
  /* Phase 2: nothing arrived after leaving. */
  ASSERT_EQ(phase, 2);
  uv_close((uv_handle_t*) &a, NULL);
  uv_close((uv_handle_t*) &b, NULL);
  uv_close((uv_handle_t*) &quiet, NULL);
}

static void recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  const struct sockaddr_in* from = (const struct sockaddr_in*) addr;
  ASSERT_GE(nread, 0);
  if (addr == NULL)
    return;
  ASSERT_EQ(phase, 1); /* nothing may arrive after leaving */
  ASSERT_EQ(flags, 0);
  ASSERT_EQ(nread, 5);
  ASSERT_MEM_EQ(buf->base, "mcast", 5);
  ASSERT_EQ(from->sin_family, AF_INET);
  ASSERT_EQ(from->sin_port, a_addr.sin_port);
  ASSERT_EQ(from->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  if (h == &a)
    got_a++;
  else
    got_b++;

  if (got_a == 1 && got_b == 1) {
    phase = 2;
    ASSERT_OK(uv_udp_set_membership(&a, GROUP, IFACE, UV_LEAVE_GROUP));
    ASSERT_OK(uv_udp_set_membership(&b, GROUP, IFACE, UV_LEAVE_GROUP));
    ASSERT_EQ(uv_udp_set_membership(&a, GROUP, IFACE, UV_LEAVE_GROUP),
              UV_EADDRNOTAVAIL);
    send_group("after");
    ASSERT_OK(uv_timer_start(&quiet, quiet_cb, 50, 0));
  }
}

static void test_group(void) {
  struct sockaddr_in any;
  struct sockaddr_in port_addr;
  int len = sizeof(a_addr);

  ASSERT_OK(uv_ip4_addr("0.0.0.0", 0, &any));
  ASSERT_OK(uv_udp_init(&loop, &a));
  ASSERT_OK(uv_udp_init(&loop, &b));
  ASSERT_OK(uv_timer_init(&loop, &quiet));
  ASSERT_OK(uv_udp_bind(&a, SA(&any), UV_UDP_REUSEADDR));
  ASSERT_OK(uv_udp_getsockname(&a, (struct sockaddr*) &a_addr, &len));
  ASSERT_OK(uv_ip4_addr("0.0.0.0", ntohs(a_addr.sin_port), &port_addr));
  ASSERT_OK(uv_udp_bind(&b, SA(&port_addr), UV_UDP_REUSEADDR));

  ASSERT_OK(uv_udp_set_membership(&a, GROUP, IFACE, UV_JOIN_GROUP));
  ASSERT_EQ(uv_udp_set_membership(&a, GROUP, IFACE, UV_JOIN_GROUP),
            UV_EADDRINUSE);
  ASSERT_OK(uv_udp_set_membership(&b, GROUP, IFACE, UV_JOIN_GROUP));
  ASSERT_OK(uv_udp_set_multicast_interface(&a, IFACE));
  ASSERT_OK(uv_udp_set_multicast_loop(&a, 1));
  ASSERT_OK(uv_udp_set_multicast_ttl(&a, 1));

  ASSERT_OK(uv_udp_recv_start(&a, alloc_cb, recv_cb));
  ASSERT_OK(uv_udp_recv_start(&b, alloc_cb, recv_cb));
  phase = 1;
  send_group("mcast");
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(got_a, 1);
  ASSERT_EQ(got_b, 1);
  ASSERT_EQ(phase, 2);
}

static void test_source_membership(void) {
  uv_udp_t s;
  struct sockaddr_in any;

  ASSERT_OK(uv_ip4_addr("0.0.0.0", 0, &any));
  ASSERT_OK(uv_udp_init(&loop, &s));
  ASSERT_OK(uv_udp_bind(&s, SA(&any), UV_UDP_REUSEADDR));
  ASSERT_OK(uv_udp_set_source_membership(&s, "232.1.1.1", IFACE, "127.0.0.1",
                                         UV_JOIN_GROUP));
  ASSERT_OK(uv_udp_set_source_membership(&s, "232.1.1.1", IFACE, "127.0.0.1",
                                         UV_LEAVE_GROUP));
  uv_close((uv_handle_t*) &s, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_group();
  test_source_membership();
  ASSERT_OK(uv_loop_close(&loop));
  printf("multicast: ok\n");
  return 0;
}
