/* uv_udp_open and uv_udp_open_ex (libuv 1.52), and uv_poll_init's
 * non-blocking switch: the socket options libuv sets when it adopts a
 * descriptor.
 *
 * 1.52-only: uv_udp_open_ex (guarded by UV_VERSION_HEX). */
#include "test.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

static int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof(value);
  ASSERT_OK(getsockopt(fd, level, name, &value, &len));
  return value;
}

static void close_and_run(uv_loop_t* loop, uv_handle_t* h) {
  uv_close(h, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
}

int main(void) {
  uv_loop_t loop;
  uv_udp_t udp;
  ASSERT_OK(uv_loop_init(&loop));

  /* uv_udp_open sets SO_REUSEADDR and makes the socket non-blocking. */
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(int_option(fd, SOL_SOCKET, SO_REUSEADDR), 0);
  ASSERT_OK(uv_udp_init(&loop, &udp));
  ASSERT_OK(uv_udp_open(&udp, fd));
  ASSERT_EQ(int_option(fd, SOL_SOCKET, SO_REUSEADDR), 1);
  ASSERT(fcntl(fd, F_GETFL) & O_NONBLOCK);
  /* A second socket on the same handle is UV_EBUSY, and stays open. */
  int other = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(other, 0);
  ASSERT_EQ(uv_udp_open(&udp, other), UV_EBUSY);
  ASSERT_NE(fcntl(other, F_GETFD), -1);
  close_and_run(&loop, (uv_handle_t*) &udp);
  /* The handle closed the descriptor it adopted. */
  ASSERT_EQ(fcntl(fd, F_GETFD), -1);

#if UV_VERSION_HEX >= 0x013400
  /* uv_udp_open_ex: only REUSEADDR / REUSEPORT are accepted. */
  ASSERT_OK(uv_udp_init(&loop, &udp));
  ASSERT_EQ(uv_udp_open_ex(&udp, other, UV_UDP_IPV6ONLY), UV_EINVAL);
  ASSERT_NE(fcntl(other, F_GETFD), -1);
  ASSERT_OK(uv_udp_open_ex(&udp, other, UV_UDP_REUSEPORT));
  ASSERT_EQ(int_option(other, SOL_SOCKET, SO_REUSEPORT), 1);
  ASSERT_EQ(int_option(other, SOL_SOCKET, SO_REUSEADDR), 0);
  close_and_run(&loop, (uv_handle_t*) &udp);
#else
  close(other);
#endif

  /* uv_poll_init switches the descriptor to non-blocking mode. */
  int pair[2];
  uv_poll_t poll;
  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
  ASSERT_EQ(fcntl(pair[0], F_GETFL) & O_NONBLOCK, 0);
  ASSERT_OK(uv_poll_init(&loop, &poll, pair[0]));
  ASSERT(fcntl(pair[0], F_GETFL) & O_NONBLOCK);
  close_and_run(&loop, (uv_handle_t*) &poll);
  close(pair[0]);
  close(pair[1]);

  ASSERT_OK(uv_loop_close(&loop));
  return 0;
}
