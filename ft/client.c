/*
 * client.c - the client interceptor of FT-CORBA transparent
 * re-invocation (23.2.8): requests to object groups carry FT_REQUEST and
 * FT_GROUP_VERSION, and a request that failed in a way that allows it is
 * re-issued to the group's next profile until it gets a reply or its
 * expiration time passes.
 *
 * Which requests.  A request is a group request when the profile it is
 * about to be sent to carries TAG_FT_GROUP.  Everything else passes
 * through after that one test.
 *
 * Per-call state.  All attempts of one call go through one request, and
 * the ORB re-sends "the same request body and contexts" on a re-issue
 * (phx_client_ri_retry).  So the FT_REQUEST context is itself the state
 * of the call: send_request adds it only when the request does not carry
 * one yet (the first attempt, or the first one that reaches a group after
 * a forward from a plain reference), and every later attempt re-sends it
 * untouched - same client id, same retention id, same expiration time.
 * receive_exception reads the expiration time back from it.  This holds
 * for deferred calls as well (many requests outstanding on one thread,
 * failing and being re-issued in any order), where a thread-local
 * "current call" would mix them up.  FT_GROUP_VERSION is rewritten on
 * every attempt, since a LOCATION_FORWARD_PERM may have brought a newer
 * group reference.
 *
 * A re-issue goes to the group's next profile after the one that failed
 * (phx_client_ri_retry), which does not count against the ORB's
 * max_forwards: the expiration time alone bounds the retries.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <phx/interceptor.h>
#include <phx/log.h>

#include "ft_int.h"

#define MOD "ft-client"

struct phx_ft_client {
    phx_client_interceptor_t ci;
    char *client_id;
    size_t client_id_len;
    uint64_t duration;        /* TimeT units */
    uint32_t backoff_max_ms;
    bool spread;
    atomic_uint next_rid;
    atomic_uint next_start;   /* spread: where the next call starts */
    atomic_uint_fast64_t group_requests, reinvocations, expired;
};

static atomic_uint installs;

void phx_ft_client_config_init(phx_ft_client_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->request_duration_ms = 15000;
    cfg->backoff_max_ms = 100;
}

const char *phx_ft_client_id(const phx_ft_client_t *c)
{
    return c->client_id;
}

void phx_ft_client_get_stats(const phx_ft_client_t *c,
                             phx_ft_client_stats_t *st)
{
    st->group_requests = atomic_load(&c->group_requests);
    st->reinvocations = atomic_load(&c->reinvocations);
    st->expired = atomic_load(&c->expired);
}

/* ------------------------------------------------------------------ */
/* send_request                                                         */
/* ------------------------------------------------------------------ */

/* Move the request to the first group profile this ORB can use at or
 * after 'from' (wrapping around). */
static void select_from(phx_client_ri_t *ri, const phx_ior_t *ior,
                        uint32_t from)
{
    uint32_t n = ior->profile_count;
    for (uint32_t k = 0; k < n; k++) {
        int idx = (int)((from + k) % n);
        if (phx_ft_ior_group_version(ior, idx, NULL) == 1 &&
            phx_client_ri_select_profile(ri, idx) == PHX_OK)
            return;
    }
}

static int add_request_ctx(phx_ft_client_t *c, phx_client_ri_t *ri,
                           phx_env_t *env)
{
    phx_ft_request_ctx_t rq;
    /* A nested call of a replicated servant (phx_ft_call) carries the
     * identity derived from the request it is made for, identical on
     * every replica and across re-executions. */
    if (!phx__ft_nested_identity(&rq)) {
        rq.client_id = c->client_id;
        rq.client_id_len = c->client_id_len;
        rq.retention_id = (int32_t)atomic_fetch_add(&c->next_rid, 1u);
        rq.expiration_time = phx_ft_time_now() + c->duration;
    }
    uint8_t stack[256];
    uint8_t *buf = stack;
    size_t cap = rq.client_id_len + 32;
    if (cap > sizeof stack && (buf = malloc(cap)) == NULL)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "FT_REQUEST: out of memory");
    if (cap < sizeof stack)
        cap = sizeof stack;
    size_t n = phx__ft_request_ctx_write(buf, cap, &rq);
    int rc = n ? phx_client_ri_add_request_context(ri, PHX_SC_FT_REQUEST, buf,
                                                   n, false)
               : PHX_EINVAL;
    if (buf != stack)
        free(buf);
    if (rc != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "cannot add FT_REQUEST: %s", phx_strerror(rc));
    atomic_fetch_add(&c->group_requests, 1);
    return PHX_OK;
}

static int ft_send_request(void *arg, phx_client_ri_t *ri, phx_env_t *env)
{
    phx_ft_client_t *c = arg;
    const phx_ior_t *ior = phx_client_ri_effective_ior(ri);
    if (ior == NULL)
        return PHX_OK; /* cannot look: leave the request alone */
    if (c->spread && phx_client_ri_attempt(ri) == 1 &&
        ior->profile_count > 1 &&
        phx_ft_ior_group_version(ior, -1, NULL) == 1 &&
        phx__ft_ior_primary(ior) < 0) {
        select_from(ri, ior,
                    atomic_fetch_add(&c->next_start, 1u) % ior->profile_count);
    }
    int prof = phx_client_ri_effective_profile(ri);
    uint32_t version = 0;
    int group = prof >= 0 ? phx_ft_ior_group_version(ior, prof, &version)
                          : 0;
    if (group != 1)
        return PHX_OK;

    if (phx_client_ri_request_context(ri, PHX_SC_FT_REQUEST) == NULL) {
        int rc = add_request_ctx(c, ri, env);
        if (rc != PHX_OK)
            return rc;
    }
    uint8_t gv[16];
    size_t n = phx__ft_group_version_ctx_write(gv, sizeof gv, version);
    int rc = phx_client_ri_add_request_context(ri, PHX_SC_FT_GROUP_VERSION,
                                               gv, n, true);
    if (rc != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "cannot add FT_GROUP_VERSION: %s",
                              phx_strerror(rc));
    return PHX_OK;
}

/* ------------------------------------------------------------------ */
/* receive_exception                                                    */
/* ------------------------------------------------------------------ */

/* FT-CORBA table 23-1: the exceptions after which a request to a group
 * may be re-issued. */
static bool reinvocable(const phx_env_t *env)
{
    if (env->major != PHX_SYSTEM_EXCEPTION)
        return false;
    if (env->completed != PHX_COMPLETED_NO &&
        env->completed != PHX_COMPLETED_MAYBE)
        return false;
    switch (env->sysex) {
    case PHX_SYSEX_COMM_FAILURE:
    case PHX_SYSEX_TRANSIENT:
    case PHX_SYSEX_NO_RESPONSE:
    case PHX_SYSEX_OBJ_ADAPTER:
        return true;
    default:
        return false;
    }
}

static uint32_t group_profiles(const phx_ior_t *ior)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < ior->profile_count; i++)
        if (phx_ft_ior_group_version(ior, (int)i, NULL) == 1)
            n++;
    return n ? n : 1;
}

/* After every profile failed once more, wait a little (never past the
 * expiration time) so that a group that is entirely down is not hammered
 * until the request expires. */
static void backoff(const phx_ft_client_t *c, unsigned attempt,
                    uint32_t profiles, uint64_t now, uint64_t expiration)
{
    if (attempt < profiles || attempt % profiles != 0)
        return;
    unsigned round = attempt / profiles;
    uint64_t ms = round > 20 ? (uint64_t)1 << 20 : (uint64_t)1 << (round - 1);
    if (ms > c->backoff_max_ms)
        ms = c->backoff_max_ms;
    uint64_t left_ms = (expiration - now) / 10000u;
    if (ms > left_ms)
        ms = left_ms;
    if (ms == 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int ft_receive_exception(void *arg, phx_client_ri_t *ri,
                                phx_env_t *env)
{
    phx_ft_client_t *c = arg;
    if (!reinvocable(env))
        return PHX_OK;
    const phx_service_context_t *sc =
        phx_client_ri_request_context(ri, PHX_SC_FT_REQUEST);
    phx_ft_request_ctx_t rq;
    if (sc == NULL ||
        phx_ft_request_ctx_decode(sc->data, sc->len, &rq, NULL) != PHX_OK)
        return PHX_OK;

    int failed = phx_client_ri_effective_profile(ri);
    const phx_ior_t *ior = phx_client_ri_effective_ior(ri);
    if (failed < 0 || ior == NULL)
        return PHX_OK;
    if (phx_ft_ior_group_version(ior, failed, NULL) != 1)
        return PHX_OK; /* the failed profile was not a group's */
    uint32_t profiles = group_profiles(ior);

    uint64_t now = phx_ft_time_now();
    if (now >= rq.expiration_time) {
        atomic_fetch_add(&c->expired, 1);
        PHX_DEBUG(MOD, "'%s' (retention id %d) expired after %u attempts",
                  phx_client_ri_operation(ri), (int)rq.retention_id,
                  phx_client_ri_attempt(ri));
        return PHX_OK;
    }
    backoff(c, phx_client_ri_attempt(ri), profiles, now, rq.expiration_time);
    PHX_DEBUG(MOD, "re-issuing '%s' (retention id %d) after %s on profile %d",
              phx_client_ri_operation(ri), (int)rq.retention_id,
              phx_sysex_name(env->sysex), failed);
    /* The next group profile after the one that failed; a retry does not
     * count as a forward, the expiration time bounds it. */
    int rc = phx_client_ri_retry(ri, -1);
    if (rc == PHX_OK)
        atomic_fetch_add(&c->reinvocations, 1);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Installation                                                         */
/* ------------------------------------------------------------------ */

static char *make_client_id(void)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    unsigned n = atomic_fetch_add(&installs, 1u);
    char *id = NULL;
    if (asprintf(&id, "phx/%s/%ld/%016llx/%u", host, (long)getpid(),
                 (unsigned long long)phx__ft_random64(), n) < 0)
        return NULL;
    return id;
}

int phx_ft_client_install(phx_orb_t *orb, const phx_ft_client_config_t *cfg,
                          phx_ft_client_t **out, phx_error_t *err)
{
    if (orb == NULL || out == NULL)
        return phx_error_set(err, PHX_EINVAL, "ft_client_install: NULL "
                                              "argument");
    *out = NULL;
    phx_ft_client_config_t def;
    if (cfg == NULL) {
        phx_ft_client_config_init(&def);
        cfg = &def;
    }
    phx_ft_client_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    c->client_id = cfg->client_id ? strdup(cfg->client_id) : make_client_id();
    if (c->client_id == NULL) {
        free(c);
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    c->client_id_len = strlen(c->client_id);
    uint32_t ms = cfg->request_duration_ms ? cfg->request_duration_ms : 15000;
    c->duration = (uint64_t)ms * 10000u;
    c->backoff_max_ms = cfg->backoff_max_ms;
    c->spread = cfg->spread;
    atomic_init(&c->next_rid, 1u);
    c->ci.name = "ft-client";
    c->ci.arg = c;
    c->ci.send_request = ft_send_request;
    c->ci.receive_exception = ft_receive_exception;
    int rc = phx_orb_add_client_interceptor(orb, &c->ci);
    if (rc != PHX_OK) {
        free(c->client_id);
        free(c);
        return phx_error_set(err, rc, "cannot add the FT client "
                                      "interceptor: %s",
                             phx_strerror(rc));
    }
    *out = c;
    phx_error_clear(err);
    return PHX_OK;
}

void phx_ft_client_destroy(phx_ft_client_t *c)
{
    if (c == NULL)
        return;
    free(c->client_id);
    free(c);
}
