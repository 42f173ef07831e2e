/* tcp_ping_pong.c: a TCP server and client on loopback trading messages.
 *
 * Covers: uv_tcp_bind to 127.0.0.1:0 and uv_tcp_getsockname for the port;
 * uv_listen's connection callback with status 0 and one uv_accept per
 * call (a second one in the same callback is UV_EAGAIN); uv_tcp_connect's
 * callback with 0, never from inside the call (nor a write's or a
 * shutdown's); the peer names on both sides (each one's getpeername is
 * the other's getsockname); PINGS rounds of "PING" / "PONG" read through
 * alloc_cb + read_cb (buffers handed back, nread 0 allowed, the bytes
 * exact across however the kernel splits them); uv_read_start twice is
 * UV_EALREADY; uv_is_readable/uv_is_writable; write requests with their
 * type, handle and cb fields; uv_fileno, uv_handle_type_name and
 * uv_handle_get_type for a TCP handle, uv_walk listing the streams; a
 * connecting handle is not active but keeps the loop alive;
 * the client shuts down after the last pong, the server sees UV_EOF (its
 * buffer handed back) and closes, the client sees UV_EOF and closes.
 */
#include <uv.h>

#include <stdlib.h>
#include <string.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define PINGS 500

static uv_loop_t loop;
static uv_tcp_t server;
static uv_tcp_t accepted;
static uv_tcp_t client;
static uv_tcp_t extra;
static uv_connect_t connect_req;
static uv_shutdown_t shutdown_req;
static int in_call; /* set while a uv_* call that takes a callback runs */
static int connections;
static int connected;
static int pongs;          /* full "PONG"s the client read */
static int pings;          /* full "PING"s the server read */
static size_t client_seen; /* bytes of the current pong received */
static size_t server_seen;
static int server_eof;
static int client_eof;
static int shutdown_done;
static int closed;
static int writes_done;

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void) handle;
  ASSERT_EQ(suggested, 65536);
  buf->base = malloc(suggested);
  ASSERT_NOT_NULL(buf->base);
  buf->len = suggested;
}

static void close_cb(uv_handle_t* handle) {
  (void) handle;
  closed++;
}

static void write_cb(uv_write_t* req, int status) {
  ASSERT_EQ(in_call, 0);
  ASSERT_OK(status);
  ASSERT_EQ(req->type, UV_WRITE);
  ASSERT_PTR_EQ(req->cb, write_cb);
  ASSERT(req->handle == (uv_stream_t*) &client || req->handle == (uv_stream_t*) &accepted);
  writes_done++;
  free(req);
}

static void send_text(uv_stream_t* stream, const char* text) {
  uv_write_t* req = malloc(sizeof(*req));
  uv_buf_t buf = uv_buf_init((char*) text, 4);
  ASSERT_NOT_NULL(req);
  in_call = 1;
  ASSERT_OK(uv_write(req, stream, &buf, 1, write_cb));
  in_call = 0;
  ASSERT_EQ(req->type, UV_WRITE);
  ASSERT_PTR_EQ(req->handle, stream);
}

/* Counts whole 4-byte messages in a byte stream split any which way. */
static int count_messages(const char* want, size_t* seen, const char* data, ssize_t n) {
  int whole = 0;
  for (ssize_t i = 0; i < n; i++) {
    ASSERT_EQ(data[i], want[*seen]);
    if (++*seen == 4) {
      *seen = 0;
      whole++;
    }
  }
  return whole;
}

static void server_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  ASSERT_PTR_EQ(stream, &accepted);
  if (nread == UV_EOF) {
    ASSERT_EQ(pings, PINGS);
    ASSERT_EQ(server_seen, 0);
    server_eof++;
    /* Still writable after the peer's end (half-close). */
    ASSERT_EQ(uv_is_writable(stream), 1);
    free(buf->base);
    uv_close((uv_handle_t*) stream, close_cb);
    return;
  }
  ASSERT_GE(nread, 0);
  int got = count_messages("PING", &server_seen, buf->base, nread);
  free(buf->base);
  for (int i = 0; i < got; i++) {
    pings++;
    send_text(stream, "PONG");
  }
}

static void shutdown_cb(uv_shutdown_t* req, int status) {
  ASSERT_EQ(in_call, 0);
  ASSERT_PTR_EQ(req, &shutdown_req);
  ASSERT_EQ(req->type, UV_SHUTDOWN);
  ASSERT_PTR_EQ(req->handle, &client);
  ASSERT_OK(status);
  shutdown_done++;
}

static void client_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  ASSERT_PTR_EQ(stream, &client);
  if (nread == UV_EOF) {
    ASSERT_EQ(shutdown_done, 1);
    client_eof++;
    free(buf->base);
    uv_close((uv_handle_t*) stream, close_cb);
    return;
  }
  ASSERT_GE(nread, 0);
  int got = count_messages("PONG", &client_seen, buf->base, nread);
  free(buf->base);
  for (int i = 0; i < got; i++) {
    pongs++;
    if (pongs < PINGS) {
      send_text(stream, "PING");
    } else {
      in_call = 1;
      ASSERT_OK(uv_shutdown(&shutdown_req, stream, shutdown_cb));
      in_call = 0;
      ASSERT_EQ(uv_is_writable(stream), 0);
      ASSERT_EQ(uv_is_readable(stream), 1);
    }
  }
}

static void same_address(const struct sockaddr_storage* a, const struct sockaddr_storage* b) {
  const struct sockaddr_in* x = (const struct sockaddr_in*) a;
  const struct sockaddr_in* y = (const struct sockaddr_in*) b;
  ASSERT_EQ(x->sin_family, AF_INET);
  ASSERT_EQ(y->sin_family, AF_INET);
  ASSERT_EQ(x->sin_port, y->sin_port);
  ASSERT_EQ(x->sin_addr.s_addr, y->sin_addr.s_addr);
}

static void check_names(void) {
  struct sockaddr_storage cs, cp, as, ap;
  int len = sizeof(cs);
  ASSERT_OK(uv_tcp_getsockname(&client, (struct sockaddr*) &cs, &len));
  ASSERT_EQ(len, sizeof(struct sockaddr_in));
  len = sizeof(cp);
  ASSERT_OK(uv_tcp_getpeername(&client, (struct sockaddr*) &cp, &len));
  len = sizeof(as);
  ASSERT_OK(uv_tcp_getsockname(&accepted, (struct sockaddr*) &as, &len));
  len = sizeof(ap);
  ASSERT_OK(uv_tcp_getpeername(&accepted, (struct sockaddr*) &ap, &len));
  same_address(&cs, &ap);
  same_address(&cp, &as);
}

static void connection_cb(uv_stream_t* srv, int status) {
  ASSERT_EQ(in_call, 0);
  ASSERT_PTR_EQ(srv, &server);
  ASSERT_OK(status);
  connections++;
  ASSERT_OK(uv_tcp_init(&loop, &accepted));
  ASSERT_OK(uv_accept(srv, (uv_stream_t*) &accepted));
  ASSERT_OK(uv_tcp_init(&loop, &extra));
  ASSERT_EQ(uv_accept(srv, (uv_stream_t*) &extra), UV_EAGAIN);
  uv_close((uv_handle_t*) &extra, close_cb);
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &accepted), 1);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &accepted), 1);
  ASSERT_OK(uv_read_start((uv_stream_t*) &accepted, alloc_cb, server_read));
  ASSERT_EQ(uv_read_start((uv_stream_t*) &accepted, alloc_cb, server_read), UV_EALREADY);
  uv_close((uv_handle_t*) srv, close_cb);
}

static void connect_cb(uv_connect_t* req, int status) {
  ASSERT_EQ(in_call, 0);
  ASSERT_PTR_EQ(req, &connect_req);
  ASSERT_EQ(req->type, UV_CONNECT);
  ASSERT_PTR_EQ(req->handle, &client);
  ASSERT_OK(status);
  connected++;
  ASSERT_EQ(uv_is_readable(req->handle), 1);
  ASSERT_EQ(uv_is_writable(req->handle), 1);
  ASSERT_OK(uv_read_start(req->handle, alloc_cb, client_read));
  send_text(req->handle, "PING");
}

static int walked;

static void walk_cb(uv_handle_t* handle, void* arg) {
  (void) arg;
  ASSERT_EQ(handle->type, UV_TCP);
  walked++;
}

int main(void) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  uv_os_fd_t fd;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_tcp_init(&loop, &server));
  ASSERT_EQ(uv_handle_get_type((uv_handle_t*) &server), UV_TCP);
  ASSERT_STR_EQ(uv_handle_type_name(UV_TCP), "tcp");
  ASSERT_EQ(uv_handle_size(UV_TCP), sizeof(uv_tcp_t));
  /* No socket yet. */
  ASSERT_EQ(uv_fileno((uv_handle_t*) &server, &fd), UV_EBADF);
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &server), 0);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &server), 0);
  ASSERT_OK(uv_tcp_bind(&server, SA(&addr), 0));
  ASSERT_OK(uv_fileno((uv_handle_t*) &server, &fd));
  ASSERT_GE(fd, 0);
  ASSERT_OK(uv_tcp_getsockname(&server, (struct sockaddr*) &bound, &len));
  ASSERT_NE(((struct sockaddr_in*) &bound)->sin_port, 0);
  in_call = 1;
  ASSERT_OK(uv_listen((uv_stream_t*) &server, 16, connection_cb));
  in_call = 0;
  ASSERT_EQ(uv_is_active((uv_handle_t*) &server), 1);

  ASSERT_OK(uv_tcp_init(&loop, &client));
  in_call = 1;
  ASSERT_OK(uv_tcp_connect(&connect_req, &client, SA(&bound), connect_cb));
  in_call = 0;
  ASSERT_EQ(connected, 0);
  /* A connect is a request: the loop lives on by it, the handle is not
   * active (only reading and listening make a stream active). */
  ASSERT_EQ(uv_is_active((uv_handle_t*) &client), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 1);
  uv_walk(&loop, walk_cb, NULL);
  ASSERT_EQ(walked, 2);

  /* Run until both sides are connected, to compare the names. */
  while (connections == 0 || connected == 0)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  check_names();

  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(connections, 1);
  ASSERT_EQ(pings, PINGS);
  ASSERT_EQ(pongs, PINGS);
  ASSERT_EQ(writes_done, 2 * PINGS);
  ASSERT_EQ(server_eof, 1);
  ASSERT_EQ(client_eof, 1);
  ASSERT_EQ(shutdown_done, 1);
  ASSERT_EQ(closed, 4);
  ASSERT_OK(uv_loop_close(&loop));
  return 0;
}
