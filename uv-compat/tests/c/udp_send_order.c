/* udp_send_order.c: uv_udp_send completions, many at a time.
 *
 * Covers: many sends in flight on two handles at once, each handle's
 * send_cb calls in the order its sends were made, with the request pointer
 * each was made with, its data/handle/cb/type fields intact, the right
 * status (0, or UV_EMSGSIZE for an oversized datagram among them) and
 * send_queue_count/send_queue_size (fields and getters, also while the
 * handle closes) already counting only the later sends;
 * sends with a NULL send_cb in between; a send_cb that reuses its request
 * for a new send (the new sends complete after the ones already made, in
 * the order they were made); uv_close with sends waiting for a choked
 * socket, before or after a run, reporting the written ones with 0 and the
 * waiting ones with UV_ECANCELED, in order, before the close callback, with
 * a handle initialized from one of those callbacks; a send_cb that closes
 * its own handle, cancelling the sends made after it.
 *
 * libuv 1.44 fails a whole sendmmsg batch with the oversized datagram's
 * error, so against it the sends after that one may report UV_EMSGSIZE
 * too; libuv on Unix does not fill in req->cb (checked for ours only).
 *
 * The choked socket is an IPv6 socket with a 1280-byte path MTU and the
 * smallest send buffer: a datagram of 8000 bytes (fragmented) cannot be
 * sent now, so it and the sends after it wait.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define N 64
#define MAX_DONE (4 * N)
#define CHOKE 8000

typedef struct {
  uv_udp_send_t* req;
  uv_udp_t* handle;
  int status;
  size_t count;  /* handle->send_queue_count inside the callback */
  size_t size;   /* handle->send_queue_size inside the callback */
  char log;      /* 'S' for a send, 'C' for a close callback */
} done_t;

static uv_loop_t loop;
static done_t done[MAX_DONE];
static int ndone;
static char big[70000];

static void record(uv_udp_send_t* req, int status, char log) {
  ASSERT_LT(ndone, MAX_DONE);
  ASSERT_EQ(req->type, UV_UDP_SEND);
  ASSERT_NOT_NULL(req->handle);
  done[ndone].req = req;
  done[ndone].handle = req->handle;
  done[ndone].status = status;
  done[ndone].count = req->handle->send_queue_count;
  done[ndone].size = req->handle->send_queue_size;
  /* The getters read the same fields, also while the handle closes. */
  ASSERT_EQ(uv_udp_get_send_queue_count(req->handle), done[ndone].count);
  ASSERT_EQ(uv_udp_get_send_queue_size(req->handle), done[ndone].size);
  done[ndone].log = log;
  ndone++;
}

static void record_cb(uv_udp_send_t* req, int status) {
#ifdef UV_RUV_COMPAT
  /* libuv on Unix keeps the callback in a private field instead. */
  ASSERT_PTR_EQ(req->cb, record_cb);
#endif
  record(req, status, 'S');
}

static void close_record_cb(uv_handle_t* h) {
  ASSERT_LT(ndone, MAX_DONE);
  memset(&done[ndone], 0, sizeof(done[ndone]));
  done[ndone].handle = (uv_udp_t*) h;
  done[ndone].log = 'C';
  ndone++;
}

static void bind_loopback(uv_udp_t* h, const char* ip, struct sockaddr_storage* out) {
  struct sockaddr_storage a;
  int len = sizeof(*out);
  if (strchr(ip, ':') != NULL)
    ASSERT_OK(uv_ip6_addr(ip, 0, (struct sockaddr_in6*) &a));
  else
    ASSERT_OK(uv_ip4_addr(ip, 0, (struct sockaddr_in*) &a));
  ASSERT_OK(uv_udp_init(&loop, h));
  ASSERT_OK(uv_udp_bind(h, SA(&a), 0));
  ASSERT_OK(uv_udp_getsockname(h, (struct sockaddr*) out, &len));
}

static void run_to_end(void) {
  int i;
  for (i = 0; i < 10000 && uv_run(&loop, UV_RUN_ONCE) != 0; i++) {
  }
  ASSERT_EQ(uv_loop_alive(&loop), 0);
}

/* ---- many sends in flight, two handles ---- */

static size_t len_of(int i) {
  return (size_t) (i % 7) + 1;
}

static int has_cb(int i) {
  return i % 5 != 4;
}

static void test_many_in_flight(void) {
  static uv_udp_send_t ra[N];
  static uv_udp_send_t rb[N];
  uv_udp_t a;
  uv_udp_t b;
  uv_udp_t rx;
  struct sockaddr_storage rx_addr;
  struct sockaddr_storage tmp;
  size_t size_a = 0;
  size_t after;
  int i;
  int ia;
  int ib;
  int k;
  const int oversized = N / 2;

  ndone = 0;
  bind_loopback(&rx, "127.0.0.1", &rx_addr);
  bind_loopback(&a, "127.0.0.1", &tmp);
  bind_loopback(&b, "127.0.0.1", &tmp);
  for (i = 0; i < N; i++) {
    uv_buf_t ba = uv_buf_init(big, (unsigned) (i == oversized ? sizeof(big) : len_of(i)));
    uv_buf_t bb = uv_buf_init(big, 1);
    ra[i].data = (void*) (intptr_t) (1000 + i);
    rb[i].data = (void*) (intptr_t) (2000 + i);
    ASSERT_OK(uv_udp_send(&ra[i], &a, &ba, 1, SA(&rx_addr), has_cb(i) ? record_cb : NULL));
    ASSERT_OK(uv_udp_send(&rb[i], &b, &bb, 1, SA(&rx_addr), record_cb));
    ASSERT_PTR_EQ(ra[i].handle, &a);
    ASSERT_PTR_EQ(rb[i].handle, &b);
    size_a += ba.len;
  }
  ASSERT_EQ(a.send_queue_count, N);
  ASSERT_EQ(a.send_queue_size, size_a);
  ASSERT_EQ(uv_udp_get_send_queue_count(&a), N);
  ASSERT_EQ(uv_udp_get_send_queue_size(&a), size_a);
  ASSERT_EQ(b.send_queue_count, N);
  ASSERT_EQ(b.send_queue_size, N);
  ASSERT_EQ(ndone, 0); /* never from inside uv_udp_send */

  run_to_end(); /* the sends in flight keep the loop alive */
  ASSERT_EQ(ndone, N + N - (N / 5));

  /* Each handle's callbacks in the order of its sends. */
  ia = 0;
  ib = 0;
  for (k = 0; k < ndone; k++) {
    if (done[k].handle == &a) {
      while (!has_cb(ia))
        ia++;
      ASSERT_PTR_EQ(done[k].req, &ra[ia]);
      ASSERT_EQ((intptr_t) ra[ia].data, 1000 + ia);
#ifdef UV_RUV_COMPAT
      ASSERT_EQ(done[k].status, ia == oversized ? UV_EMSGSIZE : 0);
#else
      /* libuv 1.44 fails every datagram of the sendmmsg batch that holds
       * the oversized one. */
      if (ia == oversized)
        ASSERT_EQ(done[k].status, UV_EMSGSIZE);
      else if (ia < oversized)
        ASSERT_OK(done[k].status);
      else
        ASSERT(done[k].status == 0 || done[k].status == UV_EMSGSIZE);
#endif
      ASSERT_EQ(done[k].count, N - 1 - ia);
      after = 0;
      for (i = ia + 1; i < N; i++)
        after += i == oversized ? sizeof(big) : len_of(i);
      ASSERT_EQ(done[k].size, after);
      ia++;
    } else {
      ASSERT_PTR_EQ(done[k].handle, &b);
      ASSERT_PTR_EQ(done[k].req, &rb[ib]);
      ASSERT_EQ((intptr_t) rb[ib].data, 2000 + ib);
      ASSERT_OK(done[k].status);
      ASSERT_EQ(done[k].count, N - 1 - ib);
      ASSERT_EQ(done[k].size, N - 1 - ib);
      ib++;
    }
  }
  ASSERT_EQ(ib, N);
  ASSERT_EQ(a.send_queue_count, 0);
  ASSERT_EQ(a.send_queue_size, 0);
  ASSERT_EQ(uv_udp_get_send_queue_count(&a), 0);
  ASSERT_EQ(uv_udp_get_send_queue_size(&a), 0);
  uv_close((uv_handle_t*) &a, NULL);
  uv_close((uv_handle_t*) &b, NULL);
  uv_close((uv_handle_t*) &rx, NULL);
  run_to_end();
}

/* ---- a send_cb that makes new sends with its own request ---- */

#define CHAIN_REQS 3
#define CHAIN_ROUNDS 5

static struct sockaddr_storage chain_to;
static uv_udp_send_t chain[CHAIN_REQS];
static int chain_left[CHAIN_REQS];

static void chain_cb(uv_udp_send_t* req, int status) {
  int i = (int) (intptr_t) req->data;
  uv_buf_t buf = uv_buf_init(big, (unsigned) (i + 1));
  record(req, status, 'S');
  ASSERT_OK(status);
  ASSERT_PTR_EQ(req, &chain[i]);
  if (--chain_left[i] > 0) {
    ASSERT_OK(uv_udp_send(req, req->handle, &buf, 1, SA(&chain_to), chain_cb));
    ASSERT_EQ((intptr_t) req->data, i);
  }
}

static void test_send_from_send_cb(void) {
  uv_udp_t tx;
  uv_udp_t rx;
  struct sockaddr_storage tmp;
  int i;
  int k;

  ndone = 0;
  bind_loopback(&rx, "127.0.0.1", &chain_to);
  bind_loopback(&tx, "127.0.0.1", &tmp);
  for (i = 0; i < CHAIN_REQS; i++) {
    uv_buf_t buf = uv_buf_init(big, (unsigned) (i + 1));
    chain[i].data = (void*) (intptr_t) i;
    chain_left[i] = CHAIN_ROUNDS;
    ASSERT_OK(uv_udp_send(&chain[i], &tx, &buf, 1, SA(&chain_to), chain_cb));
  }
  run_to_end();
  ASSERT_EQ(ndone, CHAIN_REQS * CHAIN_ROUNDS);
  /* Round after round, each in the order its sends were made. */
  for (k = 0; k < ndone; k++) {
    int i = k % CHAIN_REQS;
    int round = k / CHAIN_REQS;
    size_t later = 0;
    int j;
    ASSERT_PTR_EQ(done[k].req, &chain[i]);
    /* In flight meanwhile: the rest of this round, and the sends of the
     * next round made by the callbacks before this one. */
    for (j = i + 1; j < CHAIN_REQS; j++)
      later += (size_t) (j + 1);
    if (round + 1 < CHAIN_ROUNDS)
      for (j = 0; j < i; j++)
        later += (size_t) (j + 1);
    ASSERT_EQ(done[k].count, (CHAIN_REQS - 1 - i) + (round + 1 < CHAIN_ROUNDS ? i : 0));
    ASSERT_EQ(done[k].size, later);
  }
  ASSERT_EQ(tx.send_queue_count, 0);
  uv_close((uv_handle_t*) &tx, NULL);
  uv_close((uv_handle_t*) &rx, NULL);
  run_to_end();
}

/* ---- closing with sends waiting ---- */

/* An IPv6 handle on [::1] that cannot send CHOKE bytes now. */
static void choked(uv_udp_t* h) {
  struct sockaddr_in6 any;
  int mtu = 1280;
  int one = 1;
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0);
  ASSERT_OK(uv_ip6_addr("::1", 0, &any));
  ASSERT_OK(bind(s, SA(&any), sizeof(any)));
  ASSERT_OK(setsockopt(s, IPPROTO_IPV6, IPV6_MTU, &mtu, sizeof(mtu)));
  ASSERT_OK(uv_udp_init(&loop, h));
  ASSERT_OK(uv_udp_open(h, s));
  ASSERT_OK(uv_send_buffer_size((uv_handle_t*) h, &one));
}

static uv_udp_t fresh;
static int fresh_made;

/* Records, and on the first cancelled send initializes a new handle (which
 * may take over the closing handle's internal slot). */
static void cancel_cb(uv_udp_send_t* req, int status) {
  record(req, status, 'S');
  if (status == UV_ECANCELED && !fresh_made) {
    fresh_made = 1;
    ASSERT_OK(uv_udp_init(&loop, &fresh));
  }
}

#define CANCEL_SENDS 6

static void test_close_cancels(int run_first) {
  uv_udp_t tx;
  uv_udp_t rx;
  struct sockaddr_storage rx_addr;
  uv_udp_send_t req[CANCEL_SENDS];
  size_t lens[CANCEL_SENDS] = {2, 2, CHOKE, 2, 3, 4};
  size_t total = 0;
  int written;
  int k;

  ndone = 0;
  fresh_made = 0;
  bind_loopback(&rx, "::1", &rx_addr);
  choked(&tx);
  for (k = 0; k < CANCEL_SENDS; k++) {
    uv_buf_t buf = uv_buf_init(big, (unsigned) lens[k]);
    req[k].data = (void*) (intptr_t) k;
    ASSERT_OK(uv_udp_send(&req[k], &tx, &buf, 1, SA(&rx_addr), cancel_cb));
    total += lens[k];
  }
  ASSERT_EQ(tx.send_queue_count, CANCEL_SENDS);
  ASSERT_EQ(tx.send_queue_size, total);
  if (run_first) {
    ASSERT_NE(uv_run(&loop, UV_RUN_NOWAIT), 0);
    ASSERT_GE(ndone, 1);
    ASSERT_LE(ndone, 2);
  }
  uv_close((uv_handle_t*) &tx, close_record_cb);
  run_to_end();
  ASSERT_EQ(fresh_made, 1);
  ASSERT_EQ(ndone, CANCEL_SENDS + 1);
  /* In order: the written ones with 0, then the waiting ones cancelled,
   * then the close callback. */
  written = 0;
  for (k = 0; k < CANCEL_SENDS; k++) {
    size_t later = 0;
    int j;
    ASSERT_EQ(done[k].log, 'S');
    ASSERT_PTR_EQ(done[k].req, &req[k]);
    ASSERT_PTR_EQ(done[k].handle, &tx);
    ASSERT_EQ((intptr_t) req[k].data, k);
    if (done[k].status == 0) {
      ASSERT_EQ(written, k);
      written++;
    } else {
      ASSERT_EQ(done[k].status, UV_ECANCELED);
    }
    for (j = k + 1; j < CANCEL_SENDS; j++)
      later += lens[j];
    ASSERT_EQ(done[k].count, CANCEL_SENDS - 1 - k);
    ASSERT_EQ(done[k].size, later);
  }
  ASSERT_GE(written, 1);
  ASSERT_LE(written, 2);
#ifdef UV_RUV_COMPAT
  /* ruv writes a datagram at once whenever none is waiting. */
  ASSERT_EQ(written, 2);
#endif
  ASSERT_EQ(done[CANCEL_SENDS].log, 'C');
  ASSERT_PTR_EQ(done[CANCEL_SENDS].handle, &tx);
  ASSERT_EQ(tx.send_queue_count, 0);
  ASSERT_EQ(tx.send_queue_size, 0);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &fresh), 0);
  uv_close((uv_handle_t*) &fresh, NULL);
  uv_close((uv_handle_t*) &rx, NULL);
  run_to_end();
}

/* ---- a send_cb that closes its handle ---- */

static void closing_cb(uv_udp_send_t* req, int status) {
  record(req, status, 'S');
  if (!uv_is_closing((uv_handle_t*) req->handle))
    uv_close((uv_handle_t*) req->handle, close_record_cb);
}

static void test_close_from_send_cb(void) {
  uv_udp_t tx;
  uv_udp_t rx;
  struct sockaddr_storage rx_addr;
  uv_udp_send_t req[4];
  size_t lens[4] = {1, CHOKE, 2, 3};
  int k;

  ndone = 0;
  bind_loopback(&rx, "::1", &rx_addr);
  choked(&tx);
  for (k = 0; k < 4; k++) {
    uv_buf_t buf = uv_buf_init(big, (unsigned) lens[k]);
    ASSERT_OK(uv_udp_send(&req[k], &tx, &buf, 1, SA(&rx_addr), closing_cb));
  }
  run_to_end();
  ASSERT_EQ(ndone, 5);
  for (k = 0; k < 4; k++) {
    ASSERT_EQ(done[k].log, 'S');
    ASSERT_PTR_EQ(done[k].req, &req[k]);
    ASSERT_EQ(done[k].status, k == 0 ? 0 : UV_ECANCELED);
    ASSERT_EQ(done[k].count, 3 - k);
  }
  ASSERT_EQ(done[4].log, 'C');
  uv_close((uv_handle_t*) &rx, NULL);
  run_to_end();
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_many_in_flight();
  test_send_from_send_cb();
  test_close_cancels(0);
  test_close_cancels(1);
  test_close_from_send_cb();
  ASSERT_OK(uv_loop_close(&loop));
  printf("udp_send_order: ok\n");
  return 0;
}
