#!/bin/sh
# test_bank_demo.sh - the headline demo as a test: three phxd daemons, a
# WARM_PASSIVE bank, kill -9 of the primary and phxctl kill-replica of a
# backup under continuous transfers; it fails unless the demo ends with
# RESULT: PASS (every acknowledged transfer applied exactly once on three
# consistent replicas).
out=$(bash "${PHX_SRCDIR:-.}/samples/bank/demo.sh" 2>&1)
status=$?
printf '%s\n' "$out"
[ $status -eq 0 ] || exit 1
printf '%s\n' "$out" | tail -n 1 | grep -q '^RESULT: PASS acknowledged=[0-9]* applied=[0-9]* replicas=3 consistent=yes$'
