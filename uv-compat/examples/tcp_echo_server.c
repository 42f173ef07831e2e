/* tcp_echo_server.c: a TCP echo server written against the plain libuv API.
 *
 *   tcp_echo_server [--count N] [ADDR] [PORT]
 *
 * Listens on ADDR:PORT (defaults 127.0.0.1 and 0, any free port; ADDR may
 * be an IPv4 or IPv6 address), prints "listening on ADDR:PORT" with the
 * real port as its first line, and writes every byte a client sends back
 * to it. A client that shuts down its side gets the rest of its echoes and
 * then the end of the stream; its connection is closed once both sides are
 * done. With --count N the server stops accepting after N connections and
 * exits 0 once they are all closed; without it, it runs until killed.
 *
 * Try it with netcat:
 *   ./tcp_echo_server 127.0.0.1 7000 &
 *   echo hello | nc -N 127.0.0.1 7000      # prints "hello"
 *
 * Each echo writes the buffer the read filled and frees it in the write
 * callback: no copy. The same source builds against ruv's uv-compat and
 * against libuv 1.44+:
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o tcp_echo_server \
 *     tcp_echo_server.c \
 *     $(PKG_CONFIG_PATH=$PWD/target/release/pkgconfig pkg-config --cflags --libs libuv)
 *   cc -o tcp_echo_server tcp_echo_server.c -luv     # the system libuv
 */
#include <uv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for "[" + an IPv6 address + "]:" + a port + NUL. */
#define ADDR_TEXT_MAX 64

typedef struct {
  uv_tcp_t tcp; /* first, so the handle's address is the connection's */
  uv_shutdown_t shutdown;
} conn_t;

/* One echo: the request and the buffer it writes. */
typedef struct {
  uv_write_t req; /* first, so the request's address is the block's */
  uv_buf_t buf;
} echo_t;

static uv_loop_t loop;
static uv_tcp_t server;
static unsigned long limit;    /* --count N; 0 means no limit */
static unsigned long accepted; /* connections so far */

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void) handle;
  buf->base = malloc(suggested);
  buf->len = buf->base == NULL ? 0 : suggested; /* 0: libuv says UV_ENOBUFS */
}

static void conn_closed(uv_handle_t* handle) {
  free(handle); /* the conn_t */
}

static void echo_written(uv_write_t* req, int status) {
  echo_t* echo = (echo_t*) req;
  if (status < 0 && status != UV_ECANCELED)
    fprintf(stderr, "write: %s\n", uv_strerror(status));
  free(echo->buf.base);
  free(echo);
}

static void shut_down(uv_shutdown_t* req, int status) {
  (void) status; /* done, or cancelled by a close: close either way */
  if (!uv_is_closing((uv_handle_t*) req->handle))
    uv_close((uv_handle_t*) req->handle, conn_closed);
}

static void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  conn_t* conn = (conn_t*) stream;
  if (nread > 0) {
    echo_t* echo = malloc(sizeof(*echo));
    if (echo != NULL) {
      echo->buf = uv_buf_init(buf->base, (unsigned int) nread);
      if (uv_write(&echo->req, stream, &echo->buf, 1, echo_written) == 0)
        return; /* the write callback frees the buffer */
      free(echo);
    }
    free(buf->base);
    uv_close((uv_handle_t*) stream, conn_closed);
    return;
  }
  free(buf->base);
  if (nread == 0)
    return; /* nothing to read after all */
  if (nread == UV_EOF) {
    /* The client is done sending: finish our side after the echoes. */
    if (uv_shutdown(&conn->shutdown, stream, shut_down) == 0)
      return;
  } else if (nread != UV_ECONNRESET) {
    fprintf(stderr, "read: %s\n", uv_strerror((int) nread));
  }
  uv_close((uv_handle_t*) stream, conn_closed);
}

static void on_connection(uv_stream_t* srv, int status) {
  conn_t* conn;
  if (status < 0) {
    fprintf(stderr, "connection: %s\n", uv_strerror(status));
    return;
  }
  conn = malloc(sizeof(*conn));
  if (conn == NULL || uv_tcp_init(&loop, &conn->tcp) != 0) {
    free(conn);
    return;
  }
  if (uv_accept(srv, (uv_stream_t*) &conn->tcp) != 0 ||
      uv_read_start((uv_stream_t*) &conn->tcp, alloc_cb, read_cb) != 0) {
    uv_close((uv_handle_t*) &conn->tcp, conn_closed);
    return;
  }
  if (limit != 0 && ++accepted == limit)
    uv_close((uv_handle_t*) srv, NULL); /* the loop ends with the last one */
}

/* "a.b.c.d:port" or "[v6]:port". */
static void format_addr(const struct sockaddr_storage* ss, char* out, size_t size) {
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in* sin = (const struct sockaddr_in*) ss;
    uv_ip4_name(sin, ip, sizeof(ip));
    port = ntohs(sin->sin_port);
    snprintf(out, size, "%s:%u", ip, port);
  } else {
    const struct sockaddr_in6* sin6 = (const struct sockaddr_in6*) ss;
    uv_ip6_name(sin6, ip, sizeof(ip));
    port = ntohs(sin6->sin6_port);
    snprintf(out, size, "[%s]:%u", ip, port);
  }
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 0;
  int arg = 1;
  struct sockaddr_storage addr;
  int len = sizeof(addr);
  char text[ADDR_TEXT_MAX];
  int r;

  if (arg + 1 < argc && strcmp(argv[arg], "--count") == 0) {
    limit = strtoul(argv[arg + 1], NULL, 10);
    arg += 2;
  }
  if (arg < argc)
    host = argv[arg++];
  if (arg < argc)
    port = atoi(argv[arg++]);
  if (uv_ip4_addr(host, port, (struct sockaddr_in*) &addr) != 0 &&
      uv_ip6_addr(host, port, (struct sockaddr_in6*) &addr) != 0) {
    fprintf(stderr, "not an IP address: %s\n", host);
    return 2;
  }
  if ((r = uv_loop_init(&loop)) != 0 || (r = uv_tcp_init(&loop, &server)) != 0 ||
      (r = uv_tcp_bind(&server, (const struct sockaddr*) &addr, 0)) != 0 ||
      (r = uv_listen((uv_stream_t*) &server, 128, on_connection)) != 0 ||
      (r = uv_tcp_getsockname(&server, (struct sockaddr*) &addr, &len)) != 0) {
    fprintf(stderr, "listen on %s:%d: %s\n", host, port, uv_strerror(r));
    return 1;
  }
  format_addr(&addr, text, sizeof(text));
  printf("listening on %s\n", text);
  fflush(stdout);
  uv_run(&loop, UV_RUN_DEFAULT);
  printf("served %lu connections\n", accepted);
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
