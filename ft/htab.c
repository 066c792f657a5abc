/*
 * htab.c - the hash table, hashing and random numbers shared by the
 * group registry, the server's group table and the reply cache
 * (ft_int.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ft_int.h"

#define INITIAL_BUCKETS 16

void phx__ft_htab_init(phx__ft_htab_t *t)
{
    memset(t, 0, sizeof *t);
}

void phx__ft_htab_fini(phx__ft_htab_t *t)
{
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

phx__ft_hnode_t *phx__ft_htab_find(const phx__ft_htab_t *t, uint64_t hash,
                                   bool (*eq)(const phx__ft_hnode_t *n,
                                              const void *key),
                                   const void *key)
{
    if (t->nbuckets == 0)
        return NULL;
    for (phx__ft_hnode_t *n = t->buckets[hash & (t->nbuckets - 1)]; n;
         n = n->next)
        if (n->hash == hash && eq(n, key))
            return n;
    return NULL;
}

/* Double the bucket array and rehash; on failure keep the old one. */
static void grow(phx__ft_htab_t *t)
{
    size_t nb = t->nbuckets * 2;
    if (nb < t->nbuckets)
        return;
    phx__ft_hnode_t **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        phx__ft_hnode_t *n = t->buckets[i];
        while (n) {
            phx__ft_hnode_t *next = n->next;
            size_t j = n->hash & (nb - 1);
            n->next = b[j];
            b[j] = n;
            n = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

int phx__ft_htab_insert(phx__ft_htab_t *t, phx__ft_hnode_t *n, uint64_t hash)
{
    if (t->nbuckets == 0) {
        t->buckets = calloc(INITIAL_BUCKETS, sizeof *t->buckets);
        if (t->buckets == NULL)
            return PHX_ENOMEM;
        t->nbuckets = INITIAL_BUCKETS;
    } else if (t->count >= t->nbuckets) {
        grow(t);
    }
    n->hash = hash;
    size_t i = hash & (t->nbuckets - 1);
    n->next = t->buckets[i];
    t->buckets[i] = n;
    t->count++;
    return PHX_OK;
}

void phx__ft_htab_remove(phx__ft_htab_t *t, phx__ft_hnode_t *n)
{
    if (t->nbuckets == 0)
        return;
    for (phx__ft_hnode_t **pp = &t->buckets[n->hash & (t->nbuckets - 1)];
         *pp; pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            n->next = NULL;
            t->count--;
            return;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Hashing                                                              */
/* ------------------------------------------------------------------ */

/* A 64-bit finaliser with full avalanche. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t phx__ft_hash(uint64_t seed, const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = mix64(seed ^ (0x9e3779b97f4a7c15ULL * (n + 1)));
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
        b += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < n; i++)
        tail |= (uint64_t)b[i] << (8 * i);
    return mix64(h ^ tail ^ ((uint64_t)n << 59));
}

uint64_t phx__ft_hash_u64(uint64_t seed, uint64_t v)
{
    return mix64(seed ^ mix64(v + 0x9e3779b97f4a7c15ULL));
}

uint64_t phx__ft_random64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
        return v;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    static int anchor;
    return mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&anchor ^
                 v);
}
