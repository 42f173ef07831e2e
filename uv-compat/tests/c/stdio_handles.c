/* stdio_handles.c: handles on the process's standard descriptors, as
 * programs (and libuv's stdio_over_pipes helper) open them.
 *
 * Covers: uv_pipe_open twice on the same standard descriptor while neither
 * handle watches it (libuv refuses a descriptor only while something
 * watches it); a write through the second handle arrives; the first may
 * then start reading (the second does not watch); closing both
 * handles leaves descriptor 1 open and usable (libuv never closes 0-2).
 * Descriptor 1 is a socket pair end for the test's duration, then restored.
 */
#include <uv.h>

#include <fcntl.h>
#include <unistd.h>

#include "test.h"

static int write_cbs;
static int reads;

static void on_alloc(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  static char slab[16];
  (void) h;
  (void) size;
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  if (nread <= 0)
    return;
  ASSERT_EQ(nread, 1);
  ASSERT_EQ(buf->base[0], 'z');
  reads++;
  uv_read_stop(s);
}

static void on_write(uv_write_t* req, int status) {
  (void) req;
  ASSERT_EQ(status, 0);
  write_cbs++;
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uv_os_sock_t sp[2];
  uv_pipe_t first, second;
  uv_write_t req;
  uv_buf_t buf = uv_buf_init("x", 1);
  char got[8];
  int saved;

  fflush(stdout);
  saved = dup(1);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(uv_socketpair(SOCK_STREAM, 0, sp, 0, 0), 0);
  ASSERT_EQ(dup2(sp[0], 1), 1);

  ASSERT_EQ(uv_pipe_init(loop, &first, 0), 0);
  ASSERT_EQ(uv_pipe_init(loop, &second, 0), 0);
  ASSERT_EQ(uv_pipe_open(&first, 1), 0);
  ASSERT_EQ(uv_pipe_open(&second, 1), 0);
  ASSERT_EQ(uv_write(&req, (uv_stream_t*) &second, &buf, 1, on_write), 0);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(write_cbs, 1);
  ASSERT_EQ(write(sp[1], "z", 1), 1);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &first, on_alloc, on_read), 0);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(reads, 1);
  uv_close((uv_handle_t*) &first, NULL);
  uv_close((uv_handle_t*) &second, NULL);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);

  /* Still open, still the socket: the peer reads both bytes. */
  ASSERT(fcntl(1, F_GETFD) != -1);
  ASSERT_EQ(write(1, "y", 1), 1);
  ASSERT_EQ(read(sp[1], got, 2), 2);
  ASSERT_EQ(memcmp(got, "xy", 2), 0);

  ASSERT_EQ(dup2(saved, 1), 1);
  close(saved);
  close(sp[0]);
  close(sp[1]);
  ASSERT_EQ(uv_loop_close(loop), 0);
  return 0;
}
