#!/bin/sh
# run.sh - golden tests of the phx-idl front end.
#
#   valid/*.idl     must compile with no diagnostic at all; when
#                   valid/NAME.ast exists, "phx-idl --ast" must print
#                   exactly that tree.
#   invalid/*.idl   must fail (exit status 1) with exactly the diagnostics
#                   of invalid/NAME.err on stderr.
#
# A first line "// phx-idl: ARGS" gives a file extra options (-I, -D...).
# Files are compiled from tests/idl/ so that messages name them relative
# to it.  The command line itself and a generated 10,000-line file are
# checked at the end.
#
# Run by "make check" (PHX_BUILDDIR and PHX_SRCDIR set).  To rewrite the
# golden files after a deliberate change: PHX_UPDATE=1 tests/idl/run.sh,
# then review the diff.

builddir=${PHX_BUILDDIR:-.}
srcdir=${PHX_SRCDIR:-${srcdir:-.}}
builddir=$(cd "$builddir" && pwd)
idl=$builddir/compiler/phx-idl

if test ! -x "$idl"; then
    echo "run.sh: $idl not built (run make check)" >&2
    exit 99
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/phx-idl-test.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
cd "$srcdir/tests/idl" || exit 99

pass=0
fail=0

failed() {
    echo "FAIL: $*"
    fail=$((fail + 1))
}

args_of() {
    sed -n '1s|^// phx-idl: ||p' "$1"
}

for f in valid/*.idl; do
    name=${f%.idl}
    # shellcheck disable=SC2046
    "$idl" --ast $(args_of "$f") "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if test $rc -ne 0 || test -s "$tmp/err"; then
        failed "$f: exit status $rc, diagnostics:"
        cat "$tmp/err"
        continue
    fi
    if test -n "$PHX_UPDATE" && test -f "$name.ast"; then
        cp "$tmp/out" "$name.ast"
    fi
    if test -f "$name.ast" && ! diff -u "$name.ast" "$tmp/out"; then
        failed "$f: the tree differs from $name.ast"
        continue
    fi
    pass=$((pass + 1))
done

for f in invalid/*.idl; do
    name=${f%.idl}
    # shellcheck disable=SC2046
    "$idl" --ast $(args_of "$f") "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if test -n "$PHX_UPDATE"; then
        cp "$tmp/err" "$name.err"
    fi
    if test $rc -ne 1; then
        failed "$f: exit status $rc, expected 1"
        cat "$tmp/err"
        continue
    fi
    if test ! -f "$name.err"; then
        failed "$f: no $name.err; the diagnostics were:"
        cat "$tmp/err"
        continue
    fi
    if ! diff -u "$name.err" "$tmp/err"; then
        failed "$f: diagnostics differ from $name.err"
        continue
    fi
    pass=$((pass + 1))
done

# The command line.
check_cli() {
    want=$1
    shift
    "$idl" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if test $rc -ne "$want"; then
        failed "phx-idl $*: exit status $rc, expected $want"
        cat "$tmp/err"
    else
        pass=$((pass + 1))
    fi
}
check_cli 0 --help
grep -q '^usage: phx-idl' "$tmp/out" || failed "--help prints no usage"
check_cli 0 --version
grep -q '^phx-idl ' "$tmp/out" || failed "--version prints no version"
check_cli 2
check_cli 2 --no-such-option valid/basic_types.idl
check_cli 2 -I
check_cli 1 --ast no-such-file.idl
grep -q '^no-such-file.idl: error: cannot read the file' "$tmp/err" ||
    failed "a missing file is not reported as FILE: error: ..."
check_cli 1 --ast valid/basic_types.idl invalid/syntax_missing_semi.idl
check_cli 0 --ast -I valid/include -D PHX_TEST_MACRO=3 -U PHX_UNDEFINED \
    valid/basic_types.idl
check_cli 1 -o "$tmp/no-such-dir" valid/basic_types.idl
# Code generation: nothing is left behind after an error.
mkdir "$tmp/gen"
printf 'interface Pinger { long ping(in long x); };\n' >"$tmp/ping.idl"
check_cli 0 -o "$tmp/gen" "$tmp/ping.idl"
rm -rf "$tmp/gen"
mkdir "$tmp/gen"
check_cli 1 -o "$tmp/gen" invalid/syntax_missing_semi.idl
if test -n "$(ls -A "$tmp/gen")"; then
    failed "files were left in the output directory after an error"
fi

# A generated 10,000-line file compiles cleanly (timing: see docs/idl.md).
sh ./gen_big.sh 10000 >"$tmp/big.idl"
check_cli 0 --ast "$tmp/big.idl"

echo "tests/idl: $pass passed, $fail failed"
test $fail -eq 0
