/*
 * rpctest_impl.c - see rpctest_impl.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/rpc/gen/rpctest.h"
#include "tests/rpc/rpctest_impl.h"

static int do_echo(void *self, const everything *a, everything *ret,
                   phx_env_t *env)
{
    (void)self;
    if (phx_value_copy(&TC_everything, ret, a) != 0)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                              PHX_COMPLETED_NO, "copy");
    return 0;
}

static int do_get(void *self, int32_t k, result *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    memset(ret, 0, sizeof *ret);
    ret->_d = k;
    if (k == 0) {
        ret->_u.val.i = 42;
        ret->_u.val.s = strdup("forty-two");
        ret->_u.val.nm = strdup("n");
    } else if (k == 1) {
        ret->_u.err = strdup("no such key");
    }
    return 0;
}

static int do_add(void *self, int32_t a, int32_t b, int32_t *ret,
                  phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = (int32_t)((uint32_t)a + (uint32_t)b);
    return 0;
}

static int do_add3(void *self, int32_t a, int32_t b, int32_t *ret,
                   phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = (int32_t)((uint32_t)a + (uint32_t)b + 1000u);
    return 0;
}

static int do_ping(void *self, phx_env_t *env)
{
    (void)self;
    (void)env;
    return 0;
}

static int do_hello(void *self, const char *n, name *ret, phx_env_t *env)
{
    char buf[64];
    (void)self;
    (void)env;
    snprintf(buf, sizeof buf, "hi %s", n ? n : "");
    buf[32] = '\0';
    *ret = strdup(buf);
    return 0;
}

static const RPCTEST_RPCTEST_V1__epv v1_epv = {
    do_echo, do_get, do_add, do_ping, do_hello};
static const RPCTEST_RPCTEST_V3__epv v3_epv = {do_add3};
static RPCTEST_RPCTEST_V1__servant v1_sv;
static RPCTEST_RPCTEST_V3__servant v3_sv;

int rpctest_activate(phx_orb_t *orb, phx_object_t **v1, phx_object_t **v3,
                     phx_error_t *err)
{
    RPCTEST_RPCTEST_V1__servant_init(&v1_sv, &v1_epv, NULL);
    RPCTEST_RPCTEST_V3__servant_init(&v3_sv, &v3_epv, NULL);
    int rc = phx_orb_activate(orb, &v1_sv.base, "v1", 2, v1, err);
    if (rc == 0)
        rc = phx_orb_activate(orb, &v3_sv.base, "v3", 2, v3, err);
    return rc;
}
