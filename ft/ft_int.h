/*
 * ft_int.h - what the files of libphx-ft share and do not publish: an
 * intrusive chained hash table that grows as it fills (no fixed-size
 * tables), seeded hashing, random numbers, and the encoding of the FT
 * service contexts into caller storage.
 */
#ifndef PHX_FT_INT_H
#define PHX_FT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/ft.h>

/* A node embedded in the hashed struct (usually its first member). */
typedef struct phx__ft_hnode {
    struct phx__ft_hnode *next;
    uint64_t hash;
} phx__ft_hnode_t;

/* Buckets double when there are more nodes than buckets, so chains stay
 * short: insert and find are O(1) amortised. */
typedef struct phx__ft_htab {
    phx__ft_hnode_t **buckets;
    size_t nbuckets;   /* a power of two, or 0 before the first insert */
    size_t count;
} phx__ft_htab_t;

void phx__ft_htab_init(phx__ft_htab_t *t);
/* Frees the bucket array only; the nodes belong to the caller. */
void phx__ft_htab_fini(phx__ft_htab_t *t);
/* First node with this hash that eq(node, key) accepts, or NULL. */
phx__ft_hnode_t *phx__ft_htab_find(const phx__ft_htab_t *t, uint64_t hash,
                                   bool (*eq)(const phx__ft_hnode_t *n,
                                              const void *key),
                                   const void *key);
/* PHX_ENOMEM only when the very first bucket array cannot be allocated
 * (a failed growth just leaves chains longer). */
int phx__ft_htab_insert(phx__ft_htab_t *t, phx__ft_hnode_t *n,
                        uint64_t hash);
void phx__ft_htab_remove(phx__ft_htab_t *t, phx__ft_hnode_t *n);

/* Hash of n bytes (and of a 64-bit value) under a per-table seed, so
 * keys chosen by a remote peer cannot be aimed at one chain without
 * knowing the seed. */
uint64_t phx__ft_hash(uint64_t seed, const void *p, size_t n);
uint64_t phx__ft_hash_u64(uint64_t seed, uint64_t v);

/* 64 bits from the kernel's random source (clock and address mixed in
 * when it is unavailable). */
uint64_t phx__ft_random64(void);

/* Index of the profile of ior with TAG_FT_GROUP and TAG_FT_PRIMARY TRUE,
 * or -1 (reads in place). */
int phx__ft_ior_primary(const phx_ior_t *ior);

/* Encode the contexts into buf (cap bytes); returns the length, or 0 when
 * buf is too small or the value cannot be encoded. */
size_t phx__ft_request_ctx_write(uint8_t *buf, size_t cap,
                                 const phx_ft_request_ctx_t *c);
size_t phx__ft_group_version_ctx_write(uint8_t *buf, size_t cap,
                                       uint32_t version);

/* The FT_REQUEST identity of the nested call (ft/nd.c, phx_ft_call) the
 * calling thread is making, if any: the client interceptor uses it
 * instead of its own client id and retention id (borrowed, valid for the
 * call). */
bool phx__ft_nested_identity(phx_ft_request_ctx_t *out);

/* ---- state transfer of the replicated styles ---- */

struct phx_gcs_state_writer;

/* A state arriving in chunks (phx_gcs set_state callback), gathered into
 * one buffer. */
typedef struct phx__ft_state_rx {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
} phx__ft_state_rx_t;

/* Add a chunk (flags: PHX_GCS_STATE_FIRST/LAST).  Returns true when the
 * whole state has arrived intact and can be read from rx->buf. */
bool phx__ft_state_rx_add(phx__ft_state_rx_t *rx, const void *chunk,
                          size_t len, unsigned flags);
void phx__ft_state_rx_fini(phx__ft_state_rx_t *rx);

struct phx_gcs;
struct phx_gcs_view;
/* Is this process among the view's joined members? */
bool phx__ft_view_joined_self(struct phx_gcs *gcs,
                              const struct phx_gcs_view *view);

/* Write a replica's state to w: the reply cache serialization, then the
 * servant's state (user/ulen).  0 or -1. */
int phx__ft_state_send(struct phx_gcs_state_writer *w, const uint8_t *cache,
                       size_t clen, const uint8_t *user, size_t ulen);
/* Split a state gathered by phx__ft_state_rx_add into its parts
 * (borrowed from buf).  false when malformed. */
bool phx__ft_state_split(const uint8_t *buf, size_t len,
                         const uint8_t **cache, size_t *clen,
                         const uint8_t **user, size_t *ulen);

#endif /* PHX_FT_INT_H */
