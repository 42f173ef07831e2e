/* libuv_misc_cases.c: the address, error, name and clock behaviours
 * libuv's own test suite checks, restated in our words. Each function
 * names the libuv test it pins.
 *
 * Covers: uv_inet_ntop of 255.255.255.255 (exact text, UV_ENOSPC one byte
 * short); uv_ip4_addr accepting 127.0.0.1 and 255.255.255.255 and refusing
 * "255.255.255*000", "255.255.255.256", "2555.0.0.0" and "255" with
 * UV_EINVAL; uv_inet_pton with an unknown family -> UV_EAFNOSUPPORT;
 * uv_inet_pton(AF_INET6) accepting a list of good addresses and refusing
 * a list of bad ones, bare and followed by a zone ("%en1", "%%%%",
 * "%en1:1.2.3.4"; everything after '%' is ignored); uv_ip6_addr with an
 * unknown interface name -> 0 with scope id 0 (libuv 1.x); uv_strerror / uv_strerror_r of
 * synthetic errors (never "Success"; unknown codes name the number);
 * uv_translate_sys_error of positive errnos, UV_ codes and 0;
 * uv_handle_type_name / uv_req_type_name for known types and NULL for
 * the *_MAX values, one past them and UNKNOWN; uv_hrtime advancing by at
 * least the time slept.
 *
 * 1.45+-only assertions: none.
 */
#include <uv.h>

#include <errno.h>
#include <netinet/in.h>

#include "test.h"

/* test-ip4-addr.c: ip4_addr. */
static void test_ip4(void) {
  struct sockaddr_in addr;
  struct in_addr raw;
  char dst[16];

  ASSERT_OK(uv_inet_ntop(AF_INET, "\xFF\xFF\xFF\xFF", dst, sizeof(dst)));
  ASSERT_STR_EQ(dst, "255.255.255.255");
  ASSERT_EQ(uv_inet_ntop(AF_INET, "\xFF\xFF\xFF\xFF", dst, sizeof(dst) - 1),
            UV_ENOSPC);

  ASSERT_OK(uv_ip4_addr("127.0.0.1", 1234, &addr));
  ASSERT_OK(uv_ip4_addr("255.255.255.255", 1234, &addr));
  ASSERT_EQ(uv_ip4_addr("255.255.255*000", 1234, &addr), UV_EINVAL);
  ASSERT_EQ(uv_ip4_addr("255.255.255.256", 1234, &addr), UV_EINVAL);
  ASSERT_EQ(uv_ip4_addr("2555.0.0.0", 1234, &addr), UV_EINVAL);
  ASSERT_EQ(uv_ip4_addr("255", 1234, &addr), UV_EINVAL);
  ASSERT_EQ(uv_inet_pton(42, "127.0.0.1", &raw), UV_EAFNOSUPPORT);
}

static const char* const good_ip6[] = {
    "::",
    "::1",
    "fe80::1",
    "fe80::",
    "fe80::2acf:daff:fedd:342a",
    "fe80:0:0:0:2acf:daff:fedd:342a",
    "fe80:0:0:0:2acf:daff:1.2.3.4",
    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
};

static const char* const bad_ip6[] = {
    ":::1",
    "abcde::1",
    "fe80:0:0:0:2acf:daff:fedd:342a:5678",
    "fe80:0:0:0:2acf:daff:abcd:1.2.3.4",
    "fe80:0:0:2acf:daff:1.2.3.4.5",
    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255.255",
};

static const char* const zones[] = {"", "%en1", "%%%%", "%en1:1.2.3.4"};

/* test-ip6-addr.c: ip6_pton, ip6_invalid_interface. */
static void test_ip6(void) {
  struct in6_addr raw;
  struct sockaddr_in6 sa;
  char text[128];
  size_t i;
  size_t z;

  for (i = 0; i < sizeof(good_ip6) / sizeof(good_ip6[0]); i++) {
    for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
      snprintf(text, sizeof(text), "%s%s", good_ip6[i], zones[z]);
      if (uv_inet_pton(AF_INET6, text, &raw) != 0)
        UVC_FAIL_("uv_inet_pton refused good address \"%s\"", text);
    }
  }
  for (i = 0; i < sizeof(bad_ip6) / sizeof(bad_ip6[0]); i++) {
    for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
      snprintf(text, sizeof(text), "%s%s", bad_ip6[i], zones[z]);
      if (uv_inet_pton(AF_INET6, text, &raw) == 0)
        UVC_FAIL_("uv_inet_pton accepted bad address \"%s\"", text);
    }
  }
  /* No interface has this name: libuv 1.x ignores the failed lookup and
   * leaves the scope 0 (the error return of ip6_invalid_interface landed
   * on libuv's v2 branch only, libuv/libuv#1350). */
  sa.sin6_scope_id = 77;
  ASSERT_OK(uv_ip6_addr("::0%bad", 0, &sa));
  ASSERT_EQ(sa.sin6_scope_id, 0);
}

/* test-error.c: error_message, sys_error. */
static void test_errors(void) {
  char buf[32];

  ASSERT_NULL(strstr(uv_strerror(UV_EINVAL), "Success"));
  ASSERT_NULL(strstr(uv_strerror_r(UV_EINVAL, buf, sizeof(buf)), "Success"));
  ASSERT_NOT_NULL(strstr(uv_strerror_r(1337, buf, sizeof(buf)), "1337"));
  ASSERT_NOT_NULL(strstr(uv_strerror_r(-1337, buf, sizeof(buf)), "-1337"));

  ASSERT_EQ(uv_translate_sys_error(EPERM), UV_EPERM);
  ASSERT_EQ(uv_translate_sys_error(EPIPE), UV_EPIPE);
  ASSERT_EQ(uv_translate_sys_error(EINVAL), UV_EINVAL);
  ASSERT_EQ(uv_translate_sys_error(UV_EINVAL), UV_EINVAL);
  ASSERT_EQ(uv_translate_sys_error(UV_ERANGE), UV_ERANGE);
  ASSERT_EQ(uv_translate_sys_error(UV_EACCES), UV_EACCES);
  ASSERT_EQ(uv_translate_sys_error(0), 0);
}

/* test-getters-setters.c: handle_type_name, req_type_name. */
static void test_type_names(void) {
  ASSERT_STR_EQ(uv_handle_type_name(UV_NAMED_PIPE), "pipe");
  ASSERT_STR_EQ(uv_handle_type_name(UV_UDP), "udp");
  ASSERT_STR_EQ(uv_handle_type_name(UV_FILE), "file");
  ASSERT_NULL(uv_handle_type_name(UV_HANDLE_TYPE_MAX));
  ASSERT_NULL(uv_handle_type_name((uv_handle_type) (UV_HANDLE_TYPE_MAX + 1)));
  ASSERT_NULL(uv_handle_type_name(UV_UNKNOWN_HANDLE));

  ASSERT_STR_EQ(uv_req_type_name(UV_REQ), "req");
  ASSERT_STR_EQ(uv_req_type_name(UV_UDP_SEND), "udp_send");
  ASSERT_STR_EQ(uv_req_type_name(UV_WORK), "work");
  ASSERT_NULL(uv_req_type_name(UV_REQ_TYPE_MAX));
  ASSERT_NULL(uv_req_type_name((uv_req_type) (UV_REQ_TYPE_MAX + 1)));
  ASSERT_NULL(uv_req_type_name(UV_UNKNOWN_REQ));
}

/* test-hrtime.c: hrtime. */
static void test_hrtime(void) {
  uint64_t a;
  uint64_t b;
  int i;

  for (i = 0; i < 5; i++) {
    a = uv_hrtime();
    uv_sleep(10);
    b = uv_hrtime();
    ASSERT_GT(b, a);
    /* Never less than what was slept (nanoseconds). */
    ASSERT_GE(b - a, 10 * 1000000ULL);
  }
}

int main(void) {
  test_ip4();
  test_ip6();
  test_errors();
  test_type_names();
  test_hrtime();
  return 0;
}
