/* uv/unix.h: libuv installs its public header in parts under uv/, and
 * programs may include one directly for the Unix types (uv_buf_t, uv_os_sock_t, uv_os_fd_t, the thread types, ...).
 * uv-compat keeps its whole API in one header, so this part includes it:
 * a program gets at least what libuv's uv/unix.h gives it.
 */
#include "../uv.h"
