/*
 * echo_stubs.c - stubs and skeletons of the Echo interface (see echo.h).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"

static const phx_tc_member_t Failed_members[] = {
    {.name = "code", .type = &phx_tc_long,
     .offset = offsetof(Echo_Failed, code)},
    {.name = "why", .type = &phx_tc_string,
     .offset = offsetof(Echo_Failed, why)},
};

const phx_typecode_t Echo_Failed_tc = {
    .kind = PHX_TK_EXCEPT,
    .repo_id = ECHO_FAILED_REPO_ID,
    .name = "Failed",
    .members = Failed_members,
    .member_count = 2,
    .c_size = sizeof(Echo_Failed),
    .c_align = _Alignof(Echo_Failed),
};

static const phx_typecode_t *const fail_raises[] = {&Echo_Failed_tc};

/* ------------------------------------------------------------------ */
/* Stubs                                                                */
/* ------------------------------------------------------------------ */

static int start(phx_object_t *obj, const char *op, unsigned flags,
                 phx_request_t **req, phx_env_t *env)
{
    int rc = phx_request_create(obj, op, flags, req);
    if (rc != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "cannot create request '%s'", op);
    return PHX_OK;
}

static int bad_reply(phx_env_t *env, const char *op)
{
    return phx_env_system(env, PHX_SYSEX_MARSHAL, 0, PHX_COMPLETED_YES,
                          "cannot decode the reply of '%s'", op);
}

int Echo_echo_long_send(phx_object_t *obj, int32_t v, phx_request_t **req,
                        phx_env_t *env)
{
    int rc = start(obj, "echo_long", 0, req, env);
    if (rc != PHX_OK)
        return rc;
    phx_cdr_put_long(phx_request_args(*req), v);
    rc = phx_request_send(*req, env);
    if (rc != PHX_OK) {
        phx_request_destroy(*req);
        *req = NULL;
    }
    return rc;
}

int Echo_echo_long_recv(phx_request_t *req, int32_t *ret, phx_env_t *env)
{
    int rc = phx_request_wait(req, env);
    if (rc == PHX_OK && phx_cdr_get_long(phx_request_result(req), ret))
        rc = bad_reply(env, "echo_long");
    phx_request_destroy(req);
    return rc;
}

int Echo_echo_long(phx_object_t *obj, int32_t v, int32_t *ret,
                   phx_env_t *env)
{
    phx_request_t *req;
    int rc = start(obj, "echo_long", 0, &req, env);
    if (rc != PHX_OK)
        return rc;
    phx_cdr_put_long(phx_request_args(req), v);
    rc = phx_request_invoke(req, env);
    if (rc == PHX_OK && phx_cdr_get_long(phx_request_result(req), ret))
        rc = bad_reply(env, "echo_long");
    phx_request_destroy(req);
    return rc;
}

int Echo_echo_octets(phx_object_t *obj, const void *data, size_t len,
                     uint8_t **out, size_t *out_len, phx_env_t *env)
{
    phx_request_t *req;
    int rc = start(obj, "echo_octets", 0, &req, env);
    if (rc != PHX_OK)
        return rc;
    phx_cdr_put_octet_seq(phx_request_args(req), data, len);
    rc = phx_request_invoke(req, env);
    if (rc == PHX_OK) {
        const uint8_t *p;
        size_t n;
        if (phx_cdr_get_octet_seq(phx_request_result(req), &p, &n) != 0) {
            rc = bad_reply(env, "echo_octets");
        } else if ((*out = malloc(n ? n : 1)) == NULL) {
            rc = phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                PHX_COMPLETED_YES, NULL);
        } else {
            memcpy(*out, p, n);
            *out_len = n;
        }
    }
    phx_request_destroy(req);
    return rc;
}

int Echo_ping(phx_object_t *obj, int32_t v, phx_env_t *env)
{
    phx_request_t *req;
    int rc = start(obj, "ping", PHX_REQ_ONEWAY, &req, env);
    if (rc != PHX_OK)
        return rc;
    phx_cdr_put_long(phx_request_args(req), v);
    rc = phx_request_invoke(req, env);
    phx_request_destroy(req);
    return rc;
}

int Echo_count(phx_object_t *obj, int32_t *ret, phx_env_t *env)
{
    phx_request_t *req;
    int rc = start(obj, "count", 0, &req, env);
    if (rc != PHX_OK)
        return rc;
    rc = phx_request_invoke(req, env);
    if (rc == PHX_OK && phx_cdr_get_long(phx_request_result(req), ret))
        rc = bad_reply(env, "count");
    phx_request_destroy(req);
    return rc;
}

int Echo_fail(phx_object_t *obj, int32_t code, const char *why,
              phx_env_t *env)
{
    phx_request_t *req;
    int rc = start(obj, "fail", 0, &req, env);
    if (rc != PHX_OK)
        return rc;
    phx_request_set_exceptions(req, fail_raises, 1);
    phx_cdr_put_long(phx_request_args(req), code);
    phx_cdr_put_string(phx_request_args(req), why);
    rc = phx_request_invoke(req, env);
    phx_request_destroy(req);
    return rc;
}

int Echo_sleep_ms(phx_object_t *obj, int32_t ms, phx_env_t *env)
{
    phx_request_t *req;
    int rc = start(obj, "sleep_ms", 0, &req, env);
    if (rc != PHX_OK)
        return rc;
    phx_cdr_put_long(phx_request_args(req), ms);
    rc = phx_request_invoke(req, env);
    phx_request_destroy(req);
    return rc;
}

int Echo_shutdown(phx_object_t *obj, phx_env_t *env)
{
    phx_request_t *req;
    int rc = start(obj, "shutdown", PHX_REQ_ONEWAY, &req, env);
    if (rc != PHX_OK)
        return rc;
    rc = phx_request_invoke(req, env);
    phx_request_destroy(req);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Skeletons                                                            */
/* ------------------------------------------------------------------ */

#define IMPL(sv) (((Echo_servant *)(sv))->impl)
#define SELF(sv) (((Echo_servant *)(sv))->self)

static int skel_echo_long(phx_servant_t *sv, phx_server_request_t *sr,
                          phx_env_t *env)
{
    int32_t v, ret = 0;
    if (phx_cdr_get_long(phx_server_request_args(sr), &v) != PHX_OK)
        return PHX_EMARSHAL;
    int rc = IMPL(sv)->echo_long(SELF(sv), v, &ret, env);
    if (rc == PHX_OK)
        rc = phx_cdr_put_long(phx_server_request_reply(sr), ret);
    return rc;
}

static int skel_echo_octets(phx_servant_t *sv, phx_server_request_t *sr,
                            phx_env_t *env)
{
    const uint8_t *p;
    size_t n;
    if (phx_cdr_get_octet_seq(phx_server_request_args(sr), &p, &n) != 0)
        return PHX_EMARSHAL;
    phx_sequence_t ret = {0};
    int rc = IMPL(sv)->echo_octets(SELF(sv), p, n, &ret, env);
    if (rc == PHX_OK)
        rc = phx_cdr_put_octet_seq(phx_server_request_reply(sr), ret._buffer,
                                   ret._length);
    if (ret._release)
        free(ret._buffer);
    return rc;
}

static int skel_ping(phx_servant_t *sv, phx_server_request_t *sr,
                     phx_env_t *env)
{
    int32_t v;
    if (phx_cdr_get_long(phx_server_request_args(sr), &v) != PHX_OK)
        return PHX_EMARSHAL;
    return IMPL(sv)->ping(SELF(sv), v, env);
}

static int skel_count(phx_servant_t *sv, phx_server_request_t *sr,
                      phx_env_t *env)
{
    int32_t ret = 0;
    int rc = IMPL(sv)->count(SELF(sv), &ret, env);
    if (rc == PHX_OK)
        rc = phx_cdr_put_long(phx_server_request_reply(sr), ret);
    return rc;
}

static int skel_fail(phx_servant_t *sv, phx_server_request_t *sr,
                     phx_env_t *env)
{
    int32_t code;
    const char *why;
    size_t n;
    phx_cdr_reader_t *r = phx_server_request_args(sr);
    phx_cdr_get_long(r, &code);
    if (phx_cdr_get_string(r, &why, &n) != PHX_OK)
        return PHX_EMARSHAL;
    return IMPL(sv)->fail(SELF(sv), code, why, env);
}

static int skel_sleep_ms(phx_servant_t *sv, phx_server_request_t *sr,
                         phx_env_t *env)
{
    int32_t ms;
    if (phx_cdr_get_long(phx_server_request_args(sr), &ms) != PHX_OK)
        return PHX_EMARSHAL;
    return IMPL(sv)->sleep_ms(SELF(sv), ms, env);
}

static int skel_shutdown(phx_servant_t *sv, phx_server_request_t *sr,
                         phx_env_t *env)
{
    (void)sr;
    return IMPL(sv)->shutdown(SELF(sv), env);
}

static const phx_operation_t Echo_ops[] = {
    {"echo_long", skel_echo_long}, {"echo_octets", skel_echo_octets},
    {"ping", skel_ping},           {"count", skel_count},
    {"fail", skel_fail},           {"sleep_ms", skel_sleep_ms},
    {"shutdown", skel_shutdown},
};

const phx_interface_t Echo_interface = {
    .repo_id = ECHO_REPO_ID,
    .bases = NULL,
    .base_count = 0,
    .ops = Echo_ops,
    .op_count = sizeof Echo_ops / sizeof Echo_ops[0],
};

void Echo_servant_init(Echo_servant *sv, const Echo_impl *impl, void *self)
{
    memset(sv, 0, sizeof *sv);
    sv->base.iface = &Echo_interface;
    sv->base.impl = sv;
    sv->impl = impl;
    sv->self = self;
}

int Echo_raise_Failed(phx_env_t *env, int32_t code, const char *why)
{
    Echo_Failed *ex = calloc(1, sizeof *ex);
    if (ex == NULL || (ex->why = strdup(why ? why : "")) == NULL) {
        free(ex);
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                              PHX_COMPLETED_MAYBE, NULL);
    }
    ex->code = code;
    return phx_env_user(env, &Echo_Failed_tc, ex);
}
