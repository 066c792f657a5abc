/*
 * hmap.c - the integer- and string-keyed hash maps of the group
 * communication service (see hmap.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <phx/error.h>

#include "ft/gcs/hmap.h"

uint64_t phx__gcs_hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static inline size_t home(const gcs_map_t *m, uint64_t h)
{
    return (size_t)phx__gcs_mix64(h) & (m->cap - 1);
}

void phx__gcs_map_init(gcs_map_t *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->n = 0;
    m->keyof = NULL;
}

void phx__gcs_map_init_str(gcs_map_t *m, gcs_keyof_fn keyof)
{
    phx__gcs_map_init(m);
    m->keyof = keyof;
}

void phx__gcs_map_fini(gcs_map_t *m)
{
    gcs_keyof_fn keyof = m->keyof;
    free(m->slots);
    phx__gcs_map_init(m);
    m->keyof = keyof;
}

static inline bool same(const gcs_map_t *m, const gcs_slot_t *s, uint64_t h,
                        const char *key, size_t klen)
{
    if (s->h != h)
        return false;
    if (key == NULL)
        return s->klen == GCS_MAP_U64;
    if (s->klen != klen)
        return false;
    size_t in = klen < GCS_MAP_INLINE ? klen : GCS_MAP_INLINE;
    if (memcmp(s->ikey, key, in) != 0)
        return false;
    return klen <= GCS_MAP_INLINE ||
           memcmp(m->keyof(s->val) + in, key + in, klen - in) == 0;
}

static gcs_slot_t *find(const gcs_map_t *m, uint64_t h, const char *key,
                        size_t klen)
{
    if (m->cap == 0)
        return NULL;
    size_t i = home(m, h);
    for (;;) {
        gcs_slot_t *s = &m->slots[i];
        if (s->val == NULL)
            return NULL;
        if (same(m, s, h, key, klen))
            return s;
        i = (i + 1) & (m->cap - 1);
    }
}

static void place(gcs_map_t *m, const gcs_slot_t *src)
{
    size_t i = home(m, src->h);
    while (m->slots[i].val != NULL)
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = *src;
}

static int grow(gcs_map_t *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    gcs_slot_t *old = m->slots;
    size_t ocap = m->cap;
    gcs_slot_t *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return PHX_ENOMEM;
    m->slots = ns;
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].val != NULL)
            place(m, &old[i]);
    free(old);
    return 0;
}

static int put(gcs_map_t *m, uint64_t h, const char *key, size_t klen,
               void *val)
{
    if (key != NULL && (klen >= GCS_MAP_U64 || m->keyof == NULL))
        return PHX_EINVAL;
    gcs_slot_t *s = find(m, h, key, klen);
    if (s != NULL) {
        s->val = val;
        s->tag = 0;
        return 0;
    }
    if ((m->n + 1) * 4 > m->cap * 3) {
        int rc = grow(m);
        if (rc)
            return rc;
    }
    gcs_slot_t ns;
    memset(&ns, 0, sizeof ns);
    ns.h = h;
    ns.val = val;
    if (key == NULL) {
        ns.klen = GCS_MAP_U64;
    } else {
        ns.klen = (uint16_t)klen;
        memcpy(ns.ikey, key, klen < GCS_MAP_INLINE ? klen : GCS_MAP_INLINE);
    }
    place(m, &ns);
    m->n++;
    return 0;
}

static void *del(gcs_map_t *m, uint64_t h, const char *key, size_t klen)
{
    gcs_slot_t *s = find(m, h, key, klen);
    if (s == NULL)
        return NULL;
    void *val = s->val;
    size_t i = (size_t)(s - m->slots);
    size_t mask = m->cap - 1;
    /* Backward shift: pull later members of the cluster into the hole
     * when their home position allows it. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (m->slots[j].val == NULL)
            break;
        size_t k = home(m, m->slots[j].h);
        bool movable = (i <= j) ? (k <= i || k > j) : (k <= i && k > j);
        if (movable) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    m->n--;
    return val;
}

void *phx__gcs_map_get64(const gcs_map_t *m, uint64_t key)
{
    gcs_slot_t *s = find(m, key, NULL, 0);
    return s ? s->val : NULL;
}

int phx__gcs_map_put64(gcs_map_t *m, uint64_t key, void *val)
{
    return put(m, key, NULL, 0, val);
}

void *phx__gcs_map_del64(gcs_map_t *m, uint64_t key)
{
    return del(m, key, NULL, 0);
}

void *phx__gcs_map_gets(const gcs_map_t *m, uint64_t h, const char *key,
                        size_t klen)
{
    if (m->keyof == NULL)
        return NULL;
    gcs_slot_t *s = find(m, h, key, klen);
    return s ? s->val : NULL;
}

void *phx__gcs_map_gets_tag(const gcs_map_t *m, uint64_t h, const char *key,
                            size_t klen, uint8_t *tag)
{
    gcs_slot_t *s = m->keyof ? find(m, h, key, klen) : NULL;
    *tag = s ? s->tag : 0;
    return s ? s->val : NULL;
}

void phx__gcs_map_set_tag(gcs_map_t *m, uint64_t h, const char *key,
                          size_t klen, uint8_t tag)
{
    gcs_slot_t *s = m->keyof ? find(m, h, key, klen) : NULL;
    if (s)
        s->tag = tag;
}

int phx__gcs_map_puts(gcs_map_t *m, uint64_t h, const char *key,
                      size_t klen, void *val)
{
    return put(m, h, key, klen, val);
}

void *phx__gcs_map_dels(gcs_map_t *m, uint64_t h, const char *key,
                        size_t klen)
{
    if (m->keyof == NULL)
        return NULL;
    return del(m, h, key, klen);
}
