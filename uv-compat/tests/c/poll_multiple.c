/* poll_multiple.c: several poll handles on one descriptor.
 *
 * As libuv's test-poll-multiple-handles.c: any number of uv_poll_t may be
 * initialized on one socket; only one of them may watch it at a time —
 * uv_poll_start on a second handle while another one is active is
 * UV_EEXIST (and leaves the second one stopped), and so is uv_poll_init of
 * a further handle while one is active; once the active one is stopped (or
 * closed) another can start. Also covers: the handle started second really
 * gets the descriptor's readiness (a byte written to the peer of a
 * socketpair is UV_READABLE to it, not to the stopped first handle);
 * restarting the active handle itself with other events is fine; closing a
 * stopped handle leaves the active one watching; closing the active one
 * lets a stopped one start.
 */
#include <uv.h>

#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static int close_cb_calls;
static int first_events;
static int second_events;
static int third_events;

static void close_cb(uv_handle_t* h) {
  (void) h;
  close_cb_calls++;
}

static void first_cb(uv_poll_t* h, int status, int events) {
  (void) h;
  ASSERT_OK(status);
  first_events |= events;
}

static void second_cb(uv_poll_t* h, int status, int events) {
  (void) h;
  ASSERT_OK(status);
  second_events |= events;
}

static void third_cb(uv_poll_t* h, int status, int events) {
  (void) h;
  ASSERT_OK(status);
  third_events |= events;
}

int main(void) {
  uv_loop_t loop;
  uv_poll_t first;
  uv_poll_t second;
  uv_poll_t third;
  uv_poll_t fourth;
  int sv[2];
  char byte = 'x';

  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  ASSERT_OK(uv_loop_init(&loop));

  /* Several handles on one descriptor. */
  ASSERT_OK(uv_poll_init_socket(&loop, &first, sv[0]));
  ASSERT_OK(uv_poll_init_socket(&loop, &second, sv[0]));
  ASSERT_OK(uv_poll_init(&loop, &third, sv[0]));

  /* Only one watches at a time. */
  ASSERT_OK(uv_poll_start(&first, UV_READABLE, first_cb));
  ASSERT_EQ(uv_poll_start(&second, UV_READABLE, second_cb), UV_EEXIST);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &second), 0);
  ASSERT_EQ(uv_poll_init(&loop, &fourth, sv[0]), UV_EEXIST);
  /* The active one may change what it watches. */
  ASSERT_OK(uv_poll_start(&first, UV_READABLE | UV_DISCONNECT, first_cb));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &first), 1);

  /* Stopping it lets another one start, and that one gets the events. */
  ASSERT_OK(uv_poll_stop(&first));
  ASSERT_OK(uv_poll_start(&second, UV_READABLE, second_cb));
  ASSERT_EQ(uv_poll_start(&first, UV_READABLE, first_cb), UV_EEXIST);
  ASSERT_EQ(write(sv[1], &byte, 1), 1);
  while (second_events == 0)
    ASSERT_GE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(second_events, UV_READABLE);
  ASSERT_EQ(first_events, 0);

  /* Closing a stopped handle leaves the active one watching. */
  uv_close((uv_handle_t*) &first, close_cb);
  uv_unref((uv_handle_t*) &second);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_cb_calls, 1);
  uv_ref((uv_handle_t*) &second);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &second), 1);

  /* Closing the active one lets another start. */
  uv_close((uv_handle_t*) &second, close_cb);
  ASSERT_OK(uv_poll_start(&third, UV_READABLE, third_cb));
  while (third_events == 0)
    ASSERT_GE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(third_events, UV_READABLE);
  ASSERT_EQ(close_cb_calls, 2);

  uv_close((uv_handle_t*) &third, close_cb);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_cb_calls, 3);
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_OK(close(sv[0]));
  ASSERT_OK(close(sv[1]));
  printf("poll_multiple: ok\n");
  return 0;
}
