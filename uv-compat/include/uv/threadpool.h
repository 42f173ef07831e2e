/* uv/threadpool.h: libuv installs its header in parts under uv/, and a
 * program may include this one directly for the thread pool part. uv-
 * compat keeps its whole API in uv.h, so this part includes it: a program
 * gets at least what libuv's uv/threadpool.h gives it.
 */
#include "../uv.h"
