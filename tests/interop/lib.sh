# lib.sh - helpers for the interoperability tests (sourced, POSIX sh).
. "$(cd "$(dirname "$0")/.." && pwd)/integration/procs.sh"
#
# Run by "make check", which sets PHX_BUILDDIR and PHX_SRCDIR.  Every
# process a test starts is recorded and killed by its PID at exit; every
# wait has a deadline.  Exit 77 (skip) only when the omniORB programs or
# omniNames are missing.

builddir=${PHX_BUILDDIR:-.}
srcdir=${PHX_SRCDIR:-${srcdir:-.}}
interop=$builddir/tests/interop
test_name=${0##*/}
test_name=${test_name%.sh}

pids=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/phx-interop.XXXXXX") || exit 99

cleanup() {
    for p in $pids; do
        kill_ours -9 "$p"
    done
    for p in $pids; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM

say() { printf '%s: %s\n' "$test_name" "$*"; }
fail() {
    say "FAIL: $*"
    for f in "$tmp"/*.err; do
        test -s "$f" && { echo "--- $f"; tail -n 20 "$f"; }
    done
    exit 1
}
skip() { say "SKIP: $*"; exit 77; }

# need_omni: skip unless the omniORB programs were built.
need_omni() {
    for p in omni_client omni_server; do
        test -x "$interop/$p" ||
            skip "$interop/$p not built: configure found no omniORB (on Debian: apt-get install libomniorb4-dev omniidl omniorb-nameserver g++, then re-run configure)"
    done
    test -x "$interop/phx_client" || fail "$interop/phx_client not built"
}

# need_omninames: skip unless omniNames is installed; sets $omninames.
need_omninames() {
    omninames=$(command -v omniNames 2>/dev/null)
    test -n "$omninames" ||
        skip "omniNames not found (on Debian: apt-get install omniorb-nameserver)"
}

# start NAME CMD...: run CMD in the background, stdout to $tmp/NAME.out,
# stderr to $tmp/NAME.err; its PID in $last_pid and in the kill list.
start() {
    name=$1
    shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    last_pid=$!
    pids="$pids $last_pid"
}

# wait_for SECONDS TEST...: poll TEST every 50 ms until it succeeds or the
# deadline passes (status 1).
wait_for() {
    limit=$(( $1 * 20 ))
    shift
    i=0
    while ! "$@" 2>/dev/null; do
        i=$((i + 1))
        test "$i" -ge "$limit" && return 1
        sleep 0.05
    done
    return 0
}

has_line() { test -s "$1" && head -n 1 "$1" | grep -q "$2"; }

# start_phx_server NAME [ARGS...]: tests/integration/everything-server
# (IIOP on a free loopback port unless ARGS say otherwise); waits for its
# IOR, which ends up in $tmp/NAME.ior.
start_phx_server() {
    name=$1
    shift
    test $# -gt 0 || set -- --listen 'iiop://127.0.0.1:*'
    start "$name" "$builddir/tests/integration/everything-server" "$@"
    wait_for 20 has_line "$tmp/$name.out" '^IOR:' ||
        fail "$name did not print its IOR"
    head -n 1 "$tmp/$name.out" >"$tmp/$name.ior"
}

# start_omni_server NAME [-ORB options]: omni_server on loopback; waits
# for the IOR file $tmp/NAME.ior.
start_omni_server() {
    name=$1
    shift
    start "$name" "$interop/omni_server" \
        -ORBendPoint giop:tcp:127.0.0.1: "$@" "$tmp/$name.ior"
    wait_for 20 test -s "$tmp/$name.ior" || fail "$name wrote no IOR"
}

# wait_exit PID SECONDS: true once PID has exited.
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_exit() { wait_for "$2" gone "$1"; }

# free_port: a TCP port nobody listens on at the moment (bind to port 0
# and read the port back).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $(( 20000 + $$ % 20000 ))
}

# run_t SECONDS NAME CMD...: run CMD in the foreground with a deadline
# (timeout(1)), output in $tmp/NAME.out / .err; returns CMD's status.
run_t() {
    secs=$1
    name=$2
    shift 2
    timeout -k 5 "$secs" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
}
