/* libuv_udp_cases.c: the UDP behaviours libuv's own test suite checks,
 * restated in our words. Each function names the libuv test it pins.
 *
 * Covers: socket options on a bound, unreferenced handle (broadcast and
 * multicast loop toggled twice each way, TTL 1..255 accepted and -1, 0,
 * 256 refused, multicast TTL 0..255 accepted and 256 refused) and the
 * same setters on a handle without a socket (UV_EBADF, no auto-bind); two
 * sends queued before the loop runs both arrive; sends to a port nobody
 * listens on complete with status 0 and no error reaches recv_cb of a
 * plain (non-RECVERR) handle; try_send auto-binds and refuses a 64 KiB
 * datagram with UV_EMSGSIZE; the connect / disconnect sequence (connected:
 * an address -> UV_EISCONN, NULL sends; disconnected: NULL ->
 * UV_EDESTADDRREQ, an address sends) including a disconnect and resend
 * from a send callback; an alloc_cb that leaves the buffer alone ->
 * UV_ENOBUFS; uv_udp_init_ex with a family creates the socket at once
 * (getsockname works before bind), an IPv4 bind on an AF_INET6 socket ->
 * UV_EINVAL, unknown domains -> UV_EINVAL; uv_udp_open of an unbound
 * socket then uv_udp_bind and a datagram sent to itself, a bound socket
 * opened and receiving; an IPv6 handle bound to [::] receiving from an IPv4
 * sender (as ::ffff:127.0.0.1) unless bound with UV_UDP_IPV6ONLY; 100
 * handles sharing a port (UV_UDP_REUSEADDR), all sending 1 KiB to it and
 * reading into 1-byte buffers (UV_UDP_PARTIAL), closed as soon as one
 * datagram arrived: every send and close callback runs; 1000 sends made
 * one at a time from idle callbacks restarted by each send callback; the
 * option setters on an IPv6 handle; a socket connected before uv_udp_open
 * sends with a NULL address; four datagrams and an empty one (try_send
 * returns 0 for it) sent before the run are all read before the first
 * check callback; a UV_UDP_RECVMMSG handle made with AF_UNSPEC reading
 * 40 waiting datagrams into two buffers of 20 datagrams each; six sends on
 * a handle connected to a dead port all complete (0 or UV_ECONNREFUSED).
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static char slab[65536];
static int close_calls;

static void slab_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  ASSERT_LE(size, sizeof(slab));
  buf->base = slab;
  buf->len = sizeof(slab);
}

static void count_close(uv_handle_t* h) {
  ASSERT_EQ(uv_is_closing(h), 1);
  close_calls++;
}

/* Binds `h` to `ip`:0 and returns the bound address in `out`. */
static void bind_any_port(uv_udp_t* h, const char* ip, unsigned flags,
                          struct sockaddr_storage* out) {
  struct sockaddr_storage ss;
  int len = sizeof(*out);

  memset(&ss, 0, sizeof(ss));
  if (strchr(ip, ':') != NULL)
    ASSERT_OK(uv_ip6_addr(ip, 0, (struct sockaddr_in6*) &ss));
  else
    ASSERT_OK(uv_ip4_addr(ip, 0, (struct sockaddr_in*) &ss));
  ASSERT_OK(uv_udp_bind(h, (const struct sockaddr*) &ss, flags));
  ASSERT_OK(uv_udp_getsockname(h, (struct sockaddr*) out, &len));
}

/* `port` of `bound`, with the address 127.0.0.1. */
static struct sockaddr_in loopback_v4(const struct sockaddr_storage* bound) {
  struct sockaddr_in a;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &a));
  a.sin_port = ((const struct sockaddr_in*) bound)->sin_port;
  return a;
}

/* The option setters of test-udp-options.c on an unreferenced handle bound
 * to `ip`: each value in range twice over (setting a value again is fine),
 * each one past the range UV_EINVAL. The handle is closed again. */
static void check_options_bound(uv_loop_t* loop, const char* ip) {
  uv_udp_t h;
  struct sockaddr_storage bound;
  int i;

  ASSERT_OK(uv_udp_init(loop, &h));
  uv_unref((uv_handle_t*) &h);
  bind_any_port(&h, ip, 0, &bound);

  ASSERT_OK(uv_udp_set_broadcast(&h, 1));
  ASSERT_OK(uv_udp_set_broadcast(&h, 1));
  ASSERT_OK(uv_udp_set_broadcast(&h, 0));
  ASSERT_OK(uv_udp_set_broadcast(&h, 0));
  for (i = 1; i <= 255; i++)
    ASSERT_OK(uv_udp_set_ttl(&h, i));
  ASSERT_EQ(uv_udp_set_ttl(&h, -1), UV_EINVAL);
  ASSERT_EQ(uv_udp_set_ttl(&h, 0), UV_EINVAL);
  ASSERT_EQ(uv_udp_set_ttl(&h, 256), UV_EINVAL);
  ASSERT_OK(uv_udp_set_multicast_loop(&h, 1));
  ASSERT_OK(uv_udp_set_multicast_loop(&h, 1));
  ASSERT_OK(uv_udp_set_multicast_loop(&h, 0));
  ASSERT_OK(uv_udp_set_multicast_loop(&h, 0));
  for (i = 0; i <= 255; i++)
    ASSERT_OK(uv_udp_set_multicast_ttl(&h, i));
  ASSERT_EQ(uv_udp_set_multicast_ttl(&h, 256), UV_EINVAL);
  /* Unreferenced: the run returns at once. */
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  uv_close((uv_handle_t*) &h, NULL);
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
}

/* test-udp-options.c: udp_options, udp_no_autobind. */
static void test_options(void) {
  uv_loop_t loop;
  uv_udp_t h;

  ASSERT_OK(uv_loop_init(&loop));
  check_options_bound(&loop, "0.0.0.0");

  /* No socket yet: the setters do not create one. */
  ASSERT_OK(uv_udp_init(&loop, &h));
  ASSERT_EQ(uv_udp_set_multicast_ttl(&h, 32), UV_EBADF);
  ASSERT_EQ(uv_udp_set_broadcast(&h, 1), UV_EBADF);
  ASSERT_EQ(uv_udp_set_ttl(&h, 1), UV_EBADF);
  ASSERT_EQ(uv_udp_set_multicast_loop(&h, 1), UV_EBADF);
  ASSERT_EQ(uv_udp_set_multicast_interface(&h, "0.0.0.0"), UV_EBADF);
  ASSERT_EQ(uv_udp_set_ttl(&h, 1), UV_EBADF); /* still no socket */
  uv_close((uv_handle_t*) &h, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-send-immediate.c: udp_send_immediate ---- */

static uv_udp_t server;
static uv_udp_t client;
static int send_calls;
static int recv_calls;

static void ok_send(uv_udp_send_t* req, int status) {
  ASSERT_NOT_NULL(req);
  ASSERT_EQ(status, 0);
  ASSERT(req->handle == &client || req->handle == &server);
  send_calls++;
}

static void ok_send_any(uv_udp_send_t* req, int status) {
  ASSERT_NOT_NULL(req->handle);
  ASSERT_EQ(status, 0);
  send_calls++;
}

static void immediate_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                           const struct sockaddr* addr, unsigned flags) {
  ASSERT_PTR_EQ(h, &server);
  ASSERT_GE(n, 0);
  if (n == 0) {
    ASSERT_NULL(addr);
    return;
  }
  ASSERT_EQ(flags, 0);
  ASSERT_NOT_NULL(addr);
  ASSERT_EQ(n, 4);
  /* Datagrams on loopback keep their order. */
  ASSERT_MEM_EQ(buf->base, recv_calls == 0 ? "PING" : "PANG", 4);
  if (++recv_calls == 2) {
    uv_close((uv_handle_t*) &server, count_close);
    uv_close((uv_handle_t*) &client, count_close);
  }
}

static void test_send_immediate(void) {
  uv_loop_t loop;
  struct sockaddr_storage bound;
  struct sockaddr_in to;
  uv_udp_send_t req1, req2;
  uv_buf_t buf;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &server));
  bind_any_port(&server, "0.0.0.0", 0, &bound);
  ASSERT_OK(uv_udp_recv_start(&server, slab_alloc, immediate_recv));
  to = loopback_v4(&bound);

  ASSERT_OK(uv_udp_init(&loop, &client));
  send_calls = recv_calls = close_calls = 0;
  buf = uv_buf_init("PING", 4);
  ASSERT_OK(uv_udp_send(&req1, &client, &buf, 1, (struct sockaddr*) &to,
                        ok_send));
  buf = uv_buf_init("PANG", 4);
  ASSERT_OK(uv_udp_send(&req2, &client, &buf, 1, (struct sockaddr*) &to,
                        ok_send));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(send_calls, 2);
  ASSERT_EQ(recv_calls, 2);
  ASSERT_EQ(close_calls, 2);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-send-unreachable.c: udp_send_unreachable ---- */

static uv_timer_t unreach_timer;
static int unreach_alloc_calls;

static void unreach_timer_cb(uv_timer_t* t);
static int unreach_recv_calls;

static void unreach_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  unreach_alloc_calls++;
  slab_alloc(h, size, buf);
}

static void unreach_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                         const struct sockaddr* addr, unsigned flags) {
  (void) buf;
  (void) flags;
  ASSERT_PTR_EQ(h, &client);
  unreach_recv_calls++;
  /* No ICMP error reaches a plain handle, and nobody sends to it. */
  ASSERT_EQ(n, 0);
  ASSERT_NULL(addr);
}

/* The second send's callback starts the timer, so both sends completed
 * before it can close the handle. */
static void unreach_send(uv_udp_send_t* req, int status) {
  ok_send(req, status);
  if (send_calls == 2)
    ASSERT_OK(uv_timer_start(&unreach_timer, unreach_timer_cb, 50, 0));
}

static void unreach_timer_cb(uv_timer_t* t) {
  uv_close((uv_handle_t*) &client, count_close);
  uv_close((uv_handle_t*) t, count_close);
}

static void test_send_unreachable(void) {
  uv_loop_t loop;
  struct sockaddr_storage bound;
  struct sockaddr_storage dead;
  struct sockaddr_in to;
  uv_udp_t closed;
  uv_udp_send_t req1, req2;
  uv_buf_t buf;

  ASSERT_OK(uv_loop_init(&loop));
  send_calls = close_calls = 0;
  ASSERT_OK(uv_timer_init(&loop, &unreach_timer));
  /* The client first: a port freed before it binds could be the one the
   * kernel gives it, and it would send to itself. */
  ASSERT_OK(uv_udp_init(&loop, &client));
  bind_any_port(&client, "127.0.0.1", 0, &bound);
  /* A port that was bound and is now free: nobody listens there. */
  ASSERT_OK(uv_udp_init(&loop, &closed));
  bind_any_port(&closed, "127.0.0.1", 0, &dead);
  uv_close((uv_handle_t*) &closed, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  to = loopback_v4(&dead);
  ASSERT_OK(uv_udp_recv_start(&client, unreach_alloc, unreach_recv));
  buf = uv_buf_init("PING", 4);
  ASSERT_OK(uv_udp_send(&req1, &client, &buf, 1, (struct sockaddr*) &to,
                        unreach_send));
  buf = uv_buf_init("PANG", 4);
  ASSERT_OK(uv_udp_send(&req2, &client, &buf, 1, (struct sockaddr*) &to,
                        unreach_send));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(send_calls, 2);
  ASSERT_EQ(unreach_recv_calls, unreach_alloc_calls);
  ASSERT_EQ(close_calls, 2);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-try-send.c: udp_try_send ---- */

static void exit_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                      const struct sockaddr* addr, unsigned flags) {
  (void) flags;
  if (n == 0 && addr == NULL)
    return;
  ASSERT_EQ(n, 4);
  ASSERT_NOT_NULL(addr);
  ASSERT_MEM_EQ(buf->base, "EXIT", 4);
  recv_calls++;
  if (h == &server && recv_calls == 1) {
    uv_close((uv_handle_t*) &server, count_close);
    uv_close((uv_handle_t*) &client, count_close);
  }
}

static void test_try_send(void) {
  static char big[64 * 1024];
  uv_loop_t loop;
  struct sockaddr_storage bound;
  struct sockaddr_in to;
  uv_buf_t buf;
  uv_os_fd_t fd;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &server));
  bind_any_port(&server, "0.0.0.0", 0, &bound);
  ASSERT_OK(uv_udp_recv_start(&server, slab_alloc, exit_recv));
  to = loopback_v4(&bound);

  ASSERT_OK(uv_udp_init(&loop, &client));
  recv_calls = close_calls = 0;
  /* The first try_send binds the handle even though it fails. */
  buf = uv_buf_init(big, sizeof(big));
  ASSERT_EQ(uv_udp_try_send(&client, &buf, 1, (struct sockaddr*) &to),
            UV_EMSGSIZE);
  ASSERT_OK(uv_fileno((uv_handle_t*) &client, &fd));
  buf = uv_buf_init("EXIT", 4);
  ASSERT_EQ(uv_udp_try_send(&client, &buf, 1, (struct sockaddr*) &to), 4);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(recv_calls, 1);
  ASSERT_EQ(close_calls, 2);
  ASSERT_EQ(client.send_queue_size, 0);
  ASSERT_EQ(server.send_queue_size, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-connect.c: udp_connect ---- */

static uv_buf_t connect_buf;
static struct sockaddr_in connect_to;

static void connect_send_cb(uv_udp_send_t* req, int status) {
  ASSERT_EQ(status, 0);
  ASSERT_PTR_EQ(req->handle, &client);
  if (++send_calls == 1) {
    /* Disconnect from the callback: a NULL address is no longer enough,
     * an explicit one is, and the request can be used again. */
    ASSERT_OK(uv_udp_connect(&client, NULL));
    ASSERT_EQ(uv_udp_send(req, &client, &connect_buf, 1, NULL,
                          connect_send_cb),
              UV_EDESTADDRREQ);
    ASSERT_OK(uv_udp_send(req, &client, &connect_buf, 1,
                          (struct sockaddr*) &connect_to, connect_send_cb));
  }
}

static void connect_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                         const struct sockaddr* addr, unsigned flags) {
  (void) h;
  (void) flags;
  if (n == 0)
    return;
  ASSERT_EQ(n, 4);
  ASSERT_NOT_NULL(addr);
  ASSERT_MEM_EQ(buf->base, "EXIT", 4);
  /* Two try_sends and two sends. */
  if (++recv_calls == 4) {
    uv_close((uv_handle_t*) &server, count_close);
    uv_close((uv_handle_t*) &client, count_close);
  }
}

static void test_connect(void) {
  uv_loop_t loop;
  struct sockaddr_storage bound;
  struct sockaddr_storage peer;
  struct sockaddr_in other;
  uv_udp_send_t req;
  int len;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &server));
  bind_any_port(&server, "0.0.0.0", 0, &bound);
  ASSERT_OK(uv_udp_recv_start(&server, slab_alloc, connect_recv));
  connect_to = loopback_v4(&bound);
  /* Another loopback port, never sent to: only the error paths see it. */
  other = connect_to;
  other.sin_port = htons(ntohs(connect_to.sin_port) == 65535
                             ? 1024
                             : ntohs(connect_to.sin_port) + 1);

  ASSERT_OK(uv_udp_init(&loop, &client));
  send_calls = recv_calls = close_calls = 0;
  connect_buf = uv_buf_init("EXIT", 4);

  ASSERT_OK(uv_udp_connect(&client, (struct sockaddr*) &connect_to));
  ASSERT_EQ(uv_udp_connect(&client, (struct sockaddr*) &other), UV_EISCONN);
  len = sizeof(peer);
  ASSERT_OK(uv_udp_getpeername(&client, (struct sockaddr*) &peer, &len));
  ASSERT_MEM_EQ(&peer, &connect_to, sizeof(connect_to));

  ASSERT_EQ(uv_udp_try_send(&client, &connect_buf, 1,
                            (struct sockaddr*) &connect_to),
            UV_EISCONN);
  ASSERT_EQ(uv_udp_try_send(&client, &connect_buf, 1, NULL), 4);
  ASSERT_EQ(uv_udp_try_send(&client, &connect_buf, 1,
                            (struct sockaddr*) &other),
            UV_EISCONN);

  ASSERT_OK(uv_udp_connect(&client, NULL));
  ASSERT_EQ(uv_udp_connect(&client, NULL), UV_ENOTCONN);
  len = sizeof(peer);
  ASSERT_EQ(uv_udp_getpeername(&client, (struct sockaddr*) &peer, &len),
            UV_ENOTCONN);
  ASSERT_EQ(uv_udp_try_send(&client, &connect_buf, 1,
                            (struct sockaddr*) &connect_to),
            4);
  ASSERT_EQ(uv_udp_try_send(&client, &connect_buf, 1, NULL), UV_EDESTADDRREQ);

  ASSERT_OK(uv_udp_connect(&client, (struct sockaddr*) &connect_to));
  ASSERT_EQ(uv_udp_send(&req, &client, &connect_buf, 1,
                        (struct sockaddr*) &connect_to, connect_send_cb),
            UV_EISCONN);
  ASSERT_OK(uv_udp_send(&req, &client, &connect_buf, 1, NULL,
                        connect_send_cb));

  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(recv_calls, 4);
  ASSERT_EQ(send_calls, 2);
  ASSERT_EQ(close_calls, 2);
  ASSERT_EQ(client.send_queue_size, 0);
  ASSERT_EQ(server.send_queue_size, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-alloc-cb-fail.c: udp_alloc_cb_fail ---- */

static int enobufs_calls;

static void leave_buffer_alone(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  (void) size;
  (void) buf;
}

static void enobufs_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                         const struct sockaddr* addr, unsigned flags) {
  (void) buf;
  (void) addr;
  ASSERT_PTR_EQ(h, &client);
  ASSERT_EQ(flags, 0);
  ASSERT_EQ(n, UV_ENOBUFS);
  enobufs_calls++;
  uv_close((uv_handle_t*) h, count_close);
}

static void pong_sent(uv_udp_send_t* req, int status) {
  ASSERT_EQ(status, 0);
  uv_close((uv_handle_t*) req->handle, count_close);
  free(req);
}

static void ping_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                      const struct sockaddr* addr, unsigned flags) {
  uv_udp_send_t* req;
  uv_buf_t pong = uv_buf_init("PONG", 4);

  ASSERT_GE(n, 0);
  if (n == 0) {
    ASSERT_NULL(addr);
    return;
  }
  ASSERT_EQ(flags, 0);
  ASSERT_EQ(n, 4);
  ASSERT_MEM_EQ(buf->base, "PING", 4);
  ASSERT_OK(uv_udp_recv_stop(h));
  req = malloc(sizeof(*req));
  ASSERT_NOT_NULL(req);
  ASSERT_OK(uv_udp_send(req, h, &pong, 1, addr, pong_sent));
  recv_calls++;
}

static void ping_sent(uv_udp_send_t* req, int status) {
  ASSERT_EQ(status, 0);
  /* The client reads the answer through an alloc_cb that hands out no
   * buffer at all. */
  ASSERT_OK(uv_udp_recv_start(req->handle, leave_buffer_alone, enobufs_recv));
  send_calls++;
}

static void test_alloc_cb_fail(void) {
  uv_loop_t loop;
  struct sockaddr_storage bound;
  struct sockaddr_in to;
  uv_udp_send_t req;
  uv_buf_t buf = uv_buf_init("PING", 4);

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &server));
  bind_any_port(&server, "0.0.0.0", 0, &bound);
  ASSERT_OK(uv_udp_recv_start(&server, slab_alloc, ping_recv));
  to = loopback_v4(&bound);
  ASSERT_OK(uv_udp_init(&loop, &client));
  send_calls = recv_calls = close_calls = 0;
  ASSERT_OK(uv_udp_send(&req, &client, &buf, 1, (struct sockaddr*) &to,
                        ping_sent));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(send_calls, 1);
  ASSERT_EQ(recv_calls, 1);
  ASSERT_EQ(enobufs_calls, 1);
  ASSERT_EQ(close_calls, 2);
  ASSERT_OK(uv_loop_close(&loop));
}

/* test-udp-create-socket-early.c: udp_create_early,
 * udp_create_early_bad_bind, udp_create_early_bad_domain. */
static void test_create_early(void) {
  uv_loop_t loop;
  uv_udp_t h;
  uv_os_fd_t fd;
  struct sockaddr_in addr;
  struct sockaddr_in name4;
  struct sockaddr_in6 name6;
  int len;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));

  ASSERT_OK(uv_udp_init_ex(&loop, &h, AF_INET));
  fd = -1;
  ASSERT_OK(uv_fileno((uv_handle_t*) &h, &fd));
  ASSERT_GE(fd, 0);
  len = sizeof(name4);
  ASSERT_OK(uv_udp_getsockname(&h, (struct sockaddr*) &name4, &len));
  ASSERT_EQ(name4.sin_family, AF_INET);
  ASSERT_OK(uv_udp_bind(&h, (const struct sockaddr*) &addr, 0));
  len = sizeof(name4);
  ASSERT_OK(uv_udp_getsockname(&h, (struct sockaddr*) &name4, &len));
  ASSERT_MEM_EQ(&name4.sin_addr, &addr.sin_addr, sizeof(addr.sin_addr));
  uv_close((uv_handle_t*) &h, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  ASSERT_OK(uv_udp_init_ex(&loop, &h, AF_INET6));
  ASSERT_OK(uv_fileno((uv_handle_t*) &h, &fd));
  len = sizeof(name6);
  ASSERT_OK(uv_udp_getsockname(&h, (struct sockaddr*) &name6, &len));
  ASSERT_EQ(name6.sin6_family, AF_INET6);
  ASSERT_EQ(uv_udp_bind(&h, (const struct sockaddr*) &addr, 0), UV_EINVAL);
  uv_close((uv_handle_t*) &h, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  ASSERT_EQ(uv_udp_init_ex(&loop, &h, 47), UV_EINVAL);
  ASSERT_EQ(uv_udp_init_ex(&loop, &h, 1024), UV_EINVAL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-open.c: udp_open, udp_open_bound ---- */

static int open_recv_calls;

static void open_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                      const struct sockaddr* addr, unsigned flags) {
  ASSERT_GE(n, 0);
  if (n == 0) {
    ASSERT_NULL(addr);
    return;
  }
  ASSERT_EQ(flags, 0);
  ASSERT_NOT_NULL(addr);
  ASSERT_EQ(n, 4);
  ASSERT_MEM_EQ(buf->base, "PING", 4);
  open_recv_calls++;
  ASSERT_OK(uv_udp_recv_stop(h));
  uv_close((uv_handle_t*) h, count_close);
}

static int reusable_udp_socket(void) {
  int yes = 1;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0);
  ASSERT_OK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes)));
  return s;
}

static void test_open(void) {
  uv_loop_t loop;
  uv_udp_t h;
  uv_udp_send_t req;
  struct sockaddr_storage bound;
  uv_buf_t buf = uv_buf_init("PING", 4);
  struct sockaddr_in addr;
  socklen_t alen = sizeof(addr);
  int s;

  ASSERT_OK(uv_loop_init(&loop));
  /* An unbound socket: adopted, then bound through the handle, then it
   * sends a datagram to itself. The handle closes the socket. */
  s = reusable_udp_socket();
  ASSERT_OK(uv_udp_init(&loop, &h));
  ASSERT_OK(uv_udp_open(&h, s));
  bind_any_port(&h, "127.0.0.1", 0, &bound);
  ASSERT_OK(uv_udp_recv_start(&h, slab_alloc, open_recv));
  send_calls = close_calls = 0;
  ASSERT_OK(uv_udp_send(&req, &h, &buf, 1, (struct sockaddr*) &bound,
                        ok_send_any));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(send_calls, 1);
  ASSERT_EQ(open_recv_calls, 1);
  ASSERT_EQ(close_calls, 1);
  ASSERT_EQ(h.send_queue_size, 0);

  /* A bound socket adopted and receiving, closed before anything came. */
  s = reusable_udp_socket();
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(bind(s, (struct sockaddr*) &addr, sizeof(addr)));
  ASSERT_OK(getsockname(s, (struct sockaddr*) &addr, &alen));
  ASSERT_OK(uv_udp_init(&loop, &h));
  ASSERT_OK(uv_udp_open(&h, s));
  ASSERT_OK(uv_udp_recv_start(&h, slab_alloc, open_recv));
  uv_close((uv_handle_t*) &h, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(open_recv_calls, 1);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-ipv6.c: udp_dual_stack, udp_ipv6_only ---- */

static uv_udp_t client6;
static uv_udp_send_t done_req;
static struct sockaddr_in6 done_to;
static int v6_pings;
static int v6_dones;

static void v6_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  const struct sockaddr_in6* from = (const struct sockaddr_in6*) addr;
  char text[64];

  (void) h;
  (void) flags;
  if (n == 0 && addr == NULL)
    return;
  ASSERT_EQ(n, 4);
  ASSERT_EQ(from->sin6_family, AF_INET6);
  ASSERT_OK(uv_ip6_name(from, text, sizeof(text)));
  if (memcmp(buf->base, "PING", 4) == 0) {
    /* An IPv4 sender seen through an IPv6 socket. */
    ASSERT_EQ(v6_dones, 0);
    ASSERT_STR_EQ(text, "::ffff:127.0.0.1");
    v6_pings++;
    return;
  }
  ASSERT_MEM_EQ(buf->base, "DONE", 4);
  ASSERT_STR_EQ(text, "::1");
  v6_dones++;
  uv_close((uv_handle_t*) &server, NULL);
  uv_close((uv_handle_t*) &client, NULL);
  uv_close((uv_handle_t*) &client6, NULL);
}

/* Loopback delivers a datagram into the receive queue during the send, so
 * one sent over IPv6 after the IPv4 one was written arrives after it: when
 * "DONE" arrives, "PING" has arrived too or never will. */
static void ping_sent_send_done(uv_udp_send_t* req, int status) {
  uv_buf_t done = uv_buf_init("DONE", 4);
  ok_send(req, status);
  ASSERT_OK(uv_udp_send(&done_req, &client6, &done, 1,
                        (struct sockaddr*) &done_to, ok_send_any));
}

static void v4_to_v6(unsigned bind_flags, int expected) {
  uv_loop_t loop;
  struct sockaddr_storage bound;
  struct sockaddr_in to;
  uv_udp_send_t req;
  uv_buf_t buf = uv_buf_init("PING", 4);

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &server));
  bind_any_port(&server, "::", bind_flags, &bound);
  ASSERT_OK(uv_udp_recv_start(&server, slab_alloc, v6_recv));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &to));
  to.sin_port = ((struct sockaddr_in6*) &bound)->sin6_port;
  ASSERT_OK(uv_ip6_addr("::1", 0, &done_to));
  done_to.sin6_port = to.sin_port;

  ASSERT_OK(uv_udp_init(&loop, &client));
  ASSERT_OK(uv_udp_init(&loop, &client6));
  send_calls = 0;
  v6_pings = v6_dones = 0;
  ASSERT_OK(uv_udp_send(&req, &client, &buf, 1, (struct sockaddr*) &to,
                        ping_sent_send_done));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(send_calls, 2);
  ASSERT_EQ(v6_dones, 1);
  ASSERT_EQ(v6_pings, expected);
  ASSERT_OK(uv_loop_close(&loop));
}

static void test_ipv6_dual_stack(void) {
  v4_to_v6(0, 1);
  v4_to_v6(UV_UDP_IPV6ONLY, 0);
}

/* ---- test-watcher-cross-stop.c: watcher_cross_stop ---- */

#define CROSS_N 100

static uv_udp_t cross[CROSS_N];
static uv_udp_send_t cross_reqs[CROSS_N];
static char one_byte[1];
static int cross_recv_calls;
static int cross_send_calls;
static int cross_close_calls;

static void one_byte_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  (void) size;
  buf->base = one_byte;
  buf->len = sizeof(one_byte);
}

static void cross_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                       const struct sockaddr* addr, unsigned flags) {
  (void) h;
  (void) buf;
  if (n == 0 && addr == NULL)
    return;
  /* 1024 bytes into a 1-byte buffer. */
  ASSERT_EQ(n, 1);
  ASSERT(flags & UV_UDP_PARTIAL);
  cross_recv_calls++;
}

static void cross_send(uv_udp_send_t* req, int status) {
  (void) req;
  ASSERT(status == 0 || status == UV_ECANCELED);
  cross_send_calls++;
}

static void cross_close(uv_handle_t* h) {
  (void) h;
  cross_close_calls++;
}

/* Many handles sharing one port, all sending to it at once; as soon as
 * anything arrived they are all closed: every send and every close
 * completes. */
static void test_cross_stop(void) {
  static char big[1024];
  uv_loop_t loop;
  struct sockaddr_storage bound;
  struct sockaddr_in port;
  uv_buf_t buf;
  int i;

  memset(big, 'A', sizeof(big));
  buf = uv_buf_init(big, sizeof(big));
  ASSERT_OK(uv_loop_init(&loop));
  for (i = 0; i < CROSS_N; i++) {
    ASSERT_OK(uv_udp_init(&loop, &cross[i]));
    if (i == 0) {
      bind_any_port(&cross[0], "127.0.0.1", UV_UDP_REUSEADDR, &bound);
      port = loopback_v4(&bound);
    } else {
      ASSERT_OK(uv_udp_bind(&cross[i], (struct sockaddr*) &port,
                            UV_UDP_REUSEADDR));
    }
    ASSERT_OK(uv_udp_recv_start(&cross[i], one_byte_alloc, cross_recv));
    ASSERT_OK(uv_udp_send(&cross_reqs[i], &cross[i], &buf, 1,
                          (struct sockaddr*) &port, cross_send));
  }
  while (cross_recv_calls == 0)
    ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  for (i = 0; i < CROSS_N; i++)
    uv_close((uv_handle_t*) &cross[i], cross_close);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(cross_send_calls, CROSS_N);
  ASSERT_EQ(cross_close_calls, CROSS_N);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-send-hang-loop.c: udp_send_hang_loop ---- */

static uv_idle_t hang_idle;
static uv_udp_send_t hang_req;
static uv_buf_t hang_buf;
static struct sockaddr_in hang_to;
static int hang_rounds;

static void hang_send_cb(uv_udp_send_t* req, int status);

static void hang_idle_cb(uv_idle_t* h) {
  /* The previous send's callback ran (it cleared the handle field). */
  ASSERT_NULL(hang_req.handle);
  ASSERT_OK(uv_idle_stop(h));
  if (++hang_rounds > 1000) {
    uv_close((uv_handle_t*) &client, NULL);
    uv_close((uv_handle_t*) h, NULL);
    return;
  }
  ASSERT_OK(uv_udp_send(&hang_req, &client, &hang_buf, 1,
                        (struct sockaddr*) &hang_to, hang_send_cb));
}

static void hang_send_cb(uv_udp_send_t* req, int status) {
  ASSERT_PTR_EQ(req, &hang_req);
  ASSERT_PTR_EQ(req->handle, &client);
  ASSERT_EQ(status, 0);
  req->handle = NULL;
  ASSERT_OK(uv_idle_start(&hang_idle, hang_idle_cb));
}

/* One send at a time, each started from an idle callback that the
 * previous send's callback started: the loop never stalls. libuv sends
 * to an unroutable address; we send to a free loopback port. */
static void test_send_hang_loop(void) {
  static char data[1024];
  uv_loop_t loop;
  uv_udp_t closed;
  struct sockaddr_storage dead;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &closed));
  bind_any_port(&closed, "127.0.0.1", 0, &dead);
  uv_close((uv_handle_t*) &closed, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  hang_to = loopback_v4(&dead);

  hang_buf = uv_buf_init(data, sizeof(data));
  ASSERT_OK(uv_idle_init(&loop, &hang_idle));
  ASSERT_OK(uv_udp_init(&loop, &client));
  ASSERT_OK(uv_idle_start(&hang_idle, hang_idle_cb));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_GT(hang_rounds, 1000);
  ASSERT_OK(uv_loop_close(&loop));
}

/* test-udp-options.c: udp_options6. */
static void test_options6(void) {
  uv_loop_t loop;

  ASSERT_OK(uv_loop_init(&loop));
  check_options_bound(&loop, "::");
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-open.c: udp_open_connect ---- */

static void ping_then_close(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                            const struct sockaddr* addr, unsigned flags) {
  (void) h;
  (void) flags;
  if (n == 0 && addr == NULL)
    return;
  ASSERT_EQ(n, 4);
  ASSERT_MEM_EQ(buf->base, "PING", 4);
  recv_calls++;
  uv_close((uv_handle_t*) &server, count_close);
  uv_close((uv_handle_t*) &client, count_close);
}

/* A socket connected before uv_udp_open sends with a NULL address. */
static void test_open_connected(void) {
  uv_loop_t loop;
  struct sockaddr_storage bound;
  uv_udp_send_t req;
  uv_buf_t buf = uv_buf_init("PING", 4);
  int s;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &server));
  bind_any_port(&server, "127.0.0.1", 0, &bound);
  ASSERT_OK(uv_udp_recv_start(&server, slab_alloc, ping_then_close));

  s = reusable_udp_socket();
  ASSERT_OK(connect(s, (struct sockaddr*) &bound, sizeof(struct sockaddr_in)));
  ASSERT_OK(uv_udp_init(&loop, &client));
  ASSERT_OK(uv_udp_open(&client, s));
  send_calls = recv_calls = close_calls = 0;
  ASSERT_OK(uv_udp_send(&req, &client, &buf, 1, NULL, ok_send));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(send_calls, 1);
  ASSERT_EQ(recv_calls, 1);
  ASSERT_EQ(close_calls, 2);
  ASSERT_EQ(client.send_queue_size, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-recv-in-a-row.c: udp_recv_in_a_row ---- */

#define IN_A_ROW 5

static uv_check_t row_check;
static int row_datagrams;
static int row_empty;
static int row_check_calls;

static void row_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                     const struct sockaddr* addr, unsigned flags) {
  (void) h;
  (void) buf;
  (void) flags;
  ASSERT_GE(n, 0);
  if (addr == NULL) {
    ASSERT_EQ(n, 0);
    return;
  }
  if (n == 0)
    row_empty++;
  else
    ASSERT_EQ(n, 10);
  row_datagrams++;
}

static void row_check_cb(uv_check_t* h) {
  /* Everything sent before the run was read in the first poll phase. */
  ASSERT_EQ(row_datagrams, IN_A_ROW);
  ASSERT_EQ(row_empty, 1);
  row_check_calls++;
  uv_close((uv_handle_t*) h, NULL);
  uv_close((uv_handle_t*) &server, NULL);
  uv_close((uv_handle_t*) &client, NULL);
}

static void test_recv_in_a_row(void) {
  static char ten[10];
  uv_loop_t loop;
  struct sockaddr_storage bound;
  uv_buf_t buf;
  int i;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_check_init(&loop, &row_check));
  ASSERT_OK(uv_check_start(&row_check, row_check_cb));
  ASSERT_OK(uv_udp_init(&loop, &server));
  bind_any_port(&server, "127.0.0.1", 0, &bound);
  ASSERT_OK(uv_udp_recv_start(&server, slab_alloc, row_recv));
  ASSERT_OK(uv_udp_init(&loop, &client));
  buf = uv_buf_init(ten, sizeof(ten));
  for (i = 0; i < IN_A_ROW - 1; i++)
    ASSERT_EQ(uv_udp_try_send(&client, &buf, 1, (struct sockaddr*) &bound),
              10);
  /* An empty datagram: try_send reports 0 bytes sent. */
  buf = uv_buf_init(NULL, 0);
  ASSERT_EQ(uv_udp_try_send(&client, &buf, 1, (struct sockaddr*) &bound), 0);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(row_check_calls, 1);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-mmsg.c: udp_mmsg ---- */

#define MMSG_PER_BUFFER 20
#define MMSG_SENDS 40

static int mmsg_allocs;
static int mmsg_recvs;

static void mmsg_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  size_t len = 64 * 1024;
  (void) size;
  /* Room for 20 datagrams only where they can arrive in one batch. */
  if (uv_udp_using_recvmmsg((uv_udp_t*) h))
    len *= MMSG_PER_BUFFER;
  buf->base = malloc(len);
  ASSERT_NOT_NULL(buf->base);
  buf->len = len;
  mmsg_allocs++;
}

static void mmsg_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* buf,
                      const struct sockaddr* addr, unsigned flags) {
  ASSERT_GE(n, 0);
  if (flags & UV_UDP_MMSG_FREE) {
    ASSERT_EQ(n, 0);
    ASSERT_NULL(addr);
    free(buf->base);
    return;
  }
  ASSERT_EQ(n, 4);
  ASSERT_NOT_NULL(addr);
  ASSERT_MEM_EQ(buf->base, "PING", 4);
  if (++mmsg_recvs == MMSG_SENDS) {
    uv_close((uv_handle_t*) h, count_close);
    uv_close((uv_handle_t*) &client, count_close);
  }
  if (!(flags & UV_UDP_MMSG_CHUNK))
    free(buf->base);
}

/* A handle made with AF_UNSPEC | UV_UDP_RECVMMSG (the socket comes with
 * the bind) reads 40 waiting datagrams in batches of 20: two buffers. */
static void test_mmsg(void) {
  uv_loop_t loop;
  struct sockaddr_storage bound;
  struct sockaddr_in to;
  uv_buf_t buf = uv_buf_init("PING", 4);
  int i;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init_ex(&loop, &server, AF_UNSPEC | UV_UDP_RECVMMSG));
  bind_any_port(&server, "0.0.0.0", 0, &bound);
  ASSERT_OK(uv_udp_recv_start(&server, mmsg_alloc, mmsg_recv));
  to = loopback_v4(&bound);
  ASSERT_OK(uv_udp_init(&loop, &client));
  for (i = 0; i < MMSG_SENDS; i++)
    ASSERT_EQ(uv_udp_try_send(&client, &buf, 1, (struct sockaddr*) &to), 4);
  close_calls = 0;
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_calls, 2);
  ASSERT_EQ(mmsg_recvs, MMSG_SENDS);
  ASSERT_EQ(uv_udp_using_recvmmsg(&server), 1);
  ASSERT_EQ(mmsg_allocs, MMSG_SENDS / MMSG_PER_BUFFER);
  ASSERT_EQ(server.send_queue_size, 0);
  ASSERT_EQ(client.send_queue_size, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-udp-sendmmsg-error.c: udp_sendmmsg_error ---- */

static int refused_sends;

static void refused_send_cb(uv_udp_send_t* req, int status) {
  (void) req;
  if (status != 0)
    ASSERT_EQ(status, UV_ECONNREFUSED);
  if (++refused_sends == 6)
    uv_close((uv_handle_t*) &client, count_close);
}

/* Six sends queued on a handle connected to a port nobody listens on:
 * each completes, with 0 or UV_ECONNREFUSED, and the queue drains. */
static void test_sendmmsg_error(void) {
  uv_loop_t loop;
  uv_udp_t closed;
  struct sockaddr_storage dead;
  struct sockaddr_in to;
  uv_udp_send_t reqs[6];
  uv_buf_t buf = uv_buf_init("TEST", 4);
  int i;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &closed));
  bind_any_port(&closed, "127.0.0.1", 0, &dead);
  uv_close((uv_handle_t*) &closed, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  to = loopback_v4(&dead);

  ASSERT_OK(uv_udp_init(&loop, &client));
  ASSERT_OK(uv_udp_connect(&client, (struct sockaddr*) &to));
  close_calls = 0;
  for (i = 0; i < 6; i++)
    ASSERT_OK(uv_udp_send(&reqs[i], &client, &buf, 1, NULL,
                          refused_send_cb));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(refused_sends, 6);
  ASSERT_EQ(close_calls, 1);
  ASSERT_EQ(client.send_queue_size, 0);
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  test_options();
  test_send_immediate();
  test_send_unreachable();
  test_try_send();
  test_connect();
  test_alloc_cb_fail();
  test_create_early();
  test_open();
  test_ipv6_dual_stack();
  test_cross_stop();
  test_send_hang_loop();
  test_options6();
  test_open_connected();
  test_recv_in_a_row();
  test_mmsg();
  test_sendmmsg_error();
  return 0;
}
