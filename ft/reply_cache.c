/*
 * reply_cache.c - the reply cache behind exactly-once execution: replies
 * keyed by (client id, retention id) in a growing hash table, each entry
 * also linked into a timing wheel by expiration time so that expired
 * entries are found without scanning the table, plus the encoding that
 * lets the cache travel in checkpoints.  See <phx/ft.h> for the contract.
 *
 * Timing wheel: time is cut into ticks of TICK (250 ms); an entry lives in
 * slot (tick of its expiration) mod slots.  done_tick says every tick up
 * to it has been collected; collecting up to now walks only the slots of
 * the ticks elapsed since (at most one revolution), removing entries
 * whose tick has passed.  An entry whose expiration lies more than one
 * revolution ahead is simply passed over until its own tick comes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ft_int.h"

#define TICK 2500000ULL /* 250 ms in 100 ns units */
#define SLOTS 256       /* one revolution: 64 s */

#define DEFAULT_MAX_ENTRIES 100000
#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

/* Format of the serialized cache. */
#define FORMAT 1

typedef struct entry {
    phx__ft_hnode_t node; /* first */
    struct entry *wprev, *wnext;
    uint64_t tick;        /* wheel tick the entry is filed under */
    uint64_t expiration;
    uintptr_t owner;      /* non-zero while the request is in progress */
    uint8_t *body;
    size_t body_len;
    uint32_t status;
    int32_t rid;
    size_t cid_len;
    char cid[];           /* NUL-terminated */
} entry_t;

struct phx_ft_reply_cache {
    pthread_mutex_t lock;
    phx__ft_htab_t tab;
    uint64_t seed;
    entry_t **wheel;      /* SLOTS lists */
    uint64_t done_tick;
    size_t max_entries, max_bytes;
    size_t bytes, in_progress;
    uint64_t (*clock)(void *arg);
    void *clock_arg;
    bool evict;
    uint64_t hits, misses, busy, full, expired, evicted;
};

typedef struct key {
    const char *cid;
    size_t len;
    int32_t rid;
} ckey_t;

static bool entry_eq(const phx__ft_hnode_t *n, const void *k)
{
    const entry_t *e = (const entry_t *)n;
    const ckey_t *key = k;
    return e->rid == key->rid && e->cid_len == key->len &&
           memcmp(e->cid, key->cid, key->len) == 0;
}

static uint64_t key_hash(const phx_ft_reply_cache_t *c, const ckey_t *k)
{
    return phx__ft_hash(c->seed ^ phx__ft_hash_u64(c->seed,
                                                   (uint32_t)k->rid),
                        k->cid, k->len);
}

static entry_t *lookup(phx_ft_reply_cache_t *c, const ckey_t *k)
{
    return (entry_t *)phx__ft_htab_find(&c->tab, key_hash(c, k), entry_eq,
                                        k);
}

static size_t entry_size(size_t cid_len, size_t body_len)
{
    return sizeof(entry_t) + cid_len + 1 + body_len;
}

static uint64_t default_clock(void *arg)
{
    (void)arg;
    return phx_ft_time_now();
}

/* ------------------------------------------------------------------ */
/* Timing wheel                                                         */
/* ------------------------------------------------------------------ */

static void wheel_add(phx_ft_reply_cache_t *c, entry_t *e)
{
    uint64_t t = e->expiration / TICK;
    if (t <= c->done_tick)
        t = c->done_tick + 1; /* already due: collected at the next tick */
    e->tick = t;
    entry_t **slot = &c->wheel[t % SLOTS];
    e->wprev = NULL;
    e->wnext = *slot;
    if (*slot)
        (*slot)->wprev = e;
    *slot = e;
}

static void wheel_del(phx_ft_reply_cache_t *c, entry_t *e)
{
    if (e->wprev)
        e->wprev->wnext = e->wnext;
    else
        c->wheel[e->tick % SLOTS] = e->wnext;
    if (e->wnext)
        e->wnext->wprev = e->wprev;
    e->wprev = e->wnext = NULL;
}

static void entry_remove(phx_ft_reply_cache_t *c, entry_t *e)
{
    wheel_del(c, e);
    phx__ft_htab_remove(&c->tab, &e->node);
    c->bytes -= entry_size(e->cid_len, e->body_len);
    if (e->owner)
        c->in_progress--;
    free(e->body);
    free(e);
}

/* Collect the entries of every tick that ended before now.  Entries in
 * progress stay (their owner completes or abandons them) and are looked
 * at again a revolution later. */
static size_t collect(phx_ft_reply_cache_t *c, uint64_t now)
{
    uint64_t now_tick = now / TICK;
    if (now_tick == 0 || now_tick - 1 <= c->done_tick)
        return 0;
    uint64_t target = now_tick - 1;
    uint64_t from = c->done_tick + 1;
    if (target - from >= SLOTS)
        from = target - SLOTS + 1;
    size_t removed = 0;
    for (uint64_t t = from; t <= target; t++) {
        entry_t *e = c->wheel[t % SLOTS];
        while (e) {
            entry_t *next = e->wnext;
            if (e->tick <= target && e->owner == 0) {
                entry_remove(c, e);
                removed++;
            }
            e = next;
        }
    }
    c->done_tick = target;
    c->expired += removed;
    return removed;
}

/* Drop the completed entry closest to its expiration: the first one met
 * walking the wheel from the next tick on.  False when every entry is in
 * progress. */
static bool evict_one(phx_ft_reply_cache_t *c)
{
    entry_t *best = NULL;
    for (uint64_t t = c->done_tick + 1; t <= c->done_tick + SLOTS; t++) {
        for (entry_t *e = c->wheel[t % SLOTS]; e; e = e->wnext)
            if (e->owner == 0 && (best == NULL || e->tick < best->tick))
                best = e;
        if (best && best->tick <= t)
            break;
    }
    if (best == NULL)
        return false;
    entry_remove(c, best);
    c->evicted++;
    return true;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

void phx_ft_reply_cache_config_init(phx_ft_reply_cache_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_entries = DEFAULT_MAX_ENTRIES;
    cfg->max_bytes = DEFAULT_MAX_BYTES;
    cfg->clock = default_clock;
}

int phx_ft_reply_cache_create(const phx_ft_reply_cache_config_t *cfg,
                              phx_ft_reply_cache_t **out)
{
    if (out == NULL)
        return PHX_EINVAL;
    *out = NULL;
    phx_ft_reply_cache_config_t def;
    if (cfg == NULL) {
        phx_ft_reply_cache_config_init(&def);
        cfg = &def;
    }
    phx_ft_reply_cache_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return PHX_ENOMEM;
    c->wheel = calloc(SLOTS, sizeof *c->wheel);
    if (c->wheel == NULL) {
        free(c);
        return PHX_ENOMEM;
    }
    pthread_mutex_init(&c->lock, NULL);
    phx__ft_htab_init(&c->tab);
    c->seed = phx__ft_random64();
    c->max_entries = cfg->max_entries ? cfg->max_entries : DEFAULT_MAX_ENTRIES;
    c->max_bytes = cfg->max_bytes ? cfg->max_bytes : DEFAULT_MAX_BYTES;
    c->evict = cfg->evict_when_full;
    c->clock = cfg->clock ? cfg->clock : default_clock;
    c->clock_arg = cfg->clock ? cfg->clock_arg : NULL;
    uint64_t now_tick = c->clock(c->clock_arg) / TICK;
    c->done_tick = now_tick ? now_tick - 1 : 0;
    *out = c;
    return PHX_OK;
}

void phx_ft_reply_cache_destroy(phx_ft_reply_cache_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < SLOTS; i++) {
        entry_t *e = c->wheel[i];
        while (e) {
            entry_t *next = e->wnext;
            free(e->body);
            free(e);
            e = next;
        }
    }
    free(c->wheel);
    phx__ft_htab_fini(&c->tab);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void phx_ft_cached_reply_fini(phx_ft_cached_reply_t *r)
{
    if (r) {
        free(r->body);
        memset(r, 0, sizeof *r);
    }
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

static bool has_room(const phx_ft_reply_cache_t *c, size_t more_entries,
                     size_t more_bytes)
{
    return c->tab.count + more_entries <= c->max_entries &&
           more_bytes <= c->max_bytes && c->bytes <= c->max_bytes - more_bytes;
}

/* A new entry filed in the table and the wheel, or NULL (no memory). */
static entry_t *entry_new(phx_ft_reply_cache_t *c, const ckey_t *k,
                          uint64_t expiration)
{
    entry_t *e = calloc(1, sizeof *e + k->len + 1);
    if (e == NULL)
        return NULL;
    memcpy(e->cid, k->cid, k->len);
    e->cid[k->len] = '\0';
    e->cid_len = k->len;
    e->rid = k->rid;
    e->expiration = expiration;
    if (phx__ft_htab_insert(&c->tab, &e->node, key_hash(c, k)) != PHX_OK) {
        free(e);
        return NULL;
    }
    wheel_add(c, e);
    c->bytes += entry_size(k->len, 0);
    return e;
}

/* Give e a reply (body copied); false when out of memory. */
static bool entry_set_reply(phx_ft_reply_cache_t *c, entry_t *e,
                            uint32_t status, const void *body, size_t len)
{
    uint8_t *copy = NULL;
    if (len) {
        if ((copy = malloc(len)) == NULL)
            return false;
        memcpy(copy, body, len);
    }
    c->bytes -= e->body_len;
    free(e->body);
    e->body = copy;
    e->body_len = len;
    e->status = status;
    c->bytes += len;
    return true;
}

/* Room for more, evicting if the cache is configured to. */
static bool make_room(phx_ft_reply_cache_t *c, size_t more_entries,
                      size_t more_bytes)
{
    while (!has_room(c, more_entries, more_bytes))
        if (!c->evict || !evict_one(c))
            return false;
    return true;
}

static bool key_ok(const char *cid, size_t len)
{
    return cid != NULL || len == 0;
}

int phx_ft_reply_cache_begin(phx_ft_reply_cache_t *c, const char *client_id,
                             size_t client_id_len, int32_t retention_id,
                             uint64_t expiration_time, uintptr_t owner,
                             phx_ft_cached_reply_t *reply)
{
    if (reply)
        memset(reply, 0, sizeof *reply);
    if (c == NULL || owner == 0 || !key_ok(client_id, client_id_len))
        return PHX_EINVAL;
    ckey_t k = {client_id ? client_id : "", client_id_len, retention_id};
    int rc;
    pthread_mutex_lock(&c->lock);
    collect(c, c->clock(c->clock_arg));
    entry_t *e = lookup(c, &k);
    if (e && e->owner == 0) {
        rc = PHX_FT_CACHE_HIT;
        if (reply) {
            reply->reply_status = e->status;
            reply->len = e->body_len;
            if (e->body_len && (reply->body = malloc(e->body_len)) == NULL)
                rc = PHX_ENOMEM;
            else if (e->body_len)
                memcpy(reply->body, e->body, e->body_len);
        }
        if (rc == PHX_FT_CACHE_HIT)
            c->hits++;
    } else if (e) {
        rc = PHX_FT_CACHE_BUSY;
        c->busy++;
    } else if (!make_room(c, 1, entry_size(k.len, 0))) {
        rc = PHX_FT_CACHE_FULL;
        c->full++;
    } else if ((e = entry_new(c, &k, expiration_time)) == NULL) {
        rc = PHX_ENOMEM;
    } else {
        e->owner = owner;
        c->in_progress++;
        c->misses++;
        rc = PHX_FT_CACHE_MISS;
    }
    pthread_mutex_unlock(&c->lock);
    if (rc == PHX_ENOMEM && reply)
        memset(reply, 0, sizeof *reply);
    return rc;
}

int phx_ft_reply_cache_complete(phx_ft_reply_cache_t *c,
                                const char *client_id, size_t client_id_len,
                                int32_t retention_id, uintptr_t owner,
                                uint32_t reply_status, const void *body,
                                size_t len)
{
    if (c == NULL || owner == 0 || !key_ok(client_id, client_id_len) ||
        (body == NULL && len))
        return PHX_EINVAL;
    ckey_t k = {client_id ? client_id : "", client_id_len, retention_id};
    int rc = PHX_OK;
    pthread_mutex_lock(&c->lock);
    entry_t *e = lookup(c, &k);
    if (e == NULL || e->owner != owner) {
        rc = PHX_ENOTFOUND;
    } else if (!entry_set_reply(c, e, reply_status, body, len)) {
        /* Cannot keep it: forget the request rather than keep it in
         * progress for ever. */
        entry_remove(c, e);
        rc = PHX_ENOMEM;
    } else {
        e->owner = 0;
        c->in_progress--;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int phx_ft_reply_cache_abandon(phx_ft_reply_cache_t *c,
                               const char *client_id, size_t client_id_len,
                               int32_t retention_id, uintptr_t owner)
{
    if (c == NULL || owner == 0 || !key_ok(client_id, client_id_len))
        return PHX_EINVAL;
    ckey_t k = {client_id ? client_id : "", client_id_len, retention_id};
    int rc = PHX_OK;
    pthread_mutex_lock(&c->lock);
    entry_t *e = lookup(c, &k);
    if (e == NULL || e->owner != owner)
        rc = PHX_ENOTFOUND;
    else
        entry_remove(c, e);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* put with the lock held. */
static int put_locked(phx_ft_reply_cache_t *c, const ckey_t *k,
                      uint64_t expiration, uint32_t status, const void *body,
                      size_t len)
{
    entry_t *e = lookup(c, k);
    bool fresh = e == NULL;
    if (fresh) {
        if (!make_room(c, 1, entry_size(k->len, len)))
            return PHX_ELIMIT;
        if ((e = entry_new(c, k, expiration)) == NULL)
            return PHX_ENOMEM;
    }
    if (!entry_set_reply(c, e, status, body, len)) {
        if (fresh)
            entry_remove(c, e);
        return PHX_ENOMEM;
    }
    if (e->owner) {
        e->owner = 0;
        c->in_progress--;
    }
    if (!fresh && e->expiration != expiration) {
        wheel_del(c, e);
        e->expiration = expiration;
        wheel_add(c, e);
    }
    return PHX_OK;
}

int phx_ft_reply_cache_put(phx_ft_reply_cache_t *c, const char *client_id,
                           size_t client_id_len, int32_t retention_id,
                           uint64_t expiration_time, uint32_t reply_status,
                           const void *body, size_t len)
{
    if (c == NULL || !key_ok(client_id, client_id_len) ||
        (body == NULL && len))
        return PHX_EINVAL;
    ckey_t k = {client_id ? client_id : "", client_id_len, retention_id};
    pthread_mutex_lock(&c->lock);
    collect(c, c->clock(c->clock_arg));
    int rc = put_locked(c, &k, expiration_time, reply_status, body, len);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

size_t phx_ft_reply_cache_gc(phx_ft_reply_cache_t *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = collect(c, c->clock(c->clock_arg));
    pthread_mutex_unlock(&c->lock);
    return n;
}

void phx_ft_reply_cache_get_stats(phx_ft_reply_cache_t *c,
                                  phx_ft_reply_cache_stats_t *st)
{
    pthread_mutex_lock(&c->lock);
    st->entries = c->tab.count;
    st->in_progress = c->in_progress;
    st->bytes = c->bytes;
    st->hits = c->hits;
    st->misses = c->misses;
    st->busy = c->busy;
    st->full = c->full;
    st->expired = c->expired;
    st->evicted = c->evicted;
    pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------------ */
/* Serialization                                                        */
/* ------------------------------------------------------------------ */

int phx_ft_reply_cache_serialize(phx_ft_reply_cache_t *c,
                                 phx_cdr_writer_t *w)
{
    if (c == NULL || w == NULL)
        return PHX_EINVAL;
    pthread_mutex_lock(&c->lock);
    size_t done = c->tab.count - c->in_progress;
    int rc = done > UINT32_MAX ? PHX_ELIMIT : PHX_OK;
    if (rc == PHX_OK) {
        phx_cdr_put_octet(w, PHX_CDR_NATIVE);
        phx_cdr_put_ulong(w, FORMAT);
        phx_cdr_put_ulong(w, (uint32_t)done);
        for (size_t i = 0; i < SLOTS; i++) {
            for (entry_t *e = c->wheel[i]; e; e = e->wnext) {
                if (e->owner)
                    continue;
                phx_cdr_put_string_n(w, e->cid, e->cid_len);
                phx_cdr_put_long(w, e->rid);
                phx_cdr_put_ulonglong(w, e->expiration);
                phx_cdr_put_ulong(w, e->status);
                phx_cdr_put_octet_seq(w, e->body, e->body_len);
            }
        }
        rc = phx_cdr_writer_status(w);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

typedef struct wire_entry {
    const char *cid;
    size_t cid_len;
    int32_t rid;
    uint64_t expiration;
    uint32_t status;
    const uint8_t *body;
    size_t body_len;
} wire_entry_t;

static int read_entry(phx_cdr_reader_t *r, wire_entry_t *we)
{
    phx_cdr_get_string(r, &we->cid, &we->cid_len);
    phx_cdr_get_long(r, &we->rid);
    phx_cdr_get_ulonglong(r, &we->expiration);
    phx_cdr_get_ulong(r, &we->status);
    phx_cdr_get_octet_seq(r, &we->body, &we->body_len);
    if (phx_cdr_reader_status(r) != PHX_OK)
        return phx_cdr_reader_status(r);
    if (we->status > 2)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "reply status");
    return PHX_OK;
}

int phx_ft_reply_cache_deserialize(phx_ft_reply_cache_t *c, const void *buf,
                                   size_t len, phx_error_t *err)
{
    if (c == NULL || (buf == NULL && len))
        return phx_error_set(err, PHX_EINVAL, "deserialize: NULL argument");
    phx_cdr_reader_t r;
    uint32_t format = 0, count = 0;
    if (phx_cdr_reader_init_encap(&r, buf, len) != PHX_OK ||
        phx_cdr_get_ulong(&r, &format) != PHX_OK)
        return phx_error_set(err, PHX_EMARSHAL,
                             "reply cache state: truncated header");
    if (format != FORMAT)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "reply cache state: format %u (this version "
                             "reads %u)",
                             format, FORMAT);
    if (phx_cdr_get_ulong(&r, &count) != PHX_OK)
        return phx_error_set(err, PHX_EMARSHAL,
                             "reply cache state: truncated header");
    if (count && ((const uint8_t *)buf)[0] != PHX_CDR_NATIVE)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "reply cache state in the other byte order: "
                             "reply bodies cannot be converted");
    /* string (4 + 1), long, long long, ulong, sequence (4): >= 25. */
    if (count > phx_cdr_reader_remaining(&r) / 25)
        return phx_error_set(err, PHX_EMARSHAL,
                             "reply cache state: %u entries cannot fit in "
                             "%zu octets",
                             count, phx_cdr_reader_remaining(&r));
    size_t body_start = r.pos;

    pthread_mutex_lock(&c->lock);
    collect(c, c->clock(c->clock_arg));
    /* Pass 1: check every entry and what it needs. */
    size_t more_entries = 0, more_bytes = 0;
    int rc = PHX_OK;
    for (uint32_t i = 0; i < count && rc == PHX_OK; i++) {
        wire_entry_t we;
        rc = read_entry(&r, &we);
        if (rc != PHX_OK)
            break;
        ckey_t k = {we.cid, we.cid_len, we.rid};
        entry_t *e = lookup(c, &k);
        if (e == NULL) {
            more_entries++;
            more_bytes += entry_size(we.cid_len, we.body_len);
        } else if (we.body_len > e->body_len) {
            more_bytes += we.body_len - e->body_len;
        }
    }
    if (rc != PHX_OK) {
        phx_error_t why;
        phx_cdr_reader_error(&r, &why);
        pthread_mutex_unlock(&c->lock);
        return phx_error_set(err, PHX_EMARSHAL, "reply cache state: %s",
                             why.msg);
    }
    if (!has_room(c, more_entries, more_bytes)) {
        pthread_mutex_unlock(&c->lock);
        return phx_error_set(err, PHX_ELIMIT,
                             "reply cache state: %zu more entries (%zu "
                             "bytes) do not fit",
                             more_entries, more_bytes);
    }
    /* Pass 2: store them. */
    r.pos = body_start;
    for (uint32_t i = 0; i < count && rc == PHX_OK; i++) {
        wire_entry_t we;
        read_entry(&r, &we);
        ckey_t k = {we.cid, we.cid_len, we.rid};
        rc = put_locked(c, &k, we.expiration, we.status, we.body,
                        we.body_len);
    }
    pthread_mutex_unlock(&c->lock);
    if (rc != PHX_OK)
        return phx_error_set(err, rc, "reply cache state: %s",
                             phx_strerror(rc));
    phx_error_clear(err);
    return PHX_OK;
}
