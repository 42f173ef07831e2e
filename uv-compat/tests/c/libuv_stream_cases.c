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
 *   uv_shutdown and uv_read_start UV_ENOTCONN.
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
 * pipe_bind_error_addrinuse. */
static void listen_without_callback(void) {
  uv_tcp_t unbound, first, second;
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
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(closes, 5);
  ASSERT_OK(uv_loop_close(&loop));
  unlink(path);
}

int main(void) {
  listen_without_callback();
  return 0;
}
