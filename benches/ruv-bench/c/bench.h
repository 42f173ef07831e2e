/* Helpers shared by the C benchmark programs (raw.c and uvbench.c).
 *
 * Protocol with the harness (the Rust workers speak the same):
 *   argv[1]            the scenario, e.g. "flood-recv"
 *   argv[2..]          key=value parameters
 *   "READY port=N"     printed once the program's socket is bound
 *   "go N"             read from stdin where a program waits for its start
 *                      (drain: N datagrams are queued)
 *   "RESULT k=v ..."   printed once at the end; exit status 0
 * Every program arms alarm(timeout_s) so it stops by itself whatever
 * happens. Compiled with -D_GNU_SOURCE -O2. */
#ifndef RUV_BENCH_H
#define RUV_BENCH_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Size of every benchmark datagram. */
#define PAYLOAD_LEN 64
/* A datagram of this length tells a receiver the run is over. */
#define STOP_LEN 1

static const char payload[PAYLOAD_LEN] = "ruv-bench payload: sixty-four bytes of datagram, all the same...";
static const char stop_marker[STOP_LEN] = {'!'};

static inline void die(const char* what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(2);
}

static inline void fail(const char* what) {
  fprintf(stderr, "%s\n", what);
  exit(2);
}

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* CPU time of this process (user + system) in ns: the scheduler's
 * accounting that /proc/<pid>/stat reports in 10 ms ticks, at ns
 * resolution. */
static inline uint64_t cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The value of "key=value" among argv[2..], or `def`. */
static inline long arg_long(int argc, char** argv, const char* key, long def) {
  size_t n = strlen(key);
  for (int i = 2; i < argc; i++) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=')
      return strtol(argv[i] + n + 1, NULL, 10);
  }
  return def;
}

/* The value of "key=value" among argv[2..] as a string, or `def`. */
static inline const char* arg_str(int argc, char** argv, const char* key, const char* def) {
  size_t n = strlen(key);
  for (int i = 2; i < argc; i++) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
  }
  return def;
}

/* Arms the watchdog: SIGALRM's default action ends the process. */
static inline void arm_watchdog(int argc, char** argv) {
  alarm((unsigned)arg_long(argc, argv, "timeout_s", 30));
}

static inline struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  return a;
}

/* Sets the receive buffer to `bytes`: SO_RCVBUFFORCE (root), else
 * SO_RCVBUF (capped by net.core.rmem_max). */
static inline void set_rcvbuf(int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0)
    die("setsockopt(SO_RCVBUF)");
}

/* A blocking UDP socket bound to 127.0.0.1:0; `rcvbuf` bytes of receive
 * buffer unless 0. */
static inline int udp_socket(int rcvbuf) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  if (rcvbuf > 0) set_rcvbuf(fd, rcvbuf);
  struct sockaddr_in a = loopback(0);
  if (bind(fd, (struct sockaddr*)&a, sizeof a) != 0) die("bind");
  return fd;
}

static inline int sock_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr*)&a, &len) != 0) die("getsockname");
  return ntohs(a.sin_port);
}

static inline void ready(int port) {
  printf("READY port=%d\n", port);
  fflush(stdout);
}

/* Waits for "go N" on stdin; returns N. */
static inline long wait_go(void) {
  char line[64];
  if (!fgets(line, sizeof line, stdin) || strncmp(line, "go ", 3) != 0)
    fail("expected 'go N' on stdin");
  return strtol(line + 3, NULL, 10);
}

/* A field of /proc/self/status in kB (e.g. "VmHWM:"), -1 if absent. */
static inline long status_kb(const char* field) {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, field, n) == 0) {
      kb = strtol(line + n, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb;
}

/* Raises the soft limit on descriptors to the hard one (pummel 1000x1000
 * needs 2000 sockets). */
static inline void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

#endif
