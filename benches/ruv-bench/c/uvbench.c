/* The libuv benchmark programs: one source, compiled against the system
 * libuv and against uv-compat (ruv's libuv C API), so both libraries run
 * exactly the same code. Plain libuv 1.44 API only. See bench.h for the
 * protocol.
 *
 *   flood-recv      mmsg=0|1               receive until a stop marker
 *   drain-recv      mmsg=0|1 rcvbuf=       drain the queued datagrams after "go"
 *   pingpong-client port= duration_ms= count=   against a blocking peer
 *   pingpong-loop   duration_ms= count=    both sockets in this loop
 *   pummel          senders= receivers= duration_ms=
 *   timers          count=                 zero-timeout timers: start, fire, memory
 *   idle            iterations=            one idle handle
 *   loop-alive      calls=                 libuv's loop_alive: uv_loop_alive in a loop
 *   million-timers  count=                 libuv's million_timers: init, run, close
 *   signal-latency  count=                 SIGUSR1 sent to itself, the next one
 *                                          from the callback; ns per signal
 *   signal-burst    count=                 `count` SIGUSR1 sent at once, then the
 *                                          loop run until no more arrive
 *   version                                uv_version() of the library
 *
 * mmsg=1 creates the receiving handle with UV_UDP_RECVMMSG and hands it a
 * 64 KiB x 20 buffer (libuv's largest batch); otherwise every read gets a
 * 64 KiB buffer. Buffers are static: no allocation per datagram. */
#include <uv.h>

#include "bench.h"

#include <signal.h>

#define MMSG_CHUNKS 20
#define DGRAM_MAX 65536

static uv_loop_t* loop;
static int use_mmsg;
static char recv_buf[DGRAM_MAX];
static char mmsg_buf[MMSG_CHUNKS * DGRAM_MAX];

static void check(int status, const char* what) {
  if (status != 0) {
    fprintf(stderr, "%s: %s\n", what, uv_strerror(status));
    exit(2);
  }
}

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)handle;
  (void)suggested;
  if (use_mmsg) {
    buf->base = mmsg_buf;
    buf->len = sizeof mmsg_buf;
  } else {
    buf->base = recv_buf;
    buf->len = sizeof recv_buf;
  }
}

static void close_cb(uv_handle_t* handle) { (void)handle; }

static void close_if_open(uv_handle_t* handle) {
  if (!uv_is_closing(handle)) uv_close(handle, close_cb);
}

/* A handle bound to 127.0.0.1:0 (created with RECVMMSG if `mmsg`). */
static void udp_bound(uv_udp_t* h, int mmsg) {
  check(uv_udp_init_ex(loop, h, AF_INET | (mmsg ? UV_UDP_RECVMMSG : 0)), "uv_udp_init_ex");
  struct sockaddr_in any = loopback(0);
  check(uv_udp_bind(h, (const struct sockaddr*)&any, 0), "uv_udp_bind");
}

static struct sockaddr_in udp_addr(const uv_udp_t* h) {
  struct sockaddr_in a;
  int len = sizeof a;
  check(uv_udp_getsockname(h, (struct sockaddr*)&a, &len), "uv_udp_getsockname");
  return a;
}

/* --- sends: a small pool of requests, no allocation per send --------- */

/* A handle reads up to 32 datagrams per iteration and send callbacks run
 * after the poll phase, so up to 32 sends of one handle can be waiting
 * for their callbacks. */
#define POOL 64
typedef struct {
  uv_udp_send_t req;
  int busy;
} pooled_req;
static pooled_req pool[POOL];

static void pooled_send_cb(uv_udp_send_t* req, int status) {
  (void)status;
  ((pooled_req*)req)->busy = 0;
}

static void send_payload(uv_udp_t* h, const char* data, size_t len, const struct sockaddr* to) {
  for (int i = 0; i < POOL; i++) {
    if (!pool[i].busy) {
      pool[i].busy = 1;
      uv_buf_t b = uv_buf_init((char*)data, (unsigned)len);
      check(uv_udp_send(&pool[i].req, h, &b, 1, to, pooled_send_cb), "uv_udp_send");
      return;
    }
  }
  fail("send pool exhausted");
}

/* --- flood-recv and drain-recv --------------------------------------- */

static uv_udp_t rx;
static uint64_t received, expected, t0, c0, t1, c1;
static int finished;

static void finish_receiving(void) {
  if (finished) return;
  finished = 1;
  c1 = cpu_ns();
  t1 = mono_ns();
  uv_udp_recv_stop(&rx);
  close_if_open((uv_handle_t*)&rx);
}

static void print_receive_result(void) {
  printf("RESULT received=%llu cpu_ns=%llu ns=%llu\n", (unsigned long long)received,
         (unsigned long long)(c1 - c0), (unsigned long long)(t1 - t0));
}

static void flood_recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* addr,
                          unsigned flags) {
  (void)h, (void)buf, (void)addr, (void)flags;
  if (nread <= 0 || finished) return; /* nothing waiting, UV_UDP_MMSG_FREE, or an error */
  if (nread == STOP_LEN) {
    finish_receiving();
    return;
  }
  if (received++ == 0) {
    t0 = mono_ns();
    c0 = cpu_ns();
  }
}

static int flood_recv(void) {
  udp_bound(&rx, use_mmsg);
  ready(ntohs(udp_addr(&rx).sin_port));
  check(uv_udp_recv_start(&rx, alloc_cb, flood_recv_cb), "uv_udp_recv_start");
  uv_run(loop, UV_RUN_DEFAULT);
  print_receive_result();
  return 0;
}

static void drain_recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* addr,
                          unsigned flags) {
  (void)h, (void)buf, (void)flags;
  if (nread < 0) {
    check((int)nread, "recv");
  }
  if (addr == NULL) {
    /* Nothing more waiting (or the end of a recvmmsg batch). */
    if (!(flags & UV_UDP_MMSG_FREE)) finish_receiving();
    return;
  }
  if (++received >= expected) finish_receiving();
}

static int drain_recv(long rcvbuf) {
  int fd = udp_socket((int)rcvbuf);
  check(uv_udp_init_ex(loop, &rx, AF_UNSPEC | (use_mmsg ? UV_UDP_RECVMMSG : 0)), "uv_udp_init_ex");
  check(uv_udp_open(&rx, fd), "uv_udp_open");
  ready(sock_port(fd));
  expected = (uint64_t)wait_go();
  t0 = mono_ns();
  c0 = cpu_ns();
  check(uv_udp_recv_start(&rx, alloc_cb, drain_recv_cb), "uv_udp_recv_start");
  uv_run(loop, UV_RUN_DEFAULT);
  print_receive_result();
  return 0;
}

/* --- ping-pong -------------------------------------------------------- */

static uv_udp_t ping, pong;
static uv_timer_t clock_timer;
static struct sockaddr_in ping_to;
static uint64_t trips, trip_limit;
static int time_up, against_peer;

static void time_up_cb(uv_timer_t* t) {
  (void)t;
  time_up = 1;
}

/* Starts the duration timer (if no count was given). */
static void start_clock(long duration_ms) {
  check(uv_timer_init(loop, &clock_timer), "uv_timer_init");
  if (trip_limit == 0) check(uv_timer_start(&clock_timer, time_up_cb, (uint64_t)duration_ms, 0), "uv_timer_start");
}

static void pingpong_end(void) {
  t1 = mono_ns();
  close_if_open((uv_handle_t*)&ping);
  if (!against_peer) close_if_open((uv_handle_t*)&pong);
  close_if_open((uv_handle_t*)&clock_timer);
}

/* The pinging side got its echo back: count it, then go on or stop. */
static void ping_recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* addr,
                         unsigned flags) {
  (void)buf, (void)addr, (void)flags;
  if (nread <= 0) {
    if (nread < 0) check((int)nread, "recv");
    return;
  }
  trips++;
  if (trip_limit ? trips >= trip_limit : time_up) {
    if (against_peer) /* tell the peer to stop (the harness does too) */
      send_payload(h, stop_marker, STOP_LEN, (const struct sockaddr*)&ping_to);
    pingpong_end();
    return;
  }
  send_payload(h, payload, PAYLOAD_LEN, (const struct sockaddr*)&ping_to);
}

/* The in-loop echo side. */
static void pong_recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* addr,
                         unsigned flags) {
  (void)flags;
  if (nread <= 0) {
    if (nread < 0) check((int)nread, "recv");
    return;
  }
  send_payload(h, buf->base, (size_t)nread, addr);
}

static int pingpong(int port, long duration_ms) {
  udp_bound(&ping, 0);
  if (port == 0) { /* in-loop: the echo side is in this loop */
    udp_bound(&pong, 0);
    check(uv_udp_recv_start(&pong, alloc_cb, pong_recv_cb), "uv_udp_recv_start");
    ping_to = udp_addr(&pong);
  } else {
    against_peer = 1;
    ping_to = loopback(port);
  }
  check(uv_udp_recv_start(&ping, alloc_cb, ping_recv_cb), "uv_udp_recv_start");
  start_clock(duration_ms);
  t0 = mono_ns();
  send_payload(&ping, payload, PAYLOAD_LEN, (const struct sockaddr*)&ping_to);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("RESULT round_trips=%llu ns=%llu\n", (unsigned long long)trips, (unsigned long long)(t1 - t0));
  return 0;
}

/* --- pummel: N senders x M receivers in one loop --------------------- */

typedef struct {
  uv_udp_t handle;
  uv_udp_send_t req;
  struct sockaddr_in to;
} sender_t;

static sender_t* senders;
static uv_udp_t* receivers;
static long n_senders, n_receivers;
static uint64_t pummel_sent, pummel_received;

static void pummel_send(sender_t* s);

static void pummel_send_cb(uv_udp_send_t* req, int status) {
  if (status != 0 || time_up) return; /* UV_ECANCELED once closed */
  pummel_sent++;
  pummel_send((sender_t*)req->handle);
}

static void pummel_send(sender_t* s) {
  uv_buf_t b = uv_buf_init((char*)payload, PAYLOAD_LEN);
  check(uv_udp_send(&s->req, &s->handle, &b, 1, (const struct sockaddr*)&s->to, pummel_send_cb), "uv_udp_send");
}

static void pummel_recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* addr,
                           unsigned flags) {
  (void)h, (void)buf, (void)addr, (void)flags;
  if (nread > 0 && !time_up) pummel_received++;
}

static void pummel_end_cb(uv_timer_t* t) {
  time_up = 1;
  t1 = mono_ns();
  for (long i = 0; i < n_senders; i++) uv_close((uv_handle_t*)&senders[i].handle, close_cb);
  for (long i = 0; i < n_receivers; i++) uv_close((uv_handle_t*)&receivers[i], close_cb);
  uv_close((uv_handle_t*)t, close_cb);
}

static int pummel(long duration_ms) {
  raise_nofile();
  senders = calloc((size_t)n_senders, sizeof *senders);
  receivers = calloc((size_t)n_receivers, sizeof *receivers);
  if (!senders || !receivers) fail("out of memory");
  for (long i = 0; i < n_receivers; i++) {
    udp_bound(&receivers[i], 0);
    check(uv_udp_recv_start(&receivers[i], alloc_cb, pummel_recv_cb), "uv_udp_recv_start");
  }
  for (long i = 0; i < n_senders; i++) {
    udp_bound(&senders[i].handle, 0);
    senders[i].to = udp_addr(&receivers[i % n_receivers]);
  }
  check(uv_timer_init(loop, &clock_timer), "uv_timer_init");
  check(uv_timer_start(&clock_timer, pummel_end_cb, (uint64_t)duration_ms, 0), "uv_timer_start");
  t0 = mono_ns();
  for (long i = 0; i < n_senders; i++) pummel_send(&senders[i]);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("RESULT received=%llu sent=%llu ns=%llu\n", (unsigned long long)pummel_received,
         (unsigned long long)pummel_sent, (unsigned long long)(t1 - t0));
  return 0;
}

/* --- timers ----------------------------------------------------------- */

static uint64_t fired;

static void timer_cb(uv_timer_t* t) {
  (void)t;
  fired++;
}

static int timers(long count) {
  long base_kb = status_kb("VmRSS:");
  /* The caller owns the handles in libuv: one array, touched as the
   * timers are initialized, so its memory counts. */
  uv_timer_t* t = malloc((size_t)count * sizeof *t);
  if (!t) fail("out of memory");
  uint64_t a = mono_ns();
  for (long i = 0; i < count; i++) {
    uv_timer_init(loop, &t[i]);
    uv_timer_start(&t[i], timer_cb, 0, 0);
  }
  uint64_t b = mono_ns();
  long armed_kb = status_kb("VmRSS:"); /* timed by neither half */
  uint64_t b2 = mono_ns();
  uv_run(loop, UV_RUN_DEFAULT);
  uint64_t c = mono_ns();
  if (fired != (uint64_t)count) fail("not every timer fired");
  printf("RESULT count=%ld start_ns=%llu fire_ns=%llu hwm_kb=%ld armed_kb=%ld base_kb=%ld\n", count,
         (unsigned long long)(b - a), (unsigned long long)(c - b2), status_kb("VmHWM:"), armed_kb, base_kb);
  fflush(stdout);
  _exit(0); /* no teardown of millions of handles */
}

/* --- idle --------------------------------------------------------------- */

static uint64_t idle_left;

static void idle_cb(uv_idle_t* h) {
  if (--idle_left == 0) uv_idle_stop(h);
}

static int idle(long iterations) {
  uv_idle_t h;
  check(uv_idle_init(loop, &h), "uv_idle_init");
  idle_left = (uint64_t)iterations;
  check(uv_idle_start(&h, idle_cb), "uv_idle_start");
  uint64_t a = mono_ns();
  uv_run(loop, UV_RUN_DEFAULT);
  uint64_t b = mono_ns();
  printf("RESULT iterations=%ld ns=%llu\n", iterations, (unsigned long long)(b - a));
  return 0;
}

/* --- loop-alive: libuv's benchmark-loop-count.c `loop_alive` ----------
 * One idle callback calls uv_loop_alive `calls` - 1 times (libuv counts
 * its ticks from 1), aborting if the loop ever says it is dead; the whole
 * uv_run is timed, as libuv does. */

static long alive_calls, alive_ticks;

static void alive_idle_cb(uv_idle_t* h) {
  long ticks = 0;
  while (++ticks < alive_calls) {
    if (uv_loop_alive(h->loop) == 0) abort();
  }
  alive_ticks = ticks;
  uv_idle_stop(h);
}

static int loop_alive(long calls) {
  uv_idle_t h;
  alive_calls = calls;
  check(uv_idle_init(loop, &h), "uv_idle_init");
  check(uv_idle_start(&h, alive_idle_cb), "uv_idle_start");
  uint64_t a = mono_ns();
  uv_run(loop, UV_RUN_DEFAULT);
  uint64_t b = mono_ns();
  if (alive_ticks != calls) fail("loop_alive: wrong tick count");
  printf("RESULT calls=%ld ns=%llu\n", calls, (unsigned long long)(b - a));
  return 0;
}

/* --- million-timers: libuv's benchmark-million-timers.c ------------------
 * `count` timers in one array, the timeout growing by 1 ms every 1000
 * timers; run until all fired; close them all and run until every close
 * callback ran. Timed in libuv's halves (init, dispatch, cleanup), the
 * cleanup split into the uv_close calls and the closing run; peak RSS. */

static uint64_t mt_closed;

static void mt_close_cb(uv_handle_t* h) {
  (void)h;
  mt_closed++;
}

static int million_timers(long count) {
  long base_kb = status_kb("VmRSS:");
  uv_timer_t* t = malloc((size_t)count * sizeof *t);
  if (!t) fail("out of memory");
  uint64_t timeout = 0;
  uint64_t a = mono_ns();
  for (long i = 0; i < count; i++) {
    if (i % 1000 == 0) timeout++;
    check(uv_timer_init(loop, &t[i]), "uv_timer_init");
    check(uv_timer_start(&t[i], timer_cb, timeout, 0), "uv_timer_start");
  }
  uint64_t b = mono_ns();
  check(uv_run(loop, UV_RUN_DEFAULT), "uv_run");
  uint64_t c = mono_ns();
  for (long i = 0; i < count; i++) uv_close((uv_handle_t*)&t[i], mt_close_cb);
  uint64_t d = mono_ns();
  check(uv_run(loop, UV_RUN_DEFAULT), "uv_run");
  uint64_t e = mono_ns();
  if (fired != (uint64_t)count) fail("not every timer fired");
  if (mt_closed != (uint64_t)count) fail("not every close callback ran");
  long hwm_kb = status_kb("VmHWM:");
  free(t);
  printf("RESULT count=%ld init_ns=%llu run_ns=%llu close_ns=%llu close_calls_ns=%llu hwm_kb=%ld base_kb=%ld\n",
         count, (unsigned long long)(b - a), (unsigned long long)(c - b), (unsigned long long)(e - c),
         (unsigned long long)(d - c), hwm_kb, base_kb);
  return 0;
}

/* --- signals: kill to callback -------------------------------------------- */

static uv_signal_t sig;
static uint64_t signals_seen, signals_wanted;

static void latency_cb(uv_signal_t* h, int signum) {
  (void)signum;
  if (++signals_seen < signals_wanted) {
    if (kill(getpid(), SIGUSR1) != 0) die("kill");
  } else {
    uv_close((uv_handle_t*)h, close_cb);
  }
}

static int signal_latency(long count) {
  signals_wanted = (uint64_t)count;
  check(uv_signal_init(loop, &sig), "uv_signal_init");
  check(uv_signal_start(&sig, latency_cb, SIGUSR1), "uv_signal_start");
  uint64_t a = mono_ns();
  if (kill(getpid(), SIGUSR1) != 0) die("kill");
  uv_run(loop, UV_RUN_DEFAULT);
  uint64_t b = mono_ns();
  printf("RESULT signals=%llu ns=%llu\n", (unsigned long long)signals_seen, (unsigned long long)(b - a));
  return 0;
}

static void burst_cb(uv_signal_t* h, int signum) {
  (void)h, (void)signum;
  signals_seen++;
}

/* Each kill to itself runs the handler before kill returns, so the
 * process catches all `count`; how many callbacks follow is the loop's
 * business (libuv: one per catch). */
static int signal_burst(long count) {
  check(uv_signal_init(loop, &sig), "uv_signal_init");
  check(uv_signal_start(&sig, burst_cb, SIGUSR1), "uv_signal_start");
  uint64_t a = mono_ns();
  for (long i = 0; i < count; i++)
    if (kill(getpid(), SIGUSR1) != 0) die("kill");
  int quiet = 0;
  uint64_t b = a;
  while (signals_seen < (uint64_t)count && quiet < 100) {
    uint64_t before = signals_seen;
    uv_run(loop, UV_RUN_NOWAIT);
    if (signals_seen == before) quiet++;
    else {
      quiet = 0;
      b = mono_ns();
    }
  }
  uv_close((uv_handle_t*)&sig, close_cb);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("RESULT sent=%ld signals=%llu ns=%llu\n", count, (unsigned long long)signals_seen,
         (unsigned long long)(b - a));
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: bench-uv SCENARIO [key=value...]");
  arm_watchdog(argc, argv);
  loop = uv_default_loop();
  use_mmsg = (int)arg_long(argc, argv, "mmsg", 0);
  trip_limit = (uint64_t)arg_long(argc, argv, "count", 0);
  const char* s = argv[1];
  long duration_ms = arg_long(argc, argv, "duration_ms", 1000);
  if (!strcmp(s, "flood-recv")) return flood_recv();
  if (!strcmp(s, "drain-recv")) return drain_recv(arg_long(argc, argv, "rcvbuf", 0));
  if (!strcmp(s, "pingpong-client")) return pingpong((int)arg_long(argc, argv, "port", 0), duration_ms);
  if (!strcmp(s, "pingpong-loop")) return pingpong(0, duration_ms);
  if (!strcmp(s, "pummel")) {
    n_senders = arg_long(argc, argv, "senders", 1);
    n_receivers = arg_long(argc, argv, "receivers", 1);
    return pummel(duration_ms);
  }
  if (!strcmp(s, "timers")) return timers(arg_long(argc, argv, "count", 1000000));
  if (!strcmp(s, "idle")) return idle(arg_long(argc, argv, "iterations", 1000000));
  if (!strcmp(s, "loop-alive")) return loop_alive(arg_long(argc, argv, "calls", 200000000));
  if (!strcmp(s, "million-timers")) return million_timers(arg_long(argc, argv, "count", 10000000));
  if (!strcmp(s, "signal-latency")) return signal_latency(arg_long(argc, argv, "count", 100000));
  if (!strcmp(s, "signal-burst")) return signal_burst(arg_long(argc, argv, "count", 1000));
  if (!strcmp(s, "version")) {
    printf("RESULT version_hex=%u\n", uv_version());
    return 0;
  }
  fprintf(stderr, "bench-uv: unknown scenario %s\n", s);
  return 2;
}
