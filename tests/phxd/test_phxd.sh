#!/usr/bin/env bash
# test_phxd.sh - phxd and phxctl against a running domain: three daemons
# on loopback deploy a 3-replica WARM_PASSIVE bank group, then
#   - a hung replica (SIGSTOP) is found by the is_alive probe, killed and
#     replaced;
#   - the leader daemon killed with SIGKILL takes its replica with it, the
#     next daemon takes over placement and re-places it; restarted, the old
#     leader rejoins and receives the state;
#   - another daemon killed: its replica is re-placed;
#   - phxctl add-replica raises the target; ior gives a working IOGR;
#   - phxctl output (human and --json), exit codes, phxd --check and an
#     invalid descriptor.
# Every process is started here and killed by PID at the end.
set -uo pipefail
. "$(cd "$(dirname "$0")/.." && pwd)/integration/procs.sh"

bdir=${PHX_BUILDDIR:-build}
bdir=$(cd "$bdir" && pwd)
phxd=$bdir/ft/phxd/phxd
phxctl=$bdir/ft/phxd/phxctl
replica=$bdir/samples/bank/bank-replica
client=$bdir/samples/bank/bank-client
work=$(mktemp -d)
declare -A dpid
watch=
bg=

cleanup() {
  [ -z "$watch" ] || kill_ours -9 "$watch"
  [ -z "$bg" ] || kill_ours -9 "$bg"
  for h in "${!dpid[@]}"; do kill_ours -TERM "${dpid[$h]}"; done
  for _ in $(seq 1 100); do
    alive=0
    for h in "${!dpid[@]}"; do kill -0 "${dpid[$h]}" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.05
  done
  [ -f "$work/pids" ] && while read -r p; do kill_ours -9 "$p" "${dpid[@]}"; done < "$work/pids"
  for h in "${!dpid[@]}"; do kill_ours -9 "${dpid[$h]}"; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "test_phxd: FAIL: $*" >&2
  for h in h1 h2 h3; do echo "--- $h"; tail -n 8 "$work/$h.log" 2>/dev/null; done >&2
  exit 1
}
ok() { echo "ok - $*"; }

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
  good=1
  for i in 0 1 2 3 4 5 10 11 12 13 14 15 16 17 18 19; do
    port_free $((b + i)) || { good=0; break; }
  done
  [ $good = 1 ] && { base=$b; break; }
done
[ -n "$base" ] || fail "no free ports"

cat > "$work/d.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<phalanx xmlns="urn:phalanx:deployment:1" domain="phxd-test">
  <logging level="info"/>
  <gcs heartbeat-ms="50" timeout-ms="300"/>
  <host name="h1" endpoint="tcp://127.0.0.1:$base" gcs-endpoint="tcp://127.0.0.1:$((base + 3))"/>
  <host name="h2" endpoint="tcp://127.0.0.1:$((base + 1))" gcs-endpoint="tcp://127.0.0.1:$((base + 4))"
        ports="$((base + 10))-$((base + 19))"/>
  <host name="h3" endpoint="tcp://127.0.0.1:$((base + 2))" gcs-endpoint="tcp://127.0.0.1:$((base + 5))"/>
  <group name="bank" type-id="IDL:Banking/Bank:1.0" style="WARM_PASSIVE"
         initial-replicas="3" minimum-replicas="2"
         fault-monitoring-interval-ms="200" fault-monitoring-timeout-ms="300">
    <factory workdir="$work">
      <command>$replica</command>
    </factory>
  </group>
</phalanx>
EOF

ep() { case $1 in h1) echo "tcp://127.0.0.1:$base" ;; h2) echo "tcp://127.0.0.1:$((base + 1))" ;; h3) echo "tcp://127.0.0.1:$((base + 2))" ;; esac; }
ctl() { local h=$1; shift; "$phxctl" --endpoint "$(ep "$h")" --timeout 2000 "$@"; }
start_daemon() {
  "$phxd" --descriptor "$work/d.xml" --host "$1" >> "$work/$1.log" 2>&1 &
  dpid[$1]=$!
}
running_is() { [ "$(ctl "$1" group bank | sed -n 's/^running: *//p')" = "$2" ]; }
record_pids() { ctl "$1" group bank | awk '$4 == "running" { print $3 }' >> "$work/pids"; }
member_on() { ctl "$1" group bank | awk -v h="$2" '$2 == h && $4 == "running" { print $1; exit }'; }
pid_of() { ctl "$1" group bank | awk -v m="$2" '$1 == m { print $3 }'; }
has_event() { grep -q -- "$1" "$work/events.out"; }
# A process is gone when it no longer exists or is a zombie (an orphan's
# new parent may take its time to reap it).
gone() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }

# ---- descriptor checks ----
"$phxd" --check "$work/d.xml" > /dev/null || fail "phxd --check rejects a valid descriptor"
sed 's/style="WARM_PASSIVE"/style="WARM"/' "$work/d.xml" > "$work/bad.xml"
out=$("$phxd" --descriptor "$work/bad.xml" --host h1 2>&1); st=$?
[ $st = 2 ] || fail "invalid descriptor: exit $st, expected 2"
grep -q "bad.xml:[0-9]*: .*'WARM'" <<< "$out" || fail "invalid descriptor message: $out"
out=$("$phxd" --descriptor "$work/d.xml" --host nowhere 2>&1); st=$?
[ $st = 2 ] && grep -q "nowhere" <<< "$out" || fail "unknown host: exit $st: $out"
out=$("$phxd" --frobnicate 2>&1); st=$?
[ $st = 2 ] || fail "unknown option: exit $st"
ok "descriptor checks and usage errors"

# ---- deployment ----
for h in h1 h2 h3; do start_daemon $h; done
wait_for 20 running_is h1 3 || fail "3 replicas did not start"
record_pids h1
for h in h1 h2 h3; do
  [ -n "$(member_on h1 $h)" ] || fail "no replica on $h: $(ctl h1 group bank)"
done
ok "three daemons placed one replica per host"
# h2 gives its replicas ports from its range.
p2=$(grep -o "placed on h2 (ports [0-9]*, [0-9]*)" "$work/h1.log" | head -n 1 |
  sed 's/.*ports \([0-9]*\), \([0-9]*\))/\1 \2/')
[ -n "$p2" ] || fail "no ports given on h2"
for p in $p2; do
  [ "$p" -ge $((base + 10)) ] && [ "$p" -le $((base + 19)) ] || fail "port $p outside h2's range"
done
port_free "${p2%% *}" && fail "nothing listens on h2's replica port ${p2%% *}"
ok "h2's replica listens on ports from its range ($p2)"
"$phxctl" --endpoint "$(ep h2)" watch > "$work/events.out" 2>&1 &
watch=$!
disown "$watch"

# Human and JSON output, from another daemon than the leader.
ctl h3 groups | grep -Eq '^bank +WARM_PASSIVE +3/3 ' || fail "phxctl groups: $(ctl h3 groups)"
ctl h3 --json group bank | grep -q '"name":"bank"' || fail "phxctl --json group"
ctl h2 daemons | grep -Eq "^h1 +\(leader\)" || fail "h1 should lead: $(ctl h2 daemons)"
ctl h1 group nosuch > /dev/null 2>&1; st=$?
[ $st = 1 ] || fail "phxctl group nosuch: exit $st, expected 1"
"$phxctl" --endpoint "tcp://127.0.0.1:1" --timeout 300 groups > /dev/null 2>&1; st=$?
[ $st = 3 ] || fail "phxctl with no daemon: exit $st, expected 3"
ok "phxctl output and exit codes"

# The group reference works.
ctl h1 ior bank > "$work/bank.ior" || fail "phxctl ior"
"$client" setup --accounts 8 --initial 100 "$work/bank.ior" > /dev/null || fail "setup through the IOGR"
"$client" run --clients 2 --accounts 8 --transfers 50 "$work/bank.ior" > "$work/c1.out" 2>&1 ||
  fail "transfers through the IOGR: $(tail -n 3 "$work/c1.out")"
ok "phxctl ior gives a working group reference"

# A client that keeps the first reference for the whole test: every
# original replica is replaced below, so it goes on only if the replicas
# redirect it to the group's current reference.
"$client" run --clients 1 --accounts 8 --seconds 120 "$work/bank.ior" \
  > "$work/bg.out" 2> "$work/bg.err" &
bg=$!
progress() { grep -c '^PROGRESS' "$work/bg.out" 2>/dev/null || echo 0; }
more_progress() { [ "$(progress)" -gt "$1" ]; }

# The state is the same everywhere.
same_state() { # daemon count
  ctl "$1" --json group bank | grep -o '"id":"[^"]*"\|"ior":"IOR:[0-9a-fA-F]*"' |
    sed 's/.*":"\(.*\)"/\1/' | paste - - > "$work/members"
  [ "$(wc -l < "$work/members")" = "$2" ] || fail "expected $2 members"
  local first=
  while read -r id ior; do
    s=$("$client" summary "$ior") || fail "summary of $id"
    s=${s% pid=*}
    [ -z "$first" ] && first=$s
    [ "$s" = "$first" ] || fail "replicas differ: $id has $s, not $first"
  done < "$work/members"
  grep -q ' total=800 ' <<< "$first" || fail "money made or lost: $first"
  transfers=$(sed -n 's/.*transfers=\([0-9]*\).*/\1/p' <<< "$first")
}

# ---- a hung replica ----
hung=$(member_on h1 h3)
hpid=$(pid_of h1 "$hung")
kill -STOP "$hpid"
wait_for 10 has_event "$hung does not answer" || fail "the probe did not find $hung hung"
wait_for 10 has_event "fault .*$hung" || fail "$hung was not killed"
wait_for 15 running_is h1 3 || fail "no replacement for the hung replica"
wait_for 5 gone "$hpid" || fail "the hung replica $hpid still exists"
record_pids h1
ok "a hung replica is detected by the probe, killed and replaced"

# ---- the leader dies ----
lpids=$(ctl h2 group bank | awk '$2 == "h1" && $4 == "running" { print $3 }')
kill -9 "${dpid[h1]}"
wait_for 10 has_event "h[23] leads the domain" || fail "no daemon took over"
wait_for 15 running_is h2 3 || fail "the new leader did not restore the group"
[ -z "$(member_on h2 h1)" ] || fail "a replica is still placed on h1"
for p in $lpids; do wait_for 5 gone "$p" || fail "replica $p outlived the leader"; done
record_pids h2
start_daemon h1
wait_for 10 grep -q "h1 received the domain's state" "$work/h1.log" ||
  fail "h1 did not receive the state"
ok "the next daemon leads when the leader dies; the old leader rejoins"

# ---- a daemon dies ----
victim=$(member_on h2 h3)
vpid=$(pid_of h2 "$victim")
kill -9 "${dpid[h3]}"
wait_for 10 has_event "daemon h3 left" || fail "h3's departure not seen"
wait_for 10 gone "$vpid" || fail "replica $vpid outlived its daemon"
wait_for 15 running_is h2 3 || fail "h3's replica was not re-placed"
[ -z "$(member_on h2 h3)" ] || fail "a replica is still placed on the dead host"
record_pids h2
ok "a dead daemon's replica is re-placed"

# ---- operator commands ----
new=$(ctl h2 add-replica bank h1) || fail "add-replica"
wait_for 15 running_is h2 4 || fail "add-replica did not start $new"
record_pids h2
ctl h2 add-replica bank nowhere > /dev/null 2>&1; st=$?
[ $st = 1 ] || fail "add-replica to an unknown host: exit $st"
k=$(member_on h2 h2)
ctl h2 kill-replica bank "$k" > /dev/null || fail "kill-replica"
wait_for 10 has_event "operator kill of $k" || fail "no event for the kill"
wait_for 15 running_is h2 4 || fail "the killed replica was not replaced"
record_pids h2
ok "add-replica and kill-replica"

p=$(progress)
wait_for 10 more_progress "$((p + 1))" || fail "the first client stopped: $(tail -n 3 "$work/bg.err")"
kill -TERM "$bg"
wait "$bg" || fail "the first client failed: $(tail -n 3 "$work/bg.err")"
ack=$(sed -n 's/^DONE acknowledged=\([0-9]*\).*/\1/p' "$work/bg.out")
for m in bank/0 bank/1 bank/2; do
  [ -z "$(ctl h2 group bank | awk -v m=$m '$1 == m')" ] || fail "$m is still a member"
done
ok "a client holding the first reference outlived every original replica"
same_state h2 4
[ "$transfers" = $((100 + ack)) ] || fail "$transfers transfers applied, $((100 + ack)) acknowledged"
ctl h2 group bank | grep -Eq '^requests: +[1-9]' || fail "no request count: $(ctl h2 group bank)"
ok "four replicas with the same state; every acknowledged transfer applied once"
echo "test_phxd: PASS"
