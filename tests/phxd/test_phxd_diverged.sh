#!/usr/bin/env bash
# test_phxd_diverged.sh - SEMI_ACTIVE's divergence detector seen by the
# operator: one phxd runs a 3-replica SEMI_ACTIVE group of
# tests/phxd/nd-replica; correct calls (phxctl invoke ... add) raise no
# report, a call of bad() (which secretly reads the raw clock into its
# reply) makes the followers report DIVERGED, which phxd records as a
# "diverged" event and counts in `phxctl group` (diverged: N).
set -uo pipefail
. "$(cd "$(dirname "$0")/.." && pwd)/integration/procs.sh"

bdir=${PHX_BUILDDIR:-build}
bdir=$(cd "$bdir" && pwd)
phxd=$bdir/ft/phxd/phxd
phxctl=$bdir/ft/phxd/phxctl
idl=$bdir/compiler/phx-idl
src=${PHX_SRCDIR:-.}
work=$(mktemp -d)
dpid=

cleanup() {
  [ -z "$dpid" ] || kill_ours -TERM "$dpid"
  for _ in $(seq 1 100); do
    [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null || break
    sleep 0.05
  done
  [ -z "$dpid" ] || kill_ours -9 "$dpid"
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test_phxd_diverged: FAIL: $*" >&2; tail -n 20 "$work/h1.log" >&2; exit 1; }
wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s) + secs ))
  while ! "$@" > /dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.05
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=
for _ in $(seq 1 50); do
  b=$(( 10000 + RANDOM % 20000 ))
  port_free "$b" && port_free $((b + 1)) && { base=$b; break; }
done
[ -n "$base" ] || fail "no free ports"

"$idl" --describe -o "$work" "$src/tests/ft/ft_test.idl" || fail "phx-idl --describe"
cat > "$work/d.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<phalanx xmlns="urn:phalanx:deployment:1" domain="nd">
  <gcs heartbeat-ms="50" timeout-ms="300"/>
  <host name="h1" endpoint="tcp://127.0.0.1:$base" gcs-endpoint="tcp://127.0.0.1:$((base + 1))"/>
  <group name="nd" type-id="IDL:phxtest/Member:1.0" style="SEMI_ACTIVE"
         initial-replicas="3" minimum-replicas="2">
    <factory workdir="$work"><command>$bdir/tests/phxd/nd-replica</command></factory>
  </group>
</phalanx>
XML
"$phxd" --descriptor "$work/d.xml" --host h1 > "$work/h1.log" 2>&1 &
dpid=$!
ctl() { "$phxctl" --endpoint "tcp://127.0.0.1:$base" "$@"; }
running3() { ctl group nd | grep -Eq '^running: +3$'; }
wait_for 20 running3 || fail "3 replicas did not start: $(ctl group nd 2>&1)"

for v in 1 2 3; do
  out=$(ctl invoke --idl "$work/ft_test.phxif" nd add "$v") || fail "invoke add: $out"
done
grep -q '"result":6' <<< "$out" || fail "add returned $out"
sleep_until_quiet() { ctl group nd | grep -Eq '^requests: +[1-9]'; }
wait_for 5 sleep_until_quiet || true
ctl group nd | grep -Eq '^diverged: +0$' || fail "a correct servant was reported: $(ctl group nd)"
echo "ok - correct calls raise no divergence"

ctl invoke --idl "$work/ft_test.phxif" nd bad > /dev/null || fail "invoke bad"
diverged() { ctl group nd | grep -Eq '^diverged: +[1-9]'; }
wait_for 10 diverged || fail "the divergence was not reported: $(ctl group nd)"
ctl --json watch --count 100 --since 0 > "$work/events" 2>/dev/null &
wpid=$!
wait_for 5 grep -q '"kind":"diverged"' "$work/events" || { kill "$wpid"; fail "no diverged event"; }
kill "$wpid" 2>/dev/null
grep '"kind":"diverged"' "$work/events" | head -n 1 | grep -q 'op=bad' ||
  fail "the event does not name the operation: $(grep diverged "$work/events" | head -n 1)"
echo "ok - bad() is reported as a divergence naming the operation"
echo "test_phxd_diverged: PASS"
