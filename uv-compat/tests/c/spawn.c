/* spawn.c: uv_spawn, uv_process_kill, uv_process_get_pid and uv_kill, as
 * libuv's test-spawn.c, test-kill.c and test-kill-invalid-signum.c pin them.
 *
 * Covers: exec failures returned by uv_spawn itself (UV_ENOENT for a
 * missing program or working directory, UV_EACCES for a file that is not
 * executable) with the handle initialized, inactive and closed with its
 * close callback, and no child left to wait for; UV_EINVAL for a stdio
 * entry of UV_INHERIT_FD -1; the exit status and term signal given to
 * exit_cb exactly once (exit 42; SIGTERM by uv_process_kill; SIGKILL by
 * uv_kill); uv_process_get_pid; the handle active until the exit; signal 0
 * as an is-it-running check; UV_EINVAL for invalid signal numbers;
 * UV_ESRCH after the child was reaped; a NULL exit_cb; an unreferenced
 * handle not keeping the loop alive; the program looked up on the child's
 * PATH; the program's own SIGCHLD handle hearing of the exit too; args, env (only
 * the given entries) and cwd (a relative program path found from it);
 * UV_PROCESS_DETACHED (a session leader) and
 * its absence; the Windows flags accepted; stdio: UV_IGNORE (and missing
 * entries) as /dev/null (read-only as standard input), UV_INHERIT_FD onto fd 1 and fd 3; setuid/setgid
 * (as root: the child runs as nobody; otherwise UV_EPERM); a handle closed
 * before its child exits (no exit_cb; on uv-compat the child is still
 * reaped, libuv leaves a zombie, libuv#1911).
 */
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static int exit_calls;
static int64_t exit_status_seen;
static int term_signal_seen;
static int close_calls;
static int kill_after_exit;

static void on_close(uv_handle_t* handle) {
  (void) handle;
  close_calls++;
}

static void on_exit_close(uv_process_t* process, int64_t status, int signal) {
  exit_calls++;
  exit_status_seen = status;
  term_signal_seen = signal;
  ASSERT_EQ(uv_is_active((uv_handle_t*) process), 0);
  kill_after_exit = uv_process_kill(process, SIGTERM);
  uv_close((uv_handle_t*) process, on_close);
}

static void reset(void) {
  exit_calls = 0;
  exit_status_seen = -1;
  term_signal_seen = -1;
  close_calls = 0;
  kill_after_exit = 1;
}

static void options_for(uv_process_options_t* o, char** args) {
  memset(o, 0, sizeof *o);
  o->file = args[0];
  o->args = args;
  o->exit_cb = on_exit_close;
}

/* Runs `sh -c script` to its end with `o`'s other settings; its status. */
static int64_t run_script(uv_loop_t* loop, uv_process_options_t* o, const char* script) {
  char* args[] = {"sh", "-c", (char*) script, NULL};
  uv_process_t p;
  o->file = "sh";
  o->args = args;
  o->exit_cb = on_exit_close;
  reset();
  ASSERT_OK(uv_spawn(loop, &p, o));
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(close_calls, 1);
  ASSERT_EQ(term_signal_seen, 0);
  return exit_status_seen;
}

/* A spawn that must fail with `expected`: the handle is initialized all
 * the same, inactive, and closes with its callback. */
static void spawn_fails(uv_loop_t* loop, uv_process_options_t* o, int expected) {
  uv_process_t p;
  int status;
  reset();
  ASSERT_EQ(uv_spawn(loop, &p, o), expected);
  ASSERT_EQ(uv_handle_get_type((uv_handle_t*) &p), UV_PROCESS);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &p), 0);
  ASSERT_EQ(uv_is_closing((uv_handle_t*) &p), 0);
  if (on_uv_compat())
    ASSERT_EQ(uv_process_get_pid(&p), 0);
  uv_close((uv_handle_t*) &p, on_close);
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_calls, 1);
  ASSERT_EQ(exit_calls, 0);
  /* No child is left behind to wait for. */
  ASSERT_EQ(waitpid(-1, &status, WNOHANG), -1);
  ASSERT_EQ(errno, ECHILD);
}

static void test_failures(uv_loop_t* loop) {
  char* missing[] = {"/nonexistent/uvc-program", NULL};
  char* not_exec[] = {"/etc/passwd", NULL};
  char* no_such_name[] = {"uvc-no-such-program-anywhere", NULL};
  char* true_args[] = {"true", NULL};
  uv_stdio_container_t bad_fd[1];
  uv_process_options_t o;

  options_for(&o, missing);
  spawn_fails(loop, &o, UV_ENOENT);
  options_for(&o, no_such_name);
  spawn_fails(loop, &o, UV_ENOENT);
  options_for(&o, not_exec);
  spawn_fails(loop, &o, UV_EACCES);
  options_for(&o, true_args);
  o.cwd = "/nonexistent/uvc-dir";
  spawn_fails(loop, &o, UV_ENOENT);

  /* The program is looked up on the child's PATH when env sets one. */
  {
    char* path_env[] = {"PATH=/nonexistent/uvc-bin", NULL};
    options_for(&o, true_args);
    o.env = path_env;
    spawn_fails(loop, &o, UV_ENOENT);
  }

  options_for(&o, true_args);
  bad_fd[0].flags = UV_INHERIT_FD;
  bad_fd[0].data.fd = -1;
  o.stdio = bad_fd;
  o.stdio_count = 1;
  spawn_fails(loop, &o, UV_EINVAL);
}

static void test_exit_status(uv_loop_t* loop) {
  char* args[] = {"sh", "-c", "exit 42", NULL};
  uv_process_options_t o;
  uv_process_t p;

  options_for(&o, args);
  reset();
  ASSERT_OK(uv_spawn(loop, &p, &o));
  ASSERT_GT(p.pid, 0);
  ASSERT_EQ(uv_process_get_pid(&p), p.pid);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &p), 1);
  ASSERT_EQ(uv_handle_get_type((uv_handle_t*) &p), UV_PROCESS);
  {
    uv_os_fd_t fd;
    ASSERT_EQ(uv_fileno((uv_handle_t*) &p, &fd), UV_EINVAL);
  }
  ASSERT_EQ(uv_loop_alive(loop), 1);
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(exit_status_seen, 42);
  ASSERT_EQ(term_signal_seen, 0);
  ASSERT_EQ(close_calls, 1);
  /* Reaped: signalling it finds no process. */
  ASSERT_EQ(kill_after_exit, UV_ESRCH);
}

static void test_signals(uv_loop_t* loop) {
  char* args[] = {"sleep", "1000", NULL};
  uv_process_options_t o;
  uv_process_t p;

  /* uv_process_kill with SIGTERM. */
  options_for(&o, args);
  reset();
  ASSERT_OK(uv_spawn(loop, &p, &o));
  ASSERT_OK(uv_process_kill(&p, 0));
  ASSERT_EQ(uv_process_kill(&p, -1), UV_EINVAL);
  ASSERT_EQ(uv_process_kill(&p, 4096), UV_EINVAL);
  ASSERT_OK(uv_process_kill(&p, SIGTERM));
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(exit_status_seen, 0);
  ASSERT_EQ(term_signal_seen, SIGTERM);
  ASSERT_EQ(close_calls, 1);

  /* uv_kill by pid with SIGKILL. */
  reset();
  ASSERT_OK(uv_spawn(loop, &p, &o));
  ASSERT_OK(uv_kill(p.pid, 0));
  ASSERT_EQ(uv_kill(p.pid, -1), UV_EINVAL);
  ASSERT_EQ(uv_kill(p.pid, 4096), UV_EINVAL);
  ASSERT_OK(uv_kill(uv_process_get_pid(&p), SIGKILL));
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(exit_status_seen, 0);
  ASSERT_EQ(term_signal_seen, SIGKILL);
}

/* An unreferenced process handle does not keep the loop alive (libuv's
 * test-ref.c process_ref). */
static void test_unref(uv_loop_t* loop) {
  char* args[] = {"sleep", "1000", NULL};
  uv_process_options_t o;
  uv_process_t p;

  options_for(&o, args);
  reset();
  ASSERT_OK(uv_spawn(loop, &p, &o));
  uv_unref((uv_handle_t*) &p);
  ASSERT_EQ(uv_loop_alive(loop), 0);
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 0);
  ASSERT_EQ(uv_is_active((uv_handle_t*) &p), 1);
  uv_ref((uv_handle_t*) &p);
  ASSERT_OK(uv_process_kill(&p, SIGKILL));
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(term_signal_seen, SIGKILL);
  ASSERT_EQ(close_calls, 1);
}

/* The program's own SIGCHLD handle and the library's reaping share the
 * signal: both hear of the exit. */
static uv_signal_t chld;
static int chld_seen;
static int chld_closed;

static void close_chld_once(void) {
  if (!chld_closed) {
    chld_closed = 1;
    uv_close((uv_handle_t*) &chld, on_close);
  }
}

static void on_sigchld(uv_signal_t* handle, int signum) {
  (void) handle;
  ASSERT_EQ(signum, SIGCHLD);
  chld_seen++;
  if (exit_calls > 0)
    close_chld_once();
}

static void on_exit_then_chld(uv_process_t* process, int64_t status, int signal) {
  exit_calls++;
  exit_status_seen = status;
  term_signal_seen = signal;
  uv_close((uv_handle_t*) process, on_close);
  if (chld_seen > 0)
    close_chld_once();
}

static void test_sigchld_handle(uv_loop_t* loop) {
  char* args[] = {"sh", "-c", "exit 9", NULL};
  uv_process_options_t o;
  uv_process_t p;

  reset();
  ASSERT_OK(uv_signal_init(loop, &chld));
  ASSERT_OK(uv_signal_start(&chld, on_sigchld, SIGCHLD));
  options_for(&o, args);
  o.exit_cb = on_exit_then_chld;
  ASSERT_OK(uv_spawn(loop, &p, &o));
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_calls, 1);
  ASSERT_EQ(exit_status_seen, 9);
  ASSERT_GE(chld_seen, 1);
  ASSERT_EQ(close_calls, 2);
}

static void test_null_exit_cb(uv_loop_t* loop) {
  char* args[] = {"true", NULL};
  uv_process_options_t o;
  uv_process_t p;

  options_for(&o, args);
  o.exit_cb = NULL;
  reset();
  ASSERT_OK(uv_spawn(loop, &p, &o));
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(uv_is_active((uv_handle_t*) &p), 0);
  uv_close((uv_handle_t*) &p, on_close);
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_calls, 1);
  ASSERT_EQ(exit_calls, 0);
}

static void test_args_env_cwd(uv_loop_t* loop) {
  char* env[] = {"UVC_A=one two", "PATH=/usr/bin:/bin", NULL};
  char* empty_env[] = {NULL};
  char* args[] = {"sh", "-c", "test \"$0\" = name0 && test \"$1\" = 'a b' && test $# = 1",
                  "name0", "a b", NULL};
  uv_process_options_t o;
  uv_process_t p;

  options_for(&o, args);
  reset();
  ASSERT_OK(uv_spawn(loop, &p, &o));
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(exit_status_seen, 0);

  memset(&o, 0, sizeof o);
  o.env = env;
  ASSERT_EQ(run_script(loop, &o, "test \"$UVC_A\" = 'one two' && test -z \"$HOME\""), 0);

  /* An empty environment: the program is named by its path. */
  {
    char* sh_args[] = {"/bin/sh", "-c", "test -z \"$UVC_A$HOME\"", NULL};
    memset(&o, 0, sizeof o);
    options_for(&o, sh_args);
    o.env = empty_env;
    reset();
    ASSERT_OK(uv_spawn(loop, &p, &o));
    ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
    ASSERT_EQ(exit_status_seen, 0);
  }

  memset(&o, 0, sizeof o);
  o.cwd = "/";
  ASSERT_EQ(run_script(loop, &o, "test \"$(pwd -P)\" = /"), 0);

  /* A relative program path is found from the child's cwd (libuv's
   * spawn_relative_path). */
  {
    char* rel_args[] = {"./sh", "-c", "exit 3", NULL};
    memset(&o, 0, sizeof o);
    options_for(&o, rel_args);
    o.cwd = "/bin";
    reset();
    ASSERT_OK(uv_spawn(loop, &p, &o));
    ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
    ASSERT_EQ(exit_calls, 1);
    ASSERT_EQ(exit_status_seen, 3);
  }
}

static void test_detached_and_flags(uv_loop_t* loop) {
  /* Field 6 of /proc/PID/stat is the session id; "sh" has no spaces. */
  const char* leader =
      "read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; test \"$sid\" = $$";
  uv_process_options_t o;

  memset(&o, 0, sizeof o);
  o.flags = UV_PROCESS_DETACHED;
  ASSERT_EQ(run_script(loop, &o, leader), 0);
  memset(&o, 0, sizeof o);
  ASSERT_EQ(run_script(loop, &o, leader), 1);
  memset(&o, 0, sizeof o);
  o.flags = UV_PROCESS_WINDOWS_VERBATIM_ARGUMENTS | UV_PROCESS_WINDOWS_HIDE |
            UV_PROCESS_WINDOWS_HIDE_CONSOLE | UV_PROCESS_WINDOWS_HIDE_GUI;
  ASSERT_EQ(run_script(loop, &o, "exit 3"), 3);
}

static void test_stdio(uv_loop_t* loop) {
  const char* all_null =
      "for n in 0 1 2; do test \"$(readlink /proc/$$/fd/$n)\" = /dev/null || exit 1; done";
  char path[] = "/tmp/uvc-spawn-XXXXXX";
  char got[64];
  uv_stdio_container_t stdio[4];
  uv_process_options_t o;
  ssize_t n;
  int fd;

  memset(&o, 0, sizeof o);
  ASSERT_EQ(run_script(loop, &o, all_null), 0);
  /* Standard input is /dev/null opened for reading only. */
  memset(&o, 0, sizeof o);
  ASSERT_NE(run_script(loop, &o, "echo x >&0"), 0);
  ASSERT_EQ(run_script(loop, &o, "echo x >&1 && echo y >&2"), 0);
  memset(&o, 0, sizeof o);
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_IGNORE;
  o.stdio = stdio;
  o.stdio_count = 2;
  ASSERT_EQ(run_script(loop, &o, all_null), 0);

  fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_OK(unlink(path));
  memset(&o, 0, sizeof o);
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = fd;
  stdio[2].flags = UV_IGNORE;
  stdio[3].flags = UV_INHERIT_FD;
  stdio[3].data.fd = fd;
  o.stdio = stdio;
  o.stdio_count = 4;
  ASSERT_EQ(run_script(loop, &o, "echo one; echo two >&3"), 0);
  ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
  n = read(fd, got, sizeof got - 1);
  ASSERT_EQ(n, 8);
  got[n] = '\0';
  ASSERT_STR_EQ(got, "one\ntwo\n");
  close(fd);
}

static void test_ids(uv_loop_t* loop) {
  char* args[] = {"true", NULL};
  uv_process_options_t o;

  memset(&o, 0, sizeof o);
  if (getuid() == 0) {
    o.flags = UV_PROCESS_SETUID | UV_PROCESS_SETGID;
    o.uid = 65534;
    o.gid = 65534;
    ASSERT_EQ(run_script(loop, &o, "test \"$(id -u)\" = 65534 && test \"$(id -g)\" = 65534"), 0);
  } else {
    options_for(&o, args);
    o.flags = UV_PROCESS_SETUID;
    o.uid = 0;
    spawn_fails(loop, &o, UV_EPERM);
  }
}

static uv_timer_t poll_timer;
static int reaped_pid;

/* Waits (on the loop) until `reaped_pid` names no process, zombie or not. */
static void poll_reaped(uv_timer_t* timer) {
  if (kill(reaped_pid, 0) == -1 && errno == ESRCH)
    uv_close((uv_handle_t*) timer, NULL);
}

static void test_close_before_exit(uv_loop_t* loop) {
  char* args[] = {"sleep", "1000", NULL};
  uv_process_options_t o;
  uv_process_t p;
  int pid;

  options_for(&o, args);
  reset();
  ASSERT_OK(uv_spawn(loop, &p, &o));
  pid = p.pid;
  uv_close((uv_handle_t*) &p, on_close);
  ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(close_calls, 1);
  ASSERT_EQ(exit_calls, 0);
  ASSERT_OK(uv_kill(pid, 0));
  ASSERT_OK(uv_kill(pid, SIGKILL));
  if (on_uv_compat()) {
    /* The loop still reaps it: the pid disappears. */
    reaped_pid = pid;
    ASSERT_OK(uv_timer_init(loop, &poll_timer));
    ASSERT_OK(uv_timer_start(&poll_timer, poll_reaped, 1, 5));
    ASSERT_OK(uv_run(loop, UV_RUN_DEFAULT));
  } else {
    /* libuv leaves it to us (libuv#1911). */
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
  }
  ASSERT_EQ(exit_calls, 0);
}

int main(void) {
  uv_loop_t loop;

  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_EQ(uv_handle_size(UV_PROCESS), sizeof(uv_process_t));
  test_failures(&loop);
  test_exit_status(&loop);
  test_signals(&loop);
  test_null_exit_cb(&loop);
  test_unref(&loop);
  test_sigchld_handle(&loop);
  test_args_env_cwd(&loop);
  test_detached_and_flags(&loop);
  test_stdio(&loop);
  test_ids(&loop);
  test_close_before_exit(&loop);
  ASSERT_OK(uv_loop_close(&loop));
  printf("spawn ok\n");
  return 0;
}
