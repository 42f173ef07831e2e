/* pipe_ipc.c: passing handles over IPC pipes (uv_write2, uv_try_write2,
 * uv_pipe_pending_count/type, uv_accept on an IPC pipe), in one loop over a
 * socket pair.
 *
 * Covers: a listening TCP handle passed, accepted on the other end into a
 * new uv_tcp_t that then accepts a connection; a UDP handle passed and
 * accepted into a new uv_udp_t that receives a datagram; uv_try_write2
 * passing a handle with the bytes it writes; pending_count and
 * pending_type before and after accepting; no empty read_cb after a read
 * that brought a handle; uv_accept with nothing pending is UV_EAGAIN; uv_write2 with a NULL send_handle is uv_write; uv_write2
 * with a handle on a pipe made without ipc is UV_EINVAL; pending_count 0
 * and pending_type UV_UNKNOWN_HANDLE on a pipe that is not IPC.
 * uv-compat only (libuv accepts into a handle of any type): accepting into
 * a handle of the wrong type is UV_EINVAL and the handle stays pending.
 */
#include <uv.h>

#include "test.h"

static uv_loop_t* loop;
static uv_pipe_t left, right;   /* the IPC pair */
static uv_tcp_t listener;       /* passed from left to right */
static uv_tcp_t listener2;      /* right's copy of it */
static uv_tcp_t client, served;
static uv_udp_t udp, udp2;
static uv_udp_t udp_sender;
static uv_tcp_t tcp3, tcp3_copy;
static uv_connect_t connect_req;
static uv_write_t w1, w2, w3;
static uv_udp_send_t send_req;
static int write_cbs, connections, connected, datagrams, reads, empty_reads;
static int stage;
static struct sockaddr_in loopback;  /* the listener's address */
static struct sockaddr_in loopback0; /* 127.0.0.1:0 */
static unsigned short tcp3_port;

static void on_close(uv_handle_t* h) {
  (void) h;
}

static void alloc_cb(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  static char slab[256];
  (void) h;
  (void) size;
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void on_write(uv_write_t* req, int status) {
  ASSERT_EQ(status, 0);
  write_cbs++;
  /* Sent: our copy may go (the other end holds its own descriptor). */
  if (req == &w1)
    uv_close((uv_handle_t*) &listener, on_close);
  if (req == &w2)
    uv_close((uv_handle_t*) &udp, on_close);
}

static void maybe_try_write2(void);

static void on_connection(uv_stream_t* server, int status) {
  ASSERT_EQ(status, 0);
  ASSERT_PTR_EQ(server, (uv_stream_t*) &listener2);
  ASSERT_EQ(uv_tcp_init(loop, &served), 0);
  ASSERT_EQ(uv_accept(server, (uv_stream_t*) &served), 0);
  connections++;
  uv_close((uv_handle_t*) &served, on_close);
  uv_close((uv_handle_t*) &listener2, on_close);
  maybe_try_write2();
}

static void on_connect(uv_connect_t* req, int status) {
  ASSERT_EQ(status, 0);
  connected++;
  uv_close((uv_handle_t*) req->handle, on_close);
  maybe_try_write2();
}

static void on_datagram(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                        const struct sockaddr* addr, unsigned flags) {
  (void) flags;
  if (nread == 0)
    return;
  ASSERT_EQ(nread, 4);
  ASSERT_NOT_NULL(addr);
  ASSERT_EQ(memcmp(buf->base, "dgrm", 4), 0);
  datagrams++;
  uv_close((uv_handle_t*) h, on_close);
  uv_close((uv_handle_t*) &udp_sender, on_close);
  maybe_try_write2();
}

static void on_sent(uv_udp_send_t* req, int status) {
  (void) req;
  ASSERT_EQ(status, 0);
}

/* Takes one pending handle, by its type. */
static void take_pending(uv_stream_t* s) {
  struct sockaddr_storage name;
  int len = sizeof(name);
  uv_handle_type type = uv_pipe_pending_type(&right);
  int count = uv_pipe_pending_count(&right);
  ASSERT_GE(count, 1);
  if (type == UV_TCP && stage == 0) {
    stage = 1;
    ASSERT_EQ(uv_tcp_init(loop, &listener2), 0);
    if (on_uv_compat()) {
      /* The wrong type: refused, and the handle stays pending. */
      static uv_pipe_t wrong;
      ASSERT_EQ(uv_pipe_init(loop, &wrong, 0), 0);
      ASSERT_EQ(uv_accept(s, (uv_stream_t*) &wrong), UV_EINVAL);
      ASSERT_EQ(uv_pipe_pending_count(&right), count);
      uv_close((uv_handle_t*) &wrong, on_close);
    }
    ASSERT_EQ(uv_accept(s, (uv_stream_t*) &listener2), 0);
    ASSERT_EQ(uv_pipe_pending_count(&right), count - 1);
    /* The same socket: the same port, and it listens. */
    ASSERT_EQ(uv_tcp_getsockname(&listener2, (struct sockaddr*) &name, &len), 0);
    ASSERT_EQ(((struct sockaddr_in*) &name)->sin_port, loopback.sin_port);
    ASSERT_EQ(uv_listen((uv_stream_t*) &listener2, 8, on_connection), 0);
    ASSERT_EQ(uv_tcp_init(loop, &client), 0);
    ASSERT_EQ(uv_tcp_connect(&connect_req, &client,
                             (const struct sockaddr*) &loopback, on_connect), 0);
  } else if (type == UV_TCP) {
    /* uv_try_write2's handle. */
    ASSERT_EQ(uv_tcp_init(loop, &tcp3_copy), 0);
    ASSERT_EQ(uv_accept(s, (uv_stream_t*) &tcp3_copy), 0);
    ASSERT_EQ(uv_tcp_getsockname(&tcp3_copy, (struct sockaddr*) &name, &len), 0);
    ASSERT_EQ(((struct sockaddr_in*) &name)->sin_port, tcp3_port);
    uv_close((uv_handle_t*) &tcp3_copy, on_close);
    uv_close((uv_handle_t*) &left, on_close);
    uv_close((uv_handle_t*) &right, on_close);
  } else if (type == UV_UDP) {
    struct sockaddr_in to;
    int tolen = sizeof(to);
    static uv_buf_t b;
    b = uv_buf_init("dgrm", 4);
    ASSERT_EQ(uv_udp_init(loop, &udp2), 0);
    ASSERT_EQ(uv_accept(s, (uv_stream_t*) &udp2), 0);
    ASSERT_EQ(uv_udp_getsockname(&udp2, (struct sockaddr*) &to, &tolen), 0);
    ASSERT_EQ(uv_udp_recv_start(&udp2, alloc_cb, on_datagram), 0);
    ASSERT_EQ(uv_udp_init(loop, &udp_sender), 0);
    ASSERT_EQ(uv_udp_send(&send_req, &udp_sender, &b, 1,
                          (const struct sockaddr*) &to, on_sent), 0);
  } else {
    UVC_FAIL_("unexpected pending type %d", (int) type);
  }
}

static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void) buf;
  if (nread == 0)
    empty_reads++;
  if (nread <= 0)
    return;
  reads++;
  ASSERT_PTR_EQ(s, (uv_stream_t*) &right);
  while (uv_pipe_pending_count(&right) > 0)
    take_pending(s);
  ASSERT_EQ(uv_pipe_pending_type(&right), UV_UNKNOWN_HANDLE);
  /* (Once closing, uv-compat answers UV_EINVAL to everything.) */
  if (!uv_is_closing((uv_handle_t*) s))
    ASSERT_EQ(uv_accept(s, (uv_stream_t*) &listener2), UV_EAGAIN);
}

/* Once the listener and the UDP handle went across and worked: a handle
 * passed by uv_try_write2. */
static void maybe_try_write2(void) {
  struct sockaddr_storage name;
  int len = sizeof(name);
  uv_buf_t y = uv_buf_init("y", 1);
  if (connections != 1 || connected != 1 || datagrams != 1 || stage != 1)
    return;
  stage = 2;
  ASSERT_EQ(uv_tcp_init(loop, &tcp3), 0);
  ASSERT_EQ(uv_tcp_bind(&tcp3, (const struct sockaddr*) &loopback0, 0), 0);
  ASSERT_EQ(uv_tcp_getsockname(&tcp3, (struct sockaddr*) &name, &len), 0);
  tcp3_port = ((struct sockaddr_in*) &name)->sin_port;
  ASSERT_EQ(uv_try_write2((uv_stream_t*) &left, &y, 1, (uv_stream_t*) &tcp3), 1);
  uv_close((uv_handle_t*) &tcp3, on_close);
}

static void check_not_ipc(void) {
  uv_os_sock_t fds[2];
  uv_pipe_t plain, other;
  uv_tcp_t tcp;
  uv_write_t req;
  uv_buf_t b = uv_buf_init("x", 1);
  ASSERT_EQ(uv_socketpair(SOCK_STREAM, 0, fds, 0, 0), 0);
  ASSERT_EQ(uv_pipe_init(loop, &plain, 0), 0);
  ASSERT_EQ(uv_pipe_init(loop, &other, 0), 0);
  ASSERT_EQ(uv_pipe_open(&plain, fds[0]), 0);
  ASSERT_EQ(uv_pipe_open(&other, fds[1]), 0);
  ASSERT_EQ(uv_tcp_init(loop, &tcp), 0);
  ASSERT_EQ(uv_tcp_bind(&tcp, (const struct sockaddr*) &loopback, 0), 0);
  ASSERT_EQ(uv_write2(&req, (uv_stream_t*) &plain, &b, 1, (uv_stream_t*) &tcp, NULL),
            UV_EINVAL);
  ASSERT_EQ(uv_pipe_pending_count(&other), 0);
  ASSERT_EQ(uv_pipe_pending_type(&other), UV_UNKNOWN_HANDLE);
  uv_close((uv_handle_t*) &plain, NULL);
  uv_close((uv_handle_t*) &other, NULL);
  uv_close((uv_handle_t*) &tcp, NULL);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
}

int main(void) {
  uv_os_sock_t fds[2];
  uv_buf_t x = uv_buf_init("x", 1);
  uv_buf_t plain = uv_buf_init("plain", 5);
  struct sockaddr_in any;
  int namelen = sizeof(loopback);

  loop = uv_default_loop();
  ASSERT_EQ(uv_ip4_addr("127.0.0.1", 0, &loopback), 0);
  ASSERT_EQ(uv_ip4_addr("127.0.0.1", 0, &loopback0), 0);
  check_not_ipc();

  ASSERT_EQ(uv_socketpair(SOCK_STREAM, 0, fds, 0, 0), 0);
  ASSERT_EQ(uv_pipe_init(loop, &left, 1), 0);
  ASSERT_EQ(uv_pipe_init(loop, &right, 1), 0);
  ASSERT_EQ(uv_pipe_open(&left, fds[0]), 0);
  ASSERT_EQ(uv_pipe_open(&right, fds[1]), 0);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &right, alloc_cb, on_read), 0);

  /* A plain write first (uv_write2 without a handle is uv_write). */
  ASSERT_EQ(uv_write2(&w3, (uv_stream_t*) &left, &plain, 1, NULL, on_write), 0);
  /* A listening TCP handle. */
  ASSERT_EQ(uv_tcp_init(loop, &listener), 0);
  ASSERT_EQ(uv_tcp_bind(&listener, (const struct sockaddr*) &loopback0, 0), 0);
  ASSERT_EQ(uv_listen((uv_stream_t*) &listener, 8, on_connection), 0);
  ASSERT_EQ(uv_tcp_getsockname(&listener, (struct sockaddr*) &loopback, &namelen), 0);
  ASSERT_EQ(uv_write2(&w1, (uv_stream_t*) &left, &x, 1, (uv_stream_t*) &listener,
                      on_write), 0);
  /* A bound UDP handle. */
  ASSERT_EQ(uv_ip4_addr("127.0.0.1", 0, &any), 0);
  ASSERT_EQ(uv_udp_init(loop, &udp), 0);
  ASSERT_EQ(uv_udp_bind(&udp, (const struct sockaddr*) &any, 0), 0);
  ASSERT_EQ(uv_write2(&w2, (uv_stream_t*) &left, &x, 1, (uv_stream_t*) &udp, on_write), 0);

  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(write_cbs, 3);
  ASSERT_EQ(connections, 1);
  ASSERT_EQ(connected, 1);
  ASSERT_EQ(datagrams, 1);
  ASSERT_EQ(stage, 2);
  ASSERT_GE(reads, 2);
  /* A read that brought a handle is not followed by a read into an empty
   * socket (libuv stops after a short read): no empty read_cb. */
  ASSERT_EQ(empty_reads, 0);
  ASSERT_EQ(uv_loop_close(loop), 0);
  return 0;
}
