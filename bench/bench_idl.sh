#!/bin/sh
# bench_idl.sh - phx-idl compile time and peak memory on generated IDL.
#
#   bench/bench_idl.sh PHX_IDL [NAME...]   (bench/run calls it)
#
# Figures (one line each, the bench/run format):
#   idl_compile_10k   a generated file of about 10,000 lines (front end and
#                     C back end, files written), against the same work on
#                     1,000 lines: ratio = 10k time / 1k time (10 is linear)
#   idl_compile_100k  about 100,000 lines against 10,000 lines
# median_us/p99_us: median and slowest of BENCH_RUNS compiles (default 5);
# ops_s: IDL lines compiled per second; peak_kb: peak resident memory.
set -eu

idl=$1
shift
if [ ! -x /usr/bin/time ]; then
    echo "bench_idl: /usr/bin/time is needed (Debian package: time)" >&2
    exit 1
fi
runs=${BENCH_RUNS:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

want() {
    [ -z "$names" ] && return 0
    for n in $names; do [ "$n" = "$1" ] && return 0; done
    return 1
}
names="$*"

# One compile: prints "seconds peak_kb" (wall time from the nanosecond
# clock; /usr/bin/time's own is only to 10 ms).
compile_once() {
    rm -rf "$work/out" && mkdir -p "$work/out"
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/time" "$idl" -o "$work/out" "$1" \
        > /dev/null 2> "$work/err" || {
        echo "bench_idl: phx-idl failed on $1:" >&2
        head -5 "$work/err" >&2
        exit 1
    }
    t1=$(date +%s%N)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }') $(cat "$work/time")"
}

# Compile a file of N lines RUNS times; sets med_us p99_us peak_kb.
measure() {
    f=$work/big$1.idl
    sh "$top/tests/idl/gen_big.sh" "$1" > "$f"
    compile_once "$f" > /dev/null
    : > "$work/samples"
    peak_kb=0
    i=0
    while [ $i -lt "$runs" ]; do
        set -- $(compile_once "$f")
        echo "$1" >> "$work/samples"
        [ "$2" -gt "$peak_kb" ] && peak_kb=$2
        i=$((i + 1))
    done
    sorted=$(sort -n "$work/samples")
    med_s=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    max_s=$(echo "$sorted" | tail -1)
    med_us=$(awk -v s="$med_s" 'BEGIN { printf "%.0f", s * 1e6 }')
    p99_us=$(awk -v s="$max_s" 'BEGIN { printf "%.0f", s * 1e6 }')
}

line() { # name lines baseline_name baseline_us
    ops=$(awk -v n="$2" -v us="$med_us" 'BEGIN { printf "%.0f", (us > 0 ? n / (us / 1e6) : 0) }')
    ratio=$(awk -v a="$med_us" -v b="$4" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    echo "$1: median_us=$med_us p99_us=$p99_us ops_s=$ops vs=$3 ratio=$ratio peak_kb=$peak_kb"
}

if want idl_compile_10k || want idl_compile_100k; then
    measure 1000
    us_1k=$med_us
    measure 10000
    us_10k=$med_us
    if want idl_compile_10k; then
        line idl_compile_10k 10000 idl_compile_1k "$us_1k"
    fi
    if want idl_compile_100k; then
        measure 100000
        line idl_compile_100k 100000 idl_compile_10k "$us_10k"
    fi
fi
