#!/bin/sh
# test_giop_versions.sh - omniORB clients limited to GIOP 1.0 and 1.1
# (-ORBmaxGIOPVersion) against a Phalanx server, which speaks GIOP 1.2
# only: the call must fail promptly with a system exception (no hang, no
# crash), the server must log the refusal and go on serving GIOP 1.2
# clients.  Records what omniORB reports (docs/interop.md).
# Exit 77 without omniORB.

. "${PHX_SRCDIR:-.}/tests/interop/lib.sh"
need_omni

start_phx_server phx
phx_pid=$last_pid
for v in 1.0 1.1; do
    run_t 30 "giop$v" "$interop/omni_client" -ORBmaxGIOPVersion "$v" \
        call "@$tmp/phx.ior" --expect-fail ||
        fail "GIOP $v: the call did not fail cleanly"
    say "GIOP $v: omniORB got $(cat "$tmp/giop$v.out")"
    kill -0 "$phx_pid" 2>/dev/null || fail "the server died after GIOP $v"
done
grep -q 'version 1.0 not supported' "$tmp/phx.err" ||
    fail "the server did not report the GIOP 1.0 request"
run_t 30 giop12 "$interop/omni_client" call "@$tmp/phx.ior" ||
    fail "a GIOP 1.2 client is not served after the refusals"
say "PASS: GIOP 1.0/1.1 refused with MessageError, server still serving"
