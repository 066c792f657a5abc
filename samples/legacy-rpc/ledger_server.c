/*
 * ledger_server.c - the ledger's server procedures, written as rpcgen
 * servers are: one function per procedure, "<proc>_1_svc(argp, rqstp)",
 * a global state, static results.  It includes rpcgen's ledger.h and
 * would link unchanged with rpcgen's ledger_svc.c into a plain ONC RPC
 * server.  Here it is linked through the libffi bridge's rpcgen
 * convention into a replica (ledger_replica.c).
 *
 * The only additions for replication are ledger_get_state and
 * ledger_set_state at the end: the global state to and from bytes,
 * written with the same XDR routines rpcgen generated (ledger_xdr.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "samples/legacy-rpc/rpcgen/ledger.h"

#define MAXENTRIES 1024

static entry table[MAXENTRIES];
static int nentries;

static entry *find(const char *key)
{
    for (int i = 0; i < nentries; i++)
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    return NULL;
}

lookup_res *deposit_1_svc(deposit_args *argp, struct svc_req *rqstp)
{
    static lookup_res result;
    entry *e;

    (void)rqstp;
    e = find(argp->key);
    if (e == NULL) {
        if (nentries == MAXENTRIES || argp->amount < 0) {
            result.status = LEDGER_NOKEY;
            return &result;
        }
        e = &table[nentries++];
        e->key = strdup(argp->key);
        e->balance = 0;
        e->revision = 0;
    }
    if (e->balance + argp->amount < 0) {
        result.status = LEDGER_INSUFFICIENT;
        result.lookup_res_u.available = e->balance;
        return &result;
    }
    e->balance += argp->amount;
    e->revision++;
    result.status = LEDGER_OK;
    result.lookup_res_u.e = *e;
    return &result;
}

lookup_res *lookup_1_svc(char **argp, struct svc_req *rqstp)
{
    static lookup_res result;
    entry *e;

    (void)rqstp;
    e = find(*argp);
    if (e == NULL) {
        result.status = LEDGER_NOKEY;
    } else {
        result.status = LEDGER_OK;
        result.lookup_res_u.e = *e;
    }
    return &result;
}

int *count_1_svc(void *argp, struct svc_req *rqstp)
{
    static int result;

    (void)argp;
    (void)rqstp;
    result = nentries;
    return &result;
}

quad_t *total_1_svc(void *argp, struct svc_req *rqstp)
{
    static quad_t result;

    (void)argp;
    (void)rqstp;
    result = 0;
    for (int i = 0; i < nentries; i++)
        result += table[i].balance;
    return &result;
}

int *whoami_1_svc(void *argp, struct svc_req *rqstp)
{
    static int result;

    (void)argp;
    (void)rqstp;
    result = (int)getpid();
    return &result;
}

/* ---- for replication: the global state as XDR bytes ---- */

int ledger_get_state(void *arg, uint8_t **data, size_t *len)
{
    XDR x;
    size_t cap = 64;
    (void)arg;
    for (int i = 0; i < nentries; i++)
        cap += 32 + strlen(table[i].key);
    char *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    xdrmem_create(&x, buf, (u_int)cap, XDR_ENCODE);
    bool_t ok = xdr_int(&x, &nentries);
    for (int i = 0; ok && i < nentries; i++)
        ok = xdr_entry(&x, &table[i]);
    if (!ok) {
        xdr_destroy(&x);
        free(buf);
        return -1;
    }
    *len = xdr_getpos(&x);
    *data = (uint8_t *)buf;
    xdr_destroy(&x);
    return 0;
}

int ledger_set_state(void *arg, const void *data, size_t len)
{
    XDR x;
    int n = 0;
    (void)arg;
    xdrmem_create(&x, (char *)(uintptr_t)data, (u_int)len, XDR_DECODE);
    if (!xdr_int(&x, &n) || n < 0 || n > MAXENTRIES) {
        xdr_destroy(&x);
        return -1;
    }
    for (int i = 0; i < nentries; i++)
        xdr_free((xdrproc_t)xdr_entry, (char *)&table[i]);
    memset(table, 0, sizeof table);
    nentries = 0;
    for (int i = 0; i < n; i++) {
        if (!xdr_entry(&x, &table[i])) {
            xdr_free((xdrproc_t)xdr_entry, (char *)&table[i]);
            xdr_destroy(&x);
            return -1;
        }
        nentries++;
    }
    xdr_destroy(&x);
    return 0;
}

void ledger_clear(void)
{
    for (int i = 0; i < nentries; i++)
        xdr_free((xdrproc_t)xdr_entry, (char *)&table[i]);
    nentries = 0;
}
