/* errors.c: error codes, names and messages.
 *
 * Covers: UV_E* == -errno for every errno-based code; the fixed values of
 * UV_EOF, UV_ECHARSET and the UV_EAI_* codes; uv_err_name and uv_strerror
 * texts for every code in the table (libuv's exact strings); unknown codes
 * (-9999, 0, a positive errno) -> "Unknown system error N" from both
 * uv_strerror and uv_err_name; uv_strerror_r / uv_err_name_r (return the
 * buffer, truncate to buflen - 1 characters plus NUL, never write past
 * buflen, unknown codes); uv_translate_sys_error (positive errno -> UV_E*,
 * 0 and negative values unchanged).
 *
 * Note: libuv returns a freshly allocated string for unknown codes (and
 * never frees it); the pointers are kept in globals so valgrind sees them
 * as reachable, whichever library is under test.
 *
 * 1.45+-only assertions: UV_ENODATA, UV_EUNATCH and UV_ENOEXEC (added after
 * 1.44; guarded by UV_VERSION_HEX >= 0x013200).
 */
#include <uv.h>

#include <errno.h>

#include "test.h"

struct code {
  int code;
  int sys; /* the errno it stands for, or 0 */
  const char* name;
  const char* msg;
};

#define E(n, msg) {UV_##n, n, #n, msg}
#define X(n, msg) {UV_##n, 0, #n, msg}

static const struct code codes[] = {
  E(E2BIG, "argument list too long"),
  E(EACCES, "permission denied"),
  E(EADDRINUSE, "address already in use"),
  E(EADDRNOTAVAIL, "address not available"),
  E(EAFNOSUPPORT, "address family not supported"),
  E(EAGAIN, "resource temporarily unavailable"),
  X(EAI_ADDRFAMILY, "address family not supported"),
  X(EAI_AGAIN, "temporary failure"),
  X(EAI_BADFLAGS, "bad ai_flags value"),
  X(EAI_FAIL, "permanent failure"),
  X(EAI_FAMILY, "ai_family not supported"),
  X(EAI_MEMORY, "out of memory"),
  X(EAI_NODATA, "no address"),
  X(EAI_NONAME, "unknown node or service"),
  X(EAI_SERVICE, "service not available for socket type"),
  X(EAI_SOCKTYPE, "socket type not supported"),
  E(EALREADY, "connection already in progress"),
  E(EBADF, "bad file descriptor"),
  E(EBUSY, "resource busy or locked"),
  E(ECANCELED, "operation canceled"),
  E(ECONNABORTED, "software caused connection abort"),
  E(ECONNREFUSED, "connection refused"),
  E(ECONNRESET, "connection reset by peer"),
  E(EDESTADDRREQ, "destination address required"),
  E(EEXIST, "file already exists"),
  E(EFAULT, "bad address in system call argument"),
  E(EHOSTUNREACH, "host is unreachable"),
  E(EINTR, "interrupted system call"),
  E(EINVAL, "invalid argument"),
  E(EIO, "i/o error"),
  E(EISCONN, "socket is already connected"),
  E(EMFILE, "too many open files"),
  E(EMSGSIZE, "message too long"),
  E(ENETDOWN, "network is down"),
  E(ENETUNREACH, "network is unreachable"),
  E(ENOBUFS, "no buffer space available"),
  E(ENOENT, "no such file or directory"),
  E(ENOMEM, "not enough memory"),
  E(ENOSPC, "no space left on device"),
  E(ENOSYS, "function not implemented"),
  E(ENOTCONN, "socket is not connected"),
  E(ENOTSOCK, "socket operation on non-socket"),
  E(ENOTSUP, "operation not supported on socket"),
  E(EPERM, "operation not permitted"),
  E(EPIPE, "broken pipe"),
  E(EPROTO, "protocol error"),
  E(EPROTONOSUPPORT, "protocol not supported"),
  E(ETIMEDOUT, "connection timed out"),
  X(EOF, "end of file"),
  E(ENXIO, "no such device or address"),
  E(EMLINK, "too many links"),
  E(EOVERFLOW, "value too large for defined data type"),
  E(EILSEQ, "illegal byte sequence"),
  E(ESOCKTNOSUPPORT, "socket type not supported"),
#if UV_VERSION_HEX >= 0x013200
  E(ENODATA, "no data available"),
  E(EUNATCH, "protocol driver not attached"),
  E(ENOEXEC, "exec format error"),
#endif
};

/* libuv allocates these (and leaks them by design); keep them reachable. */
static const char* unknown_msgs[8];

static void test_table(void) {
  size_t i;
  for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    const struct code* c = &codes[i];
    if (c->sys != 0)
      ASSERT_EQ(c->code, -c->sys);
    ASSERT_LT(c->code, 0);
    ASSERT_STR_EQ(uv_err_name(c->code), c->name);
    ASSERT_STR_EQ(uv_strerror(c->code), c->msg);
  }
}

static void test_fixed_values(void) {
  ASSERT_EQ(UV_EOF, -4095);
  ASSERT_EQ(UV_ECHARSET, -4080);
  ASSERT_EQ(UV_EAI_ADDRFAMILY, -3000);
  ASSERT_EQ(UV_EAI_AGAIN, -3001);
  ASSERT_EQ(UV_EAI_BADFLAGS, -3002);
  ASSERT_EQ(UV_EAI_CANCELED, -3003);
  ASSERT_EQ(UV_EAI_FAIL, -3004);
  ASSERT_EQ(UV_EAI_FAMILY, -3005);
  ASSERT_EQ(UV_EAI_MEMORY, -3006);
  ASSERT_EQ(UV_EAI_NODATA, -3007);
  ASSERT_EQ(UV_EAI_NONAME, -3008);
  ASSERT_EQ(UV_EAI_OVERFLOW, -3009);
  ASSERT_EQ(UV_EAI_SERVICE, -3010);
  ASSERT_EQ(UV_EAI_SOCKTYPE, -3011);
  ASSERT_EQ(UV_EAI_BADHINTS, -3013);
  ASSERT_EQ(UV_EAI_PROTOCOL, -3014);
  /* A few that programs compare against directly. */
  ASSERT_EQ(UV_EAGAIN, -EAGAIN);
  ASSERT_EQ(UV_ENOTSUP, -ENOTSUP);
  ASSERT_EQ(UV_ECANCELED, -ECANCELED);
  ASSERT_EQ(UV_ENOBUFS, -ENOBUFS);
}

static void test_unknown(void) {
  unknown_msgs[0] = uv_strerror(-9999);
  ASSERT_STR_EQ(unknown_msgs[0], "Unknown system error -9999");
  unknown_msgs[1] = uv_err_name(-9999);
  ASSERT_STR_EQ(unknown_msgs[1], "Unknown system error -9999");
  unknown_msgs[2] = uv_strerror(0);
  ASSERT_STR_EQ(unknown_msgs[2], "Unknown system error 0");
  unknown_msgs[3] = uv_err_name(0);
  ASSERT_STR_EQ(unknown_msgs[3], "Unknown system error 0");
  unknown_msgs[4] = uv_strerror(EINVAL); /* positive: not a UV_E* code */
  ASSERT_STR_EQ(unknown_msgs[4], "Unknown system error 22");
}

static void test_reentrant(void) {
  char buf[64];
  char* r;

  memset(buf, 'X', sizeof(buf));
  r = uv_strerror_r(UV_EINVAL, buf, sizeof(buf));
  ASSERT_PTR_EQ(r, buf);
  ASSERT_STR_EQ(buf, "invalid argument");

  memset(buf, 'X', sizeof(buf));
  r = uv_strerror_r(UV_EINVAL, buf, 8);
  ASSERT_PTR_EQ(r, buf);
  ASSERT_STR_EQ(buf, "invalid");
  ASSERT_EQ(buf[8], 'X');

  memset(buf, 'X', sizeof(buf));
  r = uv_err_name_r(UV_EADDRINUSE, buf, sizeof(buf));
  ASSERT_PTR_EQ(r, buf);
  ASSERT_STR_EQ(buf, "EADDRINUSE");

  memset(buf, 'X', sizeof(buf));
  r = uv_err_name_r(UV_EADDRINUSE, buf, 4);
  ASSERT_PTR_EQ(r, buf);
  ASSERT_STR_EQ(buf, "EAD");
  ASSERT_EQ(buf[4], 'X');

  memset(buf, 'X', sizeof(buf));
  uv_err_name_r(UV_EOF, buf, 1);
  ASSERT_EQ(buf[0], '\0');
  ASSERT_EQ(buf[1], 'X');

  ASSERT_STR_EQ(uv_err_name_r(-9999, buf, sizeof(buf)),
                "Unknown system error -9999");
  ASSERT_STR_EQ(uv_strerror_r(-9999, buf, sizeof(buf)),
                "Unknown system error -9999");
  memset(buf, 'X', sizeof(buf));
  ASSERT_STR_EQ(uv_strerror_r(-9999, buf, 10), "Unknown s");
  ASSERT_EQ(buf[10], 'X');
  ASSERT_STR_EQ(uv_strerror_r(0, buf, sizeof(buf)), "Unknown system error 0");
  ASSERT_STR_EQ(uv_err_name_r(UV_EAI_NONAME, buf, sizeof(buf)), "EAI_NONAME");
  ASSERT_STR_EQ(uv_strerror_r(UV_EOF, buf, sizeof(buf)), "end of file");
}

static void test_translate(void) {
  ASSERT_EQ(uv_translate_sys_error(EAGAIN), UV_EAGAIN);
  ASSERT_EQ(uv_translate_sys_error(EINVAL), UV_EINVAL);
  ASSERT_EQ(uv_translate_sys_error(ECONNREFUSED), UV_ECONNREFUSED);
  ASSERT_EQ(uv_translate_sys_error(EWOULDBLOCK), UV_EAGAIN);
  ASSERT_EQ(uv_translate_sys_error(0), 0);
  ASSERT_EQ(uv_translate_sys_error(UV_EINVAL), UV_EINVAL);
}

int main(void) {
  test_table();
  test_fixed_values();
  test_unknown();
  test_reentrant();
  test_translate();
  printf("errors: ok\n");
  return 0;
}
