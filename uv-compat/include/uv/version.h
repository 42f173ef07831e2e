/* uv/version.h: libuv installs its header in parts under uv/, and a
 * program may include this one directly for the UV_VERSION_* macros. uv-
 * compat keeps its whole API in uv.h, so this part includes it: a program
 * gets at least what libuv's uv/version.h gives it.
 */
#include "../uv.h"
