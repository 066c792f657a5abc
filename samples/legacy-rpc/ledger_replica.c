/*
 * ledger_replica.c - a replica of the ledger: the unchanged rpcgen-style
 * procedures of ledger_server.c, exposed as the operations of the
 * interface phx-idl made from ledger.x (LEDGER_PROG::LEDGER_VERS) by the
 * libffi bridge's rpcgen convention, and run by phx_replica_run
 * (settings from the command line and the environment, as every
 * replica: include/phx/replica.h; the default style here is ACTIVE).
 *
 *   ledger-replica --group ledger [--style active] [--seed GCS-EP] ...
 *
 * Clients reach the group through phx-rpcgw (docs/migrating-onc-rpc.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/ffi.h>
#include <phx/ft.h>
#include <phx/replica.h>

#include "samples/legacy-rpc/gen/ledger.h"

/* The procedures, as ledger_server.c defines them (their argument and
 * result types are rpcgen's, which have the layout of phx-idl's). */
void *deposit_1_svc(void *argp, void *rqstp);
void *lookup_1_svc(void *argp, void *rqstp);
void *count_1_svc(void *argp, void *rqstp);
void *total_1_svc(void *argp, void *rqstp);
void *whoami_1_svc(void *argp, void *rqstp);
int ledger_get_state(void *arg, uint8_t **data, size_t *len);
int ledger_set_state(void *arg, const void *data, size_t len);
void ledger_clear(void);

static const phx_ffi_binding_t bindings[] = {
    {"DEPOSIT", PHX_FFI_FN(deposit_1_svc), PHX_FFI_RPCGEN, 0, NULL},
    {"LOOKUP", PHX_FFI_FN(lookup_1_svc), PHX_FFI_RPCGEN, 0, NULL},
    {"COUNT", PHX_FFI_FN(count_1_svc), PHX_FFI_RPCGEN, 0, NULL},
    {"TOTAL", PHX_FFI_FN(total_1_svc), PHX_FFI_RPCGEN, 0, NULL},
    {"WHOAMI", PHX_FFI_FN(whoami_1_svc), PHX_FFI_RPCGEN, 0, NULL},
};

int main(int argc, char **argv)
{
    phx_replica_config_t cfg;
    phx_error_t err;
    int rc = phx_replica_parse(&cfg, "ledger-replica", argc, argv, &err);
    if (rc != PHX_OK) {
        phx_replica_config_fini(&cfg);
        if (rc == PHX_EEXIST)
            return 0;
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    phx_ffi_servant_t *sv;
    rc = phx_ffi_servant_new(&LEDGER_PROG_LEDGER_VERS__desc, bindings,
                             sizeof bindings / sizeof bindings[0], &sv, &err);
    if (rc != PHX_OK) {
        fprintf(stderr, "ledger-replica: %s\n", err.msg);
        phx_replica_config_fini(&cfg);
        return 1;
    }
    phx_replica_servant_t s = {
        .servant = phx_ffi_servant_base(sv),
        .key = "ledger",
        .arg = NULL,
        .get_state = ledger_get_state,
        .set_state = ledger_set_state,
    };
    rc = phx_replica_run(&cfg, &s, &err);
    if (rc != PHX_OK)
        fprintf(stderr, "ledger-replica: %s\n", err.msg);
    phx_replica_config_fini(&cfg);
    phx_ffi_servant_free(sv);
    ledger_clear();
    return rc == PHX_OK ? 0 : 1;
}
