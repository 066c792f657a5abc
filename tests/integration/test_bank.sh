#!/usr/bin/env bash
# test_bank.sh - the WARM_PASSIVE bank under crashes, with real processes
# on loopback: three replicas, four client threads making transfers
# through the group reference, kill -9 of the primary, a replacement
# replica that catches up by state transfer, then kill -9 of the new
# primary.  Passes when every acknowledged transfer was applied exactly
# once (transfers == acknowledged), money was neither made nor lost, no
# call failed, and the surviving replicas have identical state (digests).
set -euo pipefail
. "$(cd "$(dirname "$0")/.." && pwd)/integration/procs.sh"

bdir=${PHX_BUILDDIR:-build}
replica=$bdir/samples/bank/bank-replica
client=$bdir/samples/bank/bank-client
for b in "$replica" "$client"; do
  [ -x "$b" ] || { echo "test_bank: $b is missing" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cli=
cleanup() {
  [ -z "$cli" ] || kill_ours -9 "$cli"
  for p in "${pids[@]}"; do kill_ours -9 "$p"; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test_bank: FAIL: $*" >&2; for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; tail -5 "$f"; done >&2; exit 1; }

# Wait (up to 30 s) until file $1 has a line matching $2; print it.
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

# Wait until the count of lines matching $2 in $1 exceeds $3.
wait_count() {
  for _ in $(seq 1 3000); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -gt "$3" ] && return 0
    sleep 0.01
  done
  fail "timed out waiting for more than $3 '$2' lines in $1"
}

start() { # name seed...
  local n=$1; shift
  local args=(--group bank-test --style warm_passive --members 1
              --heartbeat-ms 50 --timeout-ms 400)
  for s in "$@"; do args+=(--seed "$s"); done
  "$replica" "${args[@]}" > "$work/$n.out" 2> "$work/$n.err" &
  pids+=($!)
  echo $! > "$work/$n.pid"
  local g
  g=$(wait_line "$work/$n.out" '^GCS ')
  echo "${g#GCS }" > "$work/$n.gcs"
  local r
  r=$(wait_line "$work/$n.out" '^READY ')
  echo "${r#READY }" > "$work/$n.ior"
}

start r1
start r2 "$(cat "$work/r1.gcs")"
start r3 "$(cat "$work/r1.gcs")"
wait_line "$work/r1.out" '^VIEW [0-9]* 3$' > /dev/null
wait_line "$work/r1.out" '^ROLE primary' > /dev/null

"$client" setup --accounts 20 --initial 1000 "$work"/r{1,2,3}.ior > "$work/setup.out" 2>&1 ||
  fail "setup: $(cat "$work/setup.out")"

"$client" run --clients 4 --accounts 20 --seconds 60 \
  "$work"/r{1,2,3}.ior > "$work/client.out" 2> "$work/client.err" &
cli=$!
wait_line "$work/client.out" '^PROGRESS' > /dev/null

# Kill the primary (r1, the oldest member), then wait for the client to
# make progress again.
before=$(grep -c '^PROGRESS' "$work/client.out")
kill -9 "$(cat "$work/r1.pid")"
wait_line "$work/r2.out" '^ROLE primary' > /dev/null
wait_count "$work/client.out" '^PROGRESS' $((before + 1))

# A replacement joins through r2 and catches up by state transfer.
start r4 "$(cat "$work/r2.gcs")"
wait_line "$work/r2.out" '^VIEW [0-9]* 3$' > /dev/null
before=$(grep -c '^PROGRESS' "$work/client.out")
wait_count "$work/client.out" '^PROGRESS' $((before + 1))

# Kill the new primary (r2).
kill -9 "$(cat "$work/r2.pid")"
wait_line "$work/r3.out" '^ROLE primary' > /dev/null
before=$(grep -c '^PROGRESS' "$work/client.out")
wait_count "$work/client.out" '^PROGRESS' $((before + 1))

kill -TERM "$cli"
wait "$cli" || fail "client failed: $(tail -3 "$work/client.err")"
cli=
done_line=$(grep '^DONE' "$work/client.out") || fail "no DONE line"
ack=$(sed -n 's/.*acknowledged=\([0-9]*\).*/\1/p' <<< "$done_line")
errs=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<< "$done_line")
[ "$errs" = 0 ] || fail "$errs calls failed"
[ "$ack" -gt 0 ] || fail "no transfer acknowledged"

s3=$("$client" summary "$work/r3.ior") || fail "summary r3"
s4=$("$client" summary "$work/r4.ior") || fail "summary r4"
echo "client: $done_line"
echo "r3: $s3"
echo "r4: $s4"
t3=$(sed -n 's/.*transfers=\([0-9]*\).*/\1/p' <<< "$s3")
[ "$t3" = "$ack" ] || fail "r3 applied $t3 transfers, $ack acknowledged"
grep -q 'total=20000 ' <<< "$s3" || fail "money made or lost: $s3"
[ "${s3% pid=*}" = "${s4% pid=*}" ] || fail "replicas differ"
echo "test_bank: PASS acknowledged=$ack applied=$t3 replicas consistent"
