/* libuv_poll_cases.c: the uv_poll_t behaviours libuv's own test suite
 * checks, restated in our words. Each function names the libuv test it
 * pins.
 *
 * Covers: 64 poll handles started on fresh sockets and closed before the
 * loop runs: 64 close callbacks and no poll callback, the sockets stay
 * open; uv_poll_init on a directory descriptor fails (epoll cannot watch
 * it) and leaves nothing behind in the loop; a poll handle on an epoll
 * descriptor (nothing ready) keeps the loop alive without a callback;
 * UV_PRIORITIZED reports TCP urgent data, and after reading it the handle
 * restarted with UV_READABLE sees the ordinary data.
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define NSOCKS 64

static int close_calls;
static int poll_calls;

static void count_close(uv_handle_t* h) {
  ASSERT_NOT_NULL(h);
  close_calls++;
}

static void must_not_poll(uv_poll_t* h, int status, int events) {
  (void) h;
  (void) status;
  (void) events;
  poll_calls++;
}

/* test-poll-close.c: poll_close. */
static void test_close_many(void) {
  uv_loop_t loop;
  int socks[NSOCKS];
  uv_poll_t polls[NSOCKS];
  int i;

  ASSERT_OK(uv_loop_init(&loop));
  for (i = 0; i < NSOCKS; i++) {
    socks[i] = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(socks[i], 0);
    ASSERT_OK(uv_poll_init(&loop, &polls[i], socks[i]));
    ASSERT_OK(uv_poll_start(&polls[i], UV_READABLE | UV_WRITABLE,
                            must_not_poll));
  }
  for (i = 0; i < NSOCKS; i++)
    uv_close((uv_handle_t*) &polls[i], count_close);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_calls, NSOCKS);
  ASSERT_EQ(poll_calls, 0);
  /* The descriptors are still ours to close. */
  for (i = 0; i < NSOCKS; i++)
    ASSERT_OK(close(socks[i]));
  ASSERT_OK(uv_loop_close(&loop));
}

/* test-poll.c: poll_bad_fdtype, poll_nested_epoll. */
static void test_fd_kinds(void) {
  uv_loop_t loop;
  uv_poll_t h;
  int fd;

  ASSERT_OK(uv_loop_init(&loop));
  fd = open(".", O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_NE(uv_poll_init(&loop, &h, fd), 0);
  ASSERT_OK(close(fd));
  /* The failed init left no handle in the loop. */
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  fd = epoll_create1(0);
  ASSERT_GE(fd, 0);
  ASSERT_OK(uv_poll_init(&loop, &h, fd));
  ASSERT_OK(uv_poll_start(&h, UV_READABLE, must_not_poll));
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(poll_calls, 0);
  uv_close((uv_handle_t*) &h, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(close(fd));
  ASSERT_OK(uv_loop_close(&loop));
}

/* ---- test-poll-oob.c: poll_oob ---- */

static uv_poll_t oob_poll;
static int oob_fd;
static int urgent_seen;
static int normal_seen;

static void oob_cb(uv_poll_t* h, int status, int events) {
  char buf[8];
  ssize_t n;

  ASSERT_EQ(status, 0);
  if (events & UV_PRIORITIZED) {
    /* The urgent byte is read apart from the stream. */
    do
      n = recv(oob_fd, buf, sizeof(buf), MSG_OOB);
    while (n < 0 && errno == EINTR);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(buf[0], '!');
    urgent_seen++;
    ASSERT_OK(uv_poll_stop(h));
    ASSERT_OK(uv_poll_start(h, UV_READABLE, oob_cb));
    return;
  }
  if (events & UV_READABLE) {
    ASSERT_EQ(urgent_seen, 1);
    do
      n = recv(oob_fd, buf, sizeof(buf), 0);
    while (n < 0 && errno == EINTR);
    ASSERT_EQ(n, 5);
    ASSERT_MEM_EQ(buf, "hello", 5);
    normal_seen++;
    uv_close((uv_handle_t*) h, NULL);
  }
}

static void test_oob(void) {
  uv_loop_t loop;
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  int listener;
  int writer;
  int one = 1;

  ASSERT_OK(uv_loop_init(&loop));
  listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(bind(listener, (struct sockaddr*) &addr, sizeof(addr)));
  ASSERT_OK(listen(listener, 1));
  ASSERT_OK(getsockname(listener, (struct sockaddr*) &addr, &len));
  writer = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(writer, 0);
  ASSERT_OK(connect(writer, (struct sockaddr*) &addr, sizeof(addr)));
  oob_fd = accept(listener, NULL, NULL);
  ASSERT_GE(oob_fd, 0);
  ASSERT_OK(setsockopt(writer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));

  /* The urgent byte first, then ordinary data. */
  ASSERT_EQ(send(writer, "!", 1, MSG_OOB), 1);
  ASSERT_EQ(send(writer, "hello", 5, 0), 5);

  ASSERT_OK(uv_poll_init(&loop, &oob_poll, oob_fd));
  ASSERT_OK(uv_poll_start(&oob_poll, UV_PRIORITIZED, oob_cb));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(urgent_seen, 1);
  ASSERT_EQ(normal_seen, 1);

  ASSERT_OK(close(oob_fd));
  ASSERT_OK(close(writer));
  ASSERT_OK(close(listener));
  ASSERT_OK(uv_loop_close(&loop));
}

int main(void) {
  test_close_many();
  test_fd_kinds();
  test_oob();
  return 0;
}
