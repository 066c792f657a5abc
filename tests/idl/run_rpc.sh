#!/bin/sh
# run_rpc.sh - golden tests of phx-idl's ONC RPC language input
# (compiler/xparse.c, docs/onc-rpc-mapping.md).
#
#   rpc/valid/*.x     must compile; "phx-idl --ast" must print exactly
#                     rpc/valid/NAME.ast, and stderr must be empty or,
#                     when rpc/valid/NAME.err exists, exactly that (notes).
#   rpc/invalid/*.x   must fail (exit status 1) with exactly the
#                     diagnostics of rpc/invalid/NAME.err on stderr.
#
# Then the C generated from rpc/valid/{ping,dir,types}.x is compiled with
# the build's compiler and warning flags (-Werror) and linked with
# rpc/test_rpc_gen.c and the ORB library, and that program runs: it checks
# the procedure tables and marshals union / optional values through the
# generated TypeCodes.
#
# Run by "make check" (PHX_BUILDDIR and PHX_SRCDIR set).  To rewrite the
# golden files after a deliberate change: PHX_UPDATE=1 tests/idl/run_rpc.sh,
# then review the diff.

builddir=${PHX_BUILDDIR:-.}
srcdir=${PHX_SRCDIR:-${srcdir:-.}}
builddir=$(cd "$builddir" && pwd)
srcdir=$(cd "$srcdir" && pwd)
idl=$builddir/compiler/phx-idl

if test ! -x "$idl"; then
    echo "run_rpc.sh: $idl not built (run make check)" >&2
    exit 99
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/phx-idl-rpc.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
cd "$srcdir/tests/idl/rpc" || exit 99

pass=0
fail=0

failed() {
    echo "FAIL: $*"
    fail=$((fail + 1))
}

for f in valid/*.x; do
    name=${f%.x}
    "$idl" --ast "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if test -n "$PHX_UPDATE" && test $rc -eq 0; then
        cp "$tmp/out" "$name.ast"
        if test -s "$tmp/err"; then cp "$tmp/err" "$name.err"; fi
    fi
    if test $rc -ne 0; then
        failed "$f: exit status $rc, diagnostics:"
        cat "$tmp/err"
        continue
    fi
    if test -f "$name.err"; then
        if ! diff -u "$name.err" "$tmp/err"; then
            failed "$f: diagnostics differ from $name.err"
            continue
        fi
    elif test -s "$tmp/err"; then
        failed "$f: unexpected diagnostics:"
        cat "$tmp/err"
        continue
    fi
    if ! diff -u "$name.ast" "$tmp/out"; then
        failed "$f: the tree differs from $name.ast"
        continue
    fi
    pass=$((pass + 1))
done

for f in invalid/*.x; do
    name=${f%.x}
    "$idl" --ast "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if test -n "$PHX_UPDATE"; then
        cp "$tmp/err" "$name.err"
    fi
    if test $rc -ne 1; then
        failed "$f: exit status $rc, expected 1"
        cat "$tmp/err"
        continue
    fi
    if ! diff -u "$name.err" "$tmp/err"; then
        failed "$f: diagnostics differ from $name.err"
        continue
    fi
    pass=$((pass + 1))
done

# --rpc reads a file of any name as RPC language; without it, as IDL.
cp valid/ping.x "$tmp/ping.idl"
if "$idl" --ast --rpc "$tmp/ping.idl" >"$tmp/out" 2>"$tmp/err" &&
    grep -q 'rpc(prog=1 vers=2)' "$tmp/out"; then
    pass=$((pass + 1))
else
    failed "--rpc does not read ping.idl as RPC language"
    cat "$tmp/err"
fi
if "$idl" --ast "$tmp/ping.idl" >/dev/null 2>&1; then
    failed "ping.idl without --rpc compiled as IDL"
else
    pass=$((pass + 1))
fi
"$idl" --ast no-such-file.x >/dev/null 2>"$tmp/err"
if test $? -eq 1 &&
    grep -q '^no-such-file.x: error: cannot read the file' "$tmp/err"; then
    pass=$((pass + 1))
else
    failed "a missing .x file is not reported as FILE: error: ..."
fi

# The generated C compiles cleanly and works.
mkvar() {
    sed -n "s/^$1 = //p" "$builddir/Makefile" | head -n 1
}
CC=${CC:-$(mkvar CC)}
cflags="$(mkvar STD_CFLAGS) $(mkvar WARN_CFLAGS) $(mkvar PTHREAD_CFLAGS)"
cflags="$cflags $(mkvar CFLAGS) $(mkvar ZMQ_CFLAGS)"
libs="$(mkvar ZMQ_LIBS) $(mkvar PTHREAD_LIBS) $(mkvar LIBS) -lm"
lib=$builddir/orb/.libs/libphx-orb.a
if test ! -f "$lib"; then
    lib="$builddir/orb/.libs/libphx-orb.so -Wl,-rpath,$builddir/orb/.libs"
fi
mkdir "$tmp/gen"
gen_ok=true
for x in ping dir types; do
    if ! "$idl" -o "$tmp/gen" "valid/$x.x" 2>"$tmp/err"; then
        failed "phx-idl -o: valid/$x.x:"
        cat "$tmp/err"
        gen_ok=false
    fi
done
if $gen_ok; then
    # shellcheck disable=SC2086
    if (cd "$tmp/gen" &&
        $CC $cflags -D_GNU_SOURCE -I"$srcdir/include" -I"$builddir" -I. \
            -o test_rpc_gen "$srcdir/tests/idl/rpc/test_rpc_gen.c" \
            ./*-common.c ./*-stubs.c ./*-skels.c $lib $libs) \
            >"$tmp/cc.log" 2>&1; then
        pass=$((pass + 1))
        if "$tmp/gen/test_rpc_gen"; then
            pass=$((pass + 1))
        else
            failed "test_rpc_gen failed"
        fi
    else
        failed "the generated C does not compile:"
        cat "$tmp/cc.log"
    fi
fi

echo "tests/idl/rpc: $pass passed, $fail failed"
test $fail -eq 0
