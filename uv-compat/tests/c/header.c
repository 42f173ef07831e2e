/* header.c: what a program gets from including uv.h alone.
 *
 * libuv's uv.h and uv/unix.h include the system headers a libuv program
 * usually needs, and programs rely on that. Covers: SIGPROF and signal()
 * (signal.h), open() with O_RDONLY (fcntl.h), struct stat and fstat()
 * (sys/stat.h), struct addrinfo and getaddrinfo() (netdb.h), inet_pton()
 * (arpa/inet.h), TCP_NODELAY (netinet/tcp.h), struct passwd (pwd.h),
 * struct termios (termios.h), opendir() (dirent.h), MAXHOSTNAMELEN
 * (sys/param.h); the typedefs uv_uid_t, uv_gid_t, uv_once_t with
 * UV_ONCE_INIT, uv_cond_t, uv_key_t, uv_timespec_t, uv_timeval_t,
 * uv_timeval64_t, uv_thread_options_t with its flags; the UV_FS_O_* open
 * flags equal to the O_* values (O_DIRECT: libuv's value for the
 * architecture), the Windows-only ones 0; UV_FS_COPYFILE_*,
 * UV_FS_SYMLINK_*, UV_IF_NAMESIZE, UV_MAXHOSTNAMESIZE, NI_MAXHOST,
 * NI_MAXSERV and UV_PRIORITY_* with libuv's values.
 *
 * Nothing but uv.h is included before the checks below use those names
 * (test.h adds only stdint.h, stdio.h, stdlib.h and string.h).
 */
#include <uv.h>

#include "test.h"

static int once_calls;

static void once_fn(void) {
  once_calls++;
}

int main(void) {
  struct stat st;
  struct addrinfo hints;
  struct addrinfo* res = NULL;
  struct sockaddr_in in4;
  struct termios tio;
  struct passwd* pw;
  uv_thread_options_t options;
  uv_once_t once = UV_ONCE_INIT;
  uv_timespec_t ts;
  uv_timeval_t tv;
  uv_timeval64_t tv64;
  uv_uid_t uid = getuid();
  uv_gid_t gid = getgid();
  DIR* dir;
  int fd;

  /* signal.h */
  ASSERT_GT(SIGPROF, 0);
  ASSERT(signal(SIGPROF, SIG_IGN) != SIG_ERR);
  ASSERT(signal(SIGPROF, SIG_DFL) == SIG_IGN);

  /* fcntl.h, sys/stat.h, unistd.h */
  fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_OK(fstat(fd, &st));
  ASSERT(S_ISCHR(st.st_mode));
  ASSERT_OK(close(fd));

  /* netdb.h: a numeric lookup, no name service involved. */
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  ASSERT_OK(getaddrinfo("127.0.0.1", "7", &hints, &res));
  ASSERT_NOT_NULL(res);
  ASSERT_EQ(res->ai_family, AF_INET);
  ASSERT_EQ(ntohs(((struct sockaddr_in*) res->ai_addr)->sin_port), 7);
  freeaddrinfo(res);

  /* arpa/inet.h, netinet/tcp.h, termios.h, pwd.h, dirent.h, sys/param.h */
  ASSERT_EQ(inet_pton(AF_INET, "127.0.0.1", &in4.sin_addr), 1);
  ASSERT_EQ(ntohl(in4.sin_addr.s_addr), 0x7f000001);
  ASSERT_GT(TCP_NODELAY, 0);
  memset(&tio, 0, sizeof(tio));
  ASSERT_EQ(tio.c_lflag, 0);
  pw = getpwuid(uid); /* NULL without a passwd entry: both are fine */
  ASSERT(pw == NULL || pw->pw_uid == uid);
  dir = opendir("/");
  ASSERT_NOT_NULL(dir);
  ASSERT_OK(closedir(dir));
  ASSERT_EQ(UV_MAXHOSTNAMESIZE, MAXHOSTNAMELEN + 1);

  /* Typedefs. */
  ASSERT_EQ(sizeof(uv_uid_t), sizeof(uid_t));
  ASSERT_EQ(sizeof(uv_gid_t), sizeof(gid_t));
  ASSERT_EQ(uid, getuid());
  ASSERT_EQ(gid, getgid());
  ASSERT_EQ(sizeof(uv_cond_t), sizeof(pthread_cond_t));
  ASSERT_EQ(sizeof(uv_key_t), sizeof(pthread_key_t));
  ASSERT_OK(pthread_once(&once, once_fn));
  ASSERT_OK(pthread_once(&once, once_fn));
  ASSERT_EQ(once_calls, 1);
  ts.tv_sec = 1;
  ts.tv_nsec = 2;
  tv.tv_sec = 3;
  tv.tv_usec = 4;
  tv64.tv_sec = INT64_MAX;
  tv64.tv_usec = 5;
  ASSERT_EQ(ts.tv_sec + ts.tv_nsec + tv.tv_sec + tv.tv_usec, 10);
  ASSERT_EQ(tv64.tv_sec, INT64_MAX);
  ASSERT_EQ(sizeof(tv64.tv_usec), 4);

  ASSERT_EQ(UV_THREAD_NO_FLAGS, 0);
  ASSERT_EQ(UV_THREAD_HAS_STACK_SIZE, 1);
  options.flags = UV_THREAD_HAS_STACK_SIZE;
  options.stack_size = 1 << 20;
  ASSERT_EQ(options.flags | options.stack_size, (1 << 20) | 1);

  /* Open flags: libuv's UV_FS_O_* are the system's O_* values. */
  ASSERT_EQ(UV_FS_O_APPEND, O_APPEND);
  ASSERT_EQ(UV_FS_O_CREAT, O_CREAT);
  ASSERT_EQ(UV_FS_O_DIRECT, O_DIRECT);
  ASSERT_EQ(UV_FS_O_DIRECTORY, O_DIRECTORY);
  ASSERT_EQ(UV_FS_O_DSYNC, O_DSYNC);
  ASSERT_EQ(UV_FS_O_EXCL, O_EXCL);
  ASSERT_EQ(UV_FS_O_NOATIME, O_NOATIME);
  ASSERT_EQ(UV_FS_O_NOCTTY, O_NOCTTY);
  ASSERT_EQ(UV_FS_O_NOFOLLOW, O_NOFOLLOW);
  ASSERT_EQ(UV_FS_O_NONBLOCK, O_NONBLOCK);
  ASSERT_EQ(UV_FS_O_RDONLY, O_RDONLY);
  ASSERT_EQ(UV_FS_O_RDWR, O_RDWR);
  ASSERT_EQ(UV_FS_O_SYNC, O_SYNC);
  ASSERT_EQ(UV_FS_O_TRUNC, O_TRUNC);
  ASSERT_EQ(UV_FS_O_WRONLY, O_WRONLY);
  /* Flags Linux does not have, and Windows-only ones. */
  ASSERT_EQ(UV_FS_O_EXLOCK, 0);
  ASSERT_EQ(UV_FS_O_SYMLINK, 0);
  ASSERT_EQ(UV_FS_O_FILEMAP, 0);
  ASSERT_EQ(UV_FS_O_RANDOM, 0);
  ASSERT_EQ(UV_FS_O_SHORT_LIVED, 0);
  ASSERT_EQ(UV_FS_O_SEQUENTIAL, 0);
  ASSERT_EQ(UV_FS_O_TEMPORARY, 0);

  /* Other constants, libuv's values. */
  ASSERT_EQ(UV_FS_COPYFILE_EXCL, 1);
  ASSERT_EQ(UV_FS_COPYFILE_FICLONE, 2);
  ASSERT_EQ(UV_FS_COPYFILE_FICLONE_FORCE, 4);
  ASSERT_EQ(UV_FS_SYMLINK_DIR, 1);
  ASSERT_EQ(UV_FS_SYMLINK_JUNCTION, 2);
  ASSERT_EQ(UV_IF_NAMESIZE, 16 + 1);
  ASSERT_EQ(NI_MAXHOST, 1025);
  ASSERT_EQ(NI_MAXSERV, 32);
  ASSERT_EQ(UV_PRIORITY_LOW, 19);
  ASSERT_EQ(UV_PRIORITY_BELOW_NORMAL, 10);
  ASSERT_EQ(UV_PRIORITY_NORMAL, 0);
  ASSERT_EQ(UV_PRIORITY_ABOVE_NORMAL, -7);
  ASSERT_EQ(UV_PRIORITY_HIGH, -14);
  ASSERT_EQ(UV_PRIORITY_HIGHEST, -20);

  printf("header: ok\n");
  return 0;
}
