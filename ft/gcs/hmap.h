/*
 * hmap.h - open-addressing hash maps for the group communication service:
 * one keyed by 64-bit integers (member ids) and one keyed by strings
 * (group names).  Linear probing with backward-shift deletion, power of
 * two capacity, grown at 3/4 load: no fixed-size table anywhere.
 *
 * A map stores pointers it does not own.  A string key is not copied: the
 * caller keeps it alive (usually inside the value) while it is in the map.
 */
#ifndef PHX_GCS_HMAP_H
#define PHX_GCS_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct gcs_slot {
    uint64_t h;       /* hash (string maps) or the key itself (u64 maps) */
    const char *key;  /* string key, NULL in u64 maps */
    size_t klen;
    void *val;        /* NULL = empty slot */
} gcs_slot_t;

typedef struct gcs_map {
    gcs_slot_t *slots;
    size_t cap;  /* 0 or a power of two */
    size_t n;
} gcs_map_t;

/* FNV-1a, 64 bits. */
uint64_t phx__gcs_hash(const void *p, size_t n);

void phx__gcs_map_init(gcs_map_t *m);
void phx__gcs_map_fini(gcs_map_t *m);

/* u64 keys (0 is a valid key).  put replaces; returns 0 or PHX_ENOMEM. */
void *phx__gcs_map_get64(const gcs_map_t *m, uint64_t key);
int phx__gcs_map_put64(gcs_map_t *m, uint64_t key, void *val);
void *phx__gcs_map_del64(gcs_map_t *m, uint64_t key);

/* string keys of klen bytes with hash h (phx__gcs_hash of the key). */
void *phx__gcs_map_gets(const gcs_map_t *m, uint64_t h, const char *key,
                        size_t klen);
int phx__gcs_map_puts(gcs_map_t *m, uint64_t h, const char *key,
                      size_t klen, void *val);
void *phx__gcs_map_dels(gcs_map_t *m, uint64_t h, const char *key,
                        size_t klen);

/* Slot choice: the hash through a 64-bit finalizer (FNV-1a's low bits
 * cluster on similar names, and integer keys may be small). */
static inline uint64_t phx__gcs_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* Ask the cache for the slot where hash h starts probing (a batch of
 * lookups then overlaps its misses instead of paying them one by one). */
static inline void phx__gcs_map_prefetch(const gcs_map_t *m, uint64_t h)
{
    if (m->cap)
        __builtin_prefetch(&m->slots[phx__gcs_mix64(h) & (m->cap - 1)]);
}

/* Second stage: the value in that slot (usually the one looked up). */
static inline void phx__gcs_map_prefetch_val(const gcs_map_t *m, uint64_t h)
{
    if (m->cap) {
        void *v = m->slots[phx__gcs_mix64(h) & (m->cap - 1)].val;
        if (v)
            __builtin_prefetch(v);
    }
}

/* Visit every value; fn must not change the map. */
#define GCS_MAP_FOREACH(m, i)                                               \
    for (size_t i = 0; i < (m)->cap; i++)                                   \
        if ((m)->slots[i].val != NULL)

#endif
