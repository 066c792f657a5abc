#!/usr/bin/env bash
# demo.sh - the echo demo: start an Echo server, call it from the echo
# client, then kill the server in the middle of a call and show what the
# client is told.  Binaries are taken from $PHX_BUILDDIR (default: build/).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bdir=${PHX_BUILDDIR:-$top/build}
server=$bdir/samples/echo/echo-server
client=$bdir/samples/echo/echo-client
for b in "$server" "$client"; do
  [ -x "$b" ] || { echo "demo: $b is missing; run ./quickstart demo" >&2; exit 1; }
done

work=$(mktemp -d)
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill -9 "$srv_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }

say "starting echo-server on tcp://127.0.0.1 (any free port), 2 worker threads"
# Its debug log (one line per request) lets the demo see when a call has
# reached it.
PHX_LOG=debug "$server" --listen tcp://127.0.0.1:* --workers 2 \
  --ior-file "$work/echo.ior" > "$work/server.out" 2> "$work/server.log" &
srv_pid=$!
disown "$srv_pid" # no job notice from the shell when it is killed below
# Wait for the server to publish its reference.
for _ in $(seq 1 500); do
  [ -s "$work/echo.ior" ] && break
  kill -0 "$srv_pid" 2>/dev/null || { echo "demo: server exited" >&2; exit 1; }
  sleep 0.02
done
[ -s "$work/echo.ior" ] || { echo "demo: server did not start" >&2; exit 1; }
ior=$(cat "$work/echo.ior")
echo "reference: ${ior:0:60}..."

say "echo_long(42)"
"$client" "@$work/echo.ior" long 42

say "echo_octets of 64 KiB, checked byte for byte"
"$client" "@$work/echo.ior" octets 65536

say "1000 oneway pings, then count()"
"$client" --repeat 1000 "@$work/echo.ior" ping 1
"$client" "@$work/echo.ior" count

say "a user exception: fail(7, \"on purpose\")"
"$client" "@$work/echo.ior" fail 7 "on purpose" || echo "(exit status $?: exception reported)"

say "a call that takes too long for its 200 ms timeout"
"$client" --timeout 200 "@$work/echo.ior" sleep 1000 || echo "(exit status $?)"

say "killing the server (SIGKILL) while a 5 s call is in progress"
"$client" "@$work/echo.ior" sleep 5000 &
cli_pid=$!
# Wait until the server has the request (its second sleep_ms), then kill it.
for _ in $(seq 1 500); do
  [ "$(grep -c "'sleep_ms'" "$work/server.log")" -ge 2 ] && break
  sleep 0.01
done
kill -9 "$srv_pid"
srv_pid=
status=0
wait "$cli_pid" || status=$?
echo "(client exit status $status: COMM_FAILURE, COMPLETED_MAYBE - the call may or may not have run)"

say "calling the dead server"
"$client" "@$work/echo.ior" long 2 || echo "(exit status $?: TRANSIENT, COMPLETED_NO - nothing ran, safe to retry)"

printf '\nWithout replication a crash loses the object. The fault-tolerance layer\n'
printf 'turns it into an object group whose clients never see this.\n'
