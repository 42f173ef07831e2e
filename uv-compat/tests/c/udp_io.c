/* udp_io.c: datagrams flowing over loopback.
 *
 * Covers: send/recv on IPv4 and IPv6 with the exact bytes and the exact
 * sender address; several bufs gathered into one datagram; auto-bind on the
 * first send (0.0.0.0:port); alloc_cb called once before each read with a
 * suggested size of 64 KiB and the same buffer handed to recv_cb; a
 * zero-length buffer (NULL or not) -> recv_cb(UV_ENOBUFS) and the datagram
 * is still delivered afterwards; (nread 0, addr NULL) once nothing more is
 * waiting; UV_UDP_PARTIAL with a small buffer; an empty datagram (nread 0,
 * addr not NULL); uv_udp_try_send returning the byte count, UV_EAGAIN while
 * a uv_udp_send is queued, UV_EMSGSIZE for an oversized datagram; an
 * oversized uv_udp_send reporting UV_EMSGSIZE through its callback;
 * uv_udp_try_send2; recv_start twice -> UV_EALREADY; recv_stop (idempotent)
 * and a datagram that arrived while stopped delivered after recv_start;
 * closing a handle with sends in flight: the written one completes with 0,
 * the queued one with UV_ECANCELED, both before the close callback;
 * a connected handle receiving UV_ECONNREFUSED as a negative nread after
 * sending to a closed port, and the same for an unconnected handle bound
 * with UV_UDP_LINUX_RECVERR.
 *
 * 1.45+-only assertions: uv_udp_try_send2 (libuv 1.50, guarded by
 * UV_VERSION_HEX >= 0x013200).
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define MAX_EVENTS 64

typedef struct {
  ssize_t nread;
  int has_addr;
  struct sockaddr_storage addr;
  unsigned flags;
  char data[64];
} event_t;

static uv_loop_t loop;
static event_t ev[MAX_EVENTS];
static int nev;
static int nalloc;
static int ndata;      /* events with nread > 0 or an address */
static int want_data;  /* close everything after this many and an idle read */
static void* last_base;
static size_t last_len;
static int alloc_script[8]; /* per-alloc buffer sizes; -1: NULL/0, -2: base/0 */
static int alloc_script_n;
static uv_timer_t guard;

static void close_all_cb(uv_handle_t* h, void* arg) {
  (void) arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void close_everything(void) {
  uv_walk(&loop, close_all_cb, NULL);
}

static void guard_cb(uv_timer_t* h) {
  (void) h;
  UVC_FAIL_("timed out: %d events, %d data, wanted %d", nev, ndata,
            want_data);
}

static void reset(int want) {
  nev = nalloc = ndata = 0;
  want_data = want;
  alloc_script_n = 0;
  last_base = NULL;
  memset(ev, 0, sizeof(ev));
  ASSERT_OK(uv_timer_init(&loop, &guard));
  ASSERT_OK(uv_timer_start(&guard, guard_cb, 3000, 0));
}

static void run_to_end(void) {
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static void alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  int size = 65536;
  (void) h;
  ASSERT_EQ(suggested, 65536);
  /* alloc_cb is called once before each recv_cb. */
  ASSERT_EQ(nalloc, nev);
  if (nalloc < alloc_script_n)
    size = alloc_script[nalloc];
  nalloc++;
  if (size == -1) {
    *buf = uv_buf_init(NULL, 0);
  } else if (size == -2) {
    *buf = uv_buf_init(malloc(16), 0);
  } else {
    *buf = uv_buf_init(malloc(size), size);
  }
  last_base = buf->base;
  last_len = buf->len;
}

static void recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  event_t* e;
  (void) h;
  ASSERT_LT(nev, MAX_EVENTS);
  ASSERT_EQ(nalloc, nev + 1);
  ASSERT_PTR_EQ(buf->base, last_base);
  ASSERT_EQ(buf->len, last_len);
  e = &ev[nev++];
  e->nread = nread;
  e->flags = flags;
  e->has_addr = addr != NULL;
  if (addr != NULL) {
    memcpy(&e->addr, addr,
           addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                       : sizeof(struct sockaddr_in));
    ndata++;
  }
  if (nread > 0)
    memcpy(e->data, buf->base, nread < 64 ? (size_t) nread : 64);
  free(buf->base);

  if (nread == 0 && addr == NULL && ndata >= want_data)
    close_everything();
  if (nread < 0 && want_data == -1)
    close_everything(); /* the error tests */
}

static void expect_data(const event_t* e, const char* bytes, size_t n,
                        const struct sockaddr* from) {
  ASSERT_EQ(e->nread, (ssize_t) n);
  ASSERT_EQ(e->flags, 0);
  ASSERT(e->has_addr);
  ASSERT_MEM_EQ(e->data, bytes, n);
  if (from->sa_family == AF_INET) {
    const struct sockaddr_in* a = (const struct sockaddr_in*) &e->addr;
    const struct sockaddr_in* b = (const struct sockaddr_in*) from;
    ASSERT_EQ(a->sin_family, AF_INET);
    ASSERT_EQ(ntohs(a->sin_port), ntohs(b->sin_port));
    ASSERT_EQ(ntohl(a->sin_addr.s_addr), ntohl(b->sin_addr.s_addr));
  } else {
    const struct sockaddr_in6* a = (const struct sockaddr_in6*) &e->addr;
    const struct sockaddr_in6* b = (const struct sockaddr_in6*) from;
    ASSERT_EQ(a->sin6_family, AF_INET6);
    ASSERT_EQ(ntohs(a->sin6_port), ntohs(b->sin6_port));
    ASSERT_MEM_EQ(&a->sin6_addr, &b->sin6_addr, 16);
  }
}

static void expect_idle_read(const event_t* e) {
  ASSERT_EQ(e->nread, 0);
  ASSERT(!e->has_addr);
  ASSERT_EQ(e->flags, 0);
}

static void bind_any(uv_udp_t* h, const char* ip, struct sockaddr_storage* out) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  ASSERT_OK(uv_udp_init(&loop, h));
  if (strchr(ip, ':') != NULL)
    ASSERT_OK(uv_ip6_addr(ip, 0, (struct sockaddr_in6*) &ss));
  else
    ASSERT_OK(uv_ip4_addr(ip, 0, (struct sockaddr_in*) &ss));
  ASSERT_OK(uv_udp_bind(h, SA(&ss), 0));
  ASSERT_OK(uv_udp_getsockname(h, (struct sockaddr*) out, &len));
}

static int send_status[8];
static int send_calls;
static char log_buf[128];

static void send_cb(uv_udp_send_t* req, int status) {
  ASSERT_LT(send_calls, 8);
  send_status[send_calls++] = status;
  strcat(log_buf, (const char*) req->data);
}

/* ---- plain send / receive ---- */

static void test_roundtrip(const char* ip) {
  uv_udp_t srv;
  uv_udp_t cli;
  struct sockaddr_storage srv_addr;
  struct sockaddr_storage cli_addr;
  uv_udp_send_t req;
  char msg[] = "hello";
  uv_buf_t buf = uv_buf_init(msg, 5);

  reset(1);
  send_calls = 0;
  log_buf[0] = 0;
  bind_any(&srv, ip, &srv_addr);
  bind_any(&cli, ip, &cli_addr);
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  ASSERT_NE(uv_is_active((uv_handle_t*) &srv), 0);
  req.data = "s";
  ASSERT_OK(uv_udp_send(&req, &cli, &buf, 1, SA(&srv_addr), send_cb));
  run_to_end();

  ASSERT_EQ(send_calls, 1);
  ASSERT_OK(send_status[0]);
  ASSERT_EQ(nev, 2);
  expect_data(&ev[0], "hello", 5, SA(&cli_addr));
  expect_idle_read(&ev[1]);
}

static void test_gather(void) {
  uv_udp_t srv;
  uv_udp_t cli;
  struct sockaddr_storage srv_addr;
  struct sockaddr_storage cli_addr;
  uv_udp_send_t req;
  char a[] = "ab";
  char b[] = "cd";
  char c[] = "ef";
  uv_buf_t bufs[3];

  bufs[0] = uv_buf_init(a, 2);
  bufs[1] = uv_buf_init(b, 2);
  bufs[2] = uv_buf_init(c, 2);
  reset(1);
  send_calls = 0;
  log_buf[0] = 0;
  bind_any(&srv, "127.0.0.1", &srv_addr);
  bind_any(&cli, "127.0.0.1", &cli_addr);
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  req.data = "g";
  ASSERT_OK(uv_udp_send(&req, &cli, bufs, 3, SA(&srv_addr), send_cb));
  ASSERT_EQ(cli.send_queue_size, 6);
  run_to_end();
  ASSERT_EQ(send_calls, 1);
  ASSERT_OK(send_status[0]);
  ASSERT_EQ(nev, 2);
  expect_data(&ev[0], "abcdef", 6, SA(&cli_addr));
  expect_idle_read(&ev[1]);
}

/* ---- auto-bind on first send ---- */

static void test_autobind(void) {
  uv_udp_t srv;
  uv_udp_t cli;
  struct sockaddr_storage srv_addr;
  struct sockaddr_in cli_addr;
  int len = sizeof(cli_addr);
  uv_udp_send_t req;
  char msg[] = "auto";
  uv_buf_t buf = uv_buf_init(msg, 4);
  const struct sockaddr_in* from;

  reset(1);
  send_calls = 0;
  log_buf[0] = 0;
  bind_any(&srv, "127.0.0.1", &srv_addr);
  ASSERT_OK(uv_udp_init(&loop, &cli));
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  req.data = "a";
  ASSERT_OK(uv_udp_send(&req, &cli, &buf, 1, SA(&srv_addr), send_cb));
  ASSERT_OK(uv_udp_getsockname(&cli, (struct sockaddr*) &cli_addr, &len));
  ASSERT_EQ(cli_addr.sin_family, AF_INET);
  ASSERT_EQ(cli_addr.sin_addr.s_addr, htonl(INADDR_ANY));
  ASSERT_NE(cli_addr.sin_port, 0);
  run_to_end();
  ASSERT_EQ(nev, 2);
  ASSERT_EQ(ev[0].nread, 4);
  from = (const struct sockaddr_in*) &ev[0].addr;
  ASSERT_EQ(from->sin_port, cli_addr.sin_port);
  ASSERT_EQ(from->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
}

/* ---- alloc_cb edge cases ---- */

static void send_plain(const struct sockaddr_storage* to, const char* data,
                       size_t n) {
  int s = socket(to->ss_family, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0);
  ASSERT_EQ(sendto(s, data, n, 0, SA(to),
                   to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                             : sizeof(struct sockaddr_in)),
            (ssize_t) n);
  ASSERT_OK(close(s));
}

static void test_enobufs(void) {
  uv_udp_t srv;
  struct sockaddr_storage srv_addr;

  reset(1);
  alloc_script[0] = -1; /* base NULL, len 0 */
  alloc_script[1] = -2; /* base set, len 0 */
  alloc_script[2] = 65536;
  alloc_script_n = 3;
  bind_any(&srv, "127.0.0.1", &srv_addr);
  send_plain(&srv_addr, "later", 5);
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  run_to_end();
  ASSERT_EQ(nev, 4);
  ASSERT_EQ(ev[0].nread, UV_ENOBUFS);
  ASSERT(!ev[0].has_addr);
  ASSERT_EQ(ev[1].nread, UV_ENOBUFS);
  ASSERT(!ev[1].has_addr);
  ASSERT_EQ(ev[2].nread, 5);
  ASSERT(ev[2].has_addr);
  ASSERT_MEM_EQ(ev[2].data, "later", 5);
  expect_idle_read(&ev[3]);
}

static void test_partial(void) {
  uv_udp_t srv;
  struct sockaddr_storage srv_addr;

  reset(1);
  alloc_script[0] = 4;
  alloc_script_n = 1;
  bind_any(&srv, "127.0.0.1", &srv_addr);
  send_plain(&srv_addr, "0123456789", 10);
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  run_to_end();
  ASSERT_EQ(nev, 2);
  ASSERT_EQ(ev[0].nread, 4);
  ASSERT_EQ(ev[0].flags, UV_UDP_PARTIAL);
  ASSERT(ev[0].has_addr);
  ASSERT_MEM_EQ(ev[0].data, "0123", 4);
  expect_idle_read(&ev[1]);
}

static void test_empty_datagram(void) {
  uv_udp_t srv;
  uv_udp_t cli;
  struct sockaddr_storage srv_addr;
  struct sockaddr_storage cli_addr;
  uv_udp_send_t req;
  uv_buf_t buf = uv_buf_init(NULL, 0);

  reset(1);
  send_calls = 0;
  log_buf[0] = 0;
  bind_any(&srv, "127.0.0.1", &srv_addr);
  bind_any(&cli, "127.0.0.1", &cli_addr);
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  req.data = "e";
  ASSERT_OK(uv_udp_send(&req, &cli, &buf, 1, SA(&srv_addr), send_cb));
  run_to_end();
  ASSERT_EQ(send_calls, 1);
  ASSERT_OK(send_status[0]);
  ASSERT_EQ(nev, 2);
  expect_data(&ev[0], "", 0, SA(&cli_addr));
  expect_idle_read(&ev[1]);
}

/* ---- try_send ---- */

static void test_try_send(void) {
  uv_udp_t srv;
  uv_udp_t cli;
  struct sockaddr_storage srv_addr;
  struct sockaddr_storage cli_addr;
  uv_udp_send_t req;
  char ping[] = "ping";
  char q[] = "q";
  uv_buf_t b1 = uv_buf_init(ping, 4);
  uv_buf_t b2 = uv_buf_init(q, 1);
  char* big;
  uv_buf_t bigbuf;

  reset(3);
  send_calls = 0;
  log_buf[0] = 0;
  bind_any(&srv, "127.0.0.1", &srv_addr);
  bind_any(&cli, "127.0.0.1", &cli_addr);
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));

  ASSERT_EQ(uv_udp_try_send(&cli, &b1, 1, SA(&srv_addr)), 4);
  ASSERT_EQ(cli.send_queue_count, 0);

  big = malloc(70000);
  ASSERT_NOT_NULL(big);
  memset(big, 'z', 70000);
  bigbuf = uv_buf_init(big, 70000);
  ASSERT_EQ(uv_udp_try_send(&cli, &bigbuf, 1, SA(&srv_addr)), UV_EMSGSIZE);

  req.data = "q";
  ASSERT_OK(uv_udp_send(&req, &cli, &b2, 1, SA(&srv_addr), send_cb));
  /* A send is queued (its callback has not run): try_send refuses. */
  ASSERT_EQ(uv_udp_try_send(&cli, &b1, 1, SA(&srv_addr)), UV_EAGAIN);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(send_calls, 1);
  ASSERT_EQ(cli.send_queue_count, 0);
  ASSERT_EQ(uv_udp_try_send(&cli, &b1, 1, SA(&srv_addr)), 4);
  run_to_end();
  free(big);

  ASSERT_GE(nev, 4);
  expect_data(&ev[0], "ping", 4, SA(&cli_addr));
  /* The two remaining datagrams may come in one or two wakeups. */
  if (ev[1].nread == 0 && !ev[1].has_addr) {
    expect_data(&ev[2], "q", 1, SA(&cli_addr));
    ASSERT_EQ(ndata, 3);
  } else {
    expect_data(&ev[1], "q", 1, SA(&cli_addr));
  }
  ASSERT_EQ(ndata, 3);
  expect_idle_read(&ev[nev - 1]);
}

static void test_send_emsgsize(void) {
  uv_udp_t cli;
  struct sockaddr_storage cli_addr;
  uv_udp_send_t req;
  char* big = malloc(70000);
  uv_buf_t buf;

  ASSERT_NOT_NULL(big);
  memset(big, 'z', 70000);
  buf = uv_buf_init(big, 70000);
  send_calls = 0;
  log_buf[0] = 0;
  bind_any(&cli, "127.0.0.1", &cli_addr);
  req.data = "m";
  ASSERT_OK(uv_udp_send(&req, &cli, &buf, 1, SA(&cli_addr), send_cb));
  ASSERT_EQ(send_calls, 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(send_calls, 1);
  ASSERT_EQ(send_status[0], UV_EMSGSIZE);
  free(big);
  uv_close((uv_handle_t*) &cli, NULL);
  run_to_end();
}

#if UV_VERSION_HEX >= 0x013200
static void test_try_send2(void) {
  uv_udp_t srv;
  uv_udp_t cli;
  struct sockaddr_storage srv_addr;
  struct sockaddr_storage cli_addr;
  char one[] = "one";
  char tw[] = "tw";
  char o2[] = "o2";
  char three[] = "three";
  uv_buf_t d0[1];
  uv_buf_t d1[2];
  uv_buf_t d2[1];
  uv_buf_t* bufs[3];
  unsigned int nbufs[3] = {1, 2, 1};
  struct sockaddr* addrs[3];
  int i;
  int seen = 0;

  d0[0] = uv_buf_init(one, 3);
  d1[0] = uv_buf_init(tw, 2);
  d1[1] = uv_buf_init(o2, 2);
  d2[0] = uv_buf_init(three, 5);
  bufs[0] = d0;
  bufs[1] = d1;
  bufs[2] = d2;

  reset(3);
  bind_any(&srv, "127.0.0.1", &srv_addr);
  bind_any(&cli, "127.0.0.1", &cli_addr);
  for (i = 0; i < 3; i++)
    addrs[i] = (struct sockaddr*) &srv_addr;
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  ASSERT_EQ(uv_udp_try_send2(&cli, 3, bufs, nbufs, addrs, 0), 3);
  run_to_end();

  for (i = 0; i < nev; i++) {
    if (!ev[i].has_addr)
      continue;
    if (seen == 0)
      expect_data(&ev[i], "one", 3, SA(&cli_addr));
    else if (seen == 1)
      expect_data(&ev[i], "two2", 4, SA(&cli_addr));
    else
      expect_data(&ev[i], "three", 5, SA(&cli_addr));
    seen++;
  }
  ASSERT_EQ(seen, 3);
}
#endif

/* ---- recv_start / recv_stop ---- */

static void test_start_stop(void) {
  uv_udp_t srv;
  struct sockaddr_storage srv_addr;

  reset(1);
  bind_any(&srv, "127.0.0.1", &srv_addr);
  ASSERT_OK(uv_udp_recv_stop(&srv));
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  ASSERT_EQ(uv_udp_recv_start(&srv, alloc_cb, recv_cb), UV_EALREADY);
  ASSERT_OK(uv_udp_recv_stop(&srv));
  ASSERT_OK(uv_udp_recv_stop(&srv));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &srv), 0);

  /* A datagram arriving while stopped waits for the next recv_start. */
  send_plain(&srv_addr, "waited", 6);
  ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0); /* the guard timer */
  ASSERT_EQ(nev, 0);
  ASSERT_OK(uv_udp_recv_start(&srv, alloc_cb, recv_cb));
  run_to_end();
  ASSERT_EQ(nev, 2);
  ASSERT_EQ(ev[0].nread, 6);
  ASSERT_MEM_EQ(ev[0].data, "waited", 6);
  expect_idle_read(&ev[1]);
}

/* ---- close with sends in flight ---- */

static void close_log_cb(uv_handle_t* h) {
  (void) h;
  strcat(log_buf, "C");
}

static void test_close_pending_sends(void) {
  uv_udp_t cli;
  uv_udp_t srv;
  struct sockaddr_storage srv_addr;
  struct sockaddr_storage cli_addr;
  uv_udp_send_t r1;
  uv_udp_send_t r2;
  char m1[] = "first";
  char m2[] = "second";
  uv_buf_t b1 = uv_buf_init(m1, 5);
  uv_buf_t b2 = uv_buf_init(m2, 6);

  send_calls = 0;
  log_buf[0] = 0;
  bind_any(&srv, "127.0.0.1", &srv_addr);
  bind_any(&cli, "127.0.0.1", &cli_addr);
  r1.data = "1";
  r2.data = "2";
  ASSERT_OK(uv_udp_send(&r1, &cli, &b1, 1, SA(&srv_addr), send_cb));
  ASSERT_OK(uv_udp_send(&r2, &cli, &b2, 1, SA(&srv_addr), send_cb));
  ASSERT_EQ(cli.send_queue_count, 2);
  ASSERT_EQ(cli.send_queue_size, 11);
  uv_close((uv_handle_t*) &cli, close_log_cb);
  ASSERT_EQ(send_calls, 0);
  uv_close((uv_handle_t*) &srv, NULL);
  run_to_end();
  ASSERT_STR_EQ(log_buf, "12C");
  ASSERT_OK(send_status[0]);
  if (on_uv_compat()) {
    /* ruv writes a datagram at once whenever none is waiting to be
     * written, so the second send went out before the close: it reports
     * success. */
    ASSERT_OK(send_status[1]);
  } else {
    /* libuv writes at once only when no send is in flight at all, so the
     * second one was still queued and the close cancelled it. */
    ASSERT_EQ(send_status[1], UV_ECANCELED);
  }
}

/* ---- ICMP errors ---- */

static void closed_port(struct sockaddr_in* out) {
  struct sockaddr_in a;
  socklen_t len = sizeof(*out);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0);
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &a));
  ASSERT_OK(bind(s, SA(&a), sizeof(a)));
  ASSERT_OK(getsockname(s, (struct sockaddr*) out, &len));
  ASSERT_OK(close(s));
}

static int first_error(void) {
  int i;
  for (i = 0; i < nev; i++)
    if (ev[i].nread < 0)
      return (int) ev[i].nread;
  return 0;
}

static void test_connrefused_connected(void) {
  uv_udp_t cli;
  struct sockaddr_in dead;
  uv_udp_send_t req;
  char m[] = "x";
  uv_buf_t b = uv_buf_init(m, 1);
  int i;

  reset(-1);
  send_calls = 0;
  log_buf[0] = 0;
  closed_port(&dead);
  ASSERT_OK(uv_udp_init(&loop, &cli));
  ASSERT_OK(uv_udp_connect(&cli, SA(&dead)));
  ASSERT_OK(uv_udp_recv_start(&cli, alloc_cb, recv_cb));
  req.data = "x";
  ASSERT_OK(uv_udp_send(&req, &cli, &b, 1, NULL, send_cb));
  run_to_end();
  ASSERT_EQ(send_calls, 1);
  ASSERT_OK(send_status[0]);
  ASSERT_EQ(first_error(), UV_ECONNREFUSED);
  for (i = 0; i < nev; i++) {
    ASSERT(!ev[i].has_addr);
    ASSERT_LE(ev[i].nread, 0);
  }
}

static void test_connrefused_recverr(void) {
  uv_udp_t cli;
  struct sockaddr_in dead;
  struct sockaddr_in any;
  char m[] = "x";
  uv_buf_t b = uv_buf_init(m, 1);

  reset(-1);
  closed_port(&dead);
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &any));
  ASSERT_OK(uv_udp_init(&loop, &cli));
  ASSERT_OK(uv_udp_bind(&cli, SA(&any), UV_UDP_LINUX_RECVERR));
  ASSERT_OK(uv_udp_recv_start(&cli, alloc_cb, recv_cb));
  ASSERT_EQ(uv_udp_try_send(&cli, &b, 1, SA(&dead)), 1);
  run_to_end();
  ASSERT_EQ(first_error(), UV_ECONNREFUSED);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_roundtrip("127.0.0.1");
  test_roundtrip("::1");
  test_gather();
  test_autobind();
  test_enobufs();
  test_partial();
  test_empty_datagram();
  test_try_send();
  test_send_emsgsize();
#if UV_VERSION_HEX >= 0x013200
  test_try_send2();
#endif
  test_start_stop();
  test_close_pending_sends();
  test_connrefused_connected();
  test_connrefused_recverr();
  ASSERT_OK(uv_loop_close(&loop));
  printf("udp_io: ok\n");
  return 0;
}
