/* uv/unix.h: libuv installs its header in parts under uv/, and a program
 * may include this one directly for the Unix types (uv_buf_t,
 * uv_os_sock_t, the thread types). uv-compat keeps its whole API in uv.h,
 * so this part includes it: a program gets at least what libuv's uv/unix.h
 * gives it.
 */
#include "../uv.h"
