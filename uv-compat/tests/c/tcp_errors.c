/* tcp_errors.c: TCP's error paths and their exact codes.
 *
 * Covers:
 * - connect to a port bound by nobody listening: uv_tcp_connect returns 0,
 *   the callback gets UV_ECONNREFUSED from the loop (never inside the
 *   call), the handle is not closed by it; a second connect while the first
 *   is pending is UV_EALREADY; a write made while the connect is pending
 *   gets UV_ECANCELED right after the connect's callback; before the
 *   connect a write is UV_EBADF, a connect to an address of no family
 *   UV_EINVAL (no callback);
 * - bind: two handles on one address both bind (SO_REUSEADDR), the
 *   second's listen is UV_EADDRINUSE, and so is its getsockname and its
 *   connect (in the callback); UV_TCP_IPV6ONLY with an IPv4 address, a
 *   second bind of a bound handle and an AF_UNIX address are UV_EINVAL;
 *   uv_tcp_init_ex with unknown flags is UV_EINVAL, with AF_INET6 creates
 *   the socket at once; a connection over ::1 with UV_TCP_IPV6ONLY;
 * - getpeername of a listener is UV_ENOTCONN; reading it UV_ENOTCONN;
 * - uv_tcp_open: adopts a connected socket (readable and writable at once);
 *   a descriptor the loop watches already is UV_EEXIST, and stays usable;
 * - half-close: after the peer's shutdown the reader gets UV_EOF, stays
 *   readable and writable, gets UV_EOF again when it reads again
 *   (readable-on-eof), and its reply reaches the peer, which then reads
 *   UV_EOF in turn;
 * - uv_tcp_close_reset: the peer's read fails with UV_ECONNRESET, after
 *   which the peer is neither readable nor writable (a write is UV_EPIPE);
 *   UV_EINVAL while a shutdown is pending, the handle then not closed;
 * - uv_tcp_nodelay, uv_tcp_keepalive, uv_tcp_simultaneous_accepts on
 *   connected handles; uv_send_buffer_size / uv_recv_buffer_size (UV_EBADF
 *   before a socket exists); uv_guess_handle on a TCP socket.
 */
#include <uv.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))

static uv_loop_t loop;
static int in_call;
static int calls;
static int last_status;

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void) handle;
  buf->base = malloc(suggested);
  buf->len = suggested;
}

static void status_connect_cb(uv_connect_t* req, int status) {
  (void) req;
  ASSERT_EQ(in_call, 0);
  calls++;
  last_status = status;
}

static void bound_address(uv_tcp_t* h, struct sockaddr_storage* out) {
  int len = sizeof(*out);
  ASSERT_OK(uv_tcp_getsockname(h, (struct sockaddr*) out, &len));
}

static char order[8];
static int norder;

static void order_connect_cb(uv_connect_t* req, int status) {
  (void) req;
  ASSERT_EQ(in_call, 0);
  ASSERT_EQ(status, UV_ECONNREFUSED);
  order[norder++] = 'K';
}

static void order_write_cb(uv_write_t* req, int status) {
  (void) req;
  ASSERT_EQ(in_call, 0);
  ASSERT_EQ(status, UV_ECANCELED);
  order[norder++] = 'W';
}

static void connection_refused(void) {
  uv_tcp_t bound, client, client2;
  uv_connect_t req, req2;
  uv_write_t wr;
  uv_buf_t buf = uv_buf_init("lost", 4);
  struct sockaddr_in any;
  struct sockaddr_storage to;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &any));
  ASSERT_OK(uv_tcp_init(&loop, &bound));
  ASSERT_OK(uv_tcp_bind(&bound, SA(&any), 0));
  bound_address(&bound, &to);
  ASSERT_OK(uv_tcp_init(&loop, &client));
  int size = 0;
  ASSERT_EQ(uv_send_buffer_size((uv_handle_t*) &client, &size), UV_EBADF);
  calls = 0;
  in_call = 1;
  ASSERT_OK(uv_tcp_connect(&req, &client, SA(&to), status_connect_cb));
  ASSERT_EQ(uv_tcp_connect(&req2, &client, SA(&to), status_connect_cb), UV_EALREADY);
  in_call = 0;
  ASSERT_EQ(calls, 0);
  uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(calls, 1);
  ASSERT_EQ(last_status, UV_ECONNREFUSED);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &client), 0);
  uv_close((uv_handle_t*) &client, NULL);

  /* A write made while the connect is pending: cancelled after the
   * connect's callback reports the failure. */
  ASSERT_OK(uv_tcp_init(&loop, &client2));
  /* Before the connect there is no socket to write to (libuv's
   * tcp_connect_error_after_write), and an address of no family is
   * refused by the call, no callback (tcp_connect_error_fault). */
  ASSERT_EQ(uv_write(&wr, (uv_stream_t*) &client2, &buf, 1, order_write_cb), UV_EBADF);
  {
    static const _Alignas(struct sockaddr_in6) char garbage[sizeof(struct sockaddr_in6)] =
        "blah blah blah blah";
    ASSERT_EQ(uv_tcp_connect(&req2, &client2, (const struct sockaddr*) garbage,
                             order_connect_cb),
              UV_EINVAL);
  }
  in_call = 1;
  ASSERT_OK(uv_tcp_connect(&req2, &client2, SA(&to), order_connect_cb));
  ASSERT_OK(uv_write(&wr, (uv_stream_t*) &client2, &buf, 1, order_write_cb));
  in_call = 0;
  while (norder < 2)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_MEM_EQ(order, "KW", 2);
  uv_close((uv_handle_t*) &client2, NULL);
  uv_close((uv_handle_t*) &bound, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(norder, 2);
}

static void connection_cb_unused(uv_stream_t* server, int status) {
  (void) server;
  (void) status;
  ASSERT(0);
}

static uv_tcp_t v6_accepted;

static void connection_v6(uv_stream_t* server, int status) {
  ASSERT_OK(status);
  ASSERT_OK(uv_tcp_init(&loop, &v6_accepted));
  ASSERT_OK(uv_accept(server, (uv_stream_t*) &v6_accepted));
}

static void bind_errors(void) {
  uv_tcp_t a, b, c, d, e;
  uv_connect_t req;
  struct sockaddr_in any;
  struct sockaddr_in6 v6;
  struct sockaddr_storage at, got, peer;
  struct sockaddr_un {
    sa_family_t family;
    char path[108];
  } un = {AF_UNIX, "x"};
  int len;
  uv_os_fd_t fd;

  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &any));
  ASSERT_OK(uv_ip6_addr("::1", 0, &v6));
  ASSERT_OK(uv_tcp_init(&loop, &a));
  ASSERT_OK(uv_tcp_bind(&a, SA(&any), 0));
  bound_address(&a, &at);
  ASSERT_OK(uv_listen((uv_stream_t*) &a, 4, connection_cb_unused));
  /* A listener has no peer, and is not readable. */
  len = sizeof(peer);
  ASSERT_EQ(uv_tcp_getpeername(&a, (struct sockaddr*) &peer, &len), UV_ENOTCONN);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &a, alloc_cb, NULL), UV_EINVAL);
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &a), 0);

  ASSERT_OK(uv_tcp_init(&loop, &b));
  ASSERT_OK(uv_tcp_bind(&b, SA(&at), 0));
  ASSERT_EQ(uv_listen((uv_stream_t*) &b, 4, connection_cb_unused), UV_EADDRINUSE);
  len = sizeof(got);
  ASSERT_EQ(uv_tcp_getsockname(&b, (struct sockaddr*) &got, &len), UV_EADDRINUSE);
  calls = 0;
  ASSERT_OK(uv_tcp_connect(&req, &b, SA(&at), status_connect_cb));
  ASSERT_EQ(calls, 0);
  while (calls == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(last_status, UV_EADDRINUSE);

  ASSERT_OK(uv_tcp_init(&loop, &c));
  ASSERT_EQ(uv_tcp_bind(&c, SA(&any), UV_TCP_IPV6ONLY), UV_EINVAL);
  ASSERT_EQ(uv_tcp_bind(&c, SA(&un), 0), UV_EINVAL);
  ASSERT_OK(uv_tcp_bind(&c, SA(&any), 0));
  ASSERT_EQ(uv_tcp_bind(&c, SA(&any), 0), UV_EINVAL);

  ASSERT_EQ(uv_tcp_init_ex(&loop, &d, AF_INET | 0x100), UV_EINVAL);
  ASSERT_OK(uv_tcp_init_ex(&loop, &d, AF_INET6));
  ASSERT_OK(uv_fileno((uv_handle_t*) &d, &fd));
  ASSERT_EQ(uv_guess_handle(fd), UV_TCP);
  ASSERT_OK(uv_tcp_bind(&d, SA(&v6), UV_TCP_IPV6ONLY));
  /* A connection over IPv6. */
  ASSERT_OK(uv_listen((uv_stream_t*) &d, 4, connection_v6));
  bound_address(&d, &at);
  ASSERT_EQ(at.ss_family, AF_INET6);
  ASSERT_OK(uv_tcp_init(&loop, &e));
  calls = 0;
  ASSERT_OK(uv_tcp_connect(&req, &e, SA(&at), status_connect_cb));
  while (calls == 0 || v6_accepted.type != UV_TCP)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_OK(last_status);
  len = sizeof(peer);
  ASSERT_OK(uv_tcp_getpeername(&v6_accepted, (struct sockaddr*) &peer, &len));
  ASSERT_EQ(peer.ss_family, AF_INET6);
  ASSERT_EQ(len, sizeof(struct sockaddr_in6));
  uv_close((uv_handle_t*) &e, NULL);
  uv_close((uv_handle_t*) &v6_accepted, NULL);

  uv_close((uv_handle_t*) &a, NULL);
  uv_close((uv_handle_t*) &b, NULL);
  uv_close((uv_handle_t*) &c, NULL);
  uv_close((uv_handle_t*) &d, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}

/* ---- a connected pair through uv_tcp_open ------------------------------- */

static uv_tcp_t left, right;
static char got_text[64];
static size_t got_len;
static int eofs;
static int errors;
static uv_shutdown_t sreq;
static uv_write_t wreq;
static uv_tcp_t other;

/* A connected pair of TCP sockets on loopback, made with plain sockets. */
static void socket_pair(int fds[2]) {
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(bind(listener, SA(&addr), sizeof(addr)));
  ASSERT_OK(listen(listener, 1));
  ASSERT_OK(getsockname(listener, (struct sockaddr*) &addr, &len));
  fds[0] = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fds[0], 0);
  ASSERT_OK(connect(fds[0], SA(&addr), sizeof(addr)));
  fds[1] = accept(listener, NULL, NULL);
  ASSERT_GE(fds[1], 0);
  close(listener);
}

static void text_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

static void open_pair(void) {
  int fds[2];
  socket_pair(fds);
  ASSERT_OK(uv_tcp_init(&loop, &left));
  ASSERT_OK(uv_tcp_init(&loop, &right));
  ASSERT_OK(uv_tcp_open(&left, fds[0]));
  ASSERT_OK(uv_tcp_open(&right, fds[1]));
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &left), 1);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &left), 1);
  /* The loop watches fds[0] already (libuv: while it reads): the
   * descriptor stays open, the first handle's. */
  ASSERT_OK(uv_read_start((uv_stream_t*) &left, alloc_cb, text_read));
  ASSERT_OK(uv_tcp_init(&loop, &other));
  ASSERT_EQ(uv_tcp_open(&other, fds[0]), UV_EEXIST);
  ASSERT_OK(uv_read_stop((uv_stream_t*) &left));
  uv_close((uv_handle_t*) &other, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  /* Socket buffer sizes: Linux reports twice what was set. */
  int size = 0;
  ASSERT_OK(uv_send_buffer_size((uv_handle_t*) &left, &size));
  ASSERT_GT(size, 0);
  size = 16384;
  ASSERT_OK(uv_send_buffer_size((uv_handle_t*) &left, &size));
  size = 0;
  ASSERT_OK(uv_send_buffer_size((uv_handle_t*) &left, &size));
  ASSERT_EQ(size, 2 * 16384);
  size = 32768;
  ASSERT_OK(uv_recv_buffer_size((uv_handle_t*) &right, &size));
  size = 0;
  ASSERT_OK(uv_recv_buffer_size((uv_handle_t*) &right, &size));
  ASSERT_EQ(size, 2 * 32768);
  ASSERT_OK(uv_tcp_nodelay(&left, 1));
  ASSERT_OK(uv_tcp_keepalive(&left, 1, 60));
  ASSERT_OK(uv_tcp_keepalive(&left, 0, 0));
  ASSERT_OK(uv_tcp_simultaneous_accepts(&left, 1));
}

static void text_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  if (nread == UV_EOF) {
    eofs++;
    ASSERT_EQ(uv_is_readable(stream), 1);
    ASSERT_EQ(uv_is_active((uv_handle_t*) stream), 0);
  } else if (nread < 0) {
    errors++;
    last_status = (int) nread;
  } else {
    ASSERT_LE(got_len + (size_t) nread, sizeof(got_text));
    memcpy(got_text + got_len, buf->base, (size_t) nread);
    got_len += (size_t) nread;
  }
  free(buf->base);
}

static int cancelled_shutdowns;

static void count_shutdown(uv_shutdown_t* req, int status) {
  (void) req;
  if (status == UV_ECANCELED)
    cancelled_shutdowns++;
  else
    ASSERT_OK(status);
  calls++;
}

static void count_write(uv_write_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
  calls++;
}

static uv_shutdown_t sreq2;

static void half_close(void) {
  uv_buf_t hello = uv_buf_init("hello", 5);
  uv_buf_t bye = uv_buf_init("bye", 3);
  open_pair();
  calls = 0;
  eofs = 0;
  got_len = 0;
  ASSERT_OK(uv_write(&wreq, (uv_stream_t*) &left, &hello, 1, count_write));
  ASSERT_OK(uv_shutdown(&sreq, (uv_stream_t*) &left, count_shutdown));
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &left), 0);
  ASSERT_OK(uv_read_start((uv_stream_t*) &right, alloc_cb, text_read));
  while (eofs == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(got_len, 5);
  ASSERT_MEM_EQ(got_text, "hello", 5);
  ASSERT_EQ(calls, 2);
  /* Reading again after the end reports the end again. */
  ASSERT_OK(uv_read_start((uv_stream_t*) &right, alloc_cb, text_read));
  while (eofs == 1)
    uv_run(&loop, UV_RUN_ONCE);
  /* The other direction still works, to its own end. */
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &right), 1);
  ASSERT_OK(uv_write(&wreq, (uv_stream_t*) &right, &bye, 1, count_write));
  ASSERT_OK(uv_shutdown(&sreq2, (uv_stream_t*) &right, count_shutdown));
  got_len = 0;
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &left), 1);
  ASSERT_OK(uv_read_start((uv_stream_t*) &left, alloc_cb, text_read));
  while (eofs == 2)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(got_len, 3);
  ASSERT_MEM_EQ(got_text, "bye", 3);
  uv_close((uv_handle_t*) &left, NULL);
  uv_close((uv_handle_t*) &right, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(calls, 4);
  ASSERT_EQ(errors, 0);
}

static void reset_closed(uv_handle_t* h) {
  ASSERT_PTR_EQ(h, &right);
  calls++;
}

static void close_reset(void) {
  uv_buf_t bye = uv_buf_init("bye", 3);
  open_pair();
  calls = 0;
  got_len = 0;
  ASSERT_OK(uv_write(&wreq, (uv_stream_t*) &right, &bye, 1, count_write));
  ASSERT_OK(uv_read_start((uv_stream_t*) &left, alloc_cb, text_read));
  while (got_len < 3)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_MEM_EQ(got_text, "bye", 3);
  ASSERT_OK(uv_tcp_close_reset(&right, reset_closed));
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &right), 1);
  while (errors == 0 || calls < 2)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(last_status, UV_ECONNRESET);
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &left), 0);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &left), 0);
  ASSERT_EQ(uv_write(&wreq, (uv_stream_t*) &left, &bye, 1, count_write), UV_EPIPE);
  uv_close((uv_handle_t*) &left, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  /* Not while a shutdown is pending: the handle is then not closed. */
  open_pair();
  calls = 0;
  ASSERT_OK(uv_shutdown(&sreq, (uv_stream_t*) &right, count_shutdown));
  ASSERT_EQ(uv_tcp_close_reset(&right, reset_closed), UV_EINVAL);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &right), 0);
  uv_close((uv_handle_t*) &left, NULL);
  uv_close((uv_handle_t*) &right, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(cancelled_shutdowns, 1);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  connection_refused();
  bind_errors();
  half_close();
  close_reset();
  ASSERT_OK(uv_loop_close(&loop));
  return 0;
}
