#!/bin/sh
# replay_idl.sh - replay the IDL fuzz corpus as a regression test.
#
# Runs tests/fuzz/replay_idl (the phx-idl front-end fuzz target linked to a
# plain main) over every file of tests/fuzz/corpus/idl.  Run by
# "make check", which sets PHX_BUILDDIR and PHX_SRCDIR; exit 77 means
# skipped.

builddir=${PHX_BUILDDIR:-.}
srcdir=${PHX_SRCDIR:-${srcdir:-.}}
corpus=$srcdir/tests/fuzz/corpus/idl
replay=$builddir/tests/fuzz/replay_idl

if test ! -d "$corpus"; then
    echo "replay_idl: no corpus at $corpus; skipping"
    exit 77
fi
if test ! -x "$replay"; then
    echo "replay_idl: $replay not built (run make check)" >&2
    exit 99
fi
exec "$replay" "$corpus"
