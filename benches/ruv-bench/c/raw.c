/* Raw C with blocking system calls: the physical limit of each scenario,
 * and the traffic generators and peers the other implementations run
 * against. See bench.h for the protocol.
 *
 *   flood-send      port= duration_ms=   sendmmsg blast, then stop markers
 *   drain-send      port= count=         queue `count` datagrams and exit
 *   flood-recv      mmsg=0|1             blocking recvmmsg / recvfrom receiver
 *   drain-recv      mmsg=0|1 rcvbuf=     drain the queued datagrams after "go"
 *   echo-peer                            blocking echo server (ping-pong peer)
 *   pingpong-client port= duration_ms= count=
 *   pingpong-loop   duration_ms= count=  both sockets, one thread, blocking
 *   idle            iterations=          a bare epoll_wait(0) loop */
#include "bench.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

/* Datagrams per recvmmsg/sendmmsg call. */
#define BATCH 32
#define SEND_BATCH 64
#define CHUNK 65536

static char bufs[BATCH][CHUNK];
static struct mmsghdr msgs[BATCH];
static struct iovec iovs[BATCH];
static struct sockaddr_in names[BATCH];

/* Points the receive headers at the chunks, resetting the name lengths
 * recvmmsg overwrites. */
static void reset_msgs(void) {
  for (int i = 0; i < BATCH; i++) {
    iovs[i].iov_base = bufs[i];
    iovs[i].iov_len = CHUNK;
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &names[i];
    msgs[i].msg_hdr.msg_namelen = sizeof names[i];
  }
}

/* A socket connected to 127.0.0.1:port. */
static int connected_socket(int port) {
  int fd = udp_socket(0);
  struct sockaddr_in peer = loopback(port);
  if (connect(fd, (struct sockaddr*)&peer, sizeof peer) != 0) die("connect");
  return fd;
}

/* Sends `count` datagrams (0: until `end_ns`) in sendmmsg batches; returns
 * how many the kernel took. */
static uint64_t blast(int fd, uint64_t count, uint64_t end_ns) {
  static struct mmsghdr out[SEND_BATCH];
  static struct iovec iov;
  iov.iov_base = (void*)payload;
  iov.iov_len = PAYLOAD_LEN;
  for (int i = 0; i < SEND_BATCH; i++) {
    out[i].msg_hdr.msg_iov = &iov;
    out[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t sent = 0;
  for (;;) {
    unsigned want = SEND_BATCH;
    if (count) {
      if (sent >= count) break;
      if (count - sent < want) want = (unsigned)(count - sent);
    } else if (mono_ns() >= end_ns) {
      break;
    }
    int k = sendmmsg(fd, out, want, 0);
    if (k < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) continue;
      die("sendmmsg");
    }
    sent += (uint64_t)k;
  }
  return sent;
}

static int flood_send(int argc, char** argv) {
  int fd = connected_socket((int)arg_long(argc, argv, "port", 0));
  uint64_t t0 = mono_ns();
  uint64_t sent = blast(fd, 0, t0 + (uint64_t)arg_long(argc, argv, "duration_ms", 1000) * 1000000u);
  uint64_t t1 = mono_ns();
  /* Stop markers until the receiver is gone (its closed port makes the
   * connected socket report ECONNREFUSED), for 3 s at most. */
  uint64_t give_up = mono_ns() + 3000000000u;
  while (mono_ns() < give_up) {
    usleep(2000);
    if (send(fd, stop_marker, STOP_LEN, 0) < 0 && errno == ECONNREFUSED) break;
  }
  printf("RESULT sent=%llu ns=%llu\n", (unsigned long long)sent, (unsigned long long)(t1 - t0));
  return 0;
}

static int drain_send(int argc, char** argv) {
  int fd = connected_socket((int)arg_long(argc, argv, "port", 0));
  uint64_t t0 = mono_ns();
  uint64_t sent = blast(fd, (uint64_t)arg_long(argc, argv, "count", 1000), 0);
  printf("RESULT sent=%llu ns=%llu\n", (unsigned long long)sent, (unsigned long long)(mono_ns() - t0));
  return 0;
}

/* Receives one batch (recvmmsg) or one datagram (recvfrom); returns how
 * many, lengths in msgs[i].msg_len. */
static int receive(int fd, int mmsg, int flags) {
  if (mmsg) {
    reset_msgs();
    return recvmmsg(fd, msgs, BATCH, flags | MSG_WAITFORONE, NULL);
  }
  socklen_t len = sizeof names[0];
  ssize_t n = recvfrom(fd, bufs[0], CHUNK, flags, (struct sockaddr*)&names[0], &len);
  if (n < 0) return -1;
  msgs[0].msg_len = (unsigned)n;
  return 1;
}

static int flood_recv(int argc, char** argv) {
  int mmsg = (int)arg_long(argc, argv, "mmsg", 1);
  int fd = udp_socket(0);
  ready(sock_port(fd));
  uint64_t received = 0, t0 = 0, c0 = 0;
  for (;;) {
    int n = receive(fd, mmsg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("receive");
    }
    for (int i = 0; i < n; i++) {
      if (msgs[i].msg_len == STOP_LEN) goto done;
      if (received++ == 0) {
        t0 = mono_ns();
        c0 = cpu_ns();
      }
    }
  }
done:;
  uint64_t c1 = cpu_ns(), t1 = mono_ns();
  printf("RESULT received=%llu cpu_ns=%llu ns=%llu\n", (unsigned long long)received,
         (unsigned long long)(c1 - c0), (unsigned long long)(t1 - t0));
  return 0;
}

static int drain_recv(int argc, char** argv) {
  int mmsg = (int)arg_long(argc, argv, "mmsg", 1);
  int fd = udp_socket((int)arg_long(argc, argv, "rcvbuf", 0));
  ready(sock_port(fd));
  uint64_t expected = (uint64_t)wait_go(), received = 0;
  uint64_t t0 = mono_ns(), c0 = cpu_ns();
  while (received < expected) {
    int n = receive(fd, mmsg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      die("receive");
    }
    received += (uint64_t)n;
  }
  uint64_t c1 = cpu_ns(), t1 = mono_ns();
  printf("RESULT received=%llu cpu_ns=%llu ns=%llu\n", (unsigned long long)received,
         (unsigned long long)(c1 - c0), (unsigned long long)(t1 - t0));
  return 0;
}

static int echo_peer(int argc, char** argv) {
  int fd = udp_socket(0);
  /* Gone quiet for this long: the client is gone, stop. */
  long idle_ms = arg_long(argc, argv, "idle_ms", 3000);
  struct timeval tv = {idle_ms / 1000, (idle_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) die("SO_RCVTIMEO");
  ready(sock_port(fd));
  uint64_t echoed = 0;
  for (;;) {
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, bufs[0], CHUNK, 0, (struct sockaddr*)&from, &len);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == STOP_LEN) break;
    if (sendto(fd, bufs[0], (size_t)n, 0, (struct sockaddr*)&from, len) < 0) die("sendto");
    echoed++;
  }
  printf("RESULT echoed=%llu\n", (unsigned long long)echoed);
  return 0;
}

/* Sends the payload and waits for it to come back on `fd`. */
static void round_trip(int fd, const struct sockaddr_in* to) {
  if (sendto(fd, payload, PAYLOAD_LEN, 0, (const struct sockaddr*)to, sizeof *to) < 0) die("sendto");
  if (recv(fd, bufs[0], CHUNK, 0) < 0) die("recv");
}

static int pingpong_client(int argc, char** argv) {
  int fd = udp_socket(0);
  struct sockaddr_in peer = loopback((int)arg_long(argc, argv, "port", 0));
  uint64_t count = (uint64_t)arg_long(argc, argv, "count", 0);
  uint64_t t0 = mono_ns();
  uint64_t end = t0 + (uint64_t)arg_long(argc, argv, "duration_ms", 1000) * 1000000u;
  uint64_t trips = 0;
  for (;;) {
    round_trip(fd, &peer);
    trips++;
    if (count ? trips >= count : mono_ns() >= end) break;
  }
  uint64_t t1 = mono_ns();
  sendto(fd, stop_marker, STOP_LEN, 0, (struct sockaddr*)&peer, sizeof peer);
  printf("RESULT round_trips=%llu ns=%llu\n", (unsigned long long)trips, (unsigned long long)(t1 - t0));
  return 0;
}

static int pingpong_loop(int argc, char** argv) {
  int a = udp_socket(0), b = udp_socket(0);
  struct sockaddr_in to_b = loopback(sock_port(b));
  uint64_t count = (uint64_t)arg_long(argc, argv, "count", 0);
  uint64_t t0 = mono_ns();
  uint64_t end = t0 + (uint64_t)arg_long(argc, argv, "duration_ms", 1000) * 1000000u;
  uint64_t trips = 0;
  for (;;) {
    if (sendto(a, payload, PAYLOAD_LEN, 0, (struct sockaddr*)&to_b, sizeof to_b) < 0) die("sendto");
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(b, bufs[0], CHUNK, 0, (struct sockaddr*)&from, &len);
    if (n < 0) die("recvfrom");
    if (sendto(b, bufs[0], (size_t)n, 0, (struct sockaddr*)&from, len) < 0) die("sendto");
    if (recvfrom(a, bufs[1], CHUNK, 0, NULL, NULL) < 0) die("recvfrom");
    trips++;
    if (count ? trips >= count : mono_ns() >= end) break;
  }
  uint64_t t1 = mono_ns();
  printf("RESULT round_trips=%llu ns=%llu\n", (unsigned long long)trips, (unsigned long long)(t1 - t0));
  return 0;
}

static int idle(int argc, char** argv) {
  uint64_t iterations = (uint64_t)arg_long(argc, argv, "iterations", 1000000);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ep < 0 || efd < 0) die("epoll/eventfd");
  /* One descriptor registered, as the loops have their wakeup eventfd. */
  struct epoll_event ev = {.events = EPOLLIN};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0) die("epoll_ctl");
  static struct epoll_event events[1024];
  uint64_t t0 = mono_ns();
  for (uint64_t i = 0; i < iterations; i++) {
    if (epoll_wait(ep, events, 1024, 0) < 0 && errno != EINTR) die("epoll_wait");
  }
  uint64_t t1 = mono_ns();
  printf("RESULT iterations=%llu ns=%llu\n", (unsigned long long)iterations, (unsigned long long)(t1 - t0));
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: bench-raw SCENARIO [key=value...]");
  arm_watchdog(argc, argv);
  const char* s = argv[1];
  if (!strcmp(s, "flood-send")) return flood_send(argc, argv);
  if (!strcmp(s, "drain-send")) return drain_send(argc, argv);
  if (!strcmp(s, "flood-recv")) return flood_recv(argc, argv);
  if (!strcmp(s, "drain-recv")) return drain_recv(argc, argv);
  if (!strcmp(s, "echo-peer")) return echo_peer(argc, argv);
  if (!strcmp(s, "pingpong-client")) return pingpong_client(argc, argv);
  if (!strcmp(s, "pingpong-loop")) return pingpong_loop(argc, argv);
  if (!strcmp(s, "idle")) return idle(argc, argv);
  fprintf(stderr, "bench-raw: unknown scenario %s\n", s);
  return 2;
}
