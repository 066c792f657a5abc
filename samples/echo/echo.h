/*
 * echo.h - the Echo interface under the short names the sample, the ORB
 * tests and the benchmarks use, on top of the C mapping that phx-idl
 * generates from samples/echo/echo.idl (samples/echo/gen/echo.h, with
 * OMG-style names: phalanx_Echo_echo_long...).
 *
 * Two things differ from the generated API and are adapted here:
 * echo_octets takes and returns plain buffers, and an implementation is a
 * table of functions (Echo_impl) whose echo_octets gets the argument as a
 * pointer and a length.
 */
#ifndef PHX_SAMPLE_ECHO_H
#define PHX_SAMPLE_ECHO_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <phx/phx.h>

#include "samples/echo/gen/echo.h"

#define ECHO_REPO_ID phalanx_Echo__repo_id
#define ECHO_FAILED_REPO_ID ex_phalanx_Echo_Failed

typedef phalanx_Echo_Failed Echo_Failed;
#define Echo_Failed_tc TC_phalanx_Echo_Failed
#define Echo_interface phalanx_Echo__iface

/* ---- client stubs: 0, PHX_ESYSEX or PHX_EUSEREX (env says which) ---- */

#define Echo_echo_long phalanx_Echo_echo_long
#define Echo_ping phalanx_Echo_ping
#define Echo_count phalanx_Echo_count
#define Echo_fail phalanx_Echo_fail
#define Echo_sleep_ms phalanx_Echo_sleep_ms
#define Echo_shutdown phalanx_Echo_shutdown

/* Deferred forms, for pipelining. */
#define Echo_echo_long_send phalanx_Echo_echo_long__send
#define Echo_echo_long_recv phalanx_Echo_echo_long__recv

/* *out is malloc'd (caller frees), also when empty. */
static inline int Echo_echo_octets(phx_object_t *obj, const void *data,
                                   size_t len, uint8_t **out,
                                   size_t *out_len, phx_env_t *env)
{
    phalanx_Echo_Octets in = {._maximum = (uint32_t)len,
                              ._length = (uint32_t)len,
                              ._buffer = (uint8_t *)data};
    phalanx_Echo_Octets ret;
    int rc;

    if (len > UINT32_MAX)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "echo_octets: %zu octets is too many", len);
    rc = phalanx_Echo_echo_octets(obj, &in, &ret, env);
    if (rc != PHX_OK)
        return rc;
    if (ret._buffer == NULL && (ret._buffer = malloc(1)) == NULL)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_YES,
                              NULL);
    *out = ret._buffer;
    *out_len = ret._length;
    return PHX_OK;
}

/* ---- servant side ---- */

typedef struct Echo_impl {
    int (*echo_long)(void *self, int32_t v, int32_t *ret, phx_env_t *env);
    /* Returns its result in a sequence it fills (the skeleton frees
     * _buffer when _release is set). */
    int (*echo_octets)(void *self, const uint8_t *data, size_t len,
                       phx_sequence_t *ret, phx_env_t *env);
    int (*ping)(void *self, int32_t v, phx_env_t *env);
    int (*count)(void *self, int32_t *ret, phx_env_t *env);
    int (*fail)(void *self, int32_t code, const char *why, phx_env_t *env);
    int (*sleep_ms)(void *self, int32_t ms, phx_env_t *env);
    int (*shutdown)(void *self, phx_env_t *env);
} Echo_impl;

/* The generated servant (its first member is the phx_servant_t 'base'
 * to activate), with the function table that adapts Echo_impl to it. */
typedef struct Echo_servant {
    union {
        phx_servant_t base;
        phalanx_Echo__servant generated;
    };
    phalanx_Echo__epv epv;
    const Echo_impl *impl;
    void *self;
} Echo_servant;

#define ECHO__IMPL(s) (((const Echo_servant *)(s))->impl)
#define ECHO__SELF(s) (((const Echo_servant *)(s))->self)

static inline int Echo__echo_long(void *s, int32_t v, int32_t *ret,
                                  phx_env_t *env)
{
    return ECHO__IMPL(s)->echo_long(ECHO__SELF(s), v, ret, env);
}

static inline int Echo__echo_octets(void *s, const phalanx_Echo_Octets *data,
                                    phalanx_Echo_Octets *ret, phx_env_t *env)
{
    phx_sequence_t r = {0, 0, NULL, false};
    int rc = ECHO__IMPL(s)->echo_octets(ECHO__SELF(s), data->_buffer,
                                        data->_length, &r, env);
    ret->_maximum = r._maximum;
    ret->_length = r._length;
    ret->_buffer = r._buffer;
    ret->_release = r._release;
    return rc;
}

static inline int Echo__ping(void *s, int32_t v, phx_env_t *env)
{
    return ECHO__IMPL(s)->ping(ECHO__SELF(s), v, env);
}

static inline int Echo__count(void *s, int32_t *ret, phx_env_t *env)
{
    return ECHO__IMPL(s)->count(ECHO__SELF(s), ret, env);
}

static inline int Echo__fail(void *s, int32_t code, const char *why,
                             phx_env_t *env)
{
    return ECHO__IMPL(s)->fail(ECHO__SELF(s), code, why, env);
}

static inline int Echo__sleep_ms(void *s, int32_t ms, phx_env_t *env)
{
    return ECHO__IMPL(s)->sleep_ms(ECHO__SELF(s), ms, env);
}

static inline int Echo__shutdown(void *s, phx_env_t *env)
{
    return ECHO__IMPL(s)->shutdown(ECHO__SELF(s), env);
}

static inline void Echo_servant_init(Echo_servant *sv, const Echo_impl *impl,
                                     void *self)
{
    memset(sv, 0, sizeof *sv);
    sv->epv.echo_long = Echo__echo_long;
    sv->epv.echo_octets = Echo__echo_octets;
    sv->epv.ping = Echo__ping;
    sv->epv.count = Echo__count;
    sv->epv.fail = Echo__fail;
    sv->epv.sleep_ms = Echo__sleep_ms;
    sv->epv.shutdown = Echo__shutdown;
    sv->impl = impl;
    sv->self = self;
    phalanx_Echo__servant_init(&sv->generated, &sv->epv, sv);
}

/* Raise Echo::Failed from an implementation. */
static inline int Echo_raise_Failed(phx_env_t *env, int32_t code,
                                    const char *why)
{
    phalanx_Echo_Failed ex = {.code = code, .why = (char *)why};
    return phalanx_Echo_Failed__raise(env, &ex);
}

#endif
