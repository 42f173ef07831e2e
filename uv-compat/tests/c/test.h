/* Tiny assertion helpers for the uv-compat C test programs.
 *
 * Every failed check prints "file:line: ..." with the expression and the
 * values involved to stderr, then calls abort(). The programs use only the
 * public libuv API, so the same sources build against the system libuv
 * (for checking the expectations) and against ours.
 */
#ifndef UVC_TEST_H_
#define UVC_TEST_H_

#include <uv.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the library under test is uv-compat. Known at compile time with
 * our uv.h; a program built against libuv's own header (the binary drop-in
 * case) learns it from the test runner, which sets UV_TEST_LIBRARY. Checks
 * of what uv-compat defines and libuv leaves undefined, or of where the two
 * differ by design, depend on it. */
static inline int on_uv_compat(void) {
#ifdef UV_RUV_COMPAT
  return 1;
#else
  const char* lib = getenv("UV_TEST_LIBRARY");
  return lib != NULL && strcmp(lib, "uv-compat") == 0;
#endif
}

/* Whether the library running the program is at least libuv `hex`
 * (0xMMmmpp). Behaviour that changed between libuv versions is checked by
 * the version of the library, not of the header: a binary built against
 * libuv 1.44's header may run on uv-compat, which is 1.52. */
static inline int library_at_least(unsigned int hex) {
  return uv_version() >= hex;
}

#define UVC_FAIL_(...)                                                        \
  do {                                                                        \
    fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                           \
    fprintf(stderr, __VA_ARGS__);                                             \
    fputc('\n', stderr);                                                      \
    fflush(stdout);                                                           \
    fflush(stderr);                                                           \
    abort();                                                                  \
  } while (0)

#define ASSERT(expr)                                                          \
  do {                                                                        \
    if (!(expr))                                                              \
      UVC_FAIL_("ASSERT(%s) failed", #expr);                                  \
  } while (0)

/* Integer comparison; both sides are widened to long long (error codes are
 * negative, sizes are small), so mixed signedness compares by value. */
#define UVC_CMP_(a, op, b)                                                    \
  do {                                                                        \
    long long uvc_a_ = (long long) (a);                                       \
    long long uvc_b_ = (long long) (b);                                       \
    if (!(uvc_a_ op uvc_b_))                                                  \
      UVC_FAIL_("ASSERT(%s %s %s) failed: %lld %s %lld", #a, #op, #b,        \
                uvc_a_, #op, uvc_b_);                                         \
  } while (0)

#define ASSERT_EQ(a, b) UVC_CMP_(a, ==, b)
#define ASSERT_NE(a, b) UVC_CMP_(a, !=, b)
#define ASSERT_GE(a, b) UVC_CMP_(a, >=, b)
#define ASSERT_GT(a, b) UVC_CMP_(a, >, b)
#define ASSERT_LE(a, b) UVC_CMP_(a, <=, b)
#define ASSERT_LT(a, b) UVC_CMP_(a, <, b)

/* An expression that must be 0; a negative value is shown with its errno
 * name from the C library (not from the library under test). */
#define ASSERT_OK(expr)                                                       \
  do {                                                                        \
    long long uvc_r_ = (long long) (expr);                                    \
    if (uvc_r_ != 0)                                                          \
      UVC_FAIL_("ASSERT_OK(%s) failed: %lld (%s)", #expr, uvc_r_,            \
                uvc_r_ < 0 && uvc_r_ > -4096 ? strerror((int) -uvc_r_)        \
                                             : "not an errno");               \
  } while (0)

#define ASSERT_PTR_EQ(a, b)                                                   \
  do {                                                                        \
    const void* uvc_pa_ = (const void*) (a);                                  \
    const void* uvc_pb_ = (const void*) (b);                                  \
    if (uvc_pa_ != uvc_pb_)                                                   \
      UVC_FAIL_("ASSERT(%s == %s) failed: %p != %p", #a, #b, uvc_pa_,        \
                uvc_pb_);                                                     \
  } while (0)

#define ASSERT_NULL(a) ASSERT_PTR_EQ(a, NULL)

#define ASSERT_NOT_NULL(a)                                                    \
  do {                                                                        \
    if ((const void*) (a) == NULL)                                            \
      UVC_FAIL_("ASSERT(%s != NULL) failed", #a);                             \
  } while (0)

#define ASSERT_STR_EQ(a, b)                                                   \
  do {                                                                        \
    const char* uvc_sa_ = (a);                                                \
    const char* uvc_sb_ = (b);                                                \
    if (uvc_sa_ == NULL || uvc_sb_ == NULL || strcmp(uvc_sa_, uvc_sb_) != 0) \
      UVC_FAIL_("ASSERT_STR_EQ(%s, %s) failed: \"%s\" != \"%s\"", #a, #b,    \
                uvc_sa_ ? uvc_sa_ : "(null)", uvc_sb_ ? uvc_sb_ : "(null)"); \
  } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                \
  do {                                                                        \
    if (memcmp((a), (b), (n)) != 0)                                           \
      UVC_FAIL_("ASSERT_MEM_EQ(%s, %s, %s) failed", #a, #b, #n);             \
  } while (0)

#endif /* UVC_TEST_H_ */
