/* The libuv stream benchmark programs (TCP and Unix-socket pipes): one
 * source, compiled against the system libuv and against uv-compat, like
 * uvbench.c. Plain libuv 1.44 API only. See bench.h for the protocol.
 *
 *   echo-server     conns=                 echo every byte back until `conns`
 *                                          connections ended; CPU from the
 *                                          first read to the last end
 *   pingpong-stream kind=tcp|unix path= duration_ms=
 *                                          both ends in this loop, 64 B, one
 *                                          message in flight
 *   pump-send       kind=tcp|unix port= path= duration_ms=
 *                                          64 KiB writes to a sink, four in
 *                                          flight: each write callback
 *                                          issues the next
 *   write-batch     port= count=           libuv's tcp_write_batch: `count`
 *                                          13-byte writes queued behind the
 *                                          connect, then a shutdown
 *   pound           conns= duration_ms=    libuv's pound, both sides here:
 *                                          `conns` clients connect, the
 *                                          server accepts and closes, each
 *                                          client closes and starts again
 *   idle-server     conns=                 accept `conns` connections, read
 *                                          on each; resident memory
 *   version
 *
 * Reads go to one static buffer (callbacks run one at a time); a write that
 * must outlive its callback's data copies it into a pooled request: no
 * allocation per read or per write once the pool is warm. */
#include <uv.h>

#include "bench.h"

#include <signal.h>

static uv_loop_t* loop;
static char read_buf[65536];
static long arg_duration;

static void check(int status, const char* what) {
  if (status != 0) {
    fprintf(stderr, "%s: %s\n", what, uv_strerror(status));
    exit(2);
  }
}

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)handle, (void)suggested;
  buf->base = read_buf;
  buf->len = sizeof read_buf;
}

static void close_cb(uv_handle_t* handle) { (void)handle; }

static void free_close_cb(uv_handle_t* handle) { free(handle); }

/* --- pooled write requests, data copied inline (heap past SMALL) ------ */

#define SMALL 128
typedef struct wreq {
  uv_write_t req;
  struct wreq* next;
  char* heap;
  char small[SMALL];
} wreq;
static wreq* free_reqs;

static wreq* get_req(void) {
  wreq* r = free_reqs;
  if (r) {
    free_reqs = r->next;
    return r;
  }
  r = malloc(sizeof *r);
  if (!r) fail("out of memory");
  r->heap = NULL;
  return r;
}

static void put_req(wreq* r) {
  free(r->heap);
  r->heap = NULL;
  r->next = free_reqs;
  free_reqs = r;
}

static void pooled_write_cb(uv_write_t* req, int status) {
  (void)status; /* UV_ECANCELED when the stream closed first */
  put_req((wreq*)req);
}

/* Writes a copy of `data` (its buffer may be reused before the callback). */
static void write_copy(uv_stream_t* s, const char* data, size_t len) {
  wreq* r = get_req();
  char* dst = r->small;
  if (len > SMALL) {
    r->heap = malloc(len);
    if (!r->heap) fail("out of memory");
    dst = r->heap;
  }
  memcpy(dst, data, len);
  uv_buf_t b = uv_buf_init(dst, (unsigned)len);
  if (uv_write(&r->req, s, &b, 1, pooled_write_cb) != 0) put_req(r);
}

/* --- listening and connecting ----------------------------------------- */

static void tcp_listen(uv_tcp_t* srv, uv_connection_cb cb) {
  check(uv_tcp_init(loop, srv), "uv_tcp_init");
  struct sockaddr_in a = loopback(0);
  check(uv_tcp_bind(srv, (const struct sockaddr*)&a, 0), "uv_tcp_bind");
  check(uv_listen((uv_stream_t*)srv, 4096, cb), "uv_listen");
}

static int tcp_port(const uv_tcp_t* h) {
  struct sockaddr_in a;
  int len = sizeof a;
  check(uv_tcp_getsockname(h, (struct sockaddr*)&a, &len), "uv_tcp_getsockname");
  return ntohs(a.sin_port);
}

/* A new TCP or pipe handle, heap-allocated (freed by free_close_cb). */
static uv_stream_t* new_stream(int unix_socket) {
  if (unix_socket) {
    uv_pipe_t* p = malloc(sizeof *p);
    if (!p) fail("out of memory");
    check(uv_pipe_init(loop, p, 0), "uv_pipe_init");
    return (uv_stream_t*)p;
  }
  uv_tcp_t* t = malloc(sizeof *t);
  if (!t) fail("out of memory");
  check(uv_tcp_init(loop, t), "uv_tcp_init");
  return (uv_stream_t*)t;
}

/* Accepts into a new handle of the listener's kind. */
static uv_stream_t* accept_new(uv_stream_t* srv) {
  uv_stream_t* c = new_stream(srv->type == UV_NAMED_PIPE);
  check(uv_accept(srv, c), "uv_accept");
  if (c->type == UV_TCP) check(uv_tcp_nodelay((uv_tcp_t*)c, 1), "uv_tcp_nodelay");
  return c;
}

static void connect_to(uv_connect_t* req, uv_stream_t* s, int port, const char* path, uv_connect_cb cb) {
  if (s->type == UV_NAMED_PIPE) {
    uv_pipe_connect(req, (uv_pipe_t*)s, path, cb);
  } else {
    struct sockaddr_in a = loopback(port);
    check(uv_tcp_connect(req, (uv_tcp_t*)s, (const struct sockaddr*)&a, cb), "uv_tcp_connect");
  }
}

/* --- echo-server ------------------------------------------------------ */

static uv_tcp_t server;
static long conns_expected, conns_ended;
static uint64_t echoed, t0, c0, t1, c1;
static int started;

static void echo_close_cb(uv_handle_t* h) {
  free(h);
  if (++conns_ended == conns_expected) {
    t1 = mono_ns();
    c1 = cpu_ns();
    uv_close((uv_handle_t*)&server, close_cb);
  }
}

static void echo_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0) {
    if (!started) {
      started = 1;
      t0 = mono_ns();
      c0 = cpu_ns();
    }
    echoed += (uint64_t)nread;
    write_copy(s, buf->base, (size_t)nread);
  } else if (nread < 0) {
    uv_close((uv_handle_t*)s, echo_close_cb);
  }
}

static void echo_connection_cb(uv_stream_t* srv, int status) {
  check(status, "connection");
  check(uv_read_start(accept_new(srv), alloc_cb, echo_read_cb), "uv_read_start");
}

static int echo_server(long conns) {
  raise_nofile();
  conns_expected = conns;
  tcp_listen(&server, echo_connection_cb);
  ready(tcp_port(&server));
  uv_run(loop, UV_RUN_DEFAULT);
  printf("RESULT echoes=%llu cpu_ns=%llu ns=%llu\n", (unsigned long long)(echoed / PAYLOAD_LEN),
         (unsigned long long)(c1 - c0), (unsigned long long)(t1 - t0));
  return 0;
}

/* --- pingpong-stream --------------------------------------------------- */

static uv_stream_t *pp_client, *pp_server_side;
static uv_stream_t* pp_listener;
static uv_connect_t connect_req;
static uv_timer_t clock_timer;
static uint64_t trips, inflight;
static int time_up, unix_kind;

static void time_up_cb(uv_timer_t* t) {
  (void)t;
  time_up = 1;
}

static void pp_send(void) {
  write_copy(pp_client, payload, PAYLOAD_LEN);
  inflight = PAYLOAD_LEN;
}

static void pp_echo_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0) write_copy(s, buf->base, (size_t)nread);
  else if (nread < 0) uv_close((uv_handle_t*)s, free_close_cb);
}

static void pp_client_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void)buf;
  if (nread < 0) check((int)nread, "read");
  if (nread <= 0) return;
  inflight -= (uint64_t)nread;
  if (inflight > 0) return;
  trips++;
  if (time_up) {
    t1 = mono_ns();
    uv_close((uv_handle_t*)s, free_close_cb); /* the server side reads EOF */
    uv_close((uv_handle_t*)pp_listener, close_cb);
    uv_close((uv_handle_t*)&clock_timer, close_cb);
    return;
  }
  pp_send();
}

static void pp_connection_cb(uv_stream_t* srv, int status) {
  check(status, "connection");
  pp_server_side = accept_new(srv);
  check(uv_read_start(pp_server_side, alloc_cb, pp_echo_cb), "uv_read_start");
}

static void pp_connect_cb(uv_connect_t* req, int status) {
  check(status, "connect");
  if (req->handle->type == UV_TCP) check(uv_tcp_nodelay((uv_tcp_t*)req->handle, 1), "uv_tcp_nodelay");
  check(uv_read_start(req->handle, alloc_cb, pp_client_read_cb), "uv_read_start");
  check(uv_timer_start(&clock_timer, time_up_cb, (uint64_t)arg_duration, 0), "uv_timer_start");
  t0 = mono_ns();
  pp_send();
}

static uv_stream_t* listen_kind(const char* path, uv_connection_cb cb, int* port) {
  if (unix_kind) {
    static uv_pipe_t p;
    unlink(path);
    check(uv_pipe_init(loop, &p, 0), "uv_pipe_init");
    check(uv_pipe_bind(&p, path), "uv_pipe_bind");
    check(uv_listen((uv_stream_t*)&p, 128, cb), "uv_listen");
    *port = 0;
    return (uv_stream_t*)&p;
  }
  tcp_listen(&server, cb);
  *port = tcp_port(&server);
  return (uv_stream_t*)&server;
}

static int pingpong_stream(const char* path) {
  int port;
  pp_listener = listen_kind(path, pp_connection_cb, &port);
  check(uv_timer_init(loop, &clock_timer), "uv_timer_init");
  pp_client = new_stream(unix_kind);
  connect_to(&connect_req, pp_client, port, path, pp_connect_cb);
  uv_run(loop, UV_RUN_DEFAULT);
  if (unix_kind) unlink(path);
  printf("RESULT round_trips=%llu ns=%llu\n", (unsigned long long)trips, (unsigned long long)(t1 - t0));
  return 0;
}

/* --- pump-send ---------------------------------------------------------- */

#define PUMP_CHUNK 65536
#define PUMP_INFLIGHT 4
static char pump_buf[PUMP_CHUNK];
static uv_stream_t* pump;
static uint64_t pumped, pump_pending;
static uv_shutdown_t shutdown_req;

static void pump_shutdown_cb(uv_shutdown_t* req, int status) {
  check(status, "shutdown");
  t1 = mono_ns();
  c1 = cpu_ns();
  uv_close((uv_handle_t*)req->handle, free_close_cb);
  uv_close((uv_handle_t*)&clock_timer, close_cb);
}

static void pump_write(void);

static void pump_write_cb(uv_write_t* req, int status) {
  check(status, "write");
  put_req((wreq*)req);
  pump_pending--;
  if (!time_up) {
    pump_write();
  } else if (pump_pending == 0) {
    check(uv_shutdown(&shutdown_req, pump, pump_shutdown_cb), "uv_shutdown");
  }
}

/* One 64 KiB write; its callback writes the next (PUMP_INFLIGHT in flight
 * in every implementation). */
static void pump_write(void) {
  wreq* r = get_req();
  uv_buf_t b = uv_buf_init(pump_buf, PUMP_CHUNK);
  check(uv_write(&r->req, pump, &b, 1, pump_write_cb), "uv_write");
  pump_pending++;
  pumped += PUMP_CHUNK;
}

static void pump_connect_cb(uv_connect_t* req, int status) {
  check(status, "connect");
  check(uv_timer_start(&clock_timer, time_up_cb, (uint64_t)arg_duration, 0), "uv_timer_start");
  t0 = mono_ns();
  c0 = cpu_ns();
  for (int i = 0; i < PUMP_INFLIGHT; i++) pump_write();
  (void)req;
}

static int pump_send(int port, const char* path) {
  memset(pump_buf, 'p', sizeof pump_buf);
  check(uv_timer_init(loop, &clock_timer), "uv_timer_init");
  pump = new_stream(unix_kind);
  connect_to(&connect_req, pump, port, path, pump_connect_cb);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("RESULT bytes=%llu cpu_ns=%llu ns=%llu\n", (unsigned long long)pumped, (unsigned long long)(c1 - c0),
         (unsigned long long)(t1 - t0));
  return 0;
}

/* --- write-batch: libuv's benchmark-tcp-write-batch.c ------------------ */

static const char batch_data[] = "Hello, world.";
static uint64_t batch_written;

static void batch_write_cb(uv_write_t* req, int status) {
  (void)req;
  check(status, "write");
  batch_written++;
}

static void batch_shutdown_cb(uv_shutdown_t* req, int status) {
  check(status, "shutdown");
  uv_close((uv_handle_t*)req->handle, close_cb);
}

static void batch_connect_cb(uv_connect_t* req, int status) {
  (void)req;
  check(status, "connect");
}

static int write_batch(int port, long count) {
  static uv_tcp_t client;
  uv_write_t* reqs = malloc((size_t)count * sizeof *reqs);
  if (!reqs) fail("out of memory");
  check(uv_tcp_init(loop, &client), "uv_tcp_init");
  struct sockaddr_in a = loopback(port);
  check(uv_tcp_connect(&connect_req, &client, (const struct sockaddr*)&a, batch_connect_cb), "uv_tcp_connect");
  uv_buf_t b = uv_buf_init((char*)batch_data, sizeof batch_data - 1);
  for (long i = 0; i < count; i++)
    check(uv_write(&reqs[i], (uv_stream_t*)&client, &b, 1, batch_write_cb), "uv_write");
  check(uv_shutdown(&shutdown_req, (uv_stream_t*)&client, batch_shutdown_cb), "uv_shutdown");
  uint64_t a0 = mono_ns();
  uv_run(loop, UV_RUN_DEFAULT);
  uint64_t a1 = mono_ns();
  if (batch_written != (uint64_t)count) fail("not every write callback ran");
  free(reqs);
  printf("RESULT writes=%llu ns=%llu\n", (unsigned long long)batch_written, (unsigned long long)(a1 - a0));
  return 0;
}

/* --- pound: connect, accept, close, again ------------------------------ */

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
} pounder;

static uint64_t pound_done;
static int pound_port;

static void pound_start(pounder* p);

static void pounder_close_cb(uv_handle_t* h) {
  pounder* p = (pounder*)h;
  pound_done++;
  if (!time_up) pound_start(p);
  else free(p);
}

static void pound_connect_cb(uv_connect_t* req, int status) {
  if (!time_up) check(status, "connect"); /* the listener may be gone at the end */
  uv_close((uv_handle_t*)req->handle, pounder_close_cb);
}

static void pound_start(pounder* p) {
  check(uv_tcp_init(loop, &p->tcp), "uv_tcp_init");
  connect_to(&p->req, (uv_stream_t*)&p->tcp, pound_port, NULL, pound_connect_cb);
}

static void pound_connection_cb(uv_stream_t* srv, int status) {
  check(status, "connection");
  uv_tcp_t* c = malloc(sizeof *c);
  if (!c) fail("out of memory");
  check(uv_tcp_init(loop, c), "uv_tcp_init");
  check(uv_accept(srv, (uv_stream_t*)c), "uv_accept");
  uv_close((uv_handle_t*)c, free_close_cb);
}

static void pound_end_cb(uv_timer_t* t) {
  time_up = 1;
  t1 = mono_ns();
  uv_close((uv_handle_t*)&server, close_cb);
  uv_close((uv_handle_t*)t, close_cb);
}

static int pound(long conns) {
  raise_nofile();
  tcp_listen(&server, pound_connection_cb);
  pound_port = tcp_port(&server);
  check(uv_timer_init(loop, &clock_timer), "uv_timer_init");
  check(uv_timer_start(&clock_timer, pound_end_cb, (uint64_t)arg_duration, 0), "uv_timer_start");
  t0 = mono_ns();
  for (long i = 0; i < conns; i++) {
    pounder* p = malloc(sizeof *p);
    if (!p) fail("out of memory");
    pound_start(p);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  printf("RESULT connections=%llu ns=%llu\n", (unsigned long long)pound_done, (unsigned long long)(t1 - t0));
  return 0;
}

/* --- idle-server: memory per idle connection -------------------------- */

static long idle_accepted;
static long base_kb;

static void idle_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  (void)s, (void)nread, (void)buf;
}

static void idle_connection_cb(uv_stream_t* srv, int status) {
  check(status, "connection");
  check(uv_read_start(accept_new(srv), alloc_cb, idle_read_cb), "uv_read_start");
  if (++idle_accepted == conns_expected) {
    printf("RESULT conns=%ld base_kb=%ld rss_kb=%ld hwm_kb=%ld\n", idle_accepted, base_kb, status_kb("VmRSS:"),
           status_kb("VmHWM:"));
    fflush(stdout);
    _exit(0); /* no teardown */
  }
}

static int idle_server(long conns) {
  raise_nofile();
  conns_expected = conns;
  tcp_listen(&server, idle_connection_cb);
  base_kb = status_kb("VmRSS:");
  ready(tcp_port(&server));
  uv_run(loop, UV_RUN_DEFAULT);
  fail("the loop ended before every connection came");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: bench-uvstream SCENARIO [key=value...]");
  arm_watchdog(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  loop = uv_default_loop();
  const char* s = argv[1];
  arg_duration = arg_long(argc, argv, "duration_ms", 1000);
  unix_kind = !strcmp(arg_str(argc, argv, "kind", "tcp"), "unix");
  const char* path = arg_str(argc, argv, "path", "");
  int port = (int)arg_long(argc, argv, "port", 0);
  long conns = arg_long(argc, argv, "conns", 1);
  if (!strcmp(s, "echo-server")) return echo_server(conns);
  if (!strcmp(s, "pingpong-stream")) return pingpong_stream(path);
  if (!strcmp(s, "pump-send")) return pump_send(port, path);
  if (!strcmp(s, "write-batch")) return write_batch(port, arg_long(argc, argv, "count", 1000000));
  if (!strcmp(s, "pound")) return pound(conns);
  if (!strcmp(s, "idle-server")) return idle_server(conns);
  if (!strcmp(s, "version")) {
    printf("RESULT version_hex=%u\n", uv_version());
    return 0;
  }
  fprintf(stderr, "bench-uvstream: unknown scenario %s\n", s);
  return 2;
}
