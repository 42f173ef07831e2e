/* defined_errors.c: undefined behaviour in libuv, a defined error in ours.
 *
 * libuv asserts, aborts or corrupts memory on these; uv-compat returns
 * UV_EINVAL and calls no callback. This program is only meaningful against
 * our library: do NOT run it against the system libuv (it compiles there).
 *
 * Covers (from the issue): uv_udp_send on a closing handle; starting a
 * handle whose close callback already ran (timer); uv_udp_send with nbufs 0.
 * uv_udp_send with an absurd nbufs or a NULL bufs array.
 * uv_free_interface_addresses with a wrong count (too large, 0, negative)
 * frees exactly what uv_interface_addresses made (libuv reads past the
 * array or leaks the names; valgrind checks both here).
 * Also: uv_udp_try_send on a closing handle and with nbufs 0,
 * uv_udp_recv_start on a closing handle, starting closed idle/prepare/check
 * handles. (uv_timer_start on a closing handle is defined in libuv too and
 * is checked in timer.c.)
 *
 * never_initialized(): every function taking a handle or loop pointer,
 * given memory that no *_init call set up (filled with 0xAB, as stale heap
 * memory may be), returns UV_EINVAL (or 0 / does nothing where it returns
 * no status) instead of following the garbage as a pointer; uv_async_send
 * included, and on a handle initialized as another type.
 *
 * streams(): NULL requests, callbacks, buffer arrays and addresses, no
 * buffers, a NULL base with a length (UV_EFAULT), uv_accept between a TCP
 * and a pipe handle, a TCP call on a pipe handle, every stream call on a
 * closing TCP handle (uv_shutdown: UV_ENOTCONN, as libuv), and stream
 * calls on never initialized memory.
 */
#include <uv.h>

#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static int callbacks;

static void send_cb(uv_udp_send_t* req, int status) {
  (void) req;
  (void) status;
  callbacks++;
}

static void timer_cb(uv_timer_t* h) {
  (void) h;
  callbacks++;
}

static void idle_cb(uv_idle_t* h) {
  (void) h;
  callbacks++;
}

static void prepare_cb(uv_prepare_t* h) {
  (void) h;
  callbacks++;
}

static void check_cb(uv_check_t* h) {
  (void) h;
  callbacks++;
}

static void alloc_cb(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  static char slab[64];
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
  callbacks++;
}

static void poll_cb(uv_poll_t* h, int status, int events) {
  (void) h;
  (void) status;
  (void) events;
  callbacks++;
}

static void async_cb(uv_async_t* h) {
  (void) h;
  callbacks++;
}

static void interface_counts(void) {
  uv_interface_address_t* ifs;
  int count;
  int i;

  for (i = 0; i < 3; i++) {
    ASSERT_OK(uv_interface_addresses(&ifs, &count));
    ASSERT_GT(count, 0); /* at least the loopback interface */
    uv_free_interface_addresses(ifs, i == 0 ? count + 1000000 : i == 1 ? 0 : -1);
  }
}

static void never_initialized(void) {
  union {
    uv_async_t a;
    uv_timer_t t;
    uv_idle_t i;
    uv_poll_t p;
    uv_udp_t u;
    uv_handle_t h;
  } g;
  uv_loop_t garbage_loop;
  uv_loop_t loop;
  uv_udp_send_t req;
  struct sockaddr_in addr;
  int len = sizeof(addr);
  int value = 0;
  uv_os_fd_t fd;
  char data[] = "x";
  uv_buf_t buf = uv_buf_init(data, 1);

  ASSERT_OK(uv_ip4_addr("127.0.0.1", 9, &addr));
  memset(&g, 0xAB, sizeof(g));
  memset(&garbage_loop, 0xAB, sizeof(garbage_loop));

  ASSERT_EQ(uv_async_send(&g.a), UV_EINVAL);

  uv_close(&g.h, NULL);
  uv_ref(&g.h);
  uv_unref(&g.h);
  ASSERT_EQ(uv_is_active(&g.h), 0);
  ASSERT_EQ(uv_is_closing(&g.h), 0);
  ASSERT_EQ(uv_has_ref(&g.h), 0);
  ASSERT_EQ(uv_fileno(&g.h, &fd), UV_EINVAL);
  ASSERT_EQ(uv_send_buffer_size(&g.h, &value), UV_EINVAL);
  ASSERT_EQ(uv_recv_buffer_size(&g.h, &value), UV_EINVAL);

  ASSERT_EQ(uv_timer_start(&g.t, timer_cb, 1, 1), UV_EINVAL);
  ASSERT_EQ(uv_timer_again(&g.t), UV_EINVAL);
  ASSERT_OK(uv_timer_stop(&g.t));
  uv_timer_set_repeat(&g.t, 5);
  ASSERT_EQ(uv_timer_get_repeat(&g.t), 0);
  ASSERT_EQ(uv_timer_get_due_in(&g.t), 0);
  ASSERT_EQ(uv_idle_start(&g.i, idle_cb), UV_EINVAL);
  ASSERT_OK(uv_idle_stop(&g.i));
  ASSERT_EQ(uv_poll_start(&g.p, UV_READABLE, poll_cb), UV_EINVAL);
  ASSERT_OK(uv_poll_stop(&g.p));

  ASSERT_EQ(uv_udp_bind(&g.u, (struct sockaddr*) &addr, 0), UV_EINVAL);
  ASSERT_EQ(uv_udp_connect(&g.u, (struct sockaddr*) &addr), UV_EINVAL);
  ASSERT_EQ(uv_udp_getsockname(&g.u, (struct sockaddr*) &addr, &len),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_send(&req, &g.u, &buf, 1, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_try_send(&g.u, &buf, 1, (struct sockaddr*) &addr),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_recv_start(&g.u, alloc_cb, recv_cb), UV_EINVAL);
  ASSERT_OK(uv_udp_recv_stop(&g.u));
  ASSERT_EQ(uv_udp_set_ttl(&g.u, 5), UV_EINVAL);
  ASSERT_EQ(uv_udp_get_send_queue_size(&g.u), 0);
  ASSERT_EQ(uv_udp_get_send_queue_count(&g.u), 0);

  /* A loop no uv_loop_init set up. */
  ASSERT_EQ(uv_timer_init(&garbage_loop, &g.t), UV_EINVAL);
  ASSERT_EQ(uv_async_init(&garbage_loop, &g.a, async_cb), UV_EINVAL);
  ASSERT_EQ(uv_loop_alive(&garbage_loop), 0);
  ASSERT_EQ(uv_run(&garbage_loop, UV_RUN_NOWAIT), UV_EINVAL);
  ASSERT_EQ(uv_loop_close(&garbage_loop), UV_EINVAL);
  ASSERT_EQ(uv_loop_configure(&garbage_loop, UV_LOOP_BLOCK_SIGNAL, SIGPROF),
            UV_EINVAL);

  /* Memory initialized as a timer is no async handle; after the close
   * callback neither is an async handle. */
  ASSERT_OK(uv_loop_init(&loop));
  memset(&g, 0xAB, sizeof(g));
  ASSERT_OK(uv_timer_init(&loop, &g.t));
  ASSERT_EQ(uv_async_send(&g.a), UV_EINVAL);
  uv_close(&g.h, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_async_init(&loop, &g.a, async_cb));
  uv_close(&g.h, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_async_send(&g.a), UV_EINVAL);
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(callbacks, 0);
}

static void write_cb(uv_write_t* req, int status) {
  (void) req;
  (void) status;
  callbacks++;
}

static void connect_cb(uv_connect_t* req, int status) {
  (void) req;
  (void) status;
  callbacks++;
}

static void shutdown_cb(uv_shutdown_t* req, int status) {
  (void) req;
  (void) status;
  callbacks++;
}

static void connection_cb(uv_stream_t* server, int status) {
  (void) server;
  (void) status;
  callbacks++;
}

static void read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void) s;
  (void) nread;
  (void) buf;
  callbacks++;
}

/* Streams: what libuv asserts against or leaves undefined. */
static void streams(void) {
  uv_loop_t loop;
  uv_tcp_t tcp, closing;
  uv_pipe_t pipe;
  uv_write_t wreq;
  uv_connect_t creq;
  uv_shutdown_t sreq;
  uv_os_sock_t fds[2];
  struct sockaddr_in addr;
  char data[] = "x";
  uv_buf_t buf = uv_buf_init(data, 1);
  uv_buf_t null_base = {NULL, 1};
  union {
    uv_tcp_t t;
    uv_pipe_t p;
  } g;

  ASSERT_OK(uv_ip4_addr("127.0.0.1", 9, &addr));
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_socketpair(SOCK_STREAM, 0, fds, 0, 0));
  ASSERT_OK(uv_tcp_init(&loop, &tcp));
  ASSERT_OK(uv_pipe_init(&loop, &pipe, 0));
  ASSERT_OK(uv_pipe_open(&pipe, fds[0]));

  /* Bad arguments. */
  ASSERT_EQ(uv_write(NULL, (uv_stream_t*) &pipe, &buf, 1, write_cb), UV_EINVAL);
  ASSERT_EQ(uv_write(&wreq, (uv_stream_t*) &pipe, &buf, 0, write_cb), UV_EINVAL);
  ASSERT_EQ(uv_write(&wreq, (uv_stream_t*) &pipe, NULL, 1, write_cb), UV_EINVAL);
  ASSERT_EQ(uv_write(&wreq, (uv_stream_t*) &pipe, &null_base, 1, write_cb), UV_EFAULT);
  ASSERT_EQ(uv_try_write((uv_stream_t*) &pipe, &buf, 0), UV_EINVAL);
  ASSERT_EQ(uv_try_write((uv_stream_t*) &pipe, &null_base, 1), UV_EFAULT);
  ASSERT_EQ(uv_listen((uv_stream_t*) &tcp, 1, NULL), UV_EINVAL);
  ASSERT_EQ(uv_accept((uv_stream_t*) &tcp, (uv_stream_t*) &pipe), UV_EINVAL);
  ASSERT_EQ(uv_tcp_connect(NULL, &tcp, (struct sockaddr*) &addr, connect_cb), UV_EINVAL);
  ASSERT_EQ(uv_tcp_connect(&creq, &tcp, NULL, connect_cb), UV_EINVAL);
  ASSERT_EQ(uv_shutdown(NULL, (uv_stream_t*) &pipe, shutdown_cb), UV_EINVAL);
  ASSERT_EQ(uv_pipe_bind(&pipe, NULL), UV_EINVAL);
  /* A TCP call on a pipe handle and the other way round. */
  ASSERT_EQ(uv_tcp_nodelay((uv_tcp_t*) &pipe, 1), UV_EINVAL);
  ASSERT_EQ(uv_pipe_chmod((uv_pipe_t*) &tcp, UV_READABLE), UV_EBADF);

  /* A closing stream. */
  ASSERT_OK(uv_tcp_init(&loop, &closing));
  uv_close((uv_handle_t*) &closing, NULL);
  ASSERT_EQ(uv_tcp_bind(&closing, (struct sockaddr*) &addr, 0), UV_EINVAL);
  ASSERT_EQ(uv_listen((uv_stream_t*) &closing, 1, connection_cb), UV_EINVAL);
  ASSERT_EQ(uv_tcp_connect(&creq, &closing, (struct sockaddr*) &addr, connect_cb), UV_EINVAL);
  ASSERT_EQ(uv_write(&wreq, (uv_stream_t*) &closing, &buf, 1, write_cb), UV_EINVAL);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &closing, alloc_cb, read_cb), UV_EINVAL);
  ASSERT_EQ(uv_shutdown(&sreq, (uv_stream_t*) &closing, shutdown_cb), UV_ENOTCONN);
  ASSERT_EQ(uv_tcp_close_reset(&closing, NULL), UV_EINVAL);
  uv_close((uv_handle_t*) &tcp, NULL);
  uv_close((uv_handle_t*) &pipe, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  /* Memory no *_init call set up. */
  memset(&g, 0xAB, sizeof(g));
  ASSERT_EQ(uv_write(&wreq, (uv_stream_t*) &g.t, &buf, 1, write_cb), UV_EINVAL);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &g.t, alloc_cb, read_cb), UV_EINVAL);
  ASSERT_OK(uv_read_stop((uv_stream_t*) &g.t));
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &g.t), 0);
  ASSERT_EQ(uv_stream_get_write_queue_size((uv_stream_t*) &g.t), 0);
  ASSERT_EQ(uv_tcp_bind(&g.t, (struct sockaddr*) &addr, 0), UV_EINVAL);
  ASSERT_EQ(uv_pipe_open(&g.p, fds[1]), UV_EINVAL);

  close(fds[1]);
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(callbacks, 0);
}

int main(void) {
  uv_loop_t loop;
  uv_udp_t u;
  uv_udp_t peer;
  uv_udp_send_t req;
  uv_timer_t t;
  uv_idle_t i;
  uv_prepare_t p;
  uv_check_t c;
  struct sockaddr_in addr;
  int len = sizeof(addr);
  char data[] = "data";
  uv_buf_t buf = uv_buf_init(data, 4);

  never_initialized();
  interface_counts();

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &peer));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_udp_bind(&peer, (struct sockaddr*) &addr, 0));
  ASSERT_OK(uv_udp_getsockname(&peer, (struct sockaddr*) &addr, &len));

  /* nbufs 0. */
  ASSERT_OK(uv_udp_init(&loop, &u));
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 0, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_try_send(&u, &buf, 0, (struct sockaddr*) &addr),
            UV_EINVAL);
  ASSERT_EQ(u.send_queue_count, 0);

  /* Absurd buffer counts (the array has one element) are refused before
   * the array is read: UV_EINVAL past 1,048,576 (libuv 1.52; older libuv
   * tries to copy 64 GiB of buffers), UV_EMSGSIZE past IOV_MAX, as sendmsg
   * answers; a NULL array is UV_EINVAL. */
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, (unsigned) -1,
                        (struct sockaddr*) &addr, send_cb),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 1048577, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 1048576, (struct sockaddr*) &addr,
                        send_cb),
            UV_EMSGSIZE);
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 1025, (struct sockaddr*) &addr,
                        send_cb),
            UV_EMSGSIZE);
  ASSERT_EQ(uv_udp_send(&req, &u, NULL, 1, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_try_send(&u, NULL, 1, (struct sockaddr*) &addr),
            UV_EINVAL);
  ASSERT_EQ(u.send_queue_count, 0);

  /* A closing UDP handle. */
  uv_close((uv_handle_t*) &u, NULL);
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 1, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_try_send(&u, &buf, 1, (struct sockaddr*) &addr),
            UV_EINVAL);
  ASSERT_EQ(uv_udp_recv_start(&u, alloc_cb, recv_cb), UV_EINVAL);

  /* Handles whose close callback already ran. */
  ASSERT_OK(uv_timer_init(&loop, &t));
  ASSERT_OK(uv_idle_init(&loop, &i));
  ASSERT_OK(uv_prepare_init(&loop, &p));
  ASSERT_OK(uv_check_init(&loop, &c));
  uv_close((uv_handle_t*) &t, NULL);
  uv_close((uv_handle_t*) &i, NULL);
  uv_close((uv_handle_t*) &p, NULL);
  uv_close((uv_handle_t*) &c, NULL);
  uv_close((uv_handle_t*) &peer, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(uv_timer_start(&t, timer_cb, 0, 0), UV_EINVAL);
  ASSERT_EQ(uv_idle_start(&i, idle_cb), UV_EINVAL);
  ASSERT_EQ(uv_prepare_start(&p, prepare_cb), UV_EINVAL);
  ASSERT_EQ(uv_check_start(&c, check_cb), UV_EINVAL);
  ASSERT_EQ(uv_udp_send(&req, &u, &buf, 1, (struct sockaddr*) &addr,
                        send_cb),
            UV_EINVAL);

  /* Nothing was started, nothing is alive, no callback ran. */
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(callbacks, 0);
  ASSERT_OK(uv_loop_close(&loop));
  streams();
  printf("defined_errors: ok\n");
  return 0;
}
