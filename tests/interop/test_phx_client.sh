#!/bin/sh
# test_phx_client.sh - the Phalanx client (phx_client.c, C stubs of
# idl/everything.idl) calls every operation of an omniORB server
# (omni_server.cc) and checks every value; it also reads omniORB's
# TAG_CODE_SETS.  docs/interop.md.  Exit 77 without omniORB.

. "${PHX_SRCDIR:-.}/tests/interop/lib.sh"
need_omni

start_omni_server omni
omni_pid=$last_pid
run_t 120 phx "$interop/phx_client" everything "@$tmp/omni.ior" ||
    { cat "$tmp/phx.out"; fail "phx_client everything"; }
cat "$tmp/phx.out"
wait_exit "$omni_pid" 10 || fail "omni_server did not stop on shutdown()"
say "PASS"
