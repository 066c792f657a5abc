#!/usr/bin/env bash
# demo.sh - the headline demo: a replicated bank survives crashes.
#
# Three phxd daemons (standing for three hosts, on loopback) deploy a
# three-replica WARM_PASSIVE group of the bank sample from one deployment
# descriptor.  Clients make transfers continuously through the group's
# reference while the demo kills the primary with SIGKILL and later a
# backup (through phxctl); the daemons restart both.  A timeline shows the
# views, the primary, each fail-over's stall as the clients saw it, and
# the requests completed.  The last line is
#   RESULT: PASS acknowledged=N applied=N replicas=3 consistent=yes
# or RESULT: FAIL with the reason.  Binaries come from $PHX_BUILDDIR
# (default build/).  Nothing is left running.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/integration/procs.sh"
bdir=${PHX_BUILDDIR:-$top/build}
bdir=$(cd "$bdir" 2>/dev/null && pwd) || { echo "RESULT: FAIL no build directory $bdir"; exit 1; }
phxd=$bdir/ft/phxd/phxd
phxctl=$bdir/ft/phxd/phxctl
replica=$bdir/samples/bank/bank-replica
client=$bdir/samples/bank/bank-client
for b in "$phxd" "$phxctl" "$replica" "$client"; do
  [ -x "$b" ] || { echo "RESULT: FAIL $b is missing; run ./quickstart demo"; exit 1; }
done

work=$(mktemp -d)
daemons=()
cli=
watch=
t0=$(date +%s%N)

stamp() { printf '%7.3f s' "$(( ($(date +%s%N) - t0) / 1000000 ))e-3"; }
say() { printf '%s  %s\n' "$(stamp)" "$*"; }

cleanup() {
  [ -z "$cli" ] || kill_ours -9 "$cli"
  [ -z "$watch" ] || kill_ours -9 "$watch"
  for p in "${daemons[@]}"; do kill_ours -TERM "$p"; done
  # Each daemon stops its replicas; give them a moment, then make sure.
  for _ in $(seq 1 100); do
    alive=0
    for p in "${daemons[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.05
  done
  for p in "${daemons[@]}"; do kill_ours -9 "$p"; done
  if [ -f "$work/replica.pids" ]; then
    while read -r p; do kill_ours -9 "$p" "${daemons[@]}"; done < "$work/replica.pids"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo
  echo "--- daemon logs (last lines)"
  for h in h1 h2 h3; do tail -n 5 "$work/$h.log" 2>/dev/null; done
  echo "RESULT: FAIL $*"
  exit 1
}

# Six free loopback ports below the ephemeral range (where the replicas'
# own ports come from): a random base, checked.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=
for _ in $(seq 1 50); do
  b=$(( 10000 + RANDOM % 20000 ))
  ok=1
  for i in 0 1 2 3 4 5; do port_free $((b + i)) || { ok=0; break; }; done
  [ $ok = 1 ] && { base=$b; break; }
done
[ -n "$base" ] || fail "no free ports on 127.0.0.1"

cat > "$work/bank.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<phalanx xmlns="urn:phalanx:deployment:1" domain="bank-demo">
  <logging level="info"/>
  <gcs heartbeat-ms="50" timeout-ms="300"/>
  <host name="h1" endpoint="tcp://127.0.0.1:$base" gcs-endpoint="tcp://127.0.0.1:$((base + 3))"/>
  <host name="h2" endpoint="tcp://127.0.0.1:$((base + 1))" gcs-endpoint="tcp://127.0.0.1:$((base + 4))"/>
  <host name="h3" endpoint="tcp://127.0.0.1:$((base + 2))" gcs-endpoint="tcp://127.0.0.1:$((base + 5))"/>
  <group name="bank" type-id="IDL:Banking/Bank:1.0" style="WARM_PASSIVE"
         initial-replicas="3" minimum-replicas="3"
         fault-monitoring-interval-ms="500" fault-monitoring-timeout-ms="1000"
         checkpoint-interval-ms="1000" request-duration-ms="15000">
    <factory host="*" workdir="$work">
      <command>$replica</command>
    </factory>
  </group>
</phalanx>
EOF
ctl() { "$phxctl" --endpoint "tcp://127.0.0.1:$base" "$@"; }

# Wait up to $1 seconds until command "${@:2}" succeeds.
wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s) + secs ))
  while ! "$@" > /dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.05
  done
}
running3() { ctl group bank | grep -Eq '^running: +3$'; }
has_primary() { [ -n "$(primary_member)" ]; }
primary_member() { ctl group bank | sed -n 's/^primary:  *\([^ ]*\).*/\1/p'; }
member_pid() { ctl group bank | awk -v m="$1" '$1 == m { print $3 }'; }
backup_member() { ctl group bank | awk '$5 == "backup" && $4 == "running" { print $1; exit }'; }
progress() { grep -c '^PROGRESS' "$work/client.out" 2>/dev/null || echo 0; }
# The longest call in the PROGRESS lines after the first $1 of them.
stall_after() {
  grep '^PROGRESS' "$work/client.out" | tail -n +"$(( $1 + 1 ))" |
    sed 's/.*max_ms=//' | sort -g | tail -n 1
}
more_progress() { [ "$(progress)" -gt "$1" ]; }

echo "Phalanx demo: a replicated bank survives crashes"
echo "================================================"
say "starting 3 phxd daemons (hosts h1 h2 h3) from one deployment descriptor"
for h in h1 h2 h3; do
  "$phxd" --descriptor "$work/bank.xml" --host "$h" > "$work/$h.log" 2>&1 &
  daemons+=($!)
done
wait_for 20 running3 || fail "the bank group did not reach 3 running replicas"
wait_for 10 has_primary || fail "the bank group has no primary"
ctl group bank | awk '$4 == "running" { print $3 }' > "$work/replica.pids"
say "the daemons placed 3 replicas of 'bank', one per host:"
ctl group bank | sed 's/^/           /'

"$phxctl" --endpoint "tcp://127.0.0.1:$((base + 1))" watch > "$work/events.out" 2>&1 &
watch=$!
disown "$watch"

ctl ior bank > "$work/bank.ior" || fail "phxctl ior bank failed"
"$client" setup --accounts 32 --initial 1000 "$work/bank.ior" > /dev/null 2>&1 ||
  fail "opening the accounts failed"
say "4 clients make transfers through the group reference (32 accounts, 32000 in all)"
"$client" run --clients 4 --accounts 32 --seconds 120 --stall-ms 1000 \
  "$work/bank.ior" > "$work/client.out" 2> "$work/client.err" &
cli=$!
wait_for 10 more_progress 1 || fail "the clients make no progress"

victim=$(primary_member)
vpid=$(member_pid "$victim")
say "kill -9 the primary, $victim (pid $vpid)"
p=$(progress)
kill -9 "$vpid"
wait_for 15 running3 || fail "phxd did not restore 3 replicas after the first kill"
wait_for 10 more_progress $((p + 1)) || fail "the clients made no progress after the fail-over"
stall1=$(stall_after "$p")
say "a new primary took over; the longest client call around it: ${stall1} ms"
say "phxd restarted a replica:"
ctl group bank | sed 's/^/           /'
ctl group bank | awk '$4 == "running" { print $3 }' >> "$work/replica.pids"

second=$(backup_member)
[ -n "$second" ] || fail "no backup to kill"
say "phxctl kill-replica bank $second (a backup)"
p=$(progress)
ctl kill-replica bank "$second" > /dev/null || fail "phxctl kill-replica failed"
wait_for 3 bash -c "! $phxctl --endpoint tcp://127.0.0.1:$base group bank | grep -q '^ *$second '" || true
wait_for 15 running3 || fail "phxd did not restore 3 replicas after the second kill"
wait_for 10 more_progress $((p + 1)) || fail "the clients made no progress after the second kill"
ctl group bank | awk '$4 == "running" { print $3 }' >> "$work/replica.pids"
stall2=$(stall_after "$p")
say "phxd restarted it; the longest client call around it: ${stall2} ms"
wait_for 10 more_progress $(( $(progress) + 1 )) || true

kill -TERM "$cli"
wait "$cli"
cstatus=$?
cli=
done_line=$(grep '^DONE' "$work/client.out")
say "clients stopped: ${done_line#DONE }"

echo
echo "Timeline (phxctl watch):"
grep -E ' (placed|ready|primary|failover|fault|killed|view|daemon) ' "$work/events.out" |
  sed 's/^/  /'
echo
echo "Client-visible stall (longest call): ${stall1} ms across the fail-over,"
echo "${stall2} ms across the backup's kill; $(progress) seconds of transfers."

ack=$(sed -n 's/.*acknowledged=\([0-9]*\).*/\1/p' <<< "$done_line")
errs=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<< "$done_line")
[ "$cstatus" = 0 ] && [ "$errs" = 0 ] || fail "client calls failed: $(tail -n 3 "$work/client.err")"

# Every running replica, asked directly.
echo
echo "The replicas, asked directly:"
ctl --json group bank | grep -o '"ior": *"IOR:[0-9a-fA-F]*"' |
  sed 's/.*"\(IOR:[0-9a-fA-F]*\)"/\1/' > "$work/members.ior"
n=0
applied=
digest=
consistent=yes
while read -r ior; do
  s=$("$client" summary "$ior") || { consistent=no; continue; }
  echo "  $s"
  n=$((n + 1))
  t=$(sed -n 's/.*transfers=\([0-9]*\).*/\1/p' <<< "$s")
  d=$(sed -n 's/.*digest=\([0-9a-f]*\).*/\1/p' <<< "$s")
  grep -q ' total=32000 ' <<< "$s" || consistent=no
  [ -z "$applied" ] && applied=$t
  [ -z "$digest" ] && digest=$d
  [ "$t" = "$applied" ] && [ "$d" = "$digest" ] || consistent=no
done < "$work/members.ior"
failovers=$(grep -c ' failover ' "$work/events.out")
echo
if [ "$n" = 3 ] && [ "$consistent" = yes ] && [ "$applied" = "$ack" ]; then
  echo "Every acknowledged transfer was applied exactly once on every replica;"
  echo "$failovers fail-over(s), no client call failed."
  echo "RESULT: PASS acknowledged=$ack applied=$applied replicas=$n consistent=$consistent"
  exit 0
fi
echo "RESULT: FAIL acknowledged=$ack applied=${applied:-?} replicas=$n consistent=$consistent"
exit 1
