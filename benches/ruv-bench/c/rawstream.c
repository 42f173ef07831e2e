/* Raw C for the stream scenarios: the load generators and sinks the event
 * loops run against, and the raw epoll / blocking baselines. See bench.h
 * for the protocol.
 *
 *   echo-client     port= conns= duration_ms= size=
 *                                     epoll client: `conns` connections, one
 *                                     message of `size` bytes (64) in flight
 *                                     on each; stops
 *                                     sending after duration_ms, closes all
 *                                     once every echo is back
 *   echo-server     conns=            level-triggered epoll echo server: one
 *                                     read and one write per readable event
 *   pingpong-stream kind=tcp|unix path= duration_ms=
 *                                     both ends in one thread, blocking
 *   pump-sink       kind=tcp|unix path=
 *                                     accept one connection, read to EOF;
 *                                     bytes and ns from the first byte
 *   pump-send       kind=tcp|unix port= path= duration_ms=
 *                                     blocking 64 KiB writes
 *   idle-client     port= conns=      connect `conns` connections and hold
 *                                     them until stdin closes
 *   idle-server     conns=            epoll server holding `conns` accepted
 *                                     connections; resident memory */
#include "bench.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/un.h>

#define CHUNK 65536
static char buf[CHUNK];

static void set_nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) die("fcntl");
}

static void nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static struct sockaddr_un unix_addr(const char* path) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a.sun_path) fail("socket path too long");
  strcpy(a.sun_path, path);
  return a;
}

/* A listening socket: TCP on 127.0.0.1:0, or Unix at `path`. */
static int listener(int unix_kind, const char* path) {
  int fd;
  if (unix_kind) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = unix_addr(path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0) die("bind unix");
  } else {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = loopback(0);
    if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0) die("bind");
  }
  if (listen(fd, 4096) != 0) die("listen");
  return fd;
}

/* A blocking socket connected to the TCP port or the Unix path. */
static int connected(int unix_kind, int port, const char* path) {
  int fd;
  if (unix_kind) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = unix_addr(path);
    if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof a) != 0) die("connect unix");
  } else {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = loopback(port);
    if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof a) != 0) die("connect");
    nodelay(fd);
  }
  return fd;
}

static void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    p += w;
    n -= (size_t)w;
  }
}

static void read_exactly(int fd, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, buf, n < CHUNK ? n : CHUNK);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      die("read");
    }
    n -= (size_t)r;
  }
}

/* --- echo-client ------------------------------------------------------- */

/* The message: `size` bytes of the payload repeated. */
static char* echo_msg;
static size_t echo_len;

/* Sends what is left of connection i's message; waits for room (EPOLLOUT)
 * when the socket takes only part of it (messages past its buffer). */
static void echo_send(int ep, int fd, uint64_t i, size_t* unsent) {
  while (*unsent > 0) {
    ssize_t w = write(fd, echo_msg + (echo_len - *unsent), *unsent);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) die("write");
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = i};
      if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0) die("epoll_ctl");
      return;
    }
    *unsent -= (size_t)w;
  }
}

static int echo_client(int port, long conns, long duration_ms, long size) {
  raise_nofile();
  if (size <= 0) fail("echo-client: size must be positive");
  echo_len = (size_t)size;
  echo_msg = malloc(echo_len);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int* fds = calloc((size_t)conns, sizeof *fds);
  size_t* pending = calloc((size_t)conns, sizeof *pending);
  size_t* unsent = calloc((size_t)conns, sizeof *unsent);
  if (ep < 0 || !fds || !pending || !unsent || !echo_msg) die("setup");
  for (size_t k = 0; k < echo_len; k++) echo_msg[k] = payload[k % PAYLOAD_LEN];
  for (long i = 0; i < conns; i++) {
    fds[i] = connected(0, port, NULL);
    set_nonblocking(fds[i]);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0) die("epoll_ctl");
  }
  uint64_t echoes = 0;
  long active = conns;
  uint64_t t0 = mono_ns(), end = t0 + (uint64_t)duration_ms * 1000000u;
  for (long i = 0; i < conns; i++) {
    pending[i] = unsent[i] = echo_len;
    echo_send(ep, fds[i], (uint64_t)i, &unsent[i]);
  }
  int stopping = 0;
  static struct epoll_event events[1024];
  while (active > 0) {
    int n = epoll_wait(ep, events, 1024, 1000);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    if (!stopping && mono_ns() >= end) stopping = 1;
    for (int k = 0; k < n; k++) {
      long i = (long)events[k].data.u64;
      if (events[k].events & EPOLLOUT) {
        echo_send(ep, fds[i], (uint64_t)i, &unsent[i]);
        if (unsent[i] == 0) {
          struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
          if (epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &ev) != 0) die("epoll_ctl");
        }
      }
      if (!(events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = read(fds[i], buf, CHUNK);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        fail("echo-client: the server closed a connection");
      }
      if ((size_t)r > pending[i] - unsent[i]) fail("echo-client: more bytes than sent");
      pending[i] -= (size_t)r;
      if (pending[i] > 0) continue;
      echoes++;
      if (stopping) {
        active--;
      } else {
        pending[i] = unsent[i] = echo_len;
        echo_send(ep, fds[i], (uint64_t)i, &unsent[i]);
      }
    }
  }
  uint64_t t1 = mono_ns();
  for (long i = 0; i < conns; i++) close(fds[i]);
  printf("RESULT echoes=%llu ns=%llu\n", (unsigned long long)echoes, (unsigned long long)(t1 - t0));
  return 0;
}

/* --- echo-server --------------------------------------------------------- */

static int echo_server(long conns) {
  raise_nofile();
  int lfd = listener(0, NULL);
  set_nonblocking(lfd);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0) die("epoll");
  ready(sock_port(lfd));
  uint64_t bytes = 0, t0 = 0, c0 = 0, t1 = 0, c1 = 0;
  long ended = 0;
  static struct epoll_event events[1024];
  while (ended < conns) {
    int n = epoll_wait(ep, events, 1024, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int k = 0; k < n; k++) {
      int fd = events[k].data.fd;
      if (fd == lfd) {
        int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) continue;
        nodelay(c);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) != 0) die("epoll_ctl");
        continue;
      }
      ssize_t r = read(fd, buf, CHUNK);
      if (r > 0) {
        if (t0 == 0) {
          t0 = mono_ns();
          c0 = cpu_ns();
        }
        bytes += (uint64_t)r;
        write_all(fd, buf, (size_t)r); /* 64 B: the kernel always has room */
      } else if (r == 0 || errno != EAGAIN) {
        close(fd); /* leaves the epoll set */
        if (++ended == conns) {
          t1 = mono_ns();
          c1 = cpu_ns();
        }
      }
    }
  }
  printf("RESULT echoes=%llu cpu_ns=%llu ns=%llu\n", (unsigned long long)(bytes / PAYLOAD_LEN),
         (unsigned long long)(c1 - c0), (unsigned long long)(t1 - t0));
  return 0;
}

/* --- pingpong-stream ------------------------------------------------------ */

static int pingpong_stream(int unix_kind, const char* path, long duration_ms) {
  int lfd = listener(unix_kind, path);
  int a = connected(unix_kind, unix_kind ? 0 : sock_port(lfd), path);
  int b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (b < 0) die("accept");
  if (!unix_kind) nodelay(b);
  uint64_t trips = 0, t0 = mono_ns(), end = t0 + (uint64_t)duration_ms * 1000000u, t1;
  for (;;) {
    write_all(a, payload, PAYLOAD_LEN);
    read_exactly(b, PAYLOAD_LEN);
    write_all(b, buf, PAYLOAD_LEN);
    read_exactly(a, PAYLOAD_LEN);
    trips++;
    if ((trips & 255) == 0 && (t1 = mono_ns()) >= end) break;
  }
  if (unix_kind) unlink(path);
  printf("RESULT round_trips=%llu ns=%llu\n", (unsigned long long)trips, (unsigned long long)(t1 - t0));
  return 0;
}

/* --- pump ------------------------------------------------------------------ */

static int pump_sink(int unix_kind, const char* path) {
  int lfd = listener(unix_kind, path);
  ready(unix_kind ? 0 : sock_port(lfd));
  int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) die("accept");
  if (unix_kind) unlink(path);
  uint64_t bytes = 0, t0 = 0;
  for (;;) {
    ssize_t r = read(c, buf, CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read");
    if (r == 0) break;
    if (bytes == 0) t0 = mono_ns();
    bytes += (uint64_t)r;
  }
  uint64_t t1 = mono_ns();
  printf("RESULT bytes=%llu ns=%llu\n", (unsigned long long)bytes, (unsigned long long)(t1 - t0));
  return 0;
}

static int pump_send(int unix_kind, int port, const char* path, long duration_ms) {
  int fd = connected(unix_kind, port, path);
  memset(buf, 'p', sizeof buf);
  uint64_t bytes = 0, t0 = mono_ns(), c0 = cpu_ns(), end = t0 + (uint64_t)duration_ms * 1000000u;
  while (mono_ns() < end) {
    write_all(fd, buf, CHUNK);
    bytes += CHUNK;
  }
  if (shutdown(fd, SHUT_WR) != 0) die("shutdown");
  uint64_t t1 = mono_ns(), c1 = cpu_ns();
  close(fd);
  printf("RESULT bytes=%llu cpu_ns=%llu ns=%llu\n", (unsigned long long)bytes, (unsigned long long)(c1 - c0),
         (unsigned long long)(t1 - t0));
  return 0;
}

/* --- idle connections -------------------------------------------------------- */

static int idle_client(int port, long conns) {
  raise_nofile();
  for (long i = 0; i < conns; i++) connected(0, port, NULL); /* held until exit */
  printf("RESULT connected=%ld\n", conns);
  fflush(stdout);
  while (fgets(buf, sizeof buf, stdin)) {
  }
  return 0;
}

static int idle_server(long conns) {
  raise_nofile();
  int lfd = listener(0, NULL);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  long base_kb = status_kb("VmRSS:");
  ready(sock_port(lfd));
  for (long i = 0; i < conns; i++) {
    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) die("accept");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) != 0) die("epoll_ctl");
  }
  printf("RESULT conns=%ld base_kb=%ld rss_kb=%ld hwm_kb=%ld\n", conns, base_kb, status_kb("VmRSS:"),
         status_kb("VmHWM:"));
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: bench-rawstream SCENARIO [key=value...]");
  arm_watchdog(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  const char* s = argv[1];
  long duration_ms = arg_long(argc, argv, "duration_ms", 1000);
  int unix_kind = !strcmp(arg_str(argc, argv, "kind", "tcp"), "unix");
  const char* path = arg_str(argc, argv, "path", "");
  int port = (int)arg_long(argc, argv, "port", 0);
  long conns = arg_long(argc, argv, "conns", 1);
  if (!strcmp(s, "echo-client"))
    return echo_client(port, conns, duration_ms, arg_long(argc, argv, "size", PAYLOAD_LEN));
  if (!strcmp(s, "echo-server")) return echo_server(conns);
  if (!strcmp(s, "pingpong-stream")) return pingpong_stream(unix_kind, path, duration_ms);
  if (!strcmp(s, "pump-sink")) return pump_sink(unix_kind, path);
  if (!strcmp(s, "pump-send")) return pump_send(unix_kind, port, path, duration_ms);
  if (!strcmp(s, "idle-client")) return idle_client(port, conns);
  if (!strcmp(s, "idle-server")) return idle_server(conns);
  fprintf(stderr, "bench-rawstream: unknown scenario %s\n", s);
  return 2;
}
