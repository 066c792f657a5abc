/*
 * rpctest_impl.h - a servant of tests/rpc/rpctest.x (both versions), for
 * the gateway tests.
 *   ECHO(e) = e; GET(0) = {0, val}, GET(1) = {1, "no such key"}, GET(2) =
 *   {2} (void arm), GET(n) = {n} otherwise; ADD(a, b) = a + b (version 3:
 *   a + b + 1000); PING(); HELLO(n) = "hi " + n (cut to 32).
 */
#ifndef TESTS_RPC_RPCTEST_IMPL_H
#define TESTS_RPC_RPCTEST_IMPL_H

#include <phx/orb.h>

/* Activate both versions' servants on orb: references in *v1 and *v3. */
int rpctest_activate(phx_orb_t *orb, phx_object_t **v1, phx_object_t **v3,
                     phx_error_t *err);

#endif
