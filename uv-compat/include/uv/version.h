/* uv/version.h: libuv installs its public header in parts under uv/, and
 * programs may include one directly for UV_VERSION_MAJOR, _MINOR, _PATCH, _IS_RELEASE, _SUFFIX and _HEX.
 * uv-compat keeps its whole API in one header, so this part includes it:
 * a program gets at least what libuv's uv/version.h gives it.
 */
#include "../uv.h"
