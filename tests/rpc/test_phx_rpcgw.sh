#!/usr/bin/env bash
# test_phx_rpcgw.sh - the phx-rpcgw program with real processes on
# loopback: usage errors (exit 2), a .phxif written by phx-idl --describe
# from tests/rpc/rpctest.x, calls to both versions of the program through
# the gateway to a server process, PROG_MISMATCH, the program named by
# number, SYSTEM_ERR once the server is killed with kill -9, and a clean
# stop on SIGTERM (exit 0).
set -euo pipefail
. "$(cd "$(dirname "$0")/.." && pwd)/integration/procs.sh"

bdir=${PHX_BUILDDIR:-.}
gw=$bdir/ft/rpcgw/phx-rpcgw
srv=$bdir/tests/rpc/rpctest-server
phxif=$bdir/tests/rpc/rpctest.phxif
for b in "$gw" "$srv"; do
  [ -x "$b" ] || { echo "test_phx_rpcgw: $b is missing" >&2; exit 1; }
done
[ -f "$phxif" ] || { echo "test_phx_rpcgw: $phxif is missing" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill_ours -9 "$p"; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test_phx_rpcgw: FAIL: $*" >&2; for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; tail -5 "$f"; done >&2; exit 1; }

wait_line() {
  for _ in $(seq 1 3000); do
    if line=$(grep -m1 -- "$2" "$1" 2>/dev/null); then
      printf '%s\n' "$line"
      return 0
    fi
    sleep 0.01
  done
  fail "timed out waiting for '$2' in $1"
}

expect_exit() { # code cmd...
  local want=$1; shift
  set +e
  "$@" > "$work/usage.out" 2> "$work/usage.err"
  local got=$?
  set -e
  [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want"
}

# usage errors
expect_exit 2 "$gw"
expect_exit 2 "$gw" --bogus
expect_exit 2 "$gw" --listen tcp://127.0.0.1:0 --describe "$phxif" --target IOR:00
expect_exit 2 "$gw" --listen udp://x --describe "$phxif" --program RPCTEST --target IOR:00
expect_exit 2 "$gw" --listen tcp://127.0.0.1:0 --describe "$phxif" --program NOPE --target IOR:00
expect_exit 2 "$gw" --listen tcp://127.0.0.1:0 --describe "$phxif" --program RPCTEST --target "$work/none"
expect_exit 1 "$gw" --listen tcp://127.0.0.1:0 --describe "$work/none.phxif" --program RPCTEST --target IOR:00
grep -q "usage:" "$work/usage.err" || true
expect_exit 0 "$gw" --help

"$srv" serve > "$work/srv.out" 2> "$work/srv.err" &
spid=$!
pids+=($spid)
r=$(wait_line "$work/srv.out" '^READY ')
echo "${r#READY }" > "$work/v1.ior"

P=0x20000099
"$gw" --listen tcp://127.0.0.1:0 --describe "$phxif" --program RPCTEST \
  --version 1 --target "$work/v1.ior" --request-duration-ms 1500 \
  > "$work/gw.out" 2> "$work/gw.err" &
gpid=$!
pids+=($gpid)
l=$(wait_line "$work/gw.out" '^LISTENING ')
port=${l##*:}
grep -q "^PROGRAM 536871065 1 5$" "$work/gw.out" || fail "PROGRAM line: $(cat "$work/gw.out")"

out=$("$srv" call "$port" $P 1 3 40 2)
[ "$out" = "STAT 0 42" ] || fail "ADD: $out"
out=$("$srv" call "$port" $P 1 0)
[ "$out" = "STAT 0" ] || fail "NULLPROC: $out"
out=$("$srv" call "$port" $P 3 0)
[ "$out" = "MISMATCH 1 1" ] || fail "version 3 on a v1-only gateway: $out"
out=$("$srv" call "$port" $P 1 9)
[ "$out" = "STAT 3" ] || fail "PROC_UNAVAIL: $out"
out=$("$srv" call "$port" 77 1 0)
[ "$out" = "STAT 1" ] || fail "PROG_UNAVAIL: $out"

# The program by number, every version (one target for both: operations
# are invoked by name, so version 3's ADD runs v1's ADD).  Then kill the
# server.
"$gw" --listen tcp://127.0.0.1:0 --describe "$phxif" --program 536871065 \
  --target "$work/v1.ior" --request-duration-ms 1500 \
  > "$work/gw2.out" 2> "$work/gw2.err" &
g2=$!
pids+=($g2)
l=$(wait_line "$work/gw2.out" '^LISTENING ')
port2=${l##*:}
out=$("$srv" call "$port2" $P 1 3 1 2)
[ "$out" = "STAT 0 3" ] || fail "ADD by number: $out"
out=$("$srv" call "$port2" $P 4 0)
[ "$out" = "MISMATCH 1 3" ] || fail "versions 1..3: $out"
out=$("$srv" call "$port2" $P 3 3 1 2)
[ "$out" = "STAT 0 3" ] || fail "v3 ADD on the v1 object: $out"

kill -9 "$spid"
wait "$spid" 2>/dev/null || true
out=$("$srv" call "$port" $P 1 3 1 2)
[ "$out" = "STAT 5" ] || fail "SYSTEM_ERR after kill -9: $out"

kill -TERM "$gpid"
set +e
wait "$gpid"
rc=$?
set -e
[ "$rc" = 0 ] || fail "phx-rpcgw exited $rc after SIGTERM"
grep -q "stopping:" "$work/gw.err" || fail "no stop line"
kill -TERM "$g2"
wait "$g2" 2>/dev/null || true
echo "test_phx_rpcgw: PASS"
