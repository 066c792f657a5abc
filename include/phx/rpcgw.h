/*
 * rpcgw.h - the ONC RPC gateway: unchanged ONC RPC clients (rpcgen
 * stubs, clnt_create "tcp") call an object group through it.
 *
 * The gateway listens on TCP, reads RPC calls (RFC 5531, record
 * marking), maps (program, version, procedure) onto an operation
 * description (the tables phx-idl generates for a .x file:
 * P_V__rpc_procs[], docs/onc-rpc-mapping.md), decodes the arguments with
 * XDR (include/phx/xdr.h) into the operation's C storage, invokes the
 * target with phx_op_invoke and encodes the result with XDR.
 *
 *   phx_rpcgw_config_t cfg;  phx_rpcgw_config_init(&cfg);
 *   cfg.listen = "tcp://127.0.0.1:0";
 *   phx_rpcgw_create(&cfg, &gw, &err);
 *   phx_rpcgw_add_program(gw, P_V__rpc_prog, P_V__rpc_vers, P_V__rpc_procs,
 *                         P_V__rpc_proc_count, group_ref, &err);
 *   phx_rpcgw_start(gw, &err);          ... phx_rpcgw_destroy(gw);
 *
 * The target is any reference; for fail-over it is an object group
 * reference (IOGR) and the caller installs the FT client
 * (phx_ft_client_install) on the reference's ORB: the gateway then sees
 * a call that either succeeds or fails after the request duration.
 *
 * Replies: NULLPROC (0) answers an empty SUCCESS for every served
 * version; an unknown program PROG_UNAVAIL; a known program with another
 * version PROG_MISMATCH (lowest, highest served); an unknown procedure
 * PROC_UNAVAIL; undecodable arguments (or trailing bytes) GARBAGE_ARGS;
 * an exception from the target (the group could not be reached within
 * the request duration, or anything else) SYSTEM_ERR; rpcvers other than
 * 2 RPC_MISMATCH; bad credentials AUTH_ERROR (AUTH_BADCRED for malformed
 * AUTH_NONE/AUTH_SYS, AUTH_REJECTEDCRED for other flavours,
 * AUTH_BADVERF for a verifier that is not an empty AUTH_NONE).  A record
 * larger than max_record closes the connection (logged).
 *
 * Threads: one acceptor thread, and one thread per connection up to
 * max_connections (further connections are closed at once, logged), so a
 * slow client never blocks the others.  Calls on one connection are
 * served in order.
 */
#ifndef PHX_RPCGW_H
#define PHX_RPCGW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/error.h>
#include <phx/opdesc.h>
#include <phx/orb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The same type phx-idl's generated headers declare. */
#ifndef PHX_RPC_PROC_T_DEFINED
#define PHX_RPC_PROC_T_DEFINED
typedef struct phx_rpc_proc {
    uint32_t proc;
    const phx_opdesc_t *op;
} phx_rpc_proc_t;
#endif

typedef struct phx_rpcgw phx_rpcgw_t;

typedef struct phx_rpcgw_config {
    const char *listen;          /* "tcp://HOST:PORT" (PORT 0: any) */
    size_t max_record;           /* default 1 MiB */
    unsigned max_connections;    /* default 64 */
    uint32_t idle_timeout_ms;    /* close idle connections (0: never;
                                  * default 0) */
} phx_rpcgw_config_t;

void phx_rpcgw_config_init(phx_rpcgw_config_t *cfg);

int phx_rpcgw_create(const phx_rpcgw_config_t *cfg, phx_rpcgw_t **out,
                     phx_error_t *err);

/* Serve (prog, vers) with procs[0..count) on target (referenced).  Before
 * phx_rpcgw_start.  PHX_EEXIST for a pair already served; PHX_EINVAL for
 * a table with a procedure 0, a duplicate number, or an operation the
 * mapping cannot carry (out/inout parameters). */
int phx_rpcgw_add_program(phx_rpcgw_t *gw, uint32_t prog, uint32_t vers,
                          const phx_rpc_proc_t *procs, size_t count,
                          phx_object_t *target, phx_error_t *err);

/* Bind and listen, start the acceptor.  */
int phx_rpcgw_start(phx_rpcgw_t *gw, phx_error_t *err);

/* The port bound (after start). */
uint16_t phx_rpcgw_port(const phx_rpcgw_t *gw);

/* Register every served (prog, vers) with the portmapper at
 * 127.0.0.1:111 (PMAPPROC_SET, v2, over TCP) / unregister (PMAPPROC_UNSET).
 * PHX_ECONNREFUSED when none runs; PHX_EPROTO when it says no. */
int phx_rpcgw_register(phx_rpcgw_t *gw, phx_error_t *err);
int phx_rpcgw_unregister(phx_rpcgw_t *gw, phx_error_t *err);

typedef struct phx_rpcgw_stats {
    uint64_t connections, calls, success, prog_unavail, prog_mismatch,
        proc_unavail, garbage_args, system_err, rpc_mismatch, auth_error,
        oversized, refused_connections;
} phx_rpcgw_stats_t;
void phx_rpcgw_get_stats(phx_rpcgw_t *gw, phx_rpcgw_stats_t *st);

/* Stop accepting, close every connection, join the threads, unregister
 * if registered, release the targets.  NULL-safe. */
void phx_rpcgw_destroy(phx_rpcgw_t *gw);

#ifdef __cplusplus
}
#endif

#endif /* PHX_RPCGW_H */
