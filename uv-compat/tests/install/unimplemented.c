/* Built against the system's libuv (its uv.h and libuv.so), run on
 * uv-compat: with an argument it calls uv_fs_open, which uv-compat does not
 * implement, so the loader must stop it with "undefined symbol"; without
 * one it never calls it and runs to the end under lazy binding. */
#include <uv.h>

#include <stdio.h>

int main(int argc, char** argv) {
  (void) argv;
  if (argc > 1) {
    uv_fs_t req;
    uv_fs_open(NULL, &req, "/", 0, 0, NULL);
    return 3;
  }
  printf("%u\n", uv_version());
  return 0;
}
