/* tcp_write_queue.c: what happens to writes that must wait, and to the
 * requests a close finds outstanding.
 *
 * Covers:
 * - writealot: TOTAL bytes as WRITES writes of many buffers each, made at
 *   once, then a shutdown; the peer reads every byte in order, then UV_EOF;
 *   each write callback runs once, with 0, in the order the writes were
 *   made, after the write and before the shutdown's callback;
 *   write_queue_size (field and getter) is the bytes of the writes whose
 *   callback has not run (libuv: the bytes not written yet), 0 after the
 *   last;
 * - uv_try_write on a connected stream returns what the kernel took, and
 *   UV_EAGAIN once it is full; a uv_write made then waits;
 * - close with work outstanding: the socket choked (the peer does not
 *   read), QUEUED writes waiting and a shutdown behind them, uv_close: each
 *   write callback with UV_ECANCELED in the order made, then the shutdown
 *   callback with UV_ECANCELED, then the close callback — all in the loop,
 *   none inside uv_close; a write after uv_shutdown is UV_EPIPE and a second
 *   uv_shutdown UV_ENOTCONN;
 * - close while connecting: the connect callback gets UV_ECANCELED before
 *   the close callback, and a write queued behind the connect UV_ECANCELED
 *   after it;
 * - writes and a shutdown made before the connect completes: the connect
 *   callback first, then the writes (0, in order), the bytes in order at
 *   the peer, then the shutdown and the peer's UV_EOF.
 */
#include <uv.h>

#include <stdlib.h>
#include <string.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define WRITES 64
#define BUFS_PER_WRITE 20
#define CHUNK 1024
#define TOTAL (WRITES * BUFS_PER_WRITE * CHUNK)
#define QUEUED 8

static uv_loop_t loop;
static uv_tcp_t server;
static uv_tcp_t peer;   /* the accepted side */
static uv_tcp_t client;
static uv_connect_t connect_req;
static uv_shutdown_t shutdown_req;
static uv_write_t writes[WRITES];
static char* data;
static size_t received;
static int eof;
static char log_[256];
static int nlog;
static int in_call;

static void note(char c) {
  ASSERT_LT(nlog, (int) sizeof(log_) - 1);
  log_[nlog++] = c;
}

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void) handle;
  buf->base = malloc(suggested);
  buf->len = suggested;
}

static void close_cb(uv_handle_t* handle) {
  (void) handle;
  note('C');
}

/* ---- writealot ---------------------------------------------------------- */

static int next_write;

static void writealot_write_cb(uv_write_t* req, int status) {
  ASSERT_EQ(in_call, 0);
  ASSERT_OK(status);
  ASSERT_PTR_EQ(req, &writes[next_write]);
  next_write++;
  size_t left = (size_t) (WRITES - next_write) * BUFS_PER_WRITE * CHUNK;
  /* libuv counts the bytes not written yet, uv-compat the bytes of the
   * writes whose callback has not run. */
  ASSERT_LE(client.write_queue_size, left);
  if (on_uv_compat())
    ASSERT_EQ(client.write_queue_size, left);
  ASSERT_EQ(uv_stream_get_write_queue_size((uv_stream_t*) &client), client.write_queue_size);
}

static void writealot_shutdown_cb(uv_shutdown_t* req, int status) {
  ASSERT_PTR_EQ(req, &shutdown_req);
  ASSERT_OK(status);
  ASSERT_EQ(next_write, WRITES);
  note('S');
}

static void writealot_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  if (nread == UV_EOF) {
    eof++;
    free(buf->base);
    uv_close((uv_handle_t*) stream, NULL);
    uv_close((uv_handle_t*) &client, NULL);
    return;
  }
  ASSERT_GE(nread, 0);
  ASSERT_LE(received + (size_t) nread, TOTAL);
  ASSERT_MEM_EQ(buf->base, data + received, (size_t) nread);
  received += (size_t) nread;
  free(buf->base);
}

static void writealot_connect_cb(uv_connect_t* req, int status) {
  uv_buf_t bufs[BUFS_PER_WRITE];
  ASSERT_OK(status);
  size_t at = 0;
  for (int i = 0; i < WRITES; i++) {
    for (int b = 0; b < BUFS_PER_WRITE; b++, at += CHUNK)
      bufs[b] = uv_buf_init(data + at, CHUNK);
    in_call = 1;
    ASSERT_OK(uv_write(&writes[i], req->handle, bufs, BUFS_PER_WRITE, writealot_write_cb));
    in_call = 0;
  }
  ASSERT_LE(client.write_queue_size, TOTAL);
  if (on_uv_compat())
    ASSERT_EQ(client.write_queue_size, TOTAL);
  ASSERT_OK(uv_shutdown(&shutdown_req, req->handle, writealot_shutdown_cb));
}

static void writealot_connection(uv_stream_t* srv, int status) {
  ASSERT_OK(status);
  ASSERT_OK(uv_tcp_init(&loop, &peer));
  ASSERT_OK(uv_accept(srv, (uv_stream_t*) &peer));
  ASSERT_OK(uv_read_start((uv_stream_t*) &peer, alloc_cb, writealot_read));
}

static void start_server(uv_connection_cb cb, struct sockaddr_storage* bound) {
  struct sockaddr_in addr;
  int len = sizeof(*bound);
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_tcp_init(&loop, &server));
  ASSERT_OK(uv_tcp_bind(&server, SA(&addr), 0));
  ASSERT_OK(uv_tcp_getsockname(&server, (struct sockaddr*) bound, &len));
  ASSERT_OK(uv_listen((uv_stream_t*) &server, 8, cb));
}

static void writealot(void) {
  struct sockaddr_storage bound;
  start_server(writealot_connection, &bound);
  ASSERT_OK(uv_tcp_init(&loop, &client));
  ASSERT_OK(uv_tcp_connect(&connect_req, &client, SA(&bound), writealot_connect_cb));
  while (eof == 0)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  uv_close((uv_handle_t*) &server, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(received, TOTAL);
  ASSERT_EQ(next_write, WRITES);
  ASSERT_EQ(nlog, 1);
  ASSERT_EQ(log_[0], 'S');
}

/* ---- close with writes and a shutdown waiting ----------------------------- */

static int cancelled;

static void cancel_write_cb(uv_write_t* req, int status) {
  ASSERT_EQ(in_call, 0);
  ASSERT_EQ(status, UV_ECANCELED);
  ASSERT_PTR_EQ(req, &writes[cancelled]);
  cancelled++;
  note('W');
}

static void cancel_shutdown_cb(uv_shutdown_t* req, int status) {
  ASSERT_EQ(in_call, 0);
  ASSERT_PTR_EQ(req, &shutdown_req);
  ASSERT_EQ(status, UV_ECANCELED);
  note('S');
}

static int accepted;
static int connected;

static void choke_connection(uv_stream_t* srv, int status) {
  ASSERT_OK(status);
  ASSERT_OK(uv_tcp_init(&loop, &peer));
  ASSERT_OK(uv_accept(srv, (uv_stream_t*) &peer));
  accepted = 1; /* and never reads */
}

static void choke_connect_cb(uv_connect_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
  connected = 1;
}

static void close_with_work(void) {
  struct sockaddr_storage bound;
  uv_buf_t buf = uv_buf_init(data, CHUNK * BUFS_PER_WRITE);
  int took;
  size_t total = 0;

  nlog = 0;
  start_server(choke_connection, &bound);
  ASSERT_OK(uv_tcp_init(&loop, &client));
  /* Not connected yet: no room to try. */
  ASSERT_EQ(uv_try_write((uv_stream_t*) &client, &buf, 1), UV_EBADF);
  ASSERT_OK(uv_tcp_connect(&connect_req, &client, SA(&bound), choke_connect_cb));
  /* Connecting: nothing may be written before the connect is done. */
  ASSERT_EQ(uv_try_write((uv_stream_t*) &client, &buf, 1), UV_EAGAIN);
  while (!accepted || !connected)
    ASSERT_EQ(uv_run(&loop, UV_RUN_ONCE), 1);
  /* Fill the kernel's buffers: the peer never reads. */
  while ((took = uv_try_write((uv_stream_t*) &client, &buf, 1)) > 0)
    total += (size_t) took;
  ASSERT_EQ(took, UV_EAGAIN);
  ASSERT_GT(total, 0);
  in_call = 1;
  for (int i = 0; i < QUEUED; i++)
    ASSERT_OK(uv_write(&writes[i], (uv_stream_t*) &client, &buf, 1, cancel_write_cb));
  /* libuv counts the bytes not written yet, uv-compat those whose
   * callback has not run: nothing was written, so the same here. */
  ASSERT_EQ(client.write_queue_size, (size_t) QUEUED * buf.len);
  ASSERT_OK(uv_shutdown(&shutdown_req, (uv_stream_t*) &client, cancel_shutdown_cb));
  ASSERT_EQ(uv_write(&writes[QUEUED], (uv_stream_t*) &client, &buf, 1, cancel_write_cb), UV_EPIPE);
  ASSERT_EQ(uv_shutdown(&shutdown_req, (uv_stream_t*) &client, cancel_shutdown_cb), UV_ENOTCONN);
  uv_close((uv_handle_t*) &client, close_cb);
  in_call = 0;
  ASSERT_EQ(nlog, 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  log_[nlog] = '\0';
  ASSERT_STR_EQ(log_, "WWWWWWWWSC");
  ASSERT_EQ(cancelled, QUEUED);
  ASSERT_EQ(client.write_queue_size, 0);
  uv_close((uv_handle_t*) &peer, NULL);
  uv_close((uv_handle_t*) &server, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}

/* ---- close while connecting ------------------------------------------------- */

static void connecting_connect_cb(uv_connect_t* req, int status) {
  ASSERT_PTR_EQ(req, &connect_req);
  ASSERT_EQ(status, UV_ECANCELED);
  note('K');
}

static void connecting_write_cb(uv_write_t* req, int status) {
  ASSERT_PTR_EQ(req, &writes[0]);
  ASSERT_EQ(status, UV_ECANCELED);
  note('W');
}

static void close_while_connecting(void) {
  struct sockaddr_storage bound;
  uv_buf_t buf = uv_buf_init(data, 16);
  nlog = 0;
  start_server(choke_connection, &bound);
  ASSERT_OK(uv_tcp_init(&loop, &client));
  ASSERT_OK(uv_tcp_connect(&connect_req, &client, SA(&bound), connecting_connect_cb));
  ASSERT_OK(uv_write(&writes[0], (uv_stream_t*) &client, &buf, 1, connecting_write_cb));
  uv_close((uv_handle_t*) &client, close_cb);
  uv_close((uv_handle_t*) &server, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  log_[nlog] = '\0';
  ASSERT_STR_EQ(log_, "KWC");
}

/* ---- writes and a shutdown made before the connect completes ---------------- */

static int early_writes;

static void early_write_cb(uv_write_t* req, int status) {
  ASSERT_PTR_EQ(req, &writes[early_writes]);
  ASSERT_OK(status);
  early_writes++;
}

static void early_shutdown_cb(uv_shutdown_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
  ASSERT_EQ(early_writes, 2);
  note('S');
}

static void early_connect_cb(uv_connect_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
  ASSERT_EQ(early_writes, 0);
  note('K');
}

static void write_before_connect(void) {
  struct sockaddr_storage bound;
  uv_buf_t one = uv_buf_init("early ", 6);
  uv_buf_t two = uv_buf_init("bird", 4);
  nlog = 0;
  received = 0;
  eof = 0;
  start_server(writealot_connection, &bound);
  ASSERT_OK(uv_tcp_init(&loop, &client));
  ASSERT_OK(uv_tcp_connect(&connect_req, &client, SA(&bound), early_connect_cb));
  ASSERT_OK(uv_write(&writes[0], (uv_stream_t*) &client, &one, 1, early_write_cb));
  ASSERT_OK(uv_write(&writes[1], (uv_stream_t*) &client, &two, 1, early_write_cb));
  ASSERT_OK(uv_shutdown(&shutdown_req, (uv_stream_t*) &client, early_shutdown_cb));
  /* The peer compares what it reads with `data`. */
  memcpy(data, "early bird", 10);
  while (eof == 0)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t*) &server, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(received, 10);
  log_[nlog] = '\0';
  ASSERT_STR_EQ(log_, "KS");
}

int main(void) {
  data = malloc(TOTAL);
  ASSERT_NOT_NULL(data);
  for (size_t i = 0; i < TOTAL; i++)
    data[i] = (char) ('a' + (i * 7 + i / 251) % 26);
  ASSERT_OK(uv_loop_init(&loop));
  writealot();
  close_with_work();
  close_while_connecting();
  write_before_connect();
  ASSERT_OK(uv_loop_close(&loop));
  free(data);
  return 0;
}
