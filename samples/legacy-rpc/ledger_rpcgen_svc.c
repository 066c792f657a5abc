/*
 * ledger_rpcgen_svc.c - compiles rpcgen's generated ledger_svc.c (made
 * by the build in samples/legacy-rpc/rpcgen/) unchanged, with the
 * warnings rpcgen's output always triggers (unused locals, casts of XDR
 * routines to xdrproc_t) silenced: the rest of the tree keeps -Werror.
 */
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wcast-function-type"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "samples/legacy-rpc/rpcgen/ledger_svc.c"
