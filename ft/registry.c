/*
 * registry.c - the in-process registry of object groups of one
 * fault-tolerance domain: groups by id in a hash table, each with its
 * members (location and reference, in the order they joined), its primary,
 * its version and its current IOGR, rebuilt on every change.  A replica
 * manager drives it; a listener hears of every new IOGR.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ft_int.h"

typedef struct member {
    char *location;
    phx_ior_t ior;
} member_t;

typedef struct group {
    phx__ft_hnode_t node; /* first */
    uint64_t id;
    char *type_id;
    uint32_t version;
    member_t *members;
    size_t count, cap;
    size_t primary;       /* index or PHX_FT_NO_PRIMARY */
    phx_ior_t iogr;
} group_t;

struct phx_ft_registry {
    pthread_mutex_t lock;
    char *domain;
    phx__ft_htab_t groups;
    uint64_t seed;
    uint64_t next_id;
    phx_ft_group_listener_fn listener;
    void *listener_arg;
};

static bool group_eq(const phx__ft_hnode_t *n, const void *key)
{
    return ((const group_t *)n)->id == *(const uint64_t *)key;
}

static group_t *find(phx_ft_registry_t *r, uint64_t id)
{
    return (group_t *)phx__ft_htab_find(
        &r->groups, phx__ft_hash_u64(r->seed, id), group_eq, &id);
}

static void group_free(group_t *g)
{
    for (size_t i = 0; i < g->count; i++) {
        free(g->members[i].location);
        phx_ior_fini(&g->members[i].ior);
    }
    free(g->members);
    free(g->type_id);
    phx_ior_fini(&g->iogr);
    free(g);
}

/* Build the IOGR the group would have with this version, primary and
 * members. */
static int build(phx_ft_registry_t *r, const group_t *g, uint32_t version,
                 size_t primary, const phx_ior_t *members, size_t count,
                 phx_ior_t *out, phx_error_t *err)
{
    phx_ft_iogr_spec_t spec = {
        .type_id = g->type_id,
        .ft_domain_id = r->domain,
        .object_group_id = g->id,
        .object_group_ref_version = version,
        .members = members,
        .member_count = count,
        .primary = primary,
    };
    return phx_ft_iogr_build(&spec, out, err);
}

/* The references of g's members as one array (borrowed contents). */
static phx_ior_t *member_iors(const group_t *g, size_t extra)
{
    phx_ior_t *v = malloc((g->count + extra + 1) * sizeof *v);
    if (v)
        for (size_t i = 0; i < g->count; i++)
            v[i] = g->members[i].ior;
    return v;
}

/* Install a new version and IOGR, and tell the listener. */
static void commit(phx_ft_registry_t *r, group_t *g, uint32_t version,
                   phx_ior_t *iogr)
{
    phx_ior_fini(&g->iogr);
    g->iogr = *iogr;
    phx_ior_init(iogr);
    g->version = version;
    if (r->listener)
        r->listener(r->listener_arg, g->id, g->version, &g->iogr);
}

static int next_version(const group_t *g, uint32_t *v, phx_error_t *err)
{
    if (g->version == UINT32_MAX)
        return phx_error_set(err, PHX_ELIMIT,
                             "group %llu: reference version exhausted",
                             (unsigned long long)g->id);
    *v = g->version + 1;
    return PHX_OK;
}

/* ------------------------------------------------------------------ */

int phx_ft_registry_create(const char *ft_domain_id, phx_ft_registry_t **out,
                           phx_error_t *err)
{
    if (out == NULL)
        return phx_error_set(err, PHX_EINVAL, "registry_create: NULL out");
    *out = NULL;
    phx_ft_registry_t *r = calloc(1, sizeof *r);
    if (r == NULL ||
        (r->domain = strdup(ft_domain_id ? ft_domain_id : "")) == NULL) {
        free(r);
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&r->lock, NULL);
    phx__ft_htab_init(&r->groups);
    r->seed = phx__ft_random64();
    r->next_id = 1;
    *out = r;
    phx_error_clear(err);
    return PHX_OK;
}

void phx_ft_registry_destroy(phx_ft_registry_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->groups.nbuckets; i++) {
        phx__ft_hnode_t *n = r->groups.buckets[i];
        while (n) {
            phx__ft_hnode_t *next = n->next;
            group_free((group_t *)n);
            n = next;
        }
    }
    phx__ft_htab_fini(&r->groups);
    pthread_mutex_destroy(&r->lock);
    free(r->domain);
    free(r);
}

const char *phx_ft_registry_domain(const phx_ft_registry_t *r)
{
    return r->domain;
}

void phx_ft_registry_set_listener(phx_ft_registry_t *r,
                                  phx_ft_group_listener_fn fn, void *arg)
{
    pthread_mutex_lock(&r->lock);
    r->listener = fn;
    r->listener_arg = arg;
    pthread_mutex_unlock(&r->lock);
}

int phx_ft_registry_create_group(phx_ft_registry_t *r, const char *type_id,
                                 uint64_t *group_id, phx_error_t *err)
{
    if (r == NULL || group_id == NULL)
        return phx_error_set(err, PHX_EINVAL, "create_group: NULL argument");
    group_t *g = calloc(1, sizeof *g);
    if (g == NULL || (g->type_id = strdup(type_id ? type_id : "")) == NULL) {
        free(g);
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    g->primary = PHX_FT_NO_PRIMARY;
    pthread_mutex_lock(&r->lock);
    g->id = r->next_id;
    phx_ior_t iogr;
    int rc = build(r, g, 1, PHX_FT_NO_PRIMARY, NULL, 0, &iogr, err);
    if (rc == PHX_OK) {
        rc = phx__ft_htab_insert(&r->groups, &g->node,
                                 phx__ft_hash_u64(r->seed, g->id));
        if (rc != PHX_OK) {
            phx_ior_fini(&iogr);
            phx_error_set(err, rc, "out of memory");
        }
    }
    if (rc == PHX_OK) {
        r->next_id++;
        commit(r, g, 1, &iogr);
        *group_id = g->id;
    }
    pthread_mutex_unlock(&r->lock);
    if (rc != PHX_OK)
        group_free(g);
    return rc;
}

int phx_ft_registry_destroy_group(phx_ft_registry_t *r, uint64_t group_id)
{
    pthread_mutex_lock(&r->lock);
    group_t *g = find(r, group_id);
    if (g) {
        phx__ft_htab_remove(&r->groups, &g->node);
        if (r->listener)
            r->listener(r->listener_arg, g->id, g->version, NULL);
    }
    pthread_mutex_unlock(&r->lock);
    if (g == NULL)
        return PHX_ENOTFOUND;
    group_free(g);
    return PHX_OK;
}

static size_t find_location(const group_t *g, const char *location)
{
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(g->members[i].location, location) == 0)
            return i;
    return PHX_FT_NO_PRIMARY;
}

int phx_ft_registry_add_member(phx_ft_registry_t *r, uint64_t group_id,
                               const char *location, const phx_ior_t *member,
                               phx_error_t *err)
{
    if (r == NULL || location == NULL || member == NULL)
        return phx_error_set(err, PHX_EINVAL, "add_member: NULL argument");
    member_t m;
    memset(&m, 0, sizeof m);
    if ((m.location = strdup(location)) == NULL ||
        phx_ior_copy(&m.ior, member) != PHX_OK) {
        free(m.location);
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    int rc = PHX_OK;
    phx_ior_t *iors = NULL;
    pthread_mutex_lock(&r->lock);
    group_t *g = find(r, group_id);
    uint32_t v = 0;
    if (g == NULL)
        rc = phx_error_set(err, PHX_ENOTFOUND, "no group %llu",
                           (unsigned long long)group_id);
    else if (find_location(g, location) != PHX_FT_NO_PRIMARY)
        rc = phx_error_set(err, PHX_EEXIST,
                           "group %llu already has a member at '%s'",
                           (unsigned long long)group_id, location);
    else
        rc = next_version(g, &v, err);
    if (rc == PHX_OK && g->count == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 4;
        member_t *nm = realloc(g->members, nc * sizeof *nm);
        if (nm == NULL)
            rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        else {
            g->members = nm;
            g->cap = nc;
        }
    }
    if (rc == PHX_OK && (iors = member_iors(g, 1)) == NULL)
        rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
    phx_ior_t iogr;
    if (rc == PHX_OK) {
        iors[g->count] = m.ior;
        rc = build(r, g, v, g->primary, iors, g->count + 1, &iogr, err);
    }
    if (rc == PHX_OK) {
        g->members[g->count++] = m;
        commit(r, g, v, &iogr);
    }
    pthread_mutex_unlock(&r->lock);
    free(iors);
    if (rc != PHX_OK) {
        free(m.location);
        phx_ior_fini(&m.ior);
    }
    return rc;
}

int phx_ft_registry_remove_member(phx_ft_registry_t *r, uint64_t group_id,
                                  const char *location)
{
    if (r == NULL || location == NULL)
        return PHX_EINVAL;
    int rc = PHX_OK;
    phx_ior_t *iors = NULL;
    pthread_mutex_lock(&r->lock);
    group_t *g = find(r, group_id);
    size_t at = g ? find_location(g, location) : PHX_FT_NO_PRIMARY;
    uint32_t v = 0;
    if (at == PHX_FT_NO_PRIMARY)
        rc = PHX_ENOTFOUND;
    else
        rc = next_version(g, &v, NULL);
    if (rc == PHX_OK && (iors = member_iors(g, 0)) == NULL)
        rc = PHX_ENOMEM;
    phx_ior_t iogr;
    size_t primary = PHX_FT_NO_PRIMARY;
    if (rc == PHX_OK) {
        memmove(&iors[at], &iors[at + 1], (g->count - at - 1) * sizeof *iors);
        if (g->primary != PHX_FT_NO_PRIMARY && g->primary != at)
            primary = g->primary > at ? g->primary - 1 : g->primary;
        rc = build(r, g, v, primary, iors, g->count - 1, &iogr, NULL);
    }
    if (rc == PHX_OK) {
        member_t gone = g->members[at];
        memmove(&g->members[at], &g->members[at + 1],
                (g->count - at - 1) * sizeof *g->members);
        g->count--;
        g->primary = primary;
        free(gone.location);
        phx_ior_fini(&gone.ior);
        commit(r, g, v, &iogr);
    }
    pthread_mutex_unlock(&r->lock);
    free(iors);
    return rc;
}

int phx_ft_registry_set_primary(phx_ft_registry_t *r, uint64_t group_id,
                                const char *location)
{
    if (r == NULL)
        return PHX_EINVAL;
    int rc = PHX_OK;
    phx_ior_t *iors = NULL;
    pthread_mutex_lock(&r->lock);
    group_t *g = find(r, group_id);
    size_t at = PHX_FT_NO_PRIMARY;
    uint32_t v = 0;
    if (g == NULL)
        rc = PHX_ENOTFOUND;
    else if (location &&
             (at = find_location(g, location)) == PHX_FT_NO_PRIMARY)
        rc = PHX_ENOTFOUND;
    else if (at == g->primary)
        rc = 1; /* nothing changes */
    else
        rc = next_version(g, &v, NULL);
    if (rc == PHX_OK && (iors = member_iors(g, 0)) == NULL)
        rc = PHX_ENOMEM;
    phx_ior_t iogr;
    if (rc == PHX_OK)
        rc = build(r, g, v, at, iors, g->count, &iogr, NULL);
    if (rc == PHX_OK) {
        g->primary = at;
        commit(r, g, v, &iogr);
    }
    pthread_mutex_unlock(&r->lock);
    free(iors);
    return rc == 1 ? PHX_OK : rc;
}

int phx_ft_registry_get_iogr(phx_ft_registry_t *r, uint64_t group_id,
                             phx_ior_t *iogr, uint32_t *version)
{
    if (r == NULL || iogr == NULL)
        return PHX_EINVAL;
    phx_ior_init(iogr);
    pthread_mutex_lock(&r->lock);
    group_t *g = find(r, group_id);
    int rc = g ? phx_ior_copy(iogr, &g->iogr) : PHX_ENOTFOUND;
    if (rc == PHX_OK && version)
        *version = g->version;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int phx_ft_registry_member_count(phx_ft_registry_t *r, uint64_t group_id,
                                 size_t *count)
{
    if (r == NULL || count == NULL)
        return PHX_EINVAL;
    pthread_mutex_lock(&r->lock);
    group_t *g = find(r, group_id);
    if (g)
        *count = g->count;
    pthread_mutex_unlock(&r->lock);
    return g ? PHX_OK : PHX_ENOTFOUND;
}
