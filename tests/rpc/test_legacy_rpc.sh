#!/usr/bin/env bash
# test_legacy_rpc.sh - an unchanged rpcgen client (samples/legacy-rpc)
# through phx-rpcgw to a three-replica ACTIVE group of the ledger, real
# processes on loopback.  While the client makes deposits, the replica
# the gateway is using (the one WHOAMI names) is killed with kill -9; the
# client must see no failure, every deposit applied exactly once (the
# total grew by exactly the number of calls), and WHOAMI must then name
# another replica.  Skipped (77) when the build has no rpcgen/libtirpc.
set -euo pipefail
. "$(cd "$(dirname "$0")/.." && pwd)/integration/procs.sh"

bdir=${PHX_BUILDDIR:-.}
sdir=$bdir/samples/legacy-rpc
replica=$sdir/ledger-replica
client=$sdir/ledger-client
gw=$bdir/ft/rpcgw/phx-rpcgw
phxif=$sdir/ledger.phxif
if [ ! -x "$client" ] || [ ! -x "$replica" ]; then
  echo "test_legacy_rpc: SKIP: samples/legacy-rpc not built (configure found no rpcgen or libtirpc; on Debian: apt-get install rpcsvc-proto libtirpc-dev)"
  exit 77
fi
[ -x "$gw" ] || { echo "test_legacy_rpc: $gw is missing" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cli=
cleanup() {
  [ -z "$cli" ] || kill_ours -9 "$cli"
  for p in "${pids[@]}"; do kill_ours -9 "$p"; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test_legacy_rpc: FAIL: $*" >&2; for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; tail -5 "$f"; done >&2; exit 1; }

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
wait_count() {
  for _ in $(seq 1 3000); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -gt "$3" ] && return 0
    sleep 0.01
  done
  fail "timed out waiting for more than $3 '$2' lines in $1"
}

start() { # name seed...
  local n=$1; shift
  local args=(--group ledger-test-$$ --style active --members 1
              --heartbeat-ms 50 --timeout-ms 400)
  for s in "$@"; do args+=(--seed "$s"); done
  "$replica" "${args[@]}" > "$work/$n.out" 2> "$work/$n.err" &
  pids+=($!)
  echo $! > "$work/$n.pid"
  local g r
  g=$(wait_line "$work/$n.out" '^GCS ')
  echo "${g#GCS }" > "$work/$n.gcs"
  r=$(wait_line "$work/$n.out" '^READY ')
  echo "${r#READY }" > "$work/$n.ior"
}

start r1
start r2 "$(cat "$work/r1.gcs")"
start r3 "$(cat "$work/r1.gcs")"
wait_line "$work/r1.out" '^VIEW [0-9]* 3$' > /dev/null

"$gw" --listen tcp://127.0.0.1:0 --describe "$phxif" --program LEDGER_PROG \
  --target "$work/r1.ior" --target "$work/r2.ior" --target "$work/r3.ior" \
  --request-duration-ms 10000 > "$work/gw.out" 2> "$work/gw.err" &
gpid=$!
pids+=($gpid)
l=$(wait_line "$work/gw.out" '^LISTENING ')
port=${l##*:}

before=$("$client" 127.0.0.1 "$port" whoami) || fail "whoami"
victim=
for n in r1 r2 r3; do
  [ "$(cat "$work/$n.pid")" = "$before" ] && victim=$n
done
[ -n "$victim" ] || fail "WHOAMI answered $before, not a replica's pid"

"$client" 127.0.0.1 "$port" run 300 5 > "$work/client.out" 2> "$work/client.err" &
cli=$!
wait_count "$work/client.out" '^PROGRESS' 1
kill -9 "$before"
wait "$cli" || fail "the client failed: $(tail -3 "$work/client.err")"
cli=
done_line=$(grep '^DONE' "$work/client.out") || fail "no DONE line"
case $done_line in
  "DONE calls=300 failed=0 bad=0 grew=300 lookup=ok") ;;
  *) fail "client: $done_line" ;;
esac
after=$("$client" 127.0.0.1 "$port" whoami) || fail "whoami after the kill"
[ "$after" != "$before" ] || fail "still the killed replica ($after)?"
# A clean stop: the gateway and the surviving replicas exit 0 on SIGTERM
# (in a sanitizer build, without leaks).
stop() { # pid what
  kill -TERM "$1"
  set +e
  wait "$1"
  local rc=$?
  set -e
  [ "$rc" = 0 ] || fail "$2 exited $rc after SIGTERM"
}
stop "$gpid" phx-rpcgw
for n in r1 r2 r3; do
  [ "$n" = "$victim" ] || stop "$(cat "$work/$n.pid")" "replica $n"
done
echo "test_legacy_rpc: PASS killed $victim (pid $before), now served by pid $after; $done_line"
