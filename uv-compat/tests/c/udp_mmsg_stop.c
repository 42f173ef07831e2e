/* udp_mmsg_stop.c: UV_UDP_RECVMMSG batches across buffers, senders, stops
 * and closes.
 *
 * Covers: each UV_UDP_MMSG_CHUNK call reports its own datagram's sender
 * (datagrams from two sockets, interleaved); more datagrams than one buffer
 * holds arrive in order over several batches, each ended by one
 * UV_UDP_MMSG_FREE call, whether alloc_cb hands out the same buffer again
 * or another one; uv_udp_recv_stop in the first chunk's callback ends the
 * batch at once (no more calls, no MMSG_FREE: recv_cb is NULL) and the
 * datagrams behind it arrive, in order, after uv_udp_recv_start; uv_close
 * in a chunk's callback ends the batch at once (no more chunks) and the
 * buffer still comes back with MMSG_FREE.
 *
 * uv-compat-only assertions: after the stop, no datagram is lost (libuv
 * reads a whole batch first and drops what it did not report); after the
 * close, no further chunk (libuv reports the rest of the batch).
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define CHUNK (64 * 1024)
#define CHUNKS 4
#define MAX_DGRAMS 32

static uv_loop_t loop;
static uv_udp_t rx;
static struct sockaddr_in rx_addr;
static int senders[2];
static struct sockaddr_in sender_addr[2];

static char bufs[2][CHUNKS * CHUNK];
static int allocs;
static char* outstanding;

/* What arrived, in order. */
static int got[MAX_DGRAMS];
static int ngot;
static int frees;
static int idle_reads;
static int chunks_in_batch;
static int expected_total;

static int stop_after;   /* stop receiving in the callback of this chunk (1-based) */
static int close_after;  /* close the handle in the callback of this chunk */
static int closed;
static int interleaved; /* datagram n came from sender n % 2, else sender 0 */

static void close_cb(uv_handle_t* h) {
  (void) h;
  closed++;
}

/* Datagram i carries its number; it comes from sender i % 2 when
 * `interleave`, else from sender 0. */
static void send_numbered(int from, int to, int interleave) {
  int i;
  for (i = from; i < to; i++) {
    unsigned char payload[2] = {(unsigned char) i, 0xAB};
    int s = interleave ? i % 2 : 0;
    interleaved = interleave;
    ASSERT_EQ(sendto(senders[s], payload, sizeof(payload), 0, SA(&rx_addr),
                     sizeof(rx_addr)),
              2);
  }
  uv_sleep(5);
}

static void alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void) h;
  (void) suggested;
  /* The same buffer twice, then the other one twice, ... */
  outstanding = bufs[(allocs / 2) % 2];
  allocs++;
  chunks_in_batch = 0;
  *buf = uv_buf_init(outstanding, sizeof(bufs[0]));
}

static void recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  const struct sockaddr_in* from = (const struct sockaddr_in*) addr;
  int n;

  ASSERT_GE(nread, 0);
  if (!(flags & UV_UDP_MMSG_CHUNK)) {
    ASSERT_EQ(nread, 0);
    ASSERT_NULL(addr);
    ASSERT_PTR_EQ(buf->base, outstanding);
    if (flags & UV_UDP_MMSG_FREE) {
      ASSERT_EQ(flags, UV_UDP_MMSG_FREE);
      ASSERT_GT(chunks_in_batch, 0);
      frees++;
    } else {
      ASSERT_EQ(flags, 0);
      idle_reads++;
      if (ngot == expected_total && !uv_is_closing((uv_handle_t*) h))
        uv_close((uv_handle_t*) h, close_cb);
    }
    return;
  }

  ASSERT_EQ(flags, UV_UDP_MMSG_CHUNK);
  ASSERT_EQ(nread, 2);
  ASSERT(buf->base >= outstanding);
  ASSERT(buf->base + CHUNK <= outstanding + sizeof(bufs[0]));
  ASSERT_EQ((unsigned char) buf->base[1], 0xAB);
  n = (unsigned char) buf->base[0];
  ASSERT_LT(ngot, MAX_DGRAMS);
  got[ngot++] = n;
  chunks_in_batch++;
  ASSERT_LE(chunks_in_batch, CHUNKS);

  /* The sender of this very datagram. */
  ASSERT_NOT_NULL(addr);
  ASSERT_EQ(from->sin_family, AF_INET);
  ASSERT_EQ(from->sin_port, sender_addr[interleaved ? n % 2 : 0].sin_port);
  ASSERT_EQ(from->sin_addr.s_addr, sender_addr[interleaved ? n % 2 : 0].sin_addr.s_addr);

  if (stop_after != 0 && ngot == stop_after) {
    ASSERT_OK(uv_udp_recv_stop(h));
    stop_after = 0;
  }
  if (close_after != 0 && ngot == close_after)
    uv_close((uv_handle_t*) h, close_cb);
}

static void reset(int total) {
  allocs = ngot = frees = idle_reads = chunks_in_batch = closed = 0;
  stop_after = close_after = 0;
  expected_total = total;
  outstanding = NULL;
  memset(got, -1, sizeof(got));
}

static void open_rx(void) {
  int len = sizeof(rx_addr);
  struct sockaddr_in any;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &any));
  ASSERT_OK(uv_udp_init_ex(&loop, &rx, AF_INET | UV_UDP_RECVMMSG));
  ASSERT_OK(uv_udp_bind(&rx, SA(&any), 0));
  ASSERT_OK(uv_udp_getsockname(&rx, (struct sockaddr*) &rx_addr, &len));
}

static void expect_in_order(int total) {
  int i;
  ASSERT_EQ(ngot, total);
  for (i = 0; i < total; i++)
    ASSERT_EQ(got[i], i);
}

/* 25 datagrams from two senders, 4 chunks per buffer: several batches. */
static void test_many_batches(void) {
  reset(25);
  open_rx();
  send_numbered(0, 25, 1);
  ASSERT_OK(uv_udp_recv_start(&rx, alloc_cb, recv_cb));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  expect_in_order(25);
  ASSERT_GE(frees, (25 + CHUNKS - 1) / CHUNKS);
  ASSERT_EQ(allocs, frees + idle_reads);
  ASSERT_GE(idle_reads, 1);
  ASSERT_EQ(closed, 1);
}

/* Stop in the first chunk's callback, then start again. */
static void test_stop_in_first_chunk(void) {
  reset(3);
  open_rx();
  send_numbered(0, 3, 1);
  stop_after = 1;
  ASSERT_OK(uv_udp_recv_start(&rx, alloc_cb, recv_cb));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  /* Nothing more was reported, not even MMSG_FREE (recv_cb is NULL). */
  ASSERT_EQ(ngot, 1);
  ASSERT_EQ(frees, 0);
  ASSERT_EQ(idle_reads, 0);
  ASSERT_EQ(allocs, 1);

  ASSERT_OK(uv_udp_recv_start(&rx, alloc_cb, recv_cb));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  expect_in_order(3);
  ASSERT_GE(frees, 1);
  ASSERT_EQ(closed, 1);
}

/* Close in the second chunk's callback: no third chunk, MMSG_FREE still. */
static void test_close_in_chunk(void) {
  reset(3);
  open_rx();
  send_numbered(0, 3, 0);
  close_after = 2;
  ASSERT_OK(uv_udp_recv_start(&rx, alloc_cb, recv_cb));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(ngot, 2);
  ASSERT_EQ(got[0], 0);
  ASSERT_EQ(got[1], 1);
  ASSERT_EQ(frees, 1);
  ASSERT_EQ(idle_reads, 0);
  ASSERT_EQ(closed, 1);
}

int main(void) {
  int i;
  struct sockaddr_in any;
  socklen_t len;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &any));
  for (i = 0; i < 2; i++) {
    senders[i] = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(senders[i], 0);
    ASSERT_OK(bind(senders[i], SA(&any), sizeof(any)));
    len = sizeof(sender_addr[i]);
    ASSERT_OK(getsockname(senders[i], (struct sockaddr*) &sender_addr[i], &len));
  }

  test_many_batches();
  test_stop_in_first_chunk();
  test_close_in_chunk();

  for (i = 0; i < 2; i++)
    ASSERT_OK(close(senders[i]));
  ASSERT_OK(uv_loop_close(&loop));
  printf("udp_mmsg_stop: ok\n");
  return 0;
}
