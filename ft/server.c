/*
 * server.c - the server interceptor of the fault-tolerance layer: for the
 * object keys under which this ORB serves members of object groups, it
 * answers requests that carry an older group version with
 * LOCATION_FORWARD_PERM to the current IOGR (FT-CORBA 23.2.7), and makes
 * execution exactly-once with the group's reply cache keyed by the
 * FT_REQUEST context (23.2.8): a request seen before is answered with the
 * reply kept from its first execution.
 *
 * The groups served live in a hash table by object key.  Each entry is
 * reference counted so that a request can use its reply cache while
 * another thread replaces or removes the group.  The owner of a cache
 * entry in progress is the request's phx_server_ri_t, which is unique
 * among the requests being served at any moment (each lives on the stack
 * of the thread serving it, from its starting points to its ending
 * points).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <phx/interceptor.h>
#include <phx/log.h>

#include "ft_int.h"

#define MOD "ft-server"

typedef struct served {
    phx__ft_hnode_t node; /* first */
    atomic_int refs;
    uint8_t *key;
    size_t key_len;
    char *domain;
    uint64_t group_id;
    uint32_t version;       /* guarded by the server's lock */
    phx_object_t *iogr;     /* guarded by the server's lock */
    phx_ft_reply_cache_t *cache;
} served_t;

struct phx_ft_server {
    phx_server_interceptor_t si;
    phx_orb_t *orb;
    pthread_mutex_t lock;
    phx__ft_htab_t groups;
    uint64_t seed;
    phx_ft_reply_cache_config_t cache_cfg;
    bool version_only;
    atomic_uint_fast64_t forwarded, replayed, executed, refused;
};

typedef struct bkey {
    const uint8_t *p;
    size_t n;
} bkey_t;

static bool served_eq(const phx__ft_hnode_t *n, const void *k)
{
    const served_t *g = (const served_t *)n;
    const bkey_t *key = k;
    return g->key_len == key->n && memcmp(g->key, key->p, key->n) == 0;
}

static served_t *find(phx_ft_server_t *s, const void *key, size_t len)
{
    bkey_t k = {key, len};
    return (served_t *)phx__ft_htab_find(&s->groups,
                                         phx__ft_hash(s->seed, key, len),
                                         served_eq, &k);
}

static void served_unref(served_t *g)
{
    if (g == NULL || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    phx_ft_reply_cache_destroy(g->cache);
    phx_object_release(g->iogr);
    free(g->domain);
    free(g->key);
    free(g);
}

/* The group served under key, with a reference, or NULL. */
static served_t *acquire(phx_ft_server_t *s, const void *key, size_t len)
{
    pthread_mutex_lock(&s->lock);
    served_t *g = find(s, key, len);
    if (g)
        atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&s->lock);
    return g;
}

/* ------------------------------------------------------------------ */
/* Interception points                                                  */
/* ------------------------------------------------------------------ */

static int bad_context(phx_env_t *env, const char *what, const char *why)
{
    return phx_env_system(env, PHX_SYSEX_BAD_PARAM,
                          PHX_VMCID | PHX_FT_MINOR_BAD_CONTEXT,
                          PHX_COMPLETED_NO, "%s: %s", what, why);
}

static int ft_receive_contexts(void *arg, phx_server_ri_t *ri,
                               phx_env_t *env)
{
    phx_ft_server_t *s = arg;
    const phx_service_context_t *gv =
        phx_server_ri_request_context(ri, PHX_SC_FT_GROUP_VERSION);
    const phx_service_context_t *rq =
        phx_server_ri_request_context(ri, PHX_SC_FT_REQUEST);
    if (s->version_only)
        rq = NULL; /* a replication style answers FT_REQUEST */
    if (gv == NULL && rq == NULL)
        return PHX_OK;
    size_t klen;
    const uint8_t *key = phx_server_ri_object_key(ri, &klen);
    served_t *g = acquire(s, key, klen);
    if (g == NULL)
        return PHX_OK;

    int rc = PHX_OK;
    phx_error_t err;
    if (gv) {
        uint32_t v;
        if (phx_ft_group_version_ctx_decode(gv->data, gv->len, &v, &err) !=
            PHX_OK) {
            rc = bad_context(env, "FT_GROUP_VERSION", err.msg);
            goto out;
        }
        pthread_mutex_lock(&s->lock);
        phx_object_t *fwd = v < g->version ? phx_object_ref(g->iogr) : NULL;
        uint32_t cur = g->version;
        pthread_mutex_unlock(&s->lock);
        if (fwd) {
            PHX_DEBUG(MOD, "'%s' with group version %u < %u: forwarding",
                      phx_server_ri_operation(ri), v, cur);
            rc = phx_server_ri_forward(ri, fwd, true);
            phx_object_release(fwd);
            if (rc == PHX_OK)
                atomic_fetch_add(&s->forwarded, 1);
            goto out;
        }
    }
    if (rq) {
        phx_ft_request_ctx_t c;
        if (phx_ft_request_ctx_decode(rq->data, rq->len, &c, &err) !=
            PHX_OK) {
            rc = bad_context(env, "FT_REQUEST", err.msg);
            goto out;
        }
        phx_ft_cached_reply_t rep;
        int r = phx_ft_reply_cache_begin(g->cache, c.client_id,
                                         c.client_id_len, c.retention_id,
                                         c.expiration_time, (uintptr_t)ri,
                                         &rep);
        switch (r) {
        case PHX_FT_CACHE_MISS:
            break;
        case PHX_FT_CACHE_HIT:
            PHX_DEBUG(MOD, "'%s' (retention id %d) answered from the reply "
                           "cache",
                      phx_server_ri_operation(ri), (int)c.retention_id);
            rc = phx_server_ri_set_reply(ri, rep.reply_status, rep.body,
                                         rep.len);
            phx_ft_cached_reply_fini(&rep);
            if (rc == PHX_OK)
                atomic_fetch_add(&s->replayed, 1);
            else
                rc = phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                    PHX_COMPLETED_NO,
                                    "cannot replay the cached reply");
            break;
        case PHX_FT_CACHE_BUSY:
            atomic_fetch_add(&s->refused, 1);
            rc = phx_env_system(env, PHX_SYSEX_TRANSIENT,
                                PHX_VMCID | PHX_FT_MINOR_IN_PROGRESS,
                                PHX_COMPLETED_NO,
                                "request (retention id %d) still in "
                                "progress",
                                (int)c.retention_id);
            break;
        case PHX_FT_CACHE_FULL:
            atomic_fetch_add(&s->refused, 1);
            rc = phx_env_system(env, PHX_SYSEX_TRANSIENT,
                                PHX_VMCID | PHX_FT_MINOR_CACHE_FULL,
                                PHX_COMPLETED_NO, "reply cache full");
            break;
        default:
            rc = phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                PHX_COMPLETED_NO, "reply cache: %s",
                                phx_strerror(r));
            break;
        }
    }
out:
    served_unref(g);
    return rc;
}

/* The completion status of a SYSTEM_EXCEPTION reply body. */
static uint32_t body_completion(const uint8_t *body, size_t len)
{
    phx_cdr_reader_t r;
    const char *id;
    size_t n;
    uint32_t minor = 0, completed = PHX_COMPLETED_MAYBE;
    phx_cdr_reader_init(&r, body, len, PHX_CDR_NATIVE);
    phx_cdr_get_string(&r, &id, &n);
    phx_cdr_get_ulong(&r, &minor);
    phx_cdr_get_ulong(&r, &completed);
    return phx_cdr_reader_status(&r) == PHX_OK ? completed
                                              : PHX_COMPLETED_MAYBE;
}

static int ft_end(phx_ft_server_t *s, phx_server_ri_t *ri, bool replied)
{
    const phx_service_context_t *rq =
        phx_server_ri_request_context(ri, PHX_SC_FT_REQUEST);
    phx_ft_request_ctx_t c;
    if (rq == NULL ||
        phx_ft_request_ctx_decode(rq->data, rq->len, &c, NULL) != PHX_OK)
        return PHX_OK;
    size_t klen;
    const uint8_t *key = phx_server_ri_object_key(ri, &klen);
    served_t *g = acquire(s, key, klen);
    if (g == NULL)
        return PHX_OK;
    uint32_t status = phx_server_ri_reply_status(ri);
    size_t len = 0;
    const uint8_t *body = replied ? phx_server_ri_reply_body(ri, &len) : NULL;
    if (!replied || (status == PHX_GIOP_SYSTEM_EXCEPTION &&
                     body_completion(body, len) == PHX_COMPLETED_NO)) {
        /* Nothing was executed: a retry may run it. */
        phx_ft_reply_cache_abandon(g->cache, c.client_id, c.client_id_len,
                                   c.retention_id, (uintptr_t)ri);
    } else if (phx_ft_reply_cache_complete(g->cache, c.client_id,
                                           c.client_id_len, c.retention_id,
                                           (uintptr_t)ri, status, body,
                                           len) == PHX_OK) {
        atomic_fetch_add(&s->executed, 1);
    }
    served_unref(g);
    return PHX_OK;
}

static int ft_send_reply(void *arg, phx_server_ri_t *ri, phx_env_t *env)
{
    (void)env;
    return ft_end(arg, ri, true);
}

static int ft_send_other(void *arg, phx_server_ri_t *ri, phx_env_t *env)
{
    (void)env;
    return ft_end(arg, ri, false);
}

/* ------------------------------------------------------------------ */
/* Installation and groups                                              */
/* ------------------------------------------------------------------ */

void phx_ft_server_config_init(phx_ft_server_config_t *cfg)
{
    phx_ft_reply_cache_config_t cc;
    phx_ft_reply_cache_config_init(&cc);
    memset(cfg, 0, sizeof *cfg);
    cfg->cache_max_entries = cc.max_entries;
    cfg->cache_max_bytes = cc.max_bytes;
}

int phx_ft_server_install(phx_orb_t *orb, const phx_ft_server_config_t *cfg,
                          phx_ft_server_t **out, phx_error_t *err)
{
    if (orb == NULL || out == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "ft_server_install: NULL argument");
    *out = NULL;
    phx_ft_server_config_t def;
    if (cfg == NULL) {
        phx_ft_server_config_init(&def);
        cfg = &def;
    }
    phx_ft_server_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    s->orb = orb;
    pthread_mutex_init(&s->lock, NULL);
    phx__ft_htab_init(&s->groups);
    s->seed = phx__ft_random64();
    phx_ft_reply_cache_config_init(&s->cache_cfg);
    if (cfg->cache_max_entries)
        s->cache_cfg.max_entries = cfg->cache_max_entries;
    if (cfg->cache_max_bytes)
        s->cache_cfg.max_bytes = cfg->cache_max_bytes;
    s->cache_cfg.evict_when_full = cfg->cache_evict_when_full;
    s->version_only = cfg->version_only;
    if (cfg->clock) {
        s->cache_cfg.clock = cfg->clock;
        s->cache_cfg.clock_arg = cfg->clock_arg;
    }
    s->si.name = "ft-server";
    s->si.arg = s;
    s->si.receive_request_service_contexts = ft_receive_contexts;
    if (!s->version_only) {
        s->si.send_reply = ft_send_reply;
        s->si.send_exception = ft_send_reply;
    }
    s->si.send_other = ft_send_other;
    int rc = phx_orb_add_server_interceptor(orb, &s->si);
    if (rc != PHX_OK) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        return phx_error_set(err, rc,
                             "cannot add the FT server interceptor: %s",
                             phx_strerror(rc));
    }
    *out = s;
    phx_error_clear(err);
    return PHX_OK;
}

void phx_ft_server_destroy(phx_ft_server_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->groups.nbuckets; i++) {
        phx__ft_hnode_t *n = s->groups.buckets[i];
        while (n) {
            phx__ft_hnode_t *next = n->next;
            served_unref((served_t *)n);
            n = next;
        }
    }
    phx__ft_htab_fini(&s->groups);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static served_t *served_new(phx_ft_server_t *s, const void *key,
                            size_t key_len, phx_ft_iogr_info_t *info,
                            phx_object_t *iogr)
{
    served_t *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    atomic_init(&g->refs, 1);
    g->key = malloc(key_len ? key_len : 1);
    if (g->key == NULL ||
        phx_ft_reply_cache_create(&s->cache_cfg, &g->cache) != PHX_OK) {
        free(g->key);
        free(g);
        return NULL;
    }
    memcpy(g->key, key, key_len);
    g->key_len = key_len;
    g->domain = info->group.ft_domain_id; /* taken over */
    info->group.ft_domain_id = NULL;
    g->group_id = info->group.object_group_id;
    g->version = info->group.object_group_ref_version;
    g->iogr = iogr;
    return g;
}

int phx_ft_server_set_group(phx_ft_server_t *s, const void *key,
                            size_t key_len, const phx_ior_t *iogr,
                            phx_error_t *err)
{
    if (s == NULL || iogr == NULL || (key == NULL && key_len))
        return phx_error_set(err, PHX_EINVAL, "set_group: NULL argument");
    phx_ft_iogr_info_t info;
    int rc = phx_ft_iogr_parse(iogr, &info, err);
    if (rc != PHX_OK)
        return rc;
    phx_object_t *obj;
    rc = phx_object_from_ior(s->orb, iogr, &obj, err);
    if (rc != PHX_OK) {
        phx_ft_iogr_info_fini(&info);
        return rc;
    }
    const char *domain = info.group.ft_domain_id ? info.group.ft_domain_id
                                                 : "";
    uint32_t version = info.group.object_group_ref_version;
    served_t *old = NULL;
    phx_object_t *drop = NULL;
    pthread_mutex_lock(&s->lock);
    served_t *g = find(s, key, key_len);
    if (g && g->group_id == info.group.object_group_id &&
        strcmp(g->domain ? g->domain : "", domain) == 0) {
        if (version < g->version)
            rc = phx_error_set(err, PHX_ESTATE,
                               "group reference version %u is older than "
                               "the one served (%u)",
                               version, g->version);
        else if (version > g->version) {
            drop = g->iogr;
            g->iogr = obj;
            g->version = version;
            obj = NULL;
        }
    } else {
        served_t *n = served_new(s, key, key_len, &info, obj);
        if (n == NULL)
            rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        else if ((rc = phx__ft_htab_insert(
                      &s->groups, &n->node,
                      phx__ft_hash(s->seed, key, key_len))) != PHX_OK) {
            n->iogr = NULL;
            served_unref(n);
            phx_error_set(err, rc, "out of memory");
        } else {
            obj = NULL;
            if (g) {
                phx__ft_htab_remove(&s->groups, &g->node);
                old = g;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    served_unref(old);
    phx_object_release(drop);
    phx_object_release(obj);
    phx_ft_iogr_info_fini(&info);
    if (rc == PHX_OK)
        phx_error_clear(err);
    return rc;
}

int phx_ft_server_remove_group(phx_ft_server_t *s, const void *key,
                               size_t key_len)
{
    pthread_mutex_lock(&s->lock);
    served_t *g = find(s, key, key_len);
    if (g)
        phx__ft_htab_remove(&s->groups, &g->node);
    pthread_mutex_unlock(&s->lock);
    if (g == NULL)
        return PHX_ENOTFOUND;
    served_unref(g);
    return PHX_OK;
}

int phx_ft_server_group_version(phx_ft_server_t *s, const void *key,
                                size_t key_len, uint32_t *version)
{
    pthread_mutex_lock(&s->lock);
    served_t *g = find(s, key, key_len);
    if (g && version)
        *version = g->version;
    pthread_mutex_unlock(&s->lock);
    return g ? PHX_OK : PHX_ENOTFOUND;
}

int phx_ft_server_with_cache(phx_ft_server_t *s, const void *key,
                             size_t key_len,
                             void (*fn)(void *arg, phx_ft_reply_cache_t *c),
                             void *arg)
{
    served_t *g = acquire(s, key, key_len);
    if (g == NULL)
        return PHX_ENOTFOUND;
    fn(arg, g->cache);
    served_unref(g);
    return PHX_OK;
}

void phx_ft_server_get_stats(const phx_ft_server_t *s,
                             phx_ft_server_stats_t *st)
{
    st->forwarded = atomic_load(&s->forwarded);
    st->replayed = atomic_load(&s->replayed);
    st->executed = atomic_load(&s->executed);
    st->refused = atomic_load(&s->refused);
}
