#!/bin/sh
# echo_demo.sh: builds the C UDP echo server and client with the documented
# compile line and runs them against each other on a free loopback port.
#
#   uv-compat/examples/echo_demo.sh            # against ruv's libuv (pkg-config)
#   uv-compat/examples/echo_demo.sh --system   # against the system libuv (-luv)
#   uv-compat/examples/echo_demo.sh --system-build
#       # built against the system libuv, run on ruv's (LD_LIBRARY_PATH):
#       # the binary drop-in
#
# The server runs in the background with --count 3 and port 0; its first
# line ("listening on 127.0.0.1:PORT") tells the port. The client sends 3
# messages and waits for each echo. Exits 0 when the client got every echo
# and the server exited 0 after closing its loop; fails within about 4 s
# otherwise. Builds against $CARGO_TARGET_DIR/release (default: target/ in
# the repository), running `cargo build -p uv-compat --release` first, and
# fails unless both programs load the libuv.so.1 of that directory.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

mode=ours
case "${1:-}" in
  "") ;;
  --system) mode=system ;;
  --system-build) mode=system-build ;;
  -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--system | --system-build]" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/uv-echo-demo.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
  echo "echo_demo: $*" >&2
  exit 1
}

CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2"
if [ "$mode" != system ]; then
  # cargo resolves a relative CARGO_TARGET_DIR from where it runs: $root.
  target=${CARGO_TARGET_DIR:-target}
  case "$target" in
    /*) ;;
    *) target="$root/$target" ;;
  esac
  lib="$target/release"
  echo "== cargo build -p uv-compat --release"
  (cd "$root" && cargo build -p uv-compat --release)
fi
if [ "$mode" = ours ]; then
  [ -f "$lib/pkgconfig/libuv.pc" ] || fail "no $lib/pkgconfig/libuv.pc"
  # Only ours: PKG_CONFIG_LIBDIR hides the system's libuv.pc.
  LIBS=$(PKG_CONFIG_LIBDIR="$lib/pkgconfig" PKG_CONFIG_PATH= \
         pkg-config --cflags --libs libuv)
else
  LIBS=-luv
fi
if [ "$mode" = system-build ]; then
  # The programs know only the system's libuv; the loader finds ours first.
  LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
fi

for prog in udp_echo_server udp_echo_client; do
  echo "== cc $CFLAGS -o $prog $prog.c $LIBS"
  # $CFLAGS and $LIBS are word lists: split them on purpose.
  # shellcheck disable=SC2086
  cc $CFLAGS -o "$work/$prog" "$here/$prog.c" $LIBS
  if [ "$mode" != system ]; then
    # Never run against another libuv by accident (the loader finds
    # libuv.so.1 through the rpath pkg-config gave, unless
    # LD_LIBRARY_PATH names another directory first).
    loaded=$(ldd "$work/$prog" | sed -n 's/^[[:space:]]*libuv\.so\.1 => \([^ ]*\).*/\1/p')
    [ -n "$loaded" ] &&
      [ "$(readlink -f "$loaded")" = "$(readlink -f "$lib/libuv.so.1")" ] ||
      fail "$prog loads '${loaded:-no libuv}', not $lib/libuv.so.1"
  fi
done

echo "== udp_echo_server --count 3 127.0.0.1 0 &"
"$work/udp_echo_server" --count 3 127.0.0.1 0 >"$work/server.out" 2>&1 &
server_pid=$!

# Wait up to 2 s for "listening on 127.0.0.1:PORT".
port=
i=0
while [ "$i" -lt 40 ]; do
  line=$(head -n 1 "$work/server.out" 2>/dev/null || true)
  case "$line" in
    "listening on "*:*) port=${line##*:}; break ;;
  esac
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.05
  i=$((i + 1))
done
case "$port" in
  ""|*[!0-9]*)
    cat "$work/server.out" >&2
    fail "the server did not report its port"
    ;;
esac

echo "== udp_echo_client 127.0.0.1 $port \"hello from echo_demo\" 3"
if timeout 3 "$work/udp_echo_client" 127.0.0.1 "$port" "hello from echo_demo" 3
then
  client_rc=0
else
  client_rc=$?
fi

# The server exits by itself after its third echo; give it 1 s.
i=0
while [ "$i" -lt 20 ] && kill -0 "$server_pid" 2>/dev/null; do
  sleep 0.05
  i=$((i + 1))
done
if kill -0 "$server_pid" 2>/dev/null; then
  server_rc=timeout
else
  if wait "$server_pid"; then server_rc=0; else server_rc=$?; fi
  server_pid=
fi

echo "== server output"
cat "$work/server.out"

[ "$client_rc" = 0 ] || fail "the client failed (exit status $client_rc)"
[ "$server_rc" = 0 ] || fail "the server failed (exit status $server_rc)"
echo "== ok: 3 echoes; both programs closed their handles and loop"
