/* poll.c: uv_poll_t on a socketpair end and on a UDP socket.
 *
 * Covers: uv_poll_init (type, uv_fileno gives the fd back), UV_EEXIST for a
 * second poll handle on an fd the loop is already watching, uv_poll_start
 * with UV_WRITABLE, UV_READABLE and both (events reported exactly), changing
 * the event set of an active handle, level-triggered readiness (an unread
 * byte is reported again on every iteration), nothing reported once the data
 * was read, uv_poll_stop (idempotent, nothing reported afterwards),
 * UV_DISCONNECT when the peer closes (and, for a handle watching only
 * UV_PRIORITIZED, the hangup reported as UV_PRIORITIZED, as libuv merges
 * the watched events into a lone EPOLLHUP), uv_poll_init_socket on a UDP
 * socket, closing a poll handle leaves the fd open.
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static uv_loop_t loop;
static int poll_calls;
static int last_status;
static int last_events;

static void poll_cb(uv_poll_t* h, int status, int events) {
  (void) h;
  poll_calls++;
  last_status = status;
  last_events = events;
}

static void reset(void) {
  poll_calls = 0;
  last_status = 12345;
  last_events = -1;
}

static void test_socketpair(void) {
  uv_poll_t p;
  uv_poll_t p2;
  int fds[2];
  uv_os_fd_t fd;
  char c;

  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
  memset(&p, 0x77, sizeof(p));
  ASSERT_OK(uv_poll_init(&loop, &p, fds[0]));
  ASSERT_EQ(p.type, UV_POLL);
  ASSERT_PTR_EQ(p.loop, &loop);
  ASSERT_OK(uv_fileno((uv_handle_t*) &p, &fd));
  ASSERT_EQ(fd, fds[0]);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &p), 0);

  /* Writable at once. */
  reset();
  ASSERT_OK(uv_poll_start(&p, UV_WRITABLE, poll_cb));
  ASSERT_NE(uv_is_active((uv_handle_t*) &p), 0);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 1);
  ASSERT_EQ(last_status, 0);
  ASSERT_EQ(last_events, UV_WRITABLE);

  /* The loop watches fds[0] now: a second poll handle on it is refused. */
  ASSERT_EQ(uv_poll_init(&loop, &p2, fds[0]), UV_EEXIST);

  /* Only READABLE and nothing to read: no callback. */
  reset();
  ASSERT_OK(uv_poll_start(&p, UV_READABLE, poll_cb));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 0);

  /* Level-triggered: an unread byte is reported every iteration. */
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 1);
  ASSERT_EQ(last_status, 0);
  ASSERT_EQ(last_events, UV_READABLE);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 2);
  ASSERT_EQ(last_events, UV_READABLE);

  /* Once read, it is not reported any more. */
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  ASSERT_EQ(c, 'x');
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 2);

  /* Both: readable and writable in one callback. */
  reset();
  ASSERT_EQ(write(fds[1], "y", 1), 1);
  ASSERT_OK(uv_poll_start(&p, UV_READABLE | UV_WRITABLE, poll_cb));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 1);
  ASSERT_EQ(last_events, UV_READABLE | UV_WRITABLE);

  /* Stopped: nothing reported, and the loop has nothing alive. */
  reset();
  ASSERT_OK(uv_poll_stop(&p));
  ASSERT_OK(uv_poll_stop(&p));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &p), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 0);
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');

  /* The peer goes away: UV_DISCONNECT (with READABLE, for the EOF). */
  reset();
  ASSERT_OK(uv_poll_start(&p, UV_READABLE | UV_DISCONNECT, poll_cb));
  ASSERT_OK(close(fds[1]));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_GE(poll_calls, 1);
  ASSERT_EQ(last_status, 0);
  ASSERT_NE(last_events & UV_DISCONNECT, 0);
  ASSERT_EQ(read(fds[0], &c, 1), 0);

  uv_close((uv_handle_t*) &p, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  /* Closing the handle did not close the fd. */
  ASSERT_NE(fcntl(fds[0], F_GETFD), -1);
  ASSERT_OK(close(fds[0]));
}

static void test_socket(void) {
  uv_poll_t p;
  struct sockaddr_in addr;
  int sock;

  sock = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(sock, 0);
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(bind(sock, (struct sockaddr*) &addr, sizeof(addr)));

  ASSERT_OK(uv_poll_init_socket(&loop, &p, sock));
  ASSERT_EQ(p.type, UV_POLL);
  reset();
  ASSERT_OK(uv_poll_start(&p, UV_WRITABLE, poll_cb));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 1);
  ASSERT_EQ(last_status, 0);
  ASSERT_EQ(last_events, UV_WRITABLE);
  ASSERT_OK(uv_poll_stop(&p));

  uv_close((uv_handle_t*) &p, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_NE(fcntl(sock, F_GETFD), -1);
  ASSERT_OK(close(sock));
}

/* libuv (src/unix/linux.c) merges the watched events into a lone
 * hangup: a handle watching only UV_PRIORITIZED is told the peer is gone
 * by a UV_PRIORITIZED report (with UV_DISCONNECT watched, that one). */
static void test_hangup_without_watched_event(void) {
  uv_poll_t p;
  int sv[2];

  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  ASSERT_OK(uv_poll_init(&loop, &p, sv[0]));
  reset();
  ASSERT_OK(uv_poll_start(&p, UV_PRIORITIZED, poll_cb));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 0);
  ASSERT_OK(close(sv[1]));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 1);
  ASSERT_EQ(last_status, 0);
  ASSERT_EQ(last_events, UV_PRIORITIZED);
  reset();
  ASSERT_OK(uv_poll_start(&p, UV_PRIORITIZED | UV_DISCONNECT, poll_cb));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 1);
  ASSERT_EQ(last_events, UV_DISCONNECT);
  uv_close((uv_handle_t*) &p, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(close(sv[0]));
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_socketpair();
  test_socket();
  test_hangup_without_watched_event();
  ASSERT_OK(uv_loop_close(&loop));
  printf("poll: ok\n");
  return 0;
}
