/* udp_recverr.c: UV_UDP_LINUX_RECVERR and the socket's error queue.
 *
 * Covers, as libuv's udp_recvmsg_unreachable_error and _error6 do: a handle
 * bound to 127.0.0.1 (then ::1) with UV_UDP_LINUX_RECVERR sends "PING" to
 * a loopback port nobody listens on, and the ICMP port unreachable makes
 * recv_cb run exactly three times:
 *   1. (UV_ECONNREFUSED, addr NULL, flags 0): the socket's pending error,
 *      which a plain read returns;
 *   2. (UV_ECONNREFUSED, the offender: the loopback address, port 0,
 *      flags UV_UDP_LINUX_RECVERR): the error-queue entry, its buffer
 *      holding the "PING" that failed;
 *   3. (0, addr NULL, flags 0): the error queue is empty.
 * Then nothing until the handle closes three loop iterations after the
 * first call (an idle handle keeps the loop turning; no timer). With a
 * datagram already waiting behind the error, the same three calls come
 * first, then the datagram and the (0, NULL) of the read that finds the
 * socket empty.
 *
 * 1.52+-only assertions: everything after the first call, guarded by
 * UV_VERSION_HEX >= 0x013400. Older libuv never reads the error queue: it
 * reports the plain error, then the socket stays in error (level-triggered
 * POLLERR) and recv_cb gets (0, NULL) every iteration until the close.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define MAX_CALLS 64

typedef struct {
  ssize_t nread;
  int family; /* 0 for addr NULL */
  char ip[INET6_ADDRSTRLEN];
  int port;
  unsigned flags;
  char head[5]; /* first bytes of the buffer */
} call_t;

static uv_loop_t loop;
static uv_udp_t client;
static uv_idle_t fence;
static int fence_left;
static char slab[64];
static call_t calls[MAX_CALLS];
static int ncalls;
static int send_calls;

static void alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void) h;
  (void) suggested;
  memset(slab, 0, sizeof(slab));
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void fence_cb(uv_idle_t* idle) {
  if (--fence_left > 0)
    return;
  uv_close((uv_handle_t*) idle, NULL);
  uv_close((uv_handle_t*) &client, NULL);
}

static void recv_cb(uv_udp_t* h,
                    ssize_t nread,
                    const uv_buf_t* buf,
                    const struct sockaddr* addr,
                    unsigned flags) {
  call_t* c;
  ASSERT(h == &client);
  ASSERT(buf->base == slab);
  ASSERT_LT(ncalls, MAX_CALLS);
  c = &calls[ncalls++];
  memset(c, 0, sizeof(*c));
  c->nread = nread;
  c->flags = flags;
  memcpy(c->head, buf->base, 4);
  if (addr != NULL) {
    c->family = addr->sa_family;
    if (addr->sa_family == AF_INET) {
      const struct sockaddr_in* a = (const struct sockaddr_in*) addr;
      ASSERT_OK(uv_ip4_name(a, c->ip, sizeof(c->ip)));
      c->port = ntohs(a->sin_port);
    } else if (addr->sa_family == AF_INET6) {
      const struct sockaddr_in6* a = (const struct sockaddr_in6*) addr;
      ASSERT_OK(uv_ip6_name(a, c->ip, sizeof(c->ip)));
      c->port = ntohs(a->sin6_port);
    }
  }
  if (ncalls == 1) {
    fence_left = 3;
    ASSERT_OK(uv_idle_init(&loop, &fence));
    ASSERT_OK(uv_idle_start(&fence, fence_cb));
  }
}

static void send_cb(uv_udp_send_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
  send_calls++;
}

/* A loopback address that was bound and closed again: nobody listens. */
static void dead_port(int v6, struct sockaddr_storage* out) {
  struct sockaddr_storage any;
  socklen_t len = sizeof(*out);
  int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0);
  if (v6)
    ASSERT_OK(uv_ip6_addr("::1", 0, (struct sockaddr_in6*) &any));
  else
    ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, (struct sockaddr_in*) &any));
  ASSERT_OK(bind(s, SA(&any), v6 ? sizeof(struct sockaddr_in6)
                                 : sizeof(struct sockaddr_in)));
  ASSERT_OK(getsockname(s, (struct sockaddr*) out, &len));
  ASSERT_OK(close(s));
}

/* The port the kernel bound `fd` to. */
static int local_port(int fd) {
  struct sockaddr_storage a;
  socklen_t len = sizeof(a);
  ASSERT_OK(getsockname(fd, (struct sockaddr*) &a, &len));
  if (a.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6*) &a)->sin6_port);
  return ntohs(((struct sockaddr_in*) &a)->sin_port);
}

static void check_call(int i, ssize_t nread, int family, const char* ip,
                       int port, unsigned flags) {
  ASSERT_EQ(calls[i].nread, nread);
  ASSERT_EQ(calls[i].family, family);
  if (ip != NULL)
    ASSERT_STR_EQ(calls[i].ip, ip);
  ASSERT_EQ(calls[i].port, port);
  ASSERT_EQ(calls[i].flags, flags);
}

static void unreachable(int v6, int marker_waiting) {
  const char* lo = v6 ? "::1" : "127.0.0.1";
  int family = v6 ? AF_INET6 : AF_INET;
  struct sockaddr_storage here;
  struct sockaddr_storage dead;
  struct sockaddr_storage bound;
  int namelen = sizeof(bound);
  uv_udp_send_t req;
  uv_buf_t ping = uv_buf_init("PING", 4);
  int peer = -1;
  int peer_port = 0;

  ncalls = 0;
  send_calls = 0;
  dead_port(v6, &dead);
  if (v6)
    ASSERT_OK(uv_ip6_addr(lo, 0, (struct sockaddr_in6*) &here));
  else
    ASSERT_OK(uv_ip4_addr(lo, 0, (struct sockaddr_in*) &here));
  ASSERT_OK(uv_udp_init(&loop, &client));
  ASSERT_OK(uv_udp_bind(&client, SA(&here), UV_UDP_LINUX_RECVERR));
  ASSERT_OK(uv_udp_getsockname(&client, (struct sockaddr*) &bound, &namelen));
  ASSERT_OK(uv_udp_recv_start(&client, alloc_cb, recv_cb));
  ASSERT_OK(uv_udp_send(&req, &client, &ping, 1, SA(&dead), send_cb));
  if (marker_waiting) {
    /* Loopback answers within the send: the error is there before the
     * marker arrives, and both before the loop polls. */
    peer = socket(family, SOCK_DGRAM, 0);
    ASSERT_GE(peer, 0);
    ASSERT_EQ(sendto(peer, "marker", 6, 0, SA(&bound), (socklen_t) namelen),
              6);
    peer_port = local_port(peer);
  }
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(send_calls, 1);

  ASSERT_GE(ncalls, 1);
  check_call(0, UV_ECONNREFUSED, 0, NULL, 0, 0);
#if UV_VERSION_HEX >= 0x013400
  ASSERT_EQ(ncalls, marker_waiting ? 5 : 3);
  check_call(1, UV_ECONNREFUSED, family, lo, 0, UV_UDP_LINUX_RECVERR);
  ASSERT_STR_EQ(calls[1].head, "PING");
  check_call(2, 0, 0, NULL, 0, 0);
  if (marker_waiting) {
    check_call(3, 6, family, lo, peer_port, 0);
    ASSERT_STR_EQ(calls[3].head, "mark");
    check_call(4, 0, 0, NULL, 0, 0);
  }
#endif
  (void) peer_port;
  if (marker_waiting)
    ASSERT_OK(close(peer));
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  unreachable(0, 0);
  unreachable(1, 0);
  unreachable(0, 1);
  unreachable(1, 1);
  ASSERT_OK(uv_loop_close(&loop));
  printf("udp_recverr: ok\n");
  return 0;
}
