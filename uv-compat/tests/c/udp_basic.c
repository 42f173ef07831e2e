/* udp_basic.c: every uv_udp_* call that does not need data to flow.
 *
 * Covers: uv_udp_init (fields, no socket yet: uv_fileno/getsockname/
 * getpeername/buffer sizes/set_ttl/set_broadcast -> UV_EBADF),
 * uv_udp_init_ex with AF_INET/AF_INET6 (socket at once; getsockname with a
 * short buffer gives the full length, with a negative length UV_EINVAL) and
 * AF_UNSPEC (none),
 * bad family or unknown flag -> UV_EINVAL; uv_udp_bind (port 0, getsockname
 * exact, bind twice -> UV_EINVAL, port in use -> UV_EADDRINUSE, REUSEADDR
 * shares, unknown flag / IPV6ONLY with IPv4 / bad family -> UV_EINVAL,
 * UV_UDP_LINUX_RECVERR accepted and sets IP_RECVERR, IPV6ONLY sets
 * IPV6_V6ONLY); uv_udp_open (adopts a bound socket, a connected one is seen
 * as connected, UV_EBUSY when the handle has a socket, UV_EEXIST when the fd
 * is already watched by the loop); uv_udp_connect / disconnect (auto-bind,
 * UV_EISCONN, UV_ENOTCONN, bad family -> UV_EINVAL), getpeername; send with
 * an address on a connected handle -> UV_EISCONN, without one on an
 * unconnected handle -> UV_EDESTADDRREQ (also for try_send), bad family ->
 * UV_EINVAL; set_ttl / set_multicast_ttl ranges (checked with getsockopt),
 * set_broadcast, set_multicast_loop, set_multicast_interface (address,
 * NULL, bad text), IPv6 variants, set_membership and set_source_membership
 * with bad addresses / bad membership / a unicast group -> UV_EINVAL, leaving
 * a group never joined -> UV_EADDRNOTAVAIL; uv_send_buffer_size /
 * uv_recv_buffer_size get and set (NULL value -> UV_EINVAL, a timer ->
 * UV_ENOTSUP); uv_fileno on a timer -> UV_EINVAL and on a closing handle ->
 * UV_EBADF; send_queue_size/count fields and getters around a send;
 * uv_udp_using_recvmmsg; recv_start with a NULL callback -> UV_EINVAL.
 *
 * 1.45+-only assertions: UV_UDP_REUSEPORT (libuv 1.49) lets two handles bind
 * the same port (guarded by UV_VERSION_HEX >= 0x013100).
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static uv_loop_t loop;

static struct sockaddr_in ip4(const char* ip, int port) {
  struct sockaddr_in a;
  ASSERT_OK(uv_ip4_addr(ip, port, &a));
  return a;
}

static struct sockaddr_in6 ip6(const char* ip, int port) {
  struct sockaddr_in6 a;
  ASSERT_OK(uv_ip6_addr(ip, port, &a));
  return a;
}

#define SA(p) ((const struct sockaddr*) (p))

static struct sockaddr_in sockname4(const uv_udp_t* h) {
  struct sockaddr_storage ss;
  struct sockaddr_in a;
  int len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  ASSERT_OK(uv_udp_getsockname(h, (struct sockaddr*) &ss, &len));
  ASSERT_EQ(len, sizeof(struct sockaddr_in));
  ASSERT_EQ(ss.ss_family, AF_INET);
  memcpy(&a, &ss, sizeof(a));
  return a;
}

static int sockopt_int(const uv_udp_t* h, int level, int name) {
  uv_os_fd_t fd;
  int v = -12345;
  socklen_t len = sizeof(v);
  ASSERT_OK(uv_fileno((const uv_handle_t*) h, &fd));
  ASSERT_OK(getsockopt(fd, level, name, &v, &len));
  return v;
}

static void close_all(uv_handle_t* h, void* arg) {
  (void) arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void finish(void) {
  uv_walk(&loop, close_all, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static void alloc_cb(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  static char slab[65536];
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
}

static void test_init(void) {
  uv_udp_t u;
  uv_udp_t u4;
  uv_udp_t u6;
  uv_udp_t un;
  uv_udp_t bad;
  uv_os_fd_t fd;
  struct sockaddr_storage ss;
  int len;
  int v;

  memset(&u, 0xCC, sizeof(u));
  ASSERT_OK(uv_udp_init(&loop, &u));
  ASSERT_EQ(u.type, UV_UDP);
  ASSERT_PTR_EQ(u.loop, &loop);
  ASSERT_EQ(u.send_queue_size, 0);
  ASSERT_EQ(u.send_queue_count, 0);
  ASSERT_EQ(uv_udp_get_send_queue_size(&u), 0);
  ASSERT_EQ(uv_udp_get_send_queue_count(&u), 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &u), 0);
  ASSERT_EQ(uv_udp_using_recvmmsg(&u), 0);

  /* No socket yet. */
  ASSERT_EQ(uv_fileno((uv_handle_t*) &u, &fd), UV_EBADF);
  len = sizeof(ss);
  ASSERT_EQ(uv_udp_getsockname(&u, (struct sockaddr*) &ss, &len), UV_EBADF);
  len = sizeof(ss);
  ASSERT_EQ(uv_udp_getpeername(&u, (struct sockaddr*) &ss, &len), UV_EBADF);
  v = 0;
  ASSERT_EQ(uv_send_buffer_size((uv_handle_t*) &u, &v), UV_EBADF);
  v = 0;
  ASSERT_EQ(uv_recv_buffer_size((uv_handle_t*) &u, &v), UV_EBADF);
  ASSERT_EQ(uv_udp_set_ttl(&u, 10), UV_EBADF);
  ASSERT_EQ(uv_udp_set_broadcast(&u, 1), UV_EBADF);
  ASSERT_EQ(uv_udp_recv_start(&u, NULL, recv_cb), UV_EINVAL);
  ASSERT_EQ(uv_udp_recv_start(&u, alloc_cb, NULL), UV_EINVAL);
  ASSERT_OK(uv_udp_recv_stop(&u));

  /* init_ex with a family: the socket exists at once. */
  ASSERT_OK(uv_udp_init_ex(&loop, &u4, AF_INET));
  ASSERT_OK(uv_fileno((uv_handle_t*) &u4, &fd));
  ASSERT_GE(fd, 0);
  len = sizeof(ss);
  ASSERT_OK(uv_udp_getsockname(&u4, (struct sockaddr*) &ss, &len));
  ASSERT_EQ(ss.ss_family, AF_INET);
  ASSERT_EQ(((struct sockaddr_in*) &ss)->sin_port, 0);

  ASSERT_OK(uv_udp_init_ex(&loop, &u6, AF_INET6));
  ASSERT_OK(uv_fileno((uv_handle_t*) &u6, &fd));
  len = sizeof(ss);
  ASSERT_OK(uv_udp_getsockname(&u6, (struct sockaddr*) &ss, &len));
  ASSERT_EQ(ss.ss_family, AF_INET6);
  ASSERT_EQ(len, sizeof(struct sockaddr_in6));
  /* A short buffer gets the start of the address and the full length; a
   * negative length is refused, as getsockname(2) does. */
  len = 4;
  ASSERT_OK(uv_udp_getsockname(&u6, (struct sockaddr*) &ss, &len));
  ASSERT_EQ(len, sizeof(struct sockaddr_in6));
  len = -1;
  ASSERT_EQ(uv_udp_getsockname(&u6, (struct sockaddr*) &ss, &len), UV_EINVAL);
  ASSERT_EQ(len, -1);

  ASSERT_OK(uv_udp_init_ex(&loop, &un, AF_UNSPEC));
  ASSERT_EQ(uv_fileno((uv_handle_t*) &un, &fd), UV_EBADF);

  ASSERT_EQ(uv_udp_init_ex(&loop, &bad, AF_UNIX), UV_EINVAL);
  ASSERT_EQ(uv_udp_init_ex(&loop, &bad, 42), UV_EINVAL);
  ASSERT_EQ(uv_udp_init_ex(&loop, &bad, AF_INET | 0x10000), UV_EINVAL);

  /* Only the four successful inits are handles of the loop. */
  finish();
}

static void test_bind(void) {
  uv_udp_t a;
  uv_udp_t b;
  uv_udp_t c;
  uv_udp_t d;
  uv_udp_t e;
  uv_udp_t f;
  uv_udp_t g;
#if UV_VERSION_HEX >= 0x013100
  uv_udp_t r1;
  uv_udp_t r2;
#endif
  struct sockaddr_in any = ip4("127.0.0.1", 0);
  struct sockaddr_in got;
  struct sockaddr_in6 six = ip6("::1", 0);
  struct sockaddr_in same;
  struct sockaddr bogus;
  uv_os_fd_t fd;

  ASSERT_OK(uv_udp_init(&loop, &a));
  ASSERT_EQ(uv_udp_bind(&a, SA(&any), 0x40000), UV_EINVAL);
  ASSERT_EQ(uv_udp_bind(&a, SA(&any), UV_UDP_IPV6ONLY), UV_EINVAL);
  memset(&bogus, 0, sizeof(bogus));
  bogus.sa_family = 0x7F; /* no such family */
  ASSERT_EQ(uv_udp_bind(&a, &bogus, 0), UV_EINVAL);

  ASSERT_OK(uv_udp_bind(&a, SA(&any), 0));
  got = sockname4(&a);
  ASSERT_NE(got.sin_port, 0);
  ASSERT_EQ(got.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  /* Bound handles are not active until they receive or send. */
  ASSERT_EQ(uv_is_active((uv_handle_t*) &a), 0);
  ASSERT_EQ(uv_udp_bind(&a, SA(&any), 0), UV_EINVAL);

  same = got;
  ASSERT_OK(uv_udp_init(&loop, &b));
  ASSERT_EQ(uv_udp_bind(&b, SA(&same), 0), UV_EADDRINUSE);

  /* REUSEADDR on both: the port is shared. */
  ASSERT_OK(uv_udp_init(&loop, &c));
  ASSERT_OK(uv_udp_init(&loop, &d));
  ASSERT_OK(uv_udp_bind(&c, SA(&any), UV_UDP_REUSEADDR));
  same = sockname4(&c);
  ASSERT_OK(uv_udp_bind(&d, SA(&same), UV_UDP_REUSEADDR));
  ASSERT_EQ(sockname4(&d).sin_port, same.sin_port);

  /* IPv6 with IPV6ONLY. */
  ASSERT_OK(uv_udp_init(&loop, &e));
  ASSERT_OK(uv_udp_bind(&e, SA(&six), UV_UDP_IPV6ONLY));
  ASSERT_EQ(sockopt_int(&e, IPPROTO_IPV6, IPV6_V6ONLY), 1);

  /* LINUX_RECVERR: accepted, sets IP_RECVERR. */
  ASSERT_OK(uv_udp_init(&loop, &f));
  ASSERT_OK(uv_udp_bind(&f, SA(&any), UV_UDP_LINUX_RECVERR));
  ASSERT_EQ(sockopt_int(&f, IPPROTO_IP, IP_RECVERR), 1);
  ASSERT_OK(uv_fileno((uv_handle_t*) &f, &fd));

  /* An IPv4 handle cannot bind an IPv6 address. */
  ASSERT_OK(uv_udp_init_ex(&loop, &g, AF_INET));
  ASSERT_EQ(uv_udp_bind(&g, SA(&six), 0), UV_EINVAL);

#if UV_VERSION_HEX >= 0x013100
  ASSERT_OK(uv_udp_init(&loop, &r1));
  ASSERT_OK(uv_udp_init(&loop, &r2));
  ASSERT_OK(uv_udp_bind(&r1, SA(&any), UV_UDP_REUSEPORT));
  same = sockname4(&r1);
  ASSERT_OK(uv_udp_bind(&r2, SA(&same), UV_UDP_REUSEPORT));
  ASSERT_EQ(sockopt_int(&r2, SOL_SOCKET, SO_REUSEPORT), 1);
#endif
  finish();
}

static void test_open(void) {
  uv_udp_t a;
  uv_udp_t b;
  uv_udp_t c;
  uv_udp_t peer;
  struct sockaddr_in any = ip4("127.0.0.1", 0);
  struct sockaddr_in bound;
  struct sockaddr_in peer_addr;
  struct sockaddr_in got;
  socklen_t slen;
  int len;
  int sock;
  int csock;
  uv_os_fd_t fd;
  uv_udp_send_t req;
  char data[] = "hi";
  uv_buf_t buf = uv_buf_init(data, 2);

  /* A bound socket made outside libuv. */
  sock = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(sock, 0);
  ASSERT_OK(bind(sock, SA(&any), sizeof(any)));
  slen = sizeof(bound);
  ASSERT_OK(getsockname(sock, (struct sockaddr*) &bound, &slen));

  ASSERT_OK(uv_udp_init(&loop, &a));
  ASSERT_OK(uv_udp_open(&a, sock));
  ASSERT_OK(uv_fileno((uv_handle_t*) &a, &fd));
  ASSERT_EQ(fd, sock);
  got = sockname4(&a);
  ASSERT_EQ(got.sin_port, bound.sin_port);

  /* The handle has a socket already. */
  csock = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(csock, 0);
  ASSERT_EQ(uv_udp_open(&a, csock), UV_EBUSY);

  /* The fd is watched by the loop (receiving on a): UV_EEXIST. */
  ASSERT_OK(uv_udp_recv_start(&a, alloc_cb, recv_cb));
  ASSERT_OK(uv_udp_init(&loop, &b));
  ASSERT_EQ(uv_udp_open(&b, sock), UV_EEXIST);
  ASSERT_EQ(uv_fileno((uv_handle_t*) &b, &fd), UV_EBADF);

  /* A connected socket is adopted as connected. */
  ASSERT_OK(uv_udp_init(&loop, &peer));
  ASSERT_OK(uv_udp_bind(&peer, SA(&any), 0));
  peer_addr = sockname4(&peer);
  ASSERT_OK(connect(csock, SA(&peer_addr), sizeof(peer_addr)));
  ASSERT_OK(uv_udp_init(&loop, &c));
  ASSERT_OK(uv_udp_open(&c, csock));
  len = sizeof(got);
  ASSERT_OK(uv_udp_getpeername(&c, (struct sockaddr*) &got, &len));
  ASSERT_EQ(got.sin_port, peer_addr.sin_port);
  ASSERT_EQ(got.sin_addr.s_addr, peer_addr.sin_addr.s_addr);
  ASSERT_EQ(uv_udp_connect(&c, SA(&peer_addr)), UV_EISCONN);
  ASSERT_EQ(uv_udp_send(&req, &c, &buf, 1, SA(&peer_addr), NULL),
            UV_EISCONN);
  ASSERT_EQ(uv_udp_try_send(&c, &buf, 1, NULL), 2);

  /* uv_close closes adopted sockets too (not checked: the fd number may be
   * reused at once). */
  finish();
}

static void test_connect(void) {
  uv_udp_t a;
  uv_udp_t peer;
  uv_udp_t peer2;
  struct sockaddr_in any = ip4("127.0.0.1", 0);
  struct sockaddr_in peer_addr;
  struct sockaddr_in peer2_addr;
  struct sockaddr_in got;
  struct sockaddr bogus;
  uv_udp_send_t req;
  char data[] = "abc";
  uv_buf_t buf = uv_buf_init(data, 3);
  int len;

  ASSERT_OK(uv_udp_init(&loop, &peer));
  ASSERT_OK(uv_udp_bind(&peer, SA(&any), 0));
  peer_addr = sockname4(&peer);
  ASSERT_OK(uv_udp_init(&loop, &peer2));
  ASSERT_OK(uv_udp_bind(&peer2, SA(&any), 0));
  peer2_addr = sockname4(&peer2);

  ASSERT_OK(uv_udp_init(&loop, &a));
  ASSERT_EQ(uv_udp_connect(&a, NULL), UV_ENOTCONN);
  memset(&bogus, 0, sizeof(bogus));
  bogus.sa_family = 0x7F; /* no such family */
  ASSERT_EQ(uv_udp_connect(&a, &bogus), UV_EINVAL);

  /* Unconnected: sending needs an address. */
  ASSERT_EQ(uv_udp_send(&req, &a, &buf, 1, NULL, NULL), UV_EDESTADDRREQ);
  ASSERT_EQ(uv_udp_try_send(&a, &buf, 1, NULL), UV_EDESTADDRREQ);
  ASSERT_EQ(uv_udp_send(&req, &a, &buf, 1, &bogus, NULL), UV_EINVAL);
  ASSERT_EQ(uv_udp_try_send(&a, &buf, 1, &bogus), UV_EINVAL);

  /* connect binds a handle that has no socket yet. */
  ASSERT_OK(uv_udp_connect(&a, SA(&peer_addr)));
  got = sockname4(&a);
  ASSERT_NE(got.sin_port, 0);
  len = sizeof(got);
  ASSERT_OK(uv_udp_getpeername(&a, (struct sockaddr*) &got, &len));
  ASSERT_EQ(len, sizeof(struct sockaddr_in));
  ASSERT_EQ(got.sin_port, peer_addr.sin_port);
  ASSERT_EQ(got.sin_addr.s_addr, peer_addr.sin_addr.s_addr);

  ASSERT_EQ(uv_udp_connect(&a, SA(&peer2_addr)), UV_EISCONN);
  ASSERT_EQ(uv_udp_send(&req, &a, &buf, 1, SA(&peer_addr), NULL),
            UV_EISCONN);
  ASSERT_EQ(uv_udp_try_send(&a, &buf, 1, SA(&peer_addr)), UV_EISCONN);
  ASSERT_EQ(uv_udp_try_send(&a, &buf, 1, NULL), 3);

  /* Disconnect. */
  ASSERT_OK(uv_udp_connect(&a, NULL));
  len = sizeof(got);
  ASSERT_EQ(uv_udp_getpeername(&a, (struct sockaddr*) &got, &len),
            UV_ENOTCONN);
  ASSERT_EQ(uv_udp_connect(&a, NULL), UV_ENOTCONN);
  ASSERT_EQ(uv_udp_try_send(&a, &buf, 1, NULL), UV_EDESTADDRREQ);
  ASSERT_EQ(uv_udp_try_send(&a, &buf, 1, SA(&peer2_addr)), 3);

  /* And connect again, elsewhere. */
  ASSERT_OK(uv_udp_connect(&a, SA(&peer2_addr)));
  len = sizeof(got);
  ASSERT_OK(uv_udp_getpeername(&a, (struct sockaddr*) &got, &len));
  ASSERT_EQ(got.sin_port, peer2_addr.sin_port);

  finish();
}

static void test_options(void) {
  uv_udp_t a;
  uv_udp_t b6;
  struct sockaddr_in any = ip4("127.0.0.1", 0);
  struct sockaddr_in6 six = ip6("::1", 0);
  struct in_addr ifaddr;
  socklen_t slen;
  uv_os_fd_t fd;

  ASSERT_OK(uv_udp_init(&loop, &a));
  ASSERT_OK(uv_udp_bind(&a, SA(&any), 0));

  ASSERT_EQ(uv_udp_set_ttl(&a, 0), UV_EINVAL);
  ASSERT_EQ(uv_udp_set_ttl(&a, 256), UV_EINVAL);
  ASSERT_EQ(uv_udp_set_ttl(&a, -1), UV_EINVAL);
  ASSERT_OK(uv_udp_set_ttl(&a, 1));
  ASSERT_OK(uv_udp_set_ttl(&a, 255));
  ASSERT_OK(uv_udp_set_ttl(&a, 42));
  ASSERT_EQ(sockopt_int(&a, IPPROTO_IP, IP_TTL), 42);

  ASSERT_EQ(uv_udp_set_multicast_ttl(&a, -1), UV_EINVAL);
  ASSERT_EQ(uv_udp_set_multicast_ttl(&a, 256), UV_EINVAL);
  ASSERT_OK(uv_udp_set_multicast_ttl(&a, 0));
  ASSERT_OK(uv_udp_set_multicast_ttl(&a, 255));
  ASSERT_OK(uv_udp_set_multicast_ttl(&a, 7));
  ASSERT_EQ(sockopt_int(&a, IPPROTO_IP, IP_MULTICAST_TTL), 7);

  ASSERT_OK(uv_udp_set_broadcast(&a, 1));
  ASSERT_EQ(sockopt_int(&a, SOL_SOCKET, SO_BROADCAST), 1);
  ASSERT_OK(uv_udp_set_broadcast(&a, 0));
  ASSERT_EQ(sockopt_int(&a, SOL_SOCKET, SO_BROADCAST), 0);

  ASSERT_OK(uv_udp_set_multicast_loop(&a, 0));
  ASSERT_EQ(sockopt_int(&a, IPPROTO_IP, IP_MULTICAST_LOOP), 0);
  ASSERT_OK(uv_udp_set_multicast_loop(&a, 1));
  ASSERT_EQ(sockopt_int(&a, IPPROTO_IP, IP_MULTICAST_LOOP), 1);

  ASSERT_OK(uv_udp_set_multicast_interface(&a, "127.0.0.1"));
  ASSERT_OK(uv_fileno((uv_handle_t*) &a, &fd));
  slen = sizeof(ifaddr);
  ASSERT_OK(getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, &slen));
  ASSERT_EQ(ifaddr.s_addr, htonl(INADDR_LOOPBACK));
  ASSERT_OK(uv_udp_set_multicast_interface(&a, NULL));
  slen = sizeof(ifaddr);
  ASSERT_OK(getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, &slen));
  ASSERT_EQ(ifaddr.s_addr, htonl(INADDR_ANY));
  ASSERT_EQ(uv_udp_set_multicast_interface(&a, "bogus"), UV_EINVAL);

  ASSERT_EQ(uv_udp_set_membership(&a, "not-an-ip", NULL, UV_JOIN_GROUP),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_set_membership(&a, "239.255.0.1", "bogus", UV_JOIN_GROUP),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_set_membership(&a, "239.255.0.1", "127.0.0.1",
                                  (uv_membership) 7),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_set_membership(&a, "127.0.0.1", "127.0.0.1",
                                  UV_JOIN_GROUP),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_set_membership(&a, "239.255.0.2", "127.0.0.1",
                                  UV_LEAVE_GROUP),
            UV_EADDRNOTAVAIL);
  ASSERT_EQ(uv_udp_set_source_membership(&a, "bogus", "127.0.0.1",
                                         "127.0.0.1", UV_JOIN_GROUP),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_set_source_membership(&a, "232.1.1.1", "127.0.0.1",
                                         "bogus", UV_JOIN_GROUP),
            UV_EINVAL);

  /* IPv6 handle: the IPv6 options. */
  ASSERT_OK(uv_udp_init(&loop, &b6));
  ASSERT_OK(uv_udp_bind(&b6, SA(&six), 0));
  ASSERT_EQ(uv_udp_set_ttl(&b6, 0), UV_EINVAL);
  ASSERT_OK(uv_udp_set_ttl(&b6, 33));
  ASSERT_EQ(sockopt_int(&b6, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 33);
  ASSERT_OK(uv_udp_set_multicast_ttl(&b6, 9));
  ASSERT_EQ(sockopt_int(&b6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 9);
  ASSERT_OK(uv_udp_set_multicast_loop(&b6, 0));
  ASSERT_EQ(sockopt_int(&b6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 0);
  ASSERT_EQ(uv_udp_set_membership(&b6, "ff02::1:3", "bogus", UV_JOIN_GROUP),
            UV_EINVAL);

  finish();
}

static void test_buffer_sizes_and_fileno(void) {
  uv_udp_t a;
  uv_timer_t t;
  struct sockaddr_in any = ip4("127.0.0.1", 0);
  int v;
  uv_os_fd_t fd;

  ASSERT_OK(uv_udp_init(&loop, &a));
  ASSERT_OK(uv_udp_bind(&a, SA(&any), 0));

  v = 0;
  ASSERT_OK(uv_send_buffer_size((uv_handle_t*) &a, &v));
  ASSERT_GT(v, 0);
  v = 0;
  ASSERT_OK(uv_recv_buffer_size((uv_handle_t*) &a, &v));
  ASSERT_GT(v, 0);

  v = 65536;
  ASSERT_OK(uv_send_buffer_size((uv_handle_t*) &a, &v));
  v = 0;
  ASSERT_OK(uv_send_buffer_size((uv_handle_t*) &a, &v));
  ASSERT_GE(v, 65536);
  v = 98304;
  ASSERT_OK(uv_recv_buffer_size((uv_handle_t*) &a, &v));
  v = 0;
  ASSERT_OK(uv_recv_buffer_size((uv_handle_t*) &a, &v));
  ASSERT_GE(v, 98304);
  ASSERT_EQ(uv_send_buffer_size((uv_handle_t*) &a, NULL), UV_EINVAL);
  ASSERT_EQ(uv_recv_buffer_size((uv_handle_t*) &a, NULL), UV_EINVAL);

  ASSERT_OK(uv_timer_init(&loop, &t));
  v = 0;
  ASSERT_EQ(uv_send_buffer_size((uv_handle_t*) &t, &v), UV_ENOTSUP);
  ASSERT_EQ(uv_fileno((uv_handle_t*) &t, &fd), UV_EINVAL);

  ASSERT_OK(uv_fileno((uv_handle_t*) &a, &fd));
  uv_close((uv_handle_t*) &a, NULL);
  ASSERT_EQ(uv_fileno((uv_handle_t*) &a, &fd), UV_EBADF);
  finish();
}

static int send_cb_calls;

static void send_cb(uv_udp_send_t* req, int status) {
  ASSERT_OK(status);
  ASSERT_EQ(req->handle->send_queue_count, 0);
  ASSERT_EQ(req->handle->send_queue_size, 0);
  send_cb_calls++;
}

static void test_send_queue(void) {
  uv_udp_t a;
  uv_udp_t peer;
  struct sockaddr_in any = ip4("127.0.0.1", 0);
  struct sockaddr_in peer_addr;
  uv_udp_send_t req;
  char data[] = "hello";
  uv_buf_t buf = uv_buf_init(data, 5);

  ASSERT_OK(uv_udp_init(&loop, &peer));
  ASSERT_OK(uv_udp_bind(&peer, SA(&any), 0));
  peer_addr = sockname4(&peer);

  ASSERT_OK(uv_udp_init(&loop, &a));
  ASSERT_OK(uv_udp_bind(&a, SA(&any), 0));
  send_cb_calls = 0;
  ASSERT_OK(uv_udp_send(&req, &a, &buf, 1, SA(&peer_addr), send_cb));
  ASSERT_PTR_EQ(req.handle, &a);
  ASSERT_EQ(req.type, UV_UDP_SEND);
  /* The callback is never called from inside uv_udp_send; until it ran,
   * the request counts as queued. */
  ASSERT_EQ(send_cb_calls, 0);
  ASSERT_EQ(a.send_queue_count, 1);
  ASSERT_EQ(a.send_queue_size, 5);
  ASSERT_EQ(uv_udp_get_send_queue_count(&a), 1);
  ASSERT_EQ(uv_udp_get_send_queue_size(&a), 5);
  ASSERT_NE(uv_is_active((uv_handle_t*) &a), 0);
  ASSERT_NE(uv_loop_alive(&loop), 0);

  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(send_cb_calls, 1);
  ASSERT_EQ(a.send_queue_count, 0);
  ASSERT_EQ(a.send_queue_size, 0);
  ASSERT_EQ(uv_udp_get_send_queue_count(&a), 0);
  ASSERT_EQ(uv_udp_get_send_queue_size(&a), 0);
  finish();
}

static void test_recvmmsg_flag(void) {
  uv_udp_t a;
  uv_udp_t b;
  struct sockaddr_in any = ip4("127.0.0.1", 0);

  ASSERT_OK(uv_udp_init_ex(&loop, &a, AF_INET | UV_UDP_RECVMMSG));
  ASSERT_OK(uv_udp_bind(&a, SA(&any), 0));
  ASSERT_EQ(uv_udp_using_recvmmsg(&a), 1);
  ASSERT_OK(uv_udp_init_ex(&loop, &b, AF_INET));
  ASSERT_OK(uv_udp_bind(&b, SA(&any), 0));
  ASSERT_EQ(uv_udp_using_recvmmsg(&b), 0);
  finish();
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_init();
  test_bind();
  test_open();
  test_connect();
  test_options();
  test_buffer_sizes_and_fileno();
  test_send_queue();
  test_recvmmsg_flag();
  ASSERT_OK(uv_loop_close(&loop));
  printf("udp_basic: ok\n");
  return 0;
}
