/* libuv_stream_cases.c: the stream (TCP and pipe) behaviours libuv's own
 * test suite checks, restated in our words. Each function names the libuv
 * tests it pins.
 *
 * Covers:
 * - listening without a connection callback: uv_listen(NULL) succeeds on
 *   a bound TCP handle, an unbound one (bound to an ephemeral port) and a
 *   bound pipe; a second TCP handle bound to the same address is
 *   UV_EADDRINUSE at listen, a pipe whose bind failed UV_EINVAL; a
 *   listener is neither readable nor writable: uv_write UV_EPIPE,
 *   uv_shutdown and uv_read_start UV_ENOTCONN;
 * - reading started in the connect callback: no alloc_cb or read_cb until
 *   the peer sends (no empty read), then the data;
 * - uv_tcp_open adopts the ends of a Unix uv_socketpair (any stream
 *   socket): PING goes one way and PONG the other;
 * - a poll handle on the socket of an accepted connection that does not
 *   read: uv_poll_init_socket succeeds, the poll callback reports the
 *   peer's data (read by hand); once the poll handle is closed the
 *   connection reads what follows.
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))

static uv_loop_t loop;
static int closes;

static void count_close(uv_handle_t* h) {
  ASSERT_NOT_NULL(h);
  closes++;
}

static void never_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  (void) size;
  (void) buf;
  ASSERT(0 && "alloc_cb called");
}

static void never_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void) s;
  (void) nread;
  (void) buf;
  ASSERT(0 && "read_cb called");
}

/* tcp_listen_without_bind, tcp_bind_error_addrinuse_listen,
 * tcp_bind6_error_addrinuse, tcp_bind_writable_flags, tcp_open_bound,
 * pipe_bind_error_addrinuse, tcp_bind_or_listen_error_after_close. */
static void listen_without_callback(void) {
  uv_tcp_t unbound, first, second, closed;
  uv_pipe_t pipe1, pipe2;
  struct sockaddr_in any, bound;
  int len = sizeof(bound);
  char path[64];
  uv_write_t wreq;
  uv_shutdown_t sreq;
  uv_buf_t buf = uv_buf_init("PING", 4);

  ASSERT_OK(uv_loop_init(&loop));
  closes = 0;

  ASSERT_OK(uv_tcp_init(&loop, &unbound));
  ASSERT_OK(uv_listen((uv_stream_t*) &unbound, 16, NULL));

  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &any));
  ASSERT_OK(uv_tcp_init(&loop, &first));
  ASSERT_OK(uv_tcp_bind(&first, SA(&any), 0));
  ASSERT_OK(uv_listen((uv_stream_t*) &first, 16, NULL));
  ASSERT_OK(uv_tcp_getsockname(&first, (struct sockaddr*) &bound, &len));
  ASSERT_OK(uv_tcp_init(&loop, &second));
  ASSERT_OK(uv_tcp_bind(&second, SA(&bound), 0));
  ASSERT_EQ(uv_listen((uv_stream_t*) &second, 16, NULL), UV_EADDRINUSE);

  /* A listener carries no data. */
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &first), 0);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &first), 0);
  ASSERT_EQ(uv_write(&wreq, (uv_stream_t*) &first, &buf, 1, NULL), UV_EPIPE);
  ASSERT_EQ(uv_shutdown(&sreq, (uv_stream_t*) &first, NULL), UV_ENOTCONN);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &first, never_alloc, never_read), UV_ENOTCONN);

  snprintf(path, sizeof(path), "/tmp/uvc-stream-cases-%d", (int) getpid());
  unlink(path);
  ASSERT_OK(uv_pipe_init(&loop, &pipe1, 0));
  ASSERT_OK(uv_pipe_bind(&pipe1, path));
  ASSERT_OK(uv_pipe_init(&loop, &pipe2, 0));
  ASSERT_EQ(uv_pipe_bind(&pipe2, path), UV_EADDRINUSE);
  ASSERT_OK(uv_listen((uv_stream_t*) &pipe1, SOMAXCONN, NULL));
  ASSERT_EQ(uv_listen((uv_stream_t*) &pipe2, SOMAXCONN, NULL), UV_EINVAL);

  uv_close((uv_handle_t*) &unbound, count_close);
  uv_close((uv_handle_t*) &first, count_close);
  uv_close((uv_handle_t*) &second, count_close);
  uv_close((uv_handle_t*) &pipe1, count_close);
  uv_close((uv_handle_t*) &pipe2, count_close);
  /* tcp_bind_or_listen_error_after_close: a closing handle (never bound)
   * neither binds nor listens. */
  ASSERT_OK(uv_tcp_init(&loop, &closed));
  uv_close((uv_handle_t*) &closed, count_close);
  ASSERT_EQ(uv_tcp_bind(&closed, SA(&any), 0), UV_EINVAL);
  ASSERT_EQ(uv_listen((uv_stream_t*) &closed, 16, NULL), UV_EINVAL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(closes, 6);
  ASSERT_OK(uv_loop_close(&loop));
  unlink(path);
}

/* ---- reading from the connect callback ---------------------------------- */

static uv_tcp_t server, client, conn;
static uv_connect_t creq;
static int accepted, connected, allocs;
static char got[16];
static ssize_t got_len;
static char slab[16];

static void accept_one(uv_stream_t* srv, int status) {
  ASSERT_OK(status);
  ASSERT_OK(uv_tcp_init(&loop, &conn));
  ASSERT_OK(uv_accept(srv, (uv_stream_t*) &conn));
  accepted = 1;
}

static void slab_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  (void) h;
  (void) size;
  allocs++;
  buf->base = slab;
  buf->len = sizeof(slab);
}

static void keep_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void) s;
  ASSERT_GT(nread, 0);
  memcpy(got + got_len, buf->base, (size_t) nread);
  got_len += nread;
}

static void read_from_connect_cb(uv_connect_t* req, int status) {
  ASSERT_OK(status);
  ASSERT_OK(uv_read_start(req->handle, slab_alloc, keep_read));
  connected = 1;
}

/* tcp_read_stop, tcp_open, tcp_close_after_read_timeout,
 * not_readable_nor_writable_on_read_error: their read callbacks fail on an
 * empty read. */
static void read_from_connect(void) {
  struct sockaddr_in addr;
  int len = sizeof(addr);
  uv_write_t wreq;
  uv_buf_t buf = uv_buf_init("hi", 2);
  int i;

  ASSERT_OK(uv_loop_init(&loop));
  closes = 0;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_tcp_init(&loop, &server));
  ASSERT_OK(uv_tcp_bind(&server, SA(&addr), 0));
  ASSERT_OK(uv_listen((uv_stream_t*) &server, 16, accept_one));
  ASSERT_OK(uv_tcp_getsockname(&server, (struct sockaddr*) &addr, &len));
  ASSERT_OK(uv_tcp_init(&loop, &client));
  ASSERT_OK(uv_tcp_connect(&creq, &client, SA(&addr), read_from_connect_cb));
  while (!accepted || !connected)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  /* Nothing was sent: a few more iterations read nothing. */
  for (i = 0; i < 4; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(allocs, 0);

  ASSERT_OK(uv_write(&wreq, (uv_stream_t*) &conn, &buf, 1, NULL));
  while (got_len < 2)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  ASSERT_EQ(allocs, 1);
  ASSERT_MEM_EQ(got, "hi", 2);

  uv_close((uv_handle_t*) &server, count_close);
  uv_close((uv_handle_t*) &client, count_close);
  uv_close((uv_handle_t*) &conn, count_close);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(closes, 3);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- TCP handles over a socketpair --------------------------------------- */

static uv_tcp_t left, right;
static char heard[2][8];
static size_t heard_len[2];

static void hear(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  int side = s == (uv_stream_t*) &right;
  ASSERT_GT(nread, 0);
  ASSERT_LE(heard_len[side] + (size_t) nread, sizeof(heard[side]));
  memcpy(heard[side] + heard_len[side], buf->base, (size_t) nread);
  heard_len[side] += (size_t) nread;
}

/* tcp_ping_pong and tcp_ping_pong_vec (their socketpair part). */
static void tcp_over_socketpair(void) {
  uv_os_sock_t fds[2];
  uv_write_t w1, w2;
  uv_buf_t ping = uv_buf_init("PING", 4), pong = uv_buf_init("PONG", 4);

  ASSERT_OK(uv_loop_init(&loop));
  closes = 0;
  ASSERT_OK(uv_socketpair(SOCK_STREAM, 0, fds, UV_NONBLOCK_PIPE, UV_NONBLOCK_PIPE));
  ASSERT_OK(uv_tcp_init(&loop, &left));
  ASSERT_OK(uv_tcp_open(&left, fds[0]));
  ASSERT_OK(uv_tcp_init(&loop, &right));
  ASSERT_OK(uv_tcp_open(&right, fds[1]));
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &left), 1);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &right), 1);
  ASSERT_OK(uv_read_start((uv_stream_t*) &left, slab_alloc, hear));
  ASSERT_OK(uv_read_start((uv_stream_t*) &right, slab_alloc, hear));
  ASSERT_OK(uv_write(&w1, (uv_stream_t*) &left, &ping, 1, NULL));
  ASSERT_OK(uv_write(&w2, (uv_stream_t*) &right, &pong, 1, NULL));
  while (heard_len[0] < 4 || heard_len[1] < 4)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  ASSERT_MEM_EQ(heard[1], "PING", 4);
  ASSERT_MEM_EQ(heard[0], "PONG", 4);

  uv_close((uv_handle_t*) &left, count_close);
  uv_close((uv_handle_t*) &right, count_close);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(closes, 2);
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- polling an idle connection's socket ------------------------------- */

static uv_poll_t poller;
static char polled[8];
static int polled_len;

static void poll_read(uv_poll_t* p, int status, int events) {
  uv_os_fd_t fd;
  ssize_t n;
  ASSERT_OK(status);
  ASSERT(events & UV_READABLE);
  ASSERT_OK(uv_fileno((uv_handle_t*) p, &fd));
  n = recv(fd, polled, sizeof(polled), 0);
  ASSERT_GT(n, 0);
  polled_len = (int) n;
  ASSERT_OK(uv_poll_stop(p));
}

/* poll_oob: it polls the socket of an accepted connection. */
static void poll_idle_connection(void) {
  struct sockaddr_in addr;
  int len = sizeof(addr);
  uv_os_fd_t fd;
  uv_write_t w1, w2;
  uv_buf_t first = uv_buf_init("x", 1), second = uv_buf_init("y", 1);

  ASSERT_OK(uv_loop_init(&loop));
  closes = 0;
  accepted = connected = allocs = 0;
  got_len = 0;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_tcp_init(&loop, &server));
  ASSERT_OK(uv_tcp_bind(&server, SA(&addr), 0));
  ASSERT_OK(uv_listen((uv_stream_t*) &server, 16, accept_one));
  ASSERT_OK(uv_tcp_getsockname(&server, (struct sockaddr*) &addr, &len));
  ASSERT_OK(uv_tcp_init(&loop, &client));
  ASSERT_OK(uv_tcp_connect(&creq, &client, SA(&addr), NULL));
  while (!accepted)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);

  ASSERT_OK(uv_fileno((uv_handle_t*) &conn, &fd));
  ASSERT_OK(uv_poll_init_socket(&loop, &poller, fd));
  ASSERT_OK(uv_poll_start(&poller, UV_READABLE, poll_read));
  ASSERT_OK(uv_write(&w1, (uv_stream_t*) &client, &first, 1, NULL));
  while (polled_len == 0)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  ASSERT_MEM_EQ(polled, "x", 1);
  uv_close((uv_handle_t*) &poller, count_close);

  ASSERT_OK(uv_read_start((uv_stream_t*) &conn, slab_alloc, keep_read));
  ASSERT_OK(uv_write(&w2, (uv_stream_t*) &client, &second, 1, NULL));
  while (got_len < 1)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  ASSERT_MEM_EQ(got, "y", 1);

  uv_close((uv_handle_t*) &server, count_close);
  uv_close((uv_handle_t*) &client, count_close);
  uv_close((uv_handle_t*) &conn, count_close);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(closes, 4);
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  listen_without_callback();
  read_from_connect();
  tcp_over_socketpair();
  poll_idle_connection();
  return 0;
}
