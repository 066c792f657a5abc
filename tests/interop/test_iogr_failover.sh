#!/bin/sh
# test_iogr_failover.sh - what an omniORB client gets from a Phalanx
# object group reference (IOGR), docs/interop.md.  Two plain
# everything-servers (same object key "everything") are the "members";
# phx_client builds the IOGR with phx_ft_iogr_build: one IIOP profile per
# member, each with TAG_FT_GROUP, the first with TAG_FT_PRIMARY
# (components omniORB ignores).  The omniORB client calls through it,
# member a (first profile) is killed with SIGKILL, and the client calls
# again:
#
#  1. plain IOGR: omniORB 4.2 uses only the first IIOP profile of a
#     reference, so every call after the kill fails (COMM_FAILURE on the
#     old connection, then TRANSIENT): no fail-over.  Recorded, checked.
#  2. IOGR whose IIOP profiles also list the other members' addresses as
#     TAG_ALTERNATE_IIOP_ADDRESS components (phx_client iogr
#     --alternates): omniORB fails over to member b; the call that first
#     finds a dead may end in COMM_FAILURE (COMPLETED_MAYBE, not retried
#     by omniORB), the next one succeeds.  Connection-level fail-over
#     only: no FT_REQUEST, so not exactly-once.
#
# Exit 77 without omniORB.

. "${PHX_SRCDIR:-.}/tests/interop/lib.sh"
need_omni

# round NAME [--alternates]: two members, kill the first, call again.
round() {
    r=$1
    shift
    start_phx_server "${r}a"
    a_pid=$last_pid
    start_phx_server "${r}b"
    b_pid=$last_pid
    run_t 20 "${r}iogr" "$interop/phx_client" iogr "$@" "$tmp/$r.ior" \
        "@$tmp/${r}a.ior" "@$tmp/${r}b.ior" || fail "cannot build the IOGR"
    run_t 20 "${r}profiles" "$interop/phx_client" codesets "@$tmp/$r.ior" ||
        fail "IOGR profiles"
    cat "$tmp/${r}profiles.out"
    rm -f "$tmp/go"
    start "${r}client" "$interop/omni_client" call "@$tmp/$r.ior" \
        --wait-file "$tmp/go"
    client_pid=$last_pid
    wait_for 30 grep -q 'first ok' "$tmp/${r}client.out" ||
        fail "$r: the first call through the IOGR failed"
    kill -9 "$a_pid"
    wait_exit "$a_pid" 10 || fail "member a did not die"
    touch "$tmp/go"
    wait_exit "$client_pid" 30 || fail "$r: the omniORB client hangs"
    wait "$client_pid"
    rc=$?
    sed "s/^/$r: /" "$tmp/${r}client.out"
    kill "$b_pid"
}

round plain
test "$rc" -ne 0 && grep -q 'TRANSIENT' "$tmp/plainclient.out" ||
    fail "plain IOGR: omniORB did something else than failing on the first profile (status $rc)"
say "plain IOGR: no fail-over (omniORB uses the first IIOP profile only)"

round alt --alternates
test "$rc" -eq 0 && grep -q 'second ok after [01] failed' "$tmp/altclient.out" ||
    fail "IOGR with alternate addresses: no fail-over to member b (status $rc)"
say "PASS: with TAG_ALTERNATE_IIOP_ADDRESS omniORB failed over to member b"
