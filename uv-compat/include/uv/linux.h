/* uv/linux.h: libuv installs its public header in parts under uv/, and
 * programs may include one directly for the Linux platform part.
 * uv-compat keeps its whole API in one header, so this part includes it:
 * a program gets at least what libuv's uv/linux.h gives it.
 */
#include "../uv.h"
