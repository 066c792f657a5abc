/*
 * adapter.c - the object adapter: servants registered under object keys
 * (user-chosen persistent keys or generated ones), looked up by key for
 * every request, and references built for them.
 *
 * The active object map is a chained hash table that doubles when its load
 * passes 1, guarded by a read-write lock: dispatch takes the read side.
 * An entry is reference-counted so that deactivation never frees a servant
 * a request is still using; the servant's release callback runs when the
 * last reference goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <phx/log.h>

#include "../core/orb_impl.h"
#include "../transport/iiop/iiop_transport.h"

#define MOD "adapter"

static uint64_t key_hash(const uint8_t *k, size_t n)
{
    /* FNV-1a, 64 bit. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= k[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int phx__adapter_init(phx__adapter_t *a)
{
    memset(a, 0, sizeof *a);
    a->nbuckets = 64;
    a->buckets = calloc(a->nbuckets, sizeof *a->buckets);
    if (a->buckets == NULL)
        return PHX_ENOMEM;
    if (getrandom(a->instance, sizeof a->instance, 0) !=
        (ssize_t)sizeof a->instance) {
        uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
                        (uint64_t)(uintptr_t)a;
        memcpy(a->instance, &seed, sizeof a->instance);
    }
    atomic_init(&a->next_key, 1);
    pthread_rwlock_init(&a->lock, NULL);
    return PHX_OK;
}

static void entry_release(phx__aentry_t *e)
{
    if (e->servant && e->servant->release)
        e->servant->release(e->servant);
    free(e->key);
    free(e);
}

void phx__adapter_entry_unref(phx__aentry_t *e)
{
    if (e && atomic_fetch_sub(&e->refs, 1) == 1)
        entry_release(e);
}

void phx__adapter_fini(phx__adapter_t *a)
{
    if (a->buckets == NULL)
        return;
    for (size_t i = 0; i < a->nbuckets; i++) {
        phx__aentry_t *e = a->buckets[i];
        while (e) {
            phx__aentry_t *n = e->next;
            e->active = false;
            phx__adapter_entry_unref(e);
            e = n;
        }
    }
    free(a->buckets);
    a->buckets = NULL;
    pthread_rwlock_destroy(&a->lock);
}

static phx__aentry_t **slot_of(phx__adapter_t *a, const uint8_t *key,
                               size_t len, uint64_t h)
{
    phx__aentry_t **pp = &a->buckets[h & (a->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->key_len == len &&
            memcmp((*pp)->key, key, len) == 0)
            return pp;
    return pp;
}

phx__aentry_t *phx__adapter_find(phx__adapter_t *a, const uint8_t *key,
                                 size_t len)
{
    uint64_t h = key_hash(key, len);
    pthread_rwlock_rdlock(&a->lock);
    phx__aentry_t *e = *slot_of(a, key, len, h);
    if (e && e->active)
        atomic_fetch_add(&e->refs, 1);
    else
        e = NULL;
    pthread_rwlock_unlock(&a->lock);
    return e;
}

static void grow(phx__adapter_t *a)
{
    size_t n = a->nbuckets * 2;
    phx__aentry_t **b = calloc(n, sizeof *b);
    if (b == NULL)
        return; /* keep the longer chains */
    for (size_t i = 0; i < a->nbuckets; i++) {
        phx__aentry_t *e = a->buckets[i];
        while (e) {
            phx__aentry_t *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(a->buckets);
    a->buckets = b;
    a->nbuckets = n;
}

int phx_orb_activate(phx_orb_t *orb, phx_servant_t *servant, const void *key,
                     size_t key_len, phx_object_t **ref, phx_error_t *err)
{
    if (orb == NULL || servant == NULL || servant->iface == NULL ||
        servant->iface->repo_id == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "activate: servant and its interface's "
                             "repository id are required");
    if (key != NULL && key_len == 0)
        return phx_error_set(err, PHX_EINVAL, "activate: empty object key");
    phx__adapter_t *a = &orb->adapter;
    uint8_t gen[16];
    if (key == NULL) {
        uint64_t n = atomic_fetch_add(&a->next_key, 1);
        memcpy(gen, a->instance, 8);
        memcpy(gen + 8, &n, 8);
        key = gen;
        key_len = sizeof gen;
    }
    phx__aentry_t *e = calloc(1, sizeof *e);
    if (e == NULL || (e->key = malloc(key_len)) == NULL) {
        free(e);
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    memcpy(e->key, key, key_len);
    e->key_len = key_len;
    e->hash = key_hash(e->key, key_len);
    e->servant = servant;
    e->active = true;
    atomic_init(&e->refs, 1);

    pthread_rwlock_wrlock(&a->lock);
    phx__aentry_t **pp = slot_of(a, e->key, key_len, e->hash);
    if (*pp) {
        pthread_rwlock_unlock(&a->lock);
        free(e->key);
        free(e);
        return phx_error_set(err, PHX_EEXIST,
                             "activate: object key already in use");
    }
    *pp = e;
    if (++a->count > a->nbuckets)
        grow(a);
    pthread_rwlock_unlock(&a->lock);

    if (ref) {
        int rc = phx_orb_make_ref(orb, servant->iface->repo_id, key, key_len,
                                  ref, err);
        if (rc != PHX_OK) {
            phx_orb_deactivate(orb, key, key_len);
            return rc;
        }
    }
    return PHX_OK;
}

int phx_orb_deactivate(phx_orb_t *orb, const void *key, size_t key_len)
{
    phx__adapter_t *a = &orb->adapter;
    uint64_t h = key_hash(key, key_len);
    pthread_rwlock_wrlock(&a->lock);
    phx__aentry_t **pp = slot_of(a, key, key_len, h);
    phx__aentry_t *e = *pp;
    if (e) {
        *pp = e->next;
        a->count--;
        e->active = false;
    }
    pthread_rwlock_unlock(&a->lock);
    if (e == NULL)
        return PHX_ENOTFOUND;
    phx__adapter_entry_unref(e);
    return PHX_OK;
}

/* TAG_CODE_SETS (CORBA 3.0 13.10.2.4), carried by every IIOP profile so
 * that other ORBs know what the strings are: a big-endian encapsulation
 * of CONV_FRAME::CodeSetComponentInfo with native char code set
 * ISO-8859-1 (0x00010001) and no conversion code sets (Phalanx passes
 * string octets through unchanged), and native wchar code set 0 with no
 * conversions (IDL wchar and wstring are not supported).  Without it a
 * standard ORB falls back to the same ISO-8859-1 default, but cannot
 * tell that wchar is unusable. */
static const uint8_t iiop_code_sets[] = {
    0, 0, 0, 0,             /* big endian, padding */
    0x00, 0x01, 0x00, 0x01, /* ForCharData.native_code_set ISO-8859-1 */
    0, 0, 0, 0,             /* ForCharData.conversion_code_sets {} */
    0, 0, 0, 0,             /* ForWcharData.native_code_set: none */
    0, 0, 0, 0,             /* ForWcharData.conversion_code_sets {} */
};

int phx_orb_make_ref(phx_orb_t *orb, const char *type_id, const void *key,
                     size_t key_len, phx_object_t **ref, phx_error_t *err)
{
    const phx_tagged_component_t code_sets = {
        PHX_TAG_CODE_SETS, (uint8_t *)iiop_code_sets, sizeof iiop_code_sets};

    if (orb->endpoint_count == 0)
        return phx_error_set(err, PHX_ESTATE,
                             "the ORB serves no endpoint: configure "
                             "'listen' to make references");
    phx_ior_t ior;
    phx_ior_init(&ior);
    int rc = phx_ior_set_type_id(&ior, type_id ? type_id : "");
    /* GIOP over Unix sockets ("iiop+unix://HOST/PATH") cannot be said in a
     * standard IIOP profile: it goes in a Phalanx endpoint profile (the
     * ZeroMQ one, which other ORBs skip), first, so that a client on the
     * same host tries it before the TCP profiles (it falls back to them
     * when the socket is not there or the host is another one). */
    for (size_t i = 0; rc == PHX_OK && i < orb->endpoint_count; i++)
        if (strncmp(orb->endpoints[i], PHX_IIOP_UNIX_SCHEME,
                    sizeof PHX_IIOP_UNIX_SCHEME - 1) == 0)
            rc = phx_ior_add_zmq_profile(&ior, orb->endpoints[i], key,
                                         key_len, NULL, 0);
    for (size_t i = 0; rc == PHX_OK && i < orb->endpoint_count; i++) {
        const char *ep = orb->endpoints[i];
        if (strncmp(ep, PHX_IIOP_UNIX_SCHEME,
                    sizeof PHX_IIOP_UNIX_SCHEME - 1) == 0)
            continue;
        if (orb->endpoint_tp[i]->ops->profile_tag == PHX_TAG_INTERNET_IOP) {
            char *host = NULL;
            uint16_t port = 0;
            rc = phx__iiop_parse_endpoint(ep, &host, &port);
            if (rc == PHX_OK)
                rc = phx_ior_add_iiop_profile(&ior, host, port, key, key_len,
                                              &code_sets, 1);
            free(host);
        } else {
            rc = phx_ior_add_zmq_profile(&ior, ep, key, key_len, NULL, 0);
        }
    }
    if (rc == PHX_OK)
        rc = phx_object_from_ior(orb, &ior, ref, err);
    else
        phx_error_set(err, rc, "cannot build a reference: %s",
                      phx_strerror(rc));
    phx_ior_fini(&ior);
    return rc;
}
