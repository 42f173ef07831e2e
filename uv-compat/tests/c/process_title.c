/* process_title.c: uv_setup_args, uv_get_process_title and
 * uv_set_process_title (libuv's test-process-title.c and the title check
 * of test-get-currentexe.c).
 *
 * Covers: UV_EINVAL for a NULL buffer or a zero size, UV_ENOBUFS for a
 * buffer without room for the title and its terminator, the title starting
 * as argv[0], a new title read back (a format string is only text), the
 * title written over the original arguments (what /proc/self/cmdline
 * shows), a title longer than the original arguments cut to their room,
 * uv_exepath unaffected, and (on uv-compat, as in libuv 1.45+) UV_ENOBUFS
 * from both calls before uv_setup_args.
 */
#include <uv.h>

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "test.h"

static void title_is(const char* expected) {
  char buf[512];
  ASSERT_OK(uv_get_process_title(buf, sizeof buf));
  ASSERT_STR_EQ(buf, expected);
}

/* The first string of /proc/self/cmdline (valgrind shows its own copy of
 * the arguments there, so not under valgrind). */
static void cmdline_starts_with(const char* expected) {
  char buf[4096];
  ssize_t n;
  const char* preload = getenv("LD_PRELOAD");
  int fd;
  if (preload != NULL && strstr(preload, "vgpreload") != NULL)
    return;
  fd = open("/proc/self/cmdline", O_RDONLY);
  ASSERT_GE(fd, 0);
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  ASSERT_GT(n, 0);
  buf[n] = '\0';
  ASSERT_STR_EQ(buf, expected);
}

int main(int argc, char** argv) {
  char buf[512];
  char exe[PATH_MAX];
  char exe_after[PATH_MAX];
  char big[8192];
  size_t size;
  size_t room;
  char* original0;
  int i;

  if (on_uv_compat()) {
    ASSERT_EQ(uv_get_process_title(buf, sizeof buf), UV_ENOBUFS);
    ASSERT_EQ(uv_set_process_title("early"), UV_ENOBUFS);
  }

  /* The room of the original argument strings. */
  room = 0;
  for (i = 0; i < argc; i++)
    room += strlen(argv[i]) + 1;
  original0 = strdup(argv[0]);
  ASSERT_NOT_NULL(original0);

  argv = uv_setup_args(argc, argv);
  ASSERT_NOT_NULL(argv);
  ASSERT_STR_EQ(argv[0], original0);
  title_is(original0);

  ASSERT_EQ(uv_get_process_title(NULL, 100), UV_EINVAL);
  ASSERT_EQ(uv_get_process_title(buf, 0), UV_EINVAL);
  ASSERT_EQ(uv_get_process_title(buf, 1), UV_ENOBUFS);

  size = sizeof exe;
  ASSERT_OK(uv_exepath(exe, &size));

  ASSERT_OK(uv_set_process_title("%s%s%s%s%n"));
  title_is("%s%s%s%s%n");
  ASSERT_OK(uv_set_process_title("uvc title"));
  title_is("uvc title");
  cmdline_starts_with("uvc title");
  /* The copy uv_setup_args returned is the program's to keep. */
  ASSERT_STR_EQ(argv[0], original0);

  ASSERT_EQ(uv_get_process_title(buf, strlen("uvc title")), UV_ENOBUFS);
  ASSERT_OK(uv_get_process_title(buf, strlen("uvc title") + 1));
  ASSERT_STR_EQ(buf, "uvc title");

  /* Longer than the arguments were: cut to their room. */
  ASSERT_LT(room, sizeof big);
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ASSERT_OK(uv_set_process_title(big));
  ASSERT_EQ(uv_get_process_title(buf, 1), UV_ENOBUFS);
  {
    char* got = malloc(sizeof big);
    ASSERT_NOT_NULL(got);
    ASSERT_OK(uv_get_process_title(got, sizeof big));
    ASSERT_EQ(strlen(got), room - 1);
    ASSERT_MEM_EQ(got, big, room - 1);
    free(got);
  }

  size = sizeof exe_after;
  ASSERT_OK(uv_exepath(exe_after, &size));
  ASSERT_STR_EQ(exe_after, exe);

  free(original0);
  printf("process_title ok\n");
  return 0;
}
