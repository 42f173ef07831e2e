/* The libuv process benchmark: one source, compiled against the system
 * libuv and against uv-compat. Plain libuv 1.44 API only. See bench.h for
 * the protocol.
 *
 *   spawn  count=   libuv's benchmark-spawn.c with /bin/true: spawn with
 *                   stdout piped, read it to EOF, wait for the exit; the
 *                   next spawn starts once both happened
 *   version */
#include <uv.h>

#include "bench.h"

static uv_loop_t* loop;
static char read_buf[65536];
static uv_process_t process;
static uv_pipe_t out;
static uv_process_options_t options;
static uv_stdio_container_t stdio[3];
static char* args[2] = {"/bin/true", NULL};
static long target, spawned, exited, eofs, closed;

static void check(int status, const char* what) {
  if (status != 0) {
    fprintf(stderr, "%s: %s\n", what, uv_strerror(status));
    exit(2);
  }
}

static void spawn_one(void);

/* Spawns the next child once both the process and its pipe are closed. */
static void close_cb(uv_handle_t* h) {
  (void)h;
  if (++closed % 2 == 0 && spawned < target) spawn_one();
}

static void exit_cb(uv_process_t* p, int64_t status, int signal) {
  if (status != 0 || signal != 0) fail("the child failed");
  exited++;
  uv_close((uv_handle_t*)p, close_cb);
}

static void alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void)h, (void)suggested;
  buf->base = read_buf;
  buf->len = sizeof read_buf;
}

static void read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void)buf;
  if (nread == UV_EOF) {
    eofs++;
    uv_close((uv_handle_t*)s, close_cb);
  } else if (nread < 0) {
    check((int)nread, "read");
  }
}

static void spawn_one(void) {
  check(uv_pipe_init(loop, &out, 0), "uv_pipe_init");
  options.file = args[0];
  options.args = args;
  options.exit_cb = exit_cb;
  options.stdio = stdio;
  options.stdio_count = 3;
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t*)&out;
  stdio[2].flags = UV_IGNORE;
  check(uv_spawn(loop, &process, &options), "uv_spawn");
  check(uv_read_start((uv_stream_t*)&out, alloc_cb, read_cb), "uv_read_start");
  spawned++;
}

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: bench-uvspawn SCENARIO [key=value...]");
  arm_watchdog(argc, argv);
  loop = uv_default_loop();
  const char* s = argv[1];
  if (!strcmp(s, "spawn")) {
    target = arg_long(argc, argv, "count", 1000);
    uint64_t t0 = mono_ns();
    spawn_one();
    check(uv_run(loop, UV_RUN_DEFAULT), "uv_run");
    uint64_t t1 = mono_ns();
    if (exited != target || eofs != target) fail("spawn: not every child exited and closed its stdout");
    printf("RESULT spawns=%ld ns=%llu\n", exited, (unsigned long long)(t1 - t0));
    return 0;
  }
  if (!strcmp(s, "version")) {
    printf("RESULT version_hex=%u\n", uv_version());
    return 0;
  }
  fprintf(stderr, "bench-uvspawn: unknown scenario %s\n", s);
  return 2;
}
