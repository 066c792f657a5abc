#!/bin/sh
# test_omni_client.sh - an omniORB C++ client (omni_client.cc) calls every
# operation of idl/everything.idl on the Phalanx everything-server over
# IIOP and checks every value; the Phalanx reference carries TAG_CODE_SETS
# and omniORB sends a CodeSets service context that Phalanx accepts; a
# reference with a Phalanx ZeroMQ profile first and an IIOP profile
# second works for omniORB too (it skips the unknown profile).
# docs/interop.md.  Exit 77 without omniORB.

. "${PHX_SRCDIR:-.}/tests/interop/lib.sh"
need_omni

start_phx_server phx
phx_pid=$last_pid

# Phalanx's IIOP profile announces its code sets.
run_t 20 codesets "$interop/phx_client" codesets "@$tmp/phx.ior" ||
    fail "Phalanx's IOR: no TAG_CODE_SETS with native ISO-8859-1"
cat "$tmp/codesets.out"

# Every operation, then the oneway shutdown.  -ORBtraceLevel 25 makes
# omniORB log the code set negotiation.
run_t 120 omni "$interop/omni_client" -ORBtraceLevel 25 \
    everything "@$tmp/phx.ior" --shutdown ||
    { cat "$tmp/omni.out"; grep '^FAIL' "$tmp/omni.err"; fail "omni_client everything"; }
grep -v '^omniORB' "$tmp/omni.out"
grep -q 'Send codeset service context: (ISO-8859-1' "$tmp/omni.err" ||
    fail "omniORB did not negotiate ISO-8859-1 from Phalanx's TAG_CODE_SETS"
say "omniORB sent: $(grep -m1 -o 'Send codeset service context: .*' "$tmp/omni.err")"
wait_exit "$phx_pid" 10 || fail "everything-server did not stop on shutdown()"

# ZeroMQ profile first, IIOP second.
start_phx_server mixed --listen 'tcp://127.0.0.1:*' --listen 'iiop://127.0.0.1:*'
run_t 30 mixed_call "$interop/omni_client" call "@$tmp/mixed.ior" ||
    fail "omniORB cannot use the IIOP profile behind a ZeroMQ one"
say "PASS"
