/* udp_nbufs.c: how many buffers one datagram may gather.
 *
 * Covers: uv_udp_try_send and uv_udp_send with 1024 one-byte buffers (the
 * kernel's IOV_MAX) send one datagram of 1024 bytes, in order; 1025
 * buffers are UV_EMSGSIZE from uv_udp_try_send (sendmsg's answer, which
 * libuv passes on) and an absurd count such as (unsigned) -1 given with a
 * one-element array is UV_EINVAL (libuv 1.52: more than 1,048,576), without
 * the array being read past its end; a buffer longer than SSIZE_MAX is UV_EINVAL (sendmsg's answer);
 * a NULL base with a length is UV_EFAULT (sendmsg's answer), not an empty
 * or shorter datagram;
 * uv_udp_try_send2 checks each datagram's count the same way; with too many
 * buffers a wrong destination (UV_EDESTADDRREQ, UV_EISCONN) is answered
 * first, as libuv checks it before the count.
 *
 * uv_udp_send with 1025 buffers: libuv queues the request and its callback
 * gets UV_EMSGSIZE; ours refuses it at once with UV_EMSGSIZE (on_uv_compat(),
 * see README.md). Absurd counts for uv_udp_send and a NULL array are in
 * defined_errors.c (libuv leaves them undefined).
 */
#include <uv.h>

#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "test.h"

#define SA(p) ((const struct sockaddr*) (p))
#define MAX_BUFS 1024

static uv_loop_t loop;
static uv_udp_t receiver;
static uv_udp_t sender;
static struct sockaddr_in to;
static char bytes[MAX_BUFS + 1];
static uv_buf_t bufs[MAX_BUFS + 1];
static char got[2 * MAX_BUFS];
static ssize_t got_len = -1;
static int send_cb_calls;
static int send_status = 1;

static void alloc_cb(uv_handle_t* h, size_t size, uv_buf_t* buf) {
  static char slab[65536];
  (void) h;
  (void) size;
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void recv_cb(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  (void) h;
  (void) flags;
  if (nread == 0 && addr == NULL)
    return;
  ASSERT_GT(nread, 0);
  ASSERT_LE(nread, (ssize_t) sizeof(got));
  memcpy(got, buf->base, (size_t) nread);
  got_len = nread;
  ASSERT_OK(uv_udp_recv_stop(&receiver));
}

static void send_cb(uv_udp_send_t* req, int status) {
  (void) req;
  send_cb_calls++;
  send_status = status;
}

/* Runs the loop until the receiver got one datagram; checks it is the
 * first `n` bytes, in order. */
static void expect_datagram(size_t n) {
  got_len = -1;
  ASSERT_OK(uv_udp_recv_start(&receiver, alloc_cb, recv_cb));
  while (got_len < 0)
    ASSERT_GE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(got_len, n);
  ASSERT_OK(memcmp(got, bytes, n));
}

int main(void) {
  struct sockaddr_in any;
  int len = sizeof(to);
  uv_udp_send_t req;
  uv_buf_t huge;
  unsigned i;
  int calls_before;

  for (i = 0; i < MAX_BUFS + 1; i++) {
    bytes[i] = (char) ('a' + i % 26);
    bufs[i] = uv_buf_init(bytes + i, 1);
  }

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &receiver));
  ASSERT_OK(uv_udp_init(&loop, &sender));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &any));
  ASSERT_OK(uv_udp_bind(&receiver, SA(&any), 0));
  ASSERT_OK(uv_udp_getsockname(&receiver, (struct sockaddr*) &to, &len));
  ASSERT_OK(uv_udp_bind(&sender, SA(&any), 0));

  /* The limit itself: one datagram gathered from 1024 buffers. */
  ASSERT_EQ(uv_udp_try_send(&sender, bufs, MAX_BUFS, SA(&to)), MAX_BUFS);
  expect_datagram(MAX_BUFS);

  /* One past it, and absurd counts: refused before the array is read.
   * libuv 1.52 answers UV_EINVAL past 1,048,576 buffers without calling
   * sendmsg; older versions pass on sendmsg's UV_EMSGSIZE. */
  ASSERT_EQ(uv_udp_try_send(&sender, bufs, MAX_BUFS + 1, SA(&to)),
            UV_EMSGSIZE);
  ASSERT_EQ(uv_udp_try_send(&sender, bufs, 1048576, SA(&to)), UV_EMSGSIZE);
  if (on_uv_compat() || library_at_least(0x013400)) {
    ASSERT_EQ(uv_udp_try_send(&sender, bufs, 1048577, SA(&to)), UV_EINVAL);
    ASSERT_EQ(uv_udp_try_send(&sender, bufs, (unsigned) -1, SA(&to)),
              UV_EINVAL);
    ASSERT_EQ(uv_udp_try_send(&sender, bufs, (unsigned) INT_MAX + 1,
                              SA(&to)),
              UV_EINVAL);
  } else {
    ASSERT_EQ(uv_udp_try_send(&sender, bufs, (unsigned) -1, SA(&to)),
              UV_EMSGSIZE);
  }

  /* A length the kernel cannot count (not read either). */
  huge = uv_buf_init(bytes, 1);
  huge.len = (size_t) SSIZE_MAX + 1;
  ASSERT_EQ(uv_udp_try_send(&sender, &huge, 1, SA(&to)), UV_EINVAL);

  /* A NULL base with a length: sendmsg's UV_EFAULT, never a shorter
   * datagram (the receiver gets nothing from it). */
  huge = uv_buf_init(NULL, 10);
  ASSERT_EQ(uv_udp_try_send(&sender, &huge, 1, SA(&to)), UV_EFAULT);
  {
    uv_buf_t parts[2] = {uv_buf_init(bytes, 1), uv_buf_init(NULL, 10)};
    ASSERT_EQ(uv_udp_try_send(&sender, parts, 2, SA(&to)), UV_EFAULT);
  }
  /* A NULL base without a length is an empty buffer. */
  {
    uv_buf_t parts[2] = {uv_buf_init(NULL, 0), uv_buf_init(bytes, 3)};
    ASSERT_EQ(uv_udp_try_send(&sender, parts, 2, SA(&to)), 3);
    expect_datagram(3);
  }

  /* uv_udp_send: 1024 buffers make one datagram, sent in order. */
  ASSERT_OK(uv_udp_send(&req, &sender, bufs, MAX_BUFS, SA(&to), send_cb));
  expect_datagram(MAX_BUFS);
  while (send_cb_calls == 0)
    ASSERT_GE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(send_cb_calls, 1);
  ASSERT_OK(send_status);

  /* uv_udp_send with a NULL base and a length. */
  if (on_uv_compat()) {
    huge = uv_buf_init(NULL, 10);
    ASSERT_EQ(uv_udp_send(&req, &sender, &huge, 1, SA(&to), send_cb),
              UV_EFAULT);
    ASSERT_EQ(uv_udp_get_send_queue_count(&sender), 0);
  } else {
    huge = uv_buf_init(NULL, 10);
    ASSERT_OK(uv_udp_send(&req, &sender, &huge, 1, SA(&to), send_cb));
    while (send_cb_calls == 1)
      ASSERT_GE(uv_run(&loop, UV_RUN_ONCE), 0);
    ASSERT_EQ(send_status, UV_EFAULT);
    send_cb_calls = 1;
  }

  /* uv_udp_send with 1025 buffers. */
  if (on_uv_compat()) {
    ASSERT_EQ(uv_udp_send(&req, &sender, bufs, MAX_BUFS + 1, SA(&to), send_cb),
              UV_EMSGSIZE);
    ASSERT_EQ(uv_udp_get_send_queue_count(&sender), 0);
    ASSERT_EQ(uv_udp_get_send_queue_size(&sender), 0);
  } else {
    ASSERT_OK(uv_udp_send(&req, &sender, bufs, MAX_BUFS + 1, SA(&to), send_cb));
    while (send_cb_calls == 1)
      ASSERT_GE(uv_run(&loop, UV_RUN_ONCE), 0);
    ASSERT_EQ(send_status, UV_EMSGSIZE);
  }

  /* Too many buffers and a wrong destination: the destination is checked
   * first (libuv's order), so the answer is the address error, never
   * UV_EMSGSIZE, and nothing is queued. */
  calls_before = send_cb_calls;
  ASSERT_EQ(uv_udp_try_send(&sender, bufs, MAX_BUFS + 1, NULL),
            UV_EDESTADDRREQ);
  ASSERT_EQ(uv_udp_send(&req, &sender, bufs, MAX_BUFS + 1, NULL, send_cb),
            UV_EDESTADDRREQ);
  {
    uv_udp_t connected;

    ASSERT_OK(uv_udp_init(&loop, &connected));
    ASSERT_OK(uv_udp_connect(&connected, SA(&to)));
    ASSERT_EQ(uv_udp_try_send(&connected, bufs, MAX_BUFS + 1, SA(&to)),
              UV_EISCONN);
    ASSERT_EQ(uv_udp_send(&req, &connected, bufs, MAX_BUFS + 1, SA(&to),
                          send_cb),
              UV_EISCONN);
    ASSERT_EQ(uv_udp_try_send(&connected, bufs, MAX_BUFS + 1, NULL),
              UV_EMSGSIZE);
    ASSERT_EQ(uv_udp_get_send_queue_count(&connected), 0);
    uv_close((uv_handle_t*) &connected, NULL);
    ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  }
  ASSERT_EQ(send_cb_calls, calls_before);

#if UV_VERSION_HEX >= 0x013200 /* uv_udp_try_send2: libuv 1.50 */
  {
    uv_buf_t* datagrams[2] = {bufs, bufs};
    unsigned counts[2] = {MAX_BUFS + 1, 1};
    struct sockaddr* addrs[2] = {(struct sockaddr*) &to,
                                 (struct sockaddr*) &to};

    /* The first datagram fails: its error. */
    ASSERT_EQ(uv_udp_try_send2(&sender, 2, datagrams, counts, addrs, 0),
              UV_EMSGSIZE);
    /* The second fails: one was sent. */
    counts[0] = MAX_BUFS;
    counts[1] = (unsigned) -1;
    ASSERT_EQ(uv_udp_try_send2(&sender, 2, datagrams, counts, addrs, 0), 1);
    expect_datagram(MAX_BUFS);
  }
#endif

  uv_close((uv_handle_t*) &receiver, NULL);
  uv_close((uv_handle_t*) &sender, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  printf("udp_nbufs: ok\n");
  return 0;
}
