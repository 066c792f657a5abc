#!/bin/sh
# replay_giop.sh - replay the GIOP fuzz corpus as a regression test.
#
# Runs tests/fuzz/replay_giop (the fuzz target linked to a plain main) over
# every file of tests/fuzz/corpus/giop.  Run by "make check", which sets
# PHX_BUILDDIR and PHX_SRCDIR; exit 77 means skipped.

builddir=${PHX_BUILDDIR:-.}
srcdir=${PHX_SRCDIR:-${srcdir:-.}}
corpus=$srcdir/tests/fuzz/corpus/giop
replay=$builddir/tests/fuzz/replay_giop

if test ! -d "$corpus"; then
    echo "replay_giop: no corpus at $corpus; skipping"
    exit 77
fi
if test ! -x "$replay"; then
    echo "replay_giop: $replay not built (run make check)" >&2
    exit 99
fi
exec "$replay" "$corpus"
