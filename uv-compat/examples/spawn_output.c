/* spawn_output: runs a program with its standard output on a pipe, prints
 * each chunk it writes prefixed with "child: ", then how it ended, and
 * exits with its exit status (128 + the signal that ended it).
 *
 *   spawn_output PROGRAM [ARGS...]      e.g. spawn_output ls -l /
 *
 * Plain libuv API: it builds against libuv itself too (cc spawn_output.c
 * -luv). */
#include <uv.h>

#include <stdio.h>
#include <stdlib.h>

static uv_pipe_t out;
static int64_t exit_status = -1;
static int term_signal;

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  static char storage[4096];
  (void) handle;
  (void) suggested;
  *buf = uv_buf_init(storage, sizeof(storage));
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0) {
    printf("child: %.*s", (int) nread, buf->base);
    if (buf->base[nread - 1] != '\n')
      putchar('\n');
  } else if (nread < 0) {
    /* UV_EOF: the child (and whatever it started) closed its output. */
    if (nread != UV_EOF)
      fprintf(stderr, "read: %s\n", uv_strerror((int) nread));
    uv_close((uv_handle_t*) stream, NULL);
  }
}

static void on_exit_cb(uv_process_t* process, int64_t status, int signal) {
  exit_status = status;
  term_signal = signal;
  uv_close((uv_handle_t*) process, NULL);
}

int main(int argc, char** argv) {
  uv_loop_t* loop = uv_default_loop();
  uv_process_t process;
  uv_process_options_t options = {0};
  uv_stdio_container_t stdio[3];
  int r;

  if (argc < 2) {
    fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  uv_pipe_init(loop, &out, 0);
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE; /* the child writes */
  stdio[1].data.stream = (uv_stream_t*) &out;
  stdio[2].flags = UV_INHERIT_FD; /* its errors go to ours */
  stdio[2].data.fd = 2;
  options.file = argv[1];
  options.args = argv + 1;
  options.exit_cb = on_exit_cb;
  options.stdio = stdio;
  options.stdio_count = 3;

  r = uv_spawn(loop, &process, &options);
  if (r != 0) {
    /* The exec failed: reported here, and the handle is still closed. */
    fprintf(stderr, "%s: %s\n", argv[1], uv_strerror(r));
    uv_close((uv_handle_t*) &process, NULL);
    uv_close((uv_handle_t*) &out, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return 127;
  }
  uv_read_start((uv_stream_t*) &out, on_alloc, on_read);
  uv_run(loop, UV_RUN_DEFAULT);
  if (term_signal != 0)
    printf("ended by signal %d\n", term_signal);
  else
    printf("exited with %lld\n", (long long) exit_status);
  uv_loop_close(loop);
  return term_signal != 0 ? 128 + term_signal : (int) exit_status;
}
