/* misc.c: addresses, helpers, versions, names and public constants.
 *
 * Covers: uv_ip4_addr / uv_ip6_addr (fields, "fe80::1%lo" scope id, bad
 * text -> UV_EINVAL), uv_ip4_name / uv_ip6_name / uv_ip_name (exact text,
 * RFC 5952 zero compression, UV_ENOSPC for a short buffer, an unknown family
 * -> UV_EAFNOSUPPORT), uv_inet_pton / uv_inet_ntop (bytes, zone stripped,
 * UV_EINVAL, UV_EAFNOSUPPORT, UV_ENOSPC), uv_buf_init, uv_hrtime monotonic
 * and uv_sleep, uv_setup_args (the same arguments, copied), uv_os_getpid,
 * uv_interface_addresses ("lo" with 127.0.0.1/255.0.0.0, is_internal) and
 * uv_free_interface_addresses, uv_version / uv_version_string against the
 * UV_VERSION_* macros, uv_handle_type_name / uv_req_type_name (NULL for
 * unknown), uv_handle_size / uv_req_size / uv_loop_size against sizeof,
 * uv_handle_get_type/get_data/set_data/get_loop,
 * uv_req_get_data/set_data/get_type, and the numeric values of the public
 * enums (handle and request types, run modes, UDP flags, membership, poll
 * events).
 *
 * 1.45+-only assertions: UV_UDP_REUSEPORT == 64 (libuv 1.49, guarded by
 * UV_VERSION_HEX >= 0x013100).
 */
#include <uv.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static void test_ip4(void) {
  struct sockaddr_in a;
  char buf[64];

  memset(&a, 0xFF, sizeof(a));
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 8080, &a));
  ASSERT_EQ(a.sin_family, AF_INET);
  ASSERT_EQ(a.sin_port, htons(8080));
  ASSERT_EQ(a.sin_addr.s_addr, htonl(0x7F000001));
  ASSERT_OK(uv_ip4_addr("0.0.0.0", 0, &a));
  ASSERT_EQ(a.sin_addr.s_addr, 0);
  ASSERT_OK(uv_ip4_addr("255.255.255.255", 65535, &a));
  ASSERT_EQ(a.sin_port, htons(65535));

  ASSERT_EQ(uv_ip4_addr("256.1.1.1", 0, &a), UV_EINVAL);
  ASSERT_EQ(uv_ip4_addr("1.2.3", 0, &a), UV_EINVAL);
  ASSERT_EQ(uv_ip4_addr("abc", 0, &a), UV_EINVAL);
  ASSERT_EQ(uv_ip4_addr("", 0, &a), UV_EINVAL);
  ASSERT_EQ(uv_ip4_addr("::1", 0, &a), UV_EINVAL);

  ASSERT_OK(uv_ip4_addr("192.168.10.200", 1, &a));
  ASSERT_OK(uv_ip4_name(&a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "192.168.10.200");
  ASSERT_OK(uv_ip_name((struct sockaddr*) &a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "192.168.10.200");
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &a));
  ASSERT_OK(uv_ip4_name(&a, buf, 10)); /* exactly "127.0.0.1" + NUL */
  ASSERT_STR_EQ(buf, "127.0.0.1");
  ASSERT_EQ(uv_ip4_name(&a, buf, 9), UV_ENOSPC);
  ASSERT_EQ(uv_ip4_name(&a, buf, 4), UV_ENOSPC);
}

static void test_ip6(void) {
  struct sockaddr_in6 a;
  struct sockaddr_storage ss;
  char buf[64];
  static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                          0, 0, 0, 0, 0, 0, 0, 1};
  static const unsigned char fe80_1[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                           0, 0, 0, 0, 0, 0, 0, 1};

  memset(&a, 0xFF, sizeof(a));
  ASSERT_OK(uv_ip6_addr("::1", 443, &a));
  ASSERT_EQ(a.sin6_family, AF_INET6);
  ASSERT_EQ(a.sin6_port, htons(443));
  ASSERT_MEM_EQ(&a.sin6_addr, loop6, 16);
  ASSERT_EQ(a.sin6_scope_id, 0);
  ASSERT_EQ(a.sin6_flowinfo, 0);

  ASSERT_OK(uv_ip6_addr("fe80::1%lo", 5, &a));
  ASSERT_MEM_EQ(&a.sin6_addr, fe80_1, 16);
  ASSERT_NE(if_nametoindex("lo"), 0);
  ASSERT_EQ(a.sin6_scope_id, if_nametoindex("lo"));
  ASSERT_OK(uv_ip6_name(&a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "fe80::1");

  ASSERT_EQ(uv_ip6_addr("::g", 0, &a), UV_EINVAL);
  ASSERT_EQ(uv_ip6_addr("1:2:3:4:5:6:7:8:9", 0, &a), UV_EINVAL);
  ASSERT_EQ(uv_ip6_addr("127.0.0.1", 0, &a), UV_EINVAL);
  ASSERT_EQ(uv_ip6_addr("", 0, &a), UV_EINVAL);

  ASSERT_OK(uv_ip6_addr("::1", 0, &a));
  ASSERT_OK(uv_ip6_name(&a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "::1");
  ASSERT_OK(uv_ip6_addr("::", 0, &a));
  ASSERT_OK(uv_ip6_name(&a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "::");
  ASSERT_OK(uv_ip6_addr("2001:0db8:0000:0000:0000:0000:0000:0001", 0, &a));
  ASSERT_OK(uv_ip6_name(&a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "2001:db8::1");
  ASSERT_OK(uv_ip6_addr("2001:db8:0:0:1:0:0:1", 0, &a));
  ASSERT_OK(uv_ip6_name(&a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "2001:db8::1:0:0:1");
  ASSERT_OK(uv_ip6_addr("::ffff:1.2.3.4", 0, &a));
  ASSERT_OK(uv_ip6_name(&a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "::ffff:1.2.3.4");
  ASSERT_OK(uv_ip_name((struct sockaddr*) &a, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "::ffff:1.2.3.4");
  ASSERT_EQ(uv_ip6_name(&a, buf, 4), UV_ENOSPC);

  memset(&ss, 0, sizeof(ss));
  ss.ss_family = AF_UNIX;
  ASSERT_EQ(uv_ip_name((struct sockaddr*) &ss, buf, sizeof(buf)),
            UV_EAFNOSUPPORT);
}

static void test_pton_ntop(void) {
  unsigned char b4[4];
  unsigned char b16[16];
  char buf[64];
  static const unsigned char v4[4] = {10, 1, 2, 3};

  ASSERT_OK(uv_inet_pton(AF_INET, "10.1.2.3", b4));
  ASSERT_MEM_EQ(b4, v4, 4);
  ASSERT_EQ(uv_inet_pton(AF_INET, "10.1.2", b4), UV_EINVAL);
  ASSERT_EQ(uv_inet_pton(AF_INET, "10.1.2.3.4", b4), UV_EINVAL);
  ASSERT_OK(uv_inet_pton(AF_INET6, "fe80::1%lo", b16));
  ASSERT_EQ(b16[0], 0xfe);
  ASSERT_EQ(b16[15], 1);
  ASSERT_EQ(uv_inet_pton(AF_INET6, "fe80:::1", b16), UV_EINVAL);
  ASSERT_EQ(uv_inet_pton(AF_UNIX, "10.1.2.3", b4), UV_EAFNOSUPPORT);

  ASSERT_OK(uv_inet_ntop(AF_INET, v4, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "10.1.2.3");
  ASSERT_OK(uv_inet_ntop(AF_INET, v4, buf, 9));
  ASSERT_STR_EQ(buf, "10.1.2.3");
  ASSERT_EQ(uv_inet_ntop(AF_INET, v4, buf, 8), UV_ENOSPC);
  ASSERT_EQ(uv_inet_ntop(AF_INET, v4, buf, 4), UV_ENOSPC);
  ASSERT_OK(uv_inet_ntop(AF_INET6, b16, buf, sizeof(buf)));
  ASSERT_STR_EQ(buf, "fe80::1");
  ASSERT_EQ(uv_inet_ntop(AF_INET6, b16, buf, 7), UV_ENOSPC);
  ASSERT_EQ(uv_inet_ntop(AF_UNIX, b16, buf, sizeof(buf)), UV_EAFNOSUPPORT);
}

static void test_time_and_buf(void) {
  uint64_t a;
  uint64_t b;
  uint64_t c;
  char data[3] = "ab";
  uv_buf_t buf;

  a = uv_hrtime();
  b = uv_hrtime();
  ASSERT(b >= a);
  uv_sleep(10);
  c = uv_hrtime();
  ASSERT(c - b >= 10 * 1000000ULL);
  ASSERT(c - b < 2000 * 1000000ULL);

  buf = uv_buf_init(data, 2);
  ASSERT_PTR_EQ(buf.base, data);
  ASSERT_EQ(buf.len, 2);
  buf = uv_buf_init(NULL, 0);
  ASSERT_NULL(buf.base);
  ASSERT_EQ(buf.len, 0);
}

static void test_process(int argc, char** argv) {
  char** args;
  int i;

  args = uv_setup_args(argc, argv);
  ASSERT_NOT_NULL(args);
  for (i = 0; i < argc; i++)
    ASSERT_STR_EQ(args[i], argv[i]);
  ASSERT_NULL(args[argc]);

  ASSERT_EQ(uv_os_getpid(), getpid());
}

static void test_interfaces(void) {
  uv_interface_address_t* ifs;
  int count;
  int i;
  int found = 0;

  ASSERT_OK(uv_interface_addresses(&ifs, &count));
  ASSERT_GT(count, 0);
  ASSERT_NOT_NULL(ifs);
  for (i = 0; i < count; i++) {
    ASSERT_NOT_NULL(ifs[i].name);
    if (strcmp(ifs[i].name, "lo") != 0)
      continue;
    if (ifs[i].address.address4.sin_family != AF_INET)
      continue;
    ASSERT_EQ(ifs[i].address.address4.sin_addr.s_addr, htonl(0x7F000001));
    ASSERT_EQ(ifs[i].netmask.netmask4.sin_family, AF_INET);
    ASSERT_EQ(ifs[i].netmask.netmask4.sin_addr.s_addr, htonl(0xFF000000));
    ASSERT_NE(ifs[i].is_internal, 0);
    found++;
  }
  ASSERT_EQ(found, 1);
  uv_free_interface_addresses(ifs, count);
}

static void test_version(void) {
  char want[64];
  unsigned int v = uv_version();
  /* The header and the library agree on the version when they come
   * together; a binary built against an older libuv's header runs on any
   * later 1.x library (libuv's ABI promise), so that one is at least the
   * header's, and its string spells its own number. */
  ASSERT_GE(v, UV_VERSION_HEX);
  ASSERT_EQ(v >> 16, 1);
  snprintf(want, sizeof(want), "%u.%u.%u", v >> 16, (v >> 8) & 0xff,
           v & 0xff);
  ASSERT_EQ(strncmp(uv_version_string(), want, strlen(want)), 0);
  if (v != UV_VERSION_HEX)
    return;
  ASSERT_EQ(UV_VERSION_HEX, (UV_VERSION_MAJOR << 16) |
                                (UV_VERSION_MINOR << 8) | UV_VERSION_PATCH);
  if (UV_VERSION_IS_RELEASE)
    snprintf(want, sizeof(want), "%d.%d.%d", UV_VERSION_MAJOR,
             UV_VERSION_MINOR, UV_VERSION_PATCH);
  else
    snprintf(want, sizeof(want), "%d.%d.%d-%s", UV_VERSION_MAJOR,
             UV_VERSION_MINOR, UV_VERSION_PATCH, UV_VERSION_SUFFIX);
  ASSERT_STR_EQ(uv_version_string(), want);
  ASSERT_EQ(UV_VERSION_MAJOR, 1);
  ASSERT_GE(UV_VERSION_MINOR, 44);
}

/* The library's idea of the struct sizes is the header's. */
static void test_sizes(void) {
  ASSERT_EQ(uv_loop_size(), sizeof(uv_loop_t));
  ASSERT_EQ(uv_handle_size(UV_HANDLE), sizeof(uv_handle_t));
  ASSERT_EQ(uv_handle_size(UV_TIMER), sizeof(uv_timer_t));
  ASSERT_EQ(uv_handle_size(UV_IDLE), sizeof(uv_idle_t));
  ASSERT_EQ(uv_handle_size(UV_PREPARE), sizeof(uv_prepare_t));
  ASSERT_EQ(uv_handle_size(UV_CHECK), sizeof(uv_check_t));
  ASSERT_EQ(uv_handle_size(UV_ASYNC), sizeof(uv_async_t));
  ASSERT_EQ(uv_handle_size(UV_POLL), sizeof(uv_poll_t));
  ASSERT_EQ(uv_handle_size(UV_UDP), sizeof(uv_udp_t));
  ASSERT_EQ(uv_req_size(UV_REQ), sizeof(uv_req_t));
  ASSERT_EQ(uv_req_size(UV_UDP_SEND), sizeof(uv_udp_send_t));
}

static void test_names_and_constants(void) {
  ASSERT_STR_EQ(uv_handle_type_name(UV_UDP), "udp");
  ASSERT_STR_EQ(uv_handle_type_name(UV_TIMER), "timer");
  ASSERT_STR_EQ(uv_handle_type_name(UV_IDLE), "idle");
  ASSERT_STR_EQ(uv_handle_type_name(UV_PREPARE), "prepare");
  ASSERT_STR_EQ(uv_handle_type_name(UV_CHECK), "check");
  ASSERT_STR_EQ(uv_handle_type_name(UV_ASYNC), "async");
  ASSERT_STR_EQ(uv_handle_type_name(UV_POLL), "poll");
  ASSERT_STR_EQ(uv_handle_type_name(UV_TCP), "tcp");
  ASSERT_STR_EQ(uv_handle_type_name(UV_NAMED_PIPE), "pipe");
  ASSERT_STR_EQ(uv_handle_type_name(UV_FILE), "file");
  ASSERT_NULL(uv_handle_type_name(UV_UNKNOWN_HANDLE));
  ASSERT_NULL(uv_handle_type_name(UV_HANDLE_TYPE_MAX));

  ASSERT_STR_EQ(uv_req_type_name(UV_UDP_SEND), "udp_send");
  ASSERT_STR_EQ(uv_req_type_name(UV_REQ), "req");
  ASSERT_STR_EQ(uv_req_type_name(UV_WRITE), "write");
  ASSERT_NULL(uv_req_type_name(UV_UNKNOWN_REQ));
  ASSERT_NULL(uv_req_type_name(UV_REQ_TYPE_MAX));

  ASSERT_EQ(UV_UNKNOWN_HANDLE, 0);
  ASSERT_EQ(UV_ASYNC, 1);
  ASSERT_EQ(UV_CHECK, 2);
  ASSERT_EQ(UV_FS_EVENT, 3);
  ASSERT_EQ(UV_FS_POLL, 4);
  ASSERT_EQ(UV_HANDLE, 5);
  ASSERT_EQ(UV_IDLE, 6);
  ASSERT_EQ(UV_NAMED_PIPE, 7);
  ASSERT_EQ(UV_POLL, 8);
  ASSERT_EQ(UV_PREPARE, 9);
  ASSERT_EQ(UV_PROCESS, 10);
  ASSERT_EQ(UV_STREAM, 11);
  ASSERT_EQ(UV_TCP, 12);
  ASSERT_EQ(UV_TIMER, 13);
  ASSERT_EQ(UV_TTY, 14);
  ASSERT_EQ(UV_UDP, 15);
  ASSERT_EQ(UV_SIGNAL, 16);
  ASSERT_EQ(UV_FILE, 17);
  ASSERT_EQ(UV_UNKNOWN_REQ, 0);
  ASSERT_EQ(UV_REQ, 1);
  ASSERT_EQ(UV_CONNECT, 2);
  ASSERT_EQ(UV_WRITE, 3);
  ASSERT_EQ(UV_SHUTDOWN, 4);
  ASSERT_EQ(UV_UDP_SEND, 5);
  ASSERT_EQ(UV_FS, 6);
  ASSERT_EQ(UV_WORK, 7);
  ASSERT_EQ(UV_GETADDRINFO, 8);
  ASSERT_EQ(UV_GETNAMEINFO, 9);

  ASSERT_EQ(UV_RUN_DEFAULT, 0);
  ASSERT_EQ(UV_RUN_ONCE, 1);
  ASSERT_EQ(UV_RUN_NOWAIT, 2);
  ASSERT_EQ(UV_LEAVE_GROUP, 0);
  ASSERT_EQ(UV_JOIN_GROUP, 1);
  ASSERT_EQ(UV_UDP_IPV6ONLY, 1);
  ASSERT_EQ(UV_UDP_PARTIAL, 2);
  ASSERT_EQ(UV_UDP_REUSEADDR, 4);
  ASSERT_EQ(UV_UDP_MMSG_CHUNK, 8);
  ASSERT_EQ(UV_UDP_MMSG_FREE, 16);
  ASSERT_EQ(UV_UDP_LINUX_RECVERR, 32);
  ASSERT_EQ(UV_UDP_RECVMMSG, 256);
#if UV_VERSION_HEX >= 0x013100
  ASSERT_EQ(UV_UDP_REUSEPORT, 64);
#endif
  ASSERT_EQ(UV_READABLE, 1);
  ASSERT_EQ(UV_WRITABLE, 2);
  ASSERT_EQ(UV_DISCONNECT, 4);
  ASSERT_EQ(UV_PRIORITIZED, 8);
  ASSERT_EQ(UV_LOOP_BLOCK_SIGNAL, 0);
}

static int req_marker;

static void send_cb(uv_udp_send_t* req, int status) {
  ASSERT_OK(status);
  ASSERT_EQ(uv_req_get_type((uv_req_t*) req), UV_UDP_SEND);
  ASSERT_PTR_EQ(uv_req_get_data((uv_req_t*) req), &req_marker);
  uv_close((uv_handle_t*) req->handle, NULL);
}

static void test_accessors(void) {
  uv_loop_t loop;
  uv_udp_t u;
  uv_udp_send_t req;
  struct sockaddr_in addr;
  int len = sizeof(addr);
  int marker;
  char data[] = "x";
  uv_buf_t buf = uv_buf_init(data, 1);

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(uv_udp_init(&loop, &u));
  ASSERT_EQ(uv_handle_get_type((uv_handle_t*) &u), UV_UDP);
  ASSERT_PTR_EQ(uv_handle_get_loop((uv_handle_t*) &u), &loop);
  uv_handle_set_data((uv_handle_t*) &u, &marker);
  ASSERT_PTR_EQ(uv_handle_get_data((uv_handle_t*) &u), &marker);
  ASSERT_PTR_EQ(u.data, &marker);
  u.data = NULL;
  ASSERT_NULL(uv_handle_get_data((uv_handle_t*) &u));

  uv_req_set_data((uv_req_t*) &req, &marker);
  ASSERT_PTR_EQ(uv_req_get_data((uv_req_t*) &req), &marker);
  ASSERT_PTR_EQ(req.data, &marker);

  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &addr));
  ASSERT_OK(uv_udp_bind(&u, (struct sockaddr*) &addr, 0));
  ASSERT_OK(uv_udp_getsockname(&u, (struct sockaddr*) &addr, &len));
  req.data = &req_marker;
  ASSERT_OK(uv_udp_send(&req, &u, &buf, 1, (struct sockaddr*) &addr, send_cb));
  /* uv_udp_send does not touch req->data. */
  ASSERT_PTR_EQ(req.data, &req_marker);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_OK(uv_loop_close(&loop));
}

int main(int argc, char** argv) {
  test_process(argc, argv);
  test_ip4();
  test_ip6();
  test_pton_ntop();
  test_time_and_buf();
  test_interfaces();
  test_version();
  test_sizes();
  test_names_and_constants();
  test_accessors();
  uv_library_shutdown();
  printf("misc: ok\n");
  return 0;
}
