#!/bin/sh
# test_naming.sh - CosNaming between Phalanx and omniNames: omniNames on a
# free loopback port with a temporary data directory; the Phalanx client
# (C stubs of idl/CosNaming.idl) binds a Phalanx object under
# "interop.ctx/everything", resolves it back and calls it; the omniORB
# client resolves the same name through corbaloc:iiop:.../NameService and
# calls the Phalanx object.  omniNames is killed by its PID.
# docs/interop.md.  Exit 77 without omniORB or omniNames.

. "${PHX_SRCDIR:-.}/tests/interop/lib.sh"
need_omni
need_omninames

port=$(free_port)
mkdir "$tmp/names"
start names "$omninames" -start "$port" -datadir "$tmp/names" -always \
    -ORBendPoint "giop:tcp:127.0.0.1:$port"
names_pid=$last_pid
wait_for 20 grep -q 'Checkpointing completed' "$tmp/names.err" ||
    fail "omniNames did not start on port $port"

start_phx_server phx
ns="corbaloc:iiop:1.2@127.0.0.1:$port/NameService"
run_t 60 phx_naming "$interop/phx_client" naming "$ns" \
    interop.ctx/everything "@$tmp/phx.ior" ||
    { cat "$tmp/phx_naming.out"; fail "Phalanx through omniNames"; }
cat "$tmp/phx_naming.out"
run_t 60 omni_naming "$interop/omni_client" naming \
    "corbaloc:iiop:127.0.0.1:$port/NameService" interop.ctx/everything ||
    { grep '^FAIL' "$tmp/omni_naming.err"; fail "omniORB resolving the Phalanx object"; }
cat "$tmp/omni_naming.out"

kill "$names_pid"
wait_exit "$names_pid" 10 || fail "omniNames did not stop"
say "PASS"
