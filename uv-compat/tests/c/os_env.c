/* os_env.c: the process's surroundings, as libuv's test-env-vars.c,
 * test-cwd-and-chdir.c, test-homedir.c, test-tmpdir.c,
 * test-get-currentexe.c, test-uname.c and test-get-memory.c pin them.
 *
 * Covers: uv_os_getenv / setenv / unsetenv (UV_EINVAL for NULL and a zero
 * size, UV_ENOBUFS with the room needed written back, UV_ENOENT once unset,
 * the empty value kept, values of 32 KiB to 128 KiB), uv_os_environ /
 * uv_os_free_environ, uv_cwd / uv_chdir (UV_ENOBUFS with strlen + 1, "/"
 * kept, UV_ENOENT), uv_os_homedir ($HOME first, the password database
 * without it), uv_os_tmpdir ($TMPDIR, $TMP, $TEMP, $TEMPDIR, "/tmp"; the
 * trailing slash dropped after the room check), uv_exepath (cut to fit, no
 * UV_ENOBUFS), uv_os_getppid, uv_os_uname, uv_resident_set_memory,
 * uv_uptime, and uv_disable_stdio_inheritance.
 */
#include <uv.h>

#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "test.h"

static void test_env(void) {
  const char* name = "UVC_OS_ENV_A";
  char buf[10];
  size_t size;
  uv_env_item_t* items;
  int count;
  int i;
  int found;

  ASSERT_EQ(uv_os_setenv(NULL, "x"), UV_EINVAL);
  ASSERT_EQ(uv_os_setenv(name, NULL), UV_EINVAL);
  ASSERT_EQ(uv_os_unsetenv(NULL), UV_EINVAL);
  size = sizeof buf;
  ASSERT_EQ(uv_os_getenv(NULL, buf, &size), UV_EINVAL);
  ASSERT_EQ(uv_os_getenv(name, NULL, &size), UV_EINVAL);
  ASSERT_EQ(uv_os_getenv(name, buf, NULL), UV_EINVAL);
  size = 0;
  ASSERT_EQ(uv_os_getenv(name, buf, &size), UV_EINVAL);

  /* Nine characters fit in ten bytes; in nine, the answer is "ten". */
  ASSERT_OK(uv_os_setenv(name, "abcdefghi"));
  size = sizeof buf;
  ASSERT_OK(uv_os_getenv(name, buf, &size));
  ASSERT_STR_EQ(buf, "abcdefghi");
  ASSERT_EQ(size, 9);
  ASSERT_STR_EQ(getenv(name), "abcdefghi");
  size = 9;
  memset(buf, '#', sizeof buf);
  ASSERT_EQ(uv_os_getenv(name, buf, &size), UV_ENOBUFS);
  ASSERT_EQ(size, 10);
  ASSERT_EQ(buf[0], '#');

  /* Overwriting, then unsetting (twice: the second is fine too). */
  ASSERT_OK(uv_os_setenv(name, "x"));
  size = sizeof buf;
  ASSERT_OK(uv_os_getenv(name, buf, &size));
  ASSERT_STR_EQ(buf, "x");
  ASSERT_OK(uv_os_unsetenv(name));
  ASSERT_OK(uv_os_unsetenv(name));
  size = sizeof buf;
  ASSERT_EQ(uv_os_getenv(name, buf, &size), UV_ENOENT);
  ASSERT_NULL(getenv(name));

  /* The empty string is a value, not an unset. */
  ASSERT_OK(uv_os_setenv(name, ""));
  size = sizeof buf;
  ASSERT_OK(uv_os_getenv(name, buf, &size));
  ASSERT_EQ(size, 0);
  ASSERT_STR_EQ(buf, "");

  /* A name the C library refuses. */
  ASSERT_EQ(uv_os_setenv("A=B", "x"), UV_EINVAL);

  ASSERT_OK(uv_os_setenv("UVC_OS_ENV_B", "b=c"));
  ASSERT_OK(uv_os_environ(&items, &count));
  ASSERT_GT(count, 1);
  found = 0;
  for (i = 0; i < count; i++) {
    if (strcmp(items[i].name, name) == 0) {
      ASSERT_STR_EQ(items[i].value, "");
      found |= 1;
    }
    if (strcmp(items[i].name, "UVC_OS_ENV_B") == 0) {
      ASSERT_STR_EQ(items[i].value, "b=c");
      found |= 2;
    }
  }
  ASSERT_EQ(found, 3);
  uv_os_free_environ(items, count);
  ASSERT_OK(uv_os_unsetenv(name));
  ASSERT_OK(uv_os_unsetenv("UVC_OS_ENV_B"));

  /* Big values, exact to the byte. */
  for (i = 1; i <= 4; i++) {
    size_t n = (size_t) i * 32768;
    char* value = malloc(n + 1);
    char* back = malloc(n + 1);
    ASSERT_NOT_NULL(value);
    ASSERT_NOT_NULL(back);
    memset(value, 'a' + i, n);
    value[n] = '\0';
    ASSERT_OK(uv_os_setenv(name, value));
    size = n;
    ASSERT_EQ(uv_os_getenv(name, back, &size), UV_ENOBUFS);
    ASSERT_EQ(size, n + 1);
    ASSERT_OK(uv_os_getenv(name, back, &size));
    ASSERT_EQ(size, n);
    ASSERT_STR_EQ(back, value);
    free(value);
    free(back);
  }
  ASSERT_OK(uv_os_unsetenv(name));
}

static void test_cwd(void) {
  char orig[PATH_MAX];
  char now[PATH_MAX];
  char small[2];
  size_t size;
  size_t orig_len;

  size = sizeof orig;
  ASSERT_OK(uv_cwd(orig, &size));
  ASSERT_EQ(size, strlen(orig));
  ASSERT_GT(size, 0);
  orig_len = size;

  ASSERT_EQ(uv_cwd(NULL, &size), UV_EINVAL);
  ASSERT_EQ(uv_cwd(orig, NULL), UV_EINVAL);
  size = 0;
  ASSERT_EQ(uv_cwd(now, &size), UV_EINVAL);

  /* Too small: the room needed, terminator included. */
  if (orig_len > 1) {
    size = sizeof small;
    ASSERT_EQ(uv_cwd(small, &size), UV_ENOBUFS);
    ASSERT_EQ(size, orig_len + 1);
  }

  ASSERT_OK(uv_chdir("/tmp/"));
  size = sizeof now;
  ASSERT_OK(uv_cwd(now, &size));
  {
    char real[PATH_MAX];
    ASSERT_NOT_NULL(realpath("/tmp", real));
    ASSERT_STR_EQ(now, real);
    ASSERT_EQ(size, strlen(real));
  }

  /* The root keeps its slash. */
  ASSERT_OK(uv_chdir("/"));
  size = sizeof now;
  ASSERT_OK(uv_cwd(now, &size));
  ASSERT_STR_EQ(now, "/");
  ASSERT_EQ(size, 1);
  size = 1;
  ASSERT_EQ(uv_cwd(now, &size), UV_ENOBUFS);
  ASSERT_EQ(size, 2);

  ASSERT_EQ(uv_chdir("/nonexistent-uvc-dir"), UV_ENOENT);
  ASSERT_EQ(uv_chdir("/etc/passwd"), UV_ENOTDIR);

  ASSERT_OK(uv_chdir(orig));
  size = sizeof now;
  ASSERT_OK(uv_cwd(now, &size));
  ASSERT_STR_EQ(now, orig);
  ASSERT_EQ(size, orig_len);
}

static void test_homedir(void) {
  char dir[PATH_MAX];
  char saved[PATH_MAX];
  size_t size;
  struct passwd* pw;

  size = sizeof saved;
  ASSERT_OK(uv_os_getenv("HOME", saved, &size));

  ASSERT_OK(uv_os_setenv("HOME", "/uvc/home/dir"));
  size = sizeof dir;
  ASSERT_OK(uv_os_homedir(dir, &size));
  ASSERT_STR_EQ(dir, "/uvc/home/dir");
  ASSERT_EQ(size, 13);
  size = 13;
  ASSERT_EQ(uv_os_homedir(dir, &size), UV_ENOBUFS);
  ASSERT_EQ(size, 14);
  ASSERT_EQ(uv_os_homedir(NULL, &size), UV_EINVAL);
  ASSERT_EQ(uv_os_homedir(dir, NULL), UV_EINVAL);
  size = 0;
  ASSERT_EQ(uv_os_homedir(dir, &size), UV_EINVAL);

  /* Without $HOME: the user's entry in the password database. */
  ASSERT_OK(uv_os_unsetenv("HOME"));
  pw = getpwuid(geteuid());
  ASSERT_NOT_NULL(pw);
  size = sizeof dir;
  ASSERT_OK(uv_os_homedir(dir, &size));
  ASSERT_STR_EQ(dir, pw->pw_dir);
  ASSERT_EQ(size, strlen(pw->pw_dir));
  size = 1;
  ASSERT_EQ(uv_os_homedir(dir, &size), UV_ENOBUFS);
  ASSERT_EQ(size, strlen(pw->pw_dir) + 1);

  ASSERT_OK(uv_os_setenv("HOME", saved));
}

static void tmpdir_is(const char* expected) {
  char dir[PATH_MAX];
  size_t size = sizeof dir;
  ASSERT_OK(uv_os_tmpdir(dir, &size));
  ASSERT_STR_EQ(dir, expected);
  ASSERT_EQ(size, strlen(expected));
}

static void test_tmpdir(void) {
  const char* vars[] = {"TMPDIR", "TMP", "TEMP", "TEMPDIR"};
  char dir[16];
  size_t size;
  unsigned i;

  for (i = 0; i < 4; i++)
    ASSERT_OK(uv_os_unsetenv(vars[i]));
  tmpdir_is("/tmp");

  ASSERT_OK(uv_os_setenv("TEMPDIR", "/uvc/d"));
  tmpdir_is("/uvc/d");
  ASSERT_OK(uv_os_setenv("TEMP", "/uvc/c"));
  tmpdir_is("/uvc/c");
  ASSERT_OK(uv_os_setenv("TMP", "/uvc/b"));
  tmpdir_is("/uvc/b");
  ASSERT_OK(uv_os_setenv("TMPDIR", "/uvc/a/"));
  tmpdir_is("/uvc/a");

  /* The room check counts the slash that is then dropped. */
  size = 7;
  ASSERT_EQ(uv_os_tmpdir(dir, &size), UV_ENOBUFS);
  ASSERT_EQ(size, 8);
  size = 8;
  ASSERT_OK(uv_os_tmpdir(dir, &size));
  ASSERT_STR_EQ(dir, "/uvc/a");
  ASSERT_EQ(size, 6);

  ASSERT_OK(uv_os_setenv("TMPDIR", "/"));
  tmpdir_is("/");

  ASSERT_EQ(uv_os_tmpdir(NULL, &size), UV_EINVAL);
  ASSERT_EQ(uv_os_tmpdir(dir, NULL), UV_EINVAL);
  size = 0;
  ASSERT_EQ(uv_os_tmpdir(dir, &size), UV_EINVAL);

  for (i = 0; i < 4; i++)
    ASSERT_OK(uv_os_unsetenv(vars[i]));
}

static void test_exepath(void) {
  char real[PATH_MAX];
  char buf[PATH_MAX];
  ssize_t n;
  size_t size;

  n = readlink("/proc/self/exe", real, sizeof real - 1);
  ASSERT_GT(n, 1);
  real[n] = '\0';

  size = sizeof buf;
  ASSERT_OK(uv_exepath(buf, &size));
  ASSERT_STR_EQ(buf, real);
  ASSERT_EQ(size, (size_t) n);

  ASSERT_EQ(uv_exepath(NULL, &size), UV_EINVAL);
  ASSERT_EQ(uv_exepath(buf, NULL), UV_EINVAL);
  size = 0;
  ASSERT_EQ(uv_exepath(buf, &size), UV_EINVAL);

  /* Cut to fit, never UV_ENOBUFS. */
  memset(buf, '#', sizeof buf);
  size = 1;
  ASSERT_OK(uv_exepath(buf, &size));
  ASSERT_EQ(size, 0);
  ASSERT_EQ(buf[0], '\0');
  memset(buf, '#', sizeof buf);
  size = 4;
  ASSERT_OK(uv_exepath(buf, &size));
  ASSERT_EQ(size, 3);
  ASSERT_MEM_EQ(buf, real, 3);
  ASSERT_EQ(buf[3], '\0');
}

static void test_system(void) {
  uv_utsname_t u;
  struct utsname expected;
  size_t rss;
  double up;

  ASSERT_EQ(uv_os_getppid(), getppid());

  ASSERT_EQ(uv_os_uname(NULL), UV_EINVAL);
  ASSERT_OK(uv_os_uname(&u));
  ASSERT_OK(uname(&expected));
  ASSERT_STR_EQ(u.sysname, expected.sysname);
  ASSERT_STR_EQ(u.release, expected.release);
  ASSERT_STR_EQ(u.version, expected.version);
  ASSERT_STR_EQ(u.machine, expected.machine);
  ASSERT_STR_EQ(u.sysname, "Linux");

  rss = 0;
  ASSERT_OK(uv_resident_set_memory(&rss));
  ASSERT_GT(rss, 0);
  ASSERT_EQ(rss % (size_t) sysconf(_SC_PAGESIZE), 0);

  up = 0;
  ASSERT_OK(uv_uptime(&up));
  ASSERT(up > 0);
}

static void test_stdio_inheritance(void) {
  int fd;
  int i;

  fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  uv_disable_stdio_inheritance();
  for (i = 0; i <= 2; i++)
    ASSERT_EQ(fcntl(i, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ASSERT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  close(fd);
}

int main(void) {
  test_env();
  test_cwd();
  test_homedir();
  test_tmpdir();
  test_exepath();
  test_system();
  test_stdio_inheritance();
  printf("os_env ok\n");
  return 0;
}
