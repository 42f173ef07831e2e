/* uv/errno.h: libuv installs its header in parts under uv/, and a program
 * may include this one directly for the UV__E* error numbers (UV__EOF,
 * UV__EAGAIN, ...). uv-compat keeps its whole API in uv.h, so this part
 * includes it: a program gets at least what libuv's uv/errno.h gives it.
 */
#include "../uv.h"
