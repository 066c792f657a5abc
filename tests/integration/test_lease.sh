#!/usr/bin/env bash
# test_lease.sh - the lease sample (samples/lease) under crashes, with
# real processes on loopback.
#
# 1. SEMI_ACTIVE: three replicas with 4 ORB workers each (the servant is
#    multithreaded: phx_ft_mutex, timed waits on a phx_ft_cond), four
#    client threads acquiring (waiting up to 100 ms for busy resources),
#    auditing (2 ms of blocking work), renewing and releasing leases with
#    a 150 ms TTL, every fourth lease abandoned so that it expires, and a
#    tick() thread; kill -9 of the leader mid-run, a replacement joining
#    through a survivor.
# 2. ACTIVE: the same without waits (they need SEMI_ACTIVE), kill -9 of
#    the first replica, a replacement.
# In both, the replicas' group communication delays and reorders frames
# at random (PHX_GCS_FAULTS), on top of the servant's own random delays.
# Passes when no client call failed, leases expired (expired_total > 0),
# every replica alive at the end reports the same summary (digest,
# expired_total, group time, counters: expiry decided by group time, so
# every replica expired the same leases), the counters equal what the
# client had acknowledged (each request applied exactly once), no
# replica reported a divergence, and the replicas exit 0 on SIGTERM
# without a sanitizer report.  KEEP_WORK=1 keeps the logs.
set -euo pipefail
. "$(cd "$(dirname "$0")/.." && pwd)/integration/procs.sh"

bdir=${PHX_BUILDDIR:-build}
replica=$bdir/samples/lease/lease-replica
client=$bdir/samples/lease/lease-client
for b in "$replica" "$client"; do
  [ -x "$b" ] || { echo "test_lease: $b is missing" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cli=
cleanup() {
  [ -z "$cli" ] || kill_ours -9 "$cli"
  for p in "${pids[@]}"; do kill_ours -9 "$p"; done
  [ -n "${KEEP_WORK:-}" ] && echo "work: $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "test_lease: FAIL: $*" >&2
  for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; tail -5 "$f"; done >&2
  exit 1
}

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

# More PROGRESS lines than now (the client made calls again).
progress() {
  local before
  before=$(grep -c '^PROGRESS' "$work/$1.out" || true)
  wait_count "$work/$1.out" '^PROGRESS' $((before + ${2:-1}))
}

start() { # run name style seed...
  local run=$1 n=$2 style=$3; shift 3
  local args=(--group "lease-test-$run" --style "$style" --members 1
              --workers 4 --heartbeat-ms 50 --timeout-ms 400)
  for s in "$@"; do args+=(--seed "$s"); done
  # The group communication between the replicas delays (0-2 ms) and
  # reorders frames at random, so replicas see differently timed input.
  PHX_GCS_FAULTS="delay=0-2,reorder=0.02,seed=$RANDOM" \
    "$replica" "${args[@]}" > "$work/$n.out" 2> "$work/$n.err" &
  pids+=($!)
  echo $! > "$work/$n.pid"
  local g r
  g=$(wait_line "$work/$n.out" '^GCS ')
  echo "${g#GCS }" > "$work/$n.gcs"
  r=$(wait_line "$work/$n.out" '^READY ')
  echo "${r#READY }" > "$work/$n.ior"
}

field() { sed -n "s/.*[ ^]$1=\\([0-9a-f]*\\).*/\\1/p" <<< " $2"; }

# The summaries of the replicas named must agree (followers may still be
# replaying the last records when the client stops: retry for 10 s).
same_summaries() {
  local first s n ok
  for _ in $(seq 1 100); do
    ok=1 first=
    for n in "$@"; do
      s=$("$client" summary "$work/$n.ior") || fail "summary $n"
      s=${s% pid=*}
      if [ -z "$first" ]; then first=$s; elif [ "$s" != "$first" ]; then ok=; fi
    done
    [ -n "$ok" ] && { printf '%s\n' "$first"; return 0; }
    sleep 0.1
  done
  for n in "$@"; do echo "$n: $("$client" summary "$work/$n.ior")" >&2; done
  fail "the replicas' summaries differ"
}

check_run() { # tag client-out replicas...
  local tag=$1 out=$2; shift 2
  local done_line sum
  done_line=$(grep '^DONE' "$out") || fail "$tag: no DONE line"
  echo "$tag client: $done_line"
  [ "$(field errors "$done_line")" = 0 ] || fail "$tag: client calls failed"
  [ "$(field acquired "$done_line")" -gt 0 ] || fail "$tag: nothing acquired"
  sum=$(same_summaries "$@")
  echo "$tag replicas $*: $sum"
  local k
  for k in acquired renewed released audits; do
    [ "$(field "$k" "$sum")" = "$(field "$k" "$done_line")" ] ||
      fail "$tag: $k: replicas $(field "$k" "$sum"), client $(field "$k" "$done_line")"
  done
  [ "$(field expired_total "$sum")" -gt 0 ] || fail "$tag: no lease expired"
  if grep -h '^DIVERGED' "$work"/*.out; then fail "$tag: divergence reported"; fi
}

# Stop the replicas named with SIGTERM: each must exit 0 without a
# sanitizer report (a build with --enable-sanitizers checks leaks).
stop_replicas() {
  local n p
  for n in "$@"; do kill -TERM "$(cat "$work/$n.pid")"; done
  for n in "$@"; do
    p=$(cat "$work/$n.pid")
    wait "$p" || fail "$n exited with status $?"
  done
  if grep -l 'Sanitizer\|runtime error' "$work"/*.err; then
    fail "sanitizer reports"
  fi
}

# ---- 1. SEMI_ACTIVE ----
start s s1 semi_active
start s s2 semi_active "$(cat "$work/s1.gcs")"
start s s3 semi_active "$(cat "$work/s1.gcs")"
wait_line "$work/s1.out" '^VIEW [0-9]* 3$' > /dev/null
wait_line "$work/s1.out" '^ROLE primary' > /dev/null

"$client" run --clients 4 --resources 6 --ttl 150 --wait 100 --audit-ms 2 \
  --tick-ms 40 --seconds 60 "$work"/s{1,2,3}.ior \
  > "$work/semi.out" 2> "$work/semi.err" &
cli=$!
wait_line "$work/semi.out" '^PROGRESS' > /dev/null

# Kill the leader (s1, the oldest member) mid-run.
kill -9 "$(cat "$work/s1.pid")"
wait_line "$work/s2.out" '^ROLE primary' > /dev/null
progress semi

# A replacement joins through s2 (state transfer while requests run).
start s s4 semi_active "$(cat "$work/s2.gcs")"
wait_line "$work/s2.out" '^VIEW [0-9]* 3$' > /dev/null
progress semi 2

kill -TERM "$cli"
wait "$cli" || fail "semi client failed: $(tail -3 "$work/semi.err")"
cli=
check_run semi "$work/semi.out" s2 s3 s4
stop_replicas s2 s3 s4

# ---- 2. ACTIVE (no waits) ----
start a a1 active
start a a2 active "$(cat "$work/a1.gcs")"
start a a3 active "$(cat "$work/a1.gcs")"
wait_line "$work/a1.out" '^VIEW [0-9]* 3$' > /dev/null

"$client" run --clients 4 --resources 6 --ttl 150 --wait 0 \
  --tick-ms 40 --seconds 60 "$work"/a{1,2,3}.ior \
  > "$work/active.out" 2> "$work/active.err" &
cli=$!
wait_line "$work/active.out" '^PROGRESS' > /dev/null

kill -9 "$(cat "$work/a1.pid")"
wait_line "$work/a2.out" '^VIEW [0-9]* 2$' > /dev/null
progress active

start a a4 active "$(cat "$work/a2.gcs")"
wait_line "$work/a2.out" '^VIEW [0-9]* 3$' > /dev/null
progress active 2

kill -TERM "$cli"
wait "$cli" || fail "active client failed: $(tail -3 "$work/active.err")"
cli=
check_run active "$work/active.out" a2 a3 a4
stop_replicas a2 a3 a4

echo "test_lease: PASS semi_active and active: no call failed, leases expired, replicas identical"
