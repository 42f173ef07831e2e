/* udp_echo_client.c: a UDP echo client written against the plain libuv API.
 *
 *   udp_echo_client ADDR PORT [MESSAGE] [COUNT]
 *
 * Sends MESSAGE (default "hello") COUNT times (default 3) to ADDR:PORT, one
 * at a time: each send waits for the previous echo. Every echo must come
 * back within 2 seconds (a uv_timer_t) and equal what was sent; the
 * round-trip time of each is printed in microseconds (uv_hrtime). Exits 0
 * when all echoes arrived, 1 on a timeout, a wrong echo or an error (e.g.
 * "connection refused" when nothing listens on the port), 2 on bad
 * arguments. Every handle and the loop are closed before exiting.
 *
 * The handle is connected to the server (uv_udp_connect), so it sends
 * without an address and receives only the server's datagrams.
 *
 * The same source builds against ruv's uv-compat and against libuv 1.44+:
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o udp_echo_client \
 *     udp_echo_client.c \
 *     $(PKG_CONFIG_PATH=$PWD/target/release/pkgconfig pkg-config --cflags --libs libuv)
 *   cc -o udp_echo_client udp_echo_client.c -luv     # the system libuv
 */
#include <uv.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 2000
/* Room for "[" + an IPv6 address + "]:" + a port + NUL. */
#define ADDR_TEXT_MAX 64

typedef struct {
  uv_loop_t loop;
  uv_udp_t udp;
  uv_timer_t timer;
  char* message;         /* argv or a literal: outlives every send */
  size_t length;
  unsigned long count;   /* messages to send */
  unsigned long sent;    /* messages sent so far */
  unsigned long echoed;  /* echoes received so far */
  uint64_t sent_at;      /* uv_hrtime() of the latest send */
  uint64_t min_us;
  uint64_t max_us;
  uint64_t total_us;
  int closing;
  int exit_code;
  char peer[ADDR_TEXT_MAX];
  char recv_buf[65536];  /* libuv's suggested size: any UDP datagram fits */
} client_t;

static client_t client;

/* "a.b.c.d:port" or "[v6]:port"; "?" when the family is unknown. */
static void format_addr(const struct sockaddr* sa, char* out, size_t size) {
  char ip[INET6_ADDRSTRLEN];

  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in* sin = (const struct sockaddr_in*) sa;
    uv_ip4_name(sin, ip, sizeof(ip));
    snprintf(out, size, "%s:%u", ip, (unsigned) ntohs(sin->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6* sin6 = (const struct sockaddr_in6*) sa;
    uv_ip6_name(sin6, ip, sizeof(ip));
    snprintf(out, size, "[%s]:%u", ip, (unsigned) ntohs(sin6->sin6_port));
  } else {
    snprintf(out, size, "?");
  }
}

/* Closes both handles (once); uv_run returns when their close is done. */
static void finish(client_t* c, int exit_code) {
  if (c->closing)
    return;
  c->closing = 1;
  c->exit_code = exit_code;
  uv_close((uv_handle_t*) &c->udp, NULL);
  uv_close((uv_handle_t*) &c->timer, NULL);
}

static void on_timeout(uv_timer_t* timer) {
  client_t* c = timer->data;

  fprintf(stderr, "udp_echo_client: no echo of message %lu from %s within %d ms\n",
          c->sent, c->peer, TIMEOUT_MS);
  finish(c, 1);
}

static void on_sent(uv_udp_send_t* req, int status) {
  client_t* c = req->handle->data;

  free(req);
  /* UV_ECANCELED when finish() closed the handle first: not an error. */
  if (status != 0 && !c->closing) {
    fprintf(stderr, "udp_echo_client: send failed: %s\n", uv_strerror(status));
    finish(c, 1);
  }
}

/* Sends the next message and arms the timeout, or finishes after the last. */
static void send_next(client_t* c) {
  uv_udp_send_t* req;
  uv_buf_t buf;
  int r;

  if (c->sent == c->count) {
    finish(c, 0);
    return;
  }
  req = malloc(sizeof(*req));
  if (req == NULL) {
    fprintf(stderr, "udp_echo_client: out of memory\n");
    finish(c, 1);
    return;
  }
  buf = uv_buf_init(c->message, (unsigned int) c->length);
  c->sent_at = uv_hrtime();
  r = uv_udp_send(req, &c->udp, &buf, 1, NULL, on_sent);
  if (r != 0) {
    free(req);
    fprintf(stderr, "udp_echo_client: uv_udp_send: %s\n", uv_strerror(r));
    finish(c, 1);
    return;
  }
  c->sent++;
  r = uv_timer_start(&c->timer, on_timeout, TIMEOUT_MS, 0);
  if (r != 0) {
    fprintf(stderr, "udp_echo_client: uv_timer_start: %s\n", uv_strerror(r));
    finish(c, 1);
  }
}

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  client_t* c = handle->data;

  (void) suggested;
  *buf = uv_buf_init(c->recv_buf, sizeof(c->recv_buf));
}

static void on_recv(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  client_t* c = handle->data;
  uint64_t rtt_us;

  if (c->closing)
    return;
  if (nread < 0) {
    fprintf(stderr, "udp_echo_client: receive error from %s: %s\n", c->peer,
            uv_strerror((int) nread));
    finish(c, 1);
    return;
  }
  if (addr == NULL)
    return; /* nothing more to read for now */

  rtt_us = (uv_hrtime() - c->sent_at) / 1000;
  if (c->echoed == c->sent) {
    fprintf(stderr, "udp_echo_client: unexpected datagram of %ld bytes\n",
            (long) nread);
    return;
  }
  if ((flags & UV_UDP_PARTIAL) || (size_t) nread != c->length ||
      (c->length > 0 && memcmp(buf->base, c->message, c->length) != 0)) {
    fprintf(stderr, "udp_echo_client: echo %lu differs from what was sent "
            "(%ld bytes back, %lu sent)\n",
            c->sent, (long) nread, (unsigned long) c->length);
    finish(c, 1);
    return;
  }

  c->echoed++;
  uv_timer_stop(&c->timer);
  if (c->echoed == 1 || rtt_us < c->min_us)
    c->min_us = rtt_us;
  if (rtt_us > c->max_us)
    c->max_us = rtt_us;
  c->total_us += rtt_us;
  printf("echo %lu/%lu: %lu bytes from %s in %llu us\n", c->echoed, c->count,
         (unsigned long) nread, c->peer, (unsigned long long) rtt_us);
  fflush(stdout);
  send_next(c);
}

static void usage(FILE* out) {
  fprintf(out, "usage: udp_echo_client ADDR PORT [MESSAGE] [COUNT]\n"
               "  sends MESSAGE (default \"hello\") COUNT times (default 3)\n"
               "  to ADDR:PORT and waits up to 2 s for each echo\n");
}

/* A decimal number in [min, max]; 0 on success, -1 otherwise. */
static int parse_number(const char* text, unsigned long min,
                        unsigned long max, unsigned long* value) {
  char* end;
  unsigned long v;

  if (text[0] < '0' || text[0] > '9')
    return -1;
  errno = 0;
  v = strtoul(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return -1;
  *value = v;
  return 0;
}

int main(int argc, char** argv) {
  client_t* c = &client;
  struct sockaddr_storage addr;
  unsigned long port;
  int r;

  if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
                    strcmp(argv[1], "--help") == 0)) {
    usage(stdout);
    return 0;
  }
  if (argc < 3 || argc > 5) {
    usage(stderr);
    return 2;
  }
  if (parse_number(argv[2], 1, 65535, &port)) {
    fprintf(stderr, "udp_echo_client: bad port %s\n", argv[2]);
    return 2;
  }
  c->message = argc > 3 ? argv[3] : "hello";
  c->length = strlen(c->message);
  c->count = 3;
  if (argc > 4 && parse_number(argv[4], 0, (unsigned long) -1, &c->count)) {
    fprintf(stderr, "udp_echo_client: bad count %s\n", argv[4]);
    return 2;
  }

  memset(&addr, 0, sizeof(addr));
  if (uv_ip4_addr(argv[1], (int) port, (struct sockaddr_in*) &addr) != 0 &&
      uv_ip6_addr(argv[1], (int) port, (struct sockaddr_in6*) &addr) != 0) {
    fprintf(stderr, "udp_echo_client: %s is not an IP address\n", argv[1]);
    return 2;
  }
  format_addr((const struct sockaddr*) &addr, c->peer, sizeof(c->peer));

  r = uv_loop_init(&c->loop);
  if (r != 0) {
    fprintf(stderr, "udp_echo_client: uv_loop_init: %s\n", uv_strerror(r));
    return 1;
  }
  /* Neither init can fail on an initialized loop without a socket yet. */
  uv_udp_init(&c->loop, &c->udp);
  uv_timer_init(&c->loop, &c->timer);
  c->udp.data = c;
  c->timer.data = c;

  r = uv_udp_connect(&c->udp, (const struct sockaddr*) &addr);
  if (r == 0)
    r = uv_udp_recv_start(&c->udp, on_alloc, on_recv);
  if (r != 0) {
    fprintf(stderr, "udp_echo_client: %s: %s\n", c->peer, uv_strerror(r));
    finish(c, 1);
  } else {
    send_next(c);
  }

  /* Returns once finish() closed both handles. */
  uv_run(&c->loop, UV_RUN_DEFAULT);
  r = uv_loop_close(&c->loop);
  if (r != 0) {
    fprintf(stderr, "udp_echo_client: uv_loop_close: %s\n", uv_strerror(r));
    return 1;
  }
  if (c->exit_code == 0 && c->echoed > 0)
    printf("%lu echoes, round trip min/avg/max = %llu/%llu/%llu us\n",
           c->echoed, (unsigned long long) c->min_us,
           (unsigned long long) (c->total_us / c->echoed),
           (unsigned long long) c->max_us);
  return c->exit_code;
}
