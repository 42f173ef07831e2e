/* spawn_pipes.c: a child's descriptors as streams (libuv's test-spawn.c
 * stdout/stdin cases and test-stdio-over-pipes.c, in our words).
 *
 * Covers: UV_CREATE_PIPE | UV_WRITABLE_PIPE on fd 1 (read to EOF; our
 * pipe readable, not writable), UV_CREATE_PIPE | UV_READABLE_PIPE on fd 0
 * (written and shut down; writable, not readable), both together on fd 3
 * (a duplex channel: the child answers what it read), UV_NONBLOCK_PIPE
 * accepted, UV_INHERIT_STREAM of a uv_pipe_t opened on a socket pair
 * (the child writes to our peer), UV_CREATE_PIPE with a TCP handle ->
 * UV_EINVAL with the process handle still to be closed, and every exit and
 * close callback once.
 */
#include <uv.h>

#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static uv_loop_t loop;
static int exit_calls;
static int64_t exit_status_seen;
static int close_calls;

typedef struct {
  uv_pipe_t pipe;
  char data[256];
  size_t len;
  int eof;
} reader_t;

static void on_close(uv_handle_t* handle) {
  (void) handle;
  close_calls++;
}

static void on_exit_cb(uv_process_t* process, int64_t status, int signal) {
  ASSERT_EQ(signal, 0);
  exit_calls++;
  exit_status_seen = status;
  uv_close((uv_handle_t*) process, on_close);
}

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  reader_t* r = handle->data;
  (void) suggested;
  buf->base = r->data + r->len;
  buf->len = sizeof r->data - 1 - r->len;
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  reader_t* r = stream->data;
  (void) buf;
  if (nread == UV_EOF) {
    r->eof = 1;
    uv_close((uv_handle_t*) stream, on_close);
    return;
  }
  ASSERT_GE(nread, 0);
  r->len += (size_t) nread;
  r->data[r->len] = '\0';
}

static void reader_init(reader_t* r) {
  memset(r, 0, sizeof *r);
  ASSERT_OK(uv_pipe_init(&loop, &r->pipe, 0));
  r->pipe.data = r;
}

static void reset(void) {
  exit_calls = 0;
  exit_status_seen = -1;
  close_calls = 0;
}

static void sh_options(uv_process_options_t* o, char** args, uv_stdio_container_t* stdio,
                       int count) {
  memset(o, 0, sizeof *o);
  o->file = "sh";
  o->args = args;
  o->exit_cb = on_exit_cb;
  o->stdio = stdio;
  o->stdio_count = count;
}

static void test_stdout(void) {
  char* args[] = {"sh", "-c", "echo hello; echo more", NULL};
  uv_stdio_container_t stdio[2];
  uv_process_options_t o;
  uv_process_t p;
  reader_t out;

  reset();
  reader_init(&out);
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t*) &out.pipe;
  sh_options(&o, args, stdio, 2);
  ASSERT_OK(uv_spawn(&loop, &p, &o));
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &out.pipe), 1);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &out.pipe), 0);
  ASSERT_OK(uv_read_start((uv_stream_t*) &out.pipe, on_alloc, on_read));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(exit_status_seen, 0);
  ASSERT_EQ(out.eof, 1);
  ASSERT_STR_EQ(out.data, "hello\nmore\n");
  ASSERT_EQ(close_calls, 2);
}

static uv_write_t write_req;
static uv_shutdown_t shutdown_req;

static void on_shutdown(uv_shutdown_t* req, int status) {
  ASSERT_OK(status);
  uv_close((uv_handle_t*) req->handle, on_close);
}

static void on_write(uv_write_t* req, int status) {
  ASSERT_OK(status);
  ASSERT_OK(uv_shutdown(&shutdown_req, req->handle, on_shutdown));
}

static void test_stdin_to_stdout(void) {
  char* args[] = {"sh", "-c", "cat", NULL};
  uv_stdio_container_t stdio[2];
  uv_process_options_t o;
  uv_process_t p;
  uv_pipe_t in;
  reader_t out;
  uv_buf_t buf = uv_buf_init("ping\n", 5);

  reset();
  ASSERT_OK(uv_pipe_init(&loop, &in, 0));
  reader_init(&out);
  stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE | UV_NONBLOCK_PIPE;
  stdio[0].data.stream = (uv_stream_t*) &in;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t*) &out.pipe;
  sh_options(&o, args, stdio, 2);
  ASSERT_OK(uv_spawn(&loop, &p, &o));
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &in), 1);
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &in), 0);
  ASSERT_OK(uv_write(&write_req, (uv_stream_t*) &in, &buf, 1, on_write));
  ASSERT_OK(uv_read_start((uv_stream_t*) &out.pipe, on_alloc, on_read));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(exit_status_seen, 0);
  ASSERT_STR_EQ(out.data, "ping\n");
  ASSERT_EQ(close_calls, 3);
}

static reader_t duplex;

static void on_duplex_write(uv_write_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
}

static void test_duplex_fd3(void) {
  char* args[] = {"sh", "-c", "read x <&3; echo \"got $x\" >&3", NULL};
  uv_stdio_container_t stdio[4];
  uv_process_options_t o;
  uv_process_t p;
  uv_buf_t buf = uv_buf_init("word\n", 5);

  reset();
  reader_init(&duplex);
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_IGNORE;
  stdio[2].flags = UV_IGNORE;
  stdio[3].flags = UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE;
  stdio[3].data.stream = (uv_stream_t*) &duplex.pipe;
  sh_options(&o, args, stdio, 4);
  ASSERT_OK(uv_spawn(&loop, &p, &o));
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &duplex.pipe), 1);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &duplex.pipe), 1);
  ASSERT_OK(uv_write(&write_req, (uv_stream_t*) &duplex.pipe, &buf, 1, on_duplex_write));
  ASSERT_OK(uv_read_start((uv_stream_t*) &duplex.pipe, on_alloc, on_read));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(exit_status_seen, 0);
  ASSERT_STR_EQ(duplex.data, "got word\n");
  ASSERT_EQ(close_calls, 2);
}

static void test_inherit_stream(void) {
  char* args[] = {"sh", "-c", "echo through", NULL};
  uv_stdio_container_t stdio[2];
  uv_process_options_t o;
  uv_process_t p;
  uv_pipe_t ours;
  int fds[2];
  char got[32];
  ssize_t n;

  reset();
  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
  ASSERT_OK(uv_pipe_init(&loop, &ours, 0));
  ASSERT_OK(uv_pipe_open(&ours, fds[0]));
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_STREAM;
  stdio[1].data.stream = (uv_stream_t*) &ours;
  sh_options(&o, args, stdio, 2);
  ASSERT_OK(uv_spawn(&loop, &p, &o));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  uv_close((uv_handle_t*) &ours, on_close);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  /* Every writer is gone: the peer reads the line, then EOF. */
  n = read(fds[1], got, sizeof got - 1);
  ASSERT_EQ(n, 8);
  got[n] = '\0';
  ASSERT_STR_EQ(got, "through\n");
  ASSERT_EQ(read(fds[1], got, sizeof got), 0);
  close(fds[1]);
  ASSERT_EQ(close_calls, 2);
}

static void test_not_a_pipe(void) {
  char* args[] = {"sh", "-c", "exit 0", NULL};
  uv_stdio_container_t stdio[2];
  uv_process_options_t o;
  uv_process_t p;
  uv_tcp_t tcp;

  reset();
  ASSERT_OK(uv_tcp_init(&loop, &tcp));
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t*) &tcp;
  sh_options(&o, args, stdio, 2);
  ASSERT_EQ(uv_spawn(&loop, &p, &o), UV_EINVAL);
  uv_close((uv_handle_t*) &p, on_close);
  uv_close((uv_handle_t*) &tcp, on_close);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_calls, 2);
  ASSERT_EQ(exit_calls, 0);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_stdout();
  test_stdin_to_stdout();
  test_duplex_fd3();
  test_inherit_stream();
  test_not_a_pipe();
  ASSERT_OK(uv_loop_close(&loop));
  printf("spawn_pipes ok\n");
  return 0;
}
