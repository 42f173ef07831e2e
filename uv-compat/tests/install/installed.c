/* installed.c: what a program built against an installed uv-compat sees.
 * tests/install.rs compiles it with nothing but pkg-config's flags (libuv
 * for the shared library, libuv-static for the static one) and runs it.
 *
 * It includes the parts of libuv's header layout programs name directly,
 * runs one timer on a fresh loop and prints the library's version string
 * and "ok". The version string is what tells ours (1.52.x) from the
 * system's libuv, in case the loader picked the wrong library.
 */
#include <uv.h>
#include <uv/errno.h>
#include <uv/version.h>
#include <uv/unix.h>
#include <uv/linux.h>
#include <uv/threadpool.h>

#include <stdio.h>

#ifndef UV_RUV_COMPAT
#error "compiled against a uv.h other than uv-compat's"
#endif

static int fired;

static void on_timer(uv_timer_t* timer) {
  fired++;
  uv_close((uv_handle_t*) timer, NULL);
}

int main(void) {
  uv_loop_t loop;
  uv_timer_t timer;

  if (UV__EOF != UV_EOF || UV_VERSION_HEX != uv_version()) {
    fprintf(stderr, "header and library disagree\n");
    return 1;
  }
  if (uv_loop_init(&loop) != 0 || uv_timer_init(&loop, &timer) != 0 ||
      uv_timer_start(&timer, on_timer, 1, 0) != 0) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  if (uv_run(&loop, UV_RUN_DEFAULT) != 0 || fired != 1 ||
      uv_loop_close(&loop) != 0) {
    fprintf(stderr, "the timer loop failed (fired %d)\n", fired);
    return 1;
  }
  printf("%s ok\n", uv_version_string());
  return 0;
}
