#!/usr/bin/env bash
# rpcgw_echo.sh - ONC RPC through phx-rpcgw to a three-replica ACTIVE
# group, against the same unchanged rpcgen client talking to a plain
# rpcgen server, in the same run (samples/legacy-rpc; WHOAMI, a call
# with no argument and an int result).
#
#   bench/rpcgw_echo.sh BUILDDIR
#
# Prints "rpcgw_echo: median_us=... p99_us=... vs=rpc_plain ratio=..."
# (ratio: median through the gateway / median plain).  BENCH_SCALE
# scales the number of calls (default 2000).
set -euo pipefail

bdir=${1:-${PHX_BUILDDIR:-build}}
sdir=$bdir/samples/legacy-rpc
for b in "$sdir/ledger-replica" "$sdir/ledger-client" \
         "$sdir/ledger-plain-server" "$bdir/ft/rpcgw/phx-rpcgw"; do
  if [ ! -x "$b" ]; then
    echo "rpcgw_echo: skipped: $b not built (rpcgen/libtirpc missing?)" >&2
    exit 0
  fi
done
n=$(awk -v s="${BENCH_SCALE:-1}" 'BEGIN { n = int(2000 * s); print (n < 50 ? 50 : n) }')

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
wait_line() {
  for _ in $(seq 1 3000); do
    if line=$(grep -m1 -- "$2" "$1" 2>/dev/null); then
      printf '%s\n' "$line"; return 0
    fi
    sleep 0.01
  done
  echo "rpcgw_echo: timed out waiting for '$2' in $1" >&2; exit 1
}

"$sdir/ledger-plain-server" 0 > "$work/plain.out" 2>&1 &
pids+=($!)
l=$(wait_line "$work/plain.out" '^LISTENING ')
pport=${l#LISTENING }

seed=
for r in r1 r2 r3; do
  args=(--group rpcgw-bench-$$ --style active --members 1)
  [ -z "$seed" ] || args+=(--seed "$seed")
  "$sdir/ledger-replica" "${args[@]}" > "$work/$r.out" 2> "$work/$r.err" &
  pids+=($!)
  g=$(wait_line "$work/$r.out" '^GCS ')
  [ -n "$seed" ] || seed=${g#GCS }
  x=$(wait_line "$work/$r.out" '^READY ')
  echo "${x#READY }" > "$work/$r.ior"
done
wait_line "$work/r1.out" '^VIEW [0-9]* 3$' > /dev/null
"$bdir/ft/rpcgw/phx-rpcgw" --listen tcp://127.0.0.1:0 \
  --describe "$sdir/ledger.phxif" --program LEDGER_PROG \
  --target "$work/r1.ior" --target "$work/r2.ior" --target "$work/r3.ior" \
  > "$work/gw.out" 2> "$work/gw.err" &
pids+=($!)
l=$(wait_line "$work/gw.out" '^LISTENING ')
gport=${l##*:}

# warm up both, then measure
"$sdir/ledger-client" 127.0.0.1 "$pport" bench 50 > /dev/null
"$sdir/ledger-client" 127.0.0.1 "$gport" bench 50 > /dev/null
read -r _ pmed pp99 < <("$sdir/ledger-client" 127.0.0.1 "$pport" bench "$n")
read -r _ gmed gp99 < <("$sdir/ledger-client" 127.0.0.1 "$gport" bench "$n")
ratio=$(awk -v a="$gmed" -v b="$pmed" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
[ -z "${BENCH_VERBOSE:-}" ] || echo "rpc_plain: median_us=$pmed p99_us=$pp99" >&2
echo "rpcgw_echo: median_us=$gmed p99_us=$gp99 vs=rpc_plain ratio=$ratio"
