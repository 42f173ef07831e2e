/* stream_read.c: alloc_cb + read_cb semantics on a stream.
 *
 * Covers, on a connected pair of pipe handles (uv_socketpair):
 * - alloc_cb's suggested size (65536) and the handle it is called with;
 * - an empty buffer from alloc_cb: read_cb gets UV_ENOBUFS with that
 *   buffer, reading stays on, and the data is read once alloc_cb gives
 *   room again;
 * - a 1-byte buffer: one byte per read_cb; uv_read_stop from inside
 *   read_cb stops further calls (alloc_cb and read_cb are cleared in the
 *   struct) and the rest waits in the kernel, read after uv_read_start;
 * - UV_EOF hands back the buffer alloc_cb gave for that read;
 * - uv_read_stop on a stream that does not read is 0; uv_read_start with a
 *   NULL callback, or on a closing handle, is UV_EINVAL.
 */
#include <uv.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "test.h"

static uv_loop_t loop;
static uv_pipe_t a, b;
static uv_write_t wreq;
static int mode; /* 0: empty buffer first, 1: one byte, 2: normal */
static int allocs;
static int enobufs;
static char got[64];
static size_t got_len;
static int eofs;
static char* last_alloc;
static char one;

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  ASSERT_PTR_EQ(handle, &b);
  ASSERT_EQ(suggested, 65536);
  allocs++;
  if (mode == 0) {
    buf->base = NULL;
    buf->len = 0;
  } else if (mode == 1) {
    buf->base = &one;
    buf->len = 1;
  } else {
    last_alloc = malloc(suggested);
    buf->base = last_alloc;
    buf->len = suggested;
  }
}

static void read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  ASSERT_PTR_EQ(s, &b);
  if (nread == UV_ENOBUFS) {
    ASSERT_NULL(buf->base);
    ASSERT_EQ(buf->len, 0);
    enobufs++;
    mode = 2;
    return;
  }
  if (nread == UV_EOF) {
    ASSERT_PTR_EQ(buf->base, last_alloc);
    eofs++;
    free(buf->base);
    return;
  }
  ASSERT_GE(nread, 0);
  memcpy(got + got_len, buf->base, (size_t) nread);
  got_len += (size_t) nread;
  if (mode == 1) {
    ASSERT_EQ(nread, 1);
    ASSERT_OK(uv_read_stop(s));
    ASSERT(s->read_cb == NULL);
    ASSERT(s->alloc_cb == NULL);
  } else {
    free(buf->base);
  }
}

static void write_cb(uv_write_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
}

static void send_text(const char* text) {
  uv_buf_t buf = uv_buf_init((char*) text, (unsigned) strlen(text));
  ASSERT_OK(uv_write(&wreq, (uv_stream_t*) &a, &buf, 1, write_cb));
}

int main(void) {
  uv_os_sock_t fds[2];
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_socketpair(SOCK_STREAM, 0, fds, UV_NONBLOCK_PIPE, UV_NONBLOCK_PIPE));
  ASSERT_OK(uv_pipe_init(&loop, &a, 0));
  ASSERT_OK(uv_pipe_init(&loop, &b, 0));
  ASSERT_OK(uv_pipe_open(&a, fds[0]));
  ASSERT_OK(uv_pipe_open(&b, fds[1]));
  ASSERT_OK(uv_read_stop((uv_stream_t*) &b));
  ASSERT_EQ(uv_read_start((uv_stream_t*) &b, NULL, read_cb), UV_EINVAL);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &b, alloc_cb, NULL), UV_EINVAL);

  /* An empty buffer: UV_ENOBUFS, then the data all the same. */
  send_text("first");
  ASSERT_OK(uv_read_start((uv_stream_t*) &b, alloc_cb, read_cb));
  ASSERT_PTR_EQ(b.read_cb, read_cb);
  while (got_len < 5)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(enobufs, 1);
  ASSERT_MEM_EQ(got, "first", 5);

  /* One byte at a time, stopping after the first. */
  ASSERT_OK(uv_read_stop((uv_stream_t*) &b));
  mode = 1;
  got_len = 0;
  send_text("xyz");
  ASSERT_OK(uv_read_start((uv_stream_t*) &b, alloc_cb, read_cb));
  while (got_len < 1)
    uv_run(&loop, UV_RUN_ONCE);
  for (int i = 0; i < 3; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(got_len, 1);
  ASSERT_EQ(got[0], 'x');
  ASSERT_EQ(uv_is_active((uv_handle_t*) &b), 0);
  mode = 2;
  ASSERT_OK(uv_read_start((uv_stream_t*) &b, alloc_cb, read_cb));
  while (got_len < 3)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_MEM_EQ(got, "xyz", 3);

  /* The end of the stream hands the buffer back. */
  uv_close((uv_handle_t*) &a, NULL);
  while (eofs == 0)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t*) &b, NULL);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &b, alloc_cb, read_cb), UV_EINVAL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  return 0;
}
