/* model.c: a randomised model test of the libuv C API.
 *
 * Each seed drives one program: a loop, up to a few handles of every kind
 * (timer, idle, prepare, check, async, poll on a loopback UDP socket we own,
 * UDP), and a random sequence of operations on them, made at top level and,
 * nested, inside every kind of callback: init, bind, open, connect and
 * disconnect, recv start/stop (alloc_cb handing out full, short, empty and
 * recvmmsg-sized buffers), uv_udp_send with 1..4 buffers (and with more
 * than IOV_MAX), uv_udp_try_send, the uv_udp_set_* options and small send
 * buffers, close (also of the handle whose callback runs, and new handles
 * made in close callbacks), walk and walk-close (uv_walk + uv_close),
 * timer start/stop/again/set_repeat with extreme values, idle/prepare/check
 * start/stop, async sends from the loop thread and from sender threads,
 * poll start/stop, ref/unref, uv_stop, uv_update_time, uv_run in every mode,
 * uv_loop_close while handles remain, child processes (uv_spawn of true,
 * `exit N`, `sleep 1000` and a missing program; uv_process_kill and
 * uv_kill with SIGTERM, SIGKILL and 0; close before the exit), and a
 * second loop run to its end from
 * a callback of the first, whose callbacks operate on the first loop.
 *
 * The model checks after every operation and in every callback: is_active,
 * is_closing and has_ref as the model expects; the send queue counters
 * exact (the unwritten sends are the newest ones, their bytes add up to
 * send_queue_size); send callbacks in FIFO order per handle, never inside
 * uv_udp_send; a timer never fires before its due time and is active in its
 * callback exactly when it repeats, due_in exact, timers fire in (due time,
 * start) order; no callback for a closing handle; at most one async
 * callback per send; uv_walk visits every open or closing handle once and
 * nothing else; uv_loop_alive exactly as the model expects between runs,
 * uv_run's result agreeing with it. Every
 * datagram carries a unique id, its length and its sender's sequence number:
 * a receiver (UDP handle or poll socket) checks its bytes, that it comes
 * whole (or flagged UV_UDP_PARTIAL), once, in its sender's order, from its
 * sender's address, and never for a send that failed. At the end of each
 * program: every accepted send had exactly one callback, every handle
 * exactly one close callback, every async handle with a send after its last
 * callback gets one, uv_run(DEFAULT) returns 0, uv_loop_close returns 0 and
 * the process has the descriptors it started with. Processes: every exit
 * callback once, never for a closing handle, with the status the child's
 * program and the signals sent to it allow; the handle inactive from its
 * exit callback on; UV_ESRCH once reaped or after a failed spawn
 * (uv-compat); no child left unreaped at the end (on uv-compat the loop
 * reaps the children of closed handles; libuv leaves them to us,
 * libuv#1911). Memory errors and leaks
 * are left to valgrind and ASan/LSan, which the test harness runs this under.
 *
 * Usage: model [FIRST_SEED [COUNT]]; the environment variables
 * RUV_CMODEL_SEED and RUV_CMODEL_SEEDS give the defaults (1 and 50). On a
 * failure (a failed check, a crash, a program hanging for 20 s) it prints
 * the seed and the tail of the operation log and aborts; `model SEED 1`
 * replays that program's top-level operations (what happens in callbacks
 * depends on timing too).
 *
 * It builds and passes against the system libuv too (cc model.c -luv
 * -lpthread): that checks the model itself. The checks of behaviour that
 * libuv leaves undefined (operations on closing handles, nested uv_run) run
 * only on uv-compat (on_uv_compat() in test.h: known from our uv.h, or told
 * by the test runner to a binary built against libuv's header).
 */
#include <uv.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

#define N_TIMER 4
#define N_IDLE 6
#define N_PREPARE 6
#define N_CHECK 6
#define N_ASYNC 3
#define N_POLL 3
#define N_UDP 5
#define N_SIGNAL 3
#define N_PROCESS 3
#define N_SLOTS                                                          \
  (N_TIMER + N_IDLE + N_PREPARE + N_CHECK + N_ASYNC + N_POLL + N_UDP + \
   N_SIGNAL + N_PROCESS)
#define MAX_ORPHANS 512 /* children of process handles closed before exit */

#define TOP_OPS 160        /* top-level operations per program */
#define MAX_NEST 3         /* depth of operations made inside callbacks */
#define MAX_SENDERS 256    /* UDP handles per program */
#define MAX_DGRAMS 4096    /* datagram ids per program */
#define CB_BUDGET 3000     /* callbacks per uv_run before the model stops it */
#define GUARD_MS 2         /* bound on how long a top-level uv_run blocks */
#define HDR 16             /* datagram header: tag, id, length, seq */
#define MMSG_CHUNK (64 * 1024)
#define STALE 8

enum kind {
  K_TIMER, K_IDLE, K_PREPARE, K_CHECK, K_ASYNC, K_POLL, K_UDP, K_SIGNAL,
  K_PROCESS, K_KINDS
};
enum state { S_FREE, S_OPEN, S_CLOSING };
enum dg_state { DG_UNUSED, DG_PENDING, DG_OK, DG_FAILED };

static const char* const kind_name[K_KINDS] = {
  "timer", "idle", "prepare", "check", "async", "poll", "udp", "signal",
  "process",
};

/* What a receiving endpoint has seen: the last sequence number (+1) from
 * each sender, so datagrams from one sender must arrive in order. */
typedef struct {
  uint32_t last_seq[MAX_SENDERS];
} rx_t;

/* A loopback UDP socket a poll handle watches; two poll handles may share
 * one (uv_poll_init on it is UV_EEXIST only while the other is started, as
 * libuv). */
typedef struct {
  int fd;
  int refs;
  struct sockaddr_in addr;
  rx_t rx;
} psock_t;

typedef struct sendreq {
  uv_udp_send_t req;
  struct slot* slot;
  uint32_t id;
  size_t size;
  char* data;
  int cbs;
  int huge; /* more buffers than IOV_MAX: never a datagram */
  struct sendreq* next;
} sendreq_t;

typedef struct slot {
  enum kind kind;
  int index;
  enum state state;
  uv_handle_t* h; /* malloc'd at init, freed by the close callback */
  int close_cbs;
  int active;     /* the model's uv_is_active (not used for UDP) */
  int refd;
  /* timer */
  uint64_t timeout, repeat, due;
  uint64_t start_seq; /* when it was last (re)started */
  int has_cb;
  /* idle, prepare, check */
  int started;
  /* async */
  atomic_uint async_sends;
  atomic_int dirty; /* a send after the last callback began */
  atomic_int async_closing; /* uv_close called: sends may be UV_EINVAL */
  unsigned async_cbs;
  int has_thread;
  uv_thread_t thread;
  int thread_sends;
  /* poll */
  psock_t* ps;
  int poll_events;
  /* udp */
  int family;       /* of its socket, 0 before it has one */
  int has_socket;
  int bound;        /* bound explicitly (or by open): addr is its address */
  int autobound;    /* maybe bound by the kernel on a send or connect */
  int connected;
  unsigned disconnects;
  unsigned too_big; /* sends of datagrams too large for UDP */
  struct sockaddr_storage addr;
  struct sockaddr_storage peer;
  int reading;
  int mmsg;
  char* mmsg_buf;   /* the recvmmsg buffer whose MMSG_FREE call is due */
  int in_chunk;     /* inside a UV_UDP_MMSG_CHUNK callback */
  uint32_t sender_key;
  uint32_t seq;
  sendreq_t* pend_head; /* accepted sends waiting for their callback, FIFO */
  sendreq_t* pend_tail;
  int npend;
  int enobufs_next; /* the next alloc_cb hands out an empty buffer */
  rx_t* rx;
  /* signal: the number watched (0: stopped), one-shot, callbacks owed for
   * catches taken while it watched, a count of its starts and stops */
  int signum;
  int oneshot;
  unsigned owed;
  unsigned sig_epoch;
  /* process: what it runs (P_*), its exit code for P_EXIT, its pid (0
   * after a failed spawn), exit callbacks so far, the signals sent to it
   * (bit n: signal n), its `sh -c` script */
  int prog;
  int code;
  int pid;
  int exits;
  unsigned sigs_sent;
  char script[16];
} slot_t;

enum { P_TRUE, P_EXIT, P_SLEEP, P_MISSING, P_PROGS };

typedef struct {
  uint32_t sender_key;
  uint32_t seq;
  uint32_t len;
  uint16_t port; /* the sender's port when it was bound explicitly */
  uint8_t state;
  uint8_t received;
} dgram_t;

static uv_loop_t own_loop;
static uv_loop_t* loop; /* own_loop, or the default loop */
static uv_timer_t guard;
static slot_t slots[N_SLOTS];
static int kind_first[K_KINDS];
static int kind_count[K_KINDS] = {
  N_TIMER, N_IDLE, N_PREPARE, N_CHECK, N_ASYNC, N_POLL, N_UDP, N_SIGNAL,
  N_PROCESS,
};

static unsigned long long seed;
static uint64_t rng_state;
static int nest;          /* callbacks being run, outermost 1 */
static int in_top_run;    /* a top-level uv_run is running */
static int quiesce;       /* the final phase: callbacks make no operations */
static int in_udp_send;
static int in_uv_close;
static int in_walk;
static int run_cbs;
static int stopped_in_run; /* uv_stop was called by a callback of this run */
static int stop_pending;   /* uv_stop was called outside uv_run */
static int io_since_run;   /* I/O handles changed since the last poll */
static int have_ipv6;
static uint64_t last_now;
static uint64_t timer_starts;  /* (re)starts of timers so far */
static uint64_t fired_due;     /* the last fired timer's due time ... */
static uint64_t fired_seq;     /* ... and start number */
static uint32_t n_senders;
static uint32_t n_dgrams;
static uint32_t dgram_tag; /* this program's datagrams begin with it */
static uint8_t sender_disconnected[MAX_SENDERS];
static dgram_t dgrams[MAX_DGRAMS];
static struct sockaddr_storage stale[STALE];
static int n_stale;
static int outstanding_reqs;
static int orphans[MAX_ORPHANS]; /* pids of children closed before exit */
static int n_orphans;

static struct {
  unsigned long long ops, nested_ops, callbacks, sends, send_ok,
      try_ok, received, partial, runs, walk_closes, async_thread_sends,
      second_loops, queued, foreign, spawns;
} stats;

/* ---- operation log and failure reports ---------------------------------- */

#define LOG_LINES 64
#define LOG_WIDTH 112
static char log_ring[LOG_LINES][LOG_WIDTH];
static unsigned log_next;

static void logf_(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char* fmt, ...) {
  va_list ap;
  char* line = log_ring[log_next++ % LOG_LINES];
  int indent = nest > 0 ? 2 * nest : 0;
  memset(line, ' ', (size_t) indent);
  va_start(ap, fmt);
  vsnprintf(line + indent, LOG_WIDTH - (size_t) indent, fmt, ap);
  va_end(ap);
}

static void dump_log(void) {
  unsigned n = log_next < LOG_LINES ? log_next : LOG_LINES;
  unsigned i;
  fprintf(stderr, "model: seed %llu; last %u operations (of %u):\n", seed, n,
          log_next);
  for (i = log_next - n; i != log_next; i++)
    fprintf(stderr, "  | %s\n", log_ring[i % LOG_LINES]);
  fprintf(stderr, "model: replay with: model %llu 1\n", seed);
  fflush(stderr);
}

static void fail_(int line, const char* fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void fail_(int line, const char* fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "model.c:%d: seed %llu: ", line, seed);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  dump_log();
  signal(SIGABRT, SIG_DFL);
  abort();
}

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond))                                                              \
      fail_(__LINE__, "CHECK(" #cond ") failed: " __VA_ARGS__);               \
  } while (0)

#define CHECK_EQ(a, b)                                                        \
  do {                                                                        \
    long long a_ = (long long) (a);                                           \
    long long b_ = (long long) (b);                                           \
    if (a_ != b_)                                                             \
      fail_(__LINE__, "%s == %s failed: %lld != %lld", #a, #b, a_, b_);       \
  } while (0)

static void on_fatal_signal(int sig) {
  fprintf(stderr, "model: signal %d (%s)\n", sig,
          sig == SIGALRM ? "the program hangs" : "crash");
  dump_log();
  if (sig == SIGALRM)
    _exit(3);
  signal(sig, SIG_DFL);
  raise(sig);
}

#ifdef __SANITIZE_ADDRESS__
static void on_sanitizer_death(void) {
  dump_log();
}
#endif

static void install_crash_reporting(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_fatal_signal;
  sigaction(SIGALRM, &sa, NULL);
  sigaction(SIGABRT, &sa, NULL);
#ifdef __SANITIZE_ADDRESS__
  /* ASan reports bad accesses itself; it calls this before it exits. */
  __sanitizer_set_death_callback(on_sanitizer_death);
#else
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);
#endif
}

/* ---- random numbers ------------------------------------------------------- */

static uint64_t rnd64(void) {
  /* splitmix64 */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static unsigned rnd(unsigned n) {
  return n == 0 ? 0 : (unsigned) (rnd64() % n);
}

static int chance(unsigned percent) {
  return rnd(100) < percent;
}

/* ---- helpers -------------------------------------------------------------- */

static int count_fds(void) {
  DIR* d = opendir("/proc/self/fd");
  struct dirent* e;
  int n = 0;
  CHECK(d != NULL, "opendir /proc/self/fd");
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

static socklen_t sa_len(const struct sockaddr_storage* a) {
  return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                  : sizeof(struct sockaddr_in);
}

static uint16_t sa_port(const struct sockaddr* a) {
  if (a->sa_family == AF_INET6)
    return ntohs(((const struct sockaddr_in6*) a)->sin6_port);
  return ntohs(((const struct sockaddr_in*) a)->sin_port);
}

static void loopback(int family, struct sockaddr_storage* out) {
  memset(out, 0, sizeof(*out));
  if (family == AF_INET6) {
    CHECK_EQ(uv_ip6_addr("::1", 0, (struct sockaddr_in6*) out), 0);
  } else {
    CHECK_EQ(uv_ip4_addr("127.0.0.1", 0, (struct sockaddr_in*) out), 0);
  }
}

static slot_t* slot_of(const uv_handle_t* h) {
  slot_t* s = (slot_t*) h->data;
  CHECK(s >= slots && s < slots + N_SLOTS, "handle %p with foreign data %p",
        (void*) h, (void*) s);
  CHECK(s->h == h, "%s %d: data names another handle", kind_name[s->kind],
        s->index);
  return s;
}

static const char* sname(const slot_t* s) {
  static char buf[4][32];
  static int i;
  char* b = buf[i++ & 3];
  snprintf(b, 32, "%s%d", kind_name[s->kind], s->index);
  return b;
}

static int started_of_kind(enum kind k) {
  int i, n = 0;
  for (i = 0; i < kind_count[k]; i++) {
    slot_t* s = &slots[kind_first[k] + i];
    if (s->state == S_OPEN && s->active)
      n++;
  }
  return n;
}

/* Entered by every callback: the callback budget and the nesting depth. */
static void cb_enter(void) {
  nest++;
  stats.callbacks++;
  if (++run_cbs == CB_BUDGET) {
    logf_("callback budget: uv_stop");
    stopped_in_run = 1;
    uv_stop(loop);
  }
}

static void cb_leave(void) {
  nest--;
}

static void nested_ops(slot_t* self);
static void one_op(int top);
static void check_all(void);

/* ---- datagrams ------------------------------------------------------------ */

static unsigned char body_byte(uint32_t id, size_t i) {
  return (unsigned char) (id * 131u + (uint32_t) i * 7u + (uint32_t) (i >> 8));
}

static void put32(char* p, uint32_t v) {
  memcpy(p, &v, 4);
}

static uint32_t get32(const char* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* A new datagram of `len` bytes from `s`; NULL when the id space is used up. */
static char* make_dgram(slot_t* s, size_t len, uint32_t* id_out) {
  uint32_t id;
  char* data;
  size_t i;
  if (n_dgrams == MAX_DGRAMS)
    return NULL;
  id = n_dgrams++;
  data = malloc(len);
  CHECK(data != NULL, "malloc");
  put32(data, dgram_tag);
  put32(data + 4, id);
  put32(data + 8, (uint32_t) len);
  put32(data + 12, s->seq);
  for (i = HDR; i < len; i++)
    data[i] = (char) body_byte(id, i);
  dgrams[id].sender_key = s->sender_key;
  dgrams[id].seq = s->seq++;
  dgrams[id].len = (uint32_t) len;
  dgrams[id].port = s->bound ? sa_port((struct sockaddr*) &s->addr) : 0;
  dgrams[id].state = DG_PENDING;
  dgrams[id].received = 0;
  *id_out = id;
  return data;
}

/* Checks one received datagram (n bytes, truncated when `partial`). */
static void receive_dgram(rx_t* rx, const char* who, const char* p, size_t n,
                          int partial, const struct sockaddr* from) {
  uint32_t id, len, seq;
  dgram_t* d;
  size_t i;
  /* A datagram sent to a port before its socket closed can still be on its
   * way (loopback delivers from a softirq backlog) when a new socket takes
   * the port, even in another program or process: the tag tells. */
  if ((n >= 4 && get32(p) != dgram_tag) || (n < 4 && !partial)) {
    logf_("%s: a datagram of %zu bytes from an earlier program", who, n);
    stats.foreign++;
    return;
  }
  CHECK(n >= HDR || partial, "%s: a whole datagram of %zu bytes", who, n);
  if (n < HDR) {
    stats.partial++;
    return; /* too short to name its id */
  }
  id = get32(p + 4);
  len = get32(p + 8);
  seq = get32(p + 12);
  CHECK(id < n_dgrams, "%s: unknown id %u", who, id);
  d = &dgrams[id];
  logf_("%s: recv id %u (%zu of %u bytes%s)", who, id, n, len,
        partial ? ", partial" : "");
  CHECK(d->len == len && d->seq == seq, "%s: id %u header garbled", who, id);
  if (partial) {
    CHECK(n < len, "%s: id %u flagged partial with %zu of %u bytes", who, id,
          n, len);
    stats.partial++;
  } else {
    CHECK(n == len, "%s: id %u has %zu bytes, sent %u (merged or cut)", who,
          id, n, len);
  }
  for (i = HDR; i < n; i++)
    CHECK((unsigned char) p[i] == body_byte(id, i),
          "%s: id %u byte %zu differs", who, id, i);
  CHECK(!d->received, "%s: id %u received twice", who, id);
  CHECK(d->state != DG_FAILED, "%s: id %u arrived but its send failed", who,
        id);
  CHECK(rx->last_seq[d->sender_key] <= d->seq,
        "%s: id %u (seq %u of sender %u) after seq %u", who, id, d->seq,
        d->sender_key, rx->last_seq[d->sender_key] - 1);
  rx->last_seq[d->sender_key] = d->seq + 1;
  /* A queued datagram leaves from the address the socket has when it is
   * written: known while its sender never disconnected. */
  if (d->port != 0 && from != NULL && !sender_disconnected[d->sender_key])
    CHECK_EQ(sa_port(from), d->port);
  d->received = 1;
  stats.received++;
}

/* ---- the handles' callbacks ----------------------------------------------- */

static void join_sender(slot_t* s);

static void close_cb(uv_handle_t* h) {
  slot_t* s = slot_of(h);
  cb_enter();
  logf_("close_cb %s", sname(s));
  CHECK(!in_uv_close, "close callback inside uv_close");
  CHECK(s->state == S_CLOSING, "close callback for %s in state %d", sname(s),
        s->state);
  CHECK_EQ(s->close_cbs, 0);
  s->close_cbs++;
  if (s->kind == K_UDP) {
    CHECK(s->npend == 0, "%s closed with %d sends without a callback",
          sname(s), s->npend);
    CHECK(s->mmsg_buf == NULL, "%s closed, its recvmmsg buffer not returned",
          sname(s));
    free(s->rx);
    s->rx = NULL;
  }
  if (s->kind == K_ASYNC)
    join_sender(s);
  if (s->kind == K_POLL) {
    if (--s->ps->refs == 0) {
      CHECK_EQ(close(s->ps->fd), 0);
      free(s->ps);
    }
    s->ps = NULL;
  }
  free(h);
  s->h = NULL;
  s->state = S_FREE;
  /* New handles made here may take the closed handle's place (its slot in
   * uv-compat, its memory in malloc). */
  nested_ops(s);
  cb_leave();
}

static void timer_cb(uv_timer_t* t) {
  slot_t* s = slot_of((uv_handle_t*) t);
  uint64_t now = uv_now(loop);
  cb_enter();
  logf_("timer_cb %s now %llu due %llu", sname(s), (unsigned long long) now,
        (unsigned long long) s->due);
  CHECK(s->state == S_OPEN, "timer callback for a closing timer");
  CHECK(s->active, "callback of a stopped timer");
  CHECK(now >= s->due, "timer fired at %llu, due %llu",
        (unsigned long long) now, (unsigned long long) s->due);
  CHECK_EQ(uv_is_active((uv_handle_t*) t), s->repeat != 0);
  /* Timers fire by due time, equal ones in start order: a timer started
   * later is due no earlier than one that already fired, so the fired
   * timers' (due, start) keys only grow. */
  CHECK(s->due > fired_due || (s->due == fired_due && s->start_seq > fired_seq),
        "timer due %llu (start %llu) fired after one due %llu (start %llu)",
        (unsigned long long) s->due, (unsigned long long) s->start_seq,
        (unsigned long long) fired_due, (unsigned long long) fired_seq);
  fired_due = s->due;
  fired_seq = s->start_seq;
  if (s->repeat != 0) {
    s->start_seq = ++timer_starts;
    s->timeout = s->repeat;
    s->due = now + s->repeat < now ? UINT64_MAX : now + s->repeat;
  } else {
    s->active = 0;
  }
  nested_ops(s);
  cb_leave();
}

static void watcher_cb(uv_handle_t* h) {
  slot_t* s = slot_of(h);
  cb_enter();
  logf_("%s_cb %s", kind_name[s->kind], sname(s));
  CHECK(s->state == S_OPEN, "callback of a closing %s", sname(s));
  CHECK(s->active, "callback of a stopped %s", sname(s));
  nested_ops(s);
  cb_leave();
}

static void idle_cb(uv_idle_t* h) {
  watcher_cb((uv_handle_t*) h);
}

static void prepare_cb(uv_prepare_t* h) {
  watcher_cb((uv_handle_t*) h);
}

static void check_cb(uv_check_t* h) {
  watcher_cb((uv_handle_t*) h);
}

static void async_cb(uv_async_t* a) {
  slot_t* s = slot_of((uv_handle_t*) a);
  unsigned sends;
  cb_enter();
  atomic_store(&s->dirty, 0);
  sends = atomic_load(&s->async_sends);
  s->async_cbs++;
  logf_("async_cb %s (%u callbacks, %u sends)", sname(s), s->async_cbs, sends);
  CHECK(s->state == S_OPEN, "callback of a closing async handle");
  CHECK(s->async_cbs <= sends, "%u async callbacks for %u sends",
        s->async_cbs, sends);
  nested_ops(s);
  cb_leave();
}

static void drain_psock(psock_t* ps, const char* who) {
  static char buf[70000];
  for (;;) {
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(ps->fd, buf, sizeof(buf), MSG_DONTWAIT,
                         (struct sockaddr*) &from, &flen);
    if (n < 0) {
      CHECK(errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED,
            "recvfrom on a poll socket: %s", strerror(errno));
      if (errno != ECONNREFUSED)
        return;
      continue;
    }
    CHECK(n > 0, "an empty datagram");
    receive_dgram(&ps->rx, who, buf, (size_t) n, 0, (struct sockaddr*) &from);
  }
}

static void poll_cb(uv_poll_t* p, int status, int events) {
  slot_t* s = slot_of((uv_handle_t*) p);
  cb_enter();
  logf_("poll_cb %s status %d events %d (asked %d)", sname(s), status, events,
        s->poll_events);
  CHECK(s->state == S_OPEN, "callback of a closing poll handle");
  CHECK(s->active, "callback of a stopped poll handle");
  CHECK_EQ(status, 0);
  CHECK(events != 0 && (events & ~s->poll_events) == 0,
        "events %d, asked for %d", events, s->poll_events);
  if (events & UV_READABLE)
    drain_psock(s->ps, sname(s));
  nested_ops(s);
  cb_leave();
}

static void alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  slot_t* s = slot_of(h);
  size_t len;
  cb_enter();
  CHECK(s->state == S_OPEN && s->reading, "alloc_cb of %s, not reading",
        sname(s));
  CHECK(suggested > 0, "suggested size 0");
  if (s->mmsg) {
    CHECK(s->mmsg_buf == NULL, "%s: alloc_cb before MMSG_FREE", sname(s));
    len = MMSG_CHUNK * (1 + rnd(3));
  } else if (s->enobufs_next) {
    s->enobufs_next = 0;
    len = 0;
  } else if (chance(10)) {
    len = 1 + rnd(200); /* short: truncates most datagrams */
  } else {
    len = suggested;
  }
  logf_("alloc_cb %s: %zu bytes (suggested %zu)", sname(s), len, suggested);
  buf->base = len ? malloc(len) : NULL;
  buf->len = len;
  CHECK(len == 0 || buf->base != NULL, "malloc");
  if (s->mmsg)
    s->mmsg_buf = buf->base;
  cb_leave();
}

static void recv_cb(uv_udp_t* u, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  slot_t* s = slot_of((uv_handle_t*) u);
  int chunk = (flags & UV_UDP_MMSG_CHUNK) != 0;
  cb_enter();
  logf_("recv_cb %s nread %zd flags %u%s", sname(s), nread, flags,
        addr ? "" : " addr NULL");
  /* libuv still reports the rest of a recvmmsg batch after uv_close. */
  CHECK(s->state == S_OPEN || (s->mmsg_buf != NULL && buf->base != NULL),
        "recv callback of a closing %s", sname(s));
  CHECK(s->reading || s->state == S_CLOSING, "recv callback after recv_stop");
  if (nread > 0) {
    CHECK(addr != NULL, "data without a sender address");
    CHECK((size_t) nread <= buf->len, "nread %zd > buffer %zu", nread,
          buf->len);
    receive_dgram(s->rx, sname(s), buf->base, (size_t) nread,
                  (flags & UV_UDP_PARTIAL) != 0, addr);
  } else if (nread == 0) {
    CHECK(addr == NULL, "an empty datagram arrived");
  } else {
    CHECK(nread == UV_ENOBUFS || nread == UV_ECONNREFUSED,
          "recv error %zd (%s)", nread, uv_err_name((int) nread));
    CHECK(nread != UV_ENOBUFS || buf->len == 0, "UV_ENOBUFS with %zu bytes",
          buf->len);
  }
  if (chunk) {
    CHECK(s->mmsg && s->mmsg_buf != NULL, "MMSG_CHUNK outside a batch");
    CHECK(buf->base >= s->mmsg_buf, "a chunk outside its buffer");
    s->in_chunk++;
  } else if (s->mmsg_buf != NULL) {
    /* The batch's buffer comes back (MMSG_FREE, or a plain read). */
    CHECK(buf->base == s->mmsg_buf, "%s: another buffer came back",
          sname(s));
    free(buf->base);
    s->mmsg_buf = NULL;
  } else {
    free(buf->base);
  }
  if (s->state == S_OPEN)
    nested_ops(s);
  if (chunk) {
    s->in_chunk--;
    /* Stopped inside a chunk callback: the batch ends without MMSG_FREE. */
    if (s->in_chunk == 0 && !s->reading && s->mmsg_buf != NULL) {
      free(s->mmsg_buf);
      s->mmsg_buf = NULL;
    }
  }
  cb_leave();
}

static void send_cb(uv_udp_send_t* req, int status) {
  sendreq_t* r = (sendreq_t*) req;
  slot_t* s = r->slot;
  cb_enter();
  logf_("send_cb %s id %u status %d", sname(s), r->id, status);
  CHECK(!in_udp_send, "send callback inside uv_udp_send");
  CHECK(r->cbs == 0, "second callback for send id %u", r->id);
  r->cbs++;
  CHECK(req->handle == (uv_udp_t*) s->h, "req->handle changed");
  CHECK(s->pend_head == r, "send id %u completes out of order (head id %u)",
        r->id, s->pend_head ? s->pend_head->id : 0);
  CHECK(status == 0 || status == UV_ECANCELED || status == UV_ECONNREFUSED ||
            status == UV_EMSGSIZE || (status == UV_EDESTADDRREQ && s->disconnects > 0) ||
            (status == UV_EBADF && s->state == S_CLOSING),
        "send status %d (%s)", status, uv_err_name(status));
  /* UV_EDESTADDRREQ: sends to the peer queued before a disconnect, and in
   * libuv every send of the same sendmmsg batch as one of those.
   * The same for UV_EMSGSIZE after a datagram too large.
   * UV_EBADF: libuv closed the socket under a send it had already begun. */
  CHECK(status != UV_ECANCELED || s->state == S_CLOSING,
        "UV_ECANCELED without uv_close");
  CHECK(status != UV_EMSGSIZE || s->too_big > 0, "UV_EMSGSIZE for %zu bytes",
        r->size);
  CHECK(!r->huge || status != 0, "a send of %s buffers succeeded", "> 1024");
  s->pend_head = r->next;
  if (s->pend_head == NULL)
    s->pend_tail = NULL;
  s->npend--;
  outstanding_reqs--;
  if (status == 0) {
    dgrams[r->id].state = DG_OK;
    stats.send_ok++;
  } else {
    CHECK(!dgrams[r->id].received, "id %u arrived, its send failed (%d)",
          r->id, status);
    dgrams[r->id].state = DG_FAILED;
  }
  free(r->data);
  free(r);
  if (s->state == S_OPEN)
    nested_ops(s);
  cb_leave();
}

static void guard_cb(uv_timer_t* t) {
  (void) t;
  stopped_in_run = 1;
  uv_stop(loop);
}

/* ---- invariants ------------------------------------------------------------ */

static void check_udp_queue(slot_t* s) {
  uv_udp_t* u = (uv_udp_t*) s->h;
  size_t count = uv_udp_get_send_queue_count(u);
  size_t size = uv_udp_get_send_queue_size(u);
  size_t skip, sum = 0;
  sendreq_t* r;
  CHECK_EQ(count, u->send_queue_count);
  CHECK_EQ(size, u->send_queue_size);
  CHECK(count <= (size_t) s->npend, "%s: send_queue_count %zu, %d pending",
        sname(s), count, s->npend);
  /* The unwritten sends are the newest `count` ones. */
  skip = (size_t) s->npend - count;
  for (r = s->pend_head; r != NULL; r = r->next) {
    if (skip > 0)
      skip--;
    else
      sum += r->size;
  }
  CHECK(size == sum, "%s: send_queue_size %zu, the %zu newest sends have %zu",
        sname(s), size, count, sum);
}

static void check_slot(slot_t* s) {
  uv_handle_t* h = s->h;
  if (s->state == S_FREE)
    return;
  CHECK_EQ(h->loop == loop, 1);
  CHECK(uv_is_closing(h) == (s->state == S_CLOSING), "%s: is_closing %d",
        sname(s), uv_is_closing(h));
  if (s->state == S_CLOSING) {
    CHECK(!uv_is_active(h), "%s: active while closing", sname(s));
    return;
  }
  CHECK(uv_has_ref(h) == s->refd, "%s: has_ref %d, expected %d", sname(s),
        uv_has_ref(h), s->refd);
  switch (s->kind) {
    case K_UDP:
      check_udp_queue(s);
      /* Active while receiving; neither receiving nor sending, inactive
       * (with sends in flight libuv's answer depends on their progress).
       * Inside a send callback libuv still counts the send being
       * completed, so only at top level. */
      if (nest == 0 && (s->reading || s->npend == 0))
        CHECK(uv_is_active(h) == s->reading,
              "%s: is_active %d, reading %d, %d sends pending", sname(s),
              uv_is_active(h), s->reading, s->npend);
      break;
    case K_ASYNC:
      CHECK(uv_is_active(h), "async handle inactive");
      break;
    default:
      CHECK(uv_is_active(h) == s->active, "%s: is_active %d, expected %d",
            sname(s), uv_is_active(h), s->active);
      break;
  }
  if (s->kind == K_SIGNAL)
    CHECK(((uv_signal_t*) h)->signum == s->signum, "%s: signum %d, model %d",
          sname(s), ((uv_signal_t*) h)->signum, s->signum);
  if (s->kind == K_TIMER) {
    CHECK_EQ(uv_timer_get_repeat((uv_timer_t*) h), s->repeat);
    if (s->active) {
      uint64_t now = uv_now(loop);
      CHECK_EQ(uv_timer_get_due_in((uv_timer_t*) h),
               s->due > now ? s->due - now : 0);
    }
  }
}

/* uv_backend_timeout between runs: 0 when the loop must not block (a
 * pending uv_stop, a started idle handle, a closing handle, nothing alive),
 * else the time to the next timer (clamped to INT_MAX), else -1. Skipped
 * while sends are pending: their completions may wait in libuv's queue.
 * libuv also answers 0 while descriptor changes wait for the next poll
 * phase (uv-compat while a closed handle's readiness does): allowed while
 * I/O handles exist or were made or closed since the last poll. */
static void check_backend_timeout(int live_handles, int closing) {
  int i, expect = -1, io = io_since_run, got;
  uint64_t now = uv_now(loop);
  if (outstanding_reqs > 0)
    return;
  for (i = 0; i < N_SLOTS; i++) {
    const slot_t* s = &slots[i];
    if (s->state != S_FREE &&
        (s->kind == K_POLL || s->kind == K_UDP || s->kind == K_PROCESS))
      io = 1;
    if (s->state != S_OPEN || !s->active)
      continue;
    if (s->kind == K_IDLE)
      closing = 1; /* the same answer: 0 */
    if (s->kind == K_TIMER) {
      uint64_t d = s->due > now ? s->due - now : 0;
      int t = d > INT_MAX ? INT_MAX : (int) d;
      if (expect < 0 || t < expect)
        expect = t;
    }
  }
  if (stop_pending || closing || !live_handles)
    expect = 0;
  got = uv_backend_timeout(loop);
  CHECK(got == expect || (got == 0 && io), "uv_backend_timeout %d, expected %d",
        got, expect);
}

static void check_all(void) {
  int i, live = 0, closing = 0;
  uint64_t now = uv_now(loop);
  CHECK(now >= last_now, "uv_now went back from %llu to %llu",
        (unsigned long long) last_now, (unsigned long long) now);
  last_now = now;
  for (i = 0; i < N_SLOTS; i++) {
    slot_t* s = &slots[i];
    check_slot(s);
    if (s->state == S_OPEN && s->refd &&
        (s->kind == K_ASYNC || (s->kind != K_UDP && s->active) ||
         (s->kind == K_UDP && (s->reading || s->npend > 0))))
      live = 1;
    if (s->state == S_CLOSING)
      closing = 1;
  }
  /* Between runs (the guard timer is stopped then): alive exactly when a
   * referenced handle is active, a request pending or a handle closing. */
  if (nest == 0)
    check_backend_timeout(live, closing);
  if (nest == 0) {
    live |= closing || outstanding_reqs > 0;
    CHECK(uv_loop_alive(loop) == live, "uv_loop_alive %d, expected %d",
          uv_loop_alive(loop), live);
  }
  else if (live)
    CHECK(uv_loop_alive(loop), "a referenced active handle, loop not alive");
}

/* ---- operations ------------------------------------------------------------ */

static slot_t* pick(enum kind k, enum state st) {
  int i, n = 0;
  slot_t* found = NULL;
  for (i = 0; i < kind_count[k]; i++) {
    slot_t* s = &slots[kind_first[k] + i];
    if (s->state == st && rnd(++n) == 0)
      found = s;
  }
  return found;
}

static slot_t* pick_any(enum state st) {
  int i, n = 0;
  slot_t* found = NULL;
  for (i = 0; i < N_SLOTS; i++)
    if (slots[i].state == st && rnd(++n) == 0)
      found = &slots[i];
  return found;
}

static void* new_handle(slot_t* s, size_t size) {
  void* h = malloc(size);
  CHECK(h != NULL, "malloc");
  memset(h, 0xA5, size); /* init must not rely on zeroed memory */
  s->h = h;
  return h;
}

static void opened(slot_t* s) {
  s->h->data = s;
  s->state = S_OPEN;
  s->close_cbs = 0;
  s->active = 0;
  s->refd = 1;
}

static void remember_stale(const struct sockaddr_storage* a) {
  stale[n_stale < STALE ? n_stale++ : (int) rnd(STALE)] = *a;
}

static void join_sender(slot_t* s) {
  if (!s->has_thread)
    return;
  CHECK_EQ(uv_thread_join(&s->thread), 0);
  s->has_thread = 0;
  logf_("joined the sender thread of %s", sname(s));
}

static void do_close(slot_t* s) {
  logf_("uv_close %s", sname(s));
  if (s->kind == K_UDP && s->bound)
    remember_stale(&s->addr);
  if (s->kind == K_ASYNC) {
    atomic_store(&s->async_closing, 1);
    /* In libuv uv_async_send must not race with uv_close; uv-compat makes
     * the race safe: the sender may go on until the close callback, which
     * joins it before freeing the handle. */
    if (!on_uv_compat() || chance(50))
      join_sender(s);
  }
  s->state = S_CLOSING;
  s->active = 0;
  if (s->kind == K_SIGNAL) {
    s->signum = 0;
    s->owed = 0;
    s->sig_epoch++;
  }
  if (s->kind == K_ASYNC || s->kind == K_POLL || s->kind == K_UDP ||
      s->kind == K_PROCESS)
    io_since_run = 1;
  in_uv_close = 1;
  uv_close(s->h, close_cb);
  in_uv_close = 0;
  if (s->kind == K_PROCESS && s->pid > 0 && s->exits == 0) {
    /* Its child is nobody's now: end it (a `sleep 1000` would outlive the
     * test), and see at the end that it was reaped. In libuv's exit
     * callbacks it may be reaped already (see op_process). */
    int r = uv_kill(s->pid, SIGKILL);
    if (on_uv_compat())
      CHECK_EQ(r, 0);
    else
      CHECK(r == 0 || (r == UV_ESRCH && nest > 0), "kill: %d", r);
    if (r == 0) {
      CHECK(n_orphans < MAX_ORPHANS, "too many orphans");
      orphans[n_orphans++] = s->pid;
    }
  }
}

/* Whether a started poll handle watches the socket. */
static int fd_watched(const psock_t* ps) {
  int i;
  for (i = 0; i < N_POLL; i++) {
    const slot_t* s = &slots[kind_first[K_POLL] + i];
    if (s->state == S_OPEN && s->ps == ps && s->active)
      return 1;
  }
  return 0;
}

static psock_t* new_psock(void) {
  psock_t* ps = calloc(1, sizeof(*ps));
  socklen_t len = sizeof(ps->addr);
  CHECK(ps != NULL, "calloc");
  ps->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(ps->fd >= 0, "socket: %s", strerror(errno));
  CHECK_EQ(uv_ip4_addr("127.0.0.1", 0, &ps->addr), 0);
  CHECK_EQ(bind(ps->fd, (struct sockaddr*) &ps->addr, sizeof(ps->addr)), 0);
  CHECK_EQ(getsockname(ps->fd, (struct sockaddr*) &ps->addr, &len), 0);
  ps->refs = 1;
  return ps;
}

/* ---- processes -------------------------------------------------------------
 * Children that exit at once (true, `exit N`), one that runs until killed
 * (sleep 1000) and a spawn that fails (a missing program: UV_ENOENT, the
 * handle initialized all the same). A child's status must be its program's,
 * or a signal sent to it (one sent just as it exited may be too late). */

static void exit_cb_model(uv_process_t* p, int64_t status, int term_signal) {
  slot_t* s = slot_of((uv_handle_t*) p);
  int ok;
  cb_enter();
  logf_("exit_cb %s (%lld, %d)", sname(s), (long long) status, term_signal);
  /* libuv reaps every exited child of a SIGCHLD first, then runs their
   * exit callbacks, also for a handle closed by an earlier one of them. */
  CHECK(s->state == S_OPEN || !on_uv_compat(), "exit callback of a closing %s",
        sname(s));
  CHECK(s->exits == 0, "%s: a second exit callback", sname(s));
  CHECK(s->pid > 0, "%s: an exit callback after a failed spawn", sname(s));
  s->exits++;
  CHECK(!uv_is_active((uv_handle_t*) p), "%s active in its exit callback",
        sname(s));
  CHECK_EQ(uv_process_get_pid(p), s->pid);
  if (term_signal != 0)
    ok = status == 0 && term_signal < 32 &&
         (s->sigs_sent & (1u << term_signal)) != 0;
  else
    ok = s->prog != P_SLEEP && status == (s->prog == P_EXIT ? s->code : 0);
  CHECK(ok, "%s: exit (%lld, %d), program %d (code %d), signals sent %#x",
        sname(s), (long long) status, term_signal, s->prog, s->code,
        s->sigs_sent);
  s->active = 0;
  nested_ops(s);
  cb_leave();
}

static int spawn_model(slot_t* s) {
  uv_process_options_t o;
  char* args[4];
  int r;
  s->prog = (int) rnd(P_PROGS);
  s->code = 0;
  s->pid = 0;
  s->exits = 0;
  s->sigs_sent = 0;
  memset(&o, 0, sizeof(o));
  switch (s->prog) {
    case P_TRUE:
      args[0] = "true";
      args[1] = NULL;
      break;
    case P_EXIT:
      s->code = (int) rnd(256);
      snprintf(s->script, sizeof(s->script), "exit %d", s->code);
      args[0] = "sh";
      args[1] = "-c";
      args[2] = s->script;
      args[3] = NULL;
      break;
    case P_SLEEP:
      args[0] = "sleep";
      args[1] = "1000";
      args[2] = NULL;
      break;
    default:
      args[0] = "/nonexistent/uvc-model-program";
      args[1] = NULL;
      break;
  }
  o.file = args[0];
  o.args = args;
  o.exit_cb = exit_cb_model;
  if (chance(20))
    o.flags = UV_PROCESS_WINDOWS_HIDE;
  r = uv_spawn(loop, new_handle(s, sizeof(uv_process_t)), &o);
  logf_("uv_spawn %s %s -> %d", sname(s), args[0], r);
  if (s->prog == P_MISSING) {
    CHECK_EQ(r, UV_ENOENT);
    return 0; /* initialized: closed like any other */
  }
  if (r == 0) {
    s->pid = ((uv_process_t*) s->h)->pid;
    CHECK(s->pid > 0, "pid %d", s->pid);
    stats.spawns++;
  }
  return r;
}

static void op_process(void) {
  static const int sigs[] = {SIGTERM, SIGKILL, 0};
  slot_t* s = pick(K_PROCESS, S_OPEN);
  uv_process_t* p;
  int sig = sigs[rnd(3)], r;
  if (s == NULL)
    return;
  p = (uv_process_t*) s->h;
  if (on_uv_compat() || s->pid > 0)
    CHECK_EQ(uv_process_get_pid(p), s->pid);
  if (s->pid == 0) {
    /* libuv would signal pid 0: its own process group. */
    if (on_uv_compat())
      CHECK_EQ(uv_process_kill(p, sig), UV_ESRCH);
    return;
  }
  if (s->exits > 0) {
    /* Reaped: libuv would signal whatever has the pid now. */
    if (on_uv_compat())
      CHECK_EQ(uv_process_kill(p, sig), UV_ESRCH);
    return;
  }
  /* Running, or exited and not reaped yet: either way it takes signals.
   * libuv reaps every exited child of a SIGCHLD before their exit
   * callbacks run, so in those callbacks (and what they run) a child whose
   * callback is still to come may be gone; uv-compat reaps each child
   * right before its own callback. */
  r = chance(50) ? uv_process_kill(p, sig) : uv_kill(s->pid, sig);
  logf_("kill %s %d -> %d", sname(s), sig, r);
  if (on_uv_compat())
    CHECK_EQ(r, 0);
  else
    CHECK(r == 0 || (r == UV_ESRCH && nest > 0), "kill: %d", r);
  if (sig != 0 && r == 0)
    s->sigs_sent |= 1u << sig;
}

/* At the end of a program: the children of handles closed before their
 * exit are reaped by the loop on uv-compat (it keeps watching them while
 * it runs); libuv leaves them as zombies for us to wait for. */
static uv_timer_t orphan_timer;

static void orphan_timer_cb(uv_timer_t* t) {
  int i;
  for (i = 0; i < n_orphans; i++)
    if (kill(orphans[i], 0) == 0)
      return;
  uv_close((uv_handle_t*) t, NULL);
}

static void reap_orphans(void) {
  int i, status;
  if (n_orphans == 0)
    return;
  logf_("%d orphans", n_orphans);
  if (on_uv_compat()) {
    CHECK_EQ(uv_timer_init(loop, &orphan_timer), 0);
    CHECK_EQ(uv_timer_start(&orphan_timer, orphan_timer_cb, 0, 1), 0);
    CHECK_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  } else {
    for (i = 0; i < n_orphans; i++)
      CHECK_EQ(waitpid(orphans[i], &status, 0), orphans[i]);
  }
  n_orphans = 0;
  CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD,
        "a child left unreaped");
}

static void op_init(void) {
  enum kind k = (enum kind) rnd(K_KINDS);
  slot_t* s = pick(k, S_FREE);
  int r = 0;
  if (s == NULL)
    return;
  switch (k) {
    case K_TIMER:
      r = uv_timer_init(loop, new_handle(s, sizeof(uv_timer_t)));
      s->timeout = s->repeat = s->due = 0;
      s->has_cb = 0;
      break;
    case K_IDLE:
      r = uv_idle_init(loop, new_handle(s, sizeof(uv_idle_t)));
      break;
    case K_PREPARE:
      r = uv_prepare_init(loop, new_handle(s, sizeof(uv_prepare_t)));
      break;
    case K_CHECK:
      r = uv_check_init(loop, new_handle(s, sizeof(uv_check_t)));
      break;
    case K_ASYNC:
      atomic_store(&s->async_sends, 0);
      atomic_store(&s->dirty, 0);
      atomic_store(&s->async_closing, 0);
      s->async_cbs = 0;
      s->has_thread = 0;
      r = uv_async_init(loop, new_handle(s, sizeof(uv_async_t)),
                        chance(15) ? NULL : async_cb);
      break;
    case K_POLL: {
      slot_t* other = pick(K_POLL, S_OPEN);
      psock_t* ps = other != NULL && chance(30) ? other->ps : NULL;
      uv_poll_t* p = new_handle(s, sizeof(uv_poll_t));
      if (ps != NULL)
        ps->refs++;
      else
        ps = new_psock();
      int busy = fd_watched(ps);
      s->ps = ps;
      r = chance(50) ? uv_poll_init(loop, p, ps->fd)
                     : uv_poll_init_socket(loop, p, ps->fd);
      s->poll_events = 0;
      logf_("%s on fd %d (port %u)%s -> %d", sname(s), ps->fd,
            ntohs(ps->addr.sin_port), ps->refs > 1 ? ", shared" : "", r);
      if (busy) {
        /* libuv: UV_EEXIST while another poll handle watches the fd. */
        CHECK_EQ(r, UV_EEXIST);
        ps->refs--;
        free(s->h);
        s->h = NULL;
        s->ps = NULL;
        return;
      }
      break;
    }
    case K_UDP: {
      uv_udp_t* u;
      static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
      int how = (int) rnd(3);
      if (n_senders == MAX_SENDERS)
        return;
      u = new_handle(s, sizeof(uv_udp_t));
      s->family = 0;
      s->has_socket = s->bound = s->autobound = s->connected = 0;
      s->reading = 0;
      s->mmsg = 0;
      s->mmsg_buf = NULL;
      s->in_chunk = 0;
      s->pend_head = s->pend_tail = NULL;
      s->npend = 0;
      s->seq = 0;
      s->disconnects = s->too_big = 0;
      s->enobufs_next = 0;
      s->sender_key = n_senders++;
      s->rx = calloc(1, sizeof(rx_t));
      CHECK(s->rx != NULL, "calloc");
      if (chance(3)) {
        /* Unknown flags, an unknown address family: nothing is made. */
        unsigned bad = chance(50) ? (AF_INET | 0x200u << rnd(7)) : 77u;
        r = uv_udp_init_ex(loop, u, bad);
        logf_("udp_init_ex flags %#x -> %d", bad, r);
        CHECK_EQ(r, UV_EINVAL);
        free(u);
        s->h = NULL;
        free(s->rx);
        s->rx = NULL;
        return;
      }
      if (how == 0) {
        r = uv_udp_init(loop, u);
      } else if (how == 1) {
        int fam = families[rnd(have_ipv6 ? 3 : 2)];
        unsigned flags = (unsigned) fam;
        if (chance(30)) {
          flags |= UV_UDP_RECVMMSG;
          s->mmsg = 1;
        }
        r = uv_udp_init_ex(loop, u, flags);
        if (fam != AF_UNSPEC) {
          s->family = fam;
          s->has_socket = 1;
        }
      } else {
        /* uv_udp_open on a loopback socket bound here. */
        int fam = have_ipv6 && chance(30) ? AF_INET6 : AF_INET;
        int fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        socklen_t len = sizeof(s->addr);
        CHECK(fd >= 0, "socket: %s", strerror(errno));
        loopback(fam, &s->addr);
        CHECK_EQ(bind(fd, (struct sockaddr*) &s->addr, sa_len(&s->addr)), 0);
        CHECK_EQ(getsockname(fd, (struct sockaddr*) &s->addr, &len), 0);
        r = uv_udp_init(loop, u);
        if (r == 0) {
          int ro = uv_udp_open(u, fd);
          CHECK(ro == 0, "uv_udp_open: %d", ro);
          s->family = fam;
          s->has_socket = s->bound = 1;
        } else {
          close(fd);
        }
      }
      break;
    }
    case K_SIGNAL:
      s->signum = 0;
      s->oneshot = 0;
      s->owed = 0;
      s->sig_epoch = 0;
      r = uv_signal_init(loop, new_handle(s, sizeof(uv_signal_t)));
      break;
    case K_PROCESS:
      r = spawn_model(s);
      break;
    default:
      return;
  }
  logf_("init %s -> %d", sname(s), r);
  if (k == K_ASYNC || k == K_POLL || k == K_UDP || k == K_PROCESS)
    io_since_run = 1;
  CHECK_EQ(r, 0);
  CHECK_EQ(s->h->type, (int) (k == K_TIMER     ? UV_TIMER
                              : k == K_IDLE    ? UV_IDLE
                              : k == K_PREPARE ? UV_PREPARE
                              : k == K_CHECK   ? UV_CHECK
                              : k == K_ASYNC   ? UV_ASYNC
                              : k == K_POLL    ? UV_POLL
                              : k == K_UDP     ? UV_UDP
                              : k == K_SIGNAL  ? UV_SIGNAL
                                               : UV_PROCESS));
  opened(s);
  /* Active from a successful spawn to its exit callback. */
  if (k == K_PROCESS)
    s->active = s->pid > 0;
}

static void op_close(void) {
  slot_t* s = pick_any(S_OPEN);
  if (s != NULL)
    do_close(s);
}

static uint64_t extreme_time(void) {
  static const uint64_t v[] = {
    0, 1, 2, 5, UINT64_MAX, UINT64_MAX - 1, (uint64_t) INT64_MAX,
    (uint64_t) INT64_MAX + 1, (uint64_t) UINT32_MAX, 1ull << 40,
  };
  return chance(60) ? v[rnd(4)] : v[rnd(sizeof(v) / sizeof(v[0]))];
}

static void op_timer(void) {
  slot_t* s = pick(K_TIMER, S_OPEN);
  uv_timer_t* t;
  int r;
  if (s == NULL)
    return;
  t = (uv_timer_t*) s->h;
  switch (rnd(5)) {
    case 0:
    case 1: {
      uint64_t timeout = extreme_time(), repeat = chance(60) ? 0 : extreme_time();
      uint64_t now = uv_now(loop);
      r = uv_timer_start(t, timer_cb, timeout, repeat);
      logf_("timer_start %s %llu %llu -> %d", sname(s),
            (unsigned long long) timeout, (unsigned long long) repeat, r);
      CHECK_EQ(r, 0);
      s->timeout = timeout;
      s->repeat = repeat;
      s->due = now + timeout < now ? UINT64_MAX : now + timeout;
      s->start_seq = ++timer_starts;
      s->active = 1;
      s->has_cb = 1;
      break;
    }
    case 2:
      r = uv_timer_stop(t);
      logf_("timer_stop %s -> %d", sname(s), r);
      CHECK_EQ(r, 0);
      s->active = 0;
      break;
    case 3: {
      uint64_t now = uv_now(loop);
      r = uv_timer_again(t);
      logf_("timer_again %s (repeat %llu) -> %d", sname(s),
            (unsigned long long) s->repeat, r);
      if (!s->has_cb) {
        CHECK_EQ(r, UV_EINVAL);
      } else {
        CHECK_EQ(r, 0);
        if (s->repeat != 0) {
          s->active = 1;
          s->timeout = s->repeat;
          s->due = now + s->repeat < now ? UINT64_MAX : now + s->repeat;
          s->start_seq = ++timer_starts;
        }
      }
      break;
    }
    default: {
      uint64_t repeat = chance(50) ? 0 : extreme_time();
      uv_timer_set_repeat(t, repeat);
      logf_("timer_set_repeat %s %llu", sname(s), (unsigned long long) repeat);
      s->repeat = repeat;
      break;
    }
  }
  if (chance(5)) {
    r = uv_timer_start(t, NULL, 1, 0);
    CHECK_EQ(r, UV_EINVAL);
  }
}

static void op_watcher(void) {
  enum kind k = (enum kind) (K_IDLE + rnd(3));
  slot_t* s = pick(k, S_OPEN);
  int r;
  if (s == NULL)
    return;
  if (chance(60)) {
    r = k == K_IDLE      ? uv_idle_start((uv_idle_t*) s->h, idle_cb)
        : k == K_PREPARE ? uv_prepare_start((uv_prepare_t*) s->h, prepare_cb)
                         : uv_check_start((uv_check_t*) s->h, check_cb);
    logf_("start %s -> %d", sname(s), r);
    CHECK_EQ(r, 0);
    s->active = 1;
  } else {
    r = k == K_IDLE      ? uv_idle_stop((uv_idle_t*) s->h)
        : k == K_PREPARE ? uv_prepare_stop((uv_prepare_t*) s->h)
                         : uv_check_stop((uv_check_t*) s->h);
    logf_("stop %s -> %d", sname(s), r);
    CHECK_EQ(r, 0);
    s->active = 0;
  }
}

/* Every free slot of one watcher kind initialized and every handle of it
 * started: phases with more watchers than usual. */
static void op_watcher_burst(void) {
  enum kind k = (enum kind) (K_IDLE + rnd(3));
  int i;
  logf_("burst of %s handles", kind_name[k]);
  for (i = 0; i < kind_count[k]; i++) {
    slot_t* s = &slots[kind_first[k] + i];
    int r;
    if (s->state == S_FREE) {
      r = k == K_IDLE ? uv_idle_init(loop, new_handle(s, sizeof(uv_idle_t)))
          : k == K_PREPARE
              ? uv_prepare_init(loop, new_handle(s, sizeof(uv_prepare_t)))
              : uv_check_init(loop, new_handle(s, sizeof(uv_check_t)));
      CHECK_EQ(r, 0);
      opened(s);
    }
    if (s->state != S_OPEN || s->active)
      continue;
    r = k == K_IDLE      ? uv_idle_start((uv_idle_t*) s->h, idle_cb)
        : k == K_PREPARE ? uv_prepare_start((uv_prepare_t*) s->h, prepare_cb)
                         : uv_check_start((uv_check_t*) s->h, check_cb);
    CHECK_EQ(r, 0);
    s->active = 1;
  }
  logf_("%d %s handles started", started_of_kind(k), kind_name[k]);
}

static void sender_thread(void* arg) {
  slot_t* s = arg;
  int i;
  for (i = 0; i < s->thread_sends; i++) {
    int r;
    atomic_fetch_add(&s->async_sends, 1);
    atomic_store(&s->dirty, 1);
    r = uv_async_send((uv_async_t*) s->h);
    /* Once the close callback has begun: UV_EINVAL, and the handle may
     * be freed as soon as the thread is joined. */
    if (r == UV_EINVAL && atomic_load(&s->async_closing))
      break;
    if (r != 0) {
      fprintf(stderr, "model: seed %llu: uv_async_send from a thread: %d\n",
              seed, r);
      abort();
    }
    if (i % 16 == 15)
      uv_sleep(0);
  }
}

static void op_async(void) {
  slot_t* s = pick(K_ASYNC, S_OPEN);
  int r;
  if (s == NULL)
    return;
  switch (rnd(3)) {
    case 0:
      atomic_fetch_add(&s->async_sends, 1);
      atomic_store(&s->dirty, 1);
      r = uv_async_send((uv_async_t*) s->h);
      logf_("async_send %s -> %d", sname(s), r);
      CHECK_EQ(r, 0);
      break;
    case 1:
      if (s->has_thread)
        return;
      s->thread_sends = 1 + (int) rnd(100);
      stats.async_thread_sends += (unsigned) s->thread_sends;
      r = uv_thread_create(&s->thread, sender_thread, s);
      logf_("sender thread for %s: %d sends -> %d", sname(s), s->thread_sends,
            r);
      CHECK_EQ(r, 0);
      s->has_thread = 1;
      break;
    default:
      join_sender(s);
      break;
  }
}

static void op_poll(void) {
  static const int evs[] = {
    UV_READABLE, UV_READABLE, UV_READABLE | UV_DISCONNECT, UV_WRITABLE,
    UV_READABLE | UV_WRITABLE, UV_READABLE | UV_PRIORITIZED,
  };
  slot_t* s = pick(K_POLL, S_OPEN);
  int r;
  if (s == NULL)
    return;
  if (chance(65)) {
    int events = evs[rnd(sizeof(evs) / sizeof(evs[0]))];
    /* Two started poll handles on one fd: libuv delivers the events of
     * one to the other; not a thing programs can rely on. uv-compat says
     * UV_EEXIST and leaves the second stopped, until the first stops. */
    if (!s->active && fd_watched(s->ps)) {
      if (on_uv_compat()) {
        r = uv_poll_start((uv_poll_t*) s->h, events, poll_cb);
        logf_("poll_start %s events %d, fd watched -> %d", sname(s), events,
              r);
        CHECK_EQ(r, UV_EEXIST);
        CHECK(!uv_is_active(s->h), "%s active after UV_EEXIST", sname(s));
      }
      return;
    }
    r = uv_poll_start((uv_poll_t*) s->h, events, poll_cb);
    logf_("poll_start %s events %d -> %d", sname(s), events, r);
    CHECK_EQ(r, 0);
    s->poll_events = events;
    s->active = 1;
  } else {
    r = uv_poll_stop((uv_poll_t*) s->h);
    logf_("poll_stop %s -> %d", sname(s), r);
    CHECK_EQ(r, 0);
    s->active = 0;
  }
}

/* A destination for `s`'s family: a bound UDP handle, a poll socket or,
 * rarely, the address of a closed one. */
static int pick_dest(int family, struct sockaddr_storage* out) {
  int i, n = 0;
  if (n_stale > 0 && chance(4)) {
    const struct sockaddr_storage* st = &stale[rnd((unsigned) n_stale)];
    if (st->ss_family == family || family == 0) {
      *out = *st;
      return 1;
    }
  }
  for (i = 0; i < N_SLOTS; i++) {
    slot_t* s = &slots[i];
    if (s->state != S_OPEN)
      continue;
    if (s->kind == K_UDP && s->bound &&
        (family == 0 || s->addr.ss_family == family) && rnd(++n) == 0)
      *out = s->addr;
    if (s->kind == K_POLL && (family == 0 || family == AF_INET) &&
        rnd(++n) == 0) {
      memset(out, 0, sizeof(*out));
      memcpy(out, &s->ps->addr, sizeof(s->ps->addr));
    }
  }
  return n > 0;
}

static void op_udp_bind(slot_t* s) {
  struct sockaddr_storage a;
  int fam = s->family ? s->family : (have_ipv6 && chance(30) ? AF_INET6 : AF_INET);
  unsigned flags = chance(30) ? UV_UDP_REUSEADDR : 0;
  int len = sizeof(a);
  int r;
  loopback(fam, &a);
  if (fam == AF_INET6 && chance(30))
    flags |= UV_UDP_IPV6ONLY;
  if (chance(5)) {
    /* IPV6ONLY on an IPv4 address, or a flag bind does not know. */
    unsigned bad = fam == AF_INET ? UV_UDP_IPV6ONLY : 0x4000u;
    r = uv_udp_bind((uv_udp_t*) s->h, (struct sockaddr*) &a, bad);
    logf_("udp_bind %s flags %#x -> %d", sname(s), bad, r);
    CHECK_EQ(r, UV_EINVAL);
  }
  r = uv_udp_bind((uv_udp_t*) s->h, (struct sockaddr*) &a, flags);
  logf_("udp_bind %s %s flags %u -> %d", sname(s),
        fam == AF_INET6 ? "::1" : "127.0.0.1", flags, r);
  if (s->bound || (s->autobound && r != 0)) {
    /* A socket the kernel bound (on a send or connect) cannot be bound. */
    CHECK_EQ(r, UV_EINVAL);
    return;
  }
  CHECK_EQ(r, 0);
  s->family = fam;
  s->has_socket = s->bound = 1;
  CHECK_EQ(uv_udp_getsockname((uv_udp_t*) s->h, (struct sockaddr*) &s->addr,
                              &len), 0);
  CHECK_EQ(s->addr.ss_family, fam);
  CHECK(sa_port((struct sockaddr*) &s->addr) != 0, "bound to port 0");
}

static void op_udp_connect(slot_t* s) {
  struct sockaddr_storage a, peer;
  int plen = sizeof(peer);
  int r;
  if (chance(35)) {
    r = uv_udp_connect((uv_udp_t*) s->h, NULL);
    logf_("udp_connect %s NULL -> %d", sname(s), r);
    CHECK_EQ(r, s->connected ? 0 : UV_ENOTCONN);
    if (s->connected) {
      /* Linux drops a port it chose (bind to port 0 included) when a UDP
       * socket disconnects: the address is gone, a bind may work again. */
      if (s->bound)
        remember_stale(&s->addr);
      s->bound = 0;
      s->autobound = 1;
      s->disconnects++;
      sender_disconnected[s->sender_key] = 1;
    }
    s->connected = 0;
    CHECK_EQ(uv_udp_getpeername((uv_udp_t*) s->h, (struct sockaddr*) &peer,
                                &plen), s->has_socket ? UV_ENOTCONN : UV_EBADF);
    return;
  }
  if (!pick_dest(s->family, &a))
    return;
  r = uv_udp_connect((uv_udp_t*) s->h, (struct sockaddr*) &a);
  logf_("udp_connect %s port %u -> %d", sname(s),
        sa_port((struct sockaddr*) &a), r);
  if (s->connected) {
    CHECK_EQ(r, UV_EISCONN);
    return;
  }
  CHECK_EQ(r, 0);
  s->connected = 1;
  s->peer = a;
  if (!s->has_socket) {
    s->has_socket = 1;
    s->family = a.ss_family;
  }
  if (!s->bound)
    s->autobound = 1;
  CHECK_EQ(uv_udp_getpeername((uv_udp_t*) s->h, (struct sockaddr*) &peer,
                              &plen), 0);
  CHECK_EQ(sa_port((struct sockaddr*) &peer), sa_port((struct sockaddr*) &a));
}

static size_t dgram_len(int family) {
  unsigned c = rnd(100);
  size_t max = family == AF_INET6 ? 65527 : 65507;
  if (c < 65)
    return HDR + rnd(64);
  if (c < 85)
    return HDR + rnd(2000);
  if (c < 97)
    return HDR + rnd(30000);
  return c == 98 ? max : max + 1 + rnd(4000); /* the largest; too large */
}

/* Whether a failed send made (and bound) the handle's socket first is not
 * specified (libuv does): ask the handle, and let a later bind fail. */
static void learn_socket(slot_t* s, int fam) {
  uv_os_fd_t fd;
  if (!s->has_socket && uv_fileno(s->h, &fd) == 0) {
    s->has_socket = 1;
    s->family = fam;
  }
  if (s->has_socket)
    s->autobound = 1;
}

/* Cuts data[0..len) into n buffers (some may be empty). */
static void split(char* data, size_t len, uv_buf_t* bufs, unsigned n) {
  size_t cut[5];
  unsigned i, j;
  cut[0] = 0;
  for (i = 1; i < n; i++)
    cut[i] = rnd((unsigned) len + 1);
  for (i = 1; i < n; i++)
    for (j = i + 1; j < n; j++)
      if (cut[j] < cut[i]) {
        size_t t = cut[i];
        cut[i] = cut[j];
        cut[j] = t;
      }
  cut[n] = len;
  for (i = 0; i < n; i++)
    bufs[i] = uv_buf_init(data + cut[i], (unsigned) (cut[i + 1] - cut[i]));
}

static void op_udp_send(slot_t* s, int try) {
  struct sockaddr_storage dest;
  const struct sockaddr* addr = NULL;
  int fam = s->family;
  int wrong = 0; /* EISCONN or EDESTADDRREQ expected */
  size_t len;
  uv_buf_t small[4];
  uv_buf_t* bufs = small;
  uv_buf_t* heap_bufs = NULL;
  unsigned nbufs = 1 + rnd(4);
  unsigned i;
  uint32_t id;
  char* data;
  int r;
  if (s->connected) {
    if (chance(8) && pick_dest(fam, &dest)) {
      addr = (struct sockaddr*) &dest;
      wrong = UV_EISCONN;
    }
  } else if (chance(5)) {
    wrong = UV_EDESTADDRREQ;
  } else {
    if (!pick_dest(fam, &dest))
      return;
    addr = (struct sockaddr*) &dest;
    if (fam == 0)
      fam = dest.ss_family;
  }
  if (fam == 0)
    fam = AF_INET;
  len = dgram_len(fam);
  data = make_dgram(s, len, &id);
  if (data == NULL)
    return;
  if (len > 65507)
    s->too_big++;
  if (chance(3)) {
    /* More buffers than the kernel gathers (IOV_MAX, 1024): UV_EMSGSIZE,
     * from the call or from the send callback. */
    nbufs = 1025 + rnd(64);
    bufs = heap_bufs = malloc(nbufs * sizeof(*bufs));
    CHECK(bufs != NULL, "malloc");
    bufs[0] = uv_buf_init(data, (unsigned) len);
    for (i = 1; i < nbufs; i++)
      bufs[i] = uv_buf_init(data + len, 0);
    s->too_big++;
  } else {
    split(data, len, bufs, nbufs);
  }
  stats.sends++;
  if (try) {
    size_t queued = uv_udp_get_send_queue_count((uv_udp_t*) s->h);
    r = uv_udp_try_send((uv_udp_t*) s->h, bufs, nbufs, addr);
    free(heap_bufs);
    logf_("udp_try_send %s id %u len %zu nbufs %u to %u -> %d", sname(s), id,
          len, nbufs, addr ? sa_port(addr) : 0, r);
    free(data);
    if (wrong) {
      CHECK_EQ(r, wrong);
    } else if (queued > 0) {
      CHECK_EQ(r, UV_EAGAIN);
    } else if (r >= 0) {
      CHECK_EQ(r, (long long) len);
    } else {
      CHECK(r == UV_EMSGSIZE || r == UV_ECONNREFUSED || r == UV_EAGAIN ||
                (!s->has_socket && r == UV_EBADF),
            "try_send: %d (%s)", r, uv_err_name(r));
      CHECK(r != UV_EMSGSIZE || len > 65507 || nbufs > 4,
            "UV_EMSGSIZE for %zu bytes", len);
    }
    CHECK(nbufs <= 4 || r == UV_EMSGSIZE || r == UV_EAGAIN || wrong,
          "try_send with %u buffers: %d", nbufs, r);
    if (r >= 0) {
      dgrams[id].state = DG_OK;
      stats.try_ok++;
      if (!s->has_socket) {
        s->has_socket = 1;
        s->family = fam;
      }
      s->autobound = 1;
    } else {
      CHECK(!dgrams[id].received, "id %u arrived, try_send failed", id);
      dgrams[id].state = DG_FAILED;
      learn_socket(s, fam);
    }
  } else {
    sendreq_t* req = calloc(1, sizeof(*req));
    CHECK(req != NULL, "calloc");
    req->slot = s;
    req->id = id;
    req->size = len;
    req->data = data;
    memset(&req->req, 0xA5, sizeof(req->req));
    in_udp_send = 1;
    r = uv_udp_send(&req->req, (uv_udp_t*) s->h, bufs, nbufs, addr, send_cb);
    in_udp_send = 0;
    free(heap_bufs);
    logf_("udp_send %s id %u len %zu nbufs %u to %u -> %d", sname(s), id,
          len, nbufs, addr ? sa_port(addr) : 0, r);
    if (wrong) {
      CHECK_EQ(r, wrong);
    } else {
      CHECK(r == 0 || r == UV_EMSGSIZE || r == UV_ECONNREFUSED,
            "udp_send: %d (%s)", r, uv_err_name(r));
    }
    req->huge = nbufs > 4;
    if (r == 0) {
      CHECK_EQ(req->req.handle == (uv_udp_t*) s->h, 1);
      CHECK_EQ(req->req.type, UV_UDP_SEND);
      if (s->pend_tail)
        s->pend_tail->next = req;
      else
        s->pend_head = req;
      s->pend_tail = req;
      s->npend++;
      if (uv_udp_get_send_queue_count((uv_udp_t*) s->h) > 0)
        stats.queued++;
      outstanding_reqs++;
      if (!s->has_socket) {
        s->has_socket = 1;
        s->family = fam;
      }
      s->autobound = 1;
    } else {
      dgrams[id].state = DG_FAILED;
      free(data);
      free(req);
      learn_socket(s, fam);
    }
  }
}

static void op_udp_recv(slot_t* s) {
  int r;
  if (chance(55)) {
    if (!s->bound || s->in_chunk)
      return; /* recv_start would bind to the wildcard address */
    if (chance(5)) {
      CHECK_EQ(uv_udp_recv_start((uv_udp_t*) s->h, NULL, recv_cb), UV_EINVAL);
      CHECK_EQ(uv_udp_recv_start((uv_udp_t*) s->h, alloc_cb, NULL), UV_EINVAL);
    }
    r = uv_udp_recv_start((uv_udp_t*) s->h, alloc_cb, recv_cb);
    logf_("udp_recv_start %s -> %d", sname(s), r);
    CHECK_EQ(r, s->reading ? UV_EALREADY : 0);
    s->reading = 1;
    if (!s->mmsg && chance(10))
      s->enobufs_next = 1;
  } else {
    r = uv_udp_recv_stop((uv_udp_t*) s->h);
    logf_("udp_recv_stop %s -> %d", sname(s), r);
    CHECK_EQ(r, 0);
    s->reading = 0;
  }
}

static void op_udp_options(slot_t* s) {
  uv_udp_t* u = (uv_udp_t*) s->h;
  static const int ttls[] = {-1, 0, 1, 64, 255, 256};
  int v = ttls[rnd(6)];
  int r;
  uv_os_fd_t fd;
  if (!s->has_socket) {
    CHECK_EQ(uv_fileno(s->h, &fd), UV_EBADF);
    return;
  }
  CHECK_EQ(uv_fileno(s->h, &fd), 0);
  CHECK(fd >= 0, "fileno %d", fd);
  switch (rnd(6)) {
    case 0:
      r = uv_udp_set_ttl(u, v);
      logf_("udp_set_ttl %s %d -> %d", sname(s), v, r);
      CHECK_EQ(r, v >= 1 && v <= 255 ? 0 : UV_EINVAL);
      break;
    case 1:
      r = uv_udp_set_multicast_ttl(u, v);
      logf_("udp_set_multicast_ttl %s %d -> %d", sname(s), v, r);
      CHECK_EQ(r, v >= 0 && v <= 255 ? 0 : UV_EINVAL);
      break;
    case 2:
      v = (int) rnd(2);
      r = uv_udp_set_multicast_loop(u, v);
      logf_("udp_set_multicast_loop %s %d -> %d", sname(s), v, r);
      CHECK_EQ(r, 0);
      break;
    case 3:
      v = (int) rnd(2);
      r = uv_udp_set_broadcast(u, v);
      logf_("udp_set_broadcast %s %d -> %d", sname(s), v, r);
      CHECK_EQ(r, 0);
      break;
    case 4: {
      int size = 0;
      if (chance(50)) {
        /* A small send buffer makes large sends wait (EAGAIN): the send
         * queue fills and drains through the poll phase. Linux doubles
         * the value asked for. */
        static const int sizes[] = {8192, 16384, 65536};
        int want = sizes[rnd(3)];
        size = want;
        r = uv_send_buffer_size(s->h, &size);
        logf_("uv_send_buffer_size %s %d -> %d", sname(s), want, r);
        CHECK_EQ(r, 0);
        size = 0;
        CHECK_EQ(uv_send_buffer_size(s->h, &size), 0);
        CHECK_EQ(size, 2 * want);
        break;
      }
      r = uv_send_buffer_size(s->h, &size);
      CHECK_EQ(r, 0);
      CHECK(size > 0, "send buffer size %d", size);
      size = 0;
      CHECK_EQ(uv_recv_buffer_size(s->h, &size), 0);
      CHECK(size > 0, "recv buffer size %d", size);
      break;
    }
    default: {
      struct sockaddr_storage a;
      int len = sizeof(a);
      if (!s->bound)
        return;
      CHECK_EQ(uv_udp_getsockname(u, (struct sockaddr*) &a, &len), 0);
      CHECK_EQ(sa_port((struct sockaddr*) &a),
               sa_port((struct sockaddr*) &s->addr));
      break;
    }
  }
}

static void op_udp(void) {
  slot_t* s = pick(K_UDP, S_OPEN);
  unsigned c = rnd(100);
  if (s == NULL)
    return;
  if (c < 10)
    op_udp_bind(s);
  else if (c < 18)
    op_udp_connect(s);
  else if (c < 55)
    op_udp_send(s, 0);
  else if (c < 68)
    op_udp_send(s, 1);
  else if (c < 85)
    op_udp_recv(s);
  else
    op_udp_options(s);
}

struct walk_state {
  int visited[N_SLOTS];
  enum state before[N_SLOTS];
  int close;
};

static void walk_cb(uv_handle_t* h, void* arg) {
  struct walk_state* w = arg;
  slot_t* s;
  CHECK(in_walk, "walk callback outside uv_walk");
  if (h == (uv_handle_t*) &guard)
    return;
  s = slot_of(h);
  CHECK(s->state != S_FREE, "walk visits a closed handle");
  CHECK_EQ(w->visited[s - slots], 0);
  w->visited[s - slots] = 1;
  if (w->close && s->state == S_OPEN)
    do_close(s);
  /* Operations from inside the walk: new handles (libuv does not visit
   * them), closes, nested walks. */
  if (!quiesce && nest < MAX_NEST && chance(10)) {
    nest++;
    one_op(0);
    nest--;
  }
}

/* uv_print_all_handles: one line per handle not closed yet (and the guard
 * timer), with the ref and active flags the handle has, plus the library's
 * internal handles (flag I). */
static void check_printed(void) {
  char line[256];
  int seen[N_SLOTS] = {0};
  int i, parsed, guard_seen = 0;
  void* ptr;
  FILE* f = tmpfile();

  CHECK(f != NULL, "tmpfile: %s", strerror(errno));
  uv_print_all_handles(loop, f);
  rewind(f);
  while (fgets(line, sizeof(line), f) != NULL) {
    CHECK(line[0] == '[' && line[4] == ']', "printed line %s", line);
    if (line[3] == 'I')
      continue;
    parsed = sscanf(line + 5, "%*s %p", &ptr);
    CHECK(line[3] == '-' && parsed == 1, "printed line %s", line);
    if (ptr == (void*) &guard) {
      guard_seen++;
      continue;
    }
    for (i = 0; i < N_SLOTS && !(slots[i].state != S_FREE &&
                                 (void*) slots[i].h == ptr);
         i++)
      ;
    CHECK(i < N_SLOTS, "printed %s, no handle of the model", line);
    CHECK(!seen[i], "%s printed twice", sname(&slots[i]));
    seen[i] = 1;
    CHECK(line[1] == (uv_has_ref(slots[i].h) ? 'R' : '-') &&
              line[2] == (uv_is_active(slots[i].h) ? 'A' : '-'),
          "%s printed as %s", sname(&slots[i]), line);
  }
  fclose(f);
  CHECK_EQ(guard_seen, 1);
  for (i = 0; i < N_SLOTS; i++)
    CHECK(seen[i] == (slots[i].state != S_FREE), "%s not printed",
          sname(&slots[i]));
}

/* ---- signals ---------------------------------------------------------------
 * Two real-time signals, raised with raise(): the handler runs on this
 * thread before it returns, so the model knows which handles watched each
 * catch. A raise is made only while an open handle watches the signal
 * (with nobody watching, the default action would end the process). Each
 * handle watching at a raise is owed one callback for it (a one-shot handle
 * one in all); stopping, moving or closing takes the debt back. uv-compat
 * is checked exactly; libuv also delivers a catch to a handle stopped and
 * started again before the dispatch, and its one-shot handles reset the
 * disposition at the first catch (SA_RESETHAND), so there one-shot starts
 * are left out and a callback need not be owed. */
static int model_signum(int i) {
  return SIGRTMIN + 12 + i;
}

static void signal_stopped(slot_t* s) {
  s->signum = 0;
  s->owed = 0;
  s->sig_epoch++;
  s->active = 0;
}

static void signal_cb(uv_signal_t* h, int signum) {
  slot_t* s = slot_of((uv_handle_t*) h);
  unsigned epoch;
  int oneshot;
  cb_enter();
  logf_("signal_cb %s (%d)", sname(s), signum);
  CHECK(s->state == S_OPEN, "callback of a closing %s", sname(s));
  CHECK(signum == s->signum && h->signum == signum,
        "%s called for %d, watching %d (field %d)", sname(s), signum,
        s->signum, h->signum);
  CHECK(uv_is_active((uv_handle_t*) h), "%s inactive in its callback",
        sname(s));
#ifdef UV_RUV_COMPAT
  CHECK(s->owed > 0, "%s called with no catch owed", sname(s));
#endif
  if (s->owed > 0)
    s->owed--;
  epoch = s->sig_epoch;
  oneshot = s->oneshot;
  nested_ops(s);
  /* A one-shot handle stops after its callback, unless that stopped,
   * moved or closed it. */
  if (oneshot && s->sig_epoch == epoch && s->state == S_OPEN)
    signal_stopped(s);
  cb_leave();
}

static int signal_watched(int signum) {
  int i;
  for (i = 0; i < N_SIGNAL; i++) {
    const slot_t* s = &slots[kind_first[K_SIGNAL] + i];
    if (s->state == S_OPEN && s->signum == signum)
      return 1;
  }
  return 0;
}

static void op_signal(void) {
  slot_t* s = pick(K_SIGNAL, S_OPEN);
  unsigned c = rnd(100);
  int signum = model_signum((int) rnd(2)), r, i;
  if (c < 55) {
    if (s == NULL)
      return;
#ifdef UV_RUV_COMPAT
    int oneshot = chance(30);
#else
    int oneshot = 0;
#endif
    r = oneshot ? uv_signal_start_oneshot((uv_signal_t*) s->h, signal_cb,
                                          signum)
                : uv_signal_start((uv_signal_t*) s->h, signal_cb, signum);
    logf_("uv_signal_start%s %s %d -> %d", oneshot ? "_oneshot" : "",
          sname(s), signum, r);
    CHECK_EQ(r, 0);
    /* The same number again only swaps the callback. */
    if (s->signum != signum) {
      s->signum = signum;
      s->oneshot = oneshot;
      s->owed = 0;
      s->sig_epoch++;
    }
    s->active = 1;
  } else if (c < 75) {
    if (s == NULL)
      return;
    r = uv_signal_stop((uv_signal_t*) s->h);
    logf_("uv_signal_stop %s -> %d", sname(s), r);
    CHECK_EQ(r, 0);
    signal_stopped(s);
  } else {
    if (!signal_watched(signum))
      return;
    logf_("raise %d", signum);
    CHECK_EQ(raise(signum), 0);
    for (i = 0; i < N_SIGNAL; i++) {
      slot_t* w = &slots[kind_first[K_SIGNAL] + i];
      if (w->state == S_OPEN && w->signum == signum)
        w->owed = w->oneshot ? 1 : w->owed + 1;
    }
  }
}

static void op_walk(int close_all) {
  struct walk_state w;
  int i;
  memset(&w, 0, sizeof(w));
  w.close = close_all;
  for (i = 0; i < N_SLOTS; i++)
    w.before[i] = slots[i].state;
  logf_("uv_walk%s", close_all ? " + uv_close" : "");
  in_walk++;
  uv_walk(loop, walk_cb, &w);
  in_walk--;
  /* libuv visits closing handles too, until their close callback. A walk
   * from inside a walk sees only the handles the outer one has visited in
   * libuv: no completeness to check there. */
  for (i = 0; i < N_SLOTS && in_walk == 0; i++)
    if (w.before[i] != S_FREE)
      CHECK(w.visited[i], "uv_walk missed %s %s",
            w.before[i] == S_OPEN ? "open" : "closing", sname(&slots[i]));
  if (in_walk == 0)
    check_printed();
  if (close_all) {
    stats.walk_closes++;
    for (i = 0; i < N_SLOTS && in_walk == 0; i++)
      CHECK(w.before[i] == S_FREE || slots[i].state != S_OPEN,
            "%s still open after walk-close", sname(&slots[i]));
  }
}

static void op_ref(void) {
  slot_t* s = pick_any(S_OPEN);
  if (s == NULL)
    return;
  if (chance(50)) {
    uv_unref(s->h);
    s->refd = 0;
  } else {
    uv_ref(s->h);
    s->refd = 1;
  }
  logf_("%s %s", s->refd ? "uv_ref" : "uv_unref", sname(s));
}

/* uv-compat defines what libuv leaves undefined: every operation on a
 * closing handle is UV_EINVAL and makes no callback; a second uv_close does
 * nothing; uv_run inside a callback of the same loop is UV_EBUSY. */
static void op_on_closing(void) {
  slot_t* s = pick_any(S_CLOSING);
  uv_buf_t b = uv_buf_init((char*) "x", 1);
  struct sockaddr_storage a;
  if (s == NULL)
    return;
  logf_("operations on closing %s", sname(s));
  in_uv_close = 1;
  uv_close(s->h, close_cb);
  in_uv_close = 0;
  switch (s->kind) {
    case K_TIMER:
      CHECK_EQ(uv_timer_start((uv_timer_t*) s->h, timer_cb, 0, 0), UV_EINVAL);
      CHECK_EQ(uv_timer_again((uv_timer_t*) s->h), UV_EINVAL);
      break;
    case K_IDLE:
      CHECK_EQ(uv_idle_start((uv_idle_t*) s->h, idle_cb), UV_EINVAL);
      break;
    case K_PREPARE:
      CHECK_EQ(uv_prepare_start((uv_prepare_t*) s->h, prepare_cb), UV_EINVAL);
      break;
    case K_CHECK:
      CHECK_EQ(uv_check_start((uv_check_t*) s->h, check_cb), UV_EINVAL);
      break;
    case K_ASYNC:
      /* libuv sends (no callback follows); uv-compat may refuse. */
      {
        int r = uv_async_send((uv_async_t*) s->h);
        CHECK(r == 0 || r == UV_EINVAL, "uv_async_send: %d", r);
      }
      break;
    case K_POLL:
      CHECK_EQ(uv_poll_start((uv_poll_t*) s->h, UV_READABLE, poll_cb),
               UV_EINVAL);
      break;
    case K_UDP:
      loopback(AF_INET, &a);
      CHECK_EQ(uv_udp_try_send((uv_udp_t*) s->h, &b, 1,
                               (struct sockaddr*) &a), UV_EINVAL);
      CHECK_EQ(uv_udp_recv_start((uv_udp_t*) s->h, alloc_cb, recv_cb),
               UV_EINVAL);
      CHECK_EQ(uv_udp_bind((uv_udp_t*) s->h, (struct sockaddr*) &a, 0),
               UV_EINVAL);
      CHECK_EQ(uv_udp_set_ttl((uv_udp_t*) s->h, 5), UV_EINVAL);
      break;
    case K_SIGNAL:
      CHECK_EQ(uv_signal_start((uv_signal_t*) s->h, signal_cb, SIGUSR1),
               UV_EINVAL);
      CHECK_EQ(uv_signal_stop((uv_signal_t*) s->h), 0);
      break;
    case K_PROCESS:
      CHECK_EQ(uv_process_kill((uv_process_t*) s->h, 0), UV_EINVAL);
      break;
    default:
      break;
  }
  CHECK_EQ(uv_is_active(s->h), 0);
}

/* A second loop, run to its end from a callback of the first: a timer, an
 * idle handle and a UDP handle sending to itself, whose callbacks make
 * operations on the first loop's handles. */
static uv_loop_t loop2;
static int loop2_events;

static void loop2_timer_cb(uv_timer_t* t) {
  cb_enter();
  loop2_events++;
  logf_("second loop: timer_cb");
  CHECK_EQ(t->loop == &loop2, 1);
  one_op(0);
  uv_close((uv_handle_t*) t, NULL);
  cb_leave();
}

static void loop2_idle_cb(uv_idle_t* i) {
  loop2_events++;
  CHECK_EQ(i->loop == &loop2, 1);
  uv_close((uv_handle_t*) i, NULL);
}

static void loop2_alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  static char storage[64];
  (void) h;
  (void) suggested;
  *buf = uv_buf_init(storage, sizeof(storage));
}

static void loop2_recv_cb(uv_udp_t* u, ssize_t nread, const uv_buf_t* buf,
                          const struct sockaddr* addr, unsigned flags) {
  (void) flags;
  if (nread == 0 && addr == NULL)
    return;
  cb_enter();
  loop2_events++;
  logf_("second loop: recv_cb %zd", nread);
  CHECK_EQ(nread, 5);
  CHECK_EQ(memcmp(buf->base, "loop2", 5), 0);
  one_op(0);
  uv_close((uv_handle_t*) u, NULL);
  cb_leave();
}

static void op_second_loop(void) {
  uv_timer_t t;
  uv_idle_t i;
  uv_udp_t u;
  struct sockaddr_storage a;
  int len = sizeof(a);
  uv_buf_t b = uv_buf_init((char*) "loop2", 5);
  logf_("second loop");
  loop2_events = 0;
  CHECK_EQ(uv_loop_init(&loop2), 0);
  CHECK_EQ(uv_timer_init(&loop2, &t), 0);
  CHECK_EQ(uv_timer_start(&t, loop2_timer_cb, 0, 0), 0);
  CHECK_EQ(uv_idle_init(&loop2, &i), 0);
  CHECK_EQ(uv_idle_start(&i, loop2_idle_cb), 0);
  CHECK_EQ(uv_udp_init(&loop2, &u), 0);
  loopback(AF_INET, &a);
  CHECK_EQ(uv_udp_bind(&u, (struct sockaddr*) &a, 0), 0);
  CHECK_EQ(uv_udp_getsockname(&u, (struct sockaddr*) &a, &len), 0);
  CHECK_EQ(uv_udp_recv_start(&u, loop2_alloc_cb, loop2_recv_cb), 0);
  CHECK_EQ(uv_udp_try_send(&u, &b, 1, (struct sockaddr*) &a), 5);
  CHECK_EQ(uv_run(&loop2, UV_RUN_DEFAULT), 0);
  CHECK_EQ(loop2_events, 3);
  CHECK_EQ(uv_loop_close(&loop2), 0);
  logf_("second loop closed");
  stats.second_loops++;
}

static void op_stop(void) {
  logf_("uv_stop");
  if (in_top_run)
    stopped_in_run = 1;
  else
    stop_pending = 1;
  uv_stop(loop);
}

static void op_time(void) {
  uint64_t before = uv_now(loop);
  uv_update_time(loop);
  logf_("uv_update_time %llu -> %llu", (unsigned long long) before,
        (unsigned long long) uv_now(loop));
  CHECK(uv_now(loop) >= before, "uv_update_time went back");
}

/* One random operation. Top level (the program's own steps) adds
 * uv_loop_close while handles remain; inside callbacks come nested uv_run
 * and uv_loop_close (UV_EBUSY in uv-compat) and the second loop. */
static void one_op(int top) {
  unsigned c = rnd(top ? 108 : 100);
  if (top)
    stats.ops++;
  else
    stats.nested_ops++;
  if (c < 14)
    op_init();
  else if (c < 22)
    op_close();
  else if (c < 31)
    op_timer();
  else if (c < 39)
    op_watcher();
  else if (c < 40)
    op_watcher_burst();
  else if (c < 46)
    op_async();
  else if (c < 51)
    op_poll();
  else if (c < 77)
    op_udp();
  else if (c < 80)
    op_process();
  else if (c < 85)
    op_signal();
  else if (c < 88)
    op_ref();
  else if (c < 90)
    op_stop();
  else if (c < 92)
    op_time();
  else if (c < 94)
    op_walk(0);
  else if (c == 94)
    op_walk(1);
  else if (c < 97) {
    if (on_uv_compat())
      op_on_closing();
  } else if (c < 99) {
    if (on_uv_compat() && !top && in_top_run) {
      CHECK_EQ(uv_run(loop, UV_RUN_NOWAIT), UV_EBUSY);
      CHECK_EQ(uv_loop_close(loop), UV_EBUSY);
    }
  }
  else if (c == 99 && !top && in_top_run && nest == 1)
    op_second_loop();
  else if (c >= 100 && c < 104 && top) {
    int r = uv_loop_close(loop);
    logf_("uv_loop_close with handles -> %d", r);
    CHECK_EQ(r, UV_EBUSY); /* the guard timer is always there */
  }
}

/* Operations made inside a callback of `self`'s, which they may close. */
static void nested_ops(slot_t* self) {
  int n;
  if (quiesce || nest > MAX_NEST)
    return;
  if (self->state == S_OPEN && chance(4)) {
    do_close(self);
    check_all();
    return;
  }
  if (!chance(35))
    return;
  for (n = 1 + (int) rnd(2); n > 0; n--)
    one_op(0);
  check_all();
}

static void run_loop(uv_run_mode mode) {
  static const char* const names[] = {"DEFAULT", "ONCE", "NOWAIT"};
  int r, alive, polls;
#if UV_VERSION_HEX >= 0x012D00
  uv_metrics_t before, after;
#endif
  /* The unreferenced guard timer bounds how long a run blocks: it stops the
   * loop after GUARD_MS without keeping it alive. */
  CHECK_EQ(uv_timer_start(&guard, guard_cb, GUARD_MS, GUARD_MS), 0);
  logf_("uv_run %s", names[mode]);
  /* A run polls unless it begins with uv_stop pending or nothing alive;
   * I/O handles made or closed by its callbacks may wait for the next. */
  polls = !stop_pending && uv_loop_alive(loop);
  if (polls)
    io_since_run = 0;
  run_cbs = 0;
  stopped_in_run = 0;
#if UV_VERSION_HEX >= 0x012D00
  CHECK_EQ(uv_metrics_info(loop, &before), 0);
#endif
  in_top_run = 1;
  r = uv_run(loop, mode);
  in_top_run = 0;
#if UV_VERSION_HEX >= 0x012D00
  /* An iteration that begins reaches the poll phase (a uv_stop inside it
   * only makes the poll not block): ONCE and NOWAIT count one iteration
   * exactly when they poll; a DEFAULT run at least that many (none if its
   * first timers stop it). Events only grow, the waiting ones among them. */
  CHECK_EQ(uv_metrics_info(loop, &after), 0);
  if (mode == UV_RUN_DEFAULT)
    CHECK(after.loop_count >= before.loop_count + (polls && !stopped_in_run) &&
              (polls || after.loop_count == before.loop_count),
          "DEFAULT run: loop_count %llu -> %llu, polls %d",
          (unsigned long long) before.loop_count,
          (unsigned long long) after.loop_count, polls);
  else
    CHECK_EQ(after.loop_count, before.loop_count + polls);
  CHECK(after.events >= before.events &&
            after.events_waiting >= before.events_waiting &&
            after.events_waiting <= after.events,
        "metrics events %llu -> %llu, waiting %llu -> %llu",
        (unsigned long long) before.events, (unsigned long long) after.events,
        (unsigned long long) before.events_waiting,
        (unsigned long long) after.events_waiting);
#endif
  stop_pending = 0;
  alive = uv_loop_alive(loop);
  logf_("uv_run %s -> %d (alive %d, %d callbacks)", names[mode], r, alive,
        run_cbs);
  /* uv_run returns uv_loop_alive as its last iteration ends. One
   * exception: in libuv 1.45+ (and here) a uv_stop from the timers a
   * DEFAULT run fires before its first iteration returns the liveness from
   * before them. */
  CHECK((r != 0) == (alive != 0) ||
            (r != 0 && mode == UV_RUN_DEFAULT && stopped_in_run),
        "uv_run returned %d, uv_loop_alive %d", r, alive);
  CHECK_EQ(uv_timer_stop(&guard), 0);
  stats.runs++;
}

/* ---- one program ---------------------------------------------------------- */

static void program(void) {
  int fds = count_fds();
  int i, step;
  int alive;

  rng_state = seed * 0x2545F4914F6CDD1Dull + 1;
  log_next = 0;
  nest = 0;
  quiesce = 0;
  n_senders = 0;
  n_dgrams = 0;
  n_stale = 0;
  n_orphans = 0;
  outstanding_reqs = 0;
  timer_starts = fired_due = fired_seq = 0;
  rng_state = seed ^ (uint64_t) getpid() << 40;
  dgram_tag = (uint32_t) rnd64();
  stop_pending = 0;
  io_since_run = 1; /* libuv's own watchers wait for the first poll */
  memset(dgrams, 0, sizeof(dgrams));
  memset(sender_disconnected, 0, sizeof(sender_disconnected));
  for (i = 0; i < N_SLOTS; i++)
    CHECK(slots[i].state == S_FREE, "slot left over");

  if (seed % 4 == 0) {
    /* The default loop, closed at the end like any other: the next
     * uv_default_loop() makes it anew. */
    loop = uv_default_loop();
    CHECK(loop != NULL, "uv_default_loop");
    CHECK_EQ(uv_loop_alive(loop), 0);
  } else {
    loop = &own_loop;
    memset(loop, 0xA5, sizeof(*loop));
    CHECK_EQ(uv_loop_init(loop), 0);
  }
  logf_("%s loop", loop == &own_loop ? "own" : "default");
  last_now = uv_now(loop);
  CHECK_EQ(uv_timer_init(loop, &guard), 0);
  guard.data = NULL;
  uv_unref((uv_handle_t*) &guard);

  for (step = 0; step < TOP_OPS; step++) {
    unsigned c;
    /* Each step draws from its own stream: how many numbers the callbacks
     * of a run took (which depends on timing) does not change the next
     * steps, so a replay makes the same top-level operations. */
    rng_state = (seed << 20 | (unsigned) step) * 0x2545F4914F6CDD1Dull + 1;
    c = rnd(100);
    if (c < 16)
      run_loop(UV_RUN_NOWAIT);
    else if (c < 19)
      run_loop(UV_RUN_ONCE);
    else if (c < 21)
      run_loop(UV_RUN_DEFAULT);
    else
      one_op(1);
    check_all();
  }

  /* The end: join the senders, see every pending async send delivered,
   * close everything and let the loop finish. */
  logf_("-- final phase");
  quiesce = 1;
  for (i = 0; i < N_SLOTS; i++) {
    if (slots[i].kind == K_ASYNC && slots[i].state == S_OPEN) {
      join_sender(&slots[i]);
      uv_ref(slots[i].h);
      slots[i].refd = 1;
    }
    /* A catch owed to an unreferenced signal handle needs a poll phase,
     * which a run makes only while something keeps the loop alive. */
    if (slots[i].kind == K_SIGNAL && slots[i].state == S_OPEN) {
      uv_ref(slots[i].h);
      slots[i].refd = 1;
    }
  }
  for (i = 0; i < 3; i++)
    run_loop(UV_RUN_NOWAIT);
  for (i = 0; i < N_SLOTS; i++) {
    slot_t* s = &slots[i];
    if (s->kind == K_ASYNC && s->state == S_OPEN &&
        ((uv_async_t*) s->h)->async_cb != NULL)
      CHECK(atomic_load(&s->dirty) == 0, "%s: a send without its callback",
            sname(s));
    if (s->kind == K_SIGNAL && s->state == S_OPEN)
      CHECK(s->owed == 0, "%s: %u catches without their callback", sname(s),
            s->owed);
  }
  /* Every child still running ends, and its exit callback comes. */
  for (i = 0; i < N_SLOTS; i++) {
    slot_t* s = &slots[i];
    if (s->kind == K_PROCESS && s->state == S_OPEN && s->active) {
      CHECK_EQ(uv_process_kill((uv_process_t*) s->h, SIGKILL), 0);
      s->sigs_sent |= 1u << SIGKILL;
      uv_ref(s->h);
      s->refd = 1;
    }
  }
  for (;;) {
    int running = 0;
    for (i = 0; i < N_SLOTS; i++)
      if (slots[i].kind == K_PROCESS && slots[i].state == S_OPEN &&
          slots[i].active)
        running = 1;
    if (!running)
      break;
    run_loop(UV_RUN_ONCE);
  }
  op_walk(1);
  for (i = 0; i < N_SLOTS; i++)
    if (slots[i].kind == K_ASYNC)
      CHECK(!slots[i].has_thread, "a sender thread left running");
  uv_close((uv_handle_t*) &guard, NULL);
  run_cbs = 0;
  logf_("uv_run DEFAULT (final)");
  CHECK_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  for (i = 0; i < N_SLOTS; i++)
    CHECK(slots[i].state == S_FREE, "%s never got its close callback",
          sname(&slots[i]));
  CHECK_EQ(outstanding_reqs, 0);
  for (i = 0; i < (int) n_dgrams; i++) {
    CHECK(dgrams[i].state != DG_PENDING, "id %d never completed", i);
    CHECK(!dgrams[i].received || dgrams[i].state == DG_OK,
          "id %d arrived, its send failed", i);
  }
  alive = uv_loop_alive(loop);
  CHECK_EQ(alive, 0);
  reap_orphans();
  CHECK_EQ(uv_loop_close(loop), 0);
  CHECK_EQ(count_fds(), fds);
}

static int probe_ipv6(void) {
  struct sockaddr_storage a;
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  int ok;
  if (fd < 0)
    return 0;
  loopback(AF_INET6, &a);
  ok = bind(fd, (struct sockaddr*) &a, sizeof(struct sockaddr_in6)) == 0;
  close(fd);
  return ok;
}

static unsigned long long env_or(const char* name, unsigned long long dflt) {
  const char* v = getenv(name);
  return v != NULL && *v != '\0' ? strtoull(v, NULL, 10) : dflt;
}

int main(int argc, char** argv) {
  unsigned long long first = env_or("RUV_CMODEL_SEED", 1);
  unsigned long long count = env_or("RUV_CMODEL_SEEDS", 50);
  unsigned long long i;
  int k, n = 0;

  if (argc > 1)
    first = strtoull(argv[1], NULL, 10);
  if (argc > 2)
    count = strtoull(argv[2], NULL, 10);
  for (k = 0; k < K_KINDS; k++) {
    int j;
    kind_first[k] = n;
    for (j = 0; j < kind_count[k]; j++) {
      slots[n + j].kind = (enum kind) k;
      slots[n + j].index = j;
    }
    n += kind_count[k];
  }
  have_ipv6 = probe_ipv6();
  install_crash_reporting();
  /* libuv opens a process-wide pipe on the first uv_loop_init: let it, so
   * each program's descriptor count starts after it. */
  loop = &own_loop;
  CHECK_EQ(uv_loop_init(loop), 0);
  CHECK_EQ(uv_loop_close(loop), 0);
  for (i = 0; i < count; i++) {
    seed = first + i;
    alarm(20); /* a program takes milliseconds (under valgrind, a second) */
    program();
  }
  alarm(0);
  printf("model: seeds %llu..%llu ok: %llu ops (+%llu nested), %llu runs, "
         "%llu callbacks, %llu walk-closes, %llu sends (%llu ok, %llu "
         "try_send ok, %llu waited), %llu datagrams received (%llu partial, "
         "%llu from earlier programs), %llu async sends from threads, %llu "
         "second loops, %llu children%s\n",
         first, first + count - 1, stats.ops, stats.nested_ops, stats.runs,
         stats.callbacks, stats.walk_closes, stats.sends, stats.send_ok,
         stats.try_ok, stats.queued, stats.received, stats.partial,
         stats.foreign,
         stats.async_thread_sends, stats.second_loops, stats.spawns,
         have_ipv6 ? "" : " (no IPv6)");
  return 0;
}
