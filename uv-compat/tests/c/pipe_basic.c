/* pipe_basic.c: pipe handles over Unix sockets, pipes and socket pairs.
 *
 * Covers:
 * - a server bound to a path in /tmp, a client connecting to it: the
 *   connection callback, uv_accept, a message each way, the client's
 *   shutdown seen as UV_EOF; the socket file exists while bound and is
 *   gone after the close;
 * - uv_pipe_getsockname / uv_pipe_getpeername: the path and its length
 *   (without the NUL, NUL-terminated), UV_ENOBUFS with the size needed
 *   when the buffer is too small, an empty name for the unnamed client
 *   side, UV_EBADF (size 0) for a handle without a descriptor;
 * - bind errors: the name in use (UV_EADDRINUSE), a directory that does
 *   not exist (UV_EACCES), a second bind of a bound handle (UV_EINVAL);
 *   uv_listen on an unbound handle is UV_EINVAL;
 * - connect errors, all in the callback and never inside the call: a name
 *   nobody has (UV_ENOENT), a socket file nobody listens on or a regular
 *   file (UV_ECONNREFUSED); a closed handle neither binds nor listens
 *   (UV_EINVAL);
 * - uv_pipe_chmod: UV_EBADF unbound, UV_EINVAL for other flags, read and
 *   write permission for everyone added to the socket file;
 * - uv_pipe_init's ipc flag in the public field; such a pipe does not
 *   listen (UV_EINVAL);
 * - uv_pipe: a read end only readable, a write end only writable (a write
 *   to the read end is UV_EPIPE, reading the write end UV_ENOTCONN), data
 *   through it, UV_EOF when the write end closes;
 * - uv_socketpair: two connected stream sockets, both ends readable and
 *   writable, a write of one empty buffer completing with 0 from the loop
 *   and adding no byte, uv_stream_set_blocking on one; socket buffer sizes of a
 *   socket (and UV_ENOTSOCK for a pipe end);
 * - uv_guess_handle: a pipe end, a Unix stream socket, a UDP socket, a
 *   regular file, a closed descriptor;
 * - uv_pipe_open of a regular file: libuv takes it, uv-compat refuses it
 *   with UV_EPERM and leaves the descriptor open;
 * - with libuv 1.46+ (uv_pipe_bind2 / uv_pipe_connect2): a Linux abstract
 *   name, returned with its leading NUL and not NUL-terminated; a name too
 *   long for sun_path is UV_EINVAL with UV_PIPE_NO_TRUNCATE, unknown flags
 *   are UV_EINVAL, and uv_pipe_connect2 returns such errors itself.
 */
#include <uv.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static uv_loop_t loop;
static uv_pipe_t server, client, conn;
static uv_connect_t connect_req;
static uv_shutdown_t shutdown_req;
static uv_write_t write_req;
static char path[64];
static int in_call;
static int connect_status;
static int connects;
static int connections;
static char got[64];
static size_t got_len;
static int eofs;

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void) handle;
  buf->base = malloc(suggested);
  buf->len = suggested;
}

static void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  (void) stream;
  if (nread == UV_EOF) {
    eofs++;
  } else {
    ASSERT_GE(nread, 0);
    ASSERT_LE(got_len + (size_t) nread, sizeof(got));
    memcpy(got + got_len, buf->base, (size_t) nread);
    got_len += (size_t) nread;
  }
  free(buf->base);
}

static void connect_cb(uv_connect_t* req, int status) {
  ASSERT_EQ(in_call, 0);
  ASSERT_EQ(req->type, UV_CONNECT);
  connect_status = status;
  connects++;
}

static void connection_cb(uv_stream_t* srv, int status) {
  ASSERT_OK(status);
  ASSERT_OK(uv_pipe_init(&loop, &conn, 0));
  ASSERT_OK(uv_accept(srv, (uv_stream_t*) &conn));
  connections++;
}

static void write_cb(uv_write_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
}

/* The zero-length write of socket_pair. */
static int zero_writes;
static void zero_write_cb(uv_write_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
  zero_writes++;
}

static void shutdown_cb(uv_shutdown_t* req, int status) {
  (void) req;
  ASSERT_OK(status);
}

static void connection_unused(uv_stream_t* srv, int status) {
  (void) srv;
  (void) status;
  ASSERT(0);
}

static int file_exists(const char* p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static void names(void) {
  char buf[128];
  size_t size;
  uv_pipe_t unbound;

  size = sizeof(buf);
  ASSERT_OK(uv_pipe_getsockname(&server, buf, &size));
  ASSERT_EQ(size, strlen(path));
  ASSERT_STR_EQ(buf, path);
  size = 3;
  ASSERT_EQ(uv_pipe_getsockname(&server, buf, &size), UV_ENOBUFS);
  ASSERT_EQ(size, strlen(path) + 1);
  size = sizeof(buf);
  ASSERT_OK(uv_pipe_getpeername(&client, buf, &size));
  ASSERT_STR_EQ(buf, path);
  /* The client's own side has no name. */
  size = sizeof(buf);
  ASSERT_OK(uv_pipe_getsockname(&client, buf, &size));
  ASSERT_EQ(size, 0);
  ASSERT_OK(uv_pipe_init(&loop, &unbound, 0));
  size = sizeof(buf);
  ASSERT_EQ(uv_pipe_getsockname(&unbound, buf, &size), UV_EBADF);
  ASSERT_EQ(size, 0);
  uv_close((uv_handle_t*) &unbound, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

static void ping_pong(void) {
  uv_buf_t hi = uv_buf_init("hi", 2);
  ASSERT_OK(uv_pipe_init(&loop, &server, 0));
  ASSERT_EQ(server.ipc, 0);
  ASSERT_OK(uv_pipe_bind(&server, path));
  ASSERT(file_exists(path));
  ASSERT_OK(uv_listen((uv_stream_t*) &server, 4, connection_cb));
  ASSERT_OK(uv_pipe_init(&loop, &client, 0));
  in_call = 1;
  uv_pipe_connect(&connect_req, &client, path, connect_cb);
  in_call = 0;
  ASSERT_EQ(connects, 0);
  while (connects == 0 || connections == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_OK(connect_status);
  names();
  ASSERT_OK(uv_write(&write_req, (uv_stream_t*) &client, &hi, 1, write_cb));
  ASSERT_OK(uv_shutdown(&shutdown_req, (uv_stream_t*) &client, shutdown_cb));
  ASSERT_OK(uv_read_start((uv_stream_t*) &conn, alloc_cb, read_cb));
  while (eofs == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(got_len, 2);
  ASSERT_MEM_EQ(got, "hi", 2);
  uv_close((uv_handle_t*) &conn, NULL);
  uv_close((uv_handle_t*) &client, NULL);
  uv_close((uv_handle_t*) &server, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT(!file_exists(path));
}

static void bind_and_connect_errors(void) {
  uv_pipe_t a, b, c, d;
  int fd;
  ASSERT_OK(uv_pipe_init(&loop, &a, 0));
  ASSERT_EQ(uv_listen((uv_stream_t*) &a, 4, connection_unused), UV_EINVAL);
  ASSERT_OK(uv_pipe_bind(&a, path));
  ASSERT_EQ(uv_pipe_bind(&a, path), UV_EINVAL);
  ASSERT_OK(uv_pipe_init(&loop, &b, 0));
  ASSERT_EQ(uv_pipe_bind(&b, path), UV_EADDRINUSE);
  ASSERT_EQ(uv_pipe_bind(&b, "/nonexistent-uvc-dir/sock"), UV_EACCES);

  /* Bound, not listening: refused. */
  connects = 0;
  uv_pipe_connect(&connect_req, &b, path, connect_cb);
  ASSERT_EQ(connects, 0);
  while (connects == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(connect_status, UV_ECONNREFUSED);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &b), 0);

  /* Nobody has the name. */
  ASSERT_OK(uv_pipe_init(&loop, &c, 0));
  connects = 0;
  in_call = 1;
  uv_pipe_connect(&connect_req, &c, "/nonexistent-uvc-dir/sock", connect_cb);
  in_call = 0;
  while (connects == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(connect_status, UV_ENOENT);

  /* chmod */
  ASSERT_OK(uv_pipe_init(&loop, &d, 0));
  ASSERT_EQ(uv_pipe_chmod(&d, UV_READABLE), UV_EBADF);
  uv_close((uv_handle_t*) &d, NULL);
  ASSERT_EQ(uv_pipe_chmod(&a, 0), UV_EINVAL);
  ASSERT_EQ(uv_pipe_chmod(&a, 4), UV_EINVAL);
  ASSERT_OK(chmod(path, 0600));
  ASSERT_OK(uv_pipe_chmod(&a, UV_READABLE));
  struct stat st;
  ASSERT_OK(stat(path, &st));
  ASSERT_EQ(st.st_mode & 0777, 0644);
  ASSERT_OK(uv_pipe_chmod(&a, UV_READABLE | UV_WRITABLE));
  ASSERT_OK(stat(path, &st));
  ASSERT_EQ(st.st_mode & 0777, 0666);

  uv_close((uv_handle_t*) &a, NULL);
  uv_close((uv_handle_t*) &b, NULL);
  uv_close((uv_handle_t*) &c, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT(!file_exists(path));

  /* A regular file is no socket: refused, in the callback (libuv's
   * pipe_connect_to_file; Linux answers ECONNREFUSED for it). */
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_OK(uv_pipe_init(&loop, &c, 0));
  connects = 0;
  in_call = 1;
  uv_pipe_connect(&connect_req, &c, path, connect_cb);
  in_call = 0;
  while (connects == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(connect_status, UV_ECONNREFUSED);
  uv_close((uv_handle_t*) &c, NULL);
  ASSERT_OK(unlink(path));

  /* A closed handle neither binds nor listens, and the bind creates no
   * file (libuv's pipe_bind_or_listen_error_after_close). */
  ASSERT_OK(uv_pipe_init(&loop, &d, 0));
  uv_close((uv_handle_t*) &d, NULL);
  ASSERT_EQ(uv_pipe_bind(&d, path), UV_EINVAL);
  ASSERT_EQ(uv_listen((uv_stream_t*) &d, 4, connection_unused), UV_EINVAL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT(!file_exists(path));

  /* A pipe for passing handles keeps its flag. */
  ASSERT_OK(uv_pipe_init(&loop, &a, 1));
  ASSERT_EQ(a.ipc, 1);
  uv_pipe_pending_instances(&a, 4);
  /* It connects; it does not listen. */
  ASSERT_OK(uv_pipe_bind(&a, path));
  ASSERT_EQ(uv_listen((uv_stream_t*) &a, 4, connection_unused), UV_EINVAL);
  uv_close((uv_handle_t*) &a, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));

  /* guess_handle */
  fd = open("/proc/self/exe", O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(uv_guess_handle(fd), UV_FILE);
  /* A regular file: libuv takes it (and fails when reading starts);
   * uv-compat refuses it, leaving the descriptor open. */
  ASSERT_OK(uv_pipe_init(&loop, &a, 0));
  if (on_uv_compat()) {
    ASSERT_EQ(uv_pipe_open(&a, fd), UV_EPERM);
    ASSERT_NE(fcntl(fd, F_GETFD), -1);
    uv_close((uv_handle_t*) &a, NULL);
    ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
    ASSERT_NE(fcntl(fd, F_GETFD), -1);
  } else {
    ASSERT_OK(uv_pipe_open(&a, fd));
    uv_close((uv_handle_t*) &a, NULL);
    ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
    fd = open("/proc/self/exe", O_RDONLY);
    ASSERT_GE(fd, 0);
  }
  close(fd);
  ASSERT_EQ(uv_guess_handle(fd), UV_UNKNOWN_HANDLE);
  ASSERT_EQ(uv_guess_handle(-1), UV_UNKNOWN_HANDLE);
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(uv_guess_handle(fd), UV_UDP);
  close(fd);
}

static void anonymous_pipe(void) {
  uv_file fds[2];
  uv_pipe_t r, w;
  uv_buf_t data = uv_buf_init("through", 7);
  ASSERT_OK(uv_pipe(fds, UV_NONBLOCK_PIPE, 0));
  ASSERT_EQ(uv_guess_handle(fds[0]), UV_NAMED_PIPE);
  ASSERT(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  ASSERT(!(fcntl(fds[1], F_GETFL) & O_NONBLOCK));
  ASSERT(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
  ASSERT_OK(uv_pipe_init(&loop, &r, 0));
  ASSERT_OK(uv_pipe_init(&loop, &w, 0));
  ASSERT_OK(uv_pipe_open(&r, fds[0]));
  ASSERT_OK(uv_pipe_open(&w, fds[1]));
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &r), 1);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &r), 0);
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &w), 0);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &w), 1);
  ASSERT_EQ(uv_write(&write_req, (uv_stream_t*) &r, &data, 1, write_cb), UV_EPIPE);
  int size = 0;
  ASSERT_EQ(uv_send_buffer_size((uv_handle_t*) &r, &size), UV_ENOTSOCK);
  ASSERT_EQ(uv_read_start((uv_stream_t*) &w, alloc_cb, read_cb), UV_ENOTCONN);
  ASSERT_OK(uv_write(&write_req, (uv_stream_t*) &w, &data, 1, write_cb));
  got_len = 0;
  eofs = 0;
  ASSERT_OK(uv_read_start((uv_stream_t*) &r, alloc_cb, read_cb));
  while (got_len < 7)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_MEM_EQ(got, "through", 7);
  uv_close((uv_handle_t*) &w, NULL);
  while (eofs == 0)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t*) &r, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}

static void socket_pair(void) {
  uv_os_sock_t fds[2];
  uv_pipe_t a, b;
  uv_buf_t data = uv_buf_init("pair", 4);
  uv_buf_t zero = uv_buf_init(NULL, 0);
  uv_write_t zero_req;
  ASSERT_OK(uv_socketpair(SOCK_STREAM, 0, fds, UV_NONBLOCK_PIPE, 0));
  ASSERT(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  ASSERT(!(fcntl(fds[1], F_GETFL) & O_NONBLOCK));
  ASSERT(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(uv_guess_handle(fds[0]), UV_NAMED_PIPE);
  ASSERT_OK(uv_pipe_init(&loop, &a, 0));
  ASSERT_OK(uv_pipe_init(&loop, &b, 0));
  ASSERT_OK(uv_pipe_open(&a, fds[0]));
  ASSERT_OK(uv_pipe_open(&b, fds[1]));
  ASSERT_EQ(uv_is_readable((uv_stream_t*) &a), 1);
  ASSERT_EQ(uv_is_writable((uv_stream_t*) &a), 1);
  int size = 0;
  ASSERT_OK(uv_recv_buffer_size((uv_handle_t*) &a, &size));
  ASSERT_GT(size, 0);
  /* A write of one empty buffer is accepted and completes with 0, from
   * the loop, carrying no byte (libuv's ipc_send_zero). */
  got_len = 0;
  zero_writes = 0;
  ASSERT_OK(uv_write(&zero_req, (uv_stream_t*) &a, &zero, 1, zero_write_cb));
  ASSERT_EQ(zero_writes, 0);
  ASSERT_OK(uv_stream_set_blocking((uv_stream_t*) &a, 1));
  ASSERT_OK(uv_write(&write_req, (uv_stream_t*) &a, &data, 1, write_cb));
  ASSERT_OK(uv_stream_set_blocking((uv_stream_t*) &a, 0));
  ASSERT_OK(uv_read_start((uv_stream_t*) &b, alloc_cb, read_cb));
  while (got_len < 4)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_EQ(zero_writes, 1);
  ASSERT_EQ(got_len, 4);
  ASSERT_MEM_EQ(got, "pair", 4);
  uv_close((uv_handle_t*) &a, NULL);
  uv_close((uv_handle_t*) &b, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}

#if UV_VERSION_HEX >= 0x012e00
static void abstract_names(void) {
  uv_pipe_t a, b;
  char name[32];
  char buf[64];
  size_t size;
  char long_name[200];
  int len = snprintf(name + 1, sizeof(name) - 1, "uvc-abstract-%d", (int) getpid()) + 1;
  name[0] = '\0';
  if (!library_at_least(0x012e00))
    return;
  ASSERT_OK(uv_pipe_init(&loop, &a, 0));
  ASSERT_EQ(uv_pipe_bind2(&a, name, len, 2), UV_EINVAL);
  ASSERT_EQ(uv_pipe_bind2(&a, name, 0, 0), UV_EINVAL);
  ASSERT_OK(uv_pipe_bind2(&a, name, len, UV_PIPE_NO_TRUNCATE));
  ASSERT_OK(uv_listen((uv_stream_t*) &a, 4, connection_cb));
  size = sizeof(buf);
  ASSERT_OK(uv_pipe_getsockname(&a, buf, &size));
  ASSERT_EQ(size, (size_t) len);
  ASSERT_MEM_EQ(buf, name, (size_t) len);

  memset(long_name, 'x', sizeof(long_name));
  long_name[0] = '/';
  ASSERT_OK(uv_pipe_init(&loop, &b, 0));
  ASSERT_EQ(uv_pipe_bind2(&b, long_name, sizeof(long_name), UV_PIPE_NO_TRUNCATE), UV_EINVAL);
  ASSERT_EQ(uv_pipe_connect2(&connect_req, &b, long_name, sizeof(long_name),
                             UV_PIPE_NO_TRUNCATE, connect_cb),
            UV_EINVAL);
  connects = 0;
  connections = 0;
  ASSERT_OK(uv_pipe_connect2(&connect_req, &b, name, len, 0, connect_cb));
  while (connects == 0 || connections == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_OK(connect_status);
  size = sizeof(buf);
  ASSERT_OK(uv_pipe_getpeername(&b, buf, &size));
  ASSERT_EQ(size, (size_t) len);
  ASSERT_MEM_EQ(buf, name, (size_t) len);
  uv_close((uv_handle_t*) &a, NULL);
  uv_close((uv_handle_t*) &b, NULL);
  uv_close((uv_handle_t*) &conn, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}
#endif

int main(void) {
  snprintf(path, sizeof(path), "/tmp/uvc-pipe-%d", (int) getpid());
  unlink(path);
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_STR_EQ(uv_handle_type_name(UV_NAMED_PIPE), "pipe");
  ASSERT_EQ(uv_handle_size(UV_NAMED_PIPE), sizeof(uv_pipe_t));
  ping_pong();
  bind_and_connect_errors();
  anonymous_pipe();
  socket_pair();
#if UV_VERSION_HEX >= 0x012e00
  abstract_names();
#endif
  ASSERT_OK(uv_loop_close(&loop));
  return 0;
}
