/* signal.c: uv_signal_t and uv_kill, libuv's test-signal.c,
 * test-signal-multiple-loops.c and test-signal-pending-on-close.c
 * behaviours in our words.
 *
 * Covers: a timer raising a signal N times gives N callbacks, each with
 * the signal's number, the handle active and its signum field set; normal
 * and one-shot handles mixed on one signal (one-shot ones called once,
 * active inside the callback, stopped after it with signum 0); starting
 * again with the same number swaps the callback (a normal handle stays
 * normal); a one-shot start made inside a callback waits for the next catch
 * (uv-compat only: libuv stops it right after that callback); numbers no handle may
 * watch are UV_EINVAL; every loop watching a signal gets it, on its own
 * thread; a handle closed before its caught signal was dispatched is not
 * called; liveness with a started and an unreferenced handle; the handle
 * type, its name and uv_fileno; uv_kill's codes.
 */
#include <uv.h>

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "test.h"

#define RAISES 5

static uv_loop_t loop;
static int calls;
static int last_signum;

/* ---- N raises, N callbacks ---- */

static uv_signal_t counted;
static uv_timer_t raiser;
static int raised;

static void counting_cb(uv_signal_t* h, int signum) {
  ASSERT_PTR_EQ(h, &counted);
  ASSERT_EQ(signum, SIGUSR1);
  ASSERT_EQ(h->signum, SIGUSR1);
  ASSERT_NE(uv_is_active((uv_handle_t*) h), 0);
  calls++;
  if (calls == RAISES) {
    ASSERT_OK(uv_signal_stop(h));
    ASSERT_EQ(h->signum, 0);
    uv_close((uv_handle_t*) h, NULL);
  }
}

static void raise_cb(uv_timer_t* t) {
  ASSERT_OK(raise(SIGUSR1));
  if (++raised == RAISES)
    uv_close((uv_handle_t*) t, NULL);
}

static void test_counted(void) {
  calls = 0;
  ASSERT_OK(uv_signal_init(&loop, &counted));
  ASSERT_EQ(counted.type, UV_SIGNAL);
  ASSERT_STR_EQ(uv_handle_type_name(counted.type), "signal");
  ASSERT_EQ(counted.signum, 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &counted), 0);
  {
    uv_os_fd_t fd;
    ASSERT_EQ(uv_fileno((uv_handle_t*) &counted, &fd), UV_EINVAL);
  }
  ASSERT_OK(uv_signal_start(&counted, counting_cb, SIGUSR1));
  ASSERT_EQ(counted.signum, SIGUSR1);
  ASSERT(counted.signal_cb == counting_cb);
  ASSERT_NE(uv_is_active((uv_handle_t*) &counted), 0);
  ASSERT_OK(uv_timer_init(&loop, &raiser));
  ASSERT_OK(uv_timer_start(&raiser, raise_cb, 1, 1));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(calls, RAISES);
}

/* ---- normal and one-shot handles on one signal ---- */

static uv_signal_t mixed[4]; /* 0, 1 normal; 2, 3 one-shot */
static int mixed_calls[4];

static void mixed_cb(uv_signal_t* h, int signum) {
  int i = (int) (h - mixed);
  ASSERT_EQ(signum, SIGUSR2);
  ASSERT_NE(uv_is_active((uv_handle_t*) h), 0);
  mixed_calls[i]++;
}

static void test_mixed(void) {
  int i;
  for (i = 0; i < 4; i++) {
    ASSERT_OK(uv_signal_init(&loop, &mixed[i]));
    if (i < 2)
      ASSERT_OK(uv_signal_start(&mixed[i], mixed_cb, SIGUSR2));
    else
      ASSERT_OK(uv_signal_start_oneshot(&mixed[i], mixed_cb, SIGUSR2));
  }
  ASSERT_OK(raise(SIGUSR2));
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_OK(raise(SIGUSR2));
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(mixed_calls[0], 2);
  ASSERT_EQ(mixed_calls[1], 2);
  ASSERT_EQ(mixed_calls[2], 1);
  ASSERT_EQ(mixed_calls[3], 1);
  for (i = 2; i < 4; i++) {
    ASSERT_EQ(uv_is_active((uv_handle_t*) &mixed[i]), 0);
    ASSERT_EQ(mixed[i].signum, 0);
  }
  for (i = 0; i < 4; i++)
    uv_close((uv_handle_t*) &mixed[i], NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}

/* ---- restart, invalid numbers, liveness ---- */

static void first_cb(uv_signal_t* h, int signum) {
  (void) h;
  (void) signum;
  ASSERT(0 && "replaced callback called");
}

static void second_cb(uv_signal_t* h, int signum) {
  (void) h;
  calls++;
  last_signum = signum;
}

static void test_restart_and_invalid(void) {
  uv_signal_t s;
  static const int bad[] = {0, -1, 65, SIGKILL, SIGSTOP};
  unsigned i;

  ASSERT_OK(uv_signal_init(&loop, &s));
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ASSERT_EQ(uv_signal_start(&s, second_cb, bad[i]), UV_EINVAL);
    ASSERT_EQ(s.signum, 0);
    ASSERT_EQ(uv_is_active((uv_handle_t*) &s), 0);
  }
  ASSERT_EQ(uv_loop_alive(&loop), 0);

  ASSERT_OK(uv_signal_start(&s, first_cb, SIGUSR1));
  ASSERT_OK(uv_signal_start(&s, second_cb, SIGUSR1));
  ASSERT(s.signal_cb == second_cb);
  ASSERT_NE(uv_loop_alive(&loop), 0);
  calls = 0;
  ASSERT_OK(raise(SIGUSR1));
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(calls, 1);
  ASSERT_EQ(last_signum, SIGUSR1);

  uv_unref((uv_handle_t*) &s);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  uv_ref((uv_handle_t*) &s);
  ASSERT_OK(uv_signal_stop(&s));
  ASSERT_OK(uv_signal_stop(&s));
  ASSERT_EQ(s.signum, 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  uv_close((uv_handle_t*) &s, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}

/* ---- one-shot starts: by number, and from inside a callback ---- */

static uv_signal_t rearmed;
static int rearmed_calls;

static void rearm_cb(uv_signal_t* h, int signum) {
  (void) signum;
  rearmed_calls++;
  if (rearmed_calls == 1) {
    /* A one-shot start made inside the callback waits for the next catch
     * of the new number. */
    ASSERT_OK(uv_signal_start_oneshot(h, rearm_cb, SIGUSR1));
  }
}

static void test_oneshot_starts(void) {
  uv_signal_t s;
  calls = 0;
  /* The same number again only swaps the callback: a handle started
   * normally stays normal. */
  ASSERT_OK(uv_signal_init(&loop, &s));
  ASSERT_OK(uv_signal_start(&s, second_cb, SIGUSR2));
  ASSERT_OK(uv_signal_start_oneshot(&s, second_cb, SIGUSR2));
  ASSERT_OK(raise(SIGUSR2));
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_OK(raise(SIGUSR2));
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(calls, 2);
  ASSERT_NE(uv_is_active((uv_handle_t*) &s), 0);
  ASSERT_EQ(s.signum, SIGUSR2);

#ifdef UV_RUV_COMPAT
  ASSERT_OK(uv_signal_init(&loop, &rearmed));
  ASSERT_OK(uv_signal_start(&rearmed, rearm_cb, SIGUSR2));
  ASSERT_OK(raise(SIGUSR2));
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(rearmed_calls, 1);
  ASSERT_NE(uv_is_active((uv_handle_t*) &rearmed), 0);
  ASSERT_EQ(rearmed.signum, SIGUSR1);
  ASSERT_OK(raise(SIGUSR1));
  ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  ASSERT_EQ(rearmed_calls, 2);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &rearmed), 0);
  ASSERT_EQ(rearmed.signum, 0);
  uv_close((uv_handle_t*) &rearmed, NULL);
#else
  (void) rearm_cb;
  (void) &rearmed;
#endif
  uv_close((uv_handle_t*) &s, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
}

/* ---- closed before its catch was dispatched ---- */

static int pending_closes;

static void never_cb(uv_signal_t* h, int signum) {
  (void) h;
  (void) signum;
  ASSERT(0 && "a closed handle was called");
}

static void pending_close_cb(uv_handle_t* h) {
  (void) h;
  pending_closes++;
}

static void test_pending_on_close(void) {
  uv_signal_t s;
  ASSERT_OK(uv_signal_init(&loop, &s));
  ASSERT_OK(uv_signal_start(&s, never_cb, SIGUSR2));
  /* raise() runs the process's handler on this thread before it returns:
   * the signal is caught, not yet dispatched. */
  ASSERT_OK(raise(SIGUSR2));
  uv_close((uv_handle_t*) &s, pending_close_cb);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(pending_closes, 1);
}

/* ---- several loops on several threads ---- */

#define LOOPS 3

static uv_sem_t ready;
static uv_sem_t done;

static void thread_cb(uv_signal_t* h, int signum) {
  ASSERT_EQ(signum, SIGUSR1);
  *(int*) h->data += 1;
  uv_close((uv_handle_t*) h, NULL);
}

static void thread_main(void* arg) {
  uv_loop_t l;
  uv_signal_t s;
  ASSERT_OK(uv_loop_init(&l));
  ASSERT_OK(uv_signal_init(&l, &s));
  s.data = arg;
  ASSERT_OK(uv_signal_start(&s, thread_cb, SIGUSR1));
  uv_sem_post(&ready);
  ASSERT_OK(uv_run(&l, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&l));
  uv_sem_post(&done);
}

static void test_multiple_loops(void) {
  uv_thread_t threads[LOOPS];
  int got[LOOPS] = {0};
  uv_signal_t keep;
  int i;

  /* This thread keeps a watcher too, so the signal is never left to its
   * default action while the threads close theirs. */
  ASSERT_OK(uv_signal_init(&loop, &keep));
  ASSERT_OK(uv_signal_start(&keep, second_cb, SIGUSR1));
  ASSERT_OK(uv_sem_init(&ready, 0));
  ASSERT_OK(uv_sem_init(&done, 0));
  for (i = 0; i < LOOPS; i++)
    ASSERT_OK(uv_thread_create(&threads[i], thread_main, &got[i]));
  for (i = 0; i < LOOPS; i++)
    uv_sem_wait(&ready);
  ASSERT_OK(uv_kill(getpid(), SIGUSR1));
  for (i = 0; i < LOOPS; i++)
    uv_sem_wait(&done);
  for (i = 0; i < LOOPS; i++) {
    ASSERT_OK(uv_thread_join(&threads[i]));
    ASSERT_EQ(got[i], 1);
  }
  uv_close((uv_handle_t*) &keep, NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  uv_sem_destroy(&ready);
  uv_sem_destroy(&done);
}

static void test_kill(void) {
  ASSERT_OK(uv_kill(getpid(), 0));
  ASSERT_EQ(uv_kill(INT_MAX, 0), UV_ESRCH);
  ASSERT_EQ(uv_kill(getpid(), 1000), UV_EINVAL);
}

int main(void) {
  ASSERT_OK(uv_loop_init(&loop));
  test_counted();
  test_mixed();
  test_restart_and_invalid();
  test_oneshot_starts();
  test_pending_on_close();
  test_multiple_loops();
  test_kill();
  ASSERT_OK(uv_loop_close(&loop));
  printf("signal: ok\n");
  return 0;
}
