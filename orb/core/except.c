/*
 * except.c - system and user exceptions, and the environment struct.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/except.h>
#include <phx/typecode.h>

#include "orb_impl.h"

static const char *const sysex_ids[PHX_SYSEX_COUNT] = {
    [PHX_SYSEX_NONE] = "",
#define PHX__SYSEX_ID(n) [PHX_SYSEX_##n] = "IDL:omg.org/CORBA/" #n ":1.0",
    PHX_SYSEXCEPTIONS(PHX__SYSEX_ID)
#undef PHX__SYSEX_ID
};

static const char *const sysex_names[PHX_SYSEX_COUNT] = {
    [PHX_SYSEX_NONE] = "NONE",
#define PHX__SYSEX_NAME(n) [PHX_SYSEX_##n] = #n,
    PHX_SYSEXCEPTIONS(PHX__SYSEX_NAME)
#undef PHX__SYSEX_NAME
};

const char *phx_sysex_repo_id(phx_sysex_t ex)
{
    return (unsigned)ex < PHX_SYSEX_COUNT ? sysex_ids[ex] : "";
}

const char *phx_sysex_name(phx_sysex_t ex)
{
    return (unsigned)ex < PHX_SYSEX_COUNT ? sysex_names[ex] : "?";
}

phx_sysex_t phx_sysex_from_repo_id(const char *id)
{
    static const char prefix[] = "IDL:omg.org/CORBA/";
    if (id == NULL || strncmp(id, prefix, sizeof prefix - 1) != 0)
        return PHX_SYSEX_NONE;
    for (int i = 1; i < PHX_SYSEX_COUNT; i++)
        if (strcmp(id, sysex_ids[i]) == 0)
            return (phx_sysex_t)i;
    return PHX_SYSEX_NONE;
}

const char *phx_completion_name(phx_completion_t c)
{
    switch (c) {
    case PHX_COMPLETED_YES:
        return "COMPLETED_YES";
    case PHX_COMPLETED_NO:
        return "COMPLETED_NO";
    case PHX_COMPLETED_MAYBE:
        return "COMPLETED_MAYBE";
    }
    return "COMPLETED_?";
}

void phx_env_init(phx_env_t *env)
{
    memset(env, 0, sizeof *env);
    env->major = PHX_NO_EXCEPTION;
    env->completed = PHX_COMPLETED_NO;
}

void phx_env_clear(phx_env_t *env)
{
    if (env == NULL)
        return;
    free(env->repo_id);
    free(env->detail);
    if (env->user_value) {
        if (env->user_tc)
            phx_value_free(env->user_tc, env->user_value);
        free(env->user_value);
    }
    phx_env_init(env);
}

int phx_env_system(phx_env_t *env, phx_sysex_t ex, uint32_t minor,
                   phx_completion_t completed, const char *detail, ...)
{
    if (env == NULL)
        return PHX_ESYSEX;
    phx_env_clear(env);
    if ((unsigned)ex >= PHX_SYSEX_COUNT || ex == PHX_SYSEX_NONE)
        ex = PHX_SYSEX_UNKNOWN;
    env->major = PHX_SYSTEM_EXCEPTION;
    env->sysex = ex;
    env->minor = minor;
    env->completed = completed;
    env->repo_id = strdup(sysex_ids[ex]);
    if (detail) {
        char buf[512];
        va_list ap;
        va_start(ap, detail);
        vsnprintf(buf, sizeof buf, detail, ap);
        va_end(ap);
        env->detail = strdup(buf);
    }
    return PHX_ESYSEX;
}

int phx_env_system_id(phx_env_t *env, const char *repo_id, uint32_t minor,
                      phx_completion_t completed)
{
    phx_sysex_t ex = phx_sysex_from_repo_id(repo_id);
    if (ex != PHX_SYSEX_NONE)
        return phx_env_system(env, ex, minor, completed, NULL);
    phx_env_system(env, PHX_SYSEX_UNKNOWN, minor, completed,
                   "non-standard system exception %s",
                   repo_id ? repo_id : "(null)");
    if (env && repo_id) {
        char *id = strdup(repo_id);
        if (id) {
            free(env->repo_id);
            env->repo_id = id;
        }
    }
    return PHX_ESYSEX;
}

int phx_env_user(phx_env_t *env, const struct phx_typecode *tc, void *value)
{
    if (env == NULL || tc == NULL || tc->repo_id == NULL)
        return PHX_EINVAL;
    char *id = strdup(tc->repo_id);
    if (id == NULL)
        return PHX_ENOMEM;
    phx_env_clear(env);
    env->major = PHX_USER_EXCEPTION;
    env->repo_id = id;
    env->user_tc = tc;
    env->user_value = value;
    env->completed = PHX_COMPLETED_YES;
    return PHX_EUSEREX;
}

int phx_env_copy(phx_env_t *dst, const phx_env_t *src)
{
    phx_env_clear(dst);
    dst->major = src->major;
    dst->sysex = src->sysex;
    dst->minor = src->minor;
    dst->completed = src->completed;
    if (src->repo_id && (dst->repo_id = strdup(src->repo_id)) == NULL)
        return PHX_ENOMEM;
    if (src->detail && (dst->detail = strdup(src->detail)) == NULL)
        return PHX_ENOMEM;
    return PHX_OK;
}

const char *phx_env_describe(const phx_env_t *env, char *buf, size_t len)
{
    switch (env->major) {
    case PHX_NO_EXCEPTION:
        snprintf(buf, len, "no exception");
        break;
    case PHX_USER_EXCEPTION:
        snprintf(buf, len, "user exception %s",
                 env->repo_id ? env->repo_id : "?");
        break;
    case PHX_SYSTEM_EXCEPTION:
        snprintf(buf, len, "%s (minor 0x%x, %s)%s%s",
                 env->sysex == PHX_SYSEX_UNKNOWN && env->repo_id &&
                         phx_sysex_from_repo_id(env->repo_id) ==
                             PHX_SYSEX_NONE
                     ? env->repo_id
                     : phx_sysex_name(env->sysex),
                 env->minor, phx_completion_name(env->completed),
                 env->detail ? ": " : "", env->detail ? env->detail : "");
        break;
    }
    return buf;
}

int phx__env_from_status(phx_env_t *env, int status,
                         phx_completion_t completed, const char *what,
                         const phx_error_t *err)
{
    const char *msg = err && err->msg[0] ? err->msg : phx_strerror(status);
    switch (status) {
    case PHX_ECONNREFUSED:
        return phx_env_system(env, PHX_SYSEX_TRANSIENT,
                              PHX_VMCID | PHX_MINOR_CONNECT_FAILED,
                              PHX_COMPLETED_NO, "%s: %s", what, msg);
    case PHX_ETIMEDOUT:
        if (completed == PHX_COMPLETED_NO)
            return phx_env_system(env, PHX_SYSEX_TRANSIENT,
                                  PHX_VMCID | PHX_MINOR_CONNECT_TIMEOUT,
                                  PHX_COMPLETED_NO, "%s: %s", what, msg);
        return phx_env_system(env, PHX_SYSEX_TIMEOUT,
                              PHX_VMCID | PHX_MINOR_CALL_TIMEOUT, completed,
                              "%s: %s", what, msg);
    case PHX_ECLOSED:
        return phx_env_system(env, PHX_SYSEX_COMM_FAILURE,
                              PHX_VMCID | PHX_MINOR_PEER_CLOSED, completed,
                              "%s: %s", what, msg);
    case PHX_ENOMEM:
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, completed,
                              "%s: %s", what, msg);
    case PHX_ELIMIT:
        return phx_env_system(env, PHX_SYSEX_IMP_LIMIT,
                              PHX_VMCID | PHX_MINOR_TOO_LARGE, completed,
                              "%s: %s", what, msg);
    case PHX_EMARSHAL:
    case PHX_EPROTO:
        return phx_env_system(env, PHX_SYSEX_MARSHAL,
                              PHX_VMCID | PHX_MINOR_BAD_MESSAGE, completed,
                              "%s: %s", what, msg);
    case PHX_EBADREF:
        return phx_env_system(env, PHX_SYSEX_INV_OBJREF,
                              PHX_VMCID | PHX_MINOR_NO_PROFILE, completed,
                              "%s: %s", what, msg);
    case PHX_ESHUTDOWN:
        return phx_env_system(env, PHX_SYSEX_BAD_INV_ORDER,
                              PHX_VMCID | PHX_MINOR_SHUTDOWN, completed,
                              "%s: %s", what, msg);
    default:
        return phx_env_system(env, PHX_SYSEX_INTERNAL, 0, completed,
                              "%s: %s", what, msg);
    }
}
