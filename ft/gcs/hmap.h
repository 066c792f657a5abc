/*
 * hmap.h - open-addressing hash maps for the group communication service:
 * keyed by 64-bit integers (member ids) or by strings (group names).
 * Linear probing with backward-shift deletion, power-of-two capacity,
 * grown at 3/4 load: no fixed-size table anywhere.
 *
 * A slot is 32 bytes and keeps a string key of up to GCS_MAP_INLINE bytes
 * inline, plus a few tag bits its owner may keep there: a lookup of a
 * short key, and a look at its tag, touch one cache line of the table and
 * nothing else.  That is what keeps a message's cost flat with 10,000
 * groups.  Longer keys are compared in full through the map's keyof
 * function, which returns the key kept inside the value.
 *
 * A map stores pointers it does not own.
 */
#ifndef PHX_GCS_HMAP_H
#define PHX_GCS_HMAP_H

#include <stddef.h>
#include <stdint.h>

#define GCS_MAP_INLINE 13
#define GCS_MAP_U64 0xffffu /* klen of an integer key */

typedef struct gcs_slot {
    uint64_t h;      /* hash (string maps) or the key itself (u64 maps) */
    void *val;       /* NULL = empty slot */
    uint16_t klen;   /* key length, or GCS_MAP_U64 */
    uint8_t tag;     /* owner-defined bits (phx__gcs_map_set_tag) */
    char ikey[GCS_MAP_INLINE]; /* the key's first GCS_MAP_INLINE bytes */
} gcs_slot_t;

/* The full key of a string map's value. */
typedef const char *(*gcs_keyof_fn)(const void *val);

typedef struct gcs_map {
    gcs_slot_t *slots;
    size_t cap;  /* 0 or a power of two */
    size_t n;
    gcs_keyof_fn keyof;
} gcs_map_t;

/* FNV-1a, 64 bits. */
uint64_t phx__gcs_hash(const void *p, size_t n);

/* An integer-keyed map, or a string-keyed one whose values hold their
 * key (keyof).  Strings are at most 65534 bytes. */
void phx__gcs_map_init(gcs_map_t *m);
void phx__gcs_map_init_str(gcs_map_t *m, gcs_keyof_fn keyof);
void phx__gcs_map_fini(gcs_map_t *m);

/* u64 keys (0 is a valid key).  put replaces; returns 0 or PHX_ENOMEM. */
void *phx__gcs_map_get64(const gcs_map_t *m, uint64_t key);
int phx__gcs_map_put64(gcs_map_t *m, uint64_t key, void *val);
void *phx__gcs_map_del64(gcs_map_t *m, uint64_t key);

/* string keys of klen bytes with hash h (phx__gcs_hash of the key).  put
 * replaces the value and clears the tag. */
void *phx__gcs_map_gets(const gcs_map_t *m, uint64_t h, const char *key,
                        size_t klen);
int phx__gcs_map_puts(gcs_map_t *m, uint64_t h, const char *key,
                      size_t klen, void *val);
void *phx__gcs_map_dels(gcs_map_t *m, uint64_t h, const char *key,
                        size_t klen);

/* Lookup that also returns the slot's tag (0 when not found). */
void *phx__gcs_map_gets_tag(const gcs_map_t *m, uint64_t h, const char *key,
                            size_t klen, uint8_t *tag);
/* Set the tag of a present key; no-op when absent. */
void phx__gcs_map_set_tag(gcs_map_t *m, uint64_t h, const char *key,
                          size_t klen, uint8_t tag);

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

/* Visit every value; the body must not change the map. */
#define GCS_MAP_FOREACH(m, i)                                               \
    for (size_t i = 0; i < (m)->cap; i++)                                   \
        if ((m)->slots[i].val != NULL)

#endif
