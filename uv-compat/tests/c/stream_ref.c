/* stream_ref.c: what keeps a loop alive with streams, delayed accept,
 * listening twice, and a ping-pong over a socket pair.
 *
 * Covers:
 * - an initialized TCP or pipe handle (referenced or not) keeps nothing
 *   alive; a listener does, and not once unreferenced; a reading stream
 *   likewise;
 * - requests keep the loop alive even on an unreferenced handle: a connect
 *   (its callback runs), then a shutdown made in it (its callback runs),
 *   and a pipe connect that fails (UV_ENOENT in the callback);
 * - uv_listen twice on one handle is 0 both times;
 * - delayed accept: a connection callback that does not accept; the
 *   connection is accepted later from a timer, and the second client's
 *   connection is reported after that, accepted the same way;
 * - a ping-pong of ROUNDS messages over uv_socketpair ends opened as pipe
 *   handles, each message echoed back, the bytes counted exactly;
 * - close callbacks of a client, its accepted peer and the listener run in
 *   the reverse order of their uv_close calls, none inside uv_close.
 */
#include <uv.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define ROUNDS 300

static uv_loop_t loop;
static int connects;
static int shutdowns;
static int connections;
static int accepted;
static int last_status;

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void) handle;
  buf->base = malloc(suggested);
  buf->len = suggested;
}

static void never_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void) s;
  (void) nread;
  free(buf->base);
}

static void connection_ignored(uv_stream_t* srv, int status) {
  (void) srv;
  ASSERT_OK(status);
}

static void shutdown_cb(uv_shutdown_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
  shutdowns++;
}

static uv_shutdown_t shutdown_req;

static void connect_then_shutdown(uv_connect_t* req, int status) {
  ASSERT_OK(status);
  connects++;
  ASSERT_OK(uv_shutdown(&shutdown_req, req->handle, shutdown_cb));
}

static void status_connect_cb(uv_connect_t* req, int status) {
  (void) req;
  last_status = status;
  connects++;
}

static void listen_on(uv_tcp_t* server, struct sockaddr_storage* bound, uv_connection_cb cb) {
  struct sockaddr_in addr;
  int len = sizeof(*bound);
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_tcp_init(&loop, server));
  ASSERT_OK(uv_tcp_bind(server, SA(&addr), 0));
  ASSERT_OK(uv_tcp_getsockname(server, (struct sockaddr*) bound, &len));
  ASSERT_OK(uv_listen((uv_stream_t*) server, 8, cb));
}

static void refs(void) {
  uv_tcp_t tcp, server, client;
  uv_pipe_t pipe;
  uv_connect_t req;
  struct sockaddr_storage bound;

  ASSERT_OK(uv_tcp_init(&loop, &tcp));
  ASSERT_OK(uv_pipe_init(&loop, &pipe, 0));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  uv_unref((uv_handle_t*) &tcp);
  ASSERT_EQ(uv_has_ref((uv_handle_t*) &tcp), 0);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  listen_on(&server, &bound, connection_ignored);
  ASSERT_OK(uv_listen((uv_stream_t*) &server, 8, connection_ignored));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &server), 1);
  ASSERT_EQ(uv_loop_alive(&loop), 1);
  uv_unref((uv_handle_t*) &server);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  /* Requests keep it alive, even on an unreferenced handle. */
  ASSERT_OK(uv_tcp_init(&loop, &client));
  ASSERT_OK(uv_tcp_connect(&req, &client, SA(&bound), connect_then_shutdown));
  uv_unref((uv_handle_t*) &client);
  ASSERT_EQ(uv_loop_alive(&loop), 1);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(connects, 1);
  ASSERT_EQ(shutdowns, 1);

  /* A reading stream: alive, and not once unreferenced. */
  ASSERT_OK(uv_read_start((uv_stream_t*) &client, alloc_cb, never_read));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &client), 1);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  uv_ref((uv_handle_t*) &client);
  ASSERT_EQ(uv_loop_alive(&loop), 1);
  ASSERT_OK(uv_read_stop((uv_stream_t*) &client));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &client), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);

  connects = 0;
  uv_unref((uv_handle_t*) &pipe);
  uv_pipe_connect(&req, &pipe, "/nonexistent-uvc-dir/sock", status_connect_cb);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(connects, 1);
  ASSERT_EQ(last_status, UV_ENOENT);

  uv_close((uv_handle_t*) &tcp, NULL);
  uv_close((uv_handle_t*) &pipe, NULL);
  uv_close((uv_handle_t*) &server, NULL);
  uv_close((uv_handle_t*) &client, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}

/* ---- delayed accept -------------------------------------------------------- */

static uv_tcp_t dserver;
static uv_tcp_t dclients[2];
static uv_tcp_t daccepted[2];
static uv_connect_t dreqs[2];
static uv_timer_t timers[2];

static void accept_later(uv_timer_t* t) {
  uv_tcp_t* into = &daccepted[accepted];
  ASSERT_OK(uv_tcp_init(&loop, into));
  ASSERT_OK(uv_accept((uv_stream_t*) &dserver, (uv_stream_t*) into));
  accepted++;
  uv_close((uv_handle_t*) t, NULL);
}

static void connection_later(uv_stream_t* srv, int status) {
  ASSERT_PTR_EQ(srv, &dserver);
  ASSERT_OK(status);
  connections++;
  /* One reported connection at a time: the previous one was accepted. */
  ASSERT_EQ(connections, accepted + 1);
  ASSERT_OK(uv_timer_init(&loop, &timers[connections - 1]));
  ASSERT_OK(uv_timer_start(&timers[connections - 1], accept_later, 1, 0));
}

static void delayed_accept(void) {
  struct sockaddr_storage bound;
  listen_on(&dserver, &bound, connection_later);
  connects = 0;
  for (int i = 0; i < 2; i++) {
    ASSERT_OK(uv_tcp_init(&loop, &dclients[i]));
    ASSERT_OK(uv_tcp_connect(&dreqs[i], &dclients[i], SA(&bound), status_connect_cb));
  }
  while (accepted < 2)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(connections, 2);
  for (int i = 0; i < 2; i++) {
    uv_close((uv_handle_t*) &dclients[i], NULL);
    uv_close((uv_handle_t*) &daccepted[i], NULL);
  }
  uv_close((uv_handle_t*) &dserver, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(connects, 2);
}

/* ---- ping-pong over a socket pair -------------------------------------------- */

typedef struct {
  uv_pipe_t pipe;
  size_t seen; /* bytes of the current message */
  int messages;
} end_t;

static end_t ends[2];
static const char msg[] = "0123456789abcdef";

static void echo_write_cb(uv_write_t* req, int status) {
  ASSERT_OK(status);
  free(req);
}

static void send_msg(end_t* e) {
  uv_write_t* req = malloc(sizeof(*req));
  uv_buf_t buf = uv_buf_init((char*) msg, sizeof(msg) - 1);
  ASSERT_OK(uv_write(req, (uv_stream_t*) &e->pipe, &buf, 1, echo_write_cb));
}

static void pp_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  end_t* e = (end_t*) s;
  ASSERT_GE(nread, 0);
  for (ssize_t i = 0; i < nread; i++) {
    ASSERT_EQ(buf->base[i], msg[e->seen]);
    if (++e->seen == sizeof(msg) - 1) {
      e->seen = 0;
      e->messages++;
      if (e == &ends[1] || e->messages < ROUNDS)
        send_msg(e);
    }
  }
  free(buf->base);
  if (ends[0].messages == ROUNDS) {
    uv_close((uv_handle_t*) &ends[0].pipe, NULL);
    uv_close((uv_handle_t*) &ends[1].pipe, NULL);
  }
}

static void socketpair_ping_pong(void) {
  uv_os_sock_t fds[2];
  ASSERT_OK(uv_socketpair(SOCK_STREAM, 0, fds, UV_NONBLOCK_PIPE, UV_NONBLOCK_PIPE));
  for (int i = 0; i < 2; i++) {
    ASSERT_OK(uv_pipe_init(&loop, &ends[i].pipe, 0));
    ASSERT_OK(uv_pipe_open(&ends[i].pipe, fds[i]));
    ASSERT_OK(uv_read_start((uv_stream_t*) &ends[i].pipe, alloc_cb, pp_read));
  }
  send_msg(&ends[0]);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(ends[0].messages, ROUNDS);
  ASSERT_EQ(ends[1].messages, ROUNDS);
}

/* ---- close order across streams ---------------------------------------------- */

static uv_tcp_t order_server, order_client, order_accepted;
static uv_connect_t order_req;
static char closed_order[4];
static int nclosed;

static void order_closed(uv_handle_t* h) {
  char c = h == (uv_handle_t*) &order_server ? 's'
         : h == (uv_handle_t*) &order_client ? 'c'
                                             : 'a';
  closed_order[nclosed++] = c;
}

static void order_connection(uv_stream_t* srv, int status) {
  ASSERT_OK(status);
  ASSERT_OK(uv_tcp_init(&loop, &order_accepted));
  ASSERT_OK(uv_accept(srv, (uv_stream_t*) &order_accepted));
  accepted++;
}

static void close_order(void) {
  struct sockaddr_storage bound;
  listen_on(&order_server, &bound, order_connection);
  ASSERT_OK(uv_tcp_init(&loop, &order_client));
  connects = 0;
  accepted = 0;
  ASSERT_OK(uv_tcp_connect(&order_req, &order_client, SA(&bound), status_connect_cb));
  while (connects == 0 || accepted == 0)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t*) &order_client, order_closed);
  uv_close((uv_handle_t*) &order_accepted, order_closed);
  uv_close((uv_handle_t*) &order_server, order_closed);
  ASSERT_EQ(nclosed, 0);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(nclosed, 3);
  ASSERT_MEM_EQ(closed_order, "sac", 3);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  refs();
  delayed_accept();
  socketpair_ping_pong();
  close_order();
  ASSERT_OK(uv_loop_close(&loop));
  return 0;
}
