/* udp_mmsg.c: receiving with UV_UDP_RECVMMSG.
 *
 * Covers: uv_udp_init_ex(loop, &h, AF_INET | UV_UDP_RECVMMSG) (and AF_INET6),
 * uv_udp_using_recvmmsg() == 1 once the socket exists; with an alloc_cb
 * handing out 64 KiB * 4 and three datagrams already waiting, one buffer
 * receives all three: recv_cb is called with UV_UDP_MMSG_CHUNK for each
 * datagram (exact bytes and sender, chunk inside the buffer, chunks not
 * overlapping, the buffer not to be freed), then once with UV_UDP_MMSG_FREE
 * (nread 0, addr NULL, the original buffer) so it can be freed; when nothing
 * more is waiting, a call without MMSG_CHUNK (nread 0, addr NULL) hands the
 * next buffer back. Every buffer is freed exactly once: on the MMSG_FREE call
 * or when the flags have no MMSG_CHUNK. (A plain handle never sees these
 * flags: udp_io.c checks flags == 0 on every read.)
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define BUF_SIZE (64 * 1024 * 4)

static uv_loop_t loop;
static char* outstanding;      /* the buffer the last alloc_cb handed out */
static int allocs;
static int frees;
static int chunks_in_batch;
static int max_batch;
static int batches;
static int idle_reads;
static int got;
static const char* expected[3] = {"one", "two!", "three"};
static struct sockaddr_storage sender;
static char* last_chunk_end;

static void alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void) h;
  ASSERT_GT(suggested, 0);
  ASSERT_NULL(outstanding); /* the previous buffer was given back */
  outstanding = malloc(BUF_SIZE);
  ASSERT_NOT_NULL(outstanding);
  *buf = uv_buf_init(outstanding, BUF_SIZE);
  allocs++;
  chunks_in_batch = 0;
  last_chunk_end = outstanding;
}

static void close_cb(uv_handle_t* h) {
  (void) h;
}

static void recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  ASSERT_GE(nread, 0);
  if (flags & UV_UDP_MMSG_CHUNK) {
    ASSERT_NOT_NULL(outstanding);
    ASSERT_EQ(flags & ~(unsigned) UV_UDP_PARTIAL, UV_UDP_MMSG_CHUNK);
    ASSERT_EQ(flags & UV_UDP_MMSG_FREE, 0);
    ASSERT_NOT_NULL(addr);
    /* The chunk lies inside the buffer, after the previous chunk. */
    ASSERT(buf->base >= last_chunk_end);
    ASSERT(buf->base + nread <= outstanding + BUF_SIZE);
    last_chunk_end = buf->base + nread;
    ASSERT_LT(got, 3);
    ASSERT_EQ(nread, strlen(expected[got]));
    ASSERT_MEM_EQ(buf->base, expected[got], (size_t) nread);
    ASSERT_EQ(addr->sa_family, sender.ss_family);
    if (addr->sa_family == AF_INET)
      ASSERT_EQ(((const struct sockaddr_in*) addr)->sin_port,
                ((const struct sockaddr_in*) &sender)->sin_port);
    else
      ASSERT_EQ(((const struct sockaddr_in6*) addr)->sin6_port,
                ((const struct sockaddr_in6*) &sender)->sin6_port);
    got++;
    chunks_in_batch++;
    return; /* must not free */
  }

  if (flags & UV_UDP_MMSG_FREE) {
    ASSERT_EQ(flags, UV_UDP_MMSG_FREE);
    ASSERT_EQ(nread, 0);
    ASSERT_NULL(addr);
    ASSERT_PTR_EQ(buf->base, outstanding);
    ASSERT_GT(chunks_in_batch, 0);
    if (chunks_in_batch > max_batch)
      max_batch = chunks_in_batch;
    batches++;
  } else {
    /* No MMSG_CHUNK: the buffer comes back unused. With recvmmsg on, data
     * never arrives this way. */
    ASSERT_EQ(flags, 0);
    ASSERT_EQ(nread, 0);
    ASSERT_NULL(addr);
    ASSERT_PTR_EQ(buf->base, outstanding);
    idle_reads++;
  }
  free(outstanding);
  outstanding = NULL;
  frees++;

  if (got == 3 && !(flags & UV_UDP_MMSG_FREE))
    uv_close((uv_handle_t*) h, close_cb);
}

static void run_family(int family, const char* ip) {
  uv_udp_t h;
  struct sockaddr_storage bind_addr;
  struct sockaddr_storage dst;
  socklen_t slen;
  int len;
  int s;
  int i;

  outstanding = NULL;
  allocs = frees = chunks_in_batch = max_batch = batches = idle_reads = 0;
  got = 0;

  ASSERT_OK(uv_udp_init_ex(&loop, &h, family | UV_UDP_RECVMMSG));
  if (family == AF_INET)
    ASSERT_OK(uv_ip4_addr(ip, 0, (struct sockaddr_in*) &bind_addr));
  else
    ASSERT_OK(uv_ip6_addr(ip, 0, (struct sockaddr_in6*) &bind_addr));
  ASSERT_OK(uv_udp_bind(&h, SA(&bind_addr), 0));
  ASSERT_EQ(uv_udp_using_recvmmsg(&h), 1);
  len = sizeof(dst);
  ASSERT_OK(uv_udp_getsockname(&h, (struct sockaddr*) &dst, &len));

  /* Three datagrams waiting before the loop looks. */
  s = socket(family, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0);
  ASSERT_OK(bind(s, SA(&bind_addr),
                 family == AF_INET ? sizeof(struct sockaddr_in)
                                   : sizeof(struct sockaddr_in6)));
  slen = sizeof(sender);
  ASSERT_OK(getsockname(s, (struct sockaddr*) &sender, &slen));
  for (i = 0; i < 3; i++)
    ASSERT_EQ(sendto(s, expected[i], strlen(expected[i]), 0, SA(&dst),
                     (socklen_t) len),
              (ssize_t) strlen(expected[i]));
  uv_sleep(5);

  ASSERT_OK(uv_udp_recv_start(&h, alloc_cb, recv_cb));
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(close(s));

  ASSERT_EQ(got, 3);
  ASSERT_EQ(batches, 1);
  ASSERT_EQ(max_batch, 3);
  ASSERT_GE(idle_reads, 1);
  ASSERT_EQ(allocs, frees);
  ASSERT_NULL(outstanding);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  run_family(AF_INET, "127.0.0.1");
  run_family(AF_INET6, "::1");
  ASSERT_OK(uv_loop_close(&loop));
  printf("udp_mmsg: ok\n");
  return 0;
}
