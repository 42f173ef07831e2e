/* uv/threadpool.h: libuv installs its public header in parts under uv/, and
 * programs may include one directly for the thread pool part.
 * uv-compat keeps its whole API in one header, so this part includes it:
 * a program gets at least what libuv's uv/threadpool.h gives it.
 */
#include "../uv.h"
