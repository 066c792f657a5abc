#!/bin/sh
# bench_omni.sh - an omniORB client's IIOP round trip against ours
# (docs/interop.md, docs/PERFORMANCE.md's format):
#
#   iiop_omni_echo: median_us=... p99_us=... vs=orb_iiop_echo_long ratio=...
#
# omni_client and phx_client each make N (default 20000) op_long calls
# (idl/everything.idl: three longs in, three out) on the same Phalanx
# everything-server over IIOP, one after the other; the baseline is
# Phalanx's own client on the same server and operation, printed as
# orb_iiop_echo_long (the bench_orb figure of that name measures
# Echo::echo_long; this one is the like-for-like comparison).  Run from
# the build tree after make check:
#
#   PHX_BUILDDIR=$PWD PHX_SRCDIR=/path/to/src sh $PHX_SRCDIR/tests/interop/bench_omni.sh [N]

. "${PHX_SRCDIR:-.}/tests/interop/lib.sh"
need_omni
n=${1:-20000}

# Pinned like bench_orb's *_pinned figures when taskset exists: server on
# CPU 0, clients on CPU 1 (unpinned IIOP figures swing widely on small
# machines, docs/PERFORMANCE.md).
pin_s= pin_c=
if command -v taskset >/dev/null 2>&1 && test "$(nproc 2>/dev/null || echo 1)" -ge 2; then
    pin_s="taskset -c 0"
    pin_c="taskset -c 1"
fi
start phx $pin_s "$builddir/tests/integration/everything-server" \
    --listen 'iiop://127.0.0.1:*'
wait_for 20 has_line "$tmp/phx.out" '^IOR:' || fail "no server"
head -n 1 "$tmp/phx.out" >"$tmp/phx.ior"
# Warm up both, then measure.
run_t 60 warm_omni $pin_c "$interop/omni_client" echo "@$tmp/phx.ior" 1000 || fail "omni warm-up"
run_t 60 warm_phx $pin_c "$interop/phx_client" echo "@$tmp/phx.ior" 1000 || fail "phx warm-up"
run_t 300 omni $pin_c "$interop/omni_client" echo "@$tmp/phx.ior" "$n" || fail "omni_client echo"
run_t 300 phxc $pin_c "$interop/phx_client" echo "@$tmp/phx.ior" "$n" || fail "phx_client echo"

om=$(sed -n 's/.*median_us=\([0-9.]*\).*/\1/p' "$tmp/omni.out")
op=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' "$tmp/omni.out")
pm=$(sed -n 's/.*median_us=\([0-9.]*\).*/\1/p' "$tmp/phxc.out")
pp=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' "$tmp/phxc.out")
awk -v om="$om" -v op="$op" -v pm="$pm" -v pp="$pp" 'BEGIN {
    printf "orb_iiop_echo_long: median_us=%.2f p99_us=%.2f ops_s=%.0f vs=self ratio=1.00\n", pm, pp, 1e6 / pm
    printf "iiop_omni_echo: median_us=%.2f p99_us=%.2f ops_s=%.0f vs=orb_iiop_echo_long ratio=%.2f\n", om, op, 1e6 / om, om / pm
}'
