/* udp_echo_server.c: a UDP echo server written against the plain libuv API.
 *
 *   udp_echo_server [--count N] [ADDR] [PORT]
 *
 * Binds ADDR:PORT (defaults 127.0.0.1 and 0, any free port; ADDR may be an
 * IPv4 or IPv6 address), prints "listening on ADDR:PORT" with the real port
 * as its first line, and sends every datagram back to where it came from.
 * With --count N it stops after N datagrams: it stops receiving, waits for
 * the last echoes to go out, closes its handle and the loop, and exits 0.
 * Without --count it runs until it is killed.
 *
 * Every echo copies the datagram into a heap block that also holds the send
 * request; the send callback frees it. The receive buffer is one static
 * block: each datagram is copied out of it before the next one is read.
 *
 * The same source builds against ruv's uv-compat and against libuv 1.44+:
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o udp_echo_server \
 *     udp_echo_server.c \
 *     $(PKG_CONFIG_PATH=$PWD/target/release/pkgconfig pkg-config --cflags --libs libuv)
 *   cc -o udp_echo_server udp_echo_server.c -luv     # the system libuv
 */
#include <uv.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for "[" + an IPv6 address + "]:" + a port + NUL. */
#define ADDR_TEXT_MAX 64

typedef struct {
  uv_loop_t loop;
  uv_udp_t udp;
  unsigned long limit;     /* --count N; 0 means no limit */
  unsigned long received;  /* datagrams echoed so far */
  unsigned long in_flight; /* echoes whose send callback has not run */
  int stopping;            /* the limit was reached */
  char recv_buf[65536];    /* libuv's suggested size: any UDP datagram fits */
} server_t;

/* One echo: the request, its buffer, and the copy of the datagram. */
typedef struct {
  uv_udp_send_t req; /* first, so the request's address is the block's */
  uv_buf_t buf;
  char data[];
} echo_t;

static server_t server;

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

/* Closes the handle once the limit is reached and no echo is in flight. */
static void maybe_close(server_t* s) {
  if (s->stopping && s->in_flight == 0 &&
      !uv_is_closing((const uv_handle_t*) &s->udp))
    uv_close((uv_handle_t*) &s->udp, NULL);
}

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  server_t* s = handle->data;

  (void) suggested;
  *buf = uv_buf_init(s->recv_buf, sizeof(s->recv_buf));
}

static void on_sent(uv_udp_send_t* req, int status) {
  server_t* s = req->handle->data;

  /* UV_ECANCELED only if the handle was closed first; we never do that. */
  if (status != 0)
    fprintf(stderr, "udp_echo_server: send failed: %s\n", uv_strerror(status));
  free((echo_t*) req);
  s->in_flight--;
  maybe_close(s);
}

/* Sends a copy of `len` bytes at `data` back to `peer`. */
static void echo(server_t* s, const char* data, size_t len,
                 const struct sockaddr* peer) {
  echo_t* e;
  int r;

  e = malloc(sizeof(*e) + len);
  if (e == NULL) {
    fprintf(stderr, "udp_echo_server: out of memory, datagram dropped\n");
    return;
  }
  if (len > 0)
    memcpy(e->data, data, len);
  e->buf = uv_buf_init(e->data, (unsigned int) len);
  r = uv_udp_send(&e->req, &s->udp, &e->buf, 1, peer, on_sent);
  if (r != 0) {
    fprintf(stderr, "udp_echo_server: uv_udp_send: %s\n", uv_strerror(r));
    free(e);
    return;
  }
  s->in_flight++;
}

static void on_recv(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                    const struct sockaddr* addr, unsigned flags) {
  server_t* s = handle->data;
  char peer[ADDR_TEXT_MAX];

  if (nread < 0) {
    /* Errors do not close the handle: report and keep serving. */
    fprintf(stderr, "udp_echo_server: receive error: %s\n",
            uv_strerror((int) nread));
    return;
  }
  if (addr == NULL)
    return; /* nothing more to read for now */
  if (s->stopping)
    return;

  format_addr(addr, peer, sizeof(peer));
  echo(s, buf->base, (size_t) nread, addr);
  s->received++;
  printf("echoed %ld bytes to %s%s\n", (long) nread, peer,
         (flags & UV_UDP_PARTIAL) ? " (truncated)" : "");
  fflush(stdout);

  if (s->limit != 0 && s->received >= s->limit) {
    s->stopping = 1;
    uv_udp_recv_stop(handle);
    maybe_close(s);
  }
}

static void usage(FILE* out) {
  fprintf(out,
          "usage: udp_echo_server [--count N] [ADDR] [PORT]\n"
          "  ADDR   IPv4 or IPv6 address to bind (default 127.0.0.1)\n"
          "  PORT   port to bind (default 0: any free port)\n"
          "  --count N   exit after echoing N datagrams\n");
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

/* Closes the handle (if any), lets its close callback run, closes the loop. */
static int finish(server_t* s, int have_handle, int status) {
  int r;

  if (have_handle && !uv_is_closing((const uv_handle_t*) &s->udp))
    uv_close((uv_handle_t*) &s->udp, NULL);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  r = uv_loop_close(&s->loop);
  if (r != 0) {
    fprintf(stderr, "udp_echo_server: uv_loop_close: %s\n", uv_strerror(r));
    return 1;
  }
  return status;
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  unsigned long port = 0;
  const char* positional[2];
  int npositional = 0;
  struct sockaddr_storage addr;
  char bound[ADDR_TEXT_MAX];
  int namelen;
  int i;
  int r;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--count") == 0) {
      if (i + 1 == argc ||
          parse_number(argv[i + 1], 1, (unsigned long) -1, &server.limit)) {
        fprintf(stderr, "udp_echo_server: --count needs a number >= 1\n");
        return 2;
      }
      i++;
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (npositional < 2) {
      positional[npositional++] = argv[i];
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (npositional > 0)
    host = positional[0];
  if (npositional > 1 && parse_number(positional[1], 0, 65535, &port)) {
    fprintf(stderr, "udp_echo_server: bad port %s\n", positional[1]);
    return 2;
  }

  memset(&addr, 0, sizeof(addr));
  if (uv_ip4_addr(host, (int) port, (struct sockaddr_in*) &addr) != 0 &&
      uv_ip6_addr(host, (int) port, (struct sockaddr_in6*) &addr) != 0) {
    fprintf(stderr, "udp_echo_server: %s is not an IP address\n", host);
    return 2;
  }

  r = uv_loop_init(&server.loop);
  if (r != 0) {
    fprintf(stderr, "udp_echo_server: uv_loop_init: %s\n", uv_strerror(r));
    return 1;
  }
  r = uv_udp_init(&server.loop, &server.udp);
  if (r != 0) {
    fprintf(stderr, "udp_echo_server: uv_udp_init: %s\n", uv_strerror(r));
    return finish(&server, 0, 1);
  }
  server.udp.data = &server;

  r = uv_udp_bind(&server.udp, (const struct sockaddr*) &addr, 0);
  if (r != 0) {
    fprintf(stderr, "udp_echo_server: bind %s port %lu: %s\n", host, port,
            uv_strerror(r));
    return finish(&server, 1, 1);
  }

  namelen = (int) sizeof(addr);
  r = uv_udp_getsockname(&server.udp, (struct sockaddr*) &addr, &namelen);
  if (r != 0) {
    fprintf(stderr, "udp_echo_server: uv_udp_getsockname: %s\n",
            uv_strerror(r));
    return finish(&server, 1, 1);
  }
  format_addr((const struct sockaddr*) &addr, bound, sizeof(bound));
  printf("listening on %s\n", bound);
  fflush(stdout);

  r = uv_udp_recv_start(&server.udp, on_alloc, on_recv);
  if (r != 0) {
    fprintf(stderr, "udp_echo_server: uv_udp_recv_start: %s\n",
            uv_strerror(r));
    return finish(&server, 1, 1);
  }

  /* Returns when the handle is closed: after --count N datagrams. */
  uv_run(&server.loop, UV_RUN_DEFAULT);
  r = finish(&server, 0, 0);
  if (r == 0)
    printf("served %lu datagrams\n", server.received);
  return r;
}
