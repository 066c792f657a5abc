#!/bin/sh
# replay_rpc.sh - replay the ONC RPC fuzz corpus as a regression test.
#
# Runs tests/fuzz/replay_rpc (tests/fuzz/fuzz_rpc.c linked to a plain
# main) over every file of tests/fuzz/corpus/rpc.  Run by "make check",
# which sets PHX_BUILDDIR and PHX_SRCDIR; exit 77 means skipped.

builddir=${PHX_BUILDDIR:-.}
srcdir=${PHX_SRCDIR:-${srcdir:-.}}
corpus=$srcdir/tests/fuzz/corpus/rpc
replay=$builddir/tests/fuzz/replay_rpc

if test ! -d "$corpus"; then
    echo "replay_rpc: no corpus at $corpus; skipping"
    exit 77
fi
if test ! -x "$replay"; then
    echo "replay_rpc: $replay not built (run make check)" >&2
    exit 99
fi
exec "$replay" "$corpus"
